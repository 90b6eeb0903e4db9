"""``python -m orchestrator``: the ToolSweep command line."""

import sys

from orchestrator.cli import main

sys.exit(main())

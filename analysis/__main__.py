"""``python -m analysis RUN_DIR [RUN_DIR ...] [--out DIR]``: the report command."""

import sys

from analysis.report import main

sys.exit(main())

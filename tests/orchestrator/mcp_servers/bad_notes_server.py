"""The example notes server, broken on purpose once a flag file exists (so a sweep validates
against the working server, then its episodes meet the broken one).

    python bad_notes_server.py MODE FLAG_FILE

MODE: ``exit`` (exits at start, saying why on stderr), ``hang-list`` (never answers the tool
listing), ``crash`` (the process dies when asked to list or count: the second call the model makes in the
examples the tests use, never a setup call).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import anyio

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "examples" / "tasks"))
import notes_server  # noqa: E402

mode, flag = sys.argv[1], Path(sys.argv[2])
server = notes_server.server
if flag.exists():
    if mode == "exit":
        print("bad notes server: cannot open its store", file=sys.stderr, flush=True)
        sys.exit(3)
    if mode == "hang-list":
        async def hang() -> list:
            await anyio.sleep_forever()
            return []

        server.list_tools = hang  # type: ignore[method-assign]
    if mode == "crash":
        original = server.call_tool

        async def crash_on_list_or_count(name, arguments, context=None):  # type: ignore[no-untyped-def]
            if name in ("list_notes", "count_words"):
                os._exit(1)
            return await original(name, arguments, context)

        server.call_tool = crash_on_list_or_count  # type: ignore[method-assign]
server.run()

"""The example notes server, broken on purpose once a flag file exists (so a sweep validates
against the working server, then its episodes meet the broken one).

    python bad_notes_server.py MODE FLAG_FILE

MODE: ``exit`` (exits at start, saying why on stderr), ``hang-list`` (never answers the tool
listing), ``crash`` (the process dies on the second tool call of an episode).
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
        original, calls = server.call_tool, []

        async def crash_on_second(name, arguments, context=None):  # type: ignore[no-untyped-def]
            calls.append(name)
            if len([c for c in calls if c not in ("reset", "dump_notes")]) == 2:
                os._exit(1)
            return await original(name, arguments, context)

        server.call_tool = crash_on_second  # type: ignore[method-assign]
server.run()

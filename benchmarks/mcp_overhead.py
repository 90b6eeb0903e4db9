"""The per-episode cost of an MCP stdio session: start the server, list its tools, make one call,
stop it — what ToolSweep pays on top of the model for every episode of an MCP task.

Opens ``--sessions`` sessions one after another against the example notes server
(``examples/tasks/notes_server.py``, written with the ``mcp`` SDK) through
``orchestrator.mcp_tools.session.McpSession``, the class the agent loop uses, and times each phase: open
(spawn + handshake + ``tools/list``), one ``tools/call``, close (stdin closed, the server exits).
For comparison it times the same call on an in-process plugin environment (the inventory example).
Prints medians and 90th percentiles in milliseconds, and a JSON line.

    python benchmarks/mcp_overhead.py [--sessions 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from orchestrator.mcp_tools.session import McpSession  # noqa: E402 - after the path setup
from orchestrator.mcp_tools.spec import McpServer  # noqa: E402
from tasks import LocalSession, TaskSource, get_task, register  # noqa: E402

EXAMPLES = ROOT / "examples" / "tasks"


async def one_mcp_episode(spec: McpServer) -> dict[str, float]:
    t0 = time.perf_counter()
    session = McpSession(spec)
    await session.__aenter__()
    t1 = time.perf_counter()
    result = await session.call("list_notes", {})
    assert result.error is None, result
    t2 = time.perf_counter()
    await session.__aexit__(None, None, None)
    t3 = time.perf_counter()
    return {"open": t1 - t0, "call": t2 - t1, "close": t3 - t2, "total": t3 - t0}


async def one_local_episode() -> float:
    t0 = time.perf_counter()
    async with LocalSession(get_task("inventory").environment()) as session:
        assert (await session.call("list_low_stock", {"threshold": 10})).error is None
    return time.perf_counter() - t0


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {"median_ms": round(1000 * statistics.median(ordered), 2),
            "p90_ms": round(1000 * ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))], 2)}


async def main(sessions: int) -> dict[str, object]:
    spec = McpServer(dataset=str(EXAMPLES / "notes.jsonl"), command=("python", "notes_server.py"),
                     cwd=str(EXAMPLES))
    await one_mcp_episode(spec)  # warm the file cache and the imports
    runs = [await one_mcp_episode(spec) for _ in range(sessions)]
    register(TaskSource("inventory", path=str(EXAMPLES / "inventory.py")))
    local = [await one_local_episode() for _ in range(sessions)]
    return {"sessions": sessions, **{phase: summary([r[phase] for r in runs]) for phase in ("open", "call", "close",
                                                                                           "total")},
            "in_process_total": summary(local)}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20)
    result = asyncio.run(main(parser.parse_args().sessions))
    for key, value in result.items():
        print(f"{key:>17}: {value}")
    print(json.dumps(result))

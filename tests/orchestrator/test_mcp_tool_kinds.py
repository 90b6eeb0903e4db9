"""An MCP task's tool calls say what they came to, as an in-process task's do: the unknown tool and
a non-object caught before the server, arguments off the schema the server listed, the server's
own error results."""

from __future__ import annotations

import tasks
from orchestrator.config import load_config
from tests.orchestrator.mcp_helpers import EXAMPLES
from tests.orchestrator.sweep_helpers import write_config


async def test_each_mcp_call_is_classified(tmp_path):
    path = write_config(tmp_path, tasks=[{"name": "notes", "mcp": {
        "command": ["python", str(EXAMPLES / "notes_server.py")], "dataset": str(EXAMPLES / "notes.jsonl"),
        "state": "dump_notes", "reset": "reset"}}],
        models=[{"id": "oracle", "provider": "simulated", "model": "oracle"}])
    load_config(path)  # registers the sweep's own task
    task = tasks.get_task("notes")
    example = task.examples[0]
    async with task.session(example) as session:
        calls = [
            ("get_note", {"title": "groceries"}),  # ok
            ("fetch_note", {"title": "groceries"}),  # no such tool
            ("get_note", "groceries"),  # not an object
            ("get_note", {"name": "groceries"}),  # off the listed schema (the server refuses it too)
            ("get_note", {"title": "nothing"}),  # the tool's own refusal
        ]
        kinds = [(await session.call(name, arguments)).kind for name, arguments in calls]
    assert kinds == ["ok", "unknown_tool", "schema_misfit", "schema_misfit", "tool_error"]
    assert [c.kind for c in session.calls] == kinds

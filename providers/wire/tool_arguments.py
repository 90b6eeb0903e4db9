"""Fields of a reply read as untrusted input: tool-call arguments as they travel on the wire (JSON text
(OpenAI) or an object (Anthropic)), usage counts, the served model's name."""

from __future__ import annotations

import json
from typing import Any

from providers.types import ToolCall


def parse_tool_call(call_id: str, name: str, raw: Any) -> ToolCall:
    """A ToolCall from arguments sent as JSON text (OpenAI) or as an object (Anthropic).

    Text that is not a JSON object gives a call with ``error`` set and the text kept in
    ``raw_arguments``, so the agent loop can show the model what went wrong.
    """
    call_id = call_id if isinstance(call_id, str) else json.dumps(call_id)
    if not isinstance(name, str):  # a reply is untrusted input: keep it readable, mark it broken
        return ToolCall(id=call_id, name=json.dumps(name), raw_arguments=json.dumps(raw, default=str),
                        error=f"the tool name must be text, got {type(name).__name__}")
    if isinstance(raw, dict):
        return ToolCall(id=call_id, name=name, arguments=raw, raw_arguments=json.dumps(raw, sort_keys=True))
    text = "" if raw is None else raw if isinstance(raw, str) else json.dumps(raw)
    if not text.strip():  # some servers send "" for a call without arguments
        return ToolCall(id=call_id, name=name, arguments={}, raw_arguments=text)
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        return ToolCall(id=call_id, name=name, raw_arguments=text,
                        error=f"arguments of {name!r} are not valid JSON: {exc.msg} at position {exc.pos}")
    if not isinstance(value, dict):
        return ToolCall(id=call_id, name=name, raw_arguments=text,
                        error=f"arguments of {name!r} must be a JSON object, got {type(value).__name__}")
    return ToolCall(id=call_id, name=name, arguments=value, raw_arguments=text)


def token_count(value: Any) -> int:
    """A usage count from a reply: a non-negative whole number, whatever the server sent."""
    try:
        count = int(value or 0)
    except (TypeError, ValueError, OverflowError):  # junk, or JSON's 1e999 (infinity)
        return 0
    return max(0, count)


MODEL_NAME_CHARS = 200


def served_model(value: Any) -> str | None:
    """The model name a reply says served it: non-empty text, clipped; None for anything else."""
    return value[:MODEL_NAME_CHARS] if isinstance(value, str) and value else None

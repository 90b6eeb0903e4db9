"""A GBNF grammar that lets the model write one call to an offered tool, or a final answer.

Used by ``LocalProvider(grammar=True)``: llama.cpp masks every token the grammar does not allow,
so a reply is either one ``<tool_call>{"name": <offered tool>, "arguments": <matching object>}</tool_call>``
or ``Answer: <text>``. The JSON part comes from llama.cpp's own JSON-schema converter, fed one
schema per tool.

Why these two choices, measured on SmolLM2-135M: with a free-text answer branch the model never
starts a call (its first token is prose, so the grammar changes nothing); with an explicit
``Answer:`` marker the first token is a real choice between calling and answering. And one call
per reply, because a tiny model allowed several repeats the same call until ``max_tokens`` cuts
the last one in half.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from providers.local.runtime import import_llama_cpp
from providers.types import ToolSpec

ANSWER_PREFIX = "Answer:"
# Told to the model in grammar mode, so the constrained choice is also the documented one.
GRAMMAR_INSTRUCTION = (
    'Each reply is either exactly one <tool_call> block, or your final answer written as "Answer: <answer>".'
)
_FRAME = r"""root ::= call | answer
call ::= "<tool_call>" call-json "</tool_call>"
answer ::= "Answer:" [^<]*"""


def tool_call_grammar(tools: Sequence[ToolSpec]) -> str:
    """The GBNF text for ``tools`` (at least one)."""
    import_llama_cpp()
    from llama_cpp.llama_grammar import SchemaConverter

    converter = SchemaConverter(prop_order={"name": 0, "arguments": 1}, allow_fetch=False, dotall=False,
                                raw_pattern=False)
    schema = converter.resolve_refs({"oneOf": [_call_schema(tool) for tool in tools]}, "tools")
    converter.visit(schema, "call-json")
    return f"{_FRAME}\n{converter.format_grammar()}\n"


def _call_schema(tool: ToolSpec) -> dict[str, Any]:
    arguments = json.loads(json.dumps(tool.parameters))  # a deep copy we may tighten
    arguments.setdefault("type", "object")
    # Without this the converter lets any extra key through, which no tool accepts.
    arguments.setdefault("additionalProperties", False)
    return {
        "type": "object",
        "properties": {"name": {"const": tool.name}, "arguments": arguments},
        "required": ["name", "arguments"],
        "additionalProperties": False,
    }


def strip_answer_prefix(text: str) -> str:
    """The answer without the ``Answer:`` marker the grammar made the model write."""
    stripped = text.lstrip()
    return stripped[len(ANSWER_PREFIX):].strip() if stripped.startswith(ANSWER_PREFIX) else text

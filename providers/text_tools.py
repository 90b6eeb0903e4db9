"""Tool calling through plain text, for models without native tool calling.

The tools are described in the system prompt, the model answers with
``<tool_call>{"name": …, "arguments": {…}}</tool_call>`` blocks, and the reply text is parsed back
into ``ToolCall``s. Wrapping any provider in ``TextToolsProvider`` lets a sweep compare native and
text prompting on the same model. Parsing is lenient about the shapes small models actually emit
(bare JSON, fenced JSON, lists, ``{"tool": …, "args": …}``-style keys, arguments as a JSON string)
but strict about intent: JSON outside a ``<tool_call>`` tag only counts as a call when it names an
offered tool, so an answer that happens to be JSON stays an answer.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from providers.errors import MalformedToolCall
from providers.types import Completion, CompletionRequest, Message, Provider, ToolCall, ToolSpec

_TAG_BLOCK = re.compile(
    r"<tool_call\s*>(?P<body>.*?)(?:</tool_call\s*>|(?=<tool_call\s*>)|\Z)", re.DOTALL | re.IGNORECASE
)
_FENCE = re.compile(r"```[ \t]*(?:json|JSON|tool_call)?[ \t]*\n?(?P<body>.*?)```", re.DOTALL)
_FENCE_INNER = re.compile(r"\A```[ \t]*(?:json|JSON)?[ \t]*\n?(?P<body>.*?)\n?```\Z", re.DOTALL)
# Recovers the intended tool name from a call whose JSON does not parse, for the error message.
_NAME_IN_BROKEN = re.compile(r'"(?:name|tool|tool_name|function|action)"\s*:\s*"(?P<name>[^"\\]{1,200})"')

_JSON_START = re.compile(r"[\[{]")
_OPENER_RUN = re.compile(r"[\[{\s]+")

_NAME_KEYS = ("name", "tool", "tool_name", "function", "action")
_ARGUMENT_KEYS = ("arguments", "args", "parameters", "params", "input", "tool_input", "action_input")


@dataclass(frozen=True)
class ParsedReply:
    """A reply split into the text outside tool calls and the calls, in the order written.

    A call whose JSON could not be read has ``error`` set and carries the raw block text in
    ``raw_arguments``.
    """

    text: str
    tool_calls: tuple[ToolCall, ...] = ()

    @property
    def broken_calls(self) -> tuple[ToolCall, ...]:
        return tuple(call for call in self.tool_calls if call.error)


def render_tool_prompt(tools: Sequence[ToolSpec]) -> str:
    """The system-prompt section that describes ``tools`` and the exact calling convention."""
    lines = ["# Tools", "", "You can call the following tools.", ""]
    for tool in tools:
        lines += [
            f"## {tool.name}",
            tool.description.strip() or "(no description)",
            f"Parameters (JSON schema): {json.dumps(tool.parameters, ensure_ascii=False, sort_keys=True)}",
            "",
        ]
    lines += [
        "# How to call a tool",
        "",
        "To call a tool, reply with a block of exactly this form:",
        '<tool_call>{"name": "<tool name>", "arguments": {<arguments as a JSON object>}}</tool_call>',
        "To make several calls, write one block per call, in the order they should run.",
        'Each result comes back in the next message as <tool_result name="<tool name>">…</tool_result>.',
        "When you are done, reply with your final answer and no <tool_call> block.",
    ]
    return "\n".join(lines)


def parse_tool_calls(
    text: str, tool_names: Collection[str] | None = None, *, id_prefix: str = "call_"
) -> ParsedReply:
    """Split ``text`` into prose and tool calls; never raises.

    ``<tool_call>`` blocks win when present: everything inside one is a call (broken JSON → a call
    with ``error``). Otherwise fenced and bare JSON objects (or lists of them) count as calls when
    they have a call's shape and, if ``tool_names`` is given, name an offered tool. Ids are
    ``f"{id_prefix}{i}"``.
    """
    found_spans = _tag_calls(text) if _TAG_BLOCK.search(text) else _json_calls(text, tool_names)
    spans = sorted(found_spans, key=lambda span: span[0])
    calls: list[ToolCall] = []
    outside: list[str] = []
    cursor = 0
    for start, end, found in spans:
        outside.append(text[cursor:start])
        cursor = end
        calls += [replace(call, id=f"{id_prefix}{len(calls) + i}") for i, call in enumerate(found)]
    outside.append(text[cursor:])
    prose = "\n".join(part.strip() for part in outside if part.strip())
    return ParsedReply(text=prose, tool_calls=tuple(calls))


def _tag_calls(text: str) -> Iterator[tuple[int, int, list[ToolCall]]]:
    for match in _TAG_BLOCK.finditer(text):
        body = match.group("body").strip()
        fenced = _FENCE_INNER.match(body)
        if fenced:
            body = fenced.group("body").strip()
        yield match.start(), match.end(), _calls_from_block(body)


def _calls_from_block(body: str) -> list[ToolCall]:
    """Everything inside a ``<tool_call>`` tag: the model meant a call, so failures are errors."""
    try:
        values = _decode_all(body)
    except (ValueError, RecursionError) as exc:
        return [_broken(body, f"tool call is not valid JSON: {exc}")]
    if not values:
        return [_broken(body, "empty tool call")]
    calls: list[ToolCall] = []
    for value in values:
        for item in _unwrap(value):
            call = _call_from_object(item, None, strict=False)
            calls.append(call or _broken(json.dumps(item, ensure_ascii=False),
                                         'tool call needs a "name" and an "arguments" object'))
    return calls


def _json_calls(text: str, tool_names: Collection[str] | None) -> Iterator[tuple[int, int, list[ToolCall]]]:
    fences = list(_FENCE.finditer(text))
    for fence in fences:
        body = fence.group("body").strip()
        try:
            values = _decode_all(body)
        except (ValueError, RecursionError) as exc:
            name = _NAME_IN_BROKEN.search(body)
            if name and (tool_names is None or name.group("name") in tool_names):
                yield fence.start(), fence.end(), [_broken(body, f"tool call is not valid JSON: {exc}")]
            continue
        calls = _calls_from_values(values, tool_names)
        if calls:
            yield fence.start(), fence.end(), calls
    cursor = 0
    for between in [*fences, None]:
        stop = between.start() if between else len(text)
        yield from _bare_calls(text, cursor, stop, tool_names)
        cursor = between.end() if between else stop


def _bare_calls(
    text: str, start: int, stop: int, tool_names: Collection[str] | None
) -> Iterator[tuple[int, int, list[ToolCall]]]:
    decoder = json.JSONDecoder()
    window = text[:stop]
    position = start
    while position < stop:
        match = _JSON_START.search(window, position)
        if not match:
            return
        try:
            value, end = decoder.raw_decode(window, match.start())
        except RecursionError:
            # Every start inside a run of openers nests too deep as well: skip the run whole.
            run = _OPENER_RUN.match(window, match.start())
            position = run.end() if run else match.start() + 1
            continue
        except ValueError:
            position = match.start() + 1
            continue
        calls = _calls_from_values([value], tool_names)
        if calls:
            yield match.start(), end, calls
        # A JSON value that is not a call is prose (an answer in JSON): skip it whole.
        position = end


def _calls_from_values(values: list[Any], tool_names: Collection[str] | None) -> list[ToolCall]:
    """Calls from JSON found outside a tag: all items must be calls, or none count."""
    items = [item for value in values for item in _unwrap(value)]
    calls = [_call_from_object(item, tool_names, strict=True) for item in items]
    if not calls or any(call is None for call in calls):
        return []
    return [call for call in calls if call is not None]


def _unwrap(value: Any) -> list[Any]:
    """A list of calls, or an OpenAI-style ``{"tool_calls": [...]}`` wrapper, becomes its items."""
    if isinstance(value, list):
        return value
    if isinstance(value, dict) and set(value) == {"tool_calls"} and isinstance(value["tool_calls"], list):
        return value["tool_calls"]
    return [value]


def _call_from_object(item: Any, tool_names: Collection[str] | None, *, strict: bool) -> ToolCall | None:
    """A ToolCall from one JSON object, or None when it is not shaped like a call.

    ``strict`` (JSON outside a tag): the name must be offered when ``tool_names`` is given, and
    without ``tool_names`` an explicit arguments key is required, so ``{"name": "Alice"}`` stays data.
    """
    if not isinstance(item, dict):
        return None
    if isinstance(item.get("function"), dict):  # OpenAI shape: {"type": "function", "function": {...}}
        item = item["function"]
    name_key = next((key for key in _NAME_KEYS if isinstance(item.get(key), str)), None)
    if name_key is None:
        return None
    name = item[name_key].strip()
    argument_key = next((key for key in _ARGUMENT_KEYS if key in item), None)
    if strict and (name not in tool_names if tool_names is not None else argument_key is None):
        return None
    if argument_key is not None:
        raw = item[argument_key]
    else:  # flat form: {"name": "type_letter", "letter": "c"}
        raw = {key: value for key, value in item.items() if key not in (name_key, "id", "type")}
    return _with_arguments(name, raw, item)


def _with_arguments(name: str, raw: Any, item: dict[str, Any]) -> ToolCall:
    if raw is None or raw == "":
        raw = {}
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except (ValueError, RecursionError) as exc:
            return _broken(json.dumps(item, ensure_ascii=False), f"arguments are not valid JSON: {exc}", name)
    if not isinstance(raw, dict):
        return _broken(json.dumps(item, ensure_ascii=False), "arguments must be a JSON object", name)
    return ToolCall(id="", name=name, arguments=raw, raw_arguments=json.dumps(raw, ensure_ascii=False))


def _broken(raw: str, error: str, name: str | None = None) -> ToolCall:
    if name is None:
        found = _NAME_IN_BROKEN.search(raw)
        name = found.group("name").strip() if found else ""
    return ToolCall(id="", name=name, raw_arguments=raw, error=error)


def _decode_all(body: str) -> list[Any]:
    """Every JSON value in ``body``, written one after another (several calls in one tag)."""
    decoder = json.JSONDecoder()
    values: list[Any] = []
    position = 0
    while True:
        while position < len(body) and body[position] in " \t\r\n,;":
            position += 1
        if position >= len(body):
            return values
        value, position = decoder.raw_decode(body, position)
        values.append(value)


def render_call(call: ToolCall) -> str:
    """A call as the model would have written it; broken calls are replayed verbatim."""
    if call.error:
        return f"<tool_call>{call.raw_arguments}</tool_call>"
    payload = {"name": call.name, "arguments": call.arguments}
    return f"<tool_call>{json.dumps(payload, ensure_ascii=False)}</tool_call>"


def render_request(request: CompletionRequest) -> CompletionRequest:
    """``request`` for a model that only reads text: no tools, tool prompt in the system message,
    tool calls and results written out in the conversation."""
    messages: list[Message] = []
    for message in request.messages:
        if message.role == "assistant" and message.tool_calls:
            parts = [message.content.strip(), *(render_call(call) for call in message.tool_calls)]
            messages.append(Message(role="assistant", content="\n".join(part for part in parts if part)))
        elif message.role == "tool":
            result = f'<tool_result name="{message.name or ""}">{message.content}</tool_result>'
            # Consecutive results (and a user turn right after them) share one user message, so
            # chat templates that insist on alternating roles still accept the history.
            if messages and messages[-1].role == "user" and _is_result_turn(messages[-1]):
                messages[-1] = Message(role="user", content=f"{messages[-1].content}\n{result}")
            else:
                messages.append(Message(role="user", content=result))
        elif message.role == "user" and messages and messages[-1].role == "user" and _is_result_turn(messages[-1]):
            messages[-1] = Message(role="user", content=f"{messages[-1].content}\n{message.content}")
        else:
            messages.append(Message(role=message.role, content=message.content))
    if request.tools:
        section = render_tool_prompt(request.tools)
        system = next((i for i, message in enumerate(messages) if message.role == "system"), None)
        if system is None:
            messages.insert(0, Message(role="system", content=section))
        else:
            messages[system] = Message(role="system", content=f"{messages[system].content.rstrip()}\n\n{section}")
    return replace(request, messages=tuple(messages), tools=())


def _is_result_turn(message: Message) -> bool:
    return message.content.startswith("<tool_result ")


def completion_from_text(reply: Completion, request: CompletionRequest) -> Completion:
    """Read tool calls out of ``reply`` (the model's answer to ``render_request(request)``).

    Ids are ``call_<turn>_<i>``, ``turn`` being the number of assistant turns before this one, so
    they stay unique across the conversation. Raises MalformedToolCall when a call is broken.
    """
    if not request.tools:
        return reply
    turn = sum(1 for message in request.messages if message.role == "assistant")
    parsed = parse_tool_calls(reply.text, [tool.name for tool in request.tools], id_prefix=f"call_{turn}_")
    completion = replace(
        reply,
        text=parsed.text,
        tool_calls=parsed.tool_calls,
        finish_reason="tool_calls" if parsed.tool_calls else reply.finish_reason,
    )
    if parsed.broken_calls:
        first = parsed.broken_calls[0]
        raise MalformedToolCall(f"malformed tool call {first.name or '(unnamed)'!r}: {first.error}",
                                completion=completion)
    return completion


class TextToolsProvider:
    """Any provider made to call tools through text: see the module docstring.

    Errors raised by ``inner`` pass through untouched; a reply with a broken call raises
    MalformedToolCall carrying the parsed completion.
    """

    def __init__(self, inner: Provider) -> None:
        self.inner = inner

    async def complete(self, request: CompletionRequest) -> Completion:
        reply = await self.inner.complete(render_request(request))
        return completion_from_text(reply, request)

    def wire_params(self, request: CompletionRequest) -> dict[str, Any]:
        return self.inner.wire_params(render_request(request))

    async def aclose(self) -> None:
        await self.inner.aclose()

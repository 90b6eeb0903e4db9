"""OpenAI Responses API JSON ↔ the neutral types, in both directions.

Requests: tools are flat (``{"type": "function", name, description, parameters, strict}``); the
conversation is a list of ``input`` items — messages, then for each assistant turn the items the
API returned (``reasoning``, ``function_call``, ``message``), each call answered by a
``{"type": "function_call_output", call_id, output}`` item. Used statelessly (``store: false``),
reasoning models need their ``reasoning`` items back, with the ``encrypted_content`` they were
returned with: an assistant turn that carries ``replay`` (the reply's own output items) goes back as
exactly those items, in order.

Replies are a ``response`` object: ``output`` items as above, ``status`` (``incomplete`` with
``incomplete_details.reason`` when cut short) and ``usage`` with ``input_tokens_details.cached_tokens``
and ``output_tokens_details.reasoning_tokens``. A refusal is a ``refusal`` content part.

Completions read from this format report ``finish_reason`` in the Chat vocabulary (stop,
tool_calls, length, content_filter) so that records compare across providers.
"""

from __future__ import annotations

from typing import Any

from providers.types import Completion, Message, ToolCall, ToolSpec
from providers.wire.tool_arguments import parse_tool_call, served_model, token_count

# -- tools -------------------------------------------------------------------------------------


def tool_to_wire(tool: ToolSpec) -> dict[str, Any]:
    # strict mode would require every property and ``additionalProperties: false`` of the schemas
    return {"type": "function", "name": tool.name, "description": tool.description,
            "parameters": tool.parameters, "strict": False}


def tool_from_wire(item: dict[str, Any]) -> ToolSpec:
    if item.get("type") != "function" or "function" in item:
        raise ValueError("tools must be flat function tools: {type: function, name, parameters}")
    return ToolSpec(name=item["name"], description=item.get("description") or "",
                    parameters=item.get("parameters") or {"type": "object", "properties": {}})


# -- requests: neutral → wire ------------------------------------------------------------------


def function_call_item(call: ToolCall, *, item_id: str | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {"type": "function_call", "call_id": call.id, "name": call.name,
                            "arguments": call.raw_arguments if call.error else call.arguments_json}
    if item_id is not None:
        item["id"] = item_id
    return item


def _assistant_items(message: Message) -> list[dict[str, Any]]:
    if message.replay:
        return [dict(item) for item in message.replay]
    # A turn with no replay (written by hand, or from another API): its text, then its calls.
    items: list[dict[str, Any]] = []
    if message.content:
        items.append({"type": "message", "role": "assistant", "content": message.content})
    # A broken call goes back with empty arguments, as the API takes only JSON text there.
    items += [{"type": "function_call", "call_id": call.id, "name": call.name,
               "arguments": "{}" if call.error else call.arguments_json} for call in message.tool_calls]
    return items


def input_to_wire(messages: tuple[Message, ...] | list[Message]) -> list[dict[str, Any]]:
    """The ``input`` items for a conversation; system turns become ``developer`` messages."""
    items: list[dict[str, Any]] = []
    for message in messages:
        if message.role == "assistant":
            items += _assistant_items(message)
        elif message.role == "tool":
            items.append({"type": "function_call_output", "call_id": message.tool_call_id, "output": message.content})
        else:
            role = "developer" if message.role == "system" else message.role
            items.append({"type": "message", "role": role, "content": message.content})
    return items


# -- requests: wire → neutral (the simulator's side) -------------------------------------------


def _content_text(content: Any) -> str:
    """Message content is a string or a list of parts; text-bearing parts count."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if not isinstance(content, list) or not all(isinstance(part, dict) for part in content):
        raise TypeError("message content must be a string or a list of parts")
    return "".join(str(part.get("text") or part.get("refusal") or "") for part in content)


def _item_type(item: Any) -> str:
    if not isinstance(item, dict):
        raise TypeError("input items must be objects")
    kind = item.get("type") or ("message" if "role" in item else None)
    if not isinstance(kind, str):
        raise ValueError("an input item has no type")
    return kind


def input_from_wire(items: Any, instructions: Any = None) -> tuple[Message, ...]:
    """Neutral messages: consecutive assistant-side items (reasoning, calls, assistant messages)
    form one assistant turn; tool results get the name of the call they answer."""
    if isinstance(items, str):
        items = [{"type": "message", "role": "user", "content": items}]
    if not isinstance(items, list):
        raise TypeError("'input' must be a string or a list of items")
    messages: list[Message] = [Message(role="system", content=instructions)] if isinstance(instructions, str) else []
    text, open_turn = "", False
    calls: list[ToolCall] = []
    names: dict[str, str] = {}

    def close_turn() -> None:
        nonlocal text, calls, open_turn
        if open_turn:
            messages.append(Message(role="assistant", content=text, tool_calls=tuple(calls)))
        text, calls, open_turn = "", [], False

    for item in items:
        kind = _item_type(item)
        if kind == "reasoning" or (kind == "message" and item.get("role") == "assistant"):
            text += _content_text(item.get("content")) if kind == "message" else ""
            open_turn = True
        elif kind == "function_call":
            call = parse_tool_call(item["call_id"], item["name"], item.get("arguments"))
            calls.append(call)
            names[call.id] = call.name
            open_turn = True
        elif kind == "function_call_output":
            close_turn()
            output = item.get("output")
            messages.append(Message(role="tool", content=output if isinstance(output, str) else _content_text(output),
                                    tool_call_id=item["call_id"], name=names.get(item["call_id"])))
        elif kind == "message":
            close_turn()
            role = {"developer": "system"}.get(item["role"], item["role"])
            if role not in ("system", "user"):
                raise ValueError(f"unknown message role {item['role']!r}")
            messages.append(Message(role=role, content=_content_text(item.get("content"))))
        else:
            raise ValueError(f"input items of type {kind!r} are not supported")
    close_turn()
    return tuple(messages)


# -- replies -----------------------------------------------------------------------------------


def reasoning_item(item_id: str, *, summary: str | None, encrypted_content: str | None) -> dict[str, Any]:
    """A ``reasoning`` output item; ``summary`` None when no summary was asked for."""
    item: dict[str, Any] = {"id": item_id, "type": "reasoning",
                            "summary": [{"type": "summary_text", "text": summary}] if summary else []}
    if encrypted_content is not None:
        item["encrypted_content"] = encrypted_content
    return item


def message_item(item_id: str, *, text: str, refusal: bool) -> dict[str, Any]:
    part = ({"type": "refusal", "refusal": text} if refusal
            else {"type": "output_text", "text": text, "annotations": []})
    return {"id": item_id, "type": "message", "role": "assistant", "status": "completed", "content": [part]}


def response_to_wire(*, response_id: str, model: str, created: int, output: list[dict[str, Any]],
                     tools: list[dict[str, Any]], input_tokens: int, output_tokens: int, reasoning_tokens: int = 0,
                     reasoning: dict[str, Any] | None = None, store: bool = False,
                     incomplete_reason: str | None = None) -> dict[str, Any]:
    """A ``response`` body; ``output_tokens`` counts everything generated, ``reasoning_tokens`` the
    part of it spent thinking."""
    return {
        "id": response_id, "object": "response", "created_at": created, "model": model,
        "status": "incomplete" if incomplete_reason else "completed",
        "incomplete_details": {"reason": incomplete_reason} if incomplete_reason else None,
        "error": None, "output": output, "tools": tools, "tool_choice": "auto", "parallel_tool_calls": True,
        "reasoning": reasoning, "store": store,
        "usage": {"input_tokens": input_tokens, "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
                  "output_tokens": output_tokens, "output_tokens_details": {"reasoning_tokens": reasoning_tokens},
                  "total_tokens": input_tokens + output_tokens},
    }


def _detail(usage: dict[str, Any], block: str, field: str) -> int:
    details = usage.get(block)
    return token_count(details.get(field)) if isinstance(details, dict) else 0


def completion_from_wire(body: dict[str, Any], *, latency_s: float = 0.0) -> Completion:
    """A ``response`` body as a Completion: its text, calls, refusal, reasoning summary, usage, and
    ``replay`` = every output item as returned, to send back with the next request."""
    status = body.get("status") or "completed"
    if status not in ("completed", "incomplete"):
        raise ValueError(f"response status {status!r}")
    output = body["output"]
    text, refusal_text, summaries = "", "", []
    calls: list[ToolCall] = []
    for item in output:
        kind = item.get("type")
        if kind == "message":
            for part in item.get("content") or ():
                if part.get("type") == "refusal":
                    refusal_text += part.get("refusal") or ""
                elif part.get("type") == "output_text":
                    text += part.get("text") or ""
        elif kind == "function_call":
            calls.append(parse_tool_call(item.get("call_id") or "", item["name"], item.get("arguments")))
        elif kind == "reasoning":
            summaries += [part.get("text") or "" for part in item.get("summary") or ()]
    reason = (body.get("incomplete_details") or {}).get("reason") if status == "incomplete" else None
    refused = bool(refusal_text) or reason == "content_filter"
    # an incomplete reply is unfinished whatever cut it: "length" for the token limit, else the reason
    finish_reason = ("content_filter" if refused else
                     ("length" if reason in (None, "max_output_tokens") else str(reason)) if status == "incomplete"
                     else "tool_calls" if calls else "stop")
    usage = body.get("usage") or {}
    return Completion(
        text=text or refusal_text, tool_calls=tuple(calls), finish_reason=finish_reason, refusal=refused,
        input_tokens=token_count(usage.get("input_tokens")), output_tokens=token_count(usage.get("output_tokens")),
        latency_s=latency_s,
        reasoning_tokens=_detail(usage, "output_tokens_details", "reasoning_tokens"),
        cached_input_tokens=_detail(usage, "input_tokens_details", "cached_tokens"),
        truncated=status == "incomplete" and not refused,
        replay=tuple(output), reasoning="\n\n".join(s for s in summaries if s),
        served_model=served_model(body.get("model")),
    )

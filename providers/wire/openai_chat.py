"""OpenAI Chat Completions JSON ↔ the neutral types, in both directions.

Requests: ``tools=[{"type": "function", "function": {name, description, parameters}}]``; assistant
turns carry ``tool_calls`` whose ``arguments`` is JSON *text*; each tool result is a
``{"role": "tool", "tool_call_id", "content"}`` message. Replies put one choice's ``message`` and
``finish_reason`` beside a ``usage`` block (``completion_tokens_details.reasoning_tokens`` and
``prompt_tokens_details.cached_tokens`` break its totals down). A refusal is
``finish_reason: "content_filter"`` or a ``refusal`` field on the message; ``finish_reason: "length"``
is a reply cut by the token limit.
"""

from __future__ import annotations

from typing import Any

from providers.types import Completion, Message, ToolCall, ToolSpec
from providers.wire.tool_arguments import parse_tool_call, served_model, token_count

# -- tools -------------------------------------------------------------------------------------


def tool_to_wire(tool: ToolSpec) -> dict[str, Any]:
    return {"type": "function",
            "function": {"name": tool.name, "description": tool.description, "parameters": tool.parameters}}


def tool_from_wire(item: dict[str, Any]) -> ToolSpec:
    function = item["function"]
    return ToolSpec(name=function["name"], description=function.get("description", ""),
                    parameters=function.get("parameters") or {"type": "object", "properties": {}})


# -- tool calls --------------------------------------------------------------------------------


def tool_call_to_wire(call: ToolCall) -> dict[str, Any]:
    return {"id": call.id, "type": "function", "function": {"name": call.name, "arguments": call.arguments_json}}


def tool_call_from_wire(item: dict[str, Any]) -> ToolCall:
    function = item["function"]
    return parse_tool_call(item.get("id") or "", function["name"], function.get("arguments"))


# -- messages ----------------------------------------------------------------------------------


def message_to_wire(message: Message) -> dict[str, Any]:
    if message.role == "tool":
        return {"role": "tool", "tool_call_id": message.tool_call_id, "content": message.content}
    if message.role == "assistant" and message.tool_calls:
        return {"role": "assistant", "content": message.content or None,
                "tool_calls": [tool_call_to_wire(call) for call in message.tool_calls]}
    return {"role": message.role, "content": message.content}


def messages_to_wire(messages: tuple[Message, ...] | list[Message]) -> list[dict[str, Any]]:
    return [message_to_wire(message) for message in messages]


def _content_text(content: Any) -> str:
    """Content is a string, null, or a list of parts of which the text parts count."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if not all(isinstance(part, dict) for part in content):
        raise TypeError("message content parts must be objects")
    return "".join(part.get("text", "") for part in content)


def message_from_wire(item: dict[str, Any]) -> Message:
    role = item["role"]
    if role == "developer":  # the newer name of the system role
        role = "system"
    if role == "tool":
        return Message(role="tool", content=_content_text(item.get("content")),
                       tool_call_id=item.get("tool_call_id"), name=item.get("name"))
    calls = tuple(tool_call_from_wire(call) for call in item.get("tool_calls") or ())
    return Message(role=role, content=_content_text(item.get("content")), tool_calls=calls)


def messages_from_wire(items: list[dict[str, Any]]) -> tuple[Message, ...]:
    """Neutral messages; tool results get the name of the call they answer, looked up by id."""
    messages = [message_from_wire(item) for item in items]
    names = {call.id: call.name for message in messages for call in message.tool_calls}
    return tuple(
        Message(role="tool", content=m.content, tool_call_id=m.tool_call_id, name=names.get(m.tool_call_id or ""))
        if m.role == "tool" and m.name is None else m
        for m in messages
    )


# -- replies -----------------------------------------------------------------------------------


def reply_to_wire(*, reply_id: str, model: str, created: int, text: str, tool_calls: tuple[ToolCall, ...] = (),
                  refusal: str | None = None, input_tokens: int = 0, output_tokens: int = 0,
                  reasoning_tokens: int = 0) -> dict[str, Any]:
    """A ``chat.completion`` body with one choice; ``output_tokens`` counts everything generated,
    ``reasoning_tokens`` the part of it spent thinking."""
    content = None if refusal or (tool_calls and not text) else text
    message: dict[str, Any] = {"role": "assistant", "content": content, "refusal": refusal}
    if tool_calls:
        message["tool_calls"] = [tool_call_to_wire(call) for call in tool_calls]
    finish_reason = "content_filter" if refusal else "tool_calls" if tool_calls else "stop"
    return {
        "id": reply_id, "object": "chat.completion", "created": created, "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason, "logprobs": None}],
        "usage": {"prompt_tokens": input_tokens, "completion_tokens": output_tokens,
                  "total_tokens": input_tokens + output_tokens,
                  "prompt_tokens_details": {"cached_tokens": 0},
                  "completion_tokens_details": {"reasoning_tokens": reasoning_tokens}},
    }


def _detail(usage: dict[str, Any], block: str, field: str) -> int:
    details = usage.get(block)
    return token_count(details.get(field)) if isinstance(details, dict) else 0


def completion_from_wire(body: dict[str, Any], *, latency_s: float = 0.0) -> Completion:
    """The first choice of a ``chat.completion`` body as a Completion (``finish_reason`` as sent;
    ``length`` marks it truncated)."""
    choice = body["choices"][0]
    message = choice.get("message") or {}
    refusal_text = message.get("refusal")
    finish_reason = choice.get("finish_reason") or "stop"
    usage = body.get("usage") or {}
    return Completion(
        text=_content_text(message.get("content")) or (refusal_text or ""),
        tool_calls=tuple(tool_call_from_wire(call) for call in message.get("tool_calls") or ()),
        finish_reason=finish_reason,
        refusal=bool(refusal_text) or finish_reason == "content_filter",
        input_tokens=token_count(usage.get("prompt_tokens")),
        output_tokens=token_count(usage.get("completion_tokens")),
        latency_s=latency_s,
        reasoning_tokens=_detail(usage, "completion_tokens_details", "reasoning_tokens"),
        cached_input_tokens=_detail(usage, "prompt_tokens_details", "cached_tokens"),
        truncated=finish_reason == "length",
        served_model=served_model(body.get("model")),
    )


# -- errors ------------------------------------------------------------------------------------

_ERROR_TYPES = {400: "invalid_request_error", 401: "invalid_request_error", 403: "permission_denied",
                404: "invalid_request_error", 429: "rate_limit_exceeded"}


def error_to_wire(status: int, message: str, *, code: str | None = None, param: str | None = None) -> dict[str, Any]:
    """An error body shaped like OpenAI's (both APIs): ``{"error": {message, type, param, code}}``."""
    error_type = _ERROR_TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")
    return {"error": {"message": message, "type": error_type, "param": param, "code": code}}

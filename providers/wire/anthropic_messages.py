"""Anthropic Messages JSON ↔ the neutral types, in both directions.

The system prompt is the top-level ``system`` field, not a message. Tools are
``{name, description, input_schema}``. An assistant's calls are ``tool_use`` content blocks whose
``input`` is an object; results go back as ``tool_result`` blocks inside one user message
(consecutive tool results merged, since roles must alternate). A refusal is
``stop_reason: "refusal"`` with ``stop_details: {type: "refusal", category, explanation}``.

Extended thinking: a reasoning budget is ``thinking: {type: "enabled", budget_tokens}``, an effort
``output_config: {effort}`` (with ``thinking: {type: "adaptive"}`` when no budget is given).
Sampling parameters are body fields the SDK (1.0 and later) no longer names, so the adapter sends
them as extra body. A reply's ``thinking`` / ``redacted_thinking`` blocks must go back unmodified
and in order with its ``tool_use`` blocks: a completion keeps the reply's content blocks as its
``replay`` and an assistant turn that has one is sent as exactly those blocks.

Completions read from this format report ``finish_reason`` in the OpenAI vocabulary (stop,
tool_calls, length, content_filter; ``pause_turn`` as itself) so that records compare across
providers. Usage: the API's ``input_tokens`` excludes the prompt cache, so a completion's
``input_tokens`` adds cache reads and writes back (``cached_input_tokens`` = the reads);
``output_tokens`` includes thinking, whose share is ``usage.output_tokens_details.thinking_tokens``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from providers.catalog.apis import EFFORTS as API_EFFORTS
from providers.catalog.apis import MIN_BUDGET_TOKENS as API_MIN_BUDGET_TOKENS
from providers.types import Completion, Message, Reasoning, ToolCall, ToolSpec
from providers.wire.tool_arguments import parse_tool_call, served_model, token_count

FINISH_REASONS = {"end_turn": "stop", "stop_sequence": "stop", "tool_use": "tool_calls", "max_tokens": "length",
                  "refusal": "content_filter", "model_context_window_exceeded": "length"}
# stop reasons of a reply cut short by a limit: its text is not a finished answer
TRUNCATED = frozenset({"max_tokens", "model_context_window_exceeded"})
THINKING_BLOCKS = frozenset({"thinking", "redacted_thinking"})
# ``output_config.effort`` levels the API takes; thinking budgets start at this many tokens
EFFORTS = API_EFFORTS["anthropic"]
MIN_BUDGET_TOKENS = API_MIN_BUDGET_TOKENS["anthropic"]
# The sampling and reasoning fields of a request body: what ``wire_params`` records and the
# simulator's ``/stats`` reports.
PARAMETERS = ("temperature", "top_p", "top_k", "max_tokens", "thinking", "output_config", "tool_choice")

# -- sampling and reasoning --------------------------------------------------------------------


def sampling_to_wire(temperature: float | None) -> dict[str, Any]:
    """The sampling fields of the body: only those set (the Messages API has no seed)."""
    return {} if temperature is None else {"temperature": temperature}


def reasoning_to_wire(reasoning: Reasoning | None) -> dict[str, Any]:
    """``thinking`` (and ``output_config``) for a reasoning setting, as given: the provider refuses
    one the API cannot take first (``providers.catalog.apis.reasoning_problem``). Limits that
    depend on the model or on ``max_tokens`` are the API's to enforce (and the sweep's to check
    before it starts)."""
    if reasoning is None:
        return {}
    body: dict[str, Any] = {}
    if reasoning.budget_tokens is not None:
        body["thinking"] = {"type": "enabled", "budget_tokens": reasoning.budget_tokens}
    if reasoning.effort is not None:
        body.setdefault("thinking", {"type": "adaptive"})
        body["output_config"] = {"effort": reasoning.effort}
    return body


# -- tools -------------------------------------------------------------------------------------


def tool_to_wire(tool: ToolSpec) -> dict[str, Any]:
    return {"name": tool.name, "description": tool.description, "input_schema": tool.parameters}


def tool_from_wire(item: dict[str, Any]) -> ToolSpec:
    return ToolSpec(name=item["name"], description=item.get("description", ""),
                    parameters=item.get("input_schema") or {"type": "object", "properties": {}})


# -- messages: neutral → wire ------------------------------------------------------------------


def tool_use_block(call: ToolCall) -> dict[str, Any]:
    """A call as a ``tool_use`` block. A call whose arguments did not parse keeps its raw text as
    ``input``: that is how the simulator serves a malformed call (the adapter reads it back with
    ``error`` set); a request never sends one, see ``_assistant_blocks``."""
    return {"type": "tool_use", "id": call.id, "name": call.name,
            "input": call.raw_arguments if call.error else call.arguments}


def _assistant_blocks(message: Message) -> list[dict[str, Any]] | str:
    if not message.tool_calls:
        return message.content
    blocks: list[dict[str, Any]] = [{"type": "text", "text": message.content}] if message.content else []
    # The API only takes objects as input: a broken call goes back with empty arguments.
    blocks += [{"type": "tool_use", "id": call.id, "name": call.name, "input": {} if call.error else call.arguments}
               for call in message.tool_calls]
    return blocks


def _as_blocks(content: list[dict[str, Any]] | str) -> list[dict[str, Any]]:
    return content if isinstance(content, list) else [{"type": "text", "text": content}] if content else []


def messages_to_wire(messages: tuple[Message, ...] | list[Message]) -> tuple[str | None, list[dict[str, Any]]]:
    """``(system, messages)``: system turns joined into the top-level field; tool results (and any
    user text right after them) merged into one user message of blocks. An assistant turn with a
    ``replay`` is sent as those blocks, verbatim; one right after another assistant turn (the
    continuation of a ``pause_turn``) joins it, as the API itself would combine them."""
    system = [m.content for m in messages if m.role == "system"]
    wire: list[dict[str, Any]] = []
    for message in messages:
        if message.role == "system":
            continue
        if message.role == "assistant":
            blocks: list[dict[str, Any]] | str = list(message.replay) if message.replay else _assistant_blocks(message)
            if wire and wire[-1]["role"] == "assistant":
                wire[-1]["content"] = _as_blocks(wire[-1]["content"]) + _as_blocks(blocks)
            else:
                wire.append({"role": "assistant", "content": blocks})
            continue
        content: list[dict[str, Any]] | str = (
            [{"type": "tool_result", "tool_use_id": message.tool_call_id, "content": message.content,
              **({"is_error": True} if message.tool_error else {})}]
            if message.role == "tool" else message.content
        )
        if wire and wire[-1]["role"] == "user":
            wire[-1]["content"] = _as_blocks(wire[-1]["content"]) + _as_blocks(content)
        else:
            wire.append({"role": "user", "content": content})
    return ("\n\n".join(system) if system else None), wire


# -- messages: wire → neutral ------------------------------------------------------------------


def _text(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    return "".join(block.get("text", "") for block in content if isinstance(block, dict) and block.get("type") == "text")


def messages_from_wire(system: Any, items: list[dict[str, Any]]) -> tuple[Message, ...]:
    """Neutral messages: the system field first, each ``tool_result`` block as its own tool message
    (named after the ``tool_use`` it answers), text blocks as user/assistant text."""
    messages: list[Message] = [Message(role="system", content=_text(system))] if system else []
    names: dict[str, str] = {}
    for item in items:
        role, content = item["role"], item.get("content")
        if role == "assistant":
            blocks = content if isinstance(content, list) else []
            calls = tuple(parse_tool_call(b.get("id", ""), b["name"], b.get("input"))
                          for b in blocks if b.get("type") == "tool_use")
            names.update((call.id, call.name) for call in calls)
            messages.append(Message(role="assistant", content=_text(content), tool_calls=calls))
            continue
        if isinstance(content, list):
            for block in content:
                if block.get("type") == "tool_result":
                    call_id = block.get("tool_use_id", "")
                    messages.append(Message(role="tool", content=_text(block.get("content")),
                                            tool_call_id=call_id, name=names.get(call_id),
                                            tool_error=block.get("is_error") is True))
        text = _text(content)
        if text:
            messages.append(Message(role="user", content=text))
    return tuple(messages)


# -- replies -----------------------------------------------------------------------------------


def reply_to_wire(*, reply_id: str, model: str, text: str, tool_calls: tuple[ToolCall, ...] = (),
                  refusal: bool = False, input_tokens: int = 0, output_tokens: int = 0,
                  thinking: Sequence[dict[str, Any]] = (), thinking_tokens: int = 0,
                  stop_details: dict[str, Any] | None = None) -> dict[str, Any]:
    """A ``message`` body: the ``thinking`` blocks first, then a text block (when there is text),
    then one ``tool_use`` block per call. ``output_tokens`` counts everything generated, of which
    ``thinking_tokens`` (reported when non-zero) were thinking."""
    content: list[dict[str, Any]] = list(thinking)
    content += [{"type": "text", "text": text}] if text else []
    content += [tool_use_block(call) for call in tool_calls]
    stop_reason = "refusal" if refusal else "tool_use" if tool_calls else "end_turn"
    usage: dict[str, Any] = {"input_tokens": input_tokens, "output_tokens": output_tokens}
    if thinking_tokens:
        usage["output_tokens_details"] = {"thinking_tokens": thinking_tokens}
    body = {"id": reply_id, "type": "message", "role": "assistant", "model": model, "content": content,
            "stop_reason": stop_reason, "stop_sequence": None, "usage": usage}
    if stop_details is not None:
        body["stop_details"] = stop_details
    return body


def _replayable(block: dict[str, Any]) -> dict[str, Any]:
    """The block as it goes back in the next request: as received, except that a ``tool_use``
    whose ``input`` is not an object (a malformed call) goes with ``{}``, the only kind of input
    the API takes. Thinking blocks are never touched."""
    if block.get("type") == "tool_use" and not isinstance(block.get("input"), dict):
        return {**block, "input": {}}
    return block


def completion_from_wire(body: dict[str, Any], *, latency_s: float = 0.0) -> Completion:
    content = [block for block in body.get("content") or [] if isinstance(block, dict)]
    stop_reason = body.get("stop_reason") or "end_turn"
    usage = body.get("usage") or {}
    cache_read = token_count(usage.get("cache_read_input_tokens"))
    prompt = token_count(usage.get("input_tokens")) + cache_read + token_count(usage.get("cache_creation_input_tokens"))
    output = token_count(usage.get("output_tokens"))
    details = usage.get("output_tokens_details")
    thinking_tokens = token_count(details.get("thinking_tokens")) if isinstance(details, dict) else 0
    return Completion(
        text=_text(content),
        tool_calls=tuple(parse_tool_call(b.get("id", ""), b["name"], b.get("input"))
                         for b in content if b.get("type") == "tool_use"),
        finish_reason=FINISH_REASONS.get(stop_reason, stop_reason),
        refusal=stop_reason == "refusal",
        input_tokens=prompt,
        output_tokens=output,
        latency_s=latency_s,
        reasoning_tokens=min(thinking_tokens, output),
        cached_input_tokens=cache_read,
        truncated=stop_reason in TRUNCATED,
        replay=tuple(_replayable(block) for block in content),
        reasoning="\n\n".join(b["thinking"] for b in content
                               if b.get("type") == "thinking" and isinstance(b.get("thinking"), str) and b["thinking"]),
        served_model=served_model(body.get("model")),
    )


def refusal_reason(body: dict[str, Any]) -> str:
    """The refusal's ``stop_details`` as one line (category, then explanation), or "" without them."""
    details = body.get("stop_details")
    if not isinstance(details, dict):
        return ""
    parts = [f"category {details['category']}" if isinstance(details.get("category"), str) else "",
             details["explanation"] if isinstance(details.get("explanation"), str) else ""]
    return ": ".join(part for part in parts if part)


# -- errors ------------------------------------------------------------------------------------

_ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error", 402: "billing_error",
                403: "permission_error", 404: "not_found_error", 413: "request_too_large",
                429: "rate_limit_error", 529: "overloaded_error"}


def error_to_wire(status: int, message: str) -> dict[str, Any]:
    """An error body shaped like Anthropic's: ``{"type": "error", "error": {type, message}}``."""
    error_type = _ERROR_TYPES.get(status, "api_error" if status >= 500 else "invalid_request_error")
    return {"type": "error", "error": {"type": error_type, "message": message}}

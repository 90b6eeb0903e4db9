"""Gemini ``generateContent`` JSON ↔ the neutral types, in both directions.

The REST form (``v1beta``): the system prompt is the top-level ``systemInstruction``; turns are
``contents`` of role ``user`` or ``model``, each a list of ``parts``. Tools are
``{"functionDeclarations": [{name, description, parametersJsonSchema}]}``. A model's call is a
``functionCall`` part (``{id, name, args}``, ``args`` an object); its result goes back as a
``functionResponse`` part (``{id, name, response: {"result": …}}``, or ``{"error": …}`` for a
failed call) in a ``user`` content —
results of one turn's calls together, as the SDK's own function-calling loop sends them.

A thinking model's parts carry an opaque ``thoughtSignature`` (base64 bytes). The API requires the
model's content back as it came, so an assistant turn read from a reply keeps that content in
``Message.replay`` and goes back verbatim. Readable thought summaries are parts marked
``"thought": true``.

The API takes fields in lowerCamelCase or snake_case (the SDK itself sends some of each); the
readers here accept both, the writers use lowerCamelCase.

Completions read from this format report ``finish_reason`` in the OpenAI vocabulary (stop,
tool_calls, length, content_filter) where it has a word, else Gemini's reason in lower case;
``FINISH_REASONS`` says what each reason means here, ``blocked`` what a refusal was.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from providers.types import Completion, Message, ToolCall, ToolSpec
from providers.wire.tool_arguments import parse_tool_call, served_model, token_count

FinishKind = Literal["answer", "truncated", "refusal", "malformed", "unreadable", "request", "account"]

# What each ``finishReason`` means here: every member of google-genai's ``FinishReason`` (3.6.1,
# ``google/genai/types.py``; its docstrings quoted in brief), mapped on purpose —
# ``tests/providers/test_wire.py`` fails when the installed SDK names one this table does not.
#   answer     the reply as it is: its text is an answer, its calls are calls
#   truncated  cut before it finished: its text is not a finished answer (Completion.truncated)
#   refusal    a safety or policy filter withheld the reply (Refusal)
#   malformed  the model's call could not be used; fed back to it like a broken call (MalformedToolCall)
#   unreadable the reply itself is broken: retried like any unreadable reply (ServerError)
#   request    the request broke a rule of the API: our fault, not the model's (BadRequest)
#   account    the account may not generate (AuthError: waiting does not help)
# Source: google-genai 3.6.1 ``types.FinishReason``, checked December 2026.
FINISH_REASONS: dict[str, FinishKind] = {
    "FINISH_REASON_UNSPECIFIED": "answer",     # no reason given: read the reply as it is
    "STOP": "answer",                          # natural stop or stop sequence
    "MAX_TOKENS": "truncated",                 # ``maxOutputTokens`` reached
    "CONTINUATION": "truncated",               # per-request token limit; generation not complete
    "RECITATION": "truncated",                 # withheld as a possible recitation of a source: cut, not a safety refusal
    "IMAGE_RECITATION": "truncated",           # the same, for an image
    "LANGUAGE": "truncated",                   # flagged for an unsupported language: no finished answer
    "OTHER": "truncated",                      # stopped "for a reason not otherwise specified"
    "IMAGE_OTHER": "truncated",                # image generation stopped, reason unspecified
    "NO_IMAGE": "truncated",                   # an expected image was not generated
    "TOO_MANY_TOOL_CALLS": "truncated",        # the server-side tool loop stopped before a final answer
    "SAFETY": "refusal",                       # may violate safety policies
    "BLOCKLIST": "refusal",                    # a term from a configured blocklist
    "PROHIBITED_CONTENT": "refusal",           # may be prohibited content
    "SPII": "refusal",                         # may contain sensitive personal information
    "IMAGE_SAFETY": "refusal",                 # a generated image may violate safety policies
    "IMAGE_PROHIBITED_CONTENT": "refusal",     # a generated image may be prohibited
    "MODEL_ARMOR": "refusal",                  # blocked by Model Armor (Vertex AI)
    "ESCALATION": "refusal",                   # filtered by an escalation rule
    "MALFORMED_FUNCTION_CALL": "malformed",    # a syntactically invalid function call
    "UNEXPECTED_TOOL_CALL": "malformed",       # a call to an undeclared function, or with calling off
    "MALFORMED_RESPONSE": "unreadable",        # "finishes due to malformed response"
    "MISSING_THOUGHT_SIGNATURE": "request",    # the request left out a thought signature
    "PUP_LIMITED_DISABLED": "account",         # account limited or disabled for Prohibited Use Policy violations
}
# A reason this table does not know (a newer API) is read as an unfinished reply: never as an answer.
UNKNOWN_FINISH: FinishKind = "truncated"
MALFORMED_FINISH = "MALFORMED_FUNCTION_CALL"
TRUNCATED_FINISH = "MAX_TOKENS"
# A reply without ids on its calls (older models) gets local ones; those are never sent back.
LOCAL_ID_PREFIX = "gemini-local-"
# A reply stopped for a broken call (finish kind ``malformed``) shows no usable call: it reads as
# one broken call with this id, so the agent loop handles it as it handles a broken call on any
# API (a rejected step, an error the model reads). It never goes back as a ``functionCall`` (the
# model made none the API would take, and Gemini 3 wants a thought signature on every one): its
# error goes back as the user's text instead.
UNREADABLE_CALL_ID = "gemini-unreadable"

# google.rpc status names of the HTTP statuses the API answers with
STATUS_NAMES = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
                409: "ABORTED", 429: "RESOURCE_EXHAUSTED", 499: "CANCELLED", 500: "INTERNAL", 501: "NOT_IMPLEMENTED",
                503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED"}
QUOTA_FAILURE = "type.googleapis.com/google.rpc.QuotaFailure"
RETRY_INFO = "type.googleapis.com/google.rpc.RetryInfo"
ERROR_INFO = "type.googleapis.com/google.rpc.ErrorInfo"


def field(obj: dict[str, Any], camel: str, default: Any = None) -> Any:
    """``obj[camel]``, or its snake_case spelling (the API takes either)."""
    if camel in obj:
        return obj[camel]
    snake = "".join("_" + c.lower() if c.isupper() else c for c in camel)
    return obj.get(snake, default)


# -- tools -------------------------------------------------------------------------------------


def tool_to_wire(tool: ToolSpec) -> dict[str, Any]:
    """A function declaration; the parameters go as JSON Schema as they are (``parametersJsonSchema``),
    not through Gemini's OpenAPI subset (``parameters``), which rejects some JSON Schema."""
    return {"name": tool.name, "description": tool.description, "parametersJsonSchema": tool.parameters}


def tools_to_wire(tools: tuple[ToolSpec, ...] | list[ToolSpec]) -> list[dict[str, Any]]:
    return [{"functionDeclarations": [tool_to_wire(tool) for tool in tools]}] if tools else []


def tools_from_wire(items: list[dict[str, Any]]) -> tuple[ToolSpec, ...]:
    specs = []
    for item in items:
        for decl in field(item, "functionDeclarations") or ():
            parameters = field(decl, "parametersJsonSchema") or decl.get("parameters")
            specs.append(ToolSpec(name=decl["name"], description=decl.get("description", ""),
                                  parameters=parameters or {"type": "object", "properties": {}}))
    return tuple(specs)


# -- messages: neutral → wire ------------------------------------------------------------------


def function_call_part(call: ToolCall) -> dict[str, Any]:
    """A call as a ``functionCall`` part (a local id is not sent: the API never saw it). A call
    whose arguments did not parse goes back with empty ``args``: the API takes only objects."""
    body: dict[str, Any] = {"name": call.name, "args": {} if call.error else call.arguments}
    if call.id and not call.id.startswith(LOCAL_ID_PREFIX):
        body["id"] = call.id
    return {"functionCall": body}


def _function_response_part(message: Message) -> dict[str, Any]:
    outcome = "error" if message.tool_error else "result"
    body: dict[str, Any] = {"name": message.name or "", "response": {outcome: message.content}}
    if message.tool_call_id and not message.tool_call_id.startswith(LOCAL_ID_PREFIX):
        body["id"] = message.tool_call_id
    return {"functionResponse": body}


def _model_content(message: Message) -> dict[str, Any] | None:
    """The model's turn as it goes back; None for a turn with nothing the API would take (only an
    unreadable call)."""
    if message.replay:  # the reply's own content, thought signatures and all
        return message.replay[0]
    parts: list[dict[str, Any]] = [{"text": message.content}] if message.content else []
    parts += [function_call_part(call) for call in message.tool_calls if call.id != UNREADABLE_CALL_ID]
    return {"role": "model", "parts": parts} if parts else None


def contents_to_wire(messages: tuple[Message, ...] | list[Message]) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """``(systemInstruction, contents)``: system turns joined into the instruction; consecutive
    tool results (and user text right after them) merged into one ``user`` content."""
    system = [m.content for m in messages if m.role == "system"]
    contents: list[dict[str, Any]] = []
    for message in messages:
        if message.role == "system":
            continue
        if message.role == "assistant":
            content = _model_content(message)
            if content is not None:
                contents.append(content)
            continue
        answers_call = message.role == "tool" and message.tool_call_id != UNREADABLE_CALL_ID
        part = _function_response_part(message) if answers_call else {"text": message.content}
        last = contents[-1] if contents else None
        answering = last is not None and any("functionResponse" in p for p in last.get("parts") or ())
        if last is not None and last.get("role") == "user" and (message.role == "tool" or answering):
            last["parts"].append(part)
        else:
            contents.append({"role": "user", "parts": [part]})
    instruction = {"parts": [{"text": "\n\n".join(system)}]} if system else None
    return instruction, contents


# -- messages: wire → neutral ------------------------------------------------------------------


def _visible_text(parts: list[dict[str, Any]]) -> str:
    return "".join(p["text"] for p in parts if isinstance(p.get("text"), str) and not p.get("thought"))


def _thought_text(parts: list[dict[str, Any]]) -> str:
    return "".join(p["text"] for p in parts if isinstance(p.get("text"), str) and p.get("thought"))


def calls_from_parts(parts: list[dict[str, Any]]) -> tuple[ToolCall, ...]:
    calls = []
    for index, part in enumerate(parts):
        call = field(part, "functionCall")
        if isinstance(call, dict):
            call_id = call.get("id") or f"{LOCAL_ID_PREFIX}{index}"
            calls.append(parse_tool_call(call_id, call.get("name", ""), call.get("args") or {}))
    return tuple(calls)


def _response_text(response: Any) -> str:
    if isinstance(response, dict):
        for key in ("result", "output", "error"):
            if key in response:
                value = response[key]
                return value if isinstance(value, str) else json.dumps(value)
    return json.dumps(response)


def contents_from_wire(instruction: Any, contents: list[dict[str, Any]]) -> tuple[Message, ...]:
    """Neutral messages: the instruction first; each ``functionResponse`` part as its own tool
    message (named after the call it answers); text parts as user/assistant text."""
    messages: list[Message] = []
    if isinstance(instruction, dict):
        messages.append(Message(role="system", content=_visible_text(instruction.get("parts") or [])))
    elif isinstance(instruction, str):
        messages.append(Message(role="system", content=instruction))
    for content in contents:
        role, parts = content.get("role", "user"), content.get("parts") or []
        if role == "model":
            messages.append(Message(role="assistant", content=_visible_text(parts), tool_calls=calls_from_parts(parts)))
            continue
        if role != "user":
            raise ValueError(f"Please use a valid role: user, model (got {role!r}).")
        for part in parts:
            response = field(part, "functionResponse")
            if isinstance(response, dict):
                outcome = response.get("response")
                messages.append(Message(role="tool", content=_response_text(outcome),
                                        tool_call_id=response.get("id"), name=response.get("name"),
                                        tool_error=isinstance(outcome, dict) and "error" in outcome))
        text = _visible_text(parts)
        if text:
            messages.append(Message(role="user", content=text))
    return tuple(messages)


# -- replies -----------------------------------------------------------------------------------


def reply_to_wire(*, response_id: str, model: str, text: str, tool_calls: tuple[ToolCall, ...] = (),
                  finish_reason: str | None = None, input_tokens: int = 0, output_tokens: int = 0,
                  thought_text: str | None = None, thought_tokens: int = 0, signature: str | None = None,
                  finish_message: str | None = None, block_reason: str | None = None) -> dict[str, Any]:
    """A ``GenerateContentResponse`` with one candidate: a thought summary part (when
    ``thought_text``), a text part (when there is text), one ``functionCall`` part per call; the
    ``signature`` on the first call (or on the text when there are none). ``block_reason`` gives
    a blocked prompt: no candidate, only ``promptFeedback``."""
    usage: dict[str, Any] = {"promptTokenCount": input_tokens, "totalTokenCount": input_tokens}
    if block_reason is not None:
        return {"promptFeedback": {"blockReason": block_reason}, "usageMetadata": usage, "modelVersion": model,
                "responseId": response_id}
    parts: list[dict[str, Any]] = [{"text": thought_text, "thought": True}] if thought_text else []
    candidate: dict[str, Any] = {"index": 0}
    if finish_reason is None:
        visible = ([{"text": text}] if text else []) + [function_call_part(call) for call in tool_calls]
        if signature is not None and visible:
            signed = next((p for p in visible if "functionCall" in p), visible[-1])
            signed["thoughtSignature"] = signature
        parts += visible
        finish_reason = "STOP"
    if parts:
        candidate["content"] = {"role": "model", "parts": parts}
    candidate["finishReason"] = finish_reason
    if finish_message:
        candidate["finishMessage"] = finish_message
    usage["candidatesTokenCount"] = output_tokens
    if thought_tokens:
        usage["thoughtsTokenCount"] = thought_tokens
    usage["totalTokenCount"] = input_tokens + output_tokens + thought_tokens
    return {"candidates": [candidate], "usageMetadata": usage, "modelVersion": model, "responseId": response_id}


def finish_kind(finish: str) -> FinishKind:
    """What a ``finishReason`` means here (``FINISH_REASONS``)."""
    return FINISH_REASONS.get(finish, UNKNOWN_FINISH)


def finish_of(body: dict[str, Any]) -> str:
    """The first candidate's ``finishReason`` as sent (STOP when it names none)."""
    candidates = body.get("candidates") or []
    return (field(candidates[0], "finishReason") if candidates else None) or "STOP"


def blocked(body: dict[str, Any]) -> str | None:
    """Why the reply was withheld by a filter (``block_reason SAFETY``, ``finish_reason
    PROHIBITED_CONTENT`` …), or None when it was not."""
    feedback = field(body, "promptFeedback") or {}
    reason = field(feedback, "blockReason")
    if reason and reason != "BLOCKED_REASON_UNSPECIFIED":
        return f"block_reason {reason}"
    finish = finish_of(body)
    return f"finish_reason {finish}" if finish_kind(finish) == "refusal" else None


def _unreadable_call(candidate: dict[str, Any], finish: str) -> ToolCall:
    """The broken call of a reply stopped for one, as the API describes it (``finishMessage``,
    often empty: googleapis/python-genai#1789); it names no tool."""
    message = field(candidate, "finishMessage")
    raw = message if isinstance(message, str) else ""
    return ToolCall(id=UNREADABLE_CALL_ID, name="", raw_arguments=raw,
                    error=f"{finish}: {raw[:200]}" if raw else f"{finish}: the function call could not be used")


def completion_from_wire(body: dict[str, Any], *, latency_s: float = 0.0) -> Completion:
    """The first candidate as a Completion: its content kept as ``replay``, usage split into
    visible and thinking tokens (``candidatesTokenCount`` excludes thoughts). A reply stopped for
    a broken call (``malformed``) holds one broken call (``UNREADABLE_CALL_ID``) and nothing to
    replay: the API already judged its calls unusable, and they never run. ``finish_reason`` is the OpenAI word where there is one,
    else Gemini's reason in lower case (``recitation``)."""
    candidates = body.get("candidates") or []
    candidate = candidates[0] if candidates else {}
    content = candidate.get("content") or {}
    parts = content.get("parts") or []
    finish = finish_of(body)
    kind = finish_kind(finish)
    calls = calls_from_parts(parts) if kind != "malformed" else (_unreadable_call(candidate, finish),)
    usage = field(body, "usageMetadata") or {}
    thoughts = token_count(field(usage, "thoughtsTokenCount"))
    refused = blocked(body) is not None
    finish_reason = ("content_filter" if refused else "length" if finish == TRUNCATED_FINISH
                     else "tool_calls" if calls and kind == "answer" else "stop" if kind == "answer"
                     else finish.lower())
    return Completion(
        text=_visible_text(parts),
        tool_calls=calls,
        finish_reason=finish_reason,
        refusal=refused,
        input_tokens=token_count(field(usage, "promptTokenCount")),
        output_tokens=token_count(field(usage, "candidatesTokenCount")) + thoughts,
        latency_s=latency_s,
        reasoning_tokens=thoughts,
        cached_input_tokens=token_count(field(usage, "cachedContentTokenCount")),
        truncated=kind == "truncated" and not refused,
        replay=(content,) if content and kind != "malformed" else (),
        reasoning=_thought_text(parts),
        served_model=served_model(field(body, "modelVersion")),
    )


# -- errors ------------------------------------------------------------------------------------


def error_to_wire(status: int, message: str, *, details: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """An error body shaped like Google's: ``{"error": {code, message, status, details?}}``."""
    error: dict[str, Any] = {"code": status, "message": message,
                             "status": STATUS_NAMES.get(status, "INTERNAL" if status >= 500 else "FAILED_PRECONDITION")}
    if details:
        error["details"] = details
    return {"error": error}


def quota_details(*, per_day: bool, retry_delay_s: float | None) -> list[dict[str, Any]]:
    """A 429's ``details``: the quota that was hit (requests per minute or per day) and, when the
    caller may retry, ``RetryInfo`` with the delay ("37s"). Ids as the API names its free-tier
    quotas (google-gemini/gemini-cli#8437)."""
    period = "PerDay" if per_day else "PerMinute"
    details: list[dict[str, Any]] = [{
        "@type": QUOTA_FAILURE,
        "violations": [{"quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
                        "quotaId": f"GenerateRequests{period}PerProjectPerModel-FreeTier",
                        "quotaDimensions": {"location": "global"}}],
    }]
    if retry_delay_s is not None:
        details.append({"@type": RETRY_INFO, "retryDelay": f"{retry_delay_s:g}s"})
    return details


def error_details(body: object) -> list[dict[str, Any]]:
    """The ``details`` list of an error body (the body itself or its ``error`` object)."""
    if not isinstance(body, dict):
        return []
    inner = body.get("error", body)
    details = inner.get("details") if isinstance(inner, dict) else None
    return [d for d in details if isinstance(d, dict)] if isinstance(details, list) else []


def retry_delay_s(details: list[dict[str, Any]]) -> float | None:
    """``RetryInfo.retryDelay`` in seconds (a protobuf Duration as JSON: "37s", "0.5s"), or None."""
    for detail in details:
        if detail.get("@type") == RETRY_INFO:
            delay = detail.get("retryDelay")
            if isinstance(delay, str) and delay.endswith("s"):
                try:
                    return max(0.0, float(delay[:-1]))
                except ValueError:
                    return None
    return None


def quota_ids(details: list[dict[str, Any]]) -> list[str]:
    return [str(violation.get("quotaId", "")) for detail in details if detail.get("@type") == QUOTA_FAILURE
            for violation in detail.get("violations") or () if isinstance(violation, dict)]


def error_reasons(details: list[dict[str, Any]]) -> list[str]:
    """``ErrorInfo.reason`` values (e.g. ``API_KEY_INVALID``, which Gemini answers with a 400)."""
    return [str(detail.get("reason", "")) for detail in details if detail.get("@type") == ERROR_INFO]

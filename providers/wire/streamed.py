"""Streamed replies read back into the finished reply body: one accumulator per wire format.

Each accumulator takes a stream's events in order (``add``, the event's JSON data; Anthropic's
also name their event in ``type``) and builds the very body the API returns without streaming
(``reply``), so one ``completion_from_wire`` per format reads both. It is the inverse of
``providers.simulator.streaming``, which cuts a finished body into events.

``add`` returns True for an event that carries content — the time to first token (``ttft_s``)
is taken when the first such event arrives:

- Chat Completions: a chunk whose delta has non-empty ``content``, ``refusal`` or
  ``reasoning_content``, or any ``tool_calls`` delta (the role-only first chunk does not count).
- Responses: any ``response.*.delta`` event (output text, refusal, call arguments, reasoning
  summary text).
- Messages: a ``content_block_delta`` of type ``text_delta``, ``thinking_delta`` or
  ``input_json_delta`` (``message_start``, ``ping`` and ``signature_delta`` do not count).
- Gemini: a chunk with a part holding non-empty ``text`` (a thought's included) or a
  ``functionCall``.

A stream that ends before its reply is whole (no finish) makes ``reply`` raise
``IncompleteStream``; an error event raises ``StreamError`` with the HTTP status the error means.
"""

from __future__ import annotations

import json
from typing import Any, Protocol


class StreamAccumulator(Protocol):
    """What every format's accumulator does: take events, say which carry content, build the reply."""

    def add(self, event: dict[str, Any]) -> bool: ...

    def reply(self) -> dict[str, Any]: ...


class IncompleteStream(ValueError):
    """The stream ended before the event that finishes its reply."""


class StreamError(Exception):
    """An error event in the stream: ``status`` is the HTTP status its error type means."""

    def __init__(self, message: str, *, status: int, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


def _nonempty(value: Any) -> bool:
    return isinstance(value, str) and value != ""


# -- OpenAI Chat Completions ------------------------------------------------------------------

class ChatAccumulator:
    """``chat.completion.chunk`` deltas → a ``chat.completion`` body."""

    def __init__(self) -> None:
        self._head: dict[str, Any] = {}
        self._choices: dict[int, dict[str, Any]] = {}
        self._usage: dict[str, Any] | None = None
        self._finished = False

    def add(self, chunk: dict[str, Any]) -> bool:
        if "error" in chunk and chunk["error"]:
            error = chunk["error"] if isinstance(chunk["error"], dict) else {"message": str(chunk["error"])}
            raise StreamError(str(error.get("message") or "stream error"), status=500, code=error.get("code"))
        if not self._head:
            self._head = {k: chunk[k] for k in ("id", "created", "model", "system_fingerprint") if k in chunk}
        if chunk.get("usage"):
            self._usage = chunk["usage"]
        content = False
        for choice in chunk.get("choices") or ():
            index = choice.get("index", 0)
            state = self._choices.setdefault(index, {"index": index, "content": None, "refusal": None,
                                                     "calls": {}, "finish_reason": None, "role": "assistant"})
            delta = choice.get("delta") or {}
            for key in ("content", "refusal"):
                if _nonempty(delta.get(key)):
                    state[key] = (state[key] or "") + delta[key]
                    content = True
            if _nonempty(delta.get("reasoning_content")):
                content = True
            for call in delta.get("tool_calls") or ():
                content = True
                slot = state["calls"].setdefault(call.get("index", 0), {"id": "", "type": "function",
                                                                        "function": {"name": "", "arguments": ""}})
                if call.get("id"):
                    slot["id"] = call["id"]
                function = call.get("function") or {}
                if function.get("name"):
                    slot["function"]["name"] = function["name"]
                if function.get("arguments"):
                    slot["function"]["arguments"] += function["arguments"]
            if choice.get("finish_reason"):
                state["finish_reason"] = choice["finish_reason"]
                self._finished = True
        return content

    def reply(self) -> dict[str, Any]:
        if not self._finished:
            raise IncompleteStream("the stream ended before a finish_reason")
        choices = []
        for index in sorted(self._choices):
            state = self._choices[index]
            message: dict[str, Any] = {"role": state["role"], "content": state["content"], "refusal": state["refusal"]}
            if state["calls"]:
                message["tool_calls"] = [state["calls"][k] for k in sorted(state["calls"])]
            choices.append({"index": index, "message": message, "finish_reason": state["finish_reason"]})
        return {**self._head, "object": "chat.completion", "choices": choices, "usage": self._usage}


# -- OpenAI Responses -------------------------------------------------------------------------

class ResponsesAccumulator:
    """Responses events → the ``response`` body: the one ``response.completed`` (or
    ``response.incomplete``) carries whole."""

    def __init__(self) -> None:
        self._response: dict[str, Any] | None = None

    def add(self, event: dict[str, Any]) -> bool:
        kind = event.get("type") or ""
        if kind in ("response.completed", "response.incomplete"):
            self._response = event["response"]
        elif kind == "response.failed":
            error = (event.get("response") or {}).get("error") or {}
            raise StreamError(f"response failed: {error.get('message') or 'no message'}", status=500,
                              code=error.get("code"))
        elif kind == "error":
            raise StreamError(str(event.get("message") or "stream error"), status=500, code=event.get("code"))
        return kind.startswith("response.") and kind.endswith(".delta")

    def reply(self) -> dict[str, Any]:
        if self._response is None:
            raise IncompleteStream("the stream ended before response.completed")
        return self._response


# -- Anthropic Messages -----------------------------------------------------------------------

# An ``error`` event's type as the HTTP status it is sent with outside a stream.
ANTHROPIC_ERROR_STATUSES = {"invalid_request_error": 400, "authentication_error": 401, "billing_error": 402,
                            "permission_error": 403, "not_found_error": 404, "request_too_large": 413,
                            "rate_limit_error": 429, "api_error": 500, "overloaded_error": 529}
_CONTENT_DELTAS = ("text_delta", "thinking_delta", "input_json_delta")


def anthropic_error_status(body: object) -> int:
    """The HTTP status an Anthropic error body (``{"type": "error", "error": {"type"}}``) means; 500 when unknown."""
    error = body.get("error") if isinstance(body, dict) else None
    kind = error.get("type") if isinstance(error, dict) else None
    return ANTHROPIC_ERROR_STATUSES.get(kind, 500) if isinstance(kind, str) else 500


class MessagesAccumulator:
    """Messages events → the ``message`` body."""

    def __init__(self) -> None:
        self._message: dict[str, Any] | None = None
        self._blocks: dict[int, dict[str, Any]] = {}
        self._json: dict[int, str] = {}
        self._stopped = False

    def add(self, event: dict[str, Any]) -> bool:
        kind = event.get("type")
        if kind == "message_start":
            self._message = dict(event["message"])
            self._message["usage"] = dict(self._message.get("usage") or {})
        elif kind == "content_block_start":
            block = dict(event["content_block"])
            if block.get("type") == "tool_use":
                self._json[event["index"]] = ""
            self._blocks[event["index"]] = block
        elif kind == "content_block_delta":
            return self._delta(self._blocks[event["index"]], event["index"], event["delta"])
        elif kind == "content_block_stop":
            index = event["index"]
            if index in self._json:
                raw = self._json.pop(index)
                try:
                    self._blocks[index]["input"] = json.loads(raw) if raw else {}
                except ValueError:
                    self._blocks[index]["input"] = raw  # as the API hands a broken call's input on
        elif kind == "message_delta":
            if self._message is None:
                raise IncompleteStream("message_delta before message_start")
            self._message.update(event.get("delta") or {})
            self._message["usage"].update(event.get("usage") or {})
        elif kind == "message_stop":
            self._stopped = True
        elif kind == "error":
            error = event.get("error") or {}
            raise StreamError(str(error.get("message") or "stream error"), status=anthropic_error_status(event),
                              code=error.get("type"))
        return False

    def _delta(self, block: dict[str, Any], index: int, delta: dict[str, Any]) -> bool:
        kind = delta.get("type")
        if kind == "text_delta":
            block["text"] = block.get("text", "") + delta["text"]
        elif kind == "thinking_delta":
            block["thinking"] = block.get("thinking", "") + delta["thinking"]
        elif kind == "signature_delta":
            block["signature"] = delta["signature"]
        elif kind == "input_json_delta":
            self._json[index] = self._json.get(index, "") + delta["partial_json"]
        return kind in _CONTENT_DELTAS

    def reply(self) -> dict[str, Any]:
        if self._message is None or not self._stopped:
            raise IncompleteStream("the stream ended before message_stop")
        return {**self._message, "content": [self._blocks[k] for k in sorted(self._blocks)]}


# -- Gemini -----------------------------------------------------------------------------------

class GeminiAccumulator:
    """``GenerateContentResponse`` chunks → one ``GenerateContentResponse``: the parts joined (a
    text piece onto the text part before it of the same kind, until a part carries a signature),
    the candidate's other fields and the top-level fields (usage, model version) as last sent."""

    def __init__(self) -> None:
        self._head: dict[str, Any] = {}
        self._candidate: dict[str, Any] = {}
        self._parts: list[dict[str, Any]] = []
        self._role = "model"
        self._chunks = 0
        self._finished = False

    def add(self, chunk: dict[str, Any]) -> bool:
        if "error" in chunk:
            error = chunk["error"] if isinstance(chunk["error"], dict) else {}
            code = error.get("code")
            raise StreamError(str(error.get("message") or "stream error"), status=code if isinstance(code, int) else 500,
                              code=error.get("status"))
        self._chunks += 1
        self._head.update({k: v for k, v in chunk.items() if k != "candidates"})
        content = False
        for candidate in (chunk.get("candidates") or ())[:1]:
            self._candidate.update({k: v for k, v in candidate.items() if k != "content"})
            if candidate.get("finishReason"):
                self._finished = True
            body = candidate.get("content") or {}
            self._role = body.get("role", self._role)
            for part in body.get("parts") or ():
                content = content or _nonempty(part.get("text")) or "functionCall" in part
                self._join(part)
        return content

    def _join(self, part: dict[str, Any]) -> None:
        last = self._parts[-1] if self._parts else None
        if (last is not None and "text" in part and "text" in last and "thoughtSignature" not in last
                and bool(last.get("thought")) == bool(part.get("thought"))):
            self._parts[-1] = {**last, **part, "text": last["text"] + part["text"]}
        else:
            self._parts.append(dict(part))

    def reply(self) -> dict[str, Any]:
        if not self._chunks:
            raise IncompleteStream("the stream sent no chunk")
        blocked = not self._candidate and "promptFeedback" in self._head
        if not (self._finished or blocked):
            raise IncompleteStream("the stream ended before a finishReason")
        if blocked:
            return dict(self._head)
        candidate = {**self._candidate}
        if self._parts:
            candidate["content"] = {"role": self._role, "parts": self._parts}
        return {"candidates": [candidate], **self._head}


# Each API's accumulator, by the wire format's name (``providers.registry.ApiFormat``).
ACCUMULATORS: dict[str, type[StreamAccumulator]] = {
    "openai": ChatAccumulator, "openai_responses": ResponsesAccumulator, "anthropic": MessagesAccumulator,
    "google": GeminiAccumulator,
}


def first_content_index(api: str, events: list[dict[str, Any]]) -> int | None:
    """The index of the first event that carries content, as ``ttft_s`` counts it (None: none does)."""
    accumulator = ACCUMULATORS[api]()
    for index, event in enumerate(events):
        try:
            if accumulator.add(event):
                return index
        except (StreamError, ValueError, KeyError, TypeError):
            return None
    return None

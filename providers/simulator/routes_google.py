"""The Gemini wire format: ``POST /{v1,v1beta}/models/{model}:{generateContent,streamGenerateContent}``
bodies in, replies and errors out, with the rules the API enforces for thinking models.

The model is named in the URL, the key in the ``x-goog-api-key`` header (or the ``key`` query
parameter). A reasoning profile acts as a Gemini 3 model: with thinking on (any request but one
with ``thinkingBudget: 0``) it returns a thought summary part, a ``thoughtSignature`` on its first
function call (on its text when it makes none) and ``thoughtsTokenCount``; and it refuses a
request that sends a function call of the current turn back without its signature, or with one
it did not issue, with the API's 400.

Faults in Gemini's shapes: 429 ``RESOURCE_EXHAUSTED`` with a ``QuotaFailure`` (per minute, with
``RetryInfo``; per day for the ``quota`` fault, without), 503 ``UNAVAILABLE``, 500 ``INTERNAL``; a
refusal is a candidate stopped with ``finishReason: SAFETY``; a malformed call is
``MALFORMED_FUNCTION_CALL`` with no content. Error texts are the API's as quoted in public issue
threads: google-gemini/gemini-cli#8437 (429), #13467 ("Corrupted thought signature."), #26682 and
langgenius/dify#29187 (the missing signature).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import random
from typing import Any

from aiohttp import web

from providers.simulator import history
from providers.simulator.config import ModelProfile
from providers.simulator.exchange import AUTO, Event, RuleViolation, Stop, Thought, ToolChoice
from providers.simulator.faults import QUOTA_CODE
from providers.simulator.signatures import Signer
from providers.simulator.streaming import gemini_events
from providers.types import Message, Reasoning, ToolCall, ToolSpec
from providers.wire import google_genai
from providers.wire.google_genai import field

# the generationConfig fields /stats reports per model (as sent, under their camelCase names)
SAMPLING_AND_REASONING = ("temperature", "topP", "topK", "seed", "maxOutputTokens", "candidateCount",
                          "thinkingConfig")
MISSING_SIGNATURE = (
    "Function call is missing a thought_signature in functionCall parts. This is required for tools to work "
    "correctly, and missing thought_signature may lead to degraded model performance. Additional data, function "
    "call `default_api:{name}` , position {position}. Please refer to "
    "https://ai.google.dev/gemini-api/docs/thought-signatures for more details.")
CORRUPTED_SIGNATURE = "Corrupted thought signature."
QUOTA_MESSAGE = ("You exceeded your current quota, please check your plan and billing details. For more information "
                 "on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.")
# the API's own texts for these statuses, whatever the fault that caused them
STATUS_MESSAGES = {500: "An internal error has occurred. Please retry or report in "
                        "https://developers.generativeai.google/guide/troubleshooting",
                   503: "The model is overloaded. Please try again later."}


def signed_text(name: object, args: object) -> str:
    """What a thought signature vouches for: the call it came with."""
    return json.dumps({"name": name, "args": args or {}}, sort_keys=True, separators=(",", ":"))


def _signature_bytes(value: object) -> bytes | None:
    """A signature's bytes, from base64 in either alphabet (the SDK's types re-encode URL-safe)."""
    if not isinstance(value, str):
        return None
    standard = value.replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(standard + "=" * (-len(standard) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None


def _current_turn_start(contents: list[Any]) -> int:
    """The index after the last ``user`` content that carries the user's own text: the model
    contents from there on belong to the turn being answered."""
    for index in range(len(contents) - 1, -1, -1):
        content = contents[index]
        if isinstance(content, dict) and content.get("role", "user") == "user" and any(
                isinstance(part, dict) and isinstance(part.get("text"), str) for part in content.get("parts") or ()):
            return index + 1
    return 0


# The API's text for a model it does not serve (the SDK's test fixtures and many client reports
# quote it, e.g. "models/gemini-0 is not found for API version v1beta, …").
MODEL_NOT_FOUND = ("models/{model} is not found for API version {version}, or is not supported for {method}. Call "
                   "ListModels to see the list of available models and their supported methods.")
STREAM_METHOD = "streamGenerateContent"


class GoogleFormat:
    """Reads ``generateContent`` and ``streamGenerateContent`` requests (under ``v1`` and
    ``v1beta``) and writes their replies and errors."""

    api = "google"
    server_statuses: tuple[int, ...] = (500, 503)

    def streams(self, request: web.Request, body: dict[str, Any]) -> bool:
        return request.match_info.get("method") == STREAM_METHOD

    def streams_as_array(self, request: web.Request) -> bool:
        """Without ``alt=sse`` the API sends the stream's chunks as one JSON array."""
        return request.query.get("alt") != "sse"

    def headers(self, request: web.Request) -> None:
        return None

    def history(self, body: dict[str, Any]) -> None:
        history.gemini(body.get("contents"))

    def model_not_found(self, request: web.Request, model: str) -> str:
        return MODEL_NOT_FOUND.format(model=model, version=request.match_info.get("version", "v1beta"),
                                      method=request.match_info.get("method", "generateContent"))

    def tool_choice(self, body: dict[str, Any], tools: tuple[ToolSpec, ...]) -> ToolChoice:
        config = field(field(body, "toolConfig") or {}, "functionCallingConfig") or {}
        mode = field(config, "mode") or "AUTO"
        names = tuple(str(n) for n in field(config, "allowedFunctionNames") or ())
        if mode in ("AUTO", "MODE_UNSPECIFIED") and not names:
            return AUTO
        if mode == "NONE":
            return ToolChoice(mode="none")
        if mode in ("ANY", "VALIDATED", "AUTO", "MODE_UNSPECIFIED"):
            return ToolChoice(mode="required" if mode == "ANY" else "auto", names=names)
        # the API's enum error, in its usual wording for an unknown value
        raise RuleViolation(400, f"Invalid value at 'tool_config.function_calling_config.mode' ({mode!r})")

    def max_output(self, body: dict[str, Any]) -> int | None:
        cap = field(field(body, "generationConfig") or {}, "maxOutputTokens")
        return cap if isinstance(cap, int) else None

    def stop_sequences(self, body: dict[str, Any]) -> tuple[str, ...]:
        stops = field(field(body, "generationConfig") or {}, "stopSequences") or ()
        return tuple(s for s in stops if isinstance(s, str))

    def stream_events(self, reply: dict[str, Any], body: dict[str, Any]) -> list[Event]:
        return gemini_events(reply)

    def stream_failure(self) -> Event | None:
        return None

    def model(self, request: web.Request, body: dict[str, Any]) -> str | None:
        return request.match_info.get("model")

    def api_key(self, request: web.Request) -> str | None:
        return request.headers.get("x-goog-api-key") or request.query.get("key")

    def parse(self, body: dict[str, Any]) -> tuple[tuple[Message, ...], tuple[ToolSpec, ...]]:
        contents = body.get("contents")
        if not isinstance(contents, list) or not contents:
            raise ValueError("* GenerateContentRequest.contents: contents is not specified")
        instruction = field(body, "systemInstruction")
        return google_genai.contents_from_wire(instruction, contents), google_genai.tools_from_wire(
            body.get("tools") or [])

    def params(self, body: dict[str, Any]) -> dict[str, Any]:
        config = field(body, "generationConfig") or {}
        params = {name: field(config, name) for name in SAMPLING_AND_REASONING if field(config, name) is not None}
        tool_config = field(body, "toolConfig")
        return params | ({"toolConfig": tool_config} if tool_config is not None else {})

    def check(self, body: dict[str, Any], profile: ModelProfile, signer: Signer,
              request: web.Request) -> Reasoning | None:
        """A reasoning profile thinks unless the budget is 0; thinking, it requires each model
        content of the current turn that calls a function to carry, on its first call, the
        signature it was issued with. ``candidateCount`` above 1 is refused (see below)."""
        count = field(field(body, "generationConfig") or {}, "candidateCount")
        if count not in (None, 1):
            # the simulator's refusal, not Gemini's (which answers that many candidates)
            raise RuleViolation(400, f"the simulator answers one candidate per request; candidateCount must be 1, "
                                     f"not {count}")
        if not profile.reasoning:
            return None
        thinking = field(field(body, "generationConfig") or {}, "thinkingConfig") or {}
        if field(thinking, "thinkingBudget") == 0:
            return None
        contents = body.get("contents") or []
        for index in range(_current_turn_start(contents), len(contents)):
            content = contents[index]
            if content.get("role") != "model":
                continue
            part = next((p for p in content.get("parts") or () if field(p, "functionCall") is not None), None)
            if part is None:
                continue
            call = field(part, "functionCall")
            signature = field(part, "thoughtSignature")
            if signature is None:
                raise RuleViolation(400, MISSING_SIGNATURE.format(name=call.get("name"), position=index + 1))
            sent = _signature_bytes(signature)
            issued = base64.b64decode(signer.sign(signed_text(call.get("name"), call.get("args"))))
            if sent is None or not hmac.compare_digest(sent, issued):
                raise RuleViolation(400, CORRUPTED_SIGNATURE)
        return _asked_reasoning(thinking)

    def call_id(self, rng: random.Random) -> str:
        return f"call_{rng.getrandbits(64):016x}"

    def reply(self, *, reply_id: int, model: str, text: str, tool_calls: tuple[ToolCall, ...],
              refusal: bool, input_tokens: int, output_tokens: int, thought: Thought | None,
              signer: Signer, body: dict[str, Any], stop: Stop = "natural",
              stop_sequence: str | None = None) -> dict[str, Any]:
        response_id = f"sim-{reply_id:010d}"
        if stop == "max_tokens":
            # Gemini sends a call whole or not at all: one cut part way is not made
            tool_calls = tuple(call for call in tool_calls if not call.error)
        if refusal:
            return google_genai.reply_to_wire(response_id=response_id, model=model, text="", finish_reason="SAFETY",
                                              input_tokens=input_tokens)
        broken = next((call for call in tool_calls if call.error), None)
        cut = stop == "max_tokens"
        if broken is not None:
            return google_genai.reply_to_wire(
                response_id=response_id, model=model, text="", finish_reason=google_genai.MALFORMED_FINISH,
                finish_message=f"Malformed function call: {broken.name}({broken.raw_arguments}",
                input_tokens=input_tokens, output_tokens=output_tokens)
        signature = None
        if thought is not None:
            first = tool_calls[0] if tool_calls else None
            signature = signer.sign(signed_text(first.name, first.arguments) if first else text)
        reply = google_genai.reply_to_wire(
            response_id=response_id, model=model, text=text, tool_calls=tool_calls, input_tokens=input_tokens,
            output_tokens=output_tokens, thought_text=thought.text if thought else None,
            thought_tokens=thought.tokens if thought else 0, signature=signature)
        if cut:
            reply["candidates"][0]["finishReason"] = google_genai.TRUNCATED_FINISH
        return reply

    def error(self, status: int, message: str, *, code: str | None = None, param: str | None = None,
              retry_after_s: float | None = None) -> dict[str, Any]:
        if status == 429:
            per_day = code == QUOTA_CODE
            return google_genai.error_to_wire(429, QUOTA_MESSAGE, details=google_genai.quota_details(
                per_day=per_day, retry_delay_s=None if per_day else retry_after_s))
        return google_genai.error_to_wire(status, STATUS_MESSAGES.get(status, message))


def _asked_reasoning(thinking: dict[str, Any]) -> Reasoning:
    """``thinkingLevel`` as an effort, a positive ``thinkingBudget`` as a budget; dynamic thinking
    (no setting, or a budget of -1) as medium effort."""
    level = field(thinking, "thinkingLevel")
    budget = field(thinking, "thinkingBudget")
    if isinstance(level, str):
        return Reasoning(effort=level.lower())
    if isinstance(budget, int) and budget > 0:
        return Reasoning(budget_tokens=budget)
    return Reasoning(effort="medium")

"""Google Gemini (the Gemini Developer API, ``generateContent``) through the official
``google-genai`` SDK, with native function calling.

One client per provider instance, reused for every call, on the SDK's aiohttp transport; its retry
off (``HttpRetryOptions(attempts=1)``, which also stops its aiohttp path re-sending once after a
connection error) so every attempt is seen by the gate. Tools are function declarations only: the
SDK's automatic function calling never runs, since the request does not go through
``models.generate_content`` at all (nor does its automatic continuation, a hidden second call).

The body is REST JSON written by ``providers.wire.google_genai`` — the same code the simulator
reads it with — and is posted through the SDK's request path (key header, base URL and API
version, timeout, transport, ``APIError`` on error statuses); the reply is read as raw JSON by the
same module. This skips the typed walk of ``generate_content`` (pydantic validation of every
content and the response: measured at about 4.5 ms of CPU per call against 0.9 ms for a
26-tool, 13-turn conversation), and it sends the model's content back exactly as it came, thought
signatures included, whatever fields the installed SDK's types know. SDK exceptions are
translated in ``_translate`` only.

With ``stream=True`` the same body goes to ``:streamGenerateContent?alt=sse`` through the SDK's
streamed request path; ``providers.wire.streamed`` joins the chunks into the reply the plain
request returns, and the reply's ``ttft_s`` is the time to the first chunk with text or a call.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from typing import Any

import aiohttp
from google import genai
from google.genai import errors as genai_errors
from google.genai import types as genai_types

from providers.catalog.apis import refuse_unexpressible
from providers.errors import (
    AuthError,
    BadRequest,
    ProviderError,
    QuotaExhausted,
    RateLimited,
    Refusal,
    ServerError,
)
from providers.types import Completion, CompletionRequest, Reasoning
from providers.wire import google_genai
from providers.wire.streamed import GeminiAccumulator
from providers.wire.translate import (
    accumulate,
    checked,
    redact,
    retry_after_s,
    server_error_text,
    status_error,
    stream_failures,
    streamed_reply,
    transport_error,
    unreadable_reply,
)

NAME = "google"
API_VERSION = "v1beta"  # the version the Gemini API documents; the SDK's default moved to v1


def thinking_config(reasoning: Reasoning | None) -> dict[str, Any] | None:
    """``thinkingConfig`` for a reasoning setting: a budget → ``thinkingBudget``, an effort →
    ``thinkingLevel`` (Gemini 3), always with the thought summaries. None leaves the model's default.
    A setting Gemini cannot express is refused (BadRequest) before any call."""
    if reasoning is None:
        return None
    refuse_unexpressible(NAME, "google", reasoning)
    config: dict[str, Any] = {"includeThoughts": True}
    if reasoning.budget_tokens is not None:
        config["thinkingBudget"] = reasoning.budget_tokens
    elif reasoning.effort is not None:
        config["thinkingLevel"] = reasoning.effort.upper()
    return config


def model_path(model: str, *, stream: bool = False) -> str:
    """The request path for a model name, with or without its ``models/`` prefix (streamed: the
    server-sent-events form of ``streamGenerateContent``)."""
    name = model if model.startswith(("models/", "tunedModels/")) else f"models/{model}"
    return f"{name}:streamGenerateContent?alt=sse" if stream else f"{name}:generateContent"


def completion_of(reply: Any, *, latency_s: float = 0.0) -> Completion:
    """A ``generateContent`` reply as a Completion, or the error its finish reason means
    (``google_genai.FINISH_REASONS``): a refusal or a broken call (``MalformedToolCall`` from
    ``checked``) carries the completion, so its billed usage is recorded. Shared with the batch path, so a batched reply reads as an online one."""
    with unreadable_reply(NAME):
        completion = google_genai.completion_from_wire(reply, latency_s=latency_s)
    reason = google_genai.blocked(reply)
    if reason is not None:
        raise Refusal(f"{NAME}: the model refused ({reason})", status=200, completion=completion)
    finish = google_genai.finish_of(reply)
    kind = google_genai.finish_kind(finish)
    if kind == "unreadable":
        raise ServerError(f"{NAME}: the reply ended with finish_reason {finish}", status=200)
    if kind == "request":
        raise BadRequest(f"{NAME}: the request was refused with finish_reason {finish}", status=200)
    if kind == "account":
        raise AuthError(f"{NAME}: the account may not generate (finish_reason {finish})", status=200)
    return checked(NAME, completion)


class GoogleProvider:
    """``await GoogleProvider(api_key=…).complete(request)`` → Completion, or a
    ``providers.errors.ProviderError``. ``base_url`` points the client elsewhere (the simulator)."""

    def __init__(self, *, api_key: str, base_url: str | None = None, timeout_s: float = 60.0,
                 default_headers: dict[str, str] | None = None, stream: bool = False) -> None:
        self._api_key = api_key
        self._timeout_s = timeout_s
        self._stream = stream
        options = genai_types.HttpOptions(
            base_url=base_url, api_version=API_VERSION, timeout=round(timeout_s * 1000), headers=default_headers,
            retry_options=genai_types.HttpRetryOptions(attempts=1))
        # vertexai=False: the Developer API whatever GOOGLE_GENAI_USE_VERTEXAI says
        self._client = genai.Client(api_key=api_key, vertexai=False, http_options=options)
        self._api = self._client.aio._api_client

    @staticmethod
    def _generation_config(request: CompletionRequest) -> dict[str, Any]:
        config: dict[str, Any] = {"maxOutputTokens": request.max_tokens}
        if request.temperature is not None:
            config["temperature"] = request.temperature
        if request.seed is not None:
            config["seed"] = request.seed
        thinking = thinking_config(request.reasoning)
        if thinking is not None:
            config["thinkingConfig"] = thinking
        return config

    @classmethod
    def _body(cls, request: CompletionRequest) -> dict[str, Any]:
        instruction, contents = google_genai.contents_to_wire(request.messages)
        body: dict[str, Any] = {"contents": contents, "generationConfig": cls._generation_config(request)}
        if instruction is not None:
            body["systemInstruction"] = instruction
        if request.tools:
            body["tools"] = google_genai.tools_to_wire(request.tools)
        if request.extra_body:
            body.update(request.extra_body)  # as the SDK merges HttpOptions.extra_body: top-level fields
        return body

    def wire_body(self, request: CompletionRequest) -> dict[str, Any]:
        """The JSON body ``complete`` posts for ``request``: what a batch carries for it (``providers.batch``)."""
        return self._body(request)

    def wire_params(self, request: CompletionRequest) -> dict[str, Any]:
        """The sampling and reasoning parameters this request's body carries (its ``generationConfig``)."""
        return self._generation_config(request)

    async def complete(self, request: CompletionRequest) -> Completion:
        body = self._body(request)
        # per-request options cost a copy of the client's: only when the timeout differs
        options: genai_types.HttpOptionsDict | None = (
            None if request.timeout_s == self._timeout_s else {"timeout": round(request.timeout_s * 1000)})
        if self._stream:
            return await self._complete_streamed(request, body, options)
        started = time.perf_counter()
        try:
            response = await self._api.async_request("post", model_path(request.model), body, options)
        except genai_errors.APIError as exc:
            raise self._translate(exc) from None
        except json.JSONDecodeError:  # an error status whose body claims JSON but is not
            raise ServerError(f"{NAME}: unreadable error reply") from None
        except (aiohttp.ClientError, TimeoutError, ConnectionError) as exc:
            raise transport_error(NAME, exc, sdk_says_timeout=False) from None
        latency_s = time.perf_counter() - started
        with unreadable_reply(NAME):
            reply = json.loads(response.body or "")
        return completion_of(reply, latency_s=latency_s)

    async def _complete_streamed(self, request: CompletionRequest, body: dict[str, Any],
                                 options: genai_types.HttpOptionsDict | None) -> Completion:
        accumulator = GeminiAccumulator()
        started = time.perf_counter()
        with stream_failures(NAME, self._api_key):
            try:
                chunks = await self._api.async_request_streamed("post", model_path(request.model, stream=True), body,
                                                                options)
                ttft_s = await accumulate((json.loads(chunk.body or "{}") async for chunk in chunks), accumulator,
                                          started)
            except genai_errors.APIError as exc:
                raise self._translate(exc) from None
            except json.JSONDecodeError:
                raise ServerError(f"{NAME}: unreadable stream chunk") from None
        latency_s = time.perf_counter() - started
        completion = completion_of(streamed_reply(NAME, accumulator), latency_s=latency_s)
        return replace(completion, ttft_s=ttft_s)

    def _translate(self, exc: genai_errors.APIError) -> ProviderError:
        """The one place an SDK exception becomes a ProviderError."""
        status = exc.code
        message = redact(exc.message if isinstance(exc.message, str) else server_error_text(exc.details),
                         self._api_key)
        details = google_genai.error_details(exc.details)
        text = f"{NAME}: HTTP {status}" + (f" ({exc.status})" if exc.status else "") + f": {message}"
        if status == 429:
            quotas = google_genai.quota_ids(details)
            if any("PerDay" in quota for quota in quotas):  # waiting minutes will not bring the day's quota back
                return QuotaExhausted(f"{text} [{', '.join(quotas)}]", status=status)
            retry_after = google_genai.retry_delay_s(details)
            if retry_after is None and exc.response is not None:
                retry_after = retry_after_s(exc.response.headers)
            return RateLimited(text, status=status, retry_after=retry_after)
        if status == 400 and "API_KEY_INVALID" in google_genai.error_reasons(details):
            return AuthError(text, status=status)  # Gemini answers a bad key with 400, not 401
        retry_after = google_genai.retry_delay_s(details)
        if retry_after is None and exc.response is not None:
            retry_after = retry_after_s(exc.response.headers)
        return status_error(NAME, status, message, code=exc.status, retry_after=retry_after)

    async def aclose(self) -> None:
        await self._client.aio.aclose()
        self._client.close()  # the SDK also opened a sync transport; nothing here used it

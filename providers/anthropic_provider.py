"""Anthropic Messages through the official ``anthropic`` SDK, with native ``tool_use``.

One client per provider instance, reused for every call, on the SDK's aiohttp transport when
installed; SDK retries off so every attempt is seen by the gate. The reply is read as raw JSON
and converted by ``providers.wire.anthropic_messages``, the same code the simulator uses to write
it. SDK exceptions are translated in ``_translate`` only.

Sampling (``temperature``) and reasoning (``thinking``, ``output_config``) go in the request body
as extra body fields, built by ``providers.wire.anthropic_messages``: the SDK (1.0 and later) has
no ``temperature`` argument, and a field the installed SDK does not name must still reach the
API. The Messages API has no sampling seed, so a request's ``seed`` is not sent.

With ``stream=True`` the same body goes out with ``stream: true`` through the SDK's request path
(its ``AsyncStream`` of raw JSON events, no typed event models); ``providers.wire.streamed``
accumulates the events into the message the plain request returns, and the reply's ``ttft_s`` is
the time to the first content delta. An ``error`` event ending the stream is the error its type
means outside a stream (``overloaded_error``: a 529, retried by the gate).
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from typing import Any

import anthropic

from providers.catalog.apis import refuse_unexpressible
from providers.errors import ProviderError, Refusal, ServerError
from providers.types import Completion, CompletionRequest
from providers.wire import anthropic_messages
from providers.wire.streamed import MessagesAccumulator, anthropic_error_status
from providers.wire.translate import (
    accumulate,
    aiohttp_client,
    checked,
    redact,
    retry_after_s,
    server_error_text,
    should_retry,
    status_error,
    stream_failures,
    streamed_reply,
    transport_error,
    unreadable_reply,
)

NAME = "anthropic"
MESSAGES_PATH = "/v1/messages"


class AnthropicProvider:
    """``await AnthropicProvider(api_key=…).complete(request)`` → Completion, or a
    ``providers.errors.ProviderError``. ``max_tokens`` (required by the API) is the request's."""

    def __init__(self, *, api_key: str, base_url: str | None = None, timeout_s: float = 60.0,
                 default_headers: dict[str, str] | None = None, stream: bool = False) -> None:
        self._api_key = api_key
        self._stream = stream
        self._client = anthropic.AsyncAnthropic(api_key=api_key, base_url=base_url, timeout=timeout_s,
                                                max_retries=0, default_headers=default_headers,
                                                http_client=aiohttp_client(anthropic))

    def _arguments(self, request: CompletionRequest) -> dict[str, Any]:
        """The SDK call's arguments; the body fields the SDK may not name go in ``extra_body``
        (the request's own ``extra_body`` last, so it can override any of them)."""
        refuse_unexpressible(NAME, "anthropic", request.reasoning)
        reasoning = anthropic_messages.reasoning_to_wire(request.reasoning)
        system, messages = anthropic_messages.messages_to_wire(request.messages)
        arguments: dict[str, Any] = {
            "model": request.model,
            "messages": messages,
            "max_tokens": request.max_tokens,
            "timeout": request.timeout_s,
        }
        if system:
            arguments["system"] = system
        if request.tools:
            arguments["tools"] = [anthropic_messages.tool_to_wire(tool) for tool in request.tools]
        body = {**anthropic_messages.sampling_to_wire(request.temperature), **reasoning, **(request.extra_body or {})}
        if body:
            arguments["extra_body"] = body
        return arguments

    def wire_body(self, request: CompletionRequest) -> dict[str, Any]:
        """The JSON body ``complete`` posts for ``request`` (the SDK's arguments with the extra body
        merged in, the timeout left out): what a batch carries for it (``providers.batch``)."""
        arguments = self._arguments(request)
        arguments.pop("timeout")
        return {**arguments, **arguments.pop("extra_body", {})}

    def wire_params(self, request: CompletionRequest) -> dict[str, Any]:
        """The sampling and reasoning fields the body for ``request`` carries, as sent."""
        arguments = self._arguments(request)
        body = {"max_tokens": arguments["max_tokens"], **arguments.get("extra_body", {})}
        return {name: body[name] for name in anthropic_messages.PARAMETERS if name in body}

    async def complete(self, request: CompletionRequest) -> Completion:
        if self._stream:
            return await self._complete_streamed(request)
        started = time.perf_counter()
        try:
            raw = await self._client.messages.with_raw_response.create(**self._arguments(request))
        except anthropic.APIError as exc:
            raise self._translate(exc) from None
        latency_s = time.perf_counter() - started
        with unreadable_reply(NAME, status=raw.http_response.status_code):
            body = json.loads(raw.http_response.content)
            completion = anthropic_messages.completion_from_wire(body, latency_s=latency_s)
        return self._finished(body, completion)

    async def _complete_streamed(self, request: CompletionRequest) -> Completion:
        accumulator = MessagesAccumulator()
        started = time.perf_counter()
        with stream_failures(NAME, self._api_key):
            try:
                events = await self._client.post(MESSAGES_PATH, cast_to=object,
                                                 body={**self.wire_body(request), "stream": True},
                                                 options={"timeout": request.timeout_s}, stream=True,
                                                 stream_cls=anthropic.AsyncStream[dict[str, Any]])
                ttft_s = await accumulate(events, accumulator, started)
            except anthropic.APIError as exc:
                raise self._translate(exc) from None
        latency_s = time.perf_counter() - started
        body = streamed_reply(NAME, accumulator)
        with unreadable_reply(NAME):
            completion = anthropic_messages.completion_from_wire(body, latency_s=latency_s)
        return self._finished(body, replace(completion, ttft_s=ttft_s))

    @staticmethod
    def _finished(body: dict[str, Any], completion: Completion) -> Completion:
        """The completion, or the refusal or broken call it is."""
        if completion.refusal:
            reason = anthropic_messages.refusal_reason(body)
            raise Refusal(f"{NAME}: the model refused (stop_reason refusal" + (f"; {reason})" if reason else ")"),
                          completion=completion)
        return checked(NAME, completion)

    def _translate(self, exc: anthropic.APIError) -> ProviderError:
        """The one place an SDK exception becomes a ProviderError."""
        if isinstance(exc, anthropic.APIStatusError):
            # an ``error`` event in a stream comes with the stream's 200: its type says the status
            http_status = exc.status_code if exc.status_code >= 400 else anthropic_error_status(exc.body)
            return status_error(NAME, http_status, redact(server_error_text(exc.body), self._api_key),
                                code=exc.type, retry_after=retry_after_s(exc.response.headers),
                                retry=should_retry(exc.response.headers))
        if isinstance(exc, anthropic.APIConnectionError):
            return transport_error(NAME, exc, sdk_says_timeout=isinstance(exc, anthropic.APITimeoutError))
        status = getattr(exc, "status_code", None)
        return ServerError(f"{NAME}: reply does not match the API schema", status=status)

    async def aclose(self) -> None:
        await self._client.close()

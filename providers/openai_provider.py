"""OpenAI Chat Completions through the official ``openai`` SDK (also any OpenAI-compatible server:
vLLM, Ollama, llama.cpp server, the simulator).

One client per provider instance, reused for every call, on the SDK's aiohttp transport when
installed (less client CPU per call than the default httpx one); SDK retries off so every attempt
is seen by the gate (``OpenAIEndpoint``, shared with the Responses adapter). The reply is read as
raw JSON and converted by ``providers.wire.openai_chat``, the same code the simulator uses to write
it.

The token limit goes out as ``max_completion_tokens`` on OpenAI's own endpoint (its reasoning models
reject ``max_tokens``) and as ``max_tokens`` elsewhere (what most OpenAI-compatible servers read);
``token_param`` overrides either. Sampling parameters are sent only when set; a ``Reasoning``
effort becomes ``reasoning_effort``.

With ``stream=True`` the request says ``stream: true`` (Chat: with ``stream_options.include_usage``,
so the usage arrives) and the events, read through the SDK's ``AsyncStream`` as raw JSON, are
accumulated by ``providers.wire.streamed`` into the body the plain request returns; the reply's
``ttft_s`` is the time to the first event carrying content.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from typing import Any, Literal, get_args

import openai

from providers.catalog.apis import refuse_unexpressible
from providers.errors import ProviderConfigError, ProviderError, ServerError
from providers.types import Completion, CompletionRequest, Reasoning
from providers.wire import openai_chat
from providers.wire.streamed import ChatAccumulator
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

NAME = "openai"
CHAT_PATH = "/chat/completions"
TokenParam = Literal["max_completion_tokens", "max_tokens"]
# the body fields that are sampling and reasoning parameters: what ``wire_params`` reports
WIRE_PARAMS = ("temperature", "seed", "max_tokens", "max_completion_tokens", "reasoning_effort")


def reasoning_effort(reasoning: Reasoning | None, api: str) -> str | None:
    """The effort an OpenAI API is asked for; a token budget cannot be expressed there and is refused."""
    if reasoning is None:
        return None
    refuse_unexpressible(NAME, api, reasoning)
    return reasoning.effort


class OpenAIEndpoint:
    """What both OpenAI APIs share: one client reused for every call, SDK retries off, the SDK's
    request path with a body that is already wire JSON, the reply read as raw JSON by the API's
    wire module, SDK exceptions translated in ``_translate`` only. A subclass names its ``PATH``
    and ``WIRE_PARAMS`` and builds its body."""

    PATH: str
    WIRE_PARAMS: tuple[str, ...]  # the body fields that are sampling and reasoning parameters
    STREAM_FIELDS: dict[str, Any]  # what a streamed request adds to the body
    Accumulator: type[Any]  # reads the API's stream events back into its reply body

    def __init__(self, *, api_key: str, base_url: str | None, timeout_s: float,
                 default_headers: dict[str, str] | None, stream: bool = False) -> None:
        self._api_key = api_key
        self._stream = stream
        self._client = openai.AsyncOpenAI(api_key=api_key, base_url=base_url, timeout=timeout_s, max_retries=0,
                                          default_headers=default_headers, http_client=aiohttp_client(openai))

    def _body(self, request: CompletionRequest) -> dict[str, Any]:
        raise NotImplementedError

    @staticmethod
    def _read(body: dict[str, Any], latency_s: float) -> Completion:
        raise NotImplementedError

    def wire_body(self, request: CompletionRequest) -> dict[str, Any]:
        """The JSON body ``complete`` posts for ``request``: what a batch carries for it (``providers.batch``)."""
        return self._body(request)

    def wire_params(self, request: CompletionRequest) -> dict[str, Any]:
        """The sampling and reasoning parameters the body for ``request`` carries."""
        body = self._body(request)
        return {name: body[name] for name in self.WIRE_PARAMS if name in body}

    async def complete(self, request: CompletionRequest) -> Completion:
        if self._stream:
            return await self._complete_streamed(request)
        started = time.perf_counter()
        try:
            # The SDK's request path (auth, transport, status errors) without ``create``'s walk of
            # the params through their TypedDict annotations: the body is already wire JSON, which
            # that walk returns unchanged at about 1 ms of CPU per call.
            content = await self._client.post(self.PATH, cast_to=bytes, body=self._body(request),
                                              options={"timeout": request.timeout_s})
        except openai.APIError as exc:
            raise self._translate(exc) from None
        latency_s = time.perf_counter() - started
        with unreadable_reply(NAME):
            completion = self._read(json.loads(content), latency_s)
        return checked(NAME, completion)

    async def _complete_streamed(self, request: CompletionRequest) -> Completion:
        accumulator = self.Accumulator()
        started = time.perf_counter()
        with stream_failures(NAME, self._api_key):
            try:
                events = await self._client.post(self.PATH, cast_to=object,
                                                 body={**self._body(request), **self.STREAM_FIELDS},
                                                 options={"timeout": request.timeout_s}, stream=True,
                                                 stream_cls=openai.AsyncStream[dict[str, Any]])
                ttft_s = await accumulate(events, accumulator, started)
            except openai.APIError as exc:
                raise self._translate(exc) from None
        latency_s = time.perf_counter() - started
        body = streamed_reply(NAME, accumulator)
        with unreadable_reply(NAME):
            completion = self._read(body, latency_s)
        return checked(NAME, replace(completion, ttft_s=ttft_s))

    def _translate(self, exc: openai.APIError) -> ProviderError:
        """The one place an SDK exception becomes a ProviderError."""
        return translate_sdk_error(exc, self._api_key)

    async def aclose(self) -> None:
        await self._client.close()


class OpenAIProvider(OpenAIEndpoint):
    """``await OpenAIProvider(api_key=…, base_url=…).complete(request)`` → Completion, or a
    ``providers.errors.ProviderError``."""

    PATH = CHAT_PATH
    WIRE_PARAMS = WIRE_PARAMS
    STREAM_FIELDS = {"stream": True, "stream_options": {"include_usage": True}}
    Accumulator = ChatAccumulator

    def __init__(self, *, api_key: str, base_url: str | None = None, timeout_s: float = 60.0,
                 default_headers: dict[str, str] | None = None, token_param: TokenParam | None = None,
                 stream: bool = False) -> None:
        if token_param is None:
            token_param = "max_completion_tokens" if base_url is None else "max_tokens"
        if token_param not in get_args(TokenParam):
            raise ProviderConfigError(f"{NAME}: token_param must be one of {', '.join(get_args(TokenParam))}, "
                                      f"not {token_param!r}")
        self._token_param = token_param
        super().__init__(api_key=api_key, base_url=base_url, timeout_s=timeout_s, default_headers=default_headers,
                         stream=stream)

    def _body(self, request: CompletionRequest) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": request.model,
            "messages": openai_chat.messages_to_wire(request.messages),
            self._token_param: request.max_tokens,
        }
        if request.tools:
            body["tools"] = [openai_chat.tool_to_wire(tool) for tool in request.tools]
        if request.temperature is not None:
            body["temperature"] = request.temperature
        if request.seed is not None:
            body["seed"] = request.seed
        effort = reasoning_effort(request.reasoning, "openai")
        if effort is not None:
            body["reasoning_effort"] = effort
        if request.extra_body:
            body.update(request.extra_body)  # as the SDK merges extra_body: top-level fields
        return body

    @staticmethod
    def _read(body: dict[str, Any], latency_s: float) -> Completion:
        return openai_chat.completion_from_wire(body, latency_s=latency_s)


def translate_sdk_error(exc: openai.APIError, api_key: str) -> ProviderError:
    """An ``openai`` SDK exception as a ProviderError (both OpenAI APIs raise the same ones)."""
    if isinstance(exc, openai.APIStatusError):
        return status_error(NAME, exc.status_code, redact(server_error_text(exc.body), api_key),
                            code=exc.code, retry_after=retry_after_s(exc.response.headers),
                                retry=should_retry(exc.response.headers))
    if isinstance(exc, openai.APIConnectionError):
        return transport_error(NAME, exc, sdk_says_timeout=isinstance(exc, openai.APITimeoutError))
    status = getattr(exc, "status_code", None)
    return ServerError(f"{NAME}: reply does not match the API schema", status=status)

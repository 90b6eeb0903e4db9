"""OpenAI's Responses API (``POST /v1/responses``) through the official ``openai`` SDK: the API
OpenAI's reasoning models use tools through.

Stateless: every request says ``store: false`` and asks for ``reasoning.encrypted_content``, so
nothing is kept at OpenAI and each reasoning item comes back sealed; the next request sends every
output item of the previous reply back in order (``Completion.replay``), reasoning items included,
as the API requires for a call made after thinking. A ``Reasoning`` effort becomes
``reasoning: {effort, summary: "auto"}``, and the summary is read back as ``Completion.reasoning``.

Like the Chat adapter: one client reused for every call, SDK retries off, the SDK's request path
with a prebuilt body, the reply read as raw JSON by ``providers.wire.openai_responses`` (the code
the simulator writes it with), SDK exceptions translated in ``_translate`` only.
"""

from __future__ import annotations

import json
import time
from typing import Any

import openai

from providers.errors import ProviderError, ServerError
from providers.openai_provider import NAME, reasoning_effort, translate_sdk_error
from providers.types import Completion, CompletionRequest
from providers.wire import openai_responses
from providers.wire.translate import aiohttp_client, checked

RESPONSES_PATH = "/responses"
# the body fields that are sampling and reasoning parameters: what ``wire_params`` reports
WIRE_PARAMS = ("temperature", "max_output_tokens", "reasoning", "store", "include")
STATELESS = {"store": False, "include": ["reasoning.encrypted_content"]}


class OpenAIResponsesProvider:
    """``await OpenAIResponsesProvider(api_key=…, base_url=…).complete(request)`` → Completion, or a
    ``providers.errors.ProviderError``."""

    def __init__(self, *, api_key: str, base_url: str | None = None, timeout_s: float = 60.0,
                 default_headers: dict[str, str] | None = None) -> None:
        self._api_key = api_key
        self._client = openai.AsyncOpenAI(api_key=api_key, base_url=base_url, timeout=timeout_s, max_retries=0,
                                          default_headers=default_headers, http_client=aiohttp_client(openai))

    @staticmethod
    def _body(request: CompletionRequest) -> dict[str, Any]:
        # The API has no ``seed``: a request's seed has nothing to go to here.
        body: dict[str, Any] = {
            "model": request.model,
            "input": openai_responses.input_to_wire(request.messages),
            "max_output_tokens": request.max_tokens,
            **STATELESS,
        }
        if request.tools:
            body["tools"] = [openai_responses.tool_to_wire(tool) for tool in request.tools]
        if request.temperature is not None:
            body["temperature"] = request.temperature
        effort = reasoning_effort(request.reasoning, "the Responses API")
        if effort is not None:
            body["reasoning"] = {"effort": effort, "summary": "auto"}
        if request.extra_body:
            body.update(request.extra_body)  # as the SDK merges extra_body: top-level fields
        return body

    def wire_params(self, request: CompletionRequest) -> dict[str, Any]:
        """The sampling and reasoning parameters the body for ``request`` carries."""
        body = self._body(request)
        return {name: body[name] for name in WIRE_PARAMS if name in body}

    async def complete(self, request: CompletionRequest) -> Completion:
        started = time.perf_counter()
        try:
            # As the Chat adapter does: the SDK's request path with a body that is already wire JSON.
            content = await self._client.post(RESPONSES_PATH, cast_to=bytes, body=self._body(request),
                                              options={"timeout": request.timeout_s})
        except openai.APIError as exc:
            raise self._translate(exc) from None
        latency_s = time.perf_counter() - started
        try:
            completion = openai_responses.completion_from_wire(json.loads(content), latency_s=latency_s)
        except (ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
            raise ServerError(f"{NAME}: unreadable reply ({type(exc).__name__})", status=200) from None
        return checked(NAME, completion)

    def _translate(self, exc: openai.APIError) -> ProviderError:
        """The one place an SDK exception becomes a ProviderError."""
        return translate_sdk_error(exc, self._api_key)

    async def aclose(self) -> None:
        await self._client.close()

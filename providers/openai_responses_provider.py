"""OpenAI's Responses API (``POST /v1/responses``) through the official ``openai`` SDK: the API
OpenAI's reasoning models use tools through.

Stateless: every request says ``store: false`` and asks for ``reasoning.encrypted_content``, so
nothing is kept at OpenAI and each reasoning item comes back sealed; the next request sends every
output item of the previous reply back in order (``Completion.replay``), reasoning items included,
as the API requires for a call made after thinking. A ``Reasoning`` effort becomes
``reasoning: {effort}``; a summary (``reasoning.summary``) is asked for only when
``reasoning_summary`` is set — some organisations get a 400 for it, and a default must never cause
one — and is read back as ``Completion.reasoning``.

The client, the request path and the error translation are the Chat adapter's
(``openai_provider.OpenAIEndpoint``); the reply is read by ``providers.wire.openai_responses``, the
code the simulator writes it with. Streamed (``stream=True``), the events are accumulated first
(``providers.wire.streamed``): the ``response.completed`` event carries the reply whole.
"""

from __future__ import annotations

from typing import Any

from providers.openai_provider import OpenAIEndpoint, reasoning_effort
from providers.types import Completion, CompletionRequest
from providers.wire import openai_responses
from providers.wire.streamed import ResponsesAccumulator

RESPONSES_PATH = "/responses"
# the body fields that are sampling and reasoning parameters: what ``wire_params`` reports
WIRE_PARAMS = ("temperature", "max_output_tokens", "reasoning", "store", "include")
STATELESS = {"store": False, "include": ["reasoning.encrypted_content"]}


class OpenAIResponsesProvider(OpenAIEndpoint):
    """``await OpenAIResponsesProvider(api_key=…, base_url=…).complete(request)`` → Completion, or a
    ``providers.errors.ProviderError``."""

    PATH = RESPONSES_PATH
    WIRE_PARAMS = WIRE_PARAMS
    STREAM_FIELDS = {"stream": True}
    Accumulator = ResponsesAccumulator

    def __init__(self, *, api_key: str, base_url: str | None = None, timeout_s: float = 60.0,
                 default_headers: dict[str, str] | None = None, reasoning_summary: str | None = None,
                 stream: bool = False) -> None:
        self._summary = reasoning_summary
        super().__init__(api_key=api_key, base_url=base_url, timeout_s=timeout_s, default_headers=default_headers,
                         stream=stream)

    def _body(self, request: CompletionRequest) -> dict[str, Any]:
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
        effort = reasoning_effort(request.reasoning, "openai_responses")
        reasoning = {**({"effort": effort} if effort is not None else {}),
                     **({"summary": self._summary} if self._summary is not None else {})}
        if reasoning:
            body["reasoning"] = reasoning
        if request.extra_body:
            body.update(request.extra_body)  # as the SDK merges extra_body: top-level fields
        return body

    @staticmethod
    def _read(body: dict[str, Any], latency_s: float) -> Completion:
        return openai_responses.completion_from_wire(body, latency_s=latency_s)

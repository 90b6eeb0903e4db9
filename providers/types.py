"""The provider-neutral request, reply and attempt record.

Everything a provider adapter, the simulator's wire code, the gate and the orchestrator exchange.
This module is a leaf: it imports nothing else of ``providers``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, get_args, runtime_checkable

Role = Literal["system", "user", "assistant", "tool"]
BreakerState = Literal["closed", "open", "half_open"]
# The ``calls.outcome`` vocabulary: every attempt ends as one of these (``providers.errors`` gives
# each failure its value). ``cached`` is no attempt: a call answered from the response cache (no
# HTTP request, no rate-limit permit). ``expired`` and ``canceled`` end only a batched call: its batch
# expired or was cancelled before the request ran (``providers.batch``).
Outcome = Literal[
    "ok", "http_5xx", "http_429", "timeout", "connection", "refusal", "bad_request", "auth", "malformed", "cached",
    "expired", "canceled",
]
OUTCOMES: tuple[Outcome, ...] = get_args(Outcome)
# A provider's own wire form of one assistant turn (OpenAI Responses output items, Anthropic content
# blocks, one Gemini ``content``): opaque JSON objects the adapter of that format sends back verbatim.
Replay = tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class ToolSpec:
    """A tool offered to the model: name, description and a JSON-schema object for its parameters."""

    name: str
    description: str
    parameters: dict[str, Any]


@dataclass(frozen=True)
class ToolCall:
    """One tool call made by the model.

    ``arguments`` is the parsed JSON object; ``raw_arguments`` the text the model sent. When the
    text did not parse, ``arguments`` is empty and ``error`` says why (fed back to the model).
    """

    id: str
    name: str
    arguments: dict[str, Any] = field(default_factory=dict)
    raw_arguments: str = ""
    error: str | None = None

    @property
    def arguments_json(self) -> str:
        return self.raw_arguments if self.error else json.dumps(self.arguments, sort_keys=True)


@dataclass(frozen=True)
class Message:
    """One conversation turn.

    - ``system`` / ``user``: ``content`` only.
    - ``assistant``: ``content`` (may be empty) and any ``tool_calls``.
    - ``tool``: the result of one call: ``tool_call_id``, ``name`` (the tool) and ``content``;
      ``tool_error`` when the call failed (the content is the error), which APIs that can say so
      are told (Anthropic ``is_error``, Gemini ``{"error": …}``).

    An assistant turn of a reasoning model also carries ``replay``: the turn as its API returned it
    (reasoning items, thinking blocks with their signatures, thought signatures), which that API
    requires back unmodified; the adapter of the same format sends it instead of rebuilding the
    turn from ``content`` and ``tool_calls``. ``reasoning`` is the readable reasoning summary, if
    the API returned one (recorded, never sent).
    """

    role: Role
    content: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None
    name: str | None = None
    replay: Replay = ()
    reasoning: str = ""
    tool_error: bool = False


@dataclass(frozen=True)
class Reasoning:
    """How hard a reasoning model thinks, provider-neutral; each adapter translates it.

    ``effort``: a level (``none``, ``minimal``, ``low``, ``medium``, ``high``, ``xhigh``, ``max``;
    not every API takes every level). ``budget_tokens``: a token budget for thinking. At least one
    is set; an adapter refuses a request whose setting its API cannot express.
    """

    effort: str | None = None
    budget_tokens: int | None = None


@dataclass(frozen=True)
class CompletionRequest:
    """One model call. ``extra_body`` is merged into the JSON body (the simulator reads ``script``)."""

    model: str
    messages: tuple[Message, ...]
    tools: tuple[ToolSpec, ...] = ()
    temperature: float | None = None
    seed: int | None = None
    max_tokens: int = 1024
    timeout_s: float = 60.0
    extra_body: dict[str, Any] | None = None
    reasoning: Reasoning | None = None


@dataclass(frozen=True)
class Completion:
    """A model's reply to one request.

    Tokens: ``input_tokens`` counts the whole prompt, ``cached_input_tokens`` the part of it served
    from the provider's prompt cache; ``output_tokens`` counts everything generated, visible or
    not, ``reasoning_tokens`` the part of it spent thinking (billed as output). ``truncated``: the
    reply was cut by a token limit (or the context window), so its text is not a finished answer.
    ``served_model``: the model the reply says served it (OpenAI and Anthropic ``model``, Gemini
    ``modelVersion``), None when it does not say. ``ttft_s``: for a streamed reply, the seconds from
    sending the request to the first event that carries content (``providers.wire.streamed``
    says which events count); None when the reply was not streamed.
    """

    text: str
    tool_calls: tuple[ToolCall, ...] = ()
    finish_reason: str = "stop"
    refusal: bool = False
    input_tokens: int = 0
    output_tokens: int = 0
    latency_s: float = 0.0
    reasoning_tokens: int = 0
    cached_input_tokens: int = 0
    truncated: bool = False
    replay: Replay = ()
    reasoning: str = ""
    served_model: str | None = None
    ttft_s: float | None = None

    def as_message(self) -> Message:
        return Message(role="assistant", content=self.text, tool_calls=self.tool_calls, replay=self.replay,
                       reasoning=self.reasoning)


@dataclass(frozen=True)
class AttemptRecord:
    """One HTTP attempt as the gate saw it: the provider half of a ``calls`` row.

    The orchestrator adds ``run``, ``episode_id`` and ``step``.
    """

    provider: str
    model_id: str
    attempt: int  # 1-based within one logical call
    outcome: Outcome
    http_status: int | None
    retry_after_s: float | None
    latency_s: float
    breaker_state: BreakerState
    input_tokens: int
    output_tokens: int
    started_at: float  # unix seconds
    error_message: str | None = None
    reasoning_tokens: int = 0  # part of output_tokens
    cached_input_tokens: int = 0  # part of input_tokens
    served_model: str | None = None  # the model the reply says served it
    batch_id: str | None = None  # the batch that carried this attempt (``providers.batch``); None online
    ttft_s: float | None = None  # time to first token of a streamed reply; None when not streamed


# Below this many seconds of generation (after the first token) a rate is not measured but noise.
MIN_GENERATION_S = 1e-3


def output_tokens_per_s(output_tokens: int, latency_s: float, ttft_s: float | None) -> float | None:
    """Output tokens per second of the generation phase: ``output_tokens / (latency_s − ttft_s)``,
    the tokens over the time from the first token to the end of the stream. None when the reply
    was not streamed, or when that time is under ``MIN_GENERATION_S`` (a stream whose content came
    in one event has no generation phase to measure)."""
    if ttft_s is None:
        return None
    generation_s = latency_s - ttft_s
    if generation_s < MIN_GENERATION_S:
        return None
    return output_tokens / generation_s


@runtime_checkable
class Provider(Protocol):
    """One endpoint of one provider. ``complete`` makes exactly one HTTP attempt (SDK retries off)
    and raises a ``providers.errors.ProviderError`` on failure."""

    async def complete(self, request: CompletionRequest) -> Completion: ...

    def wire_params(self, request: CompletionRequest) -> dict[str, Any]:
        """The sampling and reasoning parameters the body of ``request`` carries, as sent (built by
        the code that builds the body), for the record of what reached the API."""
        ...

    async def aclose(self) -> None: ...

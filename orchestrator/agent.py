"""The agent loop: one episode of one model on one example.

Fresh environment → instruction + question → model call through the provider gate → execute the
tool calls → feed results back → until the model answers without a tool call or ``max_steps``
model turns pass → score. Provider trouble ends the episode with a status; it never raises.

A reply that pauses (Anthropic ``pause_turn``) is sent back as it is, without a new user turn, and
counts as a model turn. An answer cut by a token limit (``Completion.truncated``) ends the episode
as ``completed`` with ``truncated`` set and is never scored correct: the model did not finish it.
A truncated reply that carries tool calls goes on like any other (a call cut mid-arguments is
malformed and fed back as such).
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from orchestrator.plan import EpisodeSpec
from orchestrator.records import (
    SCORED_STATUSES,
    CallRow,
    EpisodeRow,
    EpisodeStatus,
    ToolCallRow,
    TranscriptRow,
)
from orchestrator.transcripts import transcript_row
from providers.errors import MalformedToolCall, ProviderError, Refusal
from providers.types import (
    AttemptRecord,
    Completion,
    CompletionRequest,
    Message,
    Reasoning,
    ToolCall,
    ToolSpec,
    output_tokens_per_s,
)
from tasks.environment import EpisodeEnvironment, ToolCallKind
from tasks.scoring import Score

PAUSE_TURN = "pause_turn"  # a Completion's finish_reason: send the conversation again as it is

# ---------------------------------------------------------------- the seam, as Protocols
# What an episode needs of a task and of a model call, and no more: ``tasks.Task`` fits the task
# protocols below (its environments are ``tasks.EpisodeEnvironment``, the one seam of every tool
# runtime, in-process or MCP), the provider gate's ``complete`` (bound to a provider) ``Complete``.


class ExpectedStep(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def arguments(self) -> Mapping[str, Any]: ...


class EpisodeExample(Protocol):
    """One question with what a correct episode looks like."""

    @property
    def id(self) -> str: ...
    @property
    def question(self) -> str: ...
    @property
    def reference(self) -> str: ...
    @property
    def expected_steps(self) -> Sequence[ExpectedStep]: ...
    @property
    def difficulty(self) -> int: ...


ExampleT = TypeVar("ExampleT", bound=EpisodeExample)
ExampleIn = TypeVar("ExampleIn", bound=EpisodeExample, contravariant=True)
EnvironmentT = TypeVar("EnvironmentT", bound=EpisodeEnvironment)


class EpisodeTask(Protocol[ExampleIn, EnvironmentT]):
    """A task as an episode uses it: instructions, a fresh environment per episode, and the scorer
    of its own examples in its own environments."""

    @property
    def name(self) -> str: ...
    @property
    def instructions(self) -> str: ...
    def session(self, example: ExampleIn) -> AbstractAsyncContextManager[EnvironmentT]: ...
    def score(self, example: ExampleIn, answer: str | None, environment: EnvironmentT) -> Score: ...


class Complete(Protocol):
    """One logical model call through the endpoint's gate, every HTTP attempt reported."""

    def __call__(self, request: CompletionRequest, *, model_id: str,
                 on_attempt: Callable[[AttemptRecord], None]) -> Awaitable[Completion]: ...


@dataclass(frozen=True)
class ModelCall:
    """How this episode calls its model: the gate, the provider, and the request defaults."""

    model_id: str
    provider_name: str
    model: str  # the provider's model string, as recorded
    request_model: str  # what the request names (orchestrator.endpoints.request_model)
    complete: Complete  # the gate's complete, bound to this model's provider
    temperature: float | None = None
    max_tokens: int = 1024
    timeout_s: float = 60.0
    send_script: bool = False  # simulated models read the example's script from the request
    price_in_per_mtok: float | None = None
    price_out_per_mtok: float | None = None
    price_cached_in_per_mtok: float | None = None  # None: cached input bills as input
    reasoning: Reasoning | None = None
    reasoning_label: str | None = None  # the variant's effort or budget, as recorded
    # the provider's ``wire_params``: what a request's body carries (None: not recorded)
    wire_params: Callable[[CompletionRequest], dict[str, Any]] | None = None


@dataclass
class EpisodeResult:
    episode: EpisodeRow
    calls: list[CallRow] = field(default_factory=list)
    transcript: TranscriptRow | None = None  # None: the episode never started (the runner writes an empty one)


def example_script(example: EpisodeExample) -> dict[str, Any]:
    """The simulator's script for an example: its expected calls and its reference answer."""
    return {
        "steps": [{"name": s.name, "arguments": dict(s.arguments)} for s in example.expected_steps],
        "answer": str(example.reference),
    }


def call_row(run: str, episode_id: str, step: int, record: AttemptRecord) -> CallRow:
    """The ``calls`` row of one HTTP attempt."""
    return CallRow(
        run=run, episode_id=episode_id, provider=record.provider, model_id=record.model_id,
        step=step, attempt=record.attempt, outcome=record.outcome, http_status=record.http_status,
        retry_after_s=record.retry_after_s, latency_s=record.latency_s,
        breaker_state=record.breaker_state, input_tokens=record.input_tokens,
        output_tokens=record.output_tokens, started_at=record.started_at,
        error_message=record.error_message, reasoning_tokens=record.reasoning_tokens,
        cached_input_tokens=record.cached_input_tokens, served_model=record.served_model,
        batch_id=record.batch_id, ttft_s=record.ttft_s,
        output_tokens_per_s=output_tokens_per_s(record.output_tokens, record.latency_s, record.ttft_s),
    )


def tool_specs(environment: EpisodeEnvironment) -> tuple[ToolSpec, ...]:
    return tuple(ToolSpec(t.name, t.description, dict(t.parameters)) for t in environment.tools)


@dataclass
class _Progress:
    """What an episode has gathered so far: each step of ``run_episode`` adds to it."""

    messages: list[Message]
    calls: list[CallRow] = field(default_factory=list)
    tool_rows: list[ToolCallRow] = field(default_factory=list)
    step: int = 0  # the model turn under way: the ``step`` of its calls rows
    status: EpisodeStatus = "max_steps"
    answer: str | None = None
    truncated: bool = False
    error: Exception | None = None
    request_params: str | None = None  # JSON of the first request's parameters


async def run_episode(*, run: str, episode_id: str, spec: EpisodeSpec, task: EpisodeTask[ExampleT, EnvironmentT],
                      example: ExampleT, model: ModelCall, max_steps: int,
                      node_id: str | None = None) -> EpisodeResult:
    """Run one episode to its end and return its row and the rows of every HTTP attempt."""
    started_at = time.time()
    t0 = time.perf_counter()
    progress = _Progress([Message("system", task.instructions), Message("user", example.question)])

    def on_attempt(record: AttemptRecord) -> None:
        progress.calls.append(call_row(run, episode_id, progress.step, record))

    # the episode's environment: in-process tools, or a session with an MCP server (orchestrator.mcp_tools)
    environment: EnvironmentT | None = None
    session = contextlib.AsyncExitStack()
    try:
        environment = await session.enter_async_context(task.session(example))
        await _converse(progress, environment, spec=spec, example=example, model=model, max_steps=max_steps,
                        on_attempt=on_attempt)
        await environment.settle()  # the final state, read before the environment closes
    except Refusal as exc:
        progress.status, progress.error = "refused", exc
    except ProviderError as exc:
        progress.status, progress.error = "provider_failed", exc
    except Exception as exc:  # one broken episode (or its MCP server) must never stop the sweep
        progress.status, progress.error = "agent_error", exc
    finally:
        await session.aclose()

    queued_s = environment.queued_s if environment is not None else 0.0
    # a scored episode got as far as an answer, so its environment was opened
    score = (task.score(example, progress.answer or "", environment)
             if progress.status in SCORED_STATUSES and environment is not None else None)
    row = _episode_row(run=run, episode_id=episode_id, spec=spec, task=task, example=example, model=model,
                       progress=progress, score=score, n_steps=len(environment.calls) if environment is not None else 0,
                       started_at=started_at, queued_s=queued_s, duration_s=time.perf_counter() - t0 - queued_s,
                       node_id=node_id)
    return EpisodeResult(row, progress.calls, transcript_row(run, episode_id, model.model_id, progress.messages))


async def _converse(progress: _Progress, environment: EpisodeEnvironment, *, spec: EpisodeSpec,
                    example: EpisodeExample, model: ModelCall, max_steps: int,
                    on_attempt: Callable[[AttemptRecord], None]) -> None:
    """Model turns until one answers without a tool call (``completed``) or ``max_steps`` turns
    pass; each turn's tool calls run in the environment and their results are fed back."""
    tools = tool_specs(environment)
    # the simulator seeds its policies from the request; the Anthropic format has no seed field
    extra_body = {"script": example_script(example), "seed": spec.seed} if model.send_script else None
    for step in range(max_steps):
        progress.step = step
        request = CompletionRequest(
            model=model.request_model, messages=tuple(progress.messages), tools=tools,
            temperature=model.temperature, seed=spec.seed, max_tokens=model.max_tokens,
            timeout_s=model.timeout_s, extra_body=extra_body, reasoning=model.reasoning,
        )
        if step == 0 and model.wire_params is not None:
            progress.request_params = json.dumps(model.wire_params(request), sort_keys=True)
        completion = await _complete(model, request, on_attempt)
        progress.messages.append(completion.as_message())
        if not completion.tool_calls:
            if completion.finish_reason == PAUSE_TURN:
                continue
            progress.status, progress.answer, progress.truncated = "completed", completion.text, completion.truncated
            return
        await _run_tool_calls(progress, environment, completion.tool_calls)


async def _complete(model: ModelCall, request: CompletionRequest,
                    on_attempt: Callable[[AttemptRecord], None]) -> Completion:
    """The model's reply; one whose tool call did not parse is still a reply, its broken call fed
    back as a tool error."""
    try:
        return await model.complete(request, model_id=model.model_id, on_attempt=on_attempt)
    except MalformedToolCall as exc:
        if exc.completion is None:
            raise
        return exc.completion


async def _run_tool_calls(progress: _Progress, environment: EpisodeEnvironment, calls: Sequence[ToolCall]) -> None:
    for call in calls:
        content, call_error, kind = await _execute(environment, call)
        progress.tool_rows.append(ToolCallRow(call.name, call.arguments_json,
                                              None if call_error else content, call_error, kind))
        progress.messages.append(Message("tool", content, tool_call_id=call.id, name=call.name,
                                         tool_error=call_error is not None))


def _episode_row(*, run: str, episode_id: str, spec: EpisodeSpec, task: EpisodeTask[ExampleT, EnvironmentT],
                 example: ExampleT, model: ModelCall, progress: _Progress, score: Score | None, n_steps: int,
                 started_at: float, queued_s: float, duration_s: float, node_id: str | None) -> EpisodeRow:
    calls, error = progress.calls, progress.error
    cause = getattr(error, "cause", None)
    input_tokens = sum(c.input_tokens for c in calls)
    output_tokens = sum(c.output_tokens for c in calls)
    cached_input_tokens = sum(c.cached_input_tokens for c in calls)
    return EpisodeRow(
        run=run, episode_id=episode_id, model_id=model.model_id, provider=model.provider_name,
        model=model.model, task=task.name, example_id=example.id, seed=spec.seed, strategy=spec.strategy,
        status=progress.status, answer=progress.answer,
        correct=(score.correct and not progress.truncated) if score else None, judge_correct=None,
        state_correct=score.state_correct if score else None,
        steps_match=score.steps_match if score else None,
        step_ratio=score.step_ratio if score else None,
        n_steps=n_steps, expected_steps=len(example.expected_steps),
        tool_calls=progress.tool_rows, n_attempts=sum(c.outcome != "cached" for c in calls),
        n_retries=sum(1 for c in calls if c.attempt > 1),
        input_tokens=input_tokens, output_tokens=output_tokens,
        cost_usd=_cost(model, input_tokens, output_tokens, cached_input_tokens), started_at=started_at,
        duration_s=duration_s,
        error_class=type(cause or error).__name__ if error else None,
        error_message=_error_text(error), node_id=node_id, difficulty=example.difficulty,
        reasoning_tokens=sum(c.reasoning_tokens for c in calls), cached_input_tokens=cached_input_tokens,
        request_params=progress.request_params, truncated=progress.truncated, reasoning=model.reasoning_label,
        dataset=getattr(task, "dataset", None), scoring=getattr(task, "scoring", None),
        cached_calls=sum(c.outcome == "cached" for c in calls),
        served_model=next((c.served_model for c in reversed(calls) if c.served_model), None),
        queued_s=queued_s,
    )


async def _execute(environment: EpisodeEnvironment, call: ToolCall) -> tuple[str, str | None, ToolCallKind]:
    """Run one tool call: what the model reads, the error if it failed, and what it came to; a
    malformed call becomes a tool error the model can read (kind ``unparseable``).

    The environment still sees a malformed call (with its unparsed text, which it rejects), so it
    counts as a step taken, as it would for any other bad call.
    """
    if call.error:
        await environment.call(call.name, call.raw_arguments)
        message = f"Error: the arguments of {call.name!r} are not valid JSON ({call.error}); call it again."
        return message, message, "unparseable"
    result = await environment.call(call.name, call.arguments)
    return result.content, result.error, result.kind


def _cost(model: ModelCall, input_tokens: int, output_tokens: int, cached_input_tokens: int = 0) -> float | None:
    """US dollars: output (reasoning tokens included) at the output price, input at the input
    price except the part served from the prompt cache, at the cached price when one is set."""
    if model.price_in_per_mtok is None and model.price_out_per_mtok is None:
        return None
    price_in = model.price_in_per_mtok or 0.0
    price_cached = price_in if model.price_cached_in_per_mtok is None else model.price_cached_in_per_mtok
    return (price_in * (input_tokens - cached_input_tokens) + price_cached * cached_input_tokens
            + (model.price_out_per_mtok or 0.0) * output_tokens) / 1e6


def _error_text(error: BaseException | None) -> str | None:
    if error is None:
        return None
    cause = getattr(error, "cause", None)
    text = str(error) if cause is None else f"{error} (last error: {cause})"
    return text[:500]

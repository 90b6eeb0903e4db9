"""The provider gate: every call to one provider endpoint goes through it.

Per attempt, in this order::

    breaker (wait, bounded by breaker.max_wait_s) → concurrency slot → rate limiter → call → record

and around the attempts, the retry policy (:mod:`providers.gate.retry`). A call let in by the
breaker that is still queued for a slot or a permit when the breaker changes state asks it again
before calling, so the calls queued when the breaker opens never reach the endpoint. Every attempt that
reaches the provider produces exactly one :class:`AttemptRecord` through ``on_attempt`` — the
``calls`` rows, so the reliability report sees each HTTP attempt, retried or not. A non-retryable
error (refusal, malformed tool call, bad request, auth, quota) is raised right after its record;
a spent retry budget or a breaker that stays open ends as ``ProviderUnavailable`` whose ``cause``
is the last provider error.

**Sharing one budget across runners.** A sweep's runners are separate processes (often separate
machines). Each gets its own gate built from ``GateConfig.share(n, i)``: 1/n of rpm, tpm and
max_in_flight (when ``max_in_flight`` is below n, only that many runners serve the endpoint, one
call each). The shares sum to the configured budget, so compliance is provable locally — each
gate keeps to its share at every instant, hence together they keep to the whole — and no call
pays a round trip to a central limiter (a Ray actor call is ~0.6 ms and a single point of
failure, against microseconds for a local bucket). The price: a share an idle runner does not use
is lost to the others, so a sweep whose runners finish unevenly runs below the budget near its
end; breaker and adaptive concurrency are likewise per runner, each learning the endpoint's health
from its own calls.

``on_event(kind, **fields)`` reports state changes: ``("breaker", from_state=, to_state=, at=)``
and ``("concurrency", value=, at=)``, ``at`` in unix seconds. ``counters`` is a snapshot for live
progress. The clock and the sleep are injectable (tests); the rate limiter runs on the event
loop's clock (see :mod:`providers.gate.limiter`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from providers.errors import OutcomeError, ProviderError, ProviderUnavailable, Timeout
from providers.gate.breaker import BreakerOpenError, CircuitBreaker
from providers.gate.concurrency import AdaptiveConcurrency
from providers.gate.config import GateConfig
from providers.gate.limiter import RateLimiter, estimate_tokens, permits_per_window
from providers.gate.retry import RetryPolicy
from providers.types import AttemptRecord, BreakerState, Completion, CompletionRequest, Provider

ERROR_MESSAGE_CHARS = 500
# Adapters enforce request.timeout_s through their SDK; this margin later the gate cancels the call
# itself, so an adapter that ignores the timeout still cannot hang a worker.
BACKSTOP_GRACE_S = 5.0
# Where adaptive concurrency starts when nothing says how much the endpoint takes (no rpm).
ADAPTIVE_INITIAL_LIMIT = 4

EventSink = Callable[..., None]


class _StalePermit(Exception):
    """A call let in by the breaker is still queued when the breaker changes state (say, opens)."""


@dataclass
class _Call:
    """One logical call across its attempts."""

    provider: Provider
    request: CompletionRequest
    model_id: str
    on_attempt: Callable[[AttemptRecord], None]
    tokens: int  # charged to the tokens/min limit per attempt
    attempts: int = 0
    last_error: ProviderError | None = None


@dataclass(frozen=True)
class GateCounters:
    """A snapshot of one gate for live progress."""

    attempts: dict[str, int]  # by outcome
    calls: int  # logical calls started
    unavailable: int  # logical calls that ended as ProviderUnavailable
    in_flight: int
    waiting: int  # callers queued for a concurrency slot
    limit: int  # current concurrency limit
    breaker_state: BreakerState
    breaker_opens: int


def adaptive_initial_limit(config: GateConfig) -> int:
    """Where adaptive concurrency starts. With ``rpm`` configured, at what the rate limiter lets
    through in its first 1 s window (capped by ``adaptive_max``): the user has stated what the
    endpoint takes, and opening from 4 slots, doubling once per round trip, would spend the first
    second or so of every sweep below it. 429s still halve it from there. Without ``rpm``, nothing
    is known, and it opens from :data:`ADAPTIVE_INITIAL_LIMIT`."""
    if config.rpm:
        return min(config.adaptive_max, max(ADAPTIVE_INITIAL_LIMIT, permits_per_window(config.rpm)))
    return min(ADAPTIVE_INITIAL_LIMIT, config.adaptive_max)


class ProviderGate:
    """One endpoint's gate; ``await gate.complete(provider, request, model_id=…, on_attempt=…)``."""

    def __init__(
        self,
        name: str,
        config: GateConfig,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        on_event: EventSink | None = None,
    ) -> None:
        self.name = name
        self.config = config
        self._clock = clock
        self._unix_offset = time.time() - clock()  # the gate's clock read as unix seconds
        self._on_event = on_event
        self.limiter = RateLimiter(config.rpm, config.tpm)
        self.breaker = CircuitBreaker(config.breaker, clock=clock, sleep=sleep, on_change=self._breaker_changed)
        if config.max_in_flight is not None:
            self.concurrency = AdaptiveConcurrency.pinned(config.max_in_flight, clock=clock)
        else:
            self.concurrency = AdaptiveConcurrency(
                initial=adaptive_initial_limit(config), max_limit=config.adaptive_max,
                clock=clock, on_change=self._concurrency_changed)
        self.retry = RetryPolicy.from_config(config, clock=clock, sleep=sleep)
        self._attempts: Counter[str] = Counter()
        self._calls = 0
        self._unavailable = 0

    @property
    def counters(self) -> GateCounters:
        return GateCounters(
            attempts=dict(self._attempts), calls=self._calls, unavailable=self._unavailable,
            in_flight=self.concurrency.in_flight, waiting=self.concurrency.waiting,
            limit=self.concurrency.limit, breaker_state=self.breaker.state,
            breaker_opens=self.breaker.opens)

    async def complete(
        self,
        provider: Provider,
        request: CompletionRequest,
        *,
        model_id: str,
        on_attempt: Callable[[AttemptRecord], None],
    ) -> Completion:
        """One logical call: attempts through breaker, slot and limiter, retried per the policy."""
        if request.timeout_s > self.config.timeout_s:
            request = dataclasses.replace(request, timeout_s=self.config.timeout_s)
        call = _Call(provider, request, model_id, on_attempt,
                     tokens=estimate_tokens(request) if self.config.tpm else 0)
        self._calls += 1
        try:
            return await self.retry.call(lambda: self._attempt(call), label=self.name)
        except BreakerOpenError as closed_out:
            self._unavailable += 1
            detail = f"; last error: {call.last_error}" if call.last_error else ""
            raise ProviderUnavailable(
                f"{self.name}: circuit breaker {self.breaker.state.replace('_', '-')}, not let through within "
                f"{self.config.breaker.max_wait_s:g}s{detail}", cause=call.last_error) from closed_out
        except ProviderUnavailable:
            self._unavailable += 1
            raise

    async def _attempt(self, call: _Call) -> Completion:
        deadline = self._clock() + self.config.breaker.max_wait_s
        while True:
            try:
                return await self._admitted_attempt(call, deadline - self._clock())
            except _StalePermit:
                continue  # the breaker changed state while this call queued: ask it again

    async def _admitted_attempt(self, call: _Call, max_wait_s: float) -> Completion:
        async with self.breaker.admit(max_wait_s) as permit, self.concurrency.slot():
            await self.limiter.acquire(call.tokens)
            if not self.breaker.is_current(permit):
                raise _StalePermit
            call.attempts += 1
            started_at = time.time()
            started = self._clock()
            try:
                completion = await self._call(call.provider, call.request)
            except ProviderError as error:
                call.last_error = error
                call.on_attempt(self._record(call, permit.state, started_at, self._clock() - started, error=error))
                raise
            call.on_attempt(self._record(call, permit.state, started_at, self._clock() - started,
                                         completion=completion))
            return completion

    async def _call(self, provider: Provider, request: CompletionRequest) -> Completion:
        try:
            async with asyncio.timeout(request.timeout_s + BACKSTOP_GRACE_S):
                return await provider.complete(request)
        except TimeoutError as expired:
            raise Timeout(f"no reply within {request.timeout_s:g}s (cancelled by the gate)") from expired

    def _record(self, call: _Call, breaker_state: BreakerState, started_at: float, latency_s: float, *,
                completion: Completion | None = None, error: ProviderError | None = None) -> AttemptRecord:
        if isinstance(error, OutcomeError):
            completion = error.completion  # a refusal or a broken call is a reply: its tokens were billed
        outcome = error.outcome if error is not None else "ok"
        self._attempts[outcome] += 1
        return AttemptRecord(
            provider=self.name,
            model_id=call.model_id,
            attempt=call.attempts,
            outcome=outcome,
            http_status=error.status if error is not None else 200,
            retry_after_s=error.retry_after if error is not None else None,
            latency_s=latency_s,
            breaker_state=breaker_state,
            input_tokens=completion.input_tokens if completion else 0,
            output_tokens=completion.output_tokens if completion else 0,
            started_at=started_at,
            error_message=str(error)[:ERROR_MESSAGE_CHARS] if error is not None else None,
            reasoning_tokens=completion.reasoning_tokens if completion else 0,
            cached_input_tokens=completion.cached_input_tokens if completion else 0,
            served_model=completion.served_model if completion else None,
            ttft_s=completion.ttft_s if completion else None,
        )

    def _emit(self, kind: str, **fields: Any) -> None:
        if self._on_event is not None:
            self._on_event(kind, **fields)

    def _breaker_changed(self, from_state: BreakerState, to_state: BreakerState, at: float) -> None:
        self._emit("breaker", from_state=from_state, to_state=to_state, at=at + self._unix_offset)

    def _concurrency_changed(self, limit: int, at: float) -> None:
        self._emit("concurrency", value=limit, at=at + self._unix_offset)

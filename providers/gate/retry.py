"""The retry policy, composed from tenacity's strategies.

- **retry** only a retryable error (``ProviderError.retryable``: 429, 5xx, timeout, connection,
  unless the server said ``x-should-retry: false``; any error it said ``true`` of); everything
  else is raised at once.
- **stop** at the first of: ``max_attempts`` attempts; the time budget ``max_total_s`` (counted on
  the injected clock, and checked *before* sleeping, so no wait runs past the budget — tenacity's
  ``stop_before_delay``, which reads ``time.monotonic`` itself); ``max_identical_failures``
  identical failures in a row (same class, status and message), because a deterministic 500
  answers the same however often it is asked. 429s are exempt from that cap: an identical
  "slow down" is what a busy endpoint says every time, and is bounded by the other two.
- **wait** the server's ``Retry-After`` when a 429 or a 503/529 gives one, exactly; otherwise exponential
  backoff with full jitter (tenacity's ``wait_random_exponential``): uniform in
  ``[0, min(backoff_max_s, backoff_base_s · 2^(n-1))]`` — full jitter spreads callers that failed
  together so they do not retry together.

When a stop fires, :meth:`RetryPolicy.call` raises ``ProviderUnavailable`` whose ``cause`` is the
last error. The sleep and the clock are injectable, so tests neither wait nor race the wall clock.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from tenacity import AsyncRetrying, RetryCallState, RetryError, retry_if_exception
from tenacity.stop import stop_after_attempt, stop_base
from tenacity.wait import wait_base, wait_random_exponential

from providers.errors import ProviderError, ProviderUnavailable, RateLimited
from providers.gate.config import GateConfig

T = TypeVar("T")


def failure_signature(error: BaseException) -> tuple[str, int | None, str]:
    """What makes two failures "identical": class, HTTP status and message."""
    return type(error).__name__, getattr(error, "status", None), str(error)


def _last_error(retry_state: RetryCallState) -> BaseException:
    assert retry_state.outcome is not None and retry_state.outcome.failed
    error = retry_state.outcome.exception()
    assert error is not None
    return error


class stop_after_identical_failures(stop_base):  # noqa: N801 - tenacity's naming
    """Stop after ``limit`` identical non-429 failures in a row. Holds state: one per logical call."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.run = 0
        self._last: tuple[str, int | None, str] | None = None

    def __call__(self, retry_state: RetryCallState) -> bool:
        error = _last_error(retry_state)
        if isinstance(error, RateLimited):
            self.run, self._last = 0, None
            return False
        signature = failure_signature(error)
        self.run = self.run + 1 if signature == self._last else 1
        self._last = signature
        return self.run >= self.limit


class stop_before_budget(stop_base):  # noqa: N801 - tenacity's naming
    """Stop when the coming wait would end ``max_s`` or more after the start, on ``clock``."""

    def __init__(self, max_s: float, clock: Callable[[], float]) -> None:
        self.max_s = max_s
        self.clock = clock
        self.started = clock()

    def elapsed(self) -> float:
        return self.clock() - self.started

    def __call__(self, retry_state: RetryCallState) -> bool:
        return self.elapsed() + retry_state.upcoming_sleep >= self.max_s


def is_retryable(error: BaseException) -> bool:
    """Whether the gate asks again after ``error`` (the error's own verdict, which the server's
    ``x-should-retry`` may have overridden)."""
    return isinstance(error, ProviderError) and error.retryable


class wait_retry_after_or(wait_base):  # noqa: N801 - tenacity's naming
    """The server's ``Retry-After`` when the error has one (429, 503, 529), else the ``fallback`` wait."""

    def __init__(self, fallback: wait_base) -> None:
        self.fallback = fallback

    def __call__(self, retry_state: RetryCallState) -> float:
        error = _last_error(retry_state)
        retry_after = error.retry_after if isinstance(error, ProviderError) else None
        if retry_after is not None:
            return max(0.0, retry_after)
        return self.fallback(retry_state)


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6
    max_total_s: float = 300.0
    max_identical_failures: int = 3
    backoff_base_s: float = 0.5
    backoff_max_s: float = 30.0
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep

    @classmethod
    def from_config(cls, config: GateConfig, *, clock: Callable[[], float] = time.monotonic,
                    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> RetryPolicy:
        return cls(max_attempts=config.max_attempts, max_total_s=config.max_total_s,
                   max_identical_failures=config.max_identical_failures,
                   backoff_base_s=config.backoff_base_s, backoff_max_s=config.backoff_max_s,
                   clock=clock, sleep=sleep)

    async def call(self, attempt: Callable[[], Awaitable[T]], *, label: str) -> T:
        """Run ``attempt`` until it returns, raises a non-retryable error, or a stop fires
        (then ``ProviderUnavailable`` naming ``label``, the reason and the last error)."""
        identical = stop_after_identical_failures(self.max_identical_failures)
        budget = stop_before_budget(self.max_total_s, self.clock)
        # Most calls succeed at once: make the first attempt before paying for tenacity's set-up
        # (about two thirds of the gate's CPU per call); a retryable failure is handed to tenacity
        # as its first attempt, so stops and waits count exactly as if it had made it.
        try:
            return await attempt()
        except ProviderError as error:
            if not error.retryable:
                raise
            first_failure: ProviderError | None = error
        retrying = AsyncRetrying(
            retry=retry_if_exception(is_retryable),
            stop=stop_after_attempt(self.max_attempts) | budget | identical,
            wait=wait_retry_after_or(wait_random_exponential(multiplier=self.backoff_base_s,
                                                             max=self.backoff_max_s)),
            sleep=self.sleep,
        )

        async def run() -> T:  # tenacity tells async from sync by the function, not by what it returns
            nonlocal first_failure
            if first_failure is not None:
                failed, first_failure = first_failure, None
                raise failed
            return await attempt()

        try:
            return await retrying(run)
        except RetryError as exhausted:
            attempts = exhausted.last_attempt.attempt_number
            last_error = exhausted.last_attempt.exception()
            if identical.run >= self.max_identical_failures:
                reason = f"{identical.run} identical failures in a row"
            elif attempts >= self.max_attempts:
                reason = f"max_attempts={self.max_attempts} reached"
            else:
                reason = f"time budget max_total_s={self.max_total_s:g} spent"
            cause = last_error if isinstance(last_error, ProviderError) else None
            raise ProviderUnavailable(
                f"{label}: gave up after {attempts} attempt(s) in {budget.elapsed():.1f}s ({reason}); "
                f"last error: {last_error}", cause=cause) from last_error

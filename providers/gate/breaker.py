"""Circuit breaker: stop calling an endpoint that is down, probe it after a cooldown.

::

    closed ──(failures in a row, or failure ratio over the window)──▶ open
    open ──(cooldown_s elapsed)──▶ half_open          (at most half_open_probes calls in flight)
    half_open ──(a probe succeeds)──▶ closed
    half_open ──(a probe fails)──▶ open               (a new cooldown)

What an outcome means to the breaker:

- **failure**: ``ServerError``, ``Timeout``, ``ConnectionFailed`` — the endpoint is down or sick.
- **neutral**: ``RateLimited`` and ``QuotaExhausted`` — a 429 means "slow down", not "down"; the
  rate limiter, backoff and adaptive concurrency answer it. Counting 429s would open the breaker
  exactly when callers most need to keep their place. Also neutral: anything that is not a
  provider error (a cancelled call), which says nothing about the endpoint.
- **success**: a reply, or any other provider error (a refusal, a 400, a 401): the endpoint
  answered, so it is up.

Outcomes of calls let in before the last transition are ignored: a timeout that started before an
outage ended must not reopen a breaker a successful probe has just closed.

Used as ``async with breaker.admit(max_wait_s) as permit:``; the block's exception, if any, is the
outcome. The clock and the sleep are injectable so tests move a fake clock instead of sleeping.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Literal

from providers.errors import (
    ConnectionFailed,
    ProviderError,
    QuotaExhausted,
    RateLimited,
    ServerError,
    Timeout,
)
from providers.gate.config import BreakerConfig
from providers.types import BreakerState

FAILURES = (ServerError, Timeout, ConnectionFailed)
NEUTRAL = (RateLimited, QuotaExhausted)

Verdict = Literal["success", "failure", "neutral"]


def verdict(error: BaseException | None) -> Verdict:
    """How the breaker counts an attempt that ended with ``error`` (None: a reply)."""
    if error is None:
        return "success"
    if isinstance(error, FAILURES):
        return "failure"
    if isinstance(error, ProviderError) and not isinstance(error, NEUTRAL):
        return "success"
    return "neutral"


class BreakerOpenError(Exception):
    """The breaker did not let a caller through within its wait bound."""


@dataclass(frozen=True)
class Transition:
    from_state: BreakerState
    to_state: BreakerState
    at: float  # on the breaker's clock


@dataclass(frozen=True)
class Permit:
    """Leave to make one call: the state it was given in, and whether it is a half-open probe."""

    state: BreakerState
    probe: bool
    generation: int


class CircuitBreaker:
    def __init__(
        self,
        config: BreakerConfig,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        on_change: Callable[[BreakerState, BreakerState, float], None] | None = None,
    ) -> None:
        self.config = config
        self._clock = clock
        self._sleep = sleep
        self._on_change = on_change
        self.transitions: list[Transition] = []
        self._state: BreakerState = "closed"
        self._generation = 0  # bumped on every transition; permits of older generations are stale
        self._opened_at = 0.0
        self._consecutive_failures = 0
        self._window: deque[bool] = deque(maxlen=config.window)  # True = failure
        self._probes_in_flight = 0
        self._changed = asyncio.Event()

    @property
    def state(self) -> BreakerState:
        self._refresh()
        return self._state

    @property
    def opens(self) -> int:
        return sum(1 for t in self.transitions if t.to_state == "open")

    def try_enter(self) -> Permit | None:
        """A permit if a call may go now, else None (open, or half-open with every probe out)."""
        self._refresh()
        if self._state == "closed":
            return Permit("closed", probe=False, generation=self._generation)
        if self._state == "half_open" and self._probes_in_flight < self.config.half_open_probes:
            self._probes_in_flight += 1
            return Permit("half_open", probe=True, generation=self._generation)
        return None

    async def wait_allowed(self, max_wait_s: float) -> Permit:
        """Wait, at most ``max_wait_s``, until a call may go; raise BreakerOpenError after that."""
        deadline = self._clock() + max_wait_s
        while True:
            permit = self.try_enter()
            if permit is not None:
                return permit
            now = self._clock()
            remaining = deadline - now
            if remaining <= 0:
                raise BreakerOpenError(
                    f"circuit breaker {self._state.replace('_', '-')}: not let through within {max_wait_s:g}s")
            if self._state == "open":
                remaining = min(remaining, self._opened_at + self.config.cooldown_s - now)
            await self._until_change_or(remaining)

    def is_current(self, permit: Permit) -> bool:
        """Whether ``permit`` still holds: the breaker has not changed state since it was given."""
        self._refresh()
        return permit.generation == self._generation

    def record(self, permit: Permit, error: BaseException | None) -> None:
        """Count the outcome of a call made under ``permit``."""
        if permit.generation != self._generation:
            return
        kind = verdict(error)
        if permit.probe:
            self._probes_in_flight -= 1
            if kind == "success":
                self._transition("closed", self._clock())
            elif kind == "failure":
                self._transition("open", self._clock())
            else:
                self._notify()  # a probe slot is free again
            return
        if kind == "neutral":
            return
        failed = kind == "failure"
        self._window.append(failed)
        self._consecutive_failures = self._consecutive_failures + 1 if failed else 0
        if failed and (self._consecutive_failures >= self.config.failures or self._window_tripped()):
            self._transition("open", self._clock())

    @asynccontextmanager
    async def admit(self, max_wait_s: float) -> AsyncIterator[Permit]:
        """Wait for a permit, run the block, record its outcome (its exception, if any)."""
        permit = await self.wait_allowed(max_wait_s)
        try:
            yield permit
        except BaseException as error:
            self.record(permit, error)
            raise
        self.record(permit, None)

    def _window_tripped(self) -> bool:
        window = self._window
        return len(window) == window.maxlen and sum(window) / len(window) >= self.config.failure_ratio

    def _refresh(self) -> None:
        if self._state == "open":
            cooldown_end = self._opened_at + self.config.cooldown_s
            if self._clock() >= cooldown_end:
                self._transition("half_open", cooldown_end)

    def _transition(self, to_state: BreakerState, at: float) -> None:
        from_state = self._state
        self._state = to_state
        self._generation += 1
        self._probes_in_flight = 0
        self._consecutive_failures = 0
        self._window.clear()
        if to_state == "open":
            self._opened_at = at
        self.transitions.append(Transition(from_state, to_state, at))
        if self._on_change is not None:
            self._on_change(from_state, to_state, at)
        self._notify()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def _until_change_or(self, delay: float) -> None:
        changed = asyncio.ensure_future(self._changed.wait())
        slept = asyncio.ensure_future(self._sleep(max(delay, 0.0)))
        try:
            await asyncio.wait({changed, slept}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            changed.cancel()
            slept.cancel()

"""How many calls one gate keeps in flight: a slot semaphore whose limit adapts to 429s (AIMD).

- **slow start**: the limit doubles after each clean round until the first cut;
- **multiplicative decrease**: a 429 halves it (never below ``min_limit``);
- **additive increase**: after the first cut, +1 per clean round (never above ``max_limit``).

A *round* is ``limit`` successful calls since the last change — one window's worth, as TCP counts
a round trip — and it is clean only if every slot was busy at some moment in it: a limit that was
never reached says nothing about the endpoint, and growing it while callers are fewer than slots
would leave no protection once they multiply (TCP's congestion-window validation, RFC 7661). A cut is debounced: a 429 cuts only if its call started after the previous cut (the
calls already in flight belong to the round that was just cut, and their 429s say nothing new),
and not before the previous cut's ``Retry-After`` has passed (the server asked for quiet until
then). 5xx, timeouts and connection errors never cut: an outage is not caused by our concurrency,
and shrinking to 1 during one would leave the endpoint crawling once it is back; the breaker is
the answer to those. They do not count towards a clean round either.

Pinned mode (``AdaptiveConcurrency.pinned(n)``, for ``max_in_flight``): a fixed limit.

Used as ``async with concurrency.slot():``; the block's exception, if any, is the outcome. Every
limit is kept in ``history`` as ``(limit, at)`` (the initial one first) and each change is
reported through ``on_change(limit, at)``.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from providers.errors import RateLimited


class AdaptiveConcurrency:
    def __init__(
        self,
        initial: int = 4,
        max_limit: int = 256,
        min_limit: int = 1,
        *,
        clock: Callable[[], float] = time.monotonic,
        on_change: Callable[[int, float], None] | None = None,
        adaptive: bool = True,
    ) -> None:
        if not 1 <= min_limit <= initial <= max_limit:
            raise ValueError(
                f"need 1 <= min_limit <= initial <= max_limit, got {min_limit}, {initial}, {max_limit}")
        self.min_limit = min_limit
        self.max_limit = max_limit
        self.adaptive = adaptive
        self._clock = clock
        self._on_change = on_change
        self._limit = initial
        self._in_flight = 0
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._slow_start = True
        self._clean_in_round = 0
        self._saturated = False  # every slot was busy at some moment of this round
        self._last_cut_at = float("-inf")
        self._quiet_until = float("-inf")
        self.history: list[tuple[int, float]] = [(initial, clock())]

    @classmethod
    def pinned(cls, limit: int, *, clock: Callable[[], float] = time.monotonic) -> AdaptiveConcurrency:
        return cls(initial=limit, max_limit=limit, min_limit=limit, clock=clock, adaptive=False)

    @property
    def limit(self) -> int:
        return self._limit

    @property
    def in_flight(self) -> int:
        return self._in_flight

    @property
    def waiting(self) -> int:
        return sum(1 for waiter in self._waiters if not waiter.done())

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one slot for the block; its exception (or none) adapts the limit."""
        await self._acquire()
        started = self._clock()
        try:
            yield
        except BaseException as error:
            self._release()
            self._observe(error, started)
            raise
        self._release()
        self._observe(None, started)

    def _observe(self, error: BaseException | None, started: float) -> None:
        if not self.adaptive:
            return
        if error is None:
            self._clean_in_round += 1
            if self._clean_in_round >= self._limit:
                if not self._saturated:
                    self._clean_in_round = 0
                    return
                grown = self._limit * 2 if self._slow_start else self._limit + 1
                self._set_limit(min(self.max_limit, grown))
            return
        if isinstance(error, RateLimited):
            now = self._clock()
            if started < self._last_cut_at or now < self._quiet_until:
                return
            self._slow_start = False
            self._last_cut_at = now
            self._quiet_until = now + (error.retry_after or 0.0)
            self._set_limit(max(self.min_limit, self._limit // 2))

    def _set_limit(self, limit: int) -> None:
        self._clean_in_round = 0
        self._saturated = self._in_flight >= limit
        if limit == self._limit:
            return
        self._limit = limit
        at = self._clock()
        self.history.append((limit, at))
        if self._on_change is not None:
            self._on_change(limit, at)
        self._wake()

    async def _acquire(self) -> None:
        if self._in_flight < self._limit and not self._waiters:
            self._take()
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        self._wake()  # clears waiters cancelled earlier, which would otherwise block the queue
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._release()  # granted, then cancelled before it could run: hand the slot on
            raise

    def _release(self) -> None:
        self._in_flight -= 1
        self._wake()

    def _wake(self) -> None:
        while self._waiters and self._in_flight < self._limit:
            waiter = self._waiters.popleft()
            if not waiter.done():
                self._take()
                waiter.set_result(None)

    def _take(self) -> None:
        self._in_flight += 1
        if self._in_flight >= self._limit:
            self._saturated = True

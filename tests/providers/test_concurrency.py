"""AdaptiveConcurrency: slow start, debounced halving on 429, additive increase, pinned mode."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from providers.errors import ProviderError, RateLimited, ServerError, Timeout
from providers.gate.concurrency import AdaptiveConcurrency
from tests.providers.fake_clock import FakeClock


def adaptive(clock: FakeClock, **kwargs) -> tuple[AdaptiveConcurrency, list[tuple[int, float]]]:
    changes: list[tuple[int, float]] = []
    concurrency = AdaptiveConcurrency(clock=clock, on_change=lambda n, at: changes.append((n, at)), **kwargs)
    return concurrency, changes


async def finish(concurrency: AdaptiveConcurrency, n: int, error: ProviderError | None = None) -> None:
    """Start ``n`` calls at once (as many in flight as the limit allows), each ending with ``error``
    (None: success)."""

    async def call() -> None:
        with pytest.raises(type(error)) if error else contextlib.nullcontext():
            async with concurrency.slot():
                await asyncio.sleep(0)
                if error:
                    raise error

    await asyncio.gather(*(call() for _ in range(n)))


async def test_slow_start_doubles_per_clean_round() -> None:
    concurrency, _ = adaptive(FakeClock(), initial=4, max_limit=100)
    await finish(concurrency, 3)
    assert concurrency.limit == 4  # a round is `limit` clean calls
    await finish(concurrency, 1)
    assert concurrency.limit == 4  # ...with every slot busy at some moment: 3 then 1 never filled 4
    for limit in (4, 8, 16, 32):
        await finish(concurrency, limit)
        assert concurrency.limit == limit * 2
    await finish(concurrency, 64)
    assert concurrency.limit == 100  # capped


async def test_a_limit_never_reached_never_grows() -> None:
    concurrency, changes = adaptive(FakeClock(), initial=4, max_limit=100)
    for _ in range(50):
        await finish(concurrency, 2)  # fewer callers than slots
    assert concurrency.limit == 4 and changes == []


async def test_a_429_halves_then_growth_is_additive() -> None:
    clock = FakeClock()
    concurrency, _ = adaptive(clock, initial=16, max_limit=100)
    clock.now = 1.0
    await finish(concurrency, 1, RateLimited(retry_after=None))
    assert concurrency.limit == 8
    await finish(concurrency, 8)
    assert concurrency.limit == 9  # +1, not ×2: slow start ended with the cut
    await finish(concurrency, 9)
    assert concurrency.limit == 10


async def test_a_burst_of_429s_from_one_round_cuts_once() -> None:
    clock = FakeClock()
    concurrency, changes = adaptive(clock, initial=16, max_limit=100)
    entered = asyncio.Event()
    release = asyncio.Event()

    async def call() -> None:
        async with concurrency.slot():
            if concurrency.in_flight == 16:
                entered.set()
            await release.wait()
            raise RateLimited(retry_after=None)

    calls = [asyncio.ensure_future(call()) for _ in range(16)]
    await entered.wait()
    clock.now = 2.0
    release.set()
    results = await asyncio.gather(*calls, return_exceptions=True)
    assert all(isinstance(r, RateLimited) for r in results)
    assert concurrency.limit == 8
    assert changes == [(8, 2.0)]


async def test_a_429_from_a_call_started_after_the_cut_cuts_again() -> None:
    clock = FakeClock()
    concurrency, _ = adaptive(clock, initial=16, max_limit=100)
    clock.now = 1.0
    await finish(concurrency, 1, RateLimited(retry_after=None))
    clock.now = 1.5
    await finish(concurrency, 1, RateLimited(retry_after=None))
    assert concurrency.limit == 4


async def test_retry_after_stretches_the_debounce_interval() -> None:
    clock = FakeClock()
    concurrency, _ = adaptive(clock, initial=16, max_limit=100)
    clock.now = 1.0
    await finish(concurrency, 1, RateLimited(retry_after=5.0))
    clock.now = 3.0
    await finish(concurrency, 1, RateLimited(retry_after=5.0))
    assert concurrency.limit == 8  # still inside the server's Retry-After
    clock.now = 6.0
    await finish(concurrency, 1, RateLimited(retry_after=5.0))
    assert concurrency.limit == 4


@pytest.mark.parametrize("error", [ServerError("down", status=503), Timeout("slow")])
async def test_5xx_and_timeouts_never_cut_nor_grow(error: ProviderError) -> None:
    clock = FakeClock()
    concurrency, changes = adaptive(clock, initial=8, max_limit=100)
    for step in range(50):
        clock.now = float(step)
        await finish(concurrency, 1, error)
    assert concurrency.limit == 8
    assert changes == []


async def test_never_below_min_limit() -> None:
    clock = FakeClock()
    concurrency, _ = adaptive(clock, initial=4, min_limit=2, max_limit=100)
    for step in range(5):
        clock.now = float(step + 1)
        await finish(concurrency, 1, RateLimited(retry_after=None))
    assert concurrency.limit == 2


async def test_pinned_stays_fixed() -> None:
    clock = FakeClock()
    concurrency = AdaptiveConcurrency.pinned(3, clock=clock)
    await finish(concurrency, 20)
    clock.now = 10.0
    await finish(concurrency, 3, RateLimited(retry_after=None))
    assert concurrency.limit == 3
    assert concurrency.history == [(3, 0.0)]


async def test_history_records_every_limit_with_its_time() -> None:
    clock = FakeClock()
    concurrency, changes = adaptive(clock, initial=2, max_limit=100)
    clock.now = 1.0
    await finish(concurrency, 2)
    clock.now = 2.0
    await finish(concurrency, 1, RateLimited(retry_after=None))
    clock.now = 3.0
    await finish(concurrency, 2)
    assert concurrency.history == [(2, 0.0), (4, 1.0), (2, 2.0), (3, 3.0)]
    assert changes == concurrency.history[1:]


async def test_no_more_than_limit_calls_in_flight() -> None:
    concurrency = AdaptiveConcurrency.pinned(3)
    peak = 0

    async def call() -> None:
        nonlocal peak
        async with concurrency.slot():
            peak = max(peak, concurrency.in_flight)
            await asyncio.sleep(0)
            await asyncio.sleep(0)

    await asyncio.gather(*(call() for _ in range(20)))
    assert peak == 3
    assert concurrency.in_flight == 0 and concurrency.waiting == 0


async def test_a_cut_blocks_new_calls_until_in_flight_drops_below_the_new_limit() -> None:
    clock = FakeClock()
    concurrency, _ = adaptive(clock, initial=4, max_limit=100)
    hold = asyncio.Event()

    async def held() -> None:
        async with concurrency.slot():
            await hold.wait()

    holders = [asyncio.ensure_future(held()) for _ in range(3)]
    await asyncio.sleep(0)
    clock.now = 1.0
    await finish(concurrency, 1, RateLimited(retry_after=None))  # limit 4 → 2, three still in flight
    assert concurrency.limit == 2
    newcomer = asyncio.ensure_future(finish(concurrency, 1))
    for _ in range(3):
        await asyncio.sleep(0)
    assert not newcomer.done() and concurrency.waiting == 1
    hold.set()
    await asyncio.gather(*holders, newcomer)
    assert concurrency.in_flight == 0


async def test_a_cancelled_waiter_does_not_leak_or_block_the_queue() -> None:
    concurrency = AdaptiveConcurrency.pinned(1)
    hold = asyncio.Event()

    async def held() -> None:
        async with concurrency.slot():
            await hold.wait()

    holder = asyncio.ensure_future(held())
    await asyncio.sleep(0)
    waiter = asyncio.ensure_future(finish(concurrency, 1))
    for _ in range(3):
        await asyncio.sleep(0)
    assert concurrency.waiting == 1
    waiter.cancel()
    hold.set()
    await holder
    await asyncio.wait_for(finish(concurrency, 1), 1)
    assert concurrency.in_flight == 0


def test_invalid_bounds_are_rejected() -> None:
    with pytest.raises(ValueError, match="min_limit <= initial <= max_limit"):
        AdaptiveConcurrency(initial=10, max_limit=5)

"""RateLimiter on an event loop whose clock is virtual: timers fire at once, time jumps to them."""

from __future__ import annotations

import asyncio
import math
import selectors
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest

from providers.gate.limiter import OUTPUT_TOKEN_ALLOWANCE, RateLimiter, estimate_tokens
from providers.types import CompletionRequest, Message, ToolCall, ToolSpec
from tests.rate_window import max_in_window

T = TypeVar("T")


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """Whenever every task is waiting on a timer, jump the clock to that timer instead of sleeping.

    An idle turn also moves the clock by at least a nanosecond, as real time would: a timer set
    for "now" by float rounding (AsyncLimiter sets some) must see time pass, or it fires forever.
    """

    def __init__(self) -> None:
        super().__init__(selectors.SelectSelector())
        self._now = 0.0
        select = self._selector.select

        def jump_instead_of_blocking(timeout: float | None = None):
            if timeout is None:
                raise RuntimeError("deadlock: every task waits and no timer is set")
            if not self._ready:
                self._now += max(timeout, 1e-9)
            return select(0)

        self._selector.select = jump_instead_of_blocking

    def time(self) -> float:
        return self._now


def run_virtual(main: Callable[[], Awaitable[T]]) -> T:
    loop = VirtualTimeLoop()
    try:
        return loop.run_until_complete(main())
    finally:
        loop.close()



async def acquire_times(limiter: RateLimiter, n: int, tokens: int = 0) -> list[float]:
    loop = asyncio.get_running_loop()
    times: list[float] = []

    async def one() -> None:
        await limiter.acquire(tokens)
        times.append(loop.time())

    await asyncio.gather(*(one() for _ in range(n)))
    return times


def test_virtual_clock_jumps_without_waiting() -> None:
    async def main() -> float:
        loop = asyncio.get_running_loop()
        await asyncio.sleep(3600)
        return loop.time()

    assert run_virtual(main) == pytest.approx(3600)


def test_max_in_window_counts_half_open_windows() -> None:
    assert max_in_window([0.0, 0.5, 1.0, 1.2]) == 3
    assert max_in_window([0.0, 0.99, 1.98]) == 2


@pytest.mark.parametrize("rpm", [1200.0, 600.0, 90.0])
def test_no_one_second_window_exceeds_rpm_over_60_even_at_start(rpm: float) -> None:
    limiter = RateLimiter(rpm=rpm, tpm=None)
    n = int(rpm / 60 * 6)  # six seconds' worth, all asking at t=0

    times = run_virtual(lambda: acquire_times(limiter, n))

    assert len(times) == n
    per_second = math.ceil(rpm / 60)  # 90 rpm = 1.5/s: permits 0.67 s apart, 2 fit in some windows
    assert max_in_window(times) <= per_second
    first_second = sum(1 for t in times if t < 1.0)
    assert first_second == per_second  # the full rate from the start, and no burst beyond it
    assert max(times) == pytest.approx((n - 1) * 60 / rpm)  # sustains the rate: no permit wasted


def test_fractional_rpm_gives_one_permit_per_60_over_rpm_seconds() -> None:
    limiter = RateLimiter(rpm=30, tpm=None)

    times = sorted(run_virtual(lambda: acquire_times(limiter, 5)))

    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert times[0] == pytest.approx(0.0)
    assert gaps == pytest.approx([2.0] * 4)


def test_tpm_blocks_once_the_token_budget_is_spent() -> None:
    limiter = RateLimiter(rpm=None, tpm=600)  # 10 tokens/s, a bucket of 10

    times = sorted(run_virtual(lambda: acquire_times(limiter, 4, tokens=10)))

    assert times[0] == pytest.approx(0.0)
    assert times[1:] == pytest.approx([1.0, 2.0, 3.0])


def test_request_bigger_than_the_token_bucket_waits_its_size_instead_of_deadlocking() -> None:
    limiter = RateLimiter(rpm=None, tpm=600)  # bucket of 10 tokens

    async def main() -> float:
        await limiter.acquire(tokens=45)
        return asyncio.get_running_loop().time()

    # 45 tokens at 10/s: the first 10 fit the empty bucket, the other 35 drain in 3.5 s
    assert run_virtual(main) == pytest.approx(3.5)


def test_tokens_and_requests_both_bind() -> None:
    limiter = RateLimiter(rpm=60, tpm=60_000)  # 1 request/s, tokens plentiful

    times = sorted(run_virtual(lambda: acquire_times(limiter, 3, tokens=100)))

    assert times == pytest.approx([0.0, 1.0, 2.0])


def test_async_with_takes_one_request_permit() -> None:
    limiter = RateLimiter(rpm=120, tpm=None)

    async def main() -> list[float]:
        loop = asyncio.get_running_loop()
        times = []
        for _ in range(3):
            async with limiter:
                times.append(loop.time())
        return times

    assert run_virtual(main) == pytest.approx([0.0, 0.5, 1.0])


def test_unlimited_never_waits() -> None:
    limiter = RateLimiter(rpm=None, tpm=None)
    assert run_virtual(lambda: acquire_times(limiter, 1000, tokens=10**6)) == [0.0] * 1000


def test_non_positive_limits_are_rejected() -> None:
    with pytest.raises(ValueError, match="rpm"):
        RateLimiter(rpm=0, tpm=None)


def test_estimate_counts_messages_tool_calls_schemas_and_capped_max_tokens() -> None:
    tool = ToolSpec("type_letter", "Type one letter.", {"type": "object", "properties": {}})
    call = ToolCall(id="c1", name="type_letter", arguments={"letter": "c"})
    messages = (Message("user", "x" * 400), Message("assistant", "", tool_calls=(call,)))
    small = CompletionRequest(model="m", messages=messages, tools=(tool,), max_tokens=10)
    huge = CompletionRequest(model="m", messages=messages, tools=(tool,), max_tokens=100_000)

    prompt_chars = 400 + len("type_letter") + len('{"letter": "c"}') + len("type_letter") \
        + len("Type one letter.") + len('{"type": "object", "properties": {}}')
    assert estimate_tokens(small) == prompt_chars // 4 + 10
    assert estimate_tokens(huge) == prompt_chars // 4 + OUTPUT_TOKEN_ALLOWANCE

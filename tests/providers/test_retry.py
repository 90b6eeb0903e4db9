"""RetryPolicy with a recorded, instant sleep on a fake clock."""

from __future__ import annotations

import random
from collections.abc import Iterable

import pytest

from providers.errors import (
    AuthError,
    BadRequest,
    ConnectionFailed,
    ProviderError,
    ProviderUnavailable,
    QuotaExhausted,
    RateLimited,
    Refusal,
    ServerError,
)
from providers.gate.config import GateConfig
from providers.gate.retry import RetryPolicy
from tests.providers.fake_clock import FakeClock


class Script:
    """An attempt function that raises the scripted errors in turn, then returns "done"."""

    def __init__(self, outcomes: Iterable[ProviderError | None]) -> None:
        self.outcomes = list(outcomes)
        self.calls = 0

    async def __call__(self) -> str:
        outcome = self.outcomes[min(self.calls, len(self.outcomes) - 1)]
        self.calls += 1
        if outcome is not None:
            raise outcome
        return "done"


def policy(clock: FakeClock, **overrides) -> RetryPolicy:
    settings = {"max_attempts": 6, "max_total_s": 300.0, "max_identical_failures": 100,
                "backoff_base_s": 0.5, "backoff_max_s": 30.0, **overrides}
    return RetryPolicy(**settings, clock=clock, sleep=clock.sleep)


async def test_5xx_retried_up_to_max_attempts_then_unavailable_with_cause() -> None:
    clock = FakeClock()
    errors = [ServerError(f"upstream error #{i}", status=502) for i in range(10)]
    attempt = Script(errors)
    with pytest.raises(ProviderUnavailable, match="gave up after 4 attempt.*max_attempts=4") as raised:
        await policy(clock, max_attempts=4).call(attempt, label="sim")
    assert attempt.calls == 4
    assert raised.value.cause is errors[3]
    assert raised.value.status == 502
    assert len(clock.sleeps) == 3


async def test_succeeds_after_transient_failures() -> None:
    clock = FakeClock()
    attempt = Script([ServerError("a", status=500), ConnectionFailed("reset"), None])
    assert await policy(clock).call(attempt, label="sim") == "done"
    assert attempt.calls == 3


async def test_retry_after_is_honoured_exactly() -> None:
    clock = FakeClock()
    attempt = Script([RateLimited(retry_after=2.5), RateLimited(retry_after=7.0), None])
    assert await policy(clock).call(attempt, label="sim") == "done"
    assert clock.sleeps == [2.5, 7.0]


async def test_retry_after_on_a_503_or_529_is_honoured_too() -> None:
    clock = FakeClock()
    attempt = Script([ServerError("overloaded", status=529, retry_after=4.0),
                      ServerError("unavailable", status=503, retry_after=1.5), None])
    assert await policy(clock).call(attempt, label="sim") == "done"
    assert clock.sleeps == [4.0, 1.5]


async def test_the_servers_should_retry_verdict_is_obeyed_either_way() -> None:
    clock = FakeClock()
    final = ServerError("no", status=503)
    final.retryable = False  # x-should-retry: false
    attempt = Script([final, None])
    with pytest.raises(ServerError):
        await policy(clock).call(attempt, label="sim")
    assert attempt.calls == 1
    again = BadRequest("conflict", status=409)
    again.retryable = True  # x-should-retry: true
    attempt = Script([again, None])
    assert await policy(clock).call(attempt, label="sim") == "done"


async def test_full_jitter_stays_within_the_exponential_envelope() -> None:
    random.seed(1234)
    base, cap, attempts = 0.5, 4.0, 8
    samples: dict[int, list[float]] = {n: [] for n in range(1, attempts)}
    for _ in range(200):
        clock = FakeClock()
        attempt = Script([ServerError(f"e{i}", status=500) for i in range(attempts)])
        with pytest.raises(ProviderUnavailable):
            await policy(clock, max_attempts=attempts, backoff_base_s=base,
                         backoff_max_s=cap).call(attempt, label="sim")
        for n, slept in enumerate(clock.sleeps, start=1):
            samples[n].append(slept)
    for n, slept in samples.items():
        high = min(cap, base * 2 ** (n - 1))
        assert all(0 <= s <= high for s in slept)
        # full jitter: spread over the whole interval, not bunched at its top
        assert min(slept) < 0.1 * high and max(slept) > 0.9 * high


@pytest.mark.parametrize("error", [
    Refusal("unsafe"), AuthError("bad key", status=401), BadRequest("bad", status=400),
    QuotaExhausted("quota spent", status=429),
])
async def test_fatal_and_outcome_errors_are_never_retried(error: ProviderError) -> None:
    clock = FakeClock()
    attempt = Script([error])
    with pytest.raises(type(error)) as raised:
        await policy(clock).call(attempt, label="sim")
    assert raised.value is error
    assert attempt.calls == 1
    assert clock.sleeps == []


async def test_identical_failure_cap_stops_a_deterministic_500_early() -> None:
    clock = FakeClock()
    attempt = Script([ServerError("internal error", status=500)])
    with pytest.raises(ProviderUnavailable, match="3 identical failures in a row"):
        await policy(clock, max_attempts=10, max_identical_failures=3).call(attempt, label="sim")
    assert attempt.calls == 3


async def test_varied_failures_do_not_trip_the_identical_cap() -> None:
    clock = FakeClock()
    errors = [ServerError("internal error", status=500), ServerError("bad gateway", status=502)] * 5
    attempt = Script(errors)
    with pytest.raises(ProviderUnavailable, match="max_attempts=6"):
        await policy(clock, max_identical_failures=2).call(attempt, label="sim")
    assert attempt.calls == 6


async def test_identical_429s_are_exempt_from_the_cap() -> None:
    clock = FakeClock()
    attempt = Script([RateLimited(retry_after=1)] * 5 + [None])
    assert await policy(clock, max_attempts=10, max_identical_failures=2).call(attempt, label="sim") == "done"
    assert attempt.calls == 6


async def test_max_total_s_stops_before_a_wait_would_overrun_it() -> None:
    clock = FakeClock()
    attempt = Script([RateLimited(retry_after=4.0)])
    with pytest.raises(ProviderUnavailable, match="time budget max_total_s=10"):
        await policy(clock, max_attempts=100, max_total_s=10).call(attempt, label="sim")
    assert clock.sleeps == [4.0, 4.0]  # a third wait would end at 12 s > 10 s
    assert attempt.calls == 3


async def test_time_spent_in_attempts_counts_against_the_budget() -> None:
    clock = FakeClock()

    async def slow_failure() -> str:
        clock.now += 6.0
        raise ServerError("slow", status=504)

    with pytest.raises(ProviderUnavailable, match="time budget"):
        await policy(clock, max_total_s=10, backoff_base_s=0.001).call(slow_failure, label="sim")
    assert clock.sleeps and len(clock.sleeps) == 1


def test_from_config_takes_every_retry_setting() -> None:
    config = GateConfig(max_attempts=3, max_total_s=20, max_identical_failures=2, backoff_base_s=0.1,
                        backoff_max_s=1.0)
    built = RetryPolicy.from_config(config)
    assert (built.max_attempts, built.max_total_s, built.max_identical_failures, built.backoff_base_s,
            built.backoff_max_s) == (3, 20, 2, 0.1, 1.0)

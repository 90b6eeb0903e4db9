"""CircuitBreaker on a fake clock: sleeping moves the clock instead of waiting."""

from __future__ import annotations

import asyncio

import pytest

from providers.errors import (
    AuthError,
    ConnectionFailed,
    QuotaExhausted,
    RateLimited,
    Refusal,
    ServerError,
    Timeout,
)
from providers.gate.breaker import BreakerOpenError, CircuitBreaker, verdict
from providers.gate.config import BreakerConfig
from tests.providers.fake_clock import FakeClock


def make(clock: FakeClock, **config) -> tuple[CircuitBreaker, list[tuple[str, str, float]]]:
    changes: list[tuple[str, str, float]] = []
    breaker = CircuitBreaker(BreakerConfig(**config), clock=clock, sleep=clock.sleep,
                             on_change=lambda a, b, at: changes.append((a, b, at)))
    return breaker, changes


def fail(breaker: CircuitBreaker, error: Exception | None = None) -> None:
    permit = breaker.try_enter()
    assert permit is not None
    breaker.record(permit, error or ServerError("boom", status=500))


def succeed(breaker: CircuitBreaker) -> None:
    permit = breaker.try_enter()
    assert permit is not None
    breaker.record(permit, None)


def test_verdicts_429_is_neutral_an_answer_is_success() -> None:
    assert verdict(ServerError("x", status=503)) == "failure"
    assert verdict(Timeout("x")) == "failure"
    assert verdict(ConnectionFailed("x")) == "failure"
    assert verdict(RateLimited(retry_after=1)) == "neutral"
    assert verdict(QuotaExhausted("x", status=429)) == "neutral"
    assert verdict(asyncio.CancelledError()) == "neutral"
    assert verdict(Refusal("x")) == "success"
    assert verdict(AuthError("x", status=401)) == "success"
    assert verdict(None) == "success"


def test_opens_after_n_consecutive_failures() -> None:
    clock = FakeClock()
    breaker, changes = make(clock, failures=3, window=100)
    fail(breaker)
    fail(breaker)
    assert breaker.state == "closed"
    clock.now = 7.0
    fail(breaker)
    assert breaker.state == "open"
    assert changes == [("closed", "open", 7.0)]


def test_a_success_resets_the_consecutive_count() -> None:
    clock = FakeClock()
    breaker, _ = make(clock, failures=3, window=100)
    for _ in range(5):
        fail(breaker)
        fail(breaker)
        succeed(breaker)
    assert breaker.state == "closed"


def test_429s_neither_open_nor_reset_the_count() -> None:
    clock = FakeClock()
    breaker, _ = make(clock, failures=3, window=100)
    fail(breaker)
    fail(breaker)
    for _ in range(10):
        fail(breaker, RateLimited(retry_after=1))
    assert breaker.state == "closed"
    fail(breaker)
    assert breaker.state == "open"


def test_opens_on_failure_ratio_once_the_window_is_full() -> None:
    clock = FakeClock()
    breaker, _ = make(clock, failures=100, failure_ratio=0.5, window=10)
    for _ in range(4):  # alternate: never 2 failures in a row, ratio 0.5
        fail(breaker)
        succeed(breaker)
    assert breaker.state == "closed"  # 8 outcomes: window not full yet
    fail(breaker)
    assert breaker.state == "closed"  # 9 outcomes
    succeed(breaker)
    fail(breaker)  # window of 10: 5 failures
    assert breaker.state == "open"


def test_ratio_below_threshold_stays_closed() -> None:
    clock = FakeClock()
    breaker, _ = make(clock, failures=100, failure_ratio=0.5, window=10)
    for _ in range(30):
        fail(breaker)
        succeed(breaker)
        succeed(breaker)
    assert breaker.state == "closed"


def test_rejects_while_open_and_half_opens_after_cooldown_with_limited_probes() -> None:
    clock = FakeClock()
    breaker, changes = make(clock, failures=1, cooldown_s=10, half_open_probes=2)
    clock.now = 100.0
    fail(breaker)
    clock.now = 109.9
    assert breaker.try_enter() is None
    assert breaker.state == "open"
    clock.now = 112.0
    first, second = breaker.try_enter(), breaker.try_enter()
    assert first is not None and first.probe and first.state == "half_open"
    assert second is not None and second.probe
    assert breaker.try_enter() is None  # both probes are out
    # the half-open moment is when the cooldown ended, not when someone looked
    assert changes == [("closed", "open", 100.0), ("open", "half_open", 110.0)]


def test_probe_success_closes_and_probe_failure_reopens_with_a_new_cooldown() -> None:
    clock = FakeClock()
    breaker, changes = make(clock, failures=1, cooldown_s=5)
    fail(breaker)
    clock.now = 5.0
    probe = breaker.try_enter()
    assert probe is not None
    clock.now = 6.0
    breaker.record(probe, Timeout("slow"))
    assert breaker.state == "open"
    clock.now = 10.9
    assert breaker.try_enter() is None  # the new cooldown runs from 6.0
    clock.now = 11.0
    probe = breaker.try_enter()
    assert probe is not None
    breaker.record(probe, None)
    assert breaker.state == "closed"
    assert [(a, b) for a, b, _ in changes] == [
        ("closed", "open"), ("open", "half_open"), ("half_open", "open"), ("open", "half_open"),
        ("half_open", "closed")]
    assert [t.at for t in breaker.transitions] == [0.0, 5.0, 6.0, 11.0, 11.0]
    assert breaker.opens == 2


def test_a_neutral_probe_frees_its_slot_without_a_transition() -> None:
    clock = FakeClock()
    breaker, _ = make(clock, failures=1, cooldown_s=1)
    fail(breaker)
    clock.now = 1.0
    probe = breaker.try_enter()
    assert probe is not None
    breaker.record(probe, RateLimited(retry_after=1))
    assert breaker.state == "half_open"
    assert breaker.try_enter() is not None


def test_stale_outcomes_from_before_a_transition_are_ignored() -> None:
    clock = FakeClock()
    breaker, _ = make(clock, failures=2, cooldown_s=1)
    slow = breaker.try_enter()  # let in while closed, answers after the breaker cycled
    fail(breaker)
    fail(breaker)
    clock.now = 1.0
    probe = breaker.try_enter()
    assert probe is not None
    breaker.record(probe, None)
    assert breaker.state == "closed"
    assert slow is not None
    breaker.record(slow, Timeout("late"))
    fail(breaker)
    assert breaker.state == "closed"  # one fresh failure; the stale one did not count


async def test_wait_allowed_waits_out_the_cooldown() -> None:
    clock = FakeClock()
    breaker, _ = make(clock, failures=1, cooldown_s=10)
    fail(breaker)
    clock.now = 4.0
    permit = await breaker.wait_allowed(max_wait_s=30)
    assert permit.probe
    assert clock.now == pytest.approx(10.0)  # slept exactly until the cooldown ended


async def test_wait_allowed_is_bounded() -> None:
    clock = FakeClock()
    breaker, _ = make(clock, failures=1, cooldown_s=60)
    fail(breaker)
    with pytest.raises(BreakerOpenError, match="within 5s"):
        await breaker.wait_allowed(max_wait_s=5)
    assert clock.now == pytest.approx(5.0)


async def test_waiters_in_half_open_go_when_the_probe_closes_the_breaker() -> None:
    clock = FakeClock()
    breaker, _ = make(clock, failures=1, cooldown_s=1)
    fail(breaker)
    clock.now = 1.0
    probe = breaker.try_enter()
    assert probe is not None
    waiter = asyncio.ensure_future(breaker.wait_allowed(max_wait_s=1e9))
    await asyncio.sleep(0)
    assert not waiter.done()
    breaker.record(probe, None)
    permit = await asyncio.wait_for(waiter, 1)
    assert permit.state == "closed" and not permit.probe


async def test_admit_records_the_block_outcome() -> None:
    clock = FakeClock()
    breaker, _ = make(clock, failures=2)
    for _ in range(2):
        with pytest.raises(ServerError):
            async with breaker.admit(1.0) as permit:
                assert permit.state == "closed"
                raise ServerError("down", status=503)
    assert breaker.state == "open"

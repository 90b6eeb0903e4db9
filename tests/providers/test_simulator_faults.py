"""Fault and delay draws: seeded per model, in arrival order; outages by a (fake) clock."""

from __future__ import annotations

from collections import Counter

import pytest

from providers.simulator.config import FaultConfig, LatencyConfig, Outage
from providers.simulator.faults import FaultInjector, delay_s, drawn_kind
from tests.providers.fake_clock import FakeClock

MIXED = FaultConfig(http_5xx=0.2, http_429=0.1, hang=0.05, reset=0.05, refusal=0.1, malformed=0.1)
NO_DELAY = LatencyConfig()
OPENAI_5XX = (500, 502, 503)


def outcomes(injector: FaultInjector, model: str, n: int, faults: FaultConfig = MIXED) -> list[tuple]:
    return [(d.kind, d.status) for d in (injector.decide(model, 0, faults, NO_DELAY, OPENAI_5XX) for _ in range(n))]


def test_same_seed_same_sequence_and_models_do_not_disturb_each_other():
    first, second = FaultInjector(7), FaultInjector(7)
    expected = outcomes(first, "a", 200)
    # the other injector interleaves requests for another model with other settings
    interleaved = []
    for _ in range(200):
        interleaved += outcomes(second, "a", 1)
        outcomes(second, "b", 2, FaultConfig(http_5xx=1.0))
    assert interleaved == expected
    assert outcomes(FaultInjector(8), "a", 200) != expected


def test_fault_shares_follow_the_probabilities():
    counts = Counter(kind for kind, _ in outcomes(FaultInjector(1), "m", 4000))
    for kind, share in [("http_5xx", 0.2), ("http_429", 0.1), ("refusal", 0.1), ("none", 0.4)]:
        assert counts[kind] / 4000 == pytest.approx(share, abs=0.03)
    statuses = {status for kind, status in outcomes(FaultInjector(1), "m", 400) if kind == "http_5xx"}
    assert statuses == set(OPENAI_5XX)


def test_drawn_kind_slices():
    faults = FaultConfig(http_5xx=0.5, malformed=0.25)
    assert [drawn_kind(faults, u) for u in (0.0, 0.49, 0.5, 0.74, 0.75, 0.99)] == [
        "http_5xx", "http_5xx", "malformed", "malformed", "none", "none"]


def test_429_carries_retry_after():
    decision = FaultInjector(0).decide("m", 0, FaultConfig(http_429=1.0, retry_after_s=3), NO_DELAY, OPENAI_5XX)
    assert (decision.kind, decision.status, decision.retry_after_s) == ("http_429", 429, 3.0)


def test_delay_mean_jitter_and_tail():
    latency = LatencyConfig(mean=200, jitter=50, tail_p=0.1, tail=1000)
    assert delay_s(latency, 0.5, 0.5) == pytest.approx(0.2)
    assert delay_s(latency, 0.0, 0.5) == pytest.approx(0.15)
    assert delay_s(latency, 1.0, 0.05) == pytest.approx(1.25)
    assert delay_s(LatencyConfig(mean=10, jitter=50), 0.0, 0.9) == 0.0


def test_outage_window_by_the_clock():
    clock = FakeClock(100.0)
    injector = FaultInjector(0, clock=clock)
    faults = FaultConfig(outages=[Outage(start_s=30, duration_s=20, status=503),
                                  Outage(start_s=60, duration_s=5, status=429)], retry_after_s=2)
    seen = []
    for elapsed in (0, 29.9, 30, 49.9, 50, 60, 64.9, 65):
        clock.now = 100.0 + elapsed
        decision = injector.decide("m", 0, faults, NO_DELAY, OPENAI_5XX)
        seen.append((decision.kind, decision.status, decision.retry_after_s))
    assert seen == [("none", None, None), ("none", None, None), ("outage", 503, None), ("outage", 503, None),
                    ("none", None, None), ("outage", 429, 2.0), ("outage", 429, 2.0), ("none", None, None)]

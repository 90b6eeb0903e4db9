"""ProviderGate against scripted fake providers on a fake clock."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable

import pytest

from providers.errors import (
    MalformedToolCall,
    ProviderError,
    ProviderUnavailable,
    RateLimited,
    Refusal,
    ServerError,
    Timeout,
)
from providers.gate import gate as gate_module
from providers.gate.config import BreakerConfig, GateConfig
from providers.gate.gate import ProviderGate
from providers.types import AttemptRecord, Completion, CompletionRequest, Message, ToolCall
from tests.providers.fake_clock import FakeClock

REQUEST = CompletionRequest(model="m", messages=(Message("user", "spell cat"),), timeout_s=600)



class ScriptedProvider:
    """Answers with the scripted errors in turn (the last one repeats); None is a reply.
    Each call takes ``latency_s`` on the fake clock."""

    def __init__(self, clock: FakeClock, outcomes: Iterable[ProviderError | None], latency_s: float = 0.25):
        self.clock = clock
        self.outcomes = list(outcomes)
        self.latency_s = latency_s
        self.requests: list[CompletionRequest] = []

    async def complete(self, request: CompletionRequest) -> Completion:
        outcome = self.outcomes[min(len(self.requests), len(self.outcomes) - 1)]
        self.requests.append(request)
        self.clock.now += self.latency_s
        await asyncio.sleep(0)  # a reply takes at least one turn of the loop
        if outcome is not None:
            raise outcome
        return Completion(text="cat", input_tokens=12, output_tokens=3)

    async def aclose(self) -> None:
        return None


def make_gate(clock: FakeClock, events: list | None = None, **config) -> ProviderGate:
    settings = {"max_attempts": 5, "max_identical_failures": 5, "backoff_base_s": 0.1, "backoff_max_s": 1.0,
                "timeout_s": 30, **config}
    sink = (lambda kind, **fields: events.append((kind, fields))) if events is not None else None
    return ProviderGate("sim", GateConfig(**settings), clock=clock, sleep=clock.sleep, on_event=sink)


async def complete(gate: ProviderGate, provider: ScriptedProvider) -> tuple[Completion | Exception, list]:
    records: list[AttemptRecord] = []
    try:
        result: Completion | Exception = await gate.complete(provider, REQUEST, model_id="sim-noisy",
                                                             on_attempt=records.append)
    except ProviderError as error:
        result = error
    return result, records


async def test_one_record_for_a_first_time_success() -> None:
    clock = FakeClock(1000.0)
    gate = make_gate(clock)
    before = time.time()
    result, records = await complete(gate, ScriptedProvider(clock, [None]))
    assert isinstance(result, Completion) and result.text == "cat"
    [record] = records
    assert (record.provider, record.model_id, record.attempt, record.outcome, record.http_status) == (
        "sim", "sim-noisy", 1, "ok", 200)
    assert (record.input_tokens, record.output_tokens, record.breaker_state) == (12, 3, "closed")
    assert record.latency_s == pytest.approx(0.25)
    assert before <= record.started_at <= time.time()
    assert record.error_message is None and record.retry_after_s is None


async def test_every_attempt_recorded_numbered_with_its_outcome() -> None:
    clock = FakeClock(1000.0)
    gate = make_gate(clock)
    provider = ScriptedProvider(clock, [ServerError("bad gateway", status=502), RateLimited(retry_after=2.0),
                                        Timeout("read timeout"), None])
    result, records = await complete(gate, provider)
    assert isinstance(result, Completion)
    assert [r.attempt for r in records] == [1, 2, 3, 4]
    assert [r.outcome for r in records] == ["http_5xx", "http_429", "timeout", "ok"]
    assert [r.http_status for r in records] == [502, 429, None, 200]
    assert [r.retry_after_s for r in records] == [None, 2.0, None, None]
    assert records[0].error_message == "bad gateway"
    assert 2.0 in clock.sleeps  # Retry-After honoured
    assert gate.counters.attempts == {"http_5xx": 1, "http_429": 1, "timeout": 1, "ok": 1}


async def test_non_retryable_error_raised_right_after_its_record() -> None:
    clock = FakeClock(1000.0)
    gate = make_gate(clock)
    refusal = Refusal("content filter", status=200)
    result, records = await complete(gate, ScriptedProvider(clock, [refusal, None]))
    assert result is refusal
    assert [(r.attempt, r.outcome, r.http_status) for r in records] == [(1, "refusal", 200)]


async def test_malformed_tool_call_record_keeps_the_tokens_spent() -> None:
    clock = FakeClock(1000.0)
    gate = make_gate(clock)
    partial = Completion(text="", tool_calls=(ToolCall(id="1", name="t", error="not JSON"),),
                         input_tokens=40, output_tokens=9)
    result, records = await complete(gate, ScriptedProvider(clock, [MalformedToolCall("bad", completion=partial)]))
    assert isinstance(result, MalformedToolCall)
    assert [(r.outcome, r.input_tokens, r.output_tokens) for r in records] == [("malformed", 40, 9)]


async def test_spent_retries_end_as_provider_unavailable_with_the_last_cause() -> None:
    clock = FakeClock(1000.0)
    gate = make_gate(clock, max_attempts=3, breaker=BreakerConfig(failures=100))
    last = ServerError("overloaded", status=529)
    result, records = await complete(gate, ScriptedProvider(clock, [ServerError("a", status=500),
                                                                    ServerError("b", status=503), last]))
    assert isinstance(result, ProviderUnavailable)
    assert result.cause is last
    assert "sim: gave up after 3 attempt(s)" in str(result)
    assert [r.attempt for r in records] == [1, 2, 3]
    assert gate.counters.unavailable == 1 and gate.counters.calls == 1


async def test_open_breaker_is_waited_for_then_gives_up_without_attempting() -> None:
    clock = FakeClock(1000.0)
    gate = make_gate(clock, breaker=BreakerConfig(failures=2, cooldown_s=60, max_wait_s=5))
    provider = ScriptedProvider(clock, [ServerError("a", status=503), ServerError("b", status=503), None])
    result, records = await complete(gate, provider)
    assert isinstance(result, ProviderUnavailable)
    assert "circuit breaker open" in str(result) and "last error: b" in str(result)
    assert isinstance(result.cause, ServerError) and str(result.cause) == "b"
    assert len(records) == len(provider.requests) == 2  # no attempt while open
    assert gate.counters.breaker_state == "open" and gate.counters.breaker_opens == 1

    # a later call finds the breaker open and fails fast: no attempt, no provider call
    result, records = await complete(gate, provider)
    assert isinstance(result, ProviderUnavailable) and result.cause is None
    assert records == [] and len(provider.requests) == 2


async def test_calls_wait_out_the_cooldown_and_the_probe_is_recorded_half_open() -> None:
    clock = FakeClock(1000.0)
    events: list = []
    gate = make_gate(clock, events, breaker=BreakerConfig(failures=2, cooldown_s=3, max_wait_s=10))
    provider = ScriptedProvider(clock, [ServerError("a", status=503), ServerError("b", status=503), None])
    result, records = await complete(gate, provider)
    assert isinstance(result, Completion)
    assert [(r.attempt, r.outcome, r.breaker_state) for r in records] == [
        (1, "http_5xx", "closed"), (2, "http_5xx", "closed"), (3, "ok", "half_open")]
    breaker_events = [(f["from_state"], f["to_state"]) for kind, f in events if kind == "breaker"]
    assert breaker_events == [("closed", "open"), ("open", "half_open"), ("half_open", "closed")]
    assert gate.breaker.state == "closed"


async def test_events_carry_unix_times_matching_the_gate_clock() -> None:
    clock = FakeClock(1000.0)
    events: list = []
    gate = make_gate(clock, events, breaker=BreakerConfig(failures=1, cooldown_s=3, max_wait_s=10))
    provider = ScriptedProvider(clock, [ServerError("a", status=503), None], latency_s=0.0)
    await complete(gate, provider)
    ats = [f["at"] for kind, f in events if kind == "breaker"]
    assert ats[1] - ats[0] == pytest.approx(3.0, abs=1e-3)  # the cooldown, on the fake clock
    assert all(abs(at - time.time()) < 60 for at in ats)


async def test_adaptive_concurrency_changes_are_reported() -> None:
    clock = FakeClock(1000.0)
    events: list = []
    gate = make_gate(clock, events)
    await asyncio.gather(*(complete(gate, ScriptedProvider(clock, [None])) for _ in range(4 + 8)))
    assert [f["value"] for kind, f in events if kind == "concurrency"] == [8, 16]
    assert gate.counters.limit == 16


async def test_max_in_flight_pins_concurrency() -> None:
    clock = FakeClock(1000.0)
    gate = make_gate(clock, max_in_flight=3)
    for _ in range(10):
        await complete(gate, ScriptedProvider(clock, [None]))
    assert gate.counters.limit == 3


async def test_request_timeout_is_capped_by_the_config() -> None:
    clock = FakeClock(1000.0)
    gate = make_gate(clock, timeout_s=30)
    provider = ScriptedProvider(clock, [None])
    await complete(gate, provider)
    assert provider.requests[0].timeout_s == 30


async def test_a_provider_that_ignores_its_timeout_is_cut_off_by_the_gate(monkeypatch) -> None:
    monkeypatch.setattr(gate_module, "BACKSTOP_GRACE_S", 0.0)
    clock = FakeClock(1000.0)
    gate = make_gate(clock, timeout_s=0.01, max_attempts=2)

    class Hanging(ScriptedProvider):
        async def complete(self, request: CompletionRequest) -> Completion:
            self.requests.append(request)
            await asyncio.sleep(10)
            raise AssertionError("not reached")

    result, records = await complete(gate, Hanging(clock, [None]))
    assert isinstance(result, ProviderUnavailable) and isinstance(result.cause, Timeout)
    assert [r.outcome for r in records] == ["timeout", "timeout"]


async def test_counters_show_in_flight_calls() -> None:
    clock = FakeClock(1000.0)
    gate = make_gate(clock, max_in_flight=2)
    release = asyncio.Event()

    class Held(ScriptedProvider):
        async def complete(self, request: CompletionRequest) -> Completion:
            await release.wait()
            return Completion(text="ok")

    calls = [asyncio.ensure_future(complete(gate, Held(clock, [None]))) for _ in range(3)]
    for _ in range(5):
        await asyncio.sleep(0)
    counters = gate.counters
    assert (counters.in_flight, counters.waiting, counters.calls) == (2, 1, 3)
    release.set()
    await asyncio.gather(*calls)
    assert gate.counters.attempts == {"ok": 3} and gate.counters.in_flight == 0


async def test_calls_queued_when_the_breaker_opens_do_not_reach_the_provider() -> None:
    clock = FakeClock(1000.0)
    gate = make_gate(clock, max_in_flight=1, breaker=BreakerConfig(failures=1, cooldown_s=60, max_wait_s=1))
    release = asyncio.Event()

    class FailsWhenReleased(ScriptedProvider):
        async def complete(self, request: CompletionRequest) -> Completion:
            self.requests.append(request)
            await release.wait()
            raise ServerError("down", status=503)

    provider = FailsWhenReleased(clock, [None])
    first = asyncio.ensure_future(complete(gate, provider))
    for _ in range(3):
        await asyncio.sleep(0)
    queued = asyncio.ensure_future(complete(gate, provider))  # let in while closed, waits for the slot
    for _ in range(3):
        await asyncio.sleep(0)
    assert gate.counters.waiting == 1
    release.set()
    (first_result, first_records), (queued_result, queued_records) = await asyncio.gather(first, queued)
    assert isinstance(first_result, ProviderUnavailable) and len(first_records) == 1
    assert isinstance(queued_result, ProviderUnavailable) and queued_records == []
    assert len(provider.requests) == 1


@pytest.mark.parametrize(("n", "max_in_flight", "expected"), [
    (2, 32, [16, 16]),
    (3, 7, [3, 2, 2]),  # the remainder goes to the first runners
    (2, 1, [1, None]),  # fewer calls than runners: only the first runner serves the endpoint
    (4, 3, [1, 1, 1, None]),
    (3, None, [None, None, None]),  # adaptive: nothing pinned
])
def test_shares_of_max_in_flight_sum_to_the_budget(n, max_in_flight, expected) -> None:
    config = GateConfig(rpm=600, tpm=60_000, max_in_flight=max_in_flight, adaptive_max=256)
    shares = [config.share(n, i) for i in range(n)]
    serving = [share for share in shares if share is not None]
    assert len(serving) == config.serving(n)
    assert [share.max_in_flight if share else None for share in shares] == expected
    assert sum(share.rpm for share in serving) == pytest.approx(600)
    assert sum(share.tpm for share in serving) == pytest.approx(60_000)
    assert sum(share.adaptive_max for share in serving) <= 256
    with pytest.raises(ValueError):
        config.share(n, n)


async def test_adaptive_concurrency_starts_at_the_rate_limits_first_window() -> None:
    clock = FakeClock(1000.0)
    events: list = []
    gate = make_gate(clock, events, rpm=3000)  # 50 permits in any 1 s window
    assert gate.counters.limit == 50
    assert gate.concurrency.history[0][0] == 50
    # it still halves on a 429 from there
    await complete(gate, ScriptedProvider(clock, [RateLimited("slow down", retry_after=0.0), None]))
    assert gate.counters.limit == 25
    assert [f["value"] for kind, f in events if kind == "concurrency"] == [25]


@pytest.mark.parametrize(("config", "expected"), [
    ({}, 4),  # nothing known: open from 4
    ({"rpm": 60}, 4),  # a slow endpoint still gets the usual opening
    ({"rpm": 3000, "adaptive_max": 32}, 32),  # never above the cap
    ({"rpm": 3000, "adaptive_max": 2}, 2),
    ({"rpm": 1200}, 20),
])
def test_where_adaptive_concurrency_starts(config, expected) -> None:
    assert gate_module.adaptive_initial_limit(GateConfig(**config)) == expected

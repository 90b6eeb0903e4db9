"""The gate through the real OpenAIProvider against the simulator on 127.0.0.1.

The server's own counts (``stats()``) are the witness: what it saw must match what the gate
recorded, and never exceed the configured rate.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter

from providers.errors import ProviderError, ProviderUnavailable
from providers.gate.config import BreakerConfig, GateConfig
from providers.gate.gate import ProviderGate
from providers.openai_provider import OpenAIProvider
from providers.simulator import FaultConfig, ModelProfile, Outage, SimulatorServer
from providers.types import AttemptRecord, CompletionRequest, Message

KEY = "sk-test-gate"
# Server arrival times lag the gate's permits by a few ms of client and loop work, unevenly; so a
# server-side second can catch one permit that left the gate just before its boundary. Permits are
# 1/rate apart (50 ms at 1200 rpm), far more than that jitter, so the skew adds at most one per gate.
BOUNDARY_SKEW = 1


def request(model: str) -> CompletionRequest:
    return CompletionRequest(model=model, messages=(Message("user", "hello"),), max_tokens=16, timeout_s=5)


def fast_retries(**overrides) -> GateConfig:
    settings = {"max_attempts": 8, "max_identical_failures": 8, "backoff_base_s": 0.02, "backoff_max_s": 0.1,
                "breaker": BreakerConfig(failures=1000, failure_ratio=1.0, window=1000), **overrides}
    return GateConfig(**settings)


async def test_5xx_and_429_are_retried_and_every_server_hit_is_recorded() -> None:
    profile = ModelProfile(faults=FaultConfig(http_5xx=0.25, http_429=0.2, retry_after_s=0.15))
    async with SimulatorServer({"flaky": profile}, seed=3) as sim:
        provider = OpenAIProvider(api_key=KEY, base_url=sim.openai_base_url)
        gate = ProviderGate("simulated", fast_retries())
        records: list[AttemptRecord] = []
        per_call: list[list[AttemptRecord]] = []

        async def one_call() -> str:
            mine: list[AttemptRecord] = []
            per_call.append(mine)

            def keep(record: AttemptRecord) -> None:
                mine.append(record)
                records.append(record)

            try:
                await gate.complete(provider, request("flaky"), model_id="sim-flaky", on_attempt=keep)
                return "ok"
            except ProviderUnavailable:
                return "unavailable"

        try:
            results = await asyncio.gather(*(one_call() for _ in range(24)))
        finally:
            await provider.aclose()
        stats = sim.stats()

    served = stats["by_model"]["flaky"]
    recorded = Counter(r.outcome for r in records)
    assert stats["requests"] == len(records)
    assert dict(recorded) == served  # outcome by outcome, the two sides agree
    assert recorded["http_5xx"] > 0 and recorded["http_429"] > 0
    assert results.count("ok") == recorded["ok"]  # every call that got through ended on its ok attempt
    for mine in per_call:
        assert [r.attempt for r in mine] == list(range(1, len(mine) + 1))
        for failed, retried in zip(mine, mine[1:], strict=False):
            if failed.outcome == "http_429":
                assert failed.retry_after_s == 0.15
                gap = retried.started_at - (failed.started_at + failed.latency_s)
                assert gap >= 0.15 - 0.005  # Retry-After honoured


async def test_an_outage_opens_the_breaker_which_fails_fast_then_probes_and_closes() -> None:
    outage = Outage(start_s=0.5, duration_s=1.5, status=503)
    profile = ModelProfile(faults=FaultConfig(outages=[outage]))
    config = fast_retries(max_attempts=3, breaker=BreakerConfig(failures=3, cooldown_s=0.5, max_wait_s=0.1))
    events: list[tuple[str, dict]] = []
    async with SimulatorServer({"down": profile}, seed=0) as sim:
        started = sim.stats()["started_at"]
        provider = OpenAIProvider(api_key=KEY, base_url=sim.openai_base_url)
        gate = ProviderGate("simulated", config, on_event=lambda kind, **f: events.append((kind, f)))
        records: list[AttemptRecord] = []
        fast_failures: list[float] = []

        async def worker() -> None:
            while time.time() < started + 3.0:
                began = time.monotonic()
                try:
                    await gate.complete(provider, request("down"), model_id="sim-down", on_attempt=records.append)
                except ProviderUnavailable as error:
                    if not records or "circuit breaker" in str(error):
                        fast_failures.append(time.monotonic() - began)
                except ProviderError:
                    pass
                await asyncio.sleep(0.02)

        try:
            await asyncio.gather(*(worker() for _ in range(4)))
        finally:
            await provider.aclose()
        stats = sim.stats()

    assert stats["requests"] == len(records)
    changes = [(f["from_state"], f["to_state"], f["at"] - started) for kind, f in events if kind == "breaker"]
    assert changes[0][:2] == ("closed", "open")
    assert changes[0][2] >= outage.start_s - 0.05
    assert changes[-1][:2] == ("half_open", "closed")
    assert changes[-1][2] >= outage.start_s + outage.duration_s - 0.05  # closed only once the outage ended
    assert gate.breaker.state == "closed"
    assert {"open", "half_open"} <= {to for _, to, _ in changes}

    # no attempt started while the breaker was open
    open_spans = [(at, next_at) for (_, to, at), (_, _, next_at) in zip(changes, changes[1:], strict=False)
                  if to == "open"]
    for record in records:
        offset = record.started_at - started
        assert not any(begin + 0.002 < offset < end - 0.002 for begin, end in open_spans), (offset, open_spans)
    probes = [r for r in records if r.breaker_state == "half_open"]
    assert probes and probes[-1].outcome == "ok"

    # callers arriving while it was open gave up fast, without a request
    assert fast_failures and max(fast_failures) < config.breaker.max_wait_s + 0.25


async def rate_run(configs: list[GateConfig], callers: int, duration_s: float) -> dict[str, dict[str, int]]:
    """Requests the server saw per wall-clock second, by gate (gate ``i`` calls model ``fast-i``)."""
    models = [f"fast-{i}" for i in range(len(configs))]
    async with SimulatorServer({model: ModelProfile() for model in models}, seed=0) as sim:
        providers = [OpenAIProvider(api_key=KEY, base_url=sim.openai_base_url) for _ in configs]
        gates = [ProviderGate(f"simulated-{i}", config) for i, config in enumerate(configs)]

        async def caller(index: int) -> None:
            i = index % len(gates)
            while True:
                await gates[i].complete(providers[i], request(models[i]), model_id=f"sim-{models[i]}",
                                        on_attempt=lambda _: None)

        tasks = [asyncio.ensure_future(caller(i)) for i in range(callers)]
        try:
            done, _ = await asyncio.wait(tasks, timeout=duration_s)
            assert not done, [task.exception() for task in done]  # callers only stop when cancelled
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            for provider in providers:
                await provider.aclose()
        return sim.stats()["per_second_by_model"]


def totals(by_gate: dict[str, dict[str, int]]) -> Counter[str]:
    return sum((Counter(seconds) for seconds in by_gate.values()), Counter())


async def test_40_callers_through_one_gate_never_exceed_the_rate() -> None:
    per_second = totals(await rate_run([GateConfig(rpm=1200)], callers=40, duration_s=2.5))
    assert max(per_second.values()) <= 20 + BOUNDARY_SKEW
    assert sum(per_second.values()) >= 20 * 2.5 * 0.8  # and the rate is used, not starved


async def test_two_gates_sharing_a_split_budget_never_exceed_the_rate() -> None:
    shares = [GateConfig(rpm=1200).share(2, i) for i in range(2)]
    assert [share.rpm for share in shares] == [600, 600]
    by_gate = await rate_run(shares, callers=40, duration_s=2.5)
    for seconds in by_gate.values():
        assert max(seconds.values()) <= 10 + BOUNDARY_SKEW
    # The gates pace independently, so each can put one permit across a second's boundary.
    per_second = totals(by_gate)
    assert max(per_second.values()) <= 20 + 2 * BOUNDARY_SKEW
    assert sum(per_second.values()) >= 20 * 2.5 * 0.8

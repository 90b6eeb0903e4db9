"""How many calls/s one provider gate sustains, and how closely its rate limiter keeps to the rate.

Against the simulator in a child process (so the server's CPU does not share this event loop),
at zero server latency, through the real ``OpenAIProvider``:

1. **throughput** — ``--callers`` callers loop for ``--seconds`` through one gate whose rpm is far
   out of reach (adaptive concurrency, everything else default), then the same callers on the bare
   provider. Prints calls/s and client CPU per call for both; the difference is the gate's cost.
2. **compliance** — the same callers through one gate at ``--rpm``, then through two gates built
   from ``GateConfig.share(2, i)``. Prints the worst 1-second window seen by the server (its
   per-second counts) and on the gate's side (a sliding window over the attempts' start times),
   against the budget of ``rpm / 60``.

    python benchmarks/gate_rate.py [--seconds 5] [--callers 64] [--rpm 1200]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from providers.gate.config import GateConfig  # noqa: E402 - after the path setup
from providers.gate.gate import ProviderGate  # noqa: E402
from providers.openai_provider import OpenAIProvider  # noqa: E402
from providers.simulator import ModelProfile, SimulatorProcess  # noqa: E402
from providers.types import AttemptRecord, CompletionRequest, Message  # noqa: E402
from tests.rate_window import max_in_window  # noqa: E402

MODEL = "fast"
KEY = "sk-bench"
REQUEST = CompletionRequest(model=MODEL, messages=(Message("user", "hello"),), max_tokens=16, timeout_s=10)
UNREACHABLE_RPM = 1e9



async def run_callers(call: Callable[[int], Awaitable[object]], callers: int, seconds: float) -> tuple[int, float, float]:
    """Callers loop on ``call`` for ``seconds``; returns (calls completed, wall s, client CPU s)."""
    completed = 0

    async def caller(index: int) -> None:
        nonlocal completed
        while True:
            await call(index)
            completed += 1

    tasks = [asyncio.ensure_future(caller(i)) for i in range(callers)]
    wall, cpu = time.perf_counter(), time.process_time()
    done, _ = await asyncio.wait(tasks, timeout=seconds)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for task in done:
        task.result()  # a caller that stopped on its own failed: show why
    return completed, wall, cpu


async def throughput(base_url: str, callers: int, seconds: float) -> None:
    provider = OpenAIProvider(api_key=KEY, base_url=base_url)
    try:
        await provider.complete(REQUEST)  # warm the connection pool
        gate = ProviderGate("simulated", GateConfig(rpm=UNREACHABLE_RPM))
        gated = await run_callers(
            lambda _: gate.complete(provider, REQUEST, model_id=MODEL, on_attempt=lambda _: None), callers, seconds)
        bare = await run_callers(lambda _: provider.complete(REQUEST), callers, seconds)
    finally:
        await provider.aclose()
    print(f"throughput, {callers} callers, {seconds:g} s, server latency 0:")
    for label, (calls, wall, cpu) in (("through the gate", gated), ("bare provider", bare)):
        print(f"  {label:<17} {calls / wall:8.0f} calls/s   client CPU {1000 * cpu / max(calls, 1):.2f} ms/call")
    gate_cpu_ms = 1000 * (gated[2] / max(gated[0], 1) - bare[2] / max(bare[0], 1))
    print(f"  gate cost           {gate_cpu_ms:.3f} ms CPU per call; adaptive limit ended at "
          f"{gate.counters.limit} (history: {[limit for limit, _ in gate.concurrency.history]})")


async def compliance(sim: SimulatorProcess, base_url: str, configs: list[GateConfig], callers: int,
                     seconds: float, rpm: float, label: str) -> None:
    before = sim.stats()["per_second_by_model"].get(MODEL, {})
    providers = [OpenAIProvider(api_key=KEY, base_url=base_url) for _ in configs]
    gates = [ProviderGate(f"simulated-{i}", config) for i, config in enumerate(configs)]
    starts: list[float] = []

    def keep(record: AttemptRecord) -> None:
        starts.append(record.started_at)

    try:
        calls, wall, _ = await run_callers(
            lambda i: gates[i % len(gates)].complete(providers[i % len(gates)], REQUEST, model_id=MODEL,
                                                     on_attempt=keep), callers, seconds)
    finally:
        for provider in providers:
            await provider.aclose()
    await asyncio.sleep(0.2)  # let requests cancelled at the end reach the server's counts
    after = sim.stats()["per_second_by_model"].get(MODEL, {})
    per_second = [n - before.get(second, 0) for second, n in after.items() if n - before.get(second, 0) > 0]
    budget = rpm / 60
    server_worst = max(per_second)
    gate_worst = max_in_window(starts)
    print(f"compliance, {label}, rpm {rpm:g} (budget {budget:g} per 1 s window), {callers} callers, {seconds:g} s:")
    print(f"  achieved            {calls / wall:8.2f} calls/s")
    print(f"  worst server second {server_worst:8d}   overshoot {server_worst - budget:+g}")
    print(f"  worst 1 s window    {gate_worst:8d}   overshoot {gate_worst - budget:+g} (gate side, sliding)")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--callers", type=int, default=64)
    parser.add_argument("--rpm", type=float, default=1200.0)
    args = parser.parse_args()
    async with SimulatorProcess({MODEL: ModelProfile()}, seed=0) as sim:
        await throughput(sim.openai_base_url, args.callers, args.seconds)
        await compliance(sim, sim.openai_base_url, [GateConfig(rpm=args.rpm)], args.callers, args.seconds,
                         args.rpm, "one gate")
        shares = [GateConfig(rpm=args.rpm).share(2, i) for i in range(2)]
        await compliance(sim, sim.openai_base_url, shares, args.callers, args.seconds, args.rpm,
                         "two gates of share(2, i)")


if __name__ == "__main__":
    asyncio.run(main())

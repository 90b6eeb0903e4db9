"""The runner without Ray: per-gate episode slots, and what an exchange reports as running."""

from __future__ import annotations

from orchestrator.capacity import gate_shares
from orchestrator.config import SweepConfig
from orchestrator.endpoints import simulator_profiles
from orchestrator.plan import build_plan
from orchestrator.runner import EpisodeRunner
from providers.simulator import SimulatorServer


def config(max_in_flight: int | None) -> SweepConfig:
    gate = {"max_in_flight": max_in_flight} if max_in_flight else {}
    return SweepConfig.model_validate({
        "name": "r", "tasks": [{"name": "typewriter_single", "limit": 4}], "seeds": 1,
        "models": [{"id": "slow", "provider": "simulated", "model": "oracle",
                    "latency_ms": {"mean": 150, "jitter": 0}}],
        "providers": {"simulated": gate}})


async def first_exchange(cfg: SweepConfig) -> tuple[int, int, int]:
    """(running, held, finished) at the first exchange, then every episode run to the end."""
    async with SimulatorServer(simulator_profiles(cfg)) as sim:
        runner = EpisodeRunner(cfg, run="r", runner="runner-0", shares=gate_shares(cfg, 1, 0),
                               simulator_url=sim.base_url)
        plan = build_plan(cfg)
        first = await runner.exchange(plan, wait_s=0.05)
        held = runner.describe()["held"]
        done = list(first.done_ids)
        while len(done) < len(plan):
            done += (await runner.exchange([], wait_s=1.0)).done_ids
        await runner.close()
    assert sorted(done) == sorted(spec.episode_id for spec in plan)
    return first.running, held, len(first.done_ids)


async def test_a_gate_pinned_to_one_call_runs_one_episode_and_holds_the_rest() -> None:
    assert await first_exchange(config(max_in_flight=1)) == (1, 4, 0)


async def test_an_adaptive_gate_runs_every_held_episode_at_once() -> None:
    assert await first_exchange(config(max_in_flight=None)) == (4, 4, 0)


def test_a_runner_actor_freezes_its_start_up_objects_and_an_in_process_runner_does_not() -> None:
    """A Ray actor owns its process and freezes what start-up made out of its collector
    (orchestrator.ray_pool); a runner built in-process leaves this process's collector as it found
    it. Neither changes how often the collector runs."""
    import gc

    from orchestrator.ray_pool import RunnerActor

    cfg = config(max_in_flight=None)
    args = {"run": "r", "runner": "runner-0", "shares": gate_shares(cfg, 1, 0), "simulator_url": "http://127.0.0.1:9"}
    thresholds = gc.get_threshold()
    frozen = gc.get_freeze_count()
    try:
        EpisodeRunner(cfg, **args)
        assert gc.get_freeze_count() == frozen
        RunnerActor(cfg, **args)
        assert gc.get_freeze_count() > frozen
        assert gc.get_threshold() == thresholds
    finally:
        gc.unfreeze()

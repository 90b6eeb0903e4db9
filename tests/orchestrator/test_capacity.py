"""Episode slots per runner and endpoint: an endpoint's max_in_flight is reachable by default, and
a setting that keeps it out of reach is applied with a warning."""

from __future__ import annotations

import pytest

from orchestrator.capacity import DEFAULT_SLOTS, episode_slots, gate_shares, unreachable_caps
from orchestrator.cli import main
from orchestrator.config import SweepConfig
from orchestrator.endpoints import simulator_profiles
from orchestrator.plan import build_plan
from orchestrator.runner import EpisodeRunner
from providers.gate.config import GateConfig
from providers.simulator import SimulatorServer


def config(max_in_flight: int | None = None, runners: int = 2, per_runner: int | None = None,
           seeds: int = 1, latency_ms: int = 0) -> SweepConfig:
    ray = {"runners": runners} | ({"max_concurrency_per_runner": per_runner} if per_runner else {})
    return SweepConfig.model_validate({
        "name": "cap", "tasks": ["typewriter_single"], "seeds": seeds,
        "models": [{"id": "s", "provider": "simulated", "model": "oracle",
                    "latency_ms": {"mean": latency_ms, "jitter": 0}}],
        "providers": {"simulated": {"max_in_flight": max_in_flight} if max_in_flight else {}},
        "ray": ray})


@pytest.mark.parametrize(("max_in_flight", "per_runner", "expected"), [
    (None, None, DEFAULT_SLOTS),  # adaptive, unset: the documented default
    (None, 8, 8),                 # adaptive, set: the setting
    (200, None, 100),             # pinned, unset: the share of the cap, beyond the default 64
    (200, 64, 64),                # pinned, set lower: the setting (and a warning, below)
    (200, 500, 100),              # pinned, set higher: never more than the share
    (1, None, 1),                 # a local model's one call
])
def test_slots_per_runner(max_in_flight, per_runner, expected):
    cfg = config(max_in_flight, per_runner=per_runner)
    assert episode_slots(cfg, cfg.gate_config("simulated").share(2, 0)) == expected


def test_odd_shares_still_sum_to_the_cap():
    cfg = config(7, runners=3)
    gate = cfg.gate_config("simulated")
    assert [episode_slots(cfg, gate.share(3, i)) for i in range(3)] == [3, 2, 2]
    assert unreachable_caps(cfg) == []


def test_only_a_setting_below_the_share_warns():
    assert unreachable_caps(config(200)) == []
    assert unreachable_caps(config(200, per_runner=100)) == []
    assert unreachable_caps(config(None, per_runner=8)) == []
    [(loc, message)] = unreachable_caps(config(200, per_runner=64))
    assert loc == ("ray", "max_concurrency_per_runner")
    assert "at most 128 calls in flight to 'simulated', whose max_in_flight is 200: set it to 100" in message


def test_validate_prints_the_warning_with_file_and_line(tmp_path, capsys):
    path = tmp_path / "sweep.yaml"
    path.write_text("name: cap\ntasks: [typewriter_single]\nmodels: [{id: s, provider: simulated, model: oracle}]\n"
                    "providers: {simulated: {max_in_flight: 200}}\n"
                    "ray:\n  runners: 2\n  max_concurrency_per_runner: 64\n")
    assert main(["validate", str(path)]) == 0
    captured = capsys.readouterr()
    assert captured.err.startswith(f"warning: {path}:7: ray.max_concurrency_per_runner: 64 per runner × 2 runners")
    assert "OK" in captured.out
    path.write_text(path.read_text().replace("  max_concurrency_per_runner: 64\n", ""))
    assert main(["validate", str(path)]) == 0
    assert capsys.readouterr().err == ""


async def test_a_runner_keeps_its_whole_share_in_flight_by_default():
    """max_in_flight 200 over two runners: one runner runs 100 episodes at once, not 64."""
    cfg = config(200, seeds=5, latency_ms=400)  # 120 slow episodes
    assert GateConfig().max_in_flight is None
    async with SimulatorServer(simulator_profiles(cfg)) as sim:
        runner = EpisodeRunner(cfg, run="cap", runner="runner-0", shares=gate_shares(cfg, 2, 0),
                               simulator_url=sim.base_url)
        plan = build_plan(cfg)
        first = await runner.exchange(plan, wait_s=0.1, min_batch_s=0.0)
        await runner.close()
    assert len(plan) == 120 and first.running == 100

"""A runner on another node than the driver's simulator starts its own, and its episodes come out as
they would have against the driver's (no Ray: the runner's node id is set by hand)."""

from __future__ import annotations

import pyarrow as pa
import pytest

import orchestrator.runner as runner_module
from orchestrator.capacity import gate_shares
from orchestrator.config import SweepConfig
from orchestrator.endpoints import simulator_profiles
from orchestrator.node_simulator import needs_own_simulator
from orchestrator.plan import build_plan
from orchestrator.runner import EpisodeRunner
from providers.simulator import SimulatorProcess

COMPARED = ["episode_id", "status", "answer", "correct", "n_steps", "tool_calls", "input_tokens", "output_tokens"]


def config() -> SweepConfig:
    return SweepConfig.model_validate({
        "name": "nodes", "tasks": [{"name": "typewriter_single", "limit": 6}, {"name": "multiverse_math", "limit": 4}],
        "seeds": 2, "simulator": {"seed": 7},
        "models": [{"id": "noisy", "provider": "simulated", "model": "noisy", "latency_ms": {"mean": 5, "jitter": 2},
                    "noise": {"wrong_argument": 0.3, "stop_early": 0.2}}],
        "ray": {"runners": 1}})


def test_only_a_runner_on_another_node_needs_a_simulator_of_its_own():
    cfg = config()
    assert needs_own_simulator(cfg, simulator_node="A", node_id="B")
    assert not needs_own_simulator(cfg, simulator_node="A", node_id="A")
    assert not needs_own_simulator(cfg, simulator_node=None, node_id="B"), "unknown: the driver's is used"
    assert not needs_own_simulator(cfg, simulator_node="A", node_id=None)
    real = SweepConfig.model_validate({**cfg.model_dump(), "models": [
        {"id": "gpt", "provider": "openai", "model": "gpt-4o-mini"}]})
    assert not needs_own_simulator(real, simulator_node="A", node_id="B"), "no simulated model, no simulator"


async def run_all(runner: EpisodeRunner, cfg: SweepConfig) -> tuple[pa.Table, int, dict | None]:
    """The episodes (the compared columns), the number of calls made, and what ``close`` returned."""
    plan = build_plan(cfg)
    batches = [await runner.exchange(plan, wait_s=0.1)]
    while sum(len(b.done_ids) for b in batches) < len(plan):
        batches.append(await runner.exchange([], wait_s=1.0))
    served = await runner.close()
    episodes = pa.concat_tables([t for t in (b.table("episodes") for b in batches) if t is not None])
    calls = sum(t.num_rows for t in (b.table("calls") for b in batches) if t is not None)
    return episodes.select(COMPARED).sort_by("episode_id"), calls, served


@pytest.mark.timeout(120)
async def test_a_runner_elsewhere_runs_the_same_episodes_on_its_own_simulator(monkeypatch):
    cfg = config()
    shares = gate_shares(cfg, 1, 0)
    with SimulatorProcess(simulator_profiles(cfg), seed=cfg.simulator.seed) as driver_sim:
        monkeypatch.setattr(runner_module, "_node_id", lambda: "node-a")
        here = EpisodeRunner(cfg, run="r", runner="runner-0", shares=shares, simulator_url=driver_sim.base_url,
                             simulator_node="node-a")
        at_home, _, none_served = await run_all(here, cfg)
        driver_requests = driver_sim.stats()["requests"]

        monkeypatch.setattr(runner_module, "_node_id", lambda: "node-b")
        # the driver's URL is not reachable from node b: the runner must not use it
        elsewhere = EpisodeRunner(cfg, run="r", runner="runner-1", shares=shares, simulator_url="http://127.0.0.1:9",
                                  simulator_node="node-a")
        own_url = elsewhere.describe()["own_simulator"]
        assert own_url != driver_sim.base_url and own_url.startswith("http://127.0.0.1:")
        away, calls, served = await run_all(elsewhere, cfg)
        assert driver_sim.stats()["requests"] == driver_requests, "nothing reached the driver's simulator"

    assert none_served is None, "a runner on the driver's node has no simulator to report"
    assert at_home.num_rows == len(build_plan(cfg)) and set(at_home["status"].to_pylist()) == {"completed"}
    assert 0 < sum(at_home["correct"].to_pylist()) < at_home.num_rows, "the noisy policy should miss some"
    assert away.equals(at_home), "the same seed and profiles give the same episodes on any node"
    assert served is not None and served["node_id"] == "node-b" and served["runner"] == "runner-1"
    assert served["requests"] == calls > 0 and not served_url_alive(own_url), "stopped with the runner"


def served_url_alive(url: str) -> bool:
    import urllib.request

    try:
        urllib.request.build_opener(urllib.request.ProxyHandler({})).open(url + "/health", timeout=1.0)
    except OSError:
        return False
    return True

"""ToolSweep's adapters never send a tool history the real APIs reject: full sweeps of every task
through each wire format, with the oracle and the noisy policy (wrong tools, repeats, malformed
calls answered with errors), draw no 400 from the simulator, which checks histories as the APIs do."""

from __future__ import annotations

import pytest

import tasks
from orchestrator.config import load_config
from orchestrator.sweep import run_sweep
from tests.orchestrator.sweep_helpers import episodes, planned_ids, simulator_stats, write_config

pytestmark = [pytest.mark.ray, pytest.mark.usefixtures("ray_session")]

FORMATS = ("openai", "openai_responses", "anthropic", "google")


def test_no_adapter_sends_a_history_the_apis_reject(tmp_path):
    models = [{"id": f"{policy}-{fmt}", "provider": "simulated", "model": policy, "api_format": fmt,
               **({"faults": {"malformed": 0.1}} if policy == "noisy" else {})}
              for policy in ("oracle", "noisy") for fmt in FORMATS]
    path = write_config(tmp_path, tasks=[{"name": name, "limit": 4} for name in tasks.TASK_NAMES],
                        strategies=["native", "text"], models=models)
    assert run_sweep(load_config(path), config_path=path) == 0
    run = tmp_path / "runs" / "e2e"
    df = episodes(run)
    assert df.height == len(planned_ids(path)) == len(models) * len(tasks.TASK_NAMES) * 4 * 2
    outcomes: dict[str, int] = {}
    for stats in simulator_stats(run):
        for counts in stats["by_model"].values():
            for outcome, n in counts.items():
                outcomes[outcome] = outcomes.get(outcome, 0) + n
    assert outcomes.get("malformed", 0) > 0  # the noisy runs did send errors back as tool results
    assert outcomes.get("bad_request", 0) == 0, outcomes
    assert df.filter(df["model_id"].str.starts_with("oracle"))["correct"].all()

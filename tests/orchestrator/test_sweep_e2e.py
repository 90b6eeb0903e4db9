"""End to end: config → Ray runners → the simulator through the real SDKs → Arrow files."""

from __future__ import annotations

import threading
import time

import polars as pl
import pytest

import tasks
from orchestrator.config import load_config
from orchestrator.sweep import run_sweep
from tests.orchestrator.sweep_helpers import (
    calls,
    episodes,
    max_requests_per_second,
    planned_ids,
    simulator_stats,
    write_config,
)
from tests.rate_window import max_in_window

pytestmark = [pytest.mark.ray, pytest.mark.usefixtures("ray_session")]


def sweep(path, **kwargs) -> int:
    return run_sweep(load_config(path), config_path=path, **kwargs)


def test_the_oracle_is_perfect_everywhere_and_single_call_fails_long_words(tmp_path):
    path = write_config(
        tmp_path, tasks=list(tasks.TASK_NAMES), strategies=["native", "text"],
        models=[{"id": "oracle", "provider": "simulated", "model": "oracle"},
                {"id": "oracle-anthropic", "provider": "simulated", "model": "oracle", "api_format": "anthropic"},
                {"id": "oracle-responses", "provider": "simulated", "model": "oracle",
                 "api_format": "openai_responses"},
                {"id": "oracle-google", "provider": "simulated", "model": "oracle", "api_format": "google"},
                {"id": "weak", "provider": "simulated", "model": "single-call"}])
    assert sweep(path) == 0
    run = tmp_path / "runs" / "e2e"
    df = episodes(run)
    assert df.height == len(planned_ids(path)) and df["episode_id"].n_unique() == df.height
    assert set(df["episode_id"]) == planned_ids(path)

    oracle = df.filter(df["model_id"].str.starts_with("oracle"))
    assert oracle["status"].unique().to_list() == ["completed"]
    assert oracle["correct"].all() and oracle["steps_match"].all()
    assert (oracle["step_ratio"] == 1.0).all()
    assert oracle.filter(oracle["task"].str.starts_with("typewriter"))["state_correct"].all()
    assert oracle.filter(~oracle["task"].str.starts_with("typewriter"))["state_correct"].is_null().all()
    assert set(oracle["strategy"]) == {"native", "text"}

    weak = df.filter((df["model_id"] == "weak") & df["task"].str.starts_with("typewriter"))
    assert weak.filter(weak["expected_steps"] <= 2)["correct"].all()
    assert not weak.filter(weak["expected_steps"] > 2)["correct"].any()

    c = calls(run)
    assert c.height == df["n_attempts"].sum()
    assert set(c["episode_id"]) <= set(df["episode_id"])


def test_the_oracle_thinking_through_every_wire_format_is_perfect_on_every_task(tmp_path):
    # a simulated reasoning model of each API: it thinks, returns its thoughts as that API does and
    # rejects what that API rejects, so a perfect score also proves the adapters keep every rule
    reasoning = {"openai": {"effort": "high"}, "openai_responses": {"effort": "low"},
                 "anthropic": {"budget_tokens": 1024}, "google": {"effort": "high"}}
    path = write_config(
        tmp_path, tasks=[{"name": name, "limit": 6} for name in tasks.TASK_NAMES], strategies=["native", "text"],
        models=[{"id": f"thinker-{fmt}", "provider": "simulated", "model": "oracle", "api_format": fmt,
                 "max_tokens": 4096, "reasoning": setting} for fmt, setting in reasoning.items()])
    assert sweep(path) == 0
    run = tmp_path / "runs" / "e2e"
    df = episodes(run)
    assert df.height == len(planned_ids(path)) == 4 * 4 * 6 * 2
    assert df["status"].unique().to_list() == ["completed"]
    assert df["correct"].all() and df["steps_match"].all()
    assert (df["reasoning_tokens"] > 0).all()
    assert set(calls(run)["outcome"]) == {"ok"}


def test_under_heavy_faults_every_episode_ends_with_a_status_and_the_rate_holds(tmp_path):
    rpm = 1200
    path = write_config(
        tmp_path, tasks=[{"name": "multiverse_math", "limit": 10}, {"name": "relational_data", "limit": 10}],
        seeds=2,
        models=[{"id": "flaky", "provider": "simulated", "model": "oracle",
                 "faults": {"http_5xx": 0.3, "http_429": 0.1, "hang": 0.02, "retry_after_s": 0.2,
                            "hang_s": 30}}],
        providers={"simulated": {"rpm": rpm, "timeout_s": 1.0, "max_attempts": 4, "max_total_s": 20,
                                 "breaker": {"failures": 50, "failure_ratio": 1.0, "cooldown_s": 0.5}}})
    started = time.monotonic()
    assert sweep(path) == 0
    assert time.monotonic() - started < 120
    run = tmp_path / "runs" / "e2e"
    df = episodes(run)
    assert set(df["episode_id"]) == planned_ids(path) and df["episode_id"].n_unique() == df.height
    assert set(df["status"]) <= {"completed", "provider_failed"}
    assert df.filter(df["status"] == "completed")["correct"].all()
    c = calls(run)
    outcomes = set(c["outcome"])
    assert {"ok", "http_5xx", "http_429", "timeout"} <= outcomes
    stats = simulator_stats(run)
    assert sum(s["requests"] for s in stats) == c.height  # every attempt the server saw is a row
    # As the two runners' gates let attempts go, no sliding 1 s window holds more than the budget.
    assert max_in_window(c["started_at"].to_list()) <= rpm / 60
    # Per second of server arrival, each gate can put one request across a second's boundary.
    runners = load_config(path).ray.runners
    assert max_requests_per_second(stats) <= rpm / 60 + runners


def test_a_killed_runner_loses_and_duplicates_nothing(tmp_path):
    import ray

    path = write_config(
        tmp_path, tasks=[{"name": "typewriter_single"}, {"name": "relational_data"}], seeds=3,
        models=[{"id": "oracle", "provider": "simulated", "model": "oracle",
                 "latency_ms": {"mean": 30, "jitter": 10}}],
        ray={"runners": 2, "max_concurrency_per_runner": 16},
        providers={"simulated": {"rpm": 3000}})  # slow enough that the kill lands mid-sweep
    run = tmp_path / "runs" / "e2e"
    killed: list[int] = []

    def kill_a_runner_once_work_is_flowing() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not list((run / "episodes").glob("*.arrow")):
            time.sleep(0.1)
        actor = ray.get_actor("toolsweep/e2e/runner-0")
        info = ray.get(actor.describe.remote())
        assert info["running"] > 0
        ray.kill(actor, no_restart=True)
        killed.append(info["pid"])

    killer = threading.Thread(target=kill_a_runner_once_work_is_flowing, daemon=True)
    killer.start()
    assert sweep(path) == 0
    killer.join(5)
    assert killed, "the runner was never killed"
    df = episodes(run)
    assert set(df["episode_id"]) == planned_ids(path)
    assert df["episode_id"].n_unique() == df.height
    assert df["correct"].all()
    assert set(calls(run)["episode_id"]) <= set(df["episode_id"])


def test_a_key_missing_on_the_runners_stops_the_sweep_before_any_episode(tmp_path, monkeypatch):
    from orchestrator.config import ConfigError

    # the driver has the key (validation passes) but the runners' processes, started before it
    # was set, do not: as on a cluster node that lacks it
    monkeypatch.setenv("TOOLSWEEP_ONLY_ON_THE_DRIVER", "k")
    path = write_config(tmp_path, tasks=[{"name": "typewriter_single", "limit": 2}],
                        models=[{"id": "m", "provider": "openai", "model": "x",
                                 "base_url": "http://127.0.0.1:9/v1", "api_key_env": "TOOLSWEEP_ONLY_ON_THE_DRIVER"}])
    with pytest.raises(ConfigError, match="TOOLSWEEP_ONLY_ON_THE_DRIVER"):
        sweep(path)
    assert not list((tmp_path / "runs" / "e2e").glob("episodes/*.arrow")), "nothing may be recorded"


def test_a_judge_grades_completed_answers_and_its_calls_are_recorded(tmp_path):
    path = write_config(
        tmp_path, tasks=[{"name": "typewriter_single", "limit": 12}, {"name": "multiverse_math", "limit": 6}],
        models=[{"id": "weak", "provider": "simulated", "model": "single-call"},
                {"id": "judge", "provider": "simulated", "model": "oracle"}],
        judge="judge")
    assert sweep(path) == 0
    run = tmp_path / "runs" / "e2e"
    df = episodes(run).filter(pl.col("status") == "completed")
    assert df["judge_correct"].null_count() == 0
    # an oracle judge is scripted with the deterministic verdict: it must agree with it
    assert (df["judge_correct"] == df["correct"]).all()
    assert not df["correct"].all() and df["correct"].any()
    c = calls(run)
    judged = c.filter((pl.col("model_id") == "judge") & pl.col("episode_id").is_in(
        df.filter(pl.col("model_id") == "weak")["episode_id"].implode()))
    assert judged.height == df.filter(pl.col("model_id") == "weak").height


def test_an_endpoint_pinned_to_one_call_runs_one_call_and_one_episode_at_a_time(tmp_path):
    path = write_config(
        tmp_path, tasks=[{"name": "typewriter_single", "limit": 6}], seeds=2,
        models=[{"id": "solo", "provider": "simulated", "model": "oracle", "gate": "solo",
                 "latency_ms": {"mean": 30, "jitter": 0}},
                {"id": "free", "provider": "simulated", "model": "oracle"}],
        providers={"solo": {"max_in_flight": 1}},
        ray={"runners": 2, "max_concurrency_per_runner": 2})  # small, so both runners would get some
    assert sweep(path) == 0
    run = tmp_path / "runs" / "e2e"
    assert set(episodes(run)["episode_id"]) == planned_ids(path)
    solo = calls(run).filter(pl.col("model_id") == "solo").sort("started_at")
    assert solo.height >= 24
    # one call at a time across both runners: each starts after the previous one ended
    ends = (solo["started_at"] + solo["latency_s"]).to_list()
    starts = solo["started_at"].to_list()
    overlaps = [i for i in range(1, len(starts)) if starts[i] < ends[i - 1] - 0.005]
    assert not overlaps, f"{len(overlaps)} calls began while another was in flight"
    # and its episodes run one after another, not turn by turn interleaved (a local model's prompt
    # cache depends on it)
    runs = episodes(run).filter(pl.col("model_id") == "solo").sort("started_at")
    ends = (runs["started_at"] + runs["duration_s"]).to_list()
    starts = runs["started_at"].to_list()
    assert all(starts[i] >= ends[i - 1] - 0.005 for i in range(1, len(starts)))

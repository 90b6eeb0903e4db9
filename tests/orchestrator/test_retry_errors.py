"""The retry drill: a noisy run whose gate gives up at the first failure, then ``--retry-errors``
twice in the same run directory: fewer failures, the same plan, one latest row per episode, every
HTTP attempt kept."""

from __future__ import annotations

import json
import time

import polars as pl
import pytest
import yaml
from rich.console import Console

from orchestrator.config import load_config
from orchestrator.exit_codes import EXIT_FAILED_EPISODES, EXIT_OK
from orchestrator.records import RETRYABLE_STATUSES
from orchestrator.sweep import run_sweep
from tests.orchestrator.sweep_helpers import calls, episodes, planned_ids, write_config

pytestmark = [pytest.mark.ray, pytest.mark.usefixtures("ray_session")]


def sweep(path, **kwargs) -> tuple[int, str, float]:
    console = Console(record=True, width=200)
    started = time.monotonic()
    code = run_sweep(load_config(path), config_path=path, console=console, **kwargs)
    return code, console.export_text(), time.monotonic() - started


def latest(run) -> pl.DataFrame:
    df = episodes(run)
    return df.filter(pl.col("attempt") == pl.col("attempt").max().over("episode_id"))


def test_retry_errors_runs_failed_episodes_again_in_place(tmp_path):
    # a gate that gives up at the first 5xx, a breaker that never opens: many provider_failed
    gate = {"max_attempts": 1, "breaker": {"failures": 10_000, "failure_ratio": 1.0}}
    path = write_config(
        tmp_path, tasks=[{"name": "typewriter_single", "limit": 12}], seeds=2,
        models=[{"id": "noisy", "provider": "simulated", "model": "oracle", "faults": {"http_5xx": 0.15}}],
        providers={"simulated": gate}, fail_on={"failed_fraction": 0.05})
    run = tmp_path / "runs" / "e2e"
    planned = planned_ids(path)

    code, text, first_s = sweep(path)
    failed = [latest(run).filter(pl.col("status").is_in(RETRYABLE_STATUSES)).height]
    assert failed[0] > 0, "the drill needs failures"
    assert code == EXIT_FAILED_EPISODES and "more than fail_on.failed_fraction 0.05 allows" in text
    assert "why" in text and "provider_failed" in text and f"{path} --retry-errors" in text
    plan_hash = json.loads((run / "manifest.json").read_text())["plan_hash"]

    # operational settings may change between sessions: more concurrency, a longer timeout
    config = yaml.safe_load(path.read_text())
    config["ray"]["max_concurrency_per_runner"] = 8
    config["providers"]["simulated"]["timeout_s"] = 30
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    retry_s = []
    for _ in range(2):
        _, text, seconds = sweep(path, retry_errors=True)
        assert f"{failed[-1]} failed, run again" in text
        retry_s.append(seconds)
        failed.append(latest(run).filter(pl.col("status").is_in(RETRYABLE_STATUSES)).height)

    assert failed[-1] < failed[0]
    every = episodes(run)
    assert every.height == len(planned) + failed[0] + failed[1]  # nothing deleted: superseded rows stay
    newest = latest(run)
    assert newest.height == newest["episode_id"].n_unique() == len(planned) and set(newest["episode_id"]) == planned
    assert newest["attempt"].max() <= 3
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["plan_hash"] == plan_hash and manifest["resumes"] == 2
    # the failed attempts' HTTP attempts stay in calls, beside the new ones
    assert calls(run).height == every["n_attempts"].sum()
    # the transcripts follow the attempts, one row per episode row
    transcripts = pl.read_ipc(str(run / "transcripts" / "*.arrow"), columns=["episode_id", "attempt"])
    assert sorted(transcripts.rows()) == sorted(every.select("episode_id", "attempt").rows())
    # a plain resume now runs nothing; the summary is the report's: one row per episode
    code, text, _ = sweep(path)
    assert "0 to run" in text and code == (EXIT_OK if failed[-1] <= 0.05 * len(planned) else EXIT_FAILED_EPISODES)
    print(f"\nretry drill: {len(planned)} episodes, failed {failed}; first run {first_s:.1f} s, "
          f"retries {', '.join(f'{s:.1f} s' for s in retry_s)}")

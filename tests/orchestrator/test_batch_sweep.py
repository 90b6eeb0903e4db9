"""Batched models end to end: the three batch protocols in the simulator, and the journal."""

from __future__ import annotations

import json
import time

import polars as pl
import pytest

import tasks
from orchestrator.batches import BatchLog
from orchestrator.config import load_config
from orchestrator.sweep import run_sweep
from tests.orchestrator.sweep_helpers import calls, episodes, planned_ids, simulator_stats, write_config

PRICE = {"input": 2.0, "output": 8.0}
FAST = {"flush_s": 0.2, "poll_s": 0.05}


def oracle(model_id: str, api_format: str, *, batch: object = False) -> dict:
    return {"id": model_id, "provider": "simulated", "model": "oracle", "api_format": api_format,
            "price_per_mtok": PRICE, "batch": batch}


@pytest.mark.ray
@pytest.mark.usefixtures("ray_session")
def test_each_batch_protocol_runs_every_task_at_half_the_online_cost(tmp_path):
    formats = ("openai", "openai_responses", "anthropic", "google")
    path = write_config(
        tmp_path, tasks=[{"name": name} for name in tasks.TASK_NAMES],
        models=[oracle(f"batch-{f}", f, batch=FAST) for f in formats] + [oracle(f"online-{f}", f) for f in formats],
        simulator={"seed": 0, "batch": {"processing_s": 0.05}})
    assert run_sweep(load_config(path), config_path=path, limit=None) == 0
    run = tmp_path / "runs" / "e2e"
    df = episodes(run)
    assert set(df["episode_id"]) == planned_ids(path) and df["episode_id"].n_unique() == df.height
    assert df["correct"].all(), df.filter(~pl.col("correct"))[["model_id", "status", "error_message"]]

    c = calls(run)
    batched = c.filter(pl.col("model_id").str.starts_with("batch-"))
    assert batched["batch_id"].null_count() == 0
    assert c.filter(pl.col("model_id").str.starts_with("online-"))["batch_id"].null_count() == \
        c.filter(pl.col("model_id").str.starts_with("online-")).height

    for f in formats:
        batch_cost = df.filter(pl.col("model_id") == f"batch-{f}")["cost_usd"].sum()
        online_cost = df.filter(pl.col("model_id") == f"online-{f}")["cost_usd"].sum()
        assert online_cost > 0 and batch_cost == pytest.approx(online_cost / 2)

    # every batch journaled before it reached the simulator, none submitted twice, no call in two
    # batches (the Gemini routes key a batch's requests by position, so those are compared by count)
    stats = simulator_stats(run)
    served = {batch_id: ids for s in stats for batch_id, ids in s["batches"]["requests"].items()}
    journaled: dict[str, list[str]] = {}
    for cid, batch_id in BatchLog(run).pairs:  # a Gemini batch is named batches/<id>, stored as <id>
        journaled.setdefault(batch_id.removeprefix("batches/"), []).append(cid)
    assert {b: len(ids) for b, ids in journaled.items()} == {b: len(ids) for b, ids in served.items()}
    all_journaled = [cid for ids in journaled.values() for cid in ids]
    assert len(all_journaled) == len(set(all_journaled)) == batched.height
    assert {b.removeprefix("batches/") for b in batched["batch_id"]} == set(served)
    google = {b.removeprefix("batches/") for b in batched.filter(pl.col("model_id") == "batch-google")["batch_id"]}
    by_id = {b: ids for b, ids in served.items() if b not in google}
    assert all(sorted(by_id[b]) == sorted(journaled[b]) for b in by_id)
    submitted = [json.loads(line) for line in (run / "batches.jsonl").read_text().splitlines()]
    assert sum(e["kind"] == "submitted" for e in submitted) == sum(s["batches"]["submitted"] for s in stats)


@pytest.mark.slow
def test_a_driver_killed_while_batches_are_pending_resumes_without_paying_twice(tmp_path):
    from orchestrator.endpoints import simulator_profiles
    from providers.simulator import SimulatorProcess
    from providers.simulator.config import BatchConfig
    from tests.orchestrator.test_chaos import assert_exactly_the_plan, kill_session, start_sweep

    # the simulator stands for the provider's API: it outlives the killed sweep, as OpenAI's would
    models = [oracle("batch-openai", "openai", batch={"flush_s": 0.5, "poll_s": 0.2}),
              oracle("batch-anthropic", "anthropic", batch={"flush_s": 0.5, "poll_s": 0.2})]
    draft = write_config(tmp_path, name="batch-kill", tasks=[{"name": "multiverse_math"}], models=models)
    with SimulatorProcess(simulator_profiles(load_config(draft)), batch=BatchConfig(processing_s=3.0),
                          exit_with_parent=False) as sim:
        path = write_config(tmp_path, name="batch-kill", tasks=[{"name": "multiverse_math"}], models=models,
                            simulator={"url": sim.base_url})
        run, log = tmp_path / "runs" / "batch-kill", tmp_path / "sweep.log"
        process = start_sweep(path, log)
        try:  # kill once batches are out and not yet answered
            journal = run / "batches.jsonl"
            for _ in range(600):
                if journal.exists() and '"submitted"' in journal.read_text() and sim.stats()["batches"]["submitted"]:
                    break
                time.sleep(0.1)
            assert process.poll() is None, log.read_text()[-3000:]
            time.sleep(1.0)
        finally:
            kill_session(process)
        before = sim.stats()["batches"]["submitted"]
        assert before > 0
        process = start_sweep(path, log)
        try:
            assert process.wait(timeout=300) == 0, log.read_text()[-3000:]
        finally:
            if process.poll() is None:
                kill_session(process)
        stats = sim.stats()["batches"]
    df = assert_exactly_the_plan(run, path)
    assert df["correct"].all()
    ids = [cid for batch in stats["requests"].values() for cid in batch]
    assert len(ids) == len(set(ids)), "a request was in two batches"
    assert len(stats["requests"]) == stats["submitted"]
    journal_ids = [json.loads(line)["batch_id"] for line in (run / "batches.jsonl").read_text().splitlines()
                   if '"submitted"' in line]
    assert len(journal_ids) == len(set(journal_ids)) == stats["submitted"], "a batch was submitted twice"
    assert calls(run)["batch_id"].null_count() == 0

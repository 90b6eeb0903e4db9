import pytest
from run_builders import T0, call, episode, write_run

from analysis.batches import batch_table, batch_vs_online
from analysis.load import load_runs
from analysis.report import build_report


def _batched_calls(model_id="b"):
    """Two batches of model b: B1 ok 10 s, ok 20 s, expired 30 s; B2 ok 40 s, 5xx 50 s, canceled 60 s."""
    fates = [("B1", "ok", 10.0), ("B1", "ok", 20.0), ("B1", "expired", 30.0),
             ("B2", "ok", 40.0), ("B2", "http_5xx", 50.0), ("B2", "canceled", 60.0)]
    return [call(model_id=model_id, step=i, batch_id=batch, outcome=outcome, latency_s=wait,
                 http_status=200 if outcome == "ok" else None)
            for i, (batch, outcome, wait) in enumerate(fates)]


def _batched_episodes(model_id="b"):
    """Four episodes, 10 s apart, 5 s each: right, right, wrong, and one excluded (not scored)."""
    outcomes = [("completed", True), ("completed", True), ("completed", False), ("provider_failed", None)]
    return [episode(model_id=model_id, example_id=f"x{i}", status=status, correct=correct, cost_usd=0.001,
                    started_at=T0 + 10 * i, duration_s=5.0)
            for i, (status, correct) in enumerate(outcomes)]


def _online_episodes(model_id="o"):
    """Two episodes 1 s apart, 2 s each: one right, one wrong."""
    return [episode(model_id=model_id, example_id=f"x{i}", correct=i == 0, cost_usd=0.002, started_at=T0 + i,
                    duration_s=2.0)
            for i in range(2)]


def test_batch_table_counts_batches_requests_outcomes_and_waits(tmp_path):
    run = write_run(tmp_path, episodes=_batched_episodes() + _online_episodes(),
                    calls=_batched_calls() + [call(model_id="o", latency_s=0.5)])
    data = load_runs([run]).collect()
    table = batch_table(data.calls)
    assert table["model_id"].to_list() == ["b"]  # the online model made no batched call
    row = table.row(0, named=True)
    assert (row["batches"], row["requests"], row["ok"], row["expired"], row["canceled"], row["errored"]) == \
        (2, 6, 3, 1, 1, 1)
    assert row["failed_share"] == pytest.approx(3 / 6)
    assert row["wait_p50_s"] == pytest.approx(35.0)  # median of 10, 20, …, 60
    assert row["wait_max_s"] == pytest.approx(60.0)


def test_batch_vs_online_pairs_the_same_provider_model_within_one_run(tmp_path):
    stray = [episode(model_id="s", model="other", correct=True, started_at=T0)]  # batched, never run online
    run = write_run(tmp_path, episodes=_batched_episodes() + _online_episodes() + stray,
                    calls=_batched_calls() + _batched_calls("s") + [call(model_id="o")])
    table = batch_vs_online(*(lambda d: (d.calls, d.episodes))(load_runs([run]).collect()))
    assert table.select("mode", "model_id").rows() == [("batch", "b"), ("online", "o")]
    batch, online = table.rows(named=True)
    assert (batch["episodes"], batch["scored"]) == (4, 3)
    assert batch["accuracy"] == pytest.approx(2 / 3)
    assert batch["cost_usd"] == pytest.approx(0.004)
    assert batch["wall_s"] == pytest.approx(35.0)  # T0 to T0 + 30 + 5
    assert (online["episodes"], online["scored"], online["accuracy"]) == (2, 2, 0.5)
    assert online["cost_usd"] == pytest.approx(0.004)
    assert online["wall_s"] == pytest.approx(3.0)


def test_batch_vs_online_pairs_across_runs_and_the_report_shows_both_tables(tmp_path):
    batched = write_run(tmp_path, "batched", episodes=_batched_episodes("m"), calls=_batched_calls("m"))
    online = write_run(tmp_path, "online", episodes=_online_episodes("m"), calls=[call(model_id="m")])
    result = build_report([batched, online], tmp_path / "out", n_boot=20)
    pairs = result.tables["batch_vs_online"]
    assert pairs.select("run", "mode").rows() == [("batched", "batch"), ("online", "online")]
    assert result.tables["batches"]["run"].to_list() == ["batched"]
    page = result.index.read_text()
    assert "batch_vs_online.csv" in page and "batches.csv" in page
    assert (tmp_path / "out" / "batches.csv").exists()


def test_a_report_without_batched_calls_has_no_batch_tables(tmp_path):
    run = write_run(tmp_path, episodes=_online_episodes(), calls=[call(model_id="o")])
    result = build_report([run], tmp_path / "out", n_boot=20)
    assert "batches" not in result.tables.items and "batch_vs_online" not in result.tables.items
    page = result.index.read_text()
    assert "batch_vs_online.csv" not in page and "batches.csv" not in page
    assert not (tmp_path / "out" / "batches.csv").exists()

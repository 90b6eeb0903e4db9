"""rescore: a run scored again from its transcripts equals a run scored that way from the start,
and calls no model under test."""

from __future__ import annotations

import json

import polars as pl
import pytest

from analysis.load import load_runs
from orchestrator.cli import main
from orchestrator.config import load_config
from orchestrator.sweep import run_sweep
from tests.orchestrator.sweep_helpers import episodes, simulator_stats, write_config

pytestmark = [pytest.mark.ray, pytest.mark.usefixtures("ray_session")]
SCORES = ["correct", "state_correct", "steps_match", "step_ratio"]
IDENTITY = ["model_id", "task", "example_id", "seed", "strategy"]


def sweep(path) -> None:
    assert run_sweep(load_config(path), config_path=path) == 0


def scores_of(run, name: str) -> pl.DataFrame:
    return pl.read_ipc(str(run / "scores" / name / "scores" / "*.arrow"))


def test_a_toolsweep_run_rescored_paper_equals_a_paper_run(tmp_path, capsys):
    common = dict(tasks=[{"name": "typewriter_single", "limit": 6}, {"name": "typewriter_26", "limit": 6},
                         {"name": "multiverse_math", "limit": 8}], seeds=2,
                  models=[{"id": "noisy", "provider": "simulated", "model": "noisy",
                           "noise": {"wrong_argument": 0.3, "wrong_tool": 0.1, "stop_early": 0.1}},
                          {"id": "oracle", "provider": "simulated", "model": "oracle"}])
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    ours = write_config(tmp_path / "a", name="ours", **common)
    paper = write_config(tmp_path / "b", name="paper", scoring="paper", **common)
    sweep(ours)
    sweep(paper)
    run_a, run_b = tmp_path / "a" / "runs" / "ours", tmp_path / "b" / "runs" / "paper"
    requests_before = sum(s["requests"] for s in simulator_stats(run_a))

    assert main(["rescore", str(run_a), "--scoring", "paper"]) == 0
    assert "rescored" in capsys.readouterr().out
    assert sum(s["requests"] for s in simulator_stats(run_a)) == requests_before
    assert not (run_a / "scores" / "paper-1" / "simulator").exists(), "no model was asked anything"
    assert not (run_a / "scores" / "paper-1" / "calls").exists()

    original = episodes(run_a)
    rescored = original.drop(SCORES).join(scores_of(run_a, "paper-1"), on="episode_id")
    fresh = episodes(run_b)
    assert rescored.height == fresh.height == original.height
    # Where the two runs held the same conversation (the same calls with the same arguments, the same
    # answer), the rescoring must give the fresh run's scores. That is every typewriter episode and
    # every oracle one; a noisy Multiverse Math episode may have gone another way, since the paper
    # profile's tools print more digits (its replies then differ from the first tool result on).
    arguments = pl.col("tool_calls").list.eval(pl.element().struct.field("arguments"))
    paired = rescored.join(fresh.with_columns(arguments.alias("arguments")), on=IDENTITY, suffix="_fresh")
    same = paired.filter((arguments == pl.col("arguments")) & pl.col("answer").eq_missing(pl.col("answer_fresh")))
    assert same.height >= original.filter((pl.col("task") != "multiverse_math")
                                          | (pl.col("model_id") == "oracle")).height
    for column in SCORES:
        differ = same.filter(pl.col(column).ne_missing(pl.col(f"{column}_fresh")))
        assert differ.is_empty(), differ.select(*IDENTITY, column, f"{column}_fresh").to_dicts()
    # the state is the replayed environment's: without the replay no typewriter would be right
    oracle_typed = rescored.filter((pl.col("model_id") == "oracle") & (pl.col("task") != "multiverse_math"))
    assert oracle_typed["state_correct"].all() and oracle_typed.height == 2 * 2 * 6
    theirs = same.select(*IDENTITY, *[pl.col(f"{c}_fresh").alias(c) for c in SCORES]).sort(IDENTITY)
    changed = original.select(*IDENTITY, *SCORES).sort(IDENTITY)

    # rescoring under the run's own profile gives back its own scores; the name counts up
    assert main(["rescore", str(run_a)]) == 0
    again = original.drop(SCORES).join(scores_of(run_a, "toolsweep-1"), on="episode_id")
    assert again.select(*IDENTITY, *SCORES).sort(IDENTITY).to_dicts() == changed.to_dicts()

    # report and compare read the rescoring when asked to
    data = load_runs([run_a], scores="paper-1").collect()
    loaded = data.episodes.collect().select(*IDENTITY, *SCORES).join(theirs.select(IDENTITY), on=IDENTITY)
    assert loaded.sort(IDENTITY).to_dicts() == theirs.to_dicts()
    assert set(data.episodes.collect()["scoring"]) == {"paper"}
    assert main(["report", str(run_a), "--scores", "paper-1", "--out", str(tmp_path / "report")]) == 0
    assert main(["report", str(run_a), "--scores", "paper-9"]) == 2
    assert "no scores 'paper-9'" in capsys.readouterr().err
    assert main(["compare", str(run_a), "--scores", "paper-1", "--out", str(tmp_path / "cmp")]) == 0


def test_a_rescoring_judge_goes_through_its_gate_and_only_it_is_called(tmp_path):
    path = write_config(tmp_path, tasks=[{"name": "typewriter_single", "limit": 8}, {"name": "multiverse_math",
                                                                                  "limit": 4}],
                        models=[{"id": "weak", "provider": "simulated", "model": "single-call"},
                                {"id": "judge", "provider": "simulated", "model": "oracle"}])
    sweep(path)
    run = tmp_path / "runs" / "e2e"
    assert main(["rescore", str(run), "--judge", "judge"]) == 0
    out = run / "scores" / "toolsweep-1"
    scores = scores_of(run, "toolsweep-1")
    completed = episodes(run).filter(pl.col("status") == "completed")
    judged = scores.filter(pl.col("episode_id").is_in(completed["episode_id"].implode()))
    # an oracle judge is scripted with the deterministic verdict: it agrees with it
    assert judged["judge_correct"].null_count() == 0
    assert (judged["judge_correct"] == judged["correct"]).all() and not judged["correct"].all()
    judge_calls = pl.read_ipc(str(out / "calls" / "*.arrow"))
    assert set(judge_calls["model_id"]) == {"judge"} and set(judge_calls["outcome"]) == {"ok"}
    served = [json.loads(p.read_text()) for p in (out / "simulator").glob("stats-*.json")]
    assert sum(s["requests"] for s in served) == judge_calls.height == completed.height
    assert set(served[0]["by_model"]) == {"judge"}
    assert json.loads((out / "meta.json").read_text())["judge_attempts"] == judge_calls.height


def test_rescore_refuses_what_it_cannot_do_in_one_line(tmp_path, capsys):
    path = write_config(tmp_path, tasks=[{"name": "typewriter_single", "limit": 2}],
                        models=[{"id": "oracle", "provider": "simulated", "model": "oracle"}])
    sweep(path)
    run = tmp_path / "runs" / "e2e"
    assert main(["rescore", str(run), "--judge", "nobody"]) == 2
    assert "--judge: 'nobody' is not a model of this run" in capsys.readouterr().err
    assert main(["rescore", str(tmp_path)]) == 2
    assert "not a run directory" in capsys.readouterr().err
    for part in (run / "transcripts").glob("*.arrow"):
        part.unlink()
    assert main(["rescore", str(run)]) == 2
    assert "have no transcripts" in capsys.readouterr().err

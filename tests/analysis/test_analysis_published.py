"""The published headline accuracy (failures count as wrong) beside ToolSweep's, and the published
figures beside runs on the paper datasets, checked against values counted by hand."""

from __future__ import annotations

import polars as pl

from analysis.load import load_runs
from analysis.published import PUBLISHED, paper_accuracy, published_table
from analysis.report import build_report
from tests.analysis.run_builders import episode, write_run


def paper_run(tmp_path):
    rows = [
        # relational_data on paper: 2 correct, 1 wrong, 1 provider_failed, 1 refused
        episode(task="relational_data", example_id="paper-01", dataset="paper", scoring="paper"),
        episode(task="relational_data", example_id="paper-02", dataset="paper", scoring="paper"),
        episode(task="relational_data", example_id="paper-03", dataset="paper", scoring="paper", correct=False),
        episode(task="relational_data", example_id="paper-04", dataset="paper", scoring="paper",
                status="provider_failed", correct=None, state_correct=None, steps_match=None, step_ratio=None),
        episode(task="relational_data", example_id="paper-05", dataset="paper", scoring="paper",
                status="refused", correct=None, state_correct=None, steps_match=None, step_ratio=None),
        # multiverse_math on paper-tiny: 1 correct, 1 max_steps (scored, wrong)
        episode(task="multiverse_math", example_id="paper-01", dataset="paper-tiny", scoring="paper"),
        episode(task="multiverse_math", example_id="paper-02", dataset="paper-tiny", scoring="paper",
                status="max_steps", correct=False),
    ]
    return write_run(tmp_path, "paper-run", episodes=rows)


def test_failures_count_as_wrong_in_the_paper_accuracy_only(tmp_path):
    data = load_runs([paper_run(tmp_path)]).collect()
    table = paper_accuracy(data.episodes.collect())
    rd = table.filter(pl.col("task") == "relational_data").row(0, named=True)
    assert (rd["episodes"], rd["failed"]) == (5, 2)
    assert rd["paper_accuracy"] == 2 / 5 and rd["scored_accuracy"] == 2 / 3
    assert rd["published"] == "0.19–0.95"
    assert rd["published_best"] == "0.95 gpt-4-0613 (openai_functions)"
    mm = table.filter(pl.col("task") == "multiverse_math").row(0, named=True)
    assert mm["paper_accuracy"] == mm["scored_accuracy"] == 1 / 2  # max_steps is scored, and wrong
    assert mm["published"].startswith("0.40–0.80")


def test_toolsweep_data_gets_no_published_figure():
    frame = pl.DataFrame([episode(), episode(example_id="x2", correct=False)]).with_columns(
        pl.lit(None, dtype=pl.String()).alias("dataset"), pl.lit(None, dtype=pl.String()).alias("scoring"))
    row = paper_accuracy(frame).row(0, named=True)
    assert (row["dataset"], row["published"], row["paper_accuracy"]) == ("toolsweep", None, 0.5)


def test_the_published_table_holds_the_chart():
    table = published_table()
    assert table.height == 4 * 8
    assert PUBLISHED["relational_data"]["gpt-4-1106-preview (openai_functions)"] == 0.95
    assert PUBLISHED["typewriter_26"]["claude-2.1 (anthropic_tool_user)"] == 1.0


def test_the_report_shows_the_published_section_only_for_paper_runs(tmp_path):
    result = build_report([paper_run(tmp_path)], tmp_path / "out", n_boot=20)
    page = result.index.read_text(encoding="utf-8")
    assert "Published benchmark" in page and "fillna(0)" in page
    assert (tmp_path / "out" / "paper_accuracy.csv").exists() and (tmp_path / "out" / "published.md").exists()
    plain = write_run(tmp_path, "plain", episodes=[episode()])
    assert "Published benchmark" not in build_report([plain], tmp_path / "out2", n_boot=20).index.read_text()

"""The end-of-sweep summary: accuracy per model × task × strategy over every part file, the same
figure as the report's."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console

from orchestrator.plan import EpisodeSpec
from orchestrator.records import to_table
from orchestrator.summary import print_sweep_summary, summary_table
from orchestrator.writer import write_part as write_table_part
from tests.orchestrator.sweep_helpers import episode_row


def row(n: int, model: str, task: str, status: str, correct: bool | None, judge_error: str | None = None) -> dict:
    spec = EpisodeSpec(model_id=model, task=task, example_id=f"x{n}", seed=0, strategy="native")
    return {**episode_row(spec), "status": status, "correct": correct, "judge_error": judge_error}


def write_part(run: Path, rows: list[dict]) -> None:
    write_table_part(run / "episodes", to_table("episodes", rows), "part")


def test_counts_are_summed_across_parts_and_failures_are_not_scored(tmp_path):
    write_part(tmp_path, [
        row(1, "m1", "typewriter_single", "completed", True),
        row(2, "m1", "typewriter_single", "max_steps", False),
        row(3, "m1", "typewriter_single", "provider_failed", None),
        row(4, "m2", "multiverse_math", "completed", None, "an empty reply"),  # scored, not correct
    ])
    write_part(tmp_path, [
        row(5, "m1", "typewriter_single", "completed", True),
        row(6, "m2", "multiverse_math", "refused", None),
        row(7, "m2", "multiverse_math", "completed", True),
    ])
    assert summary_table(tmp_path).to_dicts() == [
        {"model_id": "m1", "task": "typewriter_single", "strategy": "native",
         "episodes": 4, "scored": 3, "accuracy": 2 / 3, "not_scored": 1, "judge_failed": 0},
        {"model_id": "m2", "task": "multiverse_math", "strategy": "native",
         "episodes": 3, "scored": 2, "accuracy": 1 / 2, "not_scored": 1, "judge_failed": 1},
    ]
    console = Console(record=True, width=200)
    print_sweep_summary(tmp_path, console)
    text = console.export_text()
    assert "66.7%" in text and "50.0%" in text


def test_a_run_without_episodes_prints_an_empty_table(tmp_path):
    assert summary_table(tmp_path).height == 0
    console = Console(record=True, width=200)
    print_sweep_summary(tmp_path, console)
    assert f"report: python -m orchestrator report {tmp_path}" in console.export_text()


def test_failed_episodes_print_their_top_causes_and_the_retry_command(tmp_path):
    rows = [{**row(n, "m1", "typewriter_single", "provider_failed", None), "error_class": "ProviderFailed",
             "error_message": f"ServerError: HTTP 503 after {n} attempts (http://127.0.0.1:{4000 + n}/v1)"}
            for n in range(1, 4)]
    rows.append({**row(9, "m1", "typewriter_single", "agent_error", None), "error_class": "McpError",
                 "error_message": "MCP server failed while starting"})
    rows.append({**row(10, "m1", "typewriter_single", "refused", None), "error_message": "refused"})
    write_part(tmp_path, rows)
    retried = {**row(3, "m1", "typewriter_single", "completed", True), "attempt": 2}  # a retry that worked
    write_part(tmp_path, [retried])
    console = Console(record=True, width=200)
    print_sweep_summary(tmp_path, console, retry="python -m orchestrator sweep s.yaml --retry-errors")
    text = console.export_text()
    assert "why 3 episodes failed" in text
    lines = [line.split() for line in text.splitlines()]
    grouped = next(line for line in lines if "HTTP" in line)
    assert grouped[:2] == ["2", "provider_failed"] and "<n>" in grouped and "(<url>)" in grouped
    first_failed = min(r["episode_id"] for r in rows[:2])
    assert grouped[-1] == first_failed
    assert "refused" not in text.split("why 3 episodes failed")[1]
    assert text.rstrip().endswith("retry with: python -m orchestrator sweep s.yaml --retry-errors")
    assert summary_table(tmp_path)["episodes"].to_list() == [5]  # the retried episode once, as its latest row


def test_failed_judgements_are_counted_and_shown(tmp_path):
    write_part(tmp_path, [row(1, "m", "relational_data", "completed", None, "ProviderUnavailable: down"),
                          row(2, "m", "relational_data", "completed", None, "an empty reply"),
                          row(3, "m", "relational_data", "completed", True)])
    console = Console(record=True, width=120)
    print_sweep_summary(tmp_path, console)
    assert "judge: 2 judgements failed" in console.export_text()
    write_part(tmp_path / "clean", [row(1, "m", "relational_data", "completed", True)])
    console = Console(record=True, width=120)
    print_sweep_summary(tmp_path / "clean", console)
    assert "judge:" not in console.export_text()


def test_the_summary_counts_what_the_reports_accuracy_table_says(tmp_path):
    """The summary counts a part at a time; the report reads every part at once: the same figures,
    retries included (a later attempt replaces its episode's row in whichever part it landed)."""
    from analysis.accuracy import accuracy_table
    from analysis.load import RunInfo, latest_attempts, scan_table

    statuses = ["completed", "max_steps", "provider_failed", "refused", "agent_error", "completed"]
    for k in range(3):
        write_part(tmp_path, [row(10 * k + n, f"m{n % 2}", "typewriter_single", statuses[(n + k) % 6],
                                  None if statuses[(n + k) % 6] not in ("completed", "max_steps") else n % 3 == 0)
                              for n in range(12)])
    before = summary_table(tmp_path)
    retried = {**row(0, "m0", "typewriter_single", "completed", False), "attempt": 2}  # was completed, True
    write_part(tmp_path, [retried])
    run = RunInfo(name="r", path=tmp_path, episodes_planned=None, manifest={})
    report = accuracy_table(latest_attempts(scan_table(run, "episodes")))  # as analysis.load.load_runs reads it
    summary = summary_table(tmp_path)
    assert summary["episodes"].to_list() == report["episodes"].to_list() == [18, 18]
    assert summary["scored"].to_list() == report["n"].to_list()
    assert summary["accuracy"].to_list() == report["correct"].to_list()
    # the retry's verdict counts, not the first attempt's: one right answer fewer for m0
    assert summary["accuracy"][0] == pytest.approx((before["accuracy"][0] * before["scored"][0] - 1) / before["scored"][0])
    assert summary["accuracy"][1] == before["accuracy"][1]

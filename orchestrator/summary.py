"""The short table printed at the end of a sweep: accuracy per model × task × strategy, and why
episodes failed.

Accuracy is the report's own (``analysis.accuracy``: scored = completed + max_steps, a scored
episode without a verdict counts as wrong; a test holds the two equal), counted here one episode
part file at a time (each episode's latest attempt, ``analysis.load.latest_episode_parts``), so
the summary's memory is a part's whatever the run's size; so are the causes of failure
(``analysis.failures``). Polars reads only the columns it needs.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
from rich import box
from rich.console import Console
from rich.table import Table

from analysis.accuracy import SCORED_STATUSES
from analysis.failures import failure_causes
from analysis.load import RunInfo, latest_episode_parts
from providers.keys import mask_keys

KEYS = ["model_id", "task", "strategy"]
COLUMNS: dict[str, pl.DataType] = {"episodes": pl.Int64(), "scored": pl.Int64(), "accuracy": pl.Float64(),
                                   "not_scored": pl.Int64(), "judge_failed": pl.Int64()}


READ: dict[str, pl.DataType] = {"model_id": pl.String(), "task": pl.String(), "strategy": pl.String(),
                               "status": pl.String(), "correct": pl.Boolean(), "judge_error": pl.String()}


def summary_table(run_dir: Path) -> pl.DataFrame:
    """Episodes, scored episodes, accuracy over those, episodes not scored, and judgements that
    failed (``judge_error``), per model × task × strategy (accuracy null where nothing was scored).
    Each part's counts are summed: every figure here is a count, so parts add up."""
    scored = pl.col("status").is_in(SCORED_STATUSES)
    counts = [
        part.group_by(KEYS).agg(
            pl.len().cast(pl.Int64).alias("episodes"),
            scored.sum().cast(pl.Int64).alias("scored"),
            (scored & pl.col("correct").fill_null(False)).sum().cast(pl.Int64).alias("right"),
            pl.col("judge_error").is_not_null().sum().cast(pl.Int64).alias("judge_failed"),
        )
        for part in latest_episode_parts(_run(run_dir), READ)
    ]
    if not counts:
        return pl.DataFrame(schema={**dict.fromkeys(KEYS, pl.String), **COLUMNS})
    totals = pl.concat(counts).group_by(KEYS).agg(pl.col("episodes", "scored", "right", "judge_failed").sum())
    return totals.select(
        *KEYS, "episodes", "scored",
        pl.when(pl.col("scored") > 0).then(pl.col("right") / pl.col("scored")).alias("accuracy"),
        (pl.col("episodes") - pl.col("scored")).alias("not_scored"),
        "judge_failed",
    ).with_columns(pl.col(name).cast(dtype) for name, dtype in COLUMNS.items()).sort(KEYS)


def _run(run_dir: Path) -> RunInfo:
    return RunInfo(name=run_dir.name, path=run_dir, episodes_planned=None, manifest={})


def failed_count(run_dir: Path) -> int:
    """Episodes whose latest attempt failed (provider_failed or agent_error)."""
    return int(failure_causes([_run(run_dir)])["episodes"].sum())


def print_sweep_summary(run_dir: Path, console: Console, *, retry: str | None = None) -> None:
    """The accuracy table, then (when episodes failed) their top causes and ``retry``, the command
    that runs them again."""
    # a light frame, and names never cut: model ids of reasoning variants (``m@high``) and task names
    # must read whole on an 80-column terminal
    view = Table(title=mask_keys(f"{run_dir}"), box=box.SIMPLE_HEAD, pad_edge=False,
                 collapse_padding=True)
    for name in ("model", "task", "strategy", "episodes", "accuracy", "unscored"):
        numeric = name in ("episodes", "accuracy", "unscored")
        view.add_column(name, justify="right" if numeric else "left", no_wrap=True, overflow="fold", min_width=len(name))
    table = summary_table(run_dir)
    for row in table.iter_rows(named=True):
        accuracy = f"{row['accuracy']:.1%}" if row["scored"] else "—"
        view.add_row(mask_keys(row["model_id"]), row["task"], row["strategy"], str(row["episodes"]), accuracy,
                     str(row["not_scored"]))
    console.print(view)
    failed = table["judge_failed"].sum()
    if failed:
        console.print(f"judge: {failed} judgement{'s' if failed != 1 else ''} failed (no verdict; "
                      "judge_correct is empty there, the reason is in the episodes' judge_error)")
    console.print(mask_keys(f"run directory: {run_dir}   report: python -m orchestrator report {run_dir}"))
    print_failure_causes(run_dir, console, retry=retry)


def print_failure_causes(run_dir: Path, console: Console, *, retry: str | None) -> None:
    causes = failure_causes([_run(run_dir)])
    if causes.is_empty():
        return
    failed = int(causes["episodes"].sum())
    view = Table(title=f"why {failed} episode{'s' if failed != 1 else ''} failed", box=box.SIMPLE_HEAD,
                 pad_edge=False, collapse_padding=True, title_justify="left")
    for name in ("episodes", "status", "cause", "example episode"):
        view.add_column(name, justify="right" if name == "episodes" else "left", overflow="fold")
    for row in causes.iter_rows(named=True):
        view.add_row(str(row["episodes"]), row["status"] or "", mask_keys(row["cause"]), row["example"])
    console.print(view)
    if retry:
        console.print(mask_keys(f"retry with: {retry}"))

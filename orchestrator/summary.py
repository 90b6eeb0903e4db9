"""The short table printed at the end of a sweep: accuracy per model × task × strategy.

Accuracy is the report's own (``analysis.accuracy``: scored = completed + max_steps, a scored
episode without a verdict counts as wrong), computed here over the run's episode part files, so
the sweep's closing table and the report never disagree. Polars reads only the columns it needs.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
from rich import box
from rich.console import Console
from rich.table import Table

from analysis.accuracy import accuracy_table
from orchestrator.rundir import part_files
from providers.keys import mask_keys

KEYS = ["model_id", "task", "strategy"]
COLUMNS = {"episodes": pl.Int64, "scored": pl.Int64, "accuracy": pl.Float64, "not_scored": pl.Int64,
           "judge_failed": pl.Int64}


def summary_table(run_dir: Path) -> pl.DataFrame:
    """Episodes, scored episodes, accuracy over those, episodes not scored, and judgements that
    failed (``judge_error``), per model × task × strategy (accuracy null where nothing was scored)."""
    parts = part_files(run_dir, "episodes")
    if not parts:
        return pl.DataFrame(schema={**dict.fromkeys(KEYS, pl.String), **COLUMNS})
    episodes = pl.scan_ipc(parts)
    table = accuracy_table(episodes)
    # runs recorded before the column have no failed judgements to count
    failed = (pl.col("judge_error").is_not_null().sum() if "judge_error" in episodes.collect_schema()
              else pl.lit(0)).cast(pl.Int64).alias("judge_failed")
    return table.select(
        *KEYS, "episodes", pl.col("n").alias("scored"), pl.col("correct").alias("accuracy"),
        (pl.col("episodes") - pl.col("n")).alias("not_scored"),
    ).join(episodes.group_by(KEYS).agg(failed).collect(), on=KEYS, how="left").sort(KEYS)


def print_sweep_summary(run_dir: Path, console: Console) -> None:
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

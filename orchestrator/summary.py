"""The short table printed at the end of a sweep: per model × task × strategy, from the Arrow files."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
from rich.console import Console
from rich.table import Table

from orchestrator.records import SCORED_STATUSES
from orchestrator.rundir import iter_parts
from providers.keys import mask_keys

KEYS = ["model_id", "task", "strategy"]
COUNTS = ["episodes", "scored", "correct", "not_scored"]


def _counts(episodes: pa.Table) -> pa.Table:
    """One part's counts per model × task × strategy."""
    scored = pc.is_in(episodes["status"], pa.array(SCORED_STATUSES))
    flags = pa.table({
        **{key: episodes[key] for key in KEYS},
        "episodes": pa.repeat(1, episodes.num_rows).cast(pa.int64()),
        "scored": pc.cast(scored, pa.int64()),
        # a scored episode's null ``correct`` (the judge failed) counts as not correct
        "correct": pc.cast(pc.fill_null(pc.and_kleene(scored, episodes["correct"]), False), pa.int64()),
        "not_scored": pc.cast(pc.invert(scored), pa.int64()),
    })
    return _sum_by_keys(flags)


def _sum_by_keys(table: pa.Table) -> pa.Table:
    grouped = table.group_by(KEYS).aggregate([(name, "sum") for name in COUNTS])
    return grouped.rename_columns([name.removesuffix("_sum") for name in grouped.column_names])


def summary_table(run_dir: Path) -> pa.Table:
    """Episodes, scored episodes, correct ones and not-scored ones per model × task × strategy.

    Counted part file by part file, so the memory it takes does not grow with the run."""
    columns = [*KEYS, "status", "correct"]
    partials = [_counts(part) for part in iter_parts(run_dir, "episodes", columns) if part.num_rows]
    if not partials:
        return pa.table({**{key: pa.array([], pa.string()) for key in KEYS},
                         **{name: pa.array([], pa.int64()) for name in COUNTS}})
    totals = _sum_by_keys(pa.concat_tables(partials)).select([*KEYS, *COUNTS])
    return totals.sort_by([(key, "ascending") for key in KEYS])


def print_sweep_summary(run_dir: Path, console: Console) -> None:
    view = Table(title=mask_keys(f"{run_dir}"))
    for name in ("model", "task", "strategy", "episodes", "accuracy", "not scored"):
        view.add_column(name, justify="right" if name in ("episodes", "accuracy", "not scored") else "left")
    for row in summary_table(run_dir).to_pylist():
        accuracy = f"{row['correct'] / row['scored']:.1%}" if row["scored"] else "—"
        view.add_row(mask_keys(row["model_id"]), row["task"], row["strategy"], str(row["episodes"]), accuracy,
                     str(row["not_scored"]))
    console.print(view)
    console.print(mask_keys(f"run directory: {run_dir}   report: python -m orchestrator report {run_dir}"))

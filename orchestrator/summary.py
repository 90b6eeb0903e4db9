"""The short table printed at the end of a sweep: per model × task × strategy, from the Arrow files."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
from rich.console import Console
from rich.table import Table

from orchestrator.rundir import read_table


def summary_table(run_dir: Path) -> pa.Table:
    """n, accuracy over scored episodes, and failures per model × task × strategy."""
    episodes = read_table(run_dir, "episodes", ["model_id", "task", "strategy", "status", "correct"])
    if episodes.num_rows == 0:
        return episodes
    scored = pc.is_in(episodes["status"], pa.array(["completed", "max_steps"]))
    episodes = episodes.append_column("scored", pc.cast(scored, pa.int64()))
    episodes = episodes.append_column("ok", pc.cast(pc.and_kleene(scored, episodes["correct"]), pa.int64()))
    episodes = episodes.append_column("failed", pc.cast(pc.invert(scored), pa.int64()))
    grouped = episodes.group_by(["model_id", "task", "strategy"]).aggregate(
        [("scored", "count"), ("scored", "sum"), ("ok", "sum"), ("failed", "sum")])
    return grouped.sort_by([("model_id", "ascending"), ("task", "ascending"), ("strategy", "ascending")])


def print_summary(run_dir: Path, console: Console) -> None:
    table = summary_table(run_dir)
    view = Table(title=f"{run_dir}")
    for name in ("model", "task", "strategy", "episodes", "accuracy", "not scored"):
        view.add_column(name, justify="right" if name in ("episodes", "accuracy", "not scored") else "left")
    for row in table.to_pylist():
        scored = row["scored_sum"] or 0
        accuracy = f"{(row['ok_sum'] or 0) / scored:.1%}" if scored else "—"
        view.add_row(row["model_id"], row["task"], row["strategy"], str(row["scored_count"]), accuracy,
                     str(row["failed_sum"] or 0))
    console.print(view)
    console.print(f"run directory: {run_dir}   report: python -m orchestrator report {run_dir}")

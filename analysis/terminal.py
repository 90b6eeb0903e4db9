"""The report's headline tables printed to a terminal with rich: few, short columns."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import polars as pl
from rich.console import Console
from rich.table import Table

from analysis.compare import Comparisons
from analysis.tables import Tables

PIPE_WIDTH = 200


def output_console() -> Console:
    """The terminal's console, or for a pipe or a file one wide enough that tables keep whole
    columns instead of folding them to 80 characters."""
    return Console() if sys.stdout.isatty() else Console(width=PIPE_WIDTH)


def _num(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def _label(row: dict[str, Any], several_runs: bool, several_strategies: bool) -> str:
    label = f"{row['run']}/{row['model_id']}" if several_runs else row["model_id"]
    return f"{label} · {row['strategy']}" if several_strategies and "strategy" in row else label


def _table(
    title: str, frame: pl.DataFrame, columns: Sequence[tuple[str, Callable[[dict[str, Any]], str]]]
) -> Table:
    table = Table(*(name for name, _ in columns), title=title, title_justify="left")
    for row in frame.iter_rows(named=True):
        table.add_row(*(cell(row) for _, cell in columns))
    return table


def print_summary(index: Path, tables: Tables, findings: Sequence[str], console: Console) -> None:
    accuracy, variance, reliability = tables["accuracy"], tables["variance"], tables["reliability"]
    several_runs = tables.runs.height > 1
    several_strategies = accuracy["strategy"].n_unique() > 1

    def model(row: dict[str, Any]) -> str:
        return _label(row, several_runs, several_strategies)

    console.print(f"[bold]Report[/bold] {index}", highlight=False)
    for line in findings:
        console.print(f"• {line}", highlight=False)
    console.print(
        _table(
            "Accuracy (scored episodes)",
            accuracy,
            [
                ("model", model),
                ("task", lambda r: r["task"]),
                ("n", lambda r: str(r["n"])),
                ("correct ± s.e.", lambda r: f"{_num(r['correct'])} ± {_num(r['correct_se'])}"),
                ("excluded", lambda r: str(r["excluded"])),
                ("refused", lambda r: str(r["refused"])),
            ],
        )
    )
    console.print(
        _table(
            "Variance across seeds",
            variance,
            [
                ("model", model),
                ("task", lambda r: r["task"]),
                ("seeds", lambda r: str(r["seeds"])),
                (
                    "accuracy [95% CI]",
                    lambda r: f"{_num(r['accuracy'])} [{_num(r['ci_low'])}, {_num(r['ci_high'])}]",
                ),
                ("flips", lambda r: _pct(r["flip_share"])),
                ("seed s.d.", lambda r: _num(r["seed_std"], 3)),
            ],
        )
    )
    console.print(
        _table(
            "Reliability",
            reliability,
            [
                ("provider", lambda r: r["provider"]),
                ("model", lambda r: _label(r, several_runs, False)),
                ("attempts", lambda r: str(r["attempts"])),
                ("ok", lambda r: _pct(r["ok_rate"])),
                ("5xx", lambda r: _pct(r["http_5xx_rate"])),
                ("429", lambda r: _pct(r["http_429_rate"])),
                ("retries/ok", lambda r: _num(r["retries_per_ok"])),
                ("p95 s", lambda r: _num(r["latency_p95_s"])),
                ("cost $", lambda r: _num(r["cost_usd"], 4)),
            ],
        )
    )


def _p_value(value: float | None) -> str:
    if value is None:
        return "–"
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def print_tool_validity(validity: pl.DataFrame, console: Console) -> None:
    """Tool-call validity side by side: a row per model, strategy and run (``analysis.tool_validity``)."""
    if validity.is_empty():
        return
    console.print(_table(
        "Tool-call validity (share of tool calls)",
        validity.sort("model_id", "strategy", "run"),
        [
            ("model", lambda r: r["model_id"]),
            ("strategy", lambda r: r["strategy"]),
            ("run", lambda r: r["run"]),
            ("calls", lambda r: str(r["tool_calls"])),
            ("invalid", lambda r: _pct(r["invalid_share"])),
            ("unparseable", lambda r: _pct(r["unparseable_share"])),
            ("unknown tool", lambda r: _pct(r["unknown_tool_share"])),
            ("schema misfit", lambda r: _pct(r["schema_misfit_share"])),
            ("tool error", lambda r: _pct(r["tool_error_share"])),
        ],
    ))


def print_comparisons(comparisons: Comparisons, lines: Sequence[str], written: Path, console: Console) -> None:
    """The accuracy comparisons as one table, then the verdicts."""
    accuracy = comparisons.metric("correct").sort("task", "strategy", "p_adjusted")
    console.print(
        _table(
            "Which differences are real (accuracy, paired by example and seed)",
            accuracy,
            [
                ("task", lambda r: r["task"]),
                ("strategy", lambda r: r["strategy"]),
                ("model A", lambda r: r["model_a"]),
                ("model B", lambda r: r["model_b"]),
                ("pairs", lambda r: str(r["n_pairs"])),
                ("A", lambda r: _num(r["acc_a"])),
                ("B", lambda r: _num(r["acc_b"])),
                ("A − B [95% CI]", lambda r: f"{r['diff']:+.2f} [{r['ci_low']:+.2f}, {r['ci_high']:+.2f}]"),
                ("p", lambda r: _p_value(r["p_value"])),
                ("p Holm", lambda r: _p_value(r["p_adjusted"])),
                ("MDE", lambda r: _num(r["mde"])),
                ("seeds needed", lambda r: "–" if r["seeds_needed"] is None else str(r["seeds_needed"])),
                ("real", lambda r: ("yes" if r["significant"] else "no") + ("‡" if r["note"] else "")),
            ],
        )
    )
    for row in accuracy.filter(pl.col("note").is_not_null()).iter_rows(named=True):
        console.print(f"‡ {row['task']} ({row['strategy']}), {row['model_a']} − {row['model_b']}: {row['note']}",
                      highlight=False)
    for line in lines:
        console.print(f"• {line}", highlight=False)
    console.print(f"Tables: {written.parent}", highlight=False)

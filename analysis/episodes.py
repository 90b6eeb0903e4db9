"""The episodes the report's browser shows: what each agent did, call by call, in compact JSON.

Every episode of a small run is embedded. A large run is sampled so that the page stays small
and fast: every model × strategy × task × example keeps its episodes of the lowest seeds (as many
seeds as the budget allows, at least one); when even one seed per cell is over the budget, each
model × strategy × task keeps its first examples (by example id). Long texts (tool arguments and
results, answers, errors) are cut to a fixed length. The note says what was kept.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import polars as pl

from analysis.compare import model_label
from analysis.load import RunData, scan_columns

EPISODE_BUDGET = 3000
TEXT_LIMIT = 240
TOOL_CALL = pl.Struct({"name": pl.String, "arguments": pl.String, "result": pl.String, "error": pl.String})
COLUMNS: dict[str, pl.DataType] = {
    "model_id": pl.String(),
    "task": pl.String(),
    "example_id": pl.String(),
    "seed": pl.Int64(),
    "strategy": pl.String(),
    "status": pl.String(),
    "answer": pl.String(),
    "correct": pl.Boolean(),
    "state_correct": pl.Boolean(),
    "steps_match": pl.Boolean(),
    "judge_correct": pl.Boolean(),
    "step_ratio": pl.Float64(),
    "n_steps": pl.Int64(),
    "expected_steps": pl.Int64(),
    "n_attempts": pl.Int64(),
    "n_retries": pl.Int64(),
    "duration_s": pl.Float64(),
    "error_class": pl.String(),
    "error_message": pl.String(),
    "tool_calls": pl.List(TOOL_CALL),
}
CELL = ["model", "strategy", "task", "example_id"]
# the order of the fields of one episode in the JSON array (the page's script reads this list)
FIELDS = [
    "seed",
    "status",
    "correct",
    "state_correct",
    "steps_match",
    "judge_correct",
    "step_ratio",
    "n_steps",
    "expected_steps",
    "n_attempts",
    "n_retries",
    "duration_s",
    "answer",
    "error",
    "calls",
]


@dataclass(frozen=True)
class EpisodeSample:
    payload: str  # JSON for the page
    shown: int
    total: int
    note: str


def _cut(text: str | None, limit: int = TEXT_LIMIT) -> str | None:
    if text is None or len(text) <= limit:
        return text
    return text[:limit] + f"… ({len(text) - limit:,} more characters)"


def _sample(frame: pl.DataFrame, budget: int) -> tuple[pl.DataFrame, str]:
    total = frame.height
    if total <= budget:
        return frame, f"All {total:,} episodes."
    cells = frame.select(CELL).n_unique()
    seeds_per_cell = budget // cells
    if seeds_per_cell >= 1:
        rank = pl.col("seed").rank("dense").over(CELL)
        kept = frame.filter(rank <= seeds_per_cell)
        seeds = "seed" if seeds_per_cell == 1 else f"{seeds_per_cell} seeds"
        return kept, (
            f"{kept.height:,} of {total:,} episodes: the lowest {seeds} of every model × strategy × task × "
            "example (a page with every episode would be slow to open); the Arrow files hold them all."
        )
    groups = frame.select("model", "strategy", "task").n_unique()
    examples_per_group = max(1, budget // groups)
    rank = pl.col("example_id").rank("dense").over("model", "strategy", "task")
    kept = frame.filter((rank <= examples_per_group) & (pl.col("seed").rank("dense").over(CELL) == 1))
    return kept, (
        f"{kept.height:,} of {total:,} episodes: the lowest seed of the first {examples_per_group} examples "
        "(by id) of every model × strategy × task; the Arrow files hold them all."
    )


def episode_sample(data: RunData, budget: int = EPISODE_BUDGET) -> EpisodeSample:
    """The episodes to embed (see the module docstring) as JSON, with a note of how they were chosen."""
    scans = [scan_columns(run, "episodes", COLUMNS) for run in data.runs]
    frame = (
        pl.concat(scans, how="vertical")
        .with_columns(model_label())
        .sort("model", "strategy", "task", "example_id", "seed")
        .collect()
    )
    kept, note = _sample(frame, budget)
    models = sorted(kept["model"].unique().to_list())
    strategies = sorted(kept["strategy"].unique().to_list())
    tasks = sorted(kept["task"].unique().to_list())
    index = {name: {value: i for i, value in enumerate(values)} for name, values in
             (("model", models), ("strategy", strategies), ("task", tasks))}
    cells: dict[str, list[list[object]]] = {}
    for row in kept.iter_rows(named=True):
        error = " ".join(part for part in (row["error_class"], row["error_message"]) if part) or None
        calls = [
            [call["name"], _cut(call["arguments"]), _cut(call["result"]), _cut(call["error"])]
            for call in row["tool_calls"] or []
        ]
        values = {**row, "answer": _cut(row["answer"]), "error": _cut(error), "calls": calls}
        if values["step_ratio"] is not None:
            values["step_ratio"] = round(values["step_ratio"], 3)
        if values["duration_s"] is not None:
            values["duration_s"] = round(values["duration_s"], 2)
        key = "|".join(
            str(part)
            for part in (
                index["model"][row["model"]],
                index["strategy"][row["strategy"]],
                index["task"][row["task"]],
                row["example_id"],
            )
        )
        cells.setdefault(key, []).append([values[field] for field in FIELDS])
    payload = {
        "models": models,
        "strategies": strategies,
        "tasks": tasks,
        "fields": FIELDS,
        "cells": cells,
        "note": note,
    }
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    # inside <script>, "</" would end the element: JSON allows the escaped form "<\/"
    return EpisodeSample(text.replace("</", "<\\/"), kept.height, frame.height, note)

"""Tool-call validity: of the tool calls a model made, the share that were unparseable (arguments
not JSON), named no offered tool, had arguments off the tool's schema, or that the tool refused or
failed on — the figure model routers publish per model, here per model × strategy × task.

Read from the episodes' ``tool_calls`` column (each call's ``kind``, written since ToolSweep
recorded it), each episode's latest attempt, one part file at a time. Calls of runs written before
``kind`` existed are counted as ``unrecorded`` and left out of the shares, never guessed from the
error text.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from analysis.load import RunInfo, latest_episode_parts
from analysis.report_table import ReportTable

# ``tasks.environment.TOOL_CALL_KINDS``, in its order (tests/test_vocabulary.py holds them equal)
KINDS = ("ok", "unparseable", "unknown_tool", "schema_misfit", "tool_error")
FAULTS = KINDS[1:]
KEYS = ["run", "model_id", "strategy", "task"]
_READ: dict[str, pl.DataType] = {"model_id": pl.String(), "strategy": pl.String(), "task": pl.String(),
                                 "tool_calls": pl.List(pl.Struct({"name": pl.String(), "kind": pl.String()}))}
COUNTS = ["tool_calls", "recorded", *FAULTS]


def _part_counts(part: pl.DataFrame) -> pl.DataFrame:
    # every part's tool calls are read as {name, kind}: a part written before ``kind`` reads it as null
    calls = part.select(*KEYS, "tool_calls").explode("tool_calls").filter(pl.col("tool_calls").is_not_null())
    return calls.with_columns(pl.col("tool_calls").struct.field("kind")).group_by(KEYS).agg(
        pl.len().cast(pl.Int64).alias("tool_calls"),
        pl.col("kind").is_not_null().sum().cast(pl.Int64).alias("recorded"),
        *[(pl.col("kind") == fault).sum().cast(pl.Int64).alias(fault) for fault in FAULTS],
    )


def kind_counts(runs: Sequence[RunInfo], keys: Sequence[str] = KEYS) -> pl.DataFrame:
    """Tool calls, calls with a recorded kind, and the count of each fault, per ``keys`` (a subset
    of ``KEYS``, ``run`` first)."""
    frames = [_part_counts(part) for run in runs for part in latest_episode_parts(run, _READ)]
    schema = {**{key: pl.String() for key in keys}, **{name: pl.Int64() for name in COUNTS}}
    if not frames:
        return pl.DataFrame(schema=schema)
    return pl.concat(frames).group_by(list(keys)).agg(pl.col(COUNTS).sum()).sort(list(keys))


SHARES = ["invalid_share", *[f"{fault}_share" for fault in FAULTS]]


def validity_shares(counts: pl.DataFrame) -> pl.DataFrame:
    """``counts`` with each fault as a share of the recorded calls (``<fault>_share``), and
    ``invalid_share``: the share with any fault (null where no call's kind was recorded)."""
    recorded = pl.col("recorded")
    shares = [pl.sum_horizontal(FAULTS), *[pl.col(fault) for fault in FAULTS]]
    keys = [c for c in counts.columns if c not in COUNTS]
    return counts.select(*keys, "tool_calls", (pl.col("tool_calls") - recorded).alias("unrecorded"),
                         *[pl.when(recorded > 0).then(count / recorded).alias(name)
                           for name, count in zip(SHARES, shares, strict=True)])


def validity_table(runs: Sequence[RunInfo]) -> ReportTable:
    """The report's table: per run × model × strategy × task."""
    return ReportTable(
        "tool_validity",
        "Tool-call validity",
        "Of each model's tool calls, the share that were unparseable (arguments not JSON), named no offered "
        "tool (unknown_tool), had arguments that do not fit the tool's schema (schema_misfit), or that the tool "
        "refused or failed on (tool_error); invalid_share is the share with any of them. Calls of runs written "
        "before the kind was recorded are counted as unrecorded and left out of the shares.",
        validity_shares(kind_counts(runs)),
        ("run", "model_id", "strategy", "task", "tool_calls", *SHARES),
    )

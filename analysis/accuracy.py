"""Accuracy per run × model × task × strategy, and whether excluded episodes cluster.

Which episodes count:

- **scored** = ``completed`` + ``max_steps``. Running out of steps is the model's failure, so a
  ``max_steps`` episode is scored, and a metric it left null is scored False (``state_correct``
  only where the task has state, ``judge_correct`` only where the run has a judge).
- **excluded** = ``provider_failed`` + ``agent_error``: the infrastructure or the harness failed,
  so the episode says nothing about the model. Excluded episodes are neither scored as wrong nor
  dropped silently: their count sits beside the accuracy, and :func:`exclusion_table` tests
  whether they cluster by task or example (which would bias the accuracy of what remains).
- **refused** episodes are their own column (count and rate): a provider's safety filter, not a
  wrong answer and not an outage.

Standard errors are binomial, sqrt(p(1 − p)/n), with n the episodes where the metric is defined.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from analysis.stats import chi2_independence

STATUSES = ("completed", "max_steps", "provider_failed", "refused", "agent_error")
SCORED_STATUSES = ("completed", "max_steps")
EXCLUDED_STATUSES = ("provider_failed", "agent_error")
KEYS = ["run", "model_id", "task", "strategy"]
BINARY_METRICS = ("correct", "state_correct", "steps_match", "judge_correct")
SCORED_COLUMNS = [
    *KEYS,
    "example_id",
    "seed",
    "status",
    *BINARY_METRICS,
    "step_ratio",
    "expected_steps",
    "difficulty",
]


def _as_earned(metric: str, applies: pl.Expr) -> pl.Expr:
    on_max_steps = pl.col("status") == "max_steps"
    return (
        pl.when(on_max_steps & applies)
        .then(pl.col(metric).fill_null(False))
        .otherwise(pl.col(metric))
        .alias(metric)
    )


def scored_episodes(episodes: pl.LazyFrame) -> pl.LazyFrame:
    """The scored episodes, with each metric as the model earned it (see the module docstring).

    ``correct`` is never null here (a scored episode without a verdict did not answer right). A
    task has state when any of its scored episodes has a ``state_correct``; a run has a judge
    when any of its scored episodes has a ``judge_correct``. Several tables start from this
    frame: compute it once (and collect it) to reuse it, through their ``scored`` parameter.
    """
    task_has_state = pl.col("state_correct").is_not_null().any().over("run", "task")
    run_has_judge = pl.col("judge_correct").is_not_null().any().over("run")
    measured_ratio = pl.when(pl.col("expected_steps") > 0).then(pl.col("n_steps") / pl.col("expected_steps"))
    return (
        episodes.filter(pl.col("status").is_in(SCORED_STATUSES))
        .with_columns(
            pl.col("correct").fill_null(False),
            _as_earned("steps_match", pl.lit(True)),
            _as_earned("state_correct", task_has_state),
            _as_earned("judge_correct", run_has_judge),
            pl.coalesce(pl.col("step_ratio"), measured_ratio).alias("step_ratio"),
        )
        .select(SCORED_COLUMNS)
    )


def _mean_and_se(metric: str) -> list[pl.Expr]:
    values = pl.col(metric).cast(pl.Float64)
    return [values.mean().alias(metric), values.count().alias(f"_{metric}_n")]


def accuracy_table(episodes: pl.LazyFrame, *, scored: pl.LazyFrame | None = None) -> pl.DataFrame:
    """One row per run × model × task × strategy: n scored, metric means and SEs, status counts."""
    scored = scored_episodes(episodes) if scored is None else scored
    status_counts = episodes.group_by(KEYS).agg(
        pl.len().cast(pl.Int64).alias("episodes"),
        *[(pl.col("status") == status).sum().cast(pl.Int64).alias(status) for status in STATUSES],
    )
    per_group = scored.group_by(KEYS).agg(
        pl.len().cast(pl.Int64).alias("n"),
        *[expr for metric in BINARY_METRICS for expr in _mean_and_se(metric)],
        pl.col("step_ratio").mean().alias("step_ratio_mean"),
        pl.col("step_ratio").std().alias("step_ratio_std"),
    )
    standard_errors = [
        (pl.col(m) * (1 - pl.col(m)) / pl.col(f"_{m}_n")).sqrt().alias(f"{m}_se") for m in BINARY_METRICS
    ]
    metric_columns = [name for m in BINARY_METRICS for name in (m, f"{m}_se")]
    return (
        status_counts.join(per_group, on=KEYS, how="left", nulls_equal=True)
        .with_columns(
            pl.col("n").fill_null(0),
            *standard_errors,
            (pl.col("provider_failed") + pl.col("agent_error")).alias("excluded"),
            (pl.col("refused") / pl.col("episodes")).alias("refusal_rate"),
        )
        .select(
            *KEYS,
            "n",
            *metric_columns,
            "step_ratio_mean",
            "step_ratio_std",
            "episodes",
            *STATUSES,
            "excluded",
            "refusal_rate",
        )
        .sort(KEYS)
        .collect()
    )


def exclusion_table(episodes: pl.LazyFrame) -> pl.DataFrame:
    """Per run × model: excluded episodes and chi-square tests of excluded-vs-not by task and example.

    ``task_p`` tests independence of exclusion and task; ``example_p`` does the same with one
    cell per (task, example) — with few episodes per example its expected counts are small and
    the chi-square approximation is rough, so ``top_example`` / ``top_example_share`` (the
    example holding most exclusions, and its share of them) sit beside it. A p-value is null
    when the test is undefined (no exclusions, or a single task / example); ``note`` says why.
    """
    cells = (
        episodes.group_by("run", "model_id", "task", "example_id")
        .agg(
            pl.len().cast(pl.Int64).alias("episodes"),
            pl.col("status").is_in(EXCLUDED_STATUSES).sum().cast(pl.Int64).alias("excluded"),
        )
        .sort("run", "model_id", "task", "example_id")
        .collect()
    )
    rows = []
    for (run, model_id), group in cells.group_by("run", "model_id", maintain_order=True):
        rows.append({"run": run, "model_id": model_id, **_exclusion_tests(group)})
    schema = {
        "run": pl.String,
        "model_id": pl.String,
        "episodes": pl.Int64,
        "excluded": pl.Int64,
        "excluded_rate": pl.Float64,
        "task_chi2": pl.Float64,
        "task_df": pl.Int64,
        "task_p": pl.Float64,
        "example_chi2": pl.Float64,
        "example_df": pl.Int64,
        "example_p": pl.Float64,
        "top_example": pl.String,
        "top_example_share": pl.Float64,
        "note": pl.String,
    }
    return pl.DataFrame(rows, schema=schema)


def _exclusion_tests(cells: pl.DataFrame) -> dict[str, object]:
    episodes = int(cells["episodes"].sum())
    excluded = int(cells["excluded"].sum())
    result: dict[str, object] = {
        "episodes": episodes,
        "excluded": excluded,
        "excluded_rate": excluded / episodes,
        "task_chi2": None,
        "task_df": None,
        "task_p": None,
        "example_chi2": None,
        "example_df": None,
        "example_p": None,
        "top_example": None,
        "top_example_share": None,
        "note": None,
    }
    if excluded == 0:
        result["note"] = "no excluded episodes"
        return result
    worst = cells.sort("excluded", descending=True).row(0, named=True)
    result["top_example"] = f"{worst['task']}/{worst['example_id']}"
    result["top_example_share"] = worst["excluded"] / excluded
    by_task = cells.group_by("task").agg(pl.col("episodes").sum(), pl.col("excluded").sum()).sort("task")
    notes = []
    for prefix, table in (("task", by_task), ("example", cells)):
        excluded_counts = table["excluded"].to_numpy()
        test = chi2_independence(
            np.column_stack([excluded_counts, table["episodes"].to_numpy() - excluded_counts])
        )
        if test is None:
            notes.append(f"{prefix} test undefined (one {prefix} or every episode excluded)")
            continue
        result[f"{prefix}_chi2"], result[f"{prefix}_df"], result[f"{prefix}_p"] = (
            test.statistic,
            test.df,
            test.p_value,
        )
    result["note"] = "; ".join(notes) or None
    return result

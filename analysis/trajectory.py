"""Accuracy as a function of trajectory length, with a logistic fit and a half-life length.

Length is ``expected_steps`` (tool calls the optimal trajectory needs) by default, or
``difficulty``. Each run × model × strategy gets one row per task and one pooled row
(``task = "all tasks"``): the published finding is that every model fails more as trajectories
grow, even on trivial tasks, and the pooled fit states it as one number per model.

The fit is logistic regression of ``correct`` (scored episodes, as in ``accuracy``) on length.
The *half-life length* is where the fitted success probability falls to 50%: −intercept/slope.
It is null, with the reason in ``note``, when the data cannot give it: a single length, no
successes or no failures, outcomes perfectly separated by length (the maximum-likelihood fit
diverges), success not falling with length, or a 50% point outside the observed lengths (no
extrapolation).
"""

from __future__ import annotations

import polars as pl

from analysis.accuracy import scored_episodes
from analysis.stats import fit_logistic

ALL_TASKS = "all tasks"
GROUP = ["run", "model_id", "strategy", "task"]
LENGTH_COLUMNS = ("expected_steps", "difficulty")


def length_table(
    episodes: pl.LazyFrame, length: str = "expected_steps", *, scored: pl.LazyFrame | None = None
) -> pl.DataFrame:
    """n, successes and accuracy per run × model × strategy × task × length (plus pooled tasks)."""
    if length not in LENGTH_COLUMNS:
        raise ValueError(f"length must be one of {LENGTH_COLUMNS}, got {length!r}")
    scored = (
        (scored_episodes(episodes) if scored is None else scored)
        .filter(pl.col(length).is_not_null())
        .select("run", "model_id", "strategy", "task", pl.col(length).alias("length"), "correct")
    )
    pooled = scored.with_columns(pl.lit(ALL_TASKS).alias("task"))
    return (
        pl.concat([scored, pooled])
        .group_by(*GROUP, "length")
        .agg(
            pl.len().cast(pl.Int64).alias("n"),
            pl.col("correct").sum().cast(pl.Int64).alias("successes"),
        )
        .with_columns((pl.col("successes") / pl.col("n")).alias("accuracy"))
        .sort(*GROUP, "length")
        .collect()
    )


def _separated(lengths: list[int], trials: list[int], successes: list[int]) -> bool:
    with_success = [x for x, s in zip(lengths, successes, strict=True) if s > 0]
    with_failure = [x for x, n, s in zip(lengths, trials, successes, strict=True) if n - s > 0]
    return max(with_success) <= min(with_failure) or min(with_success) >= max(with_failure)


def _fit_group(lengths: list[int], trials: list[int], successes: list[int]) -> dict[str, object]:
    n, wins = sum(trials), sum(successes)
    row: dict[str, object] = {
        "n": n,
        "lengths": len(lengths),
        "min_length": min(lengths),
        "max_length": max(lengths),
        "intercept": None,
        "slope": None,
        "half_life": None,
        "note": None,
    }
    if len(lengths) < 2:
        row["note"] = "one length only"
    elif wins == 0:
        row["note"] = "no successes"
    elif wins == n:
        row["note"] = "no failures"
    elif _separated(lengths, trials, successes):
        row["note"] = "outcomes separated by length: the logistic fit diverges"
    if row["note"] is not None:
        return row
    fit = fit_logistic([float(x) for x in lengths], trials, successes)
    if fit is None:
        row["note"] = "logistic fit did not converge"
        return row
    row["intercept"], row["slope"] = fit.intercept, fit.slope
    if fit.slope >= 0:
        row["note"] = "success does not fall with length"
        return row
    half_life = -fit.intercept / fit.slope
    if half_life < min(lengths):
        row["note"] = f"predicted success is below 50% at every observed length (from {min(lengths)})"
    elif half_life > max(lengths):
        row["note"] = f"predicted success stays above 50% up to the longest observed length ({max(lengths)})"
    else:
        row["half_life"] = half_life
    return row


def fit_table(lengths: pl.DataFrame) -> pl.DataFrame:
    """Logistic fit and half-life length per run × model × strategy × task (from :func:`length_table`)."""
    rows = []
    for key, group in lengths.group_by(GROUP, maintain_order=True):
        fitted = _fit_group(group["length"].to_list(), group["n"].to_list(), group["successes"].to_list())
        rows.append({**dict(zip(GROUP, key, strict=True)), **fitted})
    schema = {
        "run": pl.String,
        "model_id": pl.String,
        "strategy": pl.String,
        "task": pl.String,
        "n": pl.Int64,
        "lengths": pl.Int64,
        "min_length": pl.Int64,
        "max_length": pl.Int64,
        "intercept": pl.Float64,
        "slope": pl.Float64,
        "half_life": pl.Float64,
        "note": pl.String,
    }
    return pl.DataFrame(rows, schema=schema)

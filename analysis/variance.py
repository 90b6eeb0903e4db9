"""Variance across seeds: pass@k / pass^k, outcome flips, between-seed spread, clustered bootstrap.

Per run × model × task × strategy, each example has n scored trials (its seeds; scored as in
``accuracy``) of which c are correct. With the unbiased estimators

    pass@k = 1 − C(n − c, k) / C(n, k)     (at least one of k trials succeeds)
    pass^k = C(c, k) / C(n, k)             (all k trials succeed)

averaged over examples, for k = 1 .. the largest n. An example with fewer than k scored trials
has no unbiased estimate at that k and is left out of that k's average (``examples`` says how
many remain), so a few lost episodes shrink the sample rather than bias it.

``flip_share`` is the share of examples with at least two scored trials whose outcomes differ.
``seed_std`` is the sample standard deviation (ddof = 1) of the per-seed accuracies. The 95%
interval resamples *examples* with replacement (all seeds of an example move together), B times,
from a generator seeded with ``seed`` and the group's key, so a table is reproducible and one
group's interval does not change when other groups are added.
"""

from __future__ import annotations

import math
import zlib

import numpy as np
import polars as pl

from analysis.accuracy import KEYS, scored_episodes
from analysis.stats import cluster_bootstrap_ci


def example_outcomes(episodes: pl.LazyFrame, *, scored: pl.LazyFrame | None = None) -> pl.DataFrame:
    """Scored trials and successes per run × model × task × strategy × example."""
    return (
        (scored_episodes(episodes) if scored is None else scored)
        .group_by(*KEYS, "example_id")
        .agg(
            pl.len().cast(pl.Int64).alias("trials"), pl.col("correct").sum().cast(pl.Int64).alias("successes")
        )
        .sort(*KEYS, "example_id")
        .collect()
    )


def _estimator_lookup(pairs: pl.DataFrame) -> pl.DataFrame:
    """pass@k and pass^k for every distinct (trials, successes) pair and k ≤ trials, exactly."""
    rows = []
    for n, c in pairs.iter_rows():
        for k in range(1, n + 1):
            total = math.comb(n, k)
            rows.append((n, c, k, 1.0 - math.comb(n - c, k) / total, math.comb(c, k) / total))
    schema = {
        "trials": pl.Int64,
        "successes": pl.Int64,
        "k": pl.Int64,
        "pass_at_k": pl.Float64,
        "pass_hat_k": pl.Float64,
    }
    return pl.DataFrame(rows, schema=schema, orient="row")


def pass_k_table(episodes: pl.LazyFrame, *, examples: pl.DataFrame | None = None) -> pl.DataFrame:
    """pass@k and pass^k per run × model × task × strategy × k, over examples with ≥ k trials.

    ``examples``: :func:`example_outcomes` of the same episodes, to reuse it.
    """
    examples = example_outcomes(episodes) if examples is None else examples
    lookup = _estimator_lookup(examples.select("trials", "successes").unique())
    return (
        examples.join(lookup, on=["trials", "successes"], how="inner")
        .group_by(*KEYS, "k")
        .agg(
            pl.len().cast(pl.Int64).alias("examples"), pl.col("pass_at_k").mean(), pl.col("pass_hat_k").mean()
        )
        .sort(*KEYS, "k")
    )


def _group_seed(seed: int, key: tuple[object, ...]) -> list[int]:
    return [seed, zlib.crc32("\x1f".join(str(part) for part in key).encode())]


def variance_table(
    episodes: pl.LazyFrame,
    *,
    n_boot: int = 1000,
    seed: int = 0,
    scored: pl.LazyFrame | None = None,
    examples: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Accuracy with a clustered bootstrap 95% CI, flip share and between-seed std per group.

    ``scored`` / ``examples``: :func:`scored_episodes` / :func:`example_outcomes` of the same
    episodes, to reuse them.
    """
    scored = scored_episodes(episodes) if scored is None else scored
    examples = example_outcomes(episodes, scored=scored) if examples is None else examples
    per_seed = (
        scored.group_by(*KEYS, "seed")
        .agg(pl.col("correct").cast(pl.Float64).mean().alias("seed_accuracy"))
        .group_by(KEYS)
        .agg(pl.len().cast(pl.Int64).alias("seeds"), pl.col("seed_accuracy").std(ddof=1).alias("seed_std"))
    )
    repeated = pl.col("trials") >= 2
    flipped = repeated & (pl.col("successes") > 0) & (pl.col("successes") < pl.col("trials"))
    summary = (
        examples.lazy()
        .group_by(KEYS)
        .agg(
            pl.len().cast(pl.Int64).alias("examples"),
            pl.col("trials").sum().alias("trials"),
            (pl.col("successes").sum() / pl.col("trials").sum()).alias("accuracy"),
            (flipped.sum() / repeated.sum().replace(0, None)).alias("flip_share"),
        )
        .join(per_seed, on=KEYS, how="left")
        .sort(KEYS)
        .collect()
    )
    intervals = []
    for key, group in examples.group_by(KEYS, maintain_order=True):
        rng = np.random.default_rng(_group_seed(seed, key))
        low, high = cluster_bootstrap_ci(
            group["successes"].to_numpy(),
            group["trials"].to_numpy(),
            n_boot=n_boot,
            rng=rng,
        )
        intervals.append((*key, low, high))
    interval_schema = {**{k: pl.String for k in KEYS}, "ci_low": pl.Float64, "ci_high": pl.Float64}
    interval_frame = pl.DataFrame(intervals, schema=interval_schema, orient="row")
    return summary.join(interval_frame, on=KEYS, how="left").select(
        *KEYS, "examples", "seeds", "trials", "accuracy", "ci_low", "ci_high", "flip_share", "seed_std"
    )

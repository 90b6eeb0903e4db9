"""Batched models (``models[].batch``): how their batches fared, and a batched model beside the
same model run online.

A call went through a batch API when its ``calls.batch_id`` is set. Definitions:

- ``batches``: distinct ``batch_id`` values; ``requests``: the calls rows with a ``batch_id`` (one
  per request a batch carried; a request its batch never ran is sent again in a later batch and
  is a row of each).
- ``ok``, ``expired``, ``canceled``: requests with that outcome; ``errored``: every other outcome
  (the provider answered that one request with an error).
- ``failed_share``: requests not ``ok`` / requests.
- ``wait_p50_s``, ``wait_max_s``: over the requests, ``latency_s`` — from the call joining its
  runner's batch queue to its result being read back (queueing, the batch's processing, polling).

**Batch vs online.** A run's model is *batched* when any of its calls has a ``batch_id``, *online*
otherwise. Models of the given runs are matched by the provider and the model they asked for
(``episodes.provider`` and ``episodes.model``, the sweep's id when ``model`` is missing); every
provider × model that has at least one batched and one online entry is shown, one row per run ×
model id: episodes, scored episodes, accuracy (correct among scored, as in the accuracy table),
cost (sum of ``episodes.cost_usd``, null without a price) and wall time (the first episode's start
to the last episode's end).
"""

from __future__ import annotations

import polars as pl

from analysis import accuracy

KEYS = ["run", "provider", "model_id"]
NAMED = ("ok", "expired", "canceled")


def batch_table(calls: pl.LazyFrame) -> pl.DataFrame:
    """Per run × provider × model with batched calls: batches, requests, their outcomes and waits."""
    batched = calls.filter(pl.col("batch_id").is_not_null())
    outcome = pl.col("outcome")
    return (
        batched.group_by(KEYS)
        .agg(
            pl.col("batch_id").n_unique().cast(pl.Int64).alias("batches"),
            pl.len().cast(pl.Int64).alias("requests"),
            *[(outcome == name).sum().cast(pl.Int64).alias(name) for name in NAMED],
            (~outcome.is_in(NAMED)).sum().cast(pl.Int64).alias("errored"),
            (outcome != "ok").mean().alias("failed_share"),
            pl.col("latency_s").quantile(0.5, interpolation="linear").alias("wait_p50_s"),
            pl.col("latency_s").max().alias("wait_max_s"),
        )
        .sort(KEYS)
        .collect()
    )


def batch_vs_online(calls: pl.LazyFrame, episodes: pl.LazyFrame, scored: pl.LazyFrame | None = None) -> pl.DataFrame:
    """Each provider × model run both batched and online: one row per run × model id (see the module docstring)."""
    scored = accuracy.scored_episodes(episodes) if scored is None else scored
    batched = (
        calls.filter(pl.col("batch_id").is_not_null()).select(KEYS).unique().with_columns(pl.lit("batch").alias("mode"))
    )
    asked = pl.coalesce("model", "model_id").alias("model")
    per_model = episodes.group_by(KEYS).agg(
        asked.first(),
        pl.len().cast(pl.Int64).alias("episodes"),
        pl.when(pl.col("cost_usd").is_not_null().any()).then(pl.col("cost_usd").sum()).alias("cost_usd"),
        ((pl.col("started_at") + pl.col("duration_s")).max() - pl.col("started_at").min()).alias("wall_s"),
    )
    correct = scored.group_by("run", "model_id").agg(  # the scored frame keeps no provider column
        pl.len().cast(pl.Int64).alias("scored"), pl.col("correct").mean().alias("accuracy")
    )
    table = (
        per_model.join(batched, on=KEYS, how="left")
        .join(correct, on=["run", "model_id"], how="left")
        .with_columns(pl.col("mode").fill_null("online"), pl.col("scored").fill_null(0))
        .filter(pl.col("mode").n_unique().over("provider", "model") == 2)
    )
    return (
        table.select("provider", "model", "mode", "run", "model_id", "episodes", "scored", "accuracy", "cost_usd",
                     "wall_s")
        .sort("provider", "model", "mode", "run", "model_id")
        .collect()
    )

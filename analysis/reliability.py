"""Provider reliability from the ``calls`` table (one row per HTTP attempt) and breaker ``events``.

Definitions:

- ``<outcome>_rate``: attempts with that outcome / all attempts of the provider × model.
- ``retries_per_ok``: attempts beyond the first of their model call / attempts that succeeded.
  (Each model call numbers its attempts 1, 2, …, so retries are the rows with ``attempt > 1``.)
- latency percentiles are over ``ok`` attempts, with linear interpolation between closest ranks
  (numpy's default): for sorted x_0..x_{n−1}, the q-quantile sits at rank h = (n − 1)·q and is
  x_⌊h⌋ + (h − ⌊h⌋)·(x_⌊h⌋+1 − x_⌊h⌋).
- streaming (``streaming_table``, models with ``stream: true``): time to first token (``ttft_s``)
  and output tokens per second (``output_tokens_per_s`` = output_tokens / (latency_s − ttft_s), the
  generation phase after the first token) at p50 and p95 over ``ok`` attempts that streamed (have
  a ``ttft_s``), by the same interpolation; an attempt whose rate is null (its content came in one
  event) counts for TTFT and not for the rate.
- breaker openings are ``breaker`` events whose ``to_state`` is ``open``; time open is, per
  provider and runner, the time from each opening to that breaker's next transition, or to the
  run's end (its last recorded activity) when none followed.
- cost is the sum of ``episodes.cost_usd`` of the model's episodes; null when no episode has a price.
- calls answered by the response cache (outcome ``cached``) made no HTTP attempt: every figure
  here leaves them out, and ``cached_calls`` says how many there were.
"""

from __future__ import annotations

import re

import polars as pl

OUTCOMES = (
    "ok",
    "http_5xx",
    "http_429",
    "timeout",
    "connection",
    "refusal",
    "malformed",
    "bad_request",
    "auth",
    "cached",
    "expired",
    "canceled",
)
# the transient provider failures whose rates analysis.compare tests between runs
ERROR_OUTCOMES = ("http_5xx", "http_429", "timeout")
CACHED = "cached"  # no attempt: a call the response cache answered
KEYS = ["run", "provider", "model_id"]
UNFINISHED = "(unfinished episode)"
# A served name that is the asked one plus a release date ("gpt-5.4-mini-2026-03-01" for
# "gpt-5.4-mini", "claude-x-20260301", "gemini-2.5-pro-001") names the same model: only a name
# that is not such a suffix of the one asked for differs.
SAME_MODEL_SUFFIX = r"(?:-\d{4}-\d{2}-\d{2}|-\d{8}|-\d{3})?"


def http_attempts(calls: pl.LazyFrame) -> pl.LazyFrame:
    """The calls rows that are HTTP attempts (not answered by the response cache)."""
    return calls.filter(pl.col("outcome") != CACHED)


def run_ends(calls: pl.LazyFrame, episodes: pl.LazyFrame, events: pl.LazyFrame) -> pl.LazyFrame:
    """The last recorded activity of each run (an attempt's end, an episode's end, an event)."""
    ends = [
        calls.select("run", (pl.col("started_at") + pl.col("latency_s")).alias("end")),
        episodes.select("run", (pl.col("started_at") + pl.col("duration_s")).alias("end")),
        events.select("run", pl.col("at").alias("end")),
    ]
    return pl.concat(ends).group_by("run").agg(pl.col("end").max().alias("run_end"))


def breaker_table(calls: pl.LazyFrame, episodes: pl.LazyFrame, events: pl.LazyFrame) -> pl.DataFrame:
    """Breaker openings and seconds spent open per run × provider × runner."""
    breaker = ["run", "provider", "runner"]
    transitions = (
        events.filter(pl.col("kind") == "breaker")
        .sort(*breaker, "at")
        .with_columns(pl.col("at").shift(-1).over(breaker).alias("next_at"))
        .join(run_ends(calls, episodes, events), on="run", how="left")
    )
    open_until = pl.min_horizontal(pl.coalesce("next_at", "run_end"), pl.col("run_end"))
    is_open = pl.col("to_state") == "open"
    return (
        transitions.group_by(breaker)
        .agg(
            is_open.sum().cast(pl.Int64).alias("opens"),
            (open_until - pl.col("at")).clip(lower_bound=0.0).filter(is_open).sum().alias("open_s"),
        )
        .sort(breaker)
        .collect()
    )


def _outcome_rates(calls: pl.LazyFrame) -> pl.LazyFrame:
    """``<outcome>_rate`` columns from one count per outcome (cheaper than a mask per outcome)."""
    counts = calls.group_by(*KEYS, "outcome").agg(pl.len().cast(pl.Int64).alias("count")).collect()
    wide = (
        counts.pivot(on="outcome", index=KEYS, values="count")
        if not counts.is_empty()
        else counts.select(KEYS)
    )
    present = [outcome for outcome in OUTCOMES if outcome in wide.columns]
    total = pl.sum_horizontal(pl.all().exclude(KEYS).fill_null(0))
    return wide.lazy().select(
        *KEYS,
        *[
            (pl.col(o).fill_null(0) / total).alias(f"{o}_rate")
            if o in present
            else pl.lit(0.0).alias(f"{o}_rate")
            for o in OUTCOMES
        ],
    )


def reliability_table(calls: pl.LazyFrame, episodes: pl.LazyFrame, breakers: pl.DataFrame) -> pl.DataFrame:
    """Attempts, outcome rates, retries, latency, tokens, cost and breaker figures per provider × model,
    and the calls the response cache answered (``cached_calls``, outside every other figure)."""
    cached = calls.group_by(KEYS).agg((pl.col("outcome") == CACHED).sum().cast(pl.Int64).alias("cached_calls"))
    calls = http_attempts(calls)
    ok = pl.col("outcome") == "ok"
    ok_latency = pl.col("latency_s").filter(ok)
    attempts = calls.group_by(KEYS).agg(
        pl.len().cast(pl.Int64).alias("attempts"),
        ((pl.col("attempt") > 1).sum() / ok.sum().replace(0, None)).alias("retries_per_ok"),
        *[
            ok_latency.quantile(q, interpolation="linear").alias(f"latency_p{int(q * 100)}_s")
            for q in (0.5, 0.95, 0.99)
        ],
        pl.col("input_tokens").sum().alias("input_tokens"),
        pl.col("output_tokens").sum().alias("output_tokens"),
        # parts of the two above; null for runs recorded before they were
        *[pl.when(pl.col(c).is_not_null().any()).then(pl.col(c).sum()).alias(c)
          for c in ("cached_input_tokens", "reasoning_tokens")],
    )
    rate_columns = [f"{outcome}_rate" for outcome in OUTCOMES]
    cost = episodes.group_by(KEYS).agg(
        pl.len().cast(pl.Int64).alias("episodes"),
        # unknown (no price configured) stays null rather than a misleading 0
        pl.when(pl.col("cost_usd").is_not_null().any()).then(pl.col("cost_usd").sum()).alias("cost_usd")
    )
    per_provider = (
        breakers.lazy()
        .group_by("run", "provider")
        .agg(
            pl.col("opens").sum().alias("provider_breaker_opens"),
            pl.col("open_s").sum().alias("provider_breaker_open_s"),
        )
    )
    return (
        attempts.join(_outcome_rates(calls), on=KEYS, how="left")
        .join(cached, on=KEYS, how="full", coalesce=True)
        .join(cost, on=KEYS, how="full", coalesce=True)
        .join(per_provider, on=["run", "provider"], how="left")
        .with_columns(
            pl.col("attempts", "episodes", "provider_breaker_opens", "cached_calls").fill_null(0),
            pl.col("provider_breaker_open_s").fill_null(0.0),
        )
        .select(*KEYS, "attempts", *rate_columns, pl.all().exclude(*KEYS, "attempts", *rate_columns))
        .sort(KEYS)
        .collect()
    )


def streaming_table(calls: pl.LazyFrame) -> pl.DataFrame:
    """TTFT and output tokens/s percentiles per provider × model over ok attempts that streamed;
    no rows when no attempt streamed."""
    streamed = http_attempts(calls).filter((pl.col("outcome") == "ok") & pl.col("ttft_s").is_not_null())
    quantiles = [
        pl.col(column).quantile(q, interpolation="linear").alias(f"{name}_p{int(q * 100)}{unit}")
        for column, name, unit in (("ttft_s", "ttft", "_s"), ("output_tokens_per_s", "tokens_per_s", ""))
        for q in (0.5, 0.95)
    ]
    return (
        streamed.group_by(KEYS)
        .agg(pl.len().cast(pl.Int64).alias("streamed_ok"), *quantiles)
        .sort(KEYS)
        .collect()
    )


def status_table(calls: pl.LazyFrame) -> pl.DataFrame:
    """Failed attempts per outcome and HTTP status code, with their share of all attempts."""
    calls = http_attempts(calls)
    totals = calls.group_by(KEYS).agg(pl.len().cast(pl.Int64).alias("all_attempts"))
    return (
        calls.filter(pl.col("outcome") != "ok")
        .group_by(*KEYS, "outcome", "http_status")
        .agg(pl.len().cast(pl.Int64).alias("attempts"))
        .join(totals, on=KEYS, how="left")
        .with_columns((pl.col("attempts") / pl.col("all_attempts")).alias("share"))
        .drop("all_attempts")
        .sort(*KEYS, "outcome", "http_status", nulls_last=True)
        .collect()
    )


def provider_outcomes(calls: pl.LazyFrame) -> pl.DataFrame:
    """Share of each outcome among a provider's attempts (all its models together)."""
    calls = http_attempts(calls)
    return (
        calls.group_by("run", "provider", "outcome")
        .agg(pl.len().cast(pl.Int64).alias("attempts"))
        .with_columns((pl.col("attempts") / pl.col("attempts").sum().over("run", "provider")).alias("share"))
        .sort("run", "provider", "outcome")
        .collect()
    )


def refusals_by_task(calls: pl.LazyFrame, episodes: pl.LazyFrame) -> pl.DataFrame:
    """Refused attempts and refused episodes per provider × model × task.

    Refused attempts find their task through their episode (only they are joined, not every
    attempt); the denominator of ``refusal_rate`` is the attempts the finished episodes counted
    (``episodes.n_attempts``). Refusals of an episode that has not finished (no episodes row
    yet) are grouped under ``(unfinished episode)``, with no rate.
    """
    tasks = episodes.select("run", "episode_id", "task")
    refusals = (
        calls.filter(pl.col("outcome") == "refusal")
        .select("run", "episode_id", "provider", "model_id")
        .join(tasks, on=["run", "episode_id"], how="left")
        .with_columns(pl.col("task").fill_null(UNFINISHED))
        .group_by(*KEYS, "task")
        .agg(pl.len().cast(pl.Int64).alias("refusals"))
    )
    per_task = episodes.group_by(*KEYS, "task").agg(
        pl.len().cast(pl.Int64).alias("episodes"),
        pl.col("n_attempts").sum().alias("attempts"),
        (pl.col("status") == "refused").sum().cast(pl.Int64).alias("refused_episodes"),
    )
    return (
        per_task.join(refusals, on=[*KEYS, "task"], how="full", coalesce=True)
        .with_columns(pl.col("attempts", "refusals", "episodes", "refused_episodes").fill_null(0))
        .with_columns(
            (pl.col("refusals") / pl.col("attempts").replace(0, None)).alias("refusal_rate"),
            (pl.col("refused_episodes") / pl.col("episodes").replace(0, None)).alias("refused_episode_rate"),
        )
        .select(
            *KEYS,
            "task",
            "attempts",
            "refusals",
            "refusal_rate",
            "episodes",
            "refused_episodes",
            "refused_episode_rate",
        )
        .sort(*KEYS, "task")
        .collect()
    )


def errors_over_time(calls: pl.LazyFrame) -> pl.DataFrame:
    """Attempts per minute since the run's first attempt, by provider and outcome."""
    calls = http_attempts(calls)
    starts = calls.group_by("run").agg(pl.col("started_at").min().alias("run_start"))
    minute = ((pl.col("started_at") - pl.col("run_start")) // 60).cast(pl.Int64)
    return (
        calls.select("run", "provider", "outcome", "started_at")
        .join(starts, on="run", how="left")
        .select("run", "provider", "outcome", minute.alias("minute"))
        .group_by("run", "provider", "minute", "outcome")
        .agg(pl.len().cast(pl.Int64).alias("attempts"))
        .sort("run", "provider", "minute", "outcome")
        .collect()
    )


def _same_model(served: str, model: str | None, model_id: str) -> bool:
    return any(served == name or re.fullmatch(re.escape(name) + SAME_MODEL_SUFFIX, served) is not None
               for name in (model, model_id) if name)


def served_models(calls: pl.LazyFrame, episodes: pl.LazyFrame) -> pl.DataFrame:
    """Per provider × model: the model asked for (``episodes.model``), each name the replies said
    served them (``calls.served_model``) with its attempts, and ``differs`` — the served name is
    neither the one asked for (nor the sweep's id for it, which a simulated model is asked by) nor
    that name with a release-date suffix (``SAME_MODEL_SUFFIX``)."""
    asked = episodes.select(*KEYS, "model").unique(subset=KEYS, keep="first")
    served = (
        calls.filter(pl.col("served_model").is_not_null())
        .group_by(*KEYS, "served_model")
        .agg(pl.len().cast(pl.Int64).alias("attempts"))
    )
    table = served.join(asked, on=KEYS, how="left").collect()
    differs = [not _same_model(*row) for row in table.select("served_model", "model", "model_id").iter_rows()]
    return (
        table.with_columns(pl.Series("differs", differs, dtype=pl.Boolean))
        .select(*KEYS, "model", "served_model", "attempts", "differs")
        .sort(*KEYS, "served_model")
    )

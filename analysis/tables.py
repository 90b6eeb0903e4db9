"""Every table of the report, computed once from the loaded runs, in the order the report shows them."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from analysis import accuracy, batches, reliability, trajectory, variance
from analysis.compare import Comparisons, compare
from analysis.leaderboard import leaderboard_table
from analysis.load import RunData
from analysis.report_table import ReportTable


@dataclass(frozen=True)
class Tables:
    """``runs``: per run, its path, episodes planned / recorded / scored / excluded / refused,
    HTTP attempts and time span; ``items``: every other table by name, in report order;
    ``comparisons``: the paired comparisons behind the ``comparisons*`` and ``error_rates`` items."""

    runs: pl.DataFrame
    items: dict[str, ReportTable]
    comparisons: Comparisons

    def __getitem__(self, name: str) -> pl.DataFrame:
        return self.items[name].frame


def run_summary(data: RunData) -> pl.DataFrame:
    """Per run: what the manifest planned and what the tables hold."""
    per_run = (
        data.episodes.group_by("run")
        .agg(
            pl.len().cast(pl.Int64).alias("episodes"),
            pl.col("status").is_in(accuracy.SCORED_STATUSES).sum().cast(pl.Int64).alias("scored"),
            pl.col("status").is_in(accuracy.EXCLUDED_STATUSES).sum().cast(pl.Int64).alias("excluded"),
            (pl.col("status") == "refused").sum().cast(pl.Int64).alias("refused"),
            # a judgement that failed leaves judge_correct empty: counted, never silently replaced
            pl.col("judge_error").is_not_null().sum().cast(pl.Int64).alias("judge_failed"),
        )
        .collect()
    )
    attempts = (
        reliability.http_attempts(data.calls).group_by("run")
        .agg(
            pl.len().cast(pl.Int64).alias("attempts"),
            ((pl.col("started_at") + pl.col("latency_s")).max() - pl.col("started_at").min()).alias("span_s"),
        )
        .collect()
    )
    manifest = pl.DataFrame(
        {
            "run": [run.name for run in data.runs],
            "path": [str(run.path) for run in data.runs],
            "episodes_planned": [run.episodes_planned for run in data.runs],
        },
        schema={"run": pl.String, "path": pl.String, "episodes_planned": pl.Int64},
    )
    return (
        manifest.join(per_run, on="run", how="left")
        .join(attempts, on="run", how="left")
        .with_columns(pl.col("episodes", "scored", "excluded", "refused", "attempts").fill_null(0))
    )


def compute_tables(
    data: RunData, *, n_boot: int = 1000, seed: int = 0, length: str = "expected_steps"
) -> Tables:
    """All report tables. ``data`` may be lazy scans or collected frames (see ``RunData.collect``)."""
    episodes = data.episodes
    scored = accuracy.scored_episodes(episodes).collect().lazy()  # shared by four tables
    examples = variance.example_outcomes(episodes, scored=scored)
    variance_frame = variance.variance_table(episodes, n_boot=n_boot, seed=seed, scored=scored, examples=examples)
    comparisons = compare(data, n_boot=n_boot, seed=seed, scored=scored)
    tables = [
        *_comparison_tables(variance_frame, comparisons),
        *_accuracy_tables(episodes, scored, length),
        *_variance_tables(episodes, examples, variance_frame),
        *_reliability_tables(data),
        *_batch_tables(data, scored),
    ]
    return Tables(runs=run_summary(data), items={table.name: table for table in tables}, comparisons=comparisons)


def _table(name: str, title: str, about: str, frame: pl.DataFrame) -> ReportTable:
    return ReportTable(name, title, about, frame, PRIMARY.get(name, ()))


def _comparison_tables(variance_frame: pl.DataFrame, comparisons: Comparisons) -> list[ReportTable]:
    """The leaderboard and which differences are real."""
    return [
        _table(
            "leaderboard",
            "Leaderboard",
            "Accuracy per model and task with its 95% interval (bootstrap over examples); per task and "
            "strategy the best model, and the models the paired test cannot tell from it (tie).",
            leaderboard_table(variance_frame, comparisons),
        ),
        _table(
            "comparisons",
            "Which differences are real: accuracy",
            "Every two models on the examples and seeds both ran: difference with a 95% paired bootstrap "
            "interval (resampling examples), exact paired p-value, Holm-adjusted over every test of the "
            "report; mde = smallest difference this design detects with 80% power; seeds_needed = seeds per "
            "example to detect the observed difference with 80% power.",
            comparisons.metric("correct"),
        ),
        _table(
            "comparisons_steps_match",
            "Which differences are real: steps_match",
            "The same paired comparisons for steps_match (the tool calls matched the expected ones).",
            comparisons.metric("steps_match"),
        ),
        _table(
            "comparisons_detail",
            "Comparisons in detail",
            "Both metrics with the test used, discordant counts, between- and within-example variance "
            "of the paired difference and the examples needed at the current seeds.",
            comparisons.detail,
        ),
        _table(
            "error_rates",
            "Did a provider's error rate change between runs",
            "Per provider and model in two runs: rate of each transient failure among HTTP attempts, "
            "permutation test of episodes, bootstrap interval; episodes_needed per run for 80% power.",
            comparisons.error_rates,
        ),
    ]


def _accuracy_tables(episodes: pl.LazyFrame, scored: pl.LazyFrame, length: str) -> list[ReportTable]:
    """Accuracy, exclusions, and accuracy against trajectory length."""
    lengths = trajectory.length_table(episodes, length, scored=scored)
    return [
        _table(
            "accuracy",
            "Accuracy",
            "Scored episodes (completed + max_steps) per model, task and strategy; "
            "± binomial standard errors; excluded (provider_failed + agent_error) and refused beside them.",
            accuracy.accuracy_table(episodes, scored=scored),
        ),
        _table(
            "exclusions",
            "Excluded episodes",
            "Chi-square tests of whether exclusions depend on the task or the "
            "example (a small p means the accuracy of what remains may be biased).",
            accuracy.exclusion_table(episodes),
        ),
        _table(
            "trajectory_fits",
            "Trajectory length: logistic fits",
            f"Success against {length}; half_life is the "
            "length where predicted success falls to 50% (null with the reason when the data cannot tell).",
            trajectory.fit_table(lengths),
        ),
        _table("trajectory", "Trajectory length: accuracy per length", "Scored episodes per length.", lengths),
    ]


def _variance_tables(
    episodes: pl.LazyFrame, examples: pl.DataFrame, variance_frame: pl.DataFrame
) -> list[ReportTable]:
    """Variance across seeds and pass@k / pass^k."""
    return [
        _table(
            "variance",
            "Variance across seeds",
            "Accuracy with a 95% bootstrap interval resampling examples; "
            "share of examples whose outcome flips across seeds; standard deviation of per-seed accuracy.",
            variance_frame,
        ),
        _table(
            "pass_k",
            "pass@k and pass^k",
            "Unbiased estimators averaged over examples with at least k scored trials.",
            variance.pass_k_table(episodes, examples=examples),
        ),
    ]


def _reliability_tables(data: RunData) -> list[ReportTable]:
    """The providers: attempt outcomes, breakers, refusals, attempts over time."""
    calls, episodes = data.calls, data.episodes
    breakers = reliability.breaker_table(calls, episodes, data.events)
    streaming = _table(
        "streaming",
        "Streaming: time to first token and output tokens/s",
        "Per provider and model with streamed calls (models[].stream): p50 and p95 over ok attempts of the "
        "time to the first event carrying content, and of output tokens per second after it "
        "(output_tokens / (latency_s - ttft_s)).",
        reliability.streaming_table(calls),
    )
    return [
        _table(
            "reliability",
            "Provider reliability",
            "Per provider and model: attempt outcome rates, retries per "
            "successful attempt, latency percentiles of ok attempts, tokens, cost, and the provider's breaker.",
            reliability.reliability_table(calls, episodes, breakers),
        ),
        *([streaming] if not streaming.frame.is_empty() else []),  # only when some call streamed
        _table(
            "provider_outcomes",
            "Attempt outcomes per provider",
            "Share of each outcome among all attempts.",
            reliability.provider_outcomes(calls),
        ),
        _table(
            "http_status",
            "Failed attempts by outcome and HTTP status",
            "Share of all attempts of the provider and model.",
            reliability.status_table(calls),
        ),
        _table(
            "breakers",
            "Circuit breakers",
            "Openings and seconds open per provider and runner, clipped at the run's last recorded activity.",
            breakers,
        ),
        _table(
            "refusals",
            "Refusals per task",
            "Refused attempts and refused episodes per provider, model and task.",
            reliability.refusals_by_task(calls, episodes),
        ),
        _table(
            "served_models",
            "Served models",
            "Per provider and model: each model name the replies said served them, and whether it differs "
            "from the one asked for (a release-date suffix is the same model).",
            reliability.served_models(calls, episodes),
        ),
        _table(
            "errors_over_time",
            "Attempts over time",
            "Attempts per minute since the run's first attempt, by provider and outcome.",
            reliability.errors_over_time(calls),
        ),
    ]


def _batch_tables(data: RunData, scored: pl.LazyFrame) -> list[ReportTable]:
    """Batched models: their batches, and each beside the same model run online. Only the tables
    that have rows: a report without batched calls shows neither."""
    tables = [
        _table(
            "batches",
            "Batches",
            "Per provider and model with batched calls: batches, requests, their outcomes (errored: any "
            "other than ok, expired, canceled), share failed, and the wait from queueing to result.",
            batches.batch_table(data.calls),
        ),
        _table(
            "batch_vs_online",
            "Batch vs online",
            "The same provider and model run batched (calls with a batch id) and online: episodes, "
            "accuracy among scored episodes, cost, and wall time from the first episode's start to the "
            "last one's end.",
            batches.batch_vs_online(data.calls, data.episodes, scored),
        ),
    ]
    return [table for table in tables if not table.frame.is_empty()]


# The columns shown first in the page; ``<metric>`` is followed by its ``<metric>_se`` in one cell.
PRIMARY: dict[str, tuple[str, ...]] = {
    "comparisons": (
        "task", "strategy", "model_a", "model_b", "n_pairs", "diff", "p_adjusted", "mde", "seeds_needed",
        "significant",
    ),
    "comparisons_steps_match": (
        "task", "strategy", "model_a", "model_b", "n_pairs", "diff", "p_adjusted", "mde", "significant",
    ),
    "comparisons_detail": ("metric", "task", "strategy", "model_a", "model_b", "diff", "test", "p_value",
                           "a_only", "b_only", "examples_needed"),
    "error_rates": ("provider", "model_id", "outcome", "run_a", "run_b", "rate_a", "rate_b", "diff",
                    "p_adjusted", "significant"),
    "accuracy": ("model_id", "task", "strategy", "n", "correct", "state_correct", "steps_match", "excluded",
                 "refused"),
    "exclusions": ("model_id", "episodes", "excluded", "excluded_rate", "task_p", "example_p", "note"),
    "trajectory_fits": ("model_id", "strategy", "task", "n", "slope", "half_life", "note"),
    "trajectory": ("model_id", "strategy", "task", "length", "n", "accuracy"),
    "variance": ("model_id", "task", "strategy", "examples", "seeds", "accuracy", "flip_share", "seed_std"),
    "pass_k": ("model_id", "task", "strategy", "k", "pass_at_k", "pass_hat_k"),
    "reliability": ("provider", "model_id", "attempts", "ok_rate", "http_5xx_rate", "http_429_rate",
                    "retries_per_ok", "latency_p50_s", "latency_p95_s", "cost_usd"),
    "streaming": ("provider", "model_id", "streamed_ok", "ttft_p50_s", "ttft_p95_s", "tokens_per_s_p50",
                  "tokens_per_s_p95"),
    "provider_outcomes": ("provider", "outcome", "attempts", "share"),
    "http_status": ("provider", "model_id", "outcome", "http_status", "attempts", "share"),
    "refusals": ("provider", "model_id", "task", "refusals", "refusal_rate", "refused_episodes"),
    "errors_over_time": ("provider", "minute", "outcome", "attempts"),
    "served_models": ("provider", "model_id", "model", "served_model", "attempts", "differs"),
    "batches": ("provider", "model_id", "batches", "requests", "ok", "expired", "canceled", "errored",
                "failed_share", "wait_p50_s"),
    "batch_vs_online": ("provider", "model", "mode", "run", "model_id", "episodes", "accuracy", "cost_usd",
                        "wall_s"),
}

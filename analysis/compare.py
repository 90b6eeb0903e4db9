"""Which differences are real: paired model comparisons, provider error-rate changes, Holm.

**Models.** Every ``model_id`` is a model — reasoning variants such as ``m@high`` or ``m@2048``
included, so two variants of one model are compared like any two models. When several runs are
loaded and one ``model_id`` appears in more than one of them, each appearance is its own model,
labelled ``run/model_id`` (the same model on two days); otherwise the label is the ``model_id``.

**Pairs.** For each task × strategy and each two models A and B, the pairs are the scored
episodes (as in ``accuracy``) of A and B with the same example and seed. The example is the unit
of resampling and of the test (see :mod:`analysis.paired`): the interval is a paired bootstrap
resampling examples, seeded from ``seed`` and the comparison's key; the p-value is the exact
McNemar test when every example has one seed and the exact example-level sign-flip test
otherwise. Metrics: ``correct`` (the ``comparisons`` table) and ``steps_match``.

**Error rates.** For each provider × model_id in two or more runs, and each two of those runs:
the rates of the transient provider failures (``http_5xx``, ``http_429``, ``timeout``) among its
HTTP attempts, attempts clustered by episode; a permutation test of episodes and a two-sample
bootstrap (:func:`analysis.paired.rate_change`).

**Family.** Holm's adjustment runs over every p-value computed together — both metrics and the
error rates — so ``significant`` (p_adjusted < 0.05) keeps the chance of any false claim in the
whole report at 5 %. ``mde`` is the minimum detectable difference at 80 % power for the design
as run; ``seeds_needed`` the seeds per example that would detect the observed difference with
80 % power (empty when more seeds alone cannot, or with one seed, where the seed variance is
unknown); ``examples_needed`` (detail table) the examples that would at the current seeds.

The command line (``python -m orchestrator compare``) is :mod:`analysis.compare_cli`.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from analysis.accuracy import scored_episodes
from analysis.load import AnalysisError, RunData
from analysis.paired import ALPHA, holm, paired_comparison, rate_change
from analysis.reliability import ERROR_OUTCOMES

METRICS = ("correct", "steps_match")
COLUMNS = [
    "task",
    "strategy",
    "model_a",
    "model_b",
    "n_pairs",
    "acc_a",
    "acc_b",
    "diff",
    "ci_low",
    "ci_high",
    "p_value",
    "p_adjusted",
    "mde",
    "seeds_needed",
    "significant",
    "note",
]
DETAIL_COLUMNS = [
    "metric",
    *COLUMNS,
    "examples",
    "seeds",
    "test",
    "a_only",
    "b_only",
    "var_between",
    "var_within",
    "examples_needed",
]
ERROR_COLUMNS = [
    "provider",
    "model_id",
    "outcome",
    "run_a",
    "run_b",
    "attempts_a",
    "attempts_b",
    "rate_a",
    "rate_b",
    "diff",
    "ci_low",
    "ci_high",
    "p_value",
    "p_adjusted",
    "mde",
    "episodes_needed",
    "significant",
]
DETAIL_SCHEMA: dict[str, pl.DataType] = {
    "metric": pl.String(),
    "task": pl.String(),
    "strategy": pl.String(),
    "model_a": pl.String(),
    "model_b": pl.String(),
    "n_pairs": pl.Int64(),
    "acc_a": pl.Float64(),
    "acc_b": pl.Float64(),
    "diff": pl.Float64(),
    "ci_low": pl.Float64(),
    "ci_high": pl.Float64(),
    "p_value": pl.Float64(),
    "p_adjusted": pl.Float64(),
    "mde": pl.Float64(),
    "seeds_needed": pl.Int64(),
    "significant": pl.Boolean(),
    "note": pl.String(),
    "examples": pl.Int64(),
    "seeds": pl.Float64(),
    "test": pl.String(),
    "a_only": pl.Int64(),
    "b_only": pl.Int64(),
    "var_between": pl.Float64(),
    "var_within": pl.Float64(),
    "examples_needed": pl.Int64(),
}
ERROR_SCHEMA: dict[str, pl.DataType] = {
    "provider": pl.String(),
    "model_id": pl.String(),
    "outcome": pl.String(),
    "run_a": pl.String(),
    "run_b": pl.String(),
    "attempts_a": pl.Int64(),
    "attempts_b": pl.Int64(),
    "rate_a": pl.Float64(),
    "rate_b": pl.Float64(),
    "diff": pl.Float64(),
    "ci_low": pl.Float64(),
    "ci_high": pl.Float64(),
    "p_value": pl.Float64(),
    "p_adjusted": pl.Float64(),
    "mde": pl.Float64(),
    "episodes_needed": pl.Int64(),
    "significant": pl.Boolean(),
}
PERMUTATIONS = 9999


@dataclass(frozen=True)
class Comparisons:
    """``detail``: every paired comparison of every metric (DETAIL_COLUMNS); ``error_rates``:
    error-rate changes between runs (ERROR_COLUMNS); p_adjusted is Holm over both together."""

    detail: pl.DataFrame
    error_rates: pl.DataFrame

    def metric(self, metric: str) -> pl.DataFrame:
        """The comparisons of one metric with exactly the columns of ``comparisons.csv``."""
        return self.detail.filter(pl.col("metric") == metric).select(COLUMNS)

    @property
    def tested(self) -> int:
        return self.detail.height + self.error_rates.height


def base_model(model: str) -> str:
    """The model a reasoning variant belongs to: ``m@high`` → ``m`` (``run/m@2048`` → ``run/m``)."""
    return model.split("@", 1)[0]


def model_label() -> pl.Expr:
    """``model_id``, or ``run/model_id`` where that model_id appears in more than one run."""
    in_several = pl.col("run").n_unique().over("model_id") > 1
    return (
        pl.when(in_several)
        .then(pl.concat_str("run", pl.lit("/"), "model_id"))
        .otherwise(pl.col("model_id"))
        .alias("model")
    )


def _labelled(episodes: pl.LazyFrame, scored: pl.LazyFrame | None) -> pl.DataFrame:
    scored = scored_episodes(episodes) if scored is None else scored
    return (
        scored.select("run", "model_id", "task", "strategy", "example_id", "seed", *METRICS)
        .with_columns(model_label())
        .collect()
    )


def names(name: str, label: str) -> bool:
    """Whether a name given with ``--models`` picks a model label: the label itself, or the model_id
    of a ``run/model_id`` label (every run's copy of that model)."""
    return label == name or label.split("/", 1)[-1] == name


def select_models(available: Sequence[str], requested: Sequence[str] | None) -> list[str]:
    """The models to compare, in the order asked: a name matches a label or every label of a model_id.

    Raises :class:`AnalysisError` for a name no run holds.
    """
    if not requested:
        return sorted(available)
    chosen: list[str] = []
    for name in requested:
        matches = [label for label in sorted(available) if names(name, label)]
        if not matches:
            listed = ", ".join(sorted(available)) or "none"
            raise AnalysisError(f"unknown model '{name}' (models with scored episodes: {listed})")
        chosen += [label for label in matches if label not in chosen]
    return chosen


def _key_seed(seed: int, key: Sequence[object]) -> list[int]:
    return [seed, zlib.crc32("\x1f".join(str(part) for part in key).encode())]


def _paired_rows(labelled: pl.DataFrame, models: list[str], n_boot: int, seed: int) -> list[dict[str, object]]:
    order = {model: index for index, model in enumerate(models)}
    keys = ["task", "strategy", "example_id", "seed"]
    frame = labelled.filter(pl.col("model").is_in(models)).with_columns(
        pl.col("model").replace_strict(order, return_dtype=pl.Int64).alias("order")
    )
    rows: list[dict[str, object]] = []
    for metric in METRICS:
        sides = frame.filter(pl.col(metric).is_not_null()).select(
            *keys, "model", "order", pl.col(metric).cast(pl.Int64).alias("value")
        )
        pairs = (
            sides.join(sides, on=keys, suffix="_b")
            .filter(pl.col("order") < pl.col("order_b"))
            .with_columns((pl.col("value") - pl.col("value_b")).alias("d"))
            .group_by("task", "strategy", "order", "order_b", "model", "model_b", "example_id")
            .agg(
                pl.col("value").sum().alias("a"),
                pl.col("value_b").sum().alias("b"),
                pl.col("d").sum().alias("sum"),
                (pl.col("d") * pl.col("d")).sum().alias("squares"),
                pl.len().cast(pl.Int64).alias("size"),
            )
            .sort("task", "strategy", "order", "order_b", "example_id")
        )
        for (task, strategy, _, _, model_a, model_b), group in pairs.group_by(
            "task", "strategy", "order", "order_b", "model", "model_b", maintain_order=True
        ):
            rng = np.random.default_rng(_key_seed(seed, (metric, task, strategy, model_a, model_b)))
            result = paired_comparison(
                group["a"].to_numpy(),
                group["b"].to_numpy(),
                group["sum"].to_numpy(),
                group["squares"].to_numpy(),
                group["size"].to_numpy(),
                n_boot=n_boot,
                rng=rng,
            )
            components = result.components
            rows.append(
                {
                    "metric": metric,
                    "task": task,
                    "strategy": strategy,
                    "model_a": model_a,
                    "model_b": model_b,
                    "n_pairs": result.n_pairs,
                    "acc_a": result.acc_a,
                    "acc_b": result.acc_b,
                    "diff": result.diff,
                    "ci_low": result.ci_low,
                    "ci_high": result.ci_high,
                    "p_value": result.p_value,
                    "p_adjusted": None,
                    "mde": result.plan.mde,
                    "seeds_needed": result.plan.seeds_needed,
                    "significant": None,
                    "examples": result.examples,
                    "seeds": components.seeds if components else float(result.n_pairs),
                    "test": result.test,
                    "a_only": result.a_only,
                    "b_only": result.b_only,
                    "var_between": components.between if components else None,
                    "var_within": components.within if components else None,
                    "examples_needed": result.plan.examples_needed,
                }
            )
    return rows


def _error_rows(calls: pl.LazyFrame, n_boot: int, seed: int) -> list[dict[str, object]]:
    per_episode = (
        calls.filter(pl.col("outcome") != "cached")  # answered by the response cache: no attempt
        .group_by("run", "provider", "model_id", "episode_id")
        .agg(
            pl.len().cast(pl.Int64).alias("attempts"),
            *[(pl.col("outcome") == o).sum().cast(pl.Int64).alias(o) for o in ERROR_OUTCOMES],
        )
        .sort("provider", "model_id", "run", "episode_id")
        .collect()
    )
    rows: list[dict[str, object]] = []
    for (provider, model_id), group in per_episode.group_by("provider", "model_id", maintain_order=True):
        runs = sorted(group["run"].unique())
        for first_index, run_a in enumerate(runs):
            for run_b in runs[first_index + 1 :]:
                a = group.filter(pl.col("run") == run_a)
                b = group.filter(pl.col("run") == run_b)
                for outcome in ERROR_OUTCOMES:
                    if int(a[outcome].sum()) + int(b[outcome].sum()) == 0:
                        continue  # never happened in either run: nothing to test
                    key = ("errors", provider, model_id, outcome, run_a, run_b)
                    change = rate_change(
                        a[outcome].to_numpy(),
                        a["attempts"].to_numpy(),
                        b[outcome].to_numpy(),
                        b["attempts"].to_numpy(),
                        n_boot=n_boot,
                        n_perm=PERMUTATIONS,
                        rng=np.random.default_rng(_key_seed(seed, key)),
                    )
                    rows.append(
                        {
                            "provider": provider,
                            "model_id": model_id,
                            "outcome": outcome,
                            "run_a": run_a,
                            "run_b": run_b,
                            "attempts_a": change.trials_a,
                            "attempts_b": change.trials_b,
                            "rate_a": change.rate_a,
                            "rate_b": change.rate_b,
                            "diff": change.diff,
                            "ci_low": change.ci_low,
                            "ci_high": change.ci_high,
                            "p_value": change.p_value,
                            "p_adjusted": None,
                            "mde": change.mde,
                            "episodes_needed": change.episodes_needed,
                            "significant": None,
                        }
                    )
    return rows


def compare(
    data: RunData,
    *,
    models: Sequence[str] | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    scored: pl.LazyFrame | None = None,
) -> Comparisons:
    """Every paired comparison and error-rate change of the loaded runs, Holm-adjusted together.

    ``models``: names (labels or model_ids) to restrict the comparisons to; unknown names raise
    :class:`AnalysisError`. Error rates are compared for the model_ids among them.
    """
    labelled = _labelled(data.episodes, scored)
    chosen = select_models(labelled["model"].unique().to_list(), models)
    if models and len(chosen) < 2:
        raise AnalysisError(f"--models selects {len(chosen)} model ({', '.join(chosen)}); a comparison needs two")
    paired = _paired_rows(labelled, chosen, n_boot, seed)
    calls = data.calls
    if models:
        model_ids = labelled.filter(pl.col("model").is_in(chosen))["model_id"].unique().to_list()
        calls = calls.filter(pl.col("model_id").is_in(model_ids))
    errors = _error_rows(calls, n_boot, seed)
    adjusted = holm([row["p_value"] for row in [*paired, *errors]])  # type: ignore[misc]
    for row, p_adjusted in zip([*paired, *errors], adjusted, strict=True):
        row["p_adjusted"] = p_adjusted
        row["significant"] = p_adjusted is not None and p_adjusted < ALPHA
    for row in paired:
        row["note"] = disagreement(row, tests=len(adjusted))
    return Comparisons(
        detail=pl.DataFrame(paired, schema=DETAIL_SCHEMA),
        error_rates=pl.DataFrame(errors, schema=ERROR_SCHEMA),
    )


def disagreement(row: dict[str, Any], *, tests: int) -> str | None:
    """Why the interval and the verdict seem to disagree, in words; None when they agree.

    They answer different questions: the interval is a bootstrap of this one difference, neither
    exact nor widened for the other tests of the report, while ``significant`` is the exact paired
    test after Holm's adjustment over all of them. So an interval that excludes 0 beside "not
    real" is not a contradiction, but a reader deserves to be told which one decides."""
    low, high, p, p_adjusted = row["ci_low"], row["ci_high"], row["p_value"], row["p_adjusted"]
    if low is None or high is None or p is None or p_adjusted is None:
        return None
    excludes_zero = low > 0 or high < 0
    if excludes_zero and not row["significant"]:
        adjusted = f", {p_adjusted:.3g} after Holm over {tests} tests" if p_adjusted != p else ""
        return (f"the 95% interval excludes 0, but the exact paired test does not reject (p {p:.3g}{adjusted}): "
                "not established; the test decides, the interval only sizes the difference")
    if row["significant"] and not excludes_zero:
        return (f"the test rejects (p {p_adjusted:.3g} after Holm) while the bootstrap interval touches 0: "
                "a borderline difference")
    return None


def verdicts(comparisons: Comparisons) -> list[str]:
    """Sentences for the reader: how many differences are real, and what would settle the rest."""
    accuracy = comparisons.metric("correct")
    if accuracy.is_empty():
        return ["No two models answered the same examples under the same seeds: nothing to compare."]
    real = accuracy.filter(pl.col("significant"))
    lines = [
        f"{real.height} of {accuracy.height} accuracy differences are real at α = {ALPHA} after Holm's "
        f"adjustment over all {comparisons.tested} tests of this report."
    ]
    for row in real.sort("p_adjusted").head(8).iter_rows(named=True):
        # say it with the better model first: the difference and its interval change sign with it
        if row["diff"] > 0:
            better, worse, low, high = row["model_a"], row["model_b"], row["ci_low"], row["ci_high"]
        else:
            better, worse, low, high = row["model_b"], row["model_a"], -row["ci_high"], -row["ci_low"]
        lines.append(
            f"{row['task']} ({row['strategy']}): {better} beats {worse} by {abs(row['diff']):.2f} "
            f"(95 % CI {low:.2f} to {high:.2f}), Holm-adjusted p {_p(row['p_adjusted'])}."
        )
    open_rows = accuracy.filter(~pl.col("significant") & (pl.col("diff") != 0))
    settle = open_rows.filter(pl.col("seeds_needed").is_not_null())
    if not open_rows.is_empty():
        text = f"{open_rows.height} nonzero differences are not established"
        if not settle.is_empty():
            needed: list[int] = settle["seeds_needed"].to_list()
            text += (
                f"; {settle.height} of them would be detected with 80 % power at "
                f"{min(needed)}–{max(needed)} seeds per example "
                "if the observed difference is the true one"
            )
        lines.append(text + ".")
    changed = comparisons.error_rates.filter(pl.col("significant"))
    for row in changed.iter_rows(named=True):
        lines.append(
            f"{row['provider']}/{row['model_id']}: {row['outcome']} rate {100 * row['rate_a']:.1f} % in "
            f"{row['run_a']} vs {100 * row['rate_b']:.1f} % in {row['run_b']} (p_adj {_p(row['p_adjusted'])})."
        )
    return lines


def _p(value: float | None) -> str:
    if value is None:
        return "–"
    return "< 0.001" if value < 0.001 else f"{value:.3f}"

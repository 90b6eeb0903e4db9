"""Headline findings: a few sentences read off the tables, each only when its data exists."""

from __future__ import annotations

import polars as pl

from analysis.tables import Tables
from analysis.trajectory import ALL_TASKS

SIGNIFICANCE = 0.05
MAX_RELIABILITY_LINES = 6


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def coverage(runs: pl.DataFrame) -> list[str]:
    lines = []
    for row in runs.iter_rows(named=True):
        planned = row["episodes_planned"]
        of_planned = f" of {planned} planned" if planned is not None else ""
        lines.append(
            f"Run {row['run']}: {row['episodes']} episodes recorded{of_planned}; {row['scored']} scored, "
            f"{row['excluded']} excluded (provider or harness failure), {row['refused']} refused; "
            f"{row['attempts']} HTTP attempts."
        )
    return lines


def best_per_task(accuracy: pl.DataFrame) -> list[str]:
    scored = accuracy.filter((pl.col("n") > 0) & pl.col("correct").is_not_null())
    lines = []
    for (run, task, strategy), group in scored.group_by("run", "task", "strategy", maintain_order=True):
        ranked = group.sort("correct", descending=True)
        best = ranked.row(0, named=True)
        text = (
            f"{task} ({strategy}, run {run}): best {best['model_id']} "
            f"{best['correct']:.2f} ± {best['correct_se']:.2f} (n={best['n']})"
        )
        if ranked.height > 1:
            worst = ranked.row(-1, named=True)
            text += f"; worst {worst['model_id']} {worst['correct']:.2f} ± {worst['correct_se']:.2f} (n={worst['n']})"
        lines.append(text + ".")
    return lines


def trajectory(fits: pl.DataFrame) -> list[str]:
    fitted = fits.filter(pl.col("slope").is_not_null() & (pl.col("task") != ALL_TASKS))
    lines = []
    if not fitted.is_empty():
        falling = fitted.filter(pl.col("slope") < 0).height
        lines.append(
            f"Success falls with trajectory length in {falling} of {fitted.height} model × task fits."
        )
    pooled = fits.filter((pl.col("task") == ALL_TASKS) & pl.col("half_life").is_not_null())
    for row in pooled.iter_rows(named=True):
        lines.append(
            f"{row['model_id']} ({row['strategy']}, run {row['run']}): predicted success falls to 50% "
            f"at {row['half_life']:.1f} tool calls (all tasks pooled)."
        )
    return lines


def reliability(table: pl.DataFrame) -> list[str]:
    """The least reliable provider × model pairs first."""
    lines = []
    ranked = table.filter(pl.col("attempts") > 0).sort("ok_rate").head(MAX_RELIABILITY_LINES)
    for row in ranked.iter_rows(named=True):
        failed = 1.0 - row["ok_rate"]
        latency = row["latency_p95_s"]
        text = (
            f"{row['provider']}/{row['model_id']} (run {row['run']}): {_pct(failed)} of {row['attempts']} attempts "
            f"failed (5xx {_pct(row['http_5xx_rate'])}, 429 {_pct(row['http_429_rate'])}, timeout "
            f"{_pct(row['timeout_rate'])}, refusal {_pct(row['refusal_rate'])})"
        )
        if row["retries_per_ok"] is not None:
            text += f"; {row['retries_per_ok']:.2f} retries per successful attempt"
        if latency is not None:
            text += f"; p95 latency {latency:.2f} s"
        if row["provider_breaker_opens"]:
            opens = row["provider_breaker_opens"]
            text += (
                f"; the provider's breaker opened {opens} time{'s' if opens != 1 else ''} "
                f"({row['provider_breaker_open_s']:.1f} s open in all)"
            )
        lines.append(text + ".")
    return lines


def refusals(by_task: pl.DataFrame) -> list[str]:
    lines = []
    refusing = by_task.filter(pl.col("refused_episodes") > 0)
    for (run, model_id), group in refusing.group_by("run", "model_id", maintain_order=True):
        worst = group.sort("refused_episodes", descending=True).row(0, named=True)
        total = int(group["refused_episodes"].sum())
        lines.append(
            f"{model_id} (run {run}) refused {total} episodes, most on {worst['task']} "
            f"({worst['refused_episodes']} of {worst['episodes']})."
        )
    return lines


def served_models(table: pl.DataFrame) -> list[str]:
    """A model whose replies say another model served them: its results may not be the asked one's."""
    return [
        f"{row['model_id']} (run {row['run']}) asked for {row['model']} but {row['attempts']} replies "
        f"say {row['served_model']} served them."
        for row in table.filter(pl.col("differs")).iter_rows(named=True)
    ]


def exclusions(table: pl.DataFrame) -> list[str]:
    lines = []
    for row in table.filter(pl.col("excluded") > 0).iter_rows(named=True):
        p_values = [(name, row[f"{name}_p"]) for name in ("task", "example") if row[f"{name}_p"] is not None]
        clustered = [f"{name} (p={p:.3g})" for name, p in p_values if p < SIGNIFICANCE]
        head = f"{row['model_id']} (run {row['run']}): {row['excluded']} excluded episodes ({_pct(row['excluded_rate'])})"
        if clustered:
            lines.append(f"{head} cluster by {' and '.join(clustered)}: its accuracy may be biased.")
        elif p_values:
            lines.append(f"{head}, with no sign of clustering by task or example.")
        else:
            lines.append(f"{head}.")
    return lines


def variance(table: pl.DataFrame, pass_k: pl.DataFrame) -> list[str]:
    flipping = table.filter(pl.col("flip_share").is_not_null()).sort("flip_share", descending=True)
    if flipping.is_empty():
        return []
    row = flipping.row(0, named=True)
    keys = [row["run"], row["model_id"], row["task"], row["strategy"]]
    curve = pass_k.filter(
        (pl.col("run") == keys[0])
        & (pl.col("model_id") == keys[1])
        & (pl.col("task") == keys[2])
        & (pl.col("strategy") == keys[3])
    ).sort("k")
    text = (
        f"Least stable across seeds: {row['model_id']} on {row['task']} ({row['strategy']}, run {row['run']}): "
        f"{_pct(row['flip_share'])} of examples flip outcome"
    )
    if curve.height > 1:
        last = curve.row(-1, named=True)
        text += f"; pass^1 {curve['pass_hat_k'][0]:.2f} falls to pass^{last['k']} {last['pass_hat_k']:.2f}"
    return [text + "."]


def headline_findings(tables: Tables) -> list[str]:
    return [
        *coverage(tables.runs),
        *best_per_task(tables["accuracy"]),
        *trajectory(tables["trajectory_fits"]),
        *variance(tables["variance"], tables["pass_k"]),
        *exclusions(tables["exclusions"]),
        *refusals(tables["refusals"]),
        *served_models(tables["served_models"]),
        *reliability(tables["reliability"]),
    ]

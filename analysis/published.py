"""The published benchmark's headline: its accuracy rule, and its figures beside a run's own.

The published benchmark ("Benchmarking Agent Tool Use", LangChain, December 2023) scored every
example it attempted: an episode that failed, was refused or errored counts as wrong (its
notebook's ``df["correct"].fillna(0)``). ToolSweep's accuracy scores only the episodes that
reached an answer. :func:`paper_accuracy` shows both, per run, model, task and dataset; for
episodes on the ``paper`` datasets it adds the published figures of the same task.

The figures are the bar labels (rounded to 2 decimals) of the chart "Tool Usage Performance" in
``docs/source/notebooks/tool_usage/benchmark_all_tasks.ipynb`` of langchain-ai/langchain-benchmarks
at commit ``0c1fe17417a21cba3db79f2631388a4b26f0558d`` (2023-12-18; MIT licence), the chart the
blog post reports (gpt-4 0.95 on Relational Data). Each label names a model and the agent it ran
in. The Multiverse Math figures are multiples of 0.05, so they come from 20 graded episodes per
model; the notebook does not record whether those were the 20-row dataset or its first 10 rows
run twice, so they are shown beside runs of either ``paper`` or ``paper-tiny``.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from analysis.accuracy import SCORED_STATUSES, STATUSES
from analysis.render import Section, markdown_table
from analysis.report_table import ReportTable

PUBLISHED_SOURCE = (
    "langchain-ai/langchain-benchmarks, docs/source/notebooks/tool_usage/benchmark_all_tasks.ipynb, "
    "commit 0c1fe17417a21cba3db79f2631388a4b26f0558d (2023-12-18), chart 'Tool Usage Performance' (MIT)"
)
PAPER_DATASETS = ("paper", "paper-tiny")
FAILED_STATUSES = tuple(s for s in STATUSES if s not in SCORED_STATUSES)  # never scored by ToolSweep

# task -> model (agent) -> the published share of questions answered correctly
PUBLISHED: dict[str, dict[str, float]] = {
    "typewriter_single": {
        "claude-2.1 (anthropic_tool_user)": 0.72, "gpt-3.5-turbo-0613 (openai_functions)": 0.85,
        "gpt-3.5-turbo-1106 (openai_functions)": 0.54, "gpt-3.5-turbo-1106 (openai_assistant)": 0.95,
        "gpt-4-0613 (openai_functions)": 0.70, "gpt-4-1106-preview (openai_functions)": 0.96,
        "gpt-4-1106-preview (openai_assistant)": 0.75, "mistral-7b-instruct-v0.1 (openai_functions)": 0.05,
    },
    "typewriter_26": {
        "claude-2.1 (anthropic_tool_user)": 1.00, "gpt-3.5-turbo-0613 (openai_functions)": 0.50,
        "gpt-3.5-turbo-1106 (openai_functions)": 0.25, "gpt-3.5-turbo-1106 (openai_assistant)": 0.60,
        "gpt-4-0613 (openai_functions)": 0.40, "gpt-4-1106-preview (openai_functions)": 0.90,
        "gpt-4-1106-preview (openai_assistant)": 0.70, "mistral-7b-instruct-v0.1 (openai_functions)": 0.05,
    },
    "multiverse_math": {
        "claude-2.1 (anthropic_tool_user)": 0.45, "gpt-3.5-turbo-0613 (openai_functions)": 0.80,
        "gpt-3.5-turbo-1106 (openai_functions)": 0.55, "gpt-3.5-turbo-1106 (openai_assistant)": 0.70,
        "gpt-4-0613 (openai_functions)": 0.60, "gpt-4-1106-preview (openai_functions)": 0.45,
        "gpt-4-1106-preview (openai_assistant)": 0.40, "mistral-7b-instruct-v0.1 (openai_functions)": 0.60,
    },
    "relational_data": {
        "claude-2.1 (anthropic_tool_user)": 0.71, "gpt-3.5-turbo-0613 (openai_functions)": 0.81,
        "gpt-3.5-turbo-1106 (openai_functions)": 0.71, "gpt-3.5-turbo-1106 (openai_assistant)": 0.76,
        "gpt-4-0613 (openai_functions)": 0.95, "gpt-4-1106-preview (openai_functions)": 0.95,
        "gpt-4-1106-preview (openai_assistant)": 0.90, "mistral-7b-instruct-v0.1 (openai_functions)": 0.19,
    },
}


def published_table() -> pl.DataFrame:
    """Every published figure: task, model (agent), accuracy."""
    return pl.DataFrame(
        [{"task": task, "published_model": model, "published_accuracy": value}
         for task, figures in PUBLISHED.items() for model, value in figures.items()],
        schema={"task": pl.String(), "published_model": pl.String(), "published_accuracy": pl.Float64()},
    )


def _range(task: str) -> str | None:
    figures = PUBLISHED.get(task)
    return f"{min(figures.values()):.2f}–{max(figures.values()):.2f}" if figures else None


def _best(task: str) -> str | None:
    figures = PUBLISHED.get(task)
    if not figures:
        return None
    best = max(figures, key=lambda model: figures[model])
    return f"{figures[best]:.2f} {best}"


def uses_paper(episodes: pl.DataFrame) -> bool:
    """Whether any episode ran on a paper dataset or under the paper scoring profile."""
    if "dataset" not in episodes.columns or "scoring" not in episodes.columns:
        return False
    return episodes.filter(pl.col("dataset").is_in(PAPER_DATASETS) | (pl.col("scoring") == "paper")).height > 0


def paper_accuracy(episodes: pl.DataFrame) -> pl.DataFrame:
    """Per run, model, task, dataset and scoring profile: the published headline accuracy (every
    attempted episode counts; failed, refused and errored ones as wrong) beside ToolSweep's
    scored-only accuracy, and for paper datasets the published figures of the task."""
    frame = episodes.with_columns(
        pl.col("dataset").fill_null("toolsweep"), pl.col("scoring").fill_null("toolsweep"),
    )
    scored = ~pl.col("status").is_in(FAILED_STATUSES)
    table = (
        frame.group_by("run", "model_id", "task", "dataset", "scoring")
        .agg(
            pl.len().alias("episodes"),
            pl.col("status").is_in(FAILED_STATUSES).sum().alias("failed"),
            pl.col("correct").fill_null(False).mean().alias("paper_accuracy"),
            pl.col("correct").filter(scored).fill_null(False).mean().alias("scored_accuracy"),
        )
        .sort("run", "task", "model_id", "dataset")
    )
    on_paper = table["dataset"].is_in(PAPER_DATASETS)
    return table.with_columns(
        pl.when(on_paper).then(pl.Series(name, [figure(task) for task in table["task"]], dtype=pl.String()))
        .otherwise(None).alias(name)
        for name, figure in (("published", _range), ("published_best", _best))
    )


# the columns shown first; run, dataset, scoring, failed and the best published figure behind a click
PRIMARY = ("model_id", "task", "episodes", "paper_accuracy", "scored_accuracy", "published")
ABOUT = (
    "paper_accuracy: correct episodes over every episode attempted (failed, refused and errored count as "
    "wrong, the published notebook's fillna(0)); scored_accuracy: ToolSweep's, over the episodes that "
    "reached an answer. published: the range of the published figures for the task, published_best the best "
    "of them and its model (paper datasets only). "
    f"Source: {PUBLISHED_SOURCE}."
)


def sections(episodes: pl.DataFrame, out_dir: Path) -> list[Section]:
    """The report's "Published benchmark" section (its tables also written as CSV and Markdown),
    or nothing when no episode ran on paper data or under the paper profile."""
    if not uses_paper(episodes):
        return []
    tables = [ReportTable("paper_accuracy", "Accuracy as published, beside ToolSweep's", ABOUT,
                          paper_accuracy(episodes), PRIMARY),
              ReportTable("published", "The published figures", f"Source: {PUBLISHED_SOURCE}.", published_table())]
    for table in tables:
        table.frame.write_csv(out_dir / f"{table.name}.csv")
        (out_dir / f"{table.name}.md").write_text(
            f"# {table.title}\n\n{table.about}\n\n{markdown_table(table.frame)}", encoding="utf-8")
    return [Section("Published benchmark", "published", tables=tables)]

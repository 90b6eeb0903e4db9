"""PNG charts of the report tables.

Why matplotlib: it is already a dependency, renders headless, and writes static PNGs that embed in
a self-contained HTML page as data URIs — no JavaScript, no plotting server, nothing to fetch
when the page is opened offline. Figures are built with the object-oriented ``Figure`` API on the
Agg canvas (never ``pyplot``), so no global backend or figure registry is touched and nothing
leaks between calls. A small DPI keeps each file in the tens of kilobytes.

Every function takes a table from the analysis modules and a path, writes the PNG and returns the
path, or returns None (writing nothing) when the table has nothing to draw.
"""

from __future__ import annotations

from pathlib import Path
from typing import cast

import polars as pl
from matplotlib import colormaps
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.axis import XAxis
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from analysis.reliability import OUTCOMES
from analysis.stats import LogisticFit
from analysis.trajectory import ALL_TASKS

DPI = 80
# one colour per outcome, in the order of OUTCOMES (the outcome list itself lives in reliability)
OUTCOME_COLORS = dict(zip(OUTCOMES, ("#4c9a2a", "#d62728", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#bcbd22",
                                     "#7f7f7f", "#17becf", "#aec7e8", "#c49c94", "#dbdb8d"),
                          strict=True))
MAX_PANELS = 8


def series_label(frame: pl.DataFrame) -> pl.Expr:
    """Model id, prefixed by the run and suffixed by the strategy only where those vary."""
    parts: list[pl.Expr] = []
    if frame["run"].n_unique() > 1:
        parts += [pl.col("run"), pl.lit("/")]
    parts.append(pl.col("model_id"))
    if "strategy" in frame.columns and frame["strategy"].n_unique() > 1:
        parts += [pl.lit(" · "), pl.col("strategy")]
    return pl.concat_str(parts).alias("series")


def _save(figure: Figure, path: Path) -> Path:
    FigureCanvasAgg(figure)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=DPI, format="png")
    return path


def _color(index: int) -> str:
    palette = colormaps["tab20"] if index >= 10 else colormaps["tab10"]
    return to_hex(palette(index % palette.N))


def _legend(figure: Figure, panels: list[Axes]) -> None:
    """One legend for the figure, outside the panels on the right, whatever the number of series."""
    labelled: dict[str, Artist] = {}
    for axes in panels:
        for handle, label in zip(*axes.get_legend_handles_labels(), strict=True):
            labelled.setdefault(label, handle)
    if labelled:
        figure.legend(list(labelled.values()), list(labelled), loc="outside right upper", fontsize="x-small")


def _height(series: int, base: float = 3.4) -> float:
    return max(base, 0.17 * series + 0.8)


def reliability_bars(outcomes: pl.DataFrame, path: Path) -> Path | None:
    """Share of each attempt outcome, stacked, one bar per provider."""
    if outcomes.is_empty():
        return None
    several_runs = outcomes["run"].n_unique() > 1
    labelled = outcomes.with_columns(
        (pl.concat_str("run", pl.lit("/"), "provider") if several_runs else pl.col("provider")).alias("label")
    )
    labels = sorted(labelled["label"].unique())
    figure = Figure(figsize=(max(5.0, 1.1 * len(labels) + 2.5), 4.0), layout="constrained")
    axes = figure.add_subplot()
    bottoms = [0.0] * len(labels)
    for outcome in OUTCOMES:
        rows = labelled.filter(pl.col("outcome") == outcome)
        if rows.is_empty():
            continue
        share = dict(zip(rows["label"], rows["share"], strict=True))
        heights = [share.get(label, 0.0) for label in labels]
        axes.bar(labels, heights, 0.6, bottom=bottoms, label=outcome, color=OUTCOME_COLORS[outcome])
        bottoms = [b + h for b, h in zip(bottoms, heights, strict=True)]
    axes.set_ylim(0, 1.0)
    axes.set_ylabel("share of attempts")
    axes.set_title("Attempt outcomes per provider")
    _legend(figure, [axes])
    return _save(figure, path)


def _integer_ticks(axis: XAxis) -> None:
    """Ticks on whole numbers only, keeping the default locator's spacing."""
    # the default major locator is an AutoLocator, a MaxNLocator (typed only as a Locator)
    cast(MaxNLocator, axis.get_major_locator()).set_params(integer=True)


def _panels(count: int, height: float = 3.4) -> tuple[Figure, list[Axes]]:
    figure = Figure(figsize=(max(4.0, 3.4 * count + 1.8), height), layout="constrained")
    axes = figure.subplots(1, count, squeeze=False, sharey=True)[0]
    return figure, list(axes)


def pass_k_curves(pass_k: pl.DataFrame, path: Path) -> Path | None:
    """pass^k (solid) and pass@k (dashed) against k, one panel per task, one colour per model."""
    if pass_k.is_empty():
        return None
    labelled = pass_k.with_columns(series_label(pass_k))
    tasks = sorted(labelled["task"].unique())[:MAX_PANELS]
    series = sorted(labelled["series"].unique())
    figure, panels = _panels(len(tasks), _height(len(series)))
    for axes, task in zip(panels, tasks, strict=True):
        for index, name in enumerate(series):
            rows = labelled.filter((pl.col("task") == task) & (pl.col("series") == name)).sort("k")
            if rows.is_empty():
                continue
            axes.plot(rows["k"], rows["pass_hat_k"], marker="o", color=_color(index), label=name)
            axes.plot(rows["k"], rows["pass_at_k"], linestyle="--", color=_color(index), alpha=0.6)
        axes.set_title(task, fontsize="medium")
        axes.set_xlabel("k")
        axes.set_ylim(0, 1.05)
        _integer_ticks(axes.xaxis)
    panels[0].set_ylabel("pass^k (solid), pass@k (dashed)")
    _legend(figure, panels)
    return _save(figure, path)


def trajectory_curves(lengths: pl.DataFrame, fits: pl.DataFrame, path: Path) -> Path | None:
    """Accuracy against trajectory length (points sized by n) with each fitted logistic curve."""
    if lengths.is_empty():
        return None
    labelled = lengths.with_columns(series_label(lengths))
    fitted = fits.filter(pl.col("slope").is_not_null()).with_columns(series_label(fits))
    tasks = sorted(labelled["task"].unique(), key=lambda t: (t == ALL_TASKS, t))[:MAX_PANELS]
    series = sorted(labelled["series"].unique())
    figure, panels = _panels(len(tasks), _height(len(series)))
    for axes, task in zip(panels, tasks, strict=True):
        for index, name in enumerate(series):
            rows = labelled.filter((pl.col("task") == task) & (pl.col("series") == name))
            if rows.is_empty():
                continue
            sizes = [12 + 60 * n / max(rows["n"]) for n in rows["n"]]
            axes.scatter(
                rows["length"], rows["accuracy"], s=sizes, color=_color(index), alpha=0.7, label=name
            )
            fit = fitted.filter((pl.col("task") == task) & (pl.col("series") == name))
            if fit.is_empty():
                continue
            row = fit.row(0, named=True)
            grid = [row["min_length"] + i * (row["max_length"] - row["min_length"]) / 50 for i in range(51)]
            curve = LogisticFit(row["intercept"], row["slope"], 0)
            axes.plot(grid, [curve.predict(x) for x in grid], color=_color(index))
        axes.axhline(0.5, color="grey", linewidth=0.6, linestyle=":")
        axes.set_title(task, fontsize="medium")
        axes.set_xlabel("trajectory length (tool calls)")
        _integer_ticks(axes.xaxis)
        axes.set_ylim(-0.02, 1.05)
    panels[0].set_ylabel("accuracy")
    _legend(figure, panels)
    return _save(figure, path)


def error_curves(errors: pl.DataFrame, path: Path) -> Path | None:
    """Failed attempts per minute by outcome, one panel per run × provider."""
    failed = errors.filter(pl.col("outcome") != "ok")
    if failed.is_empty():
        return None
    panels_keys = failed.select("run", "provider").unique().sort("run", "provider").rows()[:MAX_PANELS]
    figure, panels = _panels(len(panels_keys))
    for axes, (run, provider) in zip(panels, panels_keys, strict=True):
        rows = failed.filter((pl.col("run") == run) & (pl.col("provider") == provider))
        active: list[int] = rows["minute"].to_list()
        minutes = list(range(min(active), max(active) + 1))
        for outcome in OUTCOMES:
            series = rows.filter(pl.col("outcome") == outcome)
            if series.is_empty():
                continue
            per_minute = dict(zip(series["minute"], series["attempts"], strict=True))
            # A minute without failures of this kind is a zero, not a gap to draw across.
            axes.plot(
                minutes,
                [per_minute.get(m, 0) for m in minutes],
                drawstyle="steps-mid",
                color=OUTCOME_COLORS[outcome],
                label=outcome,
            )
        axes.set_title(f"{run}/{provider}" if errors["run"].n_unique() > 1 else provider, fontsize="medium")
        axes.set_xlabel("minute of the run")
    panels[0].set_ylabel("failed attempts per minute")
    _legend(figure, panels)
    return _save(figure, path)


def accuracy_interval_bars(board: pl.DataFrame, path: Path) -> Path | None:
    """Accuracy per task, one bar per model (and strategy), with its 95 % interval as error bars.

    ``board`` is the leaderboard table (strategy, model, task, accuracy, ci_low, ci_high).
    """
    if board.is_empty():
        return None
    several_strategies = board["strategy"].n_unique() > 1
    labelled = board.with_columns(
        (pl.concat_str("model", pl.lit(" · "), "strategy") if several_strategies else pl.col("model")).alias(
            "series"
        )
    )
    tasks = sorted(labelled["task"].unique())
    series = labelled["series"].unique(maintain_order=True).to_list()
    # one colour per model; the second and later strategies of a model are hatched
    models = labelled["model"].unique(maintain_order=True).to_list()
    strategies = labelled["strategy"].unique(maintain_order=True).to_list()
    style = {
        row["series"]: (_color(models.index(row["model"])), strategies.index(row["strategy"]))
        for row in labelled.select("series", "model", "strategy").unique().iter_rows(named=True)
    }
    width = 0.8 / len(series)
    figure = Figure(
        figsize=(max(7.0, 1.1 * len(tasks) * max(1.0, len(series) / 4) + 2.6), min(_height(len(series), 3.3), 4.2)),
        layout="constrained",
    )
    axes = figure.add_subplot()
    for index, name in enumerate(series):
        rows = labelled.filter(pl.col("series") == name)
        by_task = {row["task"]: row for row in rows.iter_rows(named=True)}
        positions, heights, below, above = [], [], [], []
        for t, task in enumerate(tasks):
            row = by_task.get(task)
            if row is None:
                continue
            positions.append(t + (index - (len(series) - 1) / 2) * width)
            heights.append(row["accuracy"])
            low = row["ci_low"] if row["ci_low"] is not None else row["accuracy"]
            high = row["ci_high"] if row["ci_high"] is not None else row["accuracy"]
            below.append(max(0.0, row["accuracy"] - low))
            above.append(max(0.0, high - row["accuracy"]))
        color, strategy_index = style[name]
        axes.bar(
            positions, heights, width, yerr=[below, above], capsize=2, label=name, color=color,
            hatch=["", "///", "...", "xx"][strategy_index % 4], edgecolor="white" if strategy_index else color,
            linewidth=0, error_kw={"elinewidth": 0.9},
        )
    axes.set_xticks(range(len(tasks)), tasks)
    axes.set_ylim(0, 1.05)
    axes.set_ylabel("accuracy (95% CI)")
    axes.grid(axis="y", linewidth=0.4, alpha=0.5)
    axes.set_axisbelow(True)
    axes.spines[["top", "right"]].set_visible(False)
    _legend(figure, [axes])
    return _save(figure, path)

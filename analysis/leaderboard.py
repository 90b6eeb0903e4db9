"""The leaderboard: accuracy of every model on every task with its 95 % interval, best marked.

One row per strategy × model (models labelled as in :mod:`analysis.compare`; the reasoning
variants of one model — ``m@high``, ``m@2048`` — sit together under their base model), one cell
per task: accuracy and the clustered-bootstrap interval of the ``variance`` table. Per task and
strategy the highest accuracy is ``best``; a model whose paired comparison with the best is not
significant after Holm's adjustment is ``tie`` — the data cannot tell them apart. ``mean`` is the
unweighted mean accuracy over the tasks the model ran (ranking only; no interval).
"""

from __future__ import annotations

import html

import polars as pl

from analysis.compare import Comparisons, base_model, model_label


def leaderboard_table(variance: pl.DataFrame, comparisons: Comparisons) -> pl.DataFrame:
    """Long form: strategy, model, base_model, task, n, accuracy, ci_low, ci_high, mark, mean."""
    cells = (
        variance.filter(pl.col("accuracy").is_not_null())
        .with_columns(model_label())
        .select(
            "strategy", "model", "task", pl.col("trials").alias("n"), "accuracy", "ci_low", "ci_high"
        )
    )
    if cells.is_empty():
        schema = {**cells.schema, "base_model": pl.String(), "mark": pl.String(), "mean": pl.Float64()}
        return pl.DataFrame(schema=schema)
    best = (
        cells.sort("accuracy", descending=True)
        .group_by("strategy", "task", maintain_order=True)
        .first()
        .select("strategy", "task", pl.col("model").alias("best_model"))
    )
    accuracy = comparisons.detail.filter(pl.col("metric") == "correct")
    both_ways = pl.concat(
        [
            accuracy.select("task", "strategy", pl.col("model_a").alias("x"), pl.col("model_b").alias("y"), "significant"),
            accuracy.select("task", "strategy", pl.col("model_b").alias("x"), pl.col("model_a").alias("y"), "significant"),
        ]
    )
    marked = (
        cells.join(best, on=["strategy", "task"])
        .join(
            both_ways,
            left_on=["task", "strategy", "best_model", "model"],
            right_on=["task", "strategy", "x", "y"],
            how="left",
        )
        .with_columns(
            pl.when(pl.col("model") == pl.col("best_model"))
            .then(pl.lit("best"))
            .when(pl.col("significant").not_())
            .then(pl.lit("tie"))
            .otherwise(pl.lit(""))
            .alias("mark"),
            pl.col("model").map_elements(base_model, return_dtype=pl.String).alias("base_model"),
            pl.col("accuracy").mean().over("strategy", "model").alias("mean"),
        )
    )
    group_best = pl.col("mean").max().over("strategy", "base_model")
    # groups by their best model; in a group the base model first, then its variants, best first
    return (
        marked.with_columns(group_best.alias("_group"), (pl.col("model") != pl.col("base_model")).alias("_variant"))
        .sort(
            ["strategy", "_group", "base_model", "_variant", "mean", "model", "task"],
            descending=[False, True, False, False, True, False, False],
        )
        .select("strategy", "model", "base_model", "task", "n", "accuracy", "ci_low", "ci_high", "mark", "mean")
    )


def _cell_text(row: dict[str, object]) -> str:
    accuracy, low, high = row["accuracy"], row["ci_low"], row["ci_high"]
    if low is None or high is None:
        return f"{accuracy:.2f}"
    return f"{accuracy:.2f} ± {max(accuracy - low, high - accuracy):.2f}"  # type: ignore[operator]


def leaderboard_html(board: pl.DataFrame) -> str:
    """Models × tasks, grouped by strategy; each cell links to its episodes in the browser."""
    if board.is_empty():
        return "<p class='about'><em>No scored episodes yet.</em></p>"
    tasks = sorted(board["task"].unique().to_list())
    strategies = board["strategy"].unique(maintain_order=True).to_list()
    head = "".join(f"<th>{html.escape(task)}</th>" for task in tasks)
    rows = [f"<thead><tr><th class='text'>model</th>{head}<th>mean</th></tr></thead>"]
    for strategy in strategies:
        part = board.filter(pl.col("strategy") == strategy)
        body = [f"<tr class='group'><th colspan='{len(tasks) + 2}'>strategy: {html.escape(strategy)}</th></tr>"]
        previous_base = None
        for model in part["model"].unique(maintain_order=True).to_list():
            cells = {row["task"]: row for row in part.filter(pl.col("model") == model).iter_rows(named=True)}
            first = next(iter(cells.values()))
            # indented under the row above when that row is its base model or a sibling variant
            variant = first["base_model"] != model and previous_base == first["base_model"]
            previous_base = first["base_model"]
            label = f"<td class='model text{' variant' if variant else ''}'>{html.escape(model)}</td>"
            tds = []
            for task in tasks:
                row = cells.get(task)
                if row is None:
                    tds.append("<td>–</td>")
                    continue
                star = " ★" if row["mark"] == "best" else " =" if row["mark"] == "tie" else ""
                title = (
                    f"{model} on {task}: {row['accuracy']:.3f}, 95% CI "
                    f"[{row['ci_low']:.3f}, {row['ci_high']:.3f}], {row['n']} scored episodes"
                    if row["ci_low"] is not None
                    else f"{model} on {task}: {row['accuracy']:.3f}"
                )
                link = (
                    f"<a href='#episodes' data-model='{html.escape(model)}' data-strategy='{html.escape(strategy)}' "
                    f"data-task='{html.escape(task)}' title='{html.escape(title)}'>{_cell_text(row)}{star}</a>"
                )
                tds.append(f"<td class='{row['mark']}'>{link}</td>")
            body.append(f"<tr>{label}{''.join(tds)}<td>{first['mean']:.2f}</td></tr>")
        rows.append(f"<tbody>{''.join(body)}</tbody>")
    legend = (
        "<p class='legend'><span class='best'>★ best</span><span class='tie'>= not significantly different "
        "from the best (paired test, Holm)</span> accuracy ± half-width of the 95% interval; click a cell for "
        "its episodes.</p>"
    )
    return f"<div class='scroll'><table class='leaderboard'>{''.join(rows)}</table></div>{legend}"

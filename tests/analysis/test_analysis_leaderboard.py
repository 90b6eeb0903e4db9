"""The leaderboard: best per task, ties where the paired test cannot tell, variants grouped."""

import polars as pl
import pytest
from run_builders import episode, write_run

from analysis.compare import compare
from analysis.leaderboard import leaderboard_html, leaderboard_table
from analysis.load import load_runs
from analysis.variance import variance_table


def _episodes(model_id: str, wrong_examples: set[int], examples: int = 20, seeds: int = 2) -> list[dict]:
    return [
        episode(model_id=model_id, example_id=f"x{e:02d}", seed=s, correct=e not in wrong_examples)
        for e in range(examples)
        for s in range(seeds)
    ]


def test_best_tie_and_variants(tmp_path):
    rows = (
        _episodes("m", set())  # 1.00
        + _episodes("m@high", {0})  # 0.95: one example worse, not significant against m
        + _episodes("weak", set(range(12)))  # 0.40: significantly worse
    )
    data = load_runs([write_run(tmp_path, "r", episodes=rows)]).collect()
    board = leaderboard_table(variance_table(data.episodes, n_boot=200), compare(data, n_boot=200))
    marks = dict(zip(board["model"], board["mark"], strict=True))
    assert marks == {"m": "best", "m@high": "tie", "weak": ""}
    assert board["model"].to_list() == ["m", "m@high", "weak"]  # the variant right under its base model
    assert board.filter(pl.col("model") == "m@high")["base_model"].item() == "m"
    assert board.filter(pl.col("model") == "weak")["accuracy"].item() == pytest.approx(0.4)
    page = leaderboard_html(board)
    assert "1.00 ± 0.00 ★" in page and "0.95 ± " in page and "class='model text variant'" in page
    assert page.count("href='#episodes'") == 3

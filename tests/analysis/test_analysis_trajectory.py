import math

import polars as pl
import pytest
from run_builders import episode, write_run

from analysis.load import load_runs
from analysis.trajectory import ALL_TASKS, fit_table, length_table


def _lengths_frame(points, task="typewriter_single"):
    """A length table for one model from (length, n, successes) points."""
    return pl.DataFrame(
        {
            "run": ["r"] * len(points),
            "model_id": ["m"] * len(points),
            "strategy": ["native"] * len(points),
            "task": [task] * len(points),
            "length": [p[0] for p in points],
            "n": [p[1] for p in points],
            "successes": [p[2] for p in points],
        },
        schema={
            "run": pl.String,
            "model_id": pl.String,
            "strategy": pl.String,
            "task": pl.String,
            "length": pl.Int64,
            "n": pl.Int64,
            "successes": pl.Int64,
        },
    )


def test_length_table_counts_scored_episodes_per_length(tmp_path):
    rows = [
        episode(example_id="a", expected_steps=1, correct=True),
        episode(example_id="b", expected_steps=1, correct=False),
        episode(example_id="c", expected_steps=3, correct=True),
        episode(example_id="d", expected_steps=3, status="max_steps", correct=None),
        episode(example_id="e", expected_steps=3, status="provider_failed", correct=None),
        episode(task="multiverse_math", example_id="q", expected_steps=3, correct=True, state_correct=None),
    ]
    table = length_table(load_runs([write_run(tmp_path, "r", episodes=rows)]).episodes)
    got = {
        (r["task"], r["length"]): (r["n"], r["successes"], r["accuracy"]) for r in table.iter_rows(named=True)
    }
    assert got == {
        ("typewriter_single", 1): (2, 1, 0.5),
        ("typewriter_single", 3): (2, 1, 0.5),  # max_steps scored as a failure, provider_failed left out
        ("multiverse_math", 3): (1, 1, 1.0),
        (ALL_TASKS, 1): (2, 1, 0.5),
        (ALL_TASKS, 3): (3, 2, 2 / 3),
    }


def test_length_table_by_difficulty(tmp_path):
    rows = [episode(example_id="a", expected_steps=2, difficulty=5)]
    table = length_table(load_runs([write_run(tmp_path, "r", episodes=rows)]).episodes, "difficulty")
    assert table.filter(pl.col("task") != ALL_TASKS)["length"].to_list() == [5]
    with pytest.raises(ValueError, match="length must be one of"):
        length_table(load_runs([write_run(tmp_path, "r", episodes=rows)]).episodes, "n_steps")


def test_half_life_of_a_known_logistic():
    # P(success | L) = 1 / (1 + exp(-(4 - 0.5 L))) → 50% at L = 8.
    points = [(length, 2000, round(2000 / (1 + math.exp(-(4 - 0.5 * length))))) for length in range(1, 16)]
    row = fit_table(_lengths_frame(points)).row(0, named=True)
    assert row["slope"] == pytest.approx(-0.5, abs=0.01)
    assert row["intercept"] == pytest.approx(4.0, abs=0.05)
    assert row["half_life"] == pytest.approx(8.0, abs=0.02)
    assert row["note"] is None
    assert (row["n"], row["lengths"], row["min_length"], row["max_length"]) == (30_000, 15, 1, 15)


@pytest.mark.parametrize(
    ("points", "note"),
    [
        ([(3, 10, 5)], "one length only"),
        ([(1, 10, 0), (2, 10, 0)], "no successes"),
        ([(1, 10, 10), (2, 10, 10)], "no failures"),
        ([(1, 10, 10), (2, 10, 10), (3, 10, 0)], "outcomes separated by length: the logistic fit diverges"),
        ([(1, 10, 2), (2, 10, 5), (3, 10, 8)], "success does not fall with length"),
        (
            [(1, 100, 40), (2, 100, 30), (3, 100, 20)],
            "predicted success is below 50% at every observed length (from 1)",
        ),
        (
            [(1, 100, 95), (2, 100, 90), (3, 100, 80)],
            "predicted success stays above 50% up to the longest observed length (3)",
        ),
    ],
)
def test_half_life_is_null_with_a_reason(points, note):
    row = fit_table(_lengths_frame(points)).row(0, named=True)
    assert row["half_life"] is None
    assert row["note"] == note


def test_fit_table_of_nothing_is_empty():
    assert fit_table(_lengths_frame([])).height == 0

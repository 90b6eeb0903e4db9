import polars as pl
import pytest
from run_builders import episode, write_run

from analysis.load import load_runs
from analysis.variance import pass_k_table, variance_table

# Outcomes per example over seeds 0, 1, 2: c = 3, 2, 1, 0 successes of n = 3.
OUTCOMES = {
    "ex1": (True, True, True),
    "ex2": (True, True, False),
    "ex3": (True, False, False),
    "ex4": (False, False, False),
}


def _episodes(tmp_path, outcomes=OUTCOMES, extra=()):
    rows = [
        episode(example_id=example, seed=seed, correct=correct)
        for example, results in outcomes.items()
        for seed, correct in enumerate(results)
    ]
    return load_runs([write_run(tmp_path, "r", episodes=[*rows, *extra])]).episodes


def _by_k(table):
    return {
        row["k"]: (row["examples"], row["pass_at_k"], row["pass_hat_k"])
        for row in table.iter_rows(named=True)
    }


def test_pass_at_k_and_pass_hat_k_by_hand(tmp_path):
    got = _by_k(pass_k_table(_episodes(tmp_path)))
    # k=1: mean of c/n = (1 + 2/3 + 1/3 + 0) / 4.
    # k=2: pass@2 = 1 - C(n-c,2)/C(3,2) → 1, 1, 2/3, 0;  pass^2 = C(c,2)/3 → 1, 1/3, 0, 0.
    # k=3: pass@3 → 1, 1, 1, 0;  pass^3 → 1, 0, 0, 0.
    assert got[1] == (4, pytest.approx(0.5), pytest.approx(0.5))
    assert got[2] == (4, pytest.approx((1 + 1 + 2 / 3) / 4), pytest.approx((1 + 1 / 3) / 4))
    assert got[3] == (4, pytest.approx(0.75), pytest.approx(0.25))
    assert sorted(got) == [1, 2, 3]


def test_examples_with_fewer_trials_leave_the_larger_k(tmp_path):
    extra = [episode(example_id="ex5", seed=0, correct=True)]
    got = _by_k(pass_k_table(_episodes(tmp_path, extra=extra)))
    assert got[1] == (5, pytest.approx((1 + 2 / 3 + 1 / 3 + 0 + 1) / 5), pytest.approx(0.6))
    assert got[2][0] == 4 and got[3][0] == 4
    assert got[3][2] == pytest.approx(0.25)


def test_unscored_trials_do_not_count(tmp_path):
    extra = [episode(example_id="ex1", seed=3, status="provider_failed", correct=None)]
    got = _by_k(pass_k_table(_episodes(tmp_path, extra=extra)))
    assert sorted(got) == [1, 2, 3]
    assert got[3] == (4, pytest.approx(0.75), pytest.approx(0.25))


def test_flip_share_and_between_seed_std(tmp_path):
    row = variance_table(_episodes(tmp_path), n_boot=200).row(0, named=True)
    assert (row["examples"], row["seeds"], row["trials"]) == (4, 3, 12)
    assert row["accuracy"] == pytest.approx(6 / 12)
    assert row["flip_share"] == pytest.approx(2 / 4)  # ex2 and ex3 change outcome across seeds
    # Per-seed accuracy: seed 0 = 3/4, seed 1 = 2/4, seed 2 = 1/4 → sample std 0.25.
    assert row["seed_std"] == pytest.approx(0.25)


def test_bootstrap_interval_is_reproducible_and_holds_the_estimate(tmp_path):
    episodes = _episodes(tmp_path)
    first = variance_table(episodes, n_boot=1000, seed=3)
    again = variance_table(episodes, n_boot=1000, seed=3)
    assert first.equals(again)
    row = first.row(0, named=True)
    assert row["ci_low"] <= row["accuracy"] <= row["ci_high"]
    assert row["ci_low"] < row["ci_high"]
    # Example accuracies are 1, 2/3, 1/3, 0: no resample can leave [0, 1], and B=1000 reaches
    # beyond the middle on both sides.
    assert 0.0 <= row["ci_low"] < 0.4 and 0.6 < row["ci_high"] <= 1.0


def test_bootstrap_moves_seeds_of_an_example_together(tmp_path):
    # Every example is either always right or always wrong: per-seed accuracy never varies, yet
    # the examples disagree, so a clustered interval stays wide while the seed std is zero.
    outcomes = {f"e{i}": (i % 2 == 0,) * 3 for i in range(6)}
    row = variance_table(_episodes(tmp_path, outcomes), n_boot=1000, seed=0).row(0, named=True)
    assert row["seed_std"] == pytest.approx(0.0)
    assert row["flip_share"] == 0.0
    assert row["ci_high"] - row["ci_low"] > 0.4


def test_one_seed_only(tmp_path):
    outcomes = {"a": (True,), "b": (False,), "c": (True,)}
    episodes = _episodes(tmp_path, outcomes)
    assert sorted(_by_k(pass_k_table(episodes))) == [1]
    row = variance_table(episodes, n_boot=100).row(0, named=True)
    assert row["seeds"] == 1
    assert row["seed_std"] is None
    assert row["flip_share"] is None  # no example was tried twice
    assert row["accuracy"] == pytest.approx(2 / 3)


def test_no_scored_episodes(tmp_path):
    episodes = _episodes(tmp_path, {}, extra=[episode(status="provider_failed", correct=None)])
    assert pass_k_table(episodes).height == 0
    assert variance_table(episodes).height == 0


def test_groups_are_independent_of_each_other(tmp_path):
    alone = variance_table(_episodes(tmp_path / "one"), n_boot=300, seed=9)
    other_model = [episode(model_id="z", example_id="q", seed=s, correct=s == 0) for s in range(3)]
    together = variance_table(_episodes(tmp_path / "two", extra=other_model), n_boot=300, seed=9)
    same_group = together.filter(pl.col("model_id") == "m").drop("run")
    assert same_group.equals(alone.drop("run"))

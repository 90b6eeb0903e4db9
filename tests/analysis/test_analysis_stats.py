import math

import numpy as np
import pytest

from analysis.stats import chi2_independence, chi2_sf, cluster_bootstrap_ci, fit_logistic, regularized_gamma_q


@pytest.mark.parametrize("x", [0.1, 0.5, 1.0, 3.0, 8.0, 25.0])
def test_chi2_sf_matches_closed_forms(x):
    # df = 1: erfc(sqrt(x/2)); df = 2: exp(-x/2); df = 4: exp(-x/2)(1 + x/2).
    assert chi2_sf(x, 1) == pytest.approx(math.erfc(math.sqrt(x / 2)), rel=1e-9)
    assert chi2_sf(x, 2) == pytest.approx(math.exp(-x / 2), rel=1e-9)
    assert chi2_sf(x, 4) == pytest.approx(math.exp(-x / 2) * (1 + x / 2), rel=1e-9)


def test_chi2_sf_critical_value_and_edges():
    assert chi2_sf(3.841458820694124, 1) == pytest.approx(0.05, rel=1e-9)
    assert chi2_sf(0.0, 3) == 1.0
    assert regularized_gamma_q(2.5, 0.0) == 1.0
    with pytest.raises(ValueError):
        regularized_gamma_q(0.0, 1.0)


def test_chi2_independence_by_hand():
    # [[5, 5], [0, 10]]: expected 2.5 / 7.5 in each row, statistic 2·(2.5 + 2.5²/7.5) = 20/3.
    result = chi2_independence([[5, 5], [0, 10]])
    assert result is not None
    assert result.statistic == pytest.approx(20 / 3)
    assert result.df == 1
    assert result.p_value == pytest.approx(math.erfc(math.sqrt(10 / 3)))


def test_chi2_independence_drops_empty_rows_and_needs_two_by_two():
    assert chi2_independence([[0, 0], [3, 4]]) is None  # one row left
    assert chi2_independence([[0, 4], [0, 6]]) is None  # one column left
    kept = chi2_independence([[0, 0], [1, 3], [3, 1]])
    assert kept is not None and kept.df == 1


def test_fit_logistic_recovers_known_curve():
    intercept, slope = 4.0, -0.5
    lengths = list(range(1, 16))
    trials = [10_000] * len(lengths)
    successes = [round(10_000 / (1 + math.exp(-(intercept + slope * x)))) for x in lengths]
    fit = fit_logistic(lengths, trials, successes)
    assert fit is not None
    assert fit.intercept == pytest.approx(intercept, abs=0.01)
    assert fit.slope == pytest.approx(slope, abs=0.002)
    assert fit.predict(8.0) == pytest.approx(0.5, abs=0.002)


def test_fit_logistic_gives_up_on_separated_data():
    assert fit_logistic([1, 2, 3, 4], [5, 5, 5, 5], [5, 5, 0, 0]) is None
    assert fit_logistic([1, 2], [5, 5], [5, 5]) is None


def test_cluster_bootstrap_is_seeded_and_moves_clusters_whole():
    successes, trials = np.array([0, 3, 2, 1]), np.array([3, 3, 3, 3])
    first = cluster_bootstrap_ci(successes, trials, n_boot=500, rng=np.random.default_rng(7))
    again = cluster_bootstrap_ci(successes, trials, n_boot=500, rng=np.random.default_rng(7))
    assert first == again
    # Two clusters at 0 and 1: a resample of 2 is 0, 1/2 or 1 with probabilities 1/4, 1/2, 1/4.
    low, high = cluster_bootstrap_ci(
        np.array([0, 4]), np.array([4, 4]), n_boot=2000, rng=np.random.default_rng(1)
    )
    assert (low, high) == (0.0, 1.0)
    varied = np.arange(40) % 4, np.full(40, 3)
    seeded_1 = cluster_bootstrap_ci(*varied, n_boot=300, rng=np.random.default_rng(1))
    seeded_2 = cluster_bootstrap_ci(*varied, n_boot=300, rng=np.random.default_rng(2))
    assert seeded_1 != seeded_2
    single = cluster_bootstrap_ci(np.array([2]), np.array([3]), n_boot=50, rng=np.random.default_rng(0))
    assert single == pytest.approx((2 / 3, 2 / 3))

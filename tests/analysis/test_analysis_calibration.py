"""Calibration of the paired comparison, measured by simulation (fixed seeds, so deterministic).

Each simulated comparison draws per-example success probabilities p_i ~ Beta(1.5, 1.5) — a spread
of easy and hard examples, so an example's seeds are correlated — and, per seed, independent
Bernoulli outcomes: B with p_i, A with p_i + s·(1 − p_i) (A fixes a share s of B's failures).
The true difference is s·(1 − E p) = s/2. Under the null (s = 0) the test at α = 0.05 must reject
3–7 % of the time; over nulls and alternatives the 95 % interval must cover the truth 93–97 % of
the time; where the truth equals the predicted minimum detectable difference, power must be near
80 %. Figures measured with this file's seeds: null rejection 0.045 (30 examples × 5 seeds,
sign-flip), 0.054 (100 examples × 1 seed, McNemar mid-p); coverage 0.957 and 0.950 under the
nulls, 0.945 / 0.948 / 0.955 under the alternatives; power 0.775 where the truth (0.150) equals
the mean predicted MDE (0.153). About 3 s in all.
"""

import numpy as np
import pytest

from analysis.paired import ALPHA, paired_comparison

A_BETA, B_BETA = 1.5, 1.5


def _simulate(seed: int, reps: int, examples: int, seeds: int, share: float) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    p = rng.beta(A_BETA, B_BETA, size=(reps, examples, 1))
    a = (rng.random((reps, examples, seeds)) < p + share * (1 - p)).astype(np.int64)
    b = (rng.random((reps, examples, seeds)) < p).astype(np.int64)
    truth = share * B_BETA / (A_BETA + B_BETA)
    d = a - b
    sums, squares, sizes = d.sum(axis=2), (d * d).sum(axis=2), np.full(examples, seeds)
    rejected = covered = 0
    mdes = []
    for r in range(reps):
        result = paired_comparison(
            a[r].sum(axis=1), b[r].sum(axis=1), sums[r], squares[r], sizes, n_boot=1000, rng=rng
        )
        rejected += result.p_value < ALPHA
        covered += result.ci_low <= truth <= result.ci_high
        mdes.append(result.plan.mde)
    return {
        "rejection": rejected / reps,
        "coverage": covered / reps,
        "truth": truth,
        "mean_mde": float(np.mean(mdes)),
    }


@pytest.mark.parametrize(
    ("examples", "seeds", "reps"),
    [(30, 5, 1500), (100, 1, 800)],
    ids=["sign-flip, 30 examples x 5 seeds", "mcnemar, 100 examples x 1 seed"],
)
def test_null_rejection_rate_and_coverage(examples, seeds, reps):
    figures = _simulate(20240, reps, examples, seeds, 0.0)
    assert 0.03 <= figures["rejection"] <= 0.07, figures
    assert 0.93 <= figures["coverage"] <= 0.97, figures


@pytest.mark.parametrize(("examples", "seeds", "share"), [(30, 5, 0.2), (20, 3, 0.4), (100, 1, 0.2)])
def test_interval_covers_the_true_difference(examples, seeds, share):
    figures = _simulate(7, 600, examples, seeds, share)
    assert 0.93 <= figures["coverage"] <= 0.97, figures
    assert figures["rejection"] > 0.3  # and the test does see the difference


def test_power_at_the_predicted_minimum_detectable_difference_is_80_percent():
    # 30 examples × 5 seeds with s = 0.3: truth 0.15, predicted MDE ≈ 0.153.
    figures = _simulate(3, 800, 30, 5, 0.3)
    assert figures["mean_mde"] == pytest.approx(figures["truth"], rel=0.08), figures
    assert 0.72 <= figures["rejection"] <= 0.88, figures

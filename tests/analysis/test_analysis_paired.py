"""Every statistic of analysis/paired.py against a value worked out by hand (or by brute force)."""

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest

from analysis.paired import (
    Z_PLAN,
    bootstrap_diff_ci,
    expanded_tail,
    holm,
    mcnemar_exact,
    paired_comparison,
    power_plan,
    rate_change,
    sign_flip_p,
    t_quantile,
    variance_components,
)


def test_plan_constant_is_the_sum_of_the_two_normal_quantiles():
    assert abs(Z_PLAN - (1.959964 + 0.841621)) < 1e-6


def test_mcnemar_with_8_and_2_discordant_pairs():
    # X ~ Binomial(10, ½): P(X ≤ 2) = (1 + 10 + 45)/1024, P(X = 2) = 45/1024.
    assert mcnemar_exact(8, 2, mid=False) == pytest.approx(2 * 56 / 1024)  # 0.109375
    assert mcnemar_exact(2, 8, mid=False) == pytest.approx(0.109375)
    assert mcnemar_exact(8, 2) == pytest.approx(2 * 56 / 1024 - 45 / 1024)  # mid-p 0.065430
    assert mcnemar_exact(0, 5, mid=False) == pytest.approx(2 / 32)
    assert mcnemar_exact(0, 5) == pytest.approx(1 / 32)
    assert mcnemar_exact(4, 4) == pytest.approx(1.0) and mcnemar_exact(0, 0) == 1.0


def _brute_force_sign_flip(sums: list[int]) -> tuple[float, float]:
    observed = abs(sum(sums))
    more = equal = Fraction(0)
    weight = Fraction(1, 2 ** len(sums))
    for signs in itertools.product((-1, 1), repeat=len(sums)):
        total = abs(sum(s * d for s, d in zip(signs, sums, strict=True)))
        more += weight * (total > observed)
        equal += weight * (total == observed)
    return float(more + equal), float(more + equal / 2)


@pytest.mark.parametrize(
    "sums",
    [[2, -1, 0, 3, 1, 1, -2, 2], [1, 1, 1, 1, 1, -1], [4, 4, -3, 0, 0, 2, 1, 1, -1, 3], [-2]],
)
def test_sign_flip_p_is_the_exact_permutation_distribution(sums):
    exact, mid = _brute_force_sign_flip(sums)
    assert sign_flip_p(np.array(sums), mid=False) == pytest.approx(min(1.0, exact), abs=1e-12)
    assert sign_flip_p(np.array(sums)) == pytest.approx(min(1.0, mid), abs=1e-12)


def test_no_discordant_example_gives_p_one():
    assert sign_flip_p(np.array([0, 0])) == 1.0  # not the degenerate mid-p of ½


def test_with_one_seed_the_sign_flip_test_is_mcnemar():
    sums = np.array([1] * 8 + [-1] * 2 + [0] * 7)
    assert sign_flip_p(sums) == pytest.approx(mcnemar_exact(8, 2))
    assert sign_flip_p(sums, mid=False) == pytest.approx(mcnemar_exact(8, 2, mid=False))


def test_sign_flip_handles_thousands_of_examples():
    # 2,000 examples with D = +1 and 1,900 with D = −1: the normal approximation of the exact
    # distribution, z = 100/√3900, gives p ≈ 0.109; the exact (mid-p) value must be close.
    sums = np.array([1] * 2000 + [-1] * 1900)
    z = 100 / math.sqrt(3900)
    normal_p = 2 * (1 - 0.5 * (1 + math.erf(z / math.sqrt(2))))
    assert sign_flip_p(sums) == pytest.approx(normal_p, abs=0.005)


def test_t_quantiles_against_the_table():
    for df, value in [(1, 12.7062), (2, 4.3027), (3, 3.1824), (5, 2.5706), (10, 2.2281), (29, 2.0452)]:
        assert t_quantile(0.975, df) == pytest.approx(value, abs=5e-3 if df == 3 else 5e-4)


def test_expanded_tail_for_30_examples():
    # √(30/29) · t_{0.975, 29} = 1.01709 · 2.04523 = 2.08019; Φ(−2.08019) = 0.018754
    assert expanded_tail(30) == pytest.approx(0.018754, abs=2e-5)
    assert expanded_tail(1) == pytest.approx(0.025)


def test_bootstrap_matches_the_enumerated_bootstrap_distribution():
    # 4 examples with 3 pairs each, D = (3, 1, 0, −2): the 4⁴ = 256 equally likely resamples give
    # the exact bootstrap distribution of ΣD*/12; with many draws the interval must sit on its
    # quantiles at the expanded tail (4 examples: t_{0.975,3}·√(4/3) = 3.6748 → 0.000119).
    sums, sizes = np.array([3, 1, 0, -2]), np.array([3, 3, 3, 3])
    values = sorted(sum(sums[list(draw)]) / 12 for draw in itertools.product(range(4), repeat=4))
    tail = expanded_tail(4)
    assert tail == pytest.approx(0.000119, abs=2e-5)
    exact_low, exact_high = np.quantile(values, [tail, 1 - tail])
    low, high = bootstrap_diff_ci(sums, sizes, n_boot=200_000, rng=np.random.default_rng(5))
    assert (low, high) == pytest.approx((exact_low, exact_high), abs=1 / 12)
    # the extremes of the enumerated distribution are all −2s (−0.667) and all 3s (+1.0)
    assert values[0] == pytest.approx(-8 / 12) and values[-1] == pytest.approx(1.0)


def test_bootstrap_is_reproducible_from_its_seed():
    sums, sizes = np.array([2, 0, -1, 1, 1, 0, 2]), np.full(7, 3)
    first = bootstrap_diff_ci(sums, sizes, n_boot=500, rng=np.random.default_rng(11))
    again = bootstrap_diff_ci(sums, sizes, n_boot=500, rng=np.random.default_rng(11))
    other = bootstrap_diff_ci(sums, sizes, n_boot=500, rng=np.random.default_rng(12))
    assert first == again and first != other
    assert first[0] < sums.sum() / sizes.sum() < first[1]


def test_variance_components_by_hand():
    # Three examples × two seeds, d = (1, 1), (1, 0), (0, −1):
    # D = (2, 1, −1), Q = (2, 1, 1). Within: (0 + ½ + ½)/3 = 1/3. Means (1, ½, −½): sample
    # variance 7/12; between = 7/12 − (1/3)·(1/2) = 5/12.
    components = variance_components(np.array([2, 1, -1]), np.array([2, 1, 1]), np.array([2, 2, 2]))
    assert components.within == pytest.approx(1 / 3)
    assert components.between == pytest.approx(5 / 12)
    assert components.seeds == pytest.approx(2.0) and components.examples == 3
    plan = power_plan(components, 1 / 3)
    assert plan.mde == pytest.approx(Z_PLAN * math.sqrt((5 / 12 + (1 / 3) / 2) / 3))
    # n·δ²/z² = 3/9/7.849 = 0.0425 < σ_b² = 0.4167: no number of seeds is enough
    assert plan.seeds_needed is None
    assert plan.examples_needed == math.ceil(Z_PLAN**2 * (7 / 12) / (1 / 9))  # ⌈41.2⌉ = 42
    assert plan.examples_needed == 42


def test_seeds_needed_when_all_variance_is_within_examples():
    # Four examples, each with d = (1, 0): every example mean is ½, so σ_b² = 0 and σ_w² = ½.
    # Seeds needed for δ = ½: ⌈σ_w² / (n·δ²/z²)⌉ = ⌈0.5 / (1/7.849)⌉ = ⌈3.92⌉ = 4.
    components = variance_components(np.ones(4), np.ones(4), np.full(4, 2))
    assert (components.between, components.within) == (0.0, pytest.approx(0.5))
    plan = power_plan(components, 0.5)
    assert plan.seeds_needed == 4
    assert Z_PLAN * math.sqrt(0.5 / 4 / 4) <= 0.5 < Z_PLAN * math.sqrt(0.5 / 3 / 4)


def test_unclustered_power_matches_the_closed_form():
    # One seed, 50 examples: 12 where only A succeeds, 4 where only B does.
    n, a_only, b_only = 50, 12, 4
    sums = np.array([1] * a_only + [-1] * b_only + [0] * (n - a_only - b_only))
    components = variance_components(sums, np.abs(sums), np.ones(n, dtype=int))
    p10, p01 = a_only / n, b_only / n
    delta = p10 - p01
    # closed form of the paired-proportions design, with the n/(n − 1) of a sample variance
    variance = (p10 + p01 - delta**2) * n / (n - 1)
    assert components.within is None and components.total == pytest.approx(variance)
    plan = power_plan(components, delta)
    assert plan.mde == pytest.approx((1.959964 + 0.841621) * math.sqrt(variance / n), rel=1e-5)
    assert plan.examples_needed == math.ceil((1.959964 + 0.841621) ** 2 * variance / delta**2)
    assert plan.seeds_needed is None


def test_holm_by_hand():
    # sorted 0.01, 0.03, 0.04, 0.5 (m = 4): 4·0.01, 3·0.03, max(0.09, 2·0.04), max(0.09, 0.5)
    assert holm([0.01, 0.04, 0.03, None, 0.5]) == pytest.approx([0.04, 0.09, 0.09, None, 0.5])
    assert holm([0.5, 0.6]) == [1.0, 1.0]
    assert holm([]) == []


def test_paired_comparison_counts_and_test_choice():
    # two examples × two seeds: example 1 A=(1,1) B=(0,1); example 2 A=(0,1) B=(1,1)
    result = paired_comparison(
        np.array([2, 1]), np.array([1, 2]), np.array([1, -1]), np.array([1, 1]), np.array([2, 2]),
        n_boot=100, rng=np.random.default_rng(0),
    )
    assert (result.n_pairs, result.a_only, result.b_only, result.diff) == (4, 1, 1, 0.0)
    assert (result.acc_a, result.acc_b, result.test) == (0.75, 0.75, "sign-flip")
    one_seed = paired_comparison(
        np.array([1, 1, 0]), np.array([0, 1, 0]), np.array([1, 0, 0]), np.array([1, 0, 0]), np.ones(3, int),
        n_boot=100, rng=np.random.default_rng(0),
    )
    assert one_seed.test == "mcnemar" and one_seed.p_value == pytest.approx(mcnemar_exact(1, 0))
    assert one_seed.diff == pytest.approx(1 / 3)


def test_no_discordant_pair_gives_a_zero_interval_and_p_one():
    result = paired_comparison(
        np.array([3, 0]), np.array([3, 0]), np.zeros(2, int), np.zeros(2, int), np.array([3, 3]),
        n_boot=100, rng=np.random.default_rng(0),
    )
    assert (result.ci_low, result.ci_high, result.p_value) == (0.0, 0.0, 1.0)


def test_rate_change_by_hand_and_by_design():
    # A: episodes with (events, attempts) = (1, 4), (0, 4), (1, 2); rate 2/10.
    # Cluster-robust variance: 3/2 · ((1 − .8)² + (0 − .8)² + (1 − .4)²) / 10² = 3/2 · 1.04/100.
    events, attempts = np.array([1, 0, 1]), np.array([4, 4, 2])
    same = rate_change(events, attempts, events, attempts, n_boot=200, n_perm=999, rng=np.random.default_rng(1))
    assert (same.rate_a, same.diff, same.p_value) == (0.2, 0.0, 1.0)
    assert same.mde == pytest.approx(Z_PLAN * math.sqrt(2 * 1.5 * 1.04 / 100))

    rng = np.random.default_rng(2)
    trials = np.full(400, 5)
    low_rate = rng.binomial(5, 0.03, size=400)
    high_rate = rng.binomial(5, 0.10, size=400)
    changed = rate_change(high_rate, trials, low_rate, trials, n_boot=500, n_perm=999, rng=rng)
    assert changed.diff > 0 and changed.ci_low > 0 and changed.p_value == pytest.approx(1 / 1000)
    steady = rate_change(
        rng.binomial(5, 0.03, size=400), trials, low_rate, trials, n_boot=500, n_perm=999, rng=rng
    )
    assert steady.p_value > 0.05 and steady.ci_low < 0 < steady.ci_high

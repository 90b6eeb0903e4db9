"""Small statistics the tables need, in plain Python and numpy (scipy is not a dependency).

- ``chi2_sf``: survival function of the chi-square distribution through the regularized upper
  incomplete gamma function Q(k/2, x/2) (series below a + 1, Lentz continued fraction above).
- ``chi2_independence``: Pearson's chi-square test of independence on a contingency table.
- ``fit_logistic``: maximum-likelihood logistic regression of successes on one predictor, by
  Newton's method on binomial counts (two parameters, so the 2×2 system is solved by hand).
- ``cluster_bootstrap_ci``: percentile bootstrap of a pooled proportion resampling clusters.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

_EPS = 1e-15
_MAX_ITER = 500


def _gamma_p_series(a: float, x: float) -> float:
    term = total = 1.0 / a
    denominator = a
    for _ in range(_MAX_ITER):
        denominator += 1.0
        term *= x / denominator
        total += term
        if abs(term) < abs(total) * _EPS:
            break
    return total * math.exp(-x + a * math.log(x) - math.lgamma(a))


def _gamma_q_continued_fraction(a: float, x: float) -> float:
    tiny = 1e-300
    b = x + 1.0 - a
    c = 1.0 / tiny
    d = 1.0 / b
    h = d
    for i in range(1, _MAX_ITER):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < _EPS:
            break
    return math.exp(-x + a * math.log(x) - math.lgamma(a)) * h


def regularized_gamma_q(a: float, x: float) -> float:
    """Q(a, x) = Γ(a, x) / Γ(a), the regularized upper incomplete gamma function."""
    if a <= 0 or x < 0:
        raise ValueError(f"regularized_gamma_q needs a > 0 and x >= 0, got a={a}, x={x}")
    if x == 0:
        return 1.0
    if x < a + 1.0:
        return 1.0 - _gamma_p_series(a, x)
    return _gamma_q_continued_fraction(a, x)


def chi2_sf(statistic: float, df: int) -> float:
    """P(X >= statistic) for X ~ chi-square with ``df`` degrees of freedom."""
    return regularized_gamma_q(df / 2.0, max(statistic, 0.0) / 2.0)


@dataclass(frozen=True)
class ChiSquareResult:
    statistic: float
    df: int
    p_value: float


def chi2_independence(table: Sequence[Sequence[int]] | np.ndarray) -> ChiSquareResult | None:
    """Pearson's test on a rows × columns table of counts; None when fewer than 2×2 non-empty cells.

    Rows and columns whose total is zero carry no information and are dropped first.
    """
    counts = np.asarray(table, dtype=np.float64)
    if counts.ndim != 2 or counts.size == 0:
        return None
    counts = counts[counts.sum(axis=1) > 0]
    counts = counts[:, counts.sum(axis=0) > 0]
    rows, columns = counts.shape
    if rows < 2 or columns < 2:
        return None
    expected = np.outer(counts.sum(axis=1), counts.sum(axis=0)) / counts.sum()
    statistic = float(((counts - expected) ** 2 / expected).sum())
    df = (rows - 1) * (columns - 1)
    return ChiSquareResult(statistic, df, chi2_sf(statistic, df))


@dataclass(frozen=True)
class LogisticFit:
    """P(success | x) = 1 / (1 + exp(-(intercept + slope·x)))."""

    intercept: float
    slope: float
    iterations: int

    def predict(self, x: float) -> float:
        return sigmoid(self.intercept + self.slope * x)


def sigmoid(z: float) -> float:
    """1 / (1 + e^−z), written so that neither branch overflows."""
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    exp_z = math.exp(z)
    return exp_z / (1.0 + exp_z)


def fit_logistic(
    x: Sequence[float],
    trials: Sequence[int],
    successes: Sequence[int],
    *,
    tol: float = 1e-10,
    max_iter: int = 100,
) -> LogisticFit | None:
    """Newton's method on binomial counts; None when it does not converge (e.g. separation)."""
    total_trials = sum(trials)
    pooled = sum(successes) / total_trials
    if not 0.0 < pooled < 1.0:
        return None
    intercept, slope = math.log(pooled / (1.0 - pooled)), 0.0
    for iteration in range(1, max_iter + 1):
        g0 = g1 = h00 = h01 = h11 = 0.0
        for xi, ni, si in zip(x, trials, successes, strict=True):
            p = sigmoid(intercept + slope * xi)
            residual = si - ni * p
            weight = ni * p * (1.0 - p)
            g0 += residual
            g1 += residual * xi
            h00 += weight
            h01 += weight * xi
            h11 += weight * xi * xi
        determinant = h00 * h11 - h01 * h01
        if determinant <= 0.0:
            return None
        step0 = (h11 * g0 - h01 * g1) / determinant
        step1 = (h00 * g1 - h01 * g0) / determinant
        intercept += step0
        slope += step1
        if abs(intercept) > 1e3 or abs(slope) > 1e3:
            return None
        if abs(step0) < tol and abs(step1) < tol:
            return LogisticFit(intercept, slope, iteration)
    return None


def cluster_bootstrap_ci(
    successes: np.ndarray, trials: np.ndarray, *, n_boot: int, rng: np.random.Generator, level: float = 0.95
) -> tuple[float, float]:
    """Percentile interval of sum(successes)/sum(trials), resampling whole clusters (rows).

    Every cluster keeps all its trials together, so correlation within a cluster (the seeds of
    one example) widens the interval as it should. Drawing m clusters uniformly with replacement
    is the same as drawing, for each distinct (successes, trials) pair, how many of the m draws
    land on it — a multinomial over the pairs weighted by how often each occurs. Clusters take
    few distinct pairs (at most (seeds + 1)(seeds + 2)/2), so this costs O(B × pairs) instead of
    O(B × clusters) and gives exactly the bootstrap distribution. Quantiles interpolate linearly.
    """
    clusters = len(trials)
    pairs, counts = np.unique(np.column_stack([successes, trials]), axis=0, return_counts=True)
    draws = rng.multinomial(clusters, counts / clusters, size=n_boot)
    resampled = (draws @ pairs[:, 0]) / (draws @ pairs[:, 1])
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(resampled, [tail, 1.0 - tail])
    return float(low), float(high)

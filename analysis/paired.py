"""Paired and clustered tests for comparing two models (or two runs), in numpy only.

The design every comparison starts from: model A and model B answered the same examples under the
same seeds. An example's seeds are correlated (an example is hard or easy for both), so the unit
that is independent — and the unit every interval and test below resamples — is the *example*.
Per example i the data reduce to three integers over its k_i paired trials:

    D_i = Σ_j (a_ij − b_ij)     (signed difference, a and b ∈ {0, 1})
    Q_i = Σ_j (a_ij − b_ij)²    (discordant trials)
    k_i                         (paired trials, i.e. seeds shared by both models)

and the estimate is diff = Σ D_i / Σ k_i (the accuracy of A minus that of B over the pairs).

- ``mcnemar_exact``: exact two-sided McNemar test from the discordant counts (one seed).
- ``sign_flip_p``: exact example-level sign-flip permutation test of Σ D_i. Under the null the
  labels A and B are exchangeable within an example, so every D_i is as likely to be −D_i; the
  2^n sign patterns are enumerated *exactly* without listing them: examples with the same |D_i| = v
  contribute v·(2X − c_v), X ~ Binomial(c_v, ½), and the null distribution of Σ D_i is the
  convolution of these few scaled binomials (at most one per possible |D_i| ≤ seeds). This is the
  exact permutation distribution at any number of examples, so no Monte Carlo is needed; with one
  seed it *is* the exact McNemar test.
- ``bootstrap_diff_ci``: percentile interval of Σ D_i / Σ k_i resampling examples.
- ``variance_components`` / ``power_plan``: between- and within-example variance of the paired
  difference, the minimum detectable difference and the seeds / examples needed (formulas there).
- ``holm``: Holm's step-down adjustment of a family of p-values.
- ``rate_change``: two independent samples of clustered rates (a provider's error rate in two
  runs), by a permutation test of whole episodes and a two-sample cluster bootstrap.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

ALPHA = 0.05
POWER = 0.8
Z_ALPHA = NormalDist().inv_cdf(1.0 - ALPHA / 2.0)  # two-sided test at α = 0.05: 1.95996…
Z_POWER = NormalDist().inv_cdf(POWER)  # 80 % power: 0.84162…
Z_PLAN = Z_ALPHA + Z_POWER  # 2.80158…


def _binomial_half_pmf(count: int) -> np.ndarray:
    """P(X = x) for X ~ Binomial(count, ½), x = 0..count, through log-gamma (no overflow)."""
    x = np.arange(count + 1)
    log_comb = (
        math.lgamma(count + 1)
        - np.array([math.lgamma(v + 1) for v in x])
        - np.array([math.lgamma(count - v + 1) for v in x])
    )
    pmf: np.ndarray = np.exp(log_comb - count * math.log(2.0))
    return pmf


def mcnemar_exact(a_only: int, b_only: int, *, mid: bool = True) -> float:
    """Two-sided McNemar p-value from the discordant pair counts, exact conditional or mid-p.

    ``a_only``: pairs where only A succeeded; ``b_only``: only B. Under the null each discordant
    pair is A's or B's with probability ½: with X ~ Binomial(a_only + b_only, ½) and
    m = min(a_only, b_only), the exact conditional p is min(1, 2·P(X ≤ m)); the mid-p
    (default) counts the observed value half: min(1, 2·P(X ≤ m) − P(X = m)) — 2·P(X < m) + P(X = m).
    No discordant pair gives p = 1.
    """
    discordant = a_only + b_only
    if discordant == 0:
        return 1.0
    pmf = _binomial_half_pmf(discordant)
    smaller = min(a_only, b_only)
    tail = float(pmf[: smaller + 1].sum())
    return min(1.0, 2.0 * tail - (float(pmf[smaller]) if mid else 0.0))


def sign_flip_distribution(sums: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact null distribution of Σ s_i·D_i over independent fair signs s_i: (values, probabilities)."""
    magnitudes = np.abs(np.asarray(sums, dtype=np.int64))
    magnitudes = magnitudes[magnitudes > 0]
    total = int(magnitudes.sum())
    # probabilities indexed by Σ s_i·D_i + total, i.e. 0 .. 2·total
    distribution = np.zeros(2 * total + 1)
    distribution[total] = 1.0
    for value, count in zip(*np.unique(magnitudes, return_counts=True), strict=True):
        # examples with |D_i| = value add value·(2X − count); X ~ Binomial(count, ½)
        step = np.zeros(2 * int(value) * int(count) + 1)
        step[:: 2 * int(value)] = _binomial_half_pmf(int(count))
        # the step is centred on value·count; convolving and trimming keeps the array centred
        full = np.convolve(distribution, step)
        offset = int(value) * int(count)
        distribution = full[offset : offset + 2 * total + 1]
    return np.arange(-total, total + 1), distribution


def sign_flip_p(sums: np.ndarray, *, mid: bool = True) -> float:
    """Two-sided p-value of the example-level sign-flip test from its exact null distribution.

    mid-p (default): P(|T*| > |t|) + ½·P(|T*| = |t|); ``mid=False``: P(|T*| ≥ |t|).
    """
    sums = np.asarray(sums, dtype=np.int64)
    observed = abs(int(sums.sum()))
    if not np.any(sums):
        return 1.0
    values, probabilities = sign_flip_distribution(sums)
    beyond = float(probabilities[np.abs(values) > observed].sum())
    tie = float(probabilities[np.abs(values) == observed].sum())
    return min(1.0, beyond + (0.5 if mid else 1.0) * tie)


def bootstrap_diff_ci(
    sums: np.ndarray, sizes: np.ndarray, *, n_boot: int, rng: np.random.Generator, level: float = 0.95
) -> tuple[float, float]:
    """Percentile interval of Σ D_i / Σ k_i, resampling examples (rows) with replacement.

    Drawing n examples uniformly with replacement is the same as drawing, for each distinct
    (D_i, k_i), how many of the n draws land on it — a multinomial over the distinct rows weighted
    by how often each occurs — which gives exactly the bootstrap distribution at O(B × distinct)
    cost. The percentiles are those of the expanded interval (:func:`expanded_tail`), which keeps
    coverage near the nominal level with tens of examples; they interpolate linearly.
    """
    examples = len(sizes)
    rows, counts = np.unique(np.column_stack([sums, sizes]), axis=0, return_counts=True)
    draws = rng.multinomial(examples, counts / examples, size=n_boot)
    resampled = (draws @ rows[:, 0]) / (draws @ rows[:, 1])
    tail = expanded_tail(examples, level)
    low, high = np.quantile(resampled, [tail, 1.0 - tail])
    return float(low), float(high)


def t_quantile(q: float, df: int) -> float:
    """Quantile of Student's t with ``df`` degrees of freedom (q in (0, 1)).

    Closed forms for df = 1, 2; otherwise the Cornish–Fisher expansion in 1/df of Abramowitz &
    Stegun 26.7.5: within 4·10⁻³ of the exact value at df = 3, 3·10⁻⁴ at df = 5, closer above.
    """
    if df == 1:
        return math.tan(math.pi * (q - 0.5))
    if df == 2:
        return (2.0 * q - 1.0) / math.sqrt(2.0 * q * (1.0 - q))
    z = NormalDist().inv_cdf(q)
    g1 = (z**3 + z) / 4.0
    g2 = (5 * z**5 + 16 * z**3 + 3 * z) / 96.0
    g3 = (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384.0
    g4 = (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / 92160.0
    return z + g1 / df + g2 / df**2 + g3 / df**3 + g4 / df**4


def expanded_tail(examples: int, level: float = 0.95) -> float:
    """Lower tail probability of Hesterberg's *expanded percentile* bootstrap interval.

    The bootstrap distribution of a mean of n clusters is too narrow by √((n − 1)/n) and has
    normal rather than t tails; the expanded interval takes the percentiles at α'/2 with
    Φ⁻¹(α'/2) = −√(n/(n − 1))·t_{1−α/2, n−1} (Hesterberg, "What Teachers Should Know About the
    Bootstrap", The American Statistician 69(4), 2015). For n = 30 and 95 %: 1.9 % and 98.1 %.
    """
    if examples < 2:
        return (1.0 - level) / 2.0
    stretch = math.sqrt(examples / (examples - 1)) * t_quantile(1.0 - (1.0 - level) / 2.0, examples - 1)
    return NormalDist().cdf(-stretch)


@dataclass(frozen=True)
class VarianceComponents:
    """Variance of the per-trial paired difference d_ij = a_ij − b_ij, split by example.

    ``between``: σ_b², variance of the examples' true mean differences; ``within``: σ_w², variance
    of d_ij around its example's mean (None with one seed per example: then only their sum,
    ``total`` = σ_b² + σ_w², is identified); ``examples``: n; ``seeds``: harmonic mean of k_i.
    """

    between: float
    within: float | None
    total: float
    examples: int
    seeds: float


def variance_components(sums: np.ndarray, squares: np.ndarray, sizes: np.ndarray) -> VarianceComponents | None:
    """One-way random-effects (ANOVA) estimates of σ_b² and σ_w²; None with fewer than 2 examples.

    σ_w² = Σ_i (Q_i − D_i²/k_i) / Σ_i (k_i − 1)  (pooled within-example variance, examples with
    k_i ≥ 2); the example means m_i = D_i/k_i have variance σ_b² + σ_w²/k_i, so with s_m² their
    sample variance (ddof 1), σ_b² = max(0, s_m² − σ_w²·mean(1/k_i)). With one seed everywhere
    σ_w² is not identified and ``total`` = s_m².
    """
    sums = np.asarray(sums, dtype=np.float64)
    squares = np.asarray(squares, dtype=np.float64)
    sizes = np.asarray(sizes, dtype=np.float64)
    examples = len(sizes)
    if examples < 2:
        return None
    means = sums / sizes
    spread = float(np.var(means, ddof=1))
    inverse_seeds = float(np.mean(1.0 / sizes))
    repeated = sizes >= 2
    if not np.any(repeated):
        return VarianceComponents(
            between=spread, within=None, total=spread, examples=examples, seeds=1.0 / inverse_seeds
        )
    within_ss = float((squares[repeated] - sums[repeated] ** 2 / sizes[repeated]).sum())
    within = within_ss / float((sizes[repeated] - 1).sum())
    between = max(0.0, spread - within * inverse_seeds)
    return VarianceComponents(
        between=between, within=within, total=between + within, examples=examples, seeds=1.0 / inverse_seeds
    )


@dataclass(frozen=True)
class PowerPlan:
    """``mde``: minimum detectable difference at 80 % power, two-sided α = 0.05, for this design;
    ``seeds_needed`` / ``examples_needed``: to detect the observed difference with that power
    (None when no number would do, or the observed difference is zero)."""

    mde: float | None
    seeds_needed: int | None
    examples_needed: int | None


def power_plan(components: VarianceComponents | None, observed: float) -> PowerPlan:
    """Minimum detectable difference and seeds / examples needed, from the variance components.

    With n examples and k seeds each, the paired estimate of the difference has variance
    V(n, k) = (σ_b² + σ_w²/k) / n, and a two-sided level-α test has power 1 − β against δ when
    |δ| ≥ (z_{1−α/2} + z_{1−β})·√V (normal approximation). Hence

        mde              = (z_{0.975} + z_{0.8}) · √((σ_b² + σ_w²/k) / n)
        seeds_needed     = ⌈σ_w² / (n·δ²/z² − σ_b²)⌉   (z = z_{0.975} + z_{0.8}; none when
                           n·δ²/z² ≤ σ_b²: more seeds alone cannot reach it — more examples can)
        examples_needed  = ⌈z² · (σ_b² + σ_w²/k) / δ²⌉  at the current number of seeds.

    With one seed per example (σ_w² not identified) σ_b² + σ_w² is the sample variance of d_i,
    and mde, examples_needed reduce to the textbook paired-proportions forms
    z·√((p₁₀ + p₀₁ − (p₁₀ − p₀₁)²)/n) (up to the n/(n − 1) of a sample variance); seeds_needed is
    None because the split between example and seed variance is unknown.
    """
    if components is None:
        return PowerPlan(None, None, None)
    n, k = components.examples, components.seeds
    within = components.within if components.within is not None else components.total - components.between
    per_example = components.between + within / k
    mde = Z_PLAN * math.sqrt(per_example / n)
    if observed == 0.0:
        return PowerPlan(mde, None, None)
    delta2 = observed * observed
    examples_needed = max(2, math.ceil(Z_PLAN**2 * per_example / delta2 - 1e-9))
    seeds_needed = None
    if components.within is not None:
        room = n * delta2 / Z_PLAN**2 - components.between
        if components.within == 0.0:
            seeds_needed = 1 if room >= 0 else None
        elif room > 0:
            seeds_needed = max(1, math.ceil(components.within / room - 1e-9))
    return PowerPlan(mde, seeds_needed, examples_needed)


def holm(p_values: Sequence[float | None]) -> list[float | None]:
    """Holm's step-down adjusted p-values (None stays None and does not count in the family).

    Sorted ascending p_(1) ≤ … ≤ p_(m): adjusted p_(i) = max_{j ≤ i} min(1, (m − j + 1)·p_(j)).
    Rejecting where the adjusted p < α controls the family-wise error rate at α.
    """
    present = [(p, index) for index, p in enumerate(p_values) if p is not None]
    present.sort()
    adjusted: list[float | None] = [None] * len(p_values)
    running = 0.0
    m = len(present)
    for rank, (p, index) in enumerate(present):
        running = max(running, min(1.0, (m - rank) * p))
        adjusted[index] = running
    return adjusted


@dataclass(frozen=True)
class PairedResult:
    """One paired comparison of a binary metric (see the module docstring for D_i, Q_i, k_i)."""

    n_pairs: int
    examples: int
    acc_a: float
    acc_b: float
    diff: float
    ci_low: float
    ci_high: float
    p_value: float
    test: str  # "mcnemar" | "sign-flip"
    a_only: int
    b_only: int
    components: VarianceComponents | None
    plan: PowerPlan


def paired_comparison(
    a_successes: np.ndarray,
    b_successes: np.ndarray,
    sums: np.ndarray,
    squares: np.ndarray,
    sizes: np.ndarray,
    *,
    n_boot: int,
    rng: np.random.Generator,
) -> PairedResult:
    """Every figure of one comparison from per-example successes of A and B and D_i, Q_i, k_i."""
    sums = np.asarray(sums, dtype=np.int64)
    squares = np.asarray(squares, dtype=np.int64)
    sizes = np.asarray(sizes, dtype=np.int64)
    n_pairs = int(sizes.sum())
    diff = float(sums.sum()) / n_pairs
    a_only = int((squares + sums).sum()) // 2  # per example, (Q + D)/2 trials where only A succeeded
    b_only = int((squares - sums).sum()) // 2
    one_seed = bool(np.all(sizes == 1))
    p_value = mcnemar_exact(a_only, b_only) if one_seed else sign_flip_p(sums)
    if a_only + b_only == 0:
        low = high = 0.0  # no discordant pair: every resample has a zero difference
    else:
        low, high = bootstrap_diff_ci(sums, sizes, n_boot=n_boot, rng=rng)
    components = variance_components(sums, squares, sizes)
    return PairedResult(
        n_pairs=n_pairs,
        examples=len(sizes),
        acc_a=float(np.sum(a_successes)) / n_pairs,
        acc_b=float(np.sum(b_successes)) / n_pairs,
        diff=diff,
        ci_low=low,
        ci_high=high,
        p_value=p_value,
        test="mcnemar" if one_seed else "sign-flip",
        a_only=a_only,
        b_only=b_only,
        components=components,
        plan=power_plan(components, diff),
    )


@dataclass(frozen=True)
class RateChange:
    """A rate (events per trial, trials clustered in episodes) in two independent samples."""

    trials_a: int
    trials_b: int
    rate_a: float
    rate_b: float
    diff: float
    ci_low: float
    ci_high: float
    p_value: float
    mde: float | None
    episodes_needed: int | None


def _ratio_variance(events: np.ndarray, trials: np.ndarray) -> float:
    """Cluster-robust (linearization) variance of Σ y / Σ n over m clusters:
    m/(m − 1) · Σ (y_i − r·n_i)² / (Σ n)²."""
    clusters = len(trials)
    if clusters < 2:
        return float("nan")
    rate = events.sum() / trials.sum()
    return float(clusters / (clusters - 1) * ((events - rate * trials) ** 2).sum() / trials.sum() ** 2)


def rate_change(
    events_a: np.ndarray,
    trials_a: np.ndarray,
    events_b: np.ndarray,
    trials_b: np.ndarray,
    *,
    n_boot: int,
    n_perm: int,
    rng: np.random.Generator,
) -> RateChange:
    """Did the rate change between sample A and sample B? Clusters (episodes) stay whole.

    - p-value: permutation test of the cluster labels. Under the null the two runs' episodes are
      exchangeable; a random relabelling puts into A a multivariate hypergeometric draw of the
      distinct (events, trials) clusters (cost O(n_perm × distinct)). p = (1 + #{|Δ*| ≥ |Δ|}) /
      (1 + n_perm), the Monte Carlo p-value that stays valid.
    - interval: percentile bootstrap resampling each sample's clusters independently.
    - mde: (z_{0.975} + z_{0.8})·√(V_A + V_B) with V the cluster-robust variance of a ratio;
      episodes_needed: episodes per run for the observed change, ⌈z²·(m_A·V_A + m_B·V_B)/δ²⌉.
    """
    events_a, trials_a = np.asarray(events_a, np.int64), np.asarray(trials_a, np.int64)
    events_b, trials_b = np.asarray(events_b, np.int64), np.asarray(trials_b, np.int64)
    rate_a = events_a.sum() / trials_a.sum()
    rate_b = events_b.sum() / trials_b.sum()
    diff = float(rate_a - rate_b)

    pooled = np.column_stack([np.concatenate([events_a, events_b]), np.concatenate([trials_a, trials_b])])
    kinds, counts = np.unique(pooled, axis=0, return_counts=True)
    in_a = rng.multivariate_hypergeometric(counts, len(trials_a), size=n_perm)
    in_b = counts - in_a
    permuted = (in_a @ kinds[:, 0]) / (in_a @ kinds[:, 1]) - (in_b @ kinds[:, 0]) / (in_b @ kinds[:, 1])
    extreme = int(np.sum(np.abs(permuted) >= abs(diff) - 1e-12))
    p_value = (1 + extreme) / (1 + n_perm)

    def resample(events: np.ndarray, trials: np.ndarray) -> np.ndarray:
        rows, weights = np.unique(np.column_stack([events, trials]), axis=0, return_counts=True)
        draws = rng.multinomial(len(trials), weights / len(trials), size=n_boot)
        rates: np.ndarray = (draws @ rows[:, 0]) / (draws @ rows[:, 1])
        return rates

    low, high = np.quantile(resample(events_a, trials_a) - resample(events_b, trials_b), [0.025, 0.975])
    variance_a, variance_b = _ratio_variance(events_a, trials_a), _ratio_variance(events_b, trials_b)
    mde = episodes_needed = None
    if math.isfinite(variance_a + variance_b):
        mde = Z_PLAN * math.sqrt(variance_a + variance_b)
        per_episode = variance_a * len(trials_a) + variance_b * len(trials_b)
        if diff != 0.0 and per_episode > 0.0:
            episodes_needed = max(2, math.ceil(Z_PLAN**2 * per_episode / diff**2 - 1e-9))
    return RateChange(
        trials_a=int(trials_a.sum()),
        trials_b=int(trials_b.sum()),
        rate_a=float(rate_a),
        rate_b=float(rate_b),
        diff=diff,
        ci_low=float(low),
        ci_high=float(high),
        p_value=float(p_value),
        mde=mde,
        episodes_needed=episodes_needed,
    )

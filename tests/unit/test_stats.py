"""The statistics module against scipy (a test-only dependency) and against exact enumeration."""

from __future__ import annotations

import itertools
import math

import pytest

from pytest_orchphase.metrics import stats

scipy_stats = pytest.importorskip("scipy.stats")

GRID_N = [1, 2, 3, 5, 8, 9, 13, 14, 15, 20, 37, 50, 100]


@pytest.mark.parametrize("confidence", [80.0, 90.0, 95.0, 99.0])
def test_wilson_bounds_equal_scipys_on_a_grid_including_0_and_n(confidence: float) -> None:
    for n in GRID_N:
        for k in range(n + 1):
            ours = stats.wilson(k, n, confidence)
            ci = scipy_stats.binomtest(k, n).proportion_ci(confidence / 100, "wilson")
            assert ours[0] == pytest.approx(float(ci.low), abs=1e-9), (k, n)
            assert ours[1] == pytest.approx(float(ci.high), abs=1e-9), (k, n)


def test_z_value_is_the_normal_quantile() -> None:
    assert stats.z_value(95) == pytest.approx(1.959963984540054, abs=1e-12)
    assert stats.z_value(90) == pytest.approx(float(scipy_stats.norm.ppf(0.95)), abs=1e-12)


# The grid the README states: n = 1..100, p = 0.01..0.99 in steps of 0.01.
COVERAGE_N = range(1, 101)
COVERAGE_P = [i / 100 for i in range(1, 100)]


def test_wilson_mean_coverage_at_95_is_at_least_094_computed_exactly() -> None:
    """Exact coverage: Σ_k C(n,k) p^k (1−p)^(n−k) over the k whose interval holds p."""
    coverages = [stats.wilson_coverage(n, p) for n in COVERAGE_N for p in COVERAGE_P]
    mean = sum(coverages) / len(coverages)
    assert mean >= 0.94
    assert round(mean, 4) == 0.9522  # the figure the README gives


def test_wilson_coverage_matches_scipys_binomial_sums() -> None:
    for n, p in [(1, 0.5), (9, 0.7), (30, 0.05), (100, 0.93)]:
        k = [i for i in range(n + 1) if stats.wilson(i, n)[0] <= p <= stats.wilson(i, n)[1]]
        expected = float(sum(scipy_stats.binom.pmf(k, n, p)))
        assert stats.wilson_coverage(n, p) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(
    ("low", "high", "operator", "limit", "answer"),
    [
        (0.701, 1.0, "min", 0.7, "YES"),
        (0.70, 1.0, "min", 0.7, "YES"),  # the lower bound reaching the limit is enough
        (0.69, 1.0, "min", 0.7, "INCONCLUSIVE"),
        (0.1, 0.69, "min", 0.7, "NO"),
        (0.1, 0.70, "above", 0.7, "NO"),
        (0.1, 0.70, "max", 0.7, "YES"),
        (0.1, 0.71, "max", 0.7, "INCONCLUSIVE"),
        (0.71, 0.9, "max", 0.7, "NO"),
        (0.1, 0.69, "below", 0.7, "YES"),
    ],
)
def test_three_way_answers(
    low: float, high: float, operator: str, limit: float, answer: str
) -> None:
    assert stats.three_way(low, high, operator, limit) == answer


def test_three_way_refuses_equals() -> None:
    with pytest.raises(ValueError, match="rule: point"):
        stats.three_way(0.1, 0.9, "equals", 0.5)


@pytest.mark.parametrize(
    ("successes", "n", "more"), [(8, 8, 1), (9, 9, 0), (13, 14, 1), (14, 15, 0), (0, 0, 9)]
)
def test_further_successes_needed_at_70(successes: int, n: int, more: int) -> None:
    assert stats.further_needed(successes, n, "min", 0.7) == more


def test_no_number_of_successes_reaches_100_percent_on_the_interval() -> None:
    assert stats.further_needed(5, 5, "min", 1.0) is None


@pytest.mark.parametrize(
    ("rate", "failures", "n"), [(0.7, 0, 9), (0.7, 1, 15), (0.7, 2, 21), (0.9, 0, 35)]
)
def test_sample_needed(rate: float, failures: int, n: int) -> None:
    assert stats.sample_needed(rate, failures) == n
    assert stats.wilson(n - failures, n)[0] >= rate > stats.wilson(n - 1 - failures, n - 1)[0]


def test_sign_test_equals_scipys_binomtest_including_all_and_none() -> None:
    for n in range(1, 16):
        for pos in range(n + 1):
            deltas = [1.0] * pos + [-2.0] * (n - pos) + [0.0]  # a zero is dropped
            ours = stats.sign_test(deltas)
            assert ours.zeros == 1
            two = scipy_stats.binomtest(pos, n, 0.5).pvalue
            one = scipy_stats.binomtest(pos, n, 0.5, alternative="greater").pvalue
            assert ours.p_two_sided == pytest.approx(float(two), abs=1e-9), (pos, n)
            assert ours.p_positive == pytest.approx(float(one), abs=1e-9), (pos, n)


def test_sign_test_without_differences() -> None:
    assert stats.sign_test([0.0, 0.0]).p_two_sided == 1.0


DELTAS = (1200.0, -300.0, 4100.0, 2500.0, 800.0, -900.0, 3300.0, 1500.0, 600.0, 2200.0)


def test_paired_bootstrap_is_reproducible_for_a_seed_and_moves_with_it() -> None:
    assert stats.paired_bootstrap(DELTAS) == stats.paired_bootstrap(DELTAS)
    assert stats.paired_bootstrap(DELTAS, seed=1) != stats.paired_bootstrap(DELTAS, seed=2)


def test_paired_bootstrap_agrees_with_scipy_within_monte_carlo_tolerance() -> None:
    """Both are percentile intervals from 10,000 resamples: they differ only by Monte Carlo
    noise. The tolerance is 5 % of the data's standard deviation (the bounds' Monte Carlo
    standard error here is about 1 %)."""
    ours = stats.paired_bootstrap(DELTAS, 95.0, resamples=10_000)
    ref = scipy_stats.bootstrap(
        (list(DELTAS),),
        lambda x, axis: x.mean(axis=axis),
        n_resamples=10_000,
        method="percentile",
        confidence_level=0.95,
        rng=12345,
    ).confidence_interval
    sd = float(scipy_stats.tstd(DELTAS))
    assert ours[0] == pytest.approx(float(ref.low), abs=0.05 * sd)
    assert ours[1] == pytest.approx(float(ref.high), abs=0.05 * sd)


def _enumerate(outcomes: list[bool], k: int, every: bool) -> float:
    draws = list(itertools.combinations(outcomes, k))
    hits = [all(d) if every else any(d) for d in draws]
    return sum(hits) / len(draws)


@pytest.mark.parametrize(("n", "c"), [(1, 0), (1, 1), (3, 1), (4, 2), (5, 5), (6, 0), (7, 3)])
def test_pass_at_k_and_pass_hat_k_equal_exact_enumeration(n: int, c: int) -> None:
    outcomes = [True] * c + [False] * (n - c)
    for k in range(1, n + 1):
        assert stats.pass_at_k(n, c, k) == pytest.approx(_enumerate(outcomes, k, False))
        assert stats.pass_hat_k(n, c, k) == pytest.approx(_enumerate(outcomes, k, True))


def test_pass_at_k_refuses_k_above_n() -> None:
    with pytest.raises(ValueError, match="1 ≤ k ≤ n"):
        stats.pass_at_k(2, 1, 3)


def test_wilson_refuses_impossible_counts() -> None:
    with pytest.raises(ValueError):
        stats.wilson(3, 2)
    assert stats.wilson(0, 0) == (0.0, 1.0)
    assert math.isclose(stats.wilson(0, 5)[0], 0.0) and stats.wilson(5, 5)[1] == 1.0

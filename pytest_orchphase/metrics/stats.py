"""The statistics behind the decisions: the Wilson interval, three-way answers on it, the sample a
decision needs, the exact sign test, a seeded paired bootstrap, pass@k and pass^k.

Standard library only (``math``, ``statistics.NormalDist``, ``random``): no scipy at run time.
Proportions are fractions in [0, 1] here; callers turn them into percentages for display.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from statistics import NormalDist
from typing import Literal

Answer = Literal["YES", "NO", "INCONCLUSIVE"]
Rule = Literal["interval", "point"]
#: the confidence level of every interval unless a criterion or decision names another
DEFAULT_CONFIDENCE = 95.0
#: resamples of the paired bootstrap, and its seed: the same data gives the same interval
BOOTSTRAP_RESAMPLES = 10_000
BOOTSTRAP_SEED = 20260209


def z_value(confidence: float) -> float:
    """The two-sided normal quantile of a confidence level in percent: 95 → 1.959964…"""
    if not 0 < confidence < 100:
        raise ValueError(f"a confidence level is between 0 and 100 %, not {confidence}")
    return NormalDist().inv_cdf(1 - (1 - confidence / 100) / 2)


def wilson(successes: int, n: int, confidence: float = DEFAULT_CONFIDENCE) -> tuple[float, float]:
    """The Wilson score interval of a proportion (fractions; (0, 1) when n is 0):
    (p + z²/2n ± z·√(p(1−p)/n + z²/4n²)) / (1 + z²/n)."""
    if n == 0:
        return 0.0, 1.0
    if not 0 <= successes <= n:
        raise ValueError(f"{successes} successes of {n} trials")
    z = z_value(confidence)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    # at 0 and n successes the bounds are exactly 0 and 1 (rounding would leave 1e-17 off)
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return low, high


#: operators that pass on a high value (the interval's lower bound must clear the limit) and on
#: a low value (its upper bound must)
HIGH_PASSES = ("min", "above")
LOW_PASSES = ("max", "below")


#: how far apart, relative to the larger magnitude, two figures may be and still be one figure:
#: float arithmetic leaves 58 % computed as 57.99999999999999 and $0.1 + $0.2 as
#: 0.30000000000000004 (a relative error near 1e-16 per operation); a real difference in a figure
#: people compare (a token in a trillion, a cent, a second) is larger
SAME_FIGURE = 1e-12

#: the absolute floor under :data:`SAME_FIGURE` for figures that are not whole numbers: at a
#: limit of 0 a relative tolerance is none, yet $0.1 + $0.2 − $0.3 is 5.6e-17, not above 0; a
#: billionth of a dollar, a percent or a minute is no real difference, a millionth is one
SAME_FIGURE_FLOOR = 1e-9


def same_figure(value: float, limit: float) -> bool:
    """Whether ``value`` and ``limit`` differ by float error only (:data:`SAME_FIGURE` of the
    larger magnitude, and at least :data:`SAME_FIGURE_FLOOR`, so that a figure near a limit of 0
    has a tolerance too). Two whole numbers (token counts, counts) are one figure only when
    equal: a token over a cap of a billion is over it, and 1 is above 0."""
    if float(value).is_integer() and float(limit).is_integer():
        return value == limit
    return abs(value - limit) <= max(SAME_FIGURE * max(abs(value), abs(limit)), SAME_FIGURE_FLOOR)


def holds(value: float, operator: str, limit: float) -> bool:
    """``value operator limit`` on the figures as they are (never rounded first), a figure at
    its limit but for float error counting as at it: it meets ``max``/``min``/``equals`` and
    fails ``below``/``above``."""
    at = same_figure(value, limit)
    return {
        "max": value <= limit or at,
        "below": value < limit and not at,
        "min": value >= limit or at,
        "above": value > limit and not at,
        "equals": at,
    }[operator]


def percent(part: float, whole: float) -> float:
    """``part / whole × 100`` computed exactly and rounded once, to the float nearest the true
    figure: 3 / 5 gives 60.0, where ``3 / 5 * 100`` gives 60.00000000000001. Never rounded to
    fewer digits: a figure is compared with its limit as it is, and rounded only where shown."""
    return float(Fraction(part) * 100 / Fraction(whole))


def three_way(low: float, high: float, operator: str, limit: float) -> Answer:
    """YES when the whole interval satisfies ``operator limit``, NO when none of it does,
    INCONCLUSIVE when it straddles the limit."""
    if operator not in HIGH_PASSES + LOW_PASSES:
        raise ValueError(f"operator {operator!r} has no interval rule (use rule: point)")
    worst, best = (low, high) if operator in HIGH_PASSES else (high, low)
    if holds(worst, operator, limit):
        return "YES"
    if not holds(best, operator, limit):
        return "NO"
    return "INCONCLUSIVE"


def further_needed(
    successes: int,
    n: int,
    operator: str,
    limit: float,
    confidence: float = DEFAULT_CONFIDENCE,
    cap: int = 100_000,
) -> int | None:
    """How many further consecutive trials of the passing kind (successes for ``min``/``above``,
    failures for ``max``/``below``) make the interval answer YES; None when none ever can
    (a limit of 100 % for ``min``: the Wilson lower bound never reaches 1)."""
    high = operator in HIGH_PASSES
    if (high and limit >= 1) or (not high and limit <= 0):
        return None  # the interval's far bound is 1 (or 0) only at n = ∞
    for more in range(cap + 1):
        s = successes + more if high else successes
        low, up = wilson(s, n + more, confidence)
        if three_way(low, up, operator, limit) == "YES":
            return more
    return None


def sample_needed(
    rate: float, failures: int, confidence: float = DEFAULT_CONFIDENCE, cap: int = 100_000
) -> int | None:
    """The smallest n whose Wilson lower bound with ``failures`` failures reaches ``rate``
    (a fraction); None when no n up to ``cap`` does."""
    if rate >= 1:
        return None
    for n in range(failures + 1, cap + 1):
        if wilson(n - failures, n, confidence)[0] >= rate:
            return n
    return None


def wilson_coverage(n: int, p: float, confidence: float = DEFAULT_CONFIDENCE) -> float:
    """The exact probability that the Wilson interval of Binomial(n, p) covers p (binomial sums)."""
    total = 0.0
    for k in range(n + 1):
        low, high = wilson(k, n, confidence)
        if low <= p <= high:
            total += math.comb(n, k) * p**k * (1 - p) ** (n - k)
    return total


# ------------------------------------------------------------------------- paired comparison


@dataclass(frozen=True)
class SignTest:
    """The exact sign test of paired deltas (zeros dropped), two-sided and one-sided."""

    positive: int
    negative: int
    zeros: int
    p_two_sided: float
    #: P(at least ``positive`` positives | no difference): small when the deltas lean positive
    p_positive: float


def _binom_tail(k: int, n: int) -> float:
    """P(X ≥ k) for X ~ Binomial(n, 1/2), exactly."""
    tail: int = sum(math.comb(n, i) for i in range(k, n + 1))
    return tail / (1 << n)


def sign_test(deltas: Sequence[float]) -> SignTest:
    pos = sum(1 for d in deltas if d > 0)
    neg = sum(1 for d in deltas if d < 0)
    n = pos + neg
    if n == 0:
        return SignTest(0, 0, len(deltas), 1.0, 1.0)
    # two-sided: twice the smaller tail, at most 1 (equal to scipy's binomtest for p = 1/2)
    p_two = min(1.0, 2 * _binom_tail(max(pos, neg), n))
    return SignTest(pos, neg, len(deltas) - n, p_two, _binom_tail(pos, n))


def paired_bootstrap(
    deltas: Sequence[float],
    confidence: float = DEFAULT_CONFIDENCE,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
) -> tuple[float, float]:
    """The percentile bootstrap interval of the mean of paired deltas: ``resamples`` resamples
    of the tickets with replacement, drawn from ``random.Random(seed)`` (reproducible)."""
    if not deltas:
        raise ValueError("a bootstrap needs at least one delta")
    values = list(deltas)
    n = len(values)
    rng = random.Random(seed)
    means = sorted(sum(rng.choices(values, k=n)) / n for _ in range(resamples))
    alpha = (1 - confidence / 100) / 2
    return _quantile(means, alpha), _quantile(means, 1 - alpha)


def _quantile(ordered: list[float], q: float) -> float:
    """Linear interpolation between order statistics (numpy's default)."""
    pos = q * (len(ordered) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


# ------------------------------------------------------------------------- repeated trials


def pass_at_k(n: int, c: int, k: int) -> float:
    """The chance that at least one of k attempts drawn without replacement from n recorded
    attempts (c successes) succeeds: 1 − C(n−c, k) / C(n, k)."""
    _check_k(n, c, k)
    return 1 - math.comb(n - c, k) / math.comb(n, k)


def pass_hat_k(n: int, c: int, k: int) -> float:
    """pass^k: the chance that all k attempts drawn from n recorded ones succeed:
    C(c, k) / C(n, k)."""
    _check_k(n, c, k)
    return math.comb(c, k) / math.comb(n, k)


def _check_k(n: int, c: int, k: int) -> None:
    if not 0 <= c <= n or not 1 <= k <= n:
        raise ValueError(f"pass@k needs 0 ≤ c ≤ n and 1 ≤ k ≤ n; got n={n}, c={c}, k={k}")


# ------------------------------------------------------------------------- samples of a metric


@dataclass(frozen=True)
class Proportion:
    """A rate's evidence: ``successes`` of ``n`` trials; its interval is Wilson's, in percent."""

    successes: int
    n: int
    method: str = "Wilson"

    def interval(self, confidence: float) -> tuple[float, float]:
        low, high = wilson(self.successes, self.n, confidence)
        return low * 100, high * 100

    def describe(self) -> str:
        return f"{self.successes} of {self.n}"


@dataclass(frozen=True)
class Paired:
    """Per-ticket deltas against another phase; the interval of their mean is a seeded paired
    bootstrap, in the metric's unit."""

    deltas: tuple[float, ...]
    method: str = "paired bootstrap"

    def interval(self, confidence: float) -> tuple[float, float]:
        return paired_bootstrap(self.deltas, confidence)

    def _against(self, operator: str, limit: float) -> list[float]:
        """Each delta's distance from ``limit`` on the side ``operator`` passes (positive:
        agrees), 0 for a delta at the limit but for float error (a tie, neither side)."""
        high = operator in HIGH_PASSES
        return [
            0.0 if same_figure(d, limit) else (d - limit if high else limit - d)
            for d in self.deltas
        ]

    def describe(self) -> str:
        sign = sign_test(self._against("above", 0.0))
        return (
            f"{len(self.deltas)} shared tickets, {sign.positive} cheaper, {sign.negative} dearer; "
            f"two-sided sign test p = {sign.p_two_sided:.3g}"
        )

    def sign_agrees(self, operator: str, limit: float, confidence: float) -> tuple[bool, float]:
        """Whether the exact sign test, one-sided in the direction the limit asks, is significant
        at the level of the interval's bound ((100 − confidence) / 2 %), and its p-value. A few
        tickets give a tight bootstrap interval they cannot support (3 of 3 cheaper: p = 0.125);
        the sign test keeps a YES from resting on them."""
        p = sign_test(self._against(operator, limit)).p_positive
        return p <= (1 - confidence / 100) / 2, p

    def further_agreeing(self, operator: str, limit: float, confidence: float) -> int:
        """Further tickets on the limit's side that would make the sign test significant."""
        sign = sign_test(self._against(operator, limit))
        more = 0
        while (
            _binom_tail(sign.positive + more, sign.positive + sign.negative + more)
            > (1 - confidence / 100) / 2
        ):
            more += 1
        return more


Sample = Proportion | Paired

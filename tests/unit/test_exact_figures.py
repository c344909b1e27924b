"""A figure is compared with its limit as it is (float error aside) and shown with the digits that
tell it from its limit: the core rules behind tests/plugin/test_exact_figures.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_orchphase.decide.adoption import adoption
from pytest_orchphase.evaluate.condition import evaluate
from pytest_orchphase.evaluate.formatting import fmt_beside
from pytest_orchphase.evaluate.runner import PhaseRunner
from pytest_orchphase.evaluate.verdict import Verdict
from pytest_orchphase.load.models import AdoptModel, Condition
from pytest_orchphase.metrics.registry import (
    REGISTRY,
    Bound,
    Measurement,
    Metric,
    MetricContext,
    Params,
)
from pytest_orchphase.metrics.stats import Paired, holds, percent, three_way
from tests.helpers import REPO, rate_phase


@pytest.mark.parametrize(
    ("value", "operator", "limit", "expected"),
    [
        # past the limit by a real (if small) amount: never a pass
        (59.9959, "min", 60.0, False),
        (60.0041, "max", 60.0, False),
        (30.0033, "max", 30.0, False),
        (25.0025, "max", 25.0, False),
        (100 * 2 / 3, "min", 66.67, False),
        (29.999999, "min", 30.0, False),
        # at the limit but for float error: at it
        (0.58 * 100, "min", 58.0, True),  # 57.99999999999999
        (0.58 * 100, "max", 58.0, True),
        (0.58 * 100, "equals", 58.0, True),
        (0.58 * 100, "above", 58.0, False),
        (0.58 * 100, "below", 58.0, False),
        (0.1 + 0.2, "max", 0.3, True),  # 0.30000000000000004
        (0.1 + 0.2, "min", 0.3, True),
        (0.1 + 0.2, "below", 0.3, False),
        (0.1 + 0.2, "above", 0.3, False),
        # whole numbers (token counts) are compared exactly, however large
        (1_000_000_001, "max", 1_000_000_000, False),
        (2**53 - 1, "min", 2**53 - 2, True),
        (2**53 - 2, "min", 2**53 - 1, False),
        (1e9 + 1 / 3, "max", 1e9, False),
        # clear of the limit
        (61.0, "above", 60.0, True),
        (59.0, "below", 60.0, True),
        (0.0, "equals", 0.0, True),
        (1e-6, "above", 0.0, True),
        # at a limit of 0, float noise (not a relative difference: an absolute one) is at it
        (1e-12, "above", 0.0, False),
        (0.1 + 0.2 - 0.3, "max", 0.0, True),
    ],
)
def test_holds_compares_the_figure_as_it_is_float_error_aside(
    value: float, operator: str, limit: float, expected: bool
) -> None:
    assert holds(value, operator, limit) is expected


def test_an_interval_bound_at_its_limit_but_for_float_error_decides_as_at_it() -> None:
    assert three_way(0.58 * 100, 90.0, "min", 58.0) == "YES"
    assert three_way(10.0, 0.58 * 100, "max", 58.0) == "YES"
    assert three_way(57.99, 90.0, "min", 58.0) == "INCONCLUSIVE"


@pytest.mark.parametrize(
    ("part", "whole", "expected"),
    [(58, 100, 58.0), (3, 5, 60.0), (10000, 40000, 25.0), (10001, 40000, 25.0025), (2, 3, 200 / 3)],
)
def test_percent_is_the_nearest_float_to_the_true_share(
    part: float, whole: float, expected: float
) -> None:
    assert percent(part, whole) == expected


@pytest.mark.parametrize(
    ("value", "limit", "unit", "shown"),
    [
        (59.99586776859504, 60.0, "percent", "59.996%"),
        (60.0, 59.99586776859504, "percent", "60.000%"),
        (30.003333333333334, 30.0, "minutes", "30.003 min"),
        (25.0025, 25.0, "percent", "25.003%"),
        (0.30001, 0.3, "usd", "$0.30001"),
        (40000.4, 40000, "tokens", "40,000.4"),
        (40000.04, 40000, "tokens", "40,000.04"),
        # the usual digits where they already tell the two apart, or the two are one figure
        (59.2, 60.0, "percent", "59.2%"),
        (0.58 * 100, 58.0, "percent", "58.0%"),
        (59.9959, None, "percent", "60.0%"),
        (True, True, "bool", "true"),
        ("same", "same", "quality", "same"),
    ],
)
def test_a_figure_is_shown_with_the_digits_that_tell_it_from_its_limit(
    value: object, limit: object, unit: str, shown: str
) -> None:
    assert fmt_beside(value, limit, unit) == shown  # type: ignore[arg-type]


@pytest.mark.parametrize(("successes", "answer", "needed"), [(29, "YES", 0), (28, "NO", 3)])
def test_the_point_rule_of_an_adoption_takes_a_rate_at_its_threshold_as_at_it(
    tmp_path: Path, successes: int, answer: str, needed: int
) -> None:
    """29 of 50 is 58 % exactly, which ``29 / 50 * 100`` gives as 57.99999999999999: under
    `rule: point` and `min_success_rate: 58%` it is YES; 28 of 50 is NO, and needs 3 more
    consecutive successes (31 of 53 is 58.5 %; 30 of 52, 57.7 %)."""
    rate_phase(successes, 50).write(tmp_path)
    root = PhaseRunner(tmp_path / "criteria", tmp_path / "docs" / "orchestration-data")
    decided = adoption(root, "p1", AdoptModel(rule="point", min_success_rate=58))
    assert decided is not None and decided.answer == answer
    assert decided.further_needed == needed


def _paired_probe(bound: Bound) -> Verdict:
    """`above: 0` on a mean saving of 1,000 over 12 tickets all cheaper (interval and sign test
    both clear of 0), the figure being ``bound``."""

    def measure(ctx: MetricContext, ticket: str | None, params: Params) -> Measurement:
        deltas = tuple(1000.0 + i for i in range(12))
        return Measurement(1005.5, "tokens", "probe", bound=bound, sample=Paired(deltas))

    registry = REGISTRY.copy()
    registry.add(Metric("probe", "phase", "tokens", "a fixed saving", measure, interval=True))
    runner = PhaseRunner(REPO / "criteria", REPO / "docs" / "orchestration-data")
    condition = Condition.model_validate({"metric": "probe", "above": 0})
    return evaluate(condition, runner.context("a1"), None, runner.context, registry)


def test_an_interval_of_a_figure_that_is_only_an_upper_bound_cannot_prove_above() -> None:
    """The interval rule decided alone and dropped the figure's bound: the bootstrap interval
    of an upper bound clear of 0 proved `above: 0`."""
    assert _paired_probe("exact").passed
    upper = _paired_probe("upper")
    assert not upper.passed
    assert "an upper bound cannot prove above" in upper.condition_text()
    assert _paired_probe("lower").passed


def test_an_estimate_bounded_neither_way_is_not_called_a_bound() -> None:
    """A figure that is only an estimate ("about") cannot prove a limit either way; it was
    said to be "a one-sided bound", which it is not."""
    about = _paired_probe("unknown")
    assert not about.passed
    assert "an estimate, bounded neither way, cannot prove above" in about.condition_text()


@pytest.mark.parametrize(
    ("successes", "n", "threshold", "shown"),
    [
        (16, 23, 70, "(69.6%, 95% Wilson CI 49.1–84.4%) against 70.0%"),
        (2, 3, "66.67%", "(66.667%, 95% Wilson CI 20.8–93.9%) against 66.670%"),
        (7, 10, 70, "(70%, 95% Wilson CI 39.7–89.2%) against 70%"),
    ],
)
def test_the_adoption_line_never_shows_a_failed_rate_as_its_threshold(
    tmp_path: Path, successes: int, n: int, threshold: object, shown: str
) -> None:
    """16 of 23 is 69.57 %: "(70%) against 70%" read as met for a NO; 2 of 3 against 66.67 %
    read "(67%) against 67%". A rate at its threshold still reads as whole percent."""
    rate_phase(successes, n).write(tmp_path)
    root = PhaseRunner(tmp_path / "criteria", tmp_path / "docs" / "orchestration-data")
    rule = AdoptModel.model_validate({"rule": "point", "min_success_rate": threshold})
    decided = adoption(root, "p1", rule)
    assert decided is not None
    assert decided.answer == ("YES" if successes * 10 == n * 7 else "NO")
    assert shown in decided.line

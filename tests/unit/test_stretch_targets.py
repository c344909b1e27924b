"""A stretch target is at least as strict as its limit, in the operator's direction: a looser one
(the plan's two targets typed the other way round) would read "stretch met" beside a figure that
barely meets the limit. Figures are checked at collection; a reference (a baseline, a phase's
metric) is known only with the data, and then the item fails naming both."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pytest_orchphase.evaluate.condition import evaluate
from pytest_orchphase.evaluate.runner import PhaseRunner
from pytest_orchphase.evaluate.terms import stretch_looser
from pytest_orchphase.load.models import Condition
from tests.helpers import REPO

JIRA = REPO / "docs" / "examples" / "jira"


@pytest.mark.parametrize(
    ("operator", "stretch", "limit", "looser"),
    [
        ("max", 50_000, 45_000, True),
        ("below", 50_000, 45_000, True),
        ("max", 30_000, 45_000, False),
        ("below", 45_000, 45_000, False),  # as strict as the limit: allowed
        ("min", 5.0, 10.0, True),
        ("above", 5.0, 10.0, True),
        ("min", 15.0, 10.0, False),
        ("above", 10.0, 10.0, False),
        ("min", 58.00000000000001, 58.0, False),  # at the limit but for float error
        ("max", 57.99999999999999, 58.0, False),
    ],
)
def test_a_stretch_is_looser_only_past_its_limit_the_wrong_way(
    operator: str, stretch: float, limit: float, looser: bool
) -> None:
    assert stretch_looser(operator, stretch, limit, "tokens") is looser


def test_a_grade_stretch_is_compared_by_rank() -> None:
    assert stretch_looser("min", "worse", "same", "quality")
    assert not stretch_looser("min", "better", "same", "quality")


def _judge(phase: str, root: Path = JIRA, **kw: Any) -> Any:
    r = PhaseRunner(root / "criteria", root / "orchestration-data")
    return evaluate(Condition.model_validate(kw), r.context(phase), None, r.context)


def test_a_stretch_from_a_baseline_looser_than_its_limit_fails_the_item_naming_both() -> None:
    # pilot: 88,000 tokens for two tickets; the old process's cost of them is 160,000
    condition: dict[str, Any] = {"metric": "tokens", "measure": "total", "below": "100k"}
    looser = _judge("pilot", **condition, stretch={"baseline": "old_process", "per": "phase"})
    assert not looser.passed and looser.stretch_met is None
    assert looser.error is not None
    assert "stretch 160,000 (baseline old_process × 2 tickets) is looser than its limit" in (
        looser.error
    )
    assert "below 100,000" in looser.error
    stricter = _judge("pilot", **condition, stretch={"baseline": "old_process"})
    assert stricter.passed and stricter.stretch_met is False  # 88,000 is not below 80,000


def test_a_limit_from_a_baseline_with_a_looser_figure_stretch_fails_the_item() -> None:
    # a saving of at least the old process's cost of one ticket, stretch 50,000 below it
    condition: dict[str, Any] = {"metric": "delta", "baseline": "old_process", "measure": "total"}
    verdict = _judge("pilot", **condition, min={"baseline": "old_process"}, stretch="50k")
    assert not verdict.passed and verdict.error is not None
    assert "stretch 50,000 is looser than its limit (min 80,000" in verdict.error

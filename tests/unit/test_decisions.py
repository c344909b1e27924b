"""Decisions: model adoption (rate, Wilson interval, sample size, threshold) and break-even."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from support import REPO

from pytest_orchphase.decisions import adoption, break_even, wilson
from pytest_orchphase.models import AdoptModel
from pytest_orchphase.runner import PhaseRunner


@pytest.mark.parametrize(
    ("k", "n", "interval"),
    [(1, 1, (20.7, 100.0)), (0, 3, (0.0, 56.1)), (2, 3, (20.8, 93.9)), (7, 10, (39.7, 89.2))],
)
def test_wilson_interval(k: int, n: int, interval: tuple[float, float]) -> None:
    assert wilson(k, n) == interval


def runner() -> PhaseRunner:
    return PhaseRunner(REPO / "criteria", REPO / "docs" / "orchestration-data")


def test_sonnet_on_nuanced_tickets_is_adopted_from_enough_evidence() -> None:
    rule = AdoptModel(model="sonnet", complexity="nuanced", min_sample_size=3)
    decided = adoption(runner(), "a3", rule)  # a1 R06, a2 R06 R07, a3 R06 R07: 5 of 5
    assert decided is not None
    assert (decided.answer, decided.successes, decided.sample_size) == ("YES", 5, 5)
    assert decided.recommended == "sonnet"


def test_below_the_threshold_is_no_and_the_fallback_is_recommended(tmp_path: Path) -> None:
    shutil.copytree(REPO / "criteria", tmp_path / "criteria")
    shutil.copytree(REPO / "docs" / "orchestration-data", tmp_path / "data")
    log = tmp_path / "data" / "phase-a3-r03-r06-r07" / "execution-log.yaml"
    log.write_text(log.read_text().replace("    fix_loops: 1\n", "    fix_loops: 3\n"))
    rule = AdoptModel(
        model="sonnet",
        complexity="nuanced",
        min_success_rate=90,
        min_sample_size=3,
        fallback="opus",
    )
    decided = adoption(PhaseRunner(tmp_path / "criteria", tmp_path / "data"), "a3", rule)
    assert decided is not None
    assert (decided.answer, decided.successes, decided.sample_size) == ("NO", 4, 5)  # 80 % < 90 %
    assert decided.recommended == "opus"


def test_the_threshold_itself_is_enough() -> None:
    rule = AdoptModel(model="sonnet", complexity="nuanced", min_success_rate=100, min_sample_size=5)
    decided = adoption(runner(), "a3", rule)
    assert decided is not None and decided.answer == "YES"


def test_too_few_tickets_is_inconclusive_whatever_the_rate() -> None:
    decided = adoption(runner(), "a3", AdoptModel(min_sample_size=3))
    assert decided is not None
    assert (decided.answer, decided.rate, decided.sample_size) == ("INCONCLUSIVE", 100.0, 2)


def test_break_even_never_when_a_ticket_costs_more_than_a_single_agent() -> None:
    result = break_even(runner(), "a1")
    assert result.tickets is None and result.reason.startswith("never")


def test_break_even_in_tickets() -> None:
    result = break_even(runner(), "a3")
    # ⌊13,800 / (30,000 − 83,500 / 3)⌋ + 1
    assert result.tickets == 7


def test_break_even_in_usd_is_unknown_without_measured_cost() -> None:
    result = break_even(runner(), "a3", "usd")
    assert result.tickets is None and result.reason.startswith("unknown: cost in USD is unknown")

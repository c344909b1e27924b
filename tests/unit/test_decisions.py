"""Decisions: model adoption (rate, Wilson interval, sample size, threshold) and break-even."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_orchphase.decide.adoption import adoption
from pytest_orchphase.decide.breakeven import break_even
from pytest_orchphase.evaluate.runner import PhaseRunner
from pytest_orchphase.load.models import AdoptModel
from tests.helpers import REPO, rate_phase


def runner() -> PhaseRunner:
    return PhaseRunner(REPO / "criteria", REPO / "docs" / "orchestration-data")


def test_a_ticket_run_in_several_phases_is_one_cluster_counted_by_its_latest_run() -> None:
    rule = AdoptModel(model="sonnet", complexity="nuanced", min_sample_size=1)
    decided = adoption(runner(), "a3", rule)  # runs: a1 R06, a2 R06 R07, a3 R06 R07
    assert decided is not None
    assert (decided.successes, decided.sample_size) == (2, 2)  # tickets R06, R07
    assert (decided.run_successes, decided.runs) == (5, 5)
    assert decided.tickets == ["a3:R06", "a3:R07"]
    # 2 of 2: the 95 % Wilson interval runs down to 34 %, so 70 % is not yet shown
    assert decided.answer == "INCONCLUSIVE" and round(decided.interval[0], 1) == 34.2
    assert decided.further_needed == 7 and decided.needed_text.endswith("(9 of 9)")
    assert decided.recommended == "sonnet"  # the fallback, which is sonnet here


def test_the_latest_run_decides_a_tickets_outcome(tmp_path: Path) -> None:
    p1 = rate_phase(9, 9)
    p1.ticket("T01")["fix_loops"] = 3
    p1.write(tmp_path)
    rate_phase(9, 9, phase="p2", requires=["p1"]).write(tmp_path)
    root = PhaseRunner(tmp_path / "criteria", tmp_path / "docs" / "orchestration-data")
    decided = adoption(root, "p2")  # p1's failed T01 was rerun in p2 and succeeded
    assert decided is not None
    assert (decided.answer, decided.successes, decided.sample_size) == ("YES", 9, 9)
    assert (decided.run_successes, decided.runs) == (17, 18)
    assert "per run 17 of 18" in decided.line


def test_below_the_threshold_is_no_and_the_fallback_is_recommended(tmp_path: Path) -> None:
    rate_phase(1, 6).write(tmp_path)
    rule = AdoptModel(min_success_rate=70, fallback="opus")
    root = PhaseRunner(tmp_path / "criteria", tmp_path / "docs" / "orchestration-data")
    decided = adoption(root, "p1", rule)
    assert decided is not None
    assert (decided.answer, decided.successes, decided.sample_size) == ("NO", 1, 6)
    assert decided.interval[1] < 70  # the whole interval is below
    assert decided.recommended == "opus"


@pytest.mark.parametrize(
    ("successes", "n", "answer"),
    [(8, 8, "INCONCLUSIVE"), (9, 9, "YES"), (13, 14, "INCONCLUSIVE"), (14, 15, "YES")],
)
def test_the_interval_decides_at_the_documented_boundaries(
    tmp_path: Path, successes: int, n: int, answer: str
) -> None:
    rate_phase(successes, n).write(tmp_path)
    root = PhaseRunner(tmp_path / "criteria", tmp_path / "docs" / "orchestration-data")
    decided = adoption(root, "p1")
    assert decided is not None and decided.answer == answer


def test_the_point_rule_says_yes_on_the_rate_and_the_threshold_itself_is_enough(
    tmp_path: Path,
) -> None:
    rate_phase(7, 10).write(tmp_path)
    root = PhaseRunner(tmp_path / "criteria", tmp_path / "docs" / "orchestration-data")
    assert adoption(root, "p1", AdoptModel(rule="point")).answer == "YES"  # type: ignore[union-attr]
    assert adoption(root, "p1", AdoptModel()).answer == "INCONCLUSIVE"  # type: ignore[union-attr]
    point = adoption(root, "p1", AdoptModel(rule="point", min_success_rate=71))
    assert point is not None and point.answer == "NO"


def test_too_few_tickets_is_inconclusive_whatever_the_rate(tmp_path: Path) -> None:
    rate_phase(0, 2).write(tmp_path)  # 0 of 2: the interval (0–66 %) is below 70 %, but 2 < 3
    root = PhaseRunner(tmp_path / "criteria", tmp_path / "docs" / "orchestration-data")
    decided = adoption(root, "p1", AdoptModel(min_sample_size=3))
    assert decided is not None
    assert (decided.answer, decided.rate, decided.sample_size) == ("INCONCLUSIVE", 0.0, 2)
    assert adoption(root, "p1", AdoptModel(min_sample_size=2)).answer == "NO"  # type: ignore[union-attr]


def test_the_shipped_example_says_inconclusive_with_r03_counted_once() -> None:
    decided = adoption(runner(), "a3")
    assert decided is not None
    assert (decided.answer, decided.successes, decided.sample_size) == ("INCONCLUSIVE", 1, 1)
    assert (decided.run_successes, decided.runs) == (2, 2)
    assert decided.further_needed == 8


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


def test_lineage_returns_the_phases_that_load_and_names_those_that_do_not(tmp_path: Path) -> None:
    """`lineage` gives its caller both lists as its value (no list filled in for it): p3
    requires p2 and p1; p1's log does not load, so it is named, once, and left out."""
    from pytest_orchphase.decide.adoption import lineage

    p1 = rate_phase(0, 3, phase="p1")
    p1.ticket("T01")["colour"] = "red"  # an unknown key: p1's log does not load
    p1.write(tmp_path)
    rate_phase(3, 3, phase="p2", requires=["p1"]).write(tmp_path)
    rate_phase(3, 3, phase="p3", requires=["p2", "p1"]).write(tmp_path)
    root = PhaseRunner(tmp_path / "criteria", tmp_path / "docs" / "orchestration-data")
    assert lineage(root, "p3") == (["p2", "p3"], ["p1"])
    phases, unloaded = lineage(root, "p2")  # a second call starts afresh
    assert (phases, unloaded) == (["p2"], ["p1"])
    assert lineage(root, "p1").unloaded == ["p1"] and lineage(root, "p1").phases == []

"""The adoption decision's figures in the JSON report as it decided on them, and interval bounds
shown with the digits that tell them from the limit (round-20 review)."""

from __future__ import annotations

import pytest

from tests.helpers import rate_phase, read_report


def test_the_adoption_json_carries_the_rate_it_decided_on(project: pytest.Pytester) -> None:
    """2 of 3 (66.666…%) against `min_success_rate: 66.67%` on the point rule is NO: the JSON
    gave `rate: 66.7` (and the interval) rounded, above the threshold it failed."""
    decisions = {"rule": "point", "min_success_rate": "66.67%"}
    rate_phase(2, 3, decisions=decisions).write(project.path)
    project.runpytest("--phase", "p1", "-p", "no:randomly", "--orchphase-json", "r.json")
    adoption = read_report(project.path)["decisions"]["adopt_model"]
    assert adoption["answer"] == "NO"
    assert adoption["rate"] < adoption["threshold"], adoption
    assert adoption["rate"] == pytest.approx(200 / 3, abs=1e-12)
    low, high = adoption["interval"]
    assert low != round(low, 1) and high != round(high, 1), adoption["interval"]


def test_the_adoption_json_rate_at_its_threshold_reads_as_met(project: pytest.Pytester) -> None:
    """The other direction: 2 of 3 against 66.666% is YES on the point rule, and the JSON's
    rate is at or above the threshold beside it."""
    decisions = {"rule": "point", "min_success_rate": "66.666%"}
    rate_phase(2, 3, decisions=decisions).write(project.path)
    project.runpytest("--phase", "p1", "-p", "no:randomly", "--orchphase-json", "r.json")
    adoption = read_report(project.path)["decisions"]["adopt_model"]
    assert adoption["answer"] == "YES"
    assert adoption["rate"] >= adoption["threshold"], adoption


def test_a_wilson_bound_short_of_its_threshold_is_not_shown_at_it(project: pytest.Pytester) -> None:
    """55 of 68 has a Wilson lower bound of 69.989 %, short of 70 %: the criterion and the
    adoption are INCONCLUSIVE, and no line shows the bound as 70.0 % (it reads 69.99 %)."""
    rate_phase(55, 68).write(project.path)
    result = project.runpytest("--phase", "p1", "-p", "no:randomly", "--orchphase-json", "r.json")
    report = read_report(project.path)
    assert report["decisions"]["adopt_model"]["answer"] == "INCONCLUSIVE"
    assert not report["criteria"][0]["passed"]
    shown = [line for line in result.outlines if "70.0%–" in line or "CI 70.0–" in line]
    assert not shown, shown
    assert any("CI 69.99–" in line for line in result.outlines), result.outlines
    assert any("69.99%–" in line for line in result.outlines), result.outlines


def test_a_wilson_bound_clear_of_its_threshold_keeps_its_usual_digits(
    project: pytest.Pytester,
) -> None:
    """No over-correction: bounds that round apart from the threshold are shown to 0.1 as
    before (9 of 10: CI 59.6–98.2% against 70 %)."""
    rate_phase(9, 10).write(project.path)
    result = project.runpytest("--phase", "p1", "-p", "no:randomly")
    assert any("Wilson CI 59.6–98.2%" in line for line in result.outlines), result.outlines
    assert any("59.6%–98.2%" in line for line in result.outlines), result.outlines

"""Rates decided on their Wilson interval, through real pytest runs: the item and the adoption
decision flip exactly at the documented boundaries (70 %, 95 %: 8 of 8 and 13 of 14 are
INCONCLUSIVE, 9 of 9 and 14 of 15 are YES), INCONCLUSIVE fails its item with its own reason, and
`rule: point` keeps the plan's literal rule."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from tests.helpers import YamlData, rate_phase


@pytest.fixture
def bare(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.delenv("ORCHPHASE_PHASE", raising=False)
    return pytester


@pytest.mark.parametrize(
    ("successes", "n", "more", "then"),
    [(8, 8, 1, "9 of 9"), (13, 14, 1, "14 of 15"), (1, 1, 8, "9 of 9"), (5, 6, 9, "14 of 15")],
)
def test_below_the_boundary_is_an_inconclusive_failing_item(
    bare: pytest.Pytester, successes: int, n: int, more: int, then: str
) -> None:
    rate_phase(successes, n).write(bare.path)
    result = bare.runpytest("--phase", "p1", "--junitxml", "junit.xml")
    result.assert_outcomes(failed=1)
    assert result.ret == 1
    word = "success" if more == 1 else "successes"
    result.stdout.fnmatch_lines(
        [
            f"rate: success_rate[[]haiku[]] *({successes} of {n}; 95% Wilson interval *, "
            "rule interval): INCONCLUSIVE: the interval straddles min 70.0%; "
            f"{more} more consecutive {word} would pass it ({then}) — *",
            "rate *success_rate[[]haiku[]]*min*70.0%*INCONCLUSIVE",
            f"Adopt haiku for mechanical tickets: INCONCLUSIVE — {successes} of {n} tickets *"
            f"YES after {more} more consecutive {word} ({then})",
            "Proceed to phase p2: NO — failing: rate",
        ]
    )
    props = {
        p.get("name"): p.get("value")
        for p in ET.parse(bare.path / "junit.xml").getroot().iter("property")
    }
    assert props["result"] == "inconclusive"


@pytest.mark.parametrize(("successes", "n"), [(9, 9), (14, 15)])
def test_at_the_boundary_the_item_passes_and_the_model_is_adopted(
    bare: pytest.Pytester, successes: int, n: int
) -> None:
    rate_phase(successes, n).write(bare.path)
    result = bare.runpytest("--phase", "p1")
    result.assert_outcomes(passed=1)
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        [
            "rate *success_rate[[]haiku[]]*rule interval)*min*70.0%*PASS",
            f"Adopt haiku for mechanical tickets: YES — {successes} of {n} tickets *",
            "Proceed to phase p2: YES",
        ]
    )


def test_an_interval_wholly_below_fails_and_the_answer_is_no(bare: pytest.Pytester) -> None:
    rate_phase(1, 6).write(bare.path)  # 17 %, interval 3.0–56.4 %: upper bound below 70 %
    result = bare.runpytest("--phase", "p1")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "rate: success_rate[[]haiku[]] 16.7% (1 of 6; *): upper bound 56.4% < min 70.0%; *",
            "rate *FAIL",
            "Adopt haiku for mechanical tickets: NO — 1 of 6 tickets *",
        ]
    )


def test_rule_point_keeps_the_plans_literal_rule_and_still_shows_the_interval(
    bare: pytest.Pytester,
) -> None:
    rate_phase(8, 8, criterion={"rule": "point"}, decisions={"rule": "point"}).write(bare.path)
    result = bare.runpytest("--phase", "p1", "--orchphase-json", "r.json")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "rate *100.0% (8 of 8; 95% CI 67.6%–100.0%, rule point)*min*70.0%*PASS",
            "Adopt haiku for mechanical tickets: YES — 8 of 8 tickets *on the point rule*",
        ]
    )
    report = json.loads((bare.path / "r.json").read_text())
    leaf = report["criteria"][0]["condition"]
    assert (leaf["rule"], leaf["confidence"], leaf["sample"]) == ("point", 95.0, "8 of 8")
    assert leaf["interval"][0] == pytest.approx(67.559, abs=1e-3)
    assert report["decisions"]["adopt_model"]["rule"] == "point"


def test_the_confidence_level_is_configurable(bare: pytest.Pytester) -> None:
    # at 90 % (z = 1.645) 6 of 6 already clears 70 %: lower bound 6 / (6 + z²) = 0.689 — no;
    # 7 of 7: 7 / (7 + 2.706) = 0.721 — yes
    rate_phase(7, 7, criterion={"confidence": "90%"}, decisions={"confidence": "90%"}).write(
        bare.path
    )
    result = bare.runpytest("--phase", "p1")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        ["*(7 of 7; 90% CI 72.1%–100.0%, rule interval)*PASS", "*: YES — 7 of 7 tickets*90%*"]
    )


def test_a_repeated_ticket_counts_once_in_the_adoption_decision(bare: pytest.Pytester) -> None:
    # p1: 9 of 9 on Haiku; p2 reruns the same nine tickets: 18 runs are still nine tickets,
    # and p2's run (the latest) of T01 failing makes it 8 of 9: INCONCLUSIVE, not 17 of 18
    rate_phase(9, 9).write(bare.path)
    p2 = rate_phase(9, 9, phase="p2", requires=["p1"])
    p2.ticket("T01")["fix_loops"] = 3
    p2.write(bare.path)
    result = bare.runpytest("--phase", "p2", "-k", "not gate")
    result.stdout.fnmatch_lines(
        [
            "Adopt haiku for mechanical tickets: INCONCLUSIVE — 8 of 9 tickets succeeded *; "
            "per run 17 of 18 (a ticket run in several phases counts once, by its latest run);*"
        ]
    )


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"rule": "interval", "equals": "70%"}, "never equals one value"),
        ({"rule": "sometimes"}, "rule"),
        ({"confidence": "100%"}, "confidence is a level from 50 % to under 100 %"),
    ],
)
def test_a_bad_rule_is_a_collection_error_at_its_line(
    bare: pytest.Pytester, extra: YamlData, message: str
) -> None:
    p1 = rate_phase(9, 9, criterion=extra)
    if "equals" in extra:
        del p1.criterion("rate")["min"]
    p1.write(bare.path)
    result = bare.runpytest("--phase", "p1")
    assert result.ret == 2
    result.stdout.fnmatch_lines([f"*criteria/p1.yaml:*{message}*"])
    assert "Traceback" not in result.stdout.str()


def test_rule_on_a_metric_without_an_interval_is_an_error(bare: pytest.Pytester) -> None:
    p1 = rate_phase(9, 9)
    p1.criteria["criteria"].append(
        {"id": "loops", "metric": "fix_loops", "max": 1, "rule": "point"}
    )
    p1.write(bare.path)
    result = bare.runpytest("--phase", "p1")
    assert result.ret == 2
    result.stdout.fnmatch_lines(
        ["*criteria/p1.yaml:*`rule:` applies to a figure with an interval*"]
    )

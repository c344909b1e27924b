"""A ticket that failed cost what failing cost, a lower bound of what doing it costs: a claim
about doing the tickets (the tickets each planned alone, a mean per ticket) beside one is only a
lower bound and proves no `max` or `below`, and a saving from it (a paired saving, as `savings`
and `delta`) is an upper bound on that side, proving no `min` or `above`. What the phase spent
(its tokens, a stage's sum) stays exact, failed work included: a rate that tolerates the failure
judges the outcome, a cap on the spend the spend."""

from __future__ import annotations

import pytest

from tests.helpers import (
    Phase,
    YamlData,
    decision,
    flat_ticket,
    read_report,
    run_phase,
    second_ticket_phase,
    write_yaml,
)

RATE: YamlData = {"id": "rate", "metric": "success_rate", "model": "sonnet", "min": "50%"}
COSTS: list[YamlData] = [
    {"id": "phase-cap", "metric": "tokens", "measure": "total", "max": "50k"},
    {"id": "stage-cap", "metric": "stage_tokens", "stage": "implementation", "max": "30k"}
    | {"measure": "total"},
    {"id": "alone-cap", "metric": "unbatched_tokens", "baseline": "separate_planning"}
    | {"measure": "total", "max": "60k"},
]
#: the saving from batching holds the tickets' own tokens on both sides: a failed ticket's
#: cheapness cancels out, and it still proves its minimum
BATCHING: YamlData = {
    "id": "batching",
    "metric": "batching_savings",
    "baseline": "separate_planning",
    "measure": "total",
    "min": "5k",
}


def _phase(pytester: pytest.Pytester, implementation: YamlData) -> dict[str, bool]:
    """p1: planning 12,000; T01 22,000 done; T02 its branch and review (2,000) and this
    implementation; a rate of 50 % on Sonnet judges T02's outcome."""
    second_ticket_phase(pytester.path, [*COSTS, BATCHING, RATE | {"rule": "point"}], implementation)
    planning = {"tokens_per_ticket": "10k", "compare": False}
    write_yaml(
        pytester.path / "criteria/baselines.yaml",
        {"baselines": {"separate_planning": planning}},
    )
    run_phase(pytester, "p1")
    return {c["name"]: c["passed"] for c in read_report(pytester.path)["criteria"]}


def test_a_cost_of_doing_the_tickets_beside_a_failed_one_proves_no_cap(
    pytester: pytest.Pytester,
) -> None:
    # T02 failed after 2,000: the phase spent 38,000 (under 50k), its implementations 22,000
    # (under 30k), both exact; each planned alone 46,000 (under 60k) is no cost of doing them
    passed = _phase(pytester, {"actual_tokens": 2_000, "status": "failed"})
    assert passed == {
        "phase-cap": True,
        "stage-cap": True,
        "alone-cap": False,
        "batching": True,
        "rate": True,
    }, passed
    assert decision(pytester) == "NO"
    report = {c["name"]: c for c in read_report(pytester.path)["criteria"]}
    assert report["phase-cap"]["bound"] == "exact", report["phase-cap"]
    assert report["alone-cap"]["bound"] == "lower", report["alone-cap"]


def test_costs_over_done_tickets_still_prove_their_cap(pytester: pytest.Pytester) -> None:
    """No over-correction: T02's implementation done for 10,000, every cap passes."""
    passed = _phase(pytester, {"actual_tokens": 10_000, "status": "completed"})
    assert all(passed.values()), passed
    assert decision(pytester) == "YES"


def test_a_paired_saving_against_a_phase_that_failed_a_ticket_proves_no_max(
    pytester: pytest.Pytester,
) -> None:
    """a1 failed T02 after 20,000 tokens; b1 did it for 22,000 and T01 for 26,000 (a1 30,000):
    b1's mean saving of 1,000 is a lower bound (a1's T02 would have cost more done), which
    proves its `min` and no `max`."""
    failed = {"status": "failed", "review": {"result": "FAIL", "attempts": 1}}
    theirs = {"T01": flat_ticket(actual_tokens=30_000), "T02": flat_ticket(actual_tokens=20_000)}
    theirs["T02"].update(failed)
    fix_loops = {"id": "fix-loops", "metric": "fix_loops", "max": 9}
    Phase.of("a1", [fix_loops], theirs).write(pytester.path)
    paired = {"id": "paired", "metric": "paired_savings", "versus": "a1", "measure": "total"}
    mine = {"T01": flat_ticket(actual_tokens=26_000), "T02": flat_ticket(actual_tokens=22_000)}
    Phase.of("b1", [paired | {"min": 500, "rule": "point"}], mine).write(pytester.path)
    result = run_phase(pytester, "b1")
    assert decision(pytester) == "YES", result.stdout.str()
    Phase.of("b1", [paired | {"max": 2_000, "rule": "point"}], mine).write(pytester.path)
    result = run_phase(pytester, "b1")
    assert decision(pytester) == "NO"
    result.stdout.fnmatch_lines(
        ["*at least 1,000: a lower bound cannot prove max 2,000*T02 failed*"]
    )

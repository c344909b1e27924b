"""Failures the log records and no figure shows: a review's PASS beside the ticket's failure,
and a shared planning that failed. Neither may leave the phase YES."""

from __future__ import annotations

import pytest

from tests.helpers import Phase, decision, flat_ticket, read_report, run_phase


def _staged(**after_review: object) -> dict[str, object]:
    """A Sonnet ticket by stages: implementation completed, review PASS, then ``after_review``."""
    return {
        "execution_model": "sonnet",
        "implementation": {"estimated_tokens": 10_000, "status": "completed"},
        "review": {"result": "PASS", "attempts": 1, "status": "completed"},
        **after_review,
    }


FAILED_AFTER_THE_REVIEW = pytest.mark.parametrize(
    "ticket",
    [
        {**flat_ticket(), "status": "failed"},
        _staged(fix_loops=1, fix={"estimated_tokens": 100, "status": "failed"}),
        _staged(
            finalization={"estimated_tokens": 100, "status": "completed", "verification": "failed"}
        ),
    ],
    ids=["ticket-status-failed", "fix-stage-failed", "later-verification-failed"],
)


@FAILED_AFTER_THE_REVIEW
@pytest.mark.parametrize(
    "criterion",
    [
        {"id": "rev", "for_each": "ticket", "metric": "review_passed", "equals": True},
        {"id": "rev", "metric": "all_reviews_passed", "equals": True},
    ],
    ids=["review_passed", "all_reviews_passed"],
)
def test_a_review_pass_beside_the_tickets_failure_is_no_pass(
    pytester: pytest.Pytester, ticket: dict[str, object], criterion: dict[str, object]
) -> None:
    """R02 is fine; R01's review said PASS, but the log records R01 failed afterwards: the
    criterion fails on R01, naming why, and the phase is NO (exit 1)."""
    Phase.of("b1", [criterion], {"R01": ticket, "R02": flat_ticket()}).write(pytester.path)
    result = run_phase(pytester, "b1")
    assert result.ret == 1, result.stdout.str()
    assert decision(pytester) == "NO"
    report = read_report(pytester.path)
    failing = [c for c in report["criteria"] if not c["passed"]]
    assert [c["name"] for c in failing] == (
        ["rev[R01]"] if criterion["metric"] == "review_passed" else ["rev"]
    ), failing
    assert "R01" in str(failing), failing
    if criterion["metric"] == "review_passed":
        result.stdout.fnmatch_lines(["*review PASS, but the log records the ticket failed*"])


def test_a_review_pass_that_a_later_stage_kept_still_passes(pytester: pytest.Pytester) -> None:
    """No over-correction: after the review, a fix stage completed and the finalization passed
    its verification: the review passed and the ticket did not fail, so the phase is YES."""
    ticket = _staged(
        fix_loops=1,
        fix={"estimated_tokens": 100, "status": "completed"},
        finalization={"estimated_tokens": 100, "status": "completed", "verification": "passed"},
    )
    Phase.of(
        "b1",
        [{"id": "rev", "for_each": "ticket", "metric": "review_passed", "equals": True}],
        {"R01": ticket},
    ).write(pytester.path)
    result = run_phase(pytester, "b1")
    assert decision(pytester) == "YES", result.stdout.str()
    assert result.ret == 0


PLAN_UNDER_10K = [
    {"id": "plan", "metric": "shared_planning_tokens", "measure": "total", "max": "10k"}
]


@pytest.mark.parametrize("status", ["failed", "completed"])
def test_a_failed_shared_planning_fails_the_decision_and_the_gate(
    pytester: pytest.Pytester, status: str
) -> None:
    """b1's every criterion passes (planning under 10k, on 5,000 tokens), but the log says its
    shared planning failed: no criterion judges that, so the decision is NO naming it, and b2,
    which requires b1, fails its gate. With the planning completed, both are YES."""
    tickets = {"R01": flat_ticket(), "R02": flat_ticket()}
    planning = {"estimated_tokens": 5_000, "status": status}
    Phase.of("b1", PLAN_UNDER_10K, tickets, planning=planning).write(pytester.path)
    Phase.of(
        "b2", PLAN_UNDER_10K, tickets, planning={"estimated_tokens": 5_000}, requires=["b1"]
    ).write(pytester.path)
    result = run_phase(pytester, "b1")
    report = read_report(pytester.path)
    proceed = report["decisions"]["proceed"]
    second = run_phase(pytester, "b2")
    gates = read_report(pytester.path)["gates"]
    if status == "completed":
        assert (proceed["answer"], result.ret) == ("YES", 0), result.stdout.str()
        assert second.ret == 0, second.stdout.str()
        return
    assert (proceed["answer"], result.ret) == ("NO", 1), result.stdout.str()
    assert "shared_planning failed (status failed)" in proceed["line"]
    assert [c["passed"] for c in report["criteria"]] == [True]  # no criterion judged it
    assert second.ret == 1, second.stdout.str()
    assert [g["passed"] for g in gates] == [False], gates
    second.stdout.fnmatch_lines(["*shared_planning failed (status failed)*"])

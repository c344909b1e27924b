"""A ticket's success is its model's only when the log shows the model's work ran, and a review's
verdict only when the review ran: an implementation skipped or absent is no success (nor one the
adoption counts), and a review skipped (beside a passing checklist or a `result: PASS`) or whose
checklist holds no item is no verdict. The honest cases beside them, and their siblings."""

from __future__ import annotations

import pytest

from tests.helpers import (
    ALL_HAIKU_SUCCEED,
    Phase,
    YamlData,
    assert_not_yes,
    decision,
    flat_ticket,
    haiku_ticket,
    rate_on,
    read_report,
    run_phase,
)

PASSED: YamlData = {"result": "PASS", "attempts": 1, "actual_tokens": 3_000, "status": "completed"}
RAN: YamlData = {"actual_tokens": 2_000, "status": "completed"}


def _rate(pytester: pytest.Pytester, ticket: YamlData) -> pytest.RunResult:
    """Phase p1 with ``ticket`` as T01, judged by Haiku's success rate at 100 %; its run."""
    Phase.of("p1", [ALL_HAIKU_SUCCEED], {"T01": ticket}).write(pytester.path)
    return run_phase(pytester, "p1")


@pytest.mark.parametrize(
    ("implementation", "reason"),
    [
        ("skipped", "implementation skipped"),
        ("absent", "no implementation stage beside branch_creation"),
    ],
)
def test_a_ticket_whose_work_did_not_run_names_why_its_success_is_unknown(
    pytester: pytest.Pytester, implementation: str, reason: str
) -> None:
    ticket = haiku_ticket({"status": "skipped"}, PASSED)
    if implementation != "skipped":
        del ticket["implementation"]
        ticket["fix_loops"] = 0
    result = _rate(pytester, ticket)
    result.stdout.fnmatch_lines(
        [f"*ticket T01 has not finished ({reason}): *record its implementation*"]
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert decision(pytester) != "YES"


@pytest.mark.parametrize("shape", ["staged", "flat", "flat with a stage"])
def test_a_ticket_whose_work_ran_is_still_a_success(pytester: pytest.Pytester, shape: str) -> None:
    """No over-correction: an implementation that completed, a flat ticket (its tokens, fix
    loops and review, no stage), and a flat ticket with a branch-creation stage beside its own
    tokens are each a Haiku success."""
    ticket = haiku_ticket(RAN, PASSED)
    if shape != "staged":
        ticket = flat_ticket(execution_model="haiku")
    if shape == "flat with a stage":
        ticket["branch_creation"] = {"model": "sonnet", "status": "completed"}
    result = _rate(pytester, ticket)
    result.stdout.fnmatch_lines(["*success_rate[[]haiku[]]*100.0% (1 of 1*PASS*"])
    assert result.ret == pytest.ExitCode.OK
    assert decision(pytester) == "YES"


@pytest.mark.parametrize("implementation", [{"status": "skipped"}, RAN])
def test_the_adoption_counts_work_that_ran(
    pytester: pytest.Pytester, implementation: YamlData
) -> None:
    """Three Haiku tickets whose implementation was skipped are no successes, and the line says
    why; the same three whose implementation completed adopt Haiku (no over-correction)."""
    tickets = {f"T0{i}": haiku_ticket(implementation, PASSED) for i in (1, 2, 3)}
    adopt = {"model": "haiku", "min_success_rate": "50%", "min_sample_size": 3, "rule": "point"}
    counted: YamlData = {"id": "three-tickets", "metric": "tickets", "min": 3}
    Phase.of("p1", [counted], tickets, decisions={"adopt_model": adopt}).write(pytester.path)
    run_phase(pytester, "p1")
    adoption = read_report(pytester.path)["decisions"]["adopt_model"]
    if implementation is RAN:
        assert (adoption["answer"], adoption["successes"]) == ("YES", 3), adoption["line"]
    else:
        assert (adoption["answer"], adoption["successes"]) == ("NO", 0), adoption["line"]
        assert (
            "3 run(s) without fix_loops, a review result or an implementation that ran"
            in (adoption["line"])
        )


@pytest.mark.parametrize(
    ("review", "recorded"),
    [
        ({"status": "skipped"}, "status is skipped"),
        ({"status": "pending"}, "status is pending"),
        ({"status": "failed"}, "records status failed"),
        ({"status": "requires_fix"}, "records status requires_fix"),
        ({"status": "completed", "verification": "failed"}, "records verification failed"),
    ],
)
def test_a_passing_checklist_beside_a_review_that_did_not_pass_is_an_error(
    pytester: pytest.Pytester, review: YamlData, recorded: str
) -> None:
    """A checklist all PASS with no result is the review's verdict (it makes a success): beside
    what a `result: PASS` may not stand beside, it is the same error at the review."""
    checklist = {"checklist_results": [{"Code compiles": "PASS"}, {"Tests pass": "PASS"}]}
    result = _rate(pytester, haiku_ticket(RAN, {**checklist, **review}))
    result.stdout.fnmatch_lines(
        [f"*tickets.T01.review: checklist_results are all PASS but the review*{recorded}*"]
    )
    assert result.ret == pytest.ExitCode.INTERRUPTED
    assert decision(pytester) != "YES"


def test_a_passing_checklist_of_a_review_that_ran_is_its_verdict(
    pytester: pytest.Pytester,
) -> None:
    """No over-correction: the checklist all PASS of a completed review, no result written, is
    the review's verdict: a success, YES."""
    review = {"checklist_results": [{"Code compiles": "PASS"}], "status": "completed"}
    result = _rate(pytester, haiku_ticket(RAN, review))
    result.stdout.fnmatch_lines(["*success_rate[[]haiku[]]*100.0% (1 of 1*PASS*"])
    assert result.ret == pytest.ExitCode.OK


def test_a_failing_checklist_beside_a_skipped_review_is_no_error_and_no_success(
    pytester: pytest.Pytester,
) -> None:
    """A FAIL item is no pass, whatever the status: the ticket failed (as with `result: FAIL`),
    the rate fails, NO; no error is needed to keep it from YES."""
    review = {"checklist_results": [{"Code compiles": "FAIL"}], "status": "skipped"}
    result = _rate(pytester, haiku_ticket(RAN, review))
    result.stdout.fnmatch_lines(["*success_rate[[]haiku[]] 0.0% < min 100.0%*"])
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert decision(pytester) == "NO"


@pytest.mark.parametrize("implementation", ["skipped", "absent"])
def test_a_ticket_whose_implementation_did_not_run_is_no_success(
    pytester: pytest.Pytester, implementation: str
) -> None:
    review = {"result": "PASS", "attempts": 1, "actual_tokens": 3_000, "status": "completed"}
    ticket = haiku_ticket({"status": "skipped"}, review)
    if implementation == "absent":
        del ticket["implementation"]
        ticket["fix_loops"] = 0
    Phase.of("p1", [ALL_HAIKU_SUCCEED], {"T01": ticket}).write(pytester.path)
    result = run_phase(pytester, "p1")
    assert_not_yes(pytester, result)


def test_adoption_counts_no_ticket_whose_implementation_was_skipped(
    pytester: pytest.Pytester,
) -> None:
    review = {"result": "PASS", "attempts": 1, "actual_tokens": 3_000, "status": "completed"}
    tickets = {f"T0{i}": haiku_ticket({"status": "skipped"}, review) for i in (1, 2, 3)}
    adopt = {"model": "haiku", "min_success_rate": "50%", "min_sample_size": 3, "rule": "point"}
    counted: YamlData = {"id": "three-tickets", "metric": "tickets", "min": 3}
    Phase.of("p1", [counted], tickets, decisions={"adopt_model": adopt}).write(pytester.path)
    result = run_phase(pytester, "p1")
    adoption = read_report(pytester.path)["decisions"]["adopt_model"]
    assert adoption["answer"] != "YES", result.stdout.str()


def test_a_skipped_review_with_a_passing_checklist_is_no_verdict(
    pytester: pytest.Pytester,
) -> None:
    ticket = haiku_ticket(
        {"actual_tokens": 2_000, "status": "completed"},
        {"checklist_results": [{"Code compiles": "PASS"}], "status": "skipped"},
    )
    Phase.of("p1", [ALL_HAIKU_SUCCEED], {"T01": ticket}).write(pytester.path)
    result = run_phase(pytester, "p1")
    assert_not_yes(pytester, result)


@pytest.mark.parametrize("metric", ["review_passed", "all_reviews_passed"])
def test_a_skipped_review_with_result_pass_is_no_yes(
    pytester: pytest.Pytester, metric: str
) -> None:
    """`result: PASS` beside the review's own `status: failed`/`requires_fix` or
    `verification: failed` is an error, since `review_passed` would pass on it; so is it beside
    `status: skipped`, which says the review never ran: its PASS is no review at all. The
    ticket is not "not finished" (one stage skipped beside others that ran is allowed), so
    without the error `review_passed` (and `all_reviews_passed`) would PASS: YES, exit 0. An
    error at the review, never YES."""
    ticket: dict[str, object] = {
        "execution_model": "sonnet",
        "fix_loops": 0,
        "implementation": {"estimated_tokens": 10_000, "status": "completed"},
        "review": {"result": "PASS", "attempts": 1, "status": "skipped"},
    }
    criterion: dict[str, object] = {"id": "rev", "metric": metric, "equals": True}
    if metric == "review_passed":
        criterion["for_each"] = "ticket"
    Phase.of("b1", [criterion], {"R01": ticket}).write(pytester.path)
    result = run_phase(pytester, "b1")
    assert decision(pytester) != "YES", result.stdout.str()
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*result is PASS but the review's status is skipped*"])


def test_a_checklist_of_no_item_is_no_review_verdict(pytester: pytest.Pytester) -> None:
    ticket = {
        "execution_model": "haiku",
        "complexity": "mechanical",
        "implementation": {
            "model": "haiku",
            "fix_loops": 0,
            "status": "completed",
            "actual_tokens": 5_000,
        },
        "review": {"checklist_results": [{}], "attempts": 1, "status": "completed"},
    }
    Phase.of("p1", [rate_on("haiku")], {"T01": ticket}).write(pytester.path)
    result = run_phase(pytester, "p1")
    assert_not_yes(pytester, result)

"""Sixth adversarial round: phases that say "Proceed: YES" when their data shows they should
not. Each test is a finding on main (xfail strict until fixed); the reason says what is
observed and what is expected."""

from __future__ import annotations

import pytest

from tests.helpers import Phase, YamlData, decision, flat_ticket, run_phase

#: Haiku's success rate at 100 % on the point estimate: every Haiku ticket must have succeeded.
ALL_HAIKU_SUCCEED: YamlData = {
    "id": "haiku-success",
    "metric": "success_rate",
    "model": "haiku",
    "min": "100%",
    "rule": "point",
}


def _haiku_ticket(implementation: YamlData, review: YamlData) -> YamlData:
    """A mechanical ticket executed on Haiku, with these implementation and review stages."""
    return {
        "execution_model": "haiku",
        "complexity": "mechanical",
        "branch_creation": {"model": "sonnet", "actual_tokens": 2_000, "status": "completed"},
        "implementation": {"model": "haiku", "fix_loops": 0, **implementation},
        "review": review,
    }


@pytest.mark.xfail(
    strict=True,
    reason="success_rate counts a ticket whose implementation stage is status: skipped (the "
    "model never did the work; only branch creation and a review ran) as a Haiku success: "
    "YES, exit 0 / expected: no success (unknown or not run, naming the skipped "
    "implementation), so the rate cannot pass",
)
def test_a_ticket_whose_implementation_was_skipped_is_no_success(
    pytester: pytest.Pytester,
) -> None:
    ticket = _haiku_ticket(
        {"status": "skipped"},
        {"result": "PASS", "attempts": 1, "actual_tokens": 3_000, "status": "completed"},
    )
    Phase.of("p1", [ALL_HAIKU_SUCCEED], {"T01": ticket}).write(pytester.path)
    result = run_phase(pytester, "p1")
    assert decision(pytester) != "YES", result.stdout.str()
    assert result.ret != 0


@pytest.mark.xfail(
    strict=True,
    reason="a review with status: skipped and no result, whose checklist_results are all PASS, "
    "counts as a recorded verdict: the ticket is a success and the rate says YES, exit 0 / "
    "expected: an error at the review (a review that has not run has no result, as for "
    "result: PASS beside status: skipped), or no verdict (success unknown)",
)
def test_a_skipped_review_with_a_passing_checklist_is_no_verdict(
    pytester: pytest.Pytester,
) -> None:
    ticket = _haiku_ticket(
        {"actual_tokens": 2_000, "status": "completed"},
        {"checklist_results": [{"Code compiles": "PASS"}], "status": "skipped"},
    )
    Phase.of("p1", [ALL_HAIKU_SUCCEED], {"T01": ticket}).write(pytester.path)
    result = run_phase(pytester, "p1")
    assert decision(pytester) != "YES", result.stdout.str()
    assert result.ret != 0


@pytest.mark.xfail(
    strict=True,
    reason="p2's data folder holds metadata.yaml with phase: p1 (p1's run copied into p2's "
    "folder, another phase of the project): no error, p2 is judged on p1's data, YES, exit 0 / "
    "expected: an error at metadata.yaml's phase naming p1 (as a ledger whose header names "
    "another phase is)",
)
def test_a_data_folder_whose_metadata_names_another_phase_is_an_error(
    pytester: pytest.Pytester,
) -> None:
    cap: list[YamlData] = [{"id": "cap", "metric": "tokens", "measure": "total", "max": "100k"}]
    Phase.of("p1", cap, {"T01": flat_ticket()}).write(pytester.path)
    copied = {"phase": "p1", "tickets": ["T01"]}
    Phase.of("p2", cap, {"T01": flat_ticket()}, requires=["p1"], metadata=copied).write(
        pytester.path
    )
    result = run_phase(pytester, "p2")
    assert result.ret != 0, result.stdout.str()
    assert decision(pytester) != "YES"
    result.stdout.fnmatch_lines(["*metadata.yaml*phase*p1*"])

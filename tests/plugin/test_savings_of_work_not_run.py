"""A ticket whose work did not run cost what not doing it cost, a lower bound of what doing it
costs (the baseline does every ticket): `savings` beside it are an upper bound and prove no
`min`, per phase and per ticket, as beside a failed ticket (the sibling of the break-even that
takes no such ticket as a done one)."""

from __future__ import annotations

import pytest

from tests.helpers import YamlData, read_report, run_phase, second_ticket_phase

SAVINGS: list[YamlData] = [
    {
        "id": "savings",
        "metric": "savings",
        "baseline": "single_agent",
        "measure": "total",
        "min": "20%",
    },
    {
        "id": "ticket-savings",
        "for_each": "ticket",
        "metric": "savings",
        "baseline": "single_agent",
        "measure": "total",
        "min": "5%",
    },
]


def _passed(pytester: pytest.Pytester) -> dict[str, bool]:
    return {c["name"]: c["passed"] for c in read_report(pytester.path)["criteria"]}


def test_savings_beside_a_skipped_implementation_prove_no_min(pytester: pytest.Pytester) -> None:
    """T02's implementation was skipped (2,000 tokens of branch and review): the phase's 40 %
    and T02's 73 % are upper bounds; T01's own 6.7 % still passes."""
    second_ticket_phase(pytester.path, SAVINGS, {"status": "skipped"})
    result = run_phase(pytester, "p1")
    passed = _passed(pytester)
    assert not passed["savings"] and not passed["ticket-savings[T02]"], passed
    assert passed["ticket-savings[T01]"], passed
    result.stdout.fnmatch_lines(
        ["FAIL  savings*at most 40.0%: an upper bound*T02*(implementation skipped)*"]
    )
    result.stdout.fnmatch_lines(
        ["FAIL  savings*at most 73.3%: an upper bound*T02*(implementation skipped)*"]
    )


def test_savings_of_done_work_still_prove_their_min(pytester: pytest.Pytester) -> None:
    """No over-correction: with T02's implementation done for 10,000 tokens, the phase's
    23.3 % prove its 20 %, and each ticket's savings (6.7 % and 40 %) their 5 %."""
    second_ticket_phase(pytester.path, SAVINGS, {"actual_tokens": 10_000, "status": "completed"})
    run_phase(pytester, "p1")
    passed = _passed(pytester)
    assert passed["savings"] and passed["ticket-savings[T01]"], passed
    assert passed["ticket-savings[T02]"], passed

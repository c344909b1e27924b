"""A ticket whose own work did not run while other stages did (its implementation skipped,
missing, or of 0 tokens) has not finished: the phase does not proceed on it, whatever its
criteria read, and its figures are only what it used so far."""

from __future__ import annotations

import pytest

from tests.helpers import Phase, YamlData, assert_not_yes, run_phase, staged_ticket

COUNTED: list[YamlData] = [{"id": "counted", "metric": "tickets", "min": 1}]
CAP: list[YamlData] = [
    {"id": "cap", "for_each": "ticket", "metric": "tokens", "measure": "total", "max": "50k"}
]
DONE: YamlData = {"actual_tokens": 28_000, "status": "completed"}
IMPLEMENTATIONS: dict[str, YamlData | None] = {
    "skipped": {"status": "skipped"},
    "pending": {"status": "pending"},
    "no-tokens": {**DONE, "actual_tokens": 0},
    "missing": None,
}


@pytest.mark.parametrize("criteria", [COUNTED, CAP], ids=["count", "cap"])
@pytest.mark.parametrize("how", sorted(IMPLEMENTATIONS))
def test_a_ticket_whose_work_did_not_run_does_not_proceed(
    pytester: pytest.Pytester, how: str, criteria: list[YamlData]
) -> None:
    tickets = {"T01": staged_ticket(DONE), "T02": staged_ticket(IMPLEMENTATIONS[how])}
    Phase.of("p1", criteria, tickets).write(pytester.path)
    result = run_phase(pytester, "p1")
    assert_not_yes(pytester, result)
    result.stdout.fnmatch_lines(["*ticket T02*has not finished (*implementation*"])


def test_tickets_whose_work_ran_proceed(pytester: pytest.Pytester) -> None:
    """No over-correction: both implemented, YES on either criterion."""
    for criteria in (COUNTED, CAP):
        Phase.of("p1", criteria, {"T01": staged_ticket(DONE), "T02": staged_ticket(DONE)}).write(
            pytester.path
        )
        result = run_phase(pytester, "p1")
        assert result.ret == 0, result.stdout.str()

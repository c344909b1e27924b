"""A ticket whose own work did not run while other stages did (its implementation skipped,
missing, or of 0 tokens) has not finished: the phase does not proceed on it, whatever its
criteria read (a review's PASS beside it included), and its figures are only what it used so
far."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import (
    Phase,
    YamlData,
    assert_not_yes,
    flat_ticket,
    rate_on,
    run_phase,
    staged_ticket,
    write_yaml,
)

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


SINGLE_AGENT_30K: YamlData = {"baselines": {"single_agent": {"tokens_per_ticket": 30_000}}}


def _implementation_skipped_phase(root: Path) -> None:
    """Phase p1 (shared planning 12,000; baseline single_agent 30,000 per ticket): T01 done for
    30,000 tokens, T02 whose implementation was skipped (a branch and a passing review, 2,000)."""

    def ticket(ran: bool) -> YamlData:
        done = {"actual_tokens": 28_000, "status": "completed"}
        return staged_ticket(done if ran else {"status": "skipped"})

    write_yaml(root / "criteria/baselines.yaml", SINGLE_AGENT_30K)
    planning = {"model": "sonnet", "actual_tokens": 12_000}
    tickets = {"T01": ticket(True), "T02": ticket(False)}
    Phase.of("p1", COUNTED, tickets, planning=planning).write(root)


def test_a_ticket_never_implemented_does_not_proceed(pytester: pytest.Pytester) -> None:
    _implementation_skipped_phase(pytester.path)
    result = run_phase(pytester, "p1")
    assert_not_yes(pytester, result)


@pytest.mark.parametrize("shape", ["staged", "flat"])
def test_an_implementation_of_no_tokens_is_no_work_that_ran(
    pytester: pytest.Pytester, shape: str
) -> None:
    """A ticket whose own work recorded 0 tokens: no model call made it, so its review PASS is
    no success of its model: unknown, never YES (and with tokens, the same ticket succeeds)."""
    review = {"result": "PASS", "attempts": 1, "actual_tokens": 3_000, "status": "completed"}

    def ticket(tokens: int) -> YamlData:
        if shape == "flat":
            return flat_ticket(execution_model="haiku", actual_tokens=tokens)
        impl = {"model": "haiku", "fix_loops": 0, "status": "completed", "actual_tokens": tokens}
        return {"execution_model": "haiku", "implementation": impl, "review": review}

    Phase.of("p1", [rate_on("haiku")], {"T01": ticket(0)}).write(pytester.path)
    result = run_phase(pytester, "p1")
    assert_not_yes(pytester, result)
    result.stdout.fnmatch_lines(["*T01 has not finished (*actual_tokens: 0)*"])
    Phase.of("p1", [rate_on("haiku")], {"T01": ticket(5_000)}).write(pytester.path)
    assert run_phase(pytester, "p1").ret == 0

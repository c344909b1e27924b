"""A ticket that did not run (skipped) is no success, and a phase with a ticket that has not
finished decides nothing: its figures so far are lower bounds of its own (review20 findings,
copied from tests/plugin/test_review20.py on branch review20, without their xfail marker)."""

from __future__ import annotations

from pathlib import Path
from typing import cast

import pytest

from pytest_orchphase.decide.decisions import proceed
from pytest_orchphase.evaluate.runner import PhaseRunner
from pytest_orchphase.report.results import Entry
from tests.helpers import Phase, rate_phase, read_report

# ------------------------------------------------------------------ a skipped ticket


@pytest.mark.parametrize("where", ["ticket", "implementation"])
def test_a_skipped_ticket_is_not_a_success(project: pytest.Pytester, where: str) -> None:
    """README: "A ticket succeeds when it finished". T02 was skipped (the ticket, or its only
    work stage), never reviewed, with `fix_loops: 0` written up front: it counted as a success,
    2 of 2 passed `success_rate min 70%` and the phase said YES. Its outcome is unknown, as an
    unfinished ticket's: the rate fails naming it."""
    phase = rate_phase(2, 2, criterion={"rule": "point"})
    t02 = phase.ticket("T02")
    del t02["review"]
    if where == "ticket":
        t02["status"] = "skipped"
    else:
        t02["implementation"] = {"model": "haiku", "status": "skipped", "fix_loops": 0}
    phase.write(project.path)
    result = project.runpytest("--phase", "p1", "-p", "no:randomly", "--orchphase-json", "r.json")
    result.stdout.no_fnmatch_line("Proceed to phase *: YES*")
    criterion = read_report(project.path)["criteria"][0]
    assert not criterion["passed"]
    place = "status skipped" if where == "ticket" else "implementation skipped"
    result.stdout.fnmatch_lines([f"*ticket T02 has not finished ({place})*"])
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_a_stage_skipped_beside_one_that_ran_leaves_the_ticket_a_success(
    project: pytest.Pytester,
) -> None:
    """Not over-corrected: a review skipped after an implementation that completed is no
    ticket skipped (the ticket has finished). Yet no review gave its verdict, so whether T02
    succeeded is not known (yes-hunt5: `fix_loops: 0` with no review proves no success): the
    rate fails as unknown, naming the review, never "has not finished"; reviewed, 2 of 2: YES."""
    phase = rate_phase(2, 2, criterion={"rule": "point"})
    t02 = phase.ticket("T02")
    del t02["review"]
    t02["implementation"] = {"model": "haiku", "status": "completed", "fix_loops": 0}
    t02["review"] = {"status": "skipped"}
    phase.write(project.path)
    result = project.runpytest("--phase", "p1", "-p", "no:randomly")
    result.stdout.fnmatch_lines(["*ticket T02 records no review result*"])
    result.stdout.no_fnmatch_line("*has not finished*")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    t02["review"] = {"status": "completed", "result": "PASS"}
    phase.write(project.path)
    result = project.runpytest("--phase", "p1", "-p", "no:randomly")
    result.stdout.fnmatch_lines(["Proceed to phase *: YES*"])
    assert result.ret == pytest.ExitCode.OK


# ------------------------------------------------------------------ a ticket not finished

MAXIMA = pytest.mark.parametrize(
    "criterion",
    [
        {"id": "c", "metric": "max_fix_loops", "max": 1},
        {"id": "c", "metric": "tokens", "measure": "total", "max": "50k"},
        {"id": "c", "for_each": "ticket", "metric": "tokens", "measure": "total", "max": "25k"},
    ],
    ids=["max-fix-loops", "phase-tokens", "ticket-tokens"],
)


def _maxima(criterion: dict[str, object], status: str | None, phase: str = "p1") -> Phase:
    """Two tickets of 20k tokens and 0 fix loops, after 5k of shared planning, under a `max`
    criterion; T02 in ``status``."""
    out = rate_phase(2, 2, criterion={"rule": "point", "min": "1%"}, phase=phase)
    out.criteria["criteria"] = [criterion]
    out.log = {"shared_planning": {"model": "sonnet", "actual_tokens": 5_000}, **out.log}
    if status is not None:
        t02 = out.ticket("T02")
        t02["status"] = status
        t02["fix_loops"] = 0
        del t02["review"]
    return out


@MAXIMA
def test_a_ticket_not_finished_cannot_prove_a_maximum(
    project: pytest.Pytester, criterion: dict[str, object]
) -> None:
    """T02 is still `in_progress`; its tokens and fix loops so far are what it has used *yet*,
    lower bounds of its own. They proved a `max` all the same, and the phase said YES while a
    ticket was still running (then UNDECIDED, the item still PASS): now the item fails, its
    figure only a lower bound, naming the ticket (line, JSON, exit 1)."""
    _maxima(criterion, "in_progress").write(project.path)
    result = project.runpytest("--phase", "p1", "-p", "no:randomly", "--orchphase-json", "r.json")
    result.stdout.no_fnmatch_line("Proceed to phase *: YES*")
    result.stdout.fnmatch_lines(
        ["*a lower bound cannot prove max*ticket T02 of phase p1 has not finished (status *"]
    )
    result.stdout.fnmatch_lines(["Proceed to phase *: NO — failing: c*"])
    proceed = read_report(project.path)["decisions"]["proceed"]
    assert proceed["answer"] == "NO"
    assert result.ret == pytest.ExitCode.TESTS_FAILED


@MAXIMA
def test_a_finished_phase_still_proves_its_maximum(
    project: pytest.Pytester, criterion: dict[str, object]
) -> None:
    """Not over-corrected: the same phase with T02 completed says YES."""
    _maxima(criterion, "completed").write(project.path)
    result = project.runpytest("--phase", "p1", "-p", "no:randomly")
    result.stdout.fnmatch_lines(["Proceed to phase *: YES*"])
    assert result.ret == pytest.ExitCode.OK


@pytest.mark.parametrize("status", ["in_progress", "completed"])
def test_a_gate_on_a_phase_with_a_ticket_not_finished_fails(
    project: pytest.Pytester, status: str
) -> None:
    """p2 requires p1, whose T02 is still running: p1's gate fails naming the ticket, and p2
    says NO; with T02 completed the gate passes and p2 says YES."""
    # a minimum its figures so far already prove: the item passes, the ticket alone fails p1
    _maxima({"id": "c", "metric": "max_fix_loops", "min": 0}, status).write(project.path)
    rate_phase(3, 3, phase="p2", requires=["p1"], criterion={"rule": "point"}).write(project.path)
    result = project.runpytest("--phase", "p2", "-p", "no:randomly")
    if status == "completed":
        result.stdout.fnmatch_lines(["Proceed to phase *: YES*"])
        assert result.ret == pytest.ExitCode.OK
        return
    result.stdout.no_fnmatch_line("Proceed to phase *: YES*")
    result.stdout.fnmatch_lines(
        [
            "phase-gate?p1?: p2 requires p1, and phase p1 failed: ticket T02 has not finished "
            "(status in_progress)"
        ]
    )
    result.stdout.fnmatch_lines(["Proceed to phase *: NO — failing: phase-gate?p1?"])
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_a_failing_maximum_with_a_ticket_not_finished_is_no(project: pytest.Pytester) -> None:
    """A failure stays NO (it can only grow while T02 runs): the unfinished ticket turns a YES
    into UNDECIDED, never a NO into one."""
    phase = _maxima({"id": "c", "metric": "tokens", "measure": "total", "max": "30k"}, "pending")
    phase.write(project.path)
    result = project.runpytest("--phase", "p1", "-p", "no:randomly")
    result.stdout.fnmatch_lines(["Proceed to phase *: NO — failing: c"])
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_the_decision_names_each_ticket_not_finished_after_the_items() -> None:
    """The core rule: every expected item passed, two tickets not finished: UNDECIDED with one
    reason each; an item that did not run is reported first, as before."""
    entries = [cast(Entry, {"kind": "criterion", "name": "c", "passed": True})]
    open_ones = ["ticket T02 has not finished (status in_progress)", "ticket T03 has not …"]
    decision = proceed("p2", entries, [("criterion", "c")], 0, not_finished=open_ones)
    assert (decision.answer, decision.reasons) == ("UNDECIDED", open_ones)
    decision = proceed("p2", entries, [("criterion", "c"), ("criterion", "d")], 0, None, open_ones)
    assert (decision.answer, decision.reasons) == (
        "UNDECIDED",
        ["only 1 of 2 criteria ran (deselected or skipped)"],
    )
    assert proceed("p2", entries, [("criterion", "c")], 0).answer == "YES"


@pytest.mark.parametrize("status", ["in_progress", "completed"])
def test_the_dashboard_gate_names_a_ticket_not_finished(tmp_path: Path, status: str) -> None:
    """Sibling: `orchphase dashboard` shows each phase's gate; a phase with a ticket still
    running does not show PASS."""
    from pytest_orchphase.report.dashboard import collect

    _maxima({"id": "c", "metric": "max_fix_loops", "min": 0}, status).write(tmp_path)
    runner = PhaseRunner(tmp_path / "criteria", tmp_path / "docs" / "orchestration-data")
    (row,) = collect(runner)
    if status == "completed":
        assert (row.passed, row.failing) == (True, [])
    else:
        reason = "ticket T02 has not finished (status in_progress)"
        assert (row.passed, row.failing) == (False, [reason])

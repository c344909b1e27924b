"""A ticket that has not finished has used its tokens, time, fix loops and review attempts so far
only: each of its figures is a lower bound, wherever it is read. In its own phase (which decides
UNDECIDED anyway) an item may no longer PASS a `max` on them; in another phase that compares
with it (a limit `{phase: …}`, `paired_savings` against it, outside `requires`) the comparison
may no longer say YES on a figure that can still grow."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pytest_orchphase.evaluate.runner import PhaseRunner
from tests.helpers import Phase, YamlData, read_report

OPEN = "ticket T02 of phase p1 has not finished (status in_progress)"


def _phase(
    criteria: list[YamlData],
    status: str | None,
    *,
    phase: str = "p1",
    tokens: tuple[int, int] = (20000, 20000),
    requires: list[str] | None = None,
) -> Phase:
    """Two sonnet tickets in the stage shape (implementation and a review of 2k), stamped,
    reviewed once, 0 fix loops, ``tokens`` each (planning 4k); T02's status is ``status``."""

    def ticket(tid: str, tok: int) -> YamlData:
        return {
            "complexity": "mechanical",
            "execution_model": "sonnet",
            "implementation": {
                "model": "sonnet",
                "actual_tokens": tok - 2000,
                "status": "completed",
                "fix_loops": 0,
                "start_time": "2026-02-07T10:00:00Z",
                "end_time": "2026-02-07T10:10:00Z",
            },
            "review": {
                "result": "PASS",
                "attempts": 1,
                "actual_tokens": 2000,
                "start_time": "2026-02-07T10:10:00Z",
                "end_time": "2026-02-07T10:15:00Z",
            },
        }

    tickets = {"T01": ticket("T01", tokens[0]), "T02": ticket("T02", tokens[1])}
    if status is not None:
        tickets["T02"]["status"] = status
    planning = {
        "model": "sonnet",
        "actual_tokens": 4000,
        "start_time": "2026-02-07T09:55:00Z",
        "end_time": "2026-02-07T10:00:00Z",
    }
    return Phase.of(phase, criteria, tickets, planning=planning, requires=requires or [])


def _run(project: pytest.Pytester, phase: str) -> tuple[pytest.RunResult, dict[str, Any]]:
    result = project.runpytest("--phase", phase, "-p", "no:randomly", "--orchphase-json", "r.json")
    return result, read_report(project.path)


def _fails_naming_p1s_ticket(project: pytest.Pytester, phase: str) -> dict[str, Any]:
    """Run ``phase``: its one criterion ``c`` fails naming p1's open T02, the decision is NO."""
    result, report = _run(project, phase)
    (entry,) = report["criteria"]
    assert not entry["passed"]
    result.stdout.no_fnmatch_line("Proceed to phase *: YES*")
    result.stdout.fnmatch_lines([f"*{OPEN}*"])
    result.stdout.fnmatch_lines(["Proceed to phase *: NO — failing: c*"])
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    entry_data: dict[str, Any] = entry
    return entry_data


def _passes(project: pytest.Pytester, phase: str) -> dict[str, Any]:
    """Run ``phase``: its one criterion passes and the decision is YES."""
    result, report = _run(project, phase)
    (entry,) = report["criteria"]
    assert entry["passed"], entry
    result.stdout.fnmatch_lines(["Proceed to phase *: YES*"])
    assert result.ret == pytest.ExitCode.OK
    entry_data: dict[str, Any] = entry
    return entry_data


# ------------------------------------------------------------------ 1. in its own phase

OWN_MAXIMA = pytest.mark.parametrize(
    "criterion",
    [
        {"id": "c", "for_each": "ticket", "where": {"tickets": ["T02"]}, "metric": "tokens",
         "measure": "total", "max": "25k"},
        {"id": "c", "for_each": "ticket", "where": {"tickets": ["T02"]}, "metric": "fix_loops",
         "max": 1},
        {"id": "c", "for_each": "ticket", "where": {"tickets": ["T02"]},
         "metric": "review_attempts", "max": 2},
        {"id": "c", "for_each": "ticket", "where": {"tickets": ["T02"]},
         "metric": "wall_time_minutes", "max": 30},
        {"id": "c", "metric": "wall_time_minutes", "max": 30},
        {"id": "c", "metric": "fix_loops", "max": 1},
        {"id": "c", "metric": "max_review_attempts", "max": 2},
        {"id": "c", "metric": "ticket_tokens_average", "measure": "total", "max": "25k"},
        {"id": "c", "metric": "stage_tokens", "stage": "implementation", "measure": "total",
         "max": "50k"},
        {"id": "c", "metric": "savings", "baseline": "v2", "measure": "total", "min": "50%"},
        {"id": "c", "for_each": "ticket", "where": {"tickets": ["T02"]}, "metric": "savings",
         "baseline": "v2", "measure": "total", "min": "50%"},
    ],
    ids=[
        "ticket-tokens", "ticket-fix-loops", "ticket-review-attempts", "ticket-wall-time",
        "phase-wall-time", "phase-fix-loops", "max-review-attempts", "ticket-tokens-average",
        "stage-tokens", "phase-savings-min", "ticket-savings-min",
    ],
)  # fmt: skip


@OWN_MAXIMA
def test_an_item_on_a_ticket_not_finished_does_not_pass_a_maximum(
    project: pytest.Pytester, criterion: YamlData
) -> None:
    """T02 is still running: its figures can only grow (a saving only shrink), so they cannot
    prove a `max` (a `min` on a saving). Each item passed all the same (only the decision was
    UNDECIDED); now it fails, saying its figure is only a bound and naming the ticket."""
    _phase([criterion], "in_progress").write(project.path)
    assert _fails_naming_p1s_ticket(project, "p1")["bound"] in ("lower", "upper")


@OWN_MAXIMA
def test_the_same_items_pass_with_every_ticket_finished(
    project: pytest.Pytester, criterion: YamlData
) -> None:
    """Not over-corrected: T02 completed, every figure exact, every item passes: YES."""
    _phase([criterion], "completed").write(project.path)
    assert _passes(project, "p1")["bound"] == "exact"


def test_a_ticket_not_finished_still_proves_a_minimum(project: pytest.Pytester) -> None:
    """A lower bound proves a `min`: T02's 20k so far already meets `min: 10k` (the phase
    stays UNDECIDED for the ticket, not NO for the item)."""
    criterion = {"id": "c", "for_each": "ticket", "where": {"tickets": ["T02"]},
                 "metric": "tokens", "measure": "total", "min": "10k"}  # fmt: skip
    _phase([criterion], "in_progress").write(project.path)
    result, report = _run(project, "p1")
    (entry,) = report["criteria"]
    assert entry["passed"] and entry["bound"] == "lower"
    result.stdout.fnmatch_lines(["Proceed to phase *: UNDECIDED — ticket T02 has not finished*"])


# ------------------------------------------------------------------ 2. from another phase

#: criteria of phase p2 (which does not require p1) comparing with p1, whose T02 may still run
AGAINST_P1 = pytest.mark.parametrize(
    "criterion",
    [
        # p2 saves 5k per ticket on p1 so far: "at most 8k cheaper than p1"
        {"id": "c", "metric": "paired_savings", "versus": "p1", "measure": "total",
         "max": "8k", "rule": "point"},
        # p2 spends 20k per ticket, p1 20k so far: "at least as much as p1"
        {"id": "c", "metric": "ticket_tokens_average", "measure": "total",
         "min": {"phase": "p1", "metric": "ticket_tokens_average", "measure": "total"}},
        {"id": "c", "metric": "wall_time_minutes",
         "min": {"phase": "p1", "metric": "wall_time_minutes"}},
        {"id": "c", "metric": "max_review_attempts",
         "min": {"phase": "p1", "metric": "max_review_attempts"}},
        {"id": "c", "metric": "fix_loops", "equals": {"phase": "p1", "metric": "fix_loops"}},
        # p1's saving so far is an upper bound: a `max` against it proves nothing
        {"id": "c", "metric": "savings", "baseline": "v2", "measure": "total",
         "max": {"phase": "p1", "metric": "savings", "baseline": "v2", "measure": "total"}},
    ],
    ids=[
        "paired-savings-max", "tokens-average-min-limit", "wall-time-min-limit",
        "review-attempts-min-limit", "fix-loops-equals-limit", "savings-max-limit",
    ],
)  # fmt: skip


def _against_p1(project: pytest.Pytester, criterion: YamlData, status: str) -> None:
    """p1: T01, T02 at 20k each, T02 in ``status``; p2 (no requires): the same tickets, at
    figures chosen so that ``criterion`` holds on p1's figures as recorded."""
    _phase([{"id": "own", "metric": "tickets", "min": 1}], status).write(project.path)
    tokens = (20000, 20000) if criterion["metric"] == "ticket_tokens_average" else (15000, 15000)
    if criterion["metric"] == "savings":
        tokens = (25000, 25000)
    _phase([criterion], "completed", phase="p2", tokens=tokens).write(project.path)


@AGAINST_P1
def test_a_comparison_with_a_phase_whose_ticket_has_not_finished_is_not_yes(
    project: pytest.Pytester, criterion: YamlData
) -> None:
    """p2 compares with p1 outside `requires` (no gate), and p1's T02 is still running: p1's
    figures so far can only grow (its saving only shrink). The comparison held on them and p2
    said YES; now it fails, naming p1 and its ticket."""
    _against_p1(project, criterion, "in_progress")
    _fails_naming_p1s_ticket(project, "p2")


@AGAINST_P1
def test_the_same_comparison_passes_once_that_ticket_finished(
    project: pytest.Pytester, criterion: YamlData
) -> None:
    """Not over-corrected: p1's T02 completed, the same comparison passes: YES."""
    _against_p1(project, criterion, "completed")
    _passes(project, "p2")


def test_a_saving_against_a_phase_still_running_can_prove_a_minimum(
    project: pytest.Pytester,
) -> None:
    """Errs only to NO, so it still says YES: p1's T02 can only cost more, so p2's saving on
    it can only grow; `paired_savings above 0` against p1 is proven by the lower bound."""
    _phase([{"id": "own", "metric": "tickets", "min": 1}], "in_progress").write(project.path)
    criterion = {"id": "c", "metric": "paired_savings", "versus": "p1", "measure": "total",
                 "above": 0, "rule": "point"}  # fmt: skip
    _phase([criterion], "completed", phase="p2", tokens=(15000, 15000)).write(project.path)
    assert _passes(project, "p2")["bound"] == "lower"


# ------------------------------------------------------------------ siblings: tables, break-even


def _runner(root: Path) -> PhaseRunner:
    return PhaseRunner(root / "criteria", root / "docs" / "orchestration-data")


@pytest.mark.parametrize("status", ["in_progress", "completed"])
def test_the_comparison_table_marks_a_phase_still_running(tmp_path: Path, status: str) -> None:
    """`orchphase compare` (and the summary's table of phases): a phase with a ticket still
    running shows its tokens, wall time and fix loops as "≥", its savings as "≤"."""
    from pytest_orchphase.report.compare import comparison

    _phase([{"id": "own", "metric": "tickets", "min": 1}], status).write(tmp_path)
    (tmp_path / "criteria" / "baselines.yaml").write_text(
        "baselines:\n  v2: {tokens_per_ticket: 121000}\n"
    )
    rows = {row[0]: row[1] for row in comparison(_runner(tmp_path)).rows}
    low, up = ("≥ ", "≤ ") if status == "in_progress" else ("", "")
    assert rows["total tokens"] == f"{low}44,000"
    assert rows["fix loops"] == f"{low}0"
    assert rows["savings vs v2"].startswith(up)


@pytest.mark.parametrize("status", ["in_progress", "completed"])
def test_the_break_even_of_a_phase_still_running_says_why_it_is_a_bound(
    tmp_path: Path, status: str
) -> None:
    """The break-even from a ticket's tokens so far is only a bound; it said "from lower
    bounds (sub-agent output no record gives)", which is not this reason: it names the ticket."""
    from pytest_orchphase.decide.breakeven import break_even

    _phase([{"id": "own", "metric": "tickets", "min": 1}], status).write(tmp_path)
    (tmp_path / "criteria" / "baselines.yaml").write_text(
        "baselines:\n  single_agent: {tokens_per_ticket: 30000}\n"
    )
    decided = break_even(_runner(tmp_path), "p1")
    assert decided.tickets == 1  # ⌊4,000 / (30,000 − 20,000)⌋ + 1
    line = decided.line
    if status == "in_progress":
        assert OPEN in line and "sub-agent" not in line
    else:
        assert "bound" not in line


@pytest.mark.parametrize("status", ["in_progress", "completed"])
def test_the_dashboard_marks_a_ticket_still_running(tmp_path: Path, status: str) -> None:
    """`orchphase dashboard`: the phase's actual was marked "≥" (a lower bound), but neither its
    ticket's figure nor its difference from the target was: a ticket still running shows
    "≥" on each figure that holds its tokens so far."""
    from pytest_orchphase.report.dashboard import _cells, collect

    phase = _phase([{"id": "own", "metric": "tickets", "min": 1}], status)
    phase.metadata["expected_tokens"] = 40000
    phase.write(tmp_path)
    (row,) = collect(_runner(tmp_path))
    cells = _cells(row)
    low = "≥ " if status == "in_progress" else ""
    assert cells[2:6] == [
        f"{low}44,000",
        f"{low}+4,000",
        f"{low}+10.0%",
        f"T01 20,000, T02 {low}20,000",
    ]


def _graded(status: str, phase: str = "p1") -> Phase:
    """The two-ticket phase with T02 on Haiku, graded `same` against Sonnet so far."""
    out = _phase([{"id": "own", "metric": "tickets", "min": 1}], status, phase=phase)
    t02 = out.ticket("T02")
    t02["execution_model"] = "haiku"
    t02["implementation"]["model"] = "haiku"
    t02["implementation"]["quality_vs_sonnet"] = {
        "code_correctness": "same",
        "pattern_following": "same",
        "edge_case_handling": "same",
    }
    return out


@pytest.mark.parametrize("status", ["in_progress", "completed"])
@pytest.mark.parametrize("where", ["own", "other"])
def test_a_grade_of_a_ticket_not_finished_proves_nothing(
    project: pytest.Pytester, status: str, where: str
) -> None:
    """Sibling: the quality of work not finished is graded on what exists so far: a fix can
    make it better, more work worse. `quality_vs_sonnet min: same` passed on T02's grades so
    far, in its phase and, as a limit `{phase: p1, metric: quality_vs_sonnet}`, in another
    (a later `better` would raise the limit): now neither passes until T02 finished."""
    criterion: YamlData = {"id": "c", "metric": "quality_vs_sonnet", "min": "same"}
    graded = _graded(status)
    if where == "own":
        graded.criteria["criteria"] = [criterion]
        graded.write(project.path)
    else:
        graded.write(project.path)
        criterion["min"] = {"phase": "p1", "metric": "quality_vs_sonnet"}
        _phase([criterion], "completed", phase="p2").write(project.path)
    run = "p1" if where == "own" else "p2"
    if status == "completed":
        assert _passes(project, run)["bound"] == "exact"
    else:
        _fails_naming_p1s_ticket(project, run)


def test_a_final_worse_grade_is_the_phase_worst_whatever_runs(project: pytest.Pytester) -> None:
    """Not over-corrected: T01 finished graded `worse`; nothing is below it, so the phase's
    worst grade is exact while T02 still runs (the item passes; the phase is UNDECIDED)."""
    graded = _graded("in_progress")
    t01 = graded.ticket("T01")
    t01["execution_model"] = "haiku"
    t01["implementation"]["model"] = "haiku"
    t01["implementation"]["quality_vs_sonnet"] = {"code_correctness": "worse"}
    graded.criteria["criteria"] = [{"id": "c", "metric": "quality_vs_sonnet", "equals": "worse"}]
    graded.write(project.path)
    result, report = _run(project, "p1")
    (entry,) = report["criteria"]
    assert entry["passed"] and entry["bound"] == "exact"
    result.stdout.fnmatch_lines(["Proceed to phase *: UNDECIDED — ticket T02 has not finished*"])

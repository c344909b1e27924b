"""Findings of the review of the third round's fixes, closed: the adoption decision's worst case
for runs it cannot place, and the shared planning beside usage no rule places."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_orchphase.decide.decisions import Adoption, adoption
from pytest_orchphase.evaluate.runner import PhaseRunner
from tests.helpers import YamlData, rate_phase, read_report


def test_adoption_is_not_yes_when_only_the_failing_unplaced_runs_may_be_in_the_pool(
    tmp_path: Path,
) -> None:
    """Point rule, 70 %, at least 3: T01-T10 Haiku mechanical, 7 succeeded (70 %: YES). T11
    (failed) and T12-T14 (succeeded) record no complexity. Left out: 7 of 10, YES; all counted
    in: 10 of 14 (71.4 %), YES; so the answer is YES. But T11 may be mechanical while T12-T14
    are not: 7 of 11 (63.6 %) is NO. The worst case counts in the failing runs only."""
    decided = _adoption(tmp_path, 7, [3, 0, 0, 0])
    assert decided.answer != "YES", decided.line


def test_adoption_stays_yes_when_even_the_failing_unplaced_runs_keep_it(tmp_path: Path) -> None:
    """The worst case still YES (8 of 10 succeeded; T11, failing, records no complexity: 8 of
    11 is 72.7 %): the answer does not depend on the run, and stays YES."""
    decided = _adoption(tmp_path, 8, [3, 0])
    assert decided.answer == "YES", decided.line


def _adoption(tmp_path: Path, successes: int, unplaced_loops: list[int]) -> Adoption:
    """Adopting Haiku for mechanical tickets on the point rule at 70 %: T01-T10 Haiku
    mechanical, the first ``successes`` succeeded; then T11… Haiku runs that record no
    complexity, with these fix loops (0 succeeds, 3 does not)."""
    phase = rate_phase(successes, 10, decisions={"rule": "point", "min_success_rate": "70%"})
    for i, loops in enumerate(unplaced_loops, start=11):
        t: YamlData = {
            "execution_model": "haiku",
            "actual_tokens": 20_000,
            "fix_loops": loops,
            "review": {"result": "PASS", "attempts": 1},
        }
        phase.log["tickets"][f"T{i}"] = t
        phase.metadata["tickets"].append(f"T{i}")
    phase.write(tmp_path)
    runner = PhaseRunner(tmp_path / "criteria", tmp_path / "docs" / "orchestration-data")
    decided = adoption(runner, "p1")
    assert decided is not None
    return decided


def test_shared_planning_does_not_leave_out_the_unattributed_usage(
    pytester: pytest.Pytester,
) -> None:
    """The lead's own calls 5,010; a sub-agent the lead spawned that no rule places ("Check
    versions", 30,010). The break-even line adds it to shared planning, and the ticket metrics
    count it as possibly theirs; `shared_planning_tokens` alone showed 5,010 exact, so
    "planning under 10k" passed and the phase proceeded. Counted in, it is at most 35,020."""
    result = _lean_planning(pytester, unplaced=30_000)
    result.stdout.fnmatch_lines(
        [
            "FAIL  shared_planning_tokens at most 35,020: an upper bound cannot prove max 10,000: "
            "the phase's unattributed usage (30,010) is counted as if it were all the shared "
            "planning's, as it may be*"
        ]
    )
    result.stdout.no_fnmatch_line("Proceed to phase *: YES*")
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_shared_planning_under_its_cap_with_unattributed_usage_that_fits(
    pytester: pytest.Pytester,
) -> None:
    """A little unattributed usage (110 tokens) beside the lead's own 5,010: at most 5,120,
    still under 10k: the criterion passes, and says the figure is an upper bound."""
    result = _lean_planning(pytester, unplaced=100)
    result.stdout.fnmatch_lines(["*shared_planning_tokens*at most 5,120*PASS*"])
    assert read_report(pytester.path)["metric_bounds"]["shared_planning_tokens"] == "upper"
    assert result.ret == pytest.ExitCode.OK


def test_shared_planning_is_exact_when_nothing_is_unattributed(pytester: pytest.Pytester) -> None:
    """No usage left unplaced: the lead's own 5,010, exact, under 10k; nothing marked."""
    result = _lean_planning(pytester, unplaced=None)
    result.stdout.fnmatch_lines(["lean-planning * shared_planning_tokens * 5,010 * PASS*"])
    result.stdout.no_fnmatch_line("*at most 5,010*")
    report = read_report(pytester.path)
    assert not report["usage"]["unattributed"]
    assert "shared_planning_tokens" not in report["metric_bounds"]
    assert result.ret == pytest.ExitCode.OK


def test_a_tickets_figure_keeps_its_own_wording(pytester: pytest.Pytester) -> None:
    """The reason names whose figure is charged: the ticket's cap still says "this ticket's"."""
    cap: dict[str, object] = {
        "id": "ticket-cap",
        "for_each": "ticket",
        "metric": "tokens",
        "measure": "total",
        "max": "10k",
    }
    from tests.plugin.test_attribution_holes import _unplaced_phase

    _unplaced_phase(pytester, [cap], tickets=("R01", "R02"), unplaced=30_000)
    result = pytester.runpytest("--phase", "s1", "-p", "no:randomly")
    result.stdout.fnmatch_lines(["*counted as if it were all this ticket's, as it may be*"])
    result.stdout.no_fnmatch_line("*all the shared planning's*")


def _lean_planning(pytester: pytest.Pytester, unplaced: int | None) -> pytest.RunResult:
    """Phase s1 of R01 and R02 (see ``_unplaced_phase``) with "planning under 10k"; ``unplaced``
    None: without the sub-agent no rule places."""
    from tests.plugin.test_attribution_holes import _unplaced_phase

    cap: dict[str, object] = {
        "id": "lean-planning",
        "metric": "shared_planning_tokens",
        "measure": "total",
        "max": "10k",
    }
    _unplaced_phase(pytester, [cap], tickets=("R01", "R02"), unplaced=unplaced)
    return pytester.runpytest("--phase", "s1", "-p", "no:randomly", "--orchphase-json", "r.json")

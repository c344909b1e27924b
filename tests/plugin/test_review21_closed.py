"""Findings of the review of the third round's fixes, closed: the adoption decision's worst case
for runs it cannot place, and the shared planning beside usage no rule places."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_orchphase.decide.adoption import Adoption, adoption
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


# --- break-even: the unattributed usage may be planning or the tickets' own ---


def _break_even(pytester: pytest.Pytester, unplaced: int | None) -> dict[str, object]:
    """The tokens break-even of s1 (R01 20,010 and R02 10,010: 15,010 per ticket; the lead's
    own 5,010; single_agent 30,000 per ticket) beside ``unplaced`` + 10 no rule places."""
    from tests.plugin.test_attribution_holes import _unplaced_phase

    _unplaced_phase(pytester, [_TICKETS], tickets=("R01", "R02"), unplaced=unplaced)
    pytester.runpytest("--phase", "s1", "-p", "no:randomly", "--orchphase-json", "r.json")
    found: dict[str, object] = read_report(pytester.path)["decisions"]["break_even"]["tokens"]
    return found


_TICKETS: dict[str, object] = {"id": "tickets", "metric": "tickets", "min": 1}


def test_break_even_is_never_when_the_unattributed_usage_may_be_the_tickets_own(
    pytester: pytest.Pytester,
) -> None:
    """30,010 no rule places. As planning: ⌊35,020 / (30,000 − 15,010)⌋ + 1 = 3 tickets, what
    the line said. As the tickets' own work (which every further ticket brings again): a ticket
    costs 15,010 + 30,010 / 2 = 30,015, more than the single agent's 30,000: never. Any split
    lies between; the line said 3, exact."""
    be = _break_even(pytester, 30_000)
    assert be["tickets"] is None, be["line"]
    assert (be["tickets_if_planning"], be["tickets_if_tickets_own"]) == (3, None)
    assert be["depends_on_unattributed"] is True
    assert be["unattributed"] == 30_010
    assert be["line"] == (
        "Break-even (tokens): never: a ticket costs 30,015 under orchestration, single_agent "
        "30,000, so shared planning is never paid back (with the unattributed usage (30,010) "
        "counted as the tickets' own; from 3 tickets if it is all shared planning: map its "
        "agents and sessions to their tickets)"
    )


def test_orchphase_breakeven_says_the_same(
    pytester: pytest.Pytester, capsys: pytest.CaptureFixture[str]
) -> None:
    """`orchphase breakeven` prints the report's line: never, naming the other reading."""
    from pytest_orchphase.cli import main
    from tests.plugin.test_attribution_holes import _unplaced_phase

    _unplaced_phase(pytester, [_TICKETS], tickets=("R01", "R02"), unplaced=30_000)
    data = str(pytester.path / "docs" / "orchestration-data")
    criteria = str(pytester.path / "criteria")
    assert main(["breakeven", "--phase", "s1", "--criteria", criteria, "--data", data]) == 0
    out = capsys.readouterr().out
    assert "Break-even (tokens): never: a ticket costs 30,015 under orchestration" in out, out
    assert "from 3 tickets if it is all shared planning" in out, out


_LATER_OWN = (
    "Break-even (tokens): orchestration beats single_agent from 4 tickets — shared planning 5,010 "
    "/ (single_agent 30,000 − 28,515 per ticket), with the unattributed usage (27,010) counted as "
    "the tickets' own; from 3 tickets if it is all shared planning: map its agents and sessions "
    "to their tickets"
)
_LATER_PLANNING = (
    "Break-even (tokens): orchestration beats single_agent from 2 tickets — shared planning "
    "15,020 / (single_agent 30,000 − 15,010 per ticket), with the unattributed usage (10,010) "
    "counted as all shared planning; from 1 tickets if it is the tickets' own: map its agents "
    "and sessions to their tickets"
)


@pytest.mark.parametrize(
    ("unplaced", "readings", "line"),
    [(27_000, (4, 3, 4), _LATER_OWN), (10_000, (2, 2, 1), _LATER_PLANNING)],
)
def test_break_even_is_the_later_of_the_two_readings(
    pytester: pytest.Pytester, unplaced: int, readings: tuple[int, int, int], line: str
) -> None:
    """27,010 no rule places: as planning ⌊32,020 / 14,990⌋ + 1 = 3; as the tickets' own
    ⌊5,010 / (30,000 − 28,515)⌋ + 1 = 4. The line said 3; it is 4, the other named. 10,010:
    as planning ⌊15,020 / 14,990⌋ + 1 = 2 (the later), as the tickets' own
    ⌊5,010 / (30,000 − 20,015)⌋ + 1 = 1: the answer stays 2, and the line names the reading."""
    be = _break_even(pytester, unplaced)
    assert (be["tickets"], be["tickets_if_planning"], be["tickets_if_tickets_own"]) == readings
    assert be["depends_on_unattributed"] is True
    assert be["line"] == line


def test_break_even_without_unattributed_usage_is_one_figure(pytester: pytest.Pytester) -> None:
    """Nothing unplaced: ⌊5,010 / 14,990⌋ + 1 = 1, exact, the line as it always was."""
    be = _break_even(pytester, None)
    assert (be["tickets"], be["unattributed"], be["depends_on_unattributed"]) == (1, None, False)
    assert be["line"] == (
        "Break-even (tokens): orchestration beats single_agent from 1 tickets — shared planning "
        "5,010 / (single_agent 30,000 − 15,010 per ticket)"
    )


@pytest.mark.parametrize(
    ("unplaced", "shown"),
    [(30_000, "R01 ≤ 50,020, R02 ≤ 40,020"), (None, "R01 20,010, R02 10,010")],
    ids=["unattributed", "none"],
)
def test_the_dashboard_shows_a_tickets_figure_as_its_criteria_see_it(
    pytester: pytest.Pytester,
    capsys: pytest.CaptureFixture[str],
    unplaced: int | None,
    shown: str,
) -> None:
    """Sibling of the ticket table: `orchphase dashboard`'s per-ticket column showed each
    ticket's own tokens as exact beside 30,010 no rule places, which its `tokens` criteria
    (and the report's table) count as at most 50,020 and 40,020. Nothing unplaced: exact."""
    from pytest_orchphase.cli import main
    from tests.plugin.test_attribution_holes import _unplaced_phase

    _unplaced_phase(pytester, [_TICKETS], tickets=("R01", "R02"), unplaced=unplaced)
    data = pytester.path / "docs" / "orchestration-data"
    assert (
        main(["dashboard", "--criteria", str(pytester.path / "criteria"), "--data", str(data)]) == 0
    )
    row = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("s1"))
    assert shown in row, row

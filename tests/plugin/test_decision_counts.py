"""The decision counts distinct items, not results, and counts errors from pytest's hooks.

An item run more than once (its criteria file named twice with ``--keep-duplicates``, every
worker of ``-n N --dist each``) is one item: its copies never stand in for an item that did not
run, and it failed when any copy failed. Collection errors are counted from the collection hook,
not from the terminal reporter, so ``-p no:terminal`` does not hide them.
"""

from __future__ import annotations

from typing import Any, cast

import pytest

from pytest_orchphase.decide.decisions import proceed
from pytest_orchphase.report.results import Entry
from tests.helpers import Phase, read_report
from tests.plugin.test_decision_counts_every_item import BROKEN_FIXTURE

BROKEN_MODULE = "def test_x(:\n    pass\n"
PASSING_CHECK = "def test_ok():\n    assert True\n"


def _failing_time(project: pytest.Pytester) -> None:
    """Phase a1 of the example with its `time` criterion failing (27 min against below 20)."""
    a1 = Phase.example("a1")
    a1.criterion("time")["below"] = 20
    a1.write(project.path)


def _names(report: dict[str, Any]) -> list[str]:
    return [e["name"] for e in report["criteria"]] + [g["name"] for g in report["gates"]]


def _run(
    project: pytest.Pytester, *args: str, xdist: bool = False
) -> tuple[pytest.RunResult, dict[str, Any]]:
    """A phase run (in a subprocess under xdist): its result and its JSON report."""
    run = project.runpytest_subprocess if xdist else project.runpytest
    result = run(*args, "-p", "no:randomly", "--orchphase-json", "r.json")
    return result, read_report(project.path)


def _without_terminal(
    project: pytest.Pytester, check: str, *args: str, xdist: bool = False
) -> tuple[pytest.RunResult, dict[str, Any]]:
    """Phase a1 with a Python check beside its criteria, without the terminal plugin: the run
    and its decision."""
    project.makepyfile(test_checks=check)
    result, report = _run(
        project, "--phase", "a1", "test_checks.py", "-p", "no:terminal", *args, xdist=xdist
    )
    return result, report["decisions"]["proceed"]


TWICE = ("--keep-duplicates", "criteria/a1.yaml", "criteria/a1.yaml")
EACH = ("-n", "2", "--dist", "each")


# --- repros of the adversarial round (tests/plugin/test_yes_hunt.py on branch yes-hunt) ---


def test_deselecting_a_failing_criterion_with_the_file_named_twice_is_not_yes(
    project: pytest.Pytester,
) -> None:
    """`--keep-duplicates` collects every item twice: 10 results of 5 distinct criteria do not
    pass for the 6 expected, and the deselected failure keeps the run from YES."""
    _failing_time(project)
    result, report = _run(project, "--phase", "a1", *TWICE, "-k", "not time")
    result.stdout.no_fnmatch_line("Proceed to phase a2: YES*")
    result.stdout.fnmatch_lines(["Proceed to phase a2: UNDECIDED — only 5 of 6 criteria ran*"])
    assert report["decisions"]["proceed"]["answer"] == "UNDECIDED"
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    names = _names(report)  # the report lists each item once
    assert len(names) == len(set(names)) == 5


def test_deselecting_a_failing_criterion_under_xdist_dist_each_is_not_yes(
    project: pytest.Pytester,
) -> None:
    """`-n 2 --dist each` runs every item on each worker: the controller gets two results per
    item, and 2 × 5 selected items do not pass for the 6 expected."""
    _failing_time(project)
    result, report = _run(project, "--phase", "a1", *EACH, "-k", "not time", xdist=True)
    result.stdout.no_fnmatch_line("Proceed to phase a2: YES*")
    assert report["decisions"]["proceed"]["answer"] == "UNDECIDED"
    assert "only 5 of 6 criteria ran" in report["decisions"]["proceed"]["line"]
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_a_collection_error_beside_the_criteria_is_counted_without_the_terminal(
    project: pytest.Pytester,
) -> None:
    """With `-p no:terminal` (and `--continue-on-collection-errors`, so that the criteria still
    run) a Python check that does not import is a collection error of the decision: NO, as the
    same run says with the terminal plugin."""
    result, decision = _without_terminal(project, BROKEN_MODULE, "--continue-on-collection-errors")
    assert result.ret != pytest.ExitCode.OK
    assert (decision["answer"], decision["reasons"]) == ("NO", ["1 collection error(s)"])


# --- siblings: the same runs where the phase passes (still YES, each item once), gates,
# --- the workers' collection errors, an item failing after its entry passed


def test_the_file_named_twice_with_every_criterion_passing_is_yes_and_listed_once(
    project: pytest.Pytester,
) -> None:
    result, report = _run(project, "--phase", "a1", *TWICE)
    result.assert_outcomes(passed=12)  # pytest runs each of the 6 items twice
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["Proceed to phase a2: YES"])
    assert report["decisions"]["proceed"]["answer"] == "YES"
    names = _names(report)
    assert len(names) == len(set(names)) == 6
    # the summary table too: one row per item
    assert sum("wall_time_minutes" in line for line in result.outlines) == 1


def test_every_item_on_each_worker_passing_is_yes_and_listed_once(
    project: pytest.Pytester,
) -> None:
    result, report = _run(project, "--phase", "a1", *EACH, xdist=True)
    assert result.ret == pytest.ExitCode.OK
    assert report["decisions"]["proceed"]["answer"] == "YES"
    names = _names(report)
    assert len(names) == len(set(names)) == 6


def test_a_failing_criterion_run_twice_is_named_once(project: pytest.Pytester) -> None:
    _failing_time(project)
    result, report = _run(project, "--phase", "a1", *TWICE)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["Proceed to phase a2: NO — failing: time"])
    assert report["decisions"]["proceed"]["reasons"] == ["failing: time"]
    [time] = [e for e in report["criteria"] if e["name"] == "time"]
    assert not time["passed"]


def test_a_gate_run_on_each_worker_still_gates(project: pytest.Pytester) -> None:
    """a2 requires a1: with a1 failing, deselecting the gate leaves two copies of each
    criterion, which do not stand in for it."""
    _failing_time(project)
    result, report = _run(project, "--phase", "a2", *EACH, "-k", "not phase-gate", xdist=True)
    assert report["decisions"]["proceed"]["answer"] == "UNDECIDED"
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_without_the_terminal_a_clean_run_is_still_yes(project: pytest.Pytester) -> None:
    result, decision = _without_terminal(project, PASSING_CHECK)
    assert result.ret == pytest.ExitCode.OK
    assert decision["answer"] == "YES"


def test_without_the_terminal_a_setup_error_is_a_failure(project: pytest.Pytester) -> None:
    result, decision = _without_terminal(project, BROKEN_FIXTURE)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert decision["answer"] == "NO"
    assert decision["reasons"] == ["failing: test_checks.py::test_uses_broken"]


def test_a_workers_collection_error_is_counted_without_the_terminal(
    project: pytest.Pytester,
) -> None:
    """Under xdist the workers collect; their collection errors reach the controller's hook,
    once however many workers saw them."""
    result, decision = _without_terminal(
        project, BROKEN_MODULE, "--continue-on-collection-errors", *EACH, xdist=True
    )
    assert result.ret != pytest.ExitCode.OK
    assert (decision["answer"], decision["reasons"]) == ("NO", ["1 collection error(s)"])


def test_an_item_that_failed_after_its_entry_passed_is_a_failure(project: pytest.Pytester) -> None:
    """A bypassed gate passes its entry, then warns: with the warning turned into an error the
    item fails, and the decision names it instead of saying YES."""
    _failing_time(project)
    warning = "error::pytest_orchphase.plugin.collect.OrchphaseWarning"
    result, report = _run(project, "--phase", "a2", "--orchphase-no-gate", "-W", warning)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    decision = report["decisions"]["proceed"]
    assert decision["answer"] == "NO"
    assert decision["reasons"] == ["failing: phase-gate[a1]"]


def test_a_bypassed_gate_without_the_error_is_still_yes(project: pytest.Pytester) -> None:
    _failing_time(project)
    result, report = _run(project, "--phase", "a2", "--orchphase-no-gate")
    assert result.ret == pytest.ExitCode.OK
    decision = report["decisions"]["proceed"]
    assert decision["answer"] == "YES"
    assert decision["reasons"] == ["gate a1 bypassed with --orchphase-no-gate"]


# --- the decision itself ---


def _entry(name: str, passed: bool = True, kind: str = "criterion") -> Entry:
    """The keys of an entry the decision reads."""
    data = {"kind": kind, "name": name, "passed": passed, "bypassed": False, "required": name}
    return cast(Entry, data)


EXPECTED = [("gate", "phase-gate[a0]"), *(("criterion", c) for c in "abcde")]


def test_copies_of_some_items_do_not_stand_in_for_an_item_that_did_not_run() -> None:
    entries = [_entry(c) for c in "abcd" * 2] + [_entry("phase-gate[a0]", kind="gate")] * 2
    decision = proceed("a2", entries, EXPECTED, 0)
    assert decision.answer == "UNDECIDED"
    assert decision.reasons == ["only 5 of 6 criteria ran (deselected or skipped)"]


def test_an_item_whose_copies_disagree_failed() -> None:
    entries = [_entry(c) for c in "abcde"] + [_entry("phase-gate[a0]", kind="gate")]
    entries.append(_entry("c", passed=False))
    decision = proceed("a2", entries, EXPECTED, 0)
    assert (decision.answer, decision.reasons) == ("NO", ["failing: c"])
    # whichever copy came first
    decision = proceed("a2", entries[::-1], EXPECTED, 0)
    assert (decision.answer, decision.reasons) == ("NO", ["failing: c"])


def test_a_criterion_does_not_stand_in_for_a_gate_of_the_same_name() -> None:
    entries = [_entry(c) for c in "abcde"] + [_entry("phase-gate[a0]")]
    assert proceed("a2", entries, EXPECTED, 0).answer == "UNDECIDED"


def test_an_unexpected_entry_does_not_stand_in_for_an_expected_one() -> None:
    entries = [_entry(c) for c in "abcdz"] + [_entry("phase-gate[a0]", kind="gate")]
    assert proceed("a2", entries, EXPECTED, 0).answer == "UNDECIDED"


def test_every_expected_item_once_or_more_is_yes() -> None:
    once = [_entry(c) for c in "abcde"] + [_entry("phase-gate[a0]", kind="gate")]
    assert proceed("a2", once, EXPECTED, 0).answer == "YES"
    assert proceed("a2", once * 3, EXPECTED, 0).answer == "YES"


def test_another_item_failing_on_each_worker_is_named_once() -> None:
    once = [_entry(c) for c in "abcde"] + [_entry("phase-gate[a0]", kind="gate")]
    decision = proceed("a2", once, EXPECTED, 0, ["t.py::test_x", "t.py::test_x"])
    assert decision.reasons == ["failing: t.py::test_x"]


LATE_INTERNAL_ERROR = """
def pytest_runtest_logfinish(nodeid, location):
    if nodeid.endswith("savings-vs-v2"):  # the last item of a1, after its result
        raise RuntimeError("a hook of the project's conftest fails")
"""


def test_an_internal_error_after_every_item_passed_is_not_yes(project: pytest.Pytester) -> None:
    """pytest exits 3 when a hook raises; the items had all passed: the JSON says NO, naming
    the internal error, not YES."""
    project.makeconftest(LATE_INTERNAL_ERROR)
    result, report = _run(project, "--phase", "a1")
    assert result.ret == pytest.ExitCode.INTERNAL_ERROR
    decision = report["decisions"]["proceed"]
    assert decision["answer"] == "NO"
    assert decision["reasons"] == ["failing: pytest internal error (exit status 3)"]

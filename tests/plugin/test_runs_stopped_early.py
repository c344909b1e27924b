"""A phase run that stops or is ended early never leaves YES behind: a failure that stops an
xdist run (`-x`), a project's hook that exits (`pytest.exit`, Ctrl-C, a failure, in
`pytest_configure`, `pytest_sessionstart`, before an item, at the session's end or in the
terminal summary) or turns "no test ran" into exit 0. The run does not exit 0, and no report says
YES for it (an earlier YES report left at the path included)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import Phase, YamlData, assert_not_yes, decision, flat_ticket, run_phase

CAP: YamlData = {"id": "cap", "for_each": "ticket", "metric": "tokens", "measure": "total"}


def _capped_phase(root: Path, t02_tokens: int) -> None:
    """Phase p1: two Sonnet tickets under a per-ticket cap of 30,000 tokens, T01 at 20,000."""
    tickets = {"T01": flat_ticket(), "T02": flat_ticket(actual_tokens=t02_tokens)}
    Phase.of("p1", [{**CAP, "max": 30_000}], tickets).write(root)


def _stopped_after_a_yes(pytester: pytest.Pytester, hook: str) -> pytest.RunResult:
    """Phase p1 decided YES into r.json, then made NO (T02 over its cap) and run again with a
    conftest ``hook`` that stops the run before the session's items."""
    _capped_phase(pytester.path, 25_000)
    assert run_phase(pytester, "p1").ret == 0
    assert decision(pytester) == "YES"
    _capped_phase(pytester.path, 45_000)
    pytester.makeconftest(f"import pytest\n\ndef {hook}\n")
    return pytester.runpytest_subprocess(  # a Ctrl-C in process would end this test too
        "--phase", "p1", "--orchphase-json", "r.json", "-p", "no:randomly"
    )


def test_a_failure_that_stops_an_xdist_run_leaves_no_yes_report(
    pytester: pytest.Pytester,
) -> None:
    _capped_phase(pytester.path, 25_000)
    assert run_phase(pytester, "p1").ret == 0
    assert decision(pytester) == "YES"
    _capped_phase(pytester.path, 45_000)
    result = pytester.runpytest_subprocess(
        "--phase", "p1", "--orchphase-json", "r.json", "-p", "no:randomly", "-n", "2", "-x"
    )
    assert result.ret != 0
    assert decision(pytester) != "YES", result.stdout.str()


def test_a_run_a_project_hook_ends_early_does_not_exit_0(pytester: pytest.Pytester) -> None:
    _capped_phase(pytester.path, 25_000)
    assert run_phase(pytester, "p1").ret == 0
    _capped_phase(pytester.path, 45_000)
    pytester.makeconftest(
        "import pytest\n\n"
        "def pytest_runtest_setup(item):\n"
        "    if 'T02' in item.nodeid:\n"
        "        pytest.exit('done for today', returncode=0)\n"
    )
    result = run_phase(pytester, "p1")
    assert result.ret != 0, result.stdout.str()
    assert decision(pytester) != "YES", result.stdout.str()


def test_a_phase_run_with_every_criterion_deselected_does_not_exit_0(
    pytester: pytest.Pytester,
) -> None:
    _capped_phase(pytester.path, 45_000)
    pytester.makeconftest(
        "def pytest_sessionfinish(session, exitstatus):\n"
        "    if exitstatus == 5:\n"
        "        session.exitstatus = 0\n"
    )
    result = run_phase(pytester, "p1", "-k", "T03")
    assert result.ret != 0, result.stdout.str()
    assert decision(pytester) != "YES", result.stdout.str()


@pytest.mark.parametrize(
    "stop",
    ["pytest.exit('not on this runner', returncode=0)", "raise KeyboardInterrupt"],
    ids=["exit-0", "ctrl-c"],
)
def test_a_run_stopped_in_a_configure_hook_leaves_no_earlier_yes_behind(
    pytester: pytest.Pytester, stop: str
) -> None:
    result = _stopped_after_a_yes(pytester, f"pytest_configure(config):\n    {stop}")
    assert_not_yes(pytester, result)


@pytest.mark.parametrize(
    "stop",
    ["pytest.exit('not on this runner', returncode=0)", "raise KeyboardInterrupt"],
    ids=["exit-0", "ctrl-c"],
)
def test_a_run_stopped_in_a_sessionstart_hook_leaves_no_earlier_yes_behind(
    pytester: pytest.Pytester, stop: str
) -> None:
    result = _stopped_after_a_yes(pytester, f"pytest_sessionstart(session):\n    {stop}")
    assert_not_yes(pytester, result)


@pytest.mark.parametrize(
    "stop",
    ["pytest.fail('no database here')", "raise RuntimeError('no database here')"],
    ids=["fail", "error"],
)
def test_a_run_failed_in_a_sessionstart_hook_leaves_no_earlier_yes_behind(
    pytester: pytest.Pytester, stop: str
) -> None:
    result = _stopped_after_a_yes(pytester, f"pytest_sessionstart(session):\n    {stop}")
    assert_not_yes(pytester, result)


@pytest.mark.parametrize(
    "hook",
    ["pytest_sessionfinish(session)", "pytest_terminal_summary(terminalreporter)"],
    ids=["sessionfinish", "terminal-summary"],
)
def test_a_later_hook_exiting_0_does_not_make_a_no_phase_pass(
    pytester: pytest.Pytester, hook: str
) -> None:
    _capped_phase(pytester.path, 45_000)
    pytester.makeconftest(f"import pytest\n\ndef {hook}:\n    pytest.exit('bye', returncode=0)\n")
    result = run_phase(pytester, "p1")
    assert decision(pytester) == "NO"
    assert result.ret != 0, result.stdout.str()

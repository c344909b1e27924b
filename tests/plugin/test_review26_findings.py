"""Review of 2026-11-30's third round of changes (306883f..6967a7f: runs stopped early, the
folder walk, main-session placeholder outputs): each test is a finding on main (xfail strict
until fixed); the reason says what is observed and what is expected."""

from __future__ import annotations

import os
import shutil

import pytest

from tests.helpers import assert_not_yes, decision, run_phase
from tests.plugin.test_yes_hunt8 import (
    WORKER,
    _capped_phase,
    _lead_and_worker,
    _stopped_after_a_yes,
)


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


def test_a_dangling_folder_link_in_the_transcripts_folder_is_not_skipped_silently(
    pytester: pytest.Pytester,
) -> None:
    home, _ = _lead_and_worker(pytester)
    os.symlink(pytester.path / "on-another-machine", home.root / "projects" / "r01-worker")
    result = run_phase(pytester, "m1")
    assert_not_yes(pytester, result)


@pytest.mark.parametrize("kind", ["zip", "gztar"])
def test_an_archive_of_sessions_in_the_transcripts_folder_is_not_skipped_silently(
    pytester: pytest.Pytester, kind: str
) -> None:
    home, worker = _lead_and_worker(pytester)
    shutil.make_archive(str(home.root / "projects" / "worker-sessions"), kind, worker.root)
    result = run_phase(pytester, "m1")
    assert_not_yes(pytester, result)


@pytest.mark.parametrize("how", ["file", "folder-link"])
def test_a_session_beside_projects_in_the_transcripts_folder_is_not_skipped_silently(
    pytester: pytest.Pytester, how: str
) -> None:
    home, worker = _lead_and_worker(pytester)
    if how == "file":
        shutil.copy(worker.project / f"{WORKER}.jsonl", home.root / f"{WORKER}.jsonl")
    else:
        os.symlink(worker.project, home.root / "r01-worker")
    result = run_phase(pytester, "m1")
    assert_not_yes(pytester, result)

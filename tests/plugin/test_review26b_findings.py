"""Review 26b (e0b3b6b..4737bcf: runs stopped early, the folder walk, what a headless result
settles): each test is a finding on main (xfail strict until fixed); the reason says what is
observed and what is expected."""

from __future__ import annotations

import os

import pytest

from tests.helpers import assert_not_yes, decision, run_phase
from tests.plugin.test_yes_hunt8 import _lead_and_worker, _stopped_after_a_yes


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
    ["pytest.fail('no database here')", "raise RuntimeError('no database here')"],
    ids=["fail", "error"],
)
def test_a_run_failed_in_a_sessionstart_hook_leaves_no_earlier_yes_behind(
    pytester: pytest.Pytester, stop: str
) -> None:
    result = _stopped_after_a_yes(pytester, f"pytest_sessionstart(session):\n    {stop}")
    assert_not_yes(pytester, result)


def test_a_dangling_link_with_a_non_utf8_name_is_reported_not_a_traceback(
    pytester: pytest.Pytester,
) -> None:
    home, _ = _lead_and_worker(pytester)
    args = ("--phase", "m1", "--orchphase-json", "r.json", "-p", "no:randomly")
    assert pytester.runpytest_subprocess(*args).ret == 0
    assert decision(pytester) == "YES"
    os.symlink(b"/nowhere", os.fsencode(home.root / "projects") + b"/l\xe9nk")
    result = pytester.runpytest_subprocess(*args)
    assert "Traceback" not in result.stdout.str() + result.stderr.str()
    assert_not_yes(pytester, result)


def test_a_config_folder_as_transcripts_with_its_debug_link_stays_yes(
    pytester: pytest.Pytester,
) -> None:
    home, _ = _lead_and_worker(pytester)
    (home.root / "debug").mkdir()
    os.symlink("/home/dev/phase/transcripts/debug/ae4a77f8.txt", home.root / "debug" / "latest")
    result = run_phase(pytester, "m1")
    assert decision(pytester) == "YES", result.stdout.str()
    assert result.ret == 0

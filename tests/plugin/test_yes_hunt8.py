"""Eighth adversarial round: pytest users' ways of running a phase (xdist, ``-x``, a project's
hooks) and the reports a run leaves behind, where a phase reads YES (exit 0, or a report that
says YES) when the data shows it should not. Each test is a finding on main (xfail strict until
fixed); the reason says what is observed and what is expected."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pytest

from tests.helpers import (
    ClaudeHome,
    Phase,
    YamlData,
    assert_not_yes,
    assistant,
    decision,
    flat_ticket,
    run_phase,
    usage,
    user,
)

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


#: The last message of a real Claude Code 2.1.39 lead session (marot/spotter's fixture
#: ae4a77f8-….jsonl, msg_012Vtrh1KUniRzp9AH8ZCu2b): a summary of 960 characters, 117 words,
#: written on its only line with ``output_tokens: 1`` and no ``stop_reason``. The same file's
#: msg_01KgbUaKnQG26252ASHRHWMJ (1,605 characters) records 1 too; over that folder's six main
#: sessions, 10 to 30 % of responses record at most 10 output tokens for hundreds of characters.
SUMMARY = "All done. The whole epic is complete. " + "Here is what each task changed. " * 30


def test_a_main_session_response_recorded_with_a_placeholder_output_proves_no_max(
    pytester: pytest.Pytester,
) -> None:
    criterion = {
        "id": "planning-output",
        "metric": "shared_planning_tokens",
        "measure": "output",
        "max": 200,
    }
    planning = {"model": "opus", "estimated_tokens": 20_000}
    phase = Phase.of("m1", [criterion], {"R01": flat_ticket()}, planning=planning)
    phase.write(pytester.path)
    reply = [{"type": "text", "text": SUMMARY}]
    phase.transcripts(pytester.path).session(
        [
            user("Plan this batch of tickets"),
            assistant(
                "msg_1", "req_1", u=usage(inp=3, out=1, cw=9_000), content=reply, final=False
            ),
        ]
    )
    result = run_phase(pytester, "m1")
    assert_not_yes(pytester, result)
    result.stdout.fnmatch_lines(
        [
            "*at least 1: a lower bound cannot prove max 200: 1 main-session response(s) record "
            "only a placeholder output count*"
        ]
    )


WORKER = "11111111-2222-3333-4444-555555555555"
SONNET = "claude-sonnet-4-5-20250929"


def _lead_and_worker(pytester: pytest.Pytester) -> tuple[ClaudeHome, ClaudeHome]:
    """Phase m1, measured from its transcripts/ folder: the lead's session there (501 tokens)
    under a phase cap of 50,000 tokens; R01 logged at 10,000 tokens, and its worker session
    (90,002 tokens on Sonnet) written into a Claude folder of its own, to put in place."""
    cap = {"id": "cap", "metric": "tokens", "measure": "total", "max": 50_000}
    planning = {"model": "opus", "estimated_tokens": 1_000}
    tickets = {"R01": flat_ticket(actual_tokens=10_000)}
    phase = Phase.of("m1", [cap], tickets, planning=planning)
    phase.write(pytester.path)
    home = phase.transcripts(pytester.path)
    home.session([user("Plan this batch"), assistant("msg_1", "req_1", u=usage(out=500))])
    worker = ClaudeHome(pytester.path / "worker")
    work = assistant("msg_2", "req_2", model=SONNET, u=usage(cr=90_000), session=WORKER)
    worker.session([user("Implement R01", session=WORKER), work], session=WORKER)
    return home, worker


def test_a_compressed_session_in_the_transcripts_folder_is_not_skipped_silently(
    pytester: pytest.Pytester,
) -> None:
    home, worker = _lead_and_worker(pytester)
    session = worker.project / f"{WORKER}.jsonl"
    gzipped = home.project / f"{WORKER}.jsonl.gz"
    gzipped.write_bytes(gzip.compress(session.read_bytes()))
    result = run_phase(pytester, "m1")
    assert_not_yes(pytester, result)


def test_a_folder_linked_into_the_transcripts_folder_is_not_skipped_silently(
    pytester: pytest.Pytester,
) -> None:
    home, worker = _lead_and_worker(pytester)
    os.symlink(worker.project, home.root / "projects" / "r01-worker")
    result = run_phase(pytester, "m1")
    assert_not_yes(pytester, result)

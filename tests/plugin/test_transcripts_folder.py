"""Every file in a phase's transcripts/ folder measures it, or is an error naming it, never skipped
silently: a compressed session, an archive of sessions, a folder linked in (dangling, or named in
bytes that are no UTF-8), a session beside projects/. A Claude config folder's own links
(debug/latest) are not sessions: the phase stays YES."""

from __future__ import annotations

import gzip
import os
import shutil

import pytest

from tests.helpers import (
    ClaudeHome,
    Phase,
    assert_not_yes,
    assistant,
    decision,
    flat_ticket,
    run_phase,
    usage,
    user,
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

"""`orchphase collect` and a phase measured from its usage ledger: the same verdicts, usage, USD
and attribution as from the raw transcripts it was collected from."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from pytest_orchphase.cli import main
from tests.helpers import CWD, PROJECT, read_report, read_yaml, write_yaml
from tests.plugin.test_measured_phase import write_phase
from tests.plugin.test_session_attribution import (
    LEAD,
    WORKER_1,
    WORKER_2,
    lead_session,
    phase,
    worker_sessions,
)

DATA = Path("docs") / "orchestration-data" / "phase-m1"


def _collect(pytester: pytest.Pytester, *args: str) -> int:
    return main(["collect", "m1", *args])


def _round_trip(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[dict[str, Any], dict[str, Any], str]:
    """The JSON report from the raw transcripts, then from the ledger collected from them."""
    monkeypatch.chdir(pytester.path)
    raw = pytester.runpytest("--phase", "m1", "--orchphase-json", "raw.json")
    assert _collect(pytester, str(DATA / "transcripts")) == 0
    summary = capsys.readouterr().out
    data = pytester.path / DATA
    shutil.move(data / "transcripts", pytester.path / "moved")  # the ledger alone is read
    meta = data / "metadata.yaml"
    meta.write_text(meta.read_text() + "sessions: [usage.jsonl]\n")
    ledger = pytester.runpytest("--phase", "m1", "--orchphase-json", "ledger.json")
    assert ledger.ret == raw.ret
    return (
        read_report(pytester.path, "raw.json"),
        read_report(pytester.path, "ledger.json"),
        summary,
    )


def _same(raw: dict[str, Any], ledger: dict[str, Any]) -> None:
    """Every figure, verdict, attribution and warning of the report, byte for byte."""
    assert ledger["tickets"] and ledger["usage"]["agents"]
    assert ledger == raw


def test_a_phase_from_its_ledger_has_the_raw_verdicts_and_attribution(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    write_phase(pytester)  # tickets named in Task descriptions, one agent unattributed
    raw, ledger, summary = _round_trip(pytester, monkeypatch, capsys)
    _same(raw, ledger)
    assert "usage.jsonl: 4 file(s) collected" in summary
    agents = {a["agent_id"]: a["ticket"] for a in ledger["usage"]["agents"]}
    assert agents == {"a1": "R03", "a2": "R06", "a3": None}


def test_worker_sessions_keep_their_first_prompt_tickets_in_the_ledger(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    home = phase(pytester)
    lead_session(home)
    worker_sessions(home, "Implement R09: the export button", "Review the R09 export button")
    raw, ledger, _ = _round_trip(pytester, monkeypatch, capsys)
    _same(raw, ledger)
    roles = {s["role"] for s in ledger["usage"]["sessions"]}
    assert roles == {"lead", "ticket"}
    assert ledger["usage"]["tickets"]["R09"]["total"]["total"] == 150000  # fails the cap


def test_collecting_twice_writes_the_same_ledger(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write_phase(pytester)
    monkeypatch.chdir(pytester.path)
    out = pytester.path.parent / "elsewhere" / "m1-usage.jsonl"  # absolute, outside the project
    assert _collect(pytester, str(DATA / "transcripts"), f"--out={out}") == 0
    first = out.read_bytes()
    assert _collect(pytester, str(DATA / "transcripts"), "--out", str(out)) == 0
    assert out.read_bytes() == first
    assert "4 block(s) collected again" in capsys.readouterr().out


def test_collect_never_overwrites_a_file_that_is_not_a_ledger(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write_phase(pytester)
    monkeypatch.chdir(pytester.path)
    notes = pytester.path / DATA / "usage.jsonl"
    notes.write_text("my notes\n")
    assert _collect(pytester, str(DATA / "transcripts")) == 2
    assert notes.read_text() == "my notes\n"
    err = capsys.readouterr().err
    assert "usage.jsonl: exists and is not a usage ledger" in err
    assert "Traceback" not in err


def test_collect_outside_the_time_window_finds_nothing_and_says_so(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write_phase(pytester)
    monkeypatch.chdir(pytester.path)
    session = next((pytester.path / DATA / "transcripts").rglob("*.jsonl"))
    session_arg = str(session)
    assert _collect(pytester, session_arg, "--since", "2999-01-01") == 2
    assert "no session file to collect in the time window" in capsys.readouterr().err
    assert _collect(pytester, session_arg, "--until", "yesterday") == 2
    assert "--until: 'yesterday'; expected a date or time" in capsys.readouterr().err
    assert not (pytester.path / DATA / "usage.jsonl").exists()


def test_collect_names_an_unknown_session_id(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write_phase(pytester)
    monkeypatch.chdir(pytester.path)
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(pytester.path / DATA / "transcripts"))
    assert _collect(pytester, "no-such-session") == 2
    assert "no transcript for session 'no-such-session'" in capsys.readouterr().err


def test_collect_never_merges_into_a_ledger_of_a_later_format(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write_phase(pytester)
    monkeypatch.chdir(pytester.path)
    later = pytester.path / DATA / "usage.jsonl"
    later.write_text('{"orchphase_ledger":2,"orchphase":"9.0.0","phase":"m1"}\n')
    assert _collect(pytester, str(DATA / "transcripts")) == 2
    assert later.read_text().startswith('{"orchphase_ledger":2')
    assert "a usage ledger of format 2; this orchphase merges format 1 only" in (
        capsys.readouterr().err
    )


def test_a_ledger_in_the_data_folder_is_read_without_being_named(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write_phase(pytester)
    monkeypatch.chdir(pytester.path)
    raw = pytester.runpytest("--phase", "m1", "--orchphase-json", "raw.json")
    assert _collect(pytester, str(DATA / "transcripts")) == 0
    shutil.move(pytester.path / DATA / "transcripts", pytester.path / "moved")
    ledger = pytester.runpytest("--phase", "m1", "--orchphase-json", "ledger.json")
    assert (raw.ret, ledger.ret) == (1, 1)
    _same(read_report(pytester.path, "raw.json"), read_report(pytester.path, "ledger.json"))


def test_sessions_named_by_id_are_read_from_the_ledger_where_claude_code_is_absent(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """metadata.yaml unchanged: the lead and a worker named by id (the worker with its ticket)
    are measured on a machine without their transcripts from the committed ledger."""
    named = [{"session": LEAD, "lead": True}, {"session": WORKER_1, "ticket": "R06"}]
    home = phase(pytester, sessions=named)
    lead_session(home)
    worker_sessions(home, "Implement R09: the export button", "Review the R09 export button")
    claude = pytester.path / "claude"
    shutil.move(home.root, claude)  # Claude Code's folder, not the phase's transcripts/
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(claude))
    monkeypatch.chdir(pytester.path)
    raw = pytester.runpytest("--phase", "m1", "--orchphase-json", "raw.json")
    assert _collect(pytester) == 0  # the sessions metadata.yaml names
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(pytester.path / "nowhere"))
    ledger = pytester.runpytest("--phase", "m1", "--orchphase-json", "ledger.json")
    assert (raw.ret, ledger.ret) == (1, 1)
    data = read_report(pytester.path, "ledger.json")
    _same(read_report(pytester.path, "raw.json"), data)
    roles = {s["session_id"]: (s["role"], s["ticket"]) for s in data["usage"]["sessions"]}
    assert roles == {LEAD: ("lead", None)}  # WORKER_1 is a ticket session, not a main one
    assert data["usage"]["tickets"]["R06"]["total"]["total"] == 50010 + 100000


def test_a_session_in_neither_claude_code_nor_the_ledger_is_an_error(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    home = phase(pytester, sessions=[{"session": LEAD, "lead": True}])
    lead_session(home)
    claude = pytester.path / "claude"
    shutil.move(home.root, claude)
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(claude))
    monkeypatch.chdir(pytester.path)
    assert _collect(pytester) == 0
    meta = pytester.path / DATA / "metadata.yaml"
    metadata = read_yaml(meta)
    metadata["sessions"].append({"session": WORKER_2})
    write_yaml(meta, metadata)
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(pytester.path / "nowhere"))
    result = pytester.runpytest("--phase", "m1")
    result.assert_outcomes(failed=4)  # every item: the phase's files have an error
    result.stdout.fnmatch_lines(
        [
            f"*metadata.yaml:*: sessions[[]1[]]: no transcript for session '{WORKER_2}'*"
            f"; nor is it in *usage.jsonl*"
        ]
    )


@pytest.mark.parametrize("how", ["project folder", "working folder"])
def test_collect_takes_every_session_of_a_project(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    how: str,
) -> None:
    write_phase(pytester)
    monkeypatch.chdir(pytester.path)
    home = pytester.path / DATA / "transcripts"
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(home))
    project = home / "projects" / PROJECT if how == "project folder" else Path(CWD)
    assert _collect(pytester, "--project", str(project)) == 0
    assert "4 file(s) collected" in capsys.readouterr().out
    assert _collect(pytester, "--project", str(pytester.path / "nowhere")) == 2
    assert "no Claude Code session of project" in capsys.readouterr().err


def test_a_ticket_added_after_collecting_is_an_error_not_an_unnamed_ticket(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    home = phase(pytester)
    lead_session(home)
    worker_sessions(home, "Implement R09: the export button", "Review the R09 export button")
    monkeypatch.chdir(pytester.path)
    data = pytester.path / DATA
    meta, log = data / "metadata.yaml", data / "execution-log.yaml"
    meta.write_text("phase: M1\ntickets: [R03, R06]\n")
    log.write_text(log.read_text().split("  R09:")[0])
    assert _collect(pytester, str(DATA / "transcripts")) == 0  # R09 was not a ticket then
    shutil.move(data / "transcripts", pytester.path / "moved")
    meta.write_text("phase: M1\ntickets: [R03, R06, R09]\n")
    log.write_text(log.read_text() + "  R09:\n    implementation: {estimated_tokens: 20000}\n")
    result = pytester.runpytest("--phase", "m1")
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        ["*the usage ledger was collected for tickets R03, R06, not R09: collect it again*"]
    )
    assert "Traceback" not in result.stdout.str() + result.stderr.str()

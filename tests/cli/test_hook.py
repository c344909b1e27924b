"""orchphase hook: Claude Code's SessionEnd and SubagentStop payloads handed to `orchphase
collect` in the background when a phase is active; anything else logged and ignored; never a
non-zero exit, never a wait on stdin."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO, Any

import pytest

from pytest_orchphase import cli
from pytest_orchphase.cli import hook
from pytest_orchphase.settings import KEYS
from tests.helpers import FIXTURES

SESSION = "ae4a77f8-aedd-4bc1-888f-c94edc91af04"
#: What Claude Code writes on stdin (recorded shapes; the transcript path is filled per test).
SESSION_END = {
    "session_id": SESSION,
    "transcript_path": "",
    "cwd": "",
    "permission_mode": "default",
    "hook_event_name": "SessionEnd",
    "reason": "prompt_input_exit",
}
SUBAGENT_STOP = {
    "session_id": SESSION,
    "transcript_path": "",
    "cwd": "",
    "permission_mode": "acceptEdits",
    "hook_event_name": "SubagentStop",
    "stop_hook_active": False,
    "agent_id": "aac57f5",
    "agent_type": "general-purpose",
    "agent_transcript_path": "",
}


class Launches:
    """A launcher that records each hand-off instead of running it."""

    def __init__(self) -> None:
        self.calls: list[tuple[list[str], Path, Path]] = []

    def __call__(self, command: list[str], folder: Path, log: Path) -> None:
        self.calls.append((command, folder, log))


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project with phase a4 (criteria only) and a session transcript under a Claude home."""
    for key in KEYS:
        monkeypatch.delenv(key.env, raising=False)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    root = tmp_path / "repo"
    (root / "criteria").mkdir(parents=True)
    (root / "criteria" / "a4.yaml").write_text("phase: a4\ndata: phase-a4\ncriteria: []\n")
    (root / "src").mkdir()
    transcript = tmp_path / "claude" / "projects" / "-repo" / f"{SESSION}.jsonl"
    transcript.parent.mkdir(parents=True)
    transcript.write_text('{"type":"user"}\n')
    monkeypatch.chdir(root)
    return root


def transcript_of(project: Path) -> Path:
    return project.parent / "claude" / "projects" / "-repo" / f"{SESSION}.jsonl"


def payload(project: Path, shape: dict[str, Any], **changes: Any) -> IO[bytes]:
    data = {**shape, "transcript_path": str(transcript_of(project)), "cwd": str(project)}
    if "agent_transcript_path" in data:
        data["agent_transcript_path"] = str(project / "agent.jsonl")
    data.update(changes)
    return pipe_of(json.dumps(data).encode())


def pipe_of(data: bytes) -> IO[bytes]:
    """A real pipe holding ``data``, closed for writing (stdin as Claude Code gives it); past a
    pipe's buffer, a file (nothing reads the pipe while it is filled)."""
    if len(data) > 16384:
        file = tempfile.TemporaryFile()  # noqa: SIM115 - the caller reads it, then it goes
        file.write(data)
        file.seek(0)
        return file
    read, write = os.pipe()
    os.write(write, data)
    os.close(write)
    return os.fdopen(read, "rb")


def start(capsys: pytest.CaptureFixture[str], phase: str = "a4") -> None:
    assert cli.main(["hook", "start", phase]) == 0
    capsys.readouterr()


@pytest.mark.parametrize("shape", [SESSION_END, SUBAGENT_STOP], ids=["SessionEnd", "SubagentStop"])
def test_a_session_that_ends_is_handed_to_collect(
    project: Path, capsys: pytest.CaptureFixture[str], shape: dict[str, Any]
) -> None:
    start(capsys)
    launches = Launches()
    message, log = hook.handle(payload(project, shape), launch=launches)
    command, folder, out = launches.calls[0]
    assert command == [
        sys.executable,
        "-m",
        "pytest_orchphase.cli",
        "collect",
        "a4",
        str(transcript_of(project)),
        "--project",
        str(project),
    ]
    assert folder == project
    assert out == log == project / ".orchphase" / "hook.log"
    assert f"{shape['hook_event_name']} of session {SESSION}: phase a4: started collect a4" in (
        log.read_text()
    )
    assert message in log.read_text()


def test_a_session_in_a_subfolder_finds_the_project_above(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    start(capsys)
    launches = Launches()
    hook.handle(payload(project, SESSION_END, cwd=str(project / "src")), launch=launches)
    command, folder, _ = launches.calls[0]
    assert folder == project
    assert command[-2:] == ["--project", str(project / "src")]


@pytest.mark.parametrize(
    ("stdin", "logged"),
    [
        (b"", "stdin is not a JSON hook payload"),
        (b"\x00\xff garbage", "stdin is not a JSON hook payload"),
        (b"[1, 2]", "stdin is JSON but not an object"),
        (b'{"hook_event_name": "Stop", "session_id": "s", "cwd": "/"}', "event 'Stop' is not"),
        (b'{"hook_event_name": "SessionEnd"}', "the payload has no 'session_id'"),
        (b'{"hook_event_name": 3}', "the payload has no 'hook_event_name'"),
        (b"{" * 100_000, "stdin is not a JSON hook payload"),
    ],
)
def test_a_payload_it_cannot_use_is_logged_and_ignored(
    project: Path, capsys: pytest.CaptureFixture[str], stdin: bytes, logged: str
) -> None:
    start(capsys)
    launches = Launches()
    message, log = hook.handle(pipe_of(stdin), launch=launches)
    assert launches.calls == []
    assert logged in message
    assert log == hook.fallback_log()  # no project known from a payload it cannot read
    assert logged in log.read_text()


def test_no_active_phase_is_logged_and_ignored(project: Path) -> None:
    launches = Launches()
    message, log = hook.handle(payload(project, SESSION_END), launch=launches)
    assert launches.calls == []
    assert f"no active phase for {project}" in message
    assert log == hook.fallback_log()
    assert not (project / ".orchphase").exists()  # nothing written in a project not recording


def test_a_missing_transcript_is_logged_and_ignored(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    start(capsys)
    transcript_of(project).unlink()
    launches = Launches()
    message, log = hook.handle(payload(project, SESSION_END), launch=launches)
    assert launches.calls == []
    assert "is not a file; ignored" in message
    assert log == project / ".orchphase" / "hook.log"


def test_a_damaged_state_file_is_logged_and_ignored(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    start(capsys)
    (project / ".orchphase" / "hook.json").write_text("{not json")
    launches = Launches()
    message, _ = hook.handle(payload(project, SESSION_END), launch=launches)
    assert launches.calls == []
    assert "hook.json: unreadable" in message


def test_a_launcher_that_fails_is_logged(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    start(capsys)

    def broken(command: list[str], folder: Path, log: Path) -> None:
        raise OSError(28, "No space left on device")

    message, log = hook.handle(payload(project, SESSION_END), launch=broken)
    assert "error: OSError: [Errno 28] No space left on device" in message
    assert message in log.read_text()


def test_a_stalled_stdin_does_not_hold_the_hook(project: Path) -> None:
    """A writer that never writes nor closes: the hook gives up after its read time."""
    read, write = os.pipe()
    try:
        launches = Launches()
        with os.fdopen(read, "rb") as stdin:
            message, _ = hook.handle(stdin, launch=launches, seconds=0.2)
        assert "no complete payload on stdin within 0.2 s" in message
        assert launches.calls == []
    finally:
        os.close(write)


def test_a_project_whose_log_cannot_be_written_logs_to_the_fallback(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The project's log is in the way (a folder; as root, permissions would not stop a
    write): the hand-off and the line go to the fallback log instead."""
    start(capsys)
    (project / ".orchphase" / "hook.log").mkdir()
    launches = Launches()
    _, log = hook.handle(payload(project, SESSION_END), launch=launches)
    assert log == hook.fallback_log()
    assert launches.calls[0][2] == hook.fallback_log()
    assert "phase a4: started" in log.read_text()


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_project_still_exits_0_and_logs_to_the_fallback(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    start(capsys)
    (project / ".orchphase" / "hook.log").unlink(missing_ok=True)
    (project / ".orchphase").chmod(0o555)
    try:
        launches = Launches()
        _, log = hook.handle(payload(project, SESSION_END), launch=launches)
        assert log == hook.fallback_log()
        assert launches.calls
    finally:
        (project / ".orchphase").chmod(0o755)


def run_hook(project: Path, stdin: bytes | None) -> subprocess.CompletedProcess[bytes]:
    """`orchphase hook` as Claude Code runs it: a process, the payload on stdin (None: a stdin
    that stays open and silent)."""
    env = {**os.environ, "TMPDIR": str(project.parent / "tmp")}
    command = [sys.executable, "-m", "pytest_orchphase.cli", "hook"]
    if stdin is not None:
        return subprocess.run(command, input=stdin, capture_output=True, env=env, timeout=60)
    read, write = os.pipe()  # the write end stays open and silent until the hook has ended
    try:
        with subprocess.Popen(
            command, stdin=read, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
        ) as proc:
            out, err = proc.communicate(timeout=60)
            return subprocess.CompletedProcess(command, proc.returncode, out, err)
    finally:
        os.close(read)
        os.close(write)


@pytest.mark.parametrize(
    "stdin", [b"garbage", b"", None, b'{"hook_event_name": "SessionEnd"}'], ids=repr
)
def test_the_command_always_exits_0(project: Path, stdin: bytes | None) -> None:
    result = run_hook(project, stdin)
    assert result.returncode == 0, result.stderr
    assert b"Traceback" not in result.stderr
    assert b"orchphase hook: " in result.stderr


def test_the_command_hands_a_real_payload_off_and_logs_it(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    start(capsys)
    result = run_hook(project, payload(project, SESSION_END).read())
    assert result.returncode == 0
    log = (project / ".orchphase" / "hook.log").read_text()
    assert "phase a4: started collect a4" in log


def test_right_after_init_a_session_that_ends_lands_in_the_phase_ledger(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The whole chain as a team runs it: `orchphase init` (criteria limits and log figures still
    placeholders), `hook start`, a real `orchphase hook` process given Claude Code's payload, and
    the detached `orchphase collect` it starts writes the phase's ledger with the session's calls
    (the repository's sample session: 4 billed calls in 2 files)."""
    for key in KEYS:
        monkeypatch.delenv(key.env, raising=False)
    root = tmp_path / "repo"
    root.mkdir()
    monkeypatch.chdir(root)
    assert cli.main(["init", "a4", "--tickets", "R1"]) == 0
    start(capsys)
    sample = FIXTURES / "transcripts" / "projects" / "-home-USER-projects-demo" / f"{SESSION}.jsonl"
    data = {**SESSION_END, "transcript_path": str(sample), "cwd": str(root)}
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    command = [sys.executable, "-m", "pytest_orchphase.cli", "hook"]
    result = subprocess.run(
        command, input=json.dumps(data).encode(), capture_output=True, env=env, timeout=60
    )
    assert result.returncode == 0, result.stderr
    ledger = root / "docs" / "orchestration-data" / "phase-a4-r1" / "usage.jsonl"
    log = root / ".orchphase" / "hook.log"
    for _ in range(600):  # the hook did not wait for collect: the ledger comes when it is done
        if "call record(s)" in log.read_text() or "error" in log.read_text():
            break
        time.sleep(0.1)
    assert "2 file(s) collected" in log.read_text(), log.read_text()
    records = [json.loads(line) for line in ledger.read_text().splitlines()]
    assert sum(1 for r in records if r.get("kind") == "call") == 4


def test_spawn_runs_the_command_detached_with_its_output_in_the_log(tmp_path: Path) -> None:
    log = tmp_path / "hook.log"
    command = [sys.executable, "-m", "pytest_orchphase.cli", "plan", "--rate", "70%"]
    hook.spawn(command, tmp_path, log)
    for _ in range(600):  # the child writes when it is done; the hook did not wait for it
        if "70.1%" in (log.read_text() if log.exists() else ""):
            break
        time.sleep(0.1)
    assert "9 of 9" in log.read_text()


def test_start_stop_and_status(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["hook", "status"]) == 0
    assert f"no phase active in {project}" in capsys.readouterr().out
    assert cli.main(["hook", "start", "a4"]) == 0
    assert "recording phase a4" in capsys.readouterr().out
    state = json.loads((project / ".orchphase" / "hook.json").read_text())
    assert state["phase"] == "a4"
    assert (project / ".orchphase" / ".gitignore").read_text() == "*\n"
    os.chdir(project / "src")
    assert cli.main(["hook", "status"]) == 0
    assert f"phase a4 active in {project}" in capsys.readouterr().out
    os.chdir(project)
    assert cli.main(["hook", "stop"]) == 0
    assert "stopped recording phase a4" in capsys.readouterr().out
    assert not (project / ".orchphase" / "hook.json").exists()
    assert cli.main(["hook", "stop"]) == 0
    assert "no phase was active" in capsys.readouterr().out


def test_start_an_unknown_phase_is_an_error_and_writes_nothing(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["hook", "start", "a9"]) == 2
    assert "unknown phase 'a9'; known phases: a4" in capsys.readouterr().err
    assert not (project / ".orchphase").exists()


def test_the_hook_loads_nothing_heavy(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Claude Code waits for its hooks: no pydantic, PyYAML or tabulate on the way, not even
    through the parser the hand-off checks `collect` in (every subcommand's parser is built)."""
    start(capsys)
    command = [sys.executable, "-X", "importtime", "-m", "pytest_orchphase.cli", "hook"]
    stdin = payload(project, SESSION_END).read()
    result = subprocess.run(command, input=stdin, capture_output=True, timeout=60)
    assert result.returncode == 0
    imported = {line.split("|")[-1].strip() for line in result.stderr.decode().splitlines()}
    assert "pytest_orchphase.cli.hook" in imported
    assert not {"pydantic", "yaml", "tabulate"} & imported

"""``orchphase hook``: a Claude Code hook that keeps a phase's evidence as sessions end.

``orchphase hook start a4`` marks phase a4 active in the project (``.orchphase/hook.json`` in the
project's folder); ``orchphase hook stop`` ends it. Claude Code runs ``orchphase hook`` on
``SessionEnd`` and ``SubagentStop`` with a JSON payload on stdin (``session_id``,
``transcript_path``, ``cwd``, ``hook_event_name``). When the payload's ``cwd`` lies in a project
with an active phase, the session is handed to ``orchphase collect PHASE TRANSCRIPT --project CWD``
in a detached process, so the hook returns at once.

A hook must never block or fail Claude Code: stdin is read for at most :data:`READ_SECONDS`, the
exit status is always 0, and whatever the hook cannot use (garbage on stdin, another event, no
active phase, a missing transcript) or cannot do is one line in its log: ``.orchphase/hook.log``
in the project, else (no active project, or a project it cannot write) :func:`fallback_log`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from pytest_orchphase.cli.options import EXIT_OK, add_folders

STATE_DIR = ".orchphase"
STATE_FILE = "hook.json"
LOG_FILE = "hook.log"
EVENTS = ("SessionEnd", "SubagentStop")
#: How long the hook waits for its payload before giving up (Claude Code writes it at once).
READ_SECONDS = 1.0
#: The most of stdin the hook reads: a payload is a few hundred bytes.
MAX_PAYLOAD = 1024 * 1024

#: Starts the hand-off: the command line and the folder to run it in.
Launcher = Callable[[list[str], Path, Path], None]


class HookProblem(Exception):
    """A payload the hook cannot use: logged and ignored."""


def fallback_log() -> Path:
    """Where the hook logs when no project's ``.orchphase/`` can take the line."""
    # Imported where used, as the other heavy modules here: every command imports this module
    # to build its parser.
    import tempfile

    uid = os.getuid() if hasattr(os, "getuid") else 0
    return Path(tempfile.gettempdir()) / f"orchphase-hook-{uid}.log"


def _now() -> str:
    import datetime as dt

    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def log_line(project: Path | None, text: str) -> Path:
    """Append one stamped line to the project's hook log, else the fallback; never raises."""
    line = f"{_now()} {text}\n".encode(errors="replace")
    candidates = [project / STATE_DIR / LOG_FILE] if project is not None else []
    for path in [*candidates, fallback_log()]:
        if _append(path, line):
            return path
    return candidates[0] if candidates else fallback_log()


def _append(path: Path, data: bytes) -> bool:
    """Append ``data`` to the log at ``path`` (created private, never waiting on a pipe);
    False when it cannot be written."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NONBLOCK, 0o600)
    except OSError:
        return False
    try:
        os.write(fd, data)
    except OSError:
        return False
    finally:
        os.close(fd)
    return True


def read_payload(stream: IO[bytes], seconds: float = READ_SECONDS) -> bytes:
    """What arrives on ``stream`` until end of file, :data:`MAX_PAYLOAD` bytes, or ``seconds``:
    a writer that stalls cannot hold the hook (a timed-out read is a :class:`HookProblem`)."""
    import select

    fd = stream.fileno()
    deadline = _clock() + seconds
    data = b""
    while len(data) < MAX_PAYLOAD:
        left = deadline - _clock()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            raise HookProblem(f"no complete payload on stdin within {seconds:g} s; ignored")
        chunk = os.read(fd, 65536)
        if not chunk:
            return data
        data += chunk
    raise HookProblem(f"more than {MAX_PAYLOAD:,} bytes on stdin: not a hook payload; ignored")


def _clock() -> float:
    import time

    return time.monotonic()


def parse_payload(data: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(data)
    except ValueError:
        head = data[:60].decode(errors="replace")
        raise HookProblem(
            f"stdin is not a JSON hook payload (starts {head!r}); expected Claude Code's "
            f"{' or '.join(EVENTS)} input; ignored"
        ) from None
    if not isinstance(payload, dict):
        raise HookProblem("stdin is JSON but not an object; expected a hook payload; ignored")
    return payload


def _text(payload: dict[str, Any], key: str) -> str:
    value = payload.get(key)
    if not isinstance(value, str) or not value:
        raise HookProblem(f"the payload has no {key!r} (a non-empty string); ignored")
    return value


def find_project(start: Path) -> Path | None:
    """The nearest folder, from ``start`` up, with an active phase (``.orchphase/hook.json``)."""
    for folder in (start, *start.parents):
        if (folder / STATE_DIR / STATE_FILE).is_file():
            return folder
    return None


def active_phase(project: Path) -> str:
    path = project / STATE_DIR / STATE_FILE
    try:
        state = json.loads(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise HookProblem(f"{path}: unreadable ({exc}); run `orchphase hook start PHASE`") from None
    phase = state.get("phase") if isinstance(state, dict) else None
    if not isinstance(phase, str) or not phase:
        raise HookProblem(f"{path}: no phase in it; run `orchphase hook start PHASE`")
    return phase


def collect_command(phase: str, transcript: Path, cwd: Path) -> list[str]:
    """The hand-off: ``orchphase collect PHASE TRANSCRIPT --project CWD``, run by this Python
    (Claude Code's ``PATH`` may not hold the ``orchphase`` script)."""
    return [
        sys.executable,
        "-m",
        "pytest_orchphase.cli",
        "collect",
        phase,
        str(transcript),
        "--project",
        str(cwd),
    ]


def spawn(command: list[str], folder: Path, log: Path) -> None:
    """Run ``command`` in ``folder``, detached (its own session, no stdin), its output appended
    to ``log``; return without waiting for it."""
    if not _has_command(command[3]):
        raise HookProblem(
            f"`orchphase {command[3]}` is not in this orchphase; the session was not recorded "
            f"(run it by hand later: {' '.join(command[3:])})"
        )
    import subprocess

    with open(log, "ab") as out:
        subprocess.Popen(
            command,
            cwd=folder,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=out,
            start_new_session=True,
            close_fds=True,
        )


def _has_command(name: str) -> bool:
    """Whether this orchphase has the subcommand (asked without building any parser)."""
    from pytest_orchphase.cli import SUBCOMMANDS

    return name in SUBCOMMANDS


def handle(
    stream: IO[bytes], launch: Launcher = spawn, seconds: float = READ_SECONDS
) -> tuple[str, Path]:
    """Read one payload and hand its session off when a phase is active: (what was done, the log
    it was written to). Never raises."""
    project: Path | None = None
    try:
        payload = parse_payload(read_payload(stream, seconds))
        event = _text(payload, "hook_event_name")
        if event not in EVENTS:
            raise HookProblem(f"event {event!r} is not {' or '.join(EVENTS)}; ignored")
        session = _text(payload, "session_id")
        cwd = Path(_text(payload, "cwd"))
        project = find_project(cwd) if cwd.is_absolute() else None
        if project is None:
            raise HookProblem(
                f"{event} of session {session}: no active phase for {cwd} (no {STATE_DIR}/"
                f"{STATE_FILE} in it or above; `orchphase hook start PHASE` makes one); ignored"
            )
        phase = active_phase(project)
        transcript = Path(_text(payload, "transcript_path"))
        if not transcript.is_file():
            raise HookProblem(
                f"{event} of session {session}: transcript {transcript} is not a file; ignored"
            )
        command = collect_command(phase, transcript, cwd)
        log = project / STATE_DIR / LOG_FILE
        launch(command, project, log if _append(log, b"") else fallback_log())
        message = f"{event} of session {session}: phase {phase}: started {' '.join(command[3:])}"
    except HookProblem as exc:
        message = str(exc)
    except Exception as exc:  # a hook never fails Claude Code: anything else is logged too
        message = f"error: {type(exc).__name__}: {exc}"
    return message, log_line(project, message)


# -- the command ----------------------------------------------------------------------------


def _add_hook(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "hook",
        help="the Claude Code hook: record a phase's sessions as they end",
        description=(
            "Without an action: read a Claude Code SessionEnd or SubagentStop payload on stdin "
            "and, when a phase is active for the payload's cwd, hand the session to `orchphase "
            f"collect` in the background. Always exits 0; what it cannot use is logged "
            f"({STATE_DIR}/{LOG_FILE} in the project, else orchphase-hook-<uid>.log in the "
            "system's temporary folder: $TMPDIR, $TEMP or $TMP, else /tmp on most systems)."
        ),
    )
    p.set_defaults(func=cmd_hook, action=None)
    actions = p.add_subparsers(title="actions", metavar="ACTION")
    start = actions.add_parser(
        "start",
        help=f"make PHASE active in the project ({STATE_DIR}/{STATE_FILE} in its folder)",
    )
    start.add_argument("phase", metavar="PHASE", help="the phase to record, like a4")
    for name, text in (
        ("stop", "end the active phase: the hook records nothing more"),
        ("status", "the active phase and where the hook logs"),
    ):
        actions.add_parser(name, help=text).set_defaults(action=name)
    start.set_defaults(action="start")
    for parser in actions.choices.values():
        add_folders(parser)


def cmd_hook(args: argparse.Namespace) -> int:
    if args.action is None:
        try:
            message, log = handle(sys.stdin.buffer)
            print(f"orchphase hook: {message} (log: {log})", file=sys.stderr)
        except BaseException:  # a hook never fails Claude Code (Ctrl-C and all)
            pass
        return EXIT_OK
    project: Path = args.settings.config.base
    state = project / STATE_DIR / STATE_FILE
    if args.action == "start":
        return _start(args, project, state)
    active = find_project(project)
    if args.action == "status":
        if active is None:
            print(f"orchphase: no phase active in {project}")
        else:
            print(f"orchphase: phase {active_phase(active)} active in {active}")
        print(f"log: {project / STATE_DIR / LOG_FILE} (else {fallback_log()})")
        return EXIT_OK
    if not state.is_file():
        print(f"orchphase: no phase was active in {project}")
        return EXIT_OK
    phase = active_phase(project)
    state.unlink()
    print(f"orchphase: stopped recording phase {phase} in {project}")
    return EXIT_OK


def _start(args: argparse.Namespace, project: Path, state: Path) -> int:
    from pytest_orchphase.files import atomic_write
    from pytest_orchphase.load.phase import require_phase

    require_phase(args.criteria, args.phase)
    before = active_phase(project) if state.is_file() else None
    state.parent.mkdir(exist_ok=True)
    ignore = state.parent / ".gitignore"
    if not ignore.exists():  # the state and the log are this machine's, not the repository's
        atomic_write(ignore, b"*\n")
    record = {"phase": args.phase, "started": _now()}
    atomic_write(state, (json.dumps(record) + "\n").encode())
    was = f" (was {before})" if before and before != args.phase else ""
    print(f"orchphase: recording phase {args.phase}{was}: Claude Code sessions that end in")
    print(f"  {project} are handed to `orchphase collect {args.phase}`")
    print(f"log: {state.parent / LOG_FILE}")
    return EXIT_OK

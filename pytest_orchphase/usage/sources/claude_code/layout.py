"""Where Claude Code keeps transcripts, and which files a user's PATH stands for.

``<config>/projects/<encoded-cwd>/<session>.jsonl`` is a main session. Its sub-agents are in
``<session>/subagents/agent-<id>.jsonl`` (with ``agent-<id>.meta.json`` in newer versions), or,
in older versions, flat ``agent-<id>.jsonl`` files beside the session files, or inline lines
with ``isSidechain: true`` in the session file itself.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from pytest_orchphase.errors import OrchphaseError

CONFIG_ENV = "CLAUDE_CONFIG_DIR"


def default_config_dirs() -> list[Path]:
    """``$CLAUDE_CONFIG_DIR`` (comma-separated list allowed), else ``~/.config/claude`` and
    ``~/.claude`` — those of them that hold a ``projects/`` folder."""
    env = os.environ.get(CONFIG_ENV, "").strip()
    if env:
        candidates = [Path(part.strip()).expanduser() for part in env.split(",") if part.strip()]
    else:
        home = Path.home()
        candidates = [home / ".config" / "claude", home / ".claude"]
    return [c for c in candidates if (c / "projects").is_dir()]


def _projects_dirs(config_dirs: Sequence[Path] | None) -> list[Path]:
    dirs = default_config_dirs() if config_dirs is None else list(config_dirs)
    out: list[Path] = []
    for d in dirs:
        projects = d / "projects" if (d / "projects").is_dir() else d
        if projects.is_dir() and projects not in out:
            out.append(projects)
    return out


def is_agent_file(path: Path) -> bool:
    return path.name.startswith("agent-")


def discover_sessions(config_dirs: Sequence[Path] | None = None) -> list[Path]:
    """The main session files (``projects/<project>/<session>.jsonl``) under the config dirs.

    ``config_dirs`` are Claude config folders (holding ``projects/``) or ``projects`` folders
    themselves; by default :func:`default_config_dirs`. Sorted by path.
    """
    found: list[Path] = []
    for projects in _projects_dirs(config_dirs):
        for project in sorted(p for p in projects.iterdir() if p.is_dir()):
            found.extend(
                f for f in sorted(project.glob("*.jsonl")) if f.is_file() and not is_agent_file(f)
            )
    return found


def resolve_session(session_id: str, config_dirs: Sequence[Path] | None = None) -> Path:
    """The main session file of ``session_id``; :class:`OrchphaseError` if there is none."""
    wanted = f"{session_id}.jsonl"
    searched = _projects_dirs(config_dirs)
    for projects in searched:
        for hit in sorted(projects.glob(f"*/{wanted}")):
            if hit.is_file():
                return hit
    where = ", ".join(str(p) for p in searched) or "no Claude projects folder found"
    raise OrchphaseError(
        f"no transcript for session {session_id!r} (searched: {where})", field="session"
    )


def regular(path: Path) -> Path:
    """``path`` if it is a regular file (links followed). A pipe or a device would block or never
    end a read, and a dangling link holds nothing: each is an error naming it."""
    if not path.is_file():
        raise OrchphaseError(
            "not a regular file (a pipe, a device, a dangling link or a link loop); expected a "
            "transcript file",
            path=path,
        )
    return path


def session_files(session: Path) -> list[Path]:
    """A main session file plus the files of its sub-agents (all three layouts)."""
    files = [session]
    folder = session.with_suffix("")
    subagents = folder / "subagents"
    if subagents.is_dir():
        files.extend(regular(p) for p in sorted(subagents.glob("*.jsonl")))
        files.extend(regular(p) for p in sorted(subagents.glob("*.meta.json")))
    # Older flat layout: agent-<id>.jsonl beside the session, tied to it by its sessionId.
    for sibling in sorted(session.parent.glob("agent-*.jsonl")):
        if _first_session_id(regular(sibling)) == session.stem:
            files.append(sibling)
    return files


def _first_session_id(path: Path) -> str | None:
    marker = b'"sessionId"'
    try:
        with path.open("rb") as fh:
            for _, line in zip(range(20), fh, strict=False):
                at = line.find(marker)
                if at < 0:
                    continue
                rest = line[at + len(marker) :].lstrip(b" :")
                if rest.startswith(b'"'):
                    end = rest.find(b'"', 1)
                    return rest[1:end].decode("utf-8", "replace") if end > 0 else None
    except OSError:
        return None
    return None


#: Transcript files found in folders: sessions and sub-agents (``.jsonl``), headless streams
#: (``claude -p --output-format stream-json``, often kept as ``.ndjson``), sub-agent metadata.
STREAM_SUFFIXES = (".jsonl", ".ndjson", ".meta.json")
#: Bytes that mark a ``.json`` file as a headless result (``--output-format json``), not any
#: other JSON file that happens to sit in the folder (package.json, settings.json …).
_RESULT_MARKERS = (b'"modelUsage"', b'"type":"result"', b'"type": "result"')


def _is_headless_result(path: Path) -> bool:
    try:
        data = path.read_bytes()
    except OSError:
        return True  # let the scan report it
    return any(marker in data for marker in _RESULT_MARKERS)


def _walk(folder: Path) -> Iterable[Path]:
    for root, dirs, names in os.walk(folder):
        dirs.sort()
        for name in sorted(names):
            path = Path(root) / name
            if name.endswith(STREAM_SUFFIXES):
                yield regular(path)
            elif name.endswith(".json") and regular(path) and _is_headless_result(path):
                yield path


def expand_paths(paths: Sequence[Path]) -> list[Path]:
    """The files the given PATHs stand for, in a stable order, each once.

    A PATH is a session ``.jsonl`` (with its sub-agents), any other ``.jsonl``, ``.ndjson`` or
    ``.json`` file (a sub-agent transcript, a headless ``claude -p`` result or stream), a
    project folder, a ``projects`` folder, or a Claude config folder (holding ``projects/``):
    folders are searched recursively for ``*.jsonl``, ``*.ndjson``, ``agent-*.meta.json`` and
    ``*.json`` headless results.
    """
    out: list[Path] = []
    seen: set[Path] = set()

    def add(p: Path) -> None:
        key = p.resolve()
        if key not in seen:
            seen.add(key)
            out.append(p)

    for path in paths:
        if path.is_file():
            if path.suffix == ".jsonl" and not is_agent_file(path):
                for f in session_files(path):
                    add(f)
            else:
                add(path)
        elif path.is_dir():
            root = path / "projects" if (path / "projects").is_dir() else path
            for f in _walk(root):
                add(f)
        elif path.exists():
            raise OrchphaseError(
                "expected a transcript file (.jsonl/.ndjson/.json) or a folder", path=path
            )
        elif path.is_symlink():
            raise OrchphaseError(
                "a symbolic link that leads nowhere (a loop or a missing target); expected a "
                "transcript file (.jsonl/.ndjson/.json) or a folder",
                path=path,
            )
        else:
            raise OrchphaseError(
                "no such file or folder (expected a session .jsonl, a project folder, "
                "a Claude config folder or a headless result file)",
                path=path,
            )
    return out

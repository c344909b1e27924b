"""Where Claude Code keeps transcripts, and which files a user's PATH stands for.

``<config>/projects/<encoded-cwd>/<session>.jsonl`` is a main session. Its sub-agents are in
``<session>/subagents/agent-<id>.jsonl`` (with ``agent-<id>.meta.json`` in newer versions), or,
in older versions, flat ``agent-<id>.jsonl`` files beside the session files, or inline lines
with ``isSidechain: true`` in the session file itself.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

from pytest_orchphase.errors import OrchphaseError
from pytest_orchphase.usage.sources.registry import expand_paths, regular

__all__ = [
    "default_config_dirs",
    "discover_sessions",
    "expand_paths",
    "is_agent_file",
    "is_flat_agent_of",
    "projects_dirs",
    "regular",
    "resolve_session",
    "resolve_sessions",
    "session_files",
    "spawning_session",
]

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


def projects_dirs(config_dirs: Sequence[Path] | None = None) -> list[Path]:
    """The ``projects/`` folders of ``config_dirs`` (by default :func:`default_config_dirs`),
    where a session named by its id is looked for."""
    dirs = default_config_dirs() if config_dirs is None else list(config_dirs)
    out: list[Path] = []
    for d in dirs:
        projects = d / "projects" if (d / "projects").is_dir() else d
        if projects.is_dir() and projects not in out:
            out.append(projects)
    return out


def is_agent_file(path: Path) -> bool:
    return path.name.startswith("agent-")


#: A session's id as Claude Code names it (and its file, and the folder of its sub-agents).
_SESSION_ID = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)


def spawning_session(path: Path) -> str | None:
    """The session whose folder holds the sub-agent file ``path``
    (``<session>/subagents/agent-<id>.jsonl``, its ``.meta.json`` too): the session that
    spawned the agent. ``None`` for any other file, and for a folder not named by a session id
    (a copy renamed: its lines' ``sessionId`` is all there is)."""
    parent = path.parent
    if not is_agent_file(path) or parent.name != "subagents":
        return None
    folder = parent.parent.name
    return folder if _SESSION_ID.fullmatch(folder) else None


def discover_sessions(config_dirs: Sequence[Path] | None = None) -> list[Path]:
    """The main session files (``projects/<project>/<session>.jsonl``) under the config dirs.

    ``config_dirs`` are Claude config folders (holding ``projects/``) or ``projects`` folders
    themselves; by default :func:`default_config_dirs`. Sorted by path.
    """
    found: list[Path] = []
    for projects in projects_dirs(config_dirs):
        for project in sorted(p for p in projects.iterdir() if p.is_dir()):
            found.extend(
                f for f in sorted(project.glob("*.jsonl")) if f.is_file() and not is_agent_file(f)
            )
    return found


def resolve_sessions(session_id: str, config_dirs: Sequence[Path] | None = None) -> list[Path]:
    """Every main session file of ``session_id``, one per project folder that holds one (a
    project folder renamed, or the session resumed from another folder, leaves a part of it
    under each): a session is all of them, never the first found alone.
    :class:`OrchphaseError` if there is none."""
    wanted = f"{session_id}.jsonl"
    searched = projects_dirs(config_dirs)
    hits = [
        hit for folder in searched for hit in sorted(folder.glob(f"*/{wanted}")) if hit.is_file()
    ]
    if hits:
        return hits
    where = ", ".join(str(p) for p in searched) or "no Claude projects folder found"
    raise OrchphaseError(
        f"no transcript for session {session_id!r} (searched: {where})", field="session"
    )


def resolve_session(session_id: str, config_dirs: Sequence[Path] | None = None) -> Path:
    """The main session file of ``session_id``; :class:`OrchphaseError` if there is none, or
    several (see :func:`resolve_sessions`, which returns them all)."""
    hits = resolve_sessions(session_id, config_dirs)
    if len(hits) > 1:
        raise OrchphaseError(
            f"session {session_id!r} has a file under {len(hits)} projects "
            f"({', '.join(str(h) for h in hits)}): read them all (resolve_sessions)",
            field="session",
        )
    return hits[0]


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
        if is_flat_agent_of(regular(sibling), session):
            files.append(sibling)
    return files


def is_flat_agent_of(path: Path, session: Path) -> bool:
    """Whether ``path`` is a sub-agent file of the main session file ``session`` in the older
    flat layout: an ``agent-<id>.jsonl`` beside it, tied to it by its lines' sessionId."""
    return (
        path.parent == session.parent
        and path.name.startswith("agent-")
        and path.suffix == ".jsonl"
        and _first_session_id(path) == session.stem
    )


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

"""What every source of measured usage is: the protocol, and the one record of what a file holds.

A source reads files of one format (Claude Code transcripts, headless ``claude -p`` results …).
It says which files it reads (:meth:`UsageSource.claims`: by name, and by a look at the content
where names overlap), which files come along with one it is given (a session's sub-agents), and
reads one file into a :class:`FileResult`: the API calls keyed by (``message.id``,
``requestId``), the sub-agents with their links to the calls that spawned them, the malformed
lines. Files of every source are then merged as one scan (each key counted once, whichever file
or source it came from), so a source never sums anything itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol

from pytest_orchphase.load.quantity import utc_stamp
from pytest_orchphase.usage.records import (
    AgentInfo,
    AgentKey,
    ApiCall,
    HeadlessResult,
    TicketsNamed,
)

#: How a call is known across files and sources: (``message.id``, ``requestId``).
Key = tuple[str, str]


def widen_times(firsts: dict[Key, str], lasts: dict[Key, str], key: Key, stamp: str) -> bool:
    """Widen call ``key``'s first and last times to include ``stamp``, compared as times (not
    as text: ``"not a time"`` sorts after every stamp, ``+01:00`` apart from ``Z``); False,
    changing nothing, when ``stamp`` is not a time (a damaged stamp never replaces a time)."""
    at = utc_stamp(stamp)
    if at is None:
        return False
    for times, earlier in ((firsts, True), (lasts, False)):
        held = times.get(key)
        if held is None or _beyond(stamp, at, held, earlier):
            times[key] = stamp
    return True


def _beyond(stamp: str, at: datetime, held: str, earlier: bool) -> bool:
    """Whether ``stamp`` (the time ``at``) is earlier (or, not ``earlier``, later) than the time
    ``held``: two times of one form (Claude Code's ``…T10:00:00.000Z``) compare as their text,
    others as times (only a time is ever held)."""
    if (
        len(held) == len(stamp)
        and held[-1:] == stamp[-1:] == "Z"
        and held[4:5] == stamp[4:5] == "-"
        and held[10:11] == stamp[10:11]
    ):
        return stamp < held if earlier else stamp > held
    other = utc_stamp(held)
    assert other is not None
    return at < other if earlier else at > other


#: A background agent's ``<task-notification>``: (the session it is written in, its task id: the
#: agent's id, the spawning tool_use id, its status).
Notice = tuple[str | None, str | None, str | None, str | None]


@dataclass
class ToolResult:
    """A Task/Agent tool result in the parent: ``toolUseResult`` with an ``agentId``."""

    tool_use_id: str | None
    agent_id: str
    session_id: str | None
    status: str | None
    usage: ApiCall | None
    tool_use_count: int | None
    duration_ms: int | None
    resolved_model: str | None = None
    #: The user line's timestamp: a last call recovered from this record took place then.
    timestamp: str | None = None


@dataclass
class FileResult:
    """What one file contributes; merged across files by :func:`merge_results`."""

    path: Path
    calls: dict[Key, ApiCall] = field(default_factory=dict)
    first_ts: dict[Key, str] = field(default_factory=dict)
    #: Each call's last line's time, where it has one: a response's lines are each written when
    #: its block is done (real 2.1.3x ones up to 82 s apart), so its work ran until then.
    last_ts: dict[Key, str] = field(default_factory=dict)
    #: Spawning tool calls by tool_use id (``agent_id`` is filled in when linked).
    spawns: dict[str, AgentInfo] = field(default_factory=dict)
    results: list[ToolResult] = field(default_factory=list)
    #: (session, agent id) -> spawning tool_use id, from agent_progress lines and meta.json
    #: files (a key of session "": the file records none).
    links: dict[AgentKey, str] = field(default_factory=dict)
    #: (session, agent id) -> what an agent's meta.json says of it.
    metas: dict[AgentKey, AgentInfo] = field(default_factory=dict)
    #: ``claude_code_version`` of a headless stream's ``system``/``init`` line.
    version: str | None = None
    #: ``<task-notification>`` completions: (session, task id, tool_use id, status).
    notices: list[Notice] = field(default_factory=list)
    headless: list[HeadlessResult] = field(default_factory=list)
    #: The session each headless run's ``system``/``init`` line names (None: none), in file
    #: order: the runs a stream holds, those cut off before their ``result`` too.
    run_starts: list[str | None] = field(default_factory=list)
    #: A usage ledger's file record that keeps no ``runs`` (collected before they were kept):
    #: how many runs its streams began is not known, so no duration holds their messages.
    runs_unknown: bool = False
    #: A usage ledger's file record of a ledger collected before call records gave their last
    #: line's time: when its calls' responses ended is not known.
    ends_unknown: bool = False
    #: session id -> (timestamp, text) of the first prompt of the main thread in this file.
    prompts: dict[str, tuple[str, str | TicketsNamed]] = field(default_factory=dict)
    malformed: int = 0
    #: Of the malformed lines, those that may have recorded a call (see ``may_hold_usage``): a call
    #: may be lost with each, so the figures read are lower bounds of the file's.
    lost: int = 0
    #: Lines (or whole-file objects) read without fault.
    intact: int = 0
    warnings: list[str] = field(default_factory=list)
    #: A file that holds what other files held (a usage ledger): their results, each merged as
    #: the file it stands for (see :func:`files_of`).
    parts: list[FileResult] = field(default_factory=list)
    #: A usage ledger's header's ``phase``: the phase whose calls it holds.
    ledger_phase: str | None = None


def files_of(results: Sequence[FileResult]) -> list[FileResult]:
    """The results of the files read, a ledger's stored files in its place (the ledger itself
    kept too when it has lines of its own that could not be read, or holds no file)."""
    out: list[FileResult] = []
    for res in results:
        if res.parts:
            out.extend(res.parts)
            if res.malformed or res.warnings:
                out.append(
                    FileResult(
                        path=res.path,
                        malformed=res.malformed,
                        lost=res.lost,
                        intact=res.intact,
                        warnings=res.warnings,
                    )
                )
        else:
            out.append(res)
    return out


class UsageSource(Protocol):
    """One format of measured usage. Register it in :mod:`pytest_orchphase.usage.sources.registry`.

    The registry asks the sources in order; the first that claims a file reads it.
    """

    #: Short name, shown in messages ("claude_code", "headless" …).
    name: str
    #: Endings of the file names it may read when a folder is searched (".jsonl" …). The
    #: registry opens no file without one of them: a pipe or device would block a read.
    suffixes: tuple[str, ...]

    def claims(self, path: Path) -> bool:
        """True when ``path`` (a regular file) is in this source's format. It may read a few
        bytes of the file; it must not raise for bad content (the read reports that)."""
        ...

    def companions(self, path: Path) -> list[Path]:
        """``path`` and the files that come with it when it is named alone (a session's
        sub-agent files), each a regular file."""
        ...

    def read(self, path: Path, *, prompts: bool = True) -> FileResult:
        """What one file holds. Never raises for bad content: it is counted in
        ``FileResult.malformed`` (with a warning naming the line). ``prompts=False``: the caller
        does not need sessions' first prompts, so a source may skip looking for them."""
        ...

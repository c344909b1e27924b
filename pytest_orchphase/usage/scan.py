"""A scan of many files: each read by its source (in parallel when they are large), then merged:
deduplicated across files by ``(message.id, requestId)``, sub-agents linked to their spawning
calls, their placeholder output corrected by the parent's ``toolUseResult.usage``."""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_orchphase.load.quantity import utc_stamp
from pytest_orchphase.usage import parallel
from pytest_orchphase.usage.records import (
    AgentInfo,
    AgentKey,
    ApiCall,
    Scan,
    TicketsNamed,
    agent_key,
    agent_text,
)
from pytest_orchphase.usage.sources import registry
from pytest_orchphase.usage.sources.base import (
    FileResult,
    Key,
    Notice,
    ToolResult,
    files_of,
    widen_times,
)
from pytest_orchphase.usage.sources.claude_code.layout import spawning_session
from pytest_orchphase.usage.sources.claude_code.lines import (
    INLINE_SIDECHAIN,
    merge_call,
)
from pytest_orchphase.usage.sources.claude_code.reader import read_file
from pytest_orchphase.usage.sources.headless.results import (
    fold_headless,
    reports_usage,
    run_calls,
    session_runs,
    settle_outputs,
)

if TYPE_CHECKING:
    from pytest_orchphase.usage.cache import ScanCache
    from pytest_orchphase.usage.cache_bundle import Item

#: Below this many bytes in all, files are read in this process: a pool costs more than it saves.
PARALLEL_BYTES = 48 * 1024 * 1024


def merge_results(results: Sequence[FileResult]) -> Scan:
    """Dedup across files, link agents to their spawning calls, apply the corrections."""
    ledgers = {res.path: res.ledger_phase for res in results if res.parts or res.ledger_phase}
    results = files_of(results)
    scan = Scan(files=len(results), ledgers=ledgers)
    merged = _Merged()
    for res in results:
        scan.malformed_lines += res.malformed
        scan.lost_usage_lines += res.lost
        scan.warnings.extend(res.warnings)
        for session in res.run_starts:
            scan.run_starts[(res.path, session or f"file:{res.path}")] += 1
        if res.runs_unknown:
            scan.runs_unknown.add(res.path)
        if res.ends_unknown and res.calls:
            scan.ends_unknown.add(res.path)
        if not res.intact:
            scan.unreadable.append(res.path)
        if (folder := spawning_session(res.path)) is not None:
            _own_session(res, folder, scan.warnings)
        if res.calls or any(r.usage for r in res.results) or any(map(reports_usage, res.headless)):
            scan.recorded.add(res.path)
        merged.add(res)
    calls = merged.calls
    for key, call in calls.items():
        call.timestamp = utc_stamp(merged.stamps.get(key))
        call.last_timestamp = utc_stamp(merged.last_stamps.get(key))
    scan.first_prompts = {session: text for session, (_, text) in merged.prompts.items()}
    scan.copies = merged.copies
    _drop_sidechain_replays(calls)

    tool_results = merged.tool_results.values()
    _name_their_sessions(calls, tool_results)
    scan.agents = _agents(calls.values(), merged.spawns, merged.links, merged.metas, tool_results)
    _apply_notices(scan.agents, merged.notices)
    _correct_last_calls(calls, tool_results, scan)
    # Each headless run with its own messages in its file (a replay dropped above is none).
    runs = [(res, h) for res in results for h in res.headless]
    # Results of one session in one file (`--resume`) are weighed together against its runs'.
    sessions = session_runs(
        (res.path, h, run_calls(h, map(calls.get, res.calls))) for res, h in runs
    )
    for group in {id(g): g for g in sessions}.values():
        settle_outputs(group, calls.values())
    _warn_uncorrected(scan, calls)
    _stand_in_for_unread(scan, calls)
    scan.calls = sorted(
        calls.values(),
        key=lambda c: (c.timestamp or datetime.min.replace(tzinfo=timezone.utc), c.message_id),
    )
    for (res, headless), group in zip(runs, sessions, strict=True):
        headless.version = headless.version or res.version
        scan.calls.extend(fold_headless(headless, group, scan))
    return scan


@dataclass
class _Merged:
    """What every file read holds, merged: each call once by its key (the largest of each
    token field), its earliest and latest lines' times, each session's earliest first prompt,
    and the first word on each spawn, link and tool result."""

    calls: dict[Key, ApiCall] = field(default_factory=dict)
    stamps: dict[Key, str] = field(default_factory=dict)
    last_stamps: dict[Key, str] = field(default_factory=dict)
    spawns: dict[str, AgentInfo] = field(default_factory=dict)
    links: dict[AgentKey, str] = field(default_factory=dict)
    metas: dict[AgentKey, AgentInfo] = field(default_factory=dict)
    tool_results: dict[str, ToolResult] = field(default_factory=dict)
    prompts: dict[str, tuple[str, str | TicketsNamed]] = field(default_factory=dict)
    notices: list[Notice] = field(default_factory=list)
    copies: dict[Key, set[Path]] = field(default_factory=dict)

    def add(self, res: FileResult) -> None:
        for key, call in res.calls.items():
            old = self.calls.get(key)
            if old is None:
                self.calls[key] = call
            else:
                merge_call(old, call)
                if call.path is not None and call.path != old.path:
                    self.copies.setdefault(key, set()).add(call.path)
            for stamp in (res.first_ts.get(key), res.last_ts.get(key)):
                if stamp is not None:
                    widen_times(self.stamps, self.last_stamps, key, stamp)
        for session, (stamp, text) in res.prompts.items():
            if session not in self.prompts or stamp < self.prompts[session][0]:
                self.prompts[session] = (stamp, text)
        for tool_use_id, info in res.spawns.items():
            self.spawns.setdefault(tool_use_id, info)
        for key, tool_use_id in res.links.items():
            self.links.setdefault(key, tool_use_id)
        self.metas.update(res.metas)
        self.notices.extend(res.notices)
        for tr in res.results:
            key = agent_key(tr.session_id, tr.agent_id)
            self.tool_results.setdefault(tr.tool_use_id or f"agent:{key}", tr)
            if tr.tool_use_id is not None:
                self.links.setdefault(key, tr.tool_use_id)


def _own_session(res: FileResult, session: str, warnings: list[str]) -> None:
    """A sub-agent file of a session's folder is that session's (the session that spawned the
    agent, whose Task's result names it): lines naming another session do not move it there,
    where its calls would be placed by another session's worker and its spawn's result would
    find none of them. The contradiction is reported."""
    named = sorted(
        {c.session_id for c in res.calls.values() if c.session_id not in (None, session)}
        | {tr.session_id for tr in res.results if tr.session_id not in (None, session)}
    )
    if named:
        warnings.append(
            f"{res.path}: the lines of this sub-agent file name session "
            f"{', '.join(map(str, named))}, but it is in the folder of session {session}, "
            "which spawned it: counted as that session's"
        )
    for call in res.calls.values():
        call.session_id = session
    for tr in res.results:
        tr.session_id = session
    res.links = {agent_key(session, key[1]): tool_use for key, tool_use in res.links.items()}
    res.metas = {agent_key(session, key[1]): meta for key, meta in res.metas.items()}
    for meta in res.metas.values():
        meta.session_id = session
    for spawn in res.spawns.values():
        spawn.session_id = session
    res.notices = [(session, task, tool_use, status) for _, task, tool_use, status in res.notices]


def _name_their_sessions(calls: dict[Key, ApiCall], tool_results: Iterable[ToolResult]) -> None:
    """A parent's record of a sub-agent that names no session (its line has no ``sessionId``)
    is the record of the agent of its id in the one session whose calls have it (several: it
    stays no session's, and corrects none of them)."""
    sessions: dict[str, set[str | None]] = {}
    for call in calls.values():
        if call.agent_id is not None:
            sessions.setdefault(call.agent_id, set()).add(call.session_id)
    for tr in tool_results:
        found = sessions.get(tr.agent_id, set())
        if tr.session_id is None and len(found) == 1:
            tr.session_id = next(iter(found))


def _drop_sidechain_replays(calls: dict[Key, ApiCall]) -> None:
    """A ``/btw`` side question replays parent responses on sidechain lines under the same
    ``message.id`` with a new ``requestId``: the parent's copy is the one billed (as ccusage
    counts it since its PR #1155); distinct sidechain responses are kept."""
    parents = {call.message_id: key for key, call in calls.items() if not call.sidechain}
    for key in [k for k, c in calls.items() if c.sidechain]:
        parent = parents.get(key[0])
        if parent is not None and parent != key:
            del calls[key]


def _agents(
    calls: Any,
    spawns: dict[str, AgentInfo],
    links: dict[AgentKey, str],
    metas: dict[AgentKey, AgentInfo],
    tool_results: Any,
) -> dict[AgentKey, AgentInfo]:
    """Each sub-agent by its session and id (:data:`AgentKey`): two sessions' agents of one id
    are two agents, each with its own session's spawn, links and records. A link or meta file
    that records no session (a usage ledger of an earlier version) is the agent of its id in
    whichever session has one."""
    agents: dict[AgentKey, AgentInfo] = {}
    keys: dict[AgentKey, None] = {}
    for call in calls:
        key = call.agent_key
        if key is not None and key[1] != INLINE_SIDECHAIN and not call.compaction:
            keys.setdefault(key)
    for tr in tool_results:
        keys.setdefault(agent_key(tr.session_id, tr.agent_id))
    for key in metas:
        if key[0] or not any(k[1] == key[1] for k in keys):
            keys.setdefault(key)
    for key in keys:
        session, aid = key
        tool_use_id = links.get(key) or links.get(("", aid))
        # stream-json names a sub-agent by its spawning tool_use id.
        if tool_use_id is None and aid in spawns:
            tool_use_id = aid
        spawn = spawns.get(tool_use_id) if tool_use_id else None
        meta = metas.get(key) or metas.get(("", aid))
        info = AgentInfo(agent_id=aid, session_id=session or None, tool_use_id=tool_use_id)
        if spawn is not None:
            info.session_id = info.session_id or spawn.session_id
            info.tool_name = spawn.tool_name
            info.subagent_type = spawn.subagent_type
            info.description = spawn.description
            info.prompt = spawn.prompt
            info.requested_model = spawn.requested_model
        if meta is not None:
            info.subagent_type = info.subagent_type or meta.subagent_type
            info.description = info.description or meta.description
        agents[key] = info
    for tr in tool_results:
        info = agents[agent_key(tr.session_id, tr.agent_id)]
        if tr.status == "async_launched":
            info.background = True
            info.resolved_model = tr.resolved_model
            info.status = info.status or tr.status
            continue
        info.status = tr.status
        info.tool_use_count = tr.tool_use_count
        info.duration_ms = tr.duration_ms
    return agents


def _apply_notices(agents: dict[AgentKey, AgentInfo], notices: list[Notice]) -> None:
    """A background agent's ``<task-notification>`` (in its session) gives its final status."""
    by_tool = {a.tool_use_id: a for a in agents.values() if a.tool_use_id is not None}
    for session, task_id, tool_use_id, status in notices:
        info = agents.get(agent_key(session, task_id or "")) or by_tool.get(tool_use_id or "")
        if info is not None and status:
            info.status = status


def _warn_uncorrected(scan: Scan, calls: dict[Key, ApiCall]) -> None:
    """Say where a response's true output is in no record read (never claim a correction)."""
    inexact: dict[AgentKey, int] = {}
    main: dict[str, int] = {}
    for call in calls.values():
        if call.output_exact:
            continue
        if (key := call.agent_key) is not None:
            inexact[key] = inexact.get(key, 0) + 1
        else:
            session = call.session_id or str(call.path)
            main[session] = main.get(session, 0) + 1
    for session, count in main.items():
        scan.warnings.append(
            f"session {session}: {count} main-session response(s) record only a placeholder "
            "output count (their final line, with stop_reason, was never written): its output "
            "and cost are lower bounds"
        )
    for key, count in inexact.items():
        info = scan.agents.get(key)
        if info is not None and info.background and not info.last_call_corrected:
            why = "it ran in the background and its completion notice carries no usage"
        elif info is not None and info.last_call_corrected:
            why = "the parent's record corrects only its last call"
        else:
            why = "no parent record corrects it"
        scan.warnings.append(
            f"sub-agent {scan.agent_name(key)}: {count} call(s) record only a placeholder "
            f"output count ({why}): its output and cost are lower bounds"
        )


#: The model of a stand-in whose agent's model is not recorded (its launch result names none):
#: like an API error's ``<synthetic>``, no model a ticket ran on.
UNREAD_MODEL = "<unread>"


def _stand_in_for_unread(scan: Scan, calls: dict[Key, ApiCall]) -> None:
    """A background sub-agent none of whose calls any file read holds (its own file was not
    read; its launch result carries no usage, nor does its completion notice) counted as
    nothing would leave its place's figures exact and short of its work: a stand-in call of no
    tokens (:attr:`ApiCall.stand_in`) in its place makes them lower bounds, as a foreground
    agent known only by its parent's record does (:attr:`ApiCall.earlier_calls_unread`)."""
    read = {key for call in calls.values() if (key := call.agent_key) is not None}
    for key, info in scan.agents.items():
        if not info.background or key in read:
            continue
        stand_in = ApiCall(
            f"unread:{info.tool_use_id or agent_text(key)}",
            "",
            info.resolved_model or UNREAD_MODEL,
            session_id=info.session_id,
            agent_id=info.agent_id,
            stand_in=True,
        )
        calls[(stand_in.message_id, "")] = stand_in
        scan.warnings.append(
            f"sub-agent {scan.agent_name(key)}: it ran in the background and none of its calls "
            f"is in any file read (its own file, agent-{info.agent_id}.jsonl in its session's "
            "subagents/ folder, was not read): its work is missing from the figures, which are "
            "lower bounds"
        )


def _correct_last_calls(calls: dict[Key, ApiCall], tool_results: Any, scan: Scan) -> None:
    """The parent's ``toolUseResult.usage`` is the true usage of the agent's last call."""
    by_agent: dict[AgentKey, list[ApiCall]] = {}
    for call in calls.values():
        if (key := call.agent_key) is not None:
            by_agent.setdefault(key, []).append(call)
    epoch = datetime.min.replace(tzinfo=timezone.utc)
    for tr in tool_results:
        usage: ApiCall | None = tr.usage
        if usage is None:
            continue
        key = agent_key(tr.session_id, tr.agent_id)
        own = sorted(by_agent.get(key, []), key=lambda c: c.timestamp or epoch)
        same_prompt = [
            c
            for c in own
            if (c.input_tokens, c.cache_creation_input_tokens, c.cache_read_input_tokens)
            == (
                usage.input_tokens,
                usage.cache_creation_input_tokens,
                usage.cache_read_input_tokens,
            )
        ]
        info = scan.agents.get(key)
        if info is not None:
            info.last_call_corrected = True
        if same_prompt:
            target = same_prompt[-1]
            usage.model = target.model
            merge_call(target, usage)
            continue
        # The last call is in no file we read: count it from the parent's record.
        model = own[-1].model if own else (info.requested_model if info else None)
        usage.model = model or "unknown"
        usage.message_id = f"toolUseResult:{tr.tool_use_id or agent_text(key)}"
        usage.agent_id = tr.agent_id
        usage.session_id = tr.session_id
        # When it was made: the parent's record of it (so dated rates apply), never "undated".
        usage.timestamp = utc_stamp(tr.timestamp) or (own[-1].timestamp if own else None)
        calls[(usage.message_id, "")] = usage
        # With no call of its own read, it is its last call alone: a lower bound of every
        # figure, unless the parent's record says it used no tool (then it made one call).
        usage.earlier_calls_unread = not own and tr.tool_use_count != 0
        scan.warnings.append(
            f"sub-agent {scan.agent_name(key)}: its last call is in no transcript read; "
            f"counted from the parent's toolUseResult.usage (model {usage.model})"
            + (_earlier_calls(tr.tool_use_count) if usage.earlier_calls_unread else "")
        )


def _earlier_calls(tool_uses: int | None) -> str:
    """Why a sub-agent counted by its last call alone made earlier calls, or may have."""
    used = "records no count of its tool uses" if tool_uses is None else f"used {tool_uses} tool(s)"
    return (
        f"; the agent {used}, so it made (or may have made) earlier calls that no file read "
        "holds: its figures are lower bounds"
    )


def scan_paths(
    paths: Sequence[Path],
    *,
    progress: bool = False,
    prompts: bool = True,
    cache: ScanCache | None = None,
) -> Scan:
    """Read the transcripts that ``paths`` stand for (see :func:`expand_paths`), deduplicated
    across all of them. Raises :class:`~pytest_orchphase.errors.OrchphaseError` for a path that
    does not exist; bad content is counted in ``Scan.malformed_lines``, never raised.
    ``prompts=False`` when the caller does not need ``Scan.first_prompts`` complete. ``cache``:
    where each file's result is kept between scans (the result is the same without it)."""
    files = registry.expand_paths([Path(p) for p in paths])
    return scan_files(files, progress=progress, prompts=prompts, cache=cache)


def scan_files(
    files: Sequence[Path],
    *,
    progress: bool = False,
    prompts: bool = True,
    cache: ScanCache | None = None,
) -> Scan:
    """:func:`scan_paths` for files already listed."""
    with _no_collector():
        return _scan_files(files, progress, prompts, cache)


@contextmanager
def _no_collector() -> Iterator[None]:
    """The cyclic garbage collector paused: a scan makes hundreds of thousands of objects and
    no cycle, and each collection would walk them all again (5-8 % of a cold scan)."""
    was_enabled = gc.isenabled()
    try:
        gc.disable()
        yield
    finally:
        if was_enabled:
            gc.enable()


def _scan_files(
    files: Sequence[Path], progress: bool, prompts: bool, cache: ScanCache | None
) -> Scan:
    if cache is not None:
        cache.begin()
    sizes = [_size(f) for f in files]
    total = sum(sizes)
    report = _Progress(len(files), total) if progress else None
    workers = parallel.worker_count()
    how = _How(prompts, cache)
    work = sizes
    if cache is not None and total >= PARALLEL_BYTES:
        # What the cache holds is not read again: only the rest is shared out (asked only
        # where other processes may pay: the answer costs a look at each file's index record).
        work = [cache.work(f, prompts) for f in files]
    if sum(work) < PARALLEL_BYTES:
        workers = 1  # other processes would cost more than they save
    results = _read_files(files, sizes, work, workers, report, how)
    if report:
        report.done()
    if cache is not None:
        cache.finish(files, prompts)
    return merge_results(results)


@dataclass(frozen=True)
class _How:
    """How each file is read (sent to the worker processes with their files)."""

    prompts: bool = True
    cache: ScanCache | None = None

    def read(self, path: Path) -> FileResult:
        if self.cache is not None:
            return self.cache.read(path, self.prompts)
        return read_file(path, self.prompts)


def _read_files(
    files: Sequence[Path],
    sizes: Sequence[int],
    work: Sequence[int],
    workers: int,
    report: _Progress | None,
    how: _How,
) -> list[FileResult]:
    """Each file's result, in order: one chunk of files per process (one process, one
    chunk), balanced by the bytes to read (see :mod:`~pytest_orchphase.usage.parallel`); this
    process reads the first chunk itself and reports its progress file by file, the others'
    once their results are all in."""
    pieces = parallel.chunks(work, workers)
    read = _ReadFile(tuple(files), how)

    def here(i: int) -> tuple[FileResult, Item | None]:
        res = how.read(files[i])
        if report:
            report.step(sizes[i])
        return res, None  # its bundle item, if any, was kept here as it was made

    what = [f"{len(piece)} file(s), the first {files[piece[0]]}," for piece in pieces]
    out: list[FileResult | None] = [None] * len(files)
    results = parallel.run_chunks(read, pieces, what, here)
    for k, (piece, got) in enumerate(zip(pieces, results, strict=True)):
        for i, (res, item) in zip(piece, got, strict=True):
            out[i] = res
            if item is not None and how.cache is not None:
                how.cache.adopt(files[i], how.prompts, item)
            if report and k:
                report.step(sizes[i])
    return [r for r in out if r is not None]


@dataclass(frozen=True)
class _ReadFile:
    """Reads the file of an index, in another process (sent whole to a pool's processes: it
    pickles): its result, with the bundle item the cache made of it there, which that process's
    bundle would lose (:meth:`ScanCache.made`)."""

    files: tuple[Path, ...]
    how: _How

    def __call__(self, i: int) -> tuple[FileResult, Item | None]:
        path = self.files[i]
        res = self.how.read(path)
        cache = self.how.cache
        return res, cache.made(path, self.how.prompts) if cache is not None else None


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


class _Progress:
    def __init__(self, files: int, total: int) -> None:
        self.files = files
        self.total = total
        self.count = 0
        self.done_bytes = 0

    def step(self, size: int) -> None:
        self.count += 1
        self.done_bytes += size
        mb = self.done_bytes / 1e6
        sys.stderr.write(f"\rscanning {self.count}/{self.files} files, {mb:,.1f} MB")
        sys.stderr.flush()

    def done(self) -> None:
        sys.stderr.write("\r" + " " * 60 + "\r")
        sys.stderr.flush()

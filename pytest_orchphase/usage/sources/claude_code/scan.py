"""Read Claude Code transcripts into deduplicated, corrected API calls.

The accounting rules (each one has a test in ``tests/transcripts``):

* one API response is written as several lines sharing ``message.id`` and ``requestId``; it is
  counted once across all files, keeping the largest value of each token field (only
  ``output_tokens`` differs between the copies, the largest is the real one);
* sub-agent messages copied into the parent as ``progress``/``agent_progress`` lines are the
  same responses: same key, counted once;
* a sub-agent's own file holds placeholder ``output_tokens``; the parent's Task/Agent
  ``toolUseResult.usage`` is the true usage of the sub-agent's last call and corrects it;
  ``toolUseResult.totalTokens`` is that call's size, never the agent's spend;
* ``agent-acompact-*`` files are context compaction: billed, tied to no task;
* model ``<synthetic>`` is an API error, not a billed call;
* unknown line types are ignored; malformed lines are counted, never fatal.

Lines that cannot carry usage (no ``"usage"`` key anywhere in their bytes) are not parsed: they
are only checked to be one JSON object (``{`` … ``}``), which is how a truncated line is caught.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pytest_orchphase.usage.records import AgentInfo, ApiCall, Scan, TicketsNamed
from pytest_orchphase.usage.sources import registry
from pytest_orchphase.usage.sources.base import FileResult, Key, ToolResult, files_of
from pytest_orchphase.usage.sources.claude_code.layout import is_agent_file
from pytest_orchphase.usage.sources.headless.results import fold_headless

_loads: Callable[[bytes], Any]
try:  # orjson is optional: about twice as fast on large transcripts.
    import orjson

    _loads = orjson.loads
except ImportError:  # pragma: no cover - depends on the environment
    _loads = json.loads

SYNTHETIC_MODEL = "<synthetic>"
SPAWN_TOOLS = ("Task", "Agent")
INLINE_SIDECHAIN = "sidechain"
COMPACTION_PREFIX = "acompact"
#: Scans of at least this many bytes (and several files) use a process pool.
PARALLEL_BYTES = 48 * 1024 * 1024
READ_BUFFER = 1 << 20

_USAGE = b'"usage"'
_USER = b'"user"'
#: Claude Code's own text in the user's turn (an interruption note, a background agent's
#: completion notice), not a prompt the user wrote: never a session's first prompt.
_NOT_PROMPTS = ("[Request interrupted", "<task-notification>")
#: Lines without usage that are still read: inline sidechain lines (their chain leads to a
#: Task), and a background agent's launch result and completion notice.
#: Lines without usage that are still read (in a main file): inline sidechain lines (their chain
#: leads to a Task), a background agent's launch result and completion notice, and a headless
#: stream's init line (its Claude Code version). Each marker sits near the start of its line
#: (the keys before ``message``, the start of a short message, the launch result after a short
#: tool_result), so only a line's head is searched: tool outputs make most lines long.
_SIDECHAIN = (b'"isSidechain":true', b'"isSidechain": true')
_HEAD = 1024
_NOTICE = b"<task-notification>"
_LAUNCHED = b'"async_launched"'
_LAUNCH_HEAD = 16384
_INIT = b'"claude_code_version"'


def _also_read(line: bytes) -> bool:
    head = line[:_HEAD]
    return (
        _SIDECHAIN[0] in head
        or _SIDECHAIN[1] in head
        or _NOTICE in line[: 4 * _HEAD]
        or _LAUNCHED in line[:_LAUNCH_HEAD]
        or (head.startswith(b'{"type":"system"') and _INIT in line)
    )


_NOTICE_FIELD = re.compile(r"<(task-id|tool-use-id|status)>\s*([^<]*?)\s*</\1>")


class _Bad(Exception):
    """A line whose fields have the wrong types."""


# -- one line -------------------------------------------------------------------------------


def _int(value: Any) -> int:
    if value is None:
        return 0
    if type(value) is int and value >= 0:
        return value
    raise _Bad


def _opt_int(value: Any) -> int | None:
    return value if type(value) is int else None


def _opt_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _nested_int(usage: dict[str, Any], outer: str, inner: str) -> int:
    """``usage[outer][inner]`` as a count (0 when absent); :class:`_Bad` on wrong types."""
    part = usage.get(outer)
    if part is None:
        return 0
    if not isinstance(part, dict):
        raise _Bad
    return _int(part.get(inner))


def usage_call(usage: Any, model: str, message_id: str, request_id: str) -> ApiCall:
    """An :class:`ApiCall` from a ``usage`` object; :class:`_Bad` on wrong types."""
    if not isinstance(usage, dict):
        raise _Bad
    return ApiCall(
        message_id=message_id,
        request_id=request_id,
        model=model,
        input_tokens=_int(usage.get("input_tokens")),
        output_tokens=_int(usage.get("output_tokens")),
        cache_creation_input_tokens=_int(usage.get("cache_creation_input_tokens")),
        cache_creation_1h_tokens=_nested_int(usage, "cache_creation", "ephemeral_1h_input_tokens"),
        cache_read_input_tokens=_int(usage.get("cache_read_input_tokens")),
        web_search_requests=_nested_int(usage, "server_tool_use", "web_search_requests"),
        speed=_opt_str(usage.get("speed")) or None,
        inference_geo=_opt_str(usage.get("inference_geo")) or None,
    )


def merge_call(into: ApiCall, other: ApiCall) -> None:
    """Fold a copy of the same response into ``into``: the largest of each token field."""
    into.input_tokens = max(into.input_tokens, other.input_tokens)
    into.output_tokens = max(into.output_tokens, other.output_tokens)
    into.cache_creation_input_tokens = max(
        into.cache_creation_input_tokens, other.cache_creation_input_tokens
    )
    into.cache_creation_1h_tokens = max(
        into.cache_creation_1h_tokens, other.cache_creation_1h_tokens
    )
    into.cache_read_input_tokens = max(into.cache_read_input_tokens, other.cache_read_input_tokens)
    into.web_search_requests = max(into.web_search_requests, other.web_search_requests)
    into.speed = into.speed or other.speed
    into.inference_geo = into.inference_geo or other.inference_geo
    if other.agent_id not in (None, INLINE_SIDECHAIN) and into.agent_id in (None, INLINE_SIDECHAIN):
        into.agent_id = other.agent_id
    into.compaction = into.compaction or other.compaction
    into.output_exact = into.output_exact or other.output_exact
    into.session_id = into.session_id or other.session_id


class _Reader:
    """Parses the lines of one file into a :class:`FileResult`."""

    def __init__(self, path: Path) -> None:
        self.res = FileResult(path=path)
        self.file_agent = path.name[len("agent-") :].split(".")[0] if is_agent_file(path) else None
        #: Inline sidechains (Claude Code 1.0.x-2.0.x): line uuid -> parentUuid, the chains'
        #: root prompts (uuid -> text, in file order), and the first line uuid of each call.
        self.parents: dict[str, str | None] = {}
        self.roots: dict[str, str] = {}
        self.chain_of: dict[Key, str] = {}

    def warn_line(self, lineno: int, what: str) -> None:
        self.res.malformed += 1
        if len(self.res.warnings) < 20:
            self.res.warnings.append(f"{self.res.path}:{lineno}: {what}")

    def line(self, obj: Any, lineno: int) -> None:
        if not isinstance(obj, dict):
            raise _Bad
        kind = obj.get("type")
        if obj.get("isSidechain") is True and self.file_agent is None:
            self.sidechain_line(obj)
        if kind == "assistant":
            self.assistant(obj, lineno, self.top_agent(obj))
        elif kind == "progress":
            data = obj.get("data")
            if isinstance(data, dict) and data.get("type") == "agent_progress":
                self.agent_progress(obj, data, lineno)
        elif kind == "user":
            self.user(obj)
        else:
            self.other(kind, obj, lineno)

    def other(self, kind: Any, obj: dict[str, Any], lineno: int) -> None:
        """A line of a type a transcript does not hold: ignored, but for a headless run's
        ``result``, which another source reads (the registry chose this one by the file's first
        and last lines): never dropped in silence."""
        if kind == "result":
            self.warn_line(
                lineno,
                "a headless `claude -p` result inside a Claude Code transcript: not counted "
                "(keep each headless run in a file of its own, ending with its result)",
            )

    def top_agent(self, obj: dict[str, Any]) -> str | None:
        parent_tool = obj.get("parent_tool_use_id")  # stream-json sub-agent message
        if isinstance(parent_tool, str):
            return parent_tool
        if obj.get("isSidechain") is not True and self.file_agent is None:
            return None
        return _opt_str(obj.get("agentId")) or self.file_agent or INLINE_SIDECHAIN

    def sidechain_line(self, obj: dict[str, Any]) -> None:
        """Remember where an inline sidechain line hangs, and the prompt of each chain's root."""
        uuid = obj.get("uuid")
        if not isinstance(uuid, str):
            return
        parent = obj.get("parentUuid")
        self.parents[uuid] = parent if isinstance(parent, str) and parent else None
        if self.parents[uuid] is None and obj.get("type") == "user":
            msg = obj.get("message")
            text = _text_of(msg.get("content") if isinstance(msg, dict) else None)
            if text is not None:
                self.roots[uuid] = text

    def agent_progress(self, obj: dict[str, Any], data: dict[str, Any], lineno: int) -> None:
        agent_id = _opt_str(data.get("agentId")) or INLINE_SIDECHAIN
        parent_tool = obj.get("parentToolUseID")
        if isinstance(parent_tool, str) and agent_id != INLINE_SIDECHAIN:
            self.res.links.setdefault(agent_id, parent_tool)
        inner = data.get("message")
        if not isinstance(inner, dict) or inner.get("type") != "assistant":
            return
        if "sessionId" not in inner:
            inner = {**inner, "sessionId": obj.get("sessionId")}
        self.assistant(inner, lineno, agent_id, copy=True)

    def assistant(
        self, outer: dict[str, Any], lineno: int, agent_id: str | None, *, copy: bool = False
    ) -> None:
        msg = outer.get("message")
        if not isinstance(msg, dict):
            raise _Bad
        session = _opt_str(outer.get("sessionId")) or _opt_str(outer.get("session_id"))
        content = msg.get("content")
        if isinstance(content, list):
            for block in content:
                if (
                    isinstance(block, dict)
                    and block.get("type") == "tool_use"
                    and block.get("name") in SPAWN_TOOLS
                ):
                    self.spawn(block, session)
        usage = msg.get("usage")
        if usage is None:
            return
        model = msg.get("model")
        if not isinstance(model, str) or not model:
            raise _Bad
        if model == SYNTHETIC_MODEL:
            return
        message_id = msg.get("id")
        request_id = outer.get("requestId") or outer.get("request_id")  # stream-json spelling
        if isinstance(message_id, str) and message_id:
            key = (message_id, request_id if isinstance(request_id, str) else "")
        else:
            key = (f"{self.res.path}:{lineno}", "")
        call = usage_call(usage, model, key[0], key[1])
        call.session_id = session
        call.agent_id = agent_id
        call.sidechain = outer.get("isSidechain") is True
        call.compaction = agent_id is not None and agent_id.startswith(COMPACTION_PREFIX)
        # A sub-agent's own file and its agent_progress copies hold placeholder output counts,
        # except on a response's final line (stop_reason set; newer builds: usage.iterations).
        final = msg.get("stop_reason") is not None or "iterations" in usage
        call.output_exact = final or (not copy and self.file_agent is None)
        call.path = self.res.path
        stamp = outer.get("timestamp")
        if agent_id == INLINE_SIDECHAIN and isinstance(outer.get("uuid"), str):
            self.chain_of.setdefault(key, outer["uuid"])
        old = self.res.calls.get(key)
        if old is None:
            self.res.calls[key] = call
            if isinstance(stamp, str):
                self.res.first_ts[key] = stamp
        else:
            merge_call(old, call)
            if isinstance(stamp, str) and stamp < self.res.first_ts.get(key, "\uffff"):
                self.res.first_ts[key] = stamp

    def spawn(self, block: dict[str, Any], session: str | None) -> None:
        tool_use_id = block.get("id")
        if not isinstance(tool_use_id, str) or tool_use_id in self.res.spawns:
            return
        args = block.get("input")
        args = args if isinstance(args, dict) else {}
        self.res.spawns[tool_use_id] = AgentInfo(
            agent_id="",
            session_id=session,
            tool_use_id=tool_use_id,
            tool_name=str(block.get("name")),
            subagent_type=_opt_str(args.get("subagent_type")),
            description=_opt_str(args.get("description")),
            prompt=_opt_str(args.get("prompt")),
            requested_model=_opt_str(args.get("model")),
        )

    def prompt(self, obj: dict[str, Any]) -> None:
        """Keep the first prompt of a main session (the one a worker's ticket id is read from)."""
        if obj.get("isSidechain") is True or obj.get("isMeta") is True or self.file_agent:
            return
        session = _opt_str(obj.get("sessionId"))
        msg = obj.get("message")
        if session is None or session in self.res.prompts or not isinstance(msg, dict):
            return
        content = msg.get("content")
        if isinstance(content, list):
            texts = [
                b["text"]
                for b in content
                if isinstance(b, dict)
                and b.get("type") == "text"
                and isinstance(b.get("text"), str)
            ]
            content = "\n".join(texts) if texts else None
        if (
            isinstance(content, str)
            and content.strip()
            and not content.lstrip().startswith(_NOT_PROMPTS)
        ):
            self.res.prompts[session] = (_opt_str(obj.get("timestamp")) or "", content)

    def user(self, obj: dict[str, Any]) -> None:
        self.prompt(obj)
        result = obj.get("toolUseResult")
        if not isinstance(result, dict):
            self.notice(obj)
            return
        tool_use_id: str | None = None
        msg = obj.get("message")
        content = msg.get("content") if isinstance(msg, dict) else None
        if isinstance(content, list):
            for block in content:
                if isinstance(block, dict) and block.get("type") == "tool_result":
                    tool_use_id = _opt_str(block.get("tool_use_id"))
                    break
        agent_id = result.get("agentId")
        if agent_id is None and tool_use_id in self.res.spawns and "totalTokens" in result:
            # Claude Code 1.0.x: a Task result names no agent; its inline sidechain is named
            # by the Task's tool_use id (see resolve_sidechains).
            agent_id = tool_use_id
        if not isinstance(agent_id, str) or not agent_id:
            return
        usage = result.get("usage")
        self.res.results.append(
            ToolResult(
                tool_use_id=tool_use_id,
                agent_id=agent_id,
                session_id=_opt_str(obj.get("sessionId")),
                status=_opt_str(result.get("status")),
                usage=usage_call(usage, "", "", "") if usage is not None else None,
                tool_use_count=_opt_int(result.get("totalToolUseCount")),
                duration_ms=_opt_int(result.get("totalDurationMs")),
                resolved_model=_opt_str(result.get("resolvedModel")),
                timestamp=_opt_str(obj.get("timestamp")),
            )
        )

    def notice(self, obj: dict[str, Any]) -> None:
        """A background agent's completion: a ``<task-notification>`` user message."""
        msg = obj.get("message")
        text = _text_of(msg.get("content") if isinstance(msg, dict) else None)
        if text is None or not text.lstrip().startswith("<task-notification>"):
            return
        fields = dict(_NOTICE_FIELD.findall(text))
        self.res.notices.append(
            (fields.get("task-id"), fields.get("tool-use-id"), fields.get("status"))
        )

    def meta(self, obj: Any) -> None:
        if not isinstance(obj, dict) or self.file_agent is None:
            raise _Bad
        tool_use_id = _opt_str(obj.get("toolUseId"))
        self.res.metas[self.file_agent] = AgentInfo(
            agent_id=self.file_agent,
            tool_use_id=tool_use_id,
            subagent_type=_opt_str(obj.get("agentType")),
            description=_opt_str(obj.get("description")),
        )
        if tool_use_id is not None:
            self.res.links.setdefault(self.file_agent, tool_use_id)

    def resolve_sidechains(self) -> None:
        """Attribute each inline sidechain call to the Task whose ``input.prompt`` is its chain's
        root prompt (walking ``parentUuid`` up); the chain is named by that Task's tool_use id.
        Several Tasks with the same prompt take the chains with that prompt in order."""
        if not self.chain_of:
            return
        by_prompt: dict[str, list[str]] = {}
        for tool_use_id, spawn in self.res.spawns.items():
            if isinstance(spawn.prompt, str):
                by_prompt.setdefault(spawn.prompt, []).append(tool_use_id)
        task_of_root: dict[str, str] = {}
        for root, prompt in self.roots.items():
            waiting = by_prompt.get(prompt)
            if waiting:
                task_of_root[root] = waiting.pop(0)
        unmatched = 0
        for key, uuid in self.chain_of.items():
            task = task_of_root.get(self._root(uuid))
            if task is None:
                unmatched += 1
            else:
                self.res.calls[key].agent_id = task
        if unmatched:
            self.res.warnings.append(
                f"{self.res.path}: {unmatched} inline sidechain call(s) lead to no Task's prompt: "
                "counted as one unnamed sidechain"
            )

    def _root(self, uuid: str) -> str:
        seen = {uuid}
        while True:
            parent = self.parents.get(uuid)
            if parent is None or parent not in self.parents or parent in seen:
                return uuid
            seen.add(parent)
            uuid = parent


#: The reader of Claude Code message lines, for sources whose files hold them too.
LineReader = _Reader


def _text_of(content: Any) -> str | None:
    """A user message's text: the string itself, or its text blocks joined."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = [b.get("text") for b in content if isinstance(b, dict) and b.get("type") == "text"]
        if texts and all(isinstance(t, str) for t in texts):
            return "".join(t for t in texts if isinstance(t, str))
    return None


def read_file(path: Path, prompts: bool = True) -> FileResult:
    """Read one file by the source that claims it (see :mod:`..registry`)."""
    return registry.read_file(path, prompts)


def read_transcript(
    path: Path, reader_type: type[LineReader] | None = None, *, prompts: bool = True
) -> FileResult:
    """Read one transcript or meta.json file (with ``reader_type``: a file whose lines are
    Claude Code messages and more, such as a headless stream). Never raises for bad content.
    ``prompts=False``: no line is parsed only to find the session's first prompt (a file with
    no prompt would have every user line parsed: the tool outputs)."""
    reader = (reader_type or _Reader)(path)
    try:
        if path.name.endswith(".json"):
            _read_whole(reader, path)
        else:
            _read_lines(reader, path, prompts)
    except OSError as exc:
        reader.res.warnings.append(f"{path}: cannot read: {exc}")
    reader.resolve_sidechains()
    return reader.res


#: A UTF-8 byte order mark, which some editors and Windows tools put at the start of a file.
_BOM = b"\xef\xbb\xbf"


def _read_whole(reader: _Reader, path: Path) -> None:
    raw = path.read_bytes().removeprefix(_BOM)
    try:
        obj = _loads(raw)
        if path.name.endswith(".meta.json"):
            reader.meta(obj)
            reader.res.intact += 1
        elif isinstance(obj, list):  # `claude -p --output-format json --verbose`: all messages
            for index, item in enumerate(obj, 1):
                try:
                    reader.line(item, index)
                    reader.res.intact += 1
                except (_Bad, ValueError):
                    reader.warn_line(index, "wrong field types")
        else:
            reader.line(obj, 1)
            reader.res.intact += 1
    except (ValueError, _Bad):
        reader.warn_line(1, "not a JSON object of the expected shape")


def _read_lines(reader: _Reader, path: Path, prompts: bool = True) -> None:
    loads = _loads
    # A main session's first prompt names its ticket: parse lines whole until it is found.
    want_prompt = prompts and reader.file_agent is None
    # A sub-agent's own file: every line is a sidechain line, none of them is needed unparsed.
    main_file = reader.file_agent is None
    # A large buffer: tool outputs make lines of tens of kB, which the default 8 kB buffer
    # reads in many pieces (reading the lines took 3.5 times as long).
    with path.open("rb", buffering=READ_BUFFER) as fh:
        for lineno, line in enumerate(fh, 1):
            if lineno == 1:
                line = line.removeprefix(_BOM)  # else the first line is not JSON
            if want_prompt and _USER in line:
                want_prompt = not reader.res.prompts
                if _USAGE not in line:
                    try:
                        obj = loads(line)
                        if isinstance(obj, dict) and obj.get("type") == "user":
                            reader.prompt(obj)
                            want_prompt = not reader.res.prompts
                    except ValueError:
                        pass  # counted below like any line
            if _USAGE not in line and not (main_file and _also_read(line)):
                # Cannot carry usage: only check that it is one whole JSON object.
                stripped = line.strip()
                if not stripped:
                    continue
                if stripped[:1] == b"{" and stripped[-1:] == b"}":
                    reader.res.intact += 1
                else:
                    reader.warn_line(lineno, "not a whole JSON object (truncated?)")
                continue
            try:
                obj = loads(line)
            except ValueError:
                reader.warn_line(lineno, "not valid JSON (or not UTF-8)")
                continue
            try:
                reader.line(obj, lineno)
                reader.res.intact += 1
            except (_Bad, ValueError):
                reader.warn_line(lineno, "wrong field types")


# -- all files ------------------------------------------------------------------------------


def _parse_ts(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        stamp = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return stamp if stamp.tzinfo is not None else stamp.replace(tzinfo=timezone.utc)


def merge_results(results: Sequence[FileResult]) -> Scan:
    """Dedup across files, link agents to their spawning calls, apply the corrections."""
    results = files_of(results)
    scan = Scan(files=len(results))
    calls: dict[Key, ApiCall] = {}
    stamps: dict[Key, str] = {}
    spawns: dict[str, AgentInfo] = {}
    links: dict[str, str] = {}
    metas: dict[str, AgentInfo] = {}
    tool_results: dict[str, ToolResult] = {}
    prompts: dict[str, tuple[str, str | TicketsNamed]] = {}
    notices: list[tuple[str | None, str | None, str | None]] = []
    for res in results:
        scan.malformed_lines += res.malformed
        scan.warnings.extend(res.warnings)
        if not res.intact:
            scan.unreadable.append(res.path)
        for key, call in res.calls.items():
            old = calls.get(key)
            if old is None:
                calls[key] = call
            else:
                merge_call(old, call)
            stamp = res.first_ts.get(key)
            if stamp is not None and stamp < stamps.get(key, "\uffff"):
                stamps[key] = stamp
        for session, (stamp, text) in res.prompts.items():
            if session not in prompts or stamp < prompts[session][0]:
                prompts[session] = (stamp, text)
        for tool_use_id, info in res.spawns.items():
            spawns.setdefault(tool_use_id, info)
        for agent_id, tool_use_id in res.links.items():
            links.setdefault(agent_id, tool_use_id)
        metas.update(res.metas)
        notices.extend(res.notices)
        for tr in res.results:
            tool_results.setdefault(tr.tool_use_id or f"agent:{tr.agent_id}", tr)
            if tr.tool_use_id is not None:
                links.setdefault(tr.agent_id, tr.tool_use_id)
    for key, call in calls.items():
        call.timestamp = _parse_ts(stamps.get(key))
    scan.first_prompts = {session: text for session, (_, text) in prompts.items()}
    _drop_sidechain_replays(calls)

    scan.agents = _agents(calls.values(), spawns, links, metas, tool_results.values())
    _apply_notices(scan.agents, notices)
    _correct_last_calls(calls, tool_results.values(), scan)
    _warn_uncorrected(scan, calls)
    ordered = sorted(
        calls.values(),
        key=lambda c: (c.timestamp or datetime.min.replace(tzinfo=timezone.utc), c.message_id),
    )
    scan.calls = ordered
    for res in results:
        for headless in res.headless:
            headless.version = headless.version or res.version
            own = [calls[k] for k in res.calls]
            scan.calls.extend(fold_headless(headless, own, scan))
    return scan


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
    links: dict[str, str],
    metas: dict[str, AgentInfo],
    tool_results: Any,
) -> dict[str, AgentInfo]:
    agents: dict[str, AgentInfo] = {}
    sessions: dict[str, str | None] = {}
    for call in calls:
        aid = call.agent_id
        if aid is not None and aid != INLINE_SIDECHAIN and not call.compaction:
            sessions.setdefault(aid, call.session_id)
    for tr in tool_results:
        sessions.setdefault(tr.agent_id, tr.session_id)
    for aid in metas:
        sessions.setdefault(aid, None)
    for aid, session in sessions.items():
        tool_use_id = links.get(aid)
        # stream-json names a sub-agent by its spawning tool_use id.
        if tool_use_id is None and aid in spawns:
            tool_use_id = aid
        spawn = spawns.get(tool_use_id) if tool_use_id else None
        meta = metas.get(aid)
        info = AgentInfo(agent_id=aid, session_id=session, tool_use_id=tool_use_id)
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
        agents[aid] = info
    for tr in tool_results:
        info = agents[tr.agent_id]
        if tr.status == "async_launched":
            info.background = True
            info.resolved_model = tr.resolved_model
            info.status = info.status or tr.status
            continue
        info.status = tr.status
        info.tool_use_count = tr.tool_use_count
        info.duration_ms = tr.duration_ms
    return agents


def _apply_notices(
    agents: dict[str, AgentInfo], notices: list[tuple[str | None, str | None, str | None]]
) -> None:
    """A background agent's ``<task-notification>`` gives its final status."""
    by_tool = {a.tool_use_id: a for a in agents.values() if a.tool_use_id is not None}
    for task_id, tool_use_id, status in notices:
        info = agents.get(task_id or "") or by_tool.get(tool_use_id or "")
        if info is not None and status:
            info.status = status


def _warn_uncorrected(scan: Scan, calls: dict[Key, ApiCall]) -> None:
    """Say where a sub-agent's true output is in no record read (never claim a correction)."""
    inexact: dict[str, int] = {}
    for call in calls.values():
        if call.agent_id is not None and not call.output_exact:
            inexact[call.agent_id] = inexact.get(call.agent_id, 0) + 1
    for agent_id, count in inexact.items():
        info = scan.agents.get(agent_id)
        if info is not None and info.background and not info.last_call_corrected:
            why = "it ran in the background and its completion notice carries no usage"
        elif info is not None and info.last_call_corrected:
            why = "the parent's record corrects only its last call"
        else:
            why = "no parent record corrects it"
        scan.warnings.append(
            f"sub-agent {agent_id}: {count} call(s) record only a placeholder output count "
            f"({why}): its output and cost are lower bounds"
        )


def _correct_last_calls(calls: dict[Key, ApiCall], tool_results: Any, scan: Scan) -> None:
    """The parent's ``toolUseResult.usage`` is the true usage of the agent's last call."""
    by_agent: dict[str, list[ApiCall]] = {}
    for call in calls.values():
        if call.agent_id is not None:
            by_agent.setdefault(call.agent_id, []).append(call)
    epoch = datetime.min.replace(tzinfo=timezone.utc)
    for tr in tool_results:
        usage: ApiCall | None = tr.usage
        if usage is None:
            continue
        own = sorted(by_agent.get(tr.agent_id, []), key=lambda c: c.timestamp or epoch)
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
        info = scan.agents.get(tr.agent_id)
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
        usage.message_id = f"toolUseResult:{tr.tool_use_id or tr.agent_id}"
        usage.agent_id = tr.agent_id
        usage.session_id = tr.session_id
        # When it was made: the parent's record of it (so dated rates apply), never "undated".
        usage.timestamp = _parse_ts(tr.timestamp) or (own[-1].timestamp if own else None)
        calls[(usage.message_id, "")] = usage
        scan.warnings.append(
            f"sub-agent {tr.agent_id}: its last call is in no transcript read; "
            f"counted from the parent's toolUseResult.usage (model {usage.model})"
        )


def scan_paths(paths: Sequence[Path], *, progress: bool = False, prompts: bool = True) -> Scan:
    """Read the transcripts that ``paths`` stand for (see :func:`expand_paths`), deduplicated
    across all of them. Raises :class:`~pytest_orchphase.errors.OrchphaseError` for a path that
    does not exist; bad content is counted in ``Scan.malformed_lines``, never raised.
    ``prompts=False`` when the caller does not need ``Scan.first_prompts`` complete."""
    files = registry.expand_paths([Path(p) for p in paths])
    return scan_files(files, progress=progress, prompts=prompts)


def worker_count() -> int:
    """Processes a scan may use: the CPUs this process may run on (its affinity, not the
    machine's count: a container or ``taskset`` gives fewer), at most 4."""
    try:
        usable = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        usable = os.cpu_count() or 1
    return max(1, min(usable, 4))


def scan_files(files: Sequence[Path], *, progress: bool = False, prompts: bool = True) -> Scan:
    """:func:`scan_paths` for files already listed."""
    sizes = [_size(f) for f in files]
    total = sum(sizes)
    report = _Progress(len(files), total) if progress else None
    results: list[FileResult]
    workers = worker_count()
    if total >= PARALLEL_BYTES and len(files) > 1 and workers > 1:  # one CPU: no pool at all
        results = _read_parallel(files, sizes, workers, report, prompts)
    else:
        results = _read_chunk(files, sizes, report, prompts)
    if report:
        report.done()
    return merge_results(results)


def _read_chunk(
    files: Sequence[Path],
    sizes: Sequence[int],
    report: _Progress | None = None,
    prompts: bool = True,
) -> list[FileResult]:
    results = []
    for f, size in zip(files, sizes, strict=True):
        results.append(read_file(f, prompts))
        if report:
            report.step(size)
    return results


def _chunks(sizes: Sequence[int], count: int) -> list[list[int]]:
    """File indexes in ``count`` chunks of about equal bytes (each file, biggest first, to the
    lightest chunk so far), each chunk in file order; no empty chunk."""
    chunks: list[list[int]] = [[] for _ in range(count)]
    load = [0] * count
    for i in sorted(range(len(sizes)), key=lambda i: -sizes[i]):
        lightest = load.index(min(load))
        chunks[lightest].append(i)
        load[lightest] += sizes[i]
    return [sorted(c) for c in chunks if c]


def _read_parallel(
    files: Sequence[Path],
    sizes: Sequence[int],
    workers: int,
    report: _Progress | None,
    prompts: bool,
) -> list[FileResult]:
    """One chunk of files per process, balanced by size; this process reads the first chunk
    itself, so that only ``workers - 1`` lists of results travel between processes (one per
    chunk, not one per file)."""
    import multiprocessing

    context = multiprocessing.get_context("fork" if sys.platform == "linux" else None)
    chunks = _chunks(sizes, workers)
    if len(chunks) < 2:
        return _read_chunk(files, sizes, report, prompts)
    out: list[FileResult | None] = [None] * len(files)
    pool = ProcessPoolExecutor(max_workers=len(chunks) - 1, mp_context=context)
    try:
        futures = [
            pool.submit(
                _read_chunk, [files[i] for i in chunk], [sizes[i] for i in chunk], None, prompts
            )
            for chunk in chunks[1:]
        ]
        mine = chunks[0]
        own = _read_chunk([files[i] for i in mine], [sizes[i] for i in mine], report, prompts)
        for i, res in zip(mine, own, strict=True):
            out[i] = res
        for chunk, future in zip(chunks[1:], futures, strict=True):
            for i, res in zip(chunk, future.result(), strict=True):
                out[i] = res
                if report:
                    report.step(sizes[i])
    except BaseException:  # Ctrl-C: drop the files not yet read instead of waiting for them
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
    return [r for r in out if r is not None]


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

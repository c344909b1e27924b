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

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_orchphase.usage.records import AgentInfo, ApiCall
from pytest_orchphase.usage.sources import registry
from pytest_orchphase.usage.sources.base import FileResult, Key, ToolResult
from pytest_orchphase.usage.sources.claude_code.layout import is_agent_file
from pytest_orchphase.usage.sources.claude_code.lines import (
    _NOT_PROMPTS,
    _NOTICE_FIELD,
    _USAGE,
    _USER,
    COMPACTION_PREFIX,
    INLINE_SIDECHAIN,
    READ_BUFFER,
    SPAWN_TOOLS,
    SYNTHETIC_MODEL,
    _also_read,
    _Bad,
    _loads,
    _opt_int,
    _opt_str,
    fold_copy,
    fold_usage,
    usage_call,
    usage_fields,
)


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
        #: Lines without usage are still parsed for a session's first prompt (until a user
        #: line without usage is read after one was found: see :func:`_read_lines`).
        self.want_prompt = True

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
        self.spawns_in(msg.get("content"), session)
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
        fields = usage_fields(usage)
        # A sub-agent's own file and its agent_progress copies hold placeholder output counts,
        # except on a response's final line (stop_reason set; newer builds: usage.iterations).
        final = msg.get("stop_reason") is not None or "iterations" in usage
        exact = final or (not copy and self.file_agent is None)
        if agent_id == INLINE_SIDECHAIN and isinstance(outer.get("uuid"), str):
            self.chain_of.setdefault(key, outer["uuid"])
        stamp = outer.get("timestamp")
        old = self.res.calls.get(key)
        if old is not None:
            # One more line of a response (most are): folded into the first, no call made.
            fold_usage(old, fields)
            fold_copy(old, agent_id, exact, session)
            if isinstance(stamp, str) and stamp < self.res.first_ts.get(key, "\uffff"):
                self.res.first_ts[key] = stamp
            return
        self.res.calls[key] = ApiCall(
            key[0],
            key[1],
            model,
            *fields,
            session_id=session,
            agent_id=agent_id,
            compaction=agent_id is not None and agent_id.startswith(COMPACTION_PREFIX),
            path=self.res.path,
            output_exact=exact,
            sidechain=outer.get("isSidechain") is True,
        )
        if isinstance(stamp, str):
            self.res.first_ts[key] = stamp

    def spawns_in(self, content: object, session: str | None) -> None:
        """The Task/Agent tool calls in a message's content: the sub-agents it spawns."""
        if not isinstance(content, list):
            return
        for block in content:
            if (
                isinstance(block, dict)
                and block.get("type") == "tool_use"
                and block.get("name") in SPAWN_TOOLS
            ):
                self.spawn(block, session)

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
    if not path.name.endswith(".json"):
        return resume_transcript(path, None, 0, 0, prompts=prompts, reader_type=reader_type)
    reader = (reader_type or _Reader)(path)
    try:
        _read_whole(reader, path)
    except OSError as exc:
        reader.res.warnings.append(f"{path}: cannot read: {exc}")
    reader.resolve_sidechains()
    return reader.res


@dataclass
class Resumed:
    """A transcript read in two parts: its complete lines (up to ``end``, the byte after the
    last newline), then what follows them (a line still being written, without its newline)."""

    #: The result of the complete lines, before any inline sidechain is resolved.
    head: FileResult
    end: int
    lines: int
    #: ``head`` can be read on from ``end``: no inline sidechain line in it (resolving those
    #: needs every line of the chain, which the head's result does not keep).
    resumable: bool
    #: No line follows ``end``: the head is the whole file.
    whole: bool
    #: Whether the lines after ``end`` are still to be looked at for a first prompt.
    want_prompt: bool


def resume_transcript(
    path: Path,
    head: FileResult | None,
    start: int,
    lines: int,
    *,
    prompts: bool = True,
    want_prompt: bool = True,
    seen: Callable[[bytes], None] | None = None,
    on_head: Callable[[Resumed], None] | None = None,
    reader_type: type[LineReader] | None = None,
) -> FileResult:
    """A file of lines read from byte ``start`` (line ``lines + 1``) to its end, ``head``
    being the result of its lines before (``None``: from the start) and ``want_prompt`` the
    reader's search for a first prompt after them: :func:`read_transcript` of a transcript or
    a headless stream is this from the start. ``seen`` is given each complete line read;
    ``on_head`` the result of the complete lines (to be copied at once: reading goes on into
    it), before the last line is read when it has no newline yet. The result is the one a
    whole read gives."""
    reader = (reader_type or _Reader)(path)
    if head is not None:
        reader.res = head
    reader.want_prompt = want_prompt
    tail: bytes | None = None
    end = start
    try:
        with path.open("rb", buffering=READ_BUFFER) as fh:
            if start:
                fh.seek(start)
            numbered = _complete(fh, seen) if seen is not None else fh
            lines, tail = _read_lines(reader, numbered, prompts, lines, hold_tail=True)
            if on_head is not None:
                end = fh.tell() - len(tail or b"")
    except OSError as exc:
        reader.res.warnings.append(f"{path}: cannot read: {exc}")
        on_head = None
    if on_head is not None:
        resumable = not (reader.parents or reader.roots or reader.chain_of)
        on_head(Resumed(reader.res, end, lines, resumable, tail is None, reader.want_prompt))
    if tail is not None:
        _read_lines(reader, [tail], prompts, lines)
    reader.resolve_sidechains()
    return reader.res


def _complete(lines: Iterable[bytes], seen: Callable[[bytes], None]) -> Iterator[bytes]:
    for line in lines:
        if line[-1:] == b"\n":
            seen(line)
        yield line


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


def _look_for_prompt(reader: _Reader, line: bytes) -> bool:
    """Read a user line without usage for the session's first prompt (a line with usage is
    read whole anyway); whether the prompt is still to be found."""
    if _USAGE not in line:
        try:
            obj = _loads(line)
        except ValueError:
            return not reader.res.prompts  # counted by the caller like any line
        if isinstance(obj, dict) and obj.get("type") == "user":
            reader.prompt(obj)
    return not reader.res.prompts


def _read_lines(
    reader: _Reader,
    lines: Iterable[bytes],
    prompts: bool = True,
    before: int = 0,
    *,
    hold_tail: bool = False,
) -> tuple[int, bytes | None]:
    """Read ``lines`` (numbered from ``before + 1``) into ``reader``. Returns the number of the
    last line read, and with ``hold_tail`` the last line when it has no newline yet, not read
    (see :func:`resume_transcript`)."""
    loads = _loads
    # A main session's first prompt names its ticket: parse lines whole until it is found.
    want_prompt = prompts and reader.file_agent is None and reader.want_prompt
    # A sub-agent's own file: every line is a sidechain line, none of them is needed unparsed.
    main_file = reader.file_agent is None
    lineno = before
    for lineno, line in enumerate(lines, before + 1):
        if hold_tail and line[-1:] != b"\n":
            reader.want_prompt = want_prompt
            return lineno - 1, line
        if lineno == 1:
            line = line.removeprefix(_BOM)  # else the first line is not JSON
        if want_prompt and _USER in line:
            want_prompt = _look_for_prompt(reader, line)
        if _USAGE not in line and not (main_file and _also_read(line)):
            # Cannot carry usage: only check that it is one whole JSON object (most lines at a
            # glance, without the copy a strip makes).
            if line[:1] == b"{" and line[-2:] == b"}\n":
                reader.res.intact += 1
                continue
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
    reader.want_prompt = want_prompt
    return lineno, None

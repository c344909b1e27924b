"""What the lines of a Claude Code transcript mean: :class:`LineReader` turns each into API calls,
sub-agents, links and prompts, deduplicated and corrected.

The accounting rules (each one has a test in ``tests/transcripts``):

* one API response is written as several lines sharing ``message.id`` and ``requestId``; it is
  counted once across all files, keeping the largest value of each token field (only
  ``output_tokens`` differs between the copies, the largest is the real one);
* only a response's final line (``stop_reason`` set, or ``usage.iterations``) holds its true
  ``output_tokens``; a response without one (a main session's too) keeps a placeholder, a lower
  bound (``ApiCall.output_exact``), but for a 1.0.x/2.0.x inline sidechain, written whole;
* sub-agent messages copied into the parent as ``progress``/``agent_progress`` lines are the
  same responses: same key, counted once;
* a sub-agent's own file holds placeholder ``output_tokens``; the parent's Task/Agent
  ``toolUseResult.usage`` is the true usage of the sub-agent's last call and corrects it;
  ``toolUseResult.totalTokens`` is that call's size, never the agent's spend;
* ``agent-acompact-*`` files are context compaction: billed, tied to no task;
* model ``<synthetic>`` is an API error, not a billed call;
* unknown line types are ignored; malformed lines are counted, never fatal.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pytest_orchphase.usage.records import AgentInfo, ApiCall, agent_key
from pytest_orchphase.usage.sources.base import FileResult, Key, ToolResult, widen_times
from pytest_orchphase.usage.sources.claude_code.layout import is_agent_file
from pytest_orchphase.usage.sources.claude_code.lines import (
    _NOT_PROMPTS,
    _NOTICE_FIELD,
    COMPACTION_PREFIX,
    INLINE_SIDECHAIN,
    SPAWN_TOOLS,
    SYNTHETIC_MODEL,
    ImpossibleFigure,
    _Bad,
    _opt_int,
    _opt_str,
    fold_copy,
    fold_usage,
    usage_call,
    usage_fields,
)


class LineReader:
    """Parses the lines of one file into a :class:`FileResult`; the reader of Claude Code
    message lines for other sources whose files hold them too (a headless run's stream)."""

    def __init__(self, path: Path) -> None:
        self.res = FileResult(path=path)
        self.file_agent = path.name[len("agent-") :].split(".")[0] if is_agent_file(path) else None
        #: Inline sidechains (Claude Code 1.0.x-2.0.x): line uuid -> parentUuid, the chains'
        #: root prompts (uuid -> text, in file order), and the first line uuid of each call.
        self.parents: dict[str, str | None] = {}
        self.roots: dict[str, str] = {}
        self.chain_of: dict[Key, str] = {}
        #: Lines without usage are still parsed for a session's first prompt (until a user
        #: line without usage is read after one was found: see :func:`.reader._read_lines`).
        self.want_prompt = True
        #: The file is saved in another encoding than UTF-8 (see ``lines.foreign_encoding``):
        #: not read past its first line, nor kept in the scan cache.
        self.foreign = False

    def warn_line(self, lineno: int, what: str, *, lost: bool = False) -> None:
        """Count a malformed line; ``lost``: it may have recorded a call, now lost with it."""
        self.res.malformed += 1
        if lost:
            self.res.lost += 1
            what += ": it may have recorded a call, so the figures are lower bounds"
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
        and last lines), and a line of no type or of another that holds a response's usage (a
        damaged ``type``, a later build's line): never dropped in silence."""
        if kind == "result":
            self.warn_line(
                lineno,
                "a headless `claude -p` result inside a Claude Code transcript: not counted "
                "(keep each headless run in a file of its own, ending with its result)",
            )
        else:
            unread_usage(self, kind, obj, lineno)

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

    def session_of(self, obj: dict[str, Any]) -> str | None:
        """The session a line names (``session_id`` in a headless stream)."""
        return _opt_str(obj.get("sessionId")) or _opt_str(obj.get("session_id"))

    def agent_progress(self, obj: dict[str, Any], data: dict[str, Any], lineno: int) -> None:
        agent_id = _opt_str(data.get("agentId")) or INLINE_SIDECHAIN
        parent_tool = obj.get("parentToolUseID")
        if isinstance(parent_tool, str) and agent_id != INLINE_SIDECHAIN:
            key = agent_key(self.session_of(obj), agent_id)
            self.res.links.setdefault(key, parent_tool)
        inner = data.get("message")
        if not isinstance(inner, dict):
            # A copy of the sub-agent's message, a user's or an assistant's: which is not known.
            self.warn_line(
                lineno,
                f"an agent_progress line whose data.message is {_what(inner, 'message' in data)}; "
                "expected the sub-agent's copied message (an object)",
                lost=True,
            )
            return
        if inner.get("type") != "assistant":
            return
        if "sessionId" not in inner:
            inner = {**inner, "sessionId": obj.get("sessionId")}
        self.assistant(inner, lineno, agent_id, copy=True)

    def assistant(
        self, outer: dict[str, Any], lineno: int, agent_id: str | None, *, copy: bool = False
    ) -> None:
        msg = outer.get("message")
        if not isinstance(msg, dict):
            # The response itself is what is damaged (null, a redacted text, cut out): the call
            # the line records is lost with it, whatever else the line says.
            self.warn_line(
                lineno,
                f"an assistant line whose message is {_what(msg, 'message' in outer)}; "
                "expected the response (an object)",
                lost=True,
            )
            return
        session = self.session_of(outer)
        self.spawns_in(msg.get("content"), session)
        usage = _usage_of(msg)
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
        # A response's lines before its final one hold a placeholder output count (1, or what
        # was streamed so far): the final line (stop_reason set; newer builds: usage.iterations)
        # holds the true count, and may never have been written, in a main session too. Only
        # an inline sidechain of the 1.0.x/2.0.x builds writes each response whole, its count
        # the same on every line (see docs/measured-usage.md).
        # (``iterations`` null is none: no final line's mark, its count no true one.)
        final = msg.get("stop_reason") is not None or usage.get("iterations") is not None
        exact = final or (not copy and self.file_agent is None and _writes_whole(outer, agent_id))
        if agent_id == INLINE_SIDECHAIN and isinstance(outer.get("uuid"), str):
            self.chain_of.setdefault(key, outer["uuid"])
        old = self.res.calls.get(key)
        if old is not None:
            # One more line of a response (most are): folded into the first, no call made.
            fold_usage(old, fields)
            fold_copy(old, agent_id, exact, session)
            self.stamped(key, outer)
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
        self.stamped(key, outer)

    def stamped(self, key: Key, line: dict[str, Any]) -> None:
        """One more line of call ``key``: the call runs from its first line's time to its last's
        (a response's lines are written as its blocks are done). A line of no ``timestamp``
        (a headless stream's) says nothing of it; one whose ``timestamp`` is not a time leaves
        the call's times as they are, known only in part (``ApiCall.untimed_line``)."""
        if "timestamp" not in line:
            return
        stamp = line["timestamp"]
        if not (
            isinstance(stamp, str) and widen_times(self.res.first_ts, self.res.last_ts, key, stamp)
        ):
            self.res.calls[key].untimed_line = True

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
                session_id=self.session_of(obj),
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
        session = self.session_of(obj)
        self.res.notices.append(
            (session, fields.get("task-id"), fields.get("tool-use-id"), fields.get("status"))
        )

    def meta(self, obj: Any) -> None:
        if not isinstance(obj, dict) or self.file_agent is None:
            raise _Bad
        tool_use_id = _opt_str(obj.get("toolUseId"))
        key = agent_key(None, self.file_agent)  # its session: its folder's (see the scan)
        self.res.metas[key] = AgentInfo(
            agent_id=self.file_agent,
            tool_use_id=tool_use_id,
            subagent_type=_opt_str(obj.get("agentType")),
            description=_opt_str(obj.get("description")),
        )
        if tool_use_id is not None:
            self.res.links.setdefault(key, tool_use_id)

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


def _usage_of(msg: dict[str, Any]) -> Any:
    """An assistant message's ``usage``, ``None`` when it has none (no ``usage`` key, or an API
    error's ``<synthetic>`` line); :class:`ImpossibleFigure` when it is null on a response of a
    model: no usage is no usage, and the call the line records is lost with it (as with a null
    count inside it)."""
    usage = msg.get("usage")
    if usage is None and "usage" in msg and msg.get("model") != SYNTHETIC_MODEL:
        raise ImpossibleFigure(
            "message.usage is null; expected the response's usage (an object of token counts)"
        )
    return usage


#: The first build whose inline sidechain lines are streamed like a main session's (no build
#: of 2.1 or later writes inline sidechains but a ``/btw`` side question's, if any).
_STREAMED_SIDECHAINS = (2, 1)


def _writes_whole(outer: dict[str, Any], agent_id: str | None) -> bool:
    """Whether a line without a final marker still holds its response's true output count: an
    inline sidechain line (a Task's sub-agent) of a build before 2.1, which wrote each of its
    responses once complete (every line of one response records the same count)."""
    if agent_id is None or outer.get("isSidechain") is not True:
        return False
    version = outer.get("version")
    if not isinstance(version, str):
        return False
    parts = version.split(".")[:2]
    if len(parts) < 2 or not all(p.isdigit() for p in parts):
        return False
    return (int(parts[0]), int(parts[1])) < _STREAMED_SIDECHAINS


#: The reader of Claude Code message lines, for sources whose files hold them too.


def _what(value: Any, present: bool) -> str:
    """How a value that should be an object is described in a warning."""
    if not present:
        return "absent"
    return "null" if value is None else f"a {type(value).__name__} ({str(value)[:40]!r})"


def _text_of(content: Any) -> str | None:
    """A user message's text: the string itself, or its text blocks joined."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = [b.get("text") for b in content if isinstance(b, dict) and b.get("type") == "text"]
        if texts and all(isinstance(t, str) for t in texts):
            return "".join(t for t in texts if isinstance(t, str))
    return None


def unread_usage(reader: LineReader, kind: Any, obj: dict[str, Any], lineno: int) -> None:
    """A line of no type, or of a type no reader reads, whose ``message`` holds a ``usage``: a
    call this reader cannot count, lost as a malformed line's may be (the figures are lower
    bounds), as a usage ledger's record of no kind is."""
    message = obj.get("message")
    if isinstance(message, dict) and isinstance(message.get("usage"), dict):
        what = "no type" if kind is None else f"type {kind!r}"
        reader.warn_line(lineno, f"a line of {what} holding a response's usage", lost=True)

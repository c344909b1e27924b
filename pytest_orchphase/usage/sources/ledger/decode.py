"""The ledger's records (:mod:`.format`) read back into :class:`FileResult` objects, each
field checked: a record of the wrong shape is a :class:`~.format.LedgerError`, never a figure
taken on trust."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pytest_orchphase.usage.records import (
    LONGEST_RUN_MS,
    AgentInfo,
    ApiCall,
    HeadlessResult,
    ModelUsage,
    TicketsNamed,
    UsageFields,
    agent_key,
    are_counts,
)
from pytest_orchphase.usage.sources.base import FileResult, ToolResult, widen_times
from pytest_orchphase.usage.sources.claude_code.lines import merge_call
from pytest_orchphase.usage.sources.ledger.format import (
    CALL_FLAGS,
    MODEL_FIELDS,
    USAGE_FIELDS,
    LedgerError,
    UnknownKind,
)


def _str(record: dict[str, Any], key: str, *, required: bool = False) -> str | None:
    value = record.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise LedgerError(f"{key!r}: expected a string, got {value!r}")
    return value


def _count(record: dict[str, Any], key: str) -> int:
    value = record.get(key, 0)
    if type(value) is not int or value < 0:
        raise LedgerError(f"{key!r}: expected a count (a whole number from 0), got {value!r}")
    return value


def _flag(record: dict[str, Any], key: str) -> bool:
    """A yes/no field: a JSON boolean (absent: false). ``1`` or ``"true"`` is no flag: read as
    false it would drop what the flag says (a lower bound, an error), so it is refused."""
    value = record.get(key, False)
    if type(value) is not bool:
        raise LedgerError(f"{key!r}: expected true or false, got {value!r}")
    return value


def _opt_count(record: dict[str, Any], key: str) -> int | None:
    return None if record.get(key) is None else _count(record, key)


def _duration(record: dict[str, Any]) -> int | None:
    value = _opt_count(record, "duration_ms")
    if value is not None and value > LONGEST_RUN_MS:
        raise LedgerError(f"'duration_ms': expected at most {LONGEST_RUN_MS:,}, got {value!r}")
    return value


def _cost(record: dict[str, Any], key: str) -> float | None:
    value = record.get(key)
    if value is None:
        return None
    if type(value) not in (int, float) or not 0 <= value < math.inf:
        raise LedgerError(f"{key!r}: expected an amount in USD, got {value!r}")
    return float(value)


def _names(record: dict[str, Any], key: str, what: str = "ticket ids") -> tuple[str, ...]:
    value = record.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise LedgerError(f"{key!r}: expected a list of {what}, got {value!r}")
    return tuple(value)


_COUNTS = USAGE_FIELDS[:6]
_TEXTS = USAGE_FIELDS[6:]
#: A call record's optional texts besides its usage's.
_CALL_TEXTS = ("request_id", "session", "agent", "ts", "ts_last")
#: A call record's yes/no fields.
_CALL_FLAGS = (*CALL_FLAGS, "placeholder_output")


def _figures(record: dict[str, Any]) -> UsageFields:
    """A record's usage figures, checked in one expression (field by field only to name the
    one that is wrong: :class:`LedgerError`). Its cache writes are the larger of its total and
    its 1-hour part (a part above the total contradicts it: the larger is never low)."""
    get = record.get
    inp, out, write = get("input_tokens", 0), get("output_tokens", 0), get(_COUNTS[2], 0)
    write_1h, read, web = get(_COUNTS[3], 0), get(_COUNTS[4], 0), get(_COUNTS[5], 0)
    speed, geo, tier = get("speed"), get("inference_geo"), get("service_tier")
    if not (
        are_counts(inp, out, write, write_1h, read, web)
        and (speed is None or type(speed) is str)
        and (geo is None or type(geo) is str)
        and (tier is None or type(tier) is str)
    ):
        for name in _COUNTS:
            _count(record, name)
        for name in _TEXTS:
            _str(record, name)
    return (inp, out, max(write, write_1h), write_1h, read, web, speed, geo, tier)


def _call(
    record: dict[str, Any], message_id: str, request_id: str, model: str, **more: Any
) -> ApiCall:
    """The call a record's usage fields make (``more``: the call's other fields)."""
    return ApiCall(message_id, request_id, model, *_figures(record), **more)


class Decoder:
    """Rebuilds the :class:`FileResult` of each block, record by record."""

    def __init__(self, folder: Path, *, texts: bool = False) -> None:
        #: Stored files are named as if they lay in this folder (the ledger's path without its
        #: suffix), so that a ``sessions:`` entry naming the ledger holds their calls.
        self.folder = folder
        #: Records written with ``encode(..., texts=True)``: prompts are read as texts.
        self.texts = texts
        self.parts: list[FileResult] = []
        self.searched: frozenset[str] = frozenset()
        #: The last ``file`` record could not be read: its block's records are lost with it.
        self.broken = False

    def record(self, obj: dict[str, Any]) -> None:
        """Read one record into its block. A record of no kind is malformed (every record of a
        known format names its kind): :class:`LedgerError`; a kind this reader does not know
        (a later orchphase's) is :class:`UnknownKind`, for the reader to skip and say so."""
        kind = obj.get("kind")
        if kind == "file":
            self.broken = True
            self.file(obj)
            self.broken = False
            return
        if self.broken:
            raise LedgerError(f"a {kind!r} record of a file record that could not be read")
        if not self.parts:
            raise LedgerError(f"a {kind!r} record before any file record")
        if not isinstance(kind, str):
            raise LedgerError(f"'kind': expected the record's kind (a string), got {kind!r}")
        handler = _HANDLERS.get(kind)
        if handler is None:
            raise UnknownKind(kind)
        handler(self, obj, self.parts[-1])

    def file(self, obj: dict[str, Any], path: Path | None = None) -> None:
        """A ``file`` record: a block begins. ``path``: the file's own (its name the record's),
        instead of the name's in :attr:`folder`."""
        name = _str(obj, "name", required=True)
        assert name is not None
        if path is None:
            if Path(name).is_absolute() or ".." in Path(name).parts:
                raise LedgerError(f"'name': expected a relative file name, got {name!r}")
            path = self.folder / name
        elif name != path.name:
            raise LedgerError(f"'name': expected {path.name!r}, got {name!r}")
        res = FileResult(path=path, intact=_count(obj, "intact"))
        res.malformed = _count(obj, "malformed")
        res.lost = _count(obj, "lost")
        res.version = _str(obj, "version")
        # A ledger collected before runs were kept: how many its streams began is not known.
        res.runs_unknown = "runs" not in obj
        # Collected before call records gave their last line's time: when each call's
        # response ended is not known (its last line may be a minute and more after its first).
        res.ends_unknown = obj.get("call_ends") is not True
        runs = obj.get("runs", [])
        if not isinstance(runs, list) or not all(r is None or isinstance(r, str) for r in runs):
            raise LedgerError(f"'runs': expected a list of session ids (or nulls), got {runs!r}")
        res.run_starts = runs
        warnings = obj.get("warnings", [])
        if not isinstance(warnings, list) or not all(isinstance(w, str) for w in warnings):
            raise LedgerError("'warnings': expected a list of strings")
        res.warnings = [w.replace(name, str(path), 1) for w in warnings]
        self.searched = frozenset(_names(obj, "tickets"))
        self.parts.append(res)

    def _call(self, obj: dict[str, Any], res: FileResult) -> None:
        # The most frequent record by far: its texts checked at once (one by one only to name
        # a bad one), the call made with its figures at once.
        get = obj.get
        message_id: Any = get("message_id")
        model: Any = get("model")
        request_id, session, agent, stamp, last = (
            get("request_id"),
            get("session"),
            get("agent"),
            get("ts"),
            get("ts_last"),
        )
        compaction, sidechain = get("compaction", False), get("sidechain", False)
        placeholder, untimed = get("placeholder_output", False), get("untimed_line", False)
        if not (
            type(message_id) is str
            and type(model) is str
            and (request_id is None or type(request_id) is str)
            and (session is None or type(session) is str)
            and (agent is None or type(agent) is str)
            and (stamp is None or type(stamp) is str)
            and type(compaction) is bool
            and type(sidechain) is bool
            and type(placeholder) is bool
            and type(untimed) is bool
            and (last is None or type(last) is str)
        ):
            for name in ("message_id", "model"):
                _str(obj, name, required=True)
            for name in _CALL_TEXTS:
                _str(obj, name)
            for name in _CALL_FLAGS:
                _flag(obj, name)
        key = (message_id, request_id or "")
        call = ApiCall(
            message_id,
            key[1],
            model,
            *_figures(obj),
            session_id=session,
            agent_id=agent,
            compaction=compaction,
            path=res.path,
            output_exact=not placeholder,
            sidechain=sidechain,
            untimed_line=untimed,
        )
        # A call written twice in one block (a hand merge, an edit) is one call, its largest
        # figures kept and its earliest time, as across blocks and files (README, Measured
        # usage): the later copy never replaces the first.
        old = res.calls.get(key)
        if old is None:
            res.calls[key] = call
        else:
            merge_call(old, call)
        for at in (stamp, last):  # its first and latest lines' times, compared as times
            if at is not None and not widen_times(res.first_ts, res.last_ts, key, at):
                res.calls[key].untimed_line = True  # a damaged time: known only in part

    def _spawn(self, obj: dict[str, Any], res: FileResult) -> None:
        tool_use_id = _str(obj, "tool_use_id", required=True)
        assert tool_use_id is not None
        res.spawns[tool_use_id] = AgentInfo(
            agent_id="",
            session_id=_str(obj, "session"),
            tool_use_id=tool_use_id,
            tool_name=_str(obj, "tool"),
            subagent_type=_str(obj, "subagent_type"),
            description=_str(obj, "description"),
            prompt=self._spawn_prompt(obj),
            requested_model=_str(obj, "requested_model"),
        )

    def _spawn_prompt(self, obj: dict[str, Any]) -> str | TicketsNamed | None:
        if self.texts and "prompt" in obj:
            return _str(obj, "prompt")
        if "prompt_tickets" in obj:
            return TicketsNamed(_names(obj, "prompt_tickets"), self.searched)
        return None

    def _result(self, obj: dict[str, Any], res: FileResult) -> None:
        usage = obj.get("usage")
        if usage is not None and not isinstance(usage, dict):
            raise LedgerError("'usage': expected an object")
        agent = _str(obj, "agent", required=True)
        assert agent is not None
        res.results.append(
            ToolResult(
                tool_use_id=_str(obj, "tool_use_id"),
                agent_id=agent,
                session_id=_str(obj, "session"),
                status=_str(obj, "status"),
                usage=None if usage is None else _call(usage, "", "", ""),
                tool_use_count=_opt_count(obj, "tool_use_count"),
                duration_ms=_opt_count(obj, "duration_ms"),
                resolved_model=_str(obj, "resolved_model"),
                timestamp=_str(obj, "ts"),
            )
        )

    def _link(self, obj: dict[str, Any], res: FileResult) -> None:
        agent, tool_use_id = _str(obj, "agent", required=True), _str(obj, "tool_use_id")
        assert agent is not None
        if tool_use_id is None:
            raise LedgerError("'tool_use_id': expected a string")
        res.links[agent_key(_str(obj, "session"), agent)] = tool_use_id

    def _meta(self, obj: dict[str, Any], res: FileResult) -> None:
        agent = _str(obj, "agent", required=True)
        assert agent is not None
        session = _str(obj, "session")
        res.metas[agent_key(session, agent)] = AgentInfo(
            agent_id=agent,
            session_id=session,
            tool_use_id=_str(obj, "tool_use_id"),
            subagent_type=_str(obj, "subagent_type"),
            description=_str(obj, "description"),
        )

    def _notice(self, obj: dict[str, Any], res: FileResult) -> None:
        notice = (_str(obj, "session"), _str(obj, "task_id"), _str(obj, "tool_use_id"))
        res.notices.append((*notice, _str(obj, "status")))

    def _prompt(self, obj: dict[str, Any], res: FileResult) -> None:
        session = _str(obj, "session", required=True)
        assert session is not None
        text: str | TicketsNamed | None = _str(obj, "text") if self.texts else None
        if text is None:
            text = TicketsNamed(_names(obj, "tickets"), self.searched)
        stamp = _str(obj, "ts") or ""
        first = res.prompts.get(session)
        if first is None or stamp < first[0]:  # its first prompt, as across blocks and files
            res.prompts[session] = (stamp, text)

    def _headless(self, obj: dict[str, Any], res: FileResult) -> None:
        models = obj.get("models", {})
        if not isinstance(models, dict):
            raise LedgerError("'models': expected an object")
        result = HeadlessResult(
            path=res.path,
            session_id=_str(obj, "session"),
            subtype=_str(obj, "subtype"),
            is_error=_flag(obj, "is_error"),
            num_turns=_opt_count(obj, "num_turns"),
            duration_ms=_duration(obj),
            total_cost_usd=_cost(obj, "total_cost_usd"),
            main_cache_1h=_count(obj, "main_cache_1h"),
            main_cache_5m=_count(obj, "main_cache_5m"),
            version=_str(obj, "version"),
            speed=_str(obj, "speed"),
            inference_geo=_str(obj, "inference_geo"),
            compaction_guessed=_str(obj, "compaction_guessed"),
            main_models=_names(obj, "main_models", "models"),
        )
        for model, figures in models.items():
            if not isinstance(figures, dict):
                raise LedgerError(f"'models.{model}': expected an object")
            result.models[model] = ModelUsage(
                model=model,
                cost_usd=_cost(figures, "cost_usd"),
                **{f: _count(figures, f) for f in MODEL_FIELDS},
            )
        res.headless.append(result)


#: The records a :class:`Decoder` reads, by kind (a kind of a later format has none).
_HANDLERS: dict[str, Callable[[Decoder, dict[str, Any], FileResult], None]] = {
    "call": Decoder._call,
    "spawn": Decoder._spawn,
    "result": Decoder._result,
    "link": Decoder._link,
    "meta": Decoder._meta,
    "notice": Decoder._notice,
    "prompt": Decoder._prompt,
    "headless": Decoder._headless,
}

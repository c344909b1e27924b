"""A :class:`FileResult` written as the ledger's records (:mod:`.format`).

Free text is never written to a ledger: a prompt becomes the ticket ids found in it, a Task's
description passes through :func:`~.scrub.scrub`. The scan cache
(:mod:`pytest_orchphase.usage.cache`) stores each file's result in the same records, with
``texts=True``: the prompts and descriptions as they were (it stays on the machine that holds
the transcripts), so that a result read from it is the result of reading the file.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pytest_orchphase.usage.records import ApiCall, HeadlessResult, TicketsNamed, tickets_named
from pytest_orchphase.usage.sources.base import FileResult
from pytest_orchphase.usage.sources.ledger.format import (
    CALL_FLAGS,
    FORMAT,
    MARKER,
    MODEL_FIELDS,
    USAGE_FIELDS,
    Block,
)
from pytest_orchphase.usage.sources.ledger.scrub import scrub


def header(version: str, phase: str) -> dict[str, Any]:
    return {MARKER: FORMAT, "orchphase": version, "phase": phase}


def _found(text: str | TicketsNamed, tickets: Sequence[str]) -> list[str]:
    if isinstance(text, TicketsNamed):  # a ledger's fact, merged into another ledger
        return [t for t in tickets if t in text.found]
    return tickets_named(text, tickets)


#: Fields read back as 0 when absent: a 0 need not be written. Any other 0 (a Task's tool use
#: count, a run's turns or cost) is a figure of its own, unlike an absent one.
_ZERO_IS_ABSENT = frozenset(
    (*USAGE_FIELDS, "intact", "malformed", "lost", "main_cache_1h", "main_cache_5m", *MODEL_FIELDS)
)


def _compact(record: dict[str, Any]) -> dict[str, Any]:
    """Without the fields that read back as they are when absent (None, False, an empty list or
    object, a 0 of :data:`_ZERO_IS_ABSENT`): smaller, same meaning. An empty text stays: it
    reads back as an empty text, not as none."""
    return {
        k: v
        for k, v in record.items()
        if not (v is None or v is False or v == [] or v == {} or (v == 0 and k in _ZERO_IS_ABSENT))
    }


def _usage(call: ApiCall) -> dict[str, Any]:
    return {name: getattr(call, name) for name in USAGE_FIELDS}


def _as_is(text: str | None) -> str | None:
    return text


def encode(
    res: FileResult,
    name: str,
    size: int,
    sha256: str,
    source: str,
    tickets: Sequence[str],
    *,
    texts: bool = False,
    calls: bool = True,
) -> Block:
    """The block of one file's result. ``tickets``: the ids looked for in its prompts.
    ``texts``: keep prompts and descriptions as they are (the scan cache), not a ledger's
    ticket ids and scrubbed fields. ``calls=False``: without the records of its calls, which
    the scan cache writes in columns of its own (a record per call made and thrown away was a
    third of what keeping a file's result cost)."""
    where = str(res.path)
    clean = _as_is if texts else scrub
    block = Block(
        file=_compact(
            {
                "kind": "file",
                "name": name,
                "source": source,
                "bytes": size,
                "sha256": sha256,
                "intact": res.intact,
                "malformed": res.malformed,
                "lost": res.lost,
                "version": res.version,
                "runs": res.run_starts,
                # Its call records give their last line's time (ts_last) where it is not ts.
                "call_ends": True,
                "tickets": list(tickets),
                "warnings": [w.replace(where, name) for w in res.warnings],
            }
        )
    )
    if calls:
        block.records += _call_records(res)
    block.records += _agent_records(res, tickets, texts)
    for session, task_id, notified, status in res.notices:
        notice = {"kind": "notice", "session": session, "task_id": task_id}
        notice["tool_use_id"] = notified
        block.records.append(_compact(notice | {"status": clean(status)}))
    for session, (stamp, text) in res.prompts.items():
        prompt: dict[str, Any] = {"kind": "prompt", "session": session, "ts": stamp}
        if texts and isinstance(text, str):
            prompt["text"] = text
        else:
            prompt["tickets"] = _found(text, tickets)
        block.records.append(prompt)
    block.records += [_compact(_headless(result)) for result in res.headless]
    return block


def _call_records(res: FileResult) -> list[dict[str, Any]]:
    """One record per billed call: its key, model, first and last lines' times (the last only
    where it is not the first), session, agent and usage."""
    out: list[dict[str, Any]] = []
    for key, call in res.calls.items():
        record: dict[str, Any] = {"kind": "call", "message_id": key[0], "request_id": key[1]}
        first, last = res.first_ts.get(key), res.last_ts.get(key)
        record |= {"model": call.model, "ts": first, "ts_last": None if last == first else last}
        record["session"] = call.session_id
        record |= {"agent": call.agent_id, **_usage(call)}
        record |= {flag: getattr(call, flag) for flag in CALL_FLAGS}
        record["placeholder_output"] = not call.output_exact
        out.append(_compact(record))
    return out


def _agent_records(
    res: FileResult, tickets: Sequence[str], texts: bool = False
) -> list[dict[str, Any]]:
    """The sub-agents: each spawn (its Task fields scrubbed, its prompt as the ticket ids it
    names, unless ``texts``), each Task result with the parent's usage record, each link and
    meta file."""
    clean = _as_is if texts else scrub
    out: list[dict[str, Any]] = []
    for tool_use_id, spawn in res.spawns.items():
        record = _compact(
            {
                "kind": "spawn",
                "tool_use_id": tool_use_id,
                "session": spawn.session_id,
                "tool": spawn.tool_name,
                "subagent_type": clean(spawn.subagent_type),
                "description": clean(spawn.description),
                "requested_model": clean(spawn.requested_model),
            }
        )
        if texts and isinstance(spawn.prompt, str):
            record["prompt"] = spawn.prompt
        elif spawn.prompt is not None:
            record["prompt_tickets"] = _found(spawn.prompt, tickets)
        out.append(record)
    for tr in res.results:
        record = _compact(
            {
                "kind": "result",
                "tool_use_id": tr.tool_use_id,
                "agent": tr.agent_id,
                "session": tr.session_id,
                "status": clean(tr.status),
                "tool_use_count": tr.tool_use_count,
                "duration_ms": tr.duration_ms,
                "resolved_model": clean(tr.resolved_model),
                "ts": tr.timestamp,
            }
        )
        if tr.usage is not None:
            record["usage"] = _compact(_usage(tr.usage))
        out.append(record)
    out += [
        _compact(
            {"kind": "link", "session": session or None, "agent": agent, "tool_use_id": tool_use_id}
        )
        for (session, agent), tool_use_id in res.links.items()
    ]
    for (session, agent), meta in res.metas.items():
        record = {
            "kind": "meta",
            "session": session or None,
            "agent": agent,
            "tool_use_id": meta.tool_use_id,
            "subagent_type": clean(meta.subagent_type),
            "description": clean(meta.description),
        }
        out.append(_compact(record))
    return out


def _headless(result: HeadlessResult) -> dict[str, Any]:
    return {
        "kind": "headless",
        "session": result.session_id,
        "subtype": scrub(result.subtype),
        "is_error": result.is_error,
        "num_turns": result.num_turns,
        "duration_ms": result.duration_ms,
        "total_cost_usd": result.total_cost_usd,
        "models": {
            model: _compact({**{f: getattr(u, f) for f in MODEL_FIELDS}, "cost_usd": u.cost_usd})
            for model, u in result.models.items()
        },
        "main_cache_1h": result.main_cache_1h,
        "main_cache_5m": result.main_cache_5m,
        "version": result.version,
        "speed": scrub(result.speed),
        "inference_geo": scrub(result.inference_geo),
        "compaction_guessed": result.compaction_guessed,
        "main_models": list(result.main_models),
    }

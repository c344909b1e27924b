"""Builders for transcript lines shaped exactly like Claude Code's (2.1.x) JSONL, and a fake
Claude config folder to put them in."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SESSION = "ae4a77f8-aedd-4bc1-888f-c94edc91af04"
PROJECT = "-home-USER-projects-demo"
CWD = "/home/USER/projects/demo"
HAIKU = "claude-haiku-4-5-20251001"

Line = dict[str, Any] | str | bytes


def usage(
    *,
    inp: int = 1,
    out: int = 1,
    cw: int = 0,
    cr: int = 0,
    cw_1h: int = 0,
    web: int | None = None,
    speed: str | None = None,
    geo: str = "global",
) -> dict[str, Any]:
    u: dict[str, Any] = {
        "input_tokens": inp,
        "cache_creation_input_tokens": cw,
        "cache_read_input_tokens": cr,
        "cache_creation": {
            "ephemeral_5m_input_tokens": cw - cw_1h,
            "ephemeral_1h_input_tokens": cw_1h,
        },
        "output_tokens": out,
        "service_tier": "standard",
        "inference_geo": geo,
    }
    if web is not None:
        u["server_tool_use"] = {"web_search_requests": web, "web_fetch_requests": 0}
    if speed is not None:
        u["speed"] = speed
    return u


def _envelope(kind: str, *, session: str, agent_id: str | None, ts: str) -> dict[str, Any]:
    line: dict[str, Any] = {
        "parentUuid": "f6de5789-16f3-4174-b0d1-b830811aa252",
        "isSidechain": agent_id is not None,
        "userType": "external",
        "cwd": CWD,
        "sessionId": session,
        "version": "2.1.39",
        "gitBranch": "main",
        "slug": "lexical-painting-whisper",
    }
    if agent_id is not None:
        line["agentId"] = agent_id
    line["type"] = kind
    line["uuid"] = "e2e4fca4-3b5b-4b7a-837b-4656eb80e676"
    line["timestamp"] = ts
    return line


def assistant(
    msg_id: str,
    req_id: str,
    *,
    model: str = "claude-opus-4-6",
    u: dict[str, Any] | None = None,
    content: list[dict[str, Any]] | None = None,
    session: str = SESSION,
    agent_id: str | None = None,
    ts: str = "2026-02-12T14:12:23.585Z",
) -> dict[str, Any]:
    line = _envelope("assistant", session=session, agent_id=agent_id, ts=ts)
    line["message"] = {
        "model": model,
        "id": msg_id,
        "type": "message",
        "role": "assistant",
        "content": content if content is not None else [{"type": "text", "text": "Done."}],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": u if u is not None else usage(),
    }
    line["requestId"] = req_id
    return line


def spawn_block(
    tool_use_id: str,
    *,
    name: str = "Task",
    description: str = "Check versions",
    prompt: str = "Search for the latest versions",
    subagent_type: str = "general-purpose",
    model: str | None = "sonnet",
) -> dict[str, Any]:
    args: dict[str, Any] = {
        "description": description,
        "prompt": prompt,
        "subagent_type": subagent_type,
    }
    if model is not None:
        args["model"] = model
    return {
        "type": "tool_use",
        "id": tool_use_id,
        "name": name,
        "input": args,
        "caller": {"type": "direct"},
    }


def agent_progress(
    copy_of: dict[str, Any], *, agent_id: str, parent_tool_use_id: str, session: str = SESSION
) -> dict[str, Any]:
    """The parent's ``progress`` mirror of a sub-agent's assistant line."""
    line = _envelope("progress", session=session, agent_id=None, ts=copy_of["timestamp"])
    line["data"] = {
        "message": {
            "type": "assistant",
            "timestamp": copy_of["timestamp"],
            "message": copy_of["message"],
            "requestId": copy_of["requestId"],
            "uuid": "dd6c101a-bf75-4351-a3dc-4face6315c3f",
        },
        "normalizedMessages": [],
        "type": "agent_progress",
        "prompt": "Search for the latest versions",
        "agentId": agent_id,
    }
    line["toolUseID"] = "agent_msg_0184sjfFV1sinxvhH3bAStsb"
    line["parentToolUseID"] = parent_tool_use_id
    return line


def agent_result(
    tool_use_id: str,
    agent_id: str,
    u: dict[str, Any],
    *,
    total_tokens: int | None = None,
    session: str = SESSION,
    ts: str = "2026-02-12T14:13:05.070Z",
) -> dict[str, Any]:
    """The parent's user line carrying a Task/Agent tool result and its ``toolUseResult``."""
    line = _envelope("user", session=session, agent_id=None, ts=ts)
    size = u["input_tokens"] + u["cache_creation_input_tokens"] + u["cache_read_input_tokens"]
    line["message"] = {
        "role": "user",
        "content": [
            {
                "tool_use_id": tool_use_id,
                "type": "tool_result",
                "content": [{"type": "text", "text": "Perfect! Here are the versions."}],
            }
        ],
    }
    line["toolUseResult"] = {
        "status": "completed",
        "prompt": "Search for the latest versions",
        "agentId": agent_id,
        "content": [{"type": "text", "text": "Perfect! Here are the versions."}],
        "totalDurationMs": 32548,
        "totalTokens": total_tokens if total_tokens is not None else size + u["output_tokens"],
        "totalToolUseCount": 12,
        "usage": u,
    }
    return line


def user(text: str, *, session: str = SESSION, agent_id: str | None = None) -> dict[str, Any]:
    line = _envelope("user", session=session, agent_id=agent_id, ts="2026-02-12T14:12:20.000Z")
    line["message"] = {"role": "user", "content": text}
    return line


def snapshot() -> dict[str, Any]:
    return {
        "type": "file-history-snapshot",
        "messageId": "0f69d45e-40b3-447f-b1fd-0ac68b855de8",
        "snapshot": {"messageId": "0f69d45e", "trackedFileBackups": {}, "timestamp": "x"},
        "isSnapshotUpdate": False,
    }


def write_jsonl(path: Path, lines: Iterable[Line]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        for line in lines:
            if isinstance(line, bytes):
                fh.write(line)
            elif isinstance(line, str):
                fh.write(line.encode())
            else:
                fh.write(json.dumps(line, separators=(",", ":")).encode() + b"\n")
    return path


@dataclass
class ClaudeHome:
    """A Claude config folder: ``<root>/projects/<project>/…``."""

    root: Path

    @property
    def project(self) -> Path:
        return self.root / "projects" / PROJECT

    def session(self, lines: Iterable[Line], session: str = SESSION) -> Path:
        return write_jsonl(self.project / f"{session}.jsonl", lines)

    def subagent(self, agent_id: str, lines: Iterable[Line], session: str = SESSION) -> Path:
        return write_jsonl(self.project / session / "subagents" / f"agent-{agent_id}.jsonl", lines)

    def flat_agent(self, agent_id: str, lines: Iterable[Line]) -> Path:
        return write_jsonl(self.project / f"agent-{agent_id}.jsonl", lines)

    def meta(self, agent_id: str, data: dict[str, Any], session: str = SESSION) -> Path:
        path = self.project / session / "subagents" / f"agent-{agent_id}.meta.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data))
        return path


REAL_TRANSCRIPTS = Path(__file__).resolve().parents[2].parent / "shared" / "transcripts"


def result_object(**overrides: Any) -> dict[str, Any]:
    """The object `claude -p --output-format json` prints (pricing.md's example), one Haiku run."""
    obj: dict[str, Any] = {
        "type": "result",
        "subtype": "success",
        "is_error": False,
        "duration_ms": 41230,
        "duration_api_ms": 40000,
        "num_turns": 6,
        "session_id": "e382184a-1111-2222-3333-444455556666",
        "total_cost_usd": 0.03163195,
        "usage": {
            "input_tokens": 10,
            "cache_creation_input_tokens": 9097,
            "cache_read_input_tokens": 63057,
            "output_tokens": 2789,
            "cache_creation": {"ephemeral_1h_input_tokens": 9097, "ephemeral_5m_input_tokens": 0},
        },
        "modelUsage": {
            HAIKU: {
                "inputTokens": 10,
                "outputTokens": 2789,
                "cacheReadInputTokens": 63057,
                "cacheCreationInputTokens": 9097,
                "webSearchRequests": 0,
                "costUSD": 0.03163195,
                "contextWindow": 200000,
                "maxOutputTokens": 32000,
            }
        },
    }
    obj.update(overrides)
    return obj

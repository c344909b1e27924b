"""A count that is null is no count: never read as 0. The line (a transcript's, a headless
result's, a ledger's record) is malformed and may have recorded a call, so every figure is a
lower bound, with a warning naming the field. A field left out is not null: real builds leave
out the ``cache_creation`` split, ``server_tool_use`` and ``iterations``, and those lines are
read as they always were."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pytest_orchphase.usage.scan import scan_paths
from tests.helpers import ClaudeHome, agent_result, assistant, result_object, usage, user


def _nulled(u: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
    where = u
    for name in path[:-1]:
        where = where[name]
    where[path[-1]] = None
    return u


#: Every count a ``usage`` object holds, by where it lies in it.
_COUNTS = [
    ("input_tokens",),
    ("output_tokens",),
    ("cache_creation_input_tokens",),
    ("cache_read_input_tokens",),
    ("cache_creation", "ephemeral_5m_input_tokens"),
    ("cache_creation", "ephemeral_1h_input_tokens"),
    ("server_tool_use", "web_search_requests"),
    ("iterations", 0, "input_tokens"),
    ("iterations", 0, "output_tokens"),
]


def _usage_of_every_count() -> dict[str, Any]:
    u = usage(inp=50_000, out=100, cw=300, cr=400, cw_1h=100, web=1)
    u["iterations"] = [{"type": "message", "input_tokens": 50_000, "output_tokens": 100}]
    return u


@pytest.mark.parametrize("path", _COUNTS, ids=lambda p: ".".join(map(str, p)))
def test_a_null_count_of_a_transcript_line_is_a_lost_call(
    home: ClaudeHome, path: tuple[Any, ...]
) -> None:
    """Any count of a call's usage null: the line is malformed, the call may be lost, every
    figure a lower bound, and the warning names the field."""
    call = assistant("msg_1", "req_1", u=_nulled(_usage_of_every_count(), path))
    home.session([user("Implement R01"), call, assistant("msg_2", "req_2")])
    scan = scan_paths([home.root])
    assert (scan.malformed_lines, scan.lost_usage_lines) == (1, 1)
    field = path[-1]
    assert any(f"{field} is null" in w and "lower bounds" in w for w in scan.warnings)


def test_a_response_whose_usage_is_null_is_a_lost_call(home: ClaudeHome) -> None:
    """``message.usage`` null on an assistant line (never left out in real files): the call it
    records has no known usage, never none."""
    call = assistant("msg_1", "req_1", u=usage(inp=50_000))
    call["message"]["usage"] = None
    home.session([user("Implement R01"), call, assistant("msg_2", "req_2")])
    scan = scan_paths([home.root])
    assert (scan.malformed_lines, scan.lost_usage_lines) == (1, 1)
    assert any("message.usage is null" in w for w in scan.warnings)


def test_null_iterations_do_not_mark_a_responses_final_line(home: ClaudeHome) -> None:
    """``usage.iterations`` marks a response's final line (its true output count) in newer
    builds; null, it marks nothing: a line without ``stop_reason`` keeps a placeholder output,
    a lower bound, never an exact count."""
    line = assistant("msg_1", "req_1", u=usage(inp=10, out=1), final=False)
    line["message"]["usage"]["iterations"] = None
    home.session([line])
    (call,) = scan_paths([home.root]).calls
    assert not call.output_exact


def test_a_null_count_of_a_task_result_is_a_lost_call(home: ClaudeHome) -> None:
    """A Task result's ``toolUseResult.usage`` (the sub-agent's last call) with a null count."""
    result = agent_result("toolu_1", "a1", usage(inp=9_000))
    _nulled(result["toolUseResult"]["usage"], ("input_tokens",))
    home.session([user("Implement R01"), result])
    scan = scan_paths([home.root])
    assert scan.lost_usage_lines == 1
    assert any("input_tokens is null" in w for w in scan.warnings)


def test_counts_left_out_are_read_as_real_builds_write_them(home: ClaudeHome) -> None:
    """Real 2.1.3x lines leave out ``cache_creation``, ``server_tool_use`` and
    ``iterations``; the API's usage leaves those objects null where it has none to report:
    neither is a count that is null."""
    left_out = usage(inp=10, out=5, cw=7)
    del left_out["cache_creation"]
    nulled = usage(inp=20, out=5)
    nulled["cache_creation"] = None
    nulled["server_tool_use"] = None
    home.session([assistant("msg_1", "req_1", u=left_out), assistant("msg_2", "req_2", u=nulled)])
    scan = scan_paths([home.root])
    assert (scan.malformed_lines, scan.lost_usage_lines) == (0, 0)
    assert sum(c.input_tokens for c in scan.calls) == 30
    assert sum(c.cache_creation_input_tokens for c in scan.calls) == 7


@pytest.mark.parametrize(
    "where",
    [
        ("modelUsage", "claude-haiku-4-5-20251001", "inputTokens"),
        ("modelUsage", "claude-haiku-4-5-20251001", "cacheCreationInputTokens"),
        ("usage", "output_tokens"),
        ("usage", "cache_creation", "ephemeral_1h_input_tokens"),
    ],
    ids=lambda p: ".".join(p),
)
def test_a_null_count_of_a_headless_result_is_a_lost_run(
    tmp_path: Path, where: tuple[str, ...]
) -> None:
    """A headless result's ``modelUsage`` or main ``usage`` count null: the result is a
    malformed line (its run's spend unknown), never a run of fewer tokens."""
    obj = result_object()
    _nulled(obj, where)
    run = tmp_path / "run.json"
    run.write_text(json.dumps(obj))
    scan = scan_paths([run])
    assert scan.lost_usage_lines == 1
    assert any(f"{where[-1]} is null" in w for w in scan.warnings)
    assert not scan.headless


def test_a_null_count_of_a_headless_stream_message_is_a_lost_call(tmp_path: Path) -> None:
    """A stream's message lines are read as a transcript's: a null count loses the call."""
    init = {"type": "system", "subtype": "init", "session_id": "s1", "model": "m"}
    call = assistant("msg_1", "req_1", u=_nulled(usage(inp=9_000), ("cache_read_input_tokens",)))
    stream = tmp_path / "run.ndjson"
    lines = [init, call, result_object(session_id="s1")]
    stream.write_text("".join(json.dumps(line) + "\n" for line in lines))
    scan = scan_paths([stream])
    assert scan.lost_usage_lines == 1
    assert any("cache_read_input_tokens is null" in w for w in scan.warnings)


def test_a_null_count_of_a_ledger_record_is_a_lost_call(tmp_path: Path) -> None:
    """A usage ledger's call record whose count is null: a lost call, as a transcript's."""
    from pytest_orchphase.usage.sources.base import FileResult
    from pytest_orchphase.usage.sources.ledger.encode import encode
    from pytest_orchphase.usage.sources.ledger.source import read_ledger

    block = encode(FileResult(path=tmp_path / "s.jsonl", intact=1), "s.jsonl", 10, "0" * 64, "", [])
    call = {"kind": "call", "message_id": "m", "model": "claude-opus-4-6", "input_tokens": None}
    lines = [{"orchphase_ledger": 1, "orchphase": "0", "phase": "m1"}, block.file, call]
    ledger = tmp_path / "usage.jsonl"
    ledger.write_text("".join(json.dumps(line) + "\n" for line in lines))
    read = read_ledger(ledger)
    assert (read.malformed, read.lost) == (1, 1)
    assert any("'input_tokens': expected a count" in w for w in read.warnings)

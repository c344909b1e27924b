"""A response is several lines sharing ``message.id`` and ``requestId``, each written when its
block is done (real 2.1.37-2.1.39 files: up to 82 s apart): a call starts at its first line's
time and runs until its last line's. Both are kept, across files, by the scan cache and by the
usage ledger; a ledger collected before it kept the last times says so."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from pytest_orchphase.usage.cache import ScanCache
from pytest_orchphase.usage.scan import scan_paths
from pytest_orchphase.usage.sources.claude_code.reader import read_file
from pytest_orchphase.usage.sources.ledger.encode import encode
from pytest_orchphase.usage.sources.ledger.source import read_ledger
from tests.helpers import ClaudeHome, agent_progress, assistant, count_parsed_lines, usage


def _at(clock: str) -> datetime:
    return datetime.fromisoformat(f"2026-02-07T{clock}+00:00")


def _response(
    *clocks: str, msg: str = "msg_1", agent: str | None = None
) -> list[dict[str, object]]:
    """One response's lines, stamped at ``clocks`` (the last one final)."""
    return [
        assistant(
            msg,
            "req_1",
            u=usage(inp=10, out=1 + i),
            ts=f"2026-02-07T{clock}Z",
            agent_id=agent,
            final=i == len(clocks) - 1,
        )
        for i, clock in enumerate(clocks)
    ]


def test_a_call_runs_from_its_first_line_to_its_last(home: ClaudeHome) -> None:
    home.session(_response("10:29:10", "10:29:40", "10:30:30"))
    (call,) = scan_paths([home.root]).calls
    assert (call.timestamp, call.last_timestamp) == (_at("10:29:10"), _at("10:30:30"))


def test_a_call_of_one_line_ends_when_it_starts(home: ClaudeHome) -> None:
    home.session(_response("10:29:10"))
    (call,) = scan_paths([home.root]).calls
    assert call.timestamp == call.last_timestamp == _at("10:29:10")


def test_the_last_line_of_a_call_in_another_file_ends_it(home: ClaudeHome) -> None:
    """A sub-agent's response in its own file, its copy in the parent written later."""
    home.subagent("a1", _response("10:00:00", "10:00:20", agent="a1"))
    later = _response("10:01:30", agent="a1")[0]
    copy = agent_progress(later, agent_id="a1", parent_tool_use_id="toolu_1")
    home.session([copy])
    (call,) = scan_paths([home.root]).calls
    assert (call.timestamp, call.last_timestamp) == (_at("10:00:00"), _at("10:01:30"))


def test_the_scan_cache_keeps_each_calls_last_time(
    home: ClaudeHome, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed = count_parsed_lines(monkeypatch)
    home.session(_response("10:29:10", "10:30:30"))
    cache = ScanCache(tmp_path / "cache")
    for lines in (2, 0):  # cold, then from the entry (no line parsed)
        (call,) = scan_paths([home.root], cache=cache).calls
        assert call.last_timestamp == _at("10:30:30")
        assert parsed.take() == lines


def _ledger(home: ClaudeHome, tmp_path: Path, *, old: bool = False) -> Path:
    """A usage ledger of the session's file (``old``: as one collected before it kept each
    call's last time)."""
    session = home.session(_response("10:29:10", "10:30:30"))
    block = encode(read_file(session), "s.jsonl", 10, "0" * 64, "claude_code", [])
    records = [{"orchphase_ledger": 1, "orchphase": "0", "phase": "m1"}, block.file]
    records += block.records
    if old:
        for record in records:
            record.pop("call_ends", None)
            record.pop("ts_last", None)
    ledger = tmp_path / "usage.jsonl"
    ledger.write_text("".join(json.dumps(r) + "\n" for r in records))
    return ledger


def test_the_usage_ledger_keeps_each_calls_last_time(home: ClaudeHome, tmp_path: Path) -> None:
    ledger = _ledger(home, tmp_path)
    (part,) = read_ledger(ledger).parts
    assert not part.ends_unknown
    scan = scan_paths([ledger])
    (call,) = scan.calls
    assert (call.timestamp, call.last_timestamp) == (_at("10:29:10"), _at("10:30:30"))
    assert not scan.ends_unknown


def test_a_ledger_collected_before_it_kept_last_times_says_so(
    home: ClaudeHome, tmp_path: Path
) -> None:
    scan = scan_paths([_ledger(home, tmp_path, old=True)])
    (call,) = scan.calls
    assert call.last_timestamp == call.timestamp == _at("10:29:10")
    assert scan.ends_unknown == {tmp_path / "usage" / "s.jsonl"}


def test_a_call_written_twice_in_a_ledger_block_ends_at_its_latest_line(
    home: ClaudeHome, tmp_path: Path
) -> None:
    """A call record written twice in one block (a hand merge) is one call: from its earliest
    line's time to its latest's, whichever copy holds which."""
    ledger = _ledger(home, tmp_path)
    lines = ledger.read_text().splitlines(keepends=True)
    (call,) = [line for line in lines if '"kind": "call"' in line]
    earlier = json.loads(call)
    earlier |= {"ts": "2026-02-07T10:20:00Z", "ts_last": "2026-02-07T10:25:00Z"}
    ledger.write_text("".join(lines) + json.dumps(earlier) + "\n")
    (read,) = scan_paths([ledger]).calls
    assert (read.timestamp, read.last_timestamp) == (_at("10:20:00"), _at("10:30:30"))


def test_a_damaged_stamp_never_replaces_a_calls_times(home: ClaudeHome) -> None:
    """A final line stamped "not a time" (text that sorts after every stamp): the call still
    ran until its latest real line, and is marked as of a time known only in part."""
    *lines, last = _response("10:00:00", "10:45:00", "10:46:00")
    last["timestamp"] = "not a time"
    home.session([*lines, last])
    (call,) = scan_paths([home.root]).calls
    assert (call.timestamp, call.last_timestamp) == (_at("10:00:00"), _at("10:45:00"))
    assert call.untimed_line


def test_a_call_of_valid_stamps_is_of_known_time(home: ClaudeHome) -> None:
    home.session(_response("10:00:00", "10:45:00"))
    (call,) = scan_paths([home.root]).calls
    assert not call.untimed_line


def test_stamps_are_compared_as_times_not_text(home: ClaudeHome) -> None:
    """11:00+01:00 is 10:00Z: as text it sorts after 10:30Z."""
    first, last = _response("10:30:00", "10:40:00")
    first["timestamp"] = "2026-02-07T11:00:00+01:00"
    home.session([first, last])
    (call,) = scan_paths([home.root]).calls
    assert (call.timestamp, call.last_timestamp) == (_at("10:00:00"), _at("10:40:00"))


def test_stamps_of_one_call_in_two_files_are_compared_as_times(home: ClaudeHome) -> None:
    home.subagent("a1", _response("10:30:00", "10:40:00", agent="a1"))
    later = _response("10:30:00", agent="a1")[0]
    later["timestamp"] = "2026-02-07T09:50:00-01:00"  # 10:50Z (as text, before 10:30Z)
    home.session([agent_progress(later, agent_id="a1", parent_tool_use_id="toolu_1")])
    (call,) = scan_paths([home.root]).calls
    assert (call.timestamp, call.last_timestamp) == (_at("10:30:00"), _at("10:50:00"))


def test_the_scan_cache_keeps_a_calls_damaged_stamp(home: ClaudeHome, tmp_path: Path) -> None:
    *lines, last = _response("10:00:00", "10:45:00", "10:46:00")
    last["timestamp"] = "not a time"
    home.session([*lines, last])
    cache = ScanCache(tmp_path / "cache")
    for _ in range(2):  # cold, then from the entry
        (call,) = scan_paths([home.root], cache=cache).calls
        assert call.untimed_line
        assert call.last_timestamp == _at("10:45:00")


def test_the_usage_ledger_keeps_a_calls_damaged_stamp(home: ClaudeHome, tmp_path: Path) -> None:
    *lines, last = _response("10:00:00", "10:45:00", "10:46:00")
    last["timestamp"] = "not a time"
    session = home.session([*lines, last])
    block = encode(read_file(session), "s.jsonl", 10, "0" * 64, "claude_code", [])
    (record,) = [r for r in block.records if r.get("kind") == "call"]
    assert record["untimed_line"] is True
    ledger = tmp_path / "usage.jsonl"
    head = {"orchphase_ledger": 1, "orchphase": "0", "phase": "m1"}
    ledger.write_text("".join(json.dumps(r) + "\n" for r in [head, block.file, *block.records]))
    (call,) = scan_paths([ledger]).calls
    assert call.untimed_line
    assert (call.timestamp, call.last_timestamp) == (_at("10:00:00"), _at("10:45:00"))


@pytest.mark.parametrize("field", ["ts", "ts_last"])
def test_a_ledger_call_of_a_damaged_time_is_of_a_time_known_in_part(
    home: ClaudeHome, tmp_path: Path, field: str
) -> None:
    ledger = _ledger(home, tmp_path)
    lines = ledger.read_text().splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if '"kind": "call"' in line)
    record = json.loads(lines[at]) | {field: "not a time"}
    lines[at] = json.dumps(record) + "\n"
    ledger.write_text("".join(lines))
    (call,) = scan_paths([ledger]).calls
    assert call.untimed_line
    kept = _at("10:30:30") if field == "ts" else _at("10:29:10")
    assert call.timestamp == call.last_timestamp == kept

"""The wall time runs to each call's last line: a response's lines are written as its blocks
are done (up to 82 s apart in real 2.1.3x files), and the work ran until the last. A call whose
last line falls after the stamps lengthens the wall time as any call after them does (the note
says "beyond the stamps"), for the phase and for its ticket; a ledger collected before it kept
those times leaves the wall time a lower bound."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_orchphase.usage.sources.claude_code.reader import read_file
from pytest_orchphase.usage.sources.ledger.encode import encode
from tests.helpers import (
    Phase,
    YamlData,
    assert_not_yes,
    assistant,
    decision,
    implementation_only_ticket,
    read_report,
    run_phase,
    usage,
    write_jsonl,
)

SONNET = "claude-sonnet-4-5-20250929"


def _phase(pytester: pytest.Pytester, criterion: YamlData, session: str = "t01.jsonl") -> Path:
    """Phase p1 of T01 (stamped 10:00 to 10:29), ``session`` given to T01; its calls' lines
    in ``lines.jsonl`` beside the phase: one at 10:00:05, a response from 10:29:10 to
    10:30:30 (its last line)."""
    sessions = [{"path": session, "ticket": "T01"}]
    metadata = {"phase": "p1", "tickets": ["T01"], "sessions": sessions}
    ticket = implementation_only_ticket("2026-02-07T10:00:00Z", "2026-02-07T10:29:00Z")
    folder = Phase.of("p1", [criterion], {"T01": ticket}, metadata=metadata).write(pytester.path)
    early = assistant("m1", "q1", model=SONNET, u=usage(inp=10, out=5), ts="2026-02-07T10:00:05Z")
    first = assistant(
        "m2", "q2", model=SONNET, u=usage(inp=10, out=1), ts="2026-02-07T10:29:10Z", final=False
    )
    last = assistant("m2", "q2", model=SONNET, u=usage(inp=10, out=900), ts="2026-02-07T10:30:30Z")
    write_jsonl(pytester.path / "lines.jsonl", [early, first, last])
    return folder


def test_a_tickets_wall_time_runs_to_its_last_responses_last_line(
    pytester: pytest.Pytester,
) -> None:
    wall = {"id": "wall", "for_each": "ticket", "metric": "wall_time_minutes", "max": 30}
    folder = _phase(pytester, wall)
    (folder / "t01.jsonl").write_bytes((pytester.path / "lines.jsonl").read_bytes())
    result = run_phase(pytester, "p1")
    assert_not_yes(pytester, result)
    (check,) = read_report(pytester.path)["criteria"]
    assert (check["actual"], check["bound"]) == (30.5, "exact")
    assert "to 2026-02-07 10:30:30, beyond the stamps" in check["condition"]["note"]


def test_the_phases_wall_time_under_its_cap_with_every_line_in_it_is_yes(
    pytester: pytest.Pytester,
) -> None:
    """The last line counts, and nothing more: 30.5 min passes max 31."""
    wall = {"id": "wall", "metric": "wall_time_minutes", "max": 31}
    folder = _phase(pytester, wall)
    (folder / "t01.jsonl").write_bytes((pytester.path / "lines.jsonl").read_bytes())
    result = run_phase(pytester, "p1")
    assert result.ret == 0, result.stdout.str()
    assert decision(pytester) == "YES"


@pytest.mark.parametrize("old", [False, True], ids=["ledger", "ledger-before-call-ends"])
def test_a_ledger_keeps_the_last_lines_or_leaves_the_wall_time_a_lower_bound(
    pytester: pytest.Pytester, old: bool
) -> None:
    """From a usage ledger: the same 30.5 min; from one collected before it kept the calls'
    last times, 29.2 min at least (a lower bound, which proves no max)."""
    wall = {"id": "wall", "metric": "wall_time_minutes", "max": 30}
    folder = _phase(pytester, wall, session="usage.jsonl")
    block = encode(read_file(pytester.path / "lines.jsonl"), "t01.jsonl", 1, "0" * 64, "", [])
    records = [{"orchphase_ledger": 1, "orchphase": "0", "phase": "p1"}, block.file]
    records += block.records
    for record in records if old else []:
        record.pop("call_ends", None)
        record.pop("ts_last", None)
    (folder / "usage.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    result = run_phase(pytester, "p1")
    assert_not_yes(pytester, result)
    (check,) = read_report(pytester.path)["criteria"]
    if old:
        assert (check["actual"], check["bound"]) == (29.166666666666668, "lower")
        assert "collected before it kept each call's last line's time" in result.stdout.str()
    else:
        assert (check["actual"], check["bound"]) == (30.5, "exact")

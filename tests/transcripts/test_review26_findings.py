"""Review of 2026-11-30's third round of changes (306883f..6967a7f), core findings: each test
is a finding on main (xfail strict until fixed); the reason says what is observed and what is
expected."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pytest_orchphase.cli import main
from pytest_orchphase.usage.aggregate import price_calls, total
from pytest_orchphase.usage.pricing import PriceTable
from pytest_orchphase.usage.scan import scan_paths
from tests.helpers import HAIKU, ClaudeHome, assistant, result_object, usage, user, write_jsonl

FIRST = "e382184a-1111-2222-3333-444455556666"  # result_object()'s session
SECOND = "e382184a-9999-2222-3333-444455556666"


def _streamed(msg_id: str, session: str) -> dict[str, Any]:
    """A 2.1.207 stream-json message: one line, a placeholder output count, no stop_reason."""
    line = assistant(
        msg_id, f"req_{msg_id}", model=HAIKU, u=usage(inp=4, cw=9097, out=2), final=False
    )
    line.pop("sessionId")
    line["session_id"] = session
    return line


def _init(session: str) -> dict[str, Any]:
    return {
        "type": "system",
        "subtype": "init",
        "session_id": session,
        "claude_code_version": "2.1.207",
    }


def test_a_run_without_its_result_is_not_settled_by_another_runs_result(
    tmp_path: Path,
) -> None:
    lines = [
        _init(FIRST),
        _streamed("msg_1", FIRST),
        result_object(),
        _init(SECOND),
        _streamed("msg_2", SECOND),
    ]
    scan = scan_paths([write_jsonl(tmp_path / "runs.ndjson", lines)])
    totals = total(price_calls(scan, PriceTable.load()))
    assert "output" in totals.usage().lower_bounds


def test_a_transcript_made_whole_by_its_runs_json_result_is_exact(tmp_path: Path) -> None:
    home = ClaudeHome(tmp_path / "claude")
    placeholder = assistant(
        "msg_1", "req_1", model=HAIKU, session=FIRST, u=usage(inp=4, cw=9097, out=2), final=False
    )
    home.session([user("Implement R01", session=FIRST), placeholder], session=FIRST)
    (tmp_path / "r01.json").write_text(json.dumps(result_object()))  # session FIRST's result
    scan = scan_paths([home.root, tmp_path / "r01.json"])
    totals = total(price_calls(scan, PriceTable.load()))
    assert totals.output_tokens == 2789
    assert totals.usage().lower_bounds == frozenset()


def test_a_replayed_line_beside_a_headless_result_is_no_traceback(tmp_path: Path) -> None:
    parent = assistant("msg_X", "req_1", model=HAIKU, session=FIRST, u=usage(inp=4, out=20))
    replay = {**assistant("msg_X", "req_2", model=HAIKU, session=FIRST), "isSidechain": True}
    lines = [user("Implement R01", session=FIRST), parent, replay, result_object()]
    path = write_jsonl(tmp_path / "run.ndjson", lines)
    assert main(["extract", "--no-cache", str(path)]) in (0, 2)

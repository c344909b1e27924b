"""The runs a headless stream holds, counted by their ``system``/``init`` lines: a run cut off
before its ``result`` (`claude -p --resume` appended to a finished run's stream) reports no
duration, so the messages of its session in that file are of no known time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pytest_orchphase.usage.scan import scan_paths
from pytest_orchphase.usage.sources.ledger.collect import Collected, new_blocks, render
from tests.helpers import HAIKU, Line, assistant, result_object, usage, write_jsonl

RUN = "e382184a-1111-2222-3333-444455556666"  # result_object()'s session


def _message(n: int) -> dict[str, Any]:
    line = assistant(f"m{n}", f"q{n}", model=HAIKU, u=usage(inp=10, out=5))
    del line["timestamp"], line["sessionId"]
    return {**line, "session_id": RUN}


def _stream(tmp_path: Path) -> Path:
    """A finished run, then one of the same session cut off before its result: its init line
    written by a build that names no version, with spaces (``json.dumps``'s default)."""
    init: dict[str, Any] = {
        "type": "system",
        "subtype": "init",
        "session_id": RUN,
        "claude_code_version": "2.1.210",
    }
    cut_off = '{"type": "system", "subtype": "init", "session_id": "' + RUN + '"}\n'
    lines: list[Line] = [init, _message(1), result_object(), cut_off, _message(2)]
    return write_jsonl(tmp_path / "runs.ndjson", lines)


def test_a_streams_runs_are_counted_by_their_init_lines_a_cut_off_one_too(tmp_path: Path) -> None:
    path = _stream(tmp_path)
    scan = scan_paths([path])
    assert len(scan.headless) == 1
    assert dict(scan.run_starts) == {(path, RUN): 2}


def test_an_init_line_naming_no_session_is_a_run_of_its_file(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "r.ndjson", [{"type": "system", "subtype": "init"}])
    assert dict(scan_paths([path]).run_starts) == {(path, f"file:{path}"): 1}


def test_a_usage_ledger_keeps_the_runs_its_streams_began(tmp_path: Path) -> None:
    """Measured from a ledger, the cut-off run is still a run of the session in that file."""
    path = _stream(tmp_path)
    ledger = tmp_path / "usage.jsonl"
    ledger.write_bytes(render("m1", "0.1.0", new_blocks([path], [], Collected(out=ledger))))
    assert list(scan_paths([ledger]).run_starts.values()) == [2]

"""A file saved in another encoding than UTF-8 (Windows PowerShell's ``>`` and ``Out-File``
write UTF-16) is never dropped in silence: its lines cannot be read, so the warning names the
file and its encoding (UTF-8 expected) and every figure is a lower bound, whichever source's
file it is (a session, a headless result or stream, a usage ledger), with the scan cache or
without. Lines of another encoding inside a UTF-8 file (PowerShell's ``>>``) are lost lines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_orchphase.usage.cache import ScanCache
from pytest_orchphase.usage.records import Scan
from pytest_orchphase.usage.scan import scan_paths
from tests.helpers import ClaudeHome, assistant, jsonl_line, result_object, usage, user

_SAVED_AS = {
    "utf-16": ("utf-16", "UTF-16 (little-endian"),
    "utf-16-be-bom": ("utf-16-be", "UTF-16 (big-endian"),
    "utf-32": ("utf-32", "UTF-32 (little-endian"),
    "utf-16-le-no-bom": ("utf-16-le", "UTF-16 or UTF-32 (NUL bytes"),
}


def _saved_as(path: Path, codec: str) -> None:
    text = path.read_text(encoding="utf-8")
    mark = "\ufeff" if codec == "utf-16-be" else ""  # utf-16 and utf-32 write their own
    path.write_bytes((mark + text).encode(codec))


def _lost_and_named(scan: Scan, path: Path, named: str) -> None:
    assert scan.lost_usage_lines == 1
    (warning,) = [w for w in scan.warnings if str(path) in w]
    assert f"encoded as {named}" in warning and "expected UTF-8" in warning
    assert "lower bounds" in warning


@pytest.mark.parametrize("saved", list(_SAVED_AS))
def test_a_session_saved_in_another_encoding_is_named_and_bounds_the_figures(
    home: ClaudeHome, saved: str
) -> None:
    codec, named = _SAVED_AS[saved]
    home.session([user("Implement R01"), assistant("msg_1", "req_1", u=usage(inp=1_000))])
    other = home.session(
        [user("Implement R01", session="s2"), assistant("msg_2", "req_2", u=usage(inp=50_000))],
        session="s2",
    )
    _saved_as(other, codec)
    scan = scan_paths([home.root])
    _lost_and_named(scan, other, named)
    assert [c.input_tokens for c in scan.calls] == [1_000]  # the UTF-8 file as it was


def test_a_session_saved_as_utf16_is_never_kept_exact_by_the_scan_cache(
    home: ClaudeHome, tmp_path: Path
) -> None:
    path = home.session([assistant("msg_1", "req_1", u=usage(inp=50_000))])
    _saved_as(path, "utf-16")
    cache = ScanCache(tmp_path / "cache")
    for _ in range(2):  # cold, then warm
        _lost_and_named(scan_paths([home.root], cache=cache), path, "UTF-16")


def test_utf16_lines_appended_to_a_utf8_session_are_lost_lines(home: ClaudeHome) -> None:
    """PowerShell's ``>>`` appends UTF-16 to a UTF-8 file: those lines may hold calls."""
    path = home.session([assistant("msg_1", "req_1", u=usage(inp=1_000))])
    appended = jsonl_line(assistant("msg_2", "req_2", u=usage(inp=50_000))).decode()
    path.write_bytes(path.read_bytes() + appended.encode("utf-16-le"))
    scan = scan_paths([home.root])
    assert scan.lost_usage_lines >= 1
    assert [c.input_tokens for c in scan.calls] == [1_000]


def test_a_headless_result_saved_as_utf16_is_claimed_and_named(tmp_path: Path) -> None:
    """A ``--output-format json`` result in a folder is found by its content: one saved as
    UTF-16 is found too, never left out as no result."""
    run = tmp_path / "runs" / "run.json"
    run.parent.mkdir()
    run.write_bytes(json.dumps(result_object()).encode("utf-16"))
    scan = scan_paths([run.parent])
    assert scan.files == 1
    _lost_and_named(scan, run, "UTF-16")


def test_a_headless_stream_saved_as_utf16_is_named(tmp_path: Path) -> None:
    init = {"type": "system", "subtype": "init", "session_id": "s1", "model": "m"}
    lines = [init, assistant("msg_1", "req_1"), result_object(session_id="s1")]
    stream = tmp_path / "run.ndjson"
    stream.write_bytes("".join(json.dumps(line) + "\n" for line in lines).encode("utf-16"))
    _lost_and_named(scan_paths([stream]), stream, "UTF-16")


def test_a_usage_ledger_saved_as_utf16_is_named(tmp_path: Path) -> None:
    """A ledger is known by its first bytes: saved as UTF-16 it is read as no ledger, and its
    records (no transcript's lines) would count nothing without a word."""
    header = {"orchphase_ledger": 1, "orchphase": "0", "phase": "m1"}
    call = {"kind": "call", "message_id": "m", "model": "claude-opus-4-6", "input_tokens": 9}
    ledger = tmp_path / "usage.jsonl"
    text = "".join(json.dumps(line) + "\n" for line in [header, {"kind": "file"}, call])
    ledger.write_bytes(text.encode("utf-16"))
    _lost_and_named(scan_paths([ledger]), ledger, "UTF-16")


def test_utf16_lines_appended_to_a_ledger_are_lost_lines(tmp_path: Path) -> None:
    from pytest_orchphase.usage.sources.ledger.source import read_ledger

    header = {"orchphase_ledger": 1, "orchphase": "0", "phase": "m1"}
    ledger = tmp_path / "usage.jsonl"
    call = {"kind": "call", "message_id": "m", "model": "claude-opus-4-6", "input_tokens": 9}
    ledger.write_bytes((json.dumps(header) + "\n").encode() + json.dumps(call).encode("utf-16-le"))
    assert read_ledger(ledger).lost == 1


def test_an_agents_meta_file_saved_as_utf16_is_named_but_holds_no_call(home: ClaudeHome) -> None:
    home.session([assistant("msg_1", "req_1", u=usage(inp=1_000))])
    meta = home.meta("a1", {"agentType": "general-purpose", "toolUseId": "toolu_1"})
    meta.write_bytes(meta.read_text().encode("utf-16"))
    scan = scan_paths([home.root])
    assert scan.lost_usage_lines == 0
    assert any(str(meta) in w and "encoded as UTF-16" in w for w in scan.warnings)

"""Which source reads which file: the registry chooses, by name and by a file's first and last
lines, never by a reader handing lines to another source."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_orchphase.usage.scan import scan_paths
from pytest_orchphase.usage.sources import registry
from tests.helpers import ClaudeHome, assistant, result_object, usage, write_jsonl

INIT = {"type": "system", "subtype": "init", "session_id": "s-1", "claude_code_version": "2.1.207"}


def _name(path: Path, *, named: bool = True) -> str | None:
    source = registry.source_for(path, named=named)
    return None if source is None else source.name


def test_built_in_sources_are_asked_most_specific_first() -> None:
    assert [s.name for s in registry.sources()] == ["ledger", "headless", "claude_code"]


def test_each_file_goes_to_the_source_of_its_format(home: ClaudeHome, tmp_path: Path) -> None:
    session = home.session([assistant("msg_A", "req_A")])
    meta = home.meta("a1", {"agentType": "general-purpose", "description": "x"})
    stream = write_jsonl(tmp_path / "stream.jsonl", [INIT, assistant("msg_B", "req_B")])
    ended = write_jsonl(tmp_path / "ended.ndjson", [assistant("msg_C", "req_C"), result_object()])
    single = tmp_path / "run.json"
    single.write_text(json.dumps(result_object()))
    package = tmp_path / "package.json"
    package.write_text('{"name": "not a transcript"}')
    assert [_name(p) for p in (session, meta, stream, ended, single)] == [
        "claude_code",
        "claude_code",
        "headless",
        "headless",
        "headless",
    ]
    assert _name(package, named=False) is None  # found in a folder: not read
    assert _name(package) == "claude_code"  # named explicitly: read, its bad lines reported


def test_a_result_line_inside_a_transcript_is_reported_never_dropped(home: ClaudeHome) -> None:
    lines = [assistant("msg_A", "req_A", u=usage(out=7)), result_object(), assistant("msg_B", "r")]
    session = home.session(lines)
    assert _name(session) == "claude_code"  # neither starts nor ends like a headless run
    scan = scan_paths([session])
    assert [c.message_id for c in scan.calls] == ["msg_A", "msg_B"]
    assert scan.malformed_lines == 1
    assert any(":2: a headless `claude -p` result inside" in w for w in scan.warnings)


def test_a_stream_is_told_by_ends_longer_than_the_first_glance(tmp_path: Path) -> None:
    """Each end of a file is glanced at first (4 kB), then read further when the glance cannot
    tell: a stream whose result line is longer, or whose init line names its kind after a
    long list of tools, is still a headless run, its result counted, in a folder as well."""
    long_result = result_object(result="done. " * 2000)  # a final answer of 12 kB
    ended = write_jsonl(tmp_path / "a" / "ended.ndjson", [assistant("msg_C", "req_C"), long_result])
    init = {"type": "system", "tools": [f"mcp__tool_{n}" for n in range(600)], **INIT}
    started = write_jsonl(tmp_path / "b" / "started.jsonl", [init, assistant("msg_D", "req_D")])
    assert len(json.dumps(long_result)) > 4096 and json.dumps(init).find('"init"') > 4096
    assert [_name(ended, named=False), _name(started, named=False)] == ["headless", "headless"]
    (result,) = scan_paths([tmp_path / "a"]).headless
    assert result.total_cost_usd == long_result["total_cost_usd"]
    assert scan_paths([tmp_path / "b"]).files == 1 and registry.expand_paths([tmp_path / "b"])


def test_a_stream_read_by_the_headless_source_keeps_its_version(tmp_path: Path) -> None:
    stream = write_jsonl(tmp_path / "run.jsonl", [INIT, result_object()])
    (result,) = scan_paths([stream]).headless
    assert result.version == "2.1.207"


def test_a_pipe_named_like_a_transcript_in_a_folder_is_an_error_not_a_hang(
    tmp_path: Path,
) -> None:
    import os

    from pytest_orchphase.errors import OrchphaseError

    os.mkfifo(tmp_path / "run.ndjson")
    with pytest.raises(OrchphaseError, match="not a regular file"):
        registry.expand_paths([tmp_path])

"""A malformed line that held usage (`lost_usage_lines`): `extract` says every figure is a lower
bound, the ledger and the scan cache keep the count, and a malformed line without usage loses
nothing. (What a phase run makes of it: tests/plugin/test_lost_usage.py.)"""

from __future__ import annotations

import json
from pathlib import Path
from typing import get_args

import pytest

from pytest_orchphase.cli import main
from pytest_orchphase.load.models.fields import Measure
from pytest_orchphase.usage.scan import scan_paths
from pytest_orchphase.usage.sources.base import FileResult
from pytest_orchphase.usage.sources.ledger.decode import Decoder
from pytest_orchphase.usage.sources.ledger.encode import encode
from pytest_orchphase.usage.value import MEASURES
from tests.helpers import ClaudeHome, agent_progress, assistant, jsonl_line, usage, user


def _session(home: ClaudeHome, broken: bytes) -> None:
    home.session(
        [
            assistant("msg_1", "req_1", u=usage(inp=10, out=120, cw=200)),
            broken,
            assistant("msg_3", "req_3", u=usage(inp=10, out=120)),
        ]
    )


def _cut(line: bytes, at: bytes) -> bytes:
    return line[: line.index(at)] + b"\n"


def _extract(home: ClaudeHome, capsys: pytest.CaptureFixture[str], *more: str) -> str:
    assert main(["extract", str(home.root), "--no-cache", *more]) == 0
    return capsys.readouterr().out


def test_extract_marks_every_figure_a_lower_bound_after_a_lost_usage_line(
    home: ClaudeHome, capsys: pytest.CaptureFixture[str]
) -> None:
    lost = jsonl_line(assistant("msg_2", "req_2", u=usage(inp=9000, out=5, cw=0)))
    _session(home, _cut(lost, b'"output_tokens"'))
    doc = json.loads(_extract(home, capsys, "--json"))
    assert doc["lost_usage_lines"] == 1
    assert doc["malformed_lines"] == 1
    groups = [*doc["models"].values(), *doc["agents"], doc["totals"]]
    assert all(group["lower_bounds"] == sorted(MEASURES) for group in groups)
    assert doc["totals"]["input_tokens"] == 20  # the figures read are as they were
    assert "every figure is a lower bound: 1 line(s) that may have recorded a call" in _extract(
        home, capsys
    )


def test_a_malformed_line_without_usage_leaves_the_figures_exact(
    home: ClaudeHome, capsys: pytest.CaptureFixture[str]
) -> None:
    _session(home, _cut(jsonl_line(user("Implement R03 as planned")), b"as planned"))
    doc = json.loads(_extract(home, capsys, "--json"))
    assert (doc["malformed_lines"], doc["lost_usage_lines"]) == (1, 0)
    assert doc["totals"]["lower_bounds"] == []
    assert "every figure is a lower bound" not in _extract(home, capsys)


def test_the_ledger_keeps_the_count_of_lost_usage_lines(tmp_path: Path) -> None:
    """A collected ledger (and the scan cache, which stores the same records) reads back the
    count: a phase measured from it is a lower bound as the transcripts were."""
    res = FileResult(path=tmp_path / "s.jsonl", intact=2)
    res.malformed, res.lost = 3, 2
    for texts in (False, True):
        block = encode(res, "s.jsonl", 10, "0" * 64, "claude_code", [], texts=texts)
        decoder = Decoder(tmp_path, texts=texts)
        for record in [block.file, *block.records]:
            decoder.record(json.loads(json.dumps(record)))
        (back,) = decoder.parts
        assert (back.malformed, back.lost) == (3, 2)


def test_the_measures_a_lost_line_bounds_are_every_measure_a_criterion_names() -> None:
    assert set(get_args(Measure)) == MEASURES


def test_a_ledger_record_of_a_call_that_cannot_be_read_is_a_lost_usage_line(
    tmp_path: Path,
) -> None:
    """A collected ledger whose call record was damaged: the call is lost, as a transcript's
    line would be; a damaged record without figures (a link) loses none."""
    from pytest_orchphase.usage.sources.ledger.source import read_ledger

    res = FileResult(path=tmp_path / "s.jsonl", intact=1)
    block = encode(res, "s.jsonl", 10, "0" * 64, "claude_code", [])
    call: dict[str, object] = {"kind": "call", "message_id": "m", "request_id": "r"}
    call |= {"model": "claude-opus-4-6", "input_tokens": -5}  # a count no record may hold
    link = {"kind": "link", "agent": 7, "tool_use_id": "t"}
    lines = [{"orchphase_ledger": 1, "orchphase": "0", "phase": "m1"}, block.file, call, link]
    ledger = tmp_path / "usage.jsonl"
    ledger.write_text("".join(json.dumps(line) + "\n" for line in lines))
    read = read_ledger(ledger)
    assert (read.malformed, read.lost) == (2, 1)
    assert any("it may have recorded a call" in w for w in read.warnings)


@pytest.mark.parametrize(
    "cut",
    [
        b'{"parentUuid":"a","type":"assistant","message":{"model":"claude-opus-4-6","id":"m',
        b'{"type":"user","message":{"role":"user","content":[{"type":"tool_result"}]},"toolUseResult":{"st',
        b'{"type":"progress","data":{"type":"agent_progress","message":{"type":"assist',
        b'{"type":"assistant","message":{"usage":{"input_tokens":9',
    ],
    ids=["assistant", "task-result", "agent-progress", "usage"],
)
def test_a_line_cut_before_its_usage_may_have_recorded_a_call(cut: bytes) -> None:
    from pytest_orchphase.usage.sources.claude_code.lines import may_hold_usage

    assert may_hold_usage(cut)


def test_a_user_line_or_a_snapshot_cut_short_recorded_no_call() -> None:
    from pytest_orchphase.usage.sources.claude_code.lines import may_hold_usage

    assert not may_hold_usage(b'{"type":"user","message":{"role":"user","content":"Implement R')
    assert not may_hold_usage(b'{"type":"file-history-snapshot","messageId":"0f69d45e","snap')


@pytest.mark.parametrize(("bad_first", "lost"), [(False, 0), (True, 1)])
def test_a_headless_message_list_counts_only_its_own_bad_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], bad_first: bool, lost: int
) -> None:
    """`claude -p --output-format json --verbose` writes one list of messages: a message of
    the wrong shape is lost only when it may itself have recorded a call, not because another
    message of the file holds usage."""
    good = assistant("msg_1", "req_1", u=usage(inp=10, out=5))
    bad = assistant("msg_2", "req_2", u=usage(inp=10, out=5))
    bad["message"]["usage"]["input_tokens"] = "9000"  # a count written as text
    run = tmp_path / "run.json"
    run.write_text(json.dumps([bad, good] if bad_first else [good, 5]))
    assert main(["extract", str(run), "--json", "--no-cache"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert (doc["malformed_lines"], doc["lost_usage_lines"]) == (1, lost)


@pytest.mark.parametrize("kind", [None, 5, "assistan"], ids=["absent", "number", "unknown"])
def test_a_line_of_no_type_read_that_holds_usage_is_a_lost_call(
    home: ClaudeHome, capsys: pytest.CaptureFixture[str], kind: object
) -> None:
    """An assistant line whose ``type`` is damaged or of a later build is read by no reader:
    its call is missing, said so, the figures lower bounds (as a ledger's record of no kind)."""
    line = assistant("msg_2", "req_2", u=usage(inp=9000, out=5))
    del line["type"]
    if kind is not None:
        line["type"] = kind
    _session(home, jsonl_line(line))
    doc = json.loads(_extract(home, capsys, "--json"))
    assert (doc["malformed_lines"], doc["lost_usage_lines"]) == (1, 1)
    assert doc["totals"]["lower_bounds"] == sorted(MEASURES)
    assert doc["totals"]["input_tokens"] == 20


def test_a_line_of_another_type_without_usage_loses_no_call(
    home: ClaudeHome, capsys: pytest.CaptureFixture[str]
) -> None:
    _session(home, jsonl_line({"type": "summary", "summary": "usage", "message": {"x": 1}}))
    doc = json.loads(_extract(home, capsys, "--json"))
    assert (doc["malformed_lines"], doc["lost_usage_lines"]) == (0, 0)


def test_a_headless_stream_line_of_no_type_that_holds_usage_is_a_lost_call(
    tmp_path: Path,
) -> None:
    from pytest_orchphase.usage.scan import scan_paths
    from tests.helpers import result_object, write_jsonl

    init = {"type": "system", "subtype": "init", "session_id": "s"}
    message = assistant("msg_1", "req_1", u=usage(inp=10, out=5))
    message["type"] = "assistant_v2"
    scan = scan_paths([write_jsonl(tmp_path / "run.ndjson", [init, message, result_object()])])
    assert scan.lost_usage_lines == 1
    assert any("run.ndjson:2: a line of type 'assistant_v2'" in w for w in scan.warnings)


def _damaged(message: object) -> dict[str, object]:
    line = assistant("msg_2", "req_2", u=usage(inp=9000, out=5))
    if message == "absent":
        del line["message"]
    else:
        line["message"] = message
    return line


_NO_MESSAGES = pytest.mark.parametrize("message", [None, "[redacted]", "absent", 5])


@_NO_MESSAGES
def test_an_assistant_line_of_no_message_object_is_a_lost_call(
    home: ClaudeHome, capsys: pytest.CaptureFixture[str], message: object
) -> None:
    """Its ``message`` null, a text, absent: the response it recorded is lost with it (as with
    ``message.usage: null``), never dropped in silence."""
    _session(home, jsonl_line(_damaged(message)))
    doc = json.loads(_extract(home, capsys, "--json"))
    assert (doc["malformed_lines"], doc["lost_usage_lines"]) == (1, 1)
    assert doc["totals"]["lower_bounds"] == sorted(MEASURES)
    assert doc["totals"]["input_tokens"] == 20
    warnings = scan_paths([home.root]).warnings
    assert any(":2: an assistant line whose message is" in w for w in warnings)


@_NO_MESSAGES
def test_an_agent_progress_copy_of_no_message_object_is_a_lost_call(
    home: ClaudeHome, capsys: pytest.CaptureFixture[str], message: object
) -> None:
    copy = agent_progress(
        assistant("msg_2", "req_2", u=usage(inp=9000, out=5)),
        agent_id="a1",
        parent_tool_use_id="toolu_1",
    )
    copy["data"]["message"] = _damaged(message)
    _session(home, jsonl_line(copy))
    doc = json.loads(_extract(home, capsys, "--json"))
    assert (doc["malformed_lines"], doc["lost_usage_lines"]) == (1, 1)


@pytest.mark.parametrize("inner", [None, "[redacted]", "absent"])
def test_an_agent_progress_line_of_no_copied_message_is_a_lost_call(
    home: ClaudeHome, capsys: pytest.CaptureFixture[str], inner: object
) -> None:
    """Its ``data.message`` (a copy of the sub-agent's user or assistant message) damaged:
    which it was is not known, so it may have recorded a call."""
    copy = agent_progress(
        assistant("msg_2", "req_2", u=usage(inp=9000, out=5)),
        agent_id="a1",
        parent_tool_use_id="toolu_1",
    )
    if inner == "absent":
        del copy["data"]["message"]
    else:
        copy["data"]["message"] = inner
    _session(home, jsonl_line(copy))
    doc = json.loads(_extract(home, capsys, "--json"))
    assert (doc["malformed_lines"], doc["lost_usage_lines"]) == (1, 1)
    warnings = scan_paths([home.root]).warnings
    assert any(":2: an agent_progress line whose data.message is" in w for w in warnings)


def test_an_agent_progress_copy_of_a_user_message_loses_no_call(
    home: ClaudeHome, capsys: pytest.CaptureFixture[str]
) -> None:
    copy = agent_progress(
        assistant("msg_2", "req_2", u=usage(inp=9000, out=5)),
        agent_id="a1",
        parent_tool_use_id="toolu_1",
    )
    copy["data"]["message"] = {"type": "user", "message": {"role": "user", "content": "go"}}
    _session(home, jsonl_line(copy))
    doc = json.loads(_extract(home, capsys, "--json"))
    assert (doc["malformed_lines"], doc["lost_usage_lines"]) == (0, 0)


@_NO_MESSAGES
def test_a_headless_stream_assistant_line_of_no_message_object_is_a_lost_call(
    tmp_path: Path, message: object
) -> None:
    from tests.helpers import result_object, write_jsonl

    init = {"type": "system", "subtype": "init", "session_id": "s"}
    run = write_jsonl(tmp_path / "run.ndjson", [init, _damaged(message), result_object()])
    scan = scan_paths([run])
    assert scan.lost_usage_lines == 1
    assert any("run.ndjson:2: an assistant line whose message is" in w for w in scan.warnings)

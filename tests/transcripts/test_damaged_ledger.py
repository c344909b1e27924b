"""A usage ledger damaged as files are (cut short, a record of no kind or of a kind this version
does not read, a call written twice, a field of the wrong type) never reads less usage than it
holds as exact figures: each damaged record that may have held a call is a lost call (the
figures lower bounds), each call is counted once at the largest of its figures, and a field of
the wrong type is a malformed record named by its line and field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_orchphase.cli import main
from pytest_orchphase.usage.records import Scan
from pytest_orchphase.usage.scan import scan_paths
from pytest_orchphase.usage.sources.ledger.collect import Collected, new_blocks, render
from pytest_orchphase.usage.sources.ledger.format import USAGE_FIELDS
from pytest_orchphase.usage.sources.ledger.source import read_ledger
from pytest_orchphase.usage.value import MEASURES
from tests.helpers import ClaudeHome, assistant, usage, user

STAMPS = ("2026-01-01T00:00:01.000Z", "2026-01-01T00:00:02.000Z")


def _ledger(home: ClaudeHome, tmp_path: Path) -> Path:
    """A ledger of one session: a first prompt and two calls (10 input, 1 output, 20,000 and
    40,000 cache writes)."""
    calls = [
        assistant(f"msg_{i}", f"req_{i}", u=usage(inp=10, cw=cw), ts=STAMPS[i])
        for i, cw in enumerate((20_000, 40_000))
    ]
    session = home.session([user("Implement R01"), *calls])
    out = tmp_path / "usage.jsonl"
    out.write_bytes(render("p1", "0.1.0", new_blocks([session], ["R01"], Collected(out=out))))
    return out


def _lines(ledger: Path) -> list[str]:
    return ledger.read_text().splitlines(keepends=True)


def _last(lines: list[str], kind: str) -> int:
    return max(i for i, line in enumerate(lines) if line.startswith(f'{{"kind":"{kind}"'))


def _replace_last(ledger: Path, kind: str, *new: str) -> None:
    """The ledger's last record of ``kind`` replaced by the lines ``new``."""
    lines = _lines(ledger)
    at = _last(lines, kind)
    lines[at : at + 1] = [line if line.endswith("\n") else line + "\n" for line in new]
    ledger.write_text("".join(lines))


def _call_record(ledger: Path) -> dict[str, object]:
    lines = _lines(ledger)
    record: dict[str, object] = json.loads(lines[_last(lines, "call")])
    return record


def _counts(ledger: Path) -> tuple[int, int]:
    scan = scan_paths([ledger])
    return scan.malformed_lines, scan.lost_usage_lines


def _warned(scan: Scan, *words: str) -> bool:
    return any(all(word in w for word in words) for w in scan.warnings)


# -- a record cut short -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cut",
    [
        lambda line: line[:1],  # "{"
        lambda line: line[:5],  # '{"kin'
        lambda line: line[: line.index('"message_id"')],
        lambda line: line[: line.index('"session"')],
        lambda line: line[: line.index('"input_tokens"')],
        lambda line: line[: line.index("_tokens") + 3],
    ],
    ids=["brace", "in-kind", "after-kind", "before-session", "before-tokens", "in-tokens"],
)
def test_a_call_record_cut_short_anywhere_is_a_lost_call(
    home: ClaudeHome, tmp_path: Path, cut: object
) -> None:
    """A cut record starts like a call record at any point of its length; until it shows a
    kind that holds no figure, it may have held one (it once had to show ``_tokens"``)."""
    ledger = _ledger(home, tmp_path)
    assert callable(cut)
    lines = _lines(ledger)
    _replace_last(ledger, "call", cut(lines[_last(lines, "call")]))
    assert _counts(ledger) == (1, 1)


def test_a_record_of_another_writer_cut_before_its_kind_is_a_lost_call(
    home: ClaudeHome, tmp_path: Path
) -> None:
    """A ledger written by another tool may put ``kind`` last: cut before it, the record shows
    no kind, and is a lost call all the same."""
    ledger = _ledger(home, tmp_path)
    _replace_last(ledger, "call", '{"message_id":"msg_1","request_id":"req_1","model":"claude')
    assert _counts(ledger) == (1, 1)


@pytest.mark.parametrize(
    "record", ['{"kind":"link","agent":"a1","tool_use_id":"to', '{"kind":"prompt","session":"3']
)
def test_a_record_of_no_figure_cut_short_loses_no_call(
    home: ClaudeHome, tmp_path: Path, record: str
) -> None:
    ledger = _ledger(home, tmp_path)
    lines = _lines(ledger)
    lines.insert(_last(lines, "call") + 1, record + "\n")
    ledger.write_text("".join(lines))
    assert _counts(ledger) == (1, 0)


def test_a_file_record_cut_short_loses_its_block_not_to_the_block_before(
    home: ClaudeHome, tmp_path: Path
) -> None:
    """A second block whose file record is cut: its calls are lost with it (the figures lower
    bounds), never read as the first file's calls."""
    ledger = _ledger(home, tmp_path)
    lines = _lines(ledger)
    first = next(i for i, line in enumerate(lines) if line.startswith('{"kind":"file"'))
    block = lines[first:]
    other = [line.replace("msg_", "other_") for line in block]
    other[0] = other[0].replace('"sha256":"', '"sha256":"0').replace(".jsonl", "-2.jsonl")
    ledger.write_text("".join([*lines, other[0][:40] + "\n", *other[1:]]))
    read = read_ledger(ledger)
    assert [len(part.calls) for part in read.parts] == [2]
    scan = scan_paths([ledger])
    assert {c.message_id for c in scan.calls} == {"msg_0", "msg_1"}
    assert scan.lost_usage_lines >= 1


def test_extract_marks_the_figures_of_a_cut_ledger_lower_bounds(
    home: ClaudeHome, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ledger = _ledger(home, tmp_path)
    lines = _lines(ledger)
    last = lines[_last(lines, "call")]
    _replace_last(ledger, "call", last[: last.index('"session"')])
    assert main(["extract", str(ledger), "--json", "--no-cache"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert (doc["malformed_lines"], doc["lost_usage_lines"]) == (1, 1)
    assert doc["totals"]["lower_bounds"] == sorted(MEASURES)
    assert main(["extract", str(ledger), "--no-cache"]) == 0
    assert "every figure is a lower bound" in capsys.readouterr().out


# -- a record's kind ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", [None, 5, ["call"]], ids=["absent", "number", "list"])
def test_a_record_without_its_kind_is_malformed_and_may_be_a_call(
    home: ClaudeHome, tmp_path: Path, kind: object
) -> None:
    """In a ledger of a known format every record names its kind: one that does not is no
    record of a later format but a damaged one, counted, named, and a lost call."""
    ledger = _ledger(home, tmp_path)
    record = _call_record(ledger)
    del record["kind"]
    if kind is not None:
        record["kind"] = kind
    _replace_last(ledger, "call", json.dumps(record))
    scan = scan_paths([ledger])
    assert (scan.malformed_lines, scan.lost_usage_lines) == (1, 1)
    assert _warned(scan, "usage.jsonl:4: ledger record: 'kind'", "lower bounds")
    assert [c.message_id for c in scan.calls] == ["msg_0"]


def test_a_kind_this_version_does_not_read_is_skipped_and_said(
    home: ClaudeHome, tmp_path: Path
) -> None:
    ledger = _ledger(home, tmp_path)
    lines = _lines(ledger)
    lines.insert(_last(lines, "call") + 1, '{"kind":"checkpoint","session":"s"}\n')
    ledger.write_text("".join(lines))
    scan = scan_paths([ledger])
    assert (scan.malformed_lines, scan.lost_usage_lines) == (0, 0)
    assert _warned(scan, "usage.jsonl:5:", "'checkpoint'", "skipped")


def test_a_kind_this_version_does_not_read_holding_figures_is_a_lost_call(
    home: ClaudeHome, tmp_path: Path
) -> None:
    """A record of an unknown kind that holds token counts (a later orchphase's, or a call
    whose kind was damaged: "cal") may be usage this version cannot read: a lower bound."""
    ledger = _ledger(home, tmp_path)
    record = _call_record(ledger) | {"kind": "cal"}
    _replace_last(ledger, "call", json.dumps(record))
    scan = scan_paths([ledger])
    assert (scan.malformed_lines, scan.lost_usage_lines) == (1, 1)
    assert _warned(scan, "usage.jsonl:4:", "'cal'", "lower bounds")


# -- a call written twice -----------------------------------------------------------------------

#: A call's counts: the usage fields but its texts (speed, inference geo, service tier).
TOKEN_FIELDS = USAGE_FIELDS[:6]


@pytest.mark.parametrize("field", TOKEN_FIELDS)
@pytest.mark.parametrize("smaller_first", [False, True])
def test_a_call_written_twice_in_a_block_keeps_the_largest_of_each_field(
    home: ClaudeHome, tmp_path: Path, field: str, smaller_first: bool
) -> None:
    """A hand merge or an edit writes a call twice in one block: one call, the largest of each
    field and the earliest time, whichever copy comes first (as across blocks and files)."""
    ledger = _ledger(home, tmp_path)
    record = _call_record(ledger)
    large = record | {field: 90_000, "cache_creation_input_tokens": 90_000}
    small = record | {field: 7, "ts": "2026-01-01T00:00:00.500Z"}
    if field != "cache_creation_input_tokens":
        small["cache_creation_input_tokens"] = 90_000
    copies = [small, large] if smaller_first else [large, small]
    _replace_last(ledger, "call", *map(json.dumps, copies))
    (part,) = read_ledger(ledger).parts
    call = part.calls[("msg_1", "req_1")]
    assert getattr(call, field) == 90_000
    assert part.first_ts[("msg_1", "req_1")] == "2026-01-01T00:00:00.500Z"
    scan = scan_paths([ledger])
    assert len(scan.calls) == 2 and scan.malformed_lines == 0


@pytest.mark.parametrize("later_first", [False, True])
def test_a_prompt_written_twice_in_a_block_keeps_the_sessions_first(
    home: ClaudeHome, tmp_path: Path, later_first: bool
) -> None:
    """A session's first prompt names its ticket: of two prompt records in one block, the
    earlier one, wherever it is written, as across blocks and files (never the last read)."""
    ledger = _ledger(home, tmp_path)
    lines = _lines(ledger)
    first = json.loads(lines[_last(lines, "prompt")])
    later = first | {"ts": "2026-02-12T15:00:00.000Z", "tickets": []}
    records = [later, first] if later_first else [first, later]
    _replace_last(ledger, "prompt", *map(json.dumps, records))
    (part,) = read_ledger(ledger).parts
    (text,) = [text for _, text in part.prompts.values()]
    assert not isinstance(text, str) and text.found == ("R01",)


# -- a field of the wrong type ------------------------------------------------------------------


@pytest.mark.parametrize("flag", ["placeholder_output", "sidechain", "compaction"])
@pytest.mark.parametrize("value", [1, 0, "true", None], ids=["1", "0", "text", "null"])
def test_a_call_flag_that_is_not_a_boolean_is_a_malformed_record(
    home: ClaudeHome, tmp_path: Path, flag: str, value: object
) -> None:
    """A flag read as false when it is not ``true`` would drop what it says (a placeholder
    output: a lower bound) for a ledger that wrote it as 1 or "true": refused, named."""
    ledger = _ledger(home, tmp_path)
    _replace_last(ledger, "call", json.dumps(_call_record(ledger) | {flag: value}))
    scan = scan_paths([ledger])
    assert (scan.malformed_lines, scan.lost_usage_lines) == (1, 1)
    assert _warned(scan, f"usage.jsonl:4: ledger record: '{flag}': expected true or false")
    assert [c.message_id for c in scan.calls] == ["msg_0"]


@pytest.mark.parametrize("value", [True, False])
def test_a_call_flag_that_is_a_boolean_is_read(
    home: ClaudeHome, tmp_path: Path, value: bool
) -> None:
    ledger = _ledger(home, tmp_path)
    _replace_last(ledger, "call", json.dumps(_call_record(ledger) | {"placeholder_output": value}))
    scan = scan_paths([ledger])
    assert scan.malformed_lines == 0
    assert [c.output_exact for c in scan.calls if c.message_id == "msg_1"] == [not value]


@pytest.mark.parametrize("value", [1, "true", None])
def test_a_headless_record_whose_is_error_is_not_a_boolean_is_malformed(
    home: ClaudeHome, tmp_path: Path, value: object
) -> None:
    """A run that ended in error written ``"is_error": 1`` read as a success would finish a
    ticket the log says nothing of."""
    ledger = _ledger(home, tmp_path)
    lines = _lines(ledger)
    record = {"kind": "headless", "session": "s", "is_error": value, "num_turns": 3}
    lines.insert(_last(lines, "call") + 1, json.dumps(record) + "\n")
    ledger.write_text("".join(lines))
    scan = scan_paths([ledger])
    assert scan.headless == [] and (scan.malformed_lines, scan.lost_usage_lines) == (1, 1)
    assert _warned(scan, "usage.jsonl:5: ledger record: 'is_error': expected true or false")


@pytest.mark.parametrize("phase", [1, ["p1"]])
def test_a_ledger_header_whose_phase_is_not_a_name_is_unreadable(
    home: ClaudeHome, tmp_path: Path, phase: object
) -> None:
    """The header's phase decides which phase the ledger measures: a number or a list is no
    phase name, never read as its text."""
    ledger = _ledger(home, tmp_path)
    lines = _lines(ledger)
    lines[0] = json.dumps(json.loads(lines[0]) | {"phase": phase}) + "\n"
    ledger.write_text("".join(lines))
    scan = scan_paths([ledger])
    assert scan.unreadable == [ledger] and scan.calls == []
    assert _warned(scan, "usage.jsonl:1: 'phase': expected a phase name")


def test_a_ledger_header_that_is_not_json_is_unreadable(home: ClaudeHome, tmp_path: Path) -> None:
    """Without its header neither the format nor the phase is known: nothing is read."""
    ledger = _ledger(home, tmp_path)
    lines = _lines(ledger)
    lines[0] = lines[0][:-3] + "\n"
    ledger.write_text("".join(lines))
    scan = scan_paths([ledger])
    assert scan.unreadable == [ledger] and scan.calls == []


# -- merging a damaged ledger -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("at", "line", "what"),
    [
        (-1, "[1, 2]", "not a JSON object"),
        (1, '{"kind":"call","message_id":"m","model":"x","input_tokens":5}', "before any file"),
    ],
)
def test_collect_refuses_to_merge_a_line_it_would_drop(
    home: ClaudeHome,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    at: int,
    line: str,
    what: str,
) -> None:
    """A ledger collected into again keeps its damaged records as they are (each read as a
    malformed line, a lost call where it may be one); a line no block holds would be dropped,
    the lower bound with it: an error naming it, as a line that is not JSON is, the ledger
    untouched."""
    from tests.helpers import Phase

    monkeypatch.chdir(tmp_path)
    folder = Phase.of("p1", [], {"R01": {"execution_model": "opus"}}).write(tmp_path)
    ledger = _ledger(home, tmp_path)
    lines = _lines(ledger)
    lines.insert(at if at >= 0 else len(lines), line + "\n")
    ledger = folder / "usage.jsonl"
    ledger.write_text("".join(lines))
    before = ledger.read_bytes()
    assert main(["collect", "p1", str(home.project), "--no-cache"]) == 2
    assert what in capsys.readouterr().err
    assert ledger.read_bytes() == before

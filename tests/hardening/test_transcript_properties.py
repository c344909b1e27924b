"""The transcript reader under stress: random and corrupted lines among intact ones never raise,
are counted, and leave the totals of the intact lines unchanged; a file cut mid-line; a file that
grows while it is read; and sources that cannot be read at all."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_orchphase.errors import OrchphaseError
from pytest_orchphase.usage.scan import scan_files, scan_paths
from pytest_orchphase.usage.sources.claude_code import TOKEN_FIELDS, Scan
from tests.helpers import assistant, usage, write_jsonl

PROPERTY = settings(
    deadline=None, max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

counts = st.integers(min_value=0, max_value=10**7)
usages = st.builds(
    lambda inp, out, cw, cr: usage(inp=inp, out=out, cw=cw, cr=cr), counts, counts, counts, counts
)


def intact_line(index: int, u: dict[str, Any]) -> bytes:
    line = assistant(f"msg_{index}", f"req_{index}", u=u)
    return json.dumps(line, separators=(",", ":")).encode()


def totals(scan: Scan) -> dict[str, int]:
    return {name: sum(getattr(c, name) for c in scan.calls) for name in TOKEN_FIELDS}


def expected(usages: list[dict[str, Any]]) -> dict[str, int]:
    return {name: sum(u[name] for u in usages) for name in TOKEN_FIELDS}


# Corruptions whose verdict is certain: each is one malformed line, never a call.
# not blank, also once a leading byte order mark is taken off (a first line that is only a BOM
# is a blank line: the reader drops a BOM at the start of a file, as editors write one)
garbage = st.binary(max_size=300).filter(
    lambda b: (
        b"\n" not in b
        and b.removeprefix(b"\xef\xbb\xbf").strip() != b""
        and not b.strip().startswith(b"{")
    )
)
wrong_values = st.one_of(
    st.integers(max_value=-1),
    st.text(max_size=5),
    st.floats(allow_nan=True),
    st.booleans(),
    st.lists(st.integers(), max_size=2),
)


@st.composite
def corrupted(draw: st.DrawFn, index: int) -> bytes:
    """One line that must be counted as malformed, built from an intact line of id ``index``."""
    kind = draw(st.sampled_from(["garbage", "cut", "wrong type", "not utf-8"]))
    whole = intact_line(index, draw(usages))
    if kind == "garbage":
        return draw(garbage)
    if kind == "cut":  # cut after "usage": parsed, and no strict prefix of an object is JSON
        start = whole.index(b'"usage"') + len(b'"usage"')
        return whole[: draw(st.integers(min_value=start, max_value=len(whole) - 1))]
    if kind == "wrong type":
        u = usage()
        u[draw(st.sampled_from(TOKEN_FIELDS))] = draw(wrong_values)
        return json.dumps(assistant(f"msg_{index}", f"req_{index}", u=u)).encode()
    at = whole.index(b"Done.")
    return whole[:at] + draw(st.sampled_from([b"\xff", b"\xc3\x28", b"\xed\xa0\x80"])) + whole[at:]


@st.composite
def transcripts(draw: st.DrawFn) -> tuple[list[bytes], list[dict[str, Any]], int]:
    """Lines in random order: intact ones (with their usage), corrupted ones, blank ones."""
    good = draw(st.lists(usages, max_size=8))
    lines = [intact_line(i, u) for i, u in enumerate(good)]
    bad = [draw(corrupted(1000 + i)) for i in range(draw(st.integers(0, 8)))]
    blank = [b"", b"   "] * draw(st.integers(0, 2))
    ordered = draw(st.permutations([*lines, *bad, *blank]))
    return ordered, good, len(bad)


@PROPERTY
@given(case=transcripts())
def test_corrupted_lines_are_counted_and_leave_the_intact_totals_unchanged(
    tmp_path: Path, case: tuple[list[bytes], list[dict[str, Any]], int]
) -> None:
    lines, good, bad = case
    path = tmp_path / "s.jsonl"
    path.write_bytes(b"".join(line + b"\n" for line in lines))
    scan = scan_paths([path])
    assert totals(scan) == expected(good)
    assert len(scan.calls) == len(good)
    assert scan.malformed_lines == bad
    assert scan.unreadable == ([] if good else [path])


@PROPERTY
@given(data=st.binary(max_size=4000))
def test_any_bytes_at_all_never_raise(tmp_path: Path, data: bytes) -> None:
    for name in ("s.jsonl", "run.json", "agent-a1.meta.json"):
        (tmp_path / name).write_bytes(data)
    files = [tmp_path / "s.jsonl", tmp_path / "run.json", tmp_path / "agent-a1.meta.json"]
    scan = scan_files(files)
    assert scan.files == 3 and scan.malformed_lines >= 0
    assert all(getattr(c, name) >= 0 for c in scan.calls for name in TOKEN_FIELDS)


@PROPERTY
@given(good=st.lists(usages, min_size=1, max_size=6), data=st.data())
def test_a_file_cut_mid_line_keeps_every_whole_line(
    tmp_path: Path, good: list[dict[str, Any]], data: st.DataObject
) -> None:
    lines = [intact_line(i, u) for i, u in enumerate(good)]
    last = lines[-1]
    cut = data.draw(st.integers(min_value=1, max_value=len(last) - 1), label="cut")
    path = tmp_path / "s.jsonl"
    path.write_bytes(b"".join(line + b"\n" for line in lines[:-1]) + last[:cut])
    scan = scan_paths([path])
    assert totals(scan) == expected(good[:-1])
    # A cut before "usage" that happens to end in "}" reads as a whole object without usage.
    looks_whole = last[:cut].rstrip().endswith(b"}") and b'"usage"' not in last[:cut]
    assert scan.malformed_lines == (0 if looks_whole else 1)


class _GrowsAfterFirstLine:
    """A transcript file that the session appends to while it is being read: after the reader
    took the first line, ``tail`` is written to the end of the file."""

    def __init__(self, fh: IO[bytes], path: str, tail: bytes) -> None:
        self.fh, self.path, self.tail = fh, path, tail

    def __enter__(self) -> _GrowsAfterFirstLine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.fh.close()

    def __iter__(self) -> Iterator[bytes]:
        for number, line in enumerate(self.fh, 1):
            yield line
            if number == 1:
                with open(self.path, "ab") as writer:
                    writer.write(self.tail)


@PROPERTY
@given(
    first=st.lists(usages, min_size=1, max_size=4),
    appended=st.lists(usages, max_size=4),
    partial=st.integers(min_value=0, max_value=40),
)
def test_a_file_growing_while_it_is_read_counts_what_was_whole_when_read(
    tmp_path: Path,
    first: list[dict[str, Any]],
    appended: list[dict[str, Any]],
    partial: int,
) -> None:
    before = [intact_line(i, u) for i, u in enumerate(first)]
    after = [intact_line(100 + i, u) for i, u in enumerate(appended)]
    half = intact_line(999, usage(inp=10**9))[: 60 + partial]  # the line being written, no "}"
    tail = b"".join(line + b"\n" for line in after) + half
    path = tmp_path / "s.jsonl"
    path.write_bytes(b"".join(line + b"\n" for line in before))

    class Growing(type(path)):  # type: ignore[misc]
        def open(self, *args: Any, **kwargs: Any) -> Any:
            return _GrowsAfterFirstLine(super().open(*args, **kwargs), str(self), tail)

    scan = scan_files([Growing(path)])
    assert os.path.getsize(path) == len(b"".join(line + b"\n" for line in before) + tail)
    assert totals(scan) == expected([*first, *appended])
    assert scan.malformed_lines == 1  # the half-written line, never an error


# -- sources that cannot be read -----------------------------------------------------------


def test_a_headless_result_with_negative_or_textual_counts_is_malformed_not_zero(
    tmp_path: Path,
) -> None:
    run = tmp_path / "run.json"
    figures = {"inputTokens": -5, "outputTokens": "12k"}
    run.write_text(json.dumps({"type": "result", "modelUsage": {"claude-x": figures}}))
    scan = scan_files([run])
    assert (scan.calls, scan.malformed_lines, scan.unreadable) == ([], 1, [run])


def test_a_file_with_one_intact_line_is_readable(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "s.jsonl", [b"garbage\n", assistant("m", "r")])
    scan = scan_files([path])
    assert (len(scan.calls), scan.malformed_lines, scan.unreadable) == (1, 1, [])


@pytest.mark.parametrize("kind", ["pipe", "device", "dangling link"])
def test_a_file_that_is_not_regular_is_named_instead_of_read(tmp_path: Path, kind: str) -> None:
    odd = tmp_path / "project" / "agent-x.jsonl"
    odd.parent.mkdir()
    if kind == "pipe":
        os.mkfifo(odd)  # reading it would block for ever
    else:
        odd.symlink_to("/dev/zero" if kind == "device" else tmp_path / "gone")
    with pytest.raises(OrchphaseError, match="not a regular file") as err:
        scan_paths([tmp_path / "project"])
    assert err.value.path == odd

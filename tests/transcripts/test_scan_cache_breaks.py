"""Cases where a scan through the scan cache (pytest_orchphase.usage.cache, commit eab67ff)
differs from a scan that reads the transcripts whole: its promise is byte-for-byte the same
result in every situation. Each test failed on eab67ff (a review's finding, since fixed); its
name says what holds now, its docstring what went wrong then."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from pytest_orchphase.usage import cache_lookup
from pytest_orchphase.usage.cache import ScanCache
from pytest_orchphase.usage.scan import scan_paths
from tests.helpers import agent_result, assistant, jsonl_line, scan_text, usage, user


def task_result_with_prompt(session: str, text: str) -> dict[str, Any]:
    """A user line holding a Task's result (its ``toolUseResult.usage``: the line has a
    ``"usage"`` key) and, in the same message, the user's own text (a prompt typed while the
    tool ran): the session's first prompt is found when the line is read whole."""
    obj = agent_result("toolu_01", "a1", usage(inp=5, out=5), session=session)
    obj["message"]["content"].append({"type": "text", "text": text})
    return obj


def test_first_prompt_of_a_second_session_after_the_cut_is_kept(tmp_path: Path) -> None:
    """A file read on from its cached lines loses a session's first prompt.

    Read whole, the reader looks for first prompts (``want_prompt``) until a user line
    without ``"usage"`` is parsed for one: a prompt found on a line with usage (a Task's result
    that also carries the user's text) leaves it looking, so the next session's prompt is found
    too. ``_read_lines`` now starts with ``want_prompt = ... and not reader.res.prompts``: read
    on from the cache (``resume_transcript`` seeded with the cached result) it stops looking at
    once, and session S2 has no first prompt: it is not placed on its ticket (T-2), so its cost
    goes to no ticket. The wrong result is then kept, and every later run gives it."""
    path = tmp_path / "p" / "s.jsonl"
    path.parent.mkdir()
    path.write_bytes(jsonl_line(task_result_with_prompt("S1", "Now do T-1")))
    cache = ScanCache(tmp_path / "cache")
    scan_paths([path], cache=cache)
    with path.open("ab") as fh:
        fh.write(jsonl_line(user("Do T-2 please", session="S2")))

    whole = scan_paths([path])
    assert whole.first_prompts == {"S1": "Now do T-1", "S2": "Do T-2 please"}
    assert scan_text(scan_paths([path], cache=cache)) == scan_text(whole)


def test_first_prompt_on_an_unterminated_last_line_is_kept_cold(tmp_path: Path) -> None:
    """The same loss with an empty cache: a cached read reads the lines before the last
    newline, then the last line (a whole JSON line without its newline) with a new
    ``_read_lines`` call, which stops looking for prompts as soon as one was found; a whole read
    goes on looking (see the test above). Same cause: the reader's ``want_prompt`` is not
    carried across the two reads."""
    path = tmp_path / "p" / "s.jsonl"
    path.parent.mkdir()
    last = jsonl_line(user("Do T-2 please", session="S2")).rstrip(b"\n")
    path.write_bytes(jsonl_line(task_result_with_prompt("S1", "Now do T-1")) + last)

    whole = scan_paths([path])
    assert whole.first_prompts == {"S1": "Now do T-1", "S2": "Do T-2 please"}
    assert scan_text(scan_paths([path], cache=ScanCache(tmp_path / "cache"))) == scan_text(whole)


def test_same_size_rewrite_within_the_timestamp_grain_is_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file rewritten in place with the same size within its file system's timestamp grain
    is read from the old entry: the lookup by path trusts size + mtime + ctime + inode without
    looking at a byte. ext4 with 128-byte inodes, ext3, HFS+ and many NFS servers keep whole
    seconds (Linux before 6.13 keeps the ~4 ms clock tick even on ext4); this machine's kernel
    has fine-grained times, so the grain is simulated (times floored to the second, as those
    file systems record them). Here the old entry's 100 input tokens stand for the file's
    900: a cost cap passes that should fail. Git calls this "racily clean" and re-checks the
    content of a file whose mtime is not older than the index record."""
    real_of = cache_lookup._Stat.of

    def coarse(path: Path) -> Any:
        st = real_of(path)
        grain = 10**9
        return dataclasses.replace(
            st, mtime_ns=st.mtime_ns // grain * grain, ctime_ns=st.ctime_ns // grain * grain
        )

    monkeypatch.setattr(cache_lookup._Stat, "of", staticmethod(coarse))
    path = tmp_path / "p" / "s.jsonl"
    path.parent.mkdir()
    for _ in range(5):  # the two writes must fall in the same second (almost always at once)
        cache = ScanCache(tmp_path / "cache")
        path.write_bytes(jsonl_line(assistant("msg_1", "req_1", u=usage(inp=100, out=5))))
        scan_paths([path], cache=cache)
        before = coarse(path)
        with path.open("r+b") as fh:  # rewritten in place: same inode, same size
            fh.write(jsonl_line(assistant("msg_1", "req_1", u=usage(inp=900, out=5))))
        if coarse(path) == before:
            break
    else:
        pytest.skip("never two writes within one second")
    whole = scan_paths([path])
    assert whole.calls[0].input_tokens == 900
    assert scan_text(scan_paths([path], cache=cache)) == scan_text(whole)


def test_an_entry_whose_header_changed_is_refused(tmp_path: Path) -> None:
    """An entry whose header was altered (a flipped digit, a hand edit) was trusted: the header
    carried a SHA-256 of the body, but nothing checked the header's own fields (``end``,
    ``lines``, ``resumable``, ``path``); the entry's first line now checks both. With
    ``lines`` one less, the lines read on are numbered one too low: a call without a message
    id is keyed by its path and line number, so the new line's call takes the key of the one
    before and is merged into it (the larger of each figure), not counted: 2 calls instead of
    3, a lower cost."""
    no_id = assistant("", "", u=usage(inp=300, out=3))
    del no_id["message"]["id"], no_id["requestId"]
    path = tmp_path / "p" / "s.jsonl"
    path.parent.mkdir()
    path.write_bytes(jsonl_line(no_id) + jsonl_line(no_id))
    cache = ScanCache(tmp_path / "cache")
    scan_paths([path], cache=cache)
    [entry] = (tmp_path / "cache").rglob("entries/*.jsonl")
    check, head, body = entry.read_bytes().split(b"\n", 2)
    header = json.loads(head)
    assert header["lines"] == 2
    header["lines"] = 1
    head = json.dumps(header, separators=(",", ":")).encode()
    entry.write_bytes(check + b"\n" + head + b"\n" + body)
    with path.open("ab") as fh:
        fh.write(jsonl_line(no_id))

    whole = scan_paths([path])
    assert len(whole.calls) == 3
    assert scan_text(scan_paths([path], cache=cache)) == scan_text(whole)

"""The scan cache's bundle (every kept file's result in one file) gives the result a scan without
the cache gives, and is never trusted: a bundle cut short, corrupt, of another scanner or format,
with a result of the wrong shape behind a matching check, an item of a file that changed since
(its size and time kept) or within its time grain, of a file removed, two scans writing it at
once. Each test compares the whole scan with one that has no cache, and counts the index
lookups of the entries (``_Lookup.by_path``): a bundle that is never read cannot pass.

A file's stat taken within its file system's time grain of its last change (two seconds) is
kept in no item: the transcripts here are written by the tests a moment before, so the grain is
set to 0 (``RACY_NS``) where items are to be kept."""

from __future__ import annotations

import dataclasses
import json
import multiprocessing
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pytest_orchphase.files import RACY_NS
from pytest_orchphase.usage import cache as cache_module
from pytest_orchphase.usage import cache_lookup, parallel
from pytest_orchphase.usage import scan as scan_module
from pytest_orchphase.usage.cache import ScanCache
from pytest_orchphase.usage.cache_bundle import BUNDLE_NAME, read_bundle
from pytest_orchphase.usage.cache_entry import decode_result, encode_result
from pytest_orchphase.usage.records import ApiCall
from pytest_orchphase.usage.scan import scan_paths
from pytest_orchphase.usage.sources.base import FileResult
from tests.helpers import (
    HAIKU,
    REPO,
    SESSION,
    ClaudeHome,
    agent_result,
    assistant,
    rewrite_keeping_size_and_time,
    scan_text,
    spawn_block,
    usage,
    user,
)


class Lookups:
    """Counts the files looked up through their index record and entry (not the bundle)."""

    def __init__(self) -> None:
        self.count = 0

    def take(self) -> int:
        count, self.count = self.count, 0
        return count


@pytest.fixture
def lookups(monkeypatch: pytest.MonkeyPatch) -> Lookups:
    counted = Lookups()
    real = cache_lookup._Lookup.by_path

    def by_path(self: Any) -> Any:
        counted.count += 1
        return real(self)

    monkeypatch.setattr(cache_lookup._Lookup, "by_path", by_path)
    return counted


@pytest.fixture
def no_grain(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cache_lookup, "RACY_NS", 0)


@pytest.fixture
def cache(tmp_path: Path) -> ScanCache:
    return ScanCache(tmp_path / "cache")


def _home(root: Path, out: int = 500) -> ClaudeHome:
    """A session (a response over two lines, a Task, its result) and its sub-agent's file."""
    home = ClaudeHome(root)
    first = assistant("msg_a1_1", "req_a1_1", model=HAIKU, agent_id="a1", u=usage(inp=5, out=3))
    home.subagent("a1", [first])
    home.session(
        [
            user("Implement R03 please"),
            assistant("msg_p1", "req_p1", u=usage(inp=10, out=120, cw=2000)),
            assistant("msg_p1", "req_p1", u=usage(inp=10, out=out, cw=2000)),
            assistant("msg_p2", "req_p2", u=usage(inp=1, out=1), content=[spawn_block("toolu_1")]),
            agent_result("toolu_1", "a1", usage(inp=5, out=70)),
        ]
    )
    return home


@pytest.fixture
def home(tmp_path: Path) -> ClaudeHome:
    return _home(tmp_path / "claude")


def _bundle(cache: ScanCache) -> Path:
    return cache.folder / cache_module.scanner()[:16] / BUNDLE_NAME


def _same(paths: list[Path], cache: ScanCache, prompts: bool = True) -> None:
    assert scan_text(scan_paths(paths, cache=cache, prompts=prompts)) == scan_text(
        scan_paths(paths, prompts=prompts)
    )


def _kept(home: ClaudeHome, cache: ScanCache, lookups: Lookups) -> None:
    """Scanned twice: the files read and kept (entries, and the bundle), then from the bundle."""
    _same([home.root], cache)
    assert lookups.take() == 2 and _bundle(cache).is_file()
    _same([home.root], cache)
    assert lookups.take() == 0


@pytest.mark.usefixtures("no_grain")
def test_a_second_scan_reads_the_bundle_not_the_entries(
    home: ClaudeHome, cache: ScanCache, lookups: Lookups
) -> None:
    _kept(home, cache, lookups)
    items = read_bundle(str(_bundle(cache)), cache_module.scanner()).items
    assert sorted(Path(path).name for path, _ in items) == sorted(
        ["agent-a1.jsonl", f"{SESSION}.jsonl"]
    )
    _bundle(cache).unlink()
    _same([home.root], cache)
    assert lookups.take() == 2  # through the entries: the bundle is what spared them


@pytest.mark.usefixtures("no_grain")
@pytest.mark.parametrize("prompts", [True, False], ids=["prompts", "no-prompts"])
def test_every_fixture_scans_the_same_from_the_bundle(
    prompts: bool, cache: ScanCache, lookups: Lookups
) -> None:
    folder = REPO / "tests" / "fixtures" / "transcripts"
    _same([folder], cache, prompts)
    assert lookups.take() > 0
    _same([folder], cache, prompts)
    lookups.take()
    _same([folder], cache, prompts)
    # What is looked up still: files with a line being written, an inline sidechain, no call.
    assert lookups.take() < len(read_bundle(str(_bundle(cache)), cache_module.scanner()).items)


def _crc_fixed(data: bytes) -> bytes:
    """``data`` with its first line's length and check made true for what follows."""
    first, _, held = data.partition(b"\n")
    check = json.loads(first) | {"length": len(held), "crc32": zlib.crc32(held)}
    return json.dumps(check).encode() + b"\n" + held


def _out_of_place(data: bytes) -> bytes:
    """An item's result placed past the end of the results, behind a check that matches."""
    first, _, held = data.partition(b"\n")
    directory, _, results = held.partition(b"\n")
    rows = json.loads(directory)
    rows[0][-2] = len(results)
    moved = json.dumps(rows, separators=(",", ":")).encode()
    return _crc_fixed(first + b"\n" + moved + b"\n" + results)


def _wrong_shape(data: bytes) -> bytes:
    """A count become a text, behind a check that matches."""
    return _crc_fixed(data.replace(b"[10,1]", b'["10",1]', 1))


SPOILED: dict[str, Callable[[bytes], bytes]] = {
    "cut short": lambda data: data[: len(data) - 10],
    "empty": lambda data: b"",
    "not JSON": lambda data: b"\x00\xff garbage\n" + data,
    "a byte changed": lambda data: data.replace(b"[10,1]", b"[90,1]", 1),
    "another scanner": lambda data: data.replace(b'"scanner": "', b'"scanner": "0', 1),
    "another format": lambda data: data.replace(
        b'"orchphase_scan_bundle":1', b'"orchphase_scan_bundle":2'
    ),
    "a result of the wrong shape behind its check": _wrong_shape,
    "an item's place out of the results": _out_of_place,
}


@pytest.mark.usefixtures("no_grain")
@pytest.mark.parametrize("spoil", list(SPOILED.values()), ids=list(SPOILED))
def test_a_spoiled_bundle_is_ignored_and_written_again(
    home: ClaudeHome, cache: ScanCache, lookups: Lookups, spoil: Callable[[bytes], bytes]
) -> None:
    _kept(home, cache, lookups)
    bundle = _bundle(cache)
    data = bundle.read_bytes()
    assert b"[10,1]" in data  # the session's input tokens, as the check's change needs
    if spoil is SPOILED["another scanner"]:
        data = _crc_fixed(data)  # the first line as json.dumps writes it
    spoiled = spoil(data)
    assert spoiled != data
    bundle.write_bytes(spoiled)
    _same([home.root], cache)
    assert lookups.take() >= 1  # through the entries
    _same([home.root], cache)
    assert lookups.take() == 0  # and kept again


def test_a_foreign_scanners_bundle_is_not_read(
    home: ClaudeHome,
    cache: ScanCache,
    lookups: Lookups,
    monkeypatch: pytest.MonkeyPatch,
    no_grain: None,
) -> None:
    """An upgrade that changes the counting rules reads no bundle of the code before it, even
    one this process read a moment ago, in the same folder."""
    _kept(home, cache, lookups)
    monkeypatch.setattr(cache_module, "scanner", lambda: "f" * 64)
    _same([home.root], cache)
    assert lookups.take() == 2


@pytest.mark.usefixtures("no_grain")
def test_an_item_of_a_file_rewritten_to_its_size_and_time_is_not_used(
    home: ClaudeHome, cache: ScanCache, lookups: Lookups
) -> None:
    """The session's figure changed, its size and modification time set back: only its change
    time tells, and the item is refused (its output, 500, would be a wrong figure)."""
    _kept(home, cache, lookups)
    session = home.project / f"{SESSION}.jsonl"
    rewrite_keeping_size_and_time(session, b'"output_tokens":500', b'"output_tokens":900')
    scan = scan_paths([home.root], cache=cache)
    assert max(c.output_tokens for c in scan.calls) == 900
    assert scan_text(scan) == scan_text(scan_paths([home.root]))
    assert lookups.take() == 1  # the session, not the agent


@pytest.mark.usefixtures("no_grain")
def test_an_item_of_a_file_that_grew_is_not_used(
    home: ClaudeHome, cache: ScanCache, lookups: Lookups
) -> None:
    _kept(home, cache, lookups)
    session = home.project / f"{SESSION}.jsonl"
    with session.open("ab") as fh:
        line = assistant("msg_p3", "req_p3", u=usage(inp=3, out=4000))
        fh.write(json.dumps(line).encode() + b"\n")
    scan = scan_paths([home.root], cache=cache)
    assert max(c.output_tokens for c in scan.calls) == 4000
    assert scan_text(scan) == scan_text(scan_paths([home.root]))
    assert lookups.take() == 1
    _same([home.root], cache)
    assert lookups.take() == 0  # its new item kept


def test_an_item_taken_within_the_time_grain_is_not_used(
    home: ClaudeHome, cache: ScanCache, lookups: Lookups, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file changed within its time grain after its stat was taken may have other bytes
    under the same stat: its item is refused (and none is kept of it)."""
    monkeypatch.setattr(cache_lookup, "RACY_NS", 0)
    _kept(home, cache, lookups)
    monkeypatch.setattr(cache_lookup, "RACY_NS", RACY_NS)
    _same([home.root], cache)
    assert lookups.take() == 2
    fresh = ScanCache(cache.folder.with_name("fresh"))
    _same([home.root], fresh)
    _same([home.root], fresh)
    assert not read_bundle(str(_bundle(fresh)), cache_module.scanner()).items


@pytest.mark.usefixtures("no_grain")
def test_an_item_of_a_file_removed_is_dropped(
    home: ClaudeHome, cache: ScanCache, lookups: Lookups
) -> None:
    _kept(home, cache, lookups)
    agent = next(home.project.rglob("agent-a1.jsonl"))
    agent.unlink()
    _same([home.root], cache)
    items = read_bundle(str(_bundle(cache)), cache_module.scanner()).items
    assert [Path(path).name for path, _ in items] == [f"{SESSION}.jsonl"]
    assert lookups.take() == 0


@pytest.mark.usefixtures("no_grain")
def test_another_scans_items_are_kept_while_their_files_are_unchanged(
    tmp_path: Path, cache: ScanCache, lookups: Lookups
) -> None:
    one, two = _home(tmp_path / "one"), _home(tmp_path / "two", out=700)
    _same([one.root], cache)
    _same([two.root], cache)
    assert lookups.take() == 4
    _same([one.root], cache)
    _same([two.root], cache)
    assert lookups.take() == 0


@pytest.mark.usefixtures("no_grain")
@pytest.mark.parametrize("forks", [True, False], ids=["forked", "pooled"])
def test_the_files_other_processes_read_are_kept_in_the_bundle(
    forks: bool,
    home: ClaudeHome,
    cache: ScanCache,
    lookups: Lookups,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A scan whose files are shared out between two processes keeps every file's result in the
    bundle, those the other process read too: the next scan looks up no entry. (Before, the
    other process's items went with it, and the next run found its files through their
    entries.)"""
    monkeypatch.setattr(parallel, "FORKS", forks)
    monkeypatch.setattr(parallel, "_threaded", lambda: False)
    monkeypatch.setattr(parallel, "worker_count", lambda: 2)
    monkeypatch.setattr(scan_module, "PARALLEL_BYTES", 1)
    _same([home.root], cache)
    assert lookups.take() == 1  # the other file was looked up in the other process
    items = read_bundle(str(_bundle(cache)), cache_module.scanner()).items
    assert sorted(Path(path).name for path, _ in items) == sorted(
        ["agent-a1.jsonl", f"{SESSION}.jsonl"]
    )
    monkeypatch.setattr(parallel, "worker_count", lambda: 1)  # every look counted here
    _same([home.root], cache)
    assert lookups.take() == 0


def _scan_into(folder: str, cache_folder: str) -> str:
    setattr(cache_lookup, "RACY_NS", 0)  # noqa: B010 (a forked child: its own module)
    return scan_text(scan_paths([Path(folder)], cache=ScanCache(Path(cache_folder))))


@pytest.mark.usefixtures("no_grain")
def test_scans_at_once_leave_a_whole_bundle(
    tmp_path: Path, cache: ScanCache, lookups: Lookups
) -> None:
    """Eight scans of two folders at once, into one cache: the bundle is one scan's whole (a
    loser's items lost, never mixed), and what it holds is each file's own result."""
    homes = [_home(tmp_path / "one"), _home(tmp_path / "two", out=700)]
    plain = [scan_text(scan_paths([h.root])) for h in homes]
    context = multiprocessing.get_context("fork")
    jobs = [(str(homes[i % 2].root), str(cache.folder)) for i in range(8)]
    for _ in range(2):  # the first round keeps the entries, the second reads and writes items
        with context.Pool(4) as pool:
            got = pool.starmap(_scan_into, jobs)
        assert got == [plain[i % 2] for i in range(8)]
    assert not list(cache.folder.rglob("*.tmp"))
    assert read_bundle(str(_bundle(cache)), cache_module.scanner()).items
    lookups.take()
    for h, text in zip(homes, plain, strict=True):
        assert scan_text(scan_paths([h.root], cache=cache)) == text


def test_a_result_reads_back_as_itself_every_field() -> None:
    """The columns are read back by position into each call: every field that a kept result
    holds, set to other than its default, reads back as itself."""
    path = Path("/p/s.jsonl")
    res = FileResult(path=path, intact=3, malformed=1, lost=1, warnings=[f"{path}:2: bad"])
    res.version = "2.1.0"
    res.calls[("m1", "r1")] = ApiCall(
        "m1", "r1", "claude-opus-4-6", 1, 2, 3, 4, 5, 6, "fast", "us", "priority",
        session_id="s", agent_id="a", compaction=True, path=path, output_exact=False,
        sidechain=True,
    )  # fmt: skip
    res.calls[("m2", "")] = ApiCall("m2", "", "claude-haiku-4-5", path=path)
    res.first_ts[("m1", "r1")] = "2026-02-12T14:00:00Z"
    back = decode_result(encode_result(res, path.name), path)
    assert back is not None
    assert [dataclasses.asdict(c) for c in back.calls.values()] == [
        dataclasses.asdict(c) for c in res.calls.values()
    ]
    assert (back.first_ts, back.warnings, back.version) == (res.first_ts, res.warnings, "2.1.0")
    assert (back.intact, back.malformed, back.lost) == (3, 1, 1)
    assert decode_result(encode_result(res, path.name), Path("/p/other.jsonl")) is None

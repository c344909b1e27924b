"""Second review of the scan cache (pytest_orchphase.usage.cache, commit 7828f87): cases where
a scan through the cache differs from a scan that reads the transcripts whole, or where the
cache did what it says it does not. Each test failed on 7828f87 (since fixed): its name says
what holds now, its docstring what went wrong then, why, and the fix.

The file systems whose times are too coarse to tell two writes apart (whole seconds: ext3,
HFS+, many NFS servers; two seconds: FAT) are simulated as in test_scan_cache_breaks.py: the
times the cache sees are floored to the second. The racily-clean rule exists for them."""

from __future__ import annotations

import dataclasses
import os
import shutil
import time
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pytest_orchphase.usage import cache_lookup, cache_sweep
from pytest_orchphase.usage.cache import ScanCache
from pytest_orchphase.usage.scan import scan_paths
from pytest_orchphase.usage.sources.claude_code.reader import resume_transcript as real_resume
from tests.helpers import assistant, jsonl_line, scan_text, usage

GRAIN = 10**9


def call_line(inp: int) -> bytes:
    """One response's line; the same size for any ``inp`` of three digits."""
    return jsonl_line(assistant("msg_1", "req_1", u=usage(inp=inp, out=5)))


def coarse_times(monkeypatch: pytest.MonkeyPatch) -> Callable[[Path], Any]:
    """The cache sees times floored to the second (a file system that keeps whole seconds)."""
    real_of = cache_lookup._Stat.of

    def coarse(path: Path) -> Any:
        st = real_of(path)
        return dataclasses.replace(
            st, mtime_ns=st.mtime_ns // GRAIN * GRAIN, ctime_ns=st.ctime_ns // GRAIN * GRAIN
        )

    monkeypatch.setattr(cache_lookup._Stat, "of", staticmethod(coarse))
    return coarse


def rewrite_in_place(path: Path, data: bytes) -> None:
    with path.open("r+b") as fh:  # same inode, same size
        fh.write(data)


def scan_rewritten_in_one_second(
    path: Path, folder: Path, coarse: Callable[[Path], Any], reset: Callable[[], None]
) -> ScanCache:
    """A cached scan of ``path`` (100 input tokens) during which it is rewritten (900), both
    writes in the same second: tried again (with a new cache) until they are."""
    for _ in range(5):  # almost always at once
        reset()
        shutil.rmtree(folder, ignore_errors=True)
        cache = ScanCache(folder)
        path.write_bytes(call_line(100))
        before = coarse(path)
        scan_paths([path], cache=cache)
        if coarse(path) == before:
            return cache
    pytest.skip("never two writes within one second")


def test_a_file_changed_during_a_long_read_is_checked_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The racily-clean rule measures from the wrong moment: ``written_ns`` is the time the
    index record is written, after the file was read, while the stat it records (``before``)
    was taken before the read. A read that takes more than RACY_NS (2 s: a session of some
    50 MB, or a loaded machine) ends more than 2 s after the file's last time, so its record
    is never racy; a same-size rewrite made while the reader was past those bytes, within the
    file's time grain, leaves that stat as it was (``after == before`` in ``_keep``), and every
    later run trusts the entry of the old bytes without looking at one: here 100 input tokens
    stand for the file's 900 (a cost cap passes that should fail). The read's length is
    simulated by moving the cache's clock on 3 s while it reads. Git takes the stat and the
    index time together for this reason. Fix: take ``time.time_ns()`` just before
    ``_Stat.of`` in ``ScanCache.read`` (the ``_Lookup``'s start) and write that as
    ``written_ns`` for the ``before`` stat (in ``_keep`` and in the refresh after a racy
    check), never the time of writing."""
    coarse = coarse_times(monkeypatch)
    skew = [0]
    monkeypatch.setattr(
        cache_lookup,
        "time",
        types.SimpleNamespace(
            time=lambda: time.time() + skew[0] / GRAIN, time_ns=lambda: time.time_ns() + skew[0]
        ),
    )
    path = tmp_path / "p" / "s.jsonl"
    path.parent.mkdir()

    def long_read(*args: Any, **kwargs: Any) -> Any:
        result = real_resume(*args, **kwargs)
        rewrite_in_place(path, call_line(900))  # while the read went on
        skew[0] = 3 * GRAIN  # the read took 3 s
        return result

    monkeypatch.setattr(cache_lookup, "resume_transcript", long_read)
    cache = scan_rewritten_in_one_second(
        path, tmp_path / "cache", coarse, lambda: skew.__setitem__(0, 0)
    )
    monkeypatch.setattr(cache_lookup, "resume_transcript", real_resume)

    whole = scan_paths([path])
    assert whole.calls[0].input_tokens == 900
    assert scan_text(scan_paths([path], cache=cache)) == scan_text(whole)


def test_an_entry_is_kept_under_the_digest_of_the_bytes_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file the index does not know is hashed (``_Lookup._content``), then, no entry being
    found for that digest, read again whole (``_read_whole(known)``): the result of the
    second read is kept under the digest of the first. A same-size rewrite between the two,
    within the file's time grain, passes the ``after == before`` check, and the entry named
    by the old bytes' digest holds the new bytes' result. The index record of this path is
    racy and found out on the next run, but the entry stays: any file of the same name and
    the old bytes (a copy, a backup, a restored CI cache, the same file checked out again)
    is found by its content and given the other bytes' result: 900 input tokens where it
    holds 100. Fix: in ``_read_whole`` feed ``seen`` with a digest whether or not ``known``
    is given, and keep the entry only under that digest (when it differs from ``known``,
    keep nothing)."""
    coarse = coarse_times(monkeypatch)
    real_content = cache_lookup._Lookup._content
    path = tmp_path / "p" / "s.jsonl"
    path.parent.mkdir()

    hashed: list[Path] = []

    def hashed_then_rewritten(self: Any) -> Any:
        known = real_content(self)
        hashed.append(self.path)
        rewrite_in_place(path, call_line(900))  # between the digest and the read
        return known

    # Only a file some entry may stand for is hashed before it is read (an entry of another
    # file of this name, kept before): as if there were one.
    monkeypatch.setattr(ScanCache, "may_hold", lambda self, name, prompts: True)
    monkeypatch.setattr(cache_lookup._Lookup, "_content", hashed_then_rewritten)
    cache = scan_rewritten_in_one_second(path, tmp_path / "cache", coarse, lambda: None)
    monkeypatch.setattr(cache_lookup._Lookup, "_content", real_content)
    assert hashed and hashed[-1] == path  # the race this test is about took place

    copy = tmp_path / "backup" / "s.jsonl"  # the old bytes, under the same name
    copy.parent.mkdir()
    copy.write_bytes(call_line(100))
    whole = scan_paths([copy])
    assert whole.calls[0].input_tokens == 100
    assert scan_text(scan_paths([copy], cache=cache)) == scan_text(whole)


def test_another_scanners_entries_in_use_today_are_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``prune`` says it removes the entries of other scanners "left alone for a day", but it
    measures that by the scanner folder's own modification time, which changes only when an
    entry of its own is added or removed: never after its ``index`` and ``entries``
    folders were made. Another version of the plugin (a second project's virtualenv sharing
    ``~/.cache/orchphase``) that wrote an entry a minute ago, in a folder made two days ago,
    loses its whole cache on every run of this version (each of its runs reads every
    transcript again, and writes them all again, to be removed again the next day). Fix: take
    the newest time of the folder and of its ``index``/``entries`` folders (written to at
    each entry and index record), or of its index records."""
    monkeypatch.setattr(cache_sweep, "_PRUNED", set())
    cache = ScanCache(tmp_path / "cache")
    other = cache.folder / "0123456789abcdef"
    entries, index = other / "entries", other / "index"
    entries.mkdir(parents=True)
    index.mkdir()
    two_days_ago = time.time() - 2 * 86400
    for folder in (other, entries, index):
        os.utime(folder, (two_days_ago, two_days_ago))
    # A run of the other version a minute ago: an entry and its index record written.
    (entries / f"{'a' * 64}-0123456789ab-1.jsonl").write_bytes(b"{}\n")
    (index / f"{'b' * 40}.json").write_bytes(b"{}\n")
    assert other.stat().st_mtime < time.time() - 86400  # its own folder still two days old

    cache.prune()
    assert other.exists(), "an entry written a minute ago was pruned as idle for a day"


def test_no_home_folder_means_no_cache_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Where no home folder can be found (no ``$HOME`` and a user id with no passwd entry: a
    container run as an arbitrary uid) and ``$XDG_CACHE_HOME`` is not set, ``Path.home()``
    raises ``RuntimeError`` (Python 3.11; ``KeyError`` on 3.10): ``user_cache_folder`` lets it
    through, and every command that scans (``orchphase extract FILE``, naming the file, needs
    no home otherwise) ends in a traceback from our code, where ``--no-cache`` prints the
    usage. Fix: ``user_cache_folder`` (or ``options.scan_cache``) answers no folder when the
    home cannot be found, and the command scans without a cache (a cache is an optimisation,
    never a reason to fail)."""
    from pytest_orchphase.cli import main

    path = tmp_path / "p" / "s.jsonl"
    path.parent.mkdir()
    path.write_bytes(call_line(100))
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.delenv("HOME", raising=False)

    def no_home() -> Path:
        raise RuntimeError("Could not determine home directory.")  # Python's own words

    monkeypatch.setattr(Path, "home", staticmethod(no_home))
    assert main(["extract", str(path), "--json", "--no-cache"]) == 0
    uncached = capsys.readouterr().out
    assert main(["extract", str(path), "--json"]) == 0
    assert capsys.readouterr().out == uncached


def test_a_folder_name_that_is_not_utf8_is_read_without_the_cache(tmp_path: Path) -> None:
    """On Linux a file name is bytes: a folder named in Latin-1 (``jos\\xe9``, an old home
    or a copied archive) is a ``str`` with a surrogate escape in Python. A scan without the
    cache reads it (its warnings name it); with the cache it raises ``UnicodeEncodeError``
    (``ScanCache._index`` hashes ``f"{path}".encode()``, also ``ScanCache.work`` before any
    read; ``_entry`` hashes the name the same way, and orjson refuses such a ``str`` in the
    header's ``path`` and in the warnings). Fix: hash ``os.fsencode(path)`` (the name's
    bytes, exact); read a file whose path is not UTF-8 without the cache (or keep its path
    and warnings with ``surrogateescape``), never let the cache raise."""
    folder = Path(os.fsdecode(os.fsencode(tmp_path) + b"/jos\xe9"))
    try:
        folder.mkdir()
    except (OSError, UnicodeError):  # a file system that takes only UTF-8 names
        pytest.skip("file names must be UTF-8 here")
    path = folder / "s.jsonl"
    path.write_bytes(call_line(100) + b"not json\n")

    whole = scan_paths([path])
    assert whole.calls[0].input_tokens == 100 and whole.malformed_lines == 1
    assert scan_text(scan_paths([path], cache=ScanCache(tmp_path / "cache"))) == scan_text(whole)

"""Removing from the scan cache (:mod:`pytest_orchphase.usage.cache`) what no run will read:
other scanners' folders and a killed writer's temporary files (of entries, index records and
the bundle: :func:`prune_cache`, before a process's first write), this scanner's index records
of files that no longer exist and entries no index record names (:func:`sweep_scanner`, at the
end of a scan, once a day at most).

Nothing here makes a file's result, only the next run's speed: its bytes do not name the
scanner (a change here leaves the entries as they are), and a failure is ignored.
Plain Python, no pytest.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

from pytest_orchphase.files import cache_write
from pytest_orchphase.usage.cache_entry import _read_json

#: A folder of entries is named by the start of its scanner's digest.
_SCANNER_NAME = re.compile(r"[0-9a-f]{16}")
_DAY, _HOUR = 86400.0, 3600.0
#: How long an entry no index record names is kept (it may still be found by its content: a
#: file renamed, or a cache restored elsewhere) after it was last written.
UNNAMED_DAYS = 7
UNNAMED_SECONDS = UNNAMED_DAYS * _DAY
#: The file whose time says when this scanner's entries were last swept (once a day at most).
SWEPT = ".swept"
#: The cache folders this process has pruned (see :func:`prune_cache`), and the scanner
#: folders it has swept (see :func:`sweep_scanner`).
_PRUNED: set[Path] = set()
_SWEPT_HERE: set[Path] = set()


def prune_cache(cache: Path, mine: str) -> None:
    """Remove from the cache folder ``cache`` the entries of other scanners than ``mine`` (the
    name of this scanner's folder; older or newer code) left alone for a day, and temporary
    files a killed writer left an hour ago. Done once per process."""
    if cache in _PRUNED:
        return
    _PRUNED.add(cache)
    now = time.time()
    try:
        folders = [p for p in cache.iterdir() if p.is_dir()]
    except OSError:
        return
    for folder in folders:
        try:
            # Its last use: a run touches it, a write changes its entries or index folder.
            age = now - max(
                p.stat().st_mtime
                for p in (folder, folder / "entries", folder / "index")
                if p.exists()
            )
            if folder.name != mine and _SCANNER_NAME.fullmatch(folder.name) and age > _DAY:
                shutil.rmtree(folder, ignore_errors=True)
            elif folder.name == mine:
                for part in (folder, folder / "entries", folder / "index"):
                    if part.is_symlink() or not part.is_dir():
                        continue  # never into a folder that is not the cache's own
                    for tmp in part.glob(".*.tmp"):
                        if now - tmp.lstat().st_mtime > _HOUR:
                            tmp.unlink(missing_ok=True)
        except OSError:
            continue


def sweep_scanner(mine: Path) -> None:
    """Remove from this scanner's folder ``mine`` the entries and index records no run will
    read: the index record of a file that no longer exists, and an entry no index record names
    that was last written :data:`UNNAMED_DAYS` days ago (a file rewritten, or deleted). Once per
    process, and once a day at most (see :func:`sweep_due`)."""
    if mine in _SWEPT_HERE:
        return
    _SWEPT_HERE.add(mine)
    now = time.time()
    if not sweep_due(mine, now):
        return
    try:
        _sweep(mine / "index", mine / "entries", now)
    except OSError:
        return


def sweep_due(folder: Path, now: float) -> bool:
    """Whether ``folder``, a folder of the cache's, is due a sweep: it exists, and its
    :data:`SWEPT` mark is missing or a day old. If so, it is marked first, so that two runs that
    start together sweep once. A mark that cannot be looked at or written: not due."""
    marker = folder / SWEPT
    try:
        if now - marker.stat().st_mtime < _DAY:
            return False
    except FileNotFoundError:
        if not folder.is_dir():
            return False  # nothing kept yet
    except OSError:
        return False
    try:
        cache_write(marker, b"")
    except OSError:
        return False
    return True


def _sweep(index: Path, entries: Path, now: float) -> None:
    """:func:`sweep_scanner` of one scanner's folders (never into a link or what is not a
    folder of the cache's own)."""
    if index.is_symlink() or entries.is_symlink():
        return
    named: set[str] = set()
    for record in index.glob("*.json") if index.is_dir() else ():
        kept = _read_json(record) or {}
        path, entry = kept.get("path"), kept.get("entry")
        if not isinstance(path, str):
            continue  # not this cache's, or being replaced: left alone
        if os.path.isabs(path) and not os.path.lexists(path):
            record.unlink(missing_ok=True)  # (a relative path may be another folder's)
        elif isinstance(entry, str):
            named.add(entry)
    for entry in entries.glob("*.jsonl") if entries.is_dir() else ():
        if entry.name[:64] in named:
            continue
        try:
            if now - entry.stat().st_mtime > UNNAMED_SECONDS:
                entry.unlink(missing_ok=True)
        except OSError:
            continue

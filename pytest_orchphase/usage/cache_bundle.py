"""The scan cache's bundle: every kept file's result in one file, read with one read and one
parse (:mod:`pytest_orchphase.usage.cache` reads and writes it).

The per-file entries and their index records stay the cache; the bundle is a copy of what they
gave, kept so that a run reads one file instead of two per transcript file. Each of its items is
the result of one file (by path and whether prompts were kept) as its entry gave it, with what
made it right then, tested as the index record's is: the file's stat, and when it was taken (an
item of a file changed within its file system's time grain of that is not trusted). A file whose
stat differs is looked up through its index record and entry, and the run keeps a new item. A
bundle names its scanner and holds its length and a CRC-32 of all that follows its first line:
one cut short, corrupt, or another scanner's is no bundle (every file is then looked up through
its entry); an item whose result is of the wrong shape is none. It is written whole, as a new
file renamed into place: two runs at once leave one run's bundle or the other's, never a mix.

Each item's result is kept as its entry's (see :func:`~.cache_entry.encode_result`). Plain
Python, no pytest.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pytest_orchphase.usage.cache_entry import _dumps
from pytest_orchphase.usage.sources.claude_code.lines import _loads

#: The first key of a bundle's first line (its value is this format's number).
MARKER = "orchphase_scan_bundle"
FORMAT = 1
#: The bundle's name in its scanner's folder.
BUNDLE_NAME = "bundle"
#: An item's row in the bundle's directory: its key (path, prompts), the file's stat (size,
#: modification and change times, inode, device) and when it was taken, then where its result is
#: among the results (offset, length).
_ROW = (str, bool, *(int,) * 6)

#: A file's stat: size, modification and change times, inode, device.
Stat = tuple[int, int, int, int, int]
FileId = tuple[int, int, int]
Key = tuple[str, bool]


@dataclass(frozen=True)
class Item:
    """One file's kept result in the bundle (see the module's text)."""

    stat: Stat
    #: When ``stat`` was taken (as an index record's ``written_ns``).
    looked_ns: int
    #: The result, as :func:`encode_result` writes it.
    result: bytes

    def row(self, key: Key) -> list[Any]:
        return [*key, *self.stat, self.looked_ns]


@dataclass(frozen=True)
class Bundle:
    """A bundle as read from (or written to) its file, whose identity it was then."""

    items: dict[Key, Item]
    identity: FileId | None


def read_bundle(where: str, scanner: str) -> Bundle:
    """The bundle at ``where`` for ``scanner``; an empty one for a bundle that is not there,
    cannot be read, is cut short, corrupt or another scanner's."""
    try:
        with open(where, "rb") as fh:
            st = os.fstat(fh.fileno())
            raw = fh.read()
    except OSError:
        return Bundle({}, None)
    identity = (st.st_ino, st.st_size, st.st_mtime_ns)
    items = _parse(raw, scanner)
    return Bundle(items if items is not None else {}, identity)


def _parse(raw: bytes, scanner: str) -> dict[Key, Item] | None:
    first, newline, held = raw.partition(b"\n")
    try:
        check = _loads(first) if newline else None
    except ValueError:
        return None
    if not (
        isinstance(check, dict)
        and check.get(MARKER) == FORMAT
        and check.get("scanner") == scanner
        and check.get("length") == len(held)
        and check.get("crc32") == zlib.crc32(held)
    ):
        return None
    directory, _, results = held.partition(b"\n")
    try:
        rows = _loads(directory)
    except ValueError:
        return None
    if not isinstance(rows, list):
        return None
    items: dict[Key, Item] = {}
    for row in rows:
        if not _is_row(row):
            return None
        offset, length = row[8], row[9]
        if offset + length > len(results):
            return None
        stat: Stat = (row[2], row[3], row[4], row[5], row[6])
        items[(row[0], row[1])] = Item(stat, row[7], results[offset : offset + length])
    return items


def _is_row(row: object) -> bool:
    return (
        isinstance(row, list)
        and len(row) == len(_ROW) + 2
        and all(type(v) is t for v, t in zip(row, _ROW, strict=False))
        and type(row[-2]) is int
        and type(row[-1]) is int
        and min(row[-2], row[-1]) >= 0
    )


def bundle_bytes(items: Iterable[tuple[Key, Item]], scanner: str) -> bytes:
    """The bundle of ``items`` for ``scanner``, as its file holds it."""
    rows: list[list[Any]] = []
    results: list[bytes] = []
    offset = 0
    for key, item in items:
        rows.append([*item.row(key), offset, len(item.result)])
        results.append(item.result)
        offset += len(item.result)
    held = _dumps(rows) + b"".join(results)
    check = {MARKER: FORMAT, "scanner": scanner, "length": len(held), "crc32": zlib.crc32(held)}
    return _dumps(check) + held

"""An entry of the scan cache (:mod:`pytest_orchphase.usage.cache`) as it is on disk, written and
read back.

An entry is three parts, one per line and then one per record: a check line (this format's
marker, and the SHA-256 of all that follows it), a header (the scanner that made it, the
SHA-256 of the file's bytes it stands for, where they end and how many lines they hold, whether
the file can be read on from there, whether prompts were kept, and the path when only that path
may use it), then the file's result in the usage ledger's records (``texts=True``: prompts as
they are). Reading one back trusts nothing: an entry cut short, corrupt, of another scanner,
made for other bytes or for another path is no entry. Beside it: the bytes an entry stands for
(a file's SHA-256 up to where its last newline ends) and the JSON an index record is written in.

The decoding here decides what a kept entry's result is: its bytes name the scanner (it is one
of the cache's ``SCANNER_MODULES``). Plain Python, no pytest.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from pytest_orchphase.usage.sources.base import FileResult
from pytest_orchphase.usage.sources.claude_code.lines import READ_BUFFER, _loads
from pytest_orchphase.usage.sources.ledger.decode import Decoder
from pytest_orchphase.usage.sources.ledger.encode import encode
from pytest_orchphase.usage.sources.ledger.format import LedgerError

if TYPE_CHECKING:
    from pytest_orchphase.usage.sources.claude_code.reader import Resumed

#: The first key of an entry's header (its value is this format's number).
MARKER = "orchphase_scan_cache"
FORMAT = 1


def _format_name() -> str:
    """This format's name, with the JSON parser's version (a parser that reads a line otherwise
    makes other entries)."""
    try:
        import orjson
    except ImportError:  # pragma: no cover - depends on the environment
        version = "none"
    else:
        version = str(getattr(orjson, "__version__", "unknown"))
    return f"{MARKER} {FORMAT} orjson {version}"


@dataclass
class _Entry:
    """An entry read back: the result of the file's bytes up to ``end`` (its ``lines``)."""

    result: FileResult
    sha256: str
    end: int
    lines: int
    resumable: bool
    #: The reader's search for a first prompt after ``end`` (see ``Resumed.want_prompt``).
    want_prompt: bool


def _body(res: FileResult, name: str) -> bytes:
    """An entry's records: the result of a file named ``name``."""
    block = encode(res, name, 0, "", "claude_code", (), texts=True)
    return b"".join(_dumps(r) for r in [block.file, *block.records])


def _encode(
    scanner: str, sha256: str, head: Resumed, prompts: bool, path: str | None, body: bytes
) -> bytes:
    """The entry of ``body`` (see :func:`_body`), the result of the bytes ``head`` was read
    from (their SHA-256 ``sha256``), made by ``scanner``; for ``path`` alone when it is given."""
    header = {
        "scanner": scanner,
        "sha256": sha256,
        "end": head.end,
        "lines": head.lines,
        "resumable": head.resumable,
        "want_prompt": head.want_prompt,
        "prompts": prompts,
        "path": path,
    }
    held = _dumps(header) + body
    check = {MARKER: FORMAT, "check": hashlib.sha256(held).hexdigest()}
    return _dumps(check) + held


def _last_newline_end(fh: BinaryIO, size: int) -> int:
    """The offset after the last newline of an open file of ``size`` bytes (0 if none)."""
    pos = size
    while pos > 0:
        step = min(pos, 1 << 16)
        pos -= step
        fh.seek(pos)
        chunk = fh.read(step)
        at = chunk.rfind(b"\n")
        if at >= 0:
            return pos + at + 1
    return 0


def sha256_of(fh: BinaryIO, size: int | None = None) -> Any:
    """A SHA-256 of the next ``size`` bytes of an open file (all that is left when ``None``),
    read a megabyte at a time; ``None`` when it has fewer than ``size``."""
    digest = hashlib.sha256()
    left = size
    while left is None or left > 0:
        chunk = fh.read(READ_BUFFER if left is None else min(left, READ_BUFFER))
        if not chunk:
            return digest if left is None else None
        digest.update(chunk)
        if left is not None:
            left -= len(chunk)
    return digest


def _dumps(obj: Any) -> bytes:
    try:
        import orjson
    except ImportError:  # pragma: no cover - depends on the environment
        import json

        return (json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
    return bytes(orjson.dumps(obj)) + b"\n"


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        obj = _loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    return obj if isinstance(obj, dict) else None


def _decode(raw: bytes, scanner: str, sha256: str, path: Path, prompts: bool) -> _Entry | None:
    """An entry's result, or ``None`` for anything but a whole entry of ``scanner`` for these
    bytes (cut short, corrupt, foreign, made for other bytes, for another path). Its first
    line holds the SHA-256 of the rest: the header and the records."""
    first, _, held = raw.partition(b"\n")
    second, _, body = held.partition(b"\n")
    try:
        check, header = _loads(first), _loads(second)
    except ValueError:
        return None
    if not isinstance(check, dict) or check.get(MARKER) != FORMAT:
        return None
    if check.get("check") != hashlib.sha256(held).hexdigest():
        return None
    if not isinstance(header, dict) or not _header_fits(header, scanner, sha256, path, prompts):
        return None
    decoder = Decoder(path.parent, texts=True)
    try:
        # One JSON document of all the records (a line is one JSON value without a newline in
        # it): parsed in one call instead of one per line.
        records = _loads(b"[" + body.rstrip(b"\n").replace(b"\n", b",") + b"]")
        for record in records:
            if not isinstance(record, dict):
                return None
            if record.get("kind") == "file":
                record = _renamed(record, path.name)
            decoder.record(record)
    except (ValueError, LedgerError):
        return None
    if len(decoder.parts) != 1:
        return None
    return _Entry(
        decoder.parts[0],
        sha256,
        header["end"],
        header["lines"],
        header["resumable"],
        header["want_prompt"],
    )


def _header_fits(
    header: dict[str, Any], scanner: str, sha256: str, path: Path, prompts: bool
) -> bool:
    counts: Callable[[object], bool] = lambda v: type(v) is int and v >= 0  # noqa: E731
    return (
        header.get("scanner") == scanner
        and header.get("sha256") == sha256
        and header.get("prompts") is prompts
        and counts(header.get("end"))
        and counts(header.get("lines"))
        and type(header.get("resumable")) is bool
        and type(header.get("want_prompt")) is bool
        and header.get("path") in (None, str(path))
    )


def _renamed(record: dict[str, Any], name: str) -> dict[str, Any]:
    """The file record as if kept under ``name`` (entries are found by content and name, so
    the name is the same; the check keeps a foreign record from naming another file)."""
    if record.get("name") != name:
        raise LedgerError("an entry of another file")
    return record

"""An entry of the scan cache (:mod:`pytest_orchphase.usage.cache`) as it is on disk, written and
read back.

An entry is three lines: a check line (this format's marker, and the SHA-256 of all that
follows it), a header (the scanner that made it, the SHA-256 of the file's bytes it stands for,
where they end and how many lines they hold, whether the file can be read on from there,
whether prompts were kept, and the path when only that path may use it), then the file's result
(:func:`encode_result`): its calls in columns, one list per field (read back without a record
per call), what else it holds as the usage ledger's records (``texts=True``: prompts as they
are; spawns, results, links: a few per file), each read back with the ledger's checks. The
bundle (:mod:`pytest_orchphase.usage.cache_bundle`) keeps results in the same form. Reading one
back trusts nothing: an entry cut short, corrupt, of another scanner, made for other bytes or
for another path is no entry. Beside it: the bytes an entry stands for (a file's SHA-256 up to
where its last newline ends) and the JSON an index record is written in.

The decoding here decides what a kept entry's result is: its bytes name the scanner (it is one
of the cache's ``SCANNER_MODULES``). Plain Python, no pytest.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from itertools import chain, repeat
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from pytest_orchphase.usage.records import ApiCall
from pytest_orchphase.usage.sources.base import FileResult
from pytest_orchphase.usage.sources.claude_code.lines import READ_BUFFER, _loads
from pytest_orchphase.usage.sources.ledger.decode import Decoder
from pytest_orchphase.usage.sources.ledger.encode import encode
from pytest_orchphase.usage.sources.ledger.format import USAGE_FIELDS, LedgerError

if TYPE_CHECKING:
    from pytest_orchphase.usage.sources.claude_code.reader import Resumed

#: The first key of an entry's header (its value is this format's number).
MARKER = "orchphase_scan_cache"
#: 4: each call's last line's time kept (a column of its own); 5: a call one of whose lines'
#: time is not a time is flagged (``ApiCall.untimed_line``), its times compared as times.
FORMAT = 5


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
    #: ``result`` as the entry holds it (see :func:`encode_result`).
    body: bytes


def _encode(
    scanner: str, sha256: str, head: Resumed, prompts: bool, path: str | None, body: bytes
) -> bytes:
    """The entry of ``body`` (see :func:`encode_result`), the result of the bytes ``head`` was read
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
    result = decode_result(body, path)
    if result is None:
        return None
    return _Entry(
        result,
        sha256,
        header["end"],
        header["lines"],
        header["resumable"],
        header["want_prompt"],
        body,
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


# -- a file's result in columns ----------------------------------------------------------

#: A call's flags, one bit each.
_COMPACTION, _PLACEHOLDER, _SIDECHAIN, _UNTIMED = 1, 2, 4, 8
_STR = frozenset((str,))
_OPT_STR = frozenset((str, type(None)))
_INT = frozenset((int,))


def encode_result(res: FileResult, name: str) -> bytes:
    """The result of a file named ``name``: its calls in columns (keys, model, first time,
    session, agent, usage, flags, last time: ``None`` where it is the first), the rest as the
    ledger's records (``texts=True``)."""
    block = encode(res, name, 0, "", "claude_code", (), texts=True, calls=False)
    keys = list(res.calls)
    calls = list(res.calls.values())
    stamps, lasts = res.first_ts, res.last_ts
    columns: list[list[Any]] = [
        [k[0] for k in keys],
        [k[1] for k in keys],
        [c.model for c in calls],
        [stamps.get(k) for k in keys],
        [c.session_id for c in calls],
        [c.agent_id for c in calls],
        *([getattr(c, name) for c in calls] for name in USAGE_FIELDS),
        [
            (_COMPACTION if c.compaction is True else 0)
            | (0 if c.output_exact else _PLACEHOLDER)
            | (_SIDECHAIN if c.sidechain is True else 0)
            | (_UNTIMED if c.untimed_line else 0)
            for c in calls
        ],
        [None if (last := lasts.get(k)) == stamps.get(k) else last for k in keys],
    ]
    # The ledger's records but those of the calls: the columns hold them.
    return _dumps({"calls": columns, "records": [block.file, *block.records]})


#: What each column holds: message id, request id, model, first time, session, agent, the six
#: counts, speed, inference geo, service tier, flags, last time.
_COLUMNS = (
    _STR, _STR, _STR, _OPT_STR, _OPT_STR, _OPT_STR, *(_INT,) * 6, *(_OPT_STR,) * 3, _INT, _OPT_STR
)  # fmt: skip


def decode_result(raw: bytes, path: Path) -> FileResult | None:
    """The result :func:`encode_result` wrote, as the file ``path``'s; ``None`` for anything
    else (a value of the wrong type, columns of unequal length, a record the ledger refuses,
    another file's)."""
    try:
        doc = _loads(raw)
    except ValueError:
        return None
    if not isinstance(doc, dict):
        return None
    columns, records = doc.get("calls"), doc.get("records")
    if not (isinstance(columns, list) and isinstance(records, list)):
        return None
    if not _columns_fit(columns):
        return None
    count = len(columns[0])
    decoder = Decoder(path.parent, texts=True)
    try:
        first, *rest = records
        if not isinstance(first, dict) or first.get("kind") != "file":
            return None
        decoder.file(first, path)
        for record in rest:
            if not isinstance(record, dict) or record.get("kind") in ("call", "file"):
                return None
            decoder.record(record)
    except (ValueError, LedgerError):
        return None
    res = decoder.parts[0]
    mids, rids, models, stamps, sessions, agents, *usage, flags, lasts = columns
    keys = list(zip(mids, rids, strict=True))
    calls = map(
        ApiCall,
        mids,
        rids,
        models,
        *usage,
        repeat(None),
        sessions,
        agents,
        [f & _COMPACTION != 0 for f in flags],
        repeat(res.path),
        repeat(False),
        repeat(0),
        [f & _PLACEHOLDER == 0 for f in flags],
        repeat(""),
        repeat(""),
        repeat(None),
        [f & _SIDECHAIN != 0 for f in flags],
    )
    res.calls = dict(zip(keys, calls, strict=True))
    if len(res.calls) != count:
        return None  # a key twice
    for call, f in zip(res.calls.values(), flags, strict=True):
        call.untimed_line = f & _UNTIMED != 0
    res.first_ts = {k: s for k, s in zip(keys, stamps, strict=True) if s is not None}
    res.last_ts = {
        k: last or first
        for k, first, last in zip(keys, stamps, lasts, strict=True)
        if (last or first) is not None
    }
    return res


def _columns_fit(columns: list[Any]) -> bool:
    """Whether ``columns`` are lists of one length, each of its values' type (whole numbers
    from 0 where counts are)."""
    if len(columns) != len(_COLUMNS) or not all(isinstance(c, list) for c in columns):
        return False
    count = len(columns[0])
    if any(len(column) != count for column in columns):
        return False
    if not count:
        return True
    texts, optional, counts = columns[:3], [*columns[3:6], *columns[12:15]], columns[6:12]
    counts.append(columns[15])
    return (
        set(map(type, chain.from_iterable(texts))) <= _STR
        and set(map(type, chain.from_iterable(optional))) <= _OPT_STR
        and set(map(type, chain.from_iterable(counts))) <= _INT
        and min(map(min, counts)) >= 0
    )

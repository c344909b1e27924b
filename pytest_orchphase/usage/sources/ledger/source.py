"""A usage ledger (``orchphase collect``) as a usage source: what its files held."""

from __future__ import annotations

import json
import re
from pathlib import Path

from pytest_orchphase.usage.sources.base import FileResult
from pytest_orchphase.usage.sources.ledger.decode import Decoder
from pytest_orchphase.usage.sources.ledger.format import FORMAT, MARKER, LedgerError, UnknownKind

_HEAD = ('{"' + MARKER + '":').encode()
_BOM = b"\xef\xbb\xbf"
#: The kinds of record that hold no figure: one of them damaged loses no call. Any other
#: damaged record may have held one (a call's, a Task result's or a headless run's figures, a
#: file's count of lost lines), and so may a line too damaged to show its kind: a call record
#: cut short at any point (a copy or a download stopped) starts like one.
_NO_FIGURES = frozenset(("spawn", "link", "meta", "notice", "prompt"))
#: The kind a record names first, as every ledger this package writes does.
_HEAD_KIND = re.compile(rb'\s*\{\s*"kind"\s*:\s*"([^"\\]*)"')
#: In the bytes of a record that holds figures, whatever its kind (a later format's too).
_FIGURES = (b'_tokens"', b'"usage"', b'cost_usd"')


def _may_hold_call(kind: object) -> bool:
    """Whether a damaged record of ``kind`` (``None``: not shown) may have held a call."""
    return not (isinstance(kind, str) and kind in _NO_FIGURES)


def _head_kind(line: bytes) -> str | None:
    """The kind a line that is not a whole record begins with, when it shows one."""
    found = _HEAD_KIND.match(line)
    return None if found is None else found.group(1).decode("utf-8", "replace")


def is_ledger(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:  # not Path.open: only a peek at the first bytes
            return fh.read(len(_HEAD) + len(_BOM)).removeprefix(_BOM).startswith(_HEAD)
    except OSError:
        return False


def foreign(path: str, theirs: str, phase: str) -> str:
    """That a ledger collected for phase ``theirs`` (its header's ``phase``) is not ``phase``'s:
    a data folder copied from another phase brings that phase's ledger along."""
    return (
        f"{path}:1: phase: a usage ledger collected for phase {theirs!r}, not {phase!r} (a data "
        "folder copied from another phase?): its calls are that phase's"
    )


def read_ledger(path: Path) -> FileResult:
    """The ledger's own result, its stored files' results in ``parts``. Never raises for bad
    content: a record that cannot be read is a malformed line, named with its line number."""
    reader = _Reader(path)
    try:
        with path.open("rb") as fh:
            for lineno, line in enumerate(fh, 1):
                if line.strip() and not reader.line(lineno, line):
                    break
    except OSError as exc:
        reader.res.warnings.append(f"{path}: cannot read: {exc}")
    reader.res.parts = reader.decoder.parts
    return reader.res


class _Reader:
    """A ledger read line by line into its result (:func:`read_ledger`)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.res = FileResult(path=path)
        self.decoder = Decoder(path.with_suffix(""))

    def warn(self, lineno: int, what: str) -> None:
        if len(self.res.warnings) < 20:
            self.res.warnings.append(f"{self.path}:{lineno}: {what}")

    def bad(self, lineno: int, what: str, *, lost: bool) -> None:
        self.res.malformed += 1
        if lost:
            self.res.lost += 1
            what += ": it may have recorded a call, so the figures are lower bounds"
        self.warn(lineno, what)

    def line(self, lineno: int, line: bytes) -> bool:
        """Read one line (counted intact, malformed or lost, or said skipped); ``False``: a
        header this version cannot read, the rest of the ledger unread."""
        try:
            obj = json.loads(line.removeprefix(_BOM) if lineno == 1 else line)
        except (ValueError, UnicodeDecodeError):
            if lineno == 1:  # neither the format nor the phase known: nothing can be read
                self.bad(1, "ledger header: not valid JSON", lost=False)
                return False
            kind = _head_kind(line)
            if kind == "file":  # its block's records are lost with it
                self.decoder.broken = True
            self.bad(lineno, "ledger record: not valid JSON", lost=_may_hold_call(kind))
            return True
        if lineno == 1:
            return self.header(obj)
        try:
            if not isinstance(obj, dict):
                raise LedgerError("expected a JSON object")
            self.decoder.record(obj)
        except UnknownKind as exc:
            what = f"a record of kind {exc.kind!r}, which this orchphase does not read"
            if any(figures in line for figures in _FIGURES):
                self.bad(lineno, f"ledger record: {what} (a later orchphase's?)", lost=True)
                return True
            self.warn(lineno, f"{what} (a later orchphase's?): skipped, as it holds no figure")
        except LedgerError as exc:
            kind = obj.get("kind") if isinstance(obj, dict) else None
            self.bad(lineno, f"ledger record: {exc}", lost=_may_hold_call(kind))
            return True
        self.res.intact += 1
        return True

    def header(self, obj: object) -> bool:
        version = obj.get(MARKER) if isinstance(obj, dict) else None
        if type(version) is not int or not 1 <= version <= FORMAT:
            what = f"ledger format {version!r}; this orchphase reads 1 to {FORMAT}"
            self.bad(1, what, lost=False)
            return False
        assert isinstance(obj, dict)
        phase = obj.get("phase")
        if phase is not None and not isinstance(phase, str):
            self.bad(1, f"'phase': expected a phase name, got {phase!r}", lost=False)
            return False
        self.res.ledger_phase = phase
        self.res.intact += 1
        return True


class LedgerSource:
    name = "ledger"
    suffixes = (".jsonl",)

    def claims(self, path: Path) -> bool:
        return is_ledger(path)

    def companions(self, path: Path) -> list[Path]:
        return [path]

    def read(self, path: Path, *, prompts: bool = True) -> FileResult:
        return read_ledger(path)  # a ledger holds the ticket ids found, never the prompts


def kept_files(ledger: Path) -> list[str]:
    """The names of the transcript files a usage ledger keeps (its ``file`` records), in order;
    empty when it cannot be read."""
    names: list[str] = []
    try:
        with ledger.open("rb") as fh:
            for line in fh:
                if b'"kind":"file"' not in line[:40]:
                    continue
                record = json.loads(line)
                name = record.get("name") if isinstance(record, dict) else None
                if isinstance(name, str):  # any other line is the scan's to report
                    names.append(name)
    except (OSError, ValueError):
        return []
    return names


def stored_sessions(ledger: Path, session_id: str) -> list[Path]:
    """Where ``ledger`` keeps the main session files of ``session_id`` (one per project folder
    it was collected from): the paths their calls carry (``<ledger without suffix>/<name>``),
    so that a ``sessions:`` entry naming the session holds them; empty when it holds none."""
    wanted = f"{session_id}.jsonl"
    found: list[Path] = []
    for name in kept_files(ledger):
        if name.rsplit("/", 1)[-1] == wanted:
            path = ledger.with_suffix("") / name
            if path not in found:
                found.append(path)
    return found


def holder(path: Path) -> Path | None:
    """The ledger a path from :func:`stored_sessions` lies in (``None`` for any other path)."""
    for folder in path.parents:
        ledger = folder.with_suffix(".jsonl")
        if ledger.is_file() and is_ledger(ledger):
            return ledger
    return None

"""A usage ledger (``orchphase collect``) as a usage source: what its files held."""

from __future__ import annotations

import json
from pathlib import Path

from pytest_orchphase.usage.sources.base import FileResult
from pytest_orchphase.usage.sources.ledger.decode import Decoder
from pytest_orchphase.usage.sources.ledger.format import FORMAT, MARKER, LedgerError

_HEAD = ('{"' + MARKER + '":').encode()
_BOM = b"\xef\xbb\xbf"
#: In the bytes of every record that holds a call's figures (``input_tokens`` …).
_TOKENS = b'_tokens"'


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
    res = FileResult(path=path)
    decoder = Decoder(path.with_suffix(""))

    def bad(lineno: int, what: str, line: bytes = b"") -> None:
        res.malformed += 1
        if _TOKENS in line:  # a call's (or a Task result's) figures: the call is lost with it
            res.lost += 1
            what += ": it may have recorded a call, so the figures are lower bounds"
        if len(res.warnings) < 20:
            res.warnings.append(f"{path}:{lineno}: {what}")

    try:
        with path.open("rb") as fh:
            for lineno, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line.removeprefix(_BOM) if lineno == 1 else line)
                    if not isinstance(obj, dict):
                        raise LedgerError("expected a JSON object")
                    if lineno == 1:
                        version = obj.get(MARKER)
                        if type(version) is not int or not 1 <= version <= FORMAT:
                            bad(1, f"ledger format {version!r}; this orchphase reads 1 to {FORMAT}")
                            return res
                        phase = obj.get("phase")
                        res.ledger_phase = None if phase is None else str(phase)
                    else:
                        decoder.record(obj)
                except (ValueError, UnicodeDecodeError) as exc:  # LedgerError is a ValueError
                    what = str(exc) if isinstance(exc, LedgerError) else "not valid JSON"
                    bad(lineno, f"ledger record: {what}", line)
                    continue
                res.intact += 1
    except OSError as exc:
        res.warnings.append(f"{path}: cannot read: {exc}")
    res.parts = decoder.parts
    return res


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

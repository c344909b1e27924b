"""``orchphase collect``: a phase's sessions read once and kept as its usage ledger.

The ledger is written whole or not at all (:func:`~pytest_orchphase.files.atomic_write`). A
ledger already there is merged, never overwritten: a file collected again (same sha256) replaces
its own block in place, so collecting twice gives the same bytes; other blocks are kept. Two
blocks may hold the same call (a session collected before and after it grew, or on two machines):
the scan counts each (``message.id``, ``requestId``) once, as it does across raw files.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_orchphase.errors import OrchphaseError, display
from pytest_orchphase.load.phase import Phase
from pytest_orchphase.load.quantity import utc_stamp
from pytest_orchphase.usage.sources import registry
from pytest_orchphase.usage.sources.ledger.encode import encode, header
from pytest_orchphase.usage.sources.ledger.format import FORMAT, MARKER, NAME, Block, blocks
from pytest_orchphase.usage.sources.ledger.source import foreign, is_ledger

if TYPE_CHECKING:
    from pytest_orchphase.usage.cache import ScanCache


@dataclass
class Collected:
    """What a collect did, for its summary line."""

    out: Path
    files: int = 0
    raw_bytes: int = 0
    ledger_bytes: int = 0
    calls: int = 0
    replaced: int = 0
    kept: int = 0
    warnings: list[str] = field(default_factory=list)


def parse_time(option: str, text: str) -> datetime:
    """``2026-11-29``, ``2026-11-29T14:00``, ``…Z`` or with an offset; naive times are UTC."""
    stamp = utc_stamp(text)
    if stamp is None:
        raise OrchphaseError(
            f"{option}: {text!r}; expected a date or time like 2026-11-29 or 2026-11-29T14:00Z"
        )
    return stamp


def _encoded(folder: Path) -> str:
    """Claude Code's name for a working folder's project: every other character a dash."""
    return re.sub(r"[^A-Za-z0-9]", "-", str(folder))


def project_sessions(project: Path, config_dirs: Sequence[Path] | None = None) -> list[Path]:
    """The main sessions of ``project``: a Claude project folder (``projects/<name>``), or a
    working folder whose project is looked up under the Claude config folders."""
    from pytest_orchphase.usage.sources.claude_code.layout import (
        default_config_dirs,
        discover_sessions,
        is_agent_file,
    )

    if any(project.glob("*.jsonl")):
        return sorted(f for f in project.glob("*.jsonl") if f.is_file() and not is_agent_file(f))
    wanted = _encoded(project.resolve())
    found = [s for s in discover_sessions(config_dirs) if s.parent.name == wanted]
    if not found:
        searched = ", ".join(display(d) for d in (config_dirs or default_config_dirs()))
        raise OrchphaseError(
            f"no Claude Code session of project {display(project)} (looked for projects/{wanted} "
            f"in: {searched or 'no Claude config folder found'}); expected a project folder "
            "or a working folder Claude Code ran in",
            field="--project",
        )
    return found


def _first_stamp(path: Path) -> datetime | None:
    marker = re.compile(rb'"timestamp"\s*:\s*"([^"]+)"')
    try:
        with path.open("rb") as fh:
            for _, line in zip(range(50), fh, strict=False):
                hit = marker.search(line)
                if hit:
                    return utc_stamp(hit.group(1).decode("ascii", "replace"))
    except OSError:
        return None
    return None


def in_window(session: Path, since: datetime | None, until: datetime | None) -> bool:
    """The session was active in the window: its last write (modification time) is not before
    ``since`` and its first line's time is not after ``until``."""
    last = datetime.fromtimestamp(session.stat().st_mtime, tz=timezone.utc)
    first = _first_stamp(session) or last
    return (since is None or last >= since) and (until is None or first <= until)


def targets_of(
    phase: Phase,
    given: Sequence[str],
    project: Path | None,
    config_dirs: Sequence[Path] | None = None,
) -> list[Path]:
    """What to collect: the SESSION_IDs and PATHs given, else the project's sessions, else the
    sessions metadata.yaml names (ids looked up, paths relative to the data folder)."""
    from pytest_orchphase.usage.sessions import session_specs
    from pytest_orchphase.usage.sources.claude_code.layout import resolve_sessions

    # A session id stands for every file of it (one per project folder that holds one).
    if given:
        out = []
        for item in given:
            path = Path(item).expanduser()
            looks_like_path = os.sep in item or path.suffix in (".jsonl", ".json", ".ndjson")
            if path.exists() or looks_like_path:
                out.append(path)
            else:
                out.extend(resolve_sessions(item, config_dirs))
        return out
    if project is not None:
        return project_sessions(project, config_dirs)
    if not phase.metadata.sessions:
        raise OrchphaseError(
            f"phase {phase.name}: nothing to collect; give SESSION_IDs or PATHs, --project DIR, "
            f"or name the sessions in {display(phase.data_dir / 'metadata.yaml')} (sessions:)"
        )
    out = []
    for spec, index in session_specs(phase):
        if spec.path is not None:
            out.append(phase.data_dir / spec.path)
        else:
            try:
                out.extend(resolve_sessions(spec.session or "", config_dirs))
            except OrchphaseError as exc:
                raise phase.metadata_doc.error(exc.message, ("sessions", index)) from None
    return out


def _read_blocks(path: Path, phase: str | None = None) -> list[Block]:
    """The blocks of a ledger to merge; an error for a line that is not JSON, a format this
    version does not write (merging must not drop or rewrite what it cannot read), or a ledger
    collected for another phase than ``phase`` (its calls are not this phase's)."""
    lines = path.read_bytes().removeprefix(b"\xef\xbb\xbf").splitlines()
    try:
        head = json.loads(lines[0]) if lines else None
        version = head.get(MARKER) if isinstance(head, dict) else None
    except ValueError:
        head = version = None
    if version != FORMAT:
        raise OrchphaseError(
            f"a usage ledger of format {version!r}; this orchphase merges format {FORMAT} only",
            path=path,
        )
    assert isinstance(head, dict)
    theirs = head.get("phase")
    if phase is not None and theirs is not None and str(theirs) != phase:
        raise OrchphaseError(
            f"{foreign(display(path), str(theirs), phase)}: not merged into phase {phase}'s "
            "ledger (remove it, or choose another --out)"
        )
    records: list[dict[str, Any]] = []
    for lineno, line in enumerate(lines[1:], 2):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            raise _unmerged(path, lineno, "not valid JSON") from None
        # Kept as it is, a record of the wrong shape stays a malformed line (a lost call where
        # it may be one) in the ledger written; one that no block holds would be dropped.
        if not isinstance(obj, dict):
            raise _unmerged(path, lineno, "not a JSON object")
        if not records and obj.get("kind") != "file":
            raise _unmerged(path, lineno, "a record before any file record")
        records.append(obj)
    return blocks(records)


def _unmerged(path: Path, lineno: int, what: str) -> OrchphaseError:
    """A ledger's line merging cannot carry over as it is: an error, the ledger untouched."""
    return OrchphaseError(
        f"{display(path)}:{lineno}: {what}; expected a ledger record (repair or remove the ledger)"
    )


_VERSION = re.compile(rb'"version"\s*:\s*"([0-9]+\.[0-9]+\.[0-9]+[0-9A-Za-z.\-+]*)"')


def claude_code_version(path: Path) -> str | None:
    """The Claude Code version a transcript's first lines carry (``"version": "2.1.39"``)."""
    try:
        with path.open("rb") as fh:
            for _, line in zip(range(20), fh, strict=False):
                hit = _VERSION.search(line[:4096])
                if hit:
                    return hit.group(1).decode("ascii")
    except OSError:
        return None
    return None


def _digest(path: Path) -> tuple[int, str]:
    """The file's size and SHA-256, from one read."""
    from pytest_orchphase.usage.cache_entry import sha256_of

    with path.open("rb") as fh:
        digest = sha256_of(fh)
        return fh.tell(), digest.hexdigest()


def _names(files: Sequence[Path]) -> dict[Path, str]:
    """Each file's name in the ledger: its path from the folder all of them are in."""
    if not files:
        return {}
    parents = [str(f.resolve().parent) for f in files]
    root = Path(os.path.commonpath(parents))
    return {f: f.resolve().relative_to(root).as_posix() for f in files}


def new_blocks(
    files: Sequence[Path],
    tickets: Sequence[str],
    collected: Collected,
    cache: ScanCache | None = None,
    *,
    phase: str | None = None,
) -> list[Block]:
    """One block per file read (a ledger given as input brings its blocks along, when it was
    collected for ``phase``); through ``cache``, a session file read before is not parsed
    again."""
    out: list[Block] = []
    raw = [f for f in files if not is_ledger(f)]
    names = _names(raw)
    for f in files:
        if f not in names:
            out.extend(_read_blocks(f, phase))
            continue
        size, sha = _digest(f)
        source = registry.source_for(f)
        assert source is not None  # a named file always has one
        res = cache.read(f) if cache is not None else source.read(f)
        if res.intact == 0 and res.malformed:
            raise OrchphaseError(
                f"not one intact line ({res.malformed} malformed); expected "
                "Claude Code transcript lines or a headless result: not collected",
                path=f,
            )
        collected.files += 1
        collected.raw_bytes += size
        collected.calls += len(res.calls)
        block = encode(res, names[f], size, sha, source.name, tickets)
        if res.version is None and (version := claude_code_version(f)) is not None:
            block.file["claude_code"] = version
        out.append(block)
    return out


def merge(old: list[Block], new: list[Block], collected: Collected) -> list[Block]:
    """``old`` with each block of a file collected again replaced in place, then the rest."""
    by_sha = {b.sha256: b for b in new}
    merged: list[Block] = []
    for block in old:
        if block.sha256 in by_sha:
            merged.append(by_sha.pop(block.sha256))
            collected.replaced += 1
        else:
            merged.append(block)
            collected.kept += 1
    seen = {b.sha256 for b in merged}
    for block in new:
        if block.sha256 not in seen:
            seen.add(block.sha256)
            merged.append(block)
    return merged


def _line(record: dict[str, Any]) -> bytes:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def render(phase: str, version: str, merged: Sequence[Block]) -> bytes:
    lines = [_line(header(version, phase))]
    for block in merged:
        lines.append(_line(block.file))
        lines.extend(_line(r) for r in block.records)
    return b"".join(lines)


def collect(
    phase: Phase,
    given: Sequence[str] = (),
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    project: Path | None = None,
    out: Path | None = None,
    config_dirs: Sequence[Path] | None = None,
    cache: ScanCache | None = None,
) -> Collected:
    from pytest_orchphase import __version__
    from pytest_orchphase.files import atomic_write

    target = out if out is not None else phase.data_dir / NAME
    collected = Collected(out=target)
    old: list[Block] = []
    if target.exists():
        if not target.is_file() or not is_ledger(target):
            raise OrchphaseError(
                f'exists and is not a usage ledger (its first line is not {{"{MARKER}": …}}): '
                "not overwritten; choose another --out",
                path=target,
            )
        old = _read_blocks(target, phase.name)
    sessions = targets_of(phase, given, project, config_dirs)
    if since is not None or until is not None:
        sessions = [s for s in sessions if not s.is_file() or in_window(s, since, until)]
    resolved = target.resolve()
    files = [f for f in registry.expand_paths(sessions) if f.resolve() != resolved]
    if not files and not old:
        raise OrchphaseError(
            f"phase {phase.name}: no session file to collect"
            + (" in the time window" if since or until else "")
        )
    new = new_blocks(files, list(phase.tickets), collected, cache, phase=phase.name)
    merged = merge(old, new, collected)
    data = render(phase.name, __version__, merged)
    atomic_write(target, data)
    collected.ledger_bytes = len(data)
    return collected


__all__ = ["FORMAT", "Collected", "collect", "parse_time"]

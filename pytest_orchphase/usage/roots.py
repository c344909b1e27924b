"""What a phase is measured from: the ``sessions:`` its metadata names, its ``transcripts/``
folder, and its usage ledger; each resolved (a session id found on this machine, else in the
ledger) and scanned, with the errors that name what is missing."""

from __future__ import annotations

import errno
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from pytest_orchphase.errors import OrchphaseError, display, resolve_path
from pytest_orchphase.load.models import SessionSpec
from pytest_orchphase.load.phase import Phase
from pytest_orchphase.usage.sessions import session_specs
from pytest_orchphase.usage.sources.ledger.format import NAME as LEDGER

if TYPE_CHECKING:
    from pytest_orchphase.usage.cache import ScanCache
    from pytest_orchphase.usage.records import Scan

TRANSCRIPTS_DIR = "transcripts"
SOURCE = "a transcript .jsonl, a folder of them, a headless result or a usage ledger"
# Words (whole words, case-insensitive) in a Task description that name its stage.


def has_sources(phase: Phase) -> bool:
    """Named sessions, a ``transcripts/`` folder, or the usage ledger (read when present)."""
    data = phase.data_dir
    return (
        bool(phase.metadata.sessions)
        or (data / TRANSCRIPTS_DIR).is_dir()
        or (data / LEDGER).is_file()
    )


def _resolve(
    phase: Phase, spec: SessionSpec, index: int, config_dirs: Sequence[Path] | None
) -> Path:
    from pytest_orchphase.usage.sources.claude_code import resolve_session

    doc = phase.metadata_doc
    if spec.path is not None:
        problem = "not found"
        try:
            path = resolve_path(phase.data_dir / spec.path)
            found = path.exists()
        except (OSError, ValueError) as exc:  # a NUL byte, a name too long, a symlink loop
            found = False
            if isinstance(exc, OSError) and exc.errno == errno.ELOOP:
                problem = f"is a symbolic link loop ({exc.strerror})"
        if not found:
            raise doc.error(
                f"session file {spec.path} {problem} (relative to {display(phase.data_dir)}); "
                f"expected {SOURCE}",
                ("sessions", index),
            )
        return path
    try:
        return resolve_session(spec.session or "", config_dirs)
    except OrchphaseError as exc:
        # Not on this machine (a CI runner): the phase's usage ledger may hold it.
        from pytest_orchphase.usage.sources.ledger.source import is_ledger, stored_session

        ledger = phase.data_dir / LEDGER
        if ledger.is_file() and is_ledger(ledger):
            stored = stored_session(resolve_path(ledger), spec.session or "")
            if stored is not None:
                return stored
            exc.message += f"; nor is it in {display(ledger)}"
        raise doc.error(exc.message, ("sessions", index)) from None


def scan_roots(
    phase: Phase, roots: list[tuple[Path, SessionSpec | None]], cache: ScanCache | None = None
) -> Scan:
    """Scan every source once; each named source must hold at least one intact line.

    A source that is a pipe or a device, a folder with no transcript, or files of which not one
    line could be read (garbage, binary, not UTF-8, wrong field types) would otherwise leave the
    phase measured from nothing while its criteria fall back to estimates: an error instead, at
    the source's ``sessions`` entry in metadata.yaml.
    """
    from pytest_orchphase.usage.scan import scan_files
    from pytest_orchphase.usage.sources.registry import expand_resolved

    indexes = [i for _, i in session_specs(phase)]

    def fail(n: int, message: str) -> OrchphaseError:
        """At the source's ``sessions`` entry; the ``transcripts/`` folder has none."""
        if n < len(indexes):
            return phase.metadata_doc.error(message, ("sessions", indexes[n]))
        return OrchphaseError(message, path=roots[n][0])

    from pytest_orchphase.usage.sources.ledger.source import holder

    sources: list[list[Path]] = []
    unique: dict[Path, Path] = {}
    resolved: dict[Path, Path] = {}
    for n, (root, _) in enumerate(roots):
        try:
            # A session kept in the phase's ledger is read from the ledger.
            found = expand_resolved([root if root.exists() else holder(root) or root])
        except OrchphaseError as exc:
            where = f"{display(exc.path)}: " if exc.path else ""
            raise fail(n, where + exc.message) from None
        files = [f for f, _ in found]
        if not files:
            raise fail(
                n,
                f"{display(root)} holds no transcript (.jsonl, .ndjson or .json headless result); "
                f"expected {SOURCE}",
            )
        sources.append(files)
        for f, real in found:
            unique.setdefault(real, f)
            resolved[f] = real
    # First prompts place unnamed main sessions; when every source is named with its ticket
    # or as the lead, no session is placed by its prompt: none is looked for.
    prompts = any(spec is None or not (spec.ticket or spec.lead) for _, spec in roots)
    scan = scan_files(list(unique.values()), prompts=prompts, cache=cache)
    # (A ledger's stored files are named in its folder, not listed: those are resolved here.)
    unreadable = {resolved.get(f) or resolve_path(f) for f in scan.unreadable}
    for n, files in enumerate(sources):
        if all(resolved[f] in unreadable for f in files):
            first = next((w for w in scan.warnings if w.startswith(str(files[0]))), "")
            detail = f" (first: {first.replace(str(files[0]), display(files[0]))})" if first else ""
            raise fail(
                n,
                f"{display(files[0])}{' and others' if len(files) > 1 else ''}: not one intact "
                f"line{detail}; expected Claude Code transcript lines (a JSON object each) "
                "or a headless result",
            )
    return scan


def roots_of(
    phase: Phase, config_dirs: Sequence[Path] | None
) -> list[tuple[Path, SessionSpec | None]]:
    """What the phase is measured from: its ``sessions:`` entries, its ``transcripts/`` folder,
    and its ledger (read even when not named). A ``sessions:`` ticket must be the phase's."""
    roots: list[tuple[Path, SessionSpec | None]] = [
        (_resolve(phase, spec, i, config_dirs), spec) for spec, i in session_specs(phase)
    ]
    folder = phase.data_dir / TRANSCRIPTS_DIR
    if folder.is_dir():
        roots.append((resolve_path(folder), None))
    ledger = phase.data_dir / LEDGER
    if ledger.is_file() and all(root != resolve_path(ledger) for root, _ in roots):
        roots.append((resolve_path(ledger), None))
    for spec, i in session_specs(phase):
        if spec.ticket is not None and spec.ticket not in phase.tickets:
            raise phase.metadata_doc.error(
                f"ticket {spec.ticket!r} is not one of this phase's tickets "
                f"({', '.join(phase.tickets)})",
                ("sessions", i, "ticket"),
            )
    return roots

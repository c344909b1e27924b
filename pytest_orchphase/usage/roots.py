"""What a phase is measured from: the ``sessions:`` its metadata names, its ``transcripts/``
folder, and its usage ledger; each resolved (a session id found on this machine, else in the
ledger) and scanned, with the errors that name what is missing."""

from __future__ import annotations

import errno
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pytest_orchphase.errors import OrchphaseError, display, resolve_path
from pytest_orchphase.load.models import SessionSpec
from pytest_orchphase.load.phase import LOG_FILE, METADATA_FILE, Phase
from pytest_orchphase.usage.sessions import Owners, session_specs
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
) -> list[Path]:
    """The files a ``sessions:`` entry names: its path, or every file of its session id (one
    per project folder that holds one, on this machine, else in the phase's ledger)."""
    from pytest_orchphase.usage.sources.claude_code import resolve_sessions

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
        if (theirs := _other_phase_folder(phase, path)) is not None and not _is_ledger(path):
            raise doc.error(
                f"session file {spec.path} lies in {display(theirs)}, another phase's data "
                f"folder (it holds {METADATA_FILE} and {LOG_FILE}): its calls are that phase's "
                "run, and would be counted again as this one's (a metadata.yaml copied with its "
                "sessions left); name this phase's own sessions",
                ("sessions", index),
            )
        return [path]
    try:
        return resolve_sessions(spec.session or "", config_dirs)
    except OrchphaseError as exc:
        # Not on this machine (a CI runner): the phase's usage ledger may hold it.
        from pytest_orchphase.usage.sources.ledger.source import is_ledger, stored_sessions

        ledger = phase.data_dir / LEDGER
        if ledger.is_file() and is_ledger(ledger):
            stored = stored_sessions(resolve_path(ledger), spec.session or "")
            if stored:
                return stored
            exc.message += f"; nor is it in {display(ledger)}"
        raise doc.error(exc.message, ("sessions", index)) from None


def _is_ledger(path: Path) -> bool:
    """A usage ledger says whose phase it is (checked when it is scanned), wherever it lies."""
    from pytest_orchphase.usage.sources.ledger.source import is_ledger

    return path.is_file() and is_ledger(path)


def _other_phase_folder(
    phase: Phase, path: Path, seen: dict[Path, Path | None] | None = None
) -> Path | None:
    """The data folder of another phase that ``path`` lies in (a folder holding a metadata.yaml
    and an execution log, met before this phase's own), else None. ``seen``: the answer for
    each folder already looked at (a scan's files share their folders), this phase's own
    folder in it (see :func:`_own_folder`)."""
    seen = _own_folder(phase) if seen is None else seen
    walked: list[Path] = []
    found: Path | None = None
    for folder in (path, *path.parents):
        if folder in seen:
            found = seen[folder]
            break
        walked.append(folder)
        if (folder / METADATA_FILE).is_file() and (folder / LOG_FILE).is_file():
            found = folder
            break
    for folder in walked:
        seen[folder] = found
    return found


def _own_folder(phase: Phase) -> dict[Path, Path | None]:
    """The phase's own data folder, as written and resolved: no other phase's folder is met
    above it."""
    return {phase.data_dir: None, resolve_path(phase.data_dir): None}


def scan_roots(
    phase: Phase, roots: list[tuple[Path, SessionSpec | None]], cache: ScanCache | None = None
) -> Scan:
    """Scan every source once; each source must hold at least one intact line, record at
    least one API call, and be this phase's.

    A source that is a pipe or a device, a folder with no transcript, files of which not one
    line could be read (garbage, binary, not UTF-8, wrong field types) or that recorded no call
    (a session cut off before its first response, a crashed headless run reporting zeros)
    would otherwise leave the phase measured from nothing while its criteria fall back to
    estimates, and a usage ledger collected for another phase would measure this one from
    that phase's calls: an error instead, at the source's ``sessions`` entry in metadata.yaml.
    """
    from pytest_orchphase.usage.scan import scan_files
    from pytest_orchphase.usage.sources.registry import expand_resolved

    entries = session_specs(phase)
    # Each root's ``sessions`` entry (a session id may name a file under several projects);
    # the ``transcripts/`` folder and an unnamed ledger have none.
    indexes = [None if spec is None else _entry_index(entries, spec) for _, spec in roots]

    def fail(n: int, message: str) -> OrchphaseError:
        """At the source's ``sessions`` entry, else at the source itself."""
        index = indexes[n]
        if index is not None:
            return phase.metadata_doc.error(message, ("sessions", index))
        return OrchphaseError(message, path=roots[n][0])

    from pytest_orchphase.usage.sources.ledger.source import holder

    sources: list[list[Path]] = []
    transcripts = resolve_path(phase.data_dir / TRANSCRIPTS_DIR)
    seen = _own_folder(phase)  # folders looked at for another phase's data folder
    unique: dict[Path, Path] = {}
    resolved: dict[Path, Path] = {}
    for n, (root, _) in enumerate(roots):
        try:
            # A session kept in the phase's ledger is read from the ledger.
            # The transcripts/ folder is read whole: a session beside a projects/ folder in
            # it is the team's too (a folder named in sessions: may be Claude's own).
            whole = root == transcripts
            found = expand_resolved([root if root.exists() else holder(root) or root], whole=whole)
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
            # Where the file really is: a folder around another phase's data folder, or a
            # link into one, would count that phase's run as this one's.
            theirs = _other_phase_folder(phase, real.parent, seen)
            if theirs is not None and not _is_ledger(real):
                raise fail(
                    n,
                    f"{display(f)} lies in {display(theirs)}, another phase's data folder (it "
                    f"holds {METADATA_FILE} and {LOG_FILE}): its calls are that phase's run and "
                    "would be counted again as this one's; name this phase's own sessions",
                )
            unique.setdefault(real, f)
            resolved[f] = real
    # First prompts place unnamed main sessions; when every source is named with its ticket
    # or as the lead, no session is placed by its prompt: none is looked for.
    prompts = any(spec is None or not (spec.ticket or spec.lead) for _, spec in roots)
    scan = scan_files(list(unique.values()), prompts=prompts, cache=cache)
    problem = _unread_or_foreign(phase.name, sources, resolved, scan)
    if problem is not None:
        raise fail(*problem)
    # A source measures something when one of its files recorded a call (an entry naming a
    # session under several projects, when one of them did).
    covered = _covered(scan.recorded)
    source = [("entry", i) if i is not None else ("root", n) for n, i in enumerate(indexes)]
    measuring = {
        source[n]
        for n, (root, _) in enumerate(roots)
        if root in covered or (root.suffix == ".jsonl" and root.with_suffix("") in covered)
    }
    for n, (root, _) in enumerate(roots):
        if source[n] not in measuring:
            raise fail(
                n,
                f"{display(root)} holds no API call (a session cut off before its first "
                "response, a crashed headless run reporting zeros, or the wrong file): it "
                f"measures nothing; expected {SOURCE} that recorded at least one call",
            )
    return scan


def _unread_or_foreign(
    phase: str, sources: list[list[Path]], resolved: dict[Path, Path], scan: Scan
) -> tuple[int, str] | None:
    """The first source (its number, and why) of which not one line is intact, or that holds
    a usage ledger collected for another phase."""
    from pytest_orchphase.usage.sources.ledger.source import foreign

    # (A ledger's stored files are named in its folder, not listed: those are resolved here.)
    unreadable = {resolved.get(f) or resolve_path(f) for f in scan.unreadable}
    ledgers = {resolved.get(f) or resolve_path(f): theirs for f, theirs in scan.ledgers.items()}
    for n, files in enumerate(sources):
        for f in files:
            theirs = ledgers.get(resolved[f])
            if theirs is not None and theirs != phase:
                fix = f"collect this phase's own (orchphase collect {phase}), or remove it"
                return n, f"{foreign(display(f), theirs, phase)}; {fix}"
        if all(resolved[f] in unreadable for f in files):
            first = next((w for w in scan.warnings if w.startswith(str(files[0]))), "")
            detail = f" (first: {first.replace(str(files[0]), display(files[0]))})" if first else ""
            return n, (
                f"{display(files[0])}{' and others' if len(files) > 1 else ''}: not one intact "
                f"line{detail}; expected Claude Code transcript lines (a JSON object each) "
                "or a headless result"
            )
    return None


def _covered(recorded: set[Path]) -> set[Path]:
    """The files that recorded a call and every folder they lie in: a source covers one when
    it is the file, or the folder it lies in (a session file's own folder, which holds its
    sub-agents, and a ledger's, which holds its stored files, stand for it too)."""
    out: set[Path] = set()
    for path in recorded:
        out.add(path)
        for folder in path.parents:
            if folder in out:
                break
            out.add(folder)
    return out


def roots_of(
    phase: Phase, config_dirs: Sequence[Path] | None
) -> list[tuple[Path, SessionSpec | None]]:
    """What the phase is measured from: its ``sessions:`` entries, its ``transcripts/`` folder,
    and its ledger (read even when not named). A ``sessions:`` ticket must be the phase's."""
    roots: list[tuple[Path, SessionSpec | None]] = [
        (path, spec)
        for spec, i in session_specs(phase)
        for path in _resolve(phase, spec, i, config_dirs)
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
    _refuse_two_owners(phase, roots)
    return roots


def _refuse_two_owners(phase: Phase, roots: list[tuple[Path, SessionSpec | None]]) -> None:
    """Two ``sessions:`` entries naming one file or folder (a path and the session's id, a path
    written twice) must say the same of it: given to two tickets, or to a ticket and as the
    lead, which one wins would hang on their order. An error at the later entry."""
    entries = session_specs(phase)
    seen: dict[Path, tuple[SessionSpec, int]] = {}
    for root, spec in roots:
        if spec is None:  # the transcripts/ folder, an unnamed ledger
            continue
        index = _entry_index(entries, spec)
        first, at = seen.setdefault(root, (spec, index))
        if _given_to(first) != _given_to(spec):
            raise phase.metadata_doc.error(
                f"{display(root)} is also sessions[{at}], which gives it to {_given_to(first)}; "
                f"this entry gives it to {_given_to(spec)}: name each session once",
                ("sessions", index),
            )


def refuse_calls_given_twice(phase: Phase, scan: Scan, spec_of: Owners) -> None:
    """The same API calls read from files of two ``sessions:`` entries that give them to two
    places (a session's transcript copied under another name, a session resumed for another
    ticket): counted once, they would go to the entry whose file was read first, and the other
    ticket would fall back on its log's figure. An error at the later entry, as for one file
    named twice (:func:`_refuse_two_owners`). Copies within one entry's files (a sub-agent's
    calls in its parent's progress lines), or in files of which one entry's lies within the
    other's (a sub-agent's own file named beside its parent session: the call is the
    sub-agent's entry's, see :class:`Owners`), are no such thing."""
    entries = session_specs(phase)
    # (earlier entry, later entry) → a file of each holding one such call, and how many
    pairs: dict[tuple[int, int], tuple[Path, Path]] = {}
    counts: dict[tuple[int, int], int] = {}
    for call in scan.calls:
        also = scan.copies.get((call.message_id, call.request_id))
        if not also or call.path is None:
            continue
        for (m, in_m), (n, in_n) in spec_of.unrelated([call.path, *sorted(also)]):
            spec_m, spec_n = spec_of.spec(m), spec_of.spec(n)
            if _given_to(spec_m) == _given_to(spec_n):
                continue
            (a, in_a), (b, in_b) = sorted(
                [(_entry_index(entries, spec_m), in_m), (_entry_index(entries, spec_n), in_n)],
                key=lambda e: e[0],
            )
            pairs.setdefault((a, b), (in_a, in_b))
            counts[(a, b)] = counts.get((a, b), 0) + 1
    if not pairs:
        return
    (at, index), (mine, theirs) = min(pairs.items(), key=lambda item: item[0])
    spec_at = {i: spec for spec, i in entries}
    raise phase.metadata_doc.error(
        f"{display(theirs)} holds {counts[(at, index)]:,} API call(s) that {display(mine)} "
        f"holds too (sessions[{at}], which gives them to {_given_to(spec_at[at])}); this entry "
        f"gives them to {_given_to(spec_at[index])}: the same calls (a session copied under "
        "another name, or resumed for another ticket) would go to whichever file is read "
        "first; name each session once",
        ("sessions", index),
    )


def _entry_index(entries: list[tuple[SessionSpec, int]], spec: SessionSpec) -> int:
    """The ``sessions:`` entry (its index among :func:`session_specs`) that ``spec`` is: the
    first equal one (a plain string entry is read into a new spec each time)."""
    return next(i for named, i in entries if named == spec)


def _given_to(spec: SessionSpec) -> str:
    if spec.lead:
        return "the lead"
    if spec.ticket is None:
        return "no ticket"
    return f"ticket {spec.ticket}" + (f" ({spec.stage})" if spec.stage else "")


#: a Claude Code session id (a UUID): the name of its transcript file
SESSION_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)


@dataclass(frozen=True)
class Named:
    """Something a phase is measured from, as compared with other phases' (see
    :func:`named_sources`): ``session <id>`` or an absolute path."""

    name: str
    #: its ``sessions:`` entry; None for the ``transcripts/`` folder or an unnamed ledger
    index: int | None
    #: the folder or ledger it was found in, when not named itself
    via: Path | None = None
    #: a session a usage ledger keeps (whole: ``collect --since/--until`` chooses sessions,
    #: never parts of one)
    kept: bool = False

    def shares(self, other: Named) -> bool:
        """Whether the two hold the same calls: the same session or path, or a folder holding
        the other."""
        if self.name == other.name:
            return True
        a, b = Path(self.name), Path(other.name)
        if not (a.is_absolute() and b.is_absolute()):
            return False
        return a.is_relative_to(b) or b.is_relative_to(a)

    def where(self) -> str:
        """How the phase names it: ``session <id>``, its path, or the session and where it lies."""
        if self.via is None:
            return self.name
        return f"{self.name} ({'kept in' if self.kept else 'in'} {display(self.via)})"


def named_sources(phase: Phase) -> list[Named]:
    """What the phase is measured from, by name: what its ``sessions:`` entries name (a session
    id, or the path where it really is), its ``transcripts/`` folder, and its usage ledger; with
    the sessions (by id: a transcript's file name) that a folder or a ledger holds. An entry
    whose path cannot be resolved is left to the measurement, which names the problem."""
    out: dict[str, Named] = {}
    for spec, index in session_specs(phase):
        if spec.session is not None:
            out.setdefault(f"session {spec.session}", Named(f"session {spec.session}", index))
            continue
        try:
            found = _named_at(resolve_path(phase.data_dir / str(spec.path)), index)
        except (OSError, ValueError):
            continue
        for named in found:
            out.setdefault(named.name, named)
    for unnamed in (phase.data_dir / TRANSCRIPTS_DIR, phase.data_dir / LEDGER):
        try:
            where = resolve_path(unnamed)
            found = _named_at(where, None) if unnamed.exists() and str(where) not in out else []
        except (OSError, ValueError):
            continue
        for named in found:
            out.setdefault(named.name, named)
    return list(out.values())


def _named_at(where: Path, index: int | None) -> list[Named]:
    """A path a phase is measured from, with the sessions it holds: a folder's transcripts
    (by their ids), a ledger's kept sessions, or the session a transcript is by its name."""
    out = [Named(str(where), index)]
    if where.is_dir():
        out += [Named(f"session {s}", index, via=where) for s in sorted(_session_ids_in(where))]
    elif _is_ledger(where):
        out += [
            Named(f"session {s}", index, via=where, kept=True)
            for s in sorted(_kept_sessions(where))
        ]
    elif where.suffix == ".jsonl" and SESSION_ID.fullmatch(where.stem):
        out.append(Named(f"session {where.stem}", index))  # Claude Code names it by its id
    return out


def _session_ids_in(folder: Path) -> set[str]:
    """The session ids a folder holds: its transcripts named by a UUID, and the UUID-named
    folders of their sub-agents; links to folders followed, as a scan follows them (each
    folder once: a link back up is no loop)."""
    found: set[str] = set()
    walked: set[str] = set()
    for where, folders, files in os.walk(folder, onerror=lambda _: None, followlinks=True):
        real = os.path.realpath(where)
        if real in walked:
            folders[:] = []
            continue
        walked.add(real)
        found.update(d for d in folders if SESSION_ID.fullmatch(d))
        found.update(f[:-6] for f in files if f.endswith(".jsonl") and SESSION_ID.fullmatch(f[:-6]))
    return found


def _kept_sessions(ledger: Path) -> set[str]:
    """The session ids whose main files a usage ledger keeps."""
    from pytest_orchphase.usage.sources.ledger.source import kept_files

    return {
        name[:-6]
        for name in (f.rsplit("/", 1)[-1] for f in kept_files(ledger))
        if name.endswith(".jsonl") and SESSION_ID.fullmatch(name[:-6])
    }


def what_a_run_reads(path: Path, criteria_dir: Path, phases: Sequence[Phase]) -> str | None:
    """What ``path`` (resolved) is of the files a phase run reads, None when it is none of
    them: a criteria file (any phase's: a gate and the comparison read them) or the
    baselines, in ``criteria_dir``; a phase's metadata.yaml, execution log or usage ledger
    (any folder holding a metadata.yaml and an execution log is a phase's data folder), or a
    file in its ``transcripts/`` folder; a source ``phases``' ``sessions:`` name by path (a
    file, or a file in a folder), or, when one names a session by its id, any file in the
    Claude projects folders it is looked for in. A report written there would overwrite the
    phase's data."""
    try:
        criteria = resolve_path(criteria_dir)
    except (OSError, ValueError):
        criteria = criteria_dir.absolute()
    if path.parent == criteria and path.suffix in (".yaml", ".yml"):
        return "a criteria file"
    return _in_a_data_folder(path) or _a_named_source(path, phases)


def _in_a_data_folder(path: Path) -> str | None:
    for folder in path.parents:
        if (folder / METADATA_FILE).is_file() and (folder / LOG_FILE).is_file():
            inside = path.relative_to(folder).parts
            if inside in ((METADATA_FILE,), (LOG_FILE,), (LEDGER,)):
                return f"the {inside[0]} of a phase's data folder"
            if inside[0] == TRANSCRIPTS_DIR:
                return f"a file in the {TRANSCRIPTS_DIR}/ folder of a phase's data folder"
            break
    return None


def _a_named_source(path: Path, phases: Sequence[Phase]) -> str | None:
    by_id: list[tuple[Phase, str]] = []
    for phase in phases:
        for spec, _ in session_specs(phase):
            if spec.path is None:
                by_id.append((phase, spec.session or ""))
                continue
            try:
                source = resolve_path(phase.data_dir / spec.path)
            except (OSError, ValueError):
                continue
            if path == source or source in path.parents:
                return f"a source phase {phase.name}'s sessions: name ({display(source)})"
    if not by_id:
        return None
    # A session named by its id is every <id>.jsonl in any project folder under these (and its
    # sub-agents' files): a report there could replace one, or become a part of one.
    from pytest_orchphase.usage.sources.claude_code import projects_dirs

    for projects in projects_dirs():
        try:
            folder = resolve_path(projects)
        except (OSError, ValueError):
            continue
        if folder in path.parents:
            phase, session = by_id[0]
            return (
                f"a file in the Claude projects folder {display(folder)}, where the sessions "
                f"phase {phase.name}'s metadata names by id ({session}) are found"
            )
    return None

"""Where the sources of measured usage are looked up, and which source reads which file.

Each built-in source is a folder under ``usage/sources/`` whose package exposes ``SOURCE`` (an
object implementing :class:`~pytest_orchphase.usage.sources.base.UsageSource`), named by one line
of :data:`BUILTIN`. The sources are imported only when a file is first looked up, so importing
the plugin loads none of them.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from pytest_orchphase.errors import OrchphaseError
from pytest_orchphase.usage.sources.base import FileResult, UsageSource

#: The built-in sources, most specific format first: the first that claims a file reads it.
BUILTIN: tuple[str, ...] = (
    "pytest_orchphase.usage.sources.ledger",
    "pytest_orchphase.usage.sources.headless",
    "pytest_orchphase.usage.sources.claude_code",
)
#: Reads a file named explicitly that no source claims (its bad lines are then reported).
FALLBACK = "claude_code"

_added: list[UsageSource] = []
_loaded: dict[str, UsageSource] = {}


def register(source: UsageSource) -> None:
    """Add a source (ahead of the built-in ones) for the rest of the process."""
    if source not in _added:
        _added.append(source)


def unregister(source: UsageSource) -> None:
    if source in _added:
        _added.remove(source)


def added() -> bool:
    """Whether a source was registered beside the built-in ones."""
    return bool(_added)


def sources() -> list[UsageSource]:
    """Every source, in the order they are asked."""
    out = list(_added)
    for module in BUILTIN:
        if module not in _loaded:
            _loaded[module] = importlib.import_module(module).SOURCE
        out.append(_loaded[module])
    return out


def source_for(path: Path, *, named: bool = True) -> UsageSource | None:
    """The source that reads ``path`` (a regular file). A file found in a folder is read only
    if a source claims it; a file named explicitly falls back to :data:`FALLBACK`."""
    every = sources()
    for source in every:
        if path.name.endswith(source.suffixes) and source.claims(path):
            return source
    if not named:
        return None
    return next(s for s in every if s.name == FALLBACK)


def read_file(path: Path, prompts: bool = True) -> FileResult:
    """What one file holds, read by the source that claims it."""
    source = source_for(path)
    assert source is not None  # a named file always has one
    return source.read(path, prompts=prompts)


def regular(path: Path) -> Path:
    """``path`` if it is a regular file (links followed). A pipe or a device would block or never
    end a read, and a dangling link holds nothing: each is an error naming it."""
    if not path.is_file():
        raise OrchphaseError(
            "not a regular file (a pipe, a device, a dangling link or a link loop); expected a "
            "transcript file",
            path=path,
        )
    return path


#: What an archive's or a compressed file's name ends with: a transcript in one (``s.jsonl.gz``,
#: ``sessions.zip``, ``sessions.tar.gz``) is read by no source.
PACKED = (
    ".gz", ".tgz", ".bz2", ".tbz2", ".xz", ".txz", ".zst", ".lz4", ".br", ".zip", ".7z", ".rar",
    ".tar",
)  # fmt: skip


def _walk(folder: Path, every: Sequence[UsageSource]) -> Iterable[tuple[Path, Path]]:
    """The files some source claims under ``folder``, each with its resolved path, in the
    order of ``os.walk`` with its folders and names sorted (each folder's files, then its
    folders, depth first). A link to a folder is followed (``ln -s ~/.claude/projects/x``
    into a phase's ``transcripts/`` folder), each folder walked once however many links lead
    to it (a link back up is no loop); the rest of a file's resolved path is its folder's,
    resolved once (not every component of every file again). A folder that cannot be listed,
    a link to nothing, and an archive or a compressed file (``s.jsonl.gz``, ``sessions.zip``)
    are errors naming them: what they hold would be left out without a word. A listing's
    entries tell a file from a folder without another look at it (``os.scandir``); folders
    wait on a stack, not in nested calls, so no depth of folders is too deep."""
    suffixes = tuple(s for source in every for s in source.suffixes)
    start = folder.resolve()
    waiting: list[tuple[str, Path]] = [(str(folder), start)]
    walked = {start}
    while waiting:
        root, inside = waiting.pop()
        try:
            with os.scandir(root) as listing:
                entries = sorted(listing, key=_name)
        except OSError as exc:
            raise OrchphaseError(
                f"cannot list this folder ({exc.strerror or exc}); expected a folder of "
                "transcripts that can be read",
                path=Path(root),
            ) from None
        folders = []
        for entry in entries:
            if _is_folder(entry):
                real = (
                    Path(os.path.realpath(entry.path))
                    if entry.is_symlink()
                    else inside / entry.name
                )
                if real not in walked:
                    walked.add(real)
                    folders.append((entry.path, real))
                continue
            name = entry.name
            if not name.endswith(suffixes):
                if _leads_to_nothing_read(entry, suffixes):
                    raise OrchphaseError(  # a transcript's name: regular() below names it
                        "a symbolic link that leads nowhere (a missing target, or a loop); "
                        "expected a transcript or a folder of them where it leads (a link made "
                        "on another machine?)",
                        path=Path(entry.path),
                    )
                if name.lower().endswith(PACKED):
                    raise OrchphaseError(
                        "an archive or a compressed file, which no source reads; expected "
                        "transcripts as they are (.jsonl, .ndjson or .json): extract it here, "
                        "or move it out of this folder",
                        path=Path(entry.path),
                    )
                continue
            path = Path(entry.path)
            if not _is_file(entry):
                regular(path)  # raises: a pipe, a device, a dangling link, a link loop
            if _claimed(path, every):
                yield path, path.resolve() if entry.is_symlink() else inside / name
        waiting.extend(reversed(folders))


def _leads_to_nothing_read(entry: os.DirEntry[str], suffixes: tuple[str, ...]) -> bool:
    """Whether ``entry`` is a link that leads nowhere where a folder or a transcript was: not
    one whose target is named as a file no source reads (Claude's own ``debug/latest``, a link
    to a ``.txt`` log by its path on the machine that wrote it), which would be left out were
    it there."""
    if not entry.is_symlink() or os.path.exists(entry.path):
        return False
    try:
        target = os.path.basename(os.readlink(entry.path).rstrip("/\\"))
    except OSError:
        return True
    extension = os.path.splitext(target)[1]
    return not extension or target.endswith(suffixes) or target.lower().endswith(PACKED)


def _is_folder(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


def _is_file(entry: os.DirEntry[str]) -> bool:
    """As ``Path.is_file``: false for what cannot be looked at (a link loop: ``ELOOP``)."""
    try:
        return entry.is_file()
    except OSError:
        return False


def _name(entry: os.DirEntry[str]) -> str:
    return entry.name


def _claimed(path: Path, every: Sequence[UsageSource]) -> bool:
    """Whether some source claims ``path``. Which one does not matter here (it is asked again
    when the file is read): the most general sources, which claim by name, are asked first,
    so that a folder of session files is listed without a look into each."""
    return any(path.name.endswith(s.suffixes) and s.claims(path) for s in reversed(every))


def expand_paths(paths: Sequence[Path]) -> list[Path]:
    """The files the given PATHs stand for, in a stable order, each once (see
    :func:`expand_resolved`)."""
    return [path for path, _ in expand_resolved(paths)]


def expand_resolved(paths: Sequence[Path], *, whole: bool = False) -> list[tuple[Path, Path]]:
    """The files the given PATHs stand for, in a stable order, each once, with its resolved
    path (which tells two names of one file apart).

    A PATH is a file (with the files that come along with it: a session's sub-agents), or a
    folder: a project folder, a ``projects`` folder, or a Claude config folder (holding
    ``projects/``: only that is read, not Claude's other files beside it, such as its prompt
    history), searched recursively for the files some source claims (``*.jsonl``,
    ``*.ndjson``, ``agent-*.meta.json``, ``*.json`` headless results …). ``whole``: a folder
    is read whole, ``projects/`` or not (a phase's ``transcripts/`` folder, which holds what
    its team put there).
    """
    every = sources()
    out: list[tuple[Path, Path]] = []
    seen: set[Path] = set()

    def add(p: Path, key: Path | None = None) -> None:
        key = key or p.resolve()
        if key not in seen:
            seen.add(key)
            out.append((p, key))

    for path in paths:
        if path.is_file():
            source = source_for(path)
            assert source is not None  # a named file always has one
            for f in source.companions(path):
                add(f)
        elif path.is_dir():
            root = path / "projects" if not whole and (path / "projects").is_dir() else path
            for f, real in _walk(root, every):
                add(f, real)
        elif path.exists():
            raise OrchphaseError(
                "expected a transcript file (.jsonl/.ndjson/.json) or a folder", path=path
            )
        elif path.is_symlink():
            raise OrchphaseError(
                "a symbolic link that leads nowhere (a loop or a missing target); expected a "
                "transcript file (.jsonl/.ndjson/.json) or a folder",
                path=path,
            )
        else:
            raise OrchphaseError(
                "no such file or folder (expected a session .jsonl, a project folder, "
                "a Claude config folder or a headless result file)",
                path=path,
            )
    return out

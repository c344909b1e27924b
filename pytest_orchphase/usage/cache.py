"""The scan cache: each transcript file's result kept, so that a file read once is not parsed
again while it is unchanged, and a file that only grew (a live session) is read on from its last
complete line.

An entry (:mod:`pytest_orchphase.usage.cache_entry`) is the file's result in the usage ledger's
records, behind a header that names the scanner it was made by (a digest of the modules that
make a file's result: an upgrade that changes a counting rule never reads an older entry) and
the SHA-256 of the bytes it stands for (up to the file's last newline). Entries are found by
the file's path, size, modification and change times and inode (an index record per path),
else by the SHA-256 of its content and its name: a cache restored in CI, where a checkout gives
every file a new time, still finds them. An entry that cannot be read, is cut short, has
another scanner, or stands for other bytes is ignored and made again, never trusted. Every write
is a new file renamed into place: two runs at once leave one whole entry or the other. What no
run will read is removed (:mod:`pytest_orchphase.usage.cache_sweep`).

Only Claude Code session files (``.jsonl``, ``.ndjson``) are kept; other files are read each
time (a ledger is read faster than an entry; meta.json and headless files are small).
Plain Python, no pytest.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import os
import re
import time
from dataclasses import dataclass
from importlib import util
from pathlib import Path
from typing import Any

from pytest_orchphase.files import RACY_NS, cache_write, named_in_utf8
from pytest_orchphase.usage.cache_entry import (
    _body,
    _decode,
    _dumps,
    _encode,
    _Entry,
    _format_name,
    _last_newline_end,
    _read_json,
    sha256_of,
)
from pytest_orchphase.usage.cache_sweep import prune_cache, sweep_scanner
from pytest_orchphase.usage.sources import registry
from pytest_orchphase.usage.sources.base import FileResult
from pytest_orchphase.usage.sources.claude_code.reader import Resumed, resume_transcript

#: The modules whose code makes a file's result, or decides which source reads it: their bytes
#: name the scanner.
SCANNER_MODULES = (
    "pytest_orchphase.usage.sources.registry",
    "pytest_orchphase.usage.sources.headless.source",
    "pytest_orchphase.usage.sources.ledger.source",
    "pytest_orchphase.usage.records",
    "pytest_orchphase.usage.sources.base",
    "pytest_orchphase.usage.sources.claude_code.layout",
    "pytest_orchphase.usage.sources.claude_code.source",
    "pytest_orchphase.usage.sources.claude_code.lines",
    "pytest_orchphase.usage.sources.claude_code.reader",
    "pytest_orchphase.usage.sources.claude_code.transcript",
    "pytest_orchphase.usage.sources.ledger.format",
    "pytest_orchphase.usage.sources.ledger.encode",
    "pytest_orchphase.usage.sources.ledger.decode",
    "pytest_orchphase.usage.sources.ledger.scrub",
    "pytest_orchphase.usage.cache_entry",
    "pytest_orchphase.usage.cache",
)
_SUFFIXES = (".jsonl", ".ndjson")
_SHA256 = re.compile(r"[0-9a-f]{64}")
#: The scanner folders this process has marked as in use.
_TOUCHED: set[Path] = set()
#: Per entries folder, the ends of its entries' names (``<name digest>-<prompts>.jsonl``) as
#: this process first listed them, with those it wrote since: a file whose name no entry ends
#: with has no entry to be found by its content, and is not hashed to look for one.
_ENDINGS: dict[str, set[str]] = {}


@functools.cache
def scanner() -> str:
    """A digest of the code that makes a file's result (see :data:`SCANNER_MODULES`).
    :class:`OSError` when a module's code cannot be read (an install without its sources):
    then no entry could be told from an older version's, and there is no cache."""
    digest = hashlib.sha256(_format_name().encode())
    for name in SCANNER_MODULES:
        spec = util.find_spec(name)
        origin = spec.origin if spec is not None else None
        if origin is None or not origin.endswith(".py"):
            raise OSError(f"no source code of {name} to name the scan cache's entries by")
        digest.update(name.encode())
        digest.update(Path(origin).read_bytes())
    return digest.hexdigest()


def cache_in(folder: Path | None) -> ScanCache | None:
    """The scan cache in ``folder``; ``None`` when there is none to use (no folder, or a
    scanner whose code cannot be read to name its entries): the files are then read whole."""
    if folder is None:
        return None
    try:
        scanner()
    except OSError:
        return None
    return ScanCache(folder)


@dataclass(frozen=True)
class _Stat:
    """What says a file is unchanged. The change time too: a program can set a file's
    modification time back (``touch -d``, ``rsync -t``), never its change time."""

    size: int
    mtime_ns: int
    ctime_ns: int
    ino: int
    dev: int

    @classmethod
    def of(cls, path: Path) -> _Stat:
        st = path.stat()
        return cls(st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)

    def record(self) -> dict[str, int]:
        # Not dataclasses.asdict, which deep-copies: asked once per file of every scan.
        return {name: getattr(self, name) for name in _STAT_FIELDS}


_STAT_FIELDS = tuple(f.name for f in dataclasses.fields(_Stat))


@dataclass(frozen=True)
class ScanCache:
    """The entries in ``folder`` (made when first written). Picklable: a scan's worker
    processes read and write through it too."""

    folder: Path

    def read(self, path: Path, prompts: bool = True) -> FileResult:
        """What ``path`` holds, as :func:`registry.read_file` reads it: from the cache where
        it holds the file's bytes, read (on) and kept otherwise."""
        lookup: _Lookup | None = None
        if path.name.endswith(_SUFFIXES) and named_in_utf8(path):
            self._touch()
            try:
                lookup = _Lookup(self, path, prompts)
            except OSError:
                lookup = None
        found: tuple[_Entry | None, Any] = (None, None)
        if lookup is not None:
            found = lookup.by_path()
            entry, digest = found
            # Kept, and unchanged since: it was a Claude Code session file then, and is now (no
            # other source asked: their code names the entries too), unless a source was added.
            unchanged = entry is not None and digest is None and entry.end == lookup.before.size
            if entry is not None and unchanged and not registry.added():
                return entry.result
        source = registry.source_for(path)
        assert source is not None  # a named file always has one
        if source.name != "claude_code" or lookup is None:
            return source.read(path, prompts=prompts)
        return lookup.run(found)

    def work(self, path: Path, prompts: bool = True) -> int:
        """About the bytes :meth:`read` reads of ``path``: what follows the kept bytes when
        its index record is of the file as it is or was before it grew, else all of it; a kept
        entry costs a little (as a 64th of the file) to read back."""
        try:
            size = path.stat().st_size
        except OSError:
            return 0
        if not named_in_utf8(path):
            return size
        index = _read_json(self._index(path, prompts))
        kept = index.get("stat") if index is not None else None
        old = kept.get("size") if isinstance(kept, dict) else None
        if type(old) is not int or not 0 <= old <= size:
            return size
        return size - old + old // 64

    def _touch(self) -> None:
        """Mark this scanner's entries as in use (once per process): :meth:`prune` of another
        version leaves them."""
        mine = self.folder / scanner()[:16]
        if mine in _TOUCHED:
            return
        _TOUCHED.add(mine)
        try:
            os.utime(mine)
        except OSError:
            return  # not made yet (its first write makes it), or read-only

    def prune(self) -> None:
        """Remove what no run will read (see :func:`prune_cache`): other scanners' entries, a
        killed writer's files. Done once per process, before its first write."""
        prune_cache(self.folder, scanner()[:16])

    def sweep(self) -> None:
        """Remove this scanner's entries and index records no run will read (see
        :func:`sweep_scanner`). Done at the end of a scan (what the scan read is named by
        then), once a day at most; nothing here is needed for a right result, only for speed,
        so a failure is ignored."""
        sweep_scanner(Path(self._mine))

    # -- where things are ------------------------------------------------------------------

    @functools.cached_property
    def _mine(self) -> str:
        """This scanner's folder, as text (paths are joined here for each file)."""
        return os.path.join(self.folder, scanner()[:16])

    def _index(self, path: Path, prompts: bool) -> Path:
        key = hashlib.sha256(f"{path}\0{int(prompts)}".encode()).hexdigest()[:40]
        return Path(f"{self._mine}{os.sep}index{os.sep}{key}.json")

    def _entry(self, sha256: str, name: str, prompts: bool) -> Path:
        return Path(f"{self._mine}{os.sep}entries{os.sep}{sha256}-{_ending(name, prompts)}")

    def may_hold(self, name: str, prompts: bool) -> bool:
        """Whether some entry may stand for a file named ``name`` (see :data:`_ENDINGS`)."""
        entries = f"{self._mine}{os.sep}entries"
        endings = _ENDINGS.get(entries)
        if endings is None:
            try:
                listed = os.listdir(entries)
            except OSError:
                listed = []
            endings = _ENDINGS[entries] = {n[65:] for n in listed if n.endswith(".jsonl")}
        return _ending(name, prompts) in endings

    def _wrote(self, entry: Path) -> None:
        _ENDINGS.setdefault(str(entry.parent), set()).add(entry.name[65:])


class _Lookup:
    """One file's way through the cache: the index, the entry, reading on, keeping."""

    def __init__(self, cache: ScanCache, path: Path, prompts: bool) -> None:
        self.cache = cache
        self.path = path
        self.prompts = prompts
        #: When the file's stat was taken (an index record is dated by it: a change after it,
        #: within the file's time grain, leaves the stat as it was).
        self.looked_ns = time.time_ns()
        self.before = _Stat.of(path)
        self.index_path = cache._index(path, prompts)

    def entry_path(self, sha256: str) -> Path:
        return self.cache._entry(sha256, self.path.name, self.prompts)

    def run(self, found: tuple[_Entry | None, Any]) -> FileResult:
        """The file's result, from ``found`` (what :meth:`by_path` found) or the entry of its
        content, read on from it, or read whole; what is read is kept."""
        entry, digest = found
        if entry is None:
            known = self._content() if self.cache.may_hold(self.path.name, self.prompts) else None
            entry = self._load(known[0]) if known is not None else None
            if entry is not None and known is not None and entry.end != known[1]:
                entry = None
            if entry is not None:
                self._write_index(entry.sha256)  # found by content: known by its path from now
        if entry is None or (not entry.resumable and entry.end != self.before.size):
            # Nothing kept, or only a whole file's result (an inline sidechain in it).
            return self._read_whole()
        if entry.end == self.before.size:
            return entry.result
        # More follows the kept bytes: read on. With a digest of the kept bytes (the file
        # grew), what is read on is kept; else it is only a line still being written.
        return self._read_on(entry, digest)

    def by_path(self) -> tuple[_Entry | None, Any]:
        """The entry the index names for this path when the file is unchanged since (no
        digest), or only grew from the entry's bytes (a digest of them, to be fed on)."""
        index = _read_json(self.index_path)
        if index is None:
            return None, None
        if index.get("stat") == self.before.record():
            entry = self._load(index.get("entry"))
            if entry is not None and self._racy(index.get("written_ns")):
                # Changed within its file system's time grain after it was kept, its times
                # would be the same: trusted only when its bytes are the entry's.
                if self._hash_head(entry, resumable_only=False) is None:
                    return None, None
                if not self._racy(self.looked_ns):
                    self._write_index(entry.sha256)  # old enough now: no need to look again
            return entry, None
        if self._grown(index.get("stat")):
            entry = self._load(index.get("entry"))
            digest = self._hash_head(entry)  # the kept bytes must be the file's first bytes
            if digest is not None:
                return entry, digest
        return None, None

    # -- finding an entry ------------------------------------------------------------------

    def _racy(self, written_ns: object) -> bool:
        """Whether the file's last change is too close to ``written_ns`` (when its index
        record was written) for its times to tell a later change: file systems keep times to
        the second or coarser (to two seconds on FAT), so within :data:`RACY_NS`."""
        if type(written_ns) is not int:
            return True
        return max(self.before.mtime_ns, self.before.ctime_ns) + RACY_NS > written_ns

    def _grown(self, kept: object) -> bool:
        if not isinstance(kept, dict):
            return False
        return (
            kept.get("ino") == self.before.ino
            and kept.get("dev") == self.before.dev
            and isinstance(kept.get("size"), int)
            and kept["size"] < self.before.size
        )

    def _load(self, sha256: object) -> _Entry | None:
        if not isinstance(sha256, str) or not _SHA256.fullmatch(sha256):
            return None
        where = self.entry_path(sha256)
        try:
            raw = where.read_bytes()
        except OSError:
            return None
        return _decode(raw, scanner(), sha256, self.path, self.prompts)

    def _hash_head(self, entry: _Entry | None, *, resumable_only: bool = True) -> Any:
        """A SHA-256 of the file's first ``entry.end`` bytes when they are the entry's bytes
        (to be fed on with what follows), else ``None``."""
        if entry is None or (resumable_only and not entry.resumable):
            return None
        try:
            with self.path.open("rb") as fh:
                digest = sha256_of(fh, entry.end)
        except OSError:
            return None
        return digest if digest is not None and digest.hexdigest() == entry.sha256 else None

    def _content(self) -> tuple[str, int] | None:
        """The SHA-256 of the file's bytes up to its last newline, and where that is."""
        try:
            with self.path.open("rb") as fh:
                end = _last_newline_end(fh, self.before.size)
                fh.seek(0)
                digest = sha256_of(fh, end)
        except OSError:
            return None
        return None if digest is None else (digest.hexdigest(), end)

    # -- reading and keeping ---------------------------------------------------------------

    def _read_whole(self) -> FileResult:
        """Read the file from its start and keep its result, under the digest of the bytes
        read (never of bytes hashed before: the file may have changed in between)."""
        kept: list[tuple[Resumed, bytes]] = []
        digest = hashlib.sha256()
        result = resume_transcript(
            self.path,
            None,
            0,
            0,
            prompts=self.prompts,
            seen=digest.update,
            on_head=lambda head: kept.append((head, _body(head.head, self.path.name))),
        )
        self._keep(kept, digest.hexdigest(), result)
        return result

    def _read_on(self, entry: _Entry, digest: Any) -> FileResult:
        kept: list[tuple[Resumed, bytes]] = []
        result = resume_transcript(
            self.path,
            entry.result,
            entry.end,
            entry.lines,
            prompts=self.prompts,
            want_prompt=entry.want_prompt,
            seen=digest.update if digest is not None else None,
            on_head=(
                (lambda head: kept.append((head, _body(head.head, self.path.name))))
                if digest is not None
                else None
            ),
        )
        if digest is not None:
            self._keep(kept, digest.hexdigest(), result, replaces=entry.sha256)
        return result

    def _keep(
        self,
        kept: list[tuple[Resumed, bytes]],
        sha256: str,
        result: FileResult,
        replaces: str | None = None,
    ) -> None:
        """Write the entry and its index record, unless the file changed while it was read."""
        if not kept:
            return
        head, body = kept[0]
        if not head.resumable:
            if not head.whole:
                return  # an inline sidechain and a line being written: nothing to keep
            body = _body(result, self.path.name)  # the whole file's result, its sidechains resolved
        try:
            after = _Stat.of(self.path)
        except OSError:
            return
        if after != self.before:
            return  # written to while it was read: what was read may not be these bytes
        # Calls without a message id are keyed by the file's path: only this path may use it.
        bound = any(key[0].startswith(f"{self.path}:") for key in result.calls)
        data = _encode(
            scanner(), sha256, head, self.prompts, str(self.path) if bound else None, body
        )
        self.cache.prune()
        try:
            cache_write(self.entry_path(sha256), data)
            self.cache._wrote(self.entry_path(sha256))
            self._write_index(sha256)
            if replaces is not None and replaces != sha256:  # what a live session outgrew
                self.entry_path(replaces).unlink(missing_ok=True)
        except OSError:
            return  # a cache that cannot be written is no cache: the result stands

    def _write_index(self, sha256: str) -> None:
        record = {
            "path": str(self.path),
            "stat": self.before.record(),
            "entry": sha256,
            "written_ns": self.looked_ns,
        }
        try:
            cache_write(self.index_path, _dumps(record))
        except OSError:
            return


def _ending(name: str, prompts: bool) -> str:
    """How an entry's name ends for a file named ``name``: after its bytes' SHA-256 and a dash."""
    return f"{hashlib.sha256(name.encode()).hexdigest()[:12]}-{int(prompts)}.jsonl"

"""One file's way through the scan cache (:mod:`pytest_orchphase.usage.cache`): its stat, its
index record, the entry it names or the entry of its content, reading on from it, keeping what
was read. Plain Python, no pytest.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_orchphase.files import RACY_NS, cache_write
from pytest_orchphase.usage.cache_entry import (
    _decode,
    _dumps,
    _encode,
    _Entry,
    _last_newline_end,
    _read_json,
    encode_result,
    sha256_of,
)
from pytest_orchphase.usage.sources.base import FileResult
from pytest_orchphase.usage.sources.claude_code.reader import Resumed, resume_transcript

if TYPE_CHECKING:
    from pytest_orchphase.usage.cache import ScanCache

_SHA256 = re.compile(r"[0-9a-f]{64}")
#: What is kept of a file's complete lines as they are read: where they end, the entry's
#: records.
_Kept = tuple[Resumed, bytes]


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

    def row(self) -> tuple[int, int, int, int, int]:
        """As the bundle keeps it (see :data:`~pytest_orchphase.usage.cache_bundle.Stat`)."""
        return (self.size, self.mtime_ns, self.ctime_ns, self.ino, self.dev)

    def record(self) -> dict[str, int]:
        # Not dataclasses.asdict, which deep-copies: asked once per file of every scan.
        return {name: getattr(self, name) for name in _STAT_FIELDS}


_STAT_FIELDS = tuple(f.name for f in dataclasses.fields(_Stat))


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

    @functools.cached_property
    def index_path(self) -> Path:
        return self.cache._index(self.path, self.prompts)

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
            self.cache.bundled(self, entry.body)
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
        return _decode(raw, self.cache.digest(), sha256, self.path, self.prompts)

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
        kept: list[_Kept] = []
        digest = hashlib.sha256()
        result = resume_transcript(
            self.path,
            None,
            0,
            0,
            prompts=self.prompts,
            seen=digest.update,
            on_head=self._on_head(kept),
        )
        self._keep(kept, digest.hexdigest(), result)
        return result

    def _read_on(self, entry: _Entry, digest: Any) -> FileResult:
        kept: list[_Kept] = []
        result = resume_transcript(
            self.path,
            entry.result,
            entry.end,
            entry.lines,
            prompts=self.prompts,
            want_prompt=entry.want_prompt,
            seen=digest.update if digest is not None else None,
            on_head=self._on_head(kept) if digest is not None else None,
        )
        if digest is not None:
            self._keep(kept, digest.hexdigest(), result, replaces=entry.sha256)
        elif self._unchanged():
            self.cache.bundled(self, result)  # with its line still being written
        return result

    def _keep(
        self,
        kept: list[_Kept],
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
            body = encode_result(result, self.path.name)  # its sidechains resolved
        if not self._unchanged():
            return  # written to while it was read: what was read may not be these bytes
        # Calls without a message id are keyed by the file's path: only this path may use it.
        bound = any(key[0].startswith(f"{self.path}:") for key in result.calls)
        data = _encode(
            self.cache.digest(), sha256, head, self.prompts, str(self.path) if bound else None, body
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
        # The entry is the whole file's result, or its lines but one still being written.
        self.cache.bundled(self, body if head.whole else result)

    def _on_head(self, kept: list[_Kept]) -> Callable[[Resumed], None]:
        """What keeps the result of the complete lines as the entry's records, as it is when
        they are read (reading goes on into it)."""
        name = self.path.name
        return lambda head: kept.append((head, encode_result(head.head, name)))

    def _unchanged(self) -> bool:
        """Whether the file's stat is still :attr:`before` (after it was read)."""
        try:
            return _Stat.of(self.path) == self.before
        except OSError:
            return False

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

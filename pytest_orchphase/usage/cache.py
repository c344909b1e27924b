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

import functools
import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import util
from pathlib import Path
from typing import Any

from pytest_orchphase.files import cache_write, named_in_utf8
from pytest_orchphase.usage.cache_bundle import (
    BUNDLE_NAME,
    Bundle,
    Item,
    Key,
    bundle_bytes,
    read_bundle,
)
from pytest_orchphase.usage.cache_entry import (
    _Entry,
    _format_name,
    _read_json,
    decode_result,
    encode_result,
)
from pytest_orchphase.usage.cache_lookup import _ending, _Lookup, _Stat
from pytest_orchphase.usage.cache_sweep import prune_cache, sweep_scanner
from pytest_orchphase.usage.sources import registry
from pytest_orchphase.usage.sources.base import FileResult

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
    "pytest_orchphase.usage.cache_bundle",
    "pytest_orchphase.usage.cache_lookup",
    "pytest_orchphase.usage.cache",
    "pytest_orchphase.load.quantity",  # utc_stamp: how a call's line times are compared
)
_SUFFIXES = (".jsonl", ".ndjson")
#: The scanner folders this process has marked as in use.
_TOUCHED: set[Path] = set()
#: Per entries folder, the ends of its entries' names (``<name digest>-<prompts>.jsonl``) as
#: this process first listed them, with those it wrote since: a file whose name no entry ends
#: with has no entry to be found by its content, and is not hashed to look for one.
_ENDINGS: dict[str, set[str]] = {}


@dataclass
class _Bundled:
    """A scanner folder's bundle in this process: as last read or written, and what the scan
    under way took from it (``used``) and has for it (``made``)."""

    bundle: Bundle = field(default_factory=lambda: Bundle({}, None))
    #: The scanner it was read for.
    scanner: str = ""
    #: Its file looked at since the scan began (another run may have written it).
    checked: bool = False
    used: set[Key] = field(default_factory=set)
    made: dict[Key, Item] = field(default_factory=dict)


#: Per scanner folder (as text), its bundle in this process.
_BUNDLED: dict[str, _Bundled] = {}


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
        # Kept, and unchanged since: it was a Claude Code session file then, and is now (no
        # other source asked: their code names the entries too), unless a source was added.
        if lookup is not None and not registry.added():
            kept = self._from_bundle(lookup)
            if kept is not None:
                return kept
        if lookup is not None:
            found = lookup.by_path()
            entry, digest = found
            unchanged = entry is not None and digest is None and entry.end == lookup.before.size
            if entry is not None and unchanged and not registry.added():
                self.bundled(lookup, entry.body)
                return entry.result
        source = registry.source_for(path)
        assert source is not None  # a named file always has one
        if source.name != "claude_code" or lookup is None:
            return source.read(path, prompts=prompts)
        return lookup.run(found)

    def work(self, path: Path, prompts: bool = True) -> int:
        """About the bytes :meth:`read` reads of ``path``: what follows the kept bytes when
        its bundle item or index record is of the file as it is or was before it grew, else all
        of it; a kept result costs a little (as a 64th of the file) to read back."""
        try:
            size = path.stat().st_size
        except OSError:
            return 0
        if not named_in_utf8(path):
            return size
        item = self._bundled().bundle.items.get((str(path), prompts))
        old: object = item.stat[0] if item is not None else None
        if old is None:
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

    # -- the bundle ------------------------------------------------------------------------

    def begin(self) -> None:
        """A scan begins: its bundle is looked at again when first needed (another run may
        have written it since), and what an earlier scan left unfinished is dropped."""
        state = _BUNDLED.get(self._mine)
        if state is not None:
            state.checked = False
            state.used.clear()
            state.made.clear()

    def finish(self, files: Sequence[Path], prompts: bool) -> None:
        """A scan of ``files`` ended: the bundle written again when it changed (see
        :func:`_next_bundle`), then the sweep. Nothing here is needed for a right result: a
        failure is ignored."""
        state = self._bundled()
        items = _next_bundle(state, {(str(f), prompts) for f in files})
        if items is not None:
            self.prune()
            data = bundle_bytes(items.items(), scanner())
            try:
                st = cache_write(Path(self._mine, BUNDLE_NAME), data)
            except OSError:
                pass
            else:
                state.bundle = Bundle(items, (st.st_ino, st.st_size, st.st_mtime_ns))
                state.scanner = scanner()
        state.used.clear()
        state.made.clear()
        state.checked = False
        self.sweep()

    def bundled(self, lookup: _Lookup, result: FileResult | bytes) -> None:
        """Keep in the bundle ``result``, what ``lookup`` found or read of the file as its stat
        (``lookup.before``) shows it (as :func:`encode_result` writes it, or to be written so at
        once: the scan's merge changes its calls), unless the stat was taken within its time
        grain of a change: such an item is never used (see :meth:`_from_bundle`)."""
        if lookup._racy(lookup.looked_ns):
            return
        key = (str(lookup.path), lookup.prompts)
        columns = result if isinstance(result, bytes) else encode_result(result, lookup.path.name)
        self._bundled().made[key] = Item(lookup.before.row(), lookup.looked_ns, columns)

    def made(self, path: Path, prompts: bool) -> Item | None:
        """The bundle item this process made of ``path`` in the scan under way, if any. A scan's
        other process sends it back with the file's result: the bundle is written by the process
        that began the scan, and what another made would otherwise be lost with it (the next run
        would find those files through their entries, and only then keep them)."""
        state = _BUNDLED.get(self._mine)
        return state.made.get((str(path), prompts)) if state is not None else None

    def adopt(self, path: Path, prompts: bool, item: Item) -> None:
        """Keep ``item``, made of ``path`` by a scan's other process (see :meth:`made`)."""
        self._bundled().made[(str(path), prompts)] = item

    def _from_bundle(self, lookup: _Lookup) -> FileResult | None:
        """The file's result from the bundle: its item when the file's stat is the item's,
        and was taken longer than its time grain after the file last changed (the index
        record's test)."""
        state = self._bundled()
        key = (str(lookup.path), lookup.prompts)
        item = state.bundle.items.get(key)
        if item is None or item.stat != lookup.before.row() or lookup._racy(item.looked_ns):
            return None
        result = decode_result(item.result, lookup.path)
        if result is not None:
            state.used.add(key)
        return result

    def _bundled(self) -> _Bundled:
        """This folder's bundle, read again when its file is not the one last read."""
        state = _BUNDLED.setdefault(self._mine, _Bundled())
        if not state.checked:
            where = os.path.join(self._mine, BUNDLE_NAME)
            try:
                st = os.stat(where)
                identity = (st.st_ino, st.st_size, st.st_mtime_ns)
            except OSError:
                identity = None
            if identity is None or (identity, scanner()) != (state.bundle.identity, state.scanner):
                state.bundle, state.scanner = read_bundle(where, scanner()), scanner()
            state.checked = True
        return state

    # -- where things are ------------------------------------------------------------------

    def digest(self) -> str:
        """The scanner's digest (see :func:`scanner`), which names its entries and bundle."""
        return scanner()

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


def _next_bundle(state: _Bundled, scanned: set[Key]) -> dict[Key, Item] | None:
    """What the bundle is to hold after a scan of the files ``scanned`` (path, prompts), or
    ``None`` when it is what it holds: the items the scan made, those it used, and each other
    item whose file's stat is still the item's (a file another process read, or another scan's);
    the items of files changed or gone are dropped."""
    items: dict[Key, Item] = {}
    changed = bool(state.made)
    for key, item in state.bundle.items.items():
        if key in state.made:
            continue
        if key in state.used or _unchanged(key[0], item):
            items[key] = item
        else:
            changed = True
    items.update(state.made)
    return items if changed else None


def _unchanged(path: str, item: Item) -> bool:
    try:
        return _Stat.of(Path(path)).row() == item.stat
    except OSError:
        return False

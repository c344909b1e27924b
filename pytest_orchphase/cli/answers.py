"""A command's answer kept: what ``orchphase extract`` printed, found again when it is asked
the same of the same files, and printed without reading them.

An answer is kept under a digest of its question: the command and its options, the working
folder, and the code that answers (every file of this package, the installed versions of the
libraries that parse and print, Python's). Beside what was printed it holds the path, size,
modification and change times, inode and device of every file the command read, the price file
it was given among them. It is printed again only when the same files are listed with the same
of all these: a file added, removed, grown, rewritten, renamed or touched asks again (the scan
cache then reads what changed). No answer is kept while a file changed within
:data:`~pytest_orchphase.files.RACY_NS` of its listing (a live session): within its file
system's time grain, a later change could leave its times as they were; nor when the code
changed while the answer was made.

An answer that cannot be read, is of another format or of another question, or lists other
files is ignored (and replaced), never trusted; it is written whole or not at all, readable by
its owner only. Plain Python, no pytest; cheap to import (a kept answer is printed without the
scanner's modules).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import sys
import time
from collections.abc import Sequence
from importlib import util
from pathlib import Path
from typing import NamedTuple

from pytest_orchphase.files import RACY_NS, named_in_utf8, read_regular

#: The first key of an answer (its value is this format's number).
MARKER = "orchphase_answer"
FORMAT = 1
#: The folder of answers in the commands' cache folder.
FOLDER = "answers"
#: The libraries whose code shapes an answer, by module and distribution: the JSON parser,
#: the YAML reader of the price files, the table printer and the width of its characters, the
#: validator of a price file.
LIBRARIES = {
    "orjson": "orjson",
    "yaml": "pyyaml",
    "tabulate": "tabulate",
    "wcwidth": "wcwidth",
    "pydantic": "pydantic",
    "pydantic_core": "pydantic_core",
}
#: An answer file larger than this is not one of ours (a 1 GB corpus's is about 1 MB).
MAX_ANSWER_BYTES = 256 * 1024 * 1024
#: A file's path as listed, size, modification and change times, inode and device.
Listed = list[list[str | int]]


class Answer(NamedTuple):
    """What a command printed: its standard output and its warnings."""

    out: str
    err: str


class Question:
    """What a command was asked, and of which files as they are now. (A plain class, as
    ``Answer`` is a named tuple: a dataclass costs a millisecond to make, and a kept answer is
    printed in some 70.)"""

    __slots__ = ("code", "files", "path", "settled")

    def __init__(self, path: Path, files: Listed, settled: bool, code: str) -> None:
        #: Where its answer is kept.
        self.path = path
        #: Every file read, as :data:`Listed`.
        self.files = files
        #: Whether every file was last changed :data:`RACY_NS` or more before it was listed.
        self.settled = settled
        #: The digest of the code when the question was asked.
        self.code = code

    def recall(self) -> Answer | None:
        """The answer kept for this question of these files, if there is one."""
        kept = _read_answer(self.path)
        if not isinstance(kept, dict) or kept.get(MARKER) != FORMAT:
            return None
        if kept.get("question") != self.path.stem or kept.get("files") != self.files:
            return None
        out, err = kept.get("out"), kept.get("err")
        if not isinstance(out, str) or not isinstance(err, str):
            return None
        return Answer(out, err)

    def keep(self, answer: Answer) -> None:
        """Keep ``answer`` for the next time: only when every file is settled and the code is
        what it was when the question was asked (an editable install edited meanwhile). A cache
        that cannot be written is no error (it only saves time)."""
        if not self.settled:
            return
        from pytest_orchphase.files import cache_write

        record = {
            MARKER: FORMAT,
            "question": self.path.stem,
            "files": self.files,
            "out": answer.out,
            "err": answer.err,
        }
        try:
            if code_digest(_PACKAGE) != self.code:
                return
            cache_write(self.path, json.dumps(record, ensure_ascii=False).encode())
            _sweep(self.path.parent)
        except (OSError, UnicodeError):  # unwritable, or a text JSON cannot hold (a name)
            return


def _read_answer(path: Path) -> object:
    """The JSON an answer file holds; ``None`` for what is not a regular file of a sane size
    (never a wait on a pipe) or not JSON."""
    from pytest_orchphase.errors import OrchphaseError

    try:
        return json.loads(read_regular(path, MAX_ANSWER_BYTES, "an answer"))
    except (OSError, OrchphaseError, ValueError, RecursionError):
        return None


def ask(folder: Path, request: Sequence[str], files: Sequence[Path]) -> Question | None:
    """The question ``request`` (the command and its options) asks of ``files`` (what it
    reads, in the order it reads them: the price file it was given too); ``None`` when one
    cannot be looked at, or this package's code cannot be read: the command then answers
    without a kept answer, and keeps none."""
    looked_ns = time.time_ns()
    listed: Listed = []
    settled = True
    try:
        code = _this_code()
        question = hashlib.sha256(code.encode())
        for part in (os.getcwd(), *request):
            question.update(part.encode("utf-8", "surrogateescape") + b"\0")
        for path in files:
            st = os.stat(path)
            changed = max(st.st_mtime_ns, st.st_ctime_ns)
            settled = settled and changed + RACY_NS <= looked_ns
            kept = [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev]
            listed.append([os.fsdecode(path), *kept])
    except (OSError, UnicodeError):
        return None
    if any(not named_in_utf8(str(entry[0])) for entry in listed):
        return None  # a name JSON cannot hold as it is
    return Question(folder / FOLDER / f"{question.hexdigest()}.json", listed, settled, code)


_PACKAGE = Path(__file__).resolve().parent.parent


@functools.cache
def _this_code() -> str:
    return code_digest(_PACKAGE)


def code_digest(package: Path, libraries: dict[str, str] = LIBRARIES) -> str:
    """A digest of the code that answers: every file of ``package`` (its sources or what it
    was installed as; not the interpreter's ``__pycache__``), each of ``libraries`` (module:
    distribution) by where it is installed, the size and time of its first file and the names
    of its installed distribution's metadata (which carry its version), or as absent; and
    Python's version. :class:`OSError` when a file cannot be read."""
    digest = hashlib.sha256(f"{MARKER} {FORMAT} {sys.version}".encode())
    for root, dirs, names in os.walk(package, onerror=_raise):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(names):
            path = os.path.join(root, name)
            digest.update(os.path.relpath(path, package).encode("utf-8", "surrogateescape"))
            with open(path, "rb") as fh:
                digest.update(hashlib.sha256(fh.read()).digest())
    for module, distribution in sorted(libraries.items()):
        spec = util.find_spec(module)
        origin = spec.origin if spec is not None else None
        if origin is None:
            digest.update(f"{module} absent".encode())
            continue
        st = os.stat(origin)
        top = Path(origin).parent
        where = top.parent if spec is not None and spec.submodule_search_locations else top
        digest.update(f"{module} {origin} {st.st_size} {st.st_mtime_ns}".encode())
        for name in _installed(where, distribution):
            digest.update(name.encode("utf-8", "surrogateescape"))
    return digest.hexdigest()


def _installed(folder: Path, distribution: str) -> list[str]:
    """The names of ``distribution``'s metadata folders in ``folder`` (``<name>-<version>``
    ``.dist-info`` or ``.egg-info``; names compared as packaging normalizes them)."""
    wanted = _normal(distribution)
    return sorted(
        name
        for name in _listing(folder)
        if name.endswith(_METADATA)
        and _normal(name.removesuffix(_METADATA[0]).removesuffix(_METADATA[1]).split("-")[0])
        == wanted
    )


_METADATA = (".dist-info", ".egg-info")


@functools.cache
def _listing(folder: Path) -> tuple[str, ...]:
    try:
        return tuple(os.listdir(folder))
    except OSError:
        return ()


def _normal(name: str) -> str:
    return name.lower().replace("-", "_").replace(".", "_")


def _sweep(folder: Path) -> None:
    """Remove the answers not written for as long as the scan cache keeps an entry no file
    names (a question no longer asked, of an older version, of files since changed): once a
    day at most, after a write."""
    from pytest_orchphase.usage.cache_sweep import SWEPT, UNNAMED_SECONDS, sweep_due

    now = time.time()
    if folder.is_symlink() or not sweep_due(folder, now):
        return  # (never into what is not the cache's own folder)
    for entry in os.scandir(folder):
        old = now - entry.stat(follow_symlinks=False).st_mtime > UNNAMED_SECONDS
        if old and entry.name != SWEPT and entry.is_file(follow_symlinks=False):
            os.unlink(entry.path)


def _raise(exc: OSError) -> None:
    raise exc

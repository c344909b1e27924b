"""Writing reports: whole or not at all, and the GitHub step summary kept under its limit."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import stat
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Literal

from pytest_orchphase.errors import OrchphaseError, display, resolve_path

STEP_SUMMARY_LIMIT = 1024 * 1024  # GitHub refuses a step summary over 1 MiB
#: What :func:`append_step_summary` did: appended everything, cut the text, or found no room.
Appended = Literal["whole", "truncated", "full"]
#: The caches' folder under ``$XDG_CACHE_HOME`` (``~/.cache``) for the commands.
APP = "orchphase"
#: How close to a look at a file its last change makes its times unable to tell a later
#: change (the coarsest file system time grain, FAT's two seconds): a cache trusts no file's
#: stat that was changed within this of when the stat was taken.
RACY_NS = 2_000_000_000
TRUNCATED = "\n\n_(report truncated to stay under GitHub's 1 MiB step summary limit)_\n"


def check_output_path(path: Path) -> None:
    """Refuse, before anything runs, a report path that cannot be a file."""
    try:
        resolve_path(path)
    except OSError as exc:  # a symbolic link loop
        raise OrchphaseError(
            f"cannot be resolved ({exc.strerror}); expected the path of a file to write",
            path=path,
        ) from None
    if path.is_dir():
        raise OrchphaseError("is a directory; expected the path of a file to write", path=path)
    if is_special(path):
        return  # written into as it is (a pipe, /dev/null): its folder is not written
    # the nearest folder that exists: the missing ones below it are made when it is written
    folder = next(f for f in path.absolute().parents if f.exists() or f == f.parent)
    if not folder.is_dir():
        raise OrchphaseError(
            f"cannot be written: {display(folder)} is not a folder; expected the path of a "
            "file to write",
            path=path,
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OrchphaseError(
            f"cannot be written: the folder {display(folder)} is not writable; expected the "
            "path of a file to write",
            path=path,
        )


def check_report_paths(
    reports: Sequence[tuple[str, Path]], reads: Callable[[Path], str | None]
) -> None:
    """Refuse, before anything runs, report paths that would destroy what the run reads or one
    another: ``reports`` are (the option that names it, its path), ``reads`` says what a
    resolved path is of the files the run reads (None: none of them). A report there would
    overwrite the phase's own data (the next run an error), and two reports on one path would
    leave only the last. Paths are compared resolved (links followed, relative or not)."""
    seen: dict[Path, str] = {}
    for option, path in reports:
        if is_special(path):
            continue  # a device or a pipe is written into, never replaced: nothing is lost
        try:
            resolved = resolve_path(path)
        except (OSError, ValueError):
            continue  # :func:`check_output_path` names it
        if resolved in seen:
            raise OrchphaseError(
                f"{seen[resolved]} and {option} name one file: each report needs a path of its own",
                path=path,
            )
        seen[resolved] = option
        if (read := reads(resolved)) is not None:
            raise OrchphaseError(
                f"{option} names {read}, which the run reads: the report would overwrite it; "
                "write the report elsewhere",
                path=path,
            )


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def stream_fd(path: Path) -> int | None:
    """The file descriptor of this process that ``path`` names (``/dev/stdout``,
    ``/dev/stderr``, ``/dev/fd/N``, ``/proc/self/fd/N``, or a symbolic link that leads to one
    of them, ``../../dev/stdout`` too), None for any other path. Written through that
    descriptor, whatever it is open on (a terminal, a pipe, a file the shell redirected it to):
    opened again by its name, a regular file would be replaced or written over from its start,
    and pytest's own output in it lost."""
    current = os.path.abspath(path)
    for _ in range(40):  # a link loop names no descriptor
        if (number := _descriptor_named(current)) is not None:
            return number
        try:
            target = os.readlink(current)
        except (OSError, ValueError):
            return None  # not a link: no descriptor's name
        current = os.path.normpath(os.path.join(os.path.dirname(current), target))
    return None


def _descriptor_named(text: str) -> int | None:
    """The descriptor a path's text names (no link followed), None when it names none."""
    if text in ("/dev/stdout", "/dev/stderr"):
        return 1 if text == "/dev/stdout" else 2
    for folder in ("/dev/fd/", "/proc/self/fd/", f"/proc/{os.getpid()}/fd/"):
        number = text.removeprefix(folder)
        if number != text and number.isdigit():
            return int(number)
    return None


def is_special(path: Path) -> bool:
    """Whether ``path`` (links followed) exists and is not a regular file: a named pipe, a device
    such as ``/dev/null``, a socket; or names a descriptor of this process (:func:`stream_fd`).
    Such a file is written into, never replaced."""
    if stream_fd(path) is not None:
        return True
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return not stat.S_ISREG(mode) and not stat.S_ISDIR(mode)


def write_in_place(path: Path, data: bytes, *, append: bool = False) -> None:
    """Write ``data`` into the file as it is (no temporary file, no rename). A named pipe with
    no reader is an error at once: opening it for writing would otherwise wait forever. A
    descriptor of this process (:func:`stream_fd`) is written through, after what Python holds
    for it, so the report follows pytest's output."""
    if (number := stream_fd(path)) is not None:
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        view = memoryview(data)
        while view:
            view = view[os.write(number, view) :]
        return
    flags = os.O_WRONLY | os.O_NONBLOCK | (os.O_APPEND if append else 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ENXIO:
            raise OSError(exc.errno, "a named pipe with no reader", str(path)) from None
        raise
    os.set_blocking(fd, True)  # a reader is there: wait for it as a plain write would
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path``, whole or not at all.

    A regular file (new or existing) is written through a temporary file in the same folder and
    a rename, so a reader (or a crash) never sees it half-written; it keeps the mode it had, and
    a new file gets the user's umask (0666 & ~umask), as any editor would give it. A symbolic
    link is followed (the link stays, its target is written). A named pipe or a device such as
    ``/dev/null`` is written into as it is, never replaced by a regular file, by the name given
    (``/dev/stdout`` on a pipe resolves to ``pipe:[n]``, which is no path to open).
    """
    if is_special(path):
        write_in_place(path, data)
        return
    target = resolve_path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        mode = 0o666 & ~_umask()
    fd, tmp = _temporary(target)
    try:
        with os.fdopen(fd, "wb") as fh:
            os.fchmod(fh.fileno(), mode)
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _temporary(beside: Path) -> tuple[int, str]:
    """A new hidden temporary file in ``beside``'s folder, to be renamed over it."""
    import tempfile  # here: only a write needs it, and most commands write nothing

    return tempfile.mkstemp(prefix=f".{beside.name}.", suffix=".tmp", dir=beside.parent)


def read_regular(path: Path, limit: int, what: str) -> bytes:
    """The bytes of ``path``, a regular file of at most ``limit`` bytes. It is opened without
    waiting (a named pipe with no writer would hold the open), refused when it is a pipe or a
    device (a read would wait, or never end), then read blocking again, and no further than
    ``limit`` + 1 bytes whatever size it said (a file that grows while read, or a file system
    that tells no size). :class:`OrchphaseError` naming it, ``what`` being what was expected;
    :class:`OSError` as the system gives it."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fh.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise OrchphaseError(
                f"not a regular file (a named pipe or a device); expected {what}", path=path
            )
        size = f"{st.st_size:,}"
        if st.st_size <= limit:
            if hasattr(os, "set_blocking"):
                os.set_blocking(fh.fileno(), True)
            data = fh.read(limit + 1)
            if len(data) <= limit:
                return data
            size = f"more than {limit:,}"
    raise OrchphaseError(
        f"file is {size} bytes; {what} is expected to be under {limit:,}", path=path
    )


def named_in_utf8(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` can be written as text: a name in another encoding (bytes Python holds
    with surrogate escapes) cannot go into the caches' UTF-8 JSON as it is."""
    try:
        os.fspath(path).encode()
    except UnicodeEncodeError:
        return False
    return True


def user_cache_folder(env: Mapping[str, str] | None = None) -> Path | None:
    """``$XDG_CACHE_HOME/orchphase`` (``~/.cache/orchphase`` when it is not set, or not an
    absolute path, as the XDG base directory specification says); ``None`` when there is no
    home folder to find (a container's user without one): then no cache, never an error."""
    env = os.environ if env is None else env
    base = env.get("XDG_CACHE_HOME", "")
    if base and Path(base).is_absolute():
        return Path(base) / APP
    try:
        return Path.home() / ".cache" / APP
    except (RuntimeError, KeyError):  # no $HOME and no passwd entry (KeyError before 3.11)
        return None


def cache_write(path: Path, data: bytes) -> os.stat_result:
    """Write a cache file whole or not at all: a temporary file (readable by its owner only: a
    cache may hold prompts) renamed over ``path``, so two writers leave one whole file or the
    other. Not synced to disk: a file a crash cut short is found out and made again. Folders
    it makes are its owner's only too. The written file's stat, as it was renamed."""
    missing: list[Path] = []
    for folder in (path.parent, *path.parent.parents):
        if folder.is_dir():
            break
        missing.append(folder)
    for folder in reversed(missing):
        folder.mkdir(mode=0o700, exist_ok=True)
    fd, tmp = _temporary(path)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            written = os.fstat(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return written


def json_bytes(report: Mapping[str, object]) -> bytes:
    """The report as JSON (UTF-8); text no file name should bring in (a surrogate escape of a
    name that is not UTF-8) is written escaped rather than failing the write."""
    text = json.dumps(report, indent=2, ensure_ascii=False, sort_keys=False) + "\n"
    return text.encode("utf-8", "backslashreplace")


def append_step_summary(path: Path, markdown: str) -> Appended:
    """Append to GitHub's step summary file, which must stay at most 1 MiB in all: the text
    whole, cut at a line with a note saying so, or nothing when not even the note fits."""
    special = is_special(path)  # by the name given: /dev/stdout on a pipe resolves to pipe:[n]
    target = path if special else resolve_path(path)
    used = 0 if special or not target.exists() else target.stat().st_size
    room = STEP_SUMMARY_LIMIT - used
    data = b"\n" + markdown.encode()
    result: Appended = "whole"
    if len(data) > room:
        note = TRUNCATED.encode()
        if room < len(note) + 1:
            return "full"
        cut = data[: room - len(note)].decode("utf-8", errors="ignore")
        data = cut[: cut.rfind("\n") + 1].encode() + note
        result = "truncated"
    if special:
        write_in_place(target, data, append=True)
    else:
        with target.open("ab") as fh:
            fh.write(data)
    return result

"""A scan's files read by several processes at once: the work in chunks of about equal bytes,
this process reading the first chunk itself and one other process each of the rest.

On Linux each other process is this one forked, sending each file's result through a pipe as
soon as it has it; this process takes in what has come between two of its own files, so that
taking the others' results in (unpickling them) is done while they still read, not all at the
end. No pool: its import alone (``concurrent.futures.process`` pulls in ``multiprocessing``,
``logging``, ``socket``, ``subprocess`` and ``tempfile``) costs 20-30 ms, a tenth of a cold
scan of 200 MB. Elsewhere, where forking a process is unsafe or impossible, a process pool's
(each chunk's results sent back at its end). A process where another thread runs Python code (a
pytest-xdist worker) is not forked: it reads every chunk itself.

Either way an item's error is raised here, and a process that ends without all its results
(killed, out of memory) is an error, never a scan with files missing. Plain Python, no pytest.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, BinaryIO, Generic, NoReturn, TypeVar

from pytest_orchphase.errors import OrchphaseError

Item = TypeVar("Item")
Result = TypeVar("Result")
#: Chunks are read by forked processes (else by a process pool's).
FORKS = sys.platform == "linux" and hasattr(os, "fork")
#: The capacity asked of each pipe (Linux grants up to ``/proc/sys/fs/pipe-max-size``, 1 MB by
#: default): a process sending results waits when it is full, until this one takes them in.
PIPE_BYTES = 1 << 20
#: A result's length ahead of it in the pipe.
_HEAD = 8


def worker_count() -> int:
    """Processes a scan may use: the CPUs this process may run on (its affinity, not the
    machine's count: a container or ``taskset`` gives fewer), at most 4."""
    try:
        usable = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        usable = os.cpu_count() or 1
    return max(1, min(usable, 4))


def chunks(sizes: Sequence[int], count: int) -> list[list[int]]:
    """Indexes of ``sizes`` in ``count`` chunks of about equal sums (each, biggest first, to the
    lightest chunk so far), each chunk in index order; no empty chunk."""
    out: list[list[int]] = [[] for _ in range(count)]
    load = [0] * count
    for i in sorted(range(len(sizes)), key=lambda i: -sizes[i]):
        lightest = load.index(min(load))
        out[lightest].append(i)
        load[lightest] += sizes[i]
    return [sorted(c) for c in out if c]


def run_chunks(
    read: Callable[[Item], Result],
    work: Sequence[Sequence[Item]],
    what: Sequence[str],
    here: Callable[[Item], Result] | None = None,
) -> list[list[Result]]:
    """``here`` (``read`` by default) of each item of the first chunk of ``work`` in this
    process, and ``read`` of each item of every other chunk in a process of its own, all at
    once; the results chunk by chunk, each in its items' order. ``what`` names each chunk's
    work for an error (``"3 file(s), the first a.jsonl,"``). Where processes are not forked,
    ``read`` must pickle. A process where another thread runs Python code (a pytest-xdist
    worker) reads every chunk itself: a fork copies only the thread that makes it, and a lock
    such a thread holds then (the standard error's, the import lock) is held for good in the
    child."""
    mine = here or read
    if len(work) < 2 or (FORKS and _threaded()):
        return [[(read if k else mine)(item) for item in chunk] for k, chunk in enumerate(work)]
    if FORKS:
        return _run_forked(read, work, what, mine)
    return _run_pooled(read, work, what, mine)


def _threaded() -> bool:
    """Whether another thread of this process runs Python code (started by ``threading`` or
    not). Threads that never do (a BLAS library's, started by importing numpy) hold none of
    the locks the child needs."""
    return len(sys._current_frames()) > 1


# -- forked processes (Linux) ---------------------------------------------------------------


def _run_forked(
    read: Callable[[Item], Result],
    work: Sequence[Sequence[Item]],
    what: Sequence[str],
    mine: Callable[[Item], Result],
) -> list[list[Result]]:
    # Forked, not yet reaped: pid -> what this process takes in from it.
    live: dict[int, _Inbox[Result]] = {}
    # Chunks no process could be forked for (too many processes, no memory): read here.
    left: list[int] = []
    try:
        for k, chunk in enumerate(work[1:], 1):
            if not _fork(read, chunk, what[k], live):
                left.append(k)

        def read_here(how: Callable[[Item], Result], items: Sequence[Item]) -> list[Result]:
            got = []
            for item in items:
                got.append(how(item))
                for inbox in live.values():  # what has come meanwhile
                    inbox.take()
            return got

        out = [read_here(mine, work[0])]
        kept = {k: read_here(read, work[k]) for k in left}
        for pid in list(live):
            inbox = live[pid]
            inbox.take(until_end=True)
            if inbox.refused:  # it may be writing still: stopped below, not waited for
                raise _lost(inbox.what, " (it sent what is no result)")
            # No longer tracked before it is reaped: a reaped child's pid may be another
            # process's by the time the cleanup below would kill it.
            del live[pid]
            inbox.close()
            out.append(inbox.results(_ended(pid)))
        for k in left:  # in the order of the chunks
            out.insert(k, kept[k])
        return out
    finally:  # an error or Ctrl-C here: the children not yet collected are stopped, not waited
        if live:
            _stop_all(live)


def _fork(
    read: Callable[[Item], Any], chunk: Sequence[Item], what: str, live: dict[int, _Inbox[Any]]
) -> bool:
    """A process forked to read ``chunk``, entered in ``live``; False when none can be (the
    chunk is then read here). Ctrl-C is held off from the pipe's making to the entry in
    ``live``, and for good in the child (this process stops it): a child never unwinds into
    the caller's code, and no child goes unrecorded."""
    with _ctrl_c_held():
        try:
            read_end, write_end = os.pipe()
        except OSError:  # too many open files
            return False
        try:
            _widen(write_end)
            pid = os.fork()
        except OSError:
            os.close(read_end)
            os.close(write_end)
            return False
        if pid == 0:
            _child(read, chunk, read_end, write_end, [i.fd for i in live.values()])
        os.close(write_end)  # else a later child holds it and no end of file is ever read
        live[pid] = _Inbox(read_end, len(chunk), what)
        return True


def _widen(pipe: int) -> None:
    """Ask for a pipe of :data:`PIPE_BYTES` (a smaller one still works, with more waits)."""
    try:
        import fcntl

        fcntl.fcntl(pipe, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    except (ImportError, AttributeError, OSError):  # pragma: no cover - not Linux, or limited
        pass


class _Inbox(Generic[Result]):
    """What one forked process has sent: each result (or error) a pickle, behind its length;
    taken in as it comes."""

    def __init__(self, fd: int, expected: int, what: str) -> None:
        self.fd = fd
        self.expected = expected
        self.what = what
        self.pending = bytearray()
        self.sent: list[tuple[bool, Any]] = []
        self.ended = False
        #: Something came that is no result: nothing more is taken in.
        self.refused = False
        os.set_blocking(fd, False)

    def take(self, until_end: bool = False) -> None:
        """Take in what has come (all of it, to the end of the pipe, with ``until_end``)."""
        if self.ended:
            return
        if until_end:
            os.set_blocking(self.fd, True)
        while True:
            try:
                got = os.read(self.fd, PIPE_BYTES)
            except BlockingIOError:
                break
            if not got:
                self.ended = True
                break
            self.pending += got
            self._unpack()
            if self.refused:
                break

    def _unpack(self) -> None:
        import pickle

        pending, at = self.pending, 0
        while len(pending) - at >= _HEAD:
            size = int.from_bytes(pending[at : at + _HEAD], "little")
            if len(pending) - at - _HEAD < size:
                break
            try:
                self.sent.append(pickle.loads(pending[at + _HEAD : at + _HEAD + size]))
            except Exception:  # not what a child sends: it and what follows are lost
                self.ended = self.refused = True
                return
            at += _HEAD + size
        del pending[:at]

    def results(self, ended: str) -> list[Result]:
        """The results, in order; the first error sent raised; an error when fewer came."""
        out: list[Result] = []
        for ok, value in self.sent:
            if not ok:
                raise value
            out.append(value)
        if len(out) != self.expected:
            raise _lost(self.what, f" ({ended})")
        return out

    def close(self) -> None:
        os.close(self.fd)


def _child(
    read: Callable[[Any], Any],
    items: Sequence[Any],
    read_end: int,
    write_end: int,
    inherited: Sequence[int],
) -> NoReturn:
    """The forked process: ``read`` of each item, each result (or the first error) sent as it
    comes; then it leaves at once, running nothing of the parent's (no ``finally`` up the
    stack, no ``atexit``, no buffered output flushed twice). It closes the read ends of the
    processes forked before it (``inherited``): should this process die, each of them then
    finds its pipe closed at once, rather than once this one has ended."""
    code = 1
    try:
        import pickle

        for fd in (read_end, *inherited):
            os.close(fd)
        with open(write_end, "wb") as pipe:
            for item in items:
                try:
                    sent = pickle.dumps((True, read(item)), pickle.HIGHEST_PROTOCOL)
                except BaseException as exc:  # every error, Ctrl-C's too, is the parent's
                    _send(pipe, pickle.dumps((False, _portable(exc)), pickle.HIGHEST_PROTOCOL))
                    break
                _send(pipe, sent)
        code = 0
    finally:
        os._exit(code)


def _send(pipe: BinaryIO, payload: bytes) -> None:
    pipe.write(len(payload).to_bytes(_HEAD, "little"))
    pipe.write(payload)
    pipe.flush()


def _portable(exc: BaseException) -> BaseException:
    """``exc`` itself when it travels between processes, else one of its kind (an
    :class:`OrchphaseError` for one, a usage error) or a RuntimeError saying it."""
    import pickle

    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:  # any failure to travel
        if isinstance(exc, OrchphaseError):
            return OrchphaseError(str(exc))
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc


def _lost(what: str, ended: str) -> OrchphaseError:
    """A process gone without sending its results: never a scan with files missing."""
    return OrchphaseError(
        f"the process reading {what} ended without its results{ended}; those files were not "
        "read: run again"
    )


def _ended(pid: int) -> str:
    """How the child ``pid`` ended, once it has (it is reaped)."""
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    return f"killed by signal {-code}" if code < 0 else f"exit status {code}"


def _stop_all(live: dict[int, _Inbox[Any]]) -> None:
    """Kill the children in ``live`` (not yet reaped, so their pids are still theirs), then
    close their pipes and reap them; a second Ctrl-C is held off until all is done."""
    import signal

    with _ctrl_c_held():
        for pid in live:
            os.kill(pid, signal.SIGKILL)
        for pid, inbox in live.items():
            inbox.close()
            os.waitpid(pid, 0)


@contextmanager
def _ctrl_c_held() -> Iterator[None]:
    """Ctrl-C held off within, and the signal mask as it was after, whatever happens. Python's
    ``pthread_sigmask`` runs the handlers of signals already received *after* changing the
    mask: a Ctrl-C pressed just before the call that blocks it is raised from that call, the
    mask changed and never given back, and Ctrl-C would stay blocked for the rest of the
    process. The mask is taken first with a call that changes nothing."""
    import signal

    before = signal.pthread_sigmask(signal.SIG_BLOCK, ())
    try:
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


# -- a process pool (elsewhere) -------------------------------------------------------------


def _run_pooled(
    read: Callable[[Item], Result],
    work: Sequence[Sequence[Item]],
    what: Sequence[str],
    mine: Callable[[Item], Result],
) -> list[list[Result]]:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    context = multiprocessing.get_context("fork" if sys.platform == "linux" else None)
    pool = ProcessPoolExecutor(max_workers=len(work) - 1, mp_context=context)
    try:
        futures = [pool.submit(_read_all, read, chunk) for chunk in work[1:]]
        out = [[mine(item) for item in work[0]]]
        for future in futures:
            try:
                out.append(future.result())
            except BrokenProcessPool:
                raise _lost(what[len(out)], "") from None
    except BaseException:  # Ctrl-C, an error: the chunks still being read are dropped
        # The pool would wait for its processes at exit: they are stopped (a private name,
        # read with care: without it they are only waited for).
        processes = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            _kill(process)
        raise
    pool.shutdown()
    return out


def _read_all(read: Callable[[Item], Result], items: Sequence[Item]) -> list[Result]:
    """``read`` of each item in a pool's process, an error made one that travels back."""
    try:
        return [read(item) for item in items]
    except BaseException as exc:
        raise _portable(exc) from None


def _kill(process: Any) -> None:
    try:
        process.kill()
        process.join()
    except (AttributeError, OSError, ValueError):  # pragma: no cover - gone, or not one
        pass

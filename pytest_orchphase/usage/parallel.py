"""A scan's files read by several processes at once: the work in chunks of about equal bytes,
this process reading the first chunk itself and one other process each of the rest, their
results sent back whole (one list per chunk, not one message per file).

On Linux each other process is this one forked, sending its results through a pipe: no pool,
whose import alone (``concurrent.futures.process`` pulls in ``multiprocessing``, ``logging``,
``socket``, ``subprocess`` and ``tempfile``) costs 20-30 ms, a tenth of a cold scan of 200 MB.
Elsewhere, where forking a process is unsafe or impossible, a process pool's. Either way a
chunk's error is raised here, and a process that ends without its results (killed, out of
memory) is an error, never a scan with files missing. Plain Python, no pytest.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn, TypeVar

from pytest_orchphase.errors import OrchphaseError

Result = TypeVar("Result")
#: Chunks are read by forked processes (else by a process pool's).
FORKS = sys.platform == "linux" and hasattr(os, "fork")


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
    job: Callable[..., Result], args: Sequence[tuple[Any, ...]], what: Sequence[str]
) -> list[Result]:
    """``job(*args[0])`` in this process and ``job(*a)`` for each other ``a`` in a process of
    its own, all at once; their results in order. ``what`` names each chunk's work for an
    error (``"3 files from a.jsonl"``). Where processes are not forked, ``job`` and its
    arguments must pickle."""
    if len(args) < 2:
        return [job(*a) for a in args]
    if FORKS:
        return _run_forked(job, args, what)
    return _run_pooled(job, args, what)


# -- forked processes (Linux) ---------------------------------------------------------------


def _run_forked(
    job: Callable[..., Result], args: Sequence[tuple[Any, ...]], what: Sequence[str]
) -> list[Result]:
    live: dict[int, int] = {}  # forked, not yet reaped: pid -> the read end of its pipe
    try:
        for a in args[1:]:
            read_end, write_end = os.pipe()
            try:
                pid = os.fork()
            except OSError:
                os.close(read_end)
                os.close(write_end)
                raise
            if pid == 0:
                _child(job, a, read_end, write_end)
            os.close(write_end)  # else a later child holds it and no end of file is ever read
            live[pid] = read_end
        out = [job(*args[0])]
        for pid in list(live):
            with open(live[pid], "rb", closefd=False) as pipe:
                payload = pipe.read()
            # No longer tracked before it is reaped: a reaped child's pid may be another
            # process's by the time the cleanup below would kill it.
            os.close(live.pop(pid))
            out.append(_received(payload, _ended(pid), what[len(out)]))
        return out
    finally:  # an error or Ctrl-C here: the children not yet collected are stopped, not waited
        for pid, read_end in live.items():
            os.close(read_end)
            _stop(pid)


def _child(
    job: Callable[..., Any], args: tuple[Any, ...], read_end: int, write_end: int
) -> NoReturn:
    """The forked process: runs ``job``, sends its result (or its error) and leaves at once,
    running nothing of the parent's (no ``finally`` up the stack, no ``atexit``, no buffered
    output flushed twice)."""
    import pickle

    code = 1
    try:
        os.close(read_end)
        try:
            payload = pickle.dumps((True, job(*args)), pickle.HIGHEST_PROTOCOL)
        except BaseException as exc:  # every error, Ctrl-C's too, is the parent's to raise
            payload = pickle.dumps((False, _portable(exc)), pickle.HIGHEST_PROTOCOL)
        with open(write_end, "wb") as pipe:
            pipe.write(payload)
        code = 0
    finally:
        os._exit(code)


def _portable(exc: BaseException) -> BaseException:
    """``exc`` itself when it travels between processes, else a RuntimeError saying it."""
    import pickle

    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:  # any failure to travel
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc


def _received(payload: bytes, ended: str, what: str) -> Any:
    """A child's result; its error raised; an error when it sent none whole."""
    import pickle

    try:
        ok, value = pickle.loads(payload)
    except Exception:  # cut short or empty: the process died before it had sent them
        raise _lost(what, f" ({ended})") from None
    if not ok:
        raise value
    return value


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


def _stop(pid: int) -> None:
    """Kill the child ``pid`` (not yet reaped, so the pid is still its) and reap it."""
    import signal

    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)


# -- a process pool (elsewhere) -------------------------------------------------------------


def _run_pooled(
    job: Callable[..., Result], args: Sequence[tuple[Any, ...]], what: Sequence[str]
) -> list[Result]:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    context = multiprocessing.get_context("fork" if sys.platform == "linux" else None)
    pool = ProcessPoolExecutor(max_workers=len(args) - 1, mp_context=context)
    try:
        futures = [pool.submit(_guarded, job, *a) for a in args[1:]]
        out = [job(*args[0])]
        for future in futures:
            try:
                out.append(future.result())
            except BrokenProcessPool:
                raise _lost(what[len(out)], "") from None
    except BaseException:  # Ctrl-C: drop the chunks not yet read instead of waiting for them
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
    return out


def _guarded(job: Callable[..., Result], *args: Any) -> Result:
    """``job(*args)`` in a pool's process, its error made one that travels back."""
    try:
        return job(*args)
    except BaseException as exc:
        raise _portable(exc) from None

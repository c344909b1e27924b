"""A scan read by several processes (pytest_orchphase.usage.parallel): the same scan as one
process reads, each file read by exactly one process, a chunk's error raised, a process that
dies an error (never a scan with files missing), the other processes stopped on Ctrl-C. Each
test runs with forked processes (Linux) and with the process pool used elsewhere."""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import pytest

from pytest_orchphase.errors import OrchphaseError
from pytest_orchphase.usage import parallel
from pytest_orchphase.usage import scan as scan_module
from pytest_orchphase.usage.records import Scan
from pytest_orchphase.usage.sources.base import FileResult
from pytest_orchphase.usage.sources.claude_code.reader import read_file
from pytest_orchphase.usage.sources.registry import expand_paths
from tests.helpers import ClaudeHome, Line, agent_progress, assistant, usage, user

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="reads /proc; forks")


@pytest.fixture(autouse=True)
def _no_hang() -> Iterator[None]:
    """A test that would wait for ever (a pipe no process ends) fails after a minute instead."""

    def hung(signum: int, frame: object) -> None:
        raise TimeoutError("still waiting after 60 s: a process or a pipe was never ended")

    before = signal.signal(signal.SIGALRM, hung)
    signal.alarm(60)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, before)


_THREADED = parallel._threaded


@pytest.fixture(autouse=True)
def _ctrl_c_raises() -> Iterator[None]:
    """Ctrl-C raises KeyboardInterrupt here, as in a terminal: a process started in the
    background by a shell without job control (``cmd &`` in a script, as CI runners and
    ``setsid`` may start the tests) inherits SIGINT ignored, and Python then installs no
    handler, so a test pressing Ctrl-C would see nothing happen."""
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, before)


@pytest.fixture(autouse=True)
def _ctrl_c_not_left_blocked() -> Iterator[None]:
    """No test leaves Ctrl-C blocked in this process (a test after it could not be stopped,
    and one that presses Ctrl-C would see nothing): found, it is unblocked and the test that
    left it fails."""
    yield
    if signal.SIGINT in signal.pthread_sigmask(signal.SIG_BLOCK, ()):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
        pytest.fail("Ctrl-C was left blocked")


@pytest.fixture(autouse=True)
def _no_other_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test forks as a process where no other thread runs Python code would (a
    pytest-xdist worker has such threads, and would read alone: see
    test_a_process_with_other_threads_reads_alone)."""
    monkeypatch.setattr(parallel, "_threaded", lambda: False)


@pytest.fixture(params=["forked", "pooled"])
def mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setattr(parallel, "FORKS", request.param == "forked")
    monkeypatch.setattr(scan_module, "PARALLEL_BYTES", 1)
    yield request.param


def _sessions(home: ClaudeHome, count: int = 9, calls: int = 3) -> list[Path]:
    """``count`` sessions of ``calls`` calls and one more each, some sharing a call (counted
    once across the files), some with a malformed line, one with a sub-agent's progress
    copies."""
    for n in range(count):
        sid = f"5e55{n:04}-0000-4000-8000-000000000000"
        lines: list[Line] = [user(f"R{n:02}: ticket {n}", session=sid)]
        lines += [
            assistant(f"msg_{n}_{k}", f"req_{n}_{k}", u=usage(inp=n + k, out=7), session=sid)
            for k in range(calls)
        ]
        lines.append(assistant("msg_shared", "req_shared", u=usage(inp=5, out=n), session=sid))
        if n % 3 == 0:
            lines.append("{cut short")
        if n == 4:
            inner = assistant("msg_sub", "req_sub", u=usage(inp=2, out=1), agent_id="a1b2c3d")
            progress = agent_progress(inner, agent_id="a1b2c3d", parent_tool_use_id="toolu_X")
            lines.append({**progress, "sessionId": sid})
        home.session(lines, session=sid)
    return expand_paths([home.root])


def _scan(files: list[Path], workers: int, monkeypatch: pytest.MonkeyPatch) -> Scan:
    monkeypatch.setattr(parallel, "worker_count", lambda: workers)
    return scan_module.scan_files(files)


def _spy(monkeypatch: pytest.MonkeyPatch, log: Path) -> None:
    """Each file read is logged with the pid of the process that read it."""
    real = read_file

    def read(path: Path, prompts: bool = True) -> FileResult:
        with log.open("a") as fh:  # one short append per line: whole lines from every process
            fh.write(f"{os.getpid()} {path}\n")
        return real(path, prompts)

    monkeypatch.setattr(scan_module, "read_file", read)


@pytest.mark.parametrize("workers", [2, 3])
def test_the_scan_is_the_one_process_reads_each_file_read_once(
    home: ClaudeHome, mode: str, workers: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = _sessions(home)
    serial = _scan(files, 1, monkeypatch)
    assert serial.malformed_lines == 3 and serial.files == len(files) == 9
    log = tmp_path / "reads.log"
    _spy(monkeypatch, log)
    assert _scan(files, workers, monkeypatch) == serial
    reads = [line.split(" ", 1) for line in log.read_text().splitlines()]
    assert sorted(path for _, path in reads) == sorted(map(str, files))  # each exactly once
    readers = {pid for pid, _ in reads}
    assert str(os.getpid()) in readers
    # This process and one forked per other chunk (a pool may give two chunks to one process).
    assert len(readers) == workers if mode == "forked" else len(readers) >= 2


def test_results_larger_than_the_pipe_arrive_whole(
    home: ClaudeHome, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pipe of one page and results of several (40 calls a file): every result comes in
    pieces, taken in between this process's own files and at the end; the scan is the same."""
    monkeypatch.setattr(parallel, "FORKS", True)
    monkeypatch.setattr(scan_module, "PARALLEL_BYTES", 1)
    monkeypatch.setattr(parallel, "PIPE_BYTES", 4096)
    files = _sessions(home, count=12, calls=40)
    serial = _scan(files, 1, monkeypatch)
    assert _scan(files, 3, monkeypatch) == serial


def test_results_are_taken_in_however_the_pipe_cuts_them() -> None:
    """Results written in pieces of 1 to 5,000 bytes, taken in after each: a piece may end a
    result and begin the next, or hold several; each result comes in whole, in order."""
    import pickle
    import random

    rng = random.Random(16)
    sent = [(True, "x" * rng.randrange(0, 3000)) for _ in range(300)]
    stream = b"".join(
        len(p).to_bytes(8, "little") + p
        for p in (pickle.dumps(frame, pickle.HIGHEST_PROTOCOL) for frame in sent)
    )
    read_end, write_end = os.pipe()
    inbox: parallel._Inbox[str] = parallel._Inbox(read_end, len(sent), "the test's")
    try:
        at = 0
        while at < len(stream):
            step = rng.randrange(1, 5001)
            os.write(write_end, stream[at : at + step])
            at += step
            inbox.take()
        os.close(write_end)
        inbox.take(until_end=True)
        assert inbox.results("ended") == [text for _, text in sent]
    finally:
        inbox.close()


def _second_fork_fails(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """``os.fork`` failing the second time (too many processes); the forks tried."""
    real = os.fork
    forks: list[int] = []

    def second_fails() -> int:
        forks.append(1)
        if len(forks) == 2:
            raise BlockingIOError(11, "Resource temporarily unavailable")
        return real()

    monkeypatch.setattr(os, "fork", second_fails)
    return forks


def test_progress_counts_each_file_once(
    home: ClaudeHome, mode: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Read by three processes (one of them this one's, when a fork fails): N updates, the
    last N/N."""
    files = _sessions(home)
    monkeypatch.setattr(parallel, "worker_count", lambda: 3)
    if mode == "forked":
        _second_fork_fails(monkeypatch)
    scan_module.scan_files(files, progress=True)
    told = [part for part in capsys.readouterr().err.split("\r") if part.startswith("scanning")]
    assert len(told) == len(files) == 9
    assert told[-1].startswith(f"scanning {len(files)}/{len(files)} files")


def test_files_are_shared_out_by_bytes() -> None:
    sizes = [5, 1, 9, 3, 3, 7, 2]
    got = parallel.chunks(sizes, 3)
    assert sorted(i for chunk in got for i in chunk) == list(range(len(sizes)))
    assert all(chunk == sorted(chunk) for chunk in got)
    assert sorted(sum(sizes[i] for i in chunk) for chunk in got) == [10, 10, 10]
    assert parallel.chunks([4, 4], 3) == [[0], [1]]  # no empty chunk


def _elsewhere(monkeypatch: pytest.MonkeyPatch, act: object) -> None:
    """``act(path)`` instead of reading, in every process but this one."""
    here = os.getpid()
    real = read_file

    def read(path: Path, prompts: bool = True) -> FileResult:
        if os.getpid() != here:
            act(path)  # type: ignore[operator]
        return real(path, prompts)

    monkeypatch.setattr(scan_module, "read_file", read)


class _Unpicklable(Exception):
    def __reduce__(self) -> str | tuple[object, ...]:
        raise TypeError("not to be pickled")


@pytest.mark.parametrize(
    ("error", "raised", "told"),
    [
        (ValueError, ValueError, r"^cannot make sense of 5e55.*\.jsonl$"),
        (_Unpicklable, RuntimeError, r"_Unpicklable: cannot make sense of 5e55.*\.jsonl"),
    ],
)
def test_an_error_in_another_process_is_raised_here(
    home: ClaudeHome,
    mode: str,
    error: type[Exception],
    raised: type[Exception],
    told: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The error itself; one that cannot travel between processes, as a RuntimeError naming
    it."""
    files = _sessions(home)

    def fail(path: Path) -> None:
        raise error(f"cannot make sense of {path.name}")

    _elsewhere(monkeypatch, fail)
    with pytest.raises(raised, match=told):
        _scan(files, 2, monkeypatch)


def _children() -> dict[int, str]:
    """This process's child processes, with their state (``Z``: ended, not reaped)."""
    out: dict[int, str] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        state, ppid = text.rsplit(") ", 1)[1].split()[:2]
        if int(ppid) == os.getpid():
            out[int(stat.parent.name)] = state
    return out


def test_a_process_that_dies_is_an_error_not_files_missing(
    home: ClaudeHome, mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = _sessions(home)
    before = _children()

    def die(path: Path) -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    _elsewhere(monkeypatch, die)
    lost = r"the process reading \d+ file\(s\), the first .*\.jsonl, ended without its results"
    with pytest.raises(OrchphaseError, match=lost) as err:
        _scan(files, 2, monkeypatch)
    if mode == "forked":
        assert "killed by signal 9" in str(err.value)
        assert _children().keys() <= before.keys()  # reaped (a pool's from before may be gone)


def test_a_result_cut_short_is_an_error(home: ClaudeHome, monkeypatch: pytest.MonkeyPatch) -> None:
    """A process killed while it sends a result: what came is not taken for a result."""
    monkeypatch.setattr(parallel, "FORKS", True)
    monkeypatch.setattr(scan_module, "PARALLEL_BYTES", 1)
    files = _sessions(home)

    def half(pipe: BinaryIO, payload: bytes) -> None:
        pipe.write(len(payload).to_bytes(8, "little"))  # says more is to come than comes
        pipe.write(payload[: len(payload) // 2])
        pipe.flush()
        os.kill(os.getpid(), signal.SIGKILL)

    monkeypatch.setattr(parallel, "_send", half)
    with pytest.raises(OrchphaseError, match=r"ended without its results \(killed by signal 9\)"):
        _scan(files, 2, monkeypatch)


@pytest.mark.parametrize("workers", [2, 3])
def test_what_is_no_result_is_an_error_and_its_sender_stopped(
    home: ClaudeHome, workers: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bytes that do not unpickle: an error, and the processes are reaped, none left waiting on
    a full pipe (with three, the second must not hold the first's pipe open)."""
    monkeypatch.setattr(parallel, "FORKS", True)
    monkeypatch.setattr(scan_module, "PARALLEL_BYTES", 1)
    monkeypatch.setattr(parallel, "PIPE_BYTES", 4096)
    files = _sessions(home, count=12, calls=40)
    before = _children()

    def garbage(pipe: BinaryIO, payload: bytes) -> None:
        pipe.write(len(payload).to_bytes(8, "little") + b"\xff" * len(payload))
        pipe.flush()

    monkeypatch.setattr(parallel, "_send", garbage)
    with pytest.raises(OrchphaseError, match=r"ended without its results \(it sent what is no"):
        _scan(files, workers, monkeypatch)
    assert _children().keys() <= before.keys()


def test_ctrl_c_here_stops_the_other_processes(
    home: ClaudeHome, mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = _sessions(home)
    before = _children()
    here = os.getpid()
    real = read_file

    def read(path: Path, prompts: bool = True) -> FileResult:
        if os.getpid() != here:
            time.sleep(120)  # still reading when this process is interrupted
        else:
            raise KeyboardInterrupt
        return real(path, prompts)

    monkeypatch.setattr(scan_module, "read_file", read)
    with pytest.raises(KeyboardInterrupt):
        _scan(files, 3, monkeypatch)
    assert _children().keys() <= before.keys()  # killed and reaped, not left reading


def test_a_process_that_cannot_be_forked_leaves_its_chunk_to_this_one(
    home: ClaudeHome, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Too many processes (EAGAIN), no memory: the chunks no process took are read here, the
    scan the same (never an error, never a file left out)."""
    monkeypatch.setattr(parallel, "FORKS", True)
    monkeypatch.setattr(scan_module, "PARALLEL_BYTES", 1)
    files = _sessions(home)
    serial = _scan(files, 1, monkeypatch)
    forks = _second_fork_fails(monkeypatch)
    assert _scan(files, 4, monkeypatch) == serial
    assert len(forks) == 3

    def none() -> int:
        raise OSError(12, "Cannot allocate memory")

    monkeypatch.setattr(os, "fork", none)
    assert _scan(files, 3, monkeypatch) == serial

    def no_pipe() -> tuple[int, int]:
        raise OSError(24, "Too many open files")

    monkeypatch.setattr(os, "pipe", no_pipe)
    assert _scan(files, 3, monkeypatch) == serial


def test_a_reaped_process_is_never_stopped_again(
    home: ClaudeHome, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first other process done and reaped, the second fails: only what is left is
    stopped (a reaped pid may be another process's by then; killing it again is an error
    here, ProcessLookupError, when no process has taken it yet)."""
    monkeypatch.setattr(parallel, "FORKS", True)
    monkeypatch.setattr(scan_module, "PARALLEL_BYTES", 1)
    files = _sessions(home)
    third = files[parallel.chunks([f.stat().st_size for f in files], 3)[2][0]]

    def fail(path: Path) -> None:
        if path == third:
            raise ValueError(f"cannot make sense of {path.name}")

    _elsewhere(monkeypatch, fail)
    with pytest.raises(ValueError, match="cannot make sense of"):
        _scan(files, 3, monkeypatch)


def test_ctrl_c_as_a_process_is_forked_leaves_none_behind(
    home: ClaudeHome, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C arriving right after a fork, in this process and in the child: this one stops
    and stops its children (none unrecorded), and no child runs the caller's code."""
    monkeypatch.setattr(parallel, "FORKS", True)
    monkeypatch.setattr(scan_module, "PARALLEL_BYTES", 1)
    files = _sessions(home)
    before = _children()
    real = os.fork

    def interrupted() -> int:
        pid = real()
        signal.raise_signal(signal.SIGINT)  # in both: held off until it can do no harm
        return pid

    monkeypatch.setattr(os, "fork", interrupted)
    ran = tmp_path / "ran.log"
    try:
        with pytest.raises(KeyboardInterrupt):
            _scan(files, 3, monkeypatch)
    finally:
        with ran.open("a") as fh:  # a child that unwound into this code would write too
            fh.write(f"{os.getpid()}\n")
    assert ran.read_text() == f"{os.getpid()}\n"
    assert _children().keys() <= before.keys()


def test_an_error_of_ours_that_cannot_travel_stays_a_usage_error() -> None:
    from pytest_orchphase.errors import InvalidFile

    problems = [OrchphaseError("bad", path="a.yaml", line=3), OrchphaseError("worse")]
    sent = parallel._portable(InvalidFile(problems))
    assert type(sent) is OrchphaseError or isinstance(sent, InvalidFile)
    assert "bad" in str(sent) and "worse" in str(sent)


def test_a_process_with_other_threads_reads_alone(
    home: ClaudeHome, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another thread running Python code (a pytest-xdist worker's) may hold a lock at the
    fork that the child would wait on for ever: this process then reads every file itself."""
    import threading

    monkeypatch.setattr(parallel, "_threaded", _THREADED)
    monkeypatch.setattr(parallel, "FORKS", True)
    monkeypatch.setattr(scan_module, "PARALLEL_BYTES", 1)
    files = _sessions(home)
    serial = _scan(files, 1, monkeypatch)
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        log = tmp_path / "reads.log"
        _spy(monkeypatch, log)
        assert _scan(files, 3, monkeypatch) == serial
    finally:
        stop.set()
        other.join()
    assert {line.split(" ", 1)[0] for line in log.read_text().splitlines()} == {str(os.getpid())}


def test_threads_that_run_no_python_code_do_not_stop_the_fork(
    home: ClaudeHome, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """numpy's BLAS threads (numpy comes with matplotlib, and pytest-randomly imports it): they
    run no Python code and hold no lock the child needs, so the scan still forks (and Python
    3.12 and 3.13, which warn of a fork beside other Python threads, say nothing of them)."""
    numpy = pytest.importorskip("numpy")
    numpy.ones((256, 256)) @ numpy.ones((256, 256))  # its threads (stopped at a fork) again
    if len(os.listdir("/proc/self/task")) < 2:
        pytest.skip("no thread besides this one here")
    monkeypatch.setattr(parallel, "_threaded", _THREADED)
    if len(sys._current_frames()) > 1:
        pytest.skip("another thread runs Python code here (a pytest-xdist worker)")
    monkeypatch.setattr(parallel, "FORKS", True)
    monkeypatch.setattr(scan_module, "PARALLEL_BYTES", 1)
    files = _sessions(home)
    log = tmp_path / "reads.log"
    _spy(monkeypatch, log)
    _scan(files, 2, monkeypatch)
    assert len({line.split(" ", 1)[0] for line in log.read_text().splitlines()}) == 2


def _slow_elsewhere_interrupted_here(monkeypatch: pytest.MonkeyPatch) -> None:
    """The other processes still reading when this one is interrupted (Ctrl-C)."""
    here = os.getpid()
    real = read_file

    def read(path: Path, prompts: bool = True) -> FileResult:
        if os.getpid() == here:
            raise KeyboardInterrupt
        time.sleep(120)
        return real(path, prompts)

    monkeypatch.setattr(scan_module, "read_file", read)


def test_a_second_ctrl_c_while_stopping_leaves_none_behind(
    home: ClaudeHome, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parallel, "FORKS", True)
    monkeypatch.setattr(scan_module, "PARALLEL_BYTES", 1)
    files = _sessions(home)
    before = _children()
    _slow_elsewhere_interrupted_here(monkeypatch)
    real_kill = os.kill

    def kill_and_interrupt(pid: int, sig: int) -> None:
        real_kill(pid, sig)
        signal.raise_signal(signal.SIGINT)  # pressed again while the first is handled

    monkeypatch.setattr(os, "kill", kill_and_interrupt)
    with pytest.raises(KeyboardInterrupt):
        _scan(files, 4, monkeypatch)
    monkeypatch.setattr(os, "kill", real_kill)
    assert _children().keys() <= before.keys()


def test_a_process_holds_no_pipe_of_those_forked_before_it(
    home: ClaudeHome, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Should this process die, each other process finds its pipe closed at once (not once the
    ones forked after it have ended)."""
    monkeypatch.setattr(parallel, "FORKS", True)
    monkeypatch.setattr(scan_module, "PARALLEL_BYTES", 1)
    files = _sessions(home)

    def pipes() -> set[str]:
        held = set()
        for fd in os.listdir("/proc/self/fd"):
            try:
                target = os.readlink(f"/proc/self/fd/{fd}")
            except OSError:
                continue
            if target.startswith("pipe:"):
                held.add(target)
        return held

    already = pipes()
    log = tmp_path / "pipes.log"

    def note(path: Path) -> None:
        with log.open("a") as fh:
            fh.write(f"{os.getpid()} {len(pipes() - already)}\n")

    _elsewhere(monkeypatch, note)
    _scan(files, 4, monkeypatch)
    held = {line.split()[0]: line.split()[1] for line in log.read_text().splitlines()}
    assert len(held) == 3 and set(held.values()) == {"1"}  # each its own pipe only


@pytest.mark.parametrize("where", ["fork", "stop"])
def test_a_ctrl_c_raised_as_it_is_held_off_leaves_it_unblocked(
    monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    """Python's `pthread_sigmask` runs the handlers of signals already received after changing
    the mask: a Ctrl-C pressed just before the call that holds Ctrl-C off is raised from that
    call, with Ctrl-C blocked. The mask was then never given back, and Ctrl-C stayed blocked
    for the rest of the process (this suite's test of a Ctrl-C as a process is forked failed
    twice under load after such a test). Raised there, it leaves the mask as it was."""
    real = signal.pthread_sigmask

    def late(how: int, mask: object) -> set[int | signal.Signals]:
        previous = real(how, mask)  # type: ignore[arg-type]
        if how == signal.SIG_BLOCK and signal.SIGINT in set(mask):  # type: ignore[call-overload]
            raise KeyboardInterrupt  # as Python raises a Ctrl-C received just before the call
        return previous

    monkeypatch.setattr(signal, "pthread_sigmask", late)
    try:
        with pytest.raises(KeyboardInterrupt):
            if where == "fork":
                parallel._fork(lambda item: item, [1], "one item", {})
            else:
                parallel._stop_all({})
        assert signal.SIGINT not in real(signal.SIG_BLOCK, ())
    finally:
        real(signal.SIG_UNBLOCK, {signal.SIGINT})

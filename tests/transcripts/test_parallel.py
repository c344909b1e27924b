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


@pytest.fixture(params=["forked", "pooled"])
def mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setattr(parallel, "FORKS", request.param == "forked")
    monkeypatch.setattr(scan_module, "PARALLEL_BYTES", 1)
    yield request.param


def _sessions(home: ClaudeHome, count: int = 9) -> list[Path]:
    """``count`` sessions of a few calls each, some sharing a call (counted once across the
    files), some with a malformed line, one with a sub-agent's progress copies."""
    for n in range(count):
        sid = f"5e55{n:04}-0000-4000-8000-000000000000"
        lines: list[Line] = [user(f"R{n:02}: ticket {n}", session=sid)]
        lines += [
            assistant(f"msg_{n}_{k}", f"req_{n}_{k}", u=usage(inp=n + k, out=7), session=sid)
            for k in range(3)
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
    assert len({pid for pid, _ in reads}) == workers  # this process and workers - 1 others
    assert str(os.getpid()) in {pid for pid, _ in reads}


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
    lost = r"the process reading \d+ file\(s\) from .* ended without its results"
    with pytest.raises(OrchphaseError, match=lost) as err:
        _scan(files, 2, monkeypatch)
    if mode == "forked":
        assert "killed by signal 9" in str(err.value)
        assert _children() == before  # reaped


def test_ctrl_c_here_stops_the_other_processes(
    home: ClaudeHome, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parallel, "FORKS", True)
    monkeypatch.setattr(scan_module, "PARALLEL_BYTES", 1)
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
    assert _children() == before  # killed and reaped, not left reading

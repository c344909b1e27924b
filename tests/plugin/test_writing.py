"""How files are written: the user's umask for new files, an existing file's own mode, special
files (a named pipe, a device such as /dev/null) written into and never replaced, a report, the
JUnit file or the step summary on /dev/stdout (a pipe, a file it is redirected to, a link to it)
written whole on lines of its own beside pytest's output, and GitHub's step summary kept at most
1 MiB with no chart it cannot show."""

from __future__ import annotations

import json
import os
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from pytest_orchphase.cli import main
from pytest_orchphase.files import STEP_SUMMARY_LIMIT, append_step_summary, atomic_write
from tests.helpers import run_phase_process
from tests.plugin.test_options_given_once import _two_phases
from tests.plugin.test_report_paths import _passing_phase

QUIET = ("-p", "no:cacheprovider", "-p", "no:randomly")


@pytest.fixture
def umask_027() -> Iterator[int]:
    """A umask other than the usual 022, so that the mode it gives can be told apart."""
    old = os.umask(0o027)
    try:
        yield 0o027
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_reports_and_chart_get_the_umask_and_an_existing_file_keeps_its_mode(
    project: pytest.Pytester, umask_027: int
) -> None:
    pytest.importorskip("matplotlib")
    kept = project.path / "r.json"
    kept.write_text("{}")
    kept.chmod(0o604)
    result = project.runpytest(
        *QUIET, "--phase", "a1", "--orchphase-json=r.json", "--orchphase-md", "out/r.md"
    )
    result.assert_outcomes(passed=6)
    assert mode(kept) == 0o604
    assert mode(project.path / "out/r.md") == 0o640
    assert mode(project.path / "out/r-usage.png") == 0o640


def test_cli_files_get_the_umask(
    project: pytest.Pytester, umask_027: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project.path)
    assert main(["strategy", "--for", "a3"]) == 0
    assert main(["schema", "--out", "schemas"]) == 0
    assert main(["init", "a4", "--tickets", "R08"]) == 0
    written = [
        project.path / "docs/orchestration-data/phase-a3-strategy.yaml",
        *sorted((project.path / "schemas").iterdir()),
        *sorted((project.path / "docs/orchestration-data/phase-a4-r08").iterdir()),
        project.path / "criteria/a4.yaml",
    ]
    assert len(written) == 8
    assert {p.name: mode(p) for p in written} == {p.name: 0o640 for p in written}


def test_atomic_write_follows_a_link_and_keeps_it(tmp_path: Path) -> None:
    (tmp_path / "real.json").write_text("old")
    (tmp_path / "link.json").symlink_to("real.json")
    atomic_write(tmp_path / "link.json", b"new")
    assert (tmp_path / "link.json").is_symlink()
    assert (tmp_path / "real.json").read_text() == "new"


@pytest.fixture
def null_device(tmp_path: Path) -> Path:
    """A device like /dev/null (same major and minor numbers), in the test's own folder."""
    path = tmp_path / "null"
    try:
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except OSError as exc:
        pytest.skip(f"cannot make a device here: {exc.strerror}")
    return path


@pytest.mark.parametrize("option", ["--orchphase-json", "--orchphase-md"])
def test_a_device_report_path_is_written_into_not_replaced(
    project: pytest.Pytester, null_device: Path, option: str
) -> None:
    # the `=` spelling: a path outside the project given apart moves pytest's rootdir (issue 9.8)
    result = project.runpytest(*QUIET, "--phase", "a1", f"{option}={null_device}")
    result.assert_outcomes(passed=6)
    assert stat.S_ISCHR(null_device.stat().st_mode)
    assert sorted(p.name for p in null_device.parent.iterdir()) == ["null"]  # no chart beside it


def test_a_named_pipe_report_path_is_written_into(project: pytest.Pytester) -> None:
    fifo = project.path / "report.fifo"
    os.mkfifo(fifo)
    received: list[bytes] = []

    def read() -> None:
        with fifo.open("rb") as fh:  # waits for the run to open it for writing
            received.append(fh.read())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    project.runpytest(*QUIET, "--phase", "a1", "--orchphase-json", str(fifo)).assert_outcomes(
        passed=6
    )
    reader.join(timeout=60)  # a guard against a hang only: the run has already ended
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert received and received[0].startswith(b"{") and b'"phase": "a1"' in received[0]


def test_a_step_summary_that_is_a_pipe_with_no_reader_does_not_hang(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Opening a pipe with no reader for writing waits forever: the run says so and ends (in a
    child process, so that a hang fails this test instead of holding the suite)."""
    fifo = project.path / "summary.fifo"
    os.mkfifo(fifo)
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(fifo))
    result = project.runpytest_subprocess(*QUIET, "--phase", "a1", timeout=120)
    result.assert_outcomes(passed=6)
    assert result.ret == pytest.ExitCode.USAGE_ERROR  # a report asked for was not written
    result.stdout.fnmatch_lines(
        ["orchphase: error: summary.fifo: cannot write the report: a named pipe with no reader"]
    )
    assert stat.S_ISFIFO(fifo.stat().st_mode)


def test_step_summary_that_is_full_gets_nothing(tmp_path: Path) -> None:
    path = tmp_path / "summary.md"
    path.write_bytes(b"x" * (STEP_SUMMARY_LIMIT - 40))  # not even the truncation note fits
    assert append_step_summary(path, "line\n" * 10_000) == "full"
    assert path.stat().st_size == STEP_SUMMARY_LIMIT - 40


@pytest.mark.parametrize("used", [0, 1, 1000, STEP_SUMMARY_LIMIT - 100, STEP_SUMMARY_LIMIT - 73])
def test_step_summary_never_ends_over_1_mib(tmp_path: Path, used: int) -> None:
    path = tmp_path / "summary.md"
    path.write_bytes(b"x" * used)
    done = append_step_summary(path, "é line\n" * 200_000)  # 1.8 MB, two-byte characters
    assert path.stat().st_size <= STEP_SUMMARY_LIMIT
    assert done in ("truncated", "full")
    path.read_bytes().decode()  # never cut inside a character


def test_step_summary_that_fits_exactly_is_whole(tmp_path: Path) -> None:
    path = tmp_path / "summary.md"
    text = "x" * 99 + "\n"
    path.write_bytes(b"y" * (STEP_SUMMARY_LIMIT - 101))
    assert append_step_summary(path, text) == "whole"
    assert path.stat().st_size == STEP_SUMMARY_LIMIT


def test_step_summary_names_the_chart_and_links_no_relative_image(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("matplotlib")
    summary = project.path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    project.runpytest(*QUIET, "--phase", "a1", "--orchphase-md", "out/r.md").assert_outcomes(
        passed=6
    )
    assert "](r-usage.png)" in (project.path / "out/r.md").read_text()  # beside the file: fine
    text = summary.read_text()
    assert "](" not in text.replace("](#", "")  # no link a step summary cannot follow
    assert "The chart is in the run's files: out/r-usage.png" in text


@pytest.mark.parametrize("verbosity", ["-q", "-v", "-rA"])
def test_the_json_report_on_stdout_a_pipe_is_written(
    pytester: pytest.Pytester, verbosity: str
) -> None:
    """Whole, on lines of its own after pytest's progress line (not after its ``[100%]``), so
    that a program can cut it out of the output."""
    _passing_phase(pytester.path)
    run = run_phase_process(pytester.path, verbosity, "--orchphase-json=/dev/stdout")
    assert run.returncode == 0, run.stdout
    lines = run.stdout.splitlines()
    start = lines.index("{")
    report = json.loads("\n".join(lines[start : lines.index("}", start) + 1]))
    assert report["decisions"]["proceed"]["answer"] == "YES", run.stdout


def test_the_step_summary_on_stdout_a_pipe_is_written(pytester: pytest.Pytester) -> None:
    """$GITHUB_STEP_SUMMARY on /dev/stdout, stdout a pipe: the summary is appended into the
    pipe by that name (resolved, it is /proc/<pid>/fd/1's pipe:[n], no path to open)."""
    _passing_phase(pytester.path)
    run = run_phase_process(pytester.path, env={"GITHUB_STEP_SUMMARY": "/dev/stdout"})
    assert run.returncode == 0, run.stdout
    assert "# Phase p1 analysis" in run.stdout, run.stdout


def test_the_json_report_on_stdout_redirected_to_a_file_keeps_pytests_output(
    pytester: pytest.Pytester,
) -> None:
    _passing_phase(pytester.path)
    out = pytester.path / "out.txt"
    with out.open("wb") as stdout:
        run = run_phase_process(pytester.path, "--orchphase-json=/dev/stdout", stdout=stdout)
    text = out.read_text()
    assert run.returncode == 0, text
    assert '"answer": "YES"' in text, text
    assert "test session starts" in text, text  # pytest's header, before the report


def test_the_junit_file_and_the_step_summary_on_stdout_a_pipe_are_no_usage_error(
    pytester: pytest.Pytester,
) -> None:
    _passing_phase(pytester.path)
    summary = {"GITHUB_STEP_SUMMARY": "/dev/stdout"}
    run = run_phase_process(pytester.path, "--junitxml=/dev/stdout", env=summary)
    assert run.returncode == 0, run.stdout
    assert "# Phase p1 analysis" in run.stdout, run.stdout


def test_a_report_on_a_link_to_stdout_redirected_to_a_file_keeps_pytests_output(
    pytester: pytest.Pytester,
) -> None:
    _two_phases(pytester)
    (pytester.path / "out.json").symlink_to("/dev/stdout")
    out = pytester.path / "out.txt"
    with out.open("wb") as stdout:
        run = run_phase_process(pytester.path, "--orchphase-json=out.json", stdout=stdout)
    text = out.read_text()
    assert run.returncode == 0, text
    assert '"answer": "YES"' in text, text
    assert "test session starts" in text, text  # pytest's header, before the report

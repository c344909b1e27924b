"""Ninth adversarial round, part B: configuration, time and phases. The log's stamps and the
measured calls' timestamps a wall time is taken from, and the report options given paths a user
can get wrong. Each test is a finding on main (xfail strict until fixed); the reason says what is
observed and what is expected."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import (
    Phase,
    YamlData,
    assert_not_yes,
    assistant,
    decision,
    flat_ticket,
    run_phase,
    staged_ticket,
    usage,
    write_jsonl,
)

WALL_30: YamlData = {"id": "wall", "metric": "wall_time_minutes", "max": 30}
CAP: YamlData = {"id": "cap", "for_each": "ticket", "metric": "tokens", "measure": "total"}


def _stamped(start: object, end: object) -> YamlData:
    """A Sonnet ticket whose only stage that ran is its implementation, stamped ``start`` to
    ``end`` (its branch and review skipped)."""
    ticket = staged_ticket(
        {"actual_tokens": 5_000, "status": "completed", "start_time": start, "end_time": end}
    )
    ticket["branch_creation"]["status"] = "skipped"
    ticket["review"] = {"model": "sonnet", "status": "skipped"}
    return ticket


def test_a_stamp_written_as_a_bare_number_is_no_time(pytester: pytest.Pytester) -> None:
    Phase.of("p1", [WALL_30], {"T01": _stamped(1000, 1230)}).write(pytester.path)
    result = run_phase(pytester, "p1")
    assert_not_yes(pytester, result)
    result.stdout.fnmatch_lines(["*execution-log.yaml:*tickets.T01.implementation.start_time*"])


def test_a_measured_call_of_no_known_time_leaves_no_exact_wall_time(
    pytester: pytest.Pytester,
) -> None:
    ticket = _stamped("2026-02-07T10:00:00Z", "2026-02-07T10:20:00Z")
    sessions = [{"path": "t01.jsonl", "ticket": "T01"}]
    metadata = {"phase": "p1", "tickets": ["T01"], "sessions": sessions}
    folder = Phase.of("p1", [WALL_30], {"T01": ticket}, metadata=metadata).write(pytester.path)
    model = "claude-sonnet-4-5-20250929"
    first = assistant("m1", "q1", model=model, u=usage(inp=10, out=5), ts="2026-02-07T10:00:05Z")
    late = assistant("m2", "q2", model=model, u=usage(inp=10, out=5))
    del late["timestamp"]
    write_jsonl(folder / "t01.jsonl", [first, late])
    result = run_phase(pytester, "p1")
    assert_not_yes(pytester, result)
    result.stdout.fnmatch_lines(["*wall_time_minutes at least 20.0 min*record no time*"])


def _passing_phase(root: Path) -> Path:
    """Phase p1: one Sonnet ticket of 20,000 tokens under a cap of 30,000 (YES); its folder."""
    return Phase.of("p1", [{**CAP, "max": 30_000}], {"T01": flat_ticket()}).write(root)


@pytest.mark.parametrize(
    ("option", "own_file"),
    [
        ("--orchphase-json", "criteria/p1.yaml"),
        ("--orchphase-md", "docs/orchestration-data/phase-p1/execution-log.yaml"),
        ("--junitxml", "docs/orchestration-data/phase-p1/metadata.yaml"),
    ],
)
def test_a_report_path_on_a_file_of_the_phase_leaves_it_as_it_was(
    pytester: pytest.Pytester, option: str, own_file: str
) -> None:
    _passing_phase(pytester.path)
    before = (pytester.path / own_file).read_bytes()
    result = pytester.runpytest("--phase", "p1", "-p", "no:randomly", f"{option}={own_file}")
    assert (pytester.path / own_file).read_bytes() == before
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str()
    result.stderr.fnmatch_lines([f"*{own_file}*{option} names *, which the run reads*"])


def test_two_reports_given_one_path_is_a_usage_error(pytester: pytest.Pytester) -> None:
    _passing_phase(pytester.path)
    result = pytester.runpytest(
        "--phase", "p1", "-p", "no:randomly", "--orchphase-json=out.txt", "--orchphase-md=out.txt"
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str()
    result.stderr.fnmatch_lines(["*out.txt*--orchphase-json and --orchphase-md name one file*"])
    assert not (pytester.path / "out.txt").exists()


def test_a_run_that_exits_4_leaves_no_json_report_saying_yes(pytester: pytest.Pytester) -> None:
    _passing_phase(pytester.path)
    result = run_phase(pytester, "p1", "--orchphase-md=criteria/p1.yaml/analysis.md")
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str()
    assert not (pytester.path / "r.json").exists() or decision(pytester) != "YES"


def test_two_phases_named_on_the_command_line_do_not_pass_on_the_last_alone(
    pytester: pytest.Pytester,
) -> None:
    cap = {**CAP, "max": 30_000}
    Phase.of("p0", [cap], {"T01": flat_ticket(actual_tokens=45_000)}).write(pytester.path)
    Phase.of("p1", [cap], {"T01": flat_ticket()}).write(pytester.path)
    result = pytester.runpytest("--phase", "p0", "--phase", "p1", "-p", "no:randomly")
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str()
    result.stderr.fnmatch_lines(["*`--phase p0` and `--phase p1` given on one command line*"])

"""A phase run behaves like any pytest run: pytest-xdist gives the same results as a serial run,
--lf reruns the failed criteria only, the order of items does not matter, --co writes nothing."""

from __future__ import annotations

import importlib.util

import pytest

from tests.hardening.snapshot import tree
from tests.helpers import Phase, fail_a2

HEADER = "criterion"
DECISION = "Proceed to phase"


def summary(result: pytest.RunResult) -> tuple[list[str], str]:
    """The summary table's rows (in printed order) and the decision line."""
    lines = result.stdout.lines
    start = next(i for i, line in enumerate(lines) if line.split()[:2] == [HEADER, "ticket"])
    rows = []
    for line in lines[start + 2 :]:  # past the header and its rule
        if not line.strip():
            break
        rows.append(" ".join(line.split()))
    decision = next(line for line in lines if line.startswith(DECISION))
    return rows, decision


def outcomes(result: pytest.RunResult) -> dict[str, int]:
    return {k: v for k, v in result.parseoutcomes().items() if k not in ("seconds",)}


def criteria_order(project: pytest.Pytester, phase: str) -> list[str]:
    """The item names in collection order, which is the criteria file's order."""
    listed = project.runpytest("--phase", phase, "--co", "-q", "-p", "no:randomly")
    return [line.split("::", 1)[1] for line in listed.stdout.lines if "::" in line]


@pytest.mark.parametrize("phase", ["a1", "a2", "a3"])
def test_two_workers_give_the_serial_outcomes_table_and_decision(
    project: pytest.Pytester, phase: str
) -> None:
    # a2 fails two criteria and a3 its gate: failures travel through xdist too
    fail_a2(project.path)
    serial = project.runpytest_subprocess("--phase", phase, "-p", "no:randomly")
    parallel = project.runpytest_subprocess("--phase", phase, "-n", "2", "-p", "no:randomly")
    assert parallel.ret == serial.ret
    assert outcomes(parallel) == outcomes(serial)
    assert summary(parallel) == summary(serial)
    assert "created: 2/2 workers" in parallel.stdout.str()
    # Rows in the criteria file's order, not in the order the workers finished.
    names = criteria_order(project, phase)
    rows, _ = summary(parallel)
    assert [row.split()[0] for row in rows] == [name.split("[")[0] for name in names]


def test_last_failed_reruns_only_the_failed_criteria(project: pytest.Pytester) -> None:
    a1 = Phase.example("a1")
    a1.stage("R06", "implementation")["actual_tokens"] = 19200  # R06: 42,000
    a1.stage("R06", "implementation")["fix_loops"] = 2  # R06's quality
    a1.write(project.path)
    first = project.runpytest("--phase", "a1")
    first.assert_outcomes(passed=4, failed=2)
    again = project.runpytest("--phase", "a1", "--lf", "-v")
    again.assert_outcomes(failed=2, deselected=4)
    ran = sorted(line.split()[0] for line in again.stdout.lines if " FAILED" in line)
    assert ran == ["criteria/a1.yaml::quality[R06]", "criteria/a1.yaml::token-efficiency[R06]"]
    again.stdout.fnmatch_lines(["Proceed to phase a2: NO — failing: *"])


@pytest.mark.skipif(
    importlib.util.find_spec("pytest_randomly") is None, reason="pytest-randomly is not installed"
)
@pytest.mark.parametrize("seed", ["1", "2", "3"])
def test_random_order_gives_the_same_outcomes_table_and_decision(
    project: pytest.Pytester, seed: str
) -> None:
    fail_a2(project.path)
    plain = project.runpytest("--phase", "a3", "-p", "no:randomly")
    shuffled = project.runpytest("--phase", "a3", "-p", "randomly", f"--randomly-seed={seed}")
    assert outcomes(shuffled) == outcomes(plain)
    assert summary(shuffled) == summary(plain)


def test_collect_only_writes_nothing(project: pytest.Pytester) -> None:
    a1 = Phase.example("a1")
    a1.metadata["sessions"] = [{"path": "s.jsonl"}]
    data = a1.write(project.path)
    (data / "s.jsonl").write_text("not a transcript\n")  # read, it would fail the items
    before = tree(project.path)
    for args in (["--co"], ["--co", "-q"], ["--co", "-n", "2"]):
        result = project.runpytest_subprocess("--phase", "a1", "-p", "no:randomly", *args)
        assert result.ret == 0, result.stdout.str()
        assert "token-efficiency[R03]" in result.stdout.str()
    assert tree(project.path) == before

"""pass@k and pass^k over the runs of each ticket across a phase and the phases it requires."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_orchphase.errors import MetricUnavailable
from pytest_orchphase.evaluate.runner import PhaseRunner
from pytest_orchphase.metrics.registry import metric_value
from pytest_orchphase.metrics.trials import ticket_runs
from tests.helpers import Phase, YamlData, rate_phase, staged_ticket


@pytest.fixture
def twice(tmp_path: Path) -> PhaseRunner:
    """Nine tickets run in p1 (all succeed) and again in p2, where T01 fails."""
    rate_phase(9, 9).write(tmp_path)
    flaky_p2().write(tmp_path)
    return PhaseRunner(tmp_path / "criteria", tmp_path / "docs" / "orchestration-data")


def flaky_p2() -> Phase:
    """p2 of `twice`: the nine tickets again, T01 failing."""
    p2 = rate_phase(8, 9, phase="p2", requires=["p1"])
    p2.ticket("T09")["fix_loops"] = 0  # move p2's failure from T09 to T01
    p2.ticket("T01")["fix_loops"] = 3
    return p2


def test_each_ticket_keeps_its_runs_oldest_first(twice: PhaseRunner) -> None:
    runs = ticket_runs(twice.context("p2"), "haiku")
    assert runs["T01"] == [True, False] and runs["T02"] == [True, True] and len(runs) == 9
    assert ticket_runs(twice.context("p2"), "sonnet") == {}


def test_pass_at_k_and_pass_hat_k_average_the_tickets(twice: PhaseRunner) -> None:
    ctx = twice.context("p2")
    assert metric_value(ctx, "pass_at_k", k=2) == 100.0  # T01 succeeded once in two
    assert metric_value(ctx, "pass_hat_k", k=2) == pytest.approx(800 / 9, abs=0.01)
    assert metric_value(ctx, "pass_at_k", k=1) == pytest.approx((8 + 0.5) / 9 * 100, abs=0.01)
    assert metric_value(ctx, "pass_hat_k", k=1, model="haiku") == pytest.approx(850 / 9, abs=0.01)


def test_pass_at_k_needs_tickets_run_k_times(twice: PhaseRunner) -> None:
    with pytest.raises(MetricUnavailable, match="no ticket was run at least 3 times"):
        metric_value(twice.context("p2"), "pass_at_k", k=3)
    with pytest.raises(MetricUnavailable, match="at least 2 times"):
        metric_value(twice.context("p1"), "pass_hat_k", k=2)  # p1 alone: one run each


def test_a_pass_hat_k_criterion_fails_when_one_ticket_is_flaky(
    twice: PhaseRunner, pytester: pytest.Pytester, tmp_path: Path
) -> None:
    p2 = flaky_p2()
    p2.criteria["criteria"] += [
        {"id": "reliable", "metric": "pass_hat_k", "k": 2, "min": "90%"},
        {"id": "solved", "metric": "pass_at_k", "k": 2, "model": "haiku", "min": "90%"},
    ]
    p2.write(tmp_path)
    pytester.chdir()
    for sub in ("criteria", "docs"):
        (pytester.path / sub).symlink_to(tmp_path / sub)
    result = pytester.runpytest("--phase", "p2", "-k", "reliable or solved", "-p", "no:randomly")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "reliable: pass_hat_k[[]k=2[]] 88.9% < min 90.0% — *",
            "solved *pass_at_k[[]haiku,k=2[]]*100.0%*PASS",
        ]
    )


LOOPS: YamlData = {"id": "loops", "metric": "max_fix_loops", "max": 1}


def _stamped_run(start: str) -> YamlData:
    """A Haiku run of a ticket, its implementation stamped from ``start`` (20 minutes)."""
    run = staged_ticket(
        {
            "actual_tokens": 20_000,
            "status": "completed",
            "start_time": start,
            "end_time": start.replace("T10:00", "T10:20"),
        }
    )
    run["execution_model"] = "haiku"
    for stage in ("branch_creation", "implementation", "review"):
        run[stage]["model"] = "haiku"
    return run


def test_one_run_recorded_in_two_phases_is_an_error_naming_both(tmp_path: Path) -> None:
    """The same stage started at the same instant in p1 and p2: one run logged twice (a log
    copied into the next phase), which pass^k would count as two trials."""
    Phase.of("p1", [LOOPS], {"R01": _stamped_run("2026-02-07T10:00:00Z")}).write(tmp_path)
    Phase.of("p2", [LOOPS], {"R01": _stamped_run("2026-02-07T10:00:00Z")}, requires=["p1"]).write(
        tmp_path
    )
    runner = PhaseRunner(tmp_path / "criteria", tmp_path / "docs" / "orchestration-data")
    with pytest.raises(MetricUnavailable) as copied:
        ticket_runs(runner.context("p2"), "haiku")
    message = str(copied.value)
    assert "phase-p2/execution-log.yaml:" in message
    assert "tickets.R01.implementation.start_time: ticket R01's run in phase p2" in message
    assert "phase-p1/execution-log.yaml:" in message and "one run recorded twice" in message


def test_two_runs_of_a_ticket_at_other_times_are_two_trials(tmp_path: Path) -> None:
    Phase.of("p1", [LOOPS], {"R01": _stamped_run("2026-02-07T10:00:00Z")}).write(tmp_path)
    Phase.of("p2", [LOOPS], {"R01": _stamped_run("2026-02-08T10:00:00Z")}, requires=["p1"]).write(
        tmp_path
    )
    runner = PhaseRunner(tmp_path / "criteria", tmp_path / "docs" / "orchestration-data")
    assert ticket_runs(runner.context("p2"), "haiku") == {"R01": [True, True]}

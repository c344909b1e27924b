"""Seventh adversarial round: answers users decide from (a phase's "Proceed", `orchphase
strategy`, `orchphase breakeven`) that say go when the data shows they should not. Each test is a
finding on main (xfail strict until fixed); the reason says what is observed and what is
expected."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers import (
    HAIKU,
    Phase,
    YamlData,
    assert_not_yes,
    flat_ticket,
    result_object,
    run_phase,
    staged_ticket,
    write_yaml,
)

COUNTED: list[YamlData] = [{"id": "counted", "metric": "tickets", "min": 1}]
SINGLE_AGENT_30K: YamlData = {"baselines": {"single_agent": {"tokens_per_ticket": 30_000}}}


def _strategy(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, ticket: str) -> Any:
    """`orchphase strategy --for p2 --tickets M01=<ticket>` (p2 requires p1): the file written."""
    from pytest_orchphase.cli import main

    monkeypatch.chdir(pytester.path)
    Phase.of("p2", COUNTED, {}, requires=["p1"]).write(pytester.path)
    assert main(["strategy", "--for", "p2", "--tickets", f"M01={ticket}"]) == 0
    return yaml.safe_load(
        (pytester.path / "docs/orchestration-data/phase-p2-strategy.yaml").read_text()
    )


def test_strategy_gives_no_complexity_to_the_model_that_failed_it(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    struggled = {"execution_model": "haiku", "complexity": "nuanced", "fix_loops": 3}
    tickets = {
        "T01": flat_ticket(**struggled),
        "T02": flat_ticket(**struggled),
        "T03": flat_ticket(complexity="nuanced"),
    }
    Phase.of("p1", COUNTED, tickets).write(pytester.path)
    nuanced = _strategy(pytester, monkeypatch, "nuanced")["model_selection"]["execution"]["nuanced"]
    assert nuanced["model"] == "sonnet", nuanced


def test_strategy_counts_no_unrecorded_planning_as_zero(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    tickets = {f"T0{i}": flat_ticket(complexity="nuanced") for i in (1, 2, 3)}
    Phase.of("p1", COUNTED, tickets).write(pytester.path)
    cost = _strategy(pytester, monkeypatch, "nuanced")["estimated_costs"]["M01"]
    assert "tokens" in cost.get("lower_bounds", []), cost


def _implementation_skipped_phase(root: Path) -> None:
    """Phase p1 (shared planning 12,000; baseline single_agent 30,000 per ticket): T01 done for
    30,000 tokens, T02 whose implementation was skipped (a branch and a passing review, 2,000)."""

    def ticket(ran: bool) -> YamlData:
        done = {"actual_tokens": 28_000, "status": "completed"}
        return staged_ticket(done if ran else {"status": "skipped"})

    write_yaml(root / "criteria/baselines.yaml", SINGLE_AGENT_30K)
    planning = {"model": "sonnet", "actual_tokens": 12_000}
    tickets = {"T01": ticket(True), "T02": ticket(False)}
    Phase.of("p1", COUNTED, tickets, planning=planning).write(root)


def test_breakeven_counts_no_ticket_whose_implementation_was_skipped(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from pytest_orchphase.cli import main

    monkeypatch.chdir(pytester.path)
    _implementation_skipped_phase(pytester.path)
    assert main(["breakeven", "--phase", "p1"]) == 0
    out = capsys.readouterr().out
    assert "Break-even (tokens): unknown" in out and "T02" in out, out


def test_a_ticket_never_implemented_does_not_proceed(pytester: pytest.Pytester) -> None:
    _implementation_skipped_phase(pytester.path)
    result = run_phase(pytester, "p1")
    assert_not_yes(pytester, result)


def _headless_phase(root: Path, run: dict[str, Any], criterion: YamlData, **ticket: Any) -> None:
    """Phase p1 of ticket R01 on Haiku, measured from one `claude -p --output-format json`
    result (``run``) named for R01, judged by ``criterion``."""
    flat = {"execution_model": "haiku", "fix_loops": 0, "review": {"result": "PASS", "attempts": 1}}
    sessions = [{"path": "runs/r01.json", "ticket": "R01"}]
    metadata = {"phase": "p1", "tickets": ["R01"], "sessions": sessions}
    folder = Phase.of("p1", [criterion], {"R01": {**flat, **ticket}}, metadata=metadata).write(root)
    (folder / "runs").mkdir()
    (folder / "runs" / "r01.json").write_text(json.dumps(run))


USD_CAP: YamlData = {"id": "usd-cap", "metric": "tokens", "measure": "usd", "max": "$1"}
TOKEN_CAP: YamlData = {"id": "cap", "metric": "tokens", "measure": "total", "max": "100k"}


def test_a_headless_run_costs_no_less_than_claude_code_says(pytester: pytest.Pytester) -> None:
    run = result_object(total_cost_usd=5.0)
    run["modelUsage"][HAIKU]["costUSD"] = 5.0
    _headless_phase(pytester.path, run, USD_CAP)
    result = run_phase(pytester, "p1")
    assert_not_yes(pytester, result)


def test_a_headless_main_agent_above_its_model_usage_is_not_dropped(
    pytester: pytest.Pytester,
) -> None:
    run = result_object()
    run["usage"]["input_tokens"] = 500_000
    _headless_phase(pytester.path, run, TOKEN_CAP)
    result = run_phase(pytester, "p1")
    assert_not_yes(pytester, result)


def test_a_measurement_far_below_the_logs_actual_is_no_proof_of_a_cap(
    pytester: pytest.Pytester,
) -> None:
    _headless_phase(pytester.path, result_object(), TOKEN_CAP, actual_tokens=500_000)
    result = run_phase(pytester, "p1")
    assert_not_yes(pytester, result)


def test_a_headless_runs_own_duration_bounds_the_wall_time(pytester: pytest.Pytester) -> None:
    def stamped(start: str, end: str) -> YamlData:
        return {
            "start_time": f"2026-02-07T{start}:00Z",
            "end_time": f"2026-02-07T{end}:00Z",
            "status": "completed",
        }

    ticket = {
        "execution_model": "haiku",
        "implementation": {"model": "haiku", "fix_loops": 0, **stamped("10:00", "10:20")},
        "review": {"model": "haiku", "result": "PASS", "attempts": 1, **stamped("10:20", "10:25")},
    }
    sessions = [{"path": "runs/r01.json", "ticket": "R01", "stage": "implementation"}]
    metadata = {"phase": "p1", "tickets": ["R01"], "sessions": sessions}
    wall = {"id": "wall", "metric": "wall_time_minutes", "max": 30}
    folder = Phase.of("p1", [wall], {"R01": ticket}, metadata=metadata).write(pytester.path)
    (folder / "runs").mkdir()
    three_hours = result_object(duration_ms=3 * 3_600_000, duration_api_ms=2 * 3_600_000)
    (folder / "runs" / "r01.json").write_text(json.dumps(three_hours))
    result = run_phase(pytester, "p1")
    assert_not_yes(pytester, result)


HAIKU_ALL_SUCCEED: YamlData = {
    "id": "haiku-success",
    "metric": "success_rate",
    "model": "haiku",
    "min": "100%",
    "rule": "point",
}


def test_a_review_stamped_before_the_failed_work_did_not_fix_it(
    pytester: pytest.Pytester,
) -> None:
    implementation = {
        "model": "haiku",
        "fix_loops": 1,
        "actual_tokens": 9_000,
        "status": "completed",
        "verification": "failed",
        "start_time": "2026-02-07T10:00:00Z",
        "end_time": "2026-02-07T10:30:00Z",
    }
    review = {
        "model": "sonnet",
        "actual_tokens": 2_000,
        "result": "PASS",
        "attempts": 1,
        "status": "completed",
        "start_time": "2026-02-07T09:00:00Z",
        "end_time": "2026-02-07T09:10:00Z",
    }
    ticket = {"execution_model": "haiku", "implementation": implementation, "review": review}
    Phase.of("p1", [HAIKU_ALL_SUCCEED], {"R01": ticket}).write(pytester.path)
    result = run_phase(pytester, "p1")
    assert_not_yes(pytester, result)


def test_fix_loops_below_the_fixes_the_stages_record_is_an_error(
    pytester: pytest.Pytester,
) -> None:
    ticket = {
        "execution_model": "haiku",
        "implementation": {
            "model": "haiku",
            "fix_loops": 1,
            "actual_tokens": 9_000,
            "status": "requires_fix",
        },
        "fix": {
            "model": "haiku",
            "actual_tokens": 3_000,
            "status": "completed",
            "verification": "failed",
        },
        "review": {
            "model": "sonnet",
            "actual_tokens": 2_000,
            "result": "PASS",
            "attempts": 1,
            "status": "completed",
        },
    }
    one_loop = {"id": "loops", "metric": "max_fix_loops", "max": 1}
    Phase.of("p1", [HAIKU_ALL_SUCCEED, one_loop], {"R01": ticket}).write(pytester.path)
    result = run_phase(pytester, "p1")
    assert_not_yes(pytester, result)

"""Review 28b: round 10's fixes to registered metrics, repeated trials, stretch targets and costs
beside failed work. Each test is a finding on main (xfail strict until fixed); the reason says
what is observed and what is expected."""

from __future__ import annotations

import pytest

from tests.helpers import (
    Phase,
    YamlData,
    decision,
    flat_ticket,
    implementation_only_ticket,
    read_report,
    run_phase,
    write_yaml,
)

#: a conftest registering the phase metric ``team`` (a count, 1) that writes a line to
#: calls.txt each time its function runs
COUNTING_METRIC = """
from pathlib import Path


def pytest_orchphase_register_metrics(registry):
    def team(ctx, ticket, params):
        with open(Path(__file__).parent / "calls.txt", "a") as out:
            out.write("call\\n")
        return 1

    registry.register("team", scope="phase", unit="count", formula="the team's count", fn=team)
"""


@pytest.mark.xfail(
    strict=True,
    reason="under -n 2 a registered metric's function runs twice for its one item (the worker's "
    "item, then the controller's session end re-evaluates it for unjudged failures and the "
    "tickets table) / once, as serially and as the README says ('never run it again')",
)
def test_under_xdist_a_registered_metric_runs_once_per_item(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(COUNTING_METRIC)
    team: YamlData = {"id": "team", "metric": "team", "max": 10}
    Phase.of("p1", [team], {"R01": flat_ticket()}).write(pytester.path)
    result = run_phase(pytester, "p1", "-n", "2")
    assert result.ret == 0, result.stdout.str()
    calls = (pytester.path / "calls.txt").read_text().splitlines()
    assert len(calls) == 1, calls


def test_a_looser_stretch_beside_a_reference_in_any_is_no_yes(pytester: pytest.Pytester) -> None:
    write_yaml(
        pytester.path / "criteria/baselines.yaml",
        {"baselines": {"v2": {"tokens_per_ticket": 40_000}}},
    )
    tokens: YamlData = {"metric": "tokens", "measure": "total", "stretch": "90k"}
    tokens["max"] = {"baseline": "v2", "per": "phase"}
    crit: YamlData = {"id": "c", "any": [tokens, {"metric": "max_fix_loops", "max": 1}]}
    tickets = {t: flat_ticket(actual_tokens=38_000) for t in ("T01", "T02")}
    planning = {"model": "sonnet", "actual_tokens": 1_000}
    Phase.of("p1", [crit], tickets, planning=planning).write(pytester.path)
    result = run_phase(pytester, "p1")
    assert decision(pytester) != "YES", result.stdout.str()
    result.stdout.fnmatch_lines(["*stretch 90,000 is looser than its limit*"])


def test_a_registered_rate_whose_sample_contradicts_its_figure_is_no_yes(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeconftest(
        "from pytest_orchphase.metrics.registry import Measurement\n"
        "from pytest_orchphase.metrics.stats import Proportion\n"
        "def pytest_orchphase_register_metrics(registry):\n"
        "    def team(ctx, ticket, params):\n"
        "        return Measurement(10.0, 'percent', 'x', sample=Proportion(10, 10))\n"
        '    registry.register("team_rate", scope="phase", unit="percent", formula="f",\n'
        "                      fn=team, interval=True)\n"
    )
    rate: YamlData = {"id": "rate", "metric": "team_rate", "min": "70%"}
    Phase.of("p1", [rate], {"R01": flat_ticket()}).write(pytester.path)
    result = run_phase(pytester, "p1")
    assert decision(pytester) != "YES", result.stdout.str()
    result.stdout.fnmatch_lines(["*metric 'team_rate' returned*"])


@pytest.mark.xfail(
    strict=True,
    reason="the phase's wall_time_minutes beside a ticket that failed after 2 minutes stays "
    "exact (30.0 min, max 30 PASS, YES with a success_rate tolerating the failure) / a lower "
    "bound of doing the tickets, as the phase's tokens, stage_tokens and means now are "
    "(failed work is quick as well as cheap; max_fix_loops and max_review_attempts likewise)",
)
def test_the_phase_wall_time_beside_a_failed_ticket_proves_no_max(
    pytester: pytest.Pytester,
) -> None:
    done = implementation_only_ticket("2026-02-07T10:00:00Z", "2026-02-07T10:20:00Z")
    done["review"] = {
        "model": "sonnet",
        "actual_tokens": 1_000,
        "result": "PASS",
        "attempts": 1,
        "status": "completed",
        "start_time": "2026-02-07T10:20:00Z",
        "end_time": "2026-02-07T10:25:00Z",
    }
    failed = implementation_only_ticket("2026-02-07T10:20:00Z", "2026-02-07T10:22:00Z")
    failed["implementation"]["status"] = "failed"
    planning = {
        "model": "sonnet",
        "actual_tokens": 1_000,
        "start_time": "2026-02-07T09:55:00Z",
        "end_time": "2026-02-07T10:00:00Z",
    }
    rate: YamlData = {"id": "rate", "metric": "success_rate", "model": "sonnet", "min": "50%"}
    wall: YamlData = {"id": "wall", "metric": "wall_time_minutes", "max": 30}
    tickets = {"T01": done, "T02": failed}
    Phase.of("p1", [rate | {"rule": "point"}, wall], tickets, planning=planning).write(
        pytester.path
    )
    result = run_phase(pytester, "p1")
    assert decision(pytester) != "YES", result.stdout.str()
    report = {c["name"]: c for c in read_report(pytester.path)["criteria"]}
    assert report["wall"]["bound"] == "lower", report["wall"]


@pytest.mark.xfail(
    strict=True,
    reason="one flat (unstamped) run of R01 copied into the next phase counts as two trials: "
    "pass_hat_k k=2 100 %, YES / one run recorded twice is one trial: two records of a ticket "
    "that carry no stamps and say the same (tokens to the unit, loops, review) are refused or "
    "unknown, as stamped copies now are",
)
def test_one_flat_run_recorded_in_two_phases_is_not_two_trials(
    pytester: pytest.Pytester,
) -> None:
    run = {**flat_ticket(actual_tokens=23_417), "execution_model": "haiku"}
    loops: YamlData = {"id": "loops", "metric": "max_fix_loops", "max": 1}
    Phase.of("p1", [loops], {"R01": run}).write(pytester.path)
    reliable = {"id": "reliable", "metric": "pass_hat_k", "model": "haiku", "k": 2, "min": "90%"}
    Phase.of("p2", [reliable], {"R01": run}, requires=["p1"]).write(pytester.path)
    result = run_phase(pytester, "p2")
    assert decision(pytester) != "YES", result.stdout.str()

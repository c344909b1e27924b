"""The decision's arithmetic as the plan writes criteria: a stretch looser than its limit is
refused; a phase's share of a baseline is of the phase's cost, not one ticket's; a cost over the
tickets beside a ticket that failed (an average, a paired saving) proves no cap or minimum."""

from __future__ import annotations

import pytest

from tests.helpers import (
    Phase,
    YamlData,
    assert_not_yes,
    flat_ticket,
    run_phase,
    write_yaml,
)


@pytest.mark.parametrize(
    "condition",
    [
        {"metric": "tokens", "measure": "total", "below": "45k", "stretch": "50k"},
        {"metric": "savings", "baseline": "single_agent", "measure": "total", "min": "10%"}
        | {"stretch": "5%"},
    ],
    ids=["tokens-below", "savings-min"],
)
def test_a_stretch_looser_than_its_limit_is_refused(
    pytester: pytest.Pytester, condition: YamlData
) -> None:
    write_yaml(
        pytester.path / "criteria/baselines.yaml",
        {"baselines": {"single_agent": {"tokens_per_ticket": 30_000}}},
    )
    tickets = {"T01": flat_ticket(), "T02": flat_ticket()}  # 41,000 tokens with planning
    planning = {"model": "sonnet", "actual_tokens": 1_000}
    Phase.of("p1", [{"id": "c", **condition}], tickets, planning=planning).write(pytester.path)
    result = run_phase(pytester, "p1")
    assert_not_yes(pytester, result)
    result.stdout.fnmatch_lines(["*criteria/p1.yaml*stretch*is looser than its limit*"])


def test_a_phase_saving_over_one_ticket_of_its_baseline_is_refused(
    pytester: pytest.Pytester,
) -> None:
    write_yaml(
        pytester.path / "criteria/baselines.yaml",
        {"baselines": {"v2": {"tokens_per_ticket": 121_000}}},
    )
    # 124,000 tokens for three tickets (10,000 planning, 38,000 each) against v2's 363,000.
    tickets = {t: flat_ticket(actual_tokens=38_000) for t in ("T01", "T02", "T03")}
    planning = {"model": "sonnet", "actual_tokens": 10_000}
    share = {"metric": "delta", "baseline": "v2", "of": {"baseline": "v2"}, "min": "70%"}
    criterion = {"id": "c", "measure": "total", **share}
    Phase.of("p1", [criterion], tickets, planning=planning).write(pytester.path)
    result = run_phase(pytester, "p1")
    assert_not_yes(pytester, result)
    result.stdout.fnmatch_lines(["*criteria/p1.yaml*criteria[[]0].of*write `per: phase`*"])


def test_paired_savings_beside_a_ticket_that_failed_proves_no_minimum(
    pytester: pytest.Pytester,
) -> None:
    tickets = ("T01", "T02", "T03")
    planning = {"model": "sonnet", "actual_tokens": 1_000}
    done = {t: flat_ticket(actual_tokens=30_000) for t in tickets}
    fix_loops = {"id": "fix-loops", "metric": "fix_loops", "max": 9}
    Phase.of("a1", [fix_loops], done, planning=planning).write(pytester.path)
    cheaper = {"id": "cheaper", "metric": "paired_savings", "versus": "a1", "measure": "total"}
    rate = {"id": "rate", "metric": "success_rate", "model": "sonnet", "min": "60%"}
    failed = {"status": "failed", "review": {"result": "FAIL", "attempts": 1}}
    mine = {t: flat_ticket(actual_tokens=28_000) for t in tickets[:2]}
    mine["T03"] = flat_ticket(actual_tokens=3_000, **failed)
    criteria: list[YamlData] = [
        cheaper | {"above": 5_000, "rule": "point"},
        rate | {"rule": "point"},
    ]
    Phase.of("b1", criteria, mine, planning=planning).write(pytester.path)
    result = run_phase(pytester, "b1")
    assert_not_yes(pytester, result)
    result.stdout.fnmatch_lines(["*paired_savings*at most*upper bound cannot prove*T03 failed*"])


@pytest.mark.parametrize(
    "condition",
    [
        {"metric": "ticket_tokens_average"}
        | {"below": {"phase": "a1", "metric": "ticket_tokens_average", "measure": "total"}},
        {"metric": "per_ticket_average", "below": "25k"},
    ],
    ids=["vs-a1", "cap"],
)
def test_an_average_beside_a_ticket_that_failed_is_no_exact_figure(
    pytester: pytest.Pytester, condition: YamlData
) -> None:
    tickets = ("T01", "T02", "T03")
    planning = {"model": "sonnet", "actual_tokens": 1_000}
    done = {t: flat_ticket(actual_tokens=26_000) for t in tickets}
    fix_loops = {"id": "fix-loops", "metric": "fix_loops", "max": 9}
    Phase.of("a1", [fix_loops], done, planning=planning).write(pytester.path)
    failed = {"status": "failed", "review": {"result": "FAIL", "attempts": 1}}
    mine = {t: flat_ticket(actual_tokens=28_000) for t in tickets[:2]}
    mine["T03"] = flat_ticket(actual_tokens=3_000, **failed)
    rate = {"id": "rate", "metric": "success_rate", "model": "sonnet", "min": "60%"}
    criteria: list[YamlData] = [
        {"id": "cheaper", "measure": "total", **condition},
        rate | {"rule": "point"},
    ]
    Phase.of("b1", criteria, mine, planning=planning).write(pytester.path)
    result = run_phase(pytester, "b1")
    assert_not_yes(pytester, result)
    result.stdout.fnmatch_lines(["*at least*a lower bound cannot prove below*T03 failed*"])

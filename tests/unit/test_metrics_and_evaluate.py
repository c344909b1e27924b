"""Metric formulas on the shipped example data, and the evaluator's logic."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from pytest_orchphase.errors import MetricUnavailable
from pytest_orchphase.evaluate.condition import evaluate
from pytest_orchphase.evaluate.runner import PhaseRunner
from pytest_orchphase.load.models import Condition
from pytest_orchphase.metrics.registry import REGISTRY, MetricContext, Params
from pytest_orchphase.usage.value import Usage
from tests.helpers import DATA, REPO, Phase

RUNNER = PhaseRunner(REPO / "criteria", REPO / "docs" / "orchestration-data")


def ctx(phase: str) -> MetricContext:
    return RUNNER.context(phase)


def value(phase: str, metric: str, ticket: str | None = None, **params: Any) -> Any:
    from pytest_orchphase.metrics.registry import REGISTRY

    spec = REGISTRY.get("ticket" if ticket else "phase", metric)
    assert spec is not None
    return spec.fn(ctx(phase), ticket, Params(**params)).value


def test_token_totals_are_computed_from_parts() -> None:
    assert value("a1", "tokens", measure="total") == 11600 + 29200 + 36200
    assert value("a1", "tokens", "R06", measure="total") == 2100 + 13400 + 4600 + 9800 + 6300
    assert value("a2", "stage_tokens", measure="total", stage="review") == 5100 + 10400 + 11600


def test_savings_scale_the_per_ticket_baseline_by_the_number_of_tickets() -> None:
    assert value("a3", "savings", baseline="v2", measure="total") == pytest.approx(
        (363000 - 97300) / 363000 * 100, abs=0.01
    )


def test_batching_savings_give_each_ticket_its_own_planning() -> None:
    # unbatched = 3 × 10,000 + (22,400 + 29,900 + 31,200); batched = 97,300
    assert value("a3", "batching_savings", baseline="separate_planning", measure="total") == 16200


def test_success_rate_counts_fix_loops_of_at_most_one() -> None:
    assert value("a2", "success_rate", model="haiku") == 100.0
    assert value("a3", "success_rate", model="sonnet") == 100.0  # R07 needed exactly one loop


def test_wall_time_spans_first_to_last_stamp() -> None:
    assert value("a1", "wall_time_minutes") == 27.0


def test_estimates_have_no_split_and_no_price() -> None:
    with pytest.raises(MetricUnavailable, match="output tokens are unknown"):
        Usage.estimated(1000).measure("output")
    with pytest.raises(MetricUnavailable, match="cost in USD is unknown"):
        Usage.recorded(1000).measure("usd")


def cond(**kw: Any) -> Condition:
    return Condition.model_validate(kw)


def test_unavailable_metric_fails_and_says_why() -> None:
    verdict = evaluate(
        cond(metric="tokens", measure="usd", max=1.0), ctx("a1"), None, RUNNER.context
    )
    assert not verdict.passed
    assert verdict.error is not None and "cost in USD is unknown" in verdict.error


@pytest.mark.parametrize("limit", [77_000, 76_999, 77_001, 0, 10**9])
def test_max_passes_at_or_below_and_fails_above(limit: int) -> None:
    verdict = evaluate(
        cond(metric="tokens", measure="total", max=limit), ctx("a1"), None, RUNNER.context
    )
    assert verdict.passed is (limit >= 77_000)
    strict = evaluate(
        cond(metric="tokens", measure="total", below=limit), ctx("a1"), None, RUNNER.context
    )
    assert strict.passed is (limit > 77_000)


@pytest.mark.parametrize(("a", "b"), [(True, True), (True, False), (False, True), (False, False)])
def test_all_and_any_behave_as_logic(a: bool, b: bool) -> None:
    def leaf(ok: bool) -> dict[str, Any]:
        return {"metric": "tickets", "equals": 2 if ok else 3}

    both = evaluate(cond(all=[leaf(a), leaf(b)]), ctx("a1"), None, RUNNER.context)
    either = evaluate(cond(any=[leaf(a), leaf(b)]), ctx("a1"), None, RUNNER.context)
    assert both.passed is (a and b)
    assert either.passed is (a or b)


def test_quality_is_ordinal() -> None:
    better = evaluate(
        cond(metric="quality_vs_sonnet", min="worse"), ctx("a2"), None, RUNNER.context
    )
    worse = evaluate(
        cond(metric="quality_vs_sonnet", above="same"), ctx("a2"), None, RUNNER.context
    )
    assert better.passed and not worse.passed


def test_limit_from_another_phase() -> None:
    node = cond(
        metric="ticket_tokens_average",
        measure="total",
        below={"phase": "a1", "metric": "ticket_tokens_average", "measure": "total"},
    )
    verdict = evaluate(node, ctx("a2"), None, RUNNER.context)
    assert verdict.limit == (29200 + 36200) / 2
    assert verdict.limit_note == "a1's ticket_tokens_average"


# Each formula of the README's metric table, pinned on the shipped data (a1: planning 11,600,
# R03 29,200, R06 36,200 (fix loop 1, 2 review attempts); a3 flat: 13,800 + 22,400 + 29,900 +
# 31,200).


def test_delta_is_baseline_minus_actual() -> None:
    assert value("a1", "delta", baseline="single_agent", measure="total") == 60000 - 77000


def test_max_fix_loops_and_max_review_attempts_take_the_worst_ticket() -> None:
    assert value("a1", "max_fix_loops") == 1
    assert value("a1", "max_review_attempts") == 2
    assert value("a1", "fix_loops") == 1


def test_review_attempts_derived_from_fix_loops_when_not_recorded(tmp_path: Path) -> None:
    shutil.copytree(REPO / "criteria", tmp_path / "criteria")
    shutil.copytree(REPO / DATA, tmp_path / DATA)
    a1 = Phase.example("a1")
    del a1.stage("R06", "review")["attempts"]
    runner = PhaseRunner(tmp_path / "criteria", a1.write(tmp_path).parent)
    spec = REGISTRY.get("ticket", "review_attempts")
    assert spec is not None
    m = spec.fn(runner.context("a1"), "R06", Params())
    assert (m.value, m.note) == (2, "derived: 1 + fix_loops (no review.attempts recorded)")


def test_unbatched_tokens_give_each_ticket_its_own_planning() -> None:
    assert value("a1", "unbatched_tokens", baseline="separate_planning", measure="total") == (
        2 * 10000 + 29200 + 36200
    )


def test_per_ticket_average_includes_planning_and_ticket_average_does_not() -> None:
    assert value("a1", "per_ticket_average", measure="total") == 77000 / 2
    assert value("a1", "ticket_tokens_average", measure="total") == (29200 + 36200) / 2


def test_ticket_savings_use_the_planning_share() -> None:
    # (121,000 − (36,200 + 11,600 / 2)) / 121,000 × 100
    assert value("a1", "savings", "R06", baseline="v2", measure="total") == pytest.approx(
        (121000 - 42000) / 121000 * 100, abs=0.01
    )
    assert value("a1", "tokens_with_planning_share", "R06", measure="total") == 36200 + 5800


def test_review_passed_reads_the_result() -> None:
    assert value("a1", "review_passed", "R06") is True


# Rates on their interval: a2 ran Haiku on one ticket, R03, which succeeded (1 of 1: 95 % Wilson
# interval 20.7–100 %); a3 ran Sonnet on R06 and R07, both succeeded (2 of 2: 34.2–100 %).


@pytest.mark.parametrize(
    ("operator", "limit", "outcome"),
    [
        ("min", "70%", "INCONCLUSIVE"),
        ("min", "20%", "PASS"),  # the lower bound 20.7 % clears 20 %
        ("above", "20.7%", "INCONCLUSIVE"),
        ("max", "10%", "FAIL"),  # even the lower bound is above 10 %
        ("max", "100%", "PASS"),
        ("below", "100%", "INCONCLUSIVE"),  # the upper bound is 100 %
    ],
)
def test_every_operator_on_a_rate_decides_on_the_interval(
    operator: str, limit: str, outcome: str
) -> None:
    node = cond(metric="success_rate", model="haiku", **{operator: limit})
    verdict = evaluate(node, ctx("a2"), None, RUNNER.context)
    assert verdict.outcome == outcome
    assert verdict.passed is (outcome == "PASS")
    assert (verdict.rule, verdict.confidence) == ("interval", 95.0)


def test_a_group_is_inconclusive_only_while_an_open_condition_could_decide_it() -> None:
    open_rate = {"metric": "success_rate", "model": "haiku", "min": "70%"}
    failed = {"metric": "fix_loops", "max": 0}  # a2 needed one fix loop
    held = {"metric": "fix_loops", "max": 5}
    cases = [
        ("all", [open_rate, held], "INCONCLUSIVE"),
        ("all", [open_rate, failed], "FAIL"),
        ("any", [open_rate, failed], "INCONCLUSIVE"),
        ("any", [open_rate, held], "PASS"),
    ]
    for combinator, children, outcome in cases:
        verdict = evaluate(cond(**{combinator: children}), ctx("a2"), None, RUNNER.context)
        assert verdict.outcome == outcome, (combinator, children)


def test_a_paired_comparison_in_usd_needs_measured_cost() -> None:
    node = cond(metric="paired_savings", versus="a2", measure="usd", above=0)
    verdict = evaluate(node, ctx("a3"), None, RUNNER.context)
    assert verdict.outcome == "FAIL" and verdict.error is not None
    assert "USD is unknown" in verdict.error


@pytest.mark.parametrize(
    ("place", "lower"),
    [
        (("R03", "review"), {None, "R03"}),
        (("R06", ""), {None, "R06"}),
        (("", "shared_planning"), {None}),
        (("", ""), {None, "R03", "R06"}),
    ],
)
def test_a_measured_call_of_no_known_time_leaves_each_place_it_may_be_a_lower_bound(
    place: tuple[str, str], lower: set[str | None]
) -> None:
    """Its time is not known: it may lie outside the stamps of the phase, of its ticket, and of
    every ticket when it is placed nowhere; never of another ticket."""
    from dataclasses import replace

    from pytest_orchphase.metrics.wall_time import wall_minutes

    base = ctx("a1")
    unstamped = replace(base, accounts=replace(base.accounts, unstamped={place: 1}))
    for where in (None, "R03", "R06"):
        assert wall_minutes(base, where).bound == "exact"
        found = wall_minutes(unstamped, where)
        assert (found.bound == "lower") == (where in lower), where
        assert found.value == wall_minutes(base, where).value

"""Metric formulas on the shipped example data, and the evaluator's logic."""

from __future__ import annotations

from typing import Any

import pytest
from support import REPO

from pytest_orchphase.evaluate import evaluate
from pytest_orchphase.metrics import MetricContext, Params
from pytest_orchphase.models import Condition
from pytest_orchphase.runner import PhaseRunner
from pytest_orchphase.usage import MetricUnavailable, Usage

RUNNER = PhaseRunner(REPO / "criteria", REPO / "docs" / "orchestration-data")


def ctx(phase: str) -> MetricContext:
    return RUNNER.context(phase)


def value(phase: str, metric: str, ticket: str | None = None, **params: str) -> Any:
    from pytest_orchphase.metrics import REGISTRY

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

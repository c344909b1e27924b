"""Shares (`of:`), the team's own success threshold and figures compared by model, on the
second example plan (docs/examples/jira: pilot -> haiku-trial -> scale, JIRA-101...)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from pytest_orchphase.evaluate.condition import _share_measurement, evaluate
from pytest_orchphase.evaluate.runner import PhaseRunner
from pytest_orchphase.evaluate.verdict import Share
from pytest_orchphase.load.models import Condition
from pytest_orchphase.metrics.registry import Measurement
from tests.helpers import REPO, edit_in

JIRA = REPO / "docs" / "examples" / "jira"
LOG = "orchestration-data/{phase}/execution-log.yaml"


def runner(root: Path = JIRA) -> PhaseRunner:
    return PhaseRunner(root / "criteria", root / "orchestration-data")


def judge(phase: str, ticket: str | None = None, root: Path = JIRA, **kw: Any) -> Any:
    r = runner(root)
    return evaluate(Condition.model_validate(kw), r.context(phase), ticket, r.context)


@pytest.fixture
def plan(tmp_path: Path) -> Path:
    """A copy of the Jira plan to change."""
    shutil.copytree(JIRA, tmp_path / "jira")
    return tmp_path / "jira"


def change(root: Path, phase: str, old: str, new: str) -> None:
    edit_in(root)(LOG.format(phase=phase), old, new)


PLANNING_SHARE: dict[str, Any] = {
    "metric": "shared_planning_tokens",
    "measure": "total",
    "of": {"metric": "tokens", "measure": "total"},
}


def test_a_share_is_numerator_over_denominator_in_percent_and_shows_both() -> None:
    # pilot: planning 8,000 of 88,000 tokens = 9.09 %
    passed = judge("pilot", **PLANNING_SHARE, below="10%")
    assert (
        passed.passed and passed.actual is not None and passed.actual.value == 10000 * 100 / 110000
    )
    failed = judge("pilot", **PLANNING_SHARE, below="9%")
    assert not failed.passed
    assert failed.condition_text() == (
        "shared_planning_tokens / tokens = 8,000 / 88,000 × 100 = 9.1% >= below 9.0%"
    )
    assert failed.to_data()["share"] == {
        "of": "tokens",
        "numerator": 8000,
        "denominator": 88000,
        "unit": "tokens",
    }


def test_a_stage_as_a_share_of_another_stage_per_ticket() -> None:
    # JIRA-102: review 8,000 of implementation 36,000 = 22.2 %
    share: dict[str, Any] = {
        "metric": "stage_tokens",
        "stage": "review",
        "measure": "total",
        "of": {"metric": "stage_tokens", "stage": "implementation", "measure": "total"},
    }
    assert judge("pilot", "JIRA-102", **share, below="25%").passed
    failed = judge("pilot", "JIRA-102", **share, below="22%")
    assert not failed.passed
    assert "8,000 / 36,000 × 100 = 22.2% >= below 22.0%" in failed.condition_text()


def test_a_saving_as_a_share_of_the_unbatched_cost_and_of_a_baseline() -> None:
    # haiku-trial: unbatched 3 x 10,000 + 94,000 = 124,000; batched 104,000; saved 20,000
    batching: dict[str, Any] = {
        "metric": "batching_savings",
        "baseline": "separate_planning",
        "measure": "total",
        "of": {"metric": "unbatched_tokens", "baseline": "separate_planning", "measure": "total"},
    }
    assert judge("haiku-trial", **batching, min="15%").passed
    failed = judge("haiku-trial", **batching, min="17%")
    assert (
        not failed.passed
        and failed.actual is not None
        and failed.actual.value == 20000 * 100 / 124000
    )
    # scale: the old process costs 80k x 4; the batch 121,000: 199,000 saved = 62.2 %
    versus_old: dict[str, Any] = {
        "metric": "delta",
        "baseline": "old_process",
        "measure": "total",
        "of": {"baseline": "old_process", "per": "phase"},
    }
    verdict = judge("scale", **versus_old, min="63%")
    assert not verdict.passed
    assert "delta[old_process] / baseline old_process × 4 tickets = 199,000 / 320,000" in (
        verdict.condition_text()
    )


def test_a_share_of_nothing_or_of_a_loss_fails_never_passes(plan: Path) -> None:
    change(plan, "pilot", "actual_tokens: 30000", "actual_tokens: 0")
    review: dict[str, Any] = {
        "metric": "stage_tokens",
        "stage": "review",
        "measure": "total",
        "of": {"metric": "stage_tokens", "stage": "implementation", "measure": "total"},
        "max": "1000%",
    }
    verdict = judge("pilot", "JIRA-101", plan, **review)
    assert not verdict.passed
    assert verdict.error == (
        "the share's denominator stage_tokens[implementation] is 0: a share of zero or of a "
        "negative figure has no meaning"
    )
    # pilot costs more than the cheap process would for these two tickets at 20k each: a negative
    # denominator would turn the share negative and pass any `max`
    baselines = plan / "criteria" / "baselines.yaml"
    baselines.write_text(baselines.read_text() + "  cheap: {tokens_per_ticket: 20k}\n")
    loss = judge(
        "pilot",
        None,
        plan,
        metric="tokens",
        measure="total",
        of={"metric": "delta", "baseline": "cheap", "measure": "total"},
        max="10%",
    )
    assert not loss.passed
    assert loss.error is not None and "is -18,000: a share of zero or of a negative" in loss.error


def test_a_share_keeps_what_its_bounds_can_prove() -> None:
    def part(value: int, bound: Any) -> Measurement:
        return Measurement(value, "tokens", "s", bound=bound)

    assert _share_measurement(Share("d", part(1, "lower"), part(4, "exact"))).bound == "lower"
    assert _share_measurement(Share("d", part(1, "exact"), part(4, "lower"))).bound == "upper"
    assert _share_measurement(Share("d", part(1, "lower"), part(4, "lower"))).bound == "unknown"
    assert _share_measurement(Share("d", part(1, "exact"), part(4, "exact"))).value == 25.0


def test_the_success_threshold_is_the_criterions_own() -> None:
    # haiku-trial: JIRA-103 needed 0 fix loops, JIRA-104 two
    rate: dict[str, Any] = {
        "metric": "success_rate",
        "model": "haiku",
        "min": "60%",
        "rule": "point",
    }
    default = judge("haiku-trial", **rate)
    assert not default.passed and default.actual is not None and default.actual.value == 50.0
    two = judge("haiku-trial", **rate, max_fix_loops=2)
    assert two.passed and two.actual is not None and two.actual.value == 100.0
    assert two.label == "success_rate[haiku,fix_loops<=2]"
    strict = judge("haiku-trial", **rate, max_fix_loops=0)
    assert not strict.passed and strict.actual is not None and strict.actual.value == 50.0


def test_pass_at_k_counts_success_on_the_criterions_threshold() -> None:
    hat: dict[str, Any] = {"metric": "pass_hat_k", "model": "haiku", "k": 1, "min": "100%"}
    assert not judge("haiku-trial", **hat).passed  # JIRA-104's two loops fail by default
    assert judge("haiku-trial", **hat, max_fix_loops=2).passed


def test_review_attempts_compared_by_model_within_the_phase(plan: Path) -> None:
    worst: dict[str, Any] = {
        "metric": "max_review_attempts",
        "model": "haiku",
        "max": {"metric": "max_review_attempts", "model": "sonnet"},
    }
    assert judge("haiku-trial", None, plan, **worst).passed  # haiku 2, sonnet 2
    change(
        plan,
        "haiku-trial",
        "result: PASS\n      attempts: 2\n  JIRA-105",
        "result: PASS\n      attempts: 3\n  JIRA-105",
    )
    failed = judge("haiku-trial", None, plan, **worst)
    assert not failed.passed
    assert failed.condition_text() == (
        "max_review_attempts[haiku] 3 > max 2 (this phase's max_review_attempts[sonnet])"
    )
    assert failed.actual is not None and failed.actual.note == "ticket JIRA-104"
    nobody = judge("pilot", None, plan, **worst)  # pilot ran no ticket on haiku
    assert not nobody.passed and nobody.error == "no ticket was executed on haiku"


@pytest.mark.parametrize(
    ("metric", "ticket"), [("savings", None), ("delta", None), ("savings", "JIRA-101")]
)
def test_no_saving_against_a_part_of_a_cost(metric: str, ticket: str | None) -> None:
    # separate_planning (10k, compare: false) set against a 36k ticket would be a -260 % "saving"
    verdict = judge(
        "pilot", ticket, metric=metric, baseline="separate_planning", measure="total", max=10**9
    )
    assert not verdict.passed
    assert verdict.error == (
        "baseline separate_planning is a part of a cost (compare: false), not an approach to "
        "save against; use it with unbatched_tokens or batching_savings"
    )


BOUNDS = ("exact", "lower", "upper")


@pytest.mark.parametrize("n0", [-6, 0, 6])
@pytest.mark.parametrize("num_bound", BOUNDS)
@pytest.mark.parametrize("den_bound", BOUNDS)
def test_a_shares_bound_holds_for_every_true_figure_its_parts_allow(
    n0: int, num_bound: Any, den_bound: Any
) -> None:
    """Round 4: the share's bound came from a table that assumed a numerator never negative
    ("a larger denominator, a smaller share"); for a loss a larger denominator makes a larger
    share, so "a loss over an upper bound" was called a lower bound and proved a `min` it may
    not meet. Here every pair of bounds, with a loss, nothing and a gain shown, against the
    true figures the parts allow: a share called a lower bound is never above the truth, an
    upper bound never below, an exact one equal; and one called unknown does go both ways
    (no bound is given up that holds)."""
    d0 = 4

    def part(value: int, bound: Any) -> Measurement:
        return Measurement(value, "tokens", "s", bound=bound)

    shown = _share_measurement(Share("d", part(n0, num_bound), part(d0, den_bound)))
    steps = {"exact": [0.0], "lower": [0.0, 1.0, 7.0, 100.0], "upper": [0.0, -1.0, -7.0, -100.0]}
    scales = {"exact": [1.0], "lower": [1.0, 1.5, 10.0], "upper": [1.0, 0.5, 0.01]}
    truths = [
        (n0 + step) / (d0 * scale) * 100 for step in steps[num_bound] for scale in scales[den_bound]
    ]
    value = float(shown.value)
    above = any(t > value + 1e-9 for t in truths)
    below = any(t < value - 1e-9 for t in truths)
    expected = {
        (False, False): "exact",
        (True, False): "lower",
        (False, True): "upper",
        (True, True): "unknown",
    }[(above, below)]
    assert shown.bound == expected, (n0, num_bound, den_bound, truths)

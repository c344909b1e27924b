"""The core rule beside a failed ticket: a cost of doing the tickets (a sum or a mean) is a lower
bound and a saving from it an upper bound, naming the ticket; nothing changes when every ticket
of the figure was done."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pytest_orchphase.evaluate.runner import PhaseRunner
from pytest_orchphase.metrics.outcomes import done_cost, failed_work
from pytest_orchphase.metrics.registry import Measurement, MetricContext, metric_measurement
from tests.helpers import Phase, example_baselines, write_yaml


@pytest.fixture
def a1(tmp_path: Path) -> MetricContext:
    """The shipped phase a1 with R03 failed (its review FAIL), R06 done."""
    phase = Phase.example("a1")
    phase.ticket("R03")["status"] = "failed"
    phase.write(tmp_path)
    write_yaml(tmp_path / "criteria/baselines.yaml", example_baselines())
    runner = PhaseRunner(tmp_path / "criteria", tmp_path / "docs/orchestration-data")
    return runner.context("a1")


def test_a_cost_beside_a_failed_ticket_is_a_lower_bound_naming_it(a1: MetricContext) -> None:
    cost = Measurement(40_000, "tokens", "here", bound_note="")
    assert failed_work(a1.phase, ["R06"]) == ""
    assert done_cost(cost, a1.phase, ["R06"]) is cost
    lower = done_cost(cost, a1.phase)
    assert (lower.value, lower.bound) == (40_000, "lower")
    assert lower.bound_note == (
        "ticket R03 failed (status failed): what failing cost is only a lower bound of what "
        "doing the ticket costs"
    )
    assert done_cost(cost, a1.phase, saving=True).bound == "upper"
    # a figure bounded the other way already is bounded neither way
    assert done_cost(Measurement(1, "tokens", "", bound="upper"), a1.phase).bound == "unknown"


@pytest.mark.parametrize(
    ("name", "params", "bound"),
    [
        # what the phase spent, failed work included
        ("tokens", {"measure": "total"}, "exact"),
        ("per_ticket_average", {"measure": "total"}, "lower"),
        ("ticket_tokens_average", {"measure": "total"}, "lower"),
        ("stage_tokens", {"measure": "total", "stage": "implementation"}, "exact"),
        ("unbatched_tokens", {"measure": "total", "baseline": "separate_planning"}, "lower"),
        ("delta", {"measure": "total", "baseline": "v2"}, "upper"),
        ("savings", {"measure": "total", "baseline": "v2"}, "upper"),
        # the tickets' own tokens are on both sides of it: their cheapness cancels out
        ("batching_savings", {"measure": "total", "baseline": "separate_planning"}, "exact"),
        ("shared_planning_tokens", {"measure": "total"}, "exact"),
    ],
)
def test_every_cost_of_doing_the_tickets_is_bounded_beside_a_failed_one(
    a1: MetricContext, name: str, params: dict[str, Any], bound: str
) -> None:
    assert metric_measurement(a1, name, **params).bound == bound

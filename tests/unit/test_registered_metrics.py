"""A metric a team registers (a plugin's or conftest's ``registry.register``): what its function
may raise or return, what it may change, how often it runs, and what the registry refuses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pytest_orchphase.errors import MetricFailed, OrchphaseError
from pytest_orchphase.evaluate.runner import PhaseRunner
from pytest_orchphase.metrics.extensions import register_from
from pytest_orchphase.metrics.registry import (
    REGISTRY,
    Measurement,
    MetricContext,
    Params,
    Registry,
    metric_measurement,
)
from pytest_orchphase.metrics.stats import Paired, Proportion
from tests.helpers import Phase, YamlData, flat_ticket

TEAM: YamlData = {"id": "team", "metric": "team", "max": 10}


def _runner(tmp_path: Path, fn: Any, *, interval: bool = False) -> PhaseRunner:
    """Phase p1 (R01, R02 with 2 fix loops) and the criterion ``team <= 10`` on a phase metric
    ``team`` (a count) running ``fn``."""
    registry = REGISTRY.copy()
    registry.register("team", scope="phase", unit="count", formula="f", fn=fn, interval=interval)
    tickets = {"R01": flat_ticket(), "R02": flat_ticket(fix_loops=2)}
    Phase.of("p1", [TEAM], tickets).write(tmp_path)
    return PhaseRunner(tmp_path / "criteria", tmp_path / "docs/orchestration-data", registry)


def _team(runner: PhaseRunner) -> Measurement:
    return metric_measurement(runner.context("p1"), "team", registry=runner.registry)


def _raises(exc: BaseException) -> Any:
    def fn(ctx: MetricContext, ticket: str | None, params: Params) -> Any:
        raise exc

    return fn


@pytest.mark.parametrize(
    "exc",
    [SystemExit(0), GeneratorExit(), pytest.skip.Exception("no data"), ValueError("no")],
    ids=["SystemExit", "GeneratorExit", "pytest.skip", "ValueError"],
)
def test_whatever_a_metric_raises_fails_it_naming_it(tmp_path: Path, exc: BaseException) -> None:
    with pytest.raises(MetricFailed, match=f"metric 'team' raised {type(exc).__name__}"):
        _team(_runner(tmp_path, _raises(exc)))


def test_ctrl_c_in_a_metric_stops_the_run(tmp_path: Path) -> None:
    with pytest.raises(KeyboardInterrupt):
        _team(_runner(tmp_path, _raises(KeyboardInterrupt())))


@pytest.mark.parametrize(
    ("returned", "why"),
    [
        (10**400, "expected a finite number"),
        (Measurement(5, "count", "s", bound="at_least"), "bound 'at_least'"),  # type: ignore[arg-type]
        (Measurement(5, "widgets", "s"), "unit 'widgets'"),  # type: ignore[arg-type]
        (Measurement(5, "count", "s", note=3), "note 3; expected a string"),  # type: ignore[arg-type]
        (Measurement(5, "count", "s", judged=[1]), "judged"),  # type: ignore[arg-type]
        (Measurement(5, "count", "s", sample=Proportion(5, 3)), "expected 0 <= successes"),
        (Measurement(5, "count", "s", sample=Paired(())), "non-empty tuple of finite"),
        (Measurement(5, "count", "s", sample=(1, 2)), "a Proportion or a Paired"),  # type: ignore[arg-type]
    ],
)
def test_what_is_no_figure_fails_the_metric_naming_it(
    tmp_path: Path, returned: object, why: str
) -> None:
    runner = _runner(tmp_path, lambda ctx, ticket, params: returned)
    with pytest.raises(MetricFailed, match=f"metric 'team' returned .*{why}"):
        _team(runner)


def test_a_metric_with_an_interval_must_give_one(tmp_path: Path) -> None:
    runner = _runner(tmp_path, lambda ctx, ticket, params: 5, interval=True)
    with pytest.raises(MetricFailed, match="metric 'team' returned 5 with no interval"):
        _team(runner)
    sampled = Measurement(50.0, "count", "s", sample=Proportion(1, 2))
    assert _team(_runner(tmp_path, lambda ctx, ticket, params: sampled, interval=True)) == sampled


def test_a_metric_reads_a_copy_of_the_phase(tmp_path: Path) -> None:
    """Whatever it drops or changes stays in its copy: each call, and every other reader, read
    the phase as logged."""
    seen = []

    def team(ctx: MetricContext, ticket: str | None, params: Params) -> int:
        seen.append(len(ctx.phase.tickets))
        ctx.phase.tickets.pop("R02")
        assert ctx.phase.log.tickets is not None
        ctx.phase.log.tickets.clear()
        ctx.accounts.flat.clear()
        return len(ctx.phase.tickets)

    runner = _runner(tmp_path, team)
    assert _team(runner).value == 1
    assert _team(runner).value == 1 and seen == [2, 2]
    ctx = runner.context("p1")
    assert list(ctx.phase.tickets) == ["R01", "R02"] == list(ctx.phase.log.tickets or {})
    assert set(ctx.accounts.flat) == {"R01", "R02"}


def test_a_phase_that_does_not_pickle_is_deep_copied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pickle

    def refuse(*args: object, **kwargs: object) -> bytes:
        raise pickle.PicklingError("a lock")

    runner = _runner(tmp_path, lambda ctx, ticket, params: len([ctx.phase.tickets.pop("R01")]))
    monkeypatch.setattr(pickle, "dumps", refuse)
    _team(runner)
    assert "R01" in runner.context("p1").phase.tickets


def test_the_other_phases_a_metric_reads_are_copies_too(tmp_path: Path) -> None:
    def team(ctx: MetricContext, ticket: str | None, params: Params) -> int:
        assert ctx.others is not None
        return len(ctx.others("p1").phase.tickets.pop("R01").model_dump())

    runner = _runner(tmp_path, team)
    _team(runner)
    assert "R01" in runner.context("p1").phase.tickets


def test_a_metric_runs_once_per_item(tmp_path: Path) -> None:
    """The gate, the unjudged failures and the item read the verdict the item's run gave."""
    calls = []

    def team(ctx: MetricContext, ticket: str | None, params: Params) -> int:
        calls.append(1)
        return 3

    runner = _runner(tmp_path, team)
    (spec,) = runner.items("p1")
    first = runner.verdict("p1", spec)
    assert runner.verdict("p1", spec) is first
    runner.unjudged_failures("p1")
    runner.unjudged_tickets("p1")
    assert runner.gate("p1").passed
    assert calls == [1]


@pytest.mark.parametrize(
    ("registration", "why"),
    [
        ({"name": "tokens", "scope": "ticket"}, "metric 'tokens' .* already registered"),
        ({"unit": "widgets"}, "metric 'team': unknown unit 'widgets'"),
        ({"scope": "sprint"}, "metric 'team': unknown scope 'sprint'"),
        ({"params": ("tier",)}, r"metric 'team': unknown parameters \['tier'\]"),
        ({"required": ("tier",)}, r"metric 'team': unknown parameters \['tier'\]"),
        ({"fn": 3}, "metric 'team': fn 3 is not callable"),
        ({"name": ""}, "a metric's name must be a non-empty string"),
    ],
)
def test_the_registry_refuses_what_it_cannot_hold(registration: dict[str, Any], why: str) -> None:
    kwargs: dict[str, Any] = {
        "name": "team",
        "scope": "phase",
        "unit": "count",
        "formula": "f",
        "fn": lambda ctx, ticket, params: 1,
        **registration,
    }
    with pytest.raises(ValueError, match=why):
        REGISTRY.copy().register(kwargs.pop("name"), **kwargs)


def test_a_refused_registration_names_its_source_and_the_line_that_asked(
    tmp_path: Path,
) -> None:
    def register(registry: Registry) -> None:
        registry.register("team", scope="phase", unit="widgets", formula="f", fn=print)  # type: ignore[arg-type]

    with pytest.raises(OrchphaseError) as refused:
        register_from(REGISTRY.copy(), "the team's hook", lambda: register)
    assert str(refused.value).startswith("the team's hook failed to register its metrics:")
    assert "unknown unit 'widgets'" in str(refused.value)
    assert f"(at {Path(__file__).relative_to(Path.cwd())}:" in str(refused.value)

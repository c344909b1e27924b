"""A loaded phase as tests see it (the ``orchphase_phase`` fixture): its data and its metrics."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pytest_orchphase.errors import MetricUnavailable
from pytest_orchphase.evaluate.formatting import BOUND_WORDS, fmt
from pytest_orchphase.evaluate.runner import GateResult, PhaseRunner
from pytest_orchphase.load.models import Ticket
from pytest_orchphase.load.phase import Phase
from pytest_orchphase.metrics.registry import (
    Measurement,
    MetricContext,
    Value,
    metric_measurement,
)
from pytest_orchphase.usage.attribution import Measured
from pytest_orchphase.usage.value import Usage


@dataclass
class PhaseView:
    """The phase under test. ``metric("tokens", measure="total")`` or, per ticket,
    ``metric("fix_loops", ticket="R03")``: the figure when it is exact; one the data cannot
    give, or that is only a bound of the true one (at least, at most, about), raises
    ``MetricUnavailable`` (a check comparing it as exact could pass wrongly).
    ``measurement(...)`` gives the figure with its bound, to decide on it as the criteria do."""

    name: str
    runner: PhaseRunner

    @property
    def phase(self) -> Phase:
        return self.runner.load(self.name)

    @property
    def context(self) -> MetricContext:
        return self.runner.context(self.name)

    @property
    def tickets(self) -> dict[str, Ticket]:
        return self.phase.tickets

    @property
    def usage(self) -> Usage:
        """The phase's usage (measured when it names sessions, else the log's figures). Its
        ``lower_bounds`` name the measures that are only lower bounds: those of the phase's
        ``tokens`` metric too (a shared planning not recorded, a ticket not finished)."""
        usage = self.context.phase_usage()
        try:
            figure = self.measurement("tokens", measure="total")
        except MetricUnavailable as exc:  # some of it unknown: what is known is a floor
            return usage.at_least(str(exc))
        if figure.bound != "exact" and not usage.is_lower_bound("total"):
            return usage.at_least(figure.bound_note or "the phase's tokens are only a bound")
        return usage

    @property
    def measured(self) -> Measured | None:
        return self.runner.measured(self.name)

    def measurement(self, name: str, ticket: str | None = None, **params: Any) -> Measurement:
        """The metric's figure with its unit and bound (``.value``, ``.bound``: "exact",
        "lower", "upper" or "unknown", ``.bound_note``)."""
        registry = self.runner.registry
        return metric_measurement(self.context, name, ticket, registry=registry, **params)

    def metric(self, name: str, ticket: str | None = None, **params: Any) -> Value:
        figure = self.measurement(name, ticket, **params)
        if figure.bound != "exact":
            shown = f"{BOUND_WORDS[figure.bound]} {fmt(figure.value, figure.unit)}"
            raise MetricUnavailable(
                f"{name} is {shown}, only a bound of the true figure ({figure.bound_note}): "
                "read measurement() for the figure and its bound"
            )
        return figure.value

    def gate(self, required: str) -> GateResult:
        return self.runner.gate(required)

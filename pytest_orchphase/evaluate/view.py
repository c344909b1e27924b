"""A loaded phase as tests see it (the ``orchphase_phase`` fixture): its data and its metrics."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pytest_orchphase.evaluate.runner import GateResult, PhaseRunner
from pytest_orchphase.load.models import Ticket
from pytest_orchphase.load.phase import Phase
from pytest_orchphase.metrics.registry import MetricContext, Value, metric_value
from pytest_orchphase.usage.attribution import Measured
from pytest_orchphase.usage.value import Usage


@dataclass
class PhaseView:
    """The phase under test. ``metric("tokens", measure="total")`` or, per ticket,
    ``metric("fix_loops", ticket="R03")``; unavailable figures raise ``MetricUnavailable``."""

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
        """The phase's usage (measured when it names sessions, else the log's figures)."""
        return self.context.phase_usage()

    @property
    def measured(self) -> Measured | None:
        return self.runner.measured(self.name)

    def metric(self, name: str, ticket: str | None = None, **params: Any) -> Value:
        return metric_value(self.context, name, ticket, registry=self.runner.registry, **params)

    def gate(self, required: str) -> GateResult:
        return self.runner.gate(required)

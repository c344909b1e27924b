"""``orchphase dashboard``: each phase's target against what it used, and whether it passes.

The plan's token-dashboard.sh with the figures filled in: the target is metadata.yaml's
``expected_tokens``, the actual the phase's ``tokens`` metric (measured usage when the phase
names its sessions, else the log's figures). A phase whose files are broken is a row saying so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pytest_orchphase.load.quantity import fmt_tokens

if TYPE_CHECKING:
    from pytest_orchphase.evaluate.runner import PhaseRunner
    from pytest_orchphase.metrics.registry import Bound

HEADERS = ["phase", "target", "actual", "difference", "%", "per ticket", "USD", "gate"]


@dataclass
class PhaseRow:
    phase: str
    target: int | None = None
    actual: int | None = None
    tickets: dict[str, int] = field(default_factory=dict)
    usd: float | None = None
    #: The measures ("total", "usd") whose figure is only a lower bound.
    lower: set[str] = field(default_factory=set)
    #: Each ticket's bound where its total is only one, as its criteria see it (``tokens``):
    #: lower (not finished, or lost transcript lines), upper (the unattributed usage counted in)
    ticket_bounds: dict[str, Bound] = field(default_factory=dict)
    passed: bool = False
    failing: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def difference(self) -> int | None:
        if self.target is None or self.actual is None:
            return None
        return self.actual - self.target

    @property
    def percent(self) -> float | None:
        diff = self.difference
        return None if diff is None or not self.target else diff / self.target * 100


def collect(runner: PhaseRunner) -> list[PhaseRow]:
    """One row per phase ``runner`` knows, in the plan's order (``requires``, ties by name);
    bad input becomes the row's ``error``."""
    from pytest_orchphase.errors import MetricUnavailable, OrchphaseError
    from pytest_orchphase.metrics.registry import metric_measurement

    rows = []
    for name in runner.in_plan_order():
        row = PhaseRow(name)
        try:
            context = runner.context(name)
            row.target = context.phase.metadata.expected_tokens
            usage = context.phase_usage()
            row.actual = usage.total
            row.usd = usage.usd
            row.lower = {m for m in ("total", "usd") if usage.is_lower_bound(m)}
            figures = {
                t: metric_measurement(context, "tokens", t, measure="total")
                for t in context.phase.tickets
            }
            row.tickets = {t: int(m.value) for t, m in figures.items()}
            row.ticket_bounds = {t: m.bound for t, m in figures.items() if m.bound != "exact"}
            gate = runner.gate(name)
            row.passed, row.failing, row.error = gate.passed, gate.failing, gate.error
        except (OrchphaseError, MetricUnavailable) as exc:
            row.error = str(exc)
        rows.append(row)
    return rows


def _low(row: PhaseRow, measure: str) -> str:
    """ "≥ " where the phase's figure is only a lower bound."""
    return "≥ " if measure in row.lower else ""


def _signed(value: float, text: str) -> str:
    return f"+{text}" if value > 0 else text


def _cells(row: PhaseRow) -> list[str]:
    if row.error is not None:
        from pytest_orchphase.metrics.extensions import CONFTEST_ONLY

        first = row.error.splitlines()[0] if row.error else ""
        word = "run through pytest" if CONFTEST_ONLY in first else "ERROR"
        return [row.phase, "", "", "", "", "", "", f"{word}: {first}"]
    from pytest_orchphase.evaluate.formatting import marked

    diff, pct, low = row.difference, row.percent, _low(row, "total")
    return [
        row.phase,
        "not set" if row.target is None else fmt_tokens(row.target),
        "" if row.actual is None else low + fmt_tokens(row.actual),
        "" if diff is None else low + _signed(diff, fmt_tokens(diff)),
        "" if pct is None else low + _signed(pct, f"{pct:.1f}%"),
        ", ".join(
            f"{t} {marked(fmt_tokens(v), row.ticket_bounds.get(t))}" for t, v in row.tickets.items()
        ),
        "unknown" if row.usd is None else _low(row, "usd") + f"${row.usd:,.4f}",
        "PASS" if row.passed else "FAIL: " + ", ".join(row.failing),
    ]


def render(rows: list[PhaseRow]) -> str:
    from tabulate import tabulate

    return tabulate(
        [_cells(r) for r in rows],
        headers=HEADERS,
        stralign="left",
        disable_numparse=True,
    )

"""Totals and analyses a log declares, recomputed from their parts; every difference is reported.

Declared figures are hand arithmetic over the log's own numbers, so they are checked against the
log's own figures (recorded actuals, else estimates), never against measured usage. Nothing
declared is ever used in place of the computed value.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pytest_orchphase.errors import MetricUnavailable, display
from pytest_orchphase.load.phase import Phase
from pytest_orchphase.load.yamlio import FieldPath, dotted
from pytest_orchphase.metrics.phase_metrics import stage_total
from pytest_orchphase.metrics.registry import MetricContext, metric_value
from pytest_orchphase.usage.accounts import hand_accounts

PERCENT_TOLERANCE = 1.0  # a declared "64%" for a computed 64.46 % is a rounding, not a slip


@dataclass(frozen=True)
class Mismatch:
    file: str
    line: int | None
    field: str
    declared: float | bool
    #: None: the figure cannot be checked (``formula`` then says why)
    computed: float | bool | None
    formula: str
    percent: bool = False

    def describe(self, *, located: bool = True) -> str:
        where = f"{self.file}:{self.line}: " if self.line else f"{self.file}: "
        head = (
            f"{where if located else ''}{self.field} declares {show(self.declared, self.percent)}"
        )
        if self.computed is None:
            return f"{head}, not checked: {self.formula}"
        return f"{head}, computed {show(self.computed, self.percent)} = {self.formula}"


def show(value: float | bool | None, percent: bool = False) -> str:
    """``85400`` → ``85,400``; ``64.46`` → ``64.46`` (``64.46%``); booleans as YAML writes them;
    None (a figure that cannot be checked) as ``not checked``."""
    if value is None:
        return "not checked"
    if isinstance(value, bool):
        return str(value).lower()
    return f"{value:,.2f}".rstrip("0").rstrip(".") + ("%" if percent else "")


def _differs(declared: float | bool, computed: float | bool, is_percent: bool) -> bool:
    """Token figures must match to the token, percentages within PERCENT_TOLERANCE points."""
    if isinstance(declared, bool) or isinstance(computed, bool):
        return bool(declared) != bool(computed)
    gap = abs(float(declared) - float(computed))
    return gap >= PERCENT_TOLERANCE if is_percent else gap > 0.5


def savings_baseline(phase: Phase) -> str | None:
    """The baseline a log's unnamed savings figures (``totals.savings_percent``,
    ``savings_vs_baseline``, metadata ``baseline_comparison``) are against: the one the log
    names (``totals.baseline``), else the one the phase's ``savings`` criteria use, else the
    project's only baseline to compare with, else ``v2``; None when none of these settles it."""
    totals = phase.log.totals
    if totals is not None and totals.baseline is not None:
        return totals.baseline
    used = {
        leaf.baseline
        for criterion in phase.criteria.criteria
        for leaf in criterion.leaves()
        if leaf.metric == "savings" and leaf.baseline is not None
    }
    if len(used) == 1:
        return used.pop()
    comparable = [name for name, b in phase.baselines.items() if b.compare]
    if len(comparable) == 1:
        return comparable[0]
    return "v2" if "v2" in phase.baselines else None


@dataclass(frozen=True)
class Figure:
    """A figure recomputed from the log's own numbers, its formula in words, whether a percent."""

    compute: Callable[[], float | bool]
    formula: str
    percent: bool = False


@dataclass(frozen=True)
class Declared:
    """One row of the table: a value the log declares at a field, and the figure it must equal."""

    at: FieldPath
    value: object
    figure: Figure


class _Figures:
    """The figures a log's declared totals are checked against, each by a metric's own formula
    evaluated on the log's figures (one formula, not a copy)."""

    def __init__(self, phase: Phase) -> None:
        self.phase = phase
        self.hand = MetricContext(phase=phase, accounts=hand_accounts(phase))
        self.n = self.hand.n
        self.named = savings_baseline(phase)
        n = self.n
        base = self.named or "?"
        unnamed = f"({base} × tickets − total) / ({base} × tickets) × 100"
        v2_savings = "(v2 × tickets − total) / (v2 × tickets) × 100"
        self.by_name: dict[str, Figure] = {
            "total": Figure(self.metric("tokens"), "planning + Σ tickets"),
            "planning": Figure(self.metric("shared_planning_tokens"), "shared planning"),
            "per_ticket": Figure(self.metric("per_ticket_average"), f"total / {n} tickets"),
            "execution": Figure(
                self.stage_sum("branch_creation", "implementation", "fix"),
                "Σ branch_creation + implementation + fix",
            ),
            "monitoring": Figure(self.stage_sum("monitoring"), "Σ monitoring"),
            "review": Figure(self.stage_sum("review"), "Σ review"),
            "finalization": Figure(self.stage_sum("finalization"), "Σ finalization"),
            "unnamed_savings": Figure(self.unnamed_savings, unnamed, percent=True),
            "unbatched": Figure(
                self.metric("unbatched_tokens", "separate_planning"),
                "Σ tickets (separate planning + ticket tokens)",
            ),
            "separate_planning_all": Figure(
                self.times_tickets("separate_planning"), f"{n} × separate planning"
            ),
            "batching_savings": Figure(
                self.metric("batching_savings", "separate_planning"), "unbatched − batched"
            ),
            "single_agent": Figure(
                self.baseline("single_agent"), "single-agent baseline per ticket"
            ),
            "single_agent_all": Figure(
                self.times_tickets("single_agent"), f"single agent per ticket × {n}"
            ),
            "worth_it": Figure(
                lambda: self.total() < self.times_tickets("single_agent")(),
                "total < single agent × tickets",
            ),
            "v2_all": Figure(self.times_tickets("v2"), f"v2 per ticket × {n}"),
            "v2_savings": Figure(self.metric("savings", "v2"), v2_savings, percent=True),
            "v2_delta": Figure(
                lambda: self.times_tickets("v2")() - self.total(), "v2 total − total"
            ),
            "single_agent_delta": Figure(
                self.metric("delta", "single_agent"), "single agent total − total"
            ),
        }
        self.total = self.by_name["total"].compute

    def metric(self, name: str, baseline: str | None = None) -> Callable[[], float]:
        return lambda: float(metric_value(self.hand, name, measure="total", baseline=baseline))

    def baseline(self, name: str) -> Callable[[], float]:
        return lambda: self.hand.baseline_figure(name, "total")

    def times_tickets(self, name: str) -> Callable[[], float]:
        return lambda: self.hand.baseline_figure(name, "total") * self.n

    def ticket(self, ticket: str) -> Callable[[], float]:
        return lambda: self.hand.ticket_usage(ticket).total

    def stage_sum(self, *names: str) -> Callable[[], float]:
        def compute() -> float:
            # a stage that ran without figures leaves the sum unknown, never smaller
            parts = [u for s in names if (u := stage_total(self.hand, s)) is not None]
            if not parts:
                raise MetricUnavailable("no stage figures")
            return sum(p.total for p in parts)

        return compute

    def unnamed_savings(self) -> float:
        if self.named is None:
            raise MetricUnavailable(
                "the baseline it is against is not settled; name it with totals.baseline"
            )
        return self.metric("savings", self.named)()


#: The log's sections of declared figures: each field, and the figure (in ``_Figures``) it equals.
SECTIONS: dict[str, tuple[tuple[str, str], ...]] = {
    "totals": (
        ("shared_planning", "planning"),
        ("planning", "planning"),
        ("execution", "execution"),
        ("monitoring", "monitoring"),
        ("review", "review"),
        ("finalization", "finalization"),
        ("total", "total"),
        ("total_tokens", "total"),
        ("per_ticket_average", "per_ticket"),
        ("savings_percent", "unnamed_savings"),
        ("savings_vs_baseline", "unnamed_savings"),
    ),
    "batching_analysis": (
        ("unbatched_cost", "unbatched"),
        ("unbatched_planning_overhead", "separate_planning_all"),
        ("batched_cost", "total"),
        ("batched_planning_overhead", "planning"),
        ("batching_savings", "batching_savings"),
        ("effective_per_ticket", "per_ticket"),
        ("vs_single_agent", "single_agent"),
        ("orchestration_worth_it", "worth_it"),
        ("v2_baseline", "v2_all"),
        ("savings_vs_v2", "v2_savings"),
    ),
    "batching_efficiency": (
        ("unbatched_cost", "unbatched"),
        ("batched_cost", "total"),
        ("batching_savings", "batching_savings"),
    ),
    "comparison_to_single_agent": (
        ("single_agent_total", "single_agent_all"),
        ("orchestration_total", "total"),
        ("delta", "single_agent_delta"),
    ),
    "comparison_to_v2_orchestration": (
        ("v2_total", "v2_all"),
        ("orchestration_total", "total"),
        ("savings", "v2_delta"),
        ("savings_percent", "v2_savings"),
    ),
}


def _ticket_rows(figures: _Figures) -> list[Declared]:
    """Each ticket's subtotal, and its cost analysis against the v2 baseline."""
    rows: list[Declared] = []
    phase = figures.phase
    for t, tk in phase.tickets.items():
        at = phase.ticket_field(t)
        tokens = figures.ticket(t)
        rows.append(Declared((*at, "subtotal"), tk.subtotal, Figure(tokens, f"Σ stages of {t}")))
        ca = tk.cost_analysis
        if ca is None:
            continue

        def effective(tokens: Callable[[], float] = tokens) -> float:
            v2 = figures.baseline("v2")()
            return (v2 - tokens()) / v2 * 100

        rows += [
            Declared(
                (*at, "cost_analysis", "actual_cost"),
                ca.actual_cost,
                Figure(tokens, f"tokens of {t}"),
            ),
            Declared(
                (*at, "cost_analysis", "effective_savings"),
                ca.effective_savings,
                Figure(effective, f"(v2 per ticket − tokens of {t}) / v2 per ticket × 100", True),
            ),
        ]
    return rows


def _section_rows(figures: _Figures) -> list[Declared]:
    """The rows of every section the log has, in the order of ``SECTIONS``."""
    rows: list[Declared] = []
    for section, fields in SECTIONS.items():
        declared = getattr(figures.phase.log, section)
        if declared is None:
            continue
        rows += [
            Declared((section, key), getattr(declared, key), figures.by_name[name])
            for key, name in fields
        ]
        if section == "totals":
            rows += _ticket_cost_rows(figures)
    return rows


def _ticket_cost_rows(figures: _Figures) -> list[Declared]:
    """``totals.<ticket>_cost``: a ticket's figure, or nothing when the phase has no such ticket."""
    totals = figures.phase.log.totals
    assert totals is not None
    by_lower = {t.lower(): t for t in figures.phase.tickets}
    rows: list[Declared] = []
    for key, value in totals.ticket_costs.items():
        real = by_lower.get(key.lower())
        figure = (
            Figure(lambda: 0, f"nothing: {key} is not a ticket of this phase")
            if real is None
            else Figure(figures.ticket(real), f"Σ stages of {real}")
        )
        rows.append(Declared(("totals", f"{key}_cost"), value, figure))
    return rows


def _mismatch(phase: Phase, row: Declared) -> Mismatch | None:
    """The row's difference, or None when the declared value equals the computed one."""
    declared, figure = row.value, row.figure
    assert isinstance(declared, int | float | bool)
    line, _ = phase.log_doc.where(row.at)
    computed: float | bool | None
    formula = figure.formula
    try:
        computed = figure.compute()
    except MetricUnavailable as exc:  # said, never skipped: "every difference is reported"
        computed, formula = None, str(exc)
    if computed is not None and not _differs(declared, computed, figure.percent):
        return None
    if isinstance(computed, float):
        computed = round(computed, 2)
    return Mismatch(
        display(phase.log_doc.path),
        line,
        dotted(row.at),
        declared,
        computed,
        formula,
        percent=figure.percent,
    )


def _baseline_comparison(figures: _Figures) -> Mismatch | None:
    """metadata ``baseline_comparison``: the named baseline per ticket × tickets."""
    phase, named, n = figures.phase, figures.named, figures.n
    declared = phase.metadata.baseline_comparison
    if declared is None:
        return None
    line, _ = phase.metadata_doc.where(("baseline_comparison",))
    where = display(phase.metadata_doc.path)
    try:
        if named is None:
            raise MetricUnavailable(
                "the baseline it is against is not settled; name it with totals.baseline "
                "in the execution log"
            )
        base_total = figures.times_tickets(named)()
    except MetricUnavailable as exc:
        return Mismatch(where, line, "baseline_comparison", declared, None, str(exc))
    if abs(declared - base_total) > 0.5:
        return Mismatch(
            where, line, "baseline_comparison", declared, base_total, f"{named} per ticket × {n}"
        )
    return None


def declared_mismatches(phase: Phase) -> list[Mismatch]:
    """Compare every declared total/analysis in the log and metadata with the computed value."""
    figures = _Figures(phase)
    rows = _ticket_rows(figures) + _section_rows(figures)
    found = [m for row in rows if row.value is not None and (m := _mismatch(phase, row))]
    metadata = _baseline_comparison(figures)
    return found if metadata is None else [*found, metadata]

"""Totals and analyses a log declares, recomputed from their parts; every difference is reported.

Declared figures are hand arithmetic over the log's own numbers, so they are checked against the
log's own figures (recorded actuals, else estimates), never against measured usage. Nothing
declared is ever used in place of the computed value.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pytest_orchphase.errors import display
from pytest_orchphase.load.phase import Phase
from pytest_orchphase.load.yamlio import FieldPath, dotted
from pytest_orchphase.metrics.registry import MetricContext, metric_value
from pytest_orchphase.usage.accounts import hand_accounts
from pytest_orchphase.usage.value import MetricUnavailable, Usage

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


Check = tuple[FieldPath, object, Callable[[], float | bool], str, bool]


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


def declared_mismatches(phase: Phase) -> list[Mismatch]:
    """Compare every declared total/analysis in the log and metadata with the computed value."""
    hand = MetricContext(phase=phase, accounts=hand_accounts(phase))
    log, n = phase.log, hand.n

    def metric(name: str, measure: str, baseline: str | None = None) -> Callable[[], float]:
        """A phase metric's own formula, on the log's figures (one formula, not a copy)."""
        return lambda: float(metric_value(hand, name, measure=measure, baseline=baseline))

    total = metric("tokens", measure="total")

    def baseline(name: str) -> Callable[[], float]:
        return lambda: hand.baseline_figure(name, "total")

    def ticket(t: str) -> Callable[[], float]:
        return lambda: hand.ticket_usage(t).total

    planning = metric("shared_planning_tokens", measure="total")

    def stage_sum(*names: str) -> Callable[[], float]:
        def compute() -> float:
            parts: list[Usage] = [
                u for t in phase.tickets for s in names if (u := hand.accounts.stage(t, s))
            ]
            if not parts:
                raise MetricUnavailable("no stage figures")
            return sum(p.total for p in parts)

        return compute

    def savings(base: str) -> Callable[[], float]:
        return metric("savings", baseline=base, measure="total")

    named = savings_baseline(phase)

    def unnamed_savings() -> float:
        if named is None:
            raise MetricUnavailable(
                "the baseline it is against is not settled; name it with totals.baseline"
            )
        return savings(named)()

    unnamed_formula = f"({named or '?'} × tickets − total) / ({named or '?'} × tickets) × 100"

    unbatched = metric("unbatched_tokens", baseline="separate_planning", measure="total")
    batching_savings = metric("batching_savings", baseline="separate_planning", measure="total")
    per_ticket = metric("per_ticket_average", measure="total")

    checks: list[Check] = []
    for t in phase.tickets:
        tk = phase.tickets[t]
        at = phase.ticket_field(t)
        checks.append(((*at, "subtotal"), tk.subtotal, ticket(t), f"Σ stages of {t}", False))
        if tk.cost_analysis is not None:
            ca = tk.cost_analysis
            checks.append(
                (
                    (*at, "cost_analysis", "actual_cost"),
                    ca.actual_cost,
                    ticket(t),
                    f"tokens of {t}",
                    False,
                )
            )

            def eff(t: str = t) -> float:
                return (baseline("v2")() - ticket(t)()) / baseline("v2")() * 100

            checks.append(
                (
                    (*at, "cost_analysis", "effective_savings"),
                    ca.effective_savings,
                    eff,
                    f"(v2 per ticket − tokens of {t}) / v2 per ticket × 100",
                    True,
                )
            )
    if log.totals is not None:
        tt = log.totals
        for key in ("shared_planning", "planning"):
            checks.append((("totals", key), getattr(tt, key), planning, "shared planning", False))
        checks += [
            (
                ("totals", "execution"),
                tt.execution,
                stage_sum("branch_creation", "implementation", "fix"),
                "Σ branch_creation + implementation + fix",
                False,
            ),
            (
                ("totals", "monitoring"),
                tt.monitoring,
                stage_sum("monitoring"),
                "Σ monitoring",
                False,
            ),
            (("totals", "review"), tt.review, stage_sum("review"), "Σ review", False),
            (
                ("totals", "finalization"),
                tt.finalization,
                stage_sum("finalization"),
                "Σ finalization",
                False,
            ),
            (("totals", "total"), tt.total, total, "planning + Σ tickets", False),
            (("totals", "total_tokens"), tt.total_tokens, total, "planning + Σ tickets", False),
            (
                ("totals", "per_ticket_average"),
                tt.per_ticket_average,
                per_ticket,
                f"total / {n} tickets",
                False,
            ),
            (
                ("totals", "savings_percent"),
                tt.savings_percent,
                unnamed_savings,
                unnamed_formula,
                True,
            ),
            (
                ("totals", "savings_vs_baseline"),
                tt.savings_vs_baseline,
                unnamed_savings,
                unnamed_formula,
                True,
            ),
        ]
        by_lower = {t.lower(): t for t in phase.tickets}
        for key, value in tt.ticket_costs.items():
            real = by_lower.get(key.lower())
            if real is None:
                checks.append(
                    (
                        ("totals", f"{key}_cost"),
                        value,
                        lambda: 0,
                        f"nothing: {key} is not a ticket of this phase",
                        False,
                    )
                )
                continue
            checks.append(
                (("totals", f"{key}_cost"), value, ticket(real), f"Σ stages of {real}", False)
            )
    ba = log.batching_analysis
    if ba is not None:
        checks += [
            (
                ("batching_analysis", "unbatched_cost"),
                ba.unbatched_cost,
                unbatched,
                "Σ tickets (separate planning + ticket tokens)",
                False,
            ),
            (
                ("batching_analysis", "unbatched_planning_overhead"),
                ba.unbatched_planning_overhead,
                lambda: baseline("separate_planning")() * n,
                f"{n} × separate planning",
                False,
            ),
            (
                ("batching_analysis", "batched_cost"),
                ba.batched_cost,
                total,
                "planning + Σ tickets",
                False,
            ),
            (
                ("batching_analysis", "batched_planning_overhead"),
                ba.batched_planning_overhead,
                planning,
                "shared planning",
                False,
            ),
            (
                ("batching_analysis", "batching_savings"),
                ba.batching_savings,
                batching_savings,
                "unbatched − batched",
                False,
            ),
            (
                ("batching_analysis", "effective_per_ticket"),
                ba.effective_per_ticket,
                per_ticket,
                f"total / {n} tickets",
                False,
            ),
            (
                ("batching_analysis", "vs_single_agent"),
                ba.vs_single_agent,
                baseline("single_agent"),
                "single-agent baseline per ticket",
                False,
            ),
            (
                ("batching_analysis", "orchestration_worth_it"),
                ba.orchestration_worth_it,
                lambda: total() < baseline("single_agent")() * n,
                "total < single agent × tickets",
                False,
            ),
            (
                ("batching_analysis", "v2_baseline"),
                ba.v2_baseline,
                lambda: baseline("v2")() * n,
                f"v2 per ticket × {n}",
                False,
            ),
            (
                ("batching_analysis", "savings_vs_v2"),
                ba.savings_vs_v2,
                savings("v2"),
                "(v2 × tickets − total) / (v2 × tickets) × 100",
                True,
            ),
        ]
    be = log.batching_efficiency
    if be is not None:
        checks += [
            (
                ("batching_efficiency", "unbatched_cost"),
                be.unbatched_cost,
                unbatched,
                "Σ tickets (separate planning + ticket tokens)",
                False,
            ),
            (
                ("batching_efficiency", "batched_cost"),
                be.batched_cost,
                total,
                "planning + Σ tickets",
                False,
            ),
            (
                ("batching_efficiency", "batching_savings"),
                be.batching_savings,
                batching_savings,
                "unbatched − batched",
                False,
            ),
        ]
    cs = log.comparison_to_single_agent
    if cs is not None:
        checks += [
            (
                ("comparison_to_single_agent", "single_agent_total"),
                cs.single_agent_total,
                lambda: baseline("single_agent")() * n,
                f"single agent per ticket × {n}",
                False,
            ),
            (
                ("comparison_to_single_agent", "orchestration_total"),
                cs.orchestration_total,
                total,
                "planning + Σ tickets",
                False,
            ),
            (
                ("comparison_to_single_agent", "delta"),
                cs.delta,
                metric("delta", baseline="single_agent", measure="total"),
                "single agent total − total",
                False,
            ),
        ]
    cv = log.comparison_to_v2_orchestration
    if cv is not None:
        checks += [
            (
                ("comparison_to_v2_orchestration", "v2_total"),
                cv.v2_total,
                lambda: baseline("v2")() * n,
                f"v2 per ticket × {n}",
                False,
            ),
            (
                ("comparison_to_v2_orchestration", "orchestration_total"),
                cv.orchestration_total,
                total,
                "planning + Σ tickets",
                False,
            ),
            (
                ("comparison_to_v2_orchestration", "savings"),
                cv.savings,
                lambda: baseline("v2")() * n - total(),
                "v2 total − total",
                False,
            ),
            (
                ("comparison_to_v2_orchestration", "savings_percent"),
                cv.savings_percent,
                savings("v2"),
                "(v2 × tickets − total) / (v2 × tickets) × 100",
                True,
            ),
        ]

    out: list[Mismatch] = []
    for at, declared, compute, formula, is_percent in checks:
        if declared is None:
            continue
        assert isinstance(declared, int | float | bool)
        line, _ = phase.log_doc.where(at)
        computed: float | bool | None
        try:
            computed = compute()
        except MetricUnavailable as exc:  # said, never skipped: "every difference is reported"
            computed, formula = None, str(exc)
        if computed is not None and not _differs(declared, computed, is_percent):
            continue
        if isinstance(computed, float):
            computed = round(computed, 2)
        out.append(
            Mismatch(
                display(phase.log_doc.path),
                line,
                dotted(at),
                declared,
                computed,
                formula,
                percent=is_percent,
            )
        )

    meta = phase.metadata
    if meta.baseline_comparison is not None:
        line, _ = phase.metadata_doc.where(("baseline_comparison",))
        where = display(phase.metadata_doc.path)
        try:
            if named is None:
                raise MetricUnavailable(
                    "the baseline it is against is not settled; name it with totals.baseline "
                    "in the execution log"
                )
            base_total = baseline(named)() * n
            if abs(meta.baseline_comparison - base_total) > 0.5:
                out.append(
                    Mismatch(
                        where,
                        line,
                        "baseline_comparison",
                        meta.baseline_comparison,
                        base_total,
                        f"{named} per ticket × {n}",
                    )
                )
        except MetricUnavailable as exc:
            out.append(
                Mismatch(
                    where, line, "baseline_comparison", meta.baseline_comparison, None, str(exc)
                )
            )
    return out

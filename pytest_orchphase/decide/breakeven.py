"""The break-even decision: from how many tickets does orchestration beat a baseline?"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from pytest_orchphase.errors import MetricUnavailable
from pytest_orchphase.evaluate.runner import PhaseRunner
from pytest_orchphase.load.models import Baseline
from pytest_orchphase.metrics.open_work import still_open, work_not_run
from pytest_orchphase.metrics.outcomes import failures
from pytest_orchphase.metrics.registry import MetricContext
from pytest_orchphase.usage.value import Usage


@dataclass
class BreakEven:
    measure: str
    shared_planning: float | None
    per_ticket: float | None
    baseline_per_ticket: float | None
    tickets: int | None
    reason: str
    #: the baseline orchestration is measured against (``--baseline``; see default_baseline)
    baseline: str | None = None
    #: the usage no rule places (None when there is none): it may be shared planning or the
    #: tickets' own work; ``tickets`` is the later of the two readings' break-evens
    unattributed: float | None = None
    #: N with the unattributed usage all shared planning, and all the tickets' own (None: never)
    tickets_if_planning: int | None = None
    tickets_if_tickets_own: int | None = None
    #: the two readings give different answers: ``tickets`` is a bound (the latest it may be)
    depends_on_unattributed: bool = False

    def _fmt(self, value: float) -> str:
        return f"${value:,.4f}" if self.measure == "usd" else f"{value:,.0f}"

    @property
    def line(self) -> str:
        unit = "USD" if self.measure == "usd" else "tokens"
        if self.tickets is None:
            return f"Break-even ({unit}): {self.reason}"
        return (
            f"Break-even ({unit}): orchestration beats {self.baseline} from {self.tickets} "
            f"tickets — {self.reason}"
        )

    def to_data(self) -> dict[str, Any]:
        return {**asdict(self), "line": self.line}


def default_baseline(baselines: dict[str, Baseline]) -> str:
    """The baseline a break-even is against when none is named: ``single_agent`` when the
    project defines it, else its only baseline with ``compare: true``."""
    if "single_agent" in baselines:
        return "single_agent"
    approaches = sorted(n for n, b in baselines.items() if b.compare)
    if len(approaches) == 1:
        return approaches[0]
    raise MetricUnavailable(
        "no single_agent baseline, and "
        + (f"several to choose from ({', '.join(approaches)})" if approaches else "none other")
        + ": name one with --baseline"
    )


def break_even(
    runner: PhaseRunner, name: str, measure: str = "total", baseline: str | None = None
) -> BreakEven:
    """Smallest N with planning + N × per-ticket < N × baseline per ticket.

    N = ⌊planning / (base − per_ticket)⌋ + 1 when a ticket costs less under orchestration.
    The usage no rule places may be overhead of the batch (planning) or the tickets' own work
    (a cost every further ticket brings again): N is computed both ways, and the later one (or
    never) is the answer; any split between the two lies between them.
    """
    ctx = runner.context(name)
    try:
        baseline = baseline or default_baseline(ctx.phase.baselines)
        planning_usage, lead, extra, own, single = _figures(ctx, measure, baseline)
    except MetricUnavailable as exc:
        return BreakEven(measure, None, None, None, None, f"unknown: {exc}", baseline)
    show = BreakEven(measure, None, None, None, None, "")._fmt
    # the two readings of the unattributed usage: (shared planning, per ticket, N or None)
    spread = own + extra / ctx.n
    as_planning = (lead + extra, own, _tickets_to_break_even(lead + extra, own, single))
    as_own = (lead, spread, _tickets_to_break_even(lead, spread, single))
    n_planning, n_own = as_planning[2], as_own[2]
    differ = n_planning != n_own
    # the later break-even (never is the latest); the planning reading when they agree
    later_own = differ and (n_own is None or (n_planning is not None and n_own > n_planning))
    planning, per_ticket, tickets = as_own if later_own else as_planning
    readings: dict[str, Any] = {
        "unattributed": extra if extra else None,
        "tickets_if_planning": n_planning,
        "tickets_if_tickets_own": n_own,
        "depends_on_unattributed": differ,
    }
    why = _unattributed_why(show(extra), n_planning, n_own, later_own) if differ else ""
    if tickets is None:
        reason = (
            f"never: a ticket costs {show(per_ticket)} under orchestration, "
            f"{baseline} {show(single)}, so shared planning is never paid back"
        )
        if why:
            reason += f" ({why})"
        return BreakEven(measure, planning, per_ticket, single, None, reason, baseline, **readings)
    return BreakEven(
        measure,
        planning,
        per_ticket,
        single,
        tickets,
        f"shared planning {show(planning)} / ({baseline} {show(single)} − "
        f"{show(per_ticket)} per ticket)"
        + (f", {why}" if why else "")
        + _lower_bounds_note(ctx, planning_usage, measure),
        baseline,
        **readings,
    )


def _figures(
    ctx: MetricContext, measure: str, baseline: str
) -> tuple[Usage, float, float, float, float]:
    """The phase's shared planning usage, and in ``measure``: its figure, the unattributed
    usage, a ticket's own on average and the baseline's per ticket (MetricUnavailable when
    one of them is not known, or when a ticket failed or its work did not run: its cost is no
    done ticket's)."""
    if not ctx.baseline(baseline).compare:
        raise MetricUnavailable(
            f"baseline {baseline} is a part of a cost (compare: false), not an approach "
            "orchestration could beat"
        )
    planning_usage = ctx.planning()
    if planning_usage is None:
        raise MetricUnavailable("the phase records no shared planning")
    for ticket_id, ticket in ctx.phase.tickets.items():  # failed work is cheap, not done
        if why := failures(ticket):
            raise MetricUnavailable(
                f"ticket {ticket_id} failed ({', '.join(why)}): its cost is not what a done "
                "ticket costs"
            )
        if not_run := work_not_run(ticket):  # work skipped is cheaper still
            raise MetricUnavailable(
                f"ticket {ticket_id}'s work did not run ({not_run}): its cost is not what a "
                "done ticket costs"
            )
    lead = planning_usage.measure(measure)
    loose = ctx.accounts.unattributed
    extra: float = loose.measure(measure) if loose is not None and loose.total else 0
    own = sum(ctx.ticket_usage(t).measure(measure) for t in ctx.phase.tickets) / ctx.n
    single = ctx.baseline_figure(baseline, measure)
    return planning_usage, lead, extra, own, single


def _unattributed_why(
    extra: str, n_planning: int | None, n_own: int | None, later_own: bool
) -> str:
    """Why the break-even depends on the unattributed usage (``extra``, shown): the reading
    taken (the later break-even) and what the other gives."""
    worse, other = ("the tickets' own", "all shared planning")
    if not later_own:
        worse, other = other, worse
    n_other = n_planning if later_own else n_own
    other_text = f"from {n_other} tickets" if n_other is not None else "never"
    return (
        f"with the unattributed usage ({extra}) counted as {worse}; {other_text} if "
        f"it is {other}: map its agents and sessions to their tickets"
    )


def _lower_bounds_note(ctx: MetricContext, planning_usage: Usage, measure: str) -> str:
    """What a break-even from lower bounds says of the true one (empty when none is)."""
    usages = [planning_usage, ctx.accounts.unattributed, *map(ctx.ticket_usage, ctx.phase.tickets)]
    if not any(u is not None and u.is_lower_bound(measure) for u in usages):
        return ""
    return (
        "; from lower bounds ("
        + (still_open(ctx.phase) or "sub-agent output no record gives")
        + "): the true break-even is later, or never"
    )


def _tickets_to_break_even(planning: float, per_ticket: float, single: float) -> int | None:
    """Smallest N with ``planning`` + N × ``per_ticket`` < N × ``single``; None: never."""
    if single <= per_ticket:
        return None
    return math.floor(planning / (single - per_ticket)) + 1

"""The shipped metrics over paired and repeated trials: a phase against another on the tickets
both ran, and pass@k / pass^k over the phase and the phases it requires."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pytest_orchphase.errors import MetricUnavailable, display
from pytest_orchphase.load.models import Ticket
from pytest_orchphase.load.phase import Phase, requires_order
from pytest_orchphase.load.yamlio import FieldPath, dotted
from pytest_orchphase.metrics import bounds, outcomes, which_tickets
from pytest_orchphase.metrics.registry import (
    DEFAULT_SUCCESS_LOOPS,
    Bound,
    Measurement,
    MetricContext,
    Params,
    metric,
    token_unit,
)
from pytest_orchphase.metrics.stats import Paired, pass_at_k, pass_hat_k, percent, sign_test


@dataclass(frozen=True)
class PairedTickets:
    """Per-ticket figures of a phase against another phase, on the tickets both ran."""

    versus: str
    tickets: list[str]
    mine: list[float]
    theirs: list[float]
    #: the bound of each delta (theirs − mine) taken together: a lower bound on this phase's
    #: side makes the saving an upper bound, on the other phase's side a lower one
    bound: Bound = "exact"
    bound_note: str = ""

    @property
    def deltas(self) -> list[float]:
        """Positive where this phase's ticket cost less than the other phase's."""
        return [t - m for m, t in zip(self.mine, self.theirs, strict=True)]


def paired_tickets(ctx: MetricContext, versus: str, measure: str = "total") -> PairedTickets:
    """The tickets ``ctx``'s phase shares with phase ``versus`` and each one's own usage (shared
    planning excluded) in both; MetricUnavailable when they share none or a figure is unknown."""
    if ctx.others is None:
        raise MetricUnavailable(f"phase {versus} is not at hand to compare with")
    other = ctx.others(versus)
    shared = [t for t in ctx.phase.tickets if t in other.phase.tickets]
    if not shared:
        raise MetricUnavailable(f"phase {ctx.phase.name} shares no ticket with phase {versus}")
    mine = [ctx.ticket_usage(t) for t in shared]
    theirs = [other.ticket_usage(t) for t in shared]
    # a phase's unattributed usage may be its tickets' own: each of its figures is then only a
    # lower bound of the ticket's; so is a ticket's that failed there, of doing it
    loose = [c.phase.name for c in (ctx, other) if _unattributed(c)]
    failed = {
        c.phase.name: why for c in (ctx, other) if (why := outcomes.failed_work(c.phase, shared))
    }
    bound = bounds.difference(
        bounds.summed([*(bounds.bound_of(u, measure) for u in theirs), _low(other, failed)]),
        bounds.summed([*(bounds.bound_of(u, measure) for u in mine), _low(ctx, failed)]),
    )
    notes = [u.lower_bound_note for u in mine + theirs if u.is_lower_bound(measure)]
    notes += [
        f"phase {name}'s unattributed usage may be its tickets' own (map its agents and "
        "sessions to their tickets)"
        for name in loose
    ]
    notes += [f"phase {name}: {why}" for name, why in failed.items()]
    return PairedTickets(
        versus,
        shared,
        [u.measure(measure) for u in mine],
        [u.measure(measure) for u in theirs],
        bound,
        notes[0] if notes else "",
    )


def _unattributed(ctx: MetricContext) -> bool:
    loose = ctx.accounts.unattributed
    return loose is not None and loose.total > 0


def _low(ctx: MetricContext, failed: dict[str, str]) -> Bound:
    """The bound the phase's unattributed usage, and its tickets that failed (``failed``: by
    phase), put on its tickets' own figures."""
    return "lower" if _unattributed(ctx) or ctx.phase.name in failed else "exact"


@metric(
    "paired_savings",
    "phase",
    "tokens",
    "mean over the tickets both phases ran of (`versus`'s ticket tokens − this phase's), with "
    "a seeded paired bootstrap interval and an exact sign test",
    ("measure", "versus"),
    interval=True,
    per_ticket=True,
)
def _paired_savings(ctx: MetricContext, ticket: str | None, p: Params) -> Measurement:
    pairs = paired_tickets(ctx, p.versus or "", p.measure or "total")
    deltas = pairs.deltas
    sign = sign_test(deltas)
    return Measurement(
        sum(deltas) / len(deltas),
        token_unit(p.measure),
        ctx.src(),
        note=f"tickets {', '.join(pairs.tickets)} against {pairs.versus}; cheaper on "
        f"{sign.positive}, dearer on {sign.negative}; "
        f"one-sided sign test p = {sign.p_positive:.3g}",
        sample=Paired(tuple(deltas)),
        bound=pairs.bound,
        bound_note=pairs.bound_note,
    )


def lineage_contexts(ctx: MetricContext) -> list[MetricContext]:
    """The phase and, recursively, the phases it requires, oldest first (each once)."""
    others = ctx.others
    if others is None:
        return [ctx]
    names = requires_order(ctx.phase.name, lambda n: others(n).phase.criteria.requires)
    return [ctx if n == ctx.phase.name else others(n) for n in names]


def ticket_runs(
    ctx: MetricContext,
    model: str | None,
    max_fix_loops: int = DEFAULT_SUCCESS_LOOPS,
    at_least: int = 1,
) -> dict[str, list[bool]]:
    """Each ticket's outcomes over the phase and the phases it requires (a run per phase that
    ran it on ``model``, oldest first), for the tickets run at least ``at_least`` times.
    MetricUnavailable when a run of such a ticket has no known outcome (not finished, or no
    fix_loops), or when a run records no execution model while ``model`` is asked: leaving it
    out, or counting it either way, could pass a limit it does not meet."""
    runs: dict[str, list[bool | None]] = {}
    unknown: dict[str, str] = {}
    recorded: dict[tuple[str, str, datetime], tuple[Phase, FieldPath]] = {}
    for c in lineage_contexts(ctx):
        for tid, t in c.phase.tickets.items():
            _refuse_recorded_twice(c.phase, tid, t, recorded)
            if model is not None and (why := which_tickets.unrecorded_model(tid, t, model)):
                raise MetricUnavailable(  # left out, its run could lower the rate it is not in
                    f"{why} (phase {c.phase.name}): whether it was run on {model} is not "
                    "known; record its model"
                )
            if model is not None and not which_tickets.model_matches(t.model_used, model):
                continue
            outcome = outcomes.succeeded(t, max_fix_loops)
            runs.setdefault(tid, []).append(outcome)
            if outcome is None:
                unknown.setdefault(
                    tid, f"{outcomes.unknown_outcome(tid, t)} (phase {c.phase.name})"
                )
    kept = {t: r for t, r in runs.items() if len(r) >= at_least}
    if blind := [unknown[t] for t in kept if t in unknown]:
        raise MetricUnavailable(blind[0])
    return {t: [bool(o) for o in r] for t, r in kept.items()}


def _refuse_recorded_twice(
    phase: Phase,
    tid: str,
    ticket: Ticket,
    recorded: dict[tuple[str, str, datetime], tuple[Phase, FieldPath]],
) -> None:
    """MetricUnavailable naming both records when a run of ticket ``tid`` in ``phase`` starts a
    stage at the very time a run of it in an earlier phase of the lineage started the same stage
    (``recorded``, which this fills): that is one run recorded twice (a log copied into the next
    phase), one trial, never two; counted twice, it would make pass^k of one run. A run is known
    by its stamps: two runs of one ticket never start a stage at the same instant."""
    for stage_name, stage in ticket.stages().items():
        if stage.start_time is None:
            continue
        at = (*phase.ticket_field(tid), stage_name, "start_time")
        key = (tid, stage_name, stage.start_time)
        if key not in recorded:
            recorded[key] = (phase, at)
            continue
        first, first_at = recorded[key]
        doc = first.log_doc
        raise MetricUnavailable(
            str(
                phase.log_doc.error(
                    f"ticket {tid}'s run in phase {phase.name} is the run phase {first.name} "
                    f"records ({display(doc.path)}:{doc.line(first_at)}: {dotted(first_at)}, "
                    f"the same {stage.start_time.isoformat()}): one run recorded twice is one "
                    "trial, not two; record each run of a ticket in one phase only",
                    at,
                )
            )
        )


def _repeated(ctx: MetricContext, p: Params, every: bool) -> Measurement:
    k = p.k or 1
    runs = ticket_runs(ctx, p.model, p.success_loops, at_least=k)
    if not runs:
        on = f" on {p.model}" if p.model else ""
        raise MetricUnavailable(
            f"no ticket was run{on} at least {k} times in this phase and the phases it requires"
        )
    fn = pass_hat_k if every else pass_at_k
    values = [fn(len(r), sum(r), k) for r in runs.values()]
    detail = ", ".join(f"{t} {sum(r)} of {len(r)}" for t, r in runs.items())
    return Measurement(
        percent(sum(values), len(values)),
        "percent",
        ctx.src(),
        note=f"{len(runs)} ticket(s) with at least {k} runs: {detail}",
        # this phase's runs the rate counted: a ticket whose run here was on another model is
        # in no rate, whatever its earlier runs were
        judged=frozenset(
            t
            for t in runs
            if t in ctx.phase.tickets
            and (
                p.model is None
                or which_tickets.model_matches(ctx.phase.tickets[t].model_used, p.model)
            )
        ),
    )


@metric(
    "pass_at_k",
    "phase",
    "percent",
    "mean over the tickets run at least k times (on `model`) in this phase and the phases it "
    "requires of 1 − C(n−c, k) / C(n, k), n runs and c successful runs of the ticket, × 100",
    ("model", "k", "max_fix_loops"),
    required=("k",),
)
def _pass_at_k(ctx: MetricContext, ticket: str | None, p: Params) -> Measurement:
    return _repeated(ctx, p, every=False)


@metric(
    "pass_hat_k",
    "phase",
    "percent",
    "pass^k: mean over the tickets run at least k times (on `model`) in this phase and the "
    "phases it requires of C(c, k) / C(n, k) (all k attempts succeed), × 100",
    ("model", "k", "max_fix_loops"),
    required=("k",),
)
def _pass_hat_k(ctx: MetricContext, ticket: str | None, p: Params) -> Measurement:
    return _repeated(ctx, p, every=True)

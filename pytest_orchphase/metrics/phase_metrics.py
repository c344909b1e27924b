"""The shipped phase metrics: tokens, savings, fix loops, reviews, wall time, success, quality."""

from __future__ import annotations

from dataclasses import replace

from pytest_orchphase.errors import MetricUnavailable
from pytest_orchphase.load.quantity import quality_rank
from pytest_orchphase.metrics import (
    bounds,
    open_work,
    outcomes,
    usage_figures,
    wall_time,
    which_tickets,
)
from pytest_orchphase.metrics.registry import Measurement, MetricContext, Params, metric, token_unit
from pytest_orchphase.metrics.stats import Proportion, percent
from pytest_orchphase.usage.accounts import NOT_RUN
from pytest_orchphase.usage.value import Usage, total_of


@metric(
    "tokens",
    "phase",
    "tokens",
    "shared planning + Σ tickets' tokens + unattributed usage",
    ("measure",),
    parts=(
        "tokens",
        "stage_tokens",
        "tokens_with_planning_share",
        "per_ticket_average",
        "ticket_tokens_average",
        "shared_planning_tokens",
    ),
)
def _phase_tokens(ctx: MetricContext, ticket: str | None, p: Params) -> Measurement:
    # what the phase spent, failed work included: exact (a mean per ticket is not)
    return usage_figures.tokens(ctx, ctx.phase_usage(), p, ctx.src())


@metric(
    "shared_planning_tokens",
    "phase",
    "tokens",
    "tokens of the shared planning session (the lead's own calls) + unattributed usage",
    ("measure",),
)
def _planning(ctx: MetricContext, ticket: str | None, p: Params) -> Measurement:
    usage = ctx.planning()
    if usage is None:
        raise MetricUnavailable("the log records no shared_planning tokens")
    figure = usage_figures.tokens(ctx, usage, p, ctx.src(None, "shared_planning"))
    # usage no rule places may be planning (break-even counts it so): a cap counts it in
    return usage_figures.charged(ctx, figure, p.measure or "total", whose=usage_figures.PLANNING)


@metric(
    "stage_tokens",
    "phase",
    "tokens",
    "Σ over tickets of the named stage's tokens + unattributed usage; unknown while a ticket's "
    "stage that ran (not skipped or pending) records none, or a ticket records its tokens only "
    "as a whole",
    ("measure", "stage"),
    parts=("stage_tokens",),
)
def _phase_stage(ctx: MetricContext, ticket: str | None, p: Params) -> Measurement:
    total = stage_total(ctx, p.stage or "")
    if total is None:
        raise MetricUnavailable(f"no ticket records tokens for stage {p.stage}")
    figure = usage_figures.tokens(ctx, total, p, ctx.src())  # spent, as the phase's tokens
    return usage_figures.charged(ctx, figure, p.measure or "total")


def stage_total(ctx: MetricContext, stage: str) -> Usage | None:
    """Σ over tickets of ``stage``'s usage; None when no ticket records any. MetricUnavailable
    when a ticket's stage may have used tokens the accounts do not hold: left out, the sum would
    be smaller than the stage's work (unknown, as the ticket's own figure is)."""
    parts = []
    for t in ctx.phase.tickets:
        if (usage := ctx.accounts.stage(t, stage)) is not None:
            parts.append(usage)
        elif why := _stage_unknown(ctx, t, stage):
            raise MetricUnavailable(why)
    return total_of(parts)


def _stage_unknown(ctx: MetricContext, ticket: str, stage: str) -> str:
    """Why a ticket's ``stage`` has no figure although it may have used tokens ("" when it
    used none: the ticket has no such stage, or it did not run)."""
    accounts = ctx.accounts
    if ticket not in accounts.stages:  # a whole-ticket figure, or no usage known at all
        return accounts.unknown.get(ticket) or (
            f"ticket {ticket} records its tokens for the whole ticket, not per stage, so its "
            f"{stage} stage's share is not known"
        )
    ran = ctx.phase.tickets[ticket].stages().get(stage)
    if ran is None or ran.status in NOT_RUN:
        return ""
    return (
        f"ticket {ticket}'s {stage} stage ran but records no tokens (estimated_tokens, "
        "actual_tokens or measured usage); mark it status: skipped if it did not run"
    )


@metric(
    "per_ticket_average",
    "phase",
    "tokens",
    "tokens / number of tickets (shared planning included, as the plan counts it)",
    ("measure",),
    per_ticket=True,
)
def _per_ticket_avg(ctx: MetricContext, ticket: str | None, p: Params) -> Measurement:
    m = outcomes.done_cost(usage_figures.tokens(ctx, ctx.phase_usage(), p, ctx.src()), ctx.phase)
    return replace(m, value=float(m.value) / ctx.n)


@metric(
    "ticket_tokens_average",
    "phase",
    "tokens",
    "(Σ tickets' own tokens + unattributed usage) / number of tickets (shared planning excluded)",
    ("measure",),
    per_ticket=True,
)
def _ticket_avg(ctx: MetricContext, ticket: str | None, p: Params) -> Measurement:
    each = [usage_figures.tokens(ctx, ctx.ticket_usage(t), p, "") for t in ctx.phase.tickets]
    unit = token_unit(p.measure)
    low = [m for m in each if m.bound == "lower"]
    mean = Measurement(
        sum(float(m.value) for m in each) / ctx.n,
        unit,
        ctx.src("", "tickets") if ctx.phase.log.tickets else ctx.src(),
        bound="lower" if low else "exact",
        bound_note=low[0].bound_note if low else "",
    )
    mean = outcomes.done_cost(mean, ctx.phase)
    return usage_figures.charged(ctx, mean, p.measure or "total", share=ctx.n)


@metric("tickets", "phase", "count", "number of tickets in metadata.yaml")
def _count(ctx: MetricContext, ticket: str | None, p: Params) -> Measurement:
    return Measurement(ctx.n, "count", which_tickets.display_meta(ctx))


@metric("fix_loops", "phase", "count", "Σ tickets' fix loops", parts=("fix_loops", "max_fix_loops"))
def _phase_fix(ctx: MetricContext, ticket: str | None, p: Params) -> Measurement:
    total = sum(int(outcomes.fix_loops(ctx, t).value) for t in ctx.phase.tickets)
    return open_work.counted(Measurement(total, "count", ctx.src()), ctx.phase, ctx.phase.tickets)


@metric(
    "max_fix_loops",
    "phase",
    "count",
    "the most fix loops any ticket (executed on `model`, when given) needed",
    ("model",),
    required=(),
    parts=("fix_loops", "max_fix_loops"),
)
def _phase_max_fix(ctx: MetricContext, ticket: str | None, p: Params) -> Measurement:
    mine = which_tickets.tickets_on(ctx, p.model, outcomes.fix_loops)
    worst = max(int(outcomes.fix_loops(ctx, t).value) for t in mine)
    return open_work.counted(Measurement(worst, "count", ctx.src()), ctx.phase, mine)


@metric(
    "max_review_attempts",
    "phase",
    "count",
    "the most review attempts any ticket (executed on `model`, when given) needed",
    ("model",),
    required=(),
    parts=("review_attempts", "max_review_attempts"),
)
def _phase_max_attempts(ctx: MetricContext, ticket: str | None, p: Params) -> Measurement:
    mine = which_tickets.tickets_on(ctx, p.model, outcomes.review_attempts)
    attempts = {t: int(outcomes.review_attempts(ctx, t).value) for t in mine}
    worst = max(attempts, key=lambda t: attempts[t])
    found = Measurement(attempts[worst], "count", ctx.src(), note=f"ticket {worst}")
    return open_work.counted(found, ctx.phase, mine)


@metric(
    "all_reviews_passed",
    "phase",
    "bool",
    "every ticket's review.result is PASS and it did not fail",
)
def _all_passed(ctx: MetricContext, ticket: str | None, p: Params) -> Measurement:
    failing = []
    for t in ctx.phase.tickets:
        if not outcomes.review_passed(ctx, t).value:
            failing.append(t)
    note = f"not passed: {', '.join(failing)}" if failing else ""
    judged = frozenset(ctx.phase.tickets)
    return Measurement(not failing, "bool", ctx.src(), note=note, judged=judged)


@metric(
    "wall_time_minutes",
    "phase",
    "minutes",
    "latest − earliest of the start_time/end_time stamps of shared planning and every stage "
    "and, in a measured phase, of its measured calls (every place's, unattributed too; each "
    "call from its first line's time to its last's: a response's lines are written as its "
    "blocks are done, a minute and more apart); "
    "unknown while work that ran lacks its start or end: a stage that ran (any `status` but "
    "`skipped` or `pending`, as for its tokens), or a flat ticket's own tokens with no "
    "`implementation` stage to stamp them; a lower bound without a shared_planning record "
    "(several tickets, no lead's calls measured), and while a measured call records no time "
    "(no `timestamp`, an empty one, or one that is not a time, on any of its lines: it may "
    "have run outside the others; a call's lines' times are compared as times, never as text, "
    "and one that is not a time never replaces a valid one; a headless run's messages, which "
    "record none, are held to their place's stamps "
    "by the `duration_ms` its result reports, where every run of that session in that file "
    "has one: a run cut off before its result, `--resume`d into a finished run's stream, leaves "
    "them of no known time), or read from a usage ledger collected before it kept each call's "
    "last line's time",
    parts=("wall_time_minutes",),
)
def _phase_wall(ctx: MetricContext, ticket: str | None, p: Params) -> Measurement:
    return wall_time.wall_minutes(ctx, None)


@metric(
    "savings",
    "phase",
    "percent",
    "(baseline per ticket × tickets − tokens) / (baseline per ticket × tickets) × 100",
    ("baseline", "measure"),
)
def _savings(ctx: MetricContext, ticket: str | None, p: Params) -> Measurement:
    base, delta = _below_baseline(ctx, p)
    return replace(
        delta,
        value=percent(float(delta.value), base),
        unit="percent",
        note=f"baseline {p.baseline} {base:,.0f} for {ctx.n} tickets",
    )


@metric(
    "delta",
    "phase",
    "tokens",
    "baseline per ticket × tickets − tokens (positive: cheaper than the baseline)",
    ("baseline", "measure"),
)
def _delta(ctx: MetricContext, ticket: str | None, p: Params) -> Measurement:
    return _below_baseline(ctx, p)[1]


def _below_baseline(ctx: MetricContext, p: Params) -> tuple[float, Measurement]:
    """The baseline's figure for the phase's tickets, and that figure − the phase's tokens
    (bounded the other way from the tokens): what savings and delta share."""
    measure = p.measure or "total"
    base = ctx.approach_figure(p.baseline, measure) * ctx.n
    usage = ctx.phase_usage()
    saved = Measurement(
        base - usage.measure(measure),
        token_unit(measure),
        ctx.src(),
        note=f"baseline {base:,.0f}",
        bound=bounds.flipped(bounds.bound_of(usage, measure)),
        bound_note=usage.lower_bound_note,
    )
    # the baseline does every ticket: beside one that failed, the saving is an upper bound
    return base, outcomes.done_cost(saved, ctx.phase, saving=True)


@metric(
    "unbatched_tokens",
    "phase",
    "tokens",
    "Σ tickets (baseline planning per ticket + ticket's tokens): each ticket planned alone",
    ("baseline", "measure"),
    parts=("unbatched_tokens",),
)
def _unbatched(ctx: MetricContext, ticket: str | None, p: Params) -> Measurement:
    return outcomes.done_cost(_each_planned_alone(ctx, p), ctx.phase)


def _each_planned_alone(ctx: MetricContext, p: Params) -> Measurement:
    """Σ tickets (baseline planning per ticket + ticket's tokens), as the usage gives it (a
    ticket that failed counted at what it cost, which the batch's figure counts too)."""
    measure = p.measure or "total"
    plan = ctx.baseline_figure(p.baseline, measure)
    usages = [ctx.ticket_usage(t) for t in ctx.phase.tickets]
    own = sum(u.measure(measure) for u in usages)
    unit = token_unit(measure)
    notes = [u.lower_bound_note for u in usages if u.is_lower_bound(measure)]
    loose = ctx.accounts.unattributed
    if loose is not None and loose.total:
        # the unattributed usage may be tickets' work, which each ticket planned alone would do
        notes.append(
            "it leaves out the phase's unattributed usage, which may be tickets' own work "
            "(each ticket planned alone would do it too)"
        )
    return Measurement(
        plan * ctx.n + own,
        unit,
        ctx.src(),
        bound="lower" if notes else "exact",
        bound_note=notes[0] if notes else "",
    )


@metric(
    "batching_savings",
    "phase",
    "tokens",
    "unbatched_tokens − tokens (each ticket with its own planning, minus the batch); unknown "
    "for a phase of one ticket, which batches nothing, and without a shared_planning record",
    ("baseline", "measure"),
)
def _batching(ctx: MetricContext, ticket: str | None, p: Params) -> Measurement:
    if ctx.n < 2:
        raise MetricUnavailable(
            f"phase {ctx.phase.name} has one ticket: a batch of one batches nothing, so there "
            "is no saving from batching (the figure would only compare its planning with the "
            f"baseline {p.baseline}'s planning of one ticket alone); batching savings need at "
            "least two tickets"
        )
    if ctx.planning() is None:  # counted as 0, the whole separate planning would be "saved"
        raise MetricUnavailable(
            "the log records no shared_planning: the batch's planning is not known, so neither "
            "is its saving over planning each ticket alone; record shared_planning"
        )
    # the tickets' own tokens are on both sides: a ticket that failed cheaply lowers both alike
    unbatched = _each_planned_alone(ctx, p)
    usage = ctx.phase_usage()
    actual = usage.measure(p.measure or "total")
    unit = token_unit(p.measure)
    # unbatched − batched: lower bounds on both sides leave the difference bounded neither way.
    bound = bounds.difference(unbatched.bound, bounds.bound_of(usage, p.measure or "total"))
    return Measurement(
        float(unbatched.value) - actual,
        unit,
        ctx.src(),
        note=f"unbatched {float(unbatched.value):,.0f}, batched {actual:,.0f}",
        bound=bound,
        bound_note=unbatched.bound_note or usage.lower_bound_note,
    )


@metric(
    "success_rate",
    "phase",
    "percent",
    "tickets executed on `model` that succeeded (finished; fix_loops ≤ max_fix_loops, default 1; "
    "review recorded, not FAIL; no stage failed, nor a verification no later stage fixed; no "
    "other model did its work, by a required upgrade or a fix stage) / tickets executed on "
    "`model` × 100, with its Wilson interval; unknown while one of them has not finished, "
    "records no review result, or records no implementation that ran",
    ("model", "max_fix_loops"),
    required=("model",),
    interval=True,
)
def _success(ctx: MetricContext, ticket: str | None, p: Params) -> Measurement:
    mine = which_tickets.tickets_on(ctx, p.model or "")
    succeeded = {t: outcomes.succeeded(ctx.phase.tickets[t], p.success_loops) for t in mine}
    missing = [t for t, ok in succeeded.items() if ok is None]
    if missing:  # counted either way, a rate could pass a limit it does not meet
        raise MetricUnavailable(outcomes.unknown_outcome(missing[0], ctx.phase.tickets[missing[0]]))
    ok = [t for t, good in succeeded.items() if good]
    return Measurement(
        percent(len(ok), len(mine)),
        "percent",
        ctx.src(),
        note=f"{len(ok)} of {len(mine)} tickets with at most {p.success_loops} fix loop(s)",
        sample=Proportion(len(ok), len(mine)),
        judged=frozenset(mine),
    )


@metric(
    "quality_vs_sonnet",
    "phase",
    "quality",
    "the worst quality_vs_sonnet grade over all tickets (worse < same < better)",
)
def _phase_quality(ctx: MetricContext, ticket: str | None, p: Params) -> Measurement:
    each = [outcomes.quality(ctx, t) for t in ctx.phase.tickets]
    worst = min(each, key=lambda m: quality_rank(str(m.value)))
    # a grade bounded neither way leaves the worst so far so, unless a final grade is `worse`
    # already (nothing is below it)
    bounded = [m for m in each if m.bound != "exact"]
    if bounded and not any(m.bound == "exact" and m.value == "worse" for m in each):
        return Measurement(
            worst.value, "quality", ctx.src(), bound="unknown", bound_note=bounded[0].bound_note
        )
    return Measurement(worst.value, "quality", ctx.src())


# ----------------------------------------------------------------------------- ticket metrics

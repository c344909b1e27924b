"""The shipped ticket metrics: one ticket's tokens, fix loops, review, quality, wall time."""

from __future__ import annotations

from dataclasses import replace

from pytest_orchphase.errors import MetricUnavailable
from pytest_orchphase.metrics import bounds, outcomes, usage_figures, wall_time, which_tickets
from pytest_orchphase.metrics.registry import (
    Measurement,
    MetricContext,
    Params,
    metric,
    origin_mark,
)
from pytest_orchphase.metrics.stats import percent


@metric(
    "tokens",
    "ticket",
    "tokens",
    "Σ the ticket's stages, or its own figure in the flat shape (shared planning excluded), + "
    "unattributed usage",
    ("measure",),
)
def _t_tokens(ctx: MetricContext, ticket: str | None, p: Params) -> Measurement:
    t, _ = which_tickets.ticket_of(ctx, ticket)
    own = usage_figures.tokens(ctx, ctx.ticket_usage(t), p, ctx.src(t))
    return usage_figures.charged(ctx, own, p.measure or "total")


@metric(
    "tokens_with_planning_share",
    "ticket",
    "tokens",
    "ticket's tokens + shared planning / number of tickets (+ unattributed usage)",
    ("measure",),
)
def _t_with_share(ctx: MetricContext, ticket: str | None, p: Params) -> Measurement:
    t, _ = which_tickets.ticket_of(ctx, ticket)
    own = usage_figures.tokens(ctx, ctx.ticket_usage(t), p, ctx.src(t))
    planning = ctx.planning()
    if why := ctx.planning_unrecorded():  # its share counted as 0: at least the figure
        own = replace(own, bound="lower", bound_note=own.bound_note or why)
    share = planning.measure(p.measure or "total") / ctx.n if planning else 0.0
    mark = own.mark or (origin_mark(planning.origin, ctx.accounts.measured) if planning else "")
    low = own.bound == "lower" or bounds.bound_of(planning, p.measure or "total") == "lower"
    with_share = Measurement(
        float(own.value) + share,
        own.unit,
        own.source,
        own.note,
        mark,
        bound="lower" if low else "exact",
        bound_note=own.bound_note or (planning.lower_bound_note if planning else ""),
    )
    # a one-ticket phase's ticket with all of shared planning holds every place left
    return usage_figures.charged(ctx, with_share, p.measure or "total", whole=ctx.n == 1)


@metric(
    "stage_tokens",
    "ticket",
    "tokens",
    "tokens of the ticket's named stage + unattributed usage",
    ("measure", "stage"),
)
def _t_stage(ctx: MetricContext, ticket: str | None, p: Params) -> Measurement:
    t, _ = which_tickets.ticket_of(ctx, ticket)
    usage = ctx.accounts.stage(t, p.stage or "")
    if usage is None:
        raise MetricUnavailable(f"ticket {t} records no tokens for stage {p.stage}")
    own = usage_figures.tokens(ctx, usage, p, ctx.src(t, p.stage or ""))
    return usage_figures.charged(ctx, own, p.measure or "total")


@metric(
    "fix_loops",
    "ticket",
    "count",
    "fix_loops of the ticket (ticket.fix_loops or implementation.fix_loops)",
)
def _t_fix(ctx: MetricContext, ticket: str | None, p: Params) -> Measurement:
    t, _ = which_tickets.ticket_of(ctx, ticket)
    return outcomes.fix_loops(ctx, t)


@metric(
    "review_attempts",
    "ticket",
    "count",
    "review.attempts; when not recorded, 1 + fix_loops for a review with a result",
)
def _t_attempts(ctx: MetricContext, ticket: str | None, p: Params) -> Measurement:
    t, _ = which_tickets.ticket_of(ctx, ticket)
    return outcomes.review_attempts(ctx, t)


@metric("review_passed", "ticket", "bool", "review.result is PASS and the ticket did not fail")
def _t_review_passed(ctx: MetricContext, ticket: str | None, p: Params) -> Measurement:
    t, _ = which_tickets.ticket_of(ctx, ticket)
    return outcomes.review_passed(ctx, t)


@metric(
    "quality_vs_sonnet",
    "ticket",
    "quality",
    "the worst recorded quality_vs_sonnet dimension; 'same' for a ticket executed on sonnet",
)
def _t_quality(ctx: MetricContext, ticket: str | None, p: Params) -> Measurement:
    t, _ = which_tickets.ticket_of(ctx, ticket)
    return outcomes.quality(ctx, t)


@metric(
    "wall_time_minutes",
    "ticket",
    "minutes",
    "latest − earliest of the stamps of the ticket's stages and of its measured calls (each "
    "from its first line's time to its last's); "
    "unknown on the same terms; a lower bound while unattributed calls ran outside that time, "
    "or while a measured call of the ticket (or an unattributed one) records no time, on any "
    "of its lines (a headless run's by the `duration_ms` its result reports, where every run "
    "of its session in its file has one) or is read from a usage ledger collected before it "
    "kept each call's last line's time",
)
def _t_wall(ctx: MetricContext, ticket: str | None, p: Params) -> Measurement:
    t, _ = which_tickets.ticket_of(ctx, ticket)
    return wall_time.wall_minutes(ctx, t)


@metric(
    "savings",
    "ticket",
    "percent",
    "(baseline per ticket − tokens_with_planning_share) / baseline per ticket × 100",
    ("baseline", "measure"),
)
def _t_savings(ctx: MetricContext, ticket: str | None, p: Params) -> Measurement:
    measure = p.measure or "total"
    base = ctx.approach_figure(p.baseline, measure)
    actual = _t_with_share(ctx, ticket, Params(measure=measure))
    # as the phase's savings: (base − a lower bound) / base is an upper bound
    saved = Measurement(
        percent(base - float(actual.value), base),
        "percent",
        ctx.src(ticket),
        bound=bounds.flipped(actual.bound),
        bound_note=actual.bound_note,
    )
    return outcomes.done_cost(saved, ctx.phase, [str(ticket)], saving=True)


#: how the commands name a metric only a conftest.py registers (never an ERROR: it is fine under

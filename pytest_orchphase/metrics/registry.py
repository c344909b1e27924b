"""The metric registry: name → formula over a phase (scope ``phase``) or one ticket (``ticket``).

Criteria name metrics; nothing in YAML is evaluated as code. Each metric declares its unit, the
parameters it takes (``measure``, ``stage``, ``model``, ``baseline``) and its formula in words,
which the README and ``orchphase`` print. Extra metrics can be registered by plugins.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pytest_orchphase.errors import MetricFailed, MetricUnavailable, raised
from pytest_orchphase.load.models import Baseline, Stage, Ticket
from pytest_orchphase.load.phase import Phase, requires_order
from pytest_orchphase.load.quantity import QUALITY_ORDER, quality_rank
from pytest_orchphase.metrics.stats import (
    Paired,
    Proportion,
    Sample,
    pass_at_k,
    pass_hat_k,
    sign_test,
)
from pytest_orchphase.usage.accounts import NOT_RUN, Accounts
from pytest_orchphase.usage.value import Usage, total_of

Scope = Literal["phase", "ticket"]
Unit = Literal["tokens", "percent", "minutes", "count", "quality", "bool", "usd"]
Value = float | int | str | bool
UNIT_WORDS: dict[str, str] = {
    "tokens": "a finite number of tokens",
    "usd": "a finite amount in USD",
    "percent": "a finite percentage",
    "minutes": "a finite number of minutes",
    "count": "a finite number",
    "quality": "one of worse, same, better",
    "bool": "true or false",
}


def fits(value: object, unit: str) -> bool:
    """Whether a metric's value is of its unit: a bool for bool, a grade for quality, else a
    finite number (never a bool, None, a string or NaN, which would compare as no limit)."""
    if unit == "bool":
        return isinstance(value, bool)
    if unit == "quality":
        return isinstance(value, str) and value in QUALITY_ORDER
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


FAMILIES = ("opus", "sonnet", "haiku")
#: a ticket succeeded with at most this many fix loops, unless a criterion or decision says
DEFAULT_SUCCESS_LOOPS = 1


@dataclass(frozen=True)
class Params:
    measure: str | None = None
    stage: str | None = None
    model: str | None = None
    baseline: str | None = None
    versus: str | None = None
    k: int | None = None
    #: the most fix loops a successful ticket may need (success metrics); None: the default
    max_fix_loops: int | None = None

    @property
    def success_loops(self) -> int:
        return DEFAULT_SUCCESS_LOOPS if self.max_fix_loops is None else self.max_fix_loops


Bound = Literal["exact", "lower", "upper", "unknown"]


@dataclass(frozen=True)
class Measurement:
    value: Value
    unit: Unit
    source: str
    note: str = ""
    #: Said beside the figure wherever it is shown: "estimated" (a figure from an estimate),
    #: "recorded in the log, not measured" (a hand figure in a measured phase); "" otherwise.
    mark: str = ""
    #: "lower": the true figure is at least ``value``; "upper": at most; "unknown": neither
    #: (derived from lower bounds pulling both ways). Only "exact" can decide every operator.
    bound: Bound = "exact"
    #: Why the figure is a bound.
    bound_note: str = ""
    #: the evidence behind an estimate (a rate's trials, paired deltas): its interval decides
    sample: Sample | None = None


def origin_mark(origin: str, measured: bool) -> str:
    """How a token figure must be marked: an estimate always; a hand-recorded figure when the
    phase is otherwise measured from transcripts."""
    if origin == "estimated":
        return "estimated"
    if origin == "recorded" and measured:
        return "recorded in the log, not measured"
    return ""


@dataclass
class MetricContext:
    """What a metric formula reads: the phase, its accounts, and its baselines."""

    phase: Phase
    accounts: Accounts
    #: another phase's context by name (paired comparisons); None outside a runner
    others: Callable[[str], MetricContext] | None = field(default=None, repr=False)

    @property
    def n(self) -> int:
        return len(self.phase.tickets)

    def baseline(self, name: str | None) -> Baseline:
        if name is None:
            raise MetricUnavailable("this metric needs `baseline:`")
        if name not in self.phase.baselines:
            known = ", ".join(sorted(self.phase.baselines)) or "none"
            raise MetricUnavailable(f"unknown baseline {name!r}; known baselines: {known}")
        return self.phase.baselines[name]

    def baseline_figure(self, name: str | None, measure: str) -> float:
        base = self.baseline(name)
        if measure == "usd":
            if base.usd_per_ticket is None:
                raise MetricUnavailable(f"baseline {name!r} has no usd_per_ticket")
            return base.usd_per_ticket
        if measure != "total":
            raise MetricUnavailable(
                f"baseline {name!r} is a total per ticket; compare it with measure total or usd"
            )
        return base.tokens_per_ticket

    def approach_figure(self, name: str | None, measure: str) -> float:
        """A baseline's cost per ticket as an approach to save against: never a part of a cost
        (``compare: false``), against which a "saving" would read as −272 %."""
        if not self.baseline(name).compare:
            raise MetricUnavailable(
                f"baseline {name} is a part of a cost (compare: false), not an approach to save "
                "against; use it with unbatched_tokens or batching_savings"
            )
        return self.baseline_figure(name, measure)

    def src(self, ticket: str | None = None, *rest: str) -> str:
        at = self.phase.ticket_field(ticket) if ticket else ()
        return self.phase.source((*at, *rest))

    def planning(self) -> Usage | None:
        """Shared planning's usage; None when the phase has none; MetricUnavailable when it is
        unknown (measured sessions without a lead: never the log's estimate instead)."""
        if self.accounts.planning_unknown:
            raise MetricUnavailable(f"shared planning is unknown: {self.accounts.planning_unknown}")
        return self.accounts.planning

    def ticket_usage(self, ticket: str) -> Usage:
        usage = self.accounts.ticket(ticket)
        if usage is None:
            raise MetricUnavailable(
                self.accounts.unknown.get(ticket)
                or f"ticket {ticket} records no tokens (estimated or actual)"
            )
        return usage

    def phase_usage(self) -> Usage:
        planning = self.planning()
        parts = [self.ticket_usage(t) for t in self.phase.tickets]
        if planning is not None:
            parts.insert(0, planning)
        if self.accounts.unattributed is not None:
            parts.append(self.accounts.unattributed)
        total = total_of(parts)
        assert total is not None  # a phase has at least one ticket
        return total


#: the parameters a metric can take (each a key of a condition)
PARAMS = frozenset({"measure", "stage", "model", "baseline", "versus", "k", "max_fix_loops"})
MetricFn = Callable[[MetricContext, "str | None", Params], Measurement]


def token_unit(measure: str | None) -> Unit:
    """Token metrics are in USD when the measure is usd, else in tokens."""
    return "usd" if measure == "usd" else "tokens"


@dataclass(frozen=True)
class Metric:
    name: str
    scope: Scope
    unit: Unit
    formula: str
    fn: MetricFn
    params: frozenset[str] = frozenset()
    required: frozenset[str] = frozenset()
    #: the metric is an estimate with an interval (a rate, a mean delta): `rule:` applies
    interval: bool = False

    def unit_for(self, params: Params) -> Unit:
        return token_unit(params.measure) if self.unit == "tokens" else self.unit


@dataclass
class Registry:
    metrics: dict[tuple[str, str], Metric] = field(default_factory=dict)
    #: metric names a conftest.py registers, by the conftest's path, known without running it
    #: (the orchphase commands do not run conftests; see conftest_metrics)
    conftest_only: dict[str, str] = field(default_factory=dict)

    def add(self, metric: Metric) -> None:
        key = (metric.scope, metric.name)
        if key in self.metrics:
            raise ValueError(f"metric {metric.name!r} ({metric.scope}) is already registered")
        self.metrics[key] = metric

    def get(self, scope: str, name: str) -> Metric | None:
        return self.metrics.get((scope, name))

    def names(self, scope: str) -> list[str]:
        return sorted(n for s, n in self.metrics if s == scope)

    def copy(self) -> Registry:
        return Registry(dict(self.metrics), dict(self.conftest_only))

    def register(
        self,
        name: str,
        *,
        scope: Scope,
        unit: Unit,
        formula: str,
        fn: Callable[[MetricContext, str | None, Params], Measurement | Value],
        params: tuple[str, ...] = (),
        required: tuple[str, ...] | None = None,
        interval: bool = False,
    ) -> None:
        """Add a metric from a plugin or conftest. ``fn(ctx, ticket, params)`` returns a plain
        value (in ``unit``) or a :class:`Measurement`; raise :class:`MetricUnavailable` when the
        data cannot give it."""
        unknown = set(params) - PARAMS
        if unknown:
            raise ValueError(f"metric {name!r}: unknown parameters {sorted(unknown)}")

        def wrapped(ctx: MetricContext, ticket: str | None, p: Params) -> Measurement:
            try:
                value = fn(ctx, ticket, p)
            except MetricUnavailable:
                raise
            except Exception as exc:  # the metric's own code: its item fails, naming it
                raise MetricFailed(f"metric {name!r} raised {raised(exc)}") from exc
            measurement = (
                value
                if isinstance(value, Measurement)
                else Measurement(value, unit, ctx.src(ticket) if ticket else ctx.src())
            )
            if not fits(measurement.value, unit):
                raise MetricFailed(
                    f"metric {name!r} returned {measurement.value!r}; expected {UNIT_WORDS[unit]}"
                )
            return measurement

        self.add(
            Metric(
                name=name,
                scope=scope,
                unit=unit,
                formula=formula,
                fn=wrapped,
                params=frozenset(params),
                required=frozenset(params if required is None else required),
                interval=interval,
            )
        )


REGISTRY = Registry()


def metric(
    name: str,
    scope: Scope,
    unit: Unit,
    formula: str,
    params: tuple[str, ...] = (),
    required: tuple[str, ...] | None = None,
    interval: bool = False,
) -> Callable[[MetricFn], MetricFn]:
    """Register a built-in metric. ``required`` defaults to all ``params``."""

    def wrap(fn: MetricFn) -> MetricFn:
        REGISTRY.register(
            name,
            scope=scope,
            unit=unit,
            formula=formula,
            fn=fn,
            params=params,
            required=required,
            interval=interval,
        )
        return fn

    return wrap


# ----------------------------------------------------------------------------- helpers


def metric_value(
    ctx: MetricContext,
    name: str,
    ticket: str | None = None,
    *,
    registry: Registry = REGISTRY,
    **params: Any,
) -> Value:
    """A metric of the phase (or of one ticket). KeyError for an unknown name;
    MetricUnavailable when the data cannot give it."""
    scope = "ticket" if ticket is not None else "phase"
    spec = registry.get(scope, name)
    if spec is None:
        raise KeyError(f"no {scope} metric {name!r}; known: {registry.names(scope)}")
    return spec.fn(ctx, ticket, Params(**params)).value


def known_value(
    ctx: MetricContext, name: str, ticket: str | None = None, **params: Any
) -> Value | None:
    """Like :func:`metric_value`, with None where the data cannot give the figure (reports)."""
    try:
        return metric_value(ctx, name, ticket, **params)
    except MetricUnavailable:
        return None


def family(model: str | None) -> str | None:
    """``claude-haiku-4-5-20251001`` → ``haiku``; a family name is its own family."""
    if not model:
        return None
    low = model.lower()
    return next((f for f in FAMILIES if f in low), low)


def model_matches(model: str | None, wanted: str) -> bool:
    """A filter naming a family matches every id of it; a full id must match exactly."""
    if model is None:
        return False
    if wanted.lower() in FAMILIES:
        return family(model) == wanted.lower()
    return model.lower() == wanted.lower()


def fix_loops_of(ticket: Ticket) -> int | None:
    if ticket.fix_loops is not None:
        return ticket.fix_loops
    if ticket.implementation is not None:
        return ticket.implementation.fix_loops
    return None


def failed(ticket: Ticket) -> bool:
    """The log records a failure: a failed review, or a stage (or the ticket) with status failed."""
    if ticket.review is not None and ticket.review.result == "FAIL":
        return True
    return ticket.status == "failed" or any(s.status == "failed" for s in ticket.stages().values())


def succeeded(ticket: Ticket, max_fix_loops: int = DEFAULT_SUCCESS_LOOPS) -> bool | None:
    """A ticket succeeded when nothing failed and it needed at most ``max_fix_loops`` fix loops;
    None when its fix loops are not recorded (and nothing failed)."""
    if failed(ticket):
        return False
    loops = fix_loops_of(ticket)
    return None if loops is None else loops <= max_fix_loops


def _ticket(ctx: MetricContext, ticket: str | None) -> tuple[str, Ticket]:
    assert ticket is not None, "ticket metrics are evaluated per ticket"
    return ticket, ctx.phase.tickets[ticket]


def _bound_of(usage: Usage | None, measure: str) -> Bound:
    return "lower" if usage is not None and usage.is_lower_bound(measure) else "exact"


def _flipped(bound: Bound) -> Bound:
    """The bound of ``c − x`` given the bound of ``x``."""
    return {"lower": "upper", "upper": "lower"}.get(bound, bound)  # type: ignore[return-value]


def _tokens(ctx: MetricContext, usage: Usage, params: Params, source: str) -> Measurement:
    measure = params.measure or "total"
    unit = token_unit(measure)
    return Measurement(
        usage.measure(measure),
        unit,
        source,
        note=usage.origin,
        mark=origin_mark(usage.origin, ctx.accounts.measured),
        bound=_bound_of(usage, measure),
        bound_note=usage.lower_bound_note,
    )


def _times(ctx: MetricContext, ticket: str | None) -> list[datetime]:
    stages: list[object] = []
    if ticket is None:
        if ctx.phase.log.shared_planning is not None:
            stages.append(ctx.phase.log.shared_planning)
        for t in ctx.phase.tickets.values():
            stages.extend(t.stages().values())
    else:
        stages.extend(ctx.phase.tickets[ticket].stages().values())
    out: list[datetime] = []
    for stage in stages:
        for attr in ("start_time", "end_time"):
            value = getattr(stage, attr, None)
            if value is not None:
                out.append(value)
    return out


def _half_stamped(ctx: MetricContext, ticket: str | None) -> list[str]:
    """Stages that ran (figures or a stamp, not skipped) but lack a start or an end: dropping
    them would make the wall time shorter than it was."""
    places: list[tuple[str, Stage]] = []
    planning = ctx.phase.log.shared_planning
    if ticket is None and planning is not None:
        places.append(("shared_planning", planning))
    for t in [ticket] if ticket else ctx.phase.tickets:
        places += [(f"{t}.{name}", st) for name, st in ctx.phase.tickets[t].stages().items()]
    return [
        label
        for label, st in places
        if st.status not in NOT_RUN
        and (st.start_time is None or st.end_time is None)
        and (
            st.estimated_tokens is not None
            or st.actual_tokens is not None
            or st.start_time is not None
            or st.end_time is not None
        )
    ]


def _wall_minutes(ctx: MetricContext, ticket: str | None) -> Measurement:
    if ticket is None:
        # a ticket without stamps would silently shorten the phase
        unstamped = [t for t in ctx.phase.tickets if not _times(ctx, t)]
        if unstamped:
            raise MetricUnavailable(
                f"ticket(s) {', '.join(unstamped)} record no start_time/end_time, so the "
                "phase's wall time would leave their work out"
            )
    if unstamped_stages := _half_stamped(ctx, ticket):
        raise MetricUnavailable(
            f"stage(s) {', '.join(unstamped_stages)} ran without a start_time and an end_time, "
            "so the wall time could be longer than the stamps say; stamp them (or mark a stage "
            "that did not run status: skipped)"
        )
    times = _times(ctx, ticket)
    if len(times) < 2:
        what = f"ticket {ticket}" if ticket else "the phase"
        raise MetricUnavailable(f"{what} records fewer than two start_time/end_time stamps")
    minutes = (max(times) - min(times)).total_seconds() / 60
    return Measurement(round(minutes, 2), "minutes", ctx.src(ticket))


def _quality(ctx: MetricContext, ticket: str) -> Measurement:
    t = ctx.phase.tickets[ticket]
    records = [
        q
        for q in (
            t.quality_vs_sonnet,
            t.implementation.quality_vs_sonnet if t.implementation else None,
        )
        if q
    ]
    grades = [g for q in records for g in q.grades().values()]
    if grades:
        worst = min(grades, key=quality_rank)
        return Measurement(worst, "quality", ctx.src(ticket), note="worst recorded dimension")
    if family(t.model_used) == "sonnet":
        return Measurement("same", "quality", ctx.src(ticket), note="executed on sonnet itself")
    raise MetricUnavailable(
        f"ticket {ticket} was executed on {t.model_used or 'an unrecorded model'} and records no "
        "quality_vs_sonnet"
    )


def _review_attempts(ctx: MetricContext, ticket: str) -> Measurement:
    t = ctx.phase.tickets[ticket]
    review = t.review
    if review is not None and review.attempts is not None:
        return Measurement(review.attempts, "count", ctx.src(ticket, "review", "attempts"))
    if review is not None and review.result is not None:
        loops = fix_loops_of(t)
        if loops is not None:
            return Measurement(
                1 + loops,
                "count",
                ctx.src(ticket, "review"),
                note="derived: 1 + fix_loops (no review.attempts recorded)",
            )
    raise MetricUnavailable(
        f"ticket {ticket} records no review.attempts (nor result and fix_loops)"
    )


# ----------------------------------------------------------------------------- phase metrics


@metric(
    "tokens",
    "phase",
    "tokens",
    "shared planning + Σ tickets' tokens + unattributed usage",
    ("measure",),
)
def _phase_tokens(ctx: MetricContext, ticket: str | None, p: Params) -> Measurement:
    return _tokens(ctx, ctx.phase_usage(), p, ctx.src())


@metric(
    "shared_planning_tokens",
    "phase",
    "tokens",
    "tokens of the shared planning session (the lead's own calls)",
    ("measure",),
)
def _planning(ctx: MetricContext, ticket: str | None, p: Params) -> Measurement:
    usage = ctx.planning()
    if usage is None:
        raise MetricUnavailable("the log records no shared_planning tokens")
    return _tokens(ctx, usage, p, ctx.src(None, "shared_planning"))


@metric(
    "stage_tokens",
    "phase",
    "tokens",
    "Σ over tickets of the named stage's tokens",
    ("measure", "stage"),
)
def _phase_stage(ctx: MetricContext, ticket: str | None, p: Params) -> Measurement:
    total = total_of([u for t in ctx.phase.tickets if (u := ctx.accounts.stage(t, p.stage or ""))])
    if total is None:
        raise MetricUnavailable(f"no ticket records tokens for stage {p.stage}")
    return _tokens(ctx, total, p, ctx.src())


@metric(
    "per_ticket_average",
    "phase",
    "tokens",
    "tokens / number of tickets (shared planning included, as the plan counts it)",
    ("measure",),
)
def _per_ticket_avg(ctx: MetricContext, ticket: str | None, p: Params) -> Measurement:
    m = _tokens(ctx, ctx.phase_usage(), p, ctx.src())
    return replace(m, value=float(m.value) / ctx.n)


@metric(
    "ticket_tokens_average",
    "phase",
    "tokens",
    "Σ tickets' own tokens / number of tickets (shared planning excluded)",
    ("measure",),
)
def _ticket_avg(ctx: MetricContext, ticket: str | None, p: Params) -> Measurement:
    each = [_tokens(ctx, ctx.ticket_usage(t), p, "") for t in ctx.phase.tickets]
    unit = token_unit(p.measure)
    low = [m for m in each if m.bound == "lower"]
    return Measurement(
        sum(float(m.value) for m in each) / ctx.n,
        unit,
        ctx.src("", "tickets") if ctx.phase.log.tickets else ctx.src(),
        bound="lower" if low else "exact",
        bound_note=low[0].bound_note if low else "",
    )


@metric("tickets", "phase", "count", "number of tickets in metadata.yaml")
def _count(ctx: MetricContext, ticket: str | None, p: Params) -> Measurement:
    return Measurement(ctx.n, "count", display_meta(ctx))


def display_meta(ctx: MetricContext) -> str:
    from pytest_orchphase.errors import display

    return f"{display(ctx.phase.metadata_doc.path)}: tickets"


@metric("fix_loops", "phase", "count", "Σ tickets' fix loops")
def _phase_fix(ctx: MetricContext, ticket: str | None, p: Params) -> Measurement:
    return Measurement(
        sum(int(_t_fix(ctx, t, p).value) for t in ctx.phase.tickets), "count", ctx.src()
    )


def tickets_on(ctx: MetricContext, model: str | None) -> list[str]:
    """The phase's tickets, or those executed on ``model``; MetricUnavailable when none was."""
    if model is None:
        return list(ctx.phase.tickets)
    mine = [t for t, tk in ctx.phase.tickets.items() if model_matches(tk.model_used, model)]
    if not mine:
        raise MetricUnavailable(f"no ticket was executed on {model}")
    return mine


@metric(
    "max_fix_loops",
    "phase",
    "count",
    "the most fix loops any ticket (executed on `model`, when given) needed",
    ("model",),
    required=(),
)
def _phase_max_fix(ctx: MetricContext, ticket: str | None, p: Params) -> Measurement:
    mine = tickets_on(ctx, p.model)
    return Measurement(max(int(_t_fix(ctx, t, p).value) for t in mine), "count", ctx.src())


@metric(
    "max_review_attempts",
    "phase",
    "count",
    "the most review attempts any ticket (executed on `model`, when given) needed",
    ("model",),
    required=(),
)
def _phase_max_attempts(ctx: MetricContext, ticket: str | None, p: Params) -> Measurement:
    mine = tickets_on(ctx, p.model)
    attempts = {t: int(_review_attempts(ctx, t).value) for t in mine}
    worst = max(attempts, key=lambda t: attempts[t])
    return Measurement(attempts[worst], "count", ctx.src(), note=f"ticket {worst}")


@metric("all_reviews_passed", "phase", "bool", "every ticket's review.result is PASS")
def _all_passed(ctx: MetricContext, ticket: str | None, p: Params) -> Measurement:
    failing = []
    for t in ctx.phase.tickets:
        if not _t_review_passed(ctx, t, p).value:
            failing.append(t)
    note = f"not passed: {', '.join(failing)}" if failing else ""
    return Measurement(not failing, "bool", ctx.src(), note=note)


@metric(
    "wall_time_minutes",
    "phase",
    "minutes",
    "latest end_time − earliest start_time over shared planning and every stage; unknown "
    "while a stage that ran (figures or a stamp, not skipped) lacks its start or end",
)
def _phase_wall(ctx: MetricContext, ticket: str | None, p: Params) -> Measurement:
    return _wall_minutes(ctx, None)


@metric(
    "savings",
    "phase",
    "percent",
    "(baseline per ticket × tickets − tokens) / (baseline per ticket × tickets) × 100",
    ("baseline", "measure"),
)
def _savings(ctx: MetricContext, ticket: str | None, p: Params) -> Measurement:
    measure = p.measure or "total"
    base = ctx.approach_figure(p.baseline, measure) * ctx.n
    usage = ctx.phase_usage()
    actual = usage.measure(measure)
    return Measurement(
        round((base - actual) / base * 100, 2),
        "percent",
        ctx.src(),
        note=f"baseline {p.baseline} {base:,.0f} for {ctx.n} tickets",
        bound=_flipped(_bound_of(usage, measure)),
        bound_note=usage.lower_bound_note,
    )


@metric(
    "delta",
    "phase",
    "tokens",
    "baseline per ticket × tickets − tokens (positive: cheaper than the baseline)",
    ("baseline", "measure"),
)
def _delta(ctx: MetricContext, ticket: str | None, p: Params) -> Measurement:
    measure = p.measure or "total"
    base = ctx.approach_figure(p.baseline, measure) * ctx.n
    usage = ctx.phase_usage()
    actual = usage.measure(measure)
    unit = token_unit(measure)
    return Measurement(
        base - actual,
        unit,
        ctx.src(),
        note=f"baseline {base:,.0f}",
        bound=_flipped(_bound_of(usage, measure)),
        bound_note=usage.lower_bound_note,
    )


@metric(
    "unbatched_tokens",
    "phase",
    "tokens",
    "Σ tickets (baseline planning per ticket + ticket's tokens): each ticket planned alone",
    ("baseline", "measure"),
)
def _unbatched(ctx: MetricContext, ticket: str | None, p: Params) -> Measurement:
    measure = p.measure or "total"
    plan = ctx.baseline_figure(p.baseline, measure)
    usages = [ctx.ticket_usage(t) for t in ctx.phase.tickets]
    own = sum(u.measure(measure) for u in usages)
    unit = token_unit(measure)
    low = [u for u in usages if u.is_lower_bound(measure)]
    return Measurement(
        plan * ctx.n + own,
        unit,
        ctx.src(),
        bound="lower" if low else "exact",
        bound_note=low[0].lower_bound_note if low else "",
    )


@metric(
    "batching_savings",
    "phase",
    "tokens",
    "unbatched_tokens − tokens (each ticket with its own planning, minus the batch)",
    ("baseline", "measure"),
)
def _batching(ctx: MetricContext, ticket: str | None, p: Params) -> Measurement:
    unbatched = _unbatched(ctx, None, p)
    usage = ctx.phase_usage()
    actual = usage.measure(p.measure or "total")
    unit = token_unit(p.measure)
    # unbatched − batched: lower bounds on both sides leave the difference bounded neither way.
    bounds = {unbatched.bound, _flipped(_bound_of(usage, p.measure or "total"))} - {"exact"}
    return Measurement(
        float(unbatched.value) - actual,
        unit,
        ctx.src(),
        note=f"unbatched {float(unbatched.value):,.0f}, batched {actual:,.0f}",
        bound=bounds.pop() if len(bounds) == 1 else ("unknown" if bounds else "exact"),
        bound_note=unbatched.bound_note or usage.lower_bound_note,
    )


@metric(
    "success_rate",
    "phase",
    "percent",
    "tickets executed on `model` that succeeded (fix_loops ≤ max_fix_loops, default 1; review "
    "not FAIL; no stage failed) / tickets executed on `model` × 100, with its Wilson interval",
    ("model", "max_fix_loops"),
    required=("model",),
    interval=True,
)
def _success(ctx: MetricContext, ticket: str | None, p: Params) -> Measurement:
    mine = tickets_on(ctx, p.model or "")
    outcomes = {t: succeeded(ctx.phase.tickets[t], p.success_loops) for t in mine}
    missing = [t for t, ok in outcomes.items() if ok is None]
    if missing:
        raise MetricUnavailable(f"ticket {missing[0]} records no fix_loops")
    ok = [t for t, good in outcomes.items() if good]
    return Measurement(
        round(len(ok) / len(mine) * 100, 2),
        "percent",
        ctx.src(),
        note=f"{len(ok)} of {len(mine)} tickets with at most {p.success_loops} fix loop(s)",
        sample=Proportion(len(ok), len(mine)),
    )


@dataclass(frozen=True)
class PairedTickets:
    """Per-ticket figures of a phase against another phase, on the tickets both ran."""

    versus: str
    tickets: list[str]
    mine: list[float]
    theirs: list[float]

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
    mine = [ctx.ticket_usage(t).measure(measure) for t in shared]
    theirs = [other.ticket_usage(t).measure(measure) for t in shared]
    return PairedTickets(versus, shared, mine, theirs)


@metric(
    "paired_savings",
    "phase",
    "tokens",
    "mean over the tickets both phases ran of (`versus`'s ticket tokens − this phase's), with "
    "a seeded paired bootstrap interval and an exact sign test",
    ("measure", "versus"),
    interval=True,
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
    )


def lineage_contexts(ctx: MetricContext) -> list[MetricContext]:
    """The phase and, recursively, the phases it requires, oldest first (each once)."""
    others = ctx.others
    if others is None:
        return [ctx]
    names = requires_order(ctx.phase.name, lambda n: others(n).phase.criteria.requires)
    return [ctx if n == ctx.phase.name else others(n) for n in names]


def ticket_runs(
    ctx: MetricContext, model: str | None, max_fix_loops: int = DEFAULT_SUCCESS_LOOPS
) -> dict[str, list[bool]]:
    """Each ticket's recorded outcomes over the phase and the phases it requires (a run per
    phase that ran it on ``model``, oldest first); runs without fix_loops are left out."""
    runs: dict[str, list[bool]] = {}
    for c in lineage_contexts(ctx):
        for tid, t in c.phase.tickets.items():
            if model is not None and not model_matches(t.model_used, model):
                continue
            outcome = succeeded(t, max_fix_loops)
            if outcome is not None:
                runs.setdefault(tid, []).append(outcome)
    return runs


def _repeated(ctx: MetricContext, p: Params, every: bool) -> Measurement:
    k = p.k or 1
    runs = {t: r for t, r in ticket_runs(ctx, p.model, p.success_loops).items() if len(r) >= k}
    if not runs:
        on = f" on {p.model}" if p.model else ""
        raise MetricUnavailable(
            f"no ticket was run{on} at least {k} times in this phase and the phases it requires"
        )
    fn = pass_hat_k if every else pass_at_k
    values = [fn(len(r), sum(r), k) for r in runs.values()]
    detail = ", ".join(f"{t} {sum(r)} of {len(r)}" for t, r in runs.items())
    return Measurement(
        round(sum(values) / len(values) * 100, 2),
        "percent",
        ctx.src(),
        note=f"{len(runs)} ticket(s) with at least {k} runs: {detail}",
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


@metric(
    "quality_vs_sonnet",
    "phase",
    "quality",
    "the worst quality_vs_sonnet grade over all tickets (worse < same < better)",
)
def _phase_quality(ctx: MetricContext, ticket: str | None, p: Params) -> Measurement:
    grades = [str(_quality(ctx, t).value) for t in ctx.phase.tickets]
    return Measurement(min(grades, key=quality_rank), "quality", ctx.src())


# ----------------------------------------------------------------------------- ticket metrics


@metric(
    "tokens",
    "ticket",
    "tokens",
    "Σ the ticket's stages, or its own figure in the flat shape (shared planning excluded)",
    ("measure",),
)
def _t_tokens(ctx: MetricContext, ticket: str | None, p: Params) -> Measurement:
    t, _ = _ticket(ctx, ticket)
    return _tokens(ctx, ctx.ticket_usage(t), p, ctx.src(t))


@metric(
    "tokens_with_planning_share",
    "ticket",
    "tokens",
    "ticket's tokens + shared planning / number of tickets",
    ("measure",),
)
def _t_with_share(ctx: MetricContext, ticket: str | None, p: Params) -> Measurement:
    t, _ = _ticket(ctx, ticket)
    own = _tokens(ctx, ctx.ticket_usage(t), p, ctx.src(t))
    planning = ctx.planning()
    share = planning.measure(p.measure or "total") / ctx.n if planning else 0.0
    mark = own.mark or (origin_mark(planning.origin, ctx.accounts.measured) if planning else "")
    low = own.bound == "lower" or _bound_of(planning, p.measure or "total") == "lower"
    return Measurement(
        float(own.value) + share,
        own.unit,
        own.source,
        own.note,
        mark,
        bound="lower" if low else "exact",
        bound_note=own.bound_note or (planning.lower_bound_note if planning else ""),
    )


@metric(
    "stage_tokens", "ticket", "tokens", "tokens of the ticket's named stage", ("measure", "stage")
)
def _t_stage(ctx: MetricContext, ticket: str | None, p: Params) -> Measurement:
    t, _ = _ticket(ctx, ticket)
    usage = ctx.accounts.stage(t, p.stage or "")
    if usage is None:
        raise MetricUnavailable(f"ticket {t} records no tokens for stage {p.stage}")
    return _tokens(ctx, usage, p, ctx.src(t, p.stage or ""))


@metric(
    "fix_loops",
    "ticket",
    "count",
    "fix_loops of the ticket (ticket.fix_loops or implementation.fix_loops)",
)
def _t_fix(ctx: MetricContext, ticket: str | None, p: Params) -> Measurement:
    t, tk = _ticket(ctx, ticket)
    loops = fix_loops_of(tk)
    if loops is None:
        raise MetricUnavailable(f"ticket {t} records no fix_loops")
    where = ("fix_loops",) if tk.fix_loops is not None else ("implementation", "fix_loops")
    return Measurement(loops, "count", ctx.src(t, *where))


@metric(
    "review_attempts",
    "ticket",
    "count",
    "review.attempts; when not recorded, 1 + fix_loops for a review with a result",
)
def _t_attempts(ctx: MetricContext, ticket: str | None, p: Params) -> Measurement:
    t, _ = _ticket(ctx, ticket)
    return _review_attempts(ctx, t)


@metric("review_passed", "ticket", "bool", "review.result is PASS")
def _t_review_passed(ctx: MetricContext, ticket: str | None, p: Params) -> Measurement:
    t, tk = _ticket(ctx, ticket)
    if tk.review is None or tk.review.result is None:
        raise MetricUnavailable(f"ticket {t} records no review.result")
    return Measurement(tk.review.result == "PASS", "bool", ctx.src(t, "review", "result"))


@metric(
    "quality_vs_sonnet",
    "ticket",
    "quality",
    "the worst recorded quality_vs_sonnet dimension; 'same' for a ticket executed on sonnet",
)
def _t_quality(ctx: MetricContext, ticket: str | None, p: Params) -> Measurement:
    t, _ = _ticket(ctx, ticket)
    return _quality(ctx, t)


@metric(
    "wall_time_minutes",
    "ticket",
    "minutes",
    "latest end_time − earliest start_time over the ticket's stages; unknown on the same terms",
)
def _t_wall(ctx: MetricContext, ticket: str | None, p: Params) -> Measurement:
    t, _ = _ticket(ctx, ticket)
    return _wall_minutes(ctx, t)


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
    actual = float(_t_with_share(ctx, ticket, Params(measure=measure)).value)
    return Measurement(round((base - actual) / base * 100, 2), "percent", ctx.src(ticket))


#: how the commands name a metric only a conftest.py registers (never an ERROR: it is fine under
#: pytest)
CONFTEST_ONLY = "registered by conftest.py"

#: the entry-point group of installed packages that register metrics for both front ends:
#: ``[project.entry-points."orchphase.metrics"] name = "package.module:register"``, where
#: ``register(registry)`` calls ``registry.register(...)``
ENTRY_POINT_GROUP = "orchphase.metrics"


def load_entry_points(registry: Registry) -> None:
    """Let every installed ``orchphase.metrics`` entry point register its metrics; an entry
    point that fails is an error naming it (its metrics would otherwise be silently missing)."""
    from importlib.metadata import entry_points

    from pytest_orchphase.errors import OrchphaseError

    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            ep.load()(registry)
        except Exception as exc:
            raise OrchphaseError(
                f"the {ENTRY_POINT_GROUP} entry point {ep.name} ({ep.value}) failed to register "
                f"its metrics: {raised(exc)}"
            ) from None


def conftest_metrics(folder: Path) -> dict[str, str]:
    """Metric names the conftest.py files under ``folder`` register, by their path: the first
    argument of each ``registry.register("name", ...)`` call, read from the source (the file is
    parsed, never run). The orchphase commands name them instead of calling them unknown."""
    import ast

    found: dict[str, str] = {}
    for path in sorted(folder.glob("**/conftest.py")):
        if any(part.startswith(".") or part in ("node_modules", "venv") for part in path.parts):
            continue
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
            continue
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "register"
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                found.setdefault(node.args[0].value, str(path))
    return found

"""Facts over tickets that the metric formulas (and the decisions) share: a model's family, a
ticket's fix loops and success, and the measurements several metrics read (tokens, wall time,
quality, review attempts)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from pytest_orchphase.errors import MetricUnavailable
from pytest_orchphase.families import FAMILIES, family, may_be, snapshot_of
from pytest_orchphase.load.models import Stage, Ticket
from pytest_orchphase.load.models.log import fix_needed, fixes_made
from pytest_orchphase.load.quantity import quality_rank
from pytest_orchphase.metrics.registry import (
    DEFAULT_SUCCESS_LOOPS,
    Bound,
    Measurement,
    MetricContext,
    Params,
    origin_mark,
    token_unit,
)
from pytest_orchphase.usage.accounts import NOT_RUN, Accounts
from pytest_orchphase.usage.value import Usage

if TYPE_CHECKING:
    from pytest_orchphase.load.phase import Phase


def model_matches(model: str | None, wanted: str) -> bool:
    """A filter naming a family matches every id of it; a full id must match exactly, or be a
    snapshot of the model the filter names undated (``claude-3-5-haiku-20241022`` of
    ``claude-3-5-haiku``)."""
    if model is None:
        return False
    if wanted.lower() in FAMILIES:
        return family(model) == wanted.lower()
    return model.lower() == wanted.lower() or snapshot_of(model, wanted)


def fix_loops_of(ticket: Ticket) -> int | None:
    if ticket.fix_loops is not None:
        return ticket.fix_loops
    if ticket.implementation is not None:
        return ticket.implementation.fix_loops
    return None


def failed(ticket: Ticket) -> bool:
    """The log records a failure: a failed review (its result, or a checklist item FAIL), a
    stage (or the ticket) with status failed, or a stage whose verification failed and whose
    fix no later stage made (see :func:`~pytest_orchphase.load.models.log.fixes_made`)."""
    return bool(failures(ticket))


def failures(ticket: Ticket) -> list[str]:
    """Where the log records the ticket's failure (see :func:`failed`), as ``status failed``,
    ``review FAIL``, ``review checklist FAIL``, ``<stage> failed`` or ``<stage> verification
    failed``."""
    review = ticket.review
    out = ["status failed"] if ticket.status == "failed" else []
    if review is not None and review.result == "FAIL":
        out.append("review FAIL")
    elif review is not None and review.failed_items():
        out.append("review checklist FAIL")
    stages = ticket.stages()
    made = fixes_made(stages)
    for name, s in stages.items():
        if s.status == "failed":
            out.append(f"{name} failed")
        elif s.verification == "failed" and name not in made:
            out.append(f"{name} verification failed")
    return out


#: statuses of work not finished: a ticket (or a stage) in one of them is no success yet;
#: ``skipped`` (the ticket's, or every stage's) too: work that never ran did not finish
UNFINISHED = ("in_progress", "pending", "requires_fix", "skipped")


def unfinished(ticket: Ticket) -> list[str]:
    """Where the log says the ticket's work is not finished: the ticket's own status, or a stage
    ``in_progress`` or ``pending``, or ``requires_fix`` with no later stage completed (nor a
    review that passed) after it, or every stage ``skipped`` (one stage skipped beside others
    that ran is not enough). Each as ``status <s>`` or ``<stage> <s>``."""
    out = [f"status {ticket.status}"] if ticket.status in UNFINISHED else []
    stages = list(ticket.stages().items())
    if stages and all(stage.status == "skipped" for _, stage in stages):
        return out + [f"{name} skipped" for name, _ in stages]
    made = fixes_made(ticket.stages())
    for name, stage in stages:
        if name in made:
            continue  # the fix the stage needed was made: a later stage completed
        if stage.status in UNFINISHED and stage.status != "skipped":
            out.append(f"{name} {stage.status}")
    return out


def planning_unfinished(phase: Phase) -> str:
    """``status <s>`` when the log says the phase's shared planning has not finished (in
    progress, pending, or requiring a fix: ``verification failed`` too, as for a ticket's
    stage), else ""."""
    planning = phase.log.shared_planning
    if planning is None:
        return ""
    if planning.status in UNFINISHED and planning.status != "skipped":
        return f"status {planning.status}"
    return fix_needed(planning)


def planning_failed(phase: Phase) -> list[str]:
    """``shared_planning failed (status failed)`` when the log says the phase's shared planning
    failed: no criterion judges the planning, yet the phase as run rests on it, so it fails the
    phase's decision and gate as a failing item would."""
    planning = phase.log.shared_planning
    if planning is None or planning.status != "failed":
        return []
    return ["shared_planning failed (status failed)"]


def not_finished(phase: Phase) -> list[str]:
    """Each ticket of the phase whose work has not finished (see :func:`unfinished`), as
    ``ticket T02 has not finished (status in_progress)``, and its shared planning likewise:
    their figures so far (tokens, fix loops) are lower bounds of their own, so no decision may
    rest on them yet."""
    planning = planning_unfinished(phase)
    return ([f"shared_planning has not finished ({planning})"] if planning else []) + [
        f"ticket {tid} has not finished ({', '.join(places)})"
        for tid, ticket in phase.tickets.items()
        if (places := unfinished(ticket))
    ]


def still_open(phase: Phase, tickets: Iterable[str] | None = None) -> str:
    """Why the figures of ``tickets`` (default: every ticket of ``phase``, and its shared
    planning) are only lower bounds, naming the first one that has not finished and its phase;
    "" when every one has. Its tokens, USD, wall time, fix loops and review attempts are what it
    has used *yet*: they can only grow, so they can prove a `min` but never a `max` (a saving
    from them the reverse)."""
    if tickets is None and (planning := planning_unfinished(phase)):
        return (
            f"the shared_planning of phase {phase.name} has not finished ({planning}): its "
            "figures so far are only what it has used yet"
        )
    for tid in phase.tickets if tickets is None else tickets:
        if places := unfinished(phase.tickets[tid]):
            return (
                f"ticket {tid} of phase {phase.name} has not finished ({', '.join(places)}): "
                "its figures so far are only what it has used yet"
            )
    return ""


def open_accounts(phase: Phase, accounts: Accounts) -> Accounts:
    """``accounts`` with every figure of a ticket not finished (its whole and each of its
    stages), and of shared planning not finished, as a lower bound (see :func:`still_open`),
    for every reader: criteria, limits taken
    from the phase by another phase, paired comparisons, the tables and the break-even."""
    why = {tid: note for tid in phase.tickets if (note := still_open(phase, [tid]))}
    planning = accounts.planning
    if planning is not None and planning_unfinished(phase):
        planning = planning.at_least(still_open(phase))
    if not why and planning is accounts.planning:
        return accounts
    return replace(
        accounts,
        planning=planning,
        flat={t: u.at_least(why[t]) if t in why else u for t, u in accounts.flat.items()},
        stages={
            t: {name: u.at_least(why[t]) for name, u in stages.items()} if t in why else stages
            for t, stages in accounts.stages.items()
        },
    )


def counted(measurement: Measurement, phase: Phase, tickets: Iterable[str] | None) -> Measurement:
    """A count or a duration over ``tickets`` (fix loops, review attempts, wall time; None: the
    whole phase, its shared planning too): a lower bound while one of them has not finished."""
    if why := still_open(phase, tickets):
        return replace(measurement, bound="lower", bound_note=why)
    return measurement


def upgraded(ticket: Ticket) -> list[str]:
    """The larger models the log says the ticket's errors required (``required_upgrade: sonnet``
    or ``opus`` on a ticket executed on another family): another model had to do its work."""
    impl = ticket.implementation
    own = family(ticket.model_used)
    needed = [e.required_upgrade for e in impl.errors_encountered] if impl is not None else []
    return [m for m in dict.fromkeys(needed) if m in FAMILIES and m != own]


def succeeded(ticket: Ticket, max_fix_loops: int = DEFAULT_SUCCESS_LOOPS) -> bool | None:
    """A ticket succeeded when it finished, nothing failed, it needed at most ``max_fix_loops``
    fix loops (a review recorded its verdict) and no error of it required a larger model
    (:func:`upgraded`: the success was that model's, not the ticket's own). None when that is
    not known (and nothing failed): its work is not finished (see :func:`unfinished`), no
    review verdict is recorded (:func:`reviewed`), or its fix loops are not recorded."""
    if failed(ticket) or upgraded(ticket):
        return False
    if unfinished(ticket) or not reviewed(ticket):
        return None
    loops = fix_loops_of(ticket)
    return None if loops is None else loops <= max_fix_loops


def reviewed(ticket: Ticket) -> bool:
    """Whether the log records the review's verdict (its ``result``, or a checklist): without
    one, no fix loop was asked for by anyone, and ``fix_loops: 0`` proves no success."""
    review = ticket.review
    return review is not None and (review.result is not None or bool(review.checklist_results))


def unknown_outcome(ticket_id: str, ticket: Ticket) -> str:
    """Why :func:`succeeded` is None for a ticket: the reason an item gives."""
    if places := unfinished(ticket):
        return (
            f"ticket {ticket_id} has not finished ({', '.join(places)}): whether it succeeds "
            "is not known yet"
        )
    if not reviewed(ticket):
        return (
            f"ticket {ticket_id} records no review result: with no review, its fix loops "
            "prove no success; record the review's result"
        )
    return f"ticket {ticket_id} records no fix_loops"


def ticket_of(ctx: MetricContext, ticket: str | None) -> tuple[str, Ticket]:
    assert ticket is not None, "ticket metrics are evaluated per ticket"
    return ticket, ctx.phase.tickets[ticket]


def bound_of(usage: Usage | None, measure: str) -> Bound:
    return "lower" if usage is not None and usage.is_lower_bound(measure) else "exact"


def flipped(bound: Bound) -> Bound:
    """The bound of ``c − x`` given the bound of ``x``."""
    return {"lower": "upper", "upper": "lower"}.get(bound, bound)  # type: ignore[return-value]


def summed(bounds: Iterable[Bound]) -> Bound:
    """The bound of a sum (or mean) of figures with these bounds: lower bounds add up to a lower
    bound, upper to an upper; a lower beside an upper bound leaves it bounded neither way."""
    kinds = set(bounds) - {"exact"}
    return "exact" if not kinds else (kinds.pop() if len(kinds) == 1 else "unknown")


def difference(minuend: Bound, subtrahend: Bound) -> Bound:
    """The bound of ``x − y`` given the bounds of ``x`` and ``y``."""
    return summed([minuend, flipped(subtrahend)])


def tokens(ctx: MetricContext, usage: Usage, params: Params, source: str) -> Measurement:
    measure = params.measure or "total"
    unit = token_unit(measure)
    return Measurement(
        usage.measure(measure),
        unit,
        source,
        note=usage.origin,
        mark=origin_mark(usage.origin, ctx.accounts.measured),
        bound=bound_of(usage, measure),
        bound_note=usage.lower_bound_note,
    )


#: whose figure :func:`charged` charges: the tickets' (each ticket's own, a mean of them, a
#: stage's sum) or the shared planning's
TICKETS = "this ticket's"
PLANNING = "the shared planning's"


def charged(
    ctx: MetricContext,
    figure: Measurement,
    measure: str,
    *,
    share: int = 1,
    whole: bool = False,
    whose: str = TICKETS,
) -> Measurement:
    """``figure``, of tickets' own usage (or, ``whose`` :data:`PLANNING`, the shared planning's),
    beside the phase's unattributed usage: no rule placed that usage, so it may be any ticket's
    or the planning's, and left out, a cap or a saving could pass on a figure whose work it
    holds. ``whole``: the figure holds every place the usage may belong to
    (a one-ticket phase's ticket with shared planning): the usage is added, exact. Otherwise it
    is added (divided by ``share``) when the figure is exact or an upper bound, which it then
    is (a cap can still pass on it); a figure that is a lower bound already (or beside an
    unattributed usage that is one, or whose cost is unknown) stays as it is, a lower bound
    (added, it would be bounded neither way). Unchanged when nothing is unattributed."""
    loose = ctx.accounts.unattributed
    if loose is None or loose.total == 0:
        return figure
    try:
        extra: float | None = loose.measure(measure)
    except MetricUnavailable as exc:
        if whole:
            raise MetricUnavailable(
                f"the unattributed usage, which is this ticket's or shared planning's: {exc}"
            ) from exc
        extra = None
    loose_bound = bound_of(loose, measure)
    if whole or (extra is not None and loose_bound == "exact" and figure.bound != "lower"):
        assert extra is not None
        added: Bound = "exact" if whole else "upper"
        shown = f"${extra:,.4f}" if measure == "usd" else f"{extra:,.0f}"
        why = (
            f"the phase's unattributed usage ({shown}) is counted as if it were all {whose}, "
            "as it may be; map its agents and sessions to their tickets"
        )
        notes = [figure.bound_note, "" if whole else why, loose.lower_bound_note]
        return replace(
            figure,
            value=float(figure.value) + extra / share,
            bound=summed([figure.bound, added, loose_bound]),
            bound_note="; ".join(dict.fromkeys(n for n in notes if n)),
        )
    why = (
        f"the phase's unattributed usage may be {whose} too (map its agents and sessions "
        "to their tickets)"
    )
    return replace(
        figure,
        bound=summed([figure.bound, "lower"]),
        bound_note="; ".join(n for n in (figure.bound_note, why) if n),
    )


def stamps(ctx: MetricContext, ticket: str | None) -> list[datetime]:
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


def half_stamped(ctx: MetricContext, ticket: str | None) -> list[str]:
    """Work that ran but lacks a start or an end, dropping which would make the wall time
    shorter than it was: each stage that ran (any status but skipped or pending, as its tokens
    count), and each flat ticket's own figures with no implementation stage to stamp its work:
    one phrase for each kind, ``stage(s) R01.review, R02.fix``, ``the work of R03's own tokens
    (…)``."""
    places: list[tuple[str, Stage]] = []
    planning = ctx.phase.log.shared_planning
    if ticket is None and planning is not None:
        places.append(("shared_planning", planning))
    flat = []
    for t in [ticket] if ticket else ctx.phase.tickets:
        tk = ctx.phase.tickets[t]
        places += [(f"{t}.{name}", st) for name, st in tk.stages().items()]
        if tk.implementation is None and (tk.actual_tokens, tk.estimated_tokens) != (None, None):
            flat.append(f"{t}'s own tokens")
    stages = [
        label
        for label, st in places
        if st.status not in NOT_RUN and (st.start_time is None or st.end_time is None)
    ]
    return ([f"stage(s) {', '.join(stages)}"] if stages else []) + (
        [f"the work of {', '.join(flat)} (the flat shape: no implementation stage)"] if flat else []
    )


def wall_minutes(ctx: MetricContext, ticket: str | None) -> Measurement:
    if ticket is None:
        # a ticket without stamps would silently shorten the phase
        unstamped = [t for t in ctx.phase.tickets if not stamps(ctx, t)]
        if unstamped:
            raise MetricUnavailable(
                f"ticket(s) {', '.join(unstamped)} record no start_time/end_time, so the "
                "phase's wall time would leave their work out"
            )
    times = stamps(ctx, ticket)
    if len(times) < 2:
        what = f"ticket {ticket}" if ticket else "the phase"
        raise MetricUnavailable(f"{what} records fewer than two start_time/end_time stamps")
    if half := half_stamped(ctx, ticket):
        raise MetricUnavailable(
            f"{' and '.join(half)} ran without a start_time and an end_time, "
            "so the wall time could be longer than the stamps say; stamp them (or mark a stage "
            "that did not run status: skipped)"
        )
    calls = call_spans(ctx, ticket)
    ends = times + [at for span in calls for at in span]
    # timedelta / timedelta divides whole microseconds: the nearest float to the true minutes
    minutes = (max(ends) - min(ends)) / timedelta(minutes=1)
    note = ""
    if calls:
        first, last = min(at for at, _ in calls), max(at for _, at in calls)
        beyond = first < min(times) or last > max(times)
        note = (
            f"the log's stamps and the measured calls' timestamps (calls {_stamp(first)} to "
            f"{_stamp(last)}{', beyond the stamps' if beyond else ''})"
        )
    found = Measurement(minutes, "minutes", ctx.src(ticket), note=note)
    if why := _wall_lower(ctx, ticket, min(ends), max(ends)):
        found = replace(found, bound="lower", bound_note=why)
    return counted(found, ctx.phase, [ticket] if ticket else None)


def call_spans(ctx: MetricContext, ticket: str | None) -> list[tuple[datetime, datetime]]:
    """The first and last measured call of each place of ``ticket`` (None: of every place of
    the phase, shared planning and the unattributed calls too); none for a phase not
    measured. The work took at least as long as its calls: a wall time from the log's stamps
    alone could be shorter than the transcripts prove."""
    return [
        span for (owner, _), span in ctx.accounts.spans.items() if ticket is None or owner == ticket
    ]


def _stamp(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%S")


def _wall_lower(ctx: MetricContext, ticket: str | None, start: datetime, end: datetime) -> str:
    """Why a wall time from ``start`` to ``end`` is only a lower bound ("" when it is not):
    the phase's, when its shared planning is not recorded (a phase of several tickets whose
    log records no shared_planning and whose transcripts hold no lead's calls: the planning
    ran before the stages, for a time nobody counts); a ticket's, when measured calls no rule
    placed ran outside it (they may be this ticket's work); either, when a transcript line
    that may have recorded a call could not be read (its time is not known)."""
    if ticket is None and (why := ctx.planning_unrecorded()):
        return why
    if ctx.accounts.calls_lost:
        return ctx.accounts.calls_lost
    if ticket is None:
        return ""
    loose = ctx.accounts.spans.get(("", ""))
    if loose is None or (start <= loose[0] and loose[1] <= end):
        return ""
    return (
        f"the phase's unattributed calls ({_stamp(loose[0])} to {_stamp(loose[1])}) ran "
        f"outside ticket {ticket}'s time and may be its work (map its agents and sessions to "
        "their tickets)"
    )


def quality(ctx: MetricContext, ticket: str) -> Measurement:
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
        found = Measurement(worst, "quality", ctx.src(ticket), note="worst recorded dimension")
        # work not finished is graded on what exists so far: a fix may make it better, more
        # work worse, so its grade is bounded neither way
        if why := still_open(ctx.phase, [ticket]):
            return replace(found, bound="unknown", bound_note=why)
        return found
    if family(t.model_used) == "sonnet":
        return Measurement("same", "quality", ctx.src(ticket), note="executed on sonnet itself")
    raise MetricUnavailable(
        f"ticket {ticket} was executed on {t.model_used or 'an unrecorded model'} and records no "
        "quality_vs_sonnet"
    )


def fix_loops(ctx: MetricContext, ticket: str) -> Measurement:
    """The ticket's fix loops, where the log records them."""
    tk = ctx.phase.tickets[ticket]
    loops = fix_loops_of(tk)
    if loops is None:
        raise MetricUnavailable(f"ticket {ticket} records no fix_loops")
    where = ("fix_loops",) if tk.fix_loops is not None else ("implementation", "fix_loops")
    return counted(Measurement(loops, "count", ctx.src(ticket, *where)), ctx.phase, [ticket])


def review_passed(ctx: MetricContext, ticket: str) -> Measurement:
    """Whether the ticket's review.result is PASS and the pass held: a PASS beside a failure the
    log records for the ticket (:func:`failed`) is no pass."""
    tk = ctx.phase.tickets[ticket]
    if tk.review is None or tk.review.result is None:
        raise MetricUnavailable(f"ticket {ticket} records no review.result")
    src = ctx.src(ticket, "review", "result")
    mine = frozenset([ticket])
    if tk.review.result == "PASS" and (why := failures(tk)):
        # the pass did not hold: the ticket failed (its status, a stage, or a verification
        # nothing fixed), so the work the review passed is not what the ticket ended with
        note = f"review PASS, but the log records the ticket failed ({', '.join(why)})"
        return Measurement(False, "bool", src, note=note, judged=mine)
    return Measurement(tk.review.result == "PASS", "bool", src, judged=mine)


def review_attempts(ctx: MetricContext, ticket: str) -> Measurement:
    return counted(_review_attempts(ctx, ticket), ctx.phase, [ticket])


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


def display_meta(ctx: MetricContext) -> str:
    from pytest_orchphase.errors import display

    return f"{display(ctx.phase.metadata_doc.path)}: tickets"


def unrecorded_model(ticket_id: str, ticket: Ticket, wanted: str | None = None) -> str:
    """Why a ticket may or may not be one executed on a model ("" when that is known): it
    records none, or (``wanted`` a model id) only less precisely than ``wanted`` names it, its
    family (``haiku``) or an alias, which may be that id or another of the family."""
    used = ticket.model_used
    if used and wanted is not None and may_be(used, wanted):
        return (
            f"ticket {ticket_id} records its model only as {used!r}, not which "
            f"{family(used)} model id"
        )
    if used:
        return ""
    return (
        f"ticket {ticket_id} records no execution model (execution_model, or the "
        "implementation stage's model)"
    )


def tickets_on(
    ctx: MetricContext,
    model: str | None,
    figure: Callable[[MetricContext, str], Measurement] | None = None,
) -> list[str]:
    """The phase's tickets, or those executed on ``model``; MetricUnavailable when none was.
    A ticket that records no execution model may be one of them: left out, a figure over the
    others alone could pass a limit the whole does not meet, so it is MetricUnavailable, naming
    it, unless the answer does not depend on it: with ``figure`` (for a highest figure: the
    most fix loops), when its figure is no higher than the highest of those known to be on
    ``model`` (it is then counted in, which changes nothing)."""
    if model is None:
        return list(ctx.phase.tickets)
    mine = [t for t, tk in ctx.phase.tickets.items() if model_matches(tk.model_used, model)]
    maybe = {
        t: why for t, tk in ctx.phase.tickets.items() if (why := unrecorded_model(t, tk, model))
    }
    if not mine and not maybe:
        raise MetricUnavailable(f"no ticket was executed on {model}")
    for t, why in maybe.items():
        if not mine or figure is None or _higher(ctx, figure, t, mine):
            raise MetricUnavailable(
                f"{why}: whether it was executed on {model} is not known, and the figure over "
                f"the tickets on {model} depends on it; record its model"
            )
    return mine + list(maybe)


def _higher(
    ctx: MetricContext, figure: Callable[[MetricContext, str], Measurement], t: str, mine: list[str]
) -> bool:
    """Whether ``t``'s figure may be higher than the highest of ``mine`` (True when unknown)."""
    try:
        theirs = float(figure(ctx, t).value)
    except MetricUnavailable:
        return True
    return theirs > max(float(figure(ctx, m).value) for m in mine)

"""Wall time: from the log's start and end stamps of the stages (and the measured calls'
timestamps), with the work whose stamps are missing, and why a wall time is only a lower bound."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from pytest_orchphase.errors import MetricUnavailable
from pytest_orchphase.load.models import Stage
from pytest_orchphase.metrics.open_work import counted
from pytest_orchphase.metrics.registry import Measurement, MetricContext
from pytest_orchphase.usage.accounts import NOT_RUN

if TYPE_CHECKING:
    from pytest_orchphase.load.phase import Phase


def stamps(phase: Phase, ticket: str | None) -> list[datetime]:
    """The log's start and end stamps of ``ticket``'s stages (None: of the phase's, shared
    planning's too)."""
    stages: list[object] = []
    if ticket is None:
        if phase.log.shared_planning is not None:
            stages.append(phase.log.shared_planning)
        for t in phase.tickets.values():
            stages.extend(t.stages().values())
    else:
        stages.extend(phase.tickets[ticket].stages().values())
    out: list[datetime] = []
    for stage in stages:
        for attr in ("start_time", "end_time"):
            value = getattr(stage, attr, None)
            if value is not None:
                out.append(value)
    return out


def half_stamped(phase: Phase, ticket: str | None) -> list[str]:
    """Work that ran but lacks a start or an end, dropping which would make the wall time
    shorter than it was: each stage that ran (any status but skipped or pending, as its tokens
    count), and each flat ticket's own figures with no implementation stage to stamp its work:
    one phrase for each kind, ``stage(s) R01.review, R02.fix``, ``the work of R03's own tokens
    (…)``."""
    places: list[tuple[str, Stage]] = []
    planning = phase.log.shared_planning
    if ticket is None and planning is not None:
        places.append(("shared_planning", planning))
    flat = []
    for t in [ticket] if ticket else phase.tickets:
        tk = phase.tickets[t]
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


def unstamped_work(phase: Phase, ticket: str | None) -> str:
    """Why the log's stamps of ``ticket`` (None: of the phase) do not hold all its work, so
    that their span is no wall time: "" when they do. Work outside every stamp may have run
    before or after them."""
    if ticket is None:
        # a ticket without stamps would silently shorten the phase
        unstamped = [t for t in phase.tickets if not stamps(phase, t)]
        if unstamped:
            return (
                f"ticket(s) {', '.join(unstamped)} record no start_time/end_time, so the "
                "phase's wall time would leave their work out"
            )
    if len(stamps(phase, ticket)) < 2:
        what = f"ticket {ticket}" if ticket else "the phase"
        return f"{what} records fewer than two start_time/end_time stamps"
    if half := half_stamped(phase, ticket):
        return (
            f"{' and '.join(half)} ran without a start_time and an end_time, "
            "so the wall time could be longer than the stamps say; stamp them (or mark a stage "
            "that did not run status: skipped)"
        )
    return ""


def wall_minutes(ctx: MetricContext, ticket: str | None) -> Measurement:
    if why := unstamped_work(ctx.phase, ticket):
        raise MetricUnavailable(why)
    times = stamps(ctx.phase, ticket)
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

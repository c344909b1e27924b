"""Wall time: from the log's start and end stamps of the stages (and the measured calls'
timestamps), with the work whose stamps are missing, and why a wall time is only a lower bound."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from pytest_orchphase.errors import MetricUnavailable
from pytest_orchphase.load.stamps import stamps, unstamped_work
from pytest_orchphase.metrics.open_work import counted
from pytest_orchphase.metrics.registry import Measurement, MetricContext


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
    that may have recorded a call could not be read, or a measured call placed there (or
    placed nowhere: it may be this ticket's) records no time (its time is not known)."""
    if ticket is None and (why := ctx.planning_unrecorded()):
        return why
    if ctx.accounts.calls_lost:
        return ctx.accounts.calls_lost
    if why := _unstamped(ctx, ticket):
        return why
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


def _unstamped(ctx: MetricContext, ticket: str | None) -> str:
    """Why measured calls whose time is not known may lie outside ``ticket``'s time (None: the
    phase's), "" when none may: those placed in the ticket, and those placed nowhere."""
    calls = sum(
        n
        for place, n in ctx.accounts.unstamped.items()
        if ticket is None or place[0] == ticket or place == ("", "")
    )
    if not calls:
        return ""
    where = "the phase" if ticket is None else f"ticket {ticket} (or no ticket)"
    return (
        f"{calls} measured call(s) of {where} record no time (no timestamp, or one that is not a "
        "time, on a line of theirs): they may have run outside the stamps and the other calls"
    )

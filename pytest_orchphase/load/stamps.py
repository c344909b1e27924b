"""The log's start and end stamps: which a ticket's (or the phase's) stages record, and whether
they hold all of its work, so that their span is a wall time (the wall-time metric) and a bound
on how long a run given to that place can have taken (the log's agreement with the runs). Plain
Python, no pytest."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from pytest_orchphase.load.models import Stage
from pytest_orchphase.load.models.fields import NOT_RUN

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

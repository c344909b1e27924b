"""Work the log says has not finished (a ticket, a stage, the shared planning), and what that
makes of the figures: what it has used so far is only a lower bound of what it will use."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import TYPE_CHECKING

from pytest_orchphase.load.models.fields import NOT_RUN
from pytest_orchphase.load.models.log import fix_needed, fixes_made

if TYPE_CHECKING:
    from pytest_orchphase.load.models import Ticket
    from pytest_orchphase.load.phase import Phase
    from pytest_orchphase.metrics.registry import Measurement
    from pytest_orchphase.usage.accounts import Accounts

# Other fact modules import this one by name: it imports the registry for types only, as the
# registry imports the formula modules (and, through them, the fact modules) at its end.


#: statuses of work not finished: a ticket (or a stage) in one of them is no success yet;
#: ``skipped`` (the ticket's, or every stage's) too: work that never ran did not finish
UNFINISHED = ("in_progress", "pending", "requires_fix", "skipped")


def unfinished(ticket: Ticket) -> list[str]:
    """Where the log says the ticket's work is not finished: the ticket's own status, or a stage
    ``in_progress`` or ``pending``, or ``requires_fix`` with no later stage completed (nor a
    review that passed) after it, or every stage ``skipped``, or its own work did not run
    while other stages did (:func:`work_not_run`: a branch made and a review passed are no
    done ticket). Each as ``status <s>``, ``<stage> <s>`` or why the work did not run."""
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
    if (why := work_not_run(ticket)) and why not in out and ticket.status not in UNFINISHED:
        out.append(why)
    return out


def work_not_run(ticket: Ticket) -> str:
    """Why the log shows the ticket's own work did not run, "" when it does not say so: its
    implementation stage was skipped (or is pending) or used no token (``actual_tokens: 0``:
    no model call made it, whatever its status), or a ticket logged stage by stage (a stage
    besides its review, and no tokens of its own as the flat shape records) has no
    implementation stage. A flat ticket (its tokens and fix loops, with no stages) did its
    work in what it records, unless that is no token."""
    impl = ticket.implementation
    if impl is not None:
        if impl.status in NOT_RUN:
            return f"implementation {impl.status}"
        return "implementation actual_tokens: 0" if impl.actual_tokens == 0 else ""
    if ticket.actual_tokens == 0:
        return "actual_tokens: 0"
    flat = ticket.estimated_tokens is not None or ticket.actual_tokens is not None
    others = [name for name in ticket.stages() if name != "review"]
    if others and not flat:
        return f"no implementation stage beside {', '.join(others)}"
    return ""


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

"""How a ticket's work ended, as the log records it: its failures, whether it succeeded (and
why that is not known), its review's verdict and attempts, its fix loops and the quality of its
work."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import TYPE_CHECKING

from pytest_orchphase.errors import MetricUnavailable
from pytest_orchphase.families import FAMILIES, family, two_models
from pytest_orchphase.load.models.fields import NOT_RUN
from pytest_orchphase.load.models.log import fixes_made
from pytest_orchphase.load.quantity import quality_rank
from pytest_orchphase.metrics.bounds import flipped, summed
from pytest_orchphase.metrics.open_work import counted, still_open, unfinished, work_not_run
from pytest_orchphase.metrics.registry import DEFAULT_SUCCESS_LOOPS, Measurement, MetricContext

if TYPE_CHECKING:
    from pytest_orchphase.load.models import Ticket
    from pytest_orchphase.load.phase import Phase


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


def failed_work(phase: Phase, tickets: Iterable[str] | None = None) -> str:
    """Why a cost of doing ``tickets`` (default: every ticket of ``phase``) is only a lower bound:
    each one the log records as failed (see :func:`failures`), as ``ticket R03 failed (status
    failed)``; "" when none did. A ticket that failed cost what failing cost, a lower bound of
    what doing it costs: cheap failures would make a cost over the tickets (a sum, a mean) look
    cheaper than doing them, and a saving from it larger."""
    failed = [
        f"ticket {t} failed ({', '.join(why)})"
        for t in (phase.tickets if tickets is None else tickets)
        if (why := failures(phase.tickets[t]))
    ]
    if not failed:
        return ""
    return (
        f"{'; '.join(failed)}: what failing cost is only a lower bound of what doing the "
        "ticket costs"
    )


def done_cost(
    figure: Measurement, phase: Phase, tickets: Iterable[str] | None = None, *, saving: bool = False
) -> Measurement:
    """``figure``, a cost of doing ``tickets`` (a sum or a mean of their tokens or USD; default:
    every ticket of ``phase``), as a lower bound beside a ticket that failed (see
    :func:`failed_work`), so that it proves no ``max`` or ``below``; ``saving``: ``figure`` is
    a saving from such a cost (a baseline's cost, or another phase's, minus it), an upper
    bound then, which proves no ``min`` or ``above``."""
    why = failed_work(phase, tickets)
    if not why:
        return figure
    bound = summed([figure.bound, flipped("lower") if saving else "lower"])
    note = "; ".join(n for n in (figure.bound_note, why) if n)
    return replace(figure, bound=bound, bound_note=note)


def planning_failed(phase: Phase) -> list[str]:
    """``shared_planning failed (status failed)`` when the log says the phase's shared planning
    failed: no criterion judges the planning, yet the phase as run rests on it, so it fails the
    phase's decision and gate as a failing item would."""
    planning = phase.log.shared_planning
    if planning is None or planning.status != "failed":
        return []
    return ["shared_planning failed (status failed)"]


def upgraded(ticket: Ticket) -> list[str]:
    """The models of another family the log says did the ticket's work: those its errors
    required (``required_upgrade: sonnet`` or ``opus``), and that of a ``fix`` stage that ran
    (any status but skipped or pending) on another model than the ticket was executed on
    (another family, or another version of its family: the fix's model then, by name). Its
    success, if any, was then that model's, not the ticket's own."""
    impl = ticket.implementation
    used = ticket.model_used
    own = family(used)
    errors = impl.errors_encountered if impl is not None else []
    needed: list[str] = [e.required_upgrade for e in errors if e.required_upgrade in FAMILIES]
    needed = [m for m in needed if m != own]
    fix = ticket.fix
    ran = fix is not None and fix.status not in NOT_RUN and fix.model and family(fix.model)
    if fix is not None and fix.model and ran and (used is None or two_models(fix.model, used)):
        # another family, or another version of the ticket's own: that model, by name
        needed.append(fix.model if family(fix.model) == own else str(family(fix.model)))
    return list(dict.fromkeys(needed))


def succeeded(ticket: Ticket, max_fix_loops: int = DEFAULT_SUCCESS_LOOPS) -> bool | None:
    """A ticket succeeded when it finished, nothing failed, it needed at most ``max_fix_loops``
    fix loops (a review recorded its verdict) and no other model did its work
    (:func:`upgraded`: the success was that model's, not the ticket's own). None when that is
    not known (and nothing failed): its work is not finished or did not run (see
    :func:`~pytest_orchphase.metrics.open_work.unfinished`), no review verdict is recorded
    (:func:`reviewed`), or its fix loops are not recorded."""
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
    return review is not None and (review.result is not None or review.checked())


def unknown_outcome(ticket_id: str, ticket: Ticket) -> str:
    """Why :func:`succeeded` is None for a ticket: the reason an item gives."""
    if places := unfinished(ticket):
        impl = ticket.implementation
        pending = impl is not None and impl.status == "pending"  # it will run: nothing to record
        hint = (
            "; record its implementation stage, or mark the ticket status: skipped"
            if work_not_run(ticket) and not pending
            else ""
        )
        return (
            f"ticket {ticket_id} has not finished ({', '.join(places)}): whether it succeeds "
            f"is not known yet{hint}"
        )
    if not reviewed(ticket):
        return (
            f"ticket {ticket_id} records no review result: with no review, its fix loops "
            "prove no success; record the review's result"
        )
    return f"ticket {ticket_id} records no fix_loops"


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

"""What the transcripts say beside what the log says: where measured usage leaves out work the
log records (a bound), and where the two contradict each other (an error at the log's field).

Measured usage wins over the log's figures place by place (see
:func:`~pytest_orchphase.usage.attribution.measured_accounts`); these checks keep it from
winning silently where the log knows something the measurement does not, or the reverse.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from pytest_orchphase.families import family, version
from pytest_orchphase.load.phase import PLANNING
from pytest_orchphase.load.stamps import unstamped_work
from pytest_orchphase.usage.accounts import NOT_RUN
from pytest_orchphase.usage.value import Usage, total_of

if TYPE_CHECKING:
    from collections.abc import Callable

    from pytest_orchphase.load.models import Stage, Ticket
    from pytest_orchphase.load.phase import Phase
    from pytest_orchphase.load.yamlio import FieldPath
    from pytest_orchphase.usage.attribution import Measured, Place, RunTime


def unmeasured_stages(phase: Phase, measured: Measured) -> dict[str, str]:
    """Why a measured ticket's total leaves out work, by ticket: a stage the log says ran (any
    status but skipped or pending, as for its tokens) in which no measured usage was placed,
    while nothing was measured for the ticket as a whole (which may hold it). That stage's work
    is then elsewhere: in the lead's own calls (shared planning, when the lead did it itself),
    in the unattributed usage, or in a transcript the phase does not name; the ticket's
    measured total is only a lower bound of its work in every case. Shared planning keeps its
    measured figure: it is what the lead's calls used, whatever work they did."""
    out: dict[str, str] = {}
    for tid, ticket in phase.tickets.items():
        if tid not in measured.tickets() or tid in measured.whole:
            continue
        own = measured.stages.get(tid, {})
        absent = [
            name
            for name, stage in ticket.stages().items()
            if stage.status not in NOT_RUN and name not in own
        ]
        if absent:
            out[tid] = (
                f"ticket {tid}'s {', '.join(absent)} stage(s) ran (the log says so) but no "
                "measured usage was placed there: that work is in the lead's own calls, the "
                "unattributed usage or a transcript the phase does not name; map its "
                "sub-agents (agents.agent_ids) or name its session (sessions: ticket, stage)"
            )
    return out


#: How far above the measured figure the log's recorded ``actual_tokens`` may be and still be
#: read as its rounding: a figure written to two significant digits is at most 4.8 % above it
#: (10,510 written 11,000).
ROUNDING = 0.05


def short_of_the_log(phase: Phase, measured: Measured) -> dict[tuple[str, str], str]:
    """Where the log records more tokens spent (``actual_tokens``: not an estimate) than the
    transcripts measure there, beyond rounding: by ``(ticket, "")`` for a measured ticket's
    total (its flat figure, or its stages' recorded figures summed), by ``(ticket, stage)`` for
    a stage with measured usage. The rest of that work is in a transcript the phase does not
    name, in the lead's own calls or in the unattributed usage (or the log's figure is wrong):
    the measured figure is then only a lower bound, never proof that a cap held."""
    out: dict[tuple[str, str], str] = {}
    for tid, ticket in phase.tickets.items():
        if tid not in measured.tickets():
            continue
        own = measured.stages.get(tid, {})
        whole = [measured.whole[tid]] if tid in measured.whole else []
        places: list[tuple[str, int | None, Usage | None]] = [
            ("", _recorded(ticket), total_of([*own.values(), *whole]))
        ]
        places += [(name, st.actual_tokens, own.get(name)) for name, st in ticket.stages().items()]
        for name, recorded, usage in places:
            if recorded is None or usage is None or recorded <= usage.total * (1 + ROUNDING):
                continue
            where = f"ticket {tid}" + (f"'s {name}" if name else "")
            out[(tid, name)] = _short(where, recorded, usage.total)
    return out


def _recorded(ticket: Ticket) -> int | None:
    """The tokens the log records as spent on the ticket: its own ``actual_tokens``, else its
    stages' summed (None when it records none)."""
    if ticket.actual_tokens is not None:
        return ticket.actual_tokens
    staged = [st.actual_tokens for st in ticket.stages().values() if st.actual_tokens is not None]
    return sum(staged) if staged else None


def _short(place: str, recorded: int, measured: int) -> str:
    return (
        f"the log records {recorded:,} tokens spent on {place} (actual_tokens), above the "
        f"{measured:,} measured there: the rest is in a transcript the phase does not name, "
        "the lead's own calls or the unattributed usage (or the log's figure is wrong); name "
        "its sessions, or correct actual_tokens"
    )


def refuse_contradictions(phase: Phase, measured: Measured) -> None:
    """The log's counts and models against what the transcripts place in each ticket; a
    contradiction is an error at the log's field (which of the two is true only the team
    knows, and a criterion would pass on the log's side of it):

    - ``fix_loops: 0`` beside measured usage placed in the ticket's fix stage (the log-side
      rule, :func:`~pytest_orchphase.load.models.log.recorded_fixes`, makes a fix stage the log
      records beside ``fix_loops: 0`` an error in the same way);
    - more review sub-agents measured for the ticket than its ``review.attempts`` (else than
      ``1 + fix_loops``, the attempts a ticket with that many fix loops can have had): each
      review sub-agent is one attempt;
    - a ticket logged on one model (``execution_model``, else ``implementation.model``) none
      of whose measured implementer's calls is of that model (:func:`implementation_models`:
      never a helper's, such as an Explore sub-agent's); a mix is no contradiction (helpers
      may run on other models);
    - a stage whose ``model`` (a fix stage's, else the ticket's) none of the calls measured
      there, helpers' aside, is of (:func:`_stage_models_agree`).
    """
    for tid in phase.tickets:
        _fixes_agree(phase, measured, tid)
        _model_agrees(phase, measured, tid)
        _stage_models_agree(phase, measured, tid)
        _runs_agree(phase, measured, tid)
    for run in measured.run_times:
        _run_fits_its_stamps(phase, measured, run)


#: How much longer than its place's stamps a run may say it took: stamps kept to the minute.
STAMP_SLACK = timedelta(minutes=1)


def _run_fits_its_stamps(phase: Phase, measured: Measured, run: RunTime) -> None:
    """A headless run's own ``duration_ms`` longer than the time the log's stamps (widened by
    the calls measured there) give the place its calls were counted in: its stage, else its
    ticket, else the phase, the most specific that is stamped. The stamps are then wrong
    (the work took at least as long as its run), and a wall time from them would be short of
    what the run proves: an error at the log's stamps, as for its other contradictions."""
    took = timedelta(milliseconds=run.duration_ms)
    label, at, times = _stamped_place(phase, measured, run.places)
    if len(times) < 2 or took <= max(times) - min(times) + STAMP_SLACK:
        return
    start, end = min(times), max(times)
    raise phase.log_doc.error(
        f"the headless run {run.path.name} took {_minutes(took)} (its duration_ms "
        f"{run.duration_ms:,}), but the log's stamps (and the calls measured there) give "
        f"{label}, where its calls are counted, {_minutes(end - start)} "
        f"({start:%Y-%m-%d %H:%M:%S} to {end:%H:%M:%S}): the work took at least as long as its "
        "run; correct "
        "the stamps, or give the run to its place (sessions: ticket, stage)",
        at,
    )


def _minutes(span: timedelta) -> str:
    return f"{span / timedelta(minutes=1):,.1f} min"


def _stamped_place(
    phase: Phase, measured: Measured, places: frozenset[tuple[str, str]]
) -> tuple[str, FieldPath, list[datetime]]:
    """Of the places a run's calls were counted in, the most specific whose stamps hold them
    all, with where it stands in the log and its stamps and measured calls' times (fewer
    than two when no stamps bound the run). A stage is held by its own stamps only; a ticket
    (or the phase) by its stamps only where they hold all its work (see
    :func:`~pytest_orchphase.load.stamps.unstamped_work`): work outside them, such as
    an unstamped stage's, may have run before or after them, for as long as it took."""
    from pytest_orchphase.load.phase import stage_places

    def times(of: list[tuple[FieldPath, str, str, Stage]], spans: list[Place]) -> list[datetime]:
        out = [t for _, _, _, st in of for t in (st.start_time, st.end_time) if t is not None]
        return out + [t for key in spans for t in measured.spans.get(key, ())] if out else []

    every = stage_places(phase.log, phase.tickets)
    tickets = {ticket for ticket, _ in places}
    if len(places) == 1:
        ((ticket, name),) = places
        stage = [p for p in every if (p[1], p[2]) == (ticket, name)]
        if stage:
            label = "the shared planning" if name == PLANNING else f"stage {ticket}.{name}"
            at: FieldPath = (*stage[0][0], "end_time")
            if stage[0][3].start_time is None or stage[0][3].end_time is None:
                return label, at, []
            return label, at, times(stage, [(ticket, name)])
    if len(tickets) == 1 and "" not in tickets:
        (ticket,) = tickets
        if unstamped_work(phase, ticket):
            return f"ticket {ticket}", phase.ticket_field(ticket), []
        own = [p for p in every if p[1] == ticket]
        found = times(own, [key for key in measured.spans if key[0] == ticket])
        return f"ticket {ticket}", phase.ticket_field(ticket), found
    if unstamped_work(phase, None):
        return "the phase", (), []
    return "the phase", (), times(every, list(measured.spans))


def _runs_agree(phase: Phase, measured: Measured, tid: str) -> None:
    """A ticket all of whose measured work is headless runs that ended in error (``is_error``:
    out of turns, an error during execution) did not finish it: a log recording no failure
    for it (a review PASS, 0 fix loops) is contradicted, and the ticket would pass as a
    success. A retry that finished, or another session's work, is no contradiction."""
    from pytest_orchphase.metrics.open_work import unfinished
    from pytest_orchphase.metrics.outcomes import failures

    runs = measured.errored_runs.get(tid)
    ticket = phase.tickets[tid]
    if not runs or failures(ticket) or unfinished(ticket):
        return
    raise phase.log_doc.error(
        f"ticket {tid}'s measured run(s) ended in error ({', '.join(runs)}), but the "
        "log records no failure: the run did not finish its work; record the ticket's outcome "
        "(status: failed), or name the run that finished",
        phase.ticket_field(tid),
    )


def _placed(measured: Measured, ticket: str, stage: str) -> list[str]:
    """The measured sub-agents placed in ``ticket``'s ``stage``, each as ``<id> ('<Task
    description>', <how it was placed>)``."""
    return [
        f"{a.agent_id} ({a.description!r}, {a.how})" if a.description else a.agent_id
        for a in measured.agents
        if a.ticket == ticket and a.stage == stage
    ]


def _fixes_agree(phase: Phase, measured: Measured, tid: str) -> None:
    ticket = phase.tickets[tid]
    base = phase.ticket_field(tid)
    if ticket.fix_loops is not None:
        loops, at = ticket.fix_loops, (*base, "fix_loops")
    elif ticket.implementation is not None and ticket.implementation.fix_loops is not None:
        loops, at = ticket.implementation.fix_loops, (*base, "implementation", "fix_loops")
    else:
        loops, at = None, ()
    name = ".".join(str(p) for p in at[len(base) :])
    fix = measured.stages.get(tid, {}).get("fix")
    if loops == 0 and fix is not None and fix.total > 0:
        agents = _placed(measured, tid, "fix")
        how = f": sub-agent(s) {', '.join(agents)}" if agents else ""
        raise phase.log_doc.error(
            f"{name} is 0, but the transcripts place {fix.total:,} tokens in ticket {tid}'s fix "
            f"stage{how}: a ticket that needed a fix needed at least one fix loop; correct "
            f"{name}, or, if that work was no fix, map it to its stage (agents.agent_ids, or "
            "sessions: stage)",
            at,
        )
    reviewers = _placed(measured, tid, "review")
    review = ticket.review
    attempts = review.attempts if review is not None else None
    if attempts is not None and len(reviewers) > attempts:
        raise phase.log_doc.error(
            f"review.attempts is {attempts}, but the transcripts hold {len(reviewers)} review "
            f"sub-agents of ticket {tid} ({', '.join(reviewers)}): each review sub-agent is one "
            "attempt; correct review.attempts, or map a sub-agent that reviewed nothing to its "
            "stage (agents.agent_ids)",
            (*base, "review", "attempts"),
        )
    if attempts is None and loops is not None and len(reviewers) > 1 + loops:
        raise phase.log_doc.error(
            f"{name} is {loops}, but the transcripts hold {len(reviewers)} review sub-agents of "
            f"ticket {tid} ({', '.join(reviewers)}): each review attempt after the first "
            f"followed a failed one and the fix it needed, so {len(reviewers)} attempts need "
            f"at least {len(reviewers) - 1} fix loop(s); correct {name} (and record "
            "review.attempts), or map a sub-agent that reviewed nothing to its stage "
            "(agents.agent_ids)",
            at,
        )


def implementation_models(measured: Measured, ticket: str) -> tuple[list[str], str]:
    """The models of ``ticket``'s measured implementer, with which calls they are: the
    calls placed in its implementation stage (a session named with it, the sub-agents the log
    or their Task description place there; not the sub-agents such a session spawned that the
    log does not map there: its main agent's helpers); where none is, its sessions' own calls
    outside its review (its worker session's main agent, a session named with it: the
    sub-agents it spawned are its helpers); where none is, its sub-agents' outside its review.
    Helpers of :data:`~pytest_orchphase.usage.attribution.HELPER_TYPES` (Explore…) are none of
    them: they did no implementation, on whatever model."""
    sure, unsure, where = _implementer(measured, ticket)
    return sorted({*sure, *unsure}), where


def _implementer(measured: Measured, ticket: str) -> tuple[list[str], list[str], str]:
    """:func:`implementation_models`, those its calls certainly ran on apart from those of
    headless figures that may be a main agent's or a sub-agent's (the record does not say:
    :data:`~pytest_orchphase.usage.attribution.UNSURE`)."""
    from pytest_orchphase.usage.attribution import AGENT, MAIN, SPAWNED, UNSURE

    tiers = (
        ("implementation stage's calls", lambda s: s == "implementation", (MAIN, AGENT)),
        ("implementer's calls (its sessions' own, outside its review)", _not_review, (MAIN,)),
        (
            "implementer's calls (its sub-agents', outside its review)",
            _not_review,
            (AGENT, SPAWNED),
        ),
    )
    for where, stages, roles in tiers:
        sure = _models(measured, ticket, stages, *roles)
        unsure = _models(measured, ticket, stages, UNSURE) if MAIN in roles else []
        if sure or unsure:
            return sure, unsure, where
    return [], [], ""


def implementer_may_be(measured: Measured, ticket: str, logged: str) -> bool:
    """Whether ``ticket``'s measured implementer (:func:`implementation_models`) may have run
    on the model ``logged``: True too when none is measured."""
    sure, unsure, _ = _implementer(measured, ticket)
    return not (sure or unsure) or _agrees(logged, sure, unsure)


def _agrees(logged: str, sure: list[str], unsure: list[str]) -> bool:
    """Whether the model a log names may be that of the calls measured (``sure``), or of
    figures that may be a main agent's or its sub-agents' (``unsure``): only when all of
    those are of it, since the main agent may have run on any of them."""
    if any(same_model(m, logged) for m in sure):
        return True
    return bool(unsure) and all(same_model(m, logged) for m in unsure)


def _unsure_why(unsure: list[str]) -> str:
    """Why figures on the models ``unsure`` prove no model (see :func:`_agrees`)."""
    if not unsure:
        return ""
    return (
        f"; a headless run's figures on {', '.join(unsure)} may be its main agent's or its "
        "sub-agents': its record does not say which model its main agent ran on (a usage "
        "ledger collected before it kept each run's main models, or a result without the "
        "main agent's usage), so only a model all of them ran on is proven; collect the "
        "ledger again from the results"
    )


def _models(
    measured: Measured, ticket: str, stages: Callable[[str], bool], *roles: str
) -> list[str]:
    """The models of ``ticket``'s calls measured in the ``stages`` made by ``roles``."""
    return sorted(
        {
            model
            for (owner, stage, role), used in measured.models_by_role.items()
            if owner == ticket and stages(stage) and role in roles
            for model in used
        }
    )


def _not_review(stage: str) -> bool:
    return stage != "review"


def _others(measured: Measured, ticket: str, stage: str | None, but: list[str]) -> str:
    """The models of the ticket's (``stage``'s, when given) other measured calls, as the end
    of a sentence: those of its helpers, other stages, review, which are no contradiction."""
    rest = sorted(
        {
            model
            for (owner, at, _), used in measured.models_by_role.items()
            if owner == ticket and (stage is None or at == stage)
            for model in used
        }
        - set(but)
    )
    if not rest:
        return ""
    return f" (its other calls, on {', '.join(rest)}, are its helpers' or another stage's)"


def _model_agrees(phase: Phase, measured: Measured, tid: str) -> None:
    ticket = phase.tickets[tid]
    logged = ticket.model_used
    sure, unsure, where = _implementer(measured, tid)
    if not logged or not (sure or unsure) or _agrees(logged, sure, unsure):
        return
    models = sorted({*sure, *unsure})
    base = phase.ticket_field(tid)
    at = (
        (*base, "execution_model") if ticket.execution_model else (*base, "implementation", "model")
    )
    raise phase.log_doc.error(
        f"ticket {tid} is logged as executed on {logged!r}, but none of its measured {where} "
        f"is: they are {', '.join(models)}{_others(measured, tid, None, models)}"
        f"{_unsure_why(unsure)}; the "
        "implementer's model is the ticket's (a helper's, such as an Explore sub-agent's, may "
        "be any); correct the log's model, or map the calls to their ticket and stage "
        "(agents.agent_ids, or sessions: ticket, stage)",
        at,
    )


def _stage_models_agree(phase: Phase, measured: Measured, tid: str) -> None:
    """Each stage of a ticket but its implementation (:func:`_model_agrees`) against the
    models of the calls placed in it, helpers' aside (and the sub-agents a session named with
    the stage spawned, which the log does not map there, where it has calls of its own): a
    stage's ``model``, and a fix stage's read as the ticket's when it names none, or when the
    log records no fix stage beside one measured (a fix on another model makes the ticket's
    success that model's: :func:`~pytest_orchphase.metrics.outcomes.upgraded`)."""
    from pytest_orchphase.usage.attribution import AGENT, MAIN, SPAWNED, UNSURE

    ticket = phase.tickets[tid]
    base = phase.ticket_field(tid)
    logged_stages = ticket.stages()
    placed = {stage for (owner, stage, _) in measured.models_by_role if owner == tid}
    for name in sorted(placed - {"implementation", ""}):
        stage = logged_stages.get(name)
        own = stage.model if stage is not None else None
        logged = own or (ticket.model_used if name == "fix" else None)
        sure = _models(measured, tid, name.__eq__, MAIN, AGENT)
        unsure = _models(measured, tid, name.__eq__, UNSURE)
        if not (sure or unsure):
            sure = _models(measured, tid, name.__eq__, SPAWNED)
        if not logged or not (sure or unsure) or _agrees(logged, sure, unsure):
            continue
        models = sorted({*sure, *unsure})
        said = (
            f"its {name} stage is logged on {logged!r}"
            if own
            else f"its {name} stage records no model, so it is read as on the ticket's {logged!r}"
        )
        raise phase.log_doc.error(
            f"ticket {tid}: {said}, but none of the calls measured there is: they are "
            f"{', '.join(models)}{_others(measured, tid, name, models)}{_unsure_why(unsure)}; "
            "a helper's model (an Explore sub-agent's, a sub-agent of a session named with the "
            "stage that the log does not map there) may be any; correct "
            f"{name}.model, or map the calls to their stage (agents.agent_ids, or sessions: "
            "ticket, stage)",
            (*base, name, "model") if own else (*base, name) if stage is not None else base,
        )


def same_model(model: str, logged: str) -> bool:
    """Whether a call's ``model`` may be the model a log names: of its family, and not of
    another version where both give one (``claude-haiku-4-5-20251001`` is ``haiku`` and
    ``claude-haiku-4-5``, never ``claude-3-5-haiku``)."""
    if family(model) != family(logged):
        return False
    mine, theirs = version(model), version(logged)
    return mine is None or theirs is None or mine == theirs

"""The report's per-ticket sections: each ticket's facts from the log, and the table a lead acts
on (its own tokens and USD, its cap, its items' result, its delta against the compared phase)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import cast

from pytest_orchphase.errors import OrchphaseError
from pytest_orchphase.evaluate.runner import PhaseRunner
from pytest_orchphase.load.models import ErrorRecord
from pytest_orchphase.metrics.bounds import difference
from pytest_orchphase.metrics.outcomes import failures
from pytest_orchphase.metrics.registry import (
    Bound,
    Measurement,
    MetricContext,
    known_measurement,
    known_value,
)
from pytest_orchphase.report.results import CriterionEntry, Entry
from pytest_orchphase.report.shape import ErrorData, TicketFacts, TicketRow
from pytest_orchphase.usage.value import known


def error_data(error: ErrorRecord) -> ErrorData:
    """An error the log records, as the report's data (its fields, checked by a test)."""
    return cast("ErrorData", error.model_dump())


def ticket_facts(ctx: MetricContext) -> dict[str, TicketFacts]:
    """Per ticket: execution model, complexity, review tier and result, where the log records
    its failure, attempts, fix loops, quality (None where the log does not say)."""
    out: dict[str, TicketFacts] = {}
    for ticket_id, ticket in ctx.phase.tickets.items():
        errors = ticket.implementation.errors_encountered if ticket.implementation else []
        out[ticket_id] = {
            "model": ticket.model_used,
            "complexity": ticket.complexity,
            "tier": ticket.review.tier if ticket.review else None,
            "review": ticket.review.result if ticket.review else None,
            "failed": failures(ticket),
            "errors": [error_data(e) for e in errors],
            "attempts": known_value(ctx, "review_attempts", ticket_id),
            "fix_loops": known_value(ctx, "fix_loops", ticket_id),
            "quality": known_value(ctx, "quality_vs_sonnet", ticket_id),
        }
    return out


def _criteria_of(entries: Sequence[Entry], ticket: str) -> list[CriterionEntry]:
    return [e for e in entries if e["kind"] == "criterion" and e["ticket"] == ticket]


def _cap(mine: Sequence[CriterionEntry]) -> tuple[str | None, float | None]:
    """The token cap a ticket's criteria put on it: (operator, limit), or Nones."""
    for e in mine:
        leaf = e["condition"]
        if (
            "conditions" not in leaf
            and leaf["metric"] == "tokens"
            and leaf["unit"] == "tokens"
            and isinstance(leaf["limit"], int | float)
        ):
            return leaf["operator"], float(leaf["limit"])
    return None, None


def _compared(runner: PhaseRunner, versus: str | None) -> MetricContext | None:
    """The compared phase's context, or None when there is none or its files do not load."""
    if versus is None:
        return None
    try:
        return runner.context(versus)
    except OrchphaseError:
        return None


def _figure(ctx: MetricContext | None, ticket: str, measure: str) -> Measurement | None:
    """A ticket's own tokens (or USD) with its bound, as its criteria see it (the ``tokens``
    metric); None where the data cannot give it or the phase did not run the ticket."""
    if ctx is None or ticket not in ctx.phase.tickets:
        return None
    return known_measurement(ctx, "tokens", ticket, measure=measure)


def _delta(theirs: Measurement | None, mine: Measurement | None) -> tuple[float | None, Bound]:
    """theirs − mine, with its bound (a lower bound subtracted makes an upper one)."""
    if theirs is None or mine is None:
        return None, "exact"
    return float(theirs.value) - float(mine.value), difference(theirs.bound, mine.bound)


def ticket_table(
    runner: PhaseRunner, ctx: MetricContext, entries: Sequence[Entry], versus: str | None
) -> list[TicketRow]:
    """Per ticket, what a lead acts on: its own tokens and USD (shared planning excluded), the
    token cap its criteria set, the result of its items, whether its figures were measured or
    estimated, and its delta against the compared phase (``versus``'s tokens − this phase's:
    positive when this phase spent less), where that phase ran the ticket. ``bounds`` names
    the figures that are only bounds ("lower", "upper" or "unknown", as a criterion's
    ``bound``), which the tables mark. A ticket the log records as failed that no item judges
    fails its row as it fails the decision (``unjudged failure: status failed``)."""
    other = _compared(runner, versus)
    unjudged = runner.unjudged_tickets(ctx.phase.name)
    rows: list[TicketRow] = []
    for ticket_id, ticket in ctx.phase.tickets.items():
        usage = known(partial(ctx.ticket_usage, ticket_id))
        mine = _criteria_of(entries, ticket_id)
        failing = [e["name"] for e in mine if not e["passed"]]
        if why := unjudged.get(ticket_id):  # the decision fails on it: so does its row
            failing.append(f"unjudged failure: {', '.join(why)}")
        operator, cap = _cap(mine)
        tokens, usd = _figure(ctx, ticket_id, "total"), _figure(ctx, ticket_id, "usd")
        theirs = _figure(other, ticket_id, "total")
        delta_tokens, delta_tokens_bound = _delta(theirs, tokens)
        delta_usd, delta_usd_bound = _delta(_figure(other, ticket_id, "usd"), usd)
        bounds: dict[str, Bound] = {
            field: bound
            for field, bound in (
                ("tokens", tokens.bound if tokens else "exact"),
                ("usd", usd.bound if usd else "exact"),
                ("delta_tokens", delta_tokens_bound),
                ("delta_usd", delta_usd_bound),
            )
            if bound != "exact"
        }
        rows.append(
            {
                "ticket": ticket_id,
                "model": ticket.model_used,
                "tokens": int(tokens.value) if tokens else None,
                "usd": float(usd.value) if usd else None,
                "origin": usage.origin if usage else None,
                "cap_operator": operator,
                "cap": cap,
                "result": "FAIL" if failing else "no item" if not mine else "PASS",
                "failing": failing,
                "inconclusive": [e["name"] for e in mine if e["outcome"] == "INCONCLUSIVE"],
                "versus": versus if theirs is not None else None,
                "delta_tokens": None if delta_tokens is None else int(delta_tokens),
                "delta_usd": delta_usd,
                "bounds": bounds,
            }
        )
    return rows

"""Which tickets a figure is over: the one a ticket metric is evaluated for, the phase's
tickets as metadata.yaml lists them, or those executed on a model (a family, or a model id), and
why a ticket that records its model imprecisely, or not at all, may be one of them."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from pytest_orchphase.errors import MetricUnavailable
from pytest_orchphase.families import FAMILIES, family, may_be, same_model, snapshot_of

if TYPE_CHECKING:
    from pytest_orchphase.load.models import Ticket
    from pytest_orchphase.metrics.registry import Measurement, MetricContext

# Other fact modules import this one by name: it imports the registry for types only, as the
# registry imports the formula modules (and, through them, the fact modules) at its end.


def ticket_of(ctx: MetricContext, ticket: str | None) -> tuple[str, Ticket]:
    assert ticket is not None, "ticket metrics are evaluated per ticket"
    return ticket, ctx.phase.tickets[ticket]


def display_meta(ctx: MetricContext) -> str:
    from pytest_orchphase.errors import display

    return f"{display(ctx.phase.metadata_doc.path)}: tickets"


def model_matches(model: str | None, wanted: str) -> bool:
    """A filter naming a family matches every id of it; a full id must match exactly, or be a
    snapshot of the model the filter names undated (``claude-3-5-haiku-20241022`` of
    ``claude-3-5-haiku``), or give the family and version (and date, where the filter gives
    one) the filter names the model by (``claude-haiku-4-5-20251001`` of ``Haiku 4.5``)."""
    if model is None:
        return False
    if wanted.lower() in FAMILIES:
        return family(model) == wanted.lower()
    return (
        model.lower() == wanted.lower() or snapshot_of(model, wanted) or same_model(model, wanted)
    )


def unrecorded_model(ticket_id: str, ticket: Ticket, wanted: str | None = None) -> str:
    """Why a ticket may or may not be one executed on a model ("" when that is known): it
    records none, or (``wanted`` a model id) only less precisely than ``wanted`` names it, its
    family (``haiku``) or an alias, which may be that id or another of the family, or a name of
    no known family (``hiaku``, a typo: it may be the model wanted, or another)."""
    used = ticket.model_used
    if used and wanted is not None and may_be(used, wanted):
        return (
            f"ticket {ticket_id} records its model only as {used!r}, not which "
            f"{family(used)} model id"
        )
    if used and wanted is not None and not known_model(used, wanted):
        return (
            f"ticket {ticket_id} records its model as {used!r}, of no known model family "
            f"({', '.join(FAMILIES)})"
        )
    if used:
        return ""
    return (
        f"ticket {ticket_id} records no execution model (execution_model, or the "
        "implementation stage's model)"
    )


def known_model(model: str, wanted: str) -> bool:
    """Whether ``model`` is known to be the model ``wanted`` names, or another: it is, or it is
    of a known family (a name of none, such as a typo, may be any model)."""
    return family(model) in FAMILIES or model_matches(model, wanted)


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

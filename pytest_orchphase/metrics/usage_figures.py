"""Figures of measured usage (tokens, USD): a usage's measure as a measurement, and the
phase's unattributed usage charged to the tickets' (or the shared planning's) figures."""

from __future__ import annotations

from dataclasses import replace

from pytest_orchphase.errors import MetricUnavailable
from pytest_orchphase.metrics.bounds import bound_of, summed
from pytest_orchphase.metrics.registry import (
    Bound,
    Measurement,
    MetricContext,
    Params,
    origin_mark,
    token_unit,
)
from pytest_orchphase.usage.value import Usage


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

"""The proceed decision: may the team go on to the next phase? YES, NO or UNDECIDED, with its
reasons (and whether a measured phase mixes in hand-kept figures).

The other decisions have a module each: model adoption in ``decide/adoption.py``, break-even in
``decide/breakeven.py``, the next phase's strategy in ``decide/strategy.py``.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from pytest_orchphase.metrics.registry import MetricContext, origin_mark
from pytest_orchphase.report.results import Entry, ItemKey, distinct, item_key


@dataclass(frozen=True)
class Proceed:
    next_phase: str
    answer: str  # YES, NO or UNDECIDED
    reasons: list[str]

    @property
    def line(self) -> str:
        text = f"Proceed to phase {self.next_phase}: {self.answer}"
        return f"{text} — {'; '.join(self.reasons)}" if self.reasons else text

    def to_data(self) -> dict[str, Any]:
        return {**asdict(self), "line": self.line}


def proceed(
    next_phase: str,
    entries: Sequence[Entry],
    expected: Collection[ItemKey],
    collection_errors: int,
    other_failures: list[str] | None = None,
    not_finished: Sequence[str] = (),
    other_skipped: Sequence[str] = (),
) -> Proceed:
    """YES when every expected item ran and passed, nothing else in the run failed and every
    ticket of the phase finished; NO on a failure (a criterion, a gate, or any other item of the
    run: a Python check beside the criteria, an item that errored); else UNDECIDED: also while a
    ticket has not finished (``not_finished``, one reason each, see
    :func:`~pytest_orchphase.metrics.open_work.not_finished`), as its figures so far only bound what
    it will use and a ``max`` they meet now may not hold when it ends. So while another item
    of the run (a Python check, or its module) was skipped or xfailed (``other_skipped``): a
    check that did not run, or failed as expected, proves nothing.

    Items are counted, not results: an item run twice (``--keep-duplicates``, ``--dist each``)
    is one item, failed when any of its runs failed, and results of other items never stand in
    for an expected item that did not run."""
    if collection_errors:
        return Proceed(next_phase, "NO", [f"{collection_errors} collection error(s)"])
    items = distinct(entries)
    failing = [e["name"] for e in items if not e["passed"]]
    failing += list(dict.fromkeys(other_failures or []))
    if failing:
        return Proceed(next_phase, "NO", [f"failing: {', '.join(failing)}"])
    wanted = set(expected)
    ran = len(wanted & {item_key(e) for e in items})
    if ran < len(wanted):
        return Proceed(
            next_phase,
            "UNDECIDED",
            [f"only {ran} of {len(wanted)} criteria ran (deselected or skipped)"],
        )
    if not_finished:
        return Proceed(next_phase, "UNDECIDED", list(not_finished))
    if skipped := list(dict.fromkeys(other_skipped)):
        named = ", ".join(skipped)
        why = f"{len(skipped)} other item(s) did not pass (skipped or xfailed): {named}"
        return Proceed(next_phase, "UNDECIDED", [why])
    bypassed = [e["required"] for e in items if e["kind"] == "gate" and e["bypassed"]]
    reasons = [f"gate {', '.join(bypassed)} bypassed with --orchphase-no-gate"] if bypassed else []
    return Proceed(next_phase, "YES", reasons)


def mixed_sources(ctx: MetricContext) -> str | None:
    """In a phase measured from transcripts, the places whose figures come from the log instead
    (an estimate, or a hand-recorded figure): the decision line says the phase mixes them."""
    accounts = ctx.accounts
    if not accounts.measured:
        return None
    places = []
    if accounts.planning is not None and (mark := origin_mark(accounts.planning.origin, True)):
        places.append(f"shared planning ({mark})")
    for ticket in ctx.phase.tickets:
        usage = accounts.ticket(ticket)
        if usage is not None and (mark := origin_mark(usage.origin, True)):
            places.append(f"{ticket} ({mark})")
    if not places:
        return None
    return "mixes measured and hand-kept figures: " + ", ".join(places)

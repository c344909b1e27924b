"""The arithmetic of bounds: whether a figure, or a sum or difference of figures, is exact, a
lower or an upper bound of the true one, or bounded neither way."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pytest_orchphase.metrics.registry import Bound
    from pytest_orchphase.usage.value import Usage

# Other fact modules import this one by name: it imports the registry for types only, as the
# registry imports the formula modules (and, through them, the fact modules) at its end.


def bound_of(usage: Usage | None, measure: str) -> Bound:
    return "lower" if usage is not None and usage.is_lower_bound(measure) else "exact"


def flipped(bound: Bound) -> Bound:
    """The bound of ``c − x`` given the bound of ``x``."""
    return {"lower": "upper", "upper": "lower"}.get(bound, bound)  # type: ignore[return-value]


def summed(bounds: Iterable[Bound]) -> Bound:
    """The bound of a sum (or mean) of figures with these bounds: lower bounds add up to a lower
    bound, upper to an upper; a lower beside an upper bound leaves it bounded neither way."""
    kinds = set(bounds) - {"exact"}
    return "exact" if not kinds else (kinds.pop() if len(kinds) == 1 else "unknown")


def difference(minuend: Bound, subtrahend: Bound) -> Bound:
    """The bound of ``x − y`` given the bounds of ``x`` and ``y``."""
    return summed([minuend, flipped(subtrahend)])

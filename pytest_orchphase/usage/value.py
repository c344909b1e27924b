"""Token usage as one value: four token kinds kept apart, dollars, and where the figures came from.

A hand log only knows one number per stage (``estimated_tokens`` or ``actual_tokens``): that is a
``total`` with the four kinds unknown. Measured usage (transcripts) knows all four and the cost.
Asking an estimate for a kind it does not have is an error, never a silent zero.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal

from pytest_orchphase.errors import MetricUnavailable

Origin = Literal["estimated", "recorded", "measured"]
_STRENGTH: dict[str, int] = {"estimated": 0, "recorded": 1, "measured": 2}
#: Every measure a usage has a figure for.
MEASURES = frozenset(("total", "input", "output", "cache_write", "cache_read", "usd"))


def _add(a: int | None, b: int | None) -> int | None:
    return None if a is None or b is None else a + b


@dataclass(frozen=True)
class Usage:
    total: int
    input: int | None = None
    output: int | None = None
    cache_write: int | None = None
    cache_read: int | None = None
    usd: float | None = None
    origin: Origin = "estimated"
    usd_note: str = ""
    #: The measures whose figure is only a lower bound (the true one may be higher), and why.
    lower_bounds: frozenset[str] = frozenset()
    lower_bound_note: str = ""

    @classmethod
    def estimated(cls, tokens: int) -> Usage:
        return cls(total=tokens, origin="estimated")

    @classmethod
    def recorded(cls, tokens: int) -> Usage:
        return cls(total=tokens, origin="recorded")

    @classmethod
    def measured(
        cls,
        *,
        input: int,
        output: int,
        cache_write: int,
        cache_read: int,
        usd: float | None,
        usd_note: str = "",
        lower_bounds: frozenset[str] = frozenset(),
        lower_bound_note: str = "",
    ) -> Usage:
        return cls(
            total=input + output + cache_write + cache_read,
            input=input,
            output=output,
            cache_write=cache_write,
            cache_read=cache_read,
            usd=usd,
            origin="measured",
            usd_note=usd_note,
            lower_bounds=lower_bounds,
            lower_bound_note=lower_bound_note,
        )

    def __add__(self, other: Usage) -> Usage:
        weaker = self.origin if _STRENGTH[self.origin] <= _STRENGTH[other.origin] else other.origin
        usd = None if self.usd is None or other.usd is None else self.usd + other.usd
        return Usage(
            total=self.total + other.total,
            input=_add(self.input, other.input),
            output=_add(self.output, other.output),
            cache_write=_add(self.cache_write, other.cache_write),
            cache_read=_add(self.cache_read, other.cache_read),
            usd=usd,
            origin=weaker,
            usd_note=self.usd_note or other.usd_note,
            lower_bounds=self.lower_bounds | other.lower_bounds,
            lower_bound_note=self.lower_bound_note or other.lower_bound_note,
        )

    def at_least(self, why: str) -> Usage:
        """The same figures, each only a lower bound of the true one (``why``: the reason,
        added to any reason already given)."""
        note = f"{self.lower_bound_note}; {why}" if self.lower_bound_note else why
        return replace(self, lower_bounds=MEASURES, lower_bound_note=note)

    def is_lower_bound(self, measure: str) -> bool:
        """True when the figure for ``measure`` is only a lower bound of the true one."""
        return measure in self.lower_bounds

    def measure(self, measure: str) -> float:
        """The figure for one measure: total, input, output, cache_write, cache_read or usd."""
        if measure == "total":
            return self.total
        value: float | None = getattr(self, measure)
        if value is None:
            if measure == "usd":
                why = self.usd_note or (
                    f"{self.origin} tokens carry no price (the split into input, output and "
                    "cache tokens is unknown); name the phase's sessions to measure cost"
                )
                raise MetricUnavailable(f"cost in USD is unknown: {why}")
            raise MetricUnavailable(
                f"{measure} tokens are unknown: {self.origin} figures give only a total; "
                "use `measure: total` or name the phase's sessions to measure all four kinds"
            )
        return value


def total_of(parts: list[Usage]) -> Usage | None:
    """Sum of usages, or None when there are none."""
    if not parts:
        return None
    out = parts[0]
    for part in parts[1:]:
        out = out + part
    return out


def known(figure: Callable[[], Usage]) -> Usage | None:
    """A usage the data may not give (a ticket without figures): None instead of an error."""
    try:
        return figure()
    except MetricUnavailable:
        return None

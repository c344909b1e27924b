"""What collection checks and evaluation share: limit parsers, decidable operators, parameters."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pytest_orchphase.load.models import Condition, PhaseRef, ShareOf
from pytest_orchphase.load.quantity import (
    parse_bool,
    parse_minutes,
    parse_number,
    parse_percent,
    parse_quality,
    parse_tokens,
    parse_usd,
    quality_rank,
)
from pytest_orchphase.metrics.registry import MetricContext, Params, Value
from pytest_orchphase.metrics.stats import holds

#: The operators a bounded figure can prove: a lower bound that already reaches a minimum
#: proves it, and nothing else (the true figure may be higher); an upper bound the reverse.
DECIDABLE = {
    "exact": {"max", "below", "min", "above", "equals"},
    "lower": {"min", "above"},
    "upper": {"max", "below"},
    "unknown": set(),
}
PARSERS: dict[str, Callable[[Any], Any]] = {
    "tokens": parse_tokens,
    "percent": parse_percent,
    "minutes": parse_minutes,
    "count": parse_number,
    "quality": parse_quality,
    "bool": parse_bool,
    "usd": parse_usd,
}

Resolver = Callable[[str], MetricContext]


def stretch_looser(operator: str, stretch: Value, limit: Value, unit: str) -> bool:
    """Whether a stretch target is looser than its limit: above it for ``max``/``below``, below
    it for ``min``/``above``. A stretch is at least as strict as its limit (a figure that meets
    it meets the limit too); a looser one would read "stretch met" beside a failure, or a stretch
    met by a figure that barely meets the limit (the plan's two targets typed the other way
    round)."""
    if unit == "quality":
        s, lim = float(quality_rank(str(stretch))), float(quality_rank(str(limit)))
    else:
        s, lim = float(stretch), float(limit)
    if operator in ("max", "below"):
        return not holds(s, "max", lim)
    if operator in ("min", "above"):
        return not holds(s, "min", lim)
    return False


def looser_stretch(operator: str, stretch: str, limit: str) -> str:
    """Why a stretch looser than its limit is refused, naming both as shown."""
    strict = "at most" if operator in ("max", "below") else "at least"
    return (
        f"stretch {stretch} is looser than its limit ({operator} {limit}): a stretch target is "
        f"at least as strict as its limit, {strict} {limit} here (were the two swapped?)"
    )


def whose(ref: PhaseRef) -> str:
    return "this phase's" if ref.phase is None else f"{ref.phase}'s"


def share_params(of: ShareOf) -> Params:
    return Params(measure=of.measure, stage=of.stage, model=of.model, baseline=of.baseline)


def condition_params(node: Condition | PhaseRef) -> Params:
    return Params(
        measure=node.measure,
        stage=node.stage,
        model=node.model,
        baseline=node.baseline,
        versus=getattr(node, "versus", None),
        k=getattr(node, "k", None),
        max_fix_loops=node.max_fix_loops,
    )

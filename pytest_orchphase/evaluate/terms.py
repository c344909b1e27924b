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
)
from pytest_orchphase.metrics.registry import MetricContext, Params

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

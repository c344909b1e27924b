"""How the evaluation writes figures and conditions: operators, bounds, values, metric labels."""

from __future__ import annotations

from pytest_orchphase.load.quantity import fmt_tokens
from pytest_orchphase.metrics.registry import Params, Value

SYMBOL = {"max": "<=", "below": "<", "min": ">=", "above": ">", "equals": "=="}
BROKEN = {"max": ">", "below": ">=", "min": "<", "above": "<=", "equals": "!="}
BOUND_WORDS = {"lower": "at least", "upper": "at most", "unknown": "about"}


def fmt(value: Value | None, unit: str) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if unit == "tokens":
        return fmt_tokens(value)
    if unit == "percent":
        return f"{value:.1f}%"
    if unit == "minutes":
        return f"{value:.1f} min"
    if unit == "usd":
        return f"${value:,.4f}" if abs(value) < 1 else f"${value:,.2f}"
    return fmt_tokens(value)


def metric_label(metric: str, p: Params) -> str:
    """``stage_tokens[review]``, ``tokens (output)``: a metric with its parameters."""
    extra = [v for v in (p.stage, p.model, p.baseline, p.versus) if v]
    extra += [f"k={p.k}"] if p.k is not None else []
    extra += [f"fix_loops<={p.max_fix_loops}"] if p.max_fix_loops is not None else []
    label = metric + (f"[{','.join(extra)}]" if extra else "")
    return f"{label} ({p.measure})" if p.measure and p.measure != "total" else label

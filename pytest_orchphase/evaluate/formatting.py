"""How the evaluation writes figures and conditions: operators, bounds, values, metric labels."""

from __future__ import annotations

from pytest_orchphase.load.quantity import fmt_tokens
from pytest_orchphase.metrics.registry import Params, Value
from pytest_orchphase.metrics.stats import same_figure

SYMBOL = {"max": "<=", "below": "<", "min": ">=", "above": ">", "equals": "=="}
BROKEN = {"max": ">", "below": ">=", "min": "<", "above": "<=", "equals": "!="}
BOUND_WORDS = {"lower": "at least", "upper": "at most", "unknown": "about"}
#: Before a figure that is only a bound, in a table cell (a line says BOUND_WORDS instead).
BOUND_MARKS = {"lower": "≥ ", "upper": "≤ ", "unknown": "about "}


def marked(shown: str, bound: str | None) -> str:
    """A figure as shown, with the mark of its bound (a ``Measurement.bound``) before it when it
    is only a bound: the tables say so as the criterion lines do."""
    return BOUND_MARKS.get(bound or "exact", "") + shown


def fmt(value: Value | None, unit: str, digits: int | None = None) -> str:
    """A figure as the reports show it, rounded to its unit's usual digits (``digits`` after
    the point instead, when given)."""
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if digits is not None:
        shown = f"{value:,.{digits}f}"
        return {"percent": f"{shown}%", "minutes": f"{shown} min", "usd": f"${shown}"}.get(
            unit, shown
        )
    if unit == "tokens":
        return fmt_tokens(value)
    if unit == "percent":
        return f"{value:.1f}%"
    if unit == "minutes":
        return f"{value:.1f} min"
    if unit == "usd":
        return f"${value:,.4f}" if abs(value) < 1 else f"${value:,.2f}"
    return fmt_tokens(value)


def _usual_digits(value: float, unit: str) -> int:
    """The digits after the point :func:`fmt` shows ``value`` with."""
    if unit in ("percent", "minutes"):
        return 1
    if unit == "usd":
        return 4 if abs(value) < 1 else 2
    return 0 if float(value).is_integer() else 1


def fmt_beside(value: Value | None, limit: Value | None, unit: str) -> str:
    """``value`` as :func:`fmt` shows it, with more digits where those would round it to its
    ``limit`` though the two differ (59.9959 % is "59.996%" beside a limit of 60 %, never
    "60.0%"): a figure shown must never seem to meet a limit it fails."""
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (value, limit))
    if not numbers:
        return fmt(value, unit)
    a, b = float(value), float(limit)  # type: ignore[arg-type]  # numbers, checked above
    usual = _usual_digits(a, unit)
    if same_figure(a, b) or round(a, usual) != round(b, usual):
        return fmt(value, unit)
    digits = next((d for d in range(usual + 1, 17) if round(a, d) != round(b, d)), 17)
    return fmt(a, unit, digits)


def metric_label(metric: str, p: Params) -> str:
    """``stage_tokens[review]``, ``tokens (output)``: a metric with its parameters."""
    extra = [v for v in (p.stage, p.model, p.baseline, p.versus) if v]
    extra += [f"k={p.k}"] if p.k is not None else []
    extra += [f"fix_loops<={p.max_fix_loops}"] if p.max_fix_loops is not None else []
    label = metric + (f"[{','.join(extra)}]" if extra else "")
    return f"{label} ({p.measure})" if p.measure and p.measure != "total" else label

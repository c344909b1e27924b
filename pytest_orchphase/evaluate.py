"""Criterion + metrics → verdict. Pure functions over loaded data; nothing is executed from YAML.

``check`` runs at collection: every metric, parameter, baseline, phase reference and limit is
validated against the registry so a typo is a collection error at its line, not a failing item.
``evaluate`` runs per item and returns a :class:`Verdict` whose ``headline`` is the failure line.
"""

from __future__ import annotations

import contextlib
import difflib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pytest_orchphase.errors import OrchphaseError
from pytest_orchphase.metrics import (
    REGISTRY,
    Measurement,
    Metric,
    MetricContext,
    Params,
    Registry,
    Unit,
    Value,
)
from pytest_orchphase.models import BaselineRef, Condition, Criterion, PhaseRef
from pytest_orchphase.quantity import (
    fmt_tokens,
    parse_bool,
    parse_minutes,
    parse_number,
    parse_percent,
    parse_quality,
    parse_tokens,
    parse_usd,
    quality_rank,
)
from pytest_orchphase.usage import MetricUnavailable
from pytest_orchphase.yamlio import Document, FieldPath

SYMBOL = {"max": "<=", "below": "<", "min": ">=", "above": ">", "equals": "=="}
BROKEN = {"max": ">", "below": ">=", "min": "<", "above": "<=", "equals": "!="}
#: The operators a bounded figure can prove: a lower bound that already reaches a minimum
#: proves it, and nothing else (the true figure may be higher); an upper bound the reverse.
DECIDABLE = {
    "exact": {"max", "below", "min", "above", "equals"},
    "lower": {"min", "above"},
    "upper": {"max", "below"},
    "unknown": set(),
}
BOUND_WORDS = {"lower": "at least", "upper": "at most", "unknown": "about"}
PARSERS: dict[str, Callable[[Any], Any]] = {
    "tokens": parse_tokens,
    "percent": parse_percent,
    "minutes": parse_minutes,
    "count": parse_number,
    "quality": parse_quality,
    "bool": parse_bool,
    "usd": parse_usd,
}


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


# --------------------------------------------------------------------------- collection checks

Resolver = Callable[[str], MetricContext]


def _close(word: str, choices: list[str]) -> str:
    match = difflib.get_close_matches(word, choices, n=1, cutoff=0.5)
    return f"; did you mean {match[0]!r}?" if match else ""


def _check_params(
    spec: Metric, node: Condition | PhaseRef, doc: Document, at: FieldPath, baselines: set[str]
) -> None:
    given = {n for n in ("measure", "stage", "model", "baseline") if getattr(node, n) is not None}
    extra = given - spec.params
    if extra:
        name = sorted(extra)[0]
        raise doc.error(
            f"metric {spec.name!r} takes no `{name}`"
            + (f"; it takes {', '.join(sorted(spec.params))}" if spec.params else ""),
            (*at, name),
        )
    missing = spec.required - given
    if missing:
        name = sorted(missing)[0]
        hint = {
            "measure": "one of total, input, output, cache_write, cache_read, usd",
            "stage": "a stage name",
            "model": "a model or family (haiku, sonnet, opus)",
            "baseline": f"one of {', '.join(sorted(baselines)) or '(none defined)'}",
        }[name]
        raise doc.error(f"metric {spec.name!r} needs `{name}:` ({hint})", at)
    if node.baseline is not None and node.baseline not in baselines:
        raise doc.error(
            f"unknown baseline {node.baseline!r}; defined: {', '.join(sorted(baselines)) or 'none'}"
            + _close(node.baseline, sorted(baselines)),
            (*at, "baseline"),
        )


def _lookup(registry: Registry, scope: str, name: str, doc: Document, at: FieldPath) -> Metric:
    spec = registry.get(scope, name)
    if spec is None:
        other = "ticket" if scope == "phase" else "phase"
        names = registry.names(scope)
        hint = (
            f"; {name!r} is a {other} metric ("
            + ("add `for_each: ticket`" if other == "ticket" else "drop `for_each`")
            + ")"
            if registry.get(other, name)
            else _close(name, names)
        )
        raise doc.error(
            f"unknown {scope} metric {name!r}{hint}; {scope} metrics: {', '.join(names)}",
            (*at, "metric"),
        )
    return spec


def check(
    criterion: Criterion,
    index: int,
    doc: Document,
    *,
    baselines: set[str],
    phases: set[str],
    registry: Registry = REGISTRY,
) -> None:
    """Validate one criterion against the registry; raise an error naming its line and field."""
    scope = "ticket" if criterion.for_each == "ticket" else "phase"
    _check_node(criterion, ("criteria", index), doc, scope, baselines, phases, registry)


def _check_node(
    node: Condition,
    at: FieldPath,
    doc: Document,
    scope: str,
    baselines: set[str],
    phases: set[str],
    registry: Registry,
) -> None:
    if node.metric is None:
        key = "all" if node.all_of is not None else "any"
        for i, child in enumerate(node.children):
            _check_node(child, (*at, key, i), doc, scope, baselines, phases, registry)
        return
    spec = _lookup(registry, scope, node.metric, doc, at)
    _check_params(spec, node, doc, at, baselines)
    unit = spec.unit_for(_params(node))
    op = node.operator or ""
    if unit in ("bool",) and op != "equals":
        raise doc.error(f"metric {spec.name!r} is true/false: use `equals:`", (*at, op))
    for key in (op, "stretch"):
        limit = getattr(node, key)
        if limit is None:
            continue
        if isinstance(limit, BaselineRef):
            if limit.baseline not in baselines:
                raise doc.error(
                    f"unknown baseline {limit.baseline!r}; defined: "
                    f"{', '.join(sorted(baselines)) or 'none'}"
                    + _close(limit.baseline, sorted(baselines)),
                    (*at, key, "baseline"),
                )
            if unit not in ("tokens", "usd"):
                raise doc.error(
                    f"a baseline is tokens or USD; metric {spec.name!r} is {unit}", (*at, key)
                )
        elif isinstance(limit, PhaseRef):
            if limit.phase not in phases:
                raise doc.error(
                    f"unknown phase {limit.phase!r}; known phases: {', '.join(sorted(phases))}",
                    (*at, key, "phase"),
                )
            ref = _lookup(registry, "phase", limit.metric, doc, (*at, key))
            _check_params(ref, limit, doc, (*at, key), baselines)
            ref_unit = ref.unit_for(_params(limit))
            if ref_unit != unit:
                raise doc.error(
                    f"{limit.phase}'s {ref.name} is in {ref_unit}; this metric is in {unit}",
                    (*at, key),
                )
            if unit == "tokens" and (limit.measure or "total") != (node.measure or "total"):
                raise doc.error(
                    f"compares {node.measure or 'total'} tokens with {limit.phase}'s "
                    f"{limit.measure or 'total'} tokens; give both the same measure",
                    (*at, key, "measure"),
                )
        else:
            try:
                PARSERS[unit](limit)
            except ValueError as exc:
                raise doc.error(f"limit for {spec.name}: {exc}", (*at, key)) from None


def _params(node: Condition | PhaseRef) -> Params:
    return Params(measure=node.measure, stage=node.stage, model=node.model, baseline=node.baseline)


# --------------------------------------------------------------------------- evaluation


@dataclass
class Verdict:
    passed: bool
    metric: str | None = None
    params: Params = field(default_factory=Params)
    actual: Measurement | None = None
    unit: Unit | str = ""
    operator: str | None = None
    limit: Value | None = None
    limit_note: str = ""
    stretch: Value | None = None
    stretch_met: bool | None = None
    stretch_note: str = ""
    error: str | None = None
    combinator: str | None = None
    children: list[Verdict] = field(default_factory=list)

    @property
    def label(self) -> str:
        if self.metric is None:
            return self.combinator or ""
        extra = [v for v in (self.params.stage, self.params.model, self.params.baseline) if v]
        measure = self.params.measure
        label = self.metric + (f"[{','.join(extra)}]" if extra else "")
        return f"{label} ({measure})" if measure and measure != "total" else label

    def condition_text(self) -> str:
        """``tokens 42,000 > max 40,000 (stretch 35,000)`` (the broken form when failed)."""
        if self.metric is None:
            return self.combinator or ""
        if self.error:
            return f"{self.label}: cannot be evaluated: {self.error}"
        actual = fmt(self.actual.value if self.actual else None, self.unit)
        if self.actual is not None and self.actual.mark:
            actual += f" ({self.actual.mark})"
        bound = self.actual.bound if self.actual else "exact"
        limit = fmt(self.limit, self.unit)
        if bound != "exact":
            actual = f"{BOUND_WORDS[bound]} {actual}"
            if not self.passed:  # undecidable, or not reached by the bound itself
                kind = {"lower": "a lower", "upper": "an upper"}.get(bound, "a one-sided")
                why = (
                    f": {self.actual.bound_note}" if self.actual and self.actual.bound_note else ""
                )
                return (
                    f"{self.label} {actual}: {kind} bound cannot prove {self.operator} {limit}{why}"
                )
        sign = SYMBOL[self.operator or ""] if self.passed else BROKEN[self.operator or ""]
        text = f"{self.label} {actual} {sign} {self.operator} {limit}"
        if self.limit_note:
            text += f" ({self.limit_note})"
        if self.stretch is not None:
            met = "met" if self.stretch_met else "missed"
            text += f" (stretch {fmt(self.stretch, self.unit)} {met})"
        elif self.stretch_note:
            text += f" ({self.stretch_note})"
        return text

    def to_data(self) -> dict[str, Any]:
        """Plain JSON-ready data: a leaf's figures, or a group's combinator and conditions."""
        if self.metric is None:
            return {
                "combinator": self.combinator,
                "passed": self.passed,
                "conditions": [child.to_data() for child in self.children],
            }
        return {
            "metric": self.metric,
            "label": self.label,
            "measure": self.params.measure,
            "stage": self.params.stage,
            "model": self.params.model,
            "baseline": self.params.baseline,
            "unit": self.unit,
            "actual": self.actual.value if self.actual else None,
            "bound": self.actual.bound if self.actual else "exact",
            "operator": self.operator,
            "limit": self.limit,
            "limit_note": self.limit_note,
            "stretch": self.stretch,
            "stretch_met": self.stretch_met,
            "stretch_note": self.stretch_note,
            "passed": self.passed,
            "error": self.error,
            "source": self.actual.source if self.actual else "",
            "note": self.actual.note if self.actual else "",
            "mark": self.actual.mark if self.actual else "",
        }

    def leaves(self) -> list[Verdict]:
        if self.metric is not None:
            return [self]
        return [leaf for child in self.children for leaf in child.leaves()]

    @property
    def source(self) -> str:
        for leaf in self.leaves():
            if leaf.actual is not None:
                return leaf.actual.source
        return ""

    def headline(self) -> str:
        """The one-line reason: the condition (or the failed ones of a group) and its source."""
        if self.metric is not None:
            text = self.condition_text()
        else:
            bad = [c for c in self.leaves() if not c.passed]
            shown = bad if bad else self.leaves()
            word = "all of" if self.combinator == "all" else "one of"
            text = f"{word} {len(self.leaves())} conditions must hold; " + "; ".join(
                c.condition_text() for c in shown
            )
        return f"{text} — {self.source}" if self.source else text

    def details(self, indent: str = "") -> list[str]:
        if self.metric is not None:
            mark = "PASS" if self.passed else "FAIL"
            lines = [f"{indent}{mark}  {self.condition_text()}"]
            if self.actual is not None:
                note = f" ({self.actual.note})" if self.actual.note else ""
                lines.append(f"{indent}      from {self.actual.source}{note}")
            return lines
        mark = "PASS" if self.passed else "FAIL"
        lines = [f"{indent}{mark}  {self.combinator}:"]
        for child in self.children:
            lines.extend(child.details(indent + "  "))
        return lines


def _limit_value(
    limit: Any,
    unit: str,
    ctx: MetricContext,
    measure: str | None,
    resolve: Resolver,
    registry: Registry,
) -> tuple[Value, str]:
    if isinstance(limit, BaselineRef):
        figure = ctx.baseline_figure(limit.baseline, measure or "total")
        if limit.per == "phase":
            return figure * ctx.n, f"baseline {limit.baseline} × {ctx.n} tickets"
        return figure, f"baseline {limit.baseline} per ticket"
    if isinstance(limit, PhaseRef):
        other = resolve(limit.phase)
        spec = registry.get("phase", limit.metric)
        assert spec is not None  # checked at collection
        return spec.fn(other, None, _params(limit)).value, f"{limit.phase}'s {limit.metric}"
    parsed: Value = PARSERS[unit](limit)
    return parsed, ""


def _holds(actual: Value, operator: str, limit: Value, unit: str) -> bool:
    a: float
    b: float
    if unit == "quality":
        a, b = quality_rank(str(actual)), quality_rank(str(limit))
    elif unit == "bool":
        return bool(actual) == bool(limit)
    else:
        a, b = float(actual), float(limit)
    return {
        "max": a <= b,
        "below": a < b,
        "min": a >= b,
        "above": a > b,
        "equals": a == b,
    }[operator]


def evaluate(
    node: Condition,
    ctx: MetricContext,
    ticket: str | None,
    resolve: Resolver,
    registry: Registry = REGISTRY,
) -> Verdict:
    """Evaluate a criterion (or one of its conditions) for the phase or one ticket."""
    if node.metric is None:
        children = [evaluate(c, ctx, ticket, resolve, registry) for c in node.children]
        combinator = "all" if node.all_of is not None else "any"
        ok = (
            all(c.passed for c in children)
            if combinator == "all"
            else any(c.passed for c in children)
        )
        return Verdict(passed=ok, combinator=combinator, children=children)

    scope = "ticket" if ticket is not None else "phase"
    spec = registry.get(scope, node.metric)
    assert spec is not None  # checked at collection
    params = _params(node)
    unit = spec.unit_for(params)
    operator = node.operator or ""
    verdict = Verdict(passed=False, metric=node.metric, params=params, unit=unit, operator=operator)
    # The limit and the actual are found apart: an actual the data cannot give still shows
    # the limit it was held to (and a limit that cannot be found, the actual).
    errors: list[str] = []
    try:
        verdict.actual = spec.fn(ctx, ticket, params)
    except (MetricUnavailable, OrchphaseError) as exc:  # or a referenced phase's data is broken
        errors.append(str(exc))
    try:
        verdict.limit, verdict.limit_note = _limit_value(
            node.limit, unit, ctx, node.measure, resolve, registry
        )
    except (MetricUnavailable, OrchphaseError) as exc:
        errors.append(str(exc))
    if errors or verdict.actual is None or verdict.limit is None:
        verdict.error = errors[0] if errors else "cannot be evaluated"
        verdict.passed = False
        if node.stretch is not None:  # shown beside the limit; neither met nor missed
            with contextlib.suppress(MetricUnavailable, OrchphaseError):
                verdict.stretch, _ = _limit_value(
                    node.stretch, unit, ctx, node.measure, resolve, registry
                )
        return verdict
    verdict.passed = _holds(verdict.actual.value, operator, verdict.limit, unit) and (
        operator in DECIDABLE[verdict.actual.bound]
    )
    if node.stretch is not None:
        # A stretch target is reported, never fails the item: when it cannot be evaluated
        # (a referenced phase without data, say) it is neither met nor missed.
        try:
            verdict.stretch, _ = _limit_value(
                node.stretch, unit, ctx, node.measure, resolve, registry
            )
            verdict.stretch_met = _holds(
                verdict.actual.value, operator, verdict.stretch, unit
            ) and (operator in DECIDABLE[verdict.actual.bound])
        except (MetricUnavailable, OrchphaseError) as exc:
            verdict.stretch_note = f"stretch not evaluated: {exc}"
    return verdict

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

from pytest_orchphase.errors import MetricUnavailable, OrchphaseError
from pytest_orchphase.load.models import BaselineRef, Condition, Criterion, PhaseRef, ShareOf
from pytest_orchphase.load.quantity import (
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
from pytest_orchphase.load.yamlio import Document, FieldPath
from pytest_orchphase.metrics.extensions import CONFTEST_ONLY
from pytest_orchphase.metrics.registry import (
    PARAMS,
    REGISTRY,
    Bound,
    Measurement,
    Metric,
    MetricContext,
    Params,
    Registry,
    Unit,
    Value,
    token_unit,
)
from pytest_orchphase.metrics.stats import (
    DEFAULT_CONFIDENCE,
    HIGH_PASSES,
    Paired,
    Proportion,
    Rule,
    further_needed,
    three_way,
)

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
    spec: Metric,
    node: Condition | PhaseRef | ShareOf,
    doc: Document,
    at: FieldPath,
    baselines: set[str],
) -> None:
    given = {n for n in sorted(PARAMS) if getattr(node, n, None) is not None}
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
            "versus": "the phase to compare with, e.g. a1",
            "k": "the number of attempts, e.g. 2",
            "max_fix_loops": "the fix loops a successful ticket may need, e.g. 1",
        }[name]
        raise doc.error(f"metric {spec.name!r} needs `{name}:` ({hint})", at)
    if node.baseline is not None:
        _check_baseline(node.baseline, baselines, doc, (*at, "baseline"))


def _check_baseline(name: str, baselines: set[str], doc: Document, at: FieldPath) -> None:
    if name not in baselines:
        raise doc.error(
            f"unknown baseline {name!r}; defined: {', '.join(sorted(baselines)) or 'none'}"
            + _close(name, sorted(baselines)),
            at,
        )


def _lookup(registry: Registry, scope: str, name: str, doc: Document, at: FieldPath) -> Metric:
    spec = registry.get(scope, name)
    if spec is None and name in registry.conftest_only:
        raise doc.error(
            f"metric {name!r} is {CONFTEST_ONLY} ({registry.conftest_only[name]}), "
            "which only pytest runs: run this phase through pytest (pytest --phase), or "
            "register the metric from an installed package's orchphase.metrics entry point",
            (*at, "metric"),
        )
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
    if node.versus is not None and node.versus not in phases:
        raise doc.error(
            f"unknown phase {node.versus!r}; known phases: {', '.join(sorted(phases))}",
            (*at, "versus"),
        )
    unit: str = spec.unit_for(_params(node))
    if node.of is not None:
        unit = _check_share(spec, unit, node, node.of, (*at, "of"), doc, scope, baselines, registry)
    op = node.operator or ""
    for key in ("rule", "confidence"):
        if getattr(node, key) is not None and not spec.interval:
            raise doc.error(
                f"`{key}:` applies to a figure with an interval (a rate, a paired delta); "
                f"metric {spec.name!r} has none",
                (*at, key),
            )
    if spec.interval and op == "equals" and node.rule != "point":
        raise doc.error(
            f"metric {spec.name!r} is decided on its interval, which never equals one value: "
            "use min, max, below or above, or `rule: point`",
            (*at, op),
        )
    if unit in ("bool",) and op != "equals":
        raise doc.error(f"metric {spec.name!r} is true/false: use `equals:`", (*at, op))
    for key in (op, "stretch"):
        limit = getattr(node, key)
        if limit is None:
            continue
        if isinstance(limit, BaselineRef):
            _check_baseline(limit.baseline, baselines, doc, (*at, key, "baseline"))
            if unit not in ("tokens", "usd"):
                raise doc.error(
                    f"a baseline is tokens or USD; metric {spec.name!r} is {unit}", (*at, key)
                )
        elif isinstance(limit, PhaseRef):
            if limit.phase is not None and limit.phase not in phases:
                raise doc.error(
                    f"unknown phase {limit.phase!r}; known phases: {', '.join(sorted(phases))}",
                    (*at, key, "phase"),
                )
            ref = _lookup(registry, "phase", limit.metric, doc, (*at, key))
            _check_params(ref, limit, doc, (*at, key), baselines)
            ref_unit = ref.unit_for(_params(limit))
            whose = _whose(limit)
            if ref_unit != unit:
                raise doc.error(
                    f"{whose} {ref.name} is in {ref_unit}; this metric is in {unit}",
                    (*at, key),
                )
            if unit == "tokens" and (limit.measure or "total") != (node.measure or "total"):
                raise doc.error(
                    f"compares {node.measure or 'total'} tokens with {whose} "
                    f"{limit.measure or 'total'} tokens; give both the same measure",
                    (*at, key, "measure"),
                )
        else:
            try:
                PARSERS[unit](limit)
            except ValueError as exc:
                raise doc.error(f"limit for {spec.name}: {exc}", (*at, key)) from None


#: the units a share can be taken of: quantities that add up (never a rate, a grade or a flag)
SHARE_UNITS = ("tokens", "usd", "minutes", "count")


def _check_share(
    spec: Metric,
    unit: str,
    node: Condition,
    of: ShareOf,
    at: FieldPath,
    doc: Document,
    scope: str,
    baselines: set[str],
    registry: Registry,
) -> str:
    """Validate ``of:``; the condition's unit becomes percent (the share)."""
    if unit not in SHARE_UNITS or spec.interval:
        raise doc.error(
            f"`of:` takes a share of a quantity (tokens, USD, minutes, a count); metric "
            f"{spec.name!r} is {'a figure with an interval' if spec.interval else unit}",
            at,
        )
    if of.metric is None:
        assert of.baseline is not None  # the model requires one of them
        _check_baseline(of.baseline, baselines, doc, (*at, "baseline"))
        measure = of.measure or node.measure or "total"
        if measure not in ("total", "usd"):
            raise doc.error(
                f"a baseline is a total per ticket: `measure:` total or usd, not {measure}",
                (*at, "measure"),
            )
        den_unit: str = token_unit(measure)
        what = f"baseline {of.baseline}"
    else:
        ref = _lookup(registry, scope, of.metric, doc, at)
        _check_params(ref, of, doc, at, baselines)
        if ref.interval:
            raise doc.error(
                f"`of:` needs a quantity; metric {ref.name!r} is a figure with an interval", at
            )
        den_unit = ref.unit_for(_share_params(of))
        what = f"{ref.name}"
    if den_unit != unit:
        raise doc.error(
            f"a share compares like with like: {spec.name} is in {unit}, {what} in {den_unit}",
            at,
        )
    return "percent"


def _whose(ref: PhaseRef) -> str:
    return "this phase's" if ref.phase is None else f"{ref.phase}'s"


def _share_params(of: ShareOf) -> Params:
    return Params(measure=of.measure, stage=of.stage, model=of.model, baseline=of.baseline)


def _params(node: Condition | PhaseRef) -> Params:
    return Params(
        measure=node.measure,
        stage=node.stage,
        model=node.model,
        baseline=node.baseline,
        versus=getattr(node, "versus", None),
        k=getattr(node, "k", None),
        max_fix_loops=node.max_fix_loops,
    )


# --------------------------------------------------------------------------- evaluation


def metric_label(metric: str, p: Params) -> str:
    """``stage_tokens[review]``, ``tokens (output)``: a metric with its parameters."""
    extra = [v for v in (p.stage, p.model, p.baseline, p.versus) if v]
    extra += [f"k={p.k}"] if p.k is not None else []
    extra += [f"fix_loops<={p.max_fix_loops}"] if p.max_fix_loops is not None else []
    label = metric + (f"[{','.join(extra)}]" if extra else "")
    return f"{label} ({p.measure})" if p.measure and p.measure != "total" else label


@dataclass(frozen=True)
class Share:
    """A share's two figures: ``numerator / denominator × 100`` is the value compared."""

    label: str  # the denominator's: ``tokens`` or ``baseline old_process × 3 tickets``
    numerator: Measurement
    denominator: Measurement

    def formula(self) -> str:
        unit = self.numerator.unit
        return f"{fmt(self.numerator.value, unit)} / {fmt(self.denominator.value, unit)} × 100"

    def to_data(self) -> dict[str, Any]:
        return {
            "of": self.label,
            "numerator": self.numerator.value,
            "denominator": self.denominator.value,
            "unit": self.numerator.unit,
        }


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
    #: neither passed nor failed: the interval straddles the limit (the item still fails)
    inconclusive: bool = False
    #: for a figure with an interval: the rule used, the level, the interval and its method
    rule: Rule | None = None
    confidence: float | None = None
    interval: tuple[float, float] | None = None
    method: str = ""
    #: further consecutive passing trials (successes for min/above) that would make it pass
    further: int | None = None
    #: a paired comparison: the one-sided sign test's p-value when the interval alone said YES
    sign_p: float | None = None
    #: a share (``of:``): the numerator and the denominator the percentage was computed from
    share: Share | None = None

    @property
    def outcome(self) -> str:
        """PASS, FAIL or INCONCLUSIVE."""
        return "PASS" if self.passed else ("INCONCLUSIVE" if self.inconclusive else "FAIL")

    def interval_text(self) -> str:
        """``1 of 1; 95% Wilson interval 20.7%–100.0%, rule interval`` (empty without one)."""
        if self.interval is None or self.actual is None or self.actual.sample is None:
            return ""
        low, high = self.interval
        return (
            f"{self.actual.sample.describe()}; {self.confidence:g}% {self.method} interval "
            f"{fmt(low, self.unit)}–{fmt(high, self.unit)}, rule {self.rule}"
        )

    def further_text(self) -> str:
        """What would make an interval decision pass: ``8 more consecutive successes (9 of 9)``."""
        sample = self.actual.sample if self.actual else None
        if self.rule != "interval" or self.passed:
            return ""
        if isinstance(sample, Paired):
            if self.sign_p is None:
                return ""
            level = (100 - (self.confidence or DEFAULT_CONFIDENCE)) / 2
            return (
                f"the one-sided sign test gives p = {self.sign_p:.3g} > {level:g}%: "
                f"{self.further} more ticket(s) on the limit's side would pass it"
            )
        if not isinstance(sample, Proportion):
            return ""
        kind = "success" if self.operator in HIGH_PASSES else "failure"
        if self.further is None:
            return f"no number of further {kind}s can pass it on the interval"
        s = sample.successes + (self.further if kind == "success" else 0)
        n = sample.n + self.further
        plural = "es" if kind == "success" and self.further != 1 else ""
        plural = plural or ("s" if self.further != 1 else "")
        return f"{self.further} more consecutive {kind}{plural} would pass it ({s} of {n})"

    @property
    def label(self) -> str:
        if self.metric is None:
            return self.combinator or ""
        label = metric_label(self.metric, self.params)
        return f"{label} / {self.share.label}" if self.share is not None else label

    def condition_text(self) -> str:
        """``tokens 42,000 > max 40,000 (stretch 35,000)`` (the broken form when failed)."""
        if self.metric is None:
            return self.combinator or ""
        if self.error:
            return f"{self.label}: cannot be evaluated: {self.error}"
        actual = fmt(self.actual.value if self.actual else None, self.unit)
        if self.share is not None and self.actual is not None:
            actual = f"= {self.share.formula()} = {actual}"
        if self.actual is not None and self.actual.mark:
            actual += f" ({self.actual.mark})"
        bound = self.actual.bound if self.actual else "exact"
        limit_value = fmt(self.limit, self.unit)
        if bound != "exact":
            actual = f"{BOUND_WORDS[bound]} {actual}"
            if not self.passed:  # undecidable, or not reached by the bound itself
                kind = {"lower": "a lower", "upper": "an upper"}.get(bound, "a one-sided")
                why = (
                    f": {self.actual.bound_note}" if self.actual and self.actual.bound_note else ""
                )
                return (
                    f"{self.label} {actual}: {kind} bound cannot prove "
                    f"{self.operator} {limit_value}{why}"
                )
        limit = f"{self.operator} {limit_value}"
        if self.rule == "interval" and self.interval is not None:
            # the decision is on the interval: say which bound decided, or that it straddles
            low, high = self.interval
            worst, best = (low, high) if self.operator in HIGH_PASSES else (high, low)
            side = "lower" if self.operator in HIGH_PASSES else "upper"
            if self.passed:
                verdict = f"{side} bound {fmt(worst, self.unit)} {SYMBOL[self.operator or '']}"
            elif self.inconclusive and self.sign_p is not None:
                verdict = "INCONCLUSIVE: too few tickets for the sign test, though the interval is"
            elif self.inconclusive:
                verdict = "INCONCLUSIVE: the interval straddles"
            else:
                other = "upper" if side == "lower" else "lower"
                verdict = f"{other} bound {fmt(best, self.unit)} {BROKEN[self.operator or '']}"
            text = f"{self.label} {actual} ({self.interval_text()}): {verdict} {limit}"
            further = self.further_text()
            return f"{text}; {further}" if further else text
        sign = SYMBOL[self.operator or ""] if self.passed else BROKEN[self.operator or ""]
        text = f"{self.label} {actual} {sign} {limit}"
        if self.interval is not None:
            text += f" ({self.interval_text()})"
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
                "outcome": self.outcome,
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
            "outcome": self.outcome,
            "error": self.error,
            "source": self.actual.source if self.actual else "",
            "note": self.actual.note if self.actual else "",
            "mark": self.actual.mark if self.actual else "",
            "rule": self.rule,
            "confidence": self.confidence,
            "interval": list(self.interval) if self.interval is not None else None,
            "interval_method": self.method or None,
            "sample": self.actual.sample.describe()
            if self.actual is not None and self.actual.sample is not None
            else None,
            "further_needed": self.further,
            "sign_test_p": self.sign_p,
            "share": self.share.to_data() if self.share is not None else None,
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
            mark = self.outcome
            lines = [f"{indent}{mark}  {self.condition_text()}"]
            if self.actual is not None:
                note = f" ({self.actual.note})" if self.actual.note else ""
                lines.append(f"{indent}      from {self.actual.source}{note}")
            return lines
        mark = self.outcome
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
        other = ctx if limit.phase is None else resolve(limit.phase)
        spec = registry.get("phase", limit.metric)
        assert spec is not None  # checked at collection
        params = _params(limit)
        return spec.fn(
            other, None, params
        ).value, f"{_whose(limit)} {metric_label(spec.name, params)}"
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


def _decide_on_interval(verdict: Verdict, node: Condition) -> None:
    """A figure with an interval: under ``rule: interval`` (the default) it passes only when the
    whole interval satisfies the limit, fails when none of it does, else is inconclusive. Under
    ``rule: point`` the point estimate decides; the interval is shown either way."""
    sample = verdict.actual.sample if verdict.actual else None
    assert sample is not None
    verdict.rule = node.rule or "interval"
    verdict.confidence = node.confidence or DEFAULT_CONFIDENCE
    verdict.interval = sample.interval(verdict.confidence)
    verdict.method = sample.method
    if verdict.rule == "point":
        return
    operator = verdict.operator or ""
    limit = float(verdict.limit)  # type: ignore[arg-type]  # rates and deltas are numbers
    answer = three_way(*verdict.interval, operator, limit)
    if isinstance(sample, Paired) and answer == "YES":
        agrees, p = sample.sign_agrees(operator, limit, verdict.confidence)
        verdict.sign_p = p
        if not agrees:
            answer = "INCONCLUSIVE"
            verdict.further = sample.further_agreeing(operator, limit, verdict.confidence)
    verdict.passed = answer == "YES"
    verdict.inconclusive = answer == "INCONCLUSIVE"
    if not verdict.passed and isinstance(sample, Proportion):
        verdict.further = further_needed(
            sample.successes, sample.n, operator, limit / 100, verdict.confidence
        )


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
        # three-valued: a group is inconclusive when an inconclusive condition could still
        # decide it (no condition of `all` failed outright; some condition of `any` is open)
        open_ = (
            all(c.passed or c.inconclusive for c in children)
            if combinator == "all"
            else any(c.inconclusive for c in children)
        )
        return Verdict(
            passed=ok, combinator=combinator, children=children, inconclusive=not ok and open_
        )

    scope = "ticket" if ticket is not None else "phase"
    spec = registry.get(scope, node.metric)
    assert spec is not None  # checked at collection
    params = _params(node)
    unit = "percent" if node.of is not None else spec.unit_for(params)
    operator = node.operator or ""
    verdict = Verdict(passed=False, metric=node.metric, params=params, unit=unit, operator=operator)
    # The limit and the actual are found apart: an actual the data cannot give still shows
    # the limit it was held to (and a limit that cannot be found, the actual).
    errors: list[str] = []
    try:
        verdict.actual = spec.fn(ctx, ticket, params)
        if node.of is not None:
            verdict.share = _share(node, node.of, verdict.actual, ctx, ticket, resolve, registry)
            verdict.actual = _share_measurement(verdict.share)
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
    if verdict.actual.sample is not None:
        _decide_on_interval(verdict, node)
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


def _share(
    node: Condition,
    of: ShareOf,
    numerator: Measurement,
    ctx: MetricContext,
    ticket: str | None,
    resolve: Resolver,
    registry: Registry,
) -> Share:
    """The denominator of ``of:`` beside the numerator; MetricUnavailable when it is unknown,
    zero or negative (a share of nothing, or of a loss, has no meaning: never a pass)."""
    if of.metric is None:
        measure = of.measure or node.measure or "total"
        value, label = _limit_value(of.as_limit(), "", ctx, measure, resolve, registry)
        denominator = Measurement(value, numerator.unit, ctx.src())
    else:
        spec = registry.get("ticket" if ticket is not None else "phase", of.metric)
        assert spec is not None  # checked at collection
        share_params = _share_params(of)
        label = metric_label(of.metric, share_params)
        denominator = spec.fn(ctx, ticket, share_params)
    if float(denominator.value) <= 0:
        raise MetricUnavailable(
            f"the share's denominator {label} is {fmt(denominator.value, denominator.unit)}: "
            "a share of zero or of a negative figure has no meaning"
        )
    return Share(label, numerator, denominator)


#: the bound of n / d from the bounds of n and d (d > 0): a larger d makes the share smaller
_SHARE_BOUND: dict[tuple[str, str], Bound] = {
    ("exact", "exact"): "exact",
    ("lower", "exact"): "lower",
    ("upper", "exact"): "upper",
    ("exact", "lower"): "upper",
    ("exact", "upper"): "lower",
    ("lower", "upper"): "lower",
    ("upper", "lower"): "upper",
}


def _share_measurement(share: Share) -> Measurement:
    num, den = share.numerator, share.denominator
    bound = _SHARE_BOUND.get((num.bound, den.bound), "unknown")
    marks = [m for m in (num.mark, den.mark) if m]
    return Measurement(
        round(float(num.value) / float(den.value) * 100, 2),
        "percent",
        num.source,
        note="; ".join(n for n in (num.note, den.note) if n),
        mark=marks[0] if marks else "",
        bound=bound,
        bound_note=num.bound_note or den.bound_note,
    )

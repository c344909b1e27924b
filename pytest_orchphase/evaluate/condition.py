"""Criterion + metrics → verdict: a condition tree evaluated for the phase or one ticket.

Pure functions over loaded data; nothing is executed from YAML.
"""

from __future__ import annotations

import contextlib
from typing import Any, NamedTuple

from pytest_orchphase.errors import MetricUnavailable, OrchphaseError
from pytest_orchphase.evaluate.formatting import fmt, metric_label
from pytest_orchphase.evaluate.terms import (
    DECIDABLE,
    PARSERS,
    Resolver,
    condition_params,
    looser_stretch,
    share_params,
    stretch_looser,
    whose,
)
from pytest_orchphase.evaluate.verdict import Share, Verdict
from pytest_orchphase.load.models import BaselineRef, Condition, PhaseRef, ShareOf
from pytest_orchphase.load.quantity import quality_rank
from pytest_orchphase.metrics.bounds import difference
from pytest_orchphase.metrics.registry import (
    REGISTRY,
    Bound,
    Measurement,
    Metric,
    MetricContext,
    Registry,
    Value,
)
from pytest_orchphase.metrics.stats import (
    DEFAULT_CONFIDENCE,
    Paired,
    Proportion,
    further_needed,
    holds,
    percent,
    three_way,
)


class _Limit(NamedTuple):
    """A limit's figure, what it is (``baseline v2 per ticket``), and its bound when it is
    another metric's figure that is only a bound."""

    value: Value
    label: str
    bound: Bound = "exact"
    bound_note: str = ""


def _limit_value(
    limit: Any,
    unit: str,
    ctx: MetricContext,
    measure: str | None,
    resolve: Resolver,
    registry: Registry,
) -> _Limit:
    if isinstance(limit, BaselineRef):
        figure = ctx.baseline_figure(limit.baseline, measure or "total")
        if limit.per == "phase":
            return _Limit(figure * ctx.n, f"baseline {limit.baseline} × {ctx.n} tickets")
        return _Limit(figure, f"baseline {limit.baseline} per ticket")
    if isinstance(limit, PhaseRef):
        other = ctx if limit.phase is None else resolve(limit.phase)
        spec = registry.get("phase", limit.metric)
        assert spec is not None  # checked at collection
        params = condition_params(limit)
        found = spec.fn(other, None, params)
        label = f"{whose(limit)} {metric_label(spec.name, params)}"
        return _Limit(found.value, label, found.bound, found.bound_note)
    parsed: Value = PARSERS[unit](limit)
    return _Limit(parsed, "")


def _decidable(operator: str, actual: Measurement, limit_bound: Bound) -> bool:
    """Whether the bounds of the figure and of its limit let ``operator`` be proven: the
    comparison is one of ``actual − limit`` with 0, bounded as that difference is (a limit that
    is only a lower bound cannot prove ``min``, nor one only an upper bound ``max``)."""
    return operator in DECIDABLE[difference(actual.bound, limit_bound)]


def _holds(actual: Value, operator: str, limit: Value, unit: str) -> bool:
    a: float
    b: float
    if unit == "quality":
        a, b = quality_rank(str(actual)), quality_rank(str(limit))
    elif unit == "bool":
        return bool(actual) == bool(limit)
    else:
        a, b = float(actual), float(limit)
    return holds(a, operator, b)


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
        return _evaluate_group(node, ctx, ticket, resolve, registry)
    scope = "ticket" if ticket is not None else "phase"
    spec = registry.get(scope, node.metric)
    assert spec is not None  # checked at collection
    params = condition_params(node)
    unit = "percent" if node.of is not None else spec.unit_for(params)
    operator = node.operator or ""
    verdict = Verdict(passed=False, metric=node.metric, params=params, unit=unit, operator=operator)
    errors = _find_figures(verdict, spec, node, ctx, ticket, resolve, registry)
    if errors or verdict.actual is None or verdict.limit is None:
        verdict.error = errors[0] if errors else "cannot be evaluated"
        verdict.passed = False
        if node.stretch is not None:  # shown beside the limit; neither met nor missed
            with contextlib.suppress(MetricUnavailable, OrchphaseError):
                verdict.stretch = _limit_value(
                    node.stretch, unit, ctx, node.measure, resolve, registry
                ).value
        return verdict
    if node.stretch is not None:
        _evaluate_stretch(verdict, verdict.actual, node, ctx, resolve, registry)
        if verdict.error:  # a stretch looser than its limit: the criterion is no target
            return verdict
    decidable = _decidable(operator, verdict.actual, verdict.limit_bound)
    verdict.passed = _holds(verdict.actual.value, operator, verdict.limit, unit) and decidable
    if verdict.actual.sample is not None:
        _decide_on_interval(verdict, node)
        verdict.passed = verdict.passed and decidable  # an interval of a bound proves no more
    return verdict


def _evaluate_group(
    node: Condition,
    ctx: MetricContext,
    ticket: str | None,
    resolve: Resolver,
    registry: Registry,
) -> Verdict:
    """``all:`` or ``any:`` of conditions, each evaluated in turn."""
    children = [evaluate(c, ctx, ticket, resolve, registry) for c in node.children]
    combinator = "all" if node.all_of is not None else "any"
    ok = all(c.passed for c in children) if combinator == "all" else any(c.passed for c in children)
    if any(c.malformed for c in children):  # an alternative that passes hides no wrong condition
        return Verdict(passed=False, combinator=combinator, children=children, malformed=True)
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


def _find_figures(
    verdict: Verdict,
    spec: Metric,
    node: Condition,
    ctx: MetricContext,
    ticket: str | None,
    resolve: Resolver,
    registry: Registry,
) -> list[str]:
    """Set the verdict's actual (or share) and limit; the errors met, in that order.

    The limit and the actual are found apart: an actual the data cannot give still shows
    the limit it was held to (and a limit that cannot be found, the actual)."""
    errors: list[str] = []
    try:
        verdict.actual = spec.fn(ctx, ticket, verdict.params)
        if node.of is not None:
            verdict.share = _share(node, node.of, verdict.actual, ctx, ticket, resolve, registry)
            verdict.actual = _share_measurement(verdict.share)
    except (MetricUnavailable, OrchphaseError) as exc:  # or a referenced phase's data is broken
        errors.append(str(exc))
    try:
        limit = _limit_value(node.limit, str(verdict.unit), ctx, node.measure, resolve, registry)
        verdict.limit, verdict.limit_note = limit.value, limit.label
        verdict.limit_bound, verdict.limit_bound_note = limit.bound, limit.bound_note
    except (MetricUnavailable, OrchphaseError) as exc:
        errors.append(str(exc))
    return errors


def _evaluate_stretch(
    verdict: Verdict,
    actual: Measurement,
    node: Condition,
    ctx: MetricContext,
    resolve: Resolver,
    registry: Registry,
) -> None:
    """A stretch target is reported, never fails the item: when it cannot be evaluated
    (a referenced phase without data, say) it is neither met nor missed. A stretch that comes
    out looser than its limit (a reference, known only now; figures are checked at collection)
    is an error of the criterion: the item fails, naming both, never "stretch met"."""
    unit, operator = str(verdict.unit), verdict.operator or ""
    try:
        stretch = _limit_value(node.stretch, unit, ctx, node.measure, resolve, registry)
        verdict.stretch = stretch.value
        assert verdict.limit is not None  # found before the stretch
        if stretch_looser(operator, stretch.value, verdict.limit, unit):
            shown = [
                fmt(v, unit) + (f" ({label})" if label else "")
                for v, label in (
                    (stretch.value, stretch.label),
                    (verdict.limit, verdict.limit_note),
                )
            ]
            verdict.error = looser_stretch(operator, shown[0], shown[1])
            verdict.passed, verdict.malformed = False, True
            return
        verdict.stretch_met = _holds(actual.value, operator, stretch.value, unit) and (
            _decidable(operator, actual, stretch.bound)
        )
    except (MetricUnavailable, OrchphaseError) as exc:
        verdict.stretch_note = f"stretch not evaluated: {exc}"


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
        value, label, *_ = _limit_value(of.as_limit(), "", ctx, measure, resolve, registry)
        denominator = Measurement(value, numerator.unit, ctx.src())
    else:
        spec = registry.get("ticket" if ticket is not None else "phase", of.metric)
        assert spec is not None  # checked at collection
        of_params = share_params(of)
        label = metric_label(of.metric, of_params)
        denominator = spec.fn(ctx, ticket, of_params)
    if float(denominator.value) <= 0:
        raise MetricUnavailable(
            f"the share's denominator {label} is {fmt(denominator.value, denominator.unit)}: "
            "a share of zero or of a negative figure has no meaning"
        )
    return Share(label, numerator, denominator)


def _share_bound(num: Measurement, den: Measurement) -> Bound:
    """The bound of n / d (d > 0) from the bounds of n and d. The share grows with n; with d it
    shrinks while n is positive and grows while n is negative (a loss over a larger figure is a
    smaller loss): so a denominator's bound turns the share's bound around for a loss. From the
    figures shown, n₀ and d₀: a true n ≥ n₀ that may be positive cannot be said to give a share
    below n₀/d₀ when d may be smaller, and so on: bounds pulling both ways make it unknown."""
    n, d = num.bound, den.bound
    if "unknown" in (n, d):
        return "unknown"
    if d == "exact":
        return n
    sign = float(num.value)
    if n == "exact":
        if sign == 0:
            return "exact"  # nothing over any figure is nothing
        # a larger d: a smaller share of a gain, a larger share of a loss
        smaller = (d == "lower") == (sign > 0)
        return "upper" if smaller else "lower"
    # both bounds: n pulls the share its way; d agrees only on one side of zero
    if n == "lower":
        # n ≥ n₀: with d ≤ d₀ the share only grows while n₀ ≥ 0; with d ≥ d₀ while n₀ ≤ 0
        return (
            "lower" if (d == "upper" and sign >= 0) or (d == "lower" and sign <= 0) else "unknown"
        )
    return "upper" if (d == "lower" and sign >= 0) or (d == "upper" and sign <= 0) else "unknown"


def _share_measurement(share: Share) -> Measurement:
    num, den = share.numerator, share.denominator
    bound = _share_bound(num, den)
    marks = [m for m in (num.mark, den.mark) if m]
    return Measurement(
        percent(float(num.value), float(den.value)),
        "percent",
        num.source,
        note="; ".join(n for n in (num.note, den.note) if n),
        mark=marks[0] if marks else "",
        bound=bound,
        bound_note=num.bound_note or den.bound_note,
    )

"""The verdict of a criterion (or one of its conditions): its figures, and the texts that say why.

``evaluate`` (in :mod:`pytest_orchphase.evaluate.condition`) builds a :class:`Verdict` whose
``headline`` is the failure line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pytest_orchphase.evaluate.formatting import (
    BOUND_WORDS,
    BROKEN,
    SYMBOL,
    fmt,
    fmt_beside,
    metric_label,
)
from pytest_orchphase.metrics.registry import Bound, Measurement, Params, Unit, Value
from pytest_orchphase.metrics.stats import (
    DEFAULT_CONFIDENCE,
    HIGH_PASSES,
    Paired,
    Proportion,
    Rule,
)


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
    #: a limit that is another metric's figure and only a bound of it (``at least`` 40,000)
    limit_bound: Bound = "exact"
    limit_bound_note: str = ""
    stretch: Value | None = None
    stretch_met: bool | None = None
    stretch_note: str = ""
    error: str | None = None
    #: the condition itself is wrong (a stretch looser than its limit, known with the data): no
    #: group holding it may pass, whatever its other conditions say
    malformed: bool = False
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
            f"{fmt_beside(low, self.limit, self.unit)}–{fmt_beside(high, self.limit, self.unit)}, "
            f"rule {self.rule}"
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
        actual = self._actual_text()
        bound = self.actual.bound if self.actual else "exact"
        limit_value = fmt_beside(self.limit, self.actual.value if self.actual else None, self.unit)
        if self.limit_bound != "exact":
            limit_value = f"{BOUND_WORDS[self.limit_bound]} {limit_value}"
        if bound != "exact":
            actual = f"{BOUND_WORDS[bound]} {actual}"
            if not self.passed:  # undecidable, or not reached by the bound itself
                return self._unproven_text(actual, bound, limit_value)
        if self.limit_bound != "exact" and not self.passed:
            return self._unproven_limit_text(actual, limit_value)
        limit = f"{self.operator} {limit_value}"
        if self.rule == "interval" and self.interval is not None:
            text = (
                f"{self.label} {actual} ({self.interval_text()}): {self._interval_word()} {limit}"
            )
            further = self.further_text()
            return f"{text}; {further}" if further else text
        return self._point_text(actual, limit)

    def _actual_text(self) -> str:
        """The figure as compared: ``42,000``, ``= 3,000 / 12,000 × 100 = 25.0%``, with its mark."""
        actual = fmt_beside(self.actual.value if self.actual else None, self.limit, self.unit)
        if self.share is not None and self.actual is not None:
            actual = f"= {self.share.formula()} = {actual}"
        if self.actual is not None and self.actual.mark:
            actual += f" ({self.actual.mark})"
        return actual

    def _unproven_text(self, actual: str, bound: str, limit_value: str) -> str:
        """A bounded figure that cannot prove the limit (a lower bound below a minimum, say)."""
        why = f": {self.actual.bound_note}" if self.actual and self.actual.bound_note else ""
        return (
            f"{self.label} {actual}: {_bound_kind(bound)} cannot prove {self.operator} "
            f"{limit_value}{why}"
        )

    def _unproven_limit_text(self, actual: str, limit_value: str) -> str:
        """A limit that is only a bound, which cannot prove the figure meets it (a ``min``
        against a limit of "at least 40,000": the true limit may be higher)."""
        what = f" ({self.limit_note})" if self.limit_note else ""
        why = f": {self.limit_bound_note}" if self.limit_bound_note else ""
        return (
            f"{self.label} {actual}: the limit {limit_value}{what} is only "
            f"{_bound_kind(self.limit_bound)}, which cannot prove {self.operator}{why}"
        )

    def _interval_word(self) -> str:
        """The decision on the interval: which bound decided, or that it straddles."""
        assert self.interval is not None
        low, high = self.interval
        worst, best = (low, high) if self.operator in HIGH_PASSES else (high, low)
        side = "lower" if self.operator in HIGH_PASSES else "upper"
        if self.passed:
            shown = fmt_beside(worst, self.limit, self.unit)
            return f"{side} bound {shown} {SYMBOL[self.operator or '']}"
        if self.inconclusive and self.sign_p is not None:
            return "INCONCLUSIVE: too few tickets for the sign test, though the interval is"
        if self.inconclusive:
            return "INCONCLUSIVE: the interval straddles"
        other = "upper" if side == "lower" else "lower"
        shown = fmt_beside(best, self.limit, self.unit)
        return f"{other} bound {shown} {BROKEN[self.operator or '']}"

    def _point_text(self, actual: str, limit: str) -> str:
        """The figure itself decided: the sign, then interval, limit note and stretch target."""
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
            "limit_bound": self.limit_bound,
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

    def judged(self) -> frozenset[str]:
        """The tickets whose outcome the verdict judges (``Measurement.judged``): a leaf's
        figure's; all of a group's children's; under ``any`` only those every alternative judges
        (another alternative could pass the item without reading the outcome)."""
        if self.metric is not None:
            return self.actual.judged if self.actual is not None else frozenset()
        each = [child.judged() for child in self.children]
        if not each:
            return frozenset()
        if self.combinator == "any":
            return frozenset.intersection(*each)
        return frozenset().union(*each)

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


def _bound_kind(bound: str) -> str:
    """What a figure that is not exact is, as said beside a limit it cannot prove: "a lower
    bound", "an upper bound", or an estimate bounded neither way ("about" in the figures)."""
    return {"lower": "a lower bound", "upper": "an upper bound"}.get(
        bound, "an estimate, bounded neither way,"
    )

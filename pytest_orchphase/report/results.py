"""One result entry per item, as plain data: the single source of the summary table, JUnit
properties and the JSON report.

Items attach their entry to their test report (``report.orchphase``), which pytest-xdist carries
to the controller unchanged, so every output is the same in a serial and in a distributed run.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal, TypedDict, TypeVar, cast, final

from pytest_orchphase.evaluate.formatting import BOUND_WORDS, fmt, fmt_beside
from pytest_orchphase.evaluate.runner import GATE_COVERS, GateResult
from pytest_orchphase.evaluate.verdict import Verdict
from pytest_orchphase.metrics.registry import Value


@final
class ShareData(TypedDict):
    """A share (``of:``): the figures the compared percentage was computed from."""

    of: str
    numerator: Value | None
    denominator: Value | None
    unit: str


@final
class LeafData(TypedDict):
    """One condition's figures (``Verdict.to_data`` of a leaf)."""

    metric: str
    label: str
    measure: str | None
    stage: str | None
    model: str | None
    baseline: str | None
    unit: str
    actual: Value | None
    bound: str
    operator: str | None
    limit: Value | None
    limit_note: str
    limit_bound: str
    stretch: Value | None
    stretch_met: bool | None
    stretch_note: str
    passed: bool
    outcome: str
    error: str | None
    source: str
    note: str
    mark: str
    rule: str | None
    confidence: float | None
    interval: list[float] | None
    interval_method: str | None
    sample: str | None
    further_needed: int | None
    sign_test_p: float | None
    share: ShareData | None


@final
class GroupData(TypedDict):
    """An ``all``/``any`` group of conditions (``Verdict.to_data`` of a group)."""

    combinator: str | None
    passed: bool
    outcome: str
    conditions: list[ConditionData]


ConditionData = LeafData | GroupData


@final
class LateFailure(TypedDict):
    """The item failed after its entry said it passed (see :func:`failed_late`)."""

    #: "FAIL" when its call failed, "ERROR" when its teardown did
    result: str
    reason: str


class _Ordered(TypedDict, total=False):
    #: the item's collection order: an entry has it while the run collects; the report's lists
    #: are in that order and drop it
    order: int
    #: only when the item failed after this entry said it passed
    late_failure: LateFailure


class CriterionEntry(_Ordered):
    """A criterion item's result; a group's figures are lists, one per leaf."""

    kind: Literal["criterion"]
    phase: str
    name: str
    id: str
    ticket: str | None
    metric: str
    actual: Value | list[Value | None] | None
    bound: str | list[str]
    unit: str | list[str]
    operator: str | None
    limit: Value | list[Value | None] | None
    stretch: Value | list[Value | None] | None
    passed: bool
    outcome: str
    stretch_met: bool | None
    source: str
    error: str | None
    headline: str
    condition: ConditionData
    marks: list[str]


class GateEntry(_Ordered):
    """A phase gate's result: the phase it requires passed (or the gate was bypassed)."""

    kind: Literal["gate"]
    phase: str
    name: str
    id: str
    ticket: str
    required: str
    metric: str
    actual: bool
    unit: str
    operator: str
    limit: bool
    stretch: None
    passed: bool
    bypassed: bool
    stretch_met: None
    source: str
    error: str | None
    failing: list[str]
    covers: str
    headline: str


Entry = CriterionEntry | GateEntry

#: What names one item of a phase: its kind and its name (a gate and a criterion never stand for
#: each other, whatever their names).
ItemKey = tuple[str, str]


def item_key(entry: Entry) -> ItemKey:
    return (entry["kind"], entry["name"])


def distinct(entries: Iterable[Entry]) -> list[Entry]:
    """One entry per item, in the order first seen: an item run more than once (its file named
    twice with ``--keep-duplicates``, every worker of ``-n N --dist each``) is one item, and it
    failed when any of its runs failed (that run's entry stands for it)."""
    kept: dict[ItemKey, Entry] = {}
    for entry in entries:
        key = item_key(entry)
        if key not in kept or (kept[key]["passed"] and not entry["passed"]):
            kept[key] = entry
    return list(kept.values())


def failed_late(entry: Entry, when: str, reason: str) -> Entry:
    """The entry of an item that failed after its entry said it passed (a bypassed gate's
    warning made an error by ``-W error``; a hook or fixture of the project failing in the
    item's call, or in its teardown): failed, as the decision counts it, so that its row says
    FAIL (ERROR for a teardown) in every report, and its headline says why."""
    result = "FAIL" if when == "call" else "ERROR"
    what = "its call failed" if when == "call" else "its teardown errored"
    out = cast("dict[str, object]", dict(entry))
    out["passed"] = False
    out["headline"] = f"{entry['headline']} — then {what}: {reason}"
    out["late_failure"] = LateFailure(result=result, reason=reason)
    if entry["kind"] == "criterion":
        out["outcome"] = result
    return cast(Entry, out)


class SummaryRow(TypedDict):
    """An entry as the strings of the summary table and the JUnit properties."""

    phase: str
    criterion: str
    ticket: str
    metric: str
    actual: str
    operator: str
    limit: str
    stretch: str
    stretch_met: str
    result: str
    source: str


T = TypeVar("T")


def _leaves(condition: ConditionData) -> list[LeafData]:
    if "conditions" in condition:
        return [leaf for child in condition["conditions"] for leaf in _leaves(child)]
    return [condition]


def _one_or_all(values: list[T], single: bool) -> T | list[T]:
    """A leaf's figure as itself; a group's as the list of its leaves' figures."""
    return values[0] if single else values


def criterion_entry(
    *, phase: str, name: str, order: int, criterion: str, ticket: str | None, verdict: Verdict
) -> CriterionEntry:
    # the verdict's own JSON; tests check that its keys are those of ConditionData
    condition = cast("ConditionData", verdict.to_data())
    leaves = _leaves(condition)
    single = "conditions" not in condition
    if "conditions" in condition:
        labels = ", ".join(leaf["label"] for leaf in leaves)
        metric, operator = f"{condition['combinator']}({labels})", condition["combinator"]
    else:
        metric, operator = condition["label"], condition["operator"]
    # a stretch that was not evaluated (its item could not be) is neither met nor missed
    stretches = [leaf["stretch_met"] for leaf in leaves if leaf["stretch_met"] is not None]
    return {
        "kind": "criterion",
        "phase": phase,
        "name": name,
        "order": order,
        "id": criterion,
        "ticket": ticket,
        "metric": metric,
        "actual": _one_or_all([leaf["actual"] for leaf in leaves], single),
        "bound": _one_or_all([leaf["bound"] for leaf in leaves], single),
        "unit": _one_or_all([leaf["unit"] for leaf in leaves], single),
        "operator": operator,
        "limit": _one_or_all([leaf["limit"] for leaf in leaves], single),
        "stretch": _one_or_all([leaf["stretch"] for leaf in leaves], single),
        "passed": verdict.passed,
        "outcome": verdict.outcome,
        "stretch_met": all(stretches) if stretches else None,
        "source": verdict.source,
        "error": next((leaf["error"] for leaf in leaves if leaf["error"]), None),
        "headline": f"{name}: {verdict.headline()}",
        "condition": condition,
        # a figure taken from an estimate (or, in a measured phase, from the log) says so
        "marks": sorted({leaf["mark"] for leaf in leaves if leaf["mark"]}),
    }


def gate_entry(
    *, phase: str, name: str, order: int, required: str, result: GateResult, bypassed: bool
) -> GateEntry:
    return {
        "kind": "gate",
        "phase": phase,
        "name": name,
        "order": order,
        "id": "phase-gate",
        "ticket": required,
        "required": required,
        "metric": f"phase {required} passed",
        "actual": result.passed,
        "unit": "bool",
        "operator": "equals",
        "limit": True,
        "stretch": None,
        "passed": result.passed or bypassed,
        "bypassed": bypassed and not result.passed,
        "stretch_met": None,
        "source": result.describe(),
        "error": result.error,
        "failing": result.failing,
        "covers": GATE_COVERS,
        "headline": f"{name}: {result.describe()}",
    }


def _figure(value: Value | None, unit: str) -> str:
    return fmt(value, unit) if unit else str(value)


def _actual(leaf: LeafData) -> str:
    """A leaf's figure as the summary shows it: n/a when it could not be evaluated; a bound,
    the estimate it came from, or the interval it was decided on, said beside it."""
    if leaf["error"]:
        return "n/a"
    bound, mark, unit = leaf["bound"], leaf["mark"], leaf["unit"]
    if mark or bound != "exact":
        text = fmt_beside(leaf["actual"], leaf["limit"], unit)
        if bound != "exact":
            text = f"{BOUND_WORDS[bound]} {text}"
        return f"{text} ({mark})" if mark else text
    if leaf["interval"] is not None:
        # a figure with an interval shows it, its level and the rule that decided
        low, high = (fmt_beside(v, leaf["limit"], unit) for v in leaf["interval"])
        return (
            f"{fmt_beside(leaf['actual'], leaf['limit'], unit)} ({leaf['sample']}; "
            f"{leaf['confidence']:g}% CI {low}–{high}, rule {leaf['rule']})"
        )
    return fmt_beside(leaf["actual"], leaf["limit"], unit) if unit else str(leaf["actual"])


def _limit(leaf: LeafData) -> str:
    """A leaf's limit beside its figure (each with the digits that tell them apart)."""
    unit = leaf["unit"]
    text = fmt_beside(leaf["limit"], leaf["actual"], unit) if unit else str(leaf["limit"])
    bound = leaf.get("limit_bound", "exact")
    return text if bound == "exact" else f"{BOUND_WORDS[bound]} {text}"


def _result(entry: Entry) -> str:
    late = entry.get("late_failure")
    if late is not None:
        return "failed" if late["result"] == "FAIL" else "error"
    if entry["kind"] == "gate":
        return "bypassed" if entry["bypassed"] else ("passed" if entry["passed"] else "failed")
    if entry["outcome"] == "INCONCLUSIVE":
        return "inconclusive"
    return "passed" if entry["passed"] else "failed"


def row(entry: Entry) -> SummaryRow:
    """The entry as the strings of the summary table and the JUnit properties: a gate's figure
    says yes or no; a group's figures are its leaves' joined by ``&`` (all) or ``|`` (any)."""
    if entry["kind"] == "gate":
        metric, operator, limit, stretch = entry["metric"], "equals", "yes", ""
        actual = "n/a" if entry["error"] else ("yes" if entry["actual"] else "no")
    else:
        leaves = _leaves(entry["condition"])
        joiner = " | " if entry["operator"] == "any" else " & "
        metric = joiner.join(leaf["label"] for leaf in leaves)
        actual = joiner.join(_actual(leaf) for leaf in leaves)
        operator = joiner.join(leaf["operator"] or "" for leaf in leaves)
        limit = joiner.join(_limit(leaf) for leaf in leaves)
        stretch = joiner.join(
            _figure(leaf["stretch"], leaf["unit"]) for leaf in leaves if leaf["stretch"] is not None
        )
    met = entry["stretch_met"]
    return {
        "phase": entry["phase"],
        "criterion": entry["id"],
        "ticket": entry["ticket"] or "",
        "metric": metric,
        "actual": actual,
        "operator": operator,
        "limit": limit,
        "stretch": stretch,
        "stretch_met": "" if met is None else str(met).lower(),
        "result": _result(entry),
        "source": entry["source"],
    }


SUMMARY_HEADERS = (
    "criterion",
    "ticket",
    "metric",
    "actual",
    "operator",
    "limit",
    "stretch",
    "result",
)
RESULT_WORDS = {
    "passed": "PASS",
    "failed": "FAIL",
    "bypassed": "BYPASSED",
    "inconclusive": "INCONCLUSIVE",
    "error": "ERROR",
}


def result_text(r: SummaryRow) -> str:
    """PASS, FAIL, INCONCLUSIVE, BYPASSED or ERROR; a passed item with a stretch says whether
    it was met."""
    text = RESULT_WORDS.get(r["result"], r["result"].upper())
    if r["result"] == "passed" and r["stretch_met"] in ("true", "false"):
        text += " (stretch met)" if r["stretch_met"] == "true" else " (stretch missed)"
    return text


def summary_cells(entry: Entry) -> list[str]:
    """One row of the results table (terminal and markdown)."""
    r = row(entry)
    return [
        r["criterion"],
        r["ticket"],
        r["metric"],
        r["actual"],
        r["operator"],
        r["limit"],
        r["stretch"],
        result_text(r),
    ]

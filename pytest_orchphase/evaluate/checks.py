"""Collection checks: every metric, parameter, baseline, phase reference and limit of a criterion
is validated against the registry, so a typo is a collection error at its line, not a failing item.
Nothing is executed from YAML."""

from __future__ import annotations

import difflib

from pytest_orchphase.evaluate.terms import (
    PARSERS,
    condition_params,
    looser_stretch,
    share_params,
    stretch_looser,
    whose,
)
from pytest_orchphase.load.models import BaselineRef, Condition, Criterion, PhaseRef, ShareOf
from pytest_orchphase.load.yamlio import Document, FieldPath
from pytest_orchphase.metrics.extensions import CONFTEST_ONLY
from pytest_orchphase.metrics.registry import (
    PARAMS,
    REGISTRY,
    Metric,
    Registry,
    token_unit,
)


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
    this: str | None = None,
) -> None:
    """Validate one criterion against the registry; raise an error naming its line and field.
    ``this``: the phase the criterion is of, which it cannot be compared with."""
    scope = "ticket" if criterion.for_each == "ticket" else "phase"
    _check_node(criterion, ("criteria", index), doc, scope, baselines, phases, registry)
    if this is not None:
        _refuse_itself(criterion, ("criteria", index), doc, this, scope == "ticket", registry)


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
    if node.versus is not None:
        _check_phase(node.versus, phases, doc, (*at, "versus"))
    unit: str = spec.unit_for(condition_params(node))
    if node.of is not None:
        unit = _check_share(spec, unit, node, node.of, (*at, "of"), doc, scope, baselines, registry)
    _check_operator(spec, unit, node, at, doc)
    for key in (node.operator or "", "stretch"):
        limit = getattr(node, key)
        if limit is not None:
            _check_limit(spec, unit, node, limit, (*at, key), doc, baselines, phases, registry)
    _check_stretch(node, unit, at, doc)


def _check_stretch(node: Condition, unit: str, at: FieldPath, doc: Document) -> None:
    """A stretch given as a figure, beside a limit given as one, is at least as strict as the
    limit (see :func:`~pytest_orchphase.evaluate.terms.stretch_looser`). A reference (a
    baseline, a phase's metric) on either side is only known with the data: the item checks it
    then."""
    op, limit, stretch = node.operator or "", node.limit, node.stretch
    if stretch is None or isinstance(limit, BaselineRef | PhaseRef):
        return
    if isinstance(stretch, BaselineRef | PhaseRef):
        return
    parse = PARSERS[unit]
    if stretch_looser(op, parse(stretch), parse(limit), unit):
        raise doc.error(looser_stretch(op, str(stretch), str(limit)), (*at, "stretch"))


def _check_phase(name: str, phases: set[str], doc: Document, at: FieldPath) -> None:
    if name not in phases:
        raise doc.error(f"unknown phase {name!r}; known phases: {', '.join(sorted(phases))}", at)


def _refuse_itself(
    node: Condition, at: FieldPath, doc: Document, this: str, per_ticket: bool, registry: Registry
) -> None:
    """A criterion of phase ``this`` that compares it with itself, under ``all:``/``any:`` too:
    a paired comparison ``versus`` itself (every delta 0: a ``min: 0`` passes on nothing), a
    share ``of:`` the same figure (always 100 %), a figure of the phase bounded by the same
    figure of the same phase (``tokens`` with ``max: {metric: tokens}``: always equal), or a
    part of it bounded by the phase's figure that holds every part's
    (:attr:`~pytest_orchphase.metrics.registry.Metric.parts`): ``per_ticket`` (a ticket's
    tokens with ``max: {metric: tokens}``), or of the tickets on one model (``max_fix_loops``
    of ``model: haiku`` with ``max: {metric: max_fix_loops}``). Such a bound never fails."""
    if node.metric is None:
        key = "all" if node.all_of is not None else "any"
        for i, child in enumerate(node.children):
            _refuse_itself(child, (*at, key, i), doc, this, per_ticket, registry)
        return
    if node.versus == this:
        raise doc.error(
            f"compares phase {this} with itself: every paired delta is 0, so the criterion "
            "would pass on nothing; name another phase",
            (*at, "versus"),
        )
    share = node.of
    if share is not None and share.metric == node.metric and _figure(share) == _figure(node):
        raise doc.error(
            f"a share of itself: {node.metric} of the same {node.metric} is always 100 %, so "
            "the criterion would pass (or fail) on nothing; name another figure",
            (*at, "of"),
        )
    for key in (node.operator or "", "stretch"):
        limit = getattr(node, key, None)
        if not isinstance(limit, PhaseRef) or limit.phase not in (None, this):
            continue
        if limit.max_fix_loops != node.max_fix_loops:
            continue
        if not per_ticket and limit.metric == node.metric and _figure(limit) == _figure(node):
            raise doc.error(
                f"compares phase {this}'s {node.metric} with itself: always equal, so the "
                "criterion would pass on nothing; name another phase or another figure",
                (*at, key),
            )
        if part := _part_of(node, limit, per_ticket, registry):
            raise doc.error(
                f"bounds a part of phase {this} by its whole: {part} {node.metric} is never "
                f"above the phase's {limit.metric}, so the criterion would decide nothing; "
                "bound it by another phase's figure, another figure, or a number",
                (*at, key),
            )


def _part_of(node: Condition, limit: PhaseRef, per_ticket: bool, registry: Registry) -> str:
    """What part of the phase ``node`` is, when ``limit`` is this phase's figure that holds it
    (see :func:`_refuse_itself`): its metric is one of the whole's
    :attr:`~pytest_orchphase.metrics.registry.Metric.parts`, in the same measure, and every
    parameter the limit gives (stage, model, baseline) it gives alike; it may narrow the rest (a
    stage of the phase's tokens, the tickets on one model). "" when it is not such a part."""
    whole = registry.get("phase", limit.metric)
    if whole is None or node.metric not in whole.parts:
        return ""
    mine, theirs = _figure(node), _figure(limit)
    if mine[0] != theirs[0] or any(
        t is not None and t != m for m, t in zip(mine, theirs, strict=True)
    ):
        return ""
    if per_ticket:
        return "a ticket's"
    if node.model is not None and limit.model is None:
        return f"the {node.model} tickets'"
    if node.stage is not None and limit.stage is None:
        return f"the {node.stage} stage's"
    return "its"


def _figure(node: Condition | PhaseRef | ShareOf) -> tuple[str | None, ...]:
    """The parameters that name a metric's figure (measure, stage, model, baseline): no
    ``measure`` is ``total``."""
    return (node.measure or "total", node.stage, node.model, node.baseline)


def _check_operator(spec: Metric, unit: str, node: Condition, at: FieldPath, doc: Document) -> None:
    """The operator and the interval keys suit the metric: ``rule:``/``confidence:`` only on a
    figure with an interval, never ``equals`` on an interval, only ``equals`` on a flag."""
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


def _check_limit(
    spec: Metric,
    unit: str,
    node: Condition,
    limit: object,
    at: FieldPath,
    doc: Document,
    baselines: set[str],
    phases: set[str],
    registry: Registry,
) -> None:
    """One limit (the operator's or ``stretch``): a baseline, another metric, or a quantity."""
    if isinstance(limit, BaselineRef):
        _check_baseline(limit.baseline, baselines, doc, (*at, "baseline"))
        if unit not in ("tokens", "usd"):
            raise doc.error(f"a baseline is tokens or USD; metric {spec.name!r} is {unit}", at)
    elif isinstance(limit, PhaseRef):  # this phase's metric or another phase's
        if limit.phase is not None:
            _check_phase(limit.phase, phases, doc, (*at, "phase"))
        ref = _lookup(registry, "phase", limit.metric, doc, at)
        _check_params(ref, limit, doc, at, baselines)
        ref_unit = ref.unit_for(condition_params(limit))
        owner = whose(limit)
        if ref_unit != unit:
            raise doc.error(f"{owner} {ref.name} is in {ref_unit}; this metric is in {unit}", at)
        if unit == "tokens" and (limit.measure or "total") != (node.measure or "total"):
            raise doc.error(
                f"compares {node.measure or 'total'} tokens with {owner} "
                f"{limit.measure or 'total'} tokens; give both the same measure",
                (*at, "measure"),
            )
    else:
        try:
            PARSERS[unit](limit)
        except ValueError as exc:
            raise doc.error(f"limit for {spec.name}: {exc}", at) from None


def _check_share_per(
    spec: Metric, of: ShareOf, at: FieldPath, doc: Document, *, per_ticket: bool
) -> None:
    """A share of a baseline's cost is over the cost of what the figure is of: one ticket's
    (``of: {baseline: NAME}``, the default) for a ticket's figure or a mean per ticket, the
    phase's tickets' (``per: phase``) for a figure of the whole phase. The other way round the
    share is as many times too large (or too small) as the phase has tickets: a phase's delta
    of 240,000 against one ticket's 121,000 reads 198 %."""
    per = of.per or "ticket"
    if per_ticket and per == "phase":
        raise doc.error(
            f"{spec.name} is a figure of one ticket, over the baseline's cost of the phase's "
            "tickets it would be a share as many times too small as the phase has tickets: "
            "drop `per: phase` (the baseline's cost per ticket)",
            (*at, "per"),
        )
    if not per_ticket and per == "ticket":
        raise doc.error(
            f"{spec.name} is a figure of the whole phase, over the baseline's cost of one ticket "
            "it would be a share as many times too large as the phase has tickets: write "
            f"`per: phase` (of: {{baseline: {of.baseline}, per: phase}})",
            (*at, "per") if of.per is not None else at,
        )


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
        _check_share_per(spec, of, at, doc, per_ticket=scope == "ticket" or spec.per_ticket)
    else:
        ref = _lookup(registry, scope, of.metric, doc, at)
        _check_params(ref, of, doc, at, baselines)
        if ref.interval:
            raise doc.error(
                f"`of:` needs a quantity; metric {ref.name!r} is a figure with an interval", at
            )
        den_unit = ref.unit_for(share_params(of))
        what = f"{ref.name}"
    if den_unit != unit:
        raise doc.error(
            f"a share compares like with like: {spec.name} is in {unit}, {what} in {den_unit}",
            at,
        )
    return "percent"

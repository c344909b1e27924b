"""The cross-phase table: one column per phase that has data, the rows a team compares."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pytest_orchphase.decide.adoption import adoption, plan_rule
from pytest_orchphase.errors import OrchphaseError
from pytest_orchphase.evaluate.formatting import fmt, marked
from pytest_orchphase.evaluate.runner import PhaseRunner
from pytest_orchphase.families import FAMILIES, family
from pytest_orchphase.metrics.outcomes import succeeded
from pytest_orchphase.metrics.registry import (
    DEFAULT_SUCCESS_LOOPS,
    REGISTRY,
    MetricContext,
    Params,
    known_measurement,
)
from pytest_orchphase.usage.value import known

ROWS = (
    "tickets",
    "execution models",
    "total tokens",
    "per-ticket tokens",
    "USD",
    "fix loops",
    "quality vs sonnet",
    "reviews passed",
)


@dataclass
class Comparison:
    phases: list[str]
    rows: list[list[str]]  # first cell: the row's label

    @property
    def headers(self) -> list[str]:
        return ["metric", *self.phases]


def _value(ctx: MetricContext, name: str, **params: Any) -> str:
    found = known_measurement(ctx, name, **params)
    spec = REGISTRY.get("phase", name)
    assert spec is not None
    if found is None:
        return "n/a"
    unit = spec.unit_for(Params(measure=params.get("measure")))
    return marked(fmt(found.value, unit), found.bound)


def _column(runner: PhaseRunner, name: str) -> dict[str, str]:
    ctx = runner.context(name)
    tickets = ctx.phase.tickets
    usage = known(ctx.phase_usage)
    usd = usage.usd if usage else None
    # as review_passed says it: a PASS on a ticket the log records as failed did not hold
    reviews = [t for t in tickets if (m := known_measurement(ctx, "review_passed", t)) and m.value]
    col = {
        "tickets": f"{len(tickets)} ({', '.join(tickets)})",
        "execution models": ", ".join(f"{t} {tk.model_used or '?'}" for t, tk in tickets.items()),
        "total tokens": _value(ctx, "tokens", measure="total"),
        "per-ticket tokens": _value(ctx, "per_ticket_average", measure="total"),
        # the metric's figure, with every bound it carries (not only the usage's own)
        "USD": "unknown" if usd is None else _value(ctx, "tokens", measure="usd"),
        "fix loops": _value(ctx, "fix_loops"),
        "quality vs sonnet": _value(ctx, "quality_vs_sonnet"),
        "reviews passed": f"{len(reviews)} of {len(tickets)}",
    }
    # savings against the approaches the project defines; a part of a cost (compare: false,
    # such as separate planning) is no approach to save against
    for base, spec in ctx.phase.baselines.items():
        if spec.compare:
            col[f"savings vs {base}"] = _value(ctx, "savings", baseline=base, measure="total")
    # a success on the plan's own rule (the phase's adoption decision, else the latest one of
    # the phases it requires; the defaults only when the plan writes none)
    rule = plan_rule(runner, name)
    for fam in FAMILIES:
        used = [t for t in tickets.values() if family(t.model_used) == fam]
        if used:
            outcomes = [succeeded(t, rule.max_fix_loops) for t in used]
            ok = outcomes.count(True)
            loops = rule.max_fix_loops
            own = f", fix loops <= {loops}" if loops != DEFAULT_SUCCESS_LOOPS else ""
            if unknown := outcomes.count(None):  # not finished, no review verdict, no fix loops
                own += f", {unknown} unknown"
            col[f"success rate {fam}"] = (
                f"{_value(ctx, 'success_rate', model=fam, max_fix_loops=loops)} "
                f"({ok} of {len(used)}{own})"
            )
    decided = adoption(runner, name, rule)
    if decided is not None:
        col[f"recommended for {rule.complexity}"] = (
            f"{decided.recommended} ({decided.answer.lower()})"
        )
    return col


def comparison(
    runner: PhaseRunner,
    phases: list[str] | None = None,
    on_error: Callable[[str, OrchphaseError], None] | None = None,
) -> Comparison:
    """Columns for ``phases`` (default: every known phase whose data loads), in the plan's
    order (each phase after the phases it requires, ties by name)."""
    names = runner.in_plan_order(phases)
    columns: dict[str, dict[str, str]] = {}
    for name in names:
        try:
            columns[name] = _column(runner, name)
        except OrchphaseError as exc:
            if on_error is not None:
                on_error(name, exc)
    extra = {k for col in columns.values() for k in col if k not in ROWS}
    labels = [
        *ROWS,
        *sorted(k for k in extra if k.startswith("savings")),
        *sorted(k for k in extra if k.startswith("success")),
        *sorted(k for k in extra if not k.startswith(("savings", "success"))),
    ]
    rows = [[label, *(columns[p].get(label, "") for p in columns)] for label in labels]
    return Comparison(phases=list(columns), rows=rows)

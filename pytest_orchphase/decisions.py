"""The decisions a team takes after a phase: proceed, adopt a cheaper model, batch size.

Plain functions over phases and result entries; every answer carries its reasons and figures.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from pytest_orchphase.errors import OrchphaseError
from pytest_orchphase.metrics import MetricContext, model_matches, origin_mark, succeeded
from pytest_orchphase.models import AdoptModel
from pytest_orchphase.runner import PhaseRunner
from pytest_orchphase.usage import MetricUnavailable

Z95 = 1.959963984540054


@dataclass(frozen=True)
class Proceed:
    next_phase: str
    answer: str  # YES, NO or UNDECIDED
    reasons: list[str]

    @property
    def line(self) -> str:
        text = f"Proceed to phase {self.next_phase}: {self.answer}"
        return f"{text} — {'; '.join(self.reasons)}" if self.reasons else text

    def to_data(self) -> dict[str, Any]:
        return {**asdict(self), "line": self.line}


def proceed(
    next_phase: str,
    entries: list[dict[str, Any]],
    expected: int,
    collection_errors: int,
    other_failures: list[str] | None = None,
) -> Proceed:
    """YES when every expected item ran and passed and nothing else in the run failed; NO on a
    failure (a criterion, a gate, or any other item of the run: a Python check beside the
    criteria, an item that errored); else UNDECIDED."""
    if collection_errors:
        return Proceed(next_phase, "NO", [f"{collection_errors} collection error(s)"])
    failing = [e["name"] for e in entries if not e["passed"]] + list(other_failures or [])
    if failing:
        return Proceed(next_phase, "NO", [f"failing: {', '.join(failing)}"])
    if len(entries) < expected:
        return Proceed(
            next_phase,
            "UNDECIDED",
            [f"only {len(entries)} of {expected} criteria ran (deselected or skipped)"],
        )
    bypassed = [e["required"] for e in entries if e.get("bypassed")]
    reasons = [f"gate {', '.join(bypassed)} bypassed with --orchphase-no-gate"] if bypassed else []
    return Proceed(next_phase, "YES", reasons)


def mixed_sources(ctx: MetricContext) -> str | None:
    """In a phase measured from transcripts, the places whose figures come from the log instead
    (an estimate, or a hand-recorded figure): the decision line says the phase mixes them."""
    accounts = ctx.accounts
    if not accounts.measured:
        return None
    places = []
    if accounts.planning is not None and (mark := origin_mark(accounts.planning.origin, True)):
        places.append(f"shared planning ({mark})")
    for ticket in ctx.phase.tickets:
        usage = accounts.ticket(ticket)
        if usage is not None and (mark := origin_mark(usage.origin, True)):
            places.append(f"{ticket} ({mark})")
    if not places:
        return None
    return "mixes measured and hand-kept figures: " + ", ".join(places)


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a proportion, as percentages."""
    if n == 0:
        return 0.0, 100.0
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return round(max(0.0, centre - half) * 100, 1), round(min(1.0, centre + half) * 100, 1)


@dataclass
class Adoption:
    model: str
    complexity: str
    answer: str  # YES, NO or INCONCLUSIVE
    successes: int
    sample_size: int
    rate: float | None
    interval: tuple[float, float]
    threshold: float
    min_sample_size: int
    phases: list[str]
    tickets: list[str] = field(default_factory=list)
    fallback: str = "sonnet"
    #: tickets of the kind that record no fix_loops: left out of the rate
    unrecorded: int = 0

    @property
    def recommended(self) -> str:
        return self.model if self.answer == "YES" else self.fallback

    @property
    def line(self) -> str:
        rate = "n/a" if self.rate is None else f"{self.rate:.0f}%"
        low, high = self.interval
        return (
            f"Adopt {self.model} for {self.complexity} tickets: {self.answer} — "
            f"{self.successes} of {self.sample_size} succeeded "
            f"({rate}, 95% CI {low:.0f}–{high:.0f}%) "
            f"against {self.threshold:.0f}% with at least {self.min_sample_size} tickets "
            f"(phases {', '.join(self.phases)})"
            + (f"; {self.unrecorded} ticket(s) left out: no fix_loops" if self.unrecorded else "")
        )

    def to_data(self) -> dict[str, Any]:
        data = asdict(self)
        data["interval"] = list(self.interval)
        data["recommended"] = self.recommended
        data["line"] = self.line
        return data


def lineage(runner: PhaseRunner, name: str) -> list[str]:
    """The phase and, recursively, the phases it requires, oldest first (each once)."""
    seen: list[str] = []
    entered: set[str] = set()  # a cycle (refused before a run) must not recurse without end

    def visit(phase: str) -> None:
        if phase in entered:
            return
        entered.add(phase)
        try:
            requires = runner.load(phase).criteria.requires
        except OrchphaseError:
            return
        for other in requires:
            visit(other)
        seen.append(phase)

    visit(name)
    return seen


def adoption(runner: PhaseRunner, name: str, rule: AdoptModel | None = None) -> Adoption | None:
    """Pool the tickets of ``rule.complexity`` executed on ``rule.model`` over the phase and its
    prerequisites; the answer is INCONCLUSIVE below the minimum sample size."""
    rule = rule or runner.load(name).criteria.decisions.adopt_model
    if rule is None:
        return None
    phases = lineage(runner, name)
    successes = n = unrecorded = 0
    tickets: list[str] = []
    for phase_name in phases:
        phase = runner.load(phase_name)
        for ticket_id, ticket in phase.tickets.items():
            if ticket.complexity != rule.complexity or not model_matches(
                ticket.model_used, rule.model
            ):
                continue
            outcome = succeeded(ticket, rule.max_fix_loops)
            if outcome is None:
                unrecorded += 1  # no fix_loops recorded: not evidence either way, but said
                continue
            n += 1
            tickets.append(f"{phase_name}:{ticket_id}")
            successes += outcome
    exact = successes / n * 100 if n else None
    rate = round(exact, 1) if exact is not None else None
    if n < rule.min_sample_size:
        answer = "INCONCLUSIVE"
    else:
        answer = "YES" if exact is not None and exact >= rule.min_success_rate else "NO"
    return Adoption(
        model=rule.model,
        complexity=rule.complexity,
        answer=answer,
        successes=successes,
        sample_size=n,
        rate=rate,
        interval=wilson(successes, n),
        threshold=rule.min_success_rate,
        min_sample_size=rule.min_sample_size,
        phases=phases,
        tickets=tickets,
        fallback=rule.fallback,
    )


@dataclass
class BreakEven:
    measure: str
    shared_planning: float | None
    per_ticket: float | None
    single_agent_per_ticket: float | None
    tickets: int | None
    reason: str

    def _fmt(self, value: float) -> str:
        return f"${value:,.4f}" if self.measure == "usd" else f"{value:,.0f}"

    @property
    def line(self) -> str:
        unit = "USD" if self.measure == "usd" else "tokens"
        if self.tickets is None:
            return f"Break-even ({unit}): {self.reason}"
        return (
            f"Break-even ({unit}): orchestration beats a single agent from {self.tickets} "
            f"tickets — {self.reason}"
        )

    def to_data(self) -> dict[str, Any]:
        return {**asdict(self), "line": self.line}


def break_even(runner: PhaseRunner, name: str, measure: str = "total") -> BreakEven:
    """Smallest N with planning + N × per-ticket < N × single agent per ticket.

    N = ⌊planning / (single − per_ticket)⌋ + 1 when a ticket costs less under orchestration.
    """
    ctx = runner.context(name)
    try:
        planning_usage = ctx.planning()
        if planning_usage is None:
            raise MetricUnavailable("the phase records no shared planning")
        planning = planning_usage.measure(measure)
        if ctx.accounts.unattributed is not None:  # nobody's ticket: overhead of the batch
            planning += ctx.accounts.unattributed.measure(measure)
        per_ticket = sum(ctx.ticket_usage(t).measure(measure) for t in ctx.phase.tickets) / ctx.n
        single = ctx.baseline_figure("single_agent", measure)
    except MetricUnavailable as exc:
        return BreakEven(measure, None, None, None, None, f"unknown: {exc}")
    show = BreakEven(measure, None, None, None, None, "")._fmt
    if single <= per_ticket:
        return BreakEven(
            measure,
            planning,
            per_ticket,
            single,
            None,
            f"never: a ticket costs {show(per_ticket)} under orchestration, "
            f"a single agent {show(single)}, so shared planning is never paid back",
        )
    tickets = math.floor(planning / (single - per_ticket)) + 1
    usages = [planning_usage, ctx.accounts.unattributed, *map(ctx.ticket_usage, ctx.phase.tickets)]
    low = any(u is not None and u.is_lower_bound(measure) for u in usages)
    return BreakEven(
        measure,
        planning,
        per_ticket,
        single,
        tickets,
        f"shared planning {show(planning)} / (single agent {show(single)} − "
        f"{show(per_ticket)} per ticket)"
        + (
            "; from lower bounds (sub-agent output no record gives): the true break-even is "
            "later, or never"
            if low
            else ""
        ),
    )

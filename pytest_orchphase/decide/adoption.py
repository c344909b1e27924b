"""The model adoption decision: adopt a cheaper model for a complexity of tickets?

The tickets executed on the model are pooled over the phase and the phases it requires
(recursively), each ticket once, and decided on the Wilson interval of their success rate (or on
the rate itself with ``rule: point``).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from typing import Any, NamedTuple

from pytest_orchphase.errors import OrchphaseError
from pytest_orchphase.evaluate.formatting import fmt_beside
from pytest_orchphase.evaluate.runner import PhaseRunner
from pytest_orchphase.load.models import AdoptModel, Ticket
from pytest_orchphase.load.phase import requires_order
from pytest_orchphase.metrics.open_work import unfinished, work_not_run
from pytest_orchphase.metrics.outcomes import succeeded
from pytest_orchphase.metrics.stats import (
    further_needed,
    holds,
    percent,
    same_figure,
    three_way,
    wilson,
)
from pytest_orchphase.metrics.which_tickets import model_matches, unrecorded_model


@dataclass
class Adoption:
    model: str
    complexity: str
    answer: str  # YES, NO or INCONCLUSIVE
    #: tickets (clusters): each ticket counted once, by its latest run
    successes: int
    sample_size: int
    rate: float | None
    #: the per-ticket rate and its Wilson interval, in percent, as decided on: unrounded (the
    #: line shows them with the digits that tell them from the threshold)
    interval: tuple[float, float]
    threshold: float
    min_sample_size: int
    phases: list[str]
    tickets: list[str] = field(default_factory=list)
    fallback: str = "sonnet"
    #: runs that record no fix_loops, no review result or no implementation that ran (see
    #: :func:`~pytest_orchphase.metrics.open_work.work_not_run`), and runs whose work is not
    #: finished (status in_progress, pending, requires_fix): counted as not succeeded, the
    #: reading under which a minimum rate can never pass wrongly (left out, they could lift the
    #: rate past it)
    unrecorded: int = 0
    unfinished: int = 0
    #: runs (``phase:ticket``) that record no execution model or no complexity while what they
    #: record matches: each may be in the pool; the answer is YES only when it is YES with them
    #: left out and with those that did not succeed counted in (the worst case)
    unknown_membership: list[str] = field(default_factory=list)
    rule: str = "interval"
    confidence: float = 95.0
    #: every recorded run, a ticket run in several phases once per phase (not the evidence)
    run_successes: int = 0
    runs: int = 0
    #: further consecutive successful tickets that would make the answer YES (None: never)
    further_needed: int | None = None
    #: required phases (recursively) whose files do not load: their runs are not known, so
    #: the pool is not whole and the answer is INCONCLUSIVE whatever the others say
    unloaded: list[str] = field(default_factory=list)

    @property
    def recommended(self) -> str:
        return self.model if self.answer == "YES" else self.fallback

    @property
    def line(self) -> str:
        exact = percent(self.successes, self.sample_size) if self.sample_size else None
        rate = "n/a" if exact is None else _whole_percent(exact, self.threshold)
        low, high = (fmt_beside(v, self.threshold, "percent")[:-1] for v in self.interval)
        text = (
            f"Adopt {self.model} for {self.complexity} tickets: {self.answer} — "
            f"{self.successes} of {self.sample_size} tickets succeeded "
            f"({rate}, {self.confidence:g}% Wilson CI {low}–{high}%) "
            f"against {_whole_percent(self.threshold, exact)} on the {self.rule} rule "
            f"with at least {self.min_sample_size} tickets (phases {', '.join(self.phases)})"
        )
        if self.runs != self.sample_size:
            text += (
                f"; per run {self.run_successes} of {self.runs} "
                "(a ticket run in several phases counts once, by its latest run)"
            )
        if self.unrecorded:
            text += (
                f"; {self.unrecorded} run(s) without fix_loops, a review result or an "
                "implementation that ran, counted as not succeeded"
            )
        if self.unfinished:
            text += f"; {self.unfinished} run(s) not finished, counted as not succeeded"
        if self.unknown_membership:
            text += (
                f"; {', '.join(self.unknown_membership)} record(s) no execution model or "
                "complexity (or a model of no known family), so whether they are "
                f"{self.model} on {self.complexity} tickets "
                "is not known: YES only if it holds with those that did not succeed counted in"
            )
        if self.unloaded:
            text += (
                f"; required phase(s) {', '.join(self.unloaded)} do not load: their runs are "
                "not known, so the pool is not whole (fix their files)"
            )
        elif self.answer != "YES":
            text += "; " + self.needed_text
        return text

    @property
    def needed_text(self) -> str:
        if self.further_needed is None:
            return "no number of further successes makes it YES on the interval"
        s, n = self.successes + self.further_needed, self.sample_size + self.further_needed
        word = "success" if self.further_needed == 1 else "successes"
        return f"YES after {self.further_needed} more consecutive {word} ({s} of {n})"

    def to_data(self) -> dict[str, Any]:
        data = asdict(self)
        data["interval"] = list(self.interval)
        data["recommended"] = self.recommended
        data["line"] = self.line
        return data


class Lineage(NamedTuple):
    """A phase and, recursively, the phases it requires, oldest first (each once), less those
    whose files do not load (``unloaded``, in the order they were met)."""

    phases: list[str]
    unloaded: list[str]


def lineage(runner: PhaseRunner, name: str) -> Lineage:
    """The phase and, recursively, the phases it requires, oldest first (each once); a phase
    whose files do not load is left out of ``phases`` and named in ``unloaded``."""
    unloaded: list[str] = []

    def requires_of(phase: str) -> list[str] | None:
        try:
            return runner.load(phase).criteria.requires
        except OrchphaseError:
            if phase not in unloaded:
                unloaded.append(phase)
            return None

    return Lineage(requires_order(name, requires_of), unloaded)


def plan_rule(runner: PhaseRunner, name: str) -> AdoptModel:
    """The adoption rule that holds for phase ``name``: its own, else that of the latest phase it
    requires (recursively) that writes one; the defaults only when no phase of its plan does."""
    for phase_name in reversed(lineage(runner, name).phases):
        rule = runner.load(phase_name).criteria.decisions.adopt_model
        if rule is not None:
            return rule
    return AdoptModel()


def adoption(runner: PhaseRunner, name: str, rule: AdoptModel | None = None) -> Adoption | None:
    """Pool the tickets of ``rule.complexity`` executed on ``rule.model`` over the phase and its
    prerequisites, each ticket once (its latest run: repeated runs of a ticket are one cluster,
    not independent trials; a run whose outcome is not known counts as not succeeded). On the
    interval rule the answer is YES when the Wilson lower bound reaches the threshold, NO when
    the upper bound is below it, else INCONCLUSIVE; on the point rule the rate decides. Below
    the minimum sample size it is INCONCLUSIVE whatever the rate."""
    rule = rule or runner.load(name).criteria.decisions.adopt_model
    if rule is None:
        return None
    phases, unloaded = lineage(runner, name)
    pool = _Pool(rule)
    for phase_name in phases:
        for ticket_id, ticket in runner.load(phase_name).tickets.items():
            pool.add(phase_name, ticket_id, ticket)
    latest, maybe = pool.latest, pool.maybe
    n = len(latest)
    successes = sum(ok for _, ok in latest.values())
    exact = percent(successes, n) if n else None
    low, high = (100 * b for b in wilson(successes, n, rule.confidence))
    threshold = rule.min_success_rate
    answer = _pool_answer(rule, latest, maybe, unloaded)
    needed = further_needed(successes, n, "min", threshold / 100, rule.confidence)
    if rule.rule == "point":
        needed = _point_needed(successes, n, threshold)
    if needed is not None:
        needed = max(needed, rule.min_sample_size - n)
    return Adoption(
        model=rule.model,
        complexity=rule.complexity,
        answer=answer,
        successes=successes,
        sample_size=n,
        rate=exact,
        interval=(low, high),
        threshold=threshold,
        min_sample_size=rule.min_sample_size,
        phases=phases,
        tickets=[f"{phase}:{ticket}" for ticket, (phase, _) in latest.items()],
        fallback=rule.fallback,
        unrecorded=pool.unrecorded,
        unfinished=pool.open_runs,
        unknown_membership=[run for run, _ in maybe.values()],
        rule=rule.rule,
        confidence=rule.confidence,
        run_successes=pool.run_successes,
        runs=pool.runs,
        further_needed=needed,
        unloaded=unloaded,
    )


@dataclass
class _Pool:
    """The runs of one adoption rule's pool, phase by phase, oldest first."""

    rule: AdoptModel
    #: ticket id → (phase, outcome) of its latest pooled run, in the order of the latest runs
    latest: dict[str, tuple[str, bool]] = field(default_factory=dict)
    #: ticket id → its latest run that may be pooled (``phase:ticket``, outcome)
    maybe: dict[str, tuple[str, bool]] = field(default_factory=dict)
    run_successes: int = 0
    runs: int = 0
    unrecorded: int = 0
    open_runs: int = 0

    def add(self, phase_name: str, ticket_id: str, ticket: Ticket) -> None:
        rule = self.rule
        pooled = _pooled(ticket, rule)
        if pooled is None:  # an outcome not known to be a success is none, as below
            self.maybe[ticket_id] = (
                f"{phase_name}:{ticket_id}",
                bool(succeeded(ticket, rule.max_fix_loops)),
            )
        if not pooled:
            return
        self.maybe.pop(ticket_id, None)  # a later run in the pool is the ticket's latest
        outcome = succeeded(ticket, rule.max_fix_loops)
        if outcome is None:  # not known to be a success: not one (see Adoption.unrecorded)
            if unfinished(ticket) and not work_not_run(ticket):
                self.open_runs += 1
            else:
                self.unrecorded += 1
            outcome = False
        self.runs += 1
        self.run_successes += outcome
        self.latest.pop(ticket_id, None)  # re-inserted: the order is that of the latest runs
        self.latest[ticket_id] = (phase_name, outcome)


def _pool_answer(
    rule: AdoptModel,
    latest: dict[str, tuple[str, bool]],
    maybe: dict[str, tuple[str, bool]],
    unloaded: list[str],
) -> str:
    """The answer for the runs pooled (``latest``), YES only when it is YES in the worst case
    of the runs that may belong (``maybe``), and INCONCLUSIVE when a required phase does not
    load (``unloaded``: its runs are not known at all, so nothing can be said of the pool)."""
    if unloaded:
        return "INCONCLUSIVE"
    answer = _answer(sum(ok for _, ok in latest.values()), len(latest), rule)
    if answer == "YES" and maybe:  # YES in the worst case as well, or not YES
        # The worst case counts in only those that did not succeed: each that belongs can only
        # lower the rate (and its interval) if it failed, and raise it if it succeeded.
        failing = {t: ("", ok) for t, (_, ok) in maybe.items() if not ok}
        counted_in = {**latest, **failing}
        if _answer(sum(ok for _, ok in counted_in.values()), len(counted_in), rule) != "YES":
            return "INCONCLUSIVE"
    return answer


def _pooled(ticket: Ticket, rule: AdoptModel) -> bool | None:
    """Whether a run is one of ``rule``'s complexity on its model: None when that is not known
    (it records no complexity, or no execution model, or only its family or an alias where
    the rule names a model id, and what it records matches)."""
    if ticket.complexity is not None and ticket.complexity != rule.complexity:
        return False
    unsure = unrecorded_model("", ticket, rule.model)  # no model, or only its family
    if not unsure and not model_matches(ticket.model_used, rule.model):
        return False
    return None if ticket.complexity is None or unsure else True


def _answer(successes: int, n: int, rule: AdoptModel) -> str:
    """YES, NO or INCONCLUSIVE for ``successes`` of ``n`` tickets under ``rule``."""
    if n < rule.min_sample_size:
        return "INCONCLUSIVE"
    if rule.rule == "point":
        exact = percent(successes, n) if n else None
        return "YES" if exact is not None and holds(exact, "min", rule.min_success_rate) else "NO"
    low, high = (100 * b for b in wilson(successes, n, rule.confidence))
    return three_way(low, high, "min", rule.min_success_rate)


def _whole_percent(value: float, other: float | None) -> str:
    """``70%``: a rate or threshold in whole percent, with the digits that tell it from the
    other figure where whole percent would show both alike (69.6 % of a 70 % threshold)."""
    if other is None or same_figure(value, other) or round(value) != round(other):
        return f"{value:.0f}%"
    return fmt_beside(value, other, "percent")


def _point_needed(successes: int, n: int, threshold: float) -> int | None:
    """Further consecutive successes that bring the point rate to the threshold: the smallest
    ``more`` whose rate ``holds`` it, found by bisection below the exact closed form
    (s + m) / (n + m) >= t, i.e. m >= (t·n − s) / (1 − t), so about 60 rates are computed even
    for 99.9999999 % (counting up one at a time took a billion)."""
    if threshold >= 100:
        return 0 if successes == n and n else None

    def reaches(more: int) -> bool:
        return not n + more or holds(percent(successes + more, n + more), "min", threshold)

    share = Fraction(threshold) / 100
    low, high = 0, max(0, math.ceil((share * n - successes) / (1 - share))) + 1
    while low < high:  # the rate rises with every success: the first that reaches it
        middle = (low + high) // 2
        if reaches(middle):
            high = middle
        else:
            low = middle + 1
    return low

"""The decisions a team takes after a phase: proceed, adopt a cheaper model, batch size.

Plain functions over phases and result entries; every answer carries its reasons and figures.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from typing import Any

from pytest_orchphase.errors import MetricUnavailable, OrchphaseError
from pytest_orchphase.evaluate.formatting import fmt_beside
from pytest_orchphase.evaluate.runner import PhaseRunner
from pytest_orchphase.load.models import AdoptModel, Baseline, Ticket
from pytest_orchphase.load.phase import requires_order
from pytest_orchphase.metrics.facts import (
    model_matches,
    still_open,
    succeeded,
    unfinished,
    unrecorded_model,
)
from pytest_orchphase.metrics.registry import MetricContext, origin_mark
from pytest_orchphase.metrics.stats import (
    further_needed,
    holds,
    percent,
    same_figure,
    three_way,
    wilson,
)
from pytest_orchphase.report.results import Entry, ItemKey, distinct, item_key


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
    entries: Sequence[Entry],
    expected: Collection[ItemKey],
    collection_errors: int,
    other_failures: list[str] | None = None,
    not_finished: Sequence[str] = (),
    other_skipped: Sequence[str] = (),
) -> Proceed:
    """YES when every expected item ran and passed, nothing else in the run failed and every
    ticket of the phase finished; NO on a failure (a criterion, a gate, or any other item of the
    run: a Python check beside the criteria, an item that errored); else UNDECIDED: also while a
    ticket has not finished (``not_finished``, one reason each, see
    :func:`~pytest_orchphase.metrics.facts.not_finished`), as its figures so far only bound what
    it will use and a ``max`` they meet now may not hold when it ends. So while another item
    of the run (a Python check, or its module) was skipped or xfailed (``other_skipped``): a
    check that did not run, or failed as expected, proves nothing.

    Items are counted, not results: an item run twice (``--keep-duplicates``, ``--dist each``)
    is one item, failed when any of its runs failed, and results of other items never stand in
    for an expected item that did not run."""
    if collection_errors:
        return Proceed(next_phase, "NO", [f"{collection_errors} collection error(s)"])
    items = distinct(entries)
    failing = [e["name"] for e in items if not e["passed"]]
    failing += list(dict.fromkeys(other_failures or []))
    if failing:
        return Proceed(next_phase, "NO", [f"failing: {', '.join(failing)}"])
    wanted = set(expected)
    ran = len(wanted & {item_key(e) for e in items})
    if ran < len(wanted):
        return Proceed(
            next_phase,
            "UNDECIDED",
            [f"only {ran} of {len(wanted)} criteria ran (deselected or skipped)"],
        )
    if not_finished:
        return Proceed(next_phase, "UNDECIDED", list(not_finished))
    if skipped := list(dict.fromkeys(other_skipped)):
        named = ", ".join(skipped)
        why = f"{len(skipped)} other item(s) did not pass (skipped or xfailed): {named}"
        return Proceed(next_phase, "UNDECIDED", [why])
    bypassed = [e["required"] for e in items if e["kind"] == "gate" and e["bypassed"]]
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
    #: runs that record no fix_loops or no review result, and runs whose work is not finished
    #: (status in_progress, pending, requires_fix): counted as not succeeded, the reading under
    #: which a minimum rate can never pass wrongly (left out, they could lift the rate past it)
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
                f"; {self.unrecorded} run(s) without fix_loops or a review result, counted as "
                "not succeeded"
            )
        if self.unfinished:
            text += f"; {self.unfinished} run(s) not finished, counted as not succeeded"
        if self.unknown_membership:
            text += (
                f"; {', '.join(self.unknown_membership)} record(s) no execution model or "
                f"complexity, so whether they are {self.model} on {self.complexity} tickets "
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


def lineage(runner: PhaseRunner, name: str, unloaded: list[str] | None = None) -> list[str]:
    """The phase and, recursively, the phases it requires, oldest first (each once); a phase
    whose files do not load is left out (and named in ``unloaded``, when given)."""

    def requires_of(phase: str) -> list[str] | None:
        try:
            return runner.load(phase).criteria.requires
        except OrchphaseError:
            if unloaded is not None and phase not in unloaded:
                unloaded.append(phase)
            return None

    return requires_order(name, requires_of)


def plan_rule(runner: PhaseRunner, name: str) -> AdoptModel:
    """The adoption rule that holds for phase ``name``: its own, else that of the latest phase it
    requires (recursively) that writes one; the defaults only when no phase of its plan does."""
    for phase_name in reversed(lineage(runner, name)):
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
    unloaded: list[str] = []
    phases = lineage(runner, name, unloaded)
    latest: dict[str, tuple[str, bool]] = {}  # ticket id → (phase, outcome), oldest first
    maybe: dict[str, tuple[str, bool]] = {}  # ticket id → its latest run that may be pooled
    run_successes = runs = unrecorded = open_runs = 0
    for phase_name in phases:
        phase = runner.load(phase_name)
        for ticket_id, ticket in phase.tickets.items():
            pooled = _pooled(ticket, rule)
            if pooled is None:  # an outcome not known to be a success is none, as below
                maybe[ticket_id] = (
                    f"{phase_name}:{ticket_id}",
                    bool(succeeded(ticket, rule.max_fix_loops)),
                )
            if not pooled:
                continue
            maybe.pop(ticket_id, None)  # a later run in the pool is the ticket's latest
            outcome = succeeded(ticket, rule.max_fix_loops)
            if outcome is None:  # not known to be a success: not one (see Adoption.unrecorded)
                if unfinished(ticket):
                    open_runs += 1
                else:
                    unrecorded += 1
                outcome = False
            runs += 1
            run_successes += outcome
            latest.pop(ticket_id, None)  # re-inserted: the order is that of the latest runs
            latest[ticket_id] = (phase_name, outcome)
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
        unrecorded=unrecorded,
        unfinished=open_runs,
        unknown_membership=[run for run, _ in maybe.values()],
        rule=rule.rule,
        confidence=rule.confidence,
        run_successes=run_successes,
        runs=runs,
        further_needed=needed,
        unloaded=unloaded,
    )


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


@dataclass
class BreakEven:
    measure: str
    shared_planning: float | None
    per_ticket: float | None
    baseline_per_ticket: float | None
    tickets: int | None
    reason: str
    #: the baseline orchestration is measured against (``--baseline``; see default_baseline)
    baseline: str | None = None
    #: the usage no rule places (None when there is none): it may be shared planning or the
    #: tickets' own work; ``tickets`` is the later of the two readings' break-evens
    unattributed: float | None = None
    #: N with the unattributed usage all shared planning, and all the tickets' own (None: never)
    tickets_if_planning: int | None = None
    tickets_if_tickets_own: int | None = None
    #: the two readings give different answers: ``tickets`` is a bound (the latest it may be)
    depends_on_unattributed: bool = False

    def _fmt(self, value: float) -> str:
        return f"${value:,.4f}" if self.measure == "usd" else f"{value:,.0f}"

    @property
    def line(self) -> str:
        unit = "USD" if self.measure == "usd" else "tokens"
        if self.tickets is None:
            return f"Break-even ({unit}): {self.reason}"
        return (
            f"Break-even ({unit}): orchestration beats {self.baseline} from {self.tickets} "
            f"tickets — {self.reason}"
        )

    def to_data(self) -> dict[str, Any]:
        return {**asdict(self), "line": self.line}


def default_baseline(baselines: dict[str, Baseline]) -> str:
    """The baseline a break-even is against when none is named: ``single_agent`` when the
    project defines it, else its only baseline with ``compare: true``."""
    if "single_agent" in baselines:
        return "single_agent"
    approaches = sorted(n for n, b in baselines.items() if b.compare)
    if len(approaches) == 1:
        return approaches[0]
    raise MetricUnavailable(
        "no single_agent baseline, and "
        + (f"several to choose from ({', '.join(approaches)})" if approaches else "none other")
        + ": name one with --baseline"
    )


def break_even(
    runner: PhaseRunner, name: str, measure: str = "total", baseline: str | None = None
) -> BreakEven:
    """Smallest N with planning + N × per-ticket < N × baseline per ticket.

    N = ⌊planning / (base − per_ticket)⌋ + 1 when a ticket costs less under orchestration.
    The usage no rule places may be overhead of the batch (planning) or the tickets' own work
    (a cost every further ticket brings again): N is computed both ways, and the later one (or
    never) is the answer; any split between the two lies between them.
    """
    ctx = runner.context(name)
    try:
        baseline = baseline or default_baseline(ctx.phase.baselines)
        if not ctx.baseline(baseline).compare:
            raise MetricUnavailable(
                f"baseline {baseline} is a part of a cost (compare: false), not an approach "
                "orchestration could beat"
            )
        planning_usage = ctx.planning()
        if planning_usage is None:
            raise MetricUnavailable("the phase records no shared planning")
        lead = planning_usage.measure(measure)
        loose = ctx.accounts.unattributed
        extra: float = loose.measure(measure) if loose is not None and loose.total else 0
        own = sum(ctx.ticket_usage(t).measure(measure) for t in ctx.phase.tickets) / ctx.n
        single = ctx.baseline_figure(baseline, measure)
    except MetricUnavailable as exc:
        return BreakEven(measure, None, None, None, None, f"unknown: {exc}", baseline)
    show = BreakEven(measure, None, None, None, None, "")._fmt
    # the two readings of the unattributed usage: (shared planning, per ticket, N or None)
    spread = own + extra / ctx.n
    as_planning = (lead + extra, own, _tickets_to_break_even(lead + extra, own, single))
    as_own = (lead, spread, _tickets_to_break_even(lead, spread, single))
    n_planning, n_own = as_planning[2], as_own[2]
    differ = n_planning != n_own
    # the later break-even (never is the latest); the planning reading when they agree
    later_own = differ and (n_own is None or (n_planning is not None and n_own > n_planning))
    planning, per_ticket, tickets = as_own if later_own else as_planning
    readings: dict[str, Any] = {
        "unattributed": extra if extra else None,
        "tickets_if_planning": n_planning,
        "tickets_if_tickets_own": n_own,
        "depends_on_unattributed": differ,
    }
    why = ""
    if differ:
        worse, other = ("the tickets' own", "all shared planning")
        if not later_own:
            worse, other = other, worse
        n_other = n_planning if later_own else n_own
        other_text = f"from {n_other} tickets" if n_other is not None else "never"
        why = (
            f"with the unattributed usage ({show(extra)}) counted as {worse}; {other_text} if "
            f"it is {other}: map its agents and sessions to their tickets"
        )
    if tickets is None:
        reason = (
            f"never: a ticket costs {show(per_ticket)} under orchestration, "
            f"{baseline} {show(single)}, so shared planning is never paid back"
        )
        if why:
            reason += f" ({why})"
        return BreakEven(measure, planning, per_ticket, single, None, reason, baseline, **readings)
    usages = [planning_usage, ctx.accounts.unattributed, *map(ctx.ticket_usage, ctx.phase.tickets)]
    low = any(u is not None and u.is_lower_bound(measure) for u in usages)
    return BreakEven(
        measure,
        planning,
        per_ticket,
        single,
        tickets,
        f"shared planning {show(planning)} / ({baseline} {show(single)} − "
        f"{show(per_ticket)} per ticket)"
        + (f", {why}" if why else "")
        + (
            "; from lower bounds ("
            + (still_open(ctx.phase) or "sub-agent output no record gives")
            + "): the true break-even is later, or never"
            if low
            else ""
        ),
        baseline,
        **readings,
    )


def _tickets_to_break_even(planning: float, per_ticket: float, single: float) -> int | None:
    """Smallest N with ``planning`` + N × ``per_ticket`` < N × ``single``; None: never."""
    if single <= per_ticket:
        return None
    return math.floor(planning / (single - per_ticket)) + 1

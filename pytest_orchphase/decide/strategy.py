"""The next phase's model-selection file (the plan's phase-a3-strategy.yaml), filled from data.

Evidence comes from the phases the target requires, recursively: the execution model per
complexity (with the adoption decision for the cheaper model), planning and monitoring models,
review types and costs per tier, and the expected tokens (and USD when measured) per ticket.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from statistics import mean
from typing import Any

from pytest_orchphase.decide.adoption import Adoption, adoption, lineage
from pytest_orchphase.errors import OrchphaseError
from pytest_orchphase.evaluate.runner import PhaseRunner
from pytest_orchphase.families import family
from pytest_orchphase.load.models import AdoptModel, CriteriaFile, Ticket
from pytest_orchphase.load.phase import criteria_path
from pytest_orchphase.metrics.open_work import work_not_run
from pytest_orchphase.metrics.outcomes import failures, succeeded
from pytest_orchphase.metrics.registry import MetricContext
from pytest_orchphase.metrics.stats import wilson
from pytest_orchphase.usage.value import Usage


def strategy_path(data_root: Path, target: str) -> Path:
    return data_root / f"phase-{target}-strategy.yaml"


def _round(value: float) -> int:
    return int(round(value, -2))


def build_strategy(
    runner: PhaseRunner, target: str, tickets: dict[str, str] | None = None
) -> dict[str, Any]:
    """The strategy for phase ``target`` from the data of the phases it requires.

    ``tickets`` maps ticket id → complexity; by default the target's own metadata and log give
    them, else the evidence phases' tickets of the same id. Named steps: the evidence, the
    choice of model per complexity, the cost per ticket, the assembled file.
    """
    criteria, _ = runner.criteria(criteria_path(runner.criteria_dir, target))
    sources = _sources(runner, target, criteria)
    contexts = [runner.context(p) for p in sources]
    if tickets is None:
        tickets = _target_tickets(runner, target, contexts)
    rule = _rule(criteria, contexts)
    decided = adoption(runner, sources[-1], rule)
    assert decided is not None
    evidence = _gather(contexts)
    execution: dict[str, dict[str, Any]] = {
        c: _choice(c, evidence, rule, decided, sources)
        for c in _COMPLEXITIES
        if c in evidence.observed or c in tickets.values() or c == rule.complexity
    }
    share_tokens, share_usd = _planning_share(evidence.planning, len(tickets))
    costs = _costs(tickets, execution, evidence, share_tokens, share_usd)
    return _assemble(target, tickets, sources, evidence, execution, costs, share_tokens, share_usd)


_COMPLEXITIES = ("mechanical", "nuanced", "complex")


def _sources(runner: PhaseRunner, target: str, criteria: CriteriaFile) -> list[str]:
    """The evidence phases: the target's requirements and theirs, recursively, each once."""
    sources = [p for req in criteria.requires for p in lineage(runner, req).phases]
    sources = list(dict.fromkeys(sources))
    if not sources:
        raise OrchphaseError(
            f"phase {target} requires no phase with data, so there is no evidence to fill a "
            "strategy from; add `requires:` to its criteria",
            path=criteria_path(runner.criteria_dir, target),
            field="requires",
        )
    return sources


def _target_tickets(
    runner: PhaseRunner, target: str, contexts: list[MetricContext]
) -> dict[str, str]:
    """The target's tickets → complexity, from its own data, else the evidence's same ids."""
    known: dict[str, str | None] = {}
    for ctx in contexts:
        for tid, t in ctx.phase.tickets.items():
            known[tid] = t.complexity or known.get(tid)
    try:
        target_phase = runner.load(target)
    except OrchphaseError as exc:  # not run yet: its tickets are not the evidence's tickets
        raise OrchphaseError(
            f"phase {target}'s tickets are unknown: its data does not load "
            f"({str(exc).splitlines()[0]}); name them: orchphase strategy --for {target} "
            "--tickets ID=mechanical|nuanced|complex,..."
        ) from None
    return {t: tk.complexity or known.get(t) or "nuanced" for t, tk in target_phase.tickets.items()}


def _rule(criteria: CriteriaFile, contexts: list[MetricContext]) -> AdoptModel:
    """The plan's own adoption rule: the target's, else the latest evidence phase's that has
    one; the defaults (70 %, 3 tickets) only when no phase of the plan writes one."""
    rules = [criteria.decisions.adopt_model] + [
        c.phase.criteria.decisions.adopt_model for c in reversed(contexts)
    ]
    return next((r for r in rules if r is not None), None) or AdoptModel()


@dataclass
class _Evidence:
    """What the evidence phases observed, gathered in one pass."""

    # per complexity: (model family, the ticket, its own usage or None when unknown)
    observed: dict[str, list[tuple[str, Ticket, Usage | None]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    # per complexity: each ticket's latest run (model family, ticket), oldest phase first
    latest: dict[str, dict[str, tuple[str, Ticket]]] = field(
        default_factory=lambda: defaultdict(dict)
    )
    planning: list[Usage] = field(default_factory=list)
    #: Phases with usage no rule placed, which may be their tickets' own: why every estimate
    #: from this evidence may be below the cost.
    unplaced: list[str] = field(default_factory=list)
    #: Phases of several tickets whose shared planning is not recorded (their figures count it
    #: as 0, as the phase's own do): why every estimate's planning share may be below the cost.
    unplanned: list[str] = field(default_factory=list)
    #: Why an estimate of some tickets may be below the cost (each reason once).
    lower: dict[str, None] = field(default_factory=dict)
    planning_models: Counter[str] = field(default_factory=Counter)
    #: The runs the log records failed, each as "ticket T of phase P failed (why)": their cost
    #: is not what a done ticket costs (failed work is cheap), so estimates leave them out.
    failed: list[str] = field(default_factory=list)
    #: Whether an estimate left the failed runs out (made of done runs only).
    left_out: bool = False
    monitoring: Counter[str] = field(default_factory=Counter)
    reviews: dict[str, list[tuple[str, Usage | None]]] = field(
        default_factory=lambda: defaultdict(list)
    )


def _gather(contexts: list[MetricContext]) -> _Evidence:
    evidence = _Evidence()
    for ctx in contexts:
        phase = ctx.phase
        if ctx.accounts.planning is not None:
            evidence.planning.append(ctx.accounts.planning)
        elif why := ctx.planning_unrecorded():  # one ticket has no planning to share
            evidence.unplanned.append(f"phase {phase.name}: {why}")
        loose = ctx.accounts.unattributed
        if loose is not None and loose.total:
            evidence.unplaced.append(
                f"phase {phase.name}'s unattributed usage ({loose.total:,} tokens) may be its "
                "tickets' own: their figures leave it out"
            )
        if phase.log.shared_planning and phase.log.shared_planning.model:
            evidence.planning_models[family(phase.log.shared_planning.model) or "unknown"] += 1
        for tid, t in phase.tickets.items():
            _gather_ticket(evidence, ctx, tid, t)
    return evidence


def _gather_ticket(evidence: _Evidence, ctx: MetricContext, tid: str, t: Ticket) -> None:
    if why := failures(t):
        evidence.failed.append(f"ticket {tid} of phase {ctx.phase.name} failed ({', '.join(why)})")
    elif not_run := work_not_run(t):
        evidence.failed.append(
            f"ticket {tid} of phase {ctx.phase.name}: its work did not run ({not_run})"
        )
    evidence.observed[t.complexity or "unknown"].append(
        (family(t.model_used) or "unknown", t, ctx.accounts.ticket(tid))
    )
    for runs_of in evidence.latest.values():
        runs_of.pop(tid, None)
    evidence.latest[t.complexity or "unknown"][tid] = (family(t.model_used) or "unknown", t)
    if t.monitoring and t.monitoring.model:
        evidence.monitoring[family(t.monitoring.model) or "unknown"] += 1
    if t.review and t.review.tier:
        evidence.reviews[t.review.tier].append(
            (t.review.type or "unknown", ctx.accounts.stage(tid, "review"))
        )


def _choice(
    complexity: str,
    evidence: _Evidence,
    rule: AdoptModel,
    decided: Adoption,
    sources: list[str],
) -> dict[str, Any]:
    """The execution model for one complexity, with its rationale and figures."""
    runs = evidence.observed.get(complexity, [])
    if complexity == rule.complexity:
        return {
            "model": decided.recommended,
            "rationale": decided.line,
            # as decided on, unrounded (as in the adoption's JSON): a program comparing it with
            # a threshold gets the decision's answer (66.666…, never 66.7 against 66.67)
            "success_rate": decided.rate,
            "sample_size": decided.sample_size,
        }
    if not runs:
        return {
            "model": rule.fallback,
            "rationale": f"no {complexity} ticket in {', '.join(sources)}: the proven default",
            "success_rate": None,
            "sample_size": 0,
        }
    # a ticket run in several phases is one ticket: its latest run counts (as in adoption)
    tally = _tally(evidence.latest[complexity], rule.max_fix_loops)
    scope = (
        f"with at most {rule.max_fix_loops} fix loop(s) in {', '.join(sources)} "
        "(each ticket once, by its latest run)"
    )
    # a model with no success is never chosen, however many tickets it ran; among the others
    # the best Wilson lower bound (1 of 1 is not proof beside 9 of 10), then most successes
    proven = [m for m in sorted(tally) if tally[m][0] and m != "unknown"]
    if not proven:
        ok, n = tally.get(rule.fallback, (0, 0))
        return {
            "model": rule.fallback,
            "rationale": f"no {complexity} ticket succeeded on a known model {scope}: "
            f"{_tallied(tally)}; the proven default",
            "success_rate": ok / n * 100 if n else None,
            "sample_size": n,
        }
    model = max(
        proven,
        key=lambda m: (
            wilson(*tally[m], rule.confidence)[0],
            tally[m][0],
            m == rule.fallback,
        ),
    )
    ok, n = tally[model]
    others = {m: v for m, v in tally.items() if m != model}
    return {
        "model": model,
        "rationale": f"{ok} of {n} {complexity} tickets on {model} succeeded {scope}"
        + (
            f"; beside {_tallied(others)}, the highest {rule.confidence:g}% Wilson lower "
            "bound of the success rate"
            if others
            else ""
        ),
        "success_rate": ok / n * 100,  # unrounded, as the adoption's
        "sample_size": n,
    }


def _tally(runs: dict[str, tuple[str, Ticket]], max_fix_loops: int) -> dict[str, tuple[int, int]]:
    """Per model: (tickets that succeeded, tickets run); a success not known counts as none."""
    tally: dict[str, tuple[int, int]] = {}
    for model, t in runs.values():
        ok, n = tally.get(model, (0, 0))
        tally[model] = (ok + (succeeded(t, max_fix_loops) is True), n + 1)
    return tally


def _tallied(tally: dict[str, tuple[int, int]]) -> str:
    return ", ".join(f"{m} {ok} of {n}" for m, (ok, n) in sorted(tally.items()))


def _expected(
    complexity: str, execution: dict[str, dict[str, Any]], evidence: _Evidence
) -> tuple[float | None, float | None, list[Usage]]:
    """Mean tokens and USD of one ticket of ``complexity`` on its chosen model: that model's
    runs, else any model's of that complexity, else all runs; USD only when all were priced;
    and the runs the means are of. Runs the log records failed are left out (failed work is
    cheap: their cost is not a done ticket's); when every run failed, the means are of them,
    as lower bounds (finishing costs at least that)."""
    model = execution.get(complexity, {}).get("model")
    known = [
        (c, m, u, bool(failures(t) or work_not_run(t)))
        for c, rows in evidence.observed.items()
        for m, t, u in rows
        if u is not None
    ]
    done = [row for row in known if not row[3]]

    def chosen(pool: list[tuple[str, str, Usage, bool]]) -> list[tuple[str, str, Usage, bool]]:
        return (
            [row for row in pool if row[0] == complexity and row[1] == model]
            or [row for row in pool if row[0] == complexity]
            or pool
        )

    selected = chosen(done) or chosen(known)
    if not selected:
        return None, None, []
    runs = [u for _, _, u, _ in selected]
    if any(f for *_, f in selected):
        why = "an estimate is made of failed runs (or runs whose work did not run) only"
        runs = [u.at_least(why) for u in runs]
    elif len(done) < len(known):
        evidence.left_out = True
    usd = [u.usd for u in runs]
    return (
        mean(u.total for u in runs),
        mean(v for v in usd if v is not None) if all(v is not None for v in usd) else None,
        runs,
    )


def _planning_share(planning: list[Usage], n_tickets: int) -> tuple[float, float | None]:
    """The planning share of a ticket: one batch's planning (the mean of the evidence's, the
    `tokens_per_batch` shown) spread over this phase's tickets, so the tickets' shares add up
    to that one figure; in tokens and in USD alike (USD unknown when any batch's planning was
    not priced: a share left out would make the estimate look cheaper)."""
    if not (planning and n_tickets):
        return 0.0, 0.0
    share_tokens = mean(u.total for u in planning) / n_tickets
    planning_usd = [u.usd for u in planning]
    share_usd = (
        mean(v for v in planning_usd if v is not None) / n_tickets
        if all(v is not None for v in planning_usd)
        else None
    )
    return share_tokens, share_usd


def _costs(
    tickets: dict[str, str],
    execution: dict[str, dict[str, Any]],
    evidence: _Evidence,
    share_tokens: float,
    share_usd: float | None,
) -> dict[str, Any]:
    """The expected tokens and USD per ticket (planning share included) and their total. An
    estimate made of figures that are only lower bounds (a run not finished, usage no rule
    placed) is at least what it says: its ``lower_bounds`` name which, and the evidence's
    ``lower`` why."""
    costs: dict[str, Any] = {}
    total_tokens = 0.0
    usd_parts: list[float | None] = []
    bounded: set[str] = set()
    for tid, complexity in tickets.items():
        tokens, usd, runs = _expected(complexity, execution, evidence)
        if tokens is None:
            costs[tid] = {"complexity": complexity, "tokens": None, "usd": None}
            continue
        costs[tid] = {
            "complexity": complexity,
            "model": execution[complexity]["model"],
            "tokens": _round(tokens + share_tokens),
            "usd": None if usd is None or share_usd is None else usd + share_usd,
        }
        lower = _lower_bounds([*runs, *evidence.planning], evidence, costs[tid]["usd"])
        if lower:
            costs[tid]["lower_bounds"] = lower
            bounded.update(lower)
        total_tokens += tokens + share_tokens
        usd_parts.append(costs[tid]["usd"])
    costs["total"] = {
        "tokens": _round(total_tokens),
        "usd": sum(u for u in usd_parts if u is not None)
        if usd_parts and all(u is not None for u in usd_parts)
        else None,
    }
    if lower := [m for m in ("tokens", "usd") if m in bounded and costs["total"][m] is not None]:
        costs["total"]["lower_bounds"] = lower
    return costs


def _lower_bounds(figures: list[Usage], evidence: _Evidence, usd: float | None) -> list[str]:
    """Which of an estimate's figures (``tokens``, ``usd`` when known) are only lower bounds:
    those of a mean over ``figures`` of which one is, or all when some usage of the evidence
    went to no ticket or a phase of several tickets recorded no shared planning. Each reason
    is kept in ``evidence.lower``."""
    out = []
    for name, measure in (("tokens", "total"), ("usd", "usd")):
        if name == "usd" and usd is None:
            continue
        low = [u for u in figures if u.is_lower_bound(measure)]
        for u in low:
            evidence.lower[u.lower_bound_note or "a figure of the evidence is a lower bound"] = None
        if low or evidence.unplaced or evidence.unplanned:
            out.append(name)
    return out


def _assemble(
    target: str,
    tickets: dict[str, str],
    sources: list[str],
    evidence: _Evidence,
    execution: dict[str, dict[str, Any]],
    costs: dict[str, Any],
    share_tokens: float,
    share_usd: float | None,
) -> dict[str, Any]:
    """The strategy file's content, in its documented key order."""
    planning = evidence.planning
    unknown = not planning and evidence.unplanned
    return {
        "phase": target,
        "tickets": list(tickets),
        "evidence": sources,
        "model_selection": {
            "planning": {
                "model": evidence.planning_models.most_common(1)[0][0]
                if evidence.planning_models
                else "sonnet",
                "tokens_per_batch": _round(mean(u.total for u in planning)) if planning else None,
                **_low_mark(evidence, planning),
            },
            "execution": execution,
            "monitoring": evidence.monitoring.most_common(1)[0][0]
            if evidence.monitoring
            else "haiku",
            "review": {
                tier: {
                    "type": Counter(t for t, _ in rows).most_common(1)[0][0],
                    "tokens": _round(mean(u.total for _, u in rows if u))
                    if any(u for _, u in rows)
                    else None,
                    "tickets": len(rows),
                    **_low_mark(evidence, [u for _, u in rows if u]),
                }
                for tier, rows in sorted(evidence.reviews.items())
            },
        },
        "estimated_costs": costs,
        **({"left_out": evidence.failed} if evidence.left_out and evidence.failed else {}),
        **(
            {"lower_bounds_why": why}
            if (why := [*evidence.unplaced, *evidence.unplanned, *evidence.lower])
            else {}
        ),
        "batching": {
            "shared_planning": True,
            # no planning known where some ran: its share is not known, never 0
            "planning_tokens_per_ticket": None if unknown else _round(share_tokens),
            "planning_usd_per_ticket": None if unknown else share_usd,
        },
    }


def _low_mark(evidence: _Evidence, figures: list[Usage]) -> dict[str, bool]:
    """``{"lower_bound": True}`` when a mean of ``figures`` is only at least what it says: one of
    them is a lower bound, or an evidence phase has usage no rule placed (it may be theirs);
    {} otherwise (the key is left out, as ``lower_bounds`` is from an exact estimate)."""
    low = [u for u in figures if u.is_lower_bound("total")]
    for u in low:
        evidence.lower[u.lower_bound_note or "a figure of the evidence is a lower bound"] = None
    return {"lower_bound": True} if figures and (low or evidence.unplaced) else {}


def strategy_yaml(strategy: dict[str, Any]) -> str:
    import yaml

    header = (
        f"# Strategy for phase {strategy['phase']}, filled by `orchphase strategy` from the data\n"
        f"# of {', '.join(strategy['evidence'])}. Per-ticket tokens include the shared planning\n"
        "# share; USD is null where the evidence was not measured from transcripts.\n"
    )
    if "lower_bounds_why" in strategy:
        header += (
            "# An estimate's figures named under lower_bounds are at least that (see "
            "lower_bounds_why).\n"
        )
    return header + yaml.safe_dump(strategy, sort_keys=False, allow_unicode=True, width=100)

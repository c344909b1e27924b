"""The canonical report of a phase run, as JSON-ready data. Every other output renders it.

It holds no timestamp: the same data and results give the same report, serial or distributed.
"""

from __future__ import annotations

import subprocess
from functools import partial
from pathlib import Path
from typing import Any

from pytest_orchphase import __version__
from pytest_orchphase.decide.decisions import Proceed, adoption, break_even
from pytest_orchphase.errors import OrchphaseError, display
from pytest_orchphase.evaluate.runner import PhaseRunner
from pytest_orchphase.load.models import STAGES
from pytest_orchphase.load.phase import PLANNING, Phase
from pytest_orchphase.metrics.registry import MetricContext, known_value
from pytest_orchphase.report.compare import comparison
from pytest_orchphase.report.results import Entry
from pytest_orchphase.usage.accounts import Accounts, hand_accounts
from pytest_orchphase.usage.attribution import Measured
from pytest_orchphase.usage.value import Usage, known

FORMAT_VERSION = 1
SUMMARY_METRICS: tuple[tuple[str, str, dict[str, str]], ...] = (
    ("tokens", "tokens", {"measure": "total"}),
    ("usd", "tokens", {"measure": "usd"}),
    ("shared_planning_tokens", "shared_planning_tokens", {"measure": "total"}),
    ("per_ticket_average", "per_ticket_average", {"measure": "total"}),
    ("ticket_tokens_average", "ticket_tokens_average", {"measure": "total"}),
    ("fix_loops", "fix_loops", {}),
    ("max_review_attempts", "max_review_attempts", {}),
    ("all_reviews_passed", "all_reviews_passed", {}),
    ("quality_vs_sonnet", "quality_vs_sonnet", {}),
    ("wall_time_minutes", "wall_time_minutes", {}),
    ("savings_vs_v2", "savings", {"baseline": "v2", "measure": "total"}),
    ("delta_vs_single_agent", "delta", {"baseline": "single_agent", "measure": "total"}),
    ("batching_savings", "batching_savings", {"baseline": "separate_planning", "measure": "total"}),
)


def failed_report(name: str, error: OrchphaseError, decision: Proceed) -> dict[str, Any]:
    """What can be said when the phase's files do not load."""
    return {
        "format_version": FORMAT_VERSION,
        "generator": f"pytest-orchphase {__version__}",
        "phase": name,
        "error": str(error),
        "criteria": [],
        "gates": [],
        "decisions": {"proceed": decision.to_data()},
    }


def git_commit(cwd: Path) -> str | None:
    """The checked-out commit, or None outside a git work tree (or without git)."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def usage_data(usage: Usage | None) -> dict[str, Any] | None:
    if usage is None:
        return None
    return {
        "total": usage.total,
        "input": usage.input,
        "output": usage.output,
        "cache_write": usage.cache_write,
        "cache_read": usage.cache_read,
        "usd": usage.usd,
        "origin": usage.origin,
        "lower_bounds": sorted(usage.lower_bounds),
        "lower_bound_note": usage.lower_bound_note,
    }


def accounts_data(phase: Phase, accounts: Accounts) -> dict[str, Any]:
    tickets = {}
    for ticket in phase.tickets:
        stages = accounts.stages.get(ticket, {})
        tickets[ticket] = {
            "model": phase.tickets[ticket].model_used,
            "total": usage_data(accounts.ticket(ticket)),
            "stages": {name: usage_data(u) for name, u in stages.items()},
        }
    return {
        "shared_planning": usage_data(accounts.planning),
        "tickets": tickets,
        "unattributed": usage_data(accounts.unattributed),
    }


def by_stage_model(
    phase: Phase, accounts: Accounts, measured: Measured | None
) -> list[dict[str, Any]]:
    """Usage by (stage, model): measured calls' models, else the log's model of each stage."""
    totals: dict[tuple[str, str], Usage] = {}

    def add(stage: str, model: str, usage: Usage) -> None:
        key = (stage, model)
        totals[key] = totals[key] + usage if key in totals else usage

    measured_tickets = measured.tickets() if measured else set()
    if measured is not None:
        for (owner, stage, model), usage in measured.by_model.items():
            add(stage or ("unattributed" if not owner else "whole ticket"), model, usage)
    if measured is None or measured.planning is None:
        planning = phase.log.shared_planning
        if accounts.planning is not None:
            add(PLANNING, (planning.model if planning else None) or "unknown", accounts.planning)
    for ticket_id, ticket in phase.tickets.items():
        if ticket_id in measured_tickets:
            continue
        if ticket_id in accounts.flat:
            add("whole ticket", ticket.model_used or "unknown", accounts.flat[ticket_id])
            continue
        for stage, usage in accounts.stages.get(ticket_id, {}).items():
            model = getattr(ticket, stage).model or ticket.model_used or "unknown"
            add(stage, model, usage)
    return [
        {"stage": stage, "model": model, "total": u.total, "usd": u.usd, "origin": u.origin}
        for (stage, model), u in sorted(
            totals.items(), key=lambda kv: (_stage_rank(kv[0][0]), kv[0][1])
        )
    ]


STAGE_ORDER = (PLANNING, *STAGES, "whole ticket", "unattributed")


def _stage_rank(stage: str) -> int:
    """Stages in the order work flows, not alphabetically."""
    return STAGE_ORDER.index(stage) if stage in STAGE_ORDER else len(STAGE_ORDER)


def estimate_rows(phase: Phase, measured: Measured) -> list[dict[str, Any]]:
    """Per place: the log's figure, the measured one, the estimate's error in % of the measured
    ((estimated − measured) / measured × 100) and the measured USD."""
    hand = hand_accounts(phase)
    out: list[dict[str, Any]] = []

    def row(place: str, estimate: Usage | None, actual: Usage | None) -> None:
        if estimate is None and actual is None:
            return
        error = None
        if estimate is not None and actual is not None and actual.total:
            error = round((estimate.total - actual.total) / actual.total * 100, 1)
        out.append(
            {
                "place": place,
                "estimated": estimate.total if estimate else None,
                "measured": actual.total if actual else None,
                "error_percent": error,
                "usd": actual.usd if actual else None,
                "lower_bounds": sorted(actual.lower_bounds) if actual else [],
            }
        )

    row("shared planning", hand.planning, measured.planning)
    for ticket in phase.tickets:
        stages = measured.stages.get(ticket, {})
        for stage in STAGES:
            estimate = hand.stage(ticket, stage)
            if stage in stages or (estimate is not None and ticket in measured.tickets()):
                row(f"{ticket} {stage}", estimate, stages.get(stage))
        if ticket in measured.whole:
            row(f"{ticket} (whole session)", hand.ticket(ticket), measured.whole[ticket])
    row("unattributed", None, measured.unattributed)
    return out


def ticket_facts(ctx: MetricContext) -> dict[str, dict[str, Any]]:
    """Per ticket: execution model, complexity, review tier and result, attempts, fix loops,
    quality (None where the log does not say)."""
    out: dict[str, dict[str, Any]] = {}
    for ticket_id, ticket in ctx.phase.tickets.items():
        facts: dict[str, Any] = {
            "model": ticket.model_used,
            "complexity": ticket.complexity,
            "tier": ticket.review.tier if ticket.review else None,
            "review": ticket.review.result if ticket.review else None,
            "errors": [
                e.model_dump()
                for e in (ticket.implementation.errors_encountered if ticket.implementation else [])
            ],
        }
        for key, name in (
            ("attempts", "review_attempts"),
            ("fix_loops", "fix_loops"),
            ("quality", "quality_vs_sonnet"),
        ):
            facts[key] = known_value(ctx, name, ticket_id)
        out[ticket_id] = facts
    return out


def _cap(entries: list[Entry], ticket: str) -> tuple[str | None, float | None]:
    """The token cap a per-ticket criterion puts on ``ticket``: (operator, limit), or Nones."""
    for e in entries:
        leaf = e.get("condition", {})
        if (
            e["kind"] == "criterion"
            and e["ticket"] == ticket
            and leaf.get("metric") == "tokens"
            and leaf.get("unit") == "tokens"
            and isinstance(leaf.get("limit"), int | float)
        ):
            return leaf["operator"], float(leaf["limit"])
    return None, None


def ticket_table(
    runner: PhaseRunner, ctx: MetricContext, entries: list[Entry], versus: str | None
) -> list[dict[str, Any]]:
    """Per ticket, what a lead acts on: its own tokens and USD (shared planning excluded), the
    token cap its criteria set, the result of its items, whether its figures were measured or
    estimated, and its delta against the compared phase (``versus``'s tokens − this phase's:
    positive when this phase spent less), where that phase ran the ticket."""
    other: MetricContext | None = None
    if versus is not None:
        try:
            other = runner.context(versus)
        except OrchphaseError:
            other = None
    rows = []
    for ticket_id, ticket in ctx.phase.tickets.items():
        usage = known(partial(ctx.ticket_usage, ticket_id))
        mine = [e for e in entries if e["kind"] == "criterion" and e["ticket"] == ticket_id]
        failing = [e["name"] for e in mine if not e["passed"]]
        inconclusive = [e["name"] for e in mine if e.get("outcome") == "INCONCLUSIVE"]
        operator, cap = _cap(entries, ticket_id)
        theirs = None
        if other is not None and ticket_id in other.phase.tickets:
            theirs = known(partial(other.ticket_usage, ticket_id))
        their_usd = theirs.usd if theirs is not None else None
        my_usd = usage.usd if usage is not None else None
        delta_usd = their_usd - my_usd if their_usd is not None and my_usd is not None else None
        rows.append(
            {
                "ticket": ticket_id,
                "model": ticket.model_used,
                "tokens": usage.total if usage else None,
                "usd": usage.usd if usage else None,
                "origin": usage.origin if usage else None,
                "cap_operator": operator,
                "cap": cap,
                "result": "no item" if not mine else "FAIL" if failing else "PASS",
                "failing": failing,
                "inconclusive": inconclusive,
                "versus": versus if theirs is not None else None,
                "delta_tokens": theirs.total - usage.total if theirs and usage else None,
                "delta_usd": delta_usd,
            }
        )
    return rows


def compaction_line(planning: Usage | None, compaction: Usage | None) -> str | None:
    """Context compaction on its own line: its tokens and USD and its share of the shared
    planning it is counted in (None when the phase had none)."""
    if compaction is None:
        return None
    text = f"Context compaction: {compaction.total:,} tokens"
    if compaction.usd is not None:
        text += f", ${compaction.usd:,.4f}"
    shares = []
    if planning is not None and planning.total:
        shares.append(f"{compaction.total / planning.total:.0%} of its tokens")
        if compaction.usd is not None and planning.usd:
            shares.append(f"{compaction.usd / planning.usd:.0%} of its USD")
    if shares:
        text += f" — counted in shared planning: {' and '.join(shares)}"
    return text


def log_notes(phase: Phase) -> dict[str, Any]:
    """What the people who ran the phase wrote down: the log's key insight and stage notes,
    each ticket's errors encountered, the metadata's hypothesis and risk."""
    errors = []
    stage_notes = []
    for ticket_id, ticket in phase.tickets.items():
        if ticket.implementation is not None:
            errors += [
                {"ticket": ticket_id, **e.model_dump()}
                for e in ticket.implementation.errors_encountered
            ]
        stage_notes += [
            {"ticket": ticket_id, "stage": name, "note": stage.notes}
            for name, stage in ticket.stages().items()
            if getattr(stage, "notes", None)
        ]
    return {
        "key_insight": phase.log.key_insight,
        "hypothesis": list(phase.metadata.hypothesis),
        "risk": phase.metadata.risk,
        "errors_encountered": errors,
        "stage_notes": stage_notes,
    }


def _public(entry: Entry) -> dict[str, Any]:
    """An item's entry without its collection order (the list is already in that order)."""
    return {k: v for k, v in entry.items() if k != "order"}


def _metrics(ctx: MetricContext) -> dict[str, Any]:
    return {key: known_value(ctx, name, **params) for key, name, params in SUMMARY_METRICS}


def build(
    runner: PhaseRunner,
    name: str,
    entries: list[Entry],
    decision: Proceed,
    *,
    no_gate: bool = False,
    cwd: Path | None = None,
) -> dict[str, Any]:
    """The report of phase ``name`` from the items' result entries."""
    phase = runner.load(name)
    ctx = runner.context(name)
    measured = runner.measured(name)
    hand = hand_accounts(phase)
    n = len(phase.tickets)
    rule = phase.criteria.decisions.adopt_model
    adopt = adoption(runner, name, rule) if rule else None
    left_out: list[dict[str, str]] = []

    def leave_out(other: str, exc: OrchphaseError) -> None:
        left_out.append({"phase": other, "error": str(exc).splitlines()[0]})

    table = comparison(runner, on_error=leave_out)
    previous = phase.criteria.requires[-1] if phase.criteria.requires else None
    return {
        "format_version": FORMAT_VERSION,
        "generator": f"pytest-orchphase {__version__}",
        "phase": name,
        "title": phase.criteria.title,
        "commit": git_commit(cwd or Path.cwd()),
        "data": {
            "criteria": display(phase.criteria_doc.path),
            "directory": display(phase.data_dir),
            "metadata": display(phase.metadata_doc.path),
            "execution_log": display(phase.log_doc.path),
            "tickets": list(phase.tickets),
            "strategy": phase.metadata.strategy,
            "measured": measured is not None,
            "transcript_files": measured.files if measured else 0,
            "malformed_lines": measured.malformed_lines if measured else 0,
            "no_gate": no_gate,
        },
        "criteria": [_public(e) for e in entries if e["kind"] == "criterion"],
        "gates": [_public(e) for e in entries if e["kind"] == "gate"],
        "decisions": {
            "proceed": decision.to_data(),
            "adopt_model": adopt.to_data() if adopt else None,
            "break_even": {
                "tokens": break_even(runner, name, "total").to_data(),
                "usd": break_even(runner, name, "usd").to_data(),
            },
        },
        "metrics": _metrics(ctx),
        "baselines": {
            key: {
                "per_ticket": b.tokens_per_ticket,
                "for_tickets": b.tokens_per_ticket * n,
                "usd_per_ticket": b.usd_per_ticket,
            }
            for key, b in sorted(phase.baselines.items())
            if b.compare
        },
        "usage": {
            "source": "measured" if measured else "estimated",
            "total": usage_data(known(ctx.phase_usage)),
            **accounts_data(phase, ctx.accounts),
            "estimated": accounts_data(phase, hand),
            "by_stage_model": by_stage_model(phase, ctx.accounts, measured),
            "agents": [
                {
                    "agent_id": a.agent_id,
                    "session_id": a.session_id,
                    "description": a.description,
                    "ticket": a.ticket,
                    "stage": a.stage,
                    "how": a.how,
                    "usage": usage_data(a.usage),
                }
                for a in (measured.agents if measured else [])
            ],
            "sessions": [
                {"session_id": a.session_id, "role": a.role, "ticket": a.ticket, "how": a.how}
                for a in (measured.sessions if measured else [])
            ],
            "shared_planning_unknown": ctx.accounts.planning_unknown,
            "warnings": measured.warnings if measured else [],
            "estimate_rows": estimate_rows(phase, measured) if measured else [],
            "compaction": usage_data(measured.compaction) if measured else None,
            "compaction_line": compaction_line(measured.planning, measured.compaction)
            if measured
            else None,
        },
        "tickets": ticket_facts(ctx),
        "ticket_table": ticket_table(runner, ctx, entries, previous),
        "notes": log_notes(phase),
        "mismatches": [
            {
                "file": m.file,
                "line": m.line,
                "field": m.field,
                "declared": m.declared,
                "computed": m.computed,
                "formula": m.formula,
                "percent": m.percent,
            }
            for m in runner.mismatches(name)
        ],
        # every phase with data, one column each; the previous phase is the last it requires
        "comparison": {
            **table.to_data(),
            "previous": previous,
            "left_out": left_out,
        },
    }

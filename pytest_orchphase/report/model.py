"""The canonical report of a phase run, as JSON-ready data (its shape: :mod:`.shape`). Every
other output renders it.

It holds no timestamp: the same data and results give the same report, serial or distributed.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import TypeVar, cast, overload

from pytest_orchphase import __version__
from pytest_orchphase.decide.decisions import Adoption, BreakEven, Proceed, adoption, break_even
from pytest_orchphase.errors import OrchphaseError, display
from pytest_orchphase.evaluate.runner import PhaseRunner
from pytest_orchphase.load.models import STAGES
from pytest_orchphase.load.phase import PLANNING, Phase
from pytest_orchphase.metrics.registry import MetricContext, Value, known_value
from pytest_orchphase.report.compare import comparison
from pytest_orchphase.report.shape import (
    AccountsData,
    AdoptionData,
    AgentRow,
    BaselineRow,
    BreakEvenData,
    ComparisonData,
    CriterionEntry,
    DataSection,
    Decisions,
    Entry,
    EstimateRow,
    FailedReport,
    GateEntry,
    LeftOut,
    MismatchData,
    Notes,
    ProceedData,
    Report,
    SessionRow,
    StageModelRow,
    StageNote,
    TicketAccount,
    TicketError,
    UsageData,
    UsageSection,
)
from pytest_orchphase.report.tickets import error_data, ticket_facts, ticket_table
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


# The decisions serialise themselves (``to_data``); tests check that their keys are these types'.
def proceed_data(decision: Proceed) -> ProceedData:
    return cast("ProceedData", decision.to_data())


def adoption_data(decided: Adoption) -> AdoptionData:
    return cast("AdoptionData", decided.to_data())


def break_even_data(figure: BreakEven) -> BreakEvenData:
    return cast("BreakEvenData", figure.to_data())


def failed_report(name: str, error: OrchphaseError, decision: Proceed) -> FailedReport:
    """What can be said when the phase's files do not load."""
    return {
        "format_version": FORMAT_VERSION,
        "generator": f"pytest-orchphase {__version__}",
        "phase": name,
        "error": str(error),
        "criteria": [],
        "gates": [],
        "decisions": {"proceed": proceed_data(decision)},
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


@overload
def usage_data(usage: Usage) -> UsageData: ...
@overload
def usage_data(usage: Usage | None) -> UsageData | None: ...
def usage_data(usage: Usage | None) -> UsageData | None:
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


def accounts_data(phase: Phase, accounts: Accounts) -> AccountsData:
    tickets: dict[str, TicketAccount] = {}
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


STAGE_ORDER = (PLANNING, *STAGES, "whole ticket", "unattributed")


def _stage_rank(stage: str) -> int:
    """Stages in the order work flows, not alphabetically."""
    return STAGE_ORDER.index(stage) if stage in STAGE_ORDER else len(STAGE_ORDER)


def _logged_by_stage_model(
    phase: Phase, accounts: Accounts, skip: set[str]
) -> list[tuple[str, str, Usage]]:
    """(stage, model, usage) of each ticket not in ``skip`` from the log: its whole figure on
    its execution model, else each stage's on the stage's model."""
    out: list[tuple[str, str, Usage]] = []
    for ticket_id, ticket in phase.tickets.items():
        if ticket_id in skip:
            continue
        if ticket_id in accounts.flat:
            out.append(("whole ticket", ticket.model_used or "unknown", accounts.flat[ticket_id]))
            continue
        for stage, usage in accounts.stages.get(ticket_id, {}).items():
            model = getattr(ticket, stage).model or ticket.model_used or "unknown"
            out.append((stage, model, usage))
    return out


def by_stage_model(
    phase: Phase, accounts: Accounts, measured: Measured | None
) -> list[StageModelRow]:
    """Usage by (stage, model): measured calls' models, else the log's model of each stage."""
    parts: list[tuple[str, str, Usage]] = []
    if measured is not None:
        for (owner, stage, model), usage in measured.by_model.items():
            parts.append((stage or ("unattributed" if not owner else "whole ticket"), model, usage))
    if (measured is None or measured.planning is None) and accounts.planning is not None:
        planning = phase.log.shared_planning
        parts.append(
            (PLANNING, (planning.model if planning else None) or "unknown", accounts.planning)
        )
    parts += _logged_by_stage_model(phase, accounts, measured.tickets() if measured else set())
    totals: dict[tuple[str, str], Usage] = {}
    for stage, model, usage in parts:
        key = (stage, model)
        totals[key] = totals[key] + usage if key in totals else usage
    return [
        {"stage": stage, "model": model, "total": u.total, "usd": u.usd, "origin": u.origin}
        for (stage, model), u in sorted(
            totals.items(), key=lambda kv: (_stage_rank(kv[0][0]), kv[0][1])
        )
    ]


def _estimate_row(place: str, estimate: Usage | None, actual: Usage | None) -> EstimateRow:
    error = None
    if estimate is not None and actual is not None and actual.total:
        error = round((estimate.total - actual.total) / actual.total * 100, 1)
    return {
        "place": place,
        "estimated": estimate.total if estimate else None,
        "measured": actual.total if actual else None,
        "error_percent": error,
        "usd": actual.usd if actual else None,
        "lower_bounds": sorted(actual.lower_bounds) if actual else [],
    }


def estimate_rows(phase: Phase, measured: Measured) -> list[EstimateRow]:
    """Per place: the log's figure, the measured one, the estimate's error in % of the measured
    ((estimated − measured) / measured × 100) and the measured USD."""
    hand = hand_accounts(phase)
    places: list[tuple[str, Usage | None, Usage | None]] = [
        ("shared planning", hand.planning, measured.planning)
    ]
    for ticket in phase.tickets:
        stages = measured.stages.get(ticket, {})
        for stage in STAGES:
            estimate = hand.stage(ticket, stage)
            if stage in stages or (estimate is not None and ticket in measured.tickets()):
                places.append((f"{ticket} {stage}", estimate, stages.get(stage)))
        if ticket in measured.whole:
            places.append(
                (f"{ticket} (whole session)", hand.ticket(ticket), measured.whole[ticket])
            )
    places.append(("unattributed", None, measured.unattributed))
    return [
        _estimate_row(place, estimate, actual)
        for place, estimate, actual in places
        if estimate is not None or actual is not None
    ]


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


def log_notes(phase: Phase) -> Notes:
    """What the people who ran the phase wrote down: the log's key insight and stage notes,
    each ticket's errors encountered, the metadata's hypothesis and risk."""
    errors: list[TicketError] = []
    stage_notes: list[StageNote] = []
    for ticket_id, ticket in phase.tickets.items():
        if ticket.implementation is not None:
            errors += [
                {"ticket": ticket_id, **error_data(e)}
                for e in ticket.implementation.errors_encountered
            ]
        for name, stage in ticket.stages().items():
            note = getattr(stage, "notes", None)
            if note:
                stage_notes.append({"ticket": ticket_id, "stage": name, "note": note})
    return {
        "key_insight": phase.log.key_insight,
        "hypothesis": list(phase.metadata.hypothesis),
        "risk": phase.metadata.risk,
        "errors_encountered": errors,
        "stage_notes": stage_notes,
    }


def _data(phase: Phase, measured: Measured | None, no_gate: bool) -> DataSection:
    return {
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
    }


E = TypeVar("E", CriterionEntry, GateEntry)


def _public(entry: E) -> E:
    """An item's entry without its collection order (the list is already in that order)."""
    public = entry.copy()
    public.pop("order", None)
    return public


def _decisions(runner: PhaseRunner, phase: Phase, decision: Proceed) -> Decisions:
    rule = phase.criteria.decisions.adopt_model
    adopt = adoption(runner, phase.name, rule) if rule else None
    return {
        "proceed": proceed_data(decision),
        "adopt_model": adoption_data(adopt) if adopt else None,
        "break_even": {
            "tokens": break_even_data(break_even(runner, phase.name, "total")),
            "usd": break_even_data(break_even(runner, phase.name, "usd")),
        },
    }


def _metrics(ctx: MetricContext) -> dict[str, Value | None]:
    return {key: known_value(ctx, name, **params) for key, name, params in SUMMARY_METRICS}


def _baselines(phase: Phase) -> dict[str, BaselineRow]:
    n = len(phase.tickets)
    return {
        key: {
            "per_ticket": b.tokens_per_ticket,
            "for_tickets": b.tokens_per_ticket * n,
            "usd_per_ticket": b.usd_per_ticket,
        }
        for key, b in sorted(phase.baselines.items())
        if b.compare
    }


def _agents(measured: Measured | None) -> list[AgentRow]:
    return [
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
    ]


def _sessions(measured: Measured | None) -> list[SessionRow]:
    return [
        {"session_id": a.session_id, "role": a.role, "ticket": a.ticket, "how": a.how}
        for a in (measured.sessions if measured else [])
    ]


def _usage(phase: Phase, ctx: MetricContext, measured: Measured | None) -> UsageSection:
    accounts = accounts_data(phase, ctx.accounts)
    return {
        "source": "measured" if measured else "estimated",
        "total": usage_data(known(ctx.phase_usage)),
        "shared_planning": accounts["shared_planning"],
        "tickets": accounts["tickets"],
        "unattributed": accounts["unattributed"],
        "estimated": accounts_data(phase, hand_accounts(phase)),
        "by_stage_model": by_stage_model(phase, ctx.accounts, measured),
        "agents": _agents(measured),
        "sessions": _sessions(measured),
        "shared_planning_unknown": ctx.accounts.planning_unknown,
        "warnings": measured.warnings if measured else [],
        "estimate_rows": estimate_rows(phase, measured) if measured else [],
        "compaction": usage_data(measured.compaction) if measured else None,
        "compaction_line": compaction_line(measured.planning, measured.compaction)
        if measured
        else None,
    }


def _mismatches(runner: PhaseRunner, name: str) -> list[MismatchData]:
    return [
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
    ]


def _comparison(runner: PhaseRunner, previous: str | None) -> ComparisonData:
    """Every phase with data, one column each; the previous phase is the last one required."""
    left_out: list[LeftOut] = []

    def leave_out(other: str, exc: OrchphaseError) -> None:
        left_out.append({"phase": other, "error": str(exc).splitlines()[0]})

    table = comparison(runner, on_error=leave_out)
    return {
        "phases": table.phases,
        "rows": table.rows,
        "previous": previous,
        "left_out": left_out,
    }


def build(
    runner: PhaseRunner,
    name: str,
    entries: Sequence[Entry],
    decision: Proceed,
    *,
    no_gate: bool = False,
    cwd: Path | None = None,
) -> Report:
    """The report of phase ``name`` from the items' result entries."""
    phase = runner.load(name)
    ctx = runner.context(name)
    measured = runner.measured(name)
    previous = phase.criteria.requires[-1] if phase.criteria.requires else None
    # in this order: the comparison loads every phase and the adoption pools earlier ones
    decisions = _decisions(runner, phase, decision)
    compared = _comparison(runner, previous)
    return {
        "format_version": FORMAT_VERSION,
        "generator": f"pytest-orchphase {__version__}",
        "phase": name,
        "title": phase.criteria.title,
        "commit": git_commit(cwd or Path.cwd()),
        "data": _data(phase, measured, no_gate),
        "criteria": [_public(e) for e in entries if e["kind"] == "criterion"],
        "gates": [_public(e) for e in entries if e["kind"] == "gate"],
        "decisions": decisions,
        "metrics": _metrics(ctx),
        "baselines": _baselines(phase),
        "usage": _usage(phase, ctx, measured),
        "tickets": ticket_facts(ctx),
        "ticket_table": ticket_table(runner, ctx, entries, previous),
        "notes": log_notes(phase),
        "mismatches": _mismatches(runner, name),
        "comparison": compared,
    }

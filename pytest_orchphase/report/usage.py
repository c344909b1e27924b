"""The report's usage section: usage by place (shared planning, each ticket and its stages,
nobody's), by stage and model, by sub-agent and session, and the measured figures against the
log's estimates; measured from transcripts where the phase names its sessions, else the log's."""

from __future__ import annotations

from typing import overload

from pytest_orchphase.load.models import STAGES
from pytest_orchphase.load.phase import PLANNING, Phase
from pytest_orchphase.metrics.registry import MetricContext
from pytest_orchphase.report.shape import (
    AccountsData,
    AgentRow,
    EstimateRow,
    SessionRow,
    StageModelRow,
    TicketAccount,
    UsageData,
    UsageSection,
)
from pytest_orchphase.usage.accounts import Accounts, hand_accounts
from pytest_orchphase.usage.attribution import Measured
from pytest_orchphase.usage.value import Usage, known


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
        {
            "stage": stage,
            "model": model,
            "total": u.total,
            "usd": u.usd,
            "origin": u.origin,
            "lower_bounds": sorted(u.lower_bounds),
        }
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


def estimate_rows(phase: Phase, measured: Measured, accounts: Accounts) -> list[EstimateRow]:
    """Per place: the log's figure, the measured one (as ``accounts`` count it: only a lower
    bound where they say so), the estimate's error in % of the measured ((estimated − measured)
    / measured × 100) and the measured USD. A ticket with usage placed at no stage beside its
    stages' (a sub-agent whose stage is not known, a worker session's own calls) shows that
    usage as its own row, with no estimate, and the ticket in all against its estimate."""
    hand = hand_accounts(phase)
    places: list[tuple[str, Usage | None, Usage | None]] = [
        ("shared planning", hand.planning, measured.planning)
    ]
    for ticket in phase.tickets:
        stages = measured.stages.get(ticket, {})
        for stage in STAGES:
            estimate = hand.stage(ticket, stage)
            if stage in stages or (estimate is not None and ticket in measured.tickets()):
                actual = accounts.stage(ticket, stage) if stage in stages else None
                places.append((f"{ticket} {stage}", estimate, actual or stages.get(stage)))
        if ticket not in measured.whole:
            continue
        if stages:
            places.append((f"{ticket} (no stage)", None, measured.whole[ticket]))
            places.append((f"{ticket} in all", hand.ticket(ticket), accounts.ticket(ticket)))
        else:
            whole = accounts.ticket(ticket) or measured.whole[ticket]
            places.append((f"{ticket} (whole session)", hand.ticket(ticket), whole))
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


def usage_section(phase: Phase, ctx: MetricContext, measured: Measured | None) -> UsageSection:
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
        "estimate_rows": estimate_rows(phase, measured, ctx.accounts) if measured else [],
        "compaction": usage_data(measured.compaction) if measured else None,
        "compaction_line": compaction_line(measured.planning, measured.compaction)
        if measured
        else None,
    }

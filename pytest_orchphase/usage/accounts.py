"""Where a phase's tokens went: shared planning, each ticket's stages, and what nobody can claim.

Hand-kept figures give one usage per stage (``actual_tokens`` wins over ``estimated_tokens``).
Measured usage, when a phase names its sessions, replaces them stage by stage; the estimate is
kept beside it so the report can show each estimate's error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from pytest_orchphase.load.models import Stage, Ticket
from pytest_orchphase.load.models.fields import NOT_RUN as NOT_RUN  # re-exported: read from here
from pytest_orchphase.load.phase import Phase
from pytest_orchphase.usage.value import Usage, total_of


def hand_usage(stage: Stage | Ticket) -> Usage | None:
    """The log's own figure for a stage (or a flat ticket): recorded actual, else the estimate."""
    if stage.actual_tokens is not None:
        return Usage.recorded(stage.actual_tokens)
    if stage.estimated_tokens is not None:
        return Usage.estimated(stage.estimated_tokens)
    return None


@dataclass
class Accounts:
    """Usage of one phase by place. A place is (ticket, stage), or (None, PLANNING)."""

    planning: Usage | None
    stages: dict[str, dict[str, Usage]]
    flat: dict[str, Usage] = field(default_factory=dict)
    unattributed: Usage | None = None
    #: why a ticket's usage is unknown (a stage without figures, no measured usage …)
    unknown: dict[str, str] = field(default_factory=dict)
    #: why shared planning is unknown (``planning`` is then None, never an estimate)
    planning_unknown: str | None = None
    #: True when the figures come from transcripts (a ticket may still fall back to the log)
    measured: bool = False
    #: (ticket or "", stage or "shared_planning" or "") → the first and last measured call
    #: placed there (("", ""): the unattributed calls); empty for a phase not measured
    spans: dict[tuple[str, str], tuple[datetime, datetime]] = field(default_factory=dict)
    #: (ticket or "", stage or "shared_planning" or "") → how many measured calls placed there
    #: record no time (``spans`` cannot hold them)
    unstamped: dict[tuple[str, str], int] = field(default_factory=dict)
    #: why a measured call may be missing from ``spans`` (a transcript line that may have
    #: recorded one could not be read), "" when none may be
    calls_lost: str = ""

    def ticket(self, ticket: str) -> Usage | None:
        if ticket in self.unknown:
            return None
        if ticket in self.flat:
            return self.flat[ticket]
        return total_of(list(self.stages.get(ticket, {}).values()))

    def stage(self, ticket: str, stage: str) -> Usage | None:
        return self.stages.get(ticket, {}).get(stage)


def hand_accounts(phase: Phase) -> Accounts:
    """The phase's usage as the log records it (estimates and recorded actuals)."""
    planning_stage = phase.log.shared_planning
    planning = hand_usage(planning_stage) if planning_stage else None
    stages: dict[str, dict[str, Usage]] = {}
    flat: dict[str, Usage] = {}
    unknown: dict[str, str] = {}
    for ticket_id, ticket in phase.tickets.items():
        if (usage := hand_usage(ticket)) is not None:
            flat[ticket_id] = usage
            continue
        stages[ticket_id] = {
            name: usage for name, st in ticket.stages().items() if (usage := hand_usage(st))
        }
        # A stage that ran but records no figure would count as 0: the ticket's total is unknown.
        blank = [
            name
            for name, st in ticket.stages().items()
            if name not in stages[ticket_id] and st.status not in NOT_RUN
        ]
        if blank and stages[ticket_id]:
            unknown[ticket_id] = (
                f"ticket {ticket_id}'s {', '.join(blank)} stage records no estimated_tokens or "
                "actual_tokens (mark it status: skipped if it did not run)"
            )
    return Accounts(planning=planning, stages=stages, flat=flat, unknown=unknown)

"""The terminal summary of a phase run: results table, declared-total mismatches, decision line."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tabulate import tabulate

from pytest_orchphase.accounting import hand_accounts
from pytest_orchphase.declared import show
from pytest_orchphase.errors import OrchphaseError
from pytest_orchphase.measure import Measured
from pytest_orchphase.models import STAGES
from pytest_orchphase.phase import Phase, next_phase_name
from pytest_orchphase.quantity import fmt_tokens
from pytest_orchphase.report.results import Entry, row
from pytest_orchphase.usage import Usage

if TYPE_CHECKING:
    from pytest_orchphase.items import PhaseSettings

COLUMNS = ("criterion", "ticket", "metric", "actual", "operator", "limit", "stretch", "result")


@dataclass(frozen=True)
class Decision:
    next_phase: str
    answer: str  # YES, NO or UNDECIDED
    reasons: list[str]

    @property
    def line(self) -> str:
        text = f"Proceed to phase {self.next_phase}: {self.answer}"
        return f"{text} — {'; '.join(self.reasons)}" if self.reasons else text


def result_text(row: dict[str, str]) -> str:
    result = row.get("result", "")
    if result == "passed" and row.get("stretch_met") == "false":
        return "PASS (stretch missed)"
    if result == "passed" and row.get("stretch_met") == "true":
        return "PASS (stretch met)"
    return {"passed": "PASS", "failed": "FAIL", "bypassed": "BYPASSED"}.get(result, result.upper())


def decide(settings: PhaseSettings, rows: list[dict[str, str]], collection_errors: int) -> Decision:
    runner = settings.runner
    try:
        phase = runner.load(settings.phase)
        expected = len(phase.criteria.requires) + len(runner.items(settings.phase))
        upcoming = next_phase_name(runner.criteria_dir, phase)
    except OrchphaseError:
        return Decision("after " + settings.phase, "NO", ["the phase's files have errors"])
    if collection_errors:
        return Decision(upcoming, "NO", [f"{collection_errors} collection error(s)"])
    failing = [_item_name(r) for r in rows if r.get("result") == "failed"]
    if failing:
        return Decision(upcoming, "NO", [f"failing: {', '.join(failing)}"])
    if len(rows) < expected:
        return Decision(
            upcoming,
            "UNDECIDED",
            [f"only {len(rows)} of {expected} criteria ran (deselected or skipped)"],
        )
    bypassed = [r["ticket"] for r in rows if r.get("result") == "bypassed"]
    reasons = [f"gate {', '.join(bypassed)} bypassed with --orchphase-no-gate"] if bypassed else []
    return Decision(upcoming, "YES", reasons)


def _item_name(row: dict[str, str]) -> str:
    crit, ticket = row.get("criterion", ""), row.get("ticket", "")
    return f"{crit}[{ticket}]" if ticket else crit


def write_summary(tr: Any, settings: PhaseSettings, entries: list[Entry]) -> None:
    rows = [row(e) for e in entries]
    tr.section(f"orchphase: phase {settings.phase}", sep="=")
    if rows:
        table = [
            [
                r.get("criterion", ""),
                r.get("ticket", ""),
                r.get("metric", ""),
                r.get("actual", ""),
                r.get("operator", ""),
                r.get("limit", ""),
                r.get("stretch", ""),
                result_text(r),
            ]
            for r in rows
        ]
        tr.write_line(tabulate(table, headers=COLUMNS, tablefmt="simple"))
    else:
        tr.write_line("no criterion ran")
    try:
        mismatches = settings.runner.mismatches(settings.phase)
    except OrchphaseError:
        mismatches = []
    if mismatches:
        tr.write_line("")
        tr.write_line(f"Declared totals that differ from the computed ones ({len(mismatches)}):")
        tr.write_line(
            tabulate(
                [
                    [
                        f"{m.file}:{m.line}" if m.line else m.file,
                        m.field,
                        show(m.declared),
                        show(m.computed),
                        m.formula,
                    ]
                    for m in mismatches
                ],
                headers=("where", "field", "declared", "computed", "formula"),
                tablefmt="simple",
                disable_numparse=True,
            )
        )
    if rows:
        write_measured(tr, settings)
    errors = len(tr.stats.get("error", []))
    decision = decide(settings, rows, errors)
    tr.write_line("")
    tr.write_line(
        decision.line, bold=True, green=decision.answer == "YES", red=decision.answer != "YES"
    )


def estimate_rows(phase: Phase, measured: Measured) -> list[list[str]]:
    """Place, estimated (the log's figure), measured, the estimate's error, measured USD."""
    hand = hand_accounts(phase)
    out: list[list[str]] = []

    def row(place: str, estimate: Usage | None, actual: Usage | None) -> None:
        if estimate is None and actual is None:
            return
        error = ""
        if estimate is not None and actual is not None and actual.total:
            error = f"{(estimate.total - actual.total) / actual.total * 100:+.0f}%"
        usd = "" if actual is None else ("unknown" if actual.usd is None else f"${actual.usd:,.4f}")
        out.append(
            [
                place,
                fmt_tokens(estimate.total) if estimate else "",
                fmt_tokens(actual.total) if actual else "",
                error,
                usd,
            ]
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


def write_measured(tr: Any, settings: PhaseSettings) -> None:
    measured = settings.runner.measured_if_read(settings.phase)
    if measured is None:
        return
    phase = settings.runner.load(settings.phase)
    tr.write_line("")
    tr.write_line(
        f"Measured usage ({measured.files} transcript files, {measured.malformed_lines} "
        "malformed lines); the error is (estimated − measured) / measured:"
    )
    tr.write_line(
        tabulate(
            estimate_rows(phase, measured),
            headers=("place", "estimated", "measured", "error", "USD"),
            tablefmt="simple",
            disable_numparse=True,
        )
    )
    unplaced = [a for a in measured.agents if a.ticket is None and a.stage is None]
    for agent in unplaced:
        tr.write_line(
            f"unattributed: agent {agent.agent_id} "
            f"({agent.description or 'no description'}): {agent.how}"
        )
    for warning in measured.warnings:
        tr.write_line(f"warning: {warning}")

"""The canonical report of a phase run, as JSON-ready data (its shape: :mod:`.shape`). Every
other output renders it.

It holds no timestamp: the same data and results give the same report, serial or distributed.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import TypeVar, cast

from pytest_orchphase import __version__
from pytest_orchphase.decide.adoption import Adoption, adoption
from pytest_orchphase.decide.breakeven import BreakEven, break_even
from pytest_orchphase.decide.decisions import Proceed
from pytest_orchphase.errors import OrchphaseError, display
from pytest_orchphase.evaluate.runner import PhaseRunner
from pytest_orchphase.load.phase import Phase
from pytest_orchphase.metrics.registry import (
    Bound,
    MetricContext,
    Value,
    known_measurement,
)
from pytest_orchphase.report.compare import comparison
from pytest_orchphase.report.results import CriterionEntry, Entry, GateEntry
from pytest_orchphase.report.shape import (
    AdoptionData,
    BaselineRow,
    BreakEvenData,
    ComparisonData,
    DataSection,
    Decisions,
    FailedReport,
    LeftOut,
    MismatchData,
    Notes,
    ProceedData,
    Report,
    StageNote,
    TicketError,
)
from pytest_orchphase.report.tickets import error_data, ticket_facts, ticket_table
from pytest_orchphase.report.usage import usage_section
from pytest_orchphase.usage.attribution import Measured

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
        "lost_usage_lines": measured.lost_usage_lines if measured else 0,
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


def _metrics(ctx: MetricContext) -> tuple[dict[str, Value | None], dict[str, Bound]]:
    """The summary metrics (None where the data cannot give one), and those that are only
    bounds, with their bound (the reports mark them)."""
    values: dict[str, Value | None] = {}
    bounds: dict[str, Bound] = {}
    for key, name, params in SUMMARY_METRICS:
        found = known_measurement(ctx, name, **params)
        values[key] = None if found is None else found.value
        if found is not None and found.bound != "exact":
            bounds[key] = found.bound
    return values, bounds


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
    metrics, metric_bounds = _metrics(ctx)
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
        "metrics": metrics,
        "metric_bounds": metric_bounds,
        "baselines": _baselines(phase),
        "usage": usage_section(phase, ctx, measured),
        "tickets": ticket_facts(ctx),
        "ticket_table": ticket_table(runner, ctx, entries, previous),
        "notes": log_notes(phase),
        "mismatches": _mismatches(runner, name),
        "comparison": compared,
    }

"""``orchphase draft-log``: an execution log drafted from a phase's measured usage.

What measurement knows is written as values: shared planning (the lead's own calls, its model and
time span) and, per ticket, each stage attribution found, with its model, worker (the sub-agents'
ids, listed in ``agents.agent_ids`` so that the filled log attributes them the same way), measured
tokens, first and last call. What only a person can say (complexity, status, fix loops, errors,
quality against Sonnet, the review's tier, result, attempts and checklist) is a ``${...}``
placeholder, which ``pytest --phase`` refuses until it is filled; so is a figure measurement gives
only as a lower bound, or not at all. A value the person already entered in the phase's log
(a judgement, an estimate, a description pattern) is carried over, never replaced.

The draft is a file of its own beside the log (the command names it): the log is never written.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from pytest_orchphase.load import yamlio
from pytest_orchphase.load.models import Review, Stage, Ticket
from pytest_orchphase.load.phase import PLANNING, Phase
from pytest_orchphase.usage.agreement import implementation_models
from pytest_orchphase.usage.attribution import HELPER, Measured
from pytest_orchphase.usage.subagents import log_entries
from pytest_orchphase.usage.value import Usage

#: The stages a ticket's draft always has: the judgements live in them.
JUDGED = ("implementation", "review")
STAGE_ORDER = ("branch_creation", "implementation", "fix", "monitoring", "review", "finalization")
FIX_LOOPS = "fix loops the ticket needed (0 when none)"
QUALITY = ("code_correctness", "pattern_following", "edge_case_handling")


# -- the draft ------------------------------------------------------------------------------


@dataclass
class Draft:
    text: str
    #: How many ``${...}`` a person must fill before the phase can pass.
    placeholders: int
    #: What the terminal should say beside the file: gaps in the measurement.
    notes: list[str] = field(default_factory=list)


def _scalar(value: object) -> str:
    if isinstance(value, datetime):
        value = value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return json.dumps(value, ensure_ascii=False)  # a JSON string or list is valid YAML


def _split(usage: Usage) -> str:
    kinds = (
        ("input", usage.input),
        ("output", usage.output),
        ("cache write", usage.cache_write),
        ("cache read", usage.cache_read),
    )
    parts = [f"{name} {value:,}" for name, value in kinds if value is not None]
    cost = "USD unknown" if usage.usd is None else f"${usage.usd:.4f}"
    return f"measured {', '.join(parts)}; {cost}"


class _Writer:
    """The draft's lines, and each placeholder it asks a person to fill."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.placeholders = 0

    def put(self, indent: int, key: str, value: object, comment: str = "") -> None:
        tail = f"  # {comment}" if comment else ""
        self.lines.append(f"{' ' * indent}{key}: {_scalar(value)}{tail}")

    def open(self, indent: int, key: str, comment: str = "") -> None:
        self.lines.append(f"{' ' * indent}{key}:" + (f"  # {comment}" if comment else ""))

    def ask(self, indent: int, key: str, name: str, expected: str, value: object = None) -> None:
        """A judgement: the person's value when the log has one, else a placeholder."""
        if value is not None and value != []:
            self.put(indent, key, value, "carried over from the log")
            return
        self.placeholders += 1
        self.lines.append(f"{' ' * indent}{key}: ${{{name}}}  # {expected}")

    def note(self, indent: int, text: str) -> None:
        self.lines.append(f"{' ' * indent}# {text}")


def _key(ticket: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in ticket).upper()


def _dominant_model(
    measured: Measured, ticket: str, stage: str, worker: list[str] | None = None
) -> tuple[str | None, list[str]]:
    """The model that spent the most tokens in a place, and every model used there: of the
    models ``worker`` (else the place's calls but a helper's, such as an Explore
    sub-agent's) ran on, when there are such, since the log's model is checked against
    those (:mod:`~pytest_orchphase.usage.agreement`)."""
    models = {m: u.total for (t, s, m), u in measured.by_model.items() if (t, s) == (ticket, stage)}
    if not models:
        return None, []
    ranked = sorted(models, key=lambda m: -models[m])
    if worker is None:
        worker = [
            model
            for (t, s, role), used in measured.models_by_role.items()
            if (t, s) == (ticket, stage) and role != HELPER
            for model in used
        ]
    return next((m for m in ranked if m in worker), ranked[0]), ranked


def _tokens(
    w: _Writer, indent: int, usage: Usage | None, name: str, why_none: str, estimate: int | None
) -> None:
    if estimate is not None:
        w.put(indent, "estimated_tokens", estimate, "carried over from the log")
    if usage is None:
        w.ask(indent, "actual_tokens", name, why_none)
    elif usage.is_lower_bound("total"):
        w.ask(
            indent,
            "actual_tokens",
            name,
            f"measured at least {usage.total:,}, a lower bound ({usage.lower_bound_note}); "
            "write the true figure",
        )
    else:
        w.put(indent, "actual_tokens", usage.total, _split(usage))


def _stage_facts(
    w: _Writer,
    measured: Measured,
    ticket: str,
    stage: str,
    usage: Usage | None,
    logged: Stage | None,
) -> None:
    """Model, worker, agents, times and tokens of one measured place."""
    indent = 6
    model, models = _dominant_model(measured, ticket, stage)
    if model is not None:
        w.put(indent, "model", model, f"also {', '.join(models[1:])}" if len(models) > 1 else "")
    agents = sorted(
        (a for a in measured.agents if a.ticket == ticket and a.stage == stage),
        key=lambda a: a.span[0] if a.span else datetime.max.replace(tzinfo=timezone.utc),
    )
    if agents:
        w.put(indent, "worker", ", ".join(a.agent_id for a in agents))
        pattern = logged.agents.description_pattern if logged and logged.agents else None
        w.open(indent, "agents")
        w.put(indent + 2, "agent_ids", log_entries(agents, measured.agents))
        if pattern:
            w.put(indent + 2, "description_pattern", pattern, "carried over from the log")
        for a in agents:
            w.note(indent + 2, f"{a.agent_id}: {a.description or 'no description'} ({a.how})")
    span = measured.spans.get((ticket, stage))
    if span is not None:
        w.put(indent, "start_time", span[0], "first call")
        w.put(indent, "end_time", span[1], "last call")
    estimate = logged.estimated_tokens if logged else None
    label = f"{_key(ticket)}_{stage.upper()}_ACTUAL"
    _tokens(w, indent, usage, label, f"no measured usage for {ticket}'s {stage}", estimate)


def _ticket(w: _Writer, phase: Phase, measured: Measured, ticket: str, notes: list[str]) -> None:
    logged = phase.tickets.get(ticket) or Ticket()
    key = _key(ticket)
    w.open(2, ticket)
    w.ask(4, "complexity", f"{key}_COMPLEXITY", "mechanical | nuanced | complex", logged.complexity)
    w.ask(
        4,
        "status",
        f"{key}_STATUS",
        "completed | requires_fix | failed | in_progress | skipped | pending",
        logged.status,
    )
    stages = dict(measured.stages.get(ticket, {}))
    whole = measured.whole.get(ticket)
    worker = [s.session_id for s in measured.sessions if s.role == "ticket" and s.ticket == ticket]
    if whole is not None and not stages:
        _flat_ticket(w, measured, ticket, whole, worker, logged)
        return
    if ticket not in measured.tickets():
        why = "no measured usage"
        if measured.unattributed is not None:
            why += " while some usage is unattributed (see the top of this file)"
        notes.append(f"{ticket}: {why}; its figures are placeholders")
    for stage in STAGE_ORDER:
        if stage not in stages and stage not in JUDGED:
            continue
        st: Stage | None = logged.stages().get(stage)
        usage = stages.get(stage)
        comment = ""
        if stage == "implementation" and whole is not None:
            usage = whole if usage is None else usage + whole
            sessions = f" ({', '.join(worker)})" if worker else ""
            comment = f"with {whole.total:,} tokens of {ticket}'s worker sessions{sessions}"
        w.open(4, stage, comment)
        if usage is None and ticket in measured.tickets():
            w.note(6, f"no measured usage: the {stage} ran in another place, or did not run")
        if usage is not None or ticket not in measured.tickets():
            _stage_facts(w, measured, ticket, stage, usage, st)
        if stage == "implementation":
            impl = logged.implementation
            _implementation_judgements(w, 6, key, impl, logged.fix_loops)
        if stage == "review":
            _review_judgements(w, key, logged.review)


def _flat_ticket(
    w: _Writer, measured: Measured, ticket: str, whole: Usage, worker: list[str], logged: Ticket
) -> None:
    """A ticket measured only as a whole (its worker sessions): the log's flat shape."""
    key = _key(ticket)
    model, models = _dominant_model(
        measured, ticket, "", implementation_models(measured, ticket)[0]
    )
    if model is not None:
        w.put(4, "execution_model", model, f"also {', '.join(models[1:])}" if models[1:] else "")
    if worker:
        w.note(4, f"worker session(s): {', '.join(worker)}")
    span = measured.spans.get((ticket, ""))
    if span is not None:
        w.note(4, f"first call {_scalar(span[0])}, last call {_scalar(span[1])}")
    _tokens(w, 4, whole, f"{key}_ACTUAL", "", logged.estimated_tokens)
    w.ask(4, "fix_loops", f"{key}_FIX_LOOPS", FIX_LOOPS, logged.fix_loops)
    _quality(w, 4, key, logged.quality_vs_sonnet)
    w.open(4, "review")
    _review_judgements(w, key, logged.review)


def _implementation_judgements(
    w: _Writer, indent: int, key: str, impl: Any, ticket_fix_loops: int | None
) -> None:
    fix_loops = impl.fix_loops if impl is not None else None
    w.ask(
        indent,
        "fix_loops",
        f"{key}_FIX_LOOPS",
        FIX_LOOPS,
        fix_loops if fix_loops is not None else ticket_fix_loops,
    )
    errors = [e.model_dump() for e in impl.errors_encountered] if impl is not None else []
    w.ask(
        indent,
        "errors_encountered",
        f"{key}_ERRORS_ENCOUNTERED",
        "[] when none, else [{type: logic, description: ..., required_upgrade: 'no'}]",
        errors,
    )
    _quality(w, indent, key, impl.quality_vs_sonnet if impl is not None else None)


def _quality(w: _Writer, indent: int, key: str, quality: Any) -> None:
    w.open(indent, "quality_vs_sonnet")
    for part in QUALITY:
        value = getattr(quality, part, None) if quality is not None else None
        w.ask(indent + 2, part, f"{key}_{part.upper()}", "worse | same | better", value)


def _review_judgements(w: _Writer, key: str, review: Review | None) -> None:
    get = (lambda name: getattr(review, name)) if review is not None else (lambda name: None)
    w.ask(6, "tier", f"{key}_REVIEW_TIER", "T1 | T2 | T3", get("tier"))
    w.ask(6, "result", f"{key}_REVIEW_RESULT", "PASS | FAIL", get("result"))
    w.ask(6, "attempts", f"{key}_REVIEW_ATTEMPTS", "review attempts, 1 or more", get("attempts"))
    w.ask(
        6,
        "checklist_results",
        f"{key}_CHECKLIST_RESULTS",
        '[] when none, else [{"Code compiles": PASS}, ...]',
        get("checklist_results"),
    )


def _header(phase: Phase, measured: Measured, log_name: str) -> Iterator[str]:
    yield f"# Drafted by `orchphase draft-log {phase.name}` from the phase's measured usage"
    yield f"# ({measured.files} files read, {measured.malformed_lines} malformed lines)."
    yield "# Models, workers, times and token figures are measured. Every ${...} is for a person"
    yield f"# to fill: `pytest --phase {phase.name}` refuses the log while one is left."
    yield f"# Then replace {log_name} with this file: judgements, estimates, description"
    yield "# patterns and key_insight entered there are carried over; draft-log names the rest."
    if measured.unattributed is not None:
        yield f"# unattributed: {measured.unattributed.total:,} tokens, in no ticket:"
        for a in measured.agents:
            if a.ticket is None and a.stage is None:
                yield f"#   agent {a.agent_id} ({a.description or 'no description'}): {a.how}"
        for s in measured.sessions:
            if s.role == "unattributed":
                yield f"#   session {s.session_id}: {s.how}"


def draft_log(phase: Phase, measured: Measured) -> Draft:
    """The drafted execution log of ``phase`` from its ``measured`` usage."""
    w = _Writer()
    notes: list[str] = []
    w.lines.extend(_header(phase, measured, phase.log_doc.path.name))
    planning = phase.log.shared_planning
    w.open(0, "shared_planning")
    w.put(2, "tickets", list(phase.tickets))
    lead = [s.session_id for s in measured.sessions if s.role == "lead"]
    if measured.planning is not None:
        model, models = _dominant_model(measured, "", PLANNING)
        if model is not None:
            w.put(2, "model", model, f"also {', '.join(models[1:])}" if models[1:] else "")
        if lead:
            w.put(2, "worker", "lead", f"session {lead[0]}")
        span = measured.spans.get(("", PLANNING))
        if span is not None:
            w.put(2, "start_time", span[0], "the lead's first call")
            w.put(2, "end_time", span[1], "the lead's last call")
    why = measured.planning_unknown or "no lead session measured"
    estimate = planning.estimated_tokens if planning else None
    _tokens(w, 2, measured.planning, "PLANNING_ACTUAL", why, estimate)
    if measured.planning is None:
        notes.append(f"shared planning: {why}")
    w.lines.append("")
    w.open(0, "tickets")
    for ticket in phase.tickets:
        _ticket(w, phase, measured, ticket, notes)
    if measured.unattributed is not None:
        notes.append(
            f"unattributed: {measured.unattributed.total:,} tokens in no ticket (listed at the "
            "top of the draft): map them with agents.agent_ids, or name the session's ticket"
        )
    if phase.log.key_insight:
        w.put(0, "key_insight", phase.log.key_insight, "carried over from the log")
    text = "\n".join(w.lines) + "\n"
    drafted = yamlio.parse(text, phase.log_doc.path.with_name("draft")).data
    left, changed = compare_with_log(phase.log_doc.data, drafted)
    if left:
        notes.append(f"not in the draft, copy by hand before replacing the log: {_some(left)}")
    if changed:
        notes.append(f"measured otherwise than the log records: {_some(changed)}")
    return Draft(text=text, placeholders=w.placeholders, notes=notes)


def compare_with_log(log: Any, drafted: Any) -> tuple[list[str], list[str]]:
    """What replacing the log by the draft would lose (the log's keys the draft lacks, each at
    its topmost missing key) and change (values in both that differ: "field (log X, draft Y)")."""
    left: list[str] = []
    changed: list[str] = []

    def walk(mine: Any, theirs: Any, at: yamlio.FieldPath) -> None:
        if isinstance(mine, dict) and isinstance(theirs, dict):
            for key, value in mine.items():
                if key not in theirs:
                    if _holds_value(value):  # not an emptied template entry
                        left.append(yamlio.dotted((*at, key)))
                else:
                    walk(value, theirs[key], (*at, key))
        elif mine != theirs and not isinstance(mine, (dict, list)):
            changed.append(f"{yamlio.dotted(at)} (log {mine!r}, draft {theirs!r})")

    walk(log, drafted, ())
    return left, changed


def _holds_value(data: Any) -> bool:
    if isinstance(data, dict):
        return any(_holds_value(v) for v in data.values())
    if isinstance(data, list):
        return any(_holds_value(v) for v in data)
    return data is not None


def _some(items: list[str], most: int = 8) -> str:
    more = f" and {len(items) - most} more" if len(items) > most else ""
    return ", ".join(items[:most]) + more

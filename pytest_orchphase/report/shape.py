"""The shape of a phase run's report: the JSON the plugin writes, as TypedDicts.

Every renderer and reader of the report (markdown, terminal, step summary, chart, the plugin's
decision) reads these types, so mypy checks each key it reads. The JSON is these dicts as built,
key for key and in the same order (``json.dumps`` keeps insertion order): a TypedDict adds
nothing at run time.

A report is either :class:`Report` or, when the phase's files do not load, :class:`FailedReport`
(``"error" in report`` tells them apart). Its items' entries, one per criterion and one per
gate, are typed beside the functions that build them, in :mod:`pytest_orchphase.report.results`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, TypedDict, final

if TYPE_CHECKING:
    from pytest_orchphase.metrics.registry import Bound, Value
    from pytest_orchphase.report.results import CriterionEntry, GateEntry

# --------------------------------------------------------------------------- decisions


class ProceedData(TypedDict):
    next_phase: str
    answer: str
    reasons: list[str]
    line: str


class AdoptionData(TypedDict):
    model: str
    complexity: str
    answer: str
    successes: int
    sample_size: int
    rate: float | None
    interval: list[float]
    threshold: float
    min_sample_size: int
    phases: list[str]
    tickets: list[str]
    fallback: str
    unrecorded: int
    unfinished: int
    unknown_membership: list[str]
    rule: str
    confidence: float
    run_successes: int
    runs: int
    further_needed: int | None
    unloaded: list[str]
    recommended: str
    line: str


class BreakEvenData(TypedDict):
    measure: str
    shared_planning: float | None
    per_ticket: float | None
    baseline_per_ticket: float | None
    tickets: int | None
    reason: str
    #: the baseline orchestration is measured against (``orchphase breakeven --baseline``)
    baseline: str | None
    #: the usage no rule places, if any: N with it all shared planning, and all the tickets'
    #: own (None: never); ``tickets`` is the later of the two when they differ
    unattributed: float | None
    tickets_if_planning: int | None
    tickets_if_tickets_own: int | None
    depends_on_unattributed: bool
    line: str


class BreakEvens(TypedDict):
    tokens: BreakEvenData
    usd: BreakEvenData


class Decisions(TypedDict):
    proceed: ProceedData
    adopt_model: AdoptionData | None
    break_even: BreakEvens


class FailedDecisions(TypedDict):
    proceed: ProceedData


# --------------------------------------------------------------------------- usage


class UsageData(TypedDict):
    total: int
    input: int | None
    output: int | None
    cache_write: int | None
    cache_read: int | None
    usd: float | None
    origin: str
    lower_bounds: list[str]
    lower_bound_note: str


class TicketAccount(TypedDict):
    model: str | None
    total: UsageData | None
    stages: dict[str, UsageData | None]


class AccountsData(TypedDict):
    shared_planning: UsageData | None
    tickets: dict[str, TicketAccount]
    unattributed: UsageData | None


class StageModelRow(TypedDict):
    stage: str
    model: str
    total: int
    usd: float | None
    origin: str
    #: the measures whose figure is only a lower bound (as in UsageData)
    lower_bounds: list[str]


class AgentRow(TypedDict):
    agent_id: str
    session_id: str | None
    description: str | None
    ticket: str | None
    stage: str | None
    how: str
    usage: UsageData


class SessionRow(TypedDict):
    session_id: str
    role: str
    ticket: str | None
    how: str


class EstimateRow(TypedDict):
    """A place's figure in the log against the measured one (error in % of the measured)."""

    place: str
    estimated: int | None
    measured: int | None
    error_percent: float | None
    usd: float | None
    lower_bounds: list[str]


class UsageSection(TypedDict):
    source: Literal["measured", "estimated"]
    total: UsageData | None
    shared_planning: UsageData | None
    tickets: dict[str, TicketAccount]
    unattributed: UsageData | None
    estimated: AccountsData
    by_stage_model: list[StageModelRow]
    agents: list[AgentRow]
    sessions: list[SessionRow]
    shared_planning_unknown: str | None
    warnings: list[str]
    estimate_rows: list[EstimateRow]
    compaction: UsageData | None
    compaction_line: str | None


# --------------------------------------------------------------------------- the rest


class DataSection(TypedDict):
    """The phase's files (as the run showed them) and what was read from them."""

    criteria: str
    directory: str
    metadata: str
    execution_log: str
    tickets: list[str]
    strategy: str | None
    measured: bool
    transcript_files: int
    malformed_lines: int
    #: Of the malformed lines, those that may have recorded a call: every figure is a lower bound.
    lost_usage_lines: int
    no_gate: bool


class BaselineRow(TypedDict):
    per_ticket: int
    for_tickets: int
    usd_per_ticket: float | None


class ErrorData(TypedDict):
    """An error the log records for a ticket's implementation."""

    type: str
    description: str
    required_upgrade: str


class TicketFacts(TypedDict):
    model: str | None
    complexity: str | None
    tier: str | None
    review: str | None
    #: where the log records the ticket's failure (``status failed``, ``review FAIL``…); [] if none
    failed: list[str]
    errors: list[ErrorData]
    attempts: Value | None
    fix_loops: Value | None
    quality: Value | None


class TicketRow(TypedDict):
    """The per-ticket table a lead acts on (see ``report.tickets.ticket_table``)."""

    ticket: str
    model: str | None
    tokens: int | None
    usd: float | None
    origin: str | None
    cap_operator: str | None
    cap: float | None
    result: str
    failing: list[str]
    inconclusive: list[str]
    versus: str | None
    delta_tokens: int | None
    delta_usd: float | None
    #: the figures of the row that are only bounds: field → "lower", "upper" or "unknown"
    bounds: dict[str, Bound]


class TicketError(TypedDict):
    ticket: str
    type: str
    description: str
    required_upgrade: str


class StageNote(TypedDict):
    ticket: str
    stage: str
    note: str


class Notes(TypedDict):
    key_insight: str | None
    hypothesis: list[str]
    risk: str | None
    errors_encountered: list[TicketError]
    stage_notes: list[StageNote]


class MismatchData(TypedDict):
    """A declared figure that differs from the computed one, or (computed None) that cannot be
    checked, ``formula`` then saying why."""

    file: str
    line: int | None
    field: str
    declared: float | bool
    computed: float | bool | None
    formula: str
    percent: bool


class LeftOut(TypedDict):
    phase: str
    error: str


class ComparisonData(TypedDict):
    phases: list[str]
    rows: list[list[str]]
    previous: str | None
    left_out: list[LeftOut]


@final
class Report(TypedDict):
    """The canonical report of a phase run."""

    format_version: int
    generator: str
    phase: str
    title: str | None
    commit: str | None
    data: DataSection
    criteria: list[CriterionEntry]
    gates: list[GateEntry]
    decisions: Decisions
    metrics: dict[str, Value | None]
    #: the metrics of ``metrics`` that are only bounds: key → "lower", "upper" or "unknown"
    metric_bounds: dict[str, Bound]
    baselines: dict[str, BaselineRow]
    usage: UsageSection
    tickets: dict[str, TicketFacts]
    ticket_table: list[TicketRow]
    notes: Notes
    mismatches: list[MismatchData]
    comparison: ComparisonData


@final
class FailedReport(TypedDict):
    """What can be said when the phase's files do not load."""

    format_version: int
    generator: str
    phase: str
    error: str
    criteria: list[CriterionEntry]
    gates: list[GateEntry]
    decisions: FailedDecisions


#: The report of a run: the canonical report, or what can be said when the files do not load.
RunReport = Report | FailedReport

"""The shape of a phase run's report: the JSON the plugin writes, as TypedDicts.

Every renderer and reader of the report (markdown, terminal, step summary, chart, the plugin's
decision) reads these types, so mypy checks each key it reads. The JSON is these dicts as built,
key for key and in the same order (``json.dumps`` keeps insertion order): a TypedDict adds
nothing at run time.

A report is either :class:`Report` or, when the phase's files do not load, :class:`FailedReport`
(``"error" in report`` tells them apart). Its items are :data:`Entry`: one per criterion and one
per gate, built by :mod:`pytest_orchphase.report.results`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, TypedDict, final

if TYPE_CHECKING:
    from pytest_orchphase.metrics.registry import Value

# --------------------------------------------------------------------------- items


@final
class LeafData(TypedDict):
    """One condition's figures (``Verdict.to_data`` of a leaf)."""

    metric: str
    label: str
    measure: str | None
    stage: str | None
    model: str | None
    baseline: str | None
    unit: str
    actual: Value | None
    bound: str
    operator: str | None
    limit: Value | None
    limit_note: str
    stretch: Value | None
    stretch_met: bool | None
    stretch_note: str
    passed: bool
    outcome: str
    error: str | None
    source: str
    note: str
    mark: str
    rule: str | None
    confidence: float | None
    interval: list[float] | None
    interval_method: str | None
    sample: str | None
    further_needed: int | None
    sign_test_p: float | None


@final
class GroupData(TypedDict):
    """An ``all``/``any`` group of conditions (``Verdict.to_data`` of a group)."""

    combinator: str | None
    passed: bool
    outcome: str
    conditions: list[ConditionData]


ConditionData = LeafData | GroupData


class _Ordered(TypedDict, total=False):
    #: the item's collection order: an entry has it while the run collects; the report's lists
    #: are in that order and drop it
    order: int


class CriterionEntry(_Ordered):
    """A criterion item's result; a group's figures are lists, one per leaf."""

    kind: Literal["criterion"]
    phase: str
    name: str
    id: str
    ticket: str | None
    metric: str
    actual: Value | list[Value | None] | None
    bound: str | list[str]
    unit: str | list[str]
    operator: str | None
    limit: Value | list[Value | None] | None
    stretch: Value | list[Value | None] | None
    passed: bool
    outcome: str
    stretch_met: bool | None
    source: str
    error: str | None
    headline: str
    condition: ConditionData
    marks: list[str]


class GateEntry(_Ordered):
    """A phase gate's result: the phase it requires passed (or the gate was bypassed)."""

    kind: Literal["gate"]
    phase: str
    name: str
    id: str
    ticket: str
    required: str
    metric: str
    actual: bool
    unit: str
    operator: str
    limit: bool
    stretch: None
    passed: bool
    bypassed: bool
    stretch_met: None
    source: str
    error: str | None
    failing: list[str]
    covers: str
    headline: str


Entry = CriterionEntry | GateEntry


class SummaryRow(TypedDict):
    """An entry as the strings of the summary table and the JUnit properties."""

    phase: str
    criterion: str
    ticket: str
    metric: str
    actual: str
    operator: str
    limit: str
    stretch: str
    stretch_met: str
    result: str
    source: str


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
    rule: str
    confidence: float
    run_successes: int
    runs: int
    further_needed: int | None
    recommended: str
    line: str


class BreakEvenData(TypedDict):
    measure: str
    shared_planning: float | None
    per_ticket: float | None
    single_agent_per_ticket: float | None
    tickets: int | None
    reason: str
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

"""The shapes of a phase's files: metadata.yaml, execution-log.yaml and criteria/<phase>.yaml.

Every model forbids unknown keys (a typo must not silently drop data) and is frozen. Numbers
accept the forms people write in plans ("40k", "60%"); see :mod:`pytest_orchphase.load.quantity`.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    StrictInt,
    Tag,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from pytest_orchphase.load.quantity import (
    _PERCENT,
    _TOKENS,
    _USD,
    QUALITY_ORDER,
    parse_percent,
    parse_quality,
    parse_tokens,
    parse_usd,
)


def _any_case(*words: str) -> str:
    """A JSON Schema pattern matching any of ``words`` in any letter case (no regex flags)."""
    return "|".join(
        "".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else c for c in w) for w in words
    )


# The JSON Schema of each type accepts what its validator accepts (see ``orchphase schema``).
TOKENS_SCHEMA: dict[str, Any] = {
    "description": "a token count: 40000, '40k', '40,000', '1.5M'",
    "anyOf": [
        {"type": "integer", "minimum": 0},
        {"type": "string", "pattern": _TOKENS.pattern},
    ],
}
Tokens = Annotated[int, BeforeValidator(parse_tokens), WithJsonSchema(TOKENS_SCHEMA)]
# Counts and whole declared figures are strict: pydantic would otherwise read true (or YAML's
# yes/on) as 1 and 3.0 as 3, and `fix_loops: true` would pass a "max 1" criterion.
Whole = StrictInt
Count = Annotated[StrictInt, Field(ge=0)]
PositiveCount = Annotated[StrictInt, Field(gt=0)]
Percent = Annotated[
    float,
    BeforeValidator(parse_percent),
    WithJsonSchema(
        {
            "description": "a percentage: '60%' or 60",
            "anyOf": [{"type": "number"}, {"type": "string", "pattern": _PERCENT.pattern}],
        }
    ),
]
Usd = Annotated[
    float,
    BeforeValidator(parse_usd),
    WithJsonSchema(
        {
            "description": "an amount in USD: 1.5 or '$1.50'",
            "anyOf": [
                {"type": "number", "minimum": 0},
                {"type": "string", "pattern": _USD.pattern},
            ],
        }
    ),
]
Grade = Annotated[
    str,
    BeforeValidator(parse_quality),
    WithJsonSchema(
        {
            "description": "a quality grade: worse < same < better",
            "anyOf": [
                {"enum": list(QUALITY_ORDER)},
                {"type": "string", "pattern": rf"^\s*({_any_case(*QUALITY_ORDER)})\s*$"},
            ],
        }
    ),
]


def _upper(value: Any) -> Any:
    return value.upper() if isinstance(value, str) else value


def _text_id(value: Any) -> Any:
    """Task ids are often written bare (``task_id: 2``): keep them as text."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _upper_schema(*values: str) -> WithJsonSchema:
    """The enum for completion, and the same values in any case (the validator upper-cases)."""
    return WithJsonSchema(
        {
            "anyOf": [
                {"enum": list(values)},
                {"type": "string", "pattern": f"^({_any_case(*values)})$"},
            ]
        }
    )


ReviewResult = Annotated[
    Literal["PASS", "FAIL"], BeforeValidator(_upper), _upper_schema("PASS", "FAIL")
]
Tier = Annotated[
    Literal["T1", "T2", "T3"], BeforeValidator(_upper), _upper_schema("T1", "T2", "T3")
]
Status = Literal["completed", "requires_fix", "failed", "in_progress", "skipped", "pending"]
Complexity = Literal["mechanical", "nuanced", "complex"]
TextId = Annotated[str, BeforeValidator(_text_id), WithJsonSchema({"type": ["string", "integer"]})]

STAGES = ("branch_creation", "implementation", "fix", "monitoring", "review", "finalization")
StageName = Literal[
    "branch_creation", "implementation", "fix", "monitoring", "review", "finalization"
]
Measure = Literal["total", "input", "output", "cache_write", "cache_read", "usd"]
#: how a figure with an interval (a rate, a paired mean delta) is compared with its limit
DecisionRule = Literal["interval", "point"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


# --------------------------------------------------------------------------- execution log


class QualityVsSonnet(Strict):
    """The plan's A2 quality comparison, one ordinal grade per dimension."""

    code_correctness: Grade | None = None
    pattern_following: Grade | None = None
    edge_case_handling: Grade | None = None

    def grades(self) -> dict[str, str]:
        return {k: v for k, v in self.model_dump().items() if v is not None}


class ErrorRecord(Strict):
    type: Literal["mechanical", "logic", "architectural"]
    description: str
    required_upgrade: Literal["no", "haiku_retry", "sonnet", "opus"] = "no"


class AgentLink(Strict):
    """How measured sub-agent usage is attributed to this stage (see the transcripts layer)."""

    agent_ids: list[TextId] = Field(default_factory=list)
    description_pattern: str | None = None

    @field_validator("description_pattern")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        """Matched in linear time (a pattern from data must never hang a run); what needs
        backtracking is refused here, with the reason (see :mod:`pytest_orchphase.load.pattern`)."""
        if value is not None:
            from pytest_orchphase.load.pattern import compile_linear

            compile_linear(value)  # UnsafePattern is a ValueError: an error at the field
        return value


class Stage(Strict):
    """One stage of a ticket's work. Tokens: ``actual_tokens`` wins over ``estimated_tokens``."""

    model: str | None = None
    worker: str | None = None
    task_id: TextId | None = None
    agents: AgentLink | None = None
    start_time: AwareDatetime | None = None
    end_time: AwareDatetime | None = None
    estimated_tokens: Tokens | None = None
    actual_tokens: Tokens | None = None
    status: Status | None = None
    verification: Literal["passed", "failed", "skipped"] | None = None
    activities: list[str] = Field(default_factory=list)
    notes: str | None = None

    @model_validator(mode="after")
    def _time_order(self) -> Stage:
        if self.start_time and self.end_time and self.end_time < self.start_time:
            raise ValueError("end_time is before start_time")
        return self


class Implementation(Stage):
    fix_loops: Count | None = None
    errors_encountered: list[ErrorRecord] = Field(default_factory=list)
    quality_vs_sonnet: QualityVsSonnet | None = None


class Review(Stage):
    tier: Tier | None = None
    type: str | None = None
    result: ReviewResult | None = None
    attempts: PositiveCount | None = None
    issues_found: Count | None = None
    checklist_results: list[dict[str, ReviewResult]] = Field(default_factory=list)


class SharedPlanning(Stage):
    tickets: list[TextId] = Field(default_factory=list)  # bare numbers too, as in metadata


class CostAnalysis(Strict):
    """The plan's A2 cost scenarios; ``actual_cost`` and ``effective_savings`` are checked."""

    base_cost: Tokens | None = None
    with_1_fix: Tokens | None = None
    with_2_fixes: Tokens | None = None
    actual_cost: Tokens | None = None
    effective_savings: Percent | None = None


class Ticket(Strict):
    """A ticket: either its stages, or the flat A3 shape (execution_model + tokens + fix_loops)."""

    complexity: Complexity | None = None
    execution_model: str | None = None
    status: Status | None = None
    branch_creation: Stage | None = None
    implementation: Implementation | None = None
    fix: Stage | None = None
    monitoring: Stage | None = None
    review: Review | None = None
    finalization: Stage | None = None
    estimated_tokens: Tokens | None = None
    actual_tokens: Tokens | None = None
    fix_loops: Count | None = None
    quality_vs_sonnet: QualityVsSonnet | None = None
    cost_analysis: CostAnalysis | None = None
    subtotal: Tokens | None = None

    def stages(self) -> dict[str, Stage]:
        return {name: s for name in STAGES if (s := getattr(self, name)) is not None}

    @model_validator(mode="after")
    def _one_shape(self) -> Ticket:
        staged = [
            n
            for n, s in self.stages().items()
            if s.estimated_tokens is not None or s.actual_tokens is not None
        ]
        if staged and (self.estimated_tokens is not None or self.actual_tokens is not None):
            raise ValueError(
                f"tokens are given per stage ({', '.join(staged)}) and for the whole ticket: "
                "keep one; the ticket total is computed from its stages"
            )
        impl = self.implementation
        if (
            impl is not None
            and impl.fix_loops is not None
            and self.fix_loops is not None
            and impl.fix_loops != self.fix_loops
        ):
            raise ValueError(
                f"fix_loops {self.fix_loops} differs from implementation.fix_loops "
                f"{impl.fix_loops}; keep one"
            )
        return self

    @property
    def model_used(self) -> str | None:
        """The execution model: ``execution_model``, else the implementation stage's model."""
        if self.execution_model:
            return self.execution_model
        return self.implementation.model if self.implementation else None


class DeclaredTotals(Strict):
    """Totals a log declares. ``<ticket>_cost`` keys (``r03_cost``) are per-ticket totals."""

    shared_planning: Tokens | None = None
    planning: Tokens | None = None
    execution: Tokens | None = None
    monitoring: Tokens | None = None
    review: Tokens | None = None
    finalization: Tokens | None = None
    total: Tokens | None = None
    total_tokens: Tokens | None = None
    per_ticket_average: Tokens | None = None
    savings_percent: Percent | None = None
    savings_vs_baseline: Percent | None = None
    #: The baseline ``savings_percent`` and ``savings_vs_baseline`` are against (see README).
    baseline: str | None = None
    ticket_costs: dict[str, Tokens] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _ticket_costs(cls, data: Any) -> Any:
        if isinstance(data, dict):
            data = dict(data)
            costs = dict(data.pop("ticket_costs", {}) or {})
            for key in [k for k in data if isinstance(k, str) and k.endswith("_cost")]:
                costs[key[: -len("_cost")]] = data.pop(key)
            if costs:
                data["ticket_costs"] = costs
        return data


class BatchingAnalysis(Strict):
    unbatched_cost: Tokens | None = None
    unbatched_planning_overhead: Tokens | None = None
    batched_cost: Tokens | None = None
    batched_planning_overhead: Tokens | None = None
    batching_savings: Whole | None = None
    effective_per_ticket: Tokens | None = None
    vs_single_agent: Tokens | None = None
    orchestration_worth_it: bool | None = None
    v2_baseline: Tokens | None = None
    savings_vs_v2: Percent | None = None


class BatchingEfficiency(Strict):
    unbatched_cost: Tokens | None = None
    batched_cost: Tokens | None = None
    batching_savings: Whole | None = None


class ComparisonToSingleAgent(Strict):
    single_agent_total: Tokens | None = None
    orchestration_total: Tokens | None = None
    delta: Whole | None = None
    conclusion: str | None = None


class ComparisonToV2(Strict):
    """``<phase>_total`` (``a1_total``) is accepted as ``orchestration_total``."""

    v2_total: Tokens | None = None
    orchestration_total: Tokens | None = None
    savings: Whole | None = None
    savings_percent: Percent | None = None
    conclusion: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _phase_total(cls, data: Any) -> Any:
        if isinstance(data, dict):
            named = [
                k
                for k in data
                if isinstance(k, str) and k != "v2_total" and re.fullmatch(r"[a-z]\d+_total", k)
            ]
            if len(named) == 1 and "orchestration_total" not in data:
                data = dict(data)
                data["orchestration_total"] = data.pop(named[0])
        return data


class ExecutionLog(Strict):
    """A phase's execution log: multi-ticket (``tickets``) or single-ticket (stages on top)."""

    shared_planning: SharedPlanning | None = None
    tickets: dict[str, Ticket] | None = None
    branch_creation: Stage | None = None
    implementation: Implementation | None = None
    fix: Stage | None = None
    monitoring: Stage | None = None
    review: Review | None = None
    finalization: Stage | None = None
    totals: DeclaredTotals | None = None
    batching_analysis: BatchingAnalysis | None = None
    batching_efficiency: BatchingEfficiency | None = None
    comparison_to_single_agent: ComparisonToSingleAgent | None = None
    comparison_to_v2_orchestration: ComparisonToV2 | None = None
    cost_analysis: CostAnalysis | None = None
    key_insight: str | None = None

    @field_validator("tickets", mode="before")
    @classmethod
    def _no_stages_as_tickets(cls, value: Any) -> Any:
        if isinstance(value, dict):
            strays = [k for k in value if k in STAGES]
            if strays:
                raise ValueError(
                    f"{', '.join(strays)} {'is a stage' if len(strays) == 1 else 'are stages'}, "
                    "not a ticket id: stages belong inside a ticket (tickets.<id>.<stage>), "
                    "or at the top level of a single-ticket log"
                )
        return value

    def top_level_stages(self) -> dict[str, Stage]:
        return {name: s for name in STAGES if (s := getattr(self, name)) is not None}

    @model_validator(mode="after")
    def _one_layout(self) -> ExecutionLog:
        if self.tickets is not None and self.top_level_stages():
            raise ValueError(
                "stages at the top level belong to a single-ticket log; this log has `tickets`: "
                "move them under tickets.<id>"
            )
        return self


# --------------------------------------------------------------------------- metadata


class SessionSpec(Strict):
    """A session of the phase: by id (resolved under the Claude config folder) or by path.

    ``ticket`` (and ``stage``) give all of the session's usage to that ticket, for worker sessions
    run on their own (e.g. headless ``claude -p`` runs). ``lead: true`` names the lead session:
    its own calls are shared planning, its sub-agents are attributed by the execution log. Other
    main sessions are attributed as README "Measured usage" says.
    """

    session: str | None = None
    path: str | None = None
    ticket: TextId | None = None
    stage: StageName | None = None
    lead: bool = False

    @model_validator(mode="after")
    def _one_source(self) -> SessionSpec:
        if (self.session is None) == (self.path is None):
            raise ValueError("give exactly one of `session` (an id) or `path`")
        if self.stage is not None and self.ticket is None:
            raise ValueError("`stage` needs `ticket`")
        if self.lead and self.ticket is not None:
            raise ValueError("the lead session plans for every ticket: give `lead` or `ticket`")
        return self


class Metadata(Strict):
    phase: str
    tickets: list[str] = Field(min_length=1)
    date: AwareDatetime | dt.date | None = None
    strategy: str | None = None
    expected_tokens: Tokens | None = None
    expected_savings: Percent | None = None
    baseline_comparison: Tokens | None = None
    batching_value: str | None = None
    hypothesis: list[str] = Field(default_factory=list)
    risk: str | None = None
    comparison: list[str] | dict[str, str] = Field(default_factory=list)
    sessions: list[str | SessionSpec] = Field(default_factory=list)
    models: dict[str, str] = Field(default_factory=dict)

    @field_validator("tickets", mode="before")
    @classmethod
    def _text_ids(cls, value: Any) -> Any:
        return [_text_id(v) for v in value] if isinstance(value, list) else value

    @field_validator("tickets")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        seen: set[str] = set()
        for ticket in value:
            if ticket in seen:
                raise ValueError(f"ticket {ticket!r} is listed twice")
            seen.add(ticket)
        return value


# --------------------------------------------------------------------------- criteria


class BaselineRef(Strict):
    """A limit taken from a baseline: ``{baseline: single_agent, per: phase}``."""

    baseline: str
    per: Literal["ticket", "phase"] = "ticket"


class PhaseRef(Strict):
    """A limit taken from a phase-level metric: another phase's (``{phase: a1, metric: ...}``) or,
    without ``phase``, this phase's own (``{metric: max_review_attempts, model: sonnet}``)."""

    phase: str | None = None
    metric: str
    measure: Measure | None = None
    stage: StageName | None = None
    model: str | None = None
    baseline: str | None = None
    #: the fix loops a successful ticket may need (success_rate, pass_at_k, pass_hat_k)
    max_fix_loops: Count | None = None


class ShareOf(Strict):
    """The denominator of a share (``of:``): a metric of the same scope, with its own parameters
    (``{metric: tokens, measure: total}``), or a baseline's cost (``{baseline: old_process,
    per: phase}``). The condition then compares numerator / denominator × 100, in percent."""

    metric: str | None = None
    measure: Measure | None = None
    stage: StageName | None = None
    model: str | None = None
    baseline: str | None = None
    #: a baseline's cost per ticket (default) or for the phase's tickets; only without `metric`
    per: Literal["ticket", "phase"] | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> ShareOf:
        if self.metric is None:
            if self.baseline is None:
                raise ValueError(
                    "`of:` needs `metric:` (a metric with its parameters) or `baseline:` "
                    "(a baseline's cost)"
                )
            extra = [n for n in ("stage", "model") if getattr(self, n) is not None]
            if extra:
                raise ValueError(
                    f"{', '.join(extra)} belong to a metric; a baseline's cost takes "
                    "`measure` and `per` only"
                )
        elif self.per is not None:
            raise ValueError("`per:` applies to a baseline's cost, not to a metric")
        return self

    def as_limit(self) -> BaselineRef:
        """The baseline form as the limit reference it reads like."""
        assert self.baseline is not None and self.metric is None
        return BaselineRef(baseline=self.baseline, per=self.per or "ticket")


def _limit_kind(value: Any) -> str:
    if isinstance(value, dict):
        metric_ref = "metric" in value or "phase" in value
        return "phase-ref" if metric_ref else "baseline-ref"
    if isinstance(value, BaselineRef):
        return "baseline-ref"
    if isinstance(value, PhaseRef):
        return "phase-ref"
    return "number-or-text"


Limit = Annotated[
    Annotated[BaselineRef, Tag("baseline-ref")]
    | Annotated[PhaseRef, Tag("phase-ref")]
    | Annotated[bool | int | float | str, Tag("number-or-text")],
    Discriminator(_limit_kind),
]
OPERATORS = ("max", "min", "below", "above", "equals")


class Condition(Strict):
    """A leaf (metric + one operator) or a group (``all:`` / ``any:`` of conditions)."""

    description: str | None = None
    metric: str | None = None
    measure: Measure | None = None
    stage: StageName | None = None
    model: str | None = None
    baseline: str | None = None
    #: the phase a paired comparison is made against (metric paired_savings)
    versus: str | None = None
    #: the number of attempts of pass_at_k / pass_hat_k
    k: PositiveCount | None = None
    #: the most fix loops a ticket may need and still count as a success (success_rate,
    #: pass_at_k, pass_hat_k; default 1)
    max_fix_loops: Count | None = None
    #: compare this metric as a share of another figure: numerator / ``of`` × 100, in percent
    of: ShareOf | None = None
    max: Limit | None = None
    min: Limit | None = None
    below: Limit | None = None
    above: Limit | None = None
    equals: Limit | None = None
    stretch: Limit | None = None
    #: figures with an interval: ``interval`` (default) decides on the whole interval, ``point``
    #: on the point estimate alone (the plan's literal rule)
    rule: DecisionRule | None = None
    confidence: Percent | None = None
    all_of: list[Condition] | None = Field(default=None, alias="all", min_length=1)
    any_of: list[Condition] | None = Field(default=None, alias="any", min_length=1)

    @property
    def operator(self) -> str | None:
        ops = [op for op in OPERATORS if getattr(self, op) is not None]
        return ops[0] if ops else None

    @property
    def limit(self) -> Limit | None:
        op = self.operator
        return getattr(self, op) if op else None

    @property
    def children(self) -> list[Condition]:
        return self.all_of or self.any_of or []

    def leaves(self) -> list[Condition]:
        """The metric conditions under this one (itself, when it names a metric)."""
        if self.metric is not None:
            return [self]
        return [leaf for child in self.children for leaf in child.leaves()]

    @model_validator(mode="after")
    def _shape(self) -> Condition:
        kinds = [
            k
            for k, v in (("metric", self.metric), ("all", self.all_of), ("any", self.any_of))
            if v is not None
        ]
        if len(kinds) != 1:
            raise ValueError(
                "a condition needs exactly one of `metric`, `all` or `any`"
                + (f", got {' and '.join(kinds)}" if kinds else "")
            )
        ops = [op for op in OPERATORS if getattr(self, op) is not None]
        if self.metric is not None:
            if len(ops) != 1:
                raise ValueError(
                    f"metric {self.metric!r} needs exactly one operator of "
                    f"{', '.join(OPERATORS)}" + (f", got {', '.join(ops)}" if ops else "")
                )
            if self.stretch is not None and ops[0] == "equals":
                raise ValueError("a stretch target needs a direction (max, min, below, above)")
            _check_confidence(self.confidence)
        else:
            extra = [
                n
                for n in (
                    "measure",
                    "stage",
                    "model",
                    "baseline",
                    "versus",
                    "k",
                    "max_fix_loops",
                    "of",
                    "stretch",
                    "rule",
                    "confidence",
                    *OPERATORS,
                )
                if getattr(self, n) is not None
            ]
            if extra:
                raise ValueError(
                    f"{', '.join(extra)} belong to each condition inside `{kinds[0]}`, "
                    "not to the group"
                )
        return self


def _check_confidence(value: float | None) -> None:
    if value is not None and not 50 <= value < 100:
        raise ValueError(f"confidence is a level from 50 % to under 100 %, not {value:g} %")


class TicketFilter(Strict):
    """Which tickets a per-ticket criterion applies to."""

    execution_model: str | None = None
    complexity: Complexity | None = None
    review_tier: Tier | None = None
    tickets: list[TextId] | None = None


class Criterion(Condition):
    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    for_each: Literal["ticket"] | None = None
    where: TicketFilter | None = None

    @model_validator(mode="after")
    def _where_needs_tickets(self) -> Criterion:
        if self.where is not None and self.for_each != "ticket":
            raise ValueError("`where` filters tickets: it needs `for_each: ticket`")
        return self


class Baseline(Strict):
    """A reference approach's cost per ticket (V2 with debates, a single agent...)."""

    description: str | None = None
    tokens_per_ticket: Tokens
    usd_per_ticket: Usd | None = None
    #: false for a part of a cost (separate planning), not an approach to compare a phase with
    compare: bool = True

    @model_validator(mode="after")
    def _positive(self) -> Baseline:
        # savings and break-even divide by it: a zero baseline has no meaning
        if self.tokens_per_ticket <= 0:
            raise ValueError("tokens_per_ticket must be above 0")
        if self.usd_per_ticket is not None and self.usd_per_ticket <= 0:
            raise ValueError("usd_per_ticket must be above 0")
        return self


class BaselinesFile(Strict):
    baselines: dict[str, Baseline]


class AdoptModel(Strict):
    """Whether to adopt a cheaper model for a kind of ticket, from its measured success rate."""

    model: str = "haiku"
    complexity: Complexity = "mechanical"
    min_success_rate: Percent = 70.0
    min_sample_size: PositiveCount = 3
    max_fix_loops: Count = 1
    fallback: str = "sonnet"
    #: ``interval``: YES only when the Wilson lower bound reaches the rate; ``point``: the rate
    rule: DecisionRule = "interval"
    confidence: Percent = 95.0

    @model_validator(mode="after")
    def _confidence(self) -> AdoptModel:
        _check_confidence(self.confidence)
        return self


class Decisions(Strict):
    adopt_model: AdoptModel | None = None


class CriteriaFile(Strict):
    phase: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
    title: str | None = None
    description: str | None = None
    data: str
    requires: list[str] = Field(default_factory=list)
    next_phase: str | None = None
    baselines: dict[str, Baseline] = Field(default_factory=dict)
    decisions: Decisions = Field(default_factory=Decisions)
    criteria: list[Criterion] = Field(min_length=1)

    @field_validator("criteria")
    @classmethod
    def _unique_ids(cls, value: list[Criterion]) -> list[Criterion]:
        seen: set[str] = set()
        for criterion in value:
            if criterion.id in seen:
                raise ValueError(f"criterion id {criterion.id!r} is used twice")
            seen.add(criterion.id)
        return value

"""execution-log.yaml: shared planning, each ticket's stages, and the totals a log declares."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import (
    Field,
    field_validator,
    model_validator,
)

from pytest_orchphase.families import two_models
from pytest_orchphase.load.models.fields import (
    NOT_RUN,
    STAGES,
    Complexity,
    Count,
    Grade,
    Percent,
    PositiveCount,
    ReviewResult,
    Stamp,
    Status,
    Strict,
    TextId,
    Tier,
    Tokens,
    Whole,
)


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
    start_time: Stamp | None = None
    end_time: Stamp | None = None
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

    def checked(self) -> bool:
        """Whether the checklist records any item's result (``[{}]`` records none)."""
        return any(self.checklist_results)

    def failed_items(self) -> list[str]:
        """The checklist items recorded as FAIL."""
        return [
            item for entry in self.checklist_results for item, r in entry.items() if r == "FAIL"
        ]

    @model_validator(mode="after")
    def _agrees_with_its_checklist(self) -> Review:
        # which of the two is true only the reviewer knows: passing on either would be a guess
        if self.result == "PASS" and (items := self.failed_items()):
            listed = ", ".join(repr(i) for i in items)
            raise ValueError(
                f"result is PASS but checklist_results records {listed} as FAIL: a review "
                "that passed has no failed checklist item; correct the result or the checklist"
            )
        # a checklist all PASS with no result is the review's verdict as a result PASS is
        # (see metrics.outcomes.reviewed): it cannot stand beside what a result PASS cannot
        verdict = self.passing_verdict()
        if verdict and self.status in NOT_RUN:
            raise ValueError(
                f"{verdict} but the review's status is {self.status}: a review that has "
                "not run has no result; correct the result (or checklist) or the status"
            )
        failed = "status failed" if self.status == "failed" else fix_needed(self)
        if verdict and failed:
            raise ValueError(
                f"{verdict} but the review records {failed}: a review that passed neither "
                "failed nor needs a fix; correct the result (or checklist) or the status (or "
                "verification)"
            )
        return self

    def passing_verdict(self) -> str:
        """How the review records that it passed: ``result is PASS``, or with no result
        ``checklist_results are all PASS``; "" when it does not."""
        if self.result == "PASS":
            return "result is PASS"
        if self.result is None and self.checked() and not self.failed_items():
            return "checklist_results are all PASS"
        return ""


def fix_needed(stage: Stage) -> str:
    """Why the stage says its work needed a fix (``status requires_fix``, or ``verification
    failed``), "" when it does not."""
    if stage.status == "requires_fix":
        return "status requires_fix"
    return "verification failed" if stage.verification == "failed" else ""


def fixes_made(stages: dict[str, Stage]) -> list[str]:
    """The stages (of one ticket, in order) that needed a fix (:func:`fix_needed`) the log
    shows made: a later stage completed, or a later review passed, that did not end before
    the stage needing the fix began (by their stamps, when both are recorded: a review that
    ended before the work began vouches for none of it)."""
    items = list(stages.items())
    return [
        name
        for i, (name, stage) in enumerate(items)
        if fix_needed(stage)
        and any(
            (later.status == "completed" or (isinstance(later, Review) and later.result == "PASS"))
            and not _ended_before(later, stage)
            for _, later in items[i + 1 :]
        )
    ]


def _ended_before(later: Stage, stage: Stage) -> bool:
    """Whether ``later`` ended before ``stage`` began, by their stamps (False when either is
    not recorded)."""
    return bool(later.end_time and stage.start_time and later.end_time < stage.start_time)


def recorded_fixes(stages: dict[str, Stage]) -> list[str]:
    """Where a ticket's stages themselves record a fix loop: a ``fix`` stage that ran (any
    status but skipped or pending, as its tokens are counted), or a stage that required a fix
    which a later stage made (:func:`fixes_made`)."""
    out = []
    fix = stages.get("fix")
    if fix is not None and fix.status not in NOT_RUN:
        out.append(f"the fix stage ran ({f'status {fix.status}' if fix.status else 'no status'})")
    out += [
        f"{name} required a fix ({fix_needed(stages[name])}) that a later stage made"
        for name in fixes_made(stages)
    ]
    return out


def _fix_loops_agree(stages: dict[str, Stage], loops: int | None, field: str) -> None:
    """Fix loops fewer than the fixes the stages record contradict them: ``fix_loops: 0``
    beside any (:func:`recorded_fixes`), or fewer than the stages that needed a fix a later
    stage made (:func:`fixes_made`: each needed a loop of its own). So do review attempts past
    1 + fix_loops (each attempt after the first follows a failed one, and the fix it needed);
    which is true only the team knows, and a ``max`` on fix loops (or a success rate) would
    pass on the smaller: an error."""
    if loops == 0 and (fixes := recorded_fixes(stages)):
        raise ValueError(
            f"{field} is 0, but {' and '.join(fixes)}: a ticket that needed a fix needed at "
            f"least one fix loop; correct {field}, or mark a stage that did not run "
            "status: skipped"
        )
    made = fixes_made(stages)
    if loops is not None and loops < len(made):
        each = " and ".join(f"{name} required a fix ({fix_needed(stages[name])})" for name in made)
        raise ValueError(
            f"{field} is {loops}, but {each}, each made by a later stage: each needed a fix "
            f"loop of its own, so at least {len(made)}; correct {field}, or the stage that "
            "did not need a fix"
        )
    review = stages.get("review")
    attempts = review.attempts if isinstance(review, Review) else None
    if loops is not None and attempts is not None and attempts > 1 + loops:
        raise ValueError(
            f"review.attempts is {attempts}, but {field} is {loops}: each review attempt after "
            f"the first followed a failed one and the fix it needed, so {attempts} attempts "
            f"need at least {attempts - 1} fix loop(s); correct {field} or review.attempts"
        )


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
        if self.fix_loops is not None:
            _fix_loops_agree(self.stages(), self.fix_loops, "fix_loops")
        elif impl is not None:
            _fix_loops_agree(self.stages(), impl.fix_loops, "implementation.fix_loops")
        return self

    @model_validator(mode="after")
    def _one_model(self) -> Ticket:
        # which of the two did the work only the team knows: a rate over either reading of the
        # log could pass wrongly
        impl = self.implementation
        named, ran = self.execution_model, impl.model if impl is not None else None
        if named and ran and two_models(named, ran):
            raise ValueError(
                f"execution_model {named!r} differs from implementation.model {ran!r}: keep one "
                "(or make them name the same model)"
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
        if self.implementation is not None:  # the single-ticket layout: its one ticket's stages
            stages = self.top_level_stages()
            _fix_loops_agree(stages, self.implementation.fix_loops, "implementation.fix_loops")
        return self

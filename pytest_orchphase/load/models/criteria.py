"""criteria/<phase>.yaml: conditions, criteria, decisions; and the baselines they compare with."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)

from pytest_orchphase.load.models.fields import (
    Complexity,
    Count,
    DecisionRule,
    Measure,
    Percent,
    PositiveCount,
    StageName,
    Strict,
    TextId,
    Tier,
    Tokens,
    Usd,
)


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

"""The metric registry: name → formula over a phase (scope ``phase``) or one ticket (``ticket``).

Criteria name metrics; nothing in YAML is evaluated as code. Each metric declares its unit, the
parameters it takes (``measure``, ``stage``, ``model``, ``baseline``) and its formula in words,
which the README and ``orchphase`` print. Extra metrics can be registered by plugins.

The shipped formulas live beside it (``phase_metrics``, ``ticket_metrics``, ``trials``, over the
shared facts about tickets: ``outcomes``, ``open_work``, ``wall_time``, ``usage_figures``,
``bounds``, ``which_tickets``) and are imported at the end of this module, so REGISTRY always
holds them.
"""

from __future__ import annotations

import copy
import math
import pickle
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from pytest_orchphase.errors import MetricFailed, MetricUnavailable, raised
from pytest_orchphase.load.models import Baseline
from pytest_orchphase.load.phase import Phase
from pytest_orchphase.load.quantity import QUALITY_ORDER
from pytest_orchphase.metrics.stats import Paired, Proportion, Sample, percent
from pytest_orchphase.usage.accounts import Accounts
from pytest_orchphase.usage.value import Usage, total_of

Scope = Literal["phase", "ticket"]
Unit = Literal["tokens", "percent", "minutes", "count", "quality", "bool", "usd"]
Value = float | int | str | bool
UNIT_WORDS: dict[str, str] = {
    "tokens": "a finite number of tokens",
    "usd": "a finite amount in USD",
    "percent": "a finite percentage",
    "minutes": "a finite number of minutes",
    "count": "a finite number",
    "quality": "one of worse, same, better",
    "bool": "true or false",
}


def fits(value: object, unit: str) -> bool:
    """Whether a metric's value is of its unit: a bool for bool, a grade for quality, else a
    finite number (never a bool, None, a string or NaN, which would compare as no limit)."""
    if unit == "bool":
        return isinstance(value, bool)
    if unit == "quality":
        return isinstance(value, str) and value in QUALITY_ORDER
    if not isinstance(value, int | float) or isinstance(value, bool):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an int beyond a float: no comparison with a limit could hold it
        return False


#: a ticket succeeded with at most this many fix loops, unless a criterion or decision says
DEFAULT_SUCCESS_LOOPS = 1


@dataclass(frozen=True)
class Params:
    measure: str | None = None
    stage: str | None = None
    model: str | None = None
    baseline: str | None = None
    versus: str | None = None
    k: int | None = None
    #: the most fix loops a successful ticket may need (success metrics); None: the default
    max_fix_loops: int | None = None

    @property
    def success_loops(self) -> int:
        return DEFAULT_SUCCESS_LOOPS if self.max_fix_loops is None else self.max_fix_loops


Bound = Literal["exact", "lower", "upper", "unknown"]
BOUNDS: tuple[Bound, ...] = ("exact", "lower", "upper", "unknown")


@dataclass(frozen=True)
class Measurement:
    value: Value
    unit: Unit
    source: str
    note: str = ""
    #: Said beside the figure wherever it is shown: "estimated" (a figure from an estimate),
    #: "recorded in the log, not measured" (a hand figure in a measured phase); "" otherwise.
    mark: str = ""
    #: "lower": the true figure is at least ``value``; "upper": at most; "unknown": neither
    #: (derived from lower bounds pulling both ways). Only "exact" can decide every operator.
    bound: Bound = "exact"
    #: Why the figure is a bound.
    bound_note: str = ""
    #: the evidence behind an estimate (a rate's trials, paired deltas): its interval decides
    sample: Sample | None = None
    #: the tickets whose outcome (success or failure) the figure judges: a failure the log
    #: records for a ticket no item of its phase judges fails the phase's decision and gate
    judged: frozenset[str] = frozenset()


def origin_mark(origin: str, measured: bool) -> str:
    """How a token figure must be marked: an estimate always; a hand-recorded figure when the
    phase is otherwise measured from transcripts."""
    if origin == "estimated":
        return "estimated"
    if origin == "recorded" and measured:
        return "recorded in the log, not measured"
    return ""


@dataclass
class MetricContext:
    """What a metric formula reads: the phase, its accounts, and its baselines."""

    phase: Phase
    accounts: Accounts
    #: another phase's context by name (paired comparisons); None outside a runner
    others: Callable[[str], MetricContext] | None = field(default=None, repr=False)
    #: the phase and accounts as loaded, pickled once: each call of a registered metric reads
    #: a copy of them (see :meth:`view`)
    _pristine: bytes | None = field(default=None, init=False, repr=False, compare=False)

    def view(self) -> MetricContext:
        """A copy of this context for a registered metric's own code: whatever that code does
        to the phase or the accounts it reads (drop a ticket, change a figure) stays in the
        copy, and no other item reads it. Copied from the pickle taken once per phase (about
        1 ms for 50 tickets, a third of a deep copy); the other phases it reaches through
        ``others`` are copies too."""
        try:
            if self._pristine is None:
                self._pristine = pickle.dumps((self.phase, self.accounts), pickle.HIGHEST_PROTOCOL)
            phase, accounts = pickle.loads(self._pristine)  # our own bytes
        except (pickle.PicklingError, TypeError, AttributeError):  # what a plugin put there
            phase, accounts = copy.deepcopy((self.phase, self.accounts))
        others = self.others
        return MetricContext(
            phase, accounts, None if others is None else (lambda name: others(name).view())
        )

    @property
    def n(self) -> int:
        return len(self.phase.tickets)

    def baseline(self, name: str | None) -> Baseline:
        if name is None:
            raise MetricUnavailable("this metric needs `baseline:`")
        if name not in self.phase.baselines:
            known = ", ".join(sorted(self.phase.baselines)) or "none"
            raise MetricUnavailable(f"unknown baseline {name!r}; known baselines: {known}")
        return self.phase.baselines[name]

    def baseline_figure(self, name: str | None, measure: str) -> float:
        base = self.baseline(name)
        if measure == "usd":
            if base.usd_per_ticket is None:
                raise MetricUnavailable(f"baseline {name!r} has no usd_per_ticket")
            return base.usd_per_ticket
        if measure != "total":
            raise MetricUnavailable(
                f"baseline {name!r} is a total per ticket; compare it with measure total or usd"
            )
        return base.tokens_per_ticket

    def approach_figure(self, name: str | None, measure: str) -> float:
        """A baseline's cost per ticket as an approach to save against: never a part of a cost
        (``compare: false``), against which a "saving" would read as −272 %."""
        if not self.baseline(name).compare:
            raise MetricUnavailable(
                f"baseline {name} is a part of a cost (compare: false), not an approach to save "
                "against; use it with unbatched_tokens or batching_savings"
            )
        return self.baseline_figure(name, measure)

    def src(self, ticket: str | None = None, *rest: str) -> str:
        at = self.phase.ticket_field(ticket) if ticket else ()
        return self.phase.source((*at, *rest))

    def planning(self) -> Usage | None:
        """Shared planning's usage; None when the phase has none; MetricUnavailable when it is
        unknown (measured sessions without a lead: never the log's estimate instead)."""
        if self.accounts.planning_unknown:
            raise MetricUnavailable(f"shared planning is unknown: {self.accounts.planning_unknown}")
        return self.accounts.planning

    def planning_unrecorded(self) -> str:
        """Why the batch's shared planning is missing from the phase's figures: a phase of
        several tickets whose log records no ``shared_planning`` and whose transcripts hold no
        lead's calls (its figures count that planning as 0). "" when planning is known (or
        unknown, which :meth:`planning` says), or one ticket has no planning to share."""
        if self.accounts.planning is not None or self.accounts.planning_unknown or self.n < 2:
            return ""
        measured = " and no lead session's calls were measured" if self.accounts.measured else ""
        return (
            f"the log records no shared_planning{measured}: the lead's planning of the "
            f"{self.n} tickets is not counted; record shared_planning (estimated_tokens or "
            "actual_tokens)"
        )

    def ticket_usage(self, ticket: str) -> Usage:
        usage = self.accounts.ticket(ticket)
        if usage is None:
            raise MetricUnavailable(
                self.accounts.unknown.get(ticket)
                or f"ticket {ticket} records no tokens (estimated or actual)"
            )
        return usage

    def phase_usage(self) -> Usage:
        planning = self.planning()
        parts = [self.ticket_usage(t) for t in self.phase.tickets]
        if planning is not None:
            parts.insert(0, planning)
        if self.accounts.unattributed is not None:
            parts.append(self.accounts.unattributed)
        total = total_of(parts)
        assert total is not None  # a phase has at least one ticket
        if why := self.planning_unrecorded():  # more planning than the 0 counted, never less
            return total.at_least(why)
        return total


#: the parameters a metric can take (each a key of a condition)
PARAMS = frozenset({"measure", "stage", "model", "baseline", "versus", "k", "max_fix_loops"})
MetricFn = Callable[[MetricContext, "str | None", Params], Measurement]


def token_unit(measure: str | None) -> Unit:
    """Token metrics are in USD when the measure is usd, else in tokens."""
    return "usd" if measure == "usd" else "tokens"


@dataclass(frozen=True)
class Metric:
    name: str
    scope: Scope
    unit: Unit
    formula: str
    fn: MetricFn
    params: frozenset[str] = frozenset()
    required: frozenset[str] = frozenset()
    #: the metric is an estimate with an interval (a rate, a mean delta): `rule:` applies
    interval: bool = False
    #: of a phase metric, the metrics it is never below in the same measure: ticket metrics (a
    #: sum or a maximum over the tickets holds each ticket's) and phase metrics (its own name
    #: for fewer tickets, a stage's share, a maximum below a sum), also when they narrow what
    #: the bound leaves open (a stage, a model). Such a part bounded by its whole decides
    #: nothing (see :mod:`pytest_orchphase.evaluate.checks`)
    parts: frozenset[str] = frozenset()
    #: of a phase metric, that its figure is one ticket's (a mean over the tickets), not the
    #: whole phase's: as a share of a baseline's cost it is over the cost of one ticket
    #: (``of: {baseline: NAME}``), never of the phase's tickets (``per: phase``), and a phase
    #: figure the reverse (see :mod:`pytest_orchphase.evaluate.checks`)
    per_ticket: bool = False

    def unit_for(self, params: Params) -> Unit:
        return token_unit(params.measure) if self.unit == "tokens" else self.unit


@dataclass
class Registry:
    metrics: dict[tuple[str, str], Metric] = field(default_factory=dict)
    #: metric names a conftest.py registers, by the conftest's path, known without running it
    #: (the orchphase commands do not run conftests; see conftest_metrics)
    conftest_only: dict[str, str] = field(default_factory=dict)

    def add(self, metric: Metric) -> None:
        key = (metric.scope, metric.name)
        if key in self.metrics:
            raise ValueError(f"metric {metric.name!r} ({metric.scope}) is already registered")
        self.metrics[key] = metric

    def get(self, scope: str, name: str) -> Metric | None:
        return self.metrics.get((scope, name))

    def names(self, scope: str) -> list[str]:
        return sorted(n for s, n in self.metrics if s == scope)

    def copy(self) -> Registry:
        return Registry(dict(self.metrics), dict(self.conftest_only))

    def register(
        self,
        name: str,
        *,
        scope: Scope,
        unit: Unit,
        formula: str,
        fn: Callable[[MetricContext, str | None, Params], Measurement | Value],
        params: tuple[str, ...] = (),
        required: tuple[str, ...] | None = None,
        interval: bool = False,
        parts: tuple[str, ...] = (),
        shipped: bool = False,
        per_ticket: bool = False,
    ) -> None:
        """Add a metric from a plugin or conftest. ``fn(ctx, ticket, params)`` returns a plain
        value (in ``unit``) or a :class:`Measurement` (with a ``sample`` when ``interval``);
        raise :class:`MetricUnavailable` when the data cannot give it. ``parts`` and
        ``per_ticket``: of a phase metric, see :attr:`Metric.parts` and
        :attr:`Metric.per_ticket`. ValueError for what the registry cannot hold (a name taken,
        an unknown scope, unit or parameter).

        ``fn`` runs once per item. What it raises (``SystemExit`` and pytest's outcomes
        included; Ctrl-C aside) or returns that is no figure of its unit fails the item naming
        the metric; unless ``shipped`` (the package's own formulas), it reads a copy of the
        phase (:meth:`MetricContext.view`), so that it changes nothing another item reads."""
        _refuse_registration(name, scope, unit, fn, params, required)

        def wrapped(ctx: MetricContext, ticket: str | None, p: Params) -> Measurement:
            view = ctx if shipped else ctx.view()
            try:
                value = fn(view, ticket, p)
            except (KeyboardInterrupt, MetricUnavailable):
                raise
            except BaseException as exc:  # the metric's own code: its item fails, naming it
                raise MetricFailed(f"metric {name!r} raised {raised(exc)}") from exc
            if not isinstance(value, Measurement):
                value = Measurement(value, unit, ctx.src(ticket) if ticket else ctx.src())
            if why := _not_a_figure(value, unit, interval) or (
                "" if shipped else _not_its_sample(value)
            ):
                raise MetricFailed(f"metric {name!r} returned {why}")
            return value

        self.add(
            Metric(
                name=name,
                scope=scope,
                unit=unit,
                formula=formula,
                fn=wrapped,
                params=frozenset(params),
                required=frozenset(params if required is None else required),
                interval=interval,
                parts=frozenset(parts),
                per_ticket=per_ticket,
            )
        )


def _refuse_registration(
    name: object,
    scope: object,
    unit: object,
    fn: object,
    params: tuple[str, ...],
    required: tuple[str, ...] | None,
) -> None:
    """ValueError naming the metric for a registration the registry cannot hold (a plugin's or
    a conftest's: the front ends make it a usage error naming where it was registered)."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"a metric's name must be a non-empty string, not {name!r}")
    if scope not in ("phase", "ticket"):
        raise ValueError(f"metric {name!r}: unknown scope {scope!r}; expected phase or ticket")
    if unit not in UNIT_WORDS:
        raise ValueError(
            f"metric {name!r}: unknown unit {unit!r}; expected one of {', '.join(UNIT_WORDS)}"
        )
    if not callable(fn):
        raise ValueError(f"metric {name!r}: fn {fn!r} is not callable")
    unknown = (set(params) | set(required or ())) - PARAMS
    if unknown:
        raise ValueError(
            f"metric {name!r}: unknown parameters {sorted(unknown)}; known: {sorted(PARAMS)}"
        )


def _shown(value: object) -> str:
    """A returned value in a message, cut short (an int of 400 digits)."""
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:57]}..."


def _not_a_figure(found: Measurement, unit: Unit, interval: bool) -> str:
    """What is wrong with what a metric returned, "" when it is a figure of its ``unit``: a
    value of another kind, a bound, unit, sample or text no report and no decision can read,
    or no interval from a metric registered with one (its point alone would decide
    ``rule: interval``)."""
    if not fits(found.value, unit):
        return f"{_shown(found.value)}; expected {UNIT_WORDS[unit]}"
    if found.bound not in BOUNDS:
        return f"bound {_shown(found.bound)}; expected one of {', '.join(BOUNDS)}"
    if found.unit not in UNIT_WORDS:
        return f"unit {_shown(found.unit)}; expected one of {', '.join(UNIT_WORDS)}"
    texts = ("source", "note", "mark", "bound_note")
    if bad := next((t for t in texts if not isinstance(getattr(found, t), str)), None):
        return f"{bad} {_shown(getattr(found, bad))}; expected a string"
    if not isinstance(found.judged, frozenset | set) or not all(
        isinstance(t, str) for t in found.judged
    ):
        return f"judged {_shown(found.judged)}; expected a set of ticket ids"
    if found.sample is None:
        if interval:
            return (
                f"{_shown(found.value)} with no interval, though registered with interval=True: "
                "return a Measurement with its sample (Proportion or Paired), or register it "
                "without interval"
            )
        return ""
    return _not_a_sample(found.sample)


def _not_its_sample(found: Measurement) -> str:
    """What is wrong with a team's figure its own sample contradicts ("" when none does): a
    rate that is not its successes over its trials, a mean that is not its deltas' mean. The
    interval is drawn from the sample and the point from the value: apart, an item could pass
    on one what the other fails (10 % beside 10 of 10)."""
    sample, value = found.sample, found.value
    if isinstance(sample, Proportion):
        point, what = percent(sample.successes, sample.n), f"{sample.describe()} is"
    elif isinstance(sample, Paired):
        point, what = sum(sample.deltas) / len(sample.deltas), "its deltas' mean is"
    else:
        return ""
    if math.isclose(float(value), point, rel_tol=1e-9, abs_tol=1e-9):
        return ""
    return f"{_shown(value)} beside its sample, by which it would be {point:g} ({what} that)"


def _not_a_sample(sample: object) -> str:
    """What is wrong with a returned sample, "" when an interval can be drawn from it."""
    if isinstance(sample, Proportion):
        counts = (sample.successes, sample.n)
        if all(isinstance(c, int) and not isinstance(c, bool) for c in counts) and (
            0 <= sample.successes <= sample.n and sample.n > 0
        ):
            return ""
        return f"sample {_shown(sample)}; expected 0 <= successes <= n, n > 0"
    if isinstance(sample, Paired):
        deltas = sample.deltas
        if isinstance(deltas, tuple) and deltas and all(fits(d, "count") for d in deltas):
            return ""
        return f"sample {_shown(sample)}; expected a non-empty tuple of finite deltas"
    return f"sample {_shown(sample)}; expected a Proportion or a Paired"


REGISTRY = Registry()


def metric(
    name: str,
    scope: Scope,
    unit: Unit,
    formula: str,
    params: tuple[str, ...] = (),
    required: tuple[str, ...] | None = None,
    interval: bool = False,
    parts: tuple[str, ...] = (),
    per_ticket: bool = False,
) -> Callable[[MetricFn], MetricFn]:
    """Register a built-in metric. ``required`` defaults to all ``params``."""

    def wrap(fn: MetricFn) -> MetricFn:
        REGISTRY.register(
            name,
            scope=scope,
            unit=unit,
            formula=formula,
            fn=fn,
            params=params,
            required=required,
            interval=interval,
            parts=parts,
            shipped=True,
            per_ticket=per_ticket,
        )
        return fn

    return wrap


# ----------------------------------------------------------------------------- helpers


def metric_measurement(
    ctx: MetricContext,
    name: str,
    ticket: str | None = None,
    *,
    registry: Registry = REGISTRY,
    **params: Any,
) -> Measurement:
    """A metric of the phase (or of one ticket), with its unit and bound. KeyError for an
    unknown name; MetricUnavailable when the data cannot give it."""
    scope = "ticket" if ticket is not None else "phase"
    spec = registry.get(scope, name)
    if spec is None:
        raise KeyError(f"no {scope} metric {name!r}; known: {registry.names(scope)}")
    return spec.fn(ctx, ticket, Params(**params))


def metric_value(
    ctx: MetricContext,
    name: str,
    ticket: str | None = None,
    *,
    registry: Registry = REGISTRY,
    **params: Any,
) -> Value:
    """The figure of :func:`metric_measurement`."""
    return metric_measurement(ctx, name, ticket, registry=registry, **params).value


def known_measurement(
    ctx: MetricContext, name: str, ticket: str | None = None, **params: Any
) -> Measurement | None:
    """Like :func:`metric_measurement`, with None where the data cannot give the figure."""
    try:
        return metric_measurement(ctx, name, ticket, **params)
    except MetricUnavailable:
        return None


def known_value(
    ctx: MetricContext, name: str, ticket: str | None = None, **params: Any
) -> Value | None:
    """Like :func:`metric_value`, with None where the data cannot give the figure (reports)."""
    found = known_measurement(ctx, name, ticket, **params)
    return None if found is None else found.value


# The shipped formulas register themselves on import. They are imported here, at the end (every
# name above is defined by then), so that REGISTRY always holds them whichever module of the
# package is imported first. The formula modules reach the shared facts as ``outcomes.<name>``
# and so on (module attribute, looked up at call time) so that this cycle is safe from any
# entry point; a fact module imports another by name only if that one imports this module for
# types alone (``open_work``, ``bounds``, ``which_tickets``), so it is never half-imported then.
from pytest_orchphase.metrics import phase_metrics, ticket_metrics, trials  # noqa: E402, F401

"""Loads phases once per run, evaluates their criteria and gates. Plain Python, no pytest."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from pytest_orchphase.errors import OrchphaseError, display
from pytest_orchphase.evaluate.checks import check
from pytest_orchphase.evaluate.condition import evaluate
from pytest_orchphase.evaluate.declared import Mismatch, declared_mismatches
from pytest_orchphase.evaluate.verdict import Verdict
from pytest_orchphase.load.models import Baseline, CriteriaFile, Criterion, TicketFilter
from pytest_orchphase.load.phase import (
    Phase,
    criteria_path,
    known_phases,
    load_baselines,
    load_criteria,
    load_phase,
    plan_order,
)
from pytest_orchphase.load.yamlio import Document
from pytest_orchphase.metrics.open_work import not_finished, open_accounts
from pytest_orchphase.metrics.outcomes import failures, planning_failed
from pytest_orchphase.metrics.registry import REGISTRY, MetricContext, Registry
from pytest_orchphase.metrics.which_tickets import model_matches, unrecorded_model
from pytest_orchphase.usage.accounts import hand_accounts
from pytest_orchphase.usage.attribution import Measured, measure_phase, measured_accounts
from pytest_orchphase.usage.roots import Named, named_sources

if TYPE_CHECKING:
    from pytest_orchphase.usage.cache import ScanCache


def gate_name(required: str) -> str:
    """The name of the item that gates a phase on the phase ``required``."""
    return f"phase-gate[{required}]"


@dataclass(frozen=True)
class ItemSpec:
    """One test item: a criterion for the phase, or for one ticket."""

    index: int
    criterion: Criterion
    ticket: str | None
    empty_filter: bool = False
    #: why it is not known whether the ticket is one the criterion's ``where:`` names ("" when
    #: it is known): the item passes only when the ticket passes the criterion anyway
    membership: str = ""

    @property
    def name(self) -> str:
        if self.criterion.for_each != "ticket":
            return self.criterion.id
        return f"{self.criterion.id}[{self.ticket if self.ticket else 'no matching ticket'}]"


#: What a gate re-evaluates: the required phase's YAML criteria from its data, through its own
#: gates. Python checks run beside that phase's criteria are not re-run: they count only in
#: that phase's own run.
GATE_COVERS = "YAML criteria only; its Python checks count in its own run"


@dataclass
class GateResult:
    phase: str
    passed: bool
    failing: list[str] = field(default_factory=list)
    error: str | None = None

    def describe(self) -> str:
        if self.error:
            return f"phase {self.phase} cannot be evaluated: {self.error}"
        if self.passed:
            return f"phase {self.phase} passed all its criteria ({GATE_COVERS})"
        return f"phase {self.phase} failed: {', '.join(self.failing)}"


def _membership(flt: TicketFilter | None, ticket_id: str, phase: Phase) -> str | None:
    """Whether a ticket is one ``where:`` names: None when it is not, "" when it is, else why
    that is not known (a field the filter asks about that the ticket does not record, while
    every field it records matches): such a ticket may be one of them."""
    if flt is None:
        return ""
    ticket = phase.tickets[ticket_id]
    if flt.tickets is not None and ticket_id not in flt.tickets:
        return None
    unknown = []
    if flt.execution_model is not None:
        if why := unrecorded_model(ticket_id, ticket, flt.execution_model):
            unknown.append(why)
        elif not model_matches(ticket.model_used, flt.execution_model):
            return None
    if flt.complexity is not None:
        if ticket.complexity is None:
            unknown.append(f"ticket {ticket_id} records no complexity")
        elif ticket.complexity != flt.complexity:
            return None
    if flt.review_tier is not None:
        tier = ticket.review.tier if ticket.review else None
        if tier is None:
            unknown.append(f"ticket {ticket_id} records no review tier (review.tier)")
        elif tier != flt.review_tier:
            return None
    return "; ".join(unknown)


class PhaseRunner:
    """Phases by name, each loaded and checked once; verdicts and gates computed from data."""

    def __init__(
        self,
        criteria_dir: Path,
        data_root: Path,
        registry: Registry = REGISTRY,
        prices: Path | None = None,
        scan_cache: Callable[[], ScanCache | None] | None = None,
    ) -> None:
        self.criteria_dir = criteria_dir
        self.data_root = data_root
        self.registry = registry
        self.prices = prices
        #: Gives the scan cache when a phase is first measured (so that a run that measures
        #: nothing makes no cache folder); ``None``: every transcript is read whole.
        self.scan_cache = scan_cache
        self._phases: dict[str, Phase] = {}
        self._measured: dict[str, Measured | None] = {}
        self._measure_errors: dict[str, OrchphaseError] = {}
        #: each phase's measurement before it is compared with the others' (see measured)
        self._scanned: dict[str, Measured | None] = {}
        self._scan_errors: dict[str, OrchphaseError] = {}
        #: each phase's metadata label, read once (see :func:`load_phase`)
        self._labels: dict[str, str | None] = {}
        #: what each phase is measured from, by name (see :func:`named_sources`), read once
        self._named: dict[str, list[Named]] = {}
        self._mismatches: dict[str, list[Mismatch]] = {}
        self._criteria: dict[Path, tuple[CriteriaFile, Document]] = {}
        self._criteria_errors: dict[Path, OrchphaseError] = {}
        self._baselines: dict[str, Baseline] | None = None
        self._contexts: dict[str, MetricContext] = {}
        #: each item's verdict, by phase and item: a metric's function runs once per item
        #: (the gate, the decision and the report at the session's end read the item's)
        self._verdicts: dict[tuple[str, int, str | None], Verdict] = {}
        self._gates: dict[str, GateResult] = {}
        self._open_gates: set[str] = set()
        self._known = set(known_phases(criteria_dir))

    def criteria(self, path: Path) -> tuple[CriteriaFile, Document]:
        """A criteria file, read and validated once per run (the gate graph, the phases, the
        next-phase lookup and the comparison all ask for them)."""
        if path in self._criteria_errors:  # a file that fails is read once too, not per caller
            raise self._criteria_errors[path]
        if path not in self._criteria:
            try:
                self._criteria[path] = load_criteria(path)
            except OrchphaseError as exc:
                self._criteria_errors[path] = exc
                raise
        return self._criteria[path]

    def in_plan_order(self, names: list[str] | None = None) -> list[str]:
        """``names`` (default: every known phase) ordered by ``requires``, ties by name."""

        def requires_of(name: str) -> list[str] | None:
            try:
                return self.criteria(criteria_path(self.criteria_dir, name))[0].requires
            except OrchphaseError:
                return None

        return plan_order(sorted(self._known) if names is None else names, requires_of)

    def baselines(self) -> dict[str, Baseline]:
        if self._baselines is None:
            self._baselines = load_baselines(self.criteria_dir)
        return self._baselines

    def load(self, name: str) -> Phase:
        """Load, validate and check a phase (raises :class:`OrchphaseError` for bad input)."""
        if name not in self._phases:
            phase = load_phase(
                self.criteria_dir,
                self.data_root,
                name,
                load=self.criteria,
                shared_baselines=self.baselines(),
                labels=self._labels,
            )
            doc = phase.criteria_doc
            for i, req in enumerate(phase.criteria.requires):
                if req not in self._known:
                    raise doc.error(
                        f"requires unknown phase {req!r}; "
                        f"known phases: {', '.join(sorted(self._known))}",
                        ("requires", i),
                    )
            for i, criterion in enumerate(phase.criteria.criteria):
                named = (
                    criterion.where.tickets if criterion.where and criterion.where.tickets else []
                )
                strangers = [t for t in named if t not in phase.tickets]
                if strangers:
                    raise doc.error(
                        f"ticket(s) {', '.join(strangers)} are not in this phase "
                        f"({', '.join(phase.tickets)})",
                        ("criteria", i, "where", "tickets"),
                    )
                check(
                    criterion,
                    i,
                    doc,
                    baselines=set(phase.baselines),
                    phases=self._known,
                    registry=self.registry,
                    this=name,
                )
            self._phases[name] = phase
        return self._phases[name]

    def measured(self, name: str) -> Measured | None:
        """The phase's measured usage (transcripts are read here, once, never at collection);
        a failure is kept too, so a broken transcript is read once, not once per item."""
        if name in self._measure_errors:
            raise self._measure_errors[name]
        if name not in self._measured:
            try:
                measured = self._scan(name)
                # after the scan: a file in another phase's data folder is named as such there
                self._refuse_shared_sessions(name)
                if measured is not None:
                    self._refuse_shared_calls(name, measured)
                self._measured[name] = measured
            except OrchphaseError as exc:
                self._measure_errors[name] = exc
                raise
        return self._measured[name]

    def _scan(self, name: str) -> Measured | None:
        """Phase ``name``'s measurement, before it is compared with other phases' (once per
        run: the comparison of each phase with the others reads it too)."""
        if name in self._scan_errors:
            raise self._scan_errors[name]
        if name not in self._scanned:
            try:
                cache = self.scan_cache() if self.scan_cache is not None else None
                self._scanned[name] = measure_phase(self.load(name), self.prices, cache=cache)
            except OrchphaseError as exc:
                self._scan_errors[name] = exc
                raise
        return self._scanned[name]

    def _refuse_shared_calls(self, name: str, measured: Measured) -> None:
        """Phase ``name`` counting an API call another phase counts too (the same message and
        request ids) is an error, however each reaches the call: a session's transcript copied
        under another name, a headless result copied, two ledgers keeping one session. Each
        phase's figures would hold the other's work. A phase that does not load or measure is
        not compared (its own run reports it)."""
        for other in sorted(self._known - {name}):
            try:
                theirs = self._scan(other)
            except OrchphaseError:
                continue
            if theirs is None:
                continue
            small, large = sorted((measured.counted, theirs.counted), key=len)
            shared = [key for key in small if key in large]
            if shared and not _only_their_history(measured, theirs, shared):
                raise _shared_calls_error(self.load(name), measured, other, theirs, shared)

    def _refuse_shared_sessions(self, name: str) -> None:
        """A ``sessions:`` entry of phase ``name`` that another phase's metadata names too (the
        same session id; by path, the same file, or a folder holding the other's) is an error at
        the entry: the session's usage would count in both phases, and each phase's figures
        would hold the other's work. A phase that does not load is not compared (its own run
        reports it)."""
        phase = self.load(name)
        mine = self._named_sources(name)
        if not mine:
            return
        for other in sorted(self._known - {name}):
            try:
                theirs = self._named_sources(other)
            except OrchphaseError:
                continue
            for source in mine:
                if shared := next((t for t in theirs if source.shares(t)), None):
                    raise _shared_error(phase, source, self.load(other), shared)

    def _named_sources(self, name: str) -> list[Named]:
        """:func:`named_sources` of phase ``name``, once per run (each measured phase compares
        itself with every other: read again, a project of many phases read each one's folders
        and ledger once per pair)."""
        if name not in self._named:
            self._named[name] = named_sources(self.load(name))
        return self._named[name]

    def context(self, name: str) -> MetricContext:
        if name not in self._contexts:
            phase = self.load(name)
            measured = self.measured(name)
            accounts = measured_accounts(phase, measured) if measured else hand_accounts(phase)
            # a ticket not finished has used its tokens so far only: lower bounds, for every
            # reader (this phase's criteria, another phase's comparison with it, the tables)
            accounts = open_accounts(phase, accounts)
            self._contexts[name] = MetricContext(
                phase=phase, accounts=accounts, others=self.context
            )
        return self._contexts[name]

    def items(self, name: str) -> list[ItemSpec]:
        phase = self.load(name)
        out: list[ItemSpec] = []
        for index, criterion in enumerate(phase.criteria.criteria):
            if criterion.for_each != "ticket":
                out.append(ItemSpec(index, criterion, None))
                continue
            tickets = {
                t: fit
                for t in phase.tickets
                if (fit := _membership(criterion.where, t, phase)) is not None
            }
            if not tickets:
                out.append(ItemSpec(index, criterion, None, empty_filter=True))
            out.extend(ItemSpec(index, criterion, t, membership=m) for t, m in tickets.items())
        return out

    def verdict(self, name: str, spec: ItemSpec) -> Verdict:
        """The item's verdict, evaluated once per run: a registered metric's own code is not
        run again at the session's end (what it did the second time would not be the item's)."""
        key = (name, spec.index, spec.ticket)
        if key not in self._verdicts:
            self._verdicts[key] = self._evaluated(name, spec)
        return self._verdicts[key]

    def _evaluated(self, name: str, spec: ItemSpec) -> Verdict:
        where = spec.criterion.where.model_dump(exclude_none=True) if spec.criterion.where else {}
        if spec.empty_filter:
            return Verdict(
                passed=False,
                metric=spec.criterion.metric or "",
                error=f"no ticket matches where: {where}",
            )
        verdict = evaluate(
            spec.criterion, self.context(name), spec.ticket, self.context, self.registry
        )
        if spec.membership and not verdict.passed:  # it fails the criterion if it is one
            failing = "; ".join(c.condition_text() for c in verdict.leaves() if not c.passed)
            why = (
                f"{spec.membership}, so whether it is one of where: {where} is not known, and "
                f"it does not pass the criterion{f' ({failing})' if failing else ''}; record it"
            )
            if verdict.metric is None:  # a group of conditions: the reason stands for it
                return Verdict(passed=False, metric=spec.criterion.metric or "", error=why)
            return replace(verdict, inconclusive=False, error=why)
        return verdict

    def unjudged_failures(self, name: str) -> list[str]:
        """The failures the log of phase ``name`` records that no item of it judges (see
        :func:`unjudged_failures`)."""
        items = self.items(name)
        return unjudged_failures(self.load(name), [self.verdict(name, s) for s in items])

    def unjudged_tickets(self, name: str) -> dict[str, list[str]]:
        """The tickets of phase ``name`` that failed with no item judging it, each with where
        the log records the failure (see :func:`unjudged_tickets`)."""
        items = self.items(name)
        return unjudged_tickets(self.load(name), [self.verdict(name, s) for s in items])

    def mismatches(self, name: str) -> list[Mismatch]:
        """Declared totals that differ from the computed ones (collection and reports ask)."""
        if name not in self._mismatches:
            self._mismatches[name] = declared_mismatches(self.load(name))
        return self._mismatches[name]

    def gate(self, name: str) -> GateResult:
        """Whether phase ``name`` passes: its criteria on its data and, recursively, its gates,
        with every ticket of it finished
        (:func:`~pytest_orchphase.metrics.open_work.not_finished`) and its shared planning not
        failed."""
        if name in self._open_gates:  # a cycle: callers check the graph first; never recurse
            return GateResult(name, False, error=f"phase {name} requires itself through a cycle")
        if name not in self._gates:
            self._open_gates.add(name)
            try:
                phase = self.load(name)
                failing = [
                    gate_name(req) for req in phase.criteria.requires if not self.gate(req).passed
                ]
                verdicts = {spec.name: self.verdict(name, spec) for spec in self.items(name)}
                failing += [item for item, verdict in verdicts.items() if not verdict.passed]
                failing += unjudged_failures(phase, verdicts.values())
                failing += not_finished(phase)  # its figures so far prove no `max` yet
                self._gates[name] = GateResult(name, not failing, failing)
            except OrchphaseError as exc:
                self._gates[name] = GateResult(name, False, error=str(exc))
            finally:
                self._open_gates.discard(name)
        return self._gates[name]


def unjudged_failures(phase: Phase, verdicts: Iterable[Verdict]) -> list[str]:
    """The failures the log of ``phase`` records that no item judges, one reason each: its shared
    planning failed (no criterion judges a planning), or a ticket failed
    (:func:`~pytest_orchphase.metrics.outcomes.failures`) whose outcome no item's figure judges
    (:attr:`~pytest_orchphase.metrics.registry.Measurement.judged`: ``review_passed``,
    ``all_reviews_passed``, ``success_rate``, ``pass_at_k``, ``pass_hat_k``; within ``any:``
    only where every alternative judges it, see :meth:`Verdict.judged`). Criteria on tokens,
    attempts or time alone pass on work that failed: each such failure fails the phase's
    decision and its gate."""
    return planning_failed(phase) + [
        f"ticket {tid} failed ({', '.join(why)}) and no criterion judges its outcome"
        for tid, why in unjudged_tickets(phase, verdicts).items()
    ]


def unjudged_tickets(phase: Phase, verdicts: Iterable[Verdict]) -> dict[str, list[str]]:
    """The tickets of ``phase`` that failed (:func:`~pytest_orchphase.metrics.outcomes.failures`,
    the places given) whose outcome none of ``verdicts`` judges (see :func:`unjudged_failures`)."""
    judged = frozenset().union(*(verdict.judged() for verdict in verdicts))
    return {
        tid: why
        for tid, ticket in phase.tickets.items()
        if tid not in judged and (why := failures(ticket))
    }


def _only_their_history(
    measured: Measured, theirs: Measured, shared: list[tuple[str, str]]
) -> bool:
    """Whether the files holding the ``shared`` calls here hold nothing else, while the other
    phase's hold calls of their own beside them: this phase's session, resumed in the other
    phase (``claude --resume`` copies the history, with its message and request ids, into the
    new session's file). The calls were made here; the other phase counts them twice, and its
    own run is refused for it. A copy holding nothing of its own on both sides is refused on
    both."""
    keys = set(shared)

    def own_beside(counted: dict[tuple[str, str], Path | None]) -> bool:
        files = {counted[key] for key in keys}
        return any(path in files for key, path in counted.items() if key not in keys)

    return not own_beside(measured.counted) and own_beside(theirs.counted)


def _shared_calls_error(
    phase: Phase,
    measured: Measured,
    other: str,
    theirs: Measured,
    shared: list[tuple[str, str]],
) -> OrchphaseError:
    """That ``phase`` counts the ``shared`` calls phase ``other`` counts too: at this phase's
    file holding the first of them (by key), naming the other's."""
    first = min(shared)
    mine, their = measured.counted[first], theirs.counted[first]
    where = f" in {display(their)}" if their is not None else ""
    return OrchphaseError(
        f"{len(shared):,} API call(s) measured here are counted by phase {other} too (message "
        f"{first[0]}{where}): a copy of the same session (the same calls, whatever the files "
        "are named: a transcript copied, or a session of that phase resumed here), whose usage "
        "would count in both phases; measure each session in one phase only",
        path=mine or phase.metadata_doc.path,
    )


def _shared_error(phase: Phase, source: Named, other: Phase, shared: Named) -> OrchphaseError:
    """That ``source`` of ``phase`` holds calls ``shared``, of phase ``other``, holds too: at the
    entry that names it, else at the other phase's, else at the folder or ledger holding it."""
    named = "" if shared.where() == source.where() else f" (its entry: {shared.where()})"
    message = (
        f"{source.where()} is named by phase {other.name} too{named}, in "
        f"{display(other.metadata_doc.path)}: its usage would count in both phases; name each "
        "session in one phase's metadata only"
    )
    if source.index is not None:
        return phase.metadata_doc.error(message, ("sessions", source.index))
    if shared.index is not None:
        return other.metadata_doc.error(
            f"{shared.where()}, named here, is measured by phase {phase.name} too "
            f"({'kept in' if source.kept else 'in'} {display(source.via or Path(source.name))}): "
            "its usage would count in both phases; name each session in one phase only",
            ("sessions", shared.index),
        )
    return OrchphaseError(message, path=source.via or Path(source.name))

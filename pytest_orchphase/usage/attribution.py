"""Measured usage of a phase: its sessions scanned, each call attributed to planning, a ticket's
stage, or "unattributed" (shown, never dropped), and priced.

Sessions first. A *main* session is one whose own calls are not a sub-agent's. Exactly one main
session is the **lead**: the one metadata.yaml names with ``lead: true``, else the only main
session, else the only one that spawned sub-agents, never one whose first prompt names exactly
one ticket (that ticket's worker). Every other main session is a worker:

1. named with ``ticket`` (and ``stage``) in metadata.yaml: all of its calls go there;
2. else its first prompt names exactly one of the phase's tickets: all of it goes to that ticket;
3. else it is unattributed (and with no lead found, so is every main session).

Then calls, in order:

1. a call of a session named with ``ticket``: that ticket (and stage);
2. the lead's own calls, and its context compaction: shared planning;
3. a sub-agent listed in a stage's ``agents.agent_ids``;
4. a sub-agent whose Task description matches a stage's ``agents.description_pattern`` (the
   patterns of two places matching it are an error, and so is a mapping by 3 or 4 of a sub-agent
   of a session 1 gives to another ticket or stage: which one is right only the team knows);
5. a sub-agent whose Task description (else prompt) names exactly one of the phase's tickets: that
   ticket, at the stage its description suggests (review, monitor, branch, fix, merge/PR/push),
   else implementation;
6. a worker session's own calls, and its sub-agents not placed above: the worker's ticket;
7. anything else: unattributed.

A sub-agent's place (3 to 5) and the log's sub-agent mappings no transcript holds are found in
``usage/subagents.py``; this module places every call and sums the usage per place.

A ticket with no measured usage while some usage is unattributed is unknown (its work may be
there), never counted from its estimate on top; so is shared planning when no lead was found. A
measured ticket's figures count the unattributed usage as its own
(``metrics.usage_figures.charged``).
"""

from __future__ import annotations

import warnings
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from pytest_orchphase.load.phase import PLANNING, Phase
from pytest_orchphase.usage.accounts import Accounts, hand_accounts
from pytest_orchphase.usage.roots import (
    has_sources,
    refuse_calls_given_twice,
    roots_of,
    scan_roots,
)
from pytest_orchphase.usage.sessions import (
    Owners,
    SessionAttribution,
    place_sessions,
    session_key,
)
from pytest_orchphase.usage.subagents import AgentMap, missing_agents
from pytest_orchphase.usage.value import Usage, total_of

if TYPE_CHECKING:
    from pytest_orchphase.usage.cache import ScanCache
    from pytest_orchphase.usage.records import AgentKey, HeadlessResult
    from pytest_orchphase.usage.sources.claude_code import ApiCall, Scan

_K = TypeVar("_K")


@dataclass(frozen=True)
class AgentAttribution:
    agent_id: str
    session_id: str | None
    description: str | None
    ticket: str | None
    stage: str | None
    how: str
    usage: Usage
    #: The first and last timestamps of the agent's calls (None when none is stamped).
    span: tuple[datetime, datetime] | None = None


@dataclass(frozen=True)
class RunTime:
    """How long a headless run says it took (``duration_ms``), and where its calls went."""

    path: Path
    duration_ms: int
    places: frozenset[Place]


@dataclass
class Measured:
    """What the transcripts say the phase spent, by place."""

    planning: Usage | None = None
    #: Why shared planning is unknown (no lead session found while main sessions are unplaced).
    planning_unknown: str | None = None
    sessions: list[SessionAttribution] = field(default_factory=list)
    stages: dict[str, dict[str, Usage]] = field(default_factory=dict)
    whole: dict[str, Usage] = field(default_factory=dict)
    unattributed: Usage | None = None
    #: (ticket or "", stage or "shared_planning" or "", model) → usage, for reports and charts
    by_model: dict[tuple[str, str, str], Usage] = field(default_factory=dict)
    #: (ticket or "", stage or "shared_planning" or "", who) → the models of the calls placed
    #: there by ``who`` (see :func:`role_of`): what the log's models are checked against
    models_by_role: dict[tuple[str, str, str], set[str]] = field(default_factory=dict)
    agents: list[AgentAttribution] = field(default_factory=list)
    #: context compaction of the lead session: part of ``planning``, shown on its own
    compaction: Usage | None = None
    #: (ticket or "", stage or "shared_planning" or "") → first and last stamped call there
    spans: dict[tuple[str, str], tuple[datetime, datetime]] = field(default_factory=dict)
    #: (ticket or "", stage or "shared_planning" or "") → how many calls placed there record no
    #: time (no timestamp, or one that is not a time): ``spans`` cannot hold them
    unstamped: dict[tuple[str, str], int] = field(default_factory=dict)
    files: int = 0
    malformed_lines: int = 0
    #: Malformed lines that may have recorded a call: every figure above is then a lower bound.
    lost_usage_lines: int = 0
    #: The files (usage ledgers collected before they kept them) of counted calls whose last
    #: lines' times are not known: ``spans`` may end before their responses did.
    ends_unknown: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: The tickets all of whose measured work is headless runs (``claude -p`` results) that
    #: ended in error (``is_error``), each with those runs as ``<file> (<subtype>)``: such a
    #: run did not finish its work
    errored_runs: dict[str, list[str]] = field(default_factory=dict)
    #: Each headless run that records its own ``duration_ms``: its file, that duration, and
    #: the places its calls were counted in (the place its stamps must be as long as)
    run_times: list[RunTime] = field(default_factory=list)
    #: Every call counted, by its key (message id, request id), with the file it was read from:
    #: what another phase must not count too, whatever its files are named
    counted: dict[tuple[str, str], Path | None] = field(default_factory=dict)

    def tickets(self) -> set[str]:
        return set(self.stages) | set(self.whole)


def measure_phase(
    phase: Phase,
    prices: Path | None = None,
    config_dirs: Sequence[Path] | None = None,
    cache: ScanCache | None = None,
) -> Measured | None:
    """Scan the phase's sessions and attribute their usage; ``None`` when it names none.
    ``cache``: where each transcript's result is kept between runs (the same result)."""
    if not has_sources(phase):
        return None
    from pytest_orchphase.errors import UnknownModelWarning
    from pytest_orchphase.usage.aggregate import price_calls
    from pytest_orchphase.usage.pricing import PriceTable

    roots = roots_of(phase, config_dirs)
    scan = scan_roots(phase, roots, cache)
    table = PriceTable.load(prices)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnknownModelWarning)  # reported in Measured.warnings
        costed = price_calls(scan, table)
    spec_of = Owners(roots, scan.copies)
    refuse_calls_given_twice(phase, scan, spec_of)
    sessions = place_sessions(phase, spec_of, scan)
    tally = _Tally(phase, scan, spec_of, sessions)
    # per ticket, and per (ticket, stage), the sessions of the calls placed there
    worked: dict[Place, set[str]] = defaultdict(set)
    where: dict[str, set[Place]] = defaultdict(set)  # each session's places
    for call, cost in costed:  # one pass: each call's place, summed per place, model, agent
        ticket, stage = tally.add(call, cost)
        where[session_key(call)].add((ticket, stage))
        if ticket:
            worked[(ticket, "")].add(session_key(call))
            worked[(ticket, stage)].add(session_key(call))
    measured = tally.measured(sessions)
    measured.errored_runs = _errored_runs(scan, spec_of, sessions, worked)
    measured.run_times = [
        RunTime(run.path, run.duration_ms, frozenset(where[_run_key(run)]))
        for run in scan.headless
        if run.duration_ms and where.get(_run_key(run))
    ]
    measured.counted = {(c.message_id, c.request_id): c.path for c in scan.calls}
    for model, count in sorted(table.unknown_models.items()):
        measured.warnings.append(f"{count} call(s) of model {model!r} have no price: cost unknown")
    return measured


def _errored_runs(
    scan: Scan, spec_of: Owners, sessions: list[SessionAttribution], worked: dict[Place, set[str]]
) -> dict[str, list[str]]:
    """The tickets a place of which (the ticket, or the stage its ``sessions:`` entry names)
    has headless runs (by that entry, else by the worker session they are) that all ended in
    error (``HeadlessResult.ended_in_error``), while the calls placed there (``worked``: the
    sessions they are of) are all of those runs: no other session did that work. A review run
    that finished does not finish an implementation run that ended in error."""
    workers = {a.session_id: a.ticket for a in sessions if a.ticket}
    runs: dict[Place, list[HeadlessResult]] = defaultdict(list)
    for run in scan.headless:
        owner = spec_of.owner(run.path)
        ticket = (owner.ticket if owner else None) or workers.get(_run_key(run))
        if ticket:
            runs[(ticket, (owner.stage if owner else None) or "")].append(run)
    out: dict[str, list[str]] = {}
    for place, own in runs.items():
        if all(run.ended_in_error for run in own) and worked[place] <= {_run_key(r) for r in own}:
            stage = f" {place[1]}" if place[1] else ""
            out.setdefault(place[0], []).extend(
                f"{run.path.name}{stage} ({run.subtype or 'error'})" for run in own
            )
    return out


def _run_key(run: HeadlessResult) -> str:
    """The session a headless run's calls are of (see :func:`session_key`)."""
    return run.session_id or f"file:{run.path}"


def _timed_runs(scan: Scan) -> set[tuple[Path, str]]:
    """The (file, session) pairs whose headless messages are of known time. A headless run's
    messages record no time by design; a run that reports its duration_ms is held to its
    place's stamps by it (see _run_too_long). The messages of one session in one file cannot be
    told apart by run (`claude -p --resume` appends under the same id), so they are timed only
    when each run there has a result with a duration: as many as the runs begun there (its
    ``init`` lines), none without. A run cut off before its result reports none, and the
    duration of a finished run beside it does not hold its messages."""
    results: dict[tuple[Path, str], list[HeadlessResult]] = defaultdict(list)
    for run in scan.headless:
        results[(run.path, _run_key(run))].append(run)
    return {
        key
        for key, runs in results.items()
        if all(run.duration_ms for run in runs)
        and len(runs) >= scan.run_starts[key]
        and key[0] not in scan.runs_unknown
    }


Place = tuple[str, str]  # (ticket, stage): ("", PLANNING), (ticket, ""), ("", "") unattributed


class _Tally:
    """Each call's place (planning, a ticket's stage, a ticket as a whole, nobody), and the sums
    per place, per place and model, and per sub-agent, with their time spans."""

    def __init__(
        self, phase: Phase, scan: Scan, spec_of: Owners, sessions: list[SessionAttribution]
    ) -> None:
        from pytest_orchphase.usage.aggregate import Totals

        self.scan, self.spec_of = scan, spec_of
        self.agents = AgentMap(phase, scan)  # the log's sub-agent mappings
        self.worker = {a.session_id: a.ticket for a in sessions if a.role == "ticket"}
        self.lead = next((a.session_id for a in sessions if a.role == "lead"), None)
        self.per_place: dict[Place, Totals] = defaultdict(Totals)
        self.per_model: dict[tuple[str, str, str], Totals] = defaultdict(Totals)
        self.per_agent: dict[AgentKey, Totals] = defaultdict(Totals)
        self.roles: dict[tuple[str, str, str], set[str]] = defaultdict(set)
        self.main = main_models(scan)
        self.agent_place: dict[AgentKey, tuple[str, str, str]] = {}
        self.place_spans: dict[Place, tuple[datetime, datetime]] = {}
        self.unstamped: dict[Place, int] = defaultdict(int)
        self.timed_runs = _timed_runs(scan)
        self.agent_spans: dict[AgentKey, tuple[datetime, datetime]] = {}
        self.ends_unknown: set[Path | None] = set()
        self.compaction = Totals()

    def add(self, call: ApiCall, cost: float | None) -> Place:
        """Count the call in its place (returned)."""
        place = self._place(call, cost)
        _stretch(self.place_spans, place, call.timestamp)
        _stretch(self.place_spans, place, call.last_timestamp)  # its response ran until then
        if call.path in self.scan.ends_unknown:
            self.ends_unknown.add(call.path)
        if (
            (call.timestamp is None or call.untimed_line)
            and not call.aggregate
            and (call.path, session_key(call)) not in self.timed_runs
        ):
            # a call of its own (a transcript's, a ledger's, a parent's record of it) whose
            # time is not known; a headless run's figure beyond its messages is a sum, no call
            self.unstamped[place] += 1
        self.per_place[place].add(call, cost)
        model_place = (*place, call.model)  # not d[(*a, b)]: mypy for 3.10 misreads it
        self.per_model[model_place].add(call, cost)
        if call.model and not call.model.startswith("<"):  # an API error (<synthetic>): no model
            role = role_of(call, self.scan, self.main)
            if role == AGENT and place[1] and self._spawned_there(call):
                role = SPAWNED
            role_place = (*place, role)  # as model_place above
            self.roles[role_place].add(call.model)
        return place

    def _spawned_there(self, call: ApiCall) -> bool:
        """Whether a sub-agent's call (or a headless run's sub-agents' figures) is placed in
        its stage only by the ``sessions:`` entry naming its session with that stage, the log
        mapping no such sub-agent there: its session's main agent's helper."""
        owner = self.spec_of(call)
        if owner is None or not owner.ticket or not owner.stage:
            return False
        return call.agent_key is None or self.agents.claim(call.agent_key) is None

    def _place(self, call: ApiCall, cost: float | None) -> Place:
        owner = self.spec_of(call)
        session = session_key(call)
        if owner is not None and owner.ticket:
            self.agents.check_owner(call, owner)
            return (owner.ticket, owner.stage or "")
        agent = call.agent_key
        if agent is None or call.compaction:
            if session != self.lead:
                return (self.worker.get(session) or "", "")
            if call.compaction:
                self.compaction.add(call, cost)  # the lead's compaction, shown apart
            return ("", PLANNING)
        if agent not in self.agent_place:
            self.agent_place[agent] = self.agents.place(agent, self.worker.get(session))
        self.per_agent[agent].add(call, cost)
        _stretch(self.agent_spans, agent, call.timestamp)
        _stretch(self.agent_spans, agent, call.last_timestamp)
        ticket, stage, _ = self.agent_place[agent]
        return (ticket, stage)

    def measured(self, sessions: list[SessionAttribution]) -> Measured:
        scan = self.scan
        measured = Measured(
            files=scan.files,
            malformed_lines=scan.malformed_lines,
            lost_usage_lines=scan.lost_usage_lines,
            ends_unknown=sorted(p for p in self.ends_unknown if p is not None),
            warnings=list(scan.warnings),
            sessions=sessions,
        )
        if self.lead is None and any(a.role == "unattributed" for a in sessions):
            measured.planning_unknown = (
                f"no lead session among {len(sessions)} main sessions "
                f"({', '.join(a.session_id for a in sessions)}): shared planning may be in any "
                "of them; name the lead in metadata.yaml (sessions: - {session: ID, lead: true})"
            )
        measured.by_model = {key: totals.usage() for key, totals in self.per_model.items()}
        measured.models_by_role = dict(self.roles)
        measured.compaction = self.compaction.usage() if self.compaction.calls else None
        measured.spans = self.place_spans
        measured.unstamped = dict(self.unstamped)
        for (ticket, stage), totals in self.per_place.items():
            usage = totals.usage()
            if stage == PLANNING:
                measured.planning = usage
            elif ticket == "" and stage == "":
                measured.unattributed = usage
            elif stage == "":
                measured.whole[ticket] = usage
            else:
                measured.stages.setdefault(ticket, {})[stage] = usage
        for agent, totals in self.per_agent.items():
            info = scan.agents.get(agent)
            ticket, stage, how = self.agent_place[agent]
            measured.agents.append(
                AgentAttribution(
                    agent[1],
                    info.session_id if info else agent[0] or None,
                    info.description if info else None,
                    ticket or None,
                    stage or None,
                    how,
                    totals.usage(),
                    self.agent_spans.get(agent),
                )
            )
        if scan.lost_usage_lines:
            _at_least(measured)
        return measured


#: The sub-agent types Claude Code ships that cannot do a ticket's work: they search and read
#: (Explore, which it runs on Haiku whatever the session's model; Plan), or answer questions
#: about Claude Code itself, or set up its status line. Whatever model they ran on, the work
#: was another's.
HELPER_TYPES = frozenset({"Explore", "Plan", "claude-code-guide", "statusline-setup"})

MAIN, AGENT, HELPER = "main", "agent", "helper"
#: A sub-agent of a session ``sessions:`` names with a stage, which the log does not map to
#: that stage (a headless run's sub-agents' figures there too): the session's main agent is
#: the stage's worker, and what it spawned its helpers, as in a session named with no stage.
SPAWNED = "spawned"
#: A headless run's figures beyond its messages on a model which, the record does not say,
#: its main agent or a sub-agent ran on (a usage ledger collected before it kept
#: ``main_models``, a result of no ``usage``, or one whose ``usage`` several models' figures
#: hold): they may be either's, so a model is proven its main agent's only when all are of it.
UNSURE = "main or agent"


def role_of(call: ApiCall, scan: Scan, main: Mapping[str, set[str]]) -> str:
    """Who made ``call``: a session's own agent (:data:`MAIN`: its calls and its context
    compaction), a sub-agent of one of :data:`HELPER_TYPES` (:data:`HELPER`), or another
    sub-agent (:data:`AGENT`), whose type, when not known, may be any. A headless run's
    figures summed beyond its messages (``modelUsage``) are its main agent's on the model it
    ran on (``main``: :func:`main_models`), else its sub-agents'; where that model is not
    known, either's (:data:`UNSURE`)."""
    if call.compaction:
        return MAIN
    agent = call.agent_key
    if agent is None:
        if not call.aggregate:
            return MAIN
        known = main.get(session_key(call))
        if not known:
            return UNSURE
        return MAIN if call.model in known else AGENT
    info = scan.agents.get(agent)
    return HELPER if info is not None and info.subagent_type in HELPER_TYPES else AGENT


def main_models(scan: Scan) -> dict[str, set[str]]:
    """By session (:func:`session_key`), the models its main agent ran on: those of its own
    messages, and the one each headless run of it says its main agent may have run on
    (:attr:`~pytest_orchphase.usage.records.HeadlessResult.main_models`, when it says one; a
    run all of whose usage is of one model ran on it)."""
    out: dict[str, set[str]] = defaultdict(set)
    for call in scan.calls:
        if call.agent_id is None and not call.aggregate:
            out[session_key(call)].add(call.model)
    for run in scan.headless:
        # several models the main agent may have run on say which of them it did no more than
        # none: its figures on each may be its sub-agents' (see UNSURE)
        known = run.main_models if len(run.main_models) == 1 else ()
        out[_run_key(run)].update(known or (tuple(run.models) if len(run.models) == 1 else ()))
    return out


def _at_least(measured: Measured) -> None:
    """Every figure of ``measured`` as a lower bound: a line that may have recorded a call could
    not be read, and that call may be anywhere in the phase (a max can no longer be proven)."""
    why = (
        f"{measured.lost_usage_lines} transcript line(s) that may have recorded a call could not "
        "be read (see the warnings): such calls are missing from every figure"
    )

    def low(usage: Usage) -> Usage:
        return usage.at_least(why)

    measured.planning = measured.planning and low(measured.planning)
    measured.unattributed = measured.unattributed and low(measured.unattributed)
    measured.compaction = measured.compaction and low(measured.compaction)
    measured.whole = {ticket: low(usage) for ticket, usage in measured.whole.items()}
    measured.stages = {
        ticket: {stage: low(usage) for stage, usage in stages.items()}
        for ticket, stages in measured.stages.items()
    }
    measured.by_model = {key: low(usage) for key, usage in measured.by_model.items()}
    measured.agents = [replace(agent, usage=low(agent.usage)) for agent in measured.agents]


def _stretch(spans: dict[_K, tuple[datetime, datetime]], key: _K, at: datetime | None) -> None:
    """Widen ``spans[key]`` to include ``at`` (an unstamped call changes nothing)."""
    if at is None:
        return
    old = spans.get(key)
    spans[key] = (min(old[0], at), max(old[1], at)) if old else (at, at)


def _calls_lost(measured: Measured) -> str:
    """Why the measured calls' spans may be short of their work ("" when they are not): a
    line that may have recorded a call could not be read, or a usage ledger kept only when
    its calls began."""
    why = []
    if measured.lost_usage_lines:
        why.append(
            f"{measured.lost_usage_lines} transcript line(s) that may have recorded a call could "
            "not be read: such a call's time may lie outside the measured calls'"
        )
    if measured.ends_unknown:
        why.append(
            f"{', '.join(map(str, measured.ends_unknown))}: a usage ledger collected before it "
            "kept each call's last line's time (a response's lines may end a minute and more "
            "after its first): its calls may have run later than measured (collect it again)"
        )
    return "; ".join(why)


def _whole_why(ticket: str, whole: Usage) -> str:
    return (
        f"ticket {ticket} also has {whole.total:,} tokens measured for the ticket as a whole, "
        "of no stage (a session named with its ticket and no stage, its worker session's own "
        "calls, or sub-agents placed at no stage): some of them may be this stage's"
    )


def _measured_ticket(
    ticket: str,
    measured: Measured,
    missing: str | None,
    unmeasured: str | None,
    short: dict[tuple[str, str], str],
) -> tuple[dict[str, Usage], Usage]:
    """A measured ticket's stages and total (see :func:`measured_accounts`), each a lower
    bound where the measurement may leave some of its work out: a stage beside usage of no
    stage; everything, when its own sub-agents are not in the transcripts (``missing``); the
    total, when a stage that ran has no measured usage (``unmeasured``); a place where the log
    records more spent than measured (``short``)."""
    own = dict(measured.stages.get(ticket, {}))
    whole = [measured.whole[ticket]] if ticket in measured.whole else []
    total = total_of([*own.values(), *whole])
    assert total is not None
    if whole and own:  # the ticket's whole usage may hold some of each stage's work
        own = {stage: usage.at_least(_whole_why(ticket, whole[0])) for stage, usage in own.items()}
    if missing:  # a stage's own sub-agents are not in the transcripts
        own = {stage: usage.at_least(missing) for stage, usage in own.items()}
    for why in (missing, unmeasured, short.get((ticket, ""))):
        total = total.at_least(why) if why else total
    own = {
        stage: usage.at_least(why) if (why := short.get((ticket, stage))) else usage
        for stage, usage in own.items()
    }
    return own, total


def measured_accounts(phase: Phase, measured: Measured) -> Accounts:
    """The phase's accounts with measured usage winning over the log's figures, place by place.

    A ticket with any measured usage is counted from measurement alone (its hand figures stay as
    the estimates to compare with); a stage of such a ticket with no measured usage is unknown,
    one beside usage measured for the ticket as a whole (of no stage) only a lower bound, and a
    ticket one of whose stages that ran names sub-agents no transcript holds is only a lower
    bound (see :func:`~pytest_orchphase.usage.subagents.missing_agents`), and so is one a stage
    of which ran with no measured usage placed in it (see
    :func:`~pytest_orchphase.usage.agreement.unmeasured_stages`).
    """
    from pytest_orchphase.usage.agreement import (
        refuse_contradictions,
        short_of_the_log,
        unmeasured_stages,
    )

    refuse_contradictions(phase, measured)  # the log's counts and models against the calls'
    hand = hand_accounts(phase)
    stages: dict[str, dict[str, Usage]] = {}
    flat: dict[str, Usage] = {}
    unknown: dict[str, str] = {}
    unplaced = [a for a in measured.agents if a.ticket is None and a.stage is None]
    loose = [a for a in measured.sessions if a.role == "unattributed"]
    missing = missing_agents(phase, measured)
    unmeasured = unmeasured_stages(phase, measured)
    short = short_of_the_log(phase, measured)
    for ticket in phase.tickets:
        if ticket in measured.tickets():
            whys = (missing.get(ticket), unmeasured.get(ticket), short)
            stages[ticket], flat[ticket] = _measured_ticket(ticket, measured, *whys)
        elif measured.unattributed is not None:
            # Its real usage may be among the unattributed: counting the log's figure as well
            # would count it twice, and a per-ticket cap would pass on an estimate.
            names = [f"{a.agent_id} ({a.description or 'no description'})" for a in unplaced]
            names += [f"session {a.session_id} ({a.how})" for a in loose]
            fixes = [
                "map sub-agents in the execution log (agents.agent_ids or description_pattern)"
            ]
            if loose:
                fixes.append("name a session's ticket in metadata.yaml (sessions: ticket)")
            unknown[ticket] = (
                f"ticket {ticket} has no measured usage while "
                f"{', '.join(names) or 'some calls'} could not be attributed; {' or '.join(fixes)}"
            )
        elif ticket in hand.flat:
            flat[ticket] = hand.flat[ticket]
        else:
            stages[ticket] = hand.stages.get(ticket, {})
            if ticket in hand.unknown:
                unknown[ticket] = hand.unknown[ticket]
    planning = measured.planning
    if planning is not None and (why := missing.get("")):
        planning = planning.at_least(why)
    if planning is None and not measured.planning_unknown:
        planning = hand.planning  # no lead session measured: the log's figure, marked as such
    return Accounts(
        planning=planning,
        stages=stages,
        flat=flat,
        unattributed=measured.unattributed,
        unknown=unknown,
        planning_unknown=measured.planning_unknown,
        measured=True,
        spans=measured.spans,
        unstamped=measured.unstamped,
        calls_lost=_calls_lost(measured),
    )

"""Which place a sub-agent's usage belongs to: rules 3 to 5 of the order
``usage/attribution.py`` describes, and the log's sub-agent mappings no transcript holds.

The execution log maps a sub-agent by listing it in a stage's ``agents.agent_ids``, else by the
one ``description_pattern`` its Task description matches (two places' patterns matching it are
an error). A sub-agent the log does not map goes to the one ticket its Task description (else
prompt) names, at the stage its description suggests.

A sub-agent is its session's: Claude Code's agent ids are unique only within a session. An
``agent_ids`` entry is the agent's id, or ``SESSION/ID`` (its session's id, or the first 8
characters of it or more, then the agent's id), which names one session's agent; an id alone
that agents of several sessions have is an error, unless each of them but one is named by a
``SESSION/ID`` entry (which one the listing means only the team knows).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pytest_orchphase.load import yamlio
from pytest_orchphase.load.models import SessionSpec
from pytest_orchphase.load.pattern import LinearPattern, compile_linear
from pytest_orchphase.load.phase import PLANNING, Phase, stage_places
from pytest_orchphase.usage.accounts import NOT_RUN
from pytest_orchphase.usage.records import agent_key
from pytest_orchphase.usage.sessions import ticket_named

if TYPE_CHECKING:
    from collections.abc import Sequence

    from pytest_orchphase.usage.attribution import AgentAttribution, Measured
    from pytest_orchphase.usage.records import AgentKey
    from pytest_orchphase.usage.sources.claude_code import ApiCall, Scan

#: The fewest characters of a session's id that name it in a ``SESSION/ID`` entry (as many as
#: ``orchphase extract --by agent`` shows).
SESSION_PREFIX = 8


def names_agent(entry: str, key: AgentKey) -> bool:
    """Whether an ``agents.agent_ids`` entry names the sub-agent ``key``: its id alone (whatever
    its session), or ``SESSION/ID`` with its session's id or a prefix of it (8 characters or
    more)."""
    session, agent = key
    prefix, slash, listed = entry.rpartition("/")
    if not slash:
        return entry == agent
    return listed == agent and len(prefix) >= SESSION_PREFIX and session.startswith(prefix)


def log_entries(agents: Sequence[AgentAttribution], among: Sequence[AgentAttribution]) -> list[str]:
    """The ``agents.agent_ids`` entries that name ``agents`` (of the sub-agents measured,
    ``among``): each id alone, but ``SESSION/ID`` for an id the agents of several sessions
    have."""
    sessions: dict[str, set[str | None]] = defaultdict(set)
    for a in among:
        sessions[a.agent_id].add(a.session_id)
    return [
        f"{a.session_id}/{a.agent_id}"
        if a.session_id and len(sessions[a.agent_id]) > 1
        else a.agent_id
        for a in agents
    ]


def qualified(entry: str) -> bool:
    """Whether an ``agents.agent_ids`` entry names one session's agent (``SESSION/ID``)."""
    return "/" in entry


#: What a Task description that leads with it asks for: the verb (or verb phrase) that says
#: what the task is ("review the implementation" is a review; "branch coverage" no branch).
STAGE_VERBS = (
    (re.compile(r"implement(s|ed|ing)?\b", re.I), "implementation"),
    (re.compile(r"(code[\s-]+)?(re-?)?review(s|ed|ing)?\b", re.I), "review"),
    (re.compile(r"monitor(s|ed|ing)?\b", re.I), "monitoring"),
    (
        re.compile(r"(create|open)\s+(a\s+|the\s+)?branch\b|branch\s+(off|out)\b", re.I),
        "branch_creation",
    ),
    (re.compile(r"fix(es|ed|ing)?\b", re.I), "fix"),
    (
        re.compile(
            r"(finali[sz](e|es|ed|ing)|merge[sd]?|(open|create)\s+(a\s+)?(pr|pull request))\b",
            re.I,
        ),
        "finalization",
    ),
)

#: Words anywhere in a description that name a stage other than implementation.
STAGE_WORDS = (
    (re.compile(r"\b(re-?)?review(s|ed|ing)?\b", re.I), "review"),
    (re.compile(r"\bmonitor(s|ed|ing)?\b", re.I), "monitoring"),
    (re.compile(r"\bbranch(es)?\b", re.I), "branch_creation"),
    (re.compile(r"\bfix(es|ed|ing)?\b", re.I), "fix"),
    (
        re.compile(r"\b(finali[sz](e|es|ed|ing|ation)|merge|pull request|create pr)\b", re.I),
        "finalization",
    ),
)

#: What may come before a description's verb: ``ticket``, a ticket id (a word holding a digit:
#: ``R03``, ``#12``, ``PROJ_12``, ``A1.2``, ``ABC-DEF-12``) and its punctuation.
LEAD_IN = re.compile(r"^[\W_]*(?:ticket\s+)?(?:(?=[^\s:\]]*\d)[\w.#-]+)?[\W_]*", re.I)


def infer_stage(text: str) -> str:
    """The stage a Task description names: by the verb it leads with, after the ticket id
    ("Review R06 lifecycle fix": review; "R01: implement branch coverage": implementation);
    led by no stage verb, implementation when no word of it names another stage, else ""
    (not known: "R01: add branch coverage" may be implementation or branch creation, and
    which is never guessed)."""
    rest = LEAD_IN.sub("", text, count=1)
    lead = next((stage for verb, stage in STAGE_VERBS if verb.match(rest)), None)
    if lead is not None:
        return lead
    return "" if any(word.search(text) for word, _ in STAGE_WORDS) else "implementation"


@dataclass(frozen=True)
class _Claim:
    """A place the execution log maps sub-agents to, and the field that says so."""

    ticket: str
    stage: str
    at: yamlio.FieldPath
    pattern: str = ""

    def place(self) -> str:
        return "shared planning" if self.stage == PLANNING else f"{self.ticket}'s {self.stage}"


class AgentMap:
    """The execution log's sub-agent mappings of a phase, and each sub-agent's place."""

    def __init__(self, phase: Phase, scan: Scan) -> None:
        self.phase, self.scan = phase, scan
        self.tickets = list(phase.tickets)
        self.links: dict[str, _Claim] = {}
        self.patterns: list[tuple[LinearPattern, _Claim]] = []
        for at, ticket, stage, st in stage_places(phase.log, phase.tickets):
            if st.agents is None:
                continue
            for i, agent in enumerate(st.agents.agent_ids):
                self.links[agent] = _Claim(ticket, stage, (*at, "agents", "agent_ids", i))
            if source := st.agents.description_pattern:
                claim = _Claim(ticket, stage, (*at, "agents", "description_pattern"), source)
                self.patterns.append((compile_linear(source), claim))
        #: Sub-agents of sessions named with a ticket whose log mappings were checked.
        self.checked: set[AgentKey] = set()

    def check_owner(self, call: ApiCall, owner: SessionSpec) -> None:
        """Once per sub-agent of a session named with a ticket: see ``_refuse_other_claim``."""
        key = call.agent_key
        if key is not None and key not in self.checked:
            self.checked.add(key)
            self._refuse_other_claim(call, owner)

    def _listed(self, agent: AgentKey) -> tuple[str, _Claim] | None:
        """The ``agents.agent_ids`` entry that names a sub-agent, and its place: a
        ``SESSION/ID`` entry, else its id alone. An id alone that another session's agent has
        too, no ``SESSION/ID`` entry naming that one, is an error: which of them the team
        listed the data cannot tell, and the first read would take the place of the other."""
        named = [(e, c) for e, c in self.links.items() if qualified(e) and names_agent(e, agent)]
        if len({(c.ticket, c.stage) for _, c in named}) > 1:
            (first, one), (_, other) = named[0], named[1]
            raise self.phase.log_doc.error(
                f"this entry and {yamlio.dotted(one.at)} {first!r} ({one.place()}) both name "
                f"sub-agent {agent[1]} of session {agent[0]}: a sub-agent's usage belongs to one "
                "place",
                other.at,
            )
        if named:
            return named[0]
        alone = self.links.get(agent[1])
        if alone is None:
            return None
        others = sorted(
            key[0] or "of no recorded session"
            for key in self.scan.agents
            if key[1] == agent[1]
            and not any(qualified(e) and names_agent(e, key) for e in self.links)
        )
        if len(others) > 1:
            raise self.phase.log_doc.error(
                f"sub-agent id {agent[1]!r} is the id of a sub-agent in each of sessions "
                f"{', '.join(others)} (Claude Code's agent ids are unique only within a "
                "session): which one this entry maps is not known; name each agent with its "
                f"session, as SESSION/{agent[1]} (the session's id, or its first "
                f"{SESSION_PREFIX} characters or more)",
                alone.at,
            )
        return agent[1], alone

    def claim(self, agent: AgentKey) -> _Claim | None:
        """The log's mapping of a sub-agent: its ``agents.agent_ids`` listing, else the one
        ``description_pattern`` its Task description matches. Two patterns of two places that
        match it are an error: which one is right only the team knows, and the first in log
        order would take, silently, what may be the other's."""
        listed = self._listed(agent)
        if listed is not None:
            return listed[1]
        info = self.scan.agents.get(agent)
        description = info.description if info is not None else None
        if not description:
            return None
        matched = [claim for pattern, claim in self.patterns if pattern.search(description)]
        if len({(c.ticket, c.stage) for c in matched}) > 1:
            first, other = matched[0], matched[1]
            raise self.phase.log_doc.error(
                f"sub-agent {self.scan.agent_name(agent)}'s Task description {description!r} "
                f"matches this pattern ({other.place()}) and {yamlio.dotted(first.at)} "
                f"{first.pattern!r} ({first.place()}) too: a sub-agent's usage belongs to one "
                "place; make the "
                "patterns exclusive, or list the agent in its stage's agents.agent_ids (which "
                "wins over a pattern)",
                other.at,
            )
        return matched[0] if matched else None

    def _refuse_other_claim(self, call: ApiCall, owner: SessionSpec) -> None:
        """A sub-agent of a session ``sessions:`` gives to a ticket (and stage) that the log
        maps elsewhere: which one is right only the team knows, and the session's would take,
        silently, what the log says is another place's. An error at the log's mapping."""
        assert call.agent_key is not None
        claim = self.claim(call.agent_key)
        if claim is None or (
            claim.ticket == owner.ticket and (owner.stage is None or owner.stage == claim.stage)
        ):
            return
        from pytest_orchphase.errors import display
        from pytest_orchphase.usage.sessions import session_specs

        index = next(i for spec, i in session_specs(self.phase) if spec == owner)
        given = f"ticket {owner.ticket}" + (f" ({owner.stage})" if owner.stage else "")
        raise self.phase.log_doc.error(
            f"sub-agent {call.agent_id} is mapped here to {claim.place()}, but it ran in "
            f"{display(call.path) if call.path else 'a session'}, which "
            f"{display(self.phase.metadata_doc.path)}: sessions[{index}] gives to {given}: a "
            "sub-agent's usage belongs to one place; drop the mapping, or name the session "
            "without that ticket",
            claim.at,
        )

    def place(self, agent: AgentKey, worker: str | None) -> tuple[str, str, str]:
        """A sub-agent's ticket, stage and how they were found; one that names no ticket,
        spawned by a worker session (of ticket ``worker``), is that worker's ticket's."""
        claim = self.claim(agent)
        if claim is not None:
            listed = self._listed(agent) is not None
            how = "agents.agent_ids" if listed else "agents.description_pattern"
            return claim.ticket, claim.stage, how
        found = _attribute(self.scan.agents.get(agent), self.tickets)
        if not found[0] and worker:
            return (worker, "", f"spawned by {worker}'s worker session")
        return found


def _attribute(info: object, tickets: list[str]) -> tuple[str, str, str]:
    """A sub-agent the log does not map: the one ticket its Task description (else prompt)
    names, at the stage its description suggests."""
    from pytest_orchphase.usage.sources.claude_code import AgentInfo

    description = info.description if isinstance(info, AgentInfo) else None
    prompt = info.prompt if isinstance(info, AgentInfo) else None
    for text, where in ((description, "description"), (prompt, "prompt")):
        named = ticket_named(text, tickets)
        if len(named) == 1:
            stage = infer_stage(description or "")
            how = f"ticket id in Task {where}"
            if not stage:  # the ticket's, at a stage not known: its stages are lower bounds
                how += (
                    "; its description names several stages, so which is not known: map it "
                    "with agents.agent_ids or an agents.description_pattern"
                )
            return named[0], stage, how
        if len(named) > 1:
            return "", "", f"Task {where} names several tickets ({', '.join(named)})"
    return "", "", "no mapping and no ticket id in the Task"


def missing_agents(phase: Phase, measured: Measured) -> dict[str, str]:
    """Why a ticket's measured figures leave out some of its work, by ticket ("": shared
    planning): a stage of it that ran (not skipped or pending) names sub-agents
    (``agents.agent_ids``, or a ``description_pattern``) that no transcript holds. Measured
    alone, the ticket is then only a lower bound: the missing agents' usage is in none of its
    figures."""
    found = [agent_key(a.session_id, a.agent_id) for a in measured.agents]
    described = [a.description for a in measured.agents if a.description]
    out: dict[str, list[str]] = defaultdict(list)
    for _, ticket, stage, st in stage_places(phase.log, phase.tickets):
        if st.agents is None or st.status in NOT_RUN:
            continue
        absent = [
            entry
            for entry in st.agents.agent_ids
            if not any(names_agent(entry, key) for key in found)
        ]
        if absent:
            out[ticket].append(
                f"its {stage} stage ran with sub-agent(s) {', '.join(absent)} "
                "(agents.agent_ids) that no transcript holds"
            )
        pattern = st.agents.description_pattern
        if pattern and not any(compile_linear(pattern).search(d) for d in described):
            out[ticket].append(
                f"its {stage} stage ran with agents.description_pattern {pattern!r}, which "
                "no sub-agent in the transcripts matches"
            )
    return {
        ticket: f"{f'ticket {ticket}' if ticket else 'shared planning'} is measured without "
        f"some of its work: {'; '.join(whys)}"
        for ticket, whys in out.items()
    }

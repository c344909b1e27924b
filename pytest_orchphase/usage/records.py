"""Plain records produced by a transcript scan: one billed API call, one sub-agent, one scan."""

from __future__ import annotations

import functools
import operator
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from pathlib import Path

#: The token fields of one call, in the order used everywhere (tables, JSON, sums).
TOKEN_FIELDS: tuple[str, ...] = (
    "input_tokens",
    "output_tokens",
    "cache_creation_input_tokens",
    "cache_read_input_tokens",
)


#: What a ``usage`` object records, in :class:`ApiCall`'s order: input, output, cache write,
#: 1-hour cache write, cache read, web searches; speed, inference geo, service tier.
UsageFields = tuple[int, int, int, int, int, int, str | None, str | None, str | None]


def are_counts(a: object, b: object, c: object, d: object, e: object, f: object) -> bool:
    """Whether all six are counts (whole numbers from 0; a bool is none): a call's figures,
    tested at once where every line or record is read."""
    return (
        type(a) is int
        and type(b) is int
        and type(c) is int
        and type(d) is int
        and type(e) is int
        and type(f) is int
        and min(a, b, c, d, e, f) >= 0
    )


def tickets_named(text: str, tickets: Sequence[str]) -> list[str]:
    """The ``tickets`` that ``text`` names as a whole word (case-insensitive), in their order."""
    # An ASCII text names an ASCII ticket only where it holds the ticket's letters: a substring
    # test spares the search of the others (a phase of 50 tickets reads each Task's prompt).
    # Other texts and tickets are searched for each: a case-insensitive search folds more
    # than lower() (the long s matches an s).
    lowered = text.lower() if text.isascii() else None
    return [
        t
        for t in tickets
        if (lowered is None or not t.isascii() or t.lower() in lowered)
        and _ticket_word(t).search(text)
    ]


@functools.lru_cache(maxsize=4096)
def _ticket_word(ticket: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![A-Za-z0-9]){re.escape(ticket)}(?![A-Za-z0-9])", re.IGNORECASE)


@dataclass(frozen=True)
class TicketsNamed:
    """What a usage ledger keeps of a text it does not keep (a Task's prompt, a session's first
    prompt): the phase's ticket ids found in it, and which ids were looked for."""

    found: tuple[str, ...]
    searched: frozenset[str]

    def among(self, tickets: Sequence[str]) -> list[str]:
        """The ``tickets`` the text named; an error when one of them was never looked for (the
        ledger was collected for other tickets): never a silent "names no ticket"."""
        from pytest_orchphase.errors import OrchphaseError

        unknown = [t for t in tickets if t not in self.searched]
        if unknown:
            raise OrchphaseError(
                f"the usage ledger was collected for tickets {', '.join(sorted(self.searched))}, "
                f"not {', '.join(unknown)}: collect it again (orchphase collect PHASE)"
            )
        return [t for t in tickets if t in self.found]


#: How a sub-agent is known: (the id of the session that spawned it, "" when none is recorded;
#: its agent id). Claude Code's agent ids are unique only within a session (the 2.1.3x builds
#: name an agent by 7 hex digits): two sessions' agents of one id are two agents.
AgentKey = tuple[str, str]


def agent_key(session: str | None, agent: str) -> AgentKey:
    """The key of sub-agent ``agent`` of ``session`` (see :data:`AgentKey`)."""
    return (session or "", agent)


def agent_text(key: AgentKey) -> str:
    """A sub-agent's key as one text: ``SESSION/ID`` (its id alone when it has no session)."""
    session, agent = key
    return f"{session}/{agent}" if session else agent


@dataclass(slots=True)
class ApiCall:
    """One billed API response, counted once across all files of a scan.

    Token fields hold the largest value seen among the copies of the response (streaming lines,
    ``agent_progress`` copies in the parent, the sub-agent's own file, the parent's
    ``toolUseResult.usage``).
    """

    message_id: str
    request_id: str
    model: str
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    #: Part of ``cache_creation_input_tokens`` written with a 1-hour lifetime (the rest is 5m).
    cache_creation_1h_tokens: int = 0
    cache_read_input_tokens: int = 0
    web_search_requests: int = 0
    #: ``usage.speed`` ("fast" for fast mode), when the transcript records it.
    speed: str | None = None
    #: ``usage.inference_geo`` ("us" is billed x1.1), when recorded.
    inference_geo: str | None = None
    #: ``usage.service_tier`` ("standard", "priority", "batch"), when recorded.
    service_tier: str | None = None
    timestamp: datetime | None = None
    session_id: str | None = None
    #: ``None`` for the main session; the sub-agent's id otherwise (``acompact-…`` for compaction).
    agent_id: str | None = None
    #: Context compaction overhead (``agent-acompact-*``): billed, tied to no task.
    compaction: bool = False
    #: The file the call was first read from.
    path: Path | None = None
    #: True for a figure summed over many calls (a headless run's ``modelUsage``): no
    #: per-request tier (long context) applies to it.
    aggregate: bool = False
    #: Of an aggregate beyond a run's messages: the largest prompt of those messages (its
    #: tokens may be theirs, billed at their tier); 0 when there are none.
    largest_request: int = 0
    #: False when ``output_tokens`` is only a placeholder below the true count, which no record
    #: read corrects: what a sub-agent's own file (or its ``agent_progress`` copy) records, or a
    #: response whose final line (``stop_reason``, ``usage.iterations``) was never written. The
    #: call's output, and so its cost, are then lower bounds.
    output_exact: bool = True
    #: Why the call's cost, as priced, may be below what was billed ("" when it is exact).
    cost_lower_bound: str = ""
    #: Set by pricing: why the call's cost as priced may be below its bill ("" if not): its
    #: source's ``cost_lower_bound``, or a rate its record does not decide (day, tier).
    tier_unknown: str = ""
    #: The cost Claude Code itself reported for this figure (a headless run's per-model
    #: ``costUSD``), used instead of the price table when the build is known to price right.
    reported_cost: float | None = None
    #: Written on an ``isSidechain: true`` line (a sub-agent's, or a ``/btw`` side question's).
    sidechain: bool = False
    #: Not an API call of its own: tokens a headless ``modelUsage`` reports beyond the run's
    #: streamed messages (they add to the figures, never to the number of calls).
    surplus: bool = False
    #: True for a sub-agent's last call recovered from the parent's ``toolUseResult.usage``
    #: where no file read holds any of the agent's calls, though it used tools (so it made
    #: earlier calls): the agent's every figure (tokens and cost) is then a lower bound.
    earlier_calls_unread: bool = False
    #: No call of its own: it stands for a background sub-agent none of whose calls any file
    #: read holds (its tokens are 0 and it counts as no call), so that the place it is counted
    #: in knows its every figure is a lower bound.
    stand_in: bool = False
    #: The time of the call's last line (``timestamp`` is its first's): a response is written
    #: as several lines, each when its block is done, up to a minute and more after the first,
    #: and the work ran until then. ``None`` when no line records one.
    last_timestamp: datetime | None = None
    #: A line of the call records a ``timestamp`` that is not a time: when its response ran is
    #: known only in part (its place's time span is then a lower bound, as for a call of no
    #: known time).
    untimed_line: bool = False

    @property
    def agent_key(self) -> AgentKey | None:
        """The sub-agent whose call it is (``None``: a main session's own)."""
        return None if self.agent_id is None else agent_key(self.session_id, self.agent_id)

    @property
    def prompt_tokens(self) -> int:
        """The size of the prompt: input + cache read + cache write."""
        return self.input_tokens + self.cache_read_input_tokens + self.cache_creation_input_tokens

    def __reduce__(self) -> tuple[type[ApiCall], tuple[object, ...]]:
        # Sent between a scan's processes by the thousand: its fields as one tuple, rebuilt by
        # the constructor, pickle in half the time of the slots' per-field state.
        return (ApiCall, _call_fields(self))


#: The values of an :class:`ApiCall`'s fields, in the constructor's order.
_call_fields = operator.attrgetter(*(f.name for f in fields(ApiCall)))


@dataclass
class AgentInfo:
    """A sub-agent spawned by a ``Task`` (older) or ``Agent`` (newer) tool call."""

    agent_id: str
    session_id: str | None = None
    tool_use_id: str | None = None
    #: "Task" or "Agent"; ``None`` when the spawning call was not found.
    tool_name: str | None = None
    subagent_type: str | None = None
    description: str | None = None
    #: The Task's prompt (from a usage ledger: only the ticket ids found in it).
    prompt: str | TicketsNamed | None = None
    #: The ``model`` the spawning call asked for ("sonnet", "haiku", a model id …), if any.
    requested_model: str | None = None
    #: ``toolUseResult.status`` ("completed" …) when the parent recorded the result.
    status: str | None = None
    #: ``toolUseResult.totalToolUseCount`` and ``totalDurationMs``, when recorded.
    tool_use_count: int | None = None
    duration_ms: int | None = None
    #: Launched with ``run_in_background`` (``toolUseResult.status == "async_launched"``): its
    #: completion arrives as a ``<task-notification>`` that carries no usage.
    background: bool = False
    #: ``toolUseResult.resolvedModel`` of a background launch (the model it ran on).
    resolved_model: str | None = None
    #: True when the parent's records gave the true usage of the agent's last call.
    last_call_corrected: bool = False


@dataclass
class Scan:
    """What a scan read: deduplicated, corrected calls and what is known of the agents."""

    calls: list[ApiCall] = field(default_factory=list)
    #: Each sub-agent by its session and id (see :data:`AgentKey`; :meth:`agent` finds one by
    #: its id alone).
    agents: dict[AgentKey, AgentInfo] = field(default_factory=dict)
    files: int = 0
    malformed_lines: int = 0
    #: Of those, lines that may have recorded a call (``FileResult.lost``): lower bounds.
    lost_usage_lines: int = 0
    #: Files in which not one line was intact: empty, or every line malformed (garbage, binary,
    #: not UTF-8, cut short). A source made only of these has told nothing.
    unreadable: list[Path] = field(default_factory=list)
    #: Files that recorded at least one API call (before calls were counted once across
    #: files): a source none of whose files is among them has measured nothing.
    recorded: set[Path] = field(default_factory=set)
    #: Each usage ledger read, with the phase its header names (``None``: none).
    ledgers: dict[Path, str | None] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    #: Headless result files read (``claude -p --output-format json|stream-json``).
    headless: list[HeadlessResult] = field(default_factory=list)
    #: (file, session key: its id, else ``file:<path>``) → the headless runs its streams began
    #: there (``system``/``init`` lines), those cut off before their result too.
    run_starts: Counter[tuple[Path, str]] = field(default_factory=Counter)
    #: Files whose runs begun are not known (a usage ledger that keeps none): their headless
    #: messages are of no known time.
    runs_unknown: set[Path] = field(default_factory=set)
    #: Files whose calls' last lines' times are not known (a usage ledger collected before it
    #: kept them): when those calls' responses ended is not known.
    ends_unknown: set[Path] = field(default_factory=set)
    #: Main session id → the text of its first prompt (the earliest user message of the main
    #: thread, not a tool result or a meta line): how a worker session names its ticket.
    #: Complete only when the scan was asked for prompts (``scan_files(..., prompts=True)``).
    first_prompts: dict[str, str | TicketsNamed] = field(default_factory=dict)
    #: A counted call's key → the other files it was read from too (beside ``ApiCall.path``):
    #: a sub-agent's call copied into its parent, a session resumed or copied
    copies: dict[tuple[str, str], set[Path]] = field(default_factory=dict)

    def agent_name(self, key: AgentKey) -> str:
        """A sub-agent as messages name it: its id, with its session's when another session's
        sub-agent has that id too."""
        session, agent = key
        shared = any(k[1] == agent and k != key for k in self.agents)
        return f"{agent} of session {session}" if shared and session else agent

    def agent(self, agent_id: str) -> AgentInfo:
        """The sub-agent of id ``agent_id``; :class:`KeyError` when no session, or several,
        has one (their ids are unique only within a session: see :data:`AgentKey`)."""
        found = [info for key, info in self.agents.items() if key[1] == agent_id]
        if len(found) != 1:
            raise KeyError(f"{len(found)} sub-agents of id {agent_id!r}")
        return found[0]


@dataclass
class ModelUsage:
    """One model's totals as reported by a headless run's ``modelUsage``."""

    model: str
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0
    web_search_requests: int = 0
    cost_usd: float | None = None


#: The longest a headless run can say it took (``duration_ms``): the longest span a duration
#: holds at all (about 2.7 million years); a longer one is a corrupt file, never a run.
LONGEST_RUN_MS = timedelta.max // timedelta(milliseconds=1)


@dataclass
class HeadlessResult:
    """The final ``result`` object of a ``claude -p`` run."""

    path: Path
    session_id: str | None
    subtype: str | None
    is_error: bool
    num_turns: int | None
    duration_ms: int | None
    total_cost_usd: float | None
    models: dict[str, ModelUsage] = field(default_factory=dict)
    #: True when the file also held per-message assistant lines (stream-json): those were
    #: counted as calls and are the basis for re-pricing.
    has_messages: bool = False
    #: ``usage.cache_creation.ephemeral_1h_input_tokens`` of the main agent, if reported.
    main_cache_1h: int = 0
    #: ``usage.cache_creation.ephemeral_5m_input_tokens`` of the main agent, if reported.
    main_cache_5m: int = 0
    #: ``claude_code_version`` of the run's ``system``/``init`` line, when the file has it.
    version: str | None = None
    #: The main agent's ``usage.speed``; "fast" too when the run's ``fast_mode_state`` is
    #: neither absent nor "off": some of the run's requests may have been billed in fast mode.
    speed: str | None = None
    #: The main agent's ``usage.inference_geo`` ("us" is billed x1.1).
    inference_geo: str | None = None
    #: The model a compaction beyond ``modelUsage`` was added to for want of the main agent's
    #: (the first of several listed): its price is a lower bound, another may cost more.
    compaction_guessed: str | None = None
    #: The models ``modelUsage`` lists that the main agent may have run on: the one the run's
    #: ``init`` line names, else those whose figures hold all of the main agent's ``usage``
    #: (empty when not known). The others are its sub-agents' alone.
    main_models: tuple[str, ...] = ()

    @property
    def ended_in_error(self) -> bool:
        """The run did not finish its work: ``is_error``, or a subtype of error (``claude -p``
        reports a run out of turns as ``error_max_turns`` with ``is_error`` false)."""
        return self.is_error or (self.subtype or "").startswith("error")

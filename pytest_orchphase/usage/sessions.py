"""The main sessions of a phase: which ``sessions:`` entry a file belongs to, which session is
the lead, and which worker session goes to which ticket."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pytest_orchphase.load.models import SessionSpec
from pytest_orchphase.load.phase import Phase
from pytest_orchphase.usage.records import TicketsNamed, tickets_named

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from pytest_orchphase.usage.records import ApiCall, Scan


@dataclass(frozen=True)
class SessionAttribution:
    """A main session and where its own calls went."""

    session_id: str
    #: "lead", "ticket" (a worker attributed to a ticket) or "unattributed"
    role: str
    ticket: str | None
    how: str


def session_specs(phase: Phase) -> list[tuple[SessionSpec, int]]:
    out: list[tuple[SessionSpec, int]] = []
    for i, entry in enumerate(phase.metadata.sessions):
        spec = SessionSpec(session=entry) if isinstance(entry, str) else entry
        if isinstance(entry, str) and ("/" in entry or entry.endswith((".jsonl", ".json"))):
            spec = SessionSpec(path=entry)
        out.append((spec, i))
    return out


def ticket_named(text: str | TicketsNamed | None, tickets: Sequence[str]) -> list[str]:
    if isinstance(text, TicketsNamed):  # from a usage ledger: the ids found, not the text
        return text.among(tickets)
    return tickets_named(text, tickets) if text else []


def session_key(call: ApiCall) -> str:
    """The main session a call belongs to (a sub-agent's calls carry its parent's id)."""
    return call.session_id or f"file:{call.path}"


class Owners:
    """The ``sessions:`` entry a call's file belongs to: the most specific root that holds it,
    the file itself, else the nearest folder it lies in (a session file's root stands for its
    own folder too, which holds its sub-agents); of entries with the same root, the first. An
    entry naming one file of a folder another entry names is that file's, whatever their order.
    Looked up once per file (not once per call: a phase has far more calls than files), by the
    file's path and folders (not by trying every root).

    A call read from several files (``copies``: a sub-agent's call in its own file and in its
    parent's progress lines) is the most specific of their entries' (:meth:`innermost`), as its
    own file alone would be: never the entry of whichever file was read first."""

    def __init__(
        self,
        roots: list[tuple[Path, SessionSpec | None]],
        copies: Mapping[tuple[str, str], set[Path]] | None = None,
    ) -> None:
        self.roots = [(root, spec) for root, spec in roots if spec is not None]
        self.copies = copies or {}
        #: Each root (a file is within the root it is), and the folder a file within it lies
        #: in (a session file's own folder holds its sub-agents): the first entry of each.
        self.exact: dict[Path, int] = {}
        self.folders: dict[Path, int] = {}
        for n, (root, _) in enumerate(self.roots):
            self.exact.setdefault(root, n)
            self.folders.setdefault(_folder(root), n)
        self.by_path: dict[Path | None, int | None] = {}
        self.by_entries: dict[frozenset[int], int | None] = {}

    def __call__(self, call: ApiCall) -> SessionSpec | None:
        n = self.index(call.path)
        also = self.copies.get((call.message_id, call.request_id))
        if also:
            entries = self.entries([call.path, *also])
            if len(entries) > 1:
                n = self.innermost(entries)
                n = self.index(call.path) if n is None else n  # unrelated: refused unless alike
        return None if n is None else self.roots[n][1]

    def owner(self, path: Path | None) -> SessionSpec | None:
        """The entry a file belongs to (see the class)."""
        n = self.index(path)
        return None if n is None else self.roots[n][1]

    def spec(self, n: int) -> SessionSpec:
        """The entry of root number ``n`` (see :meth:`index`)."""
        spec = self.roots[n][1]
        assert spec is not None  # roots without an entry are dropped
        return spec

    def index(self, path: Path | None) -> int | None:
        """The number of the root a file belongs to (see the class), None if none holds it."""
        if path not in self.by_path:
            self.by_path[path] = self._index(path)
        return self.by_path[path]

    def entries(self, paths: Iterable[Path | None]) -> frozenset[int]:
        """The roots (by number) the files belong to: none for a file no entry holds."""
        return frozenset(n for n in map(self.index, paths) if n is not None)

    def innermost(self, entries: frozenset[int]) -> int | None:
        """Of several roots holding one call, the one that lies within every other (a sub-agent's
        file named beside its parent session): None when two are unrelated."""
        if entries not in self.by_entries:
            self.by_entries[entries] = next(
                (n for n in entries if all(self.within(n, other) for other in entries)), None
            )
        return self.by_entries[entries]

    def unrelated(self, paths: Sequence[Path]) -> list[tuple[tuple[int, Path], tuple[int, Path]]]:
        """The pairs of roots (by number, each with its first file among ``paths``) holding
        files that hold one call, neither lying within the other: none when one of them lies
        within every other (:meth:`innermost`: the call is its)."""
        owners = self.entries(paths)
        if len(owners) < 2 or self.innermost(owners) is not None:
            return []
        first: dict[int, Path] = {}
        for path in paths:
            n = self.index(path)
            if n is not None:
                first.setdefault(n, path)
        held = sorted(first.items())
        return [
            (a, b)
            for i, a in enumerate(held)
            for b in held[i + 1 :]
            if not (self.within(a[0], b[0]) or self.within(b[0], a[0]))
        ]

    def within(self, inner: int, outer: int) -> bool:
        """Whether root ``inner`` lies within root ``outer``: the same, in its folder (a session
        file's own folder, which holds its sub-agents), or a flat sub-agent file of that
        session (``agent-<id>.jsonl`` beside it, of its session id)."""
        from pytest_orchphase.usage.sources.claude_code.layout import is_flat_agent_of

        a, b = self.roots[inner][0], self.roots[outer][0]
        return (
            a == b
            or a.is_relative_to(_folder(b))
            or (b.suffix == ".jsonl" and is_flat_agent_of(a, b))
        )

    def _index(self, path: Path | None) -> int | None:
        if path is None:
            return None
        found = [self.exact.get(path), self.folders.get(path)]
        found += [self.folders.get(folder) for folder in path.parents]
        return next((n for n in found if n is not None), None)


def _folder(root: Path) -> Path:
    """What a root holds: a folder itself, a session file its own folder (its sub-agents)."""
    return root.with_suffix("") if root.suffix == ".jsonl" else root


def place_sessions(phase: Phase, spec_of: Owners, scan: Scan) -> list[SessionAttribution]:
    """Every main session's role: the lead, a worker of one ticket, or unattributed."""
    mains, named_lead = _main_sessions(phase, spec_of, scan)
    tickets = list(phase.tickets)
    # A session whose first prompt names exactly one ticket is that ticket's worker, never the
    # lead: its calls would become the batch's planning, and its ticket would lose them.
    workers = {
        s for s in mains if len(ticket_named(scan.first_prompts.get(s), tickets)) == 1
    } - named_lead
    lead, how = _lead(mains, workers, named_lead, scan)
    return [
        SessionAttribution(session, "lead", None, how)
        if session == lead
        else _worker(session, scan.first_prompts.get(session), tickets, lead)
        for session in mains
    ]


def _main_sessions(phase: Phase, spec_of: Owners, scan: Scan) -> tuple[list[str], set[str]]:
    """The main sessions not given to a ticket by ``sessions:``, in call order (reports list
    them as they ran), and those named ``lead: true`` (more than one is an error)."""
    mains: dict[str, None] = {}
    named_lead: set[str] = set()
    for call in scan.calls:
        if call.agent_id is not None:
            continue  # a sub-agent's calls carry its parent's session id
        spec = spec_of(call)
        if spec is not None and spec.ticket:
            continue
        session = session_key(call)
        mains.setdefault(session)
        if spec is not None and spec.lead:
            named_lead.add(session)
    if len(named_lead) > 1:
        index = next(i for spec, i in session_specs(phase) if spec.lead)
        raise phase.metadata_doc.error(
            f"the sessions named `lead: true` hold {len(named_lead)} main sessions "
            f"({', '.join(sorted(named_lead))}); name exactly one lead",
            ("sessions", index, "lead"),
        )
    return list(mains), named_lead


def _lead(
    mains: list[str], workers: set[str], named_lead: set[str], scan: Scan
) -> tuple[str | None, str]:
    """The lead session and how it was told apart: named, the only one, or the only one that
    spawned sub-agents, a ticket's worker (``workers``) never; (None, "") when none of these
    settles it."""
    if named_lead:
        return next(iter(named_lead)), "named lead: true in metadata.yaml"
    if len(mains) == 1 and not workers:
        return mains[0], "the only main session"
    spawners = {
        info.session_id
        for info in scan.agents.values()
        if info.tool_name is not None and info.session_id in mains
    }
    if len(spawners - workers) == 1:
        how = "the only main session that spawned sub-agents"
        if spawners & workers:
            how += " but the tickets' workers"
        return next(iter(spawners - workers)), how
    return None, ""


def _worker(
    session: str, prompt: str | TicketsNamed | None, tickets: list[str], lead: str | None
) -> SessionAttribution:
    """A session other than the lead: the ticket its first prompt names, else unattributed."""
    named = ticket_named(prompt, tickets)
    if len(named) == 1:
        return SessionAttribution(session, "ticket", named[0], "ticket id in its first prompt")
    if named:
        why = f"its first prompt names several tickets ({', '.join(named)})"
    else:
        why = "its first prompt names no ticket" if prompt else "no first prompt found"
        if lead is None:
            why += "; and no lead session could be told apart"
    return SessionAttribution(session, "unattributed", None, why)

"""One phase on disk: its criteria file, its data directory, and the loaded, cross-checked data."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_orchphase.errors import OrchphaseError, PhaseUsageError, display, resolve_path
from pytest_orchphase.load import validation, yamlio
from pytest_orchphase.load.models import (
    Baseline,
    BaselinesFile,
    CriteriaFile,
    ExecutionLog,
    Metadata,
    Stage,
    Ticket,
)
from pytest_orchphase.load.placeholders import PLACEHOLDER, reject_placeholders

BASELINES_FILE = "baselines.yaml"
PLANNING = "shared_planning"  # the place of the lead's shared planning
METADATA_FILE = "metadata.yaml"
LOG_FILE = "execution-log.yaml"


def known_phases(criteria_dir: Path) -> list[str]:
    """Phase names with a criteria file (``criteria/<phase>.yaml``), sorted."""
    if not criteria_dir.is_dir():
        return []
    return sorted(
        p.stem for p in criteria_dir.glob("*.yaml") if p.name != BASELINES_FILE and p.is_file()
    )


def requires_order(name: str, requires_of: Callable[[str], list[str] | None]) -> list[str]:
    """``name`` and, recursively, the phases it requires, oldest first (each once). A phase for
    which ``requires_of`` gives None (its files do not load) is left out."""
    seen: list[str] = []
    entered: set[str] = set()  # a cycle (refused before a run) must not recurse without end

    def visit(phase: str) -> None:
        if phase in entered:
            return
        entered.add(phase)
        requires = requires_of(phase)
        if requires is None:
            return
        for other in requires:
            visit(other)
        seen.append(phase)

    visit(name)
    return seen


def plan_order(names: list[str], requires_of: Callable[[str], list[str] | None]) -> list[str]:
    """``names`` in the plan's order: each phase after the phases it requires (among ``names``),
    ties by name. A phase whose files do not load (``requires_of`` gives None) requires nothing
    here; phases caught in a cycle (refused before a run) come last, by name."""
    wanted = set(names)
    waiting = {n: {r for r in requires_of(n) or [] if r in wanted and r != n} for n in wanted}
    ready = sorted(n for n, w in waiting.items() if not w)
    order: list[str] = []
    while ready:
        done = ready.pop(0)
        order.append(done)
        for name, deps in waiting.items():
            if done in deps:
                deps.discard(done)
                if not deps:
                    ready = sorted([*ready, name])
    return order + sorted(wanted - set(order))


def criteria_path(criteria_dir: Path, name: str) -> Path:
    return criteria_dir / f"{name}.yaml"


def require_phase(criteria_dir: Path, name: str) -> Path:
    """The criteria file of ``name``, or a usage error listing the known phases."""
    path = criteria_path(criteria_dir, name)
    if path.is_dir():
        raise PhaseUsageError("is a directory; expected the phase's YAML criteria file", path=path)
    if path.exists() and not path.is_file():
        raise PhaseUsageError(
            "not a regular file (a named pipe or a device); expected the phase's YAML criteria "
            "file",
            path=path,
        )
    if not path.is_file():
        known = known_phases(criteria_dir)
        listing = ", ".join(known) if known else f"none (no *.yaml in {display(criteria_dir)})"
        raise PhaseUsageError(f"unknown phase {name!r}; known phases: {listing}")
    return path


@dataclass
class Phase:
    """A phase's criteria and data, validated, with its tickets in metadata order."""

    name: str
    criteria: CriteriaFile
    criteria_doc: yamlio.Document
    data_dir: Path
    metadata: Metadata
    metadata_doc: yamlio.Document
    log: ExecutionLog
    log_doc: yamlio.Document
    baselines: dict[str, Baseline]
    tickets: dict[str, Ticket] = field(default_factory=dict)

    def ticket_field(self, ticket: str) -> yamlio.FieldPath:
        """Where a ticket lives in the log: ``tickets.<id>``, or the top of a single-ticket log."""
        return ("tickets", ticket) if self.log.tickets is not None else ()

    def source(self, at: yamlio.FieldPath = ()) -> str:
        """``<log file>: <field>`` for messages and reports."""
        where = display(self.log_doc.path)
        return f"{where}: {yamlio.dotted(at)}" if at else where


def load_criteria(path: Path) -> tuple[CriteriaFile, yamlio.Document]:
    doc = yamlio.load(path)
    reject_placeholders(doc)
    criteria = validation.validate(doc, CriteriaFile)
    if criteria.phase != path.stem:
        raise doc.error(
            f"phase {criteria.phase!r} does not match the file name; expected {path.stem!r}",
            ("phase",),
        )
    return criteria, doc


#: Reads a criteria file: :func:`load_criteria`, or a caller's cached version of it.
CriteriaLoader = Callable[[Path], tuple[CriteriaFile, yamlio.Document]]


def load_baselines(criteria_dir: Path) -> dict[str, Baseline]:
    path = criteria_dir / BASELINES_FILE
    if not path.exists():
        return {}
    doc = yamlio.load(path)
    reject_placeholders(doc)
    return dict(validation.validate(doc, BaselinesFile).baselines)


def _single_ticket(log: ExecutionLog) -> Ticket:
    stages = log.top_level_stages()
    return Ticket(**stages, cost_analysis=log.cost_analysis)  # type: ignore[arg-type]


def _data_dir(data_root: Path, name: str, doc: yamlio.Document) -> Path:
    """The phase's data folder; an error at the ``data`` line for a name no folder can have."""
    expected = f"expected a folder holding {METADATA_FILE} and {LOG_FILE}"
    try:
        data_dir = resolve_path(data_root / name)
        if data_dir.is_dir():
            return data_dir
    except (OSError, ValueError) as exc:  # a NUL byte, a name too long, a symlink loop
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise doc.error(f"not a usable folder name ({reason}); {expected}", ("data",)) from None
    raise doc.error(f"data directory {display(data_dir)} does not exist; {expected}", ("data",))


def _refuse_shared_data(
    criteria_dir: Path,
    data_root: Path,
    path: Path,
    data_dir: Path,
    doc: yamlio.Document,
    load: CriteriaLoader | None,
) -> None:
    """A data folder holds one phase's run: another criteria file naming it (a phase's file
    copied with its ``phase:`` changed and ``data:`` left) would have that phase evaluated, and
    gated, on this one's data. An error at ``data``, naming the other file. A criteria file
    that does not load is read for its ``data`` alone (skipped when it names none)."""
    for other in known_phases(criteria_dir):
        theirs = criteria_path(criteria_dir, other)
        if theirs == path:
            continue
        try:
            try:
                data: object = (load or load_criteria)(theirs)[0].data
            except OrchphaseError:
                raw = yamlio.load(theirs).data
                data = raw.get("data") if isinstance(raw, dict) else None
            if not isinstance(data, str) or resolve_path(data_root / data) != data_dir:
                continue
        except (OrchphaseError, OSError, ValueError):
            continue
        raise doc.error(
            f"data folder {display(data_dir)} is also phase {other}'s ({display(theirs)}: "
            "data); a data folder holds one phase's run: give each phase its own",
            ("data",),
        )


def _refuse_copied_metadata(
    criteria_dir: Path,
    data_root: Path,
    name: str,
    label: str,
    doc: yamlio.Document,
    load: CriteriaLoader | None,
    labels: dict[str, str | None],
) -> None:
    """A metadata.yaml whose ``phase:`` is another phase's (that phase's name, or the label of
    that phase's own metadata.yaml) holds that phase's run: a data folder copied along, whose
    figures would decide this phase. An error at ``phase``, naming the other. A phase whose
    files do not load is skipped (its own run reports them). ``labels``: each phase's label as
    read so far (each other phase's metadata.yaml is read once per caller)."""
    labels[name] = label
    if label.casefold() == name.casefold():
        return
    for other in known_phases(criteria_dir):
        if other == name:
            continue
        why = "its name" if label.casefold() == other.casefold() else None
        if why is None:
            if other not in labels:
                labels[other] = _label(criteria_dir, data_root, other, load)
            theirs = labels[other]
            if theirs is None or theirs.casefold() != label.casefold():
                continue
            why = f"the phase its {METADATA_FILE} names"
        raise doc.error(
            f"{label!r} is phase {other}'s ({why}), not {name}'s: this data folder holds "
            f"another phase's run (copied from {other}?); give phase {name} its own "
            f"{METADATA_FILE} and {LOG_FILE}",
            ("phase",),
        )


def _label(
    criteria_dir: Path, data_root: Path, name: str, load: CriteriaLoader | None
) -> str | None:
    """The ``phase:`` phase ``name``'s metadata.yaml gives, read raw (None when its files do not
    load: its own run reports them)."""
    try:
        data = (load or load_criteria)(criteria_path(criteria_dir, name))[0].data
        raw = yamlio.load(resolve_path(data_root / data) / METADATA_FILE).data
    except (OrchphaseError, OSError, ValueError):
        return None
    label = raw.get("phase") if isinstance(raw, dict) else None
    return label if isinstance(label, str) else None


def load_phase(
    criteria_dir: Path,
    data_root: Path,
    name: str,
    *,
    load: CriteriaLoader | None = None,
    shared_baselines: dict[str, Baseline] | None = None,
    placeholders: Callable[[yamlio.Document], None] = reject_placeholders,
    labels: dict[str, str | None] | None = None,
) -> Phase:
    """Load and cross-check a phase: criteria, metadata.yaml and execution-log.yaml.
    ``load``, ``shared_baselines`` and ``labels`` (the phases' metadata labels read so far) let
    a caller that reads several phases read each file once;
    ``placeholders`` is what is done with the ``${...}`` left in metadata.yaml and the log
    (refused; ``orchphase draft-log`` drops them: it drafts the values they stand for)."""
    path = require_phase(criteria_dir, name)
    criteria, criteria_doc = (load or load_criteria)(path)
    if shared_baselines is None:
        shared_baselines = load_baselines(criteria_dir)
    baselines = {**shared_baselines, **criteria.baselines}

    data_dir = _data_dir(data_root, criteria.data, criteria_doc)
    _refuse_shared_data(criteria_dir, data_root, path, data_dir, criteria_doc, load)
    metadata_doc = yamlio.load(data_dir / METADATA_FILE)
    placeholders(metadata_doc)
    metadata = validation.validate(metadata_doc, Metadata)
    _refuse_copied_metadata(
        criteria_dir,
        data_root,
        name,
        metadata.phase,
        metadata_doc,
        load,
        {} if labels is None else labels,
    )
    log_doc = yamlio.load(data_dir / LOG_FILE)
    placeholders(log_doc)
    log = validation.validate(log_doc, ExecutionLog)

    if log.tickets is not None:
        listed, logged = metadata.tickets, list(log.tickets)
        missing = [t for t in listed if t not in log.tickets]
        if missing:
            raise log_doc.error(
                f"no entry for ticket(s) {', '.join(missing)} listed in "
                f"{display(metadata_doc.path)}; expected tickets.<id> for each",
                ("tickets",),
            )
        extra = [t for t in logged if t not in listed]
        if extra:
            raise log_doc.error(
                f"ticket {extra[0]!r} is not listed in {display(metadata_doc.path)} "
                f"(tickets: {', '.join(listed)})",
                ("tickets", extra[0]),
            )
        tickets = {t: log.tickets[t] for t in listed}
    else:
        if len(metadata.tickets) != 1:
            raise log_doc.error(
                f"stages at the top level describe one ticket, but {display(metadata_doc.path)} "
                f"lists {len(metadata.tickets)}; expected `tickets:` with an entry per ticket"
            )
        if not log.top_level_stages():
            raise log_doc.error("no `tickets` and no stages; expected the phase's work")
        tickets = {metadata.tickets[0]: _single_ticket(log)}

    _check_agent_links(log_doc, log, tickets)
    return Phase(
        name=name,
        criteria=criteria,
        criteria_doc=criteria_doc,
        data_dir=data_dir,
        metadata=metadata,
        metadata_doc=metadata_doc,
        log=log,
        log_doc=log_doc,
        baselines=baselines,
        tickets=tickets,
    )


def stage_places(
    log: ExecutionLog, tickets: dict[str, Ticket]
) -> list[tuple[yamlio.FieldPath, str, str, Stage]]:
    """Every stage with where it stands in the log: (field, ticket, stage name, stage).
    Shared planning is the place ("", "shared_planning")."""
    places: list[tuple[yamlio.FieldPath, str, str, Stage]] = []
    if log.shared_planning is not None:
        places.append((("shared_planning",), "", PLANNING, log.shared_planning))
    for ticket_id, ticket in tickets.items():
        base: yamlio.FieldPath = ("tickets", ticket_id) if log.tickets is not None else ()
        places += [((*base, name), ticket_id, name, st) for name, st in ticket.stages().items()]
    return places


def _check_agent_links(doc: yamlio.Document, log: ExecutionLog, tickets: dict[str, Ticket]) -> None:
    """An agent id may be attributed to one place only: the second listing is an error."""
    seen: dict[str, str] = {}
    for at, _, _, stage in stage_places(log, tickets):
        for i, agent in enumerate(stage.agents.agent_ids if stage.agents else []):
            if agent in seen:
                raise doc.error(
                    f"agent {agent!r} is already attributed to {seen[agent]}; an agent's usage "
                    "belongs to one place",
                    (*at, "agents", "agent_ids", i),
                )
            seen[agent] = yamlio.dotted(at)


def next_phase_name(
    criteria_dir: Path, name: str, declared: str | None = None, load: CriteriaLoader | None = None
) -> str:
    """The phase ``name`` unlocks: its ``next_phase``, else the phase that requires it, else
    the name with its number plus one. Reads criteria files only, so it works when the phase's
    data does not load."""
    if declared:
        return declared
    for other in known_phases(criteria_dir):
        if other == name:
            continue
        try:
            criteria, _ = (load or load_criteria)(criteria_path(criteria_dir, other))
        except OrchphaseError:
            continue
        if name in criteria.requires:
            return other
    head = name.rstrip("0123456789")
    digits = name[len(head) :]
    return f"{head}{int(digits) + 1}" if digits else f"after {name}"


def drop_placeholders(doc: yamlio.Document) -> None:
    """Remove, in place, every mapping value and list item that holds an unfilled ``${...}``:
    the draft supplies what they stand for, and every other value is still validated."""

    def prune(data: Any) -> Any:
        if isinstance(data, dict):
            for key in [k for k, v in data.items() if _unfilled(v)]:
                del data[key]
            for value in data.values():
                prune(value)
        elif isinstance(data, list):
            data[:] = [item for item in data if not _unfilled(item)]
            for item in data:
                prune(item)
        return data

    prune(doc.data)


def _unfilled(value: Any) -> bool:
    return isinstance(value, str) and PLACEHOLDER.search(value) is not None


def _criteria_for_data(path: Path) -> tuple[CriteriaFile, yamlio.Document]:
    """The criteria file, or, while its limits are still placeholders (right after ``orchphase
    init``), only the ``data`` folder it names: drafting needs nothing else from it."""
    try:
        return load_criteria(path)
    except OrchphaseError:
        doc = yamlio.load(path)
        data = doc.data.get("data") if isinstance(doc.data, dict) else None
        if not isinstance(data, str) or _unfilled(data):
            raise doc.error(
                "expected `data:` naming the phase's data folder (read alone while the "
                "criteria's limits are still placeholders)",
                ("data",),
            ) from None
        return CriteriaFile.model_construct(phase=path.stem, data=data), doc


def load_phase_in_progress(criteria_dir: Path, data_root: Path, name: str) -> Phase:
    """The phase as :func:`load_phase` reads it, except that ``${...}`` placeholders (and the
    criteria's limits) may still be unfilled: what ``orchphase draft-log`` drafts from and
    ``orchphase collect`` collects for, right after ``orchphase init``."""
    return load_phase(
        criteria_dir,
        data_root,
        name,
        load=_criteria_for_data,
        shared_baselines={},
        placeholders=drop_placeholders,
    )

"""``orchphase init``: a new phase's data folder and criteria stub, written from the templates
of :mod:`pytest_orchphase.cli.templates`.

The templates load with the project's own loaders once filled in. Every value that must be
measured or decided is a ``${...}`` placeholder (``pytest --phase`` refuses a file while one is
left), every optional key is present as a comment, and nothing is ever overwritten.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pytest_orchphase.cli.templates import (
    STAGES,
    baselines_text,
    criteria_text,
    log_text,
    metadata_text,
)
from pytest_orchphase.errors import OrchphaseError, display
from pytest_orchphase.files import atomic_write

if TYPE_CHECKING:
    if sys.version_info >= (3, 11):
        from importlib.resources.abc import Traversable
    else:
        from importlib.abc import Traversable

PHASE_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")  # the pattern of CriteriaFile.phase
TICKET_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def parse_phase(name: str) -> str:
    if not PHASE_NAME.fullmatch(name):
        raise OrchphaseError(
            f"phase {name!r}: expected a lower-case name like 'a4' (letters, digits, '-' and "
            "'_'); it names criteria/<phase>.yaml"
        )
    return name


def parse_tickets(text: str) -> list[str]:
    """``"R08,R09"`` → ``["R08", "R09"]``, or an error naming the bad part."""
    tickets = [part.strip() for part in text.split(",")]
    seen: dict[str, str] = {}
    for ticket in tickets:
        if not ticket:
            raise OrchphaseError(
                f"--tickets {text!r}: empty ticket id; expected ids separated by commas, "
                "like R08,R09"
            )
        if not TICKET_ID.fullmatch(ticket):
            raise OrchphaseError(
                f"--tickets: {ticket!r} is not a ticket id; expected letters, digits, '.', '-' "
                "or '_', like R08"
            )
        if ticket in STAGES:
            raise OrchphaseError(f"--tickets: {ticket!r} is a stage name, not a ticket id")
        if ticket.lower() in seen:
            raise OrchphaseError(
                f"--tickets: {ticket!r} is listed twice (as {seen[ticket.lower()]!r})"
            )
        seen[ticket.lower()] = ticket
    return tickets


#: the longest default folder name: past it, the tickets are left out of the name
FOLDER_NAME_MAX = 64


def data_folder(phase: str, tickets: Sequence[str]) -> str:
    """``phase-a4-r08-r09``, the folder name the shipped phases use, when it stays within
    FOLDER_NAME_MAX characters; else ``phase-<phase>`` (25 Jira ids would make a name longer
    than a file system takes)."""
    named = "-".join(["phase", phase, *(t.lower() for t in tickets)])
    return named if len(named) <= FOLDER_NAME_MAX else f"phase-{phase}"


def parse_folder(name: str) -> str:
    """A data folder's name given with --data-folder: one folder under --data, no path."""
    if not TICKET_ID.fullmatch(name) or len(name) > 255 or name.strip(".") == "":
        raise OrchphaseError(
            f"--data-folder {name!r}: expected one folder name (letters, digits, '.', '-' or "
            "'_', at most 255 characters), like phase-scale; it is created under --data"
        )
    return name


def parse_requires(text: str, known: Sequence[str], phase: str) -> list[str]:
    """``--requires pilot,haiku-trial``: known phases other than ``phase`` itself."""
    names = [part.strip() for part in text.split(",") if part.strip()]
    if not names:
        raise OrchphaseError(f"--requires {text!r}: expected phase names separated by commas")
    for index, name in enumerate(names):
        if name in names[:index]:
            raise OrchphaseError(f"--requires {name}: listed twice; expected each phase once")
        if name == phase:
            raise OrchphaseError(f"--requires {name}: a phase cannot require itself")
        if name not in known:
            raise OrchphaseError(
                f"--requires {name}: unknown phase; known phases: {', '.join(known) or 'none'}"
            )
    return names


def previous_phase(known: Sequence[str], phase: str) -> str | None:
    """The known phase with the same prefix and the highest lower number (a3 for a4), if any."""
    match = re.fullmatch(r"(.*?)(\d+)", phase)
    if not match:
        return None
    head, number = match.group(1), int(match.group(2))
    before = [
        (int(m.group(2)), name)
        for name in known
        if (m := re.fullmatch(r"(.*?)(\d+)", name)) and m.group(1) == head
        if int(m.group(2)) < number
    ]
    return max(before)[1] if before else None


# --------------------------------------------------------------------------- init


@dataclass(frozen=True)
class Scaffold:
    folder: Path
    files: list[tuple[Path, str]]
    criteria_existed: bool


def plan(
    phase: str,
    tickets: Sequence[str],
    data_root: Path,
    criteria_dir: Path,
    schema_dir: Path,
    now: dt.datetime,
    *,
    folder_name: str | None = None,
    requires: Sequence[str] | None = None,
) -> Scaffold:
    """The files ``orchphase init`` writes (nothing is written here). ``requires`` defaults to
    the known phase with the same prefix and the next lower number (a3 for a4)."""
    from pytest_orchphase.load.phase import (
        BASELINES_FILE,
        LOG_FILE,
        METADATA_FILE,
        criteria_path,
        known_phases,
    )
    from pytest_orchphase.load.schema import modeline

    folder = data_root / (folder_name or data_folder(phase, tickets))
    files = [
        (
            folder / METADATA_FILE,
            metadata_text(phase, tickets, now, modeline("metadata", folder, schema_dir)),
        ),
        (
            folder / LOG_FILE,
            log_text(phase, tickets, modeline("execution-log", folder, schema_dir)),
        ),
    ]
    baselines = criteria_dir / BASELINES_FILE
    if not baselines.exists():
        files.append((baselines, baselines_text(modeline("baselines", criteria_dir, schema_dir))))
    criteria = criteria_path(criteria_dir, phase)
    existed = criteria.exists()
    if not existed:
        if requires is None:
            previous = previous_phase(known_phases(criteria_dir), phase)
            requires = [previous] if previous else []
        line = modeline("criteria", criteria_dir, schema_dir)
        text = criteria_text(phase, folder.name, ", ".join(requires) or None, tickets, line)
        files.append((criteria, text))
    return Scaffold(folder, files, existed)


def create_new(
    files: Sequence[tuple[Path, str]], advice: str = "move it away or pick another phase or tickets"
) -> None:
    """Write every file, or none: refuse when any exists; undo on a failed write."""
    for path, _ in files:
        if path.exists() or path.is_symlink():
            raise OrchphaseError(
                f"already exists; orchphase init never overwrites: {advice}", path=path
            )
        for parent in path.parents:
            if parent.exists() and not parent.is_dir():
                raise OrchphaseError("is a file; expected a folder", path=parent)
    created: list[Path] = []
    made: list[Path] = []
    try:
        for path, text in files:
            missing = [p for p in reversed(path.parents) if not p.exists()]
            path.parent.mkdir(parents=True, exist_ok=True)
            made.extend(missing)
            atomic_write(path, text.encode())
            created.append(path)
    except OSError as exc:
        for path in created:
            path.unlink(missing_ok=True)
        for folder in reversed(made):
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise OrchphaseError(
            f"cannot write: {exc.strerror}; nothing was written",
            path=Path(exc.filename) if exc.filename else None,
        ) from None


def describe(scaffold: Scaffold, criteria: Path) -> list[str]:
    """What init did, one line each, for the terminal."""
    lines = [f"created {display(path)}" for path, _ in scaffold.files]
    if scaffold.criteria_existed:
        lines.append(f"kept {display(criteria)} (it exists)")
    return lines


# --------------------------------------------------------------------------- init --example

EXAMPLE_PACKAGE = "pytest_orchphase"
EXAMPLE_CRITERIA = "criteria"  # under pytest_orchphase/examples/: the repository's criteria/
EXAMPLE_DATA = "orchestration-data"  # and its docs/orchestration-data/
EXAMPLE_ADVICE = "move it away, or write the example into an empty folder"


def _kind(name: str) -> str:
    """The schema kind of an example file, from its name."""
    if name == "baselines.yaml":
        return "baselines"
    if name in ("metadata.yaml", "execution-log.yaml"):
        return name.removesuffix(".yaml")
    return "criteria"


def example_sources() -> dict[str, dict[str, str]]:
    """The shipped example (package data): criteria/ and orchestration-data/, {relpath: text}."""
    from importlib.resources import files

    def walk(node: Traversable, prefix: str) -> dict[str, str]:
        found: dict[str, str] = {}
        for child in node.iterdir():
            rel = f"{prefix}{child.name}"
            if child.is_dir():
                found.update(walk(child, f"{rel}/"))
            elif child.name.endswith(".yaml"):
                found[rel] = child.read_text(encoding="utf-8")
        return found

    root = files(EXAMPLE_PACKAGE) / "examples"
    return {part: walk(root / part, "") for part in (EXAMPLE_CRITERIA, EXAMPLE_DATA)}


def example_plan(criteria_dir: Path, data_root: Path, schema_dir: Path) -> list[tuple[Path, str]]:
    """The example phases a1-a3 with their criteria, baselines and schemas, placed in the given
    folders; each file's schema line points at ``schema_dir``. Nothing is written here."""
    from pytest_orchphase.load.schema import KINDS, file_name, modeline, render

    planned: list[tuple[Path, str]] = []
    sources = example_sources()
    for part, folder in ((EXAMPLE_CRITERIA, criteria_dir), (EXAMPLE_DATA, data_root)):
        for rel, text in sorted(sources[part].items()):
            path = folder / rel
            first, _, rest = text.partition("\n")
            if first.startswith("# yaml-language-server:"):
                text = f"{modeline(_kind(path.name), path.parent, schema_dir)}\n{rest}"
            planned.append((path, text))
    planned += [(schema_dir / file_name(kind), render(kind)) for kind in KINDS]
    return planned

"""``orchphase init``: a new phase's data folder and criteria stub, written from templates.

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

from pytest_orchphase.errors import OrchphaseError, display
from pytest_orchphase.files import atomic_write

if TYPE_CHECKING:
    if sys.version_info >= (3, 11):
        from importlib.resources.abc import Traversable
    else:
        from importlib.abc import Traversable

PHASE_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")  # the pattern of CriteriaFile.phase
TICKET_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
STAGES = ("branch_creation", "implementation", "fix", "monitoring", "review", "finalization")


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
    for name in names:
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


# --------------------------------------------------------------------------- templates


def _key(ticket: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "_", ticket).upper()


def metadata_text(phase: str, tickets: Sequence[str], now: dt.datetime, modeline: str) -> str:
    return f"""{modeline}
# Phase {phase}: written by `orchphase init`. Replace every ${{...}}: `pytest --phase {phase}`
# refuses the phase while one is left. Uncomment the optional keys you use.
phase: {phase.upper()}  # free text; the criteria file's name is the phase's id
tickets: [{", ".join(tickets)}]  # the execution log has an entry for each, and no other
date: {now.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}
expected_tokens: ${{EXPECTED_TOKENS}}  # the phase's target, shared planning included: 56000 or 56k
# strategy: Sonnet planning + Sonnet execution (batched)
# expected_savings: 7%            # vs a single agent
# baseline_comparison: 242000     # declared V2 total: checked against v2 per ticket x tickets
# batching_value: Shared planning saves 8k overhead
# hypothesis:
#   - Haiku works for mechanical tickets
# risk: MEDIUM
# comparison:                     # a list of notes, or name: note
#   - "A1: 77k for 2 tickets"
# sessions:                       # the phase's Claude Code sessions: tokens and USD measured
#   - 9f1c2d3e-0000-0000-0000-000000000000     # a session id (found under ~/.claude)
#   - {{session: 4b2e0000-0000-0000-0000-000000000000, lead: true}}  # the lead: shared planning
#   - {{session: 0a1b2c3d-0000-0000-0000-000000000000, ticket: {tickets[0]}}}  # all {tickets[0]}'s
#   - {{path: runs/{tickets[0].lower()}.jsonl, ticket: {tickets[0]}, stage: implementation}}
# models: {{sonnet: claude-sonnet-4-5}}          # free notes: family -> model id used
"""


_STAGE_KEYS = """\
# model: sonnet                 # haiku | sonnet | opus, or a model id
# worker: worker-a
# task_id: "1"
# agents: {{agent_ids: [], description_pattern: "^{ticket}"}}   # its sub-agents (measured usage)
# start_time: "2026-01-01T10:00:00Z"   # timestamps need a timezone
# end_time: "2026-01-01T10:05:00Z"
{tokens}
# status: completed     # completed | requires_fix | failed | in_progress | skipped | pending
# verification: passed          # passed | failed | skipped
# activities: [git_verify]
# notes: ""
"""
# A ticket's stages show the keys people fill most; the others are those of shared_planning.
_SHORT_STAGE_KEYS = """\
# model: sonnet                 # haiku | sonnet | opus, or a model id
# start_time: "2026-01-01T10:00:00Z"
# end_time: "2026-01-01T10:05:00Z"
{tokens}
# status: completed
# also: worker, task_id, agents, verification, activities, notes (as in shared_planning)
"""

_EXTRA_KEYS = {
    "implementation": """\
fix_loops: ${{{key}_FIX_LOOPS}}
# errors_encountered:           # type: mechanical | logic | architectural
#   - {{type: logic, description: "...", required_upgrade: "no"}}  # haiku_retry, sonnet, opus
# quality_vs_sonnet: {{code_correctness: same, pattern_following: same, edge_case_handling: same}}
""",
    "review": """\
# tier: T1                      # T1 | T2 | T3
# type: checklist
# result: PASS                  # PASS | FAIL: uncomment with the review's verdict
attempts: ${{{key}_REVIEW_ATTEMPTS}}
# issues_found: 0
# checklist_results: [{{"Code compiles": PASS}}]
""",
}


def _indent(text: str, spaces: int, comment: bool = False) -> str:
    pad = " " * spaces
    out = []
    for line in text.splitlines():
        if comment and not line.startswith("#"):
            line = f"# {line}"
        out.append(pad + line)
    return "\n".join(out) + "\n"


def _stage(ticket: str, stage: str, commented: bool) -> str:
    key = f"{_key(ticket)}_{stage.upper()}"
    tokens = (
        f"estimated_tokens: ${{{key}_ESTIMATED}}\n"
        f"actual_tokens: ${{{key}_ACTUAL}}   # delete when the phase is measured from transcripts"
    )
    body = _SHORT_STAGE_KEYS.format(tokens=tokens)
    body += _EXTRA_KEYS.get(stage, "").format(key=_key(ticket))
    head = f"# {stage}:  # only when a fix loop ran\n" if commented else f"{stage}:\n"
    return _indent(head, 4) + _indent(body, 6, comment=commented)


def _ticket(ticket: str) -> str:
    head = f"""\
{ticket}:
  # complexity: mechanical        # mechanical | nuanced | complex
  # execution_model: haiku        # else the implementation stage's model
  # status: completed
"""
    tail = """\
# subtotal: 30000                 # declared Σ of the stages: checked
# cost_analysis:                 # declared scenarios: actual_cost and effective_savings checked
#   {base_cost: 28000, with_1_fix: 32000, with_2_fixes: 36000, actual_cost: 30000,
#    effective_savings: 75%}
# fix_loops: 1                    # or implementation.fix_loops (keep one)
# quality_vs_sonnet: {code_correctness: same}   # or under implementation
# Flat shape instead of stages (A3): estimated_tokens: 30000, actual_tokens: 28000
"""
    stages = "".join(_stage(ticket, stage, commented=stage == "fix") for stage in STAGES)
    return _indent(head, 2) + stages + _indent(tail, 4)


_LOG_TAIL = """\
# Declared figures: optional, and each one is recomputed and checked (README "Declared totals").
# totals:
#   shared_planning: 12000
#   planning: 12000               # another name for shared_planning: keep one
#   execution: 40000              # branch creation + implementation + fix
#   monitoring: 10000
#   review: 10000
#   finalization: 16000
#   total_tokens: 86000
#   total: 86000                  # another name for total_tokens: keep one
#   per_ticket_average: 43000
#   savings_percent: 64%
#   savings_vs_baseline: 64%      # another name for savings_percent: keep one
#   baseline: v2                  # the baseline those savings are against (README)
{costs}
# batching_analysis:
#   unbatched_cost: 96000
#   unbatched_planning_overhead: 20000
#   batched_cost: 86000
#   batched_planning_overhead: 12000
#   batching_savings: 8000
#   effective_per_ticket: 43000
#   vs_single_agent: 30000
#   orchestration_worth_it: false
#   v2_baseline: 242000
#   savings_vs_v2: 64%
# batching_efficiency: {{unbatched_cost: 96000, batched_cost: 86000, batching_savings: 10000}}
# comparison_to_single_agent:
#   single_agent_total: 60000
#   orchestration_total: 86000
#   delta: -26000
#   conclusion: "..."
# comparison_to_v2_orchestration:
#   v2_total: 242000
#   orchestration_total: 86000    # or {phase}_total:
#   savings: 156000
#   savings_percent: 64%
#   conclusion: "..."
# cost_analysis: {{...}}            # single-ticket layout only: stages at the top, no tickets:
# key_insight: "..."
"""


def log_text(phase: str, tickets: Sequence[str], modeline: str) -> str:
    planning = _STAGE_KEYS.format(
        ticket="Plan",
        tokens=(
            "estimated_tokens: ${PLANNING_ESTIMATED}\n"
            "actual_tokens: ${PLANNING_ACTUAL}   # delete when the phase is measured"
        ),
    )
    costs = "\n".join(f"#   {t.lower()}_cost: 30000            # {t}'s total" for t in tickets)
    return (
        f"{modeline}\n"
        f"# Phase {phase}: written by `orchphase init`. Replace every ${{...}} with the figure\n"
        f"# (`pytest --phase {phase}` refuses the log while one is left); uncomment what you\n"
        "# record, delete what you do not. A stage counts actual_tokens, else estimated_tokens.\n"
        "shared_planning:\n"
        f"  tickets: [{', '.join(tickets)}]\n"
        + _indent(planning, 2)
        + "\ntickets:\n"
        + "\n".join(_ticket(t) for t in tickets)
        + "\n"
        + _LOG_TAIL.format(costs=costs, phase=phase)
    )


def criteria_text(
    phase: str, data: str, requires: str | None, tickets: Sequence[str], modeline: str
) -> str:
    return f"""{modeline}
# Phase {phase}: a stub written by `orchphase init`. Replace every ${{...}} with a target
# (40000, "40k") and add the phase's criteria (README "Criteria files").
phase: {phase}
title: "{phase.upper()}: {" + ".join(tickets)}"
data: {data}
requires: [{requires or ""}]{"" if requires else "              # phases that must pass first"}
# next_phase: ...                # named in the decision line
# baselines: {{}}                  # add to or override criteria/baselines.yaml

criteria:
  - id: token-efficiency
    description: Each ticket's own tokens stay under the cap.
    for_each: ticket
    metric: tokens
    measure: total
    below: ${{TICKET_TOKEN_CAP}}
    # stretch: 30k                 # reported as met or missed, never fails the item

  - id: phase-tokens
    description: The whole phase, shared planning included, stays under the cap.
    metric: tokens
    measure: total
    below: ${{PHASE_TOKEN_CAP}}

  # - id: planning-share           # a share: shared planning / the phase's tokens × 100
  #   metric: shared_planning_tokens
  #   measure: total
  #   of: {{metric: tokens, measure: total}}
  #   below: 10%
"""


def baselines_text(modeline: str) -> str:
    return f"""{modeline}
# Written by `orchphase init` because there was no baselines file. Replace every ${{...}} with
# the tokens one ticket costs by each approach (README "Baselines"); the break-even and the
# savings criteria compare the phase with them.
baselines:
  v2:
    description: the previous orchestration, with debates on every review
    tokens_per_ticket: ${{V2_TOKENS_PER_TICKET}}
  single_agent:
    description: one agent implements and self-reviews
    tokens_per_ticket: ${{SINGLE_AGENT_TOKENS_PER_TICKET}}
  separate_planning:
    description: planning a ticket in its own session, without batching
    tokens_per_ticket: ${{SEPARATE_PLANNING_TOKENS_PER_TICKET}}
"""


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

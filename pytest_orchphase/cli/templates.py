"""The templates ``orchphase init`` fills: a new phase's metadata.yaml, execution-log.yaml,
criteria stub and baselines file, as text.

Every value that must be measured or decided is a ``${...}`` placeholder, and every optional key
is present as a comment; :mod:`pytest_orchphase.cli.scaffold` writes them.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

STAGES = ("branch_creation", "implementation", "fix", "monitoring", "review", "finalization")


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

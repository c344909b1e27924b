"""Main sessions dropped into a phase's transcripts/ folder without names: only the lead is shared
planning; a worker session goes to the ticket its first prompt names, or is unattributed, and a
ticket whose work may be unattributed is unknown, never counted from its estimate."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.helpers import (
    ClaudeHome,
    Phase,
    agent_result,
    assistant,
    read_report,
    spawn_block,
    usage,
    user,
)

LEAD = "11111111-0000-0000-0000-000000000001"
WORKER_1 = "22222222-0000-0000-0000-000000000002"
WORKER_2 = "33333333-0000-0000-0000-000000000003"


def phase(pytester: pytest.Pytester, **metadata: Any) -> ClaudeHome:
    """Phase m1: R03, R06 and R09 capped at 100k tokens each, estimated at 12k, 12k and 20k; the
    metadata's other keys ``metadata``. Its transcripts/ folder, to put sessions in."""
    total = {"metric": "tokens", "measure": "total"}
    m1 = Phase.of(
        "m1",
        [
            {"id": "cap", "for_each": "ticket", **total, "max": "100k"},
            {"id": "phase-cap", **total, "max": "500k"},
        ],
        {
            ticket: {"implementation": {"estimated_tokens": tokens}}
            for ticket, tokens in (("R03", 12000), ("R06", 12000), ("R09", 20000))
        },
        planning={"estimated_tokens": 5000},
        metadata={"phase": "M1", "tickets": ["R03", "R06", "R09"], **metadata},
    )
    m1.write(pytester.path)
    return m1.transcripts(pytester.path)


def lead_session(home: ClaudeHome, *, spawns: bool = True) -> None:
    """The lead plans the batch (10,010 tokens) and spawns R03's and R06's workers."""
    content = [
        spawn_block("t1", description="R03: rename the helper"),
        spawn_block("t2", description="R06: lifecycle observer"),
    ]
    if spawns:
        home.subagent(
            "a1",
            [assistant("m1", "q1", agent_id="a1", session=LEAD, u=usage(inp=5, cw=8000))],
            session=LEAD,
        )
        home.subagent(
            "a2",
            [assistant("m2", "q2", agent_id="a2", session=LEAD, u=usage(inp=9, cw=50000))],
            session=LEAD,
        )
    home.session(
        [
            user("Plan the batch: R03, R06 and R09", session=LEAD),
            assistant(
                "m0",
                "q0",
                session=LEAD,
                u=usage(inp=10, out=0, cw=10000),
                content=content if spawns else None,
            ),
            *(
                [
                    agent_result("t1", "a1", usage(inp=5, cw=8000), session=LEAD),
                    agent_result("t2", "a2", usage(inp=9, cw=50000), session=LEAD),
                ]
                if spawns
                else []
            ),
        ],
        session=LEAD,
    )


def worker_sessions(home: ClaudeHome, first: str, second: str) -> None:
    """Two sessions worked on R09 on their own: 100,000 and 50,000 tokens."""
    home.session(
        [
            user(first, session=WORKER_1),
            assistant("w1", "r1", session=WORKER_1, u=usage(inp=0, out=0, cw=100000)),
        ],
        session=WORKER_1,
    )
    home.session(
        [
            user(second, session=WORKER_2),
            assistant("w2", "r2", session=WORKER_2, u=usage(inp=0, out=0, cr=50000)),
        ],
        session=WORKER_2,
    )


def test_worker_sessions_go_to_the_ticket_their_first_prompt_names(
    pytester: pytest.Pytester,
) -> None:
    home = phase(pytester)
    lead_session(home)
    worker_sessions(home, "Implement R09: the export button", "Review the R09 export button")
    result = pytester.runpytest("--phase", "m1", "--orchphase-json", "r.json", "-W", "error")
    # R09 measured 150,000 (its two sessions), not its 20,000 estimate: the cap fails
    result.assert_outcomes(passed=3, failed=1)
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [
            "cap[[]R09[]]: tokens 150,000 > max 100,000*",
            "Proceed to phase m2: NO — failing: cap[[]R09[]]",
        ]
    )
    data = read_report(pytester.path)
    assert data["usage"]["shared_planning"]["total"] == 10010
    assert data["usage"]["tickets"]["R09"]["total"]["total"] == 150000
    assert data["usage"]["total"]["total"] == 10010 + 8006 + 50010 + 150000
    roles = {s["session_id"]: (s["role"], s["ticket"], s["how"]) for s in data["usage"]["sessions"]}
    assert roles == {
        LEAD: ("lead", None, "the only main session that spawned sub-agents"),
        WORKER_1: ("ticket", "R09", "ticket id in its first prompt"),
        WORKER_2: ("ticket", "R09", "ticket id in its first prompt"),
    }


def test_unnamed_worker_sessions_make_the_ticket_unknown_not_estimated(
    pytester: pytest.Pytester,
) -> None:
    home = phase(pytester)
    lead_session(home)
    worker_sessions(home, "Implement the export button", "Review the export button")
    result = pytester.runpytest("--phase", "m1", "--orchphase-json", "r.json")
    # R03 and R06 are measured (8,006 and 50,010), but the 150,000 of the unnamed sessions may
    # be theirs as well as R09's: counted as each one's own, neither proves its 100k cap
    result.assert_outcomes(passed=0, failed=4)
    assert result.ret == 1
    result.stdout.fnmatch_lines(["cap[[]R03[]]: tokens at most 158,006: *max 100,000*"])
    result.stdout.fnmatch_lines(
        [
            "cap[[]R09[]]: tokens: cannot be evaluated: ticket R09 has no measured usage while "
            f"session {WORKER_1} (its first prompt names no ticket), session {WORKER_2} (its "
            "first prompt names no ticket) could not be attributed;*name a session's ticket in "
            "metadata.yaml*",
        ]
    )
    result.stdout.fnmatch_lines(
        ["phase-cap: tokens: cannot be evaluated: ticket R09 has no measured usage*"]
    )
    sessions = read_report(pytester.path)["usage"]["sessions"]
    assert [s["role"] for s in sessions if s["session_id"] != LEAD] == [
        "unattributed",
        "unattributed",
    ]
    assert read_report(pytester.path)["usage"]["unattributed"]["total"] == 150000


def test_without_a_lead_shared_planning_is_unknown(pytester: pytest.Pytester) -> None:
    home = phase(pytester)
    lead_session(home, spawns=False)  # no sub-agents: nothing tells the lead apart
    worker_sessions(home, "Implement the export button", "Review the export button")
    result = pytester.runpytest("--phase", "m1")
    result.assert_outcomes(passed=0, failed=4)
    result.stdout.fnmatch_lines(
        ["phase-cap: tokens: cannot be evaluated: shared planning is unknown: no lead session*"]
    )


def test_the_lead_named_in_metadata_is_shared_planning(pytester: pytest.Pytester) -> None:
    path = f"transcripts/projects/-home-USER-projects-demo/{LEAD}.jsonl"
    home = phase(pytester, sessions=[{"path": path, "lead": True}])
    lead_session(home, spawns=False)
    worker_sessions(home, "Implement R09: the export button", "Review R09")
    result = pytester.runpytest("--phase", "m1", "--orchphase-json", "r.json")
    result.stdout.fnmatch_lines(["cap[[]R09[]]: tokens 150,000 > max 100,000*"])
    assert read_report(pytester.path)["usage"]["shared_planning"]["total"] == 10010


def test_an_estimated_ticket_in_a_measured_phase_is_marked_everywhere(
    pytester: pytest.Pytester,
) -> None:
    home = phase(pytester)
    lead_session(home)  # R09 has no session at all, and nothing is unattributed
    result = pytester.runpytest(
        "--phase", "m1", "--orchphase-json", "r.json", "--orchphase-md", "r.md"
    )
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(
        [
            "cap*R09*tokens*20,000 (estimated)*max*100,000*PASS",
            "phase-cap*tokens*88,026 (estimated)*max*500,000*PASS",
            "Proceed to phase m2: YES — mixes measured and hand-kept figures: R09 (estimated)",
        ]
    )
    data = read_report(pytester.path)
    (r09,) = [e for e in data["criteria"] if e["name"] == "cap[R09]"]
    assert r09["marks"] == ["estimated"]
    assert "R09 (estimated)" in data["decisions"]["proceed"]["line"]
    markdown = (pytester.path / "r.md").read_text()
    assert "20,000 (estimated)" in markdown
    assert "mixes measured and hand-kept figures: R09 (estimated)" in markdown


def test_lead_true_on_a_ticket_session_is_refused(pytester: pytest.Pytester) -> None:
    home = phase(pytester, sessions=[{"session": LEAD, "lead": True, "ticket": "R03"}])
    lead_session(home)
    result = pytester.runpytest("--phase", "m1")
    assert result.ret == 2
    result.stdout.fnmatch_lines(["*metadata.yaml:*sessions*give `lead` or `ticket`*"])


def test_real_worker_sessions_name_their_bead_in_the_first_prompt() -> None:
    from pytest_orchphase.usage.scan import scan_paths

    folder = (
        Path(__file__).resolve().parents[2].parent
        / "shared/transcripts/wild/marot__spotter/test/fixtures/transcripts"
    )
    if not folder.is_dir():
        pytest.skip("the shared real transcripts are not beside the repository")
    prompts = scan_paths([folder]).first_prompts
    first = prompts["ae4a77f8-aedd-4bc1-888f-c94edc91af04"]
    assert isinstance(first, str) and first.startswith("Work on bead spotter-4te.")
    assert prompts["258c7280-ae70-4798-800f-63464d01a85d"] == "Implement spotter-gqc"


def test_claude_codes_own_notes_are_never_a_first_prompt(tmp_path: Path) -> None:
    from pytest_orchphase.usage.scan import scan_paths

    home = ClaudeHome(tmp_path)
    home.session(
        [
            user("[Request interrupted by user for tool use]", session=WORKER_1),
            user("<task-notification><task-id>b1</task-id></task-notification>", session=WORKER_1),
            user("Implement R09: the export button", session=WORKER_1),
            assistant("w1", "r1", session=WORKER_1),
        ],
        session=WORKER_1,
    )
    assert scan_paths([tmp_path]).first_prompts == {WORKER_1: "Implement R09: the export button"}

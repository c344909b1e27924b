"""A sub-agent's calls are in its own file and, as agent_progress copies, in its parent session's:
with the parent named (the lead) and the sub-agent's file named for a ticket, the calls are the
ticket's (the most specific entry, README "Then each call"), whichever file is read first; the
same calls named under unrelated roots for two places stay an error."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import (
    SESSION,
    ClaudeHome,
    Phase,
    agent_progress,
    assert_not_yes,
    assistant,
    flat_ticket,
    run_phase,
    usage,
    user,
)

AGENT = "a1b2c3d"


def _home(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, layout: str) -> Path:
    """A lead session of 8,210 tokens whose sub-agent (5,210 tokens, copied into the lead as
    agent_progress) implements R01: its file under the session's subagents/ folder, or beside
    the session (the older flat layout). Returns the sub-agent's file."""
    home = ClaudeHome(pytester.path.parent / f"{pytester.path.name}-claude")
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(home.root))
    sub = assistant(
        "m-sub", "q-sub", agent_id=AGENT, u=usage(inp=10, out=200, cw=5_000),
        ts="2026-02-12T14:12:30.000Z",
    )  # fmt: skip
    home.session(
        [
            user("Plan the batch"),
            assistant("m-lead", "q-lead", u=usage(inp=10, out=200, cw=8_000)),
            agent_progress(sub, agent_id=AGENT, parent_tool_use_id="toolu_01"),
        ]
    )
    lines = [user("Implement R01", agent_id=AGENT), sub]
    return home.subagent(AGENT, lines) if layout == "subagents" else home.flat_agent(AGENT, lines)


def _phase(pytester: pytest.Pytester, sessions: list[object], tickets: list[str], cap: str) -> Path:
    """Phase p1: each ticket under ``cap`` tokens, its log saying 5,000 (R01's measured 5,210
    is over 5.1k: only the calls measured there can say NO)."""
    rule = {"id": "cap", "for_each": "ticket", "metric": "tokens", "measure": "total", "max": cap}
    metadata = {"phase": "p1", "tickets": tickets, "sessions": sessions}
    logged = {t: flat_ticket(execution_model="opus", actual_tokens=5_000) for t in tickets}
    return Phase.of("p1", [rule], logged, metadata=metadata).write(pytester.path)


@pytest.mark.parametrize("layout", ["subagents", "flat"])
@pytest.mark.parametrize("lead_first", [True, False], ids=["lead-first", "sub-agent-first"])
def test_a_sub_agent_file_named_beside_its_lead_is_its_tickets(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, layout: str, lead_first: bool
) -> None:
    """R01's 5,210 measured tokens (at least: a sub-agent's output count is a placeholder) are
    over its 5.1k cap: NO, in either order of the entries, the lead's own 8,210 its planning
    (before: an error; read from the lead's file first, the calls were the lead's, and R01 fell
    back on its log's 5,000: YES)."""
    worker = _home(pytester, monkeypatch, layout)
    lead = {"session": SESSION, "lead": True}
    named = {"path": str(worker), "ticket": "R01"}
    _phase(pytester, [lead, named] if lead_first else [named, lead], ["R01"], "5.1k")
    result = run_phase(pytester, "p1")
    assert "the phase's files have errors" not in result.stdout.str(), result.stdout.str()
    assert_not_yes(pytester, result)
    result.stdout.fnmatch_lines(
        ["shared planning * 8,210 *", "R01 (whole session) * 5,000 * ≥ 5,210 *"], consecutive=True
    )


def test_a_copy_of_the_sub_agent_file_elsewhere_for_another_ticket_is_still_an_error(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not over-corrected: the sub-agent's file named for R01 and a copy of it in the phase's
    folder named for R02 are unrelated roots: which ticket gets the calls would hang on the
    order, an error at the later entry, whatever the lead's copy."""
    worker = _home(pytester, monkeypatch, "subagents")
    sessions = [
        {"session": SESSION, "lead": True},
        {"path": str(worker), "ticket": "R01"},
        {"path": "copy.jsonl", "ticket": "R02"},
    ]
    folder = _phase(pytester, sessions, ["R01", "R02"], "6k")
    (folder / "copy.jsonl").write_text(worker.read_text())
    result = run_phase(pytester, "p1")
    assert_not_yes(pytester, result)
    result.stdout.fnmatch_lines(
        ["*sessions[[]2[]]*copy.jsonl holds 1 API call(s) that *holds too*"]
    )


def test_a_sub_agent_file_named_beside_its_lead_parent_is_no_copy(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.helpers import SESSION, ClaudeHome, agent_progress

    home = ClaudeHome(pytester.path.parent / f"{pytester.path.name}-claude")
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(home.root))
    sub = assistant(
        "m-sub",
        "q-sub",
        agent_id="a1b2c3d",
        u=usage(inp=10, out=200, cw=5_000),
        ts="2026-02-12T14:12:30.000Z",
    )
    home.session(
        [
            user("Plan the batch"),
            assistant("m-lead", "q-lead", u=usage(inp=10, out=200, cw=8_000)),
            agent_progress(sub, agent_id="a1b2c3d", parent_tool_use_id="toolu_01"),
        ]
    )
    worker = home.subagent("a1b2c3d", [user("Implement R01", agent_id="a1b2c3d"), sub])
    sessions = [{"session": SESSION, "lead": True}, {"path": str(worker), "ticket": "R01"}]
    metadata = {"phase": "p1", "tickets": ["R01"], "sessions": sessions}
    cap = {"id": "cap", "metric": "tokens", "measure": "total", "max": "200k"}
    ticket = flat_ticket(execution_model="opus", actual_tokens=5_000)
    Phase.of("p1", [cap], {"R01": ticket}, metadata=metadata).write(pytester.path)
    result = run_phase(pytester, "p1")
    assert "the phase's files have errors" not in result.stdout.str(), result.stdout.str()

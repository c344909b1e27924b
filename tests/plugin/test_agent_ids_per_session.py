"""The log maps a sub-agent by its id (``agents.agent_ids``), but Claude Code's agent ids are
unique only within a session: an id two sessions' agents have names either, so it is an error
unless ``SESSION/ID`` entries (the session's id, or its first 8 characters or more) tell them
apart."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import (
    Phase,
    YamlData,
    agent_result,
    assert_not_yes,
    assistant,
    run_phase,
    spawn_block,
    staged_ticket,
    usage,
    user,
)

SONNET = "claude-sonnet-4-5-20250929"
S1 = "1f0c2b7e-3a41-4c55-9d2e-7b1a0c6e5d01"
S2 = "2e9d4c8a-6b52-4f13-8a7c-5d3e2f1b9c02"
AGENT = "a1b2c3d"
CAP: YamlData = {
    "id": "review-cap",
    "for_each": "ticket",
    "metric": "stage_tokens",
    "stage": "review",
    "measure": "total",
    "max": 30_000,
}


def _phase(pytester: pytest.Pytester, r01: list[str], r02: list[str]) -> None:
    """R01's and R02's worker sessions each spawned a sub-agent AGENT ("Run the tests", naming
    no ticket): R01's used 1,000 tokens, R02's 50,000; the log lists ``r01`` and ``r02`` as
    the agents of each ticket's review."""
    tickets: dict[str, YamlData] = {}
    for ticket, listed in (("R01", r01), ("R02", r02)):
        tickets[ticket] = staged_ticket({"actual_tokens": 1_000, "status": "completed"})
        tickets[ticket]["review"]["agents"] = {"agent_ids": listed}
    phase = Phase.of("m1", [CAP], tickets)
    phase.write(pytester.path)
    _sessions(phase, pytester, ("Implement R01", 1_000), ("Implement R02", 50_000))


def _sessions(phase: Phase, pytester: pytest.Pytester, *runs: tuple[str, int]) -> None:
    """Sessions S1 and S2 in the phase's transcripts, each of its first prompt and a sub-agent
    AGENT ("Run the tests") of so many input tokens, spawned by its Task and recorded by its
    parent."""
    home = phase.transcripts(pytester.path)
    for session, (prompt, tokens), n in zip((S1, S2), runs, "12", strict=False):
        task = spawn_block(f"toolu_0{n}", description="Run the tests", prompt="Run the suite")
        u = usage(inp=tokens, out=100)
        lines: list[dict[str, Any]] = [
            user(prompt, session=session),
            assistant(f"msg_{n}L", f"req_{n}L", model=SONNET, session=session, content=[task]),
            agent_result(f"toolu_0{n}", AGENT, u, session=session, tool_uses=0),
        ]
        home.session(lines, session=session)
        own = assistant(f"msg_{n}", f"req_{n}", model=SONNET, u=u, session=session, agent_id=AGENT)
        home.subagent(AGENT, [own], session=session)


def test_an_id_two_sessions_agents_have_is_an_error(pytester: pytest.Pytester) -> None:
    _phase(pytester, [], [AGENT])
    result = run_phase(pytester, "m1")
    assert_not_yes(pytester, result)
    result.stdout.fnmatch_lines(
        [
            "*tickets.R02.review.agents.agent_ids[[]0[]]: sub-agent id 'a1b2c3d' is the id of a "
            f"sub-agent in each of sessions {S1}, {S2} (Claude Code's agent ids are unique only "
            "within a session): which one this entry maps is not known; name each agent with "
            "its session, as SESSION/a1b2c3d*"
        ]
    )


@pytest.mark.parametrize(
    ("r01", "r02"),
    [
        ([f"{S1[:8]}/{AGENT}"], [f"{S2}/{AGENT}"]),
        ([AGENT], [f"{S2[:13]}/{AGENT}"]),  # the other one told apart: the id alone is R01's
    ],
    ids=["both-named", "one-named"],
)
def test_session_named_entries_map_each_sessions_agent(
    pytester: pytest.Pytester, r01: list[str], r02: list[str]
) -> None:
    _phase(pytester, r01, r02)
    result = run_phase(pytester, "m1")
    assert result.ret == 1, result.stdout.str()
    # Each review holds its own session's agent (a lower bound beside the worker's own calls).
    result.stdout.fnmatch_lines(
        [
            "review-cap   R01       stage_tokens[[]review[]]  at least 1,100 *",
            "review-cap   R02       stage_tokens[[]review[]]  at least 50,100 *",
        ]
    )


def test_an_entry_naming_an_agent_of_no_session_read_is_missing(
    pytester: pytest.Pytester,
) -> None:
    """``SESSION/ID`` of a session that has no such agent: the review ran with an agent no
    transcript holds, so R01's figures are lower bounds (its cap proves nothing)."""
    _phase(pytester, [f"3c8e1d2f/{AGENT}"], [f"{S2[:8]}/{AGENT}"])
    result = run_phase(pytester, "m1")
    assert_not_yes(pytester, result)
    result.stdout.fnmatch_lines(["R01       sonnet   ≥ 1,102 *"])


def test_two_entries_naming_one_sessions_agent_for_two_places_are_an_error(
    pytester: pytest.Pytester,
) -> None:
    _phase(pytester, [f"{S2[:8]}/{AGENT}"], [f"{S2}/{AGENT}"])
    result = run_phase(pytester, "m1")
    assert_not_yes(pytester, result)
    result.stdout.fnmatch_lines(
        [
            "*tickets.R02.review.agents.agent_ids[[]0[]]: this entry and "
            f"tickets.R01.review.agents.agent_ids[[]0[]] '{S2[:8]}/{AGENT}' (R01's review) "
            f"both name sub-agent {AGENT} of session {S2}*"
        ]
    )


def test_two_sessions_that_spawned_agents_of_one_id_are_both_spawners(
    pytester: pytest.Pytester,
) -> None:
    """No session names a ticket; both spawned a sub-agent a1b2c3d. Keyed by id alone, one
    agent of the two was the first session's, and that session was "the only main session
    that spawned sub-agents": the lead, its calls shared planning. Both spawned: no lead."""
    phase = Phase.of("m1", [CAP], {"R01": staged_ticket({"actual_tokens": 1_000})})
    phase.write(pytester.path)
    _sessions(phase, pytester, ("Look around 1", 1_000), ("Look around 2", 1_000))
    result = run_phase(pytester, "m1")
    assert result.ret == 1, result.stdout.str()
    report = (pytester.path / "r.json").read_text()
    assert "the only main session that spawned sub-agents" not in report
    assert f"no lead session among 2 main sessions ({S1}, {S2})" in report

"""A sub-agent's key is (session, agent id), and the log's entries name one by its id alone or
as ``SESSION/ID``: plain rules of the core."""

from __future__ import annotations

from pytest_orchphase.usage.attribution import AgentAttribution
from pytest_orchphase.usage.records import AgentInfo, Scan, agent_key
from pytest_orchphase.usage.subagents import log_entries, names_agent
from pytest_orchphase.usage.value import Usage

S1 = "1f0c2b7e-3a41-4c55-9d2e-7b1a0c6e5d01"
S2 = "2e9d4c8a-6b52-4f13-8a7c-5d3e2f1b9c02"


def test_an_agent_key_is_its_session_and_id() -> None:
    assert agent_key(S1, "a1b2c3d") == (S1, "a1b2c3d")
    assert agent_key(None, "a1b2c3d") == ("", "a1b2c3d")


def test_an_entry_names_an_agent_by_id_or_by_session_and_id() -> None:
    key = (S1, "a1b2c3d")
    assert names_agent("a1b2c3d", key)
    assert names_agent(f"{S1}/a1b2c3d", key)
    assert names_agent(f"{S1[:8]}/a1b2c3d", key)
    assert not names_agent(f"{S1[:7]}/a1b2c3d", key)  # too short a prefix to name a session
    assert not names_agent(f"{S2[:8]}/a1b2c3d", key)
    assert not names_agent(f"{S1}/a1b2c3e", key)
    assert not names_agent("a1b2c3", key)


def test_a_message_names_the_session_of_an_id_two_sessions_have() -> None:
    scan = Scan()
    for session in (S1, S2):
        scan.agents[(session, "a1")] = AgentInfo("a1", session_id=session)
    scan.agents[(S1, "a2")] = AgentInfo("a2", session_id=S1)
    assert scan.agent_name((S2, "a1")) == f"a1 of session {S2}"
    assert scan.agent_name((S1, "a2")) == "a2"
    assert scan.agent("a2").session_id == S1


def test_a_drafted_log_names_an_id_two_sessions_have_with_its_session() -> None:
    def agent(session: str, aid: str) -> AgentAttribution:
        return AgentAttribution(
            aid,
            session,
            None,
            "R01",
            "review",
            "",
            Usage.measured(input=1, output=0, cache_write=0, cache_read=0, usd=0.0),
        )

    mine = [agent(S1, "a1"), agent(S1, "a2")]
    among = [*mine, agent(S2, "a1")]
    assert log_entries(mine, among) == [f"{S1}/a1", "a2"]

"""A sub-agent is its session's: Claude Code's agent ids are unique only within a session (the
2.1.3x builds name an agent by 7 hex digits), so a scan keys every sub-agent by (session, agent
id): its calls, its spawn, its parent's records and notices, its corrections, its rows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pytest_orchphase.usage.aggregate import by_agent, by_model, price_calls, total
from pytest_orchphase.usage.cache import ScanCache
from pytest_orchphase.usage.pricing import PriceTable
from pytest_orchphase.usage.records import Scan
from pytest_orchphase.usage.scan import scan_files, scan_paths
from pytest_orchphase.usage.sources.claude_code.layout import spawning_session
from pytest_orchphase.usage.sources.ledger.collect import Collected, new_blocks, render
from tests.helpers import (
    ClaudeHome,
    agent_result,
    assistant,
    spawn_block,
    usage,
    user,
)

SONNET = "claude-sonnet-4-5-20250929"
S1 = "1f0c2b7e-3a41-4c55-9d2e-7b1a0c6e5d01"
S2 = "2e9d4c8a-6b52-4f13-8a7c-5d3e2f1b9c02"
AGENT = "a1b2c3d"


def _session(home: ClaudeHome, session: str, n: str, tokens: int, *, lines_of: str = "") -> None:
    """A worker session that spawned sub-agent AGENT ("Task n", ``tokens`` input) by Task
    ``toolu_n``, the agent's one call in its own file (its lines naming ``lines_of``, by default
    its own session) and the parent's record of it."""
    task = spawn_block(f"toolu_{n}", description=f"Task {n}", prompt=f"Do task {n}")
    u = usage(inp=tokens, out=100)
    home.session(
        [
            user(f"Work {n}", session=session),
            assistant(f"msg_{n}T", f"req_{n}T", model=SONNET, session=session, content=[task]),
            agent_result(f"toolu_{n}", AGENT, u, session=session, tool_uses=0),
        ],
        session=session,
    )
    call = assistant(
        f"msg_{n}", f"req_{n}", model=SONNET, u=usage(inp=tokens, out=3), agent_id=AGENT
    )
    call["sessionId"] = lines_of or session
    home.subagent(AGENT, [call], session=session)


def _agent_calls(scan: Scan) -> dict[str, tuple[str | None, int, int]]:
    """Each sub-agent call's session, input and output."""
    return {
        c.message_id: (c.session_id, c.input_tokens, c.output_tokens)
        for c in scan.calls
        if c.agent_id == AGENT
    }


def test_two_sessions_agents_of_one_id_are_two_agents(home: ClaudeHome) -> None:
    _session(home, S1, "1", 1_000)
    _session(home, S2, "2", 50_000)
    scan = scan_paths([home.root])
    assert set(scan.agents) == {(S1, AGENT), (S2, AGENT)}
    assert scan.agents[(S1, AGENT)].description == "Task 1"
    assert scan.agents[(S2, AGENT)].description == "Task 2"
    # Each corrected by its own session's record (true output 100), none counted twice.
    assert _agent_calls(scan) == {"msg_1": (S1, 1_000, 100), "msg_2": (S2, 50_000, 100)}
    assert not any("no transcript read" in w for w in scan.warnings)
    with pytest.raises(KeyError):
        scan.agent(AGENT)  # which one: not known
    assert scan.agent_name((S2, AGENT)) == f"{AGENT} of session {S2}"


def test_extract_by_agent_gives_each_row_its_own_sessions_agent(home: ClaudeHome) -> None:
    _session(home, S1, "1", 1_000)
    _session(home, S2, "2", 50_000)
    scan = scan_paths([home.root])
    rows = by_agent(price_calls(scan, PriceTable.load()), scan)
    described = {(r.session_id, r.info.description if r.info else None) for r in rows}
    assert {(S1, "Task 1"), (S2, "Task 2")} <= described


def test_side_questions_of_two_sessions_are_each_their_sessions() -> None:
    """Unnamed sidechain calls (``/btw``) of two sessions: one key per session, never one
    agent "sidechain" that the first session read would take."""
    from pytest_orchphase.usage.records import ApiCall

    one = ApiCall("m1", "r1", SONNET, session_id=S1, agent_id="sidechain", sidechain=True)
    two = ApiCall("m2", "r2", SONNET, session_id=S2, agent_id="sidechain", sidechain=True)
    assert one.agent_key == (S1, "sidechain")
    assert two.agent_key == (S2, "sidechain")
    assert ApiCall("m3", "r3", SONNET, session_id=S1).agent_key is None


def test_a_sub_agent_file_is_its_folders_sessions(home: ClaudeHome) -> None:
    """Its lines name R01's session, its file is in R02's folder and R02's Task spawned it:
    R02's, said."""
    _session(home, S1, "1", 1_000)
    _session(home, S2, "2", 50_000, lines_of=S1)
    # The first session's own agent has another id here, so the two do not meet by id.
    scan = scan_paths([home.root])
    assert _agent_calls(scan)["msg_2"] == (S2, 50_000, 100)
    assert not any("no transcript read" in w for w in scan.warnings)
    assert any(
        f"agent-{AGENT}.jsonl: the lines of this sub-agent file name session {S1}, but it is "
        f"in the folder of session {S2}, which spawned it" in w
        for w in scan.warnings
    )


def test_a_sub_agent_folder_not_named_by_a_session_keeps_its_lines_session(
    tmp_path: Path,
) -> None:
    """A copy renamed (runs/lead.jsonl, runs/lead/subagents/): its lines' sessionId is all
    there is."""
    assert spawning_session(tmp_path / "lead" / "subagents" / "agent-a1.jsonl") is None
    assert spawning_session(tmp_path / S1 / "subagents" / "agent-a1.jsonl") == S1
    assert spawning_session(tmp_path / S1 / "subagents" / "agent-a1.meta.json") == S1
    assert spawning_session(tmp_path / S1 / "subagents" / "notes.jsonl") is None
    assert spawning_session(tmp_path / "agent-a1.jsonl") is None


def _background(
    home: ClaudeHome, session: str, agent: str, *, status: str | None, model: str | None = SONNET
) -> None:
    """A session that launched background Agent ``agent`` (its own file not written), and,
    with ``status``, its completion notice."""
    tool_use = f"toolu_{session[:4]}_{agent}"
    spawn = spawn_block(tool_use, name="Agent", description="Run the suite", model=None)
    spawn["input"]["run_in_background"] = True
    launched = user("", session=session)
    launched["message"]["content"] = [
        {"tool_use_id": tool_use, "type": "tool_result", "content": "launched"}
    ]
    launched["toolUseResult"] = {
        "isAsync": True,
        "status": "async_launched",
        "agentId": agent,
    }
    if model is not None:
        launched["toolUseResult"]["resolvedModel"] = model
    lines: list[dict[str, Any]] = [
        user("Implement R01", session=session),
        assistant(f"msg_{session}", "req_1", model=SONNET, session=session, content=[spawn]),
        launched,
    ]
    if status is not None:
        lines.append(
            user(
                f"<task-notification>\n<task-id>{agent}</task-id>\n"
                f"<status>{status}</status>\n</task-notification>",
                session=session,
            )
        )
    home.session(lines, session=session)


def test_a_background_agent_in_no_file_read_makes_every_figure_a_lower_bound(
    home: ClaudeHome,
) -> None:
    _background(home, S1, "a70eebf64f6caa954", status="completed")
    scan = scan_paths([home.root])
    costed = price_calls(scan, PriceTable.load())
    whole = total(costed)
    assert whole.calls == 1  # the stand-in is no call
    assert whole.usage().lower_bounds == {"input", "output", "cache_write", "cache_read"} | {
        "total",
        "usd",
    }
    assert "1 background sub-agent(s) none of whose calls is in any file read" in (
        whole.usage().lower_bound_note
    )
    assert by_model(costed)[SONNET].calls == 1
    assert any("a70eebf64f6caa954: it ran in the background" in w for w in scan.warnings)


def test_a_background_agent_whose_calls_are_read_stays_exact(home: ClaudeHome) -> None:
    _background(home, S1, "a70eebf64f6caa954", status="completed")
    own = assistant(
        "msg_bg", "req_bg", model=SONNET, session=S1, agent_id="a70eebf64f6caa954", final=True
    )
    home.subagent("a70eebf64f6caa954", [own], session=S1)
    scan = scan_paths([home.root])
    assert not any(c.stand_in for c in scan.calls)
    assert not total(price_calls(scan, PriceTable.load())).usage().lower_bounds


def test_a_notice_finishes_its_own_sessions_background_agent(home: ClaudeHome) -> None:
    """Two sessions' background agents of one id: the one whose session has the notice is
    completed, the other still launched."""
    _background(home, S1, "a7000001", status="completed")
    _background(home, S2, "a7000001", status=None)
    scan = scan_paths([home.root])
    assert scan.agents[(S1, "a7000001")].status == "completed"
    assert scan.agents[(S2, "a7000001")].status == "async_launched"


def test_a_ledger_keeps_each_sessions_agent(home: ClaudeHome, tmp_path: Path) -> None:
    """The ledger's link, meta and notice records name their session: read back, two
    sessions' agents of one id are still two."""
    _session(home, S1, "1", 1_000)
    _session(home, S2, "2", 50_000)
    for session in (S1, S2):
        home.meta(AGENT, {"agentType": "Explore", "description": f"meta {session}"}, session)
    _background(home, "3c8e1d2f-7a41-4b55-8d2e-6c1b0a9e4f03", "a7000001", status="completed")
    files = sorted(p for p in home.root.rglob("*") if p.is_file())
    raw = scan_files(files)
    out = tmp_path / "usage.jsonl"
    out.write_bytes(render("m1", "0.1.0", new_blocks(files, ["R01"], Collected(out=out))))
    ledger = scan_files([out])
    assert set(ledger.agents) == set(raw.agents)
    for key, info in raw.agents.items():
        mine = ledger.agents[key]
        assert (mine.description, mine.status, mine.subagent_type) == (
            info.description,
            info.status,
            info.subagent_type,
        )
    assert _agent_calls(ledger) == _agent_calls(raw)


def test_the_scan_cache_keeps_each_sessions_agent(home: ClaudeHome, tmp_path: Path) -> None:
    _session(home, S1, "1", 1_000)
    _session(home, S2, "2", 50_000, lines_of=S1)
    cache = ScanCache(tmp_path / "cache")
    first = scan_paths([home.root], cache=cache)
    again = scan_paths([home.root], cache=cache)
    assert set(again.agents) == set(first.agents) == {(S1, AGENT), (S2, AGENT)}
    assert _agent_calls(again) == _agent_calls(first)
    said = [w for w in again.warnings if "which spawned it" in w]
    assert len(said) == 1
    assert said == [w for w in first.warnings if "which spawned it" in w]


def test_a_parents_record_of_no_session_corrects_the_one_agent_of_its_id(
    home: ClaudeHome,
) -> None:
    """The Task result's line names no session: it is the record of the one agent of its id,
    whose last call it corrects (never counted again as a call no file read holds)."""
    _session(home, S1, "1", 1_000)
    path = home.project / f"{S1}.jsonl"
    lines = path.read_text().splitlines()
    lines[-1] = lines[-1].replace(f'"sessionId": "{S1}", ', "").replace(f'"sessionId":"{S1}",', "")
    assert S1 not in lines[-1]
    path.write_text("\n".join(lines) + "\n")
    scan = scan_paths([home.root])
    assert _agent_calls(scan) == {"msg_1": (S1, 1_000, 100)}
    assert not any("no transcript read" in w for w in scan.warnings)


def test_a_background_agent_of_no_recorded_model_stands_in_on_no_model(home: ClaudeHome) -> None:
    """Its launch result names no model: its stand-in is on ``<unread>`` (like an API error's
    ``<synthetic>``, no model a ticket ran on; priced at nothing, never an unknown price)."""
    _background(home, S1, "a70eebf64f6caa954", status="completed", model=None)
    scan = scan_paths([home.root])
    [stand_in] = [c for c in scan.calls if c.stand_in]
    assert stand_in.model == "<unread>"
    costed = price_calls(scan, PriceTable.load())
    assert total(costed).cost_usd is not None
    assert "usd" in total(costed).usage().lower_bounds

"""Transcripts as Claude Code writes them: sub-agent ids unique only within a session, side
questions of several sessions, an agent file whose lines name another session, a background
agent in no file read, a helper on the logged model beside an implementer on another, a null
count, a file saved as UTF-16, a response's lines written over seconds. Each is counted where it
belongs, as a lower bound, or refused: never an exact low figure and YES."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import (
    Phase,
    YamlData,
    agent_result,
    assistant,
    decision,
    flat_ticket,
    run_phase,
    spawn_block,
    staged_ticket,
    usage,
    user,
    write_jsonl,
)

SONNET = "claude-sonnet-4-5-20250929"
#: Two worker sessions: R01's and R02's.
S1 = "1f0c2b7e-3a41-4c55-9d2e-7b1a0c6e5d01"
S2 = "2e9d4c8a-6b52-4f13-8a7c-5d3e2f1b9c02"


def _not_yes(pytester: pytest.Pytester, result: pytest.RunResult) -> None:
    """The run did not exit 0, and its report (when one was written: a fix may refuse the data
    as an error instead) does not say YES."""
    assert result.ret != 0, result.stdout.str()
    if (pytester.path / "r.json").exists():
        assert decision(pytester) != "YES", result.stdout.str()


def _r02_over_its_cap(pytester: pytest.Pytester, result: pytest.RunResult) -> None:
    """R02 is measured with its own 50,000 tokens (and R01 without them): NO, its cap failing."""
    out = result.stdout.str()
    assert result.ret == 1, out
    assert decision(pytester) == "NO", out
    assert "cap[R02]: tokens 50,10" in out, out
    assert "R01 (whole session)  20,000       1,10" in out, out


def _estimated() -> YamlData:
    """A finished Sonnet ticket whose log gives only an estimate (20,000): measured alone."""
    ticket = flat_ticket(estimated_tokens=20_000)
    del ticket["actual_tokens"]
    return ticket


def _two_workers(pytester: pytest.Pytester) -> Phase:
    """Phase m1 of tickets R01 and R02 (estimates only), R02's tokens capped at 20,000."""
    cap = {
        "id": "cap",
        "for_each": "ticket",
        "where": {"tickets": ["R02"]},
        "metric": "tokens",
        "measure": "total",
        "max": 20_000,
    }
    phase = Phase.of("m1", [cap], {"R01": _estimated(), "R02": _estimated()})
    phase.write(pytester.path)
    return phase


def _worker(session: str, ticket: str, n: str, *extra: dict[str, Any]) -> list[dict[str, Any]]:
    """A worker session's lines: its first prompt ``Implement <ticket>``, one call of its own
    (message ``msg_<n>L``), then ``extra``."""
    own = assistant(f"msg_{n}L", f"req_{n}L", model=SONNET, session=session)
    return [user(f"Implement {ticket}", session=session), own, *extra]


def _agent_call(session: str, agent: str, tokens: int, n: str) -> dict[str, Any]:
    """Sub-agent ``agent``'s one call (its final line) reading ``tokens`` input tokens."""
    u = usage(inp=tokens, out=100)
    return assistant(
        f"msg_{n}", f"req_{n}", model=SONNET, u=u, session=session, agent_id=agent, final=True
    )


def _spawn(session: str, tool_use: str, agent: str, tokens: int, n: str) -> list[dict[str, Any]]:
    """A Task call ("Run the tests", naming no ticket) and its result, whose toolUseResult
    records the agent's one call (no tool use: that call is all it made)."""
    task = spawn_block(tool_use, description="Run the tests", prompt="Run the test suite")
    spawn = assistant(f"msg_{n}T", f"req_{n}T", model=SONNET, session=session, content=[task])
    done = agent_result(tool_use, agent, usage(inp=tokens, out=100), session=session, tool_uses=0)
    return [spawn, done]


# -- sub-agents and side questions of several sessions ----------------------------------------


def test_a_sub_agent_id_two_sessions_use_keeps_each_sessions_calls(
    pytester: pytest.Pytester,
) -> None:
    """Claude Code names a sub-agent by a short id (7 hex digits in the 2.1.3x builds, e.g.
    ``aac57f5``) unique within its session, not across sessions: R01's and R02's worker
    sessions each spawned a sub-agent a1b2c3d, each file in its own session's subagents/."""
    home = _two_workers(pytester).transcripts(pytester.path)
    for session, ticket, tool_use, tokens, n in (
        (S1, "R01", "toolu_01A", 1_000, "1"),
        (S2, "R02", "toolu_02B", 50_000, "2"),
    ):
        home.session(
            _worker(session, ticket, n, *_spawn(session, tool_use, "a1b2c3d", tokens, n)),
            session=session,
        )
        home.subagent("a1b2c3d", [_agent_call(session, "a1b2c3d", tokens, n)], session=session)
    result = run_phase(pytester, "m1")
    _r02_over_its_cap(pytester, result)


def _side_question(session: str, tokens: int, n: str) -> dict[str, Any]:
    """A side question's response in a main session's file (``/btw``: a sidechain line of no
    agent, a message of its own, leading to no Task)."""
    line = assistant(
        f"msg_{n}", f"req_{n}", model=SONNET, u=usage(inp=tokens, out=100), session=session
    )
    line["isSidechain"] = True
    line["uuid"] = f"5b1c0e2a-0000-4000-8000-00000000000{n}"
    return line


def test_a_side_question_of_one_worker_is_not_given_to_another(
    pytester: pytest.Pytester,
) -> None:
    home = _two_workers(pytester).transcripts(pytester.path)
    for session, ticket, tokens, n in ((S1, "R01", 1_000, "1"), (S2, "R02", 50_000, "2")):
        home.session(
            _worker(session, ticket, n, _side_question(session, tokens, n)), session=session
        )
    result = run_phase(pytester, "m1")
    _r02_over_its_cap(pytester, result)


def test_a_sub_agent_whose_lines_name_another_session_stays_with_its_spawner(
    pytester: pytest.Pytester,
) -> None:
    home = _two_workers(pytester).transcripts(pytester.path)
    for session, ticket, tool_use, agent, tokens, n in (
        (S1, "R01", "toolu_01A", "a1111111", 1_000, "1"),
        (S2, "R02", "toolu_02B", "a2222222", 50_000, "2"),
    ):
        home.session(
            _worker(session, ticket, n, *_spawn(session, tool_use, agent, tokens, n)),
            session=session,
        )
        # R02's agent's lines carry R01's session id.
        home.subagent(agent, [_agent_call(S1, agent, tokens, n)], session=session)
    result = run_phase(pytester, "m1")
    # Placed by the session whose folder holds its file (whose Task spawned it), and said.
    _r02_over_its_cap(pytester, result)
    result.stdout.fnmatch_lines(
        [
            f"*agent-a2222222.jsonl: the lines of this sub-agent file name session {S1}, but it "
            f"is in the folder of session {S2}, which spawned it*"
        ]
    )


BACKGROUND = "a70eebf64f6caa954"


def test_a_background_agent_in_no_file_read_leaves_a_lower_bound(
    pytester: pytest.Pytester,
) -> None:
    """As Claude Code 2.1.2xx writes it (the real BookMinder session): an Agent call with
    run_in_background, its `async_launched` result (no usage: the agent runs on), and later
    its <task-notification>; the agent's own calls are only in its subagents/ file."""
    cap = {"id": "cap", "for_each": "ticket", "metric": "tokens", "measure": "total", "max": 20_000}
    phase = Phase.of("m1", [cap], {"R01": _estimated()})
    phase.write(pytester.path)
    spawn = spawn_block("toolu_BG", name="Agent", description="Run the test suite", model=None)
    spawn["input"]["run_in_background"] = True
    launched = user("", session=S1)
    launched["message"]["content"] = [
        {
            "tool_use_id": "toolu_BG",
            "type": "tool_result",
            "content": [{"type": "text", "text": "Async agent launched successfully."}],
        }
    ]
    launched["toolUseResult"] = {
        "isAsync": True,
        "status": "async_launched",
        "agentId": BACKGROUND,
        "description": "Run the test suite",
        "resolvedModel": SONNET,
        "outputFile": f"/tmp/claude-0/tasks/{BACKGROUND}.output",
    }
    notice = user(
        f"<task-notification>\n<task-id>{BACKGROUND}</task-id>\n"
        "<tool-use-id>toolu_BG</tool-use-id>\n<status>completed</status>\n"
        '<summary>Agent "Run the test suite" completed</summary>\n</task-notification>',
        session=S1,
    )
    lines = [
        user("Implement R01", session=S1),
        assistant("msg_1", "req_1", model=SONNET, u=usage(inp=1_000, out=100), content=[spawn]),
        launched,
        notice,
        assistant("msg_2", "req_2", model=SONNET, u=usage(inp=1_000, out=100)),
    ]
    for line in lines:
        line["sessionId"] = S1
    phase.transcripts(pytester.path).session(lines, session=S1)
    result = run_phase(pytester, "m1")
    _not_yes(pytester, result)
    result.stdout.fnmatch_lines(
        [
            "*cap[[]R01[]]: tokens at least 2,200: a lower bound cannot prove max 20,000: 1 "
            "background sub-agent(s) none of whose calls is in any file read*",
            f"*sub-agent {BACKGROUND}: it ran in the background and none of its "
            "calls is in any file read*",
        ]
    )


# -- models within a ticket ---------------------------------------------------------------------

HAIKU = "claude-haiku-4-5-20251001"


def test_a_helper_on_the_logged_model_does_not_make_the_implementer_that_model(
    pytester: pytest.Pytester,
) -> None:
    """R01's worker session ran on Sonnet throughout (the team did not switch its model) and
    spawned one Explore sub-agent, which Claude Code runs on Haiku (as in the real 2.1.39
    files: Task->Explore on claude-haiku-4-5)."""
    rate = {"id": "rate", "metric": "success_rate", "model": "haiku", "min": "60%"}
    ticket = _estimated()
    ticket.update(execution_model="haiku", complexity="mechanical")
    phase = Phase.of("m1", [{**rate, "rule": "point"}], {"R01": ticket})
    phase.write(pytester.path)
    home = phase.transcripts(pytester.path)
    explore = spawn_block(
        "toolu_01E",
        description="Explore the parser module",
        prompt="Find where the parser reads its input",
        subagent_type="Explore",
        model=None,
    )
    helper = usage(inp=2_000, out=100)
    lines = [
        user("Implement R01", session=S1),
        assistant("msg_1", "req_1", model=SONNET, u=usage(inp=20_000, out=800), content=[explore]),
        agent_result("toolu_01E", "a3e5f7a", helper, session=S1, tool_uses=0),
        assistant("msg_2", "req_2", model=SONNET, u=usage(inp=25_000, out=3_000)),
    ]
    for line in lines:
        line["sessionId"] = S1
    home.session(lines, session=S1)
    call = assistant(
        "msg_3", "req_3", model=HAIKU, u=helper, session=S1, agent_id="a3e5f7a", final=True
    )
    home.subagent("a3e5f7a", [call], session=S1)
    result = run_phase(pytester, "m1")
    _not_yes(pytester, result)
    result.stdout.fnmatch_lines(
        [
            "*execution-log.yaml:*: tickets.R01.execution_model: ticket R01 is logged as "
            "executed on 'haiku', but none of its measured implementer's calls (its sessions' "
            f"own, outside its review) is: they are {SONNET} (its other calls, on {HAIKU}, "
            "are its helpers' or another stage's)*"
        ]
    )


# -- what a line records ------------------------------------------------------------------------


def test_a_null_input_count_is_not_read_as_zero(pytester: pytest.Pytester) -> None:
    cap = {"id": "cap", "for_each": "ticket", "metric": "tokens", "measure": "total", "max": 20_000}
    phase = Phase.of("m1", [cap], {"R01": _estimated()})
    phase.write(pytester.path)
    call = assistant("msg_1", "req_1", model=SONNET, u=usage(inp=50_000, out=100), session=S1)
    call["message"]["usage"]["input_tokens"] = None
    phase.transcripts(pytester.path).session([user("Implement R01", session=S1), call], session=S1)
    result = run_phase(pytester, "m1")
    _not_yes(pytester, result)


def test_a_session_file_saved_as_utf16_is_not_dropped(pytester: pytest.Pytester) -> None:
    """R01's work is in two sessions: the first (1,100 tokens) as Claude Code wrote it, the
    second (50,100 tokens) copied on Windows into UTF-16 with its byte order mark."""
    cap = {"id": "cap", "for_each": "ticket", "metric": "tokens", "measure": "total", "max": 20_000}
    phase = Phase.of("m1", [cap], {"R01": _estimated()})
    phase.write(pytester.path)
    home = phase.transcripts(pytester.path)
    for session, tokens, n in ((S1, 1_000, "1"), (S2, 50_000, "2")):
        call = assistant(f"msg_{n}", f"req_{n}", model=SONNET, u=usage(inp=tokens, out=100))
        call["sessionId"] = session
        path = home.session([user("Implement R01", session=session), call], session=session)
    path.write_bytes(path.read_text().encode("utf-16"))
    result = run_phase(pytester, "m1")
    _not_yes(pytester, result)
    # Its figures are lower bounds, the file named with its encoding (UTF-8 expected).
    assert decision(pytester) == "NO"
    result.stdout.fnmatch_lines(["*2e9d4c8a*.jsonl:1: the file is encoded as UTF-16*UTF-8*"])


# -- time ---------------------------------------------------------------------------------------


def test_a_responses_last_line_ends_the_wall_time(pytester: pytest.Pytester) -> None:
    """Claude Code writes one response as several lines, each when its block is done: real
    2.1.3x files hold responses whose lines span 60 to 82 seconds."""
    ticket = staged_ticket(
        {
            "actual_tokens": 5_000,
            "status": "completed",
            "start_time": "2026-02-07T10:00:00Z",
            "end_time": "2026-02-07T10:29:00Z",
        }
    )
    ticket["branch_creation"]["status"] = "skipped"
    ticket["review"] = {"model": "sonnet", "status": "skipped"}
    wall = {"id": "wall", "metric": "wall_time_minutes", "max": 30}
    sessions = [{"path": "t01.jsonl", "ticket": "T01"}]
    metadata = {"phase": "p1", "tickets": ["T01"], "sessions": sessions}
    folder = Phase.of("p1", [wall], {"T01": ticket}, metadata=metadata).write(pytester.path)
    early = assistant("m1", "q1", model=SONNET, u=usage(inp=10, out=5), ts="2026-02-07T10:00:05Z")
    u = usage(inp=10, out=1)
    first = assistant("m2", "q2", model=SONNET, u=u, ts="2026-02-07T10:29:10Z", final=False)
    last = assistant(
        "m2", "q2", model=SONNET, u=usage(inp=10, out=900), ts="2026-02-07T10:30:30Z", final=True
    )
    write_jsonl(folder / "t01.jsonl", [early, first, last])
    result = run_phase(pytester, "p1")
    _not_yes(pytester, result)
    # The wall time runs to the response's last line: 10:00:00 to 10:30:30, exactly.
    assert decision(pytester) == "NO"
    result.stdout.fnmatch_lines(["*wall_time_minutes 30.5 min > max 30*"])

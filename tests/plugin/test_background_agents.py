"""A background sub-agent (``run_in_background``) whose calls are in no file read (its
``subagents/`` file not copied): its launch result and its completion notice carry no usage, so
its work is in no figure, and every figure of the place it is counted in is only a lower bound,
which proves no max; where that place is no ticket's (unattributed), the tickets' own usage
cannot be told from it."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import (
    Phase,
    assert_not_yes,
    assistant,
    flat_ticket,
    run_phase,
    spawn_block,
    usage,
    user,
)

SONNET = "claude-sonnet-4-5-20250929"
LEAD = "4d1e2f3a-5b6c-4d7e-8f90-a1b2c3d4e5f6"
AGENT = "a70eebf64f6caa954"


def _lead_with_background_agent() -> list[dict[str, Any]]:
    """The lead session: it plans (1,000 tokens), launches AGENT in the background, and is
    told it completed."""
    spawn = spawn_block("toolu_BG", name="Agent", description="Survey the code", model=None)
    spawn["input"]["run_in_background"] = True
    launched = user("", session=LEAD)
    launched["message"]["content"] = [
        {"tool_use_id": "toolu_BG", "type": "tool_result", "content": "launched"}
    ]
    launched["toolUseResult"] = {"status": "async_launched", "agentId": AGENT}
    notice = user(
        f"<task-notification>\n<task-id>{AGENT}</task-id>\n<status>completed</status>\n"
        "</task-notification>",
        session=LEAD,
    )
    u = usage(inp=1_000, out=100)
    plan = assistant("msg_1", "req_1", model=SONNET, u=u, session=LEAD, content=[spawn])
    return [user("Plan the batch", session=LEAD), plan, launched, notice]


def test_an_unplaced_background_agent_in_no_file_read_is_unattributed_usage(
    pytester: pytest.Pytester,
) -> None:
    cap = {"id": "phase-cap", "metric": "tokens", "measure": "total", "max": 100_000}
    # The one session is the lead; nothing places its agent: its usage, all unread, is no
    # ticket's, so R01's own (the log's 20,000) cannot be told from it.
    phase = Phase.of("m1", [cap], {"R01": flat_ticket(actual_tokens=20_000)})
    phase.write(pytester.path)
    phase.transcripts(pytester.path).session(_lead_with_background_agent(), session=LEAD)
    result = run_phase(pytester, "m1")
    assert_not_yes(pytester, result)
    result.stdout.fnmatch_lines(
        [
            "phase-cap: tokens: cannot be evaluated: ticket R01 has no measured usage while "
            f"{AGENT} (Survey the code) could not be attributed*",
            "unattributed                  ≥ 0 *",
        ]
    )

"""The stage a sub-agent's Task description names (README "Measured usage", rule 5): its leading
verb decides; several stages named with none leading leave the stage unknown, never guessed, and
so does a leading verb that is no stage word (never a noun after it)."""

from __future__ import annotations

import pytest

from tests.helpers import (
    Phase,
    agent_result,
    assistant,
    decision,
    read_report,
    run_phase,
    spawn_block,
    usage,
    user,
)

LEAD = "11111111-0000-0000-0000-000000000001"
SONNET = "claude-sonnet-4-5-20250929"  # the model R01 is logged on


def _phase(pytester: pytest.Pytester, second: str, cap: str) -> pytest.RunResult:
    """R01's two sub-agents: "R01: implement the parser" (10,010 tokens) and ``second``
    (30,010); the criterion caps R01's implementation stage at ``cap``."""
    ticket = {
        "execution_model": "sonnet",
        "fix_loops": 0,
        "review": {"result": "PASS", "attempts": 1, "estimated_tokens": 100},
        "branch_creation": {"estimated_tokens": 1_000, "status": "completed"},
        "implementation": {"estimated_tokens": 20_000, "status": "completed"},
    }
    impl = {
        "id": "impl",
        "for_each": "ticket",
        "metric": "stage_tokens",
        "stage": "implementation",
        "measure": "total",
        "max": cap,
    }
    phase = Phase.of("w1", [impl], {"R01": ticket})
    phase.write(pytester.path)
    home = phase.transcripts(pytester.path)
    parser, other = usage(inp=10, out=0, cw=10_000), usage(inp=10, out=0, cw=30_000)
    for agent, u in (("a1", parser), ("a2", other)):
        line = assistant(
            f"m_{agent}", f"q_{agent}", agent_id=agent, session=LEAD, u=u, model=SONNET
        )
        home.subagent(agent, [line], session=LEAD)
    spawns = [
        spawn_block("t1", description="R01: implement the parser"),
        spawn_block("t2", description=second),
    ]
    home.session(
        [
            user("Plan the batch", session=LEAD),
            assistant("m_l", "q_l", session=LEAD, u=usage(inp=0, out=0, cw=1_000), content=spawns),
            agent_result("t1", "a1", parser, session=LEAD),
            agent_result("t2", "a2", other, session=LEAD),
        ],
        session=LEAD,
    )
    return run_phase(pytester, "w1")


def test_an_implementation_task_naming_a_branch_is_implementation(
    pytester: pytest.Pytester,
) -> None:
    """yes-hunt5: "R01: implement branch coverage reporting" went to branch_creation (the word
    "branch"), so R01's implementation read 10,010, exact, under `max 20k`: YES, though the
    implementation used 40,020. Its leading verb names implementation: 40,020, NO."""
    result = _phase(pytester, "R01: implement branch coverage reporting", "20k")
    assert (decision(pytester), result.ret) == ("NO", 1), result.stdout.str()
    result.stdout.fnmatch_lines(["*impl*R01*40,020*FAIL*"])
    result = _phase(pytester, "R01: implement branch coverage reporting", "50k")
    assert (decision(pytester), result.ret) == ("YES", 0), result.stdout.str()


def test_a_task_naming_several_stages_leaves_its_ticket_stages_lower_bounds(
    pytester: pytest.Pytester,
) -> None:
    """ "R01: coverage for the branch and fix modules" names two stages, none leading: the
    sub-agent is R01's at a stage not known, so R01's stages are lower bounds ("at least
    10,010") and a `max` on one proves nothing, however high: not YES. The sub-agent says why."""
    result = _phase(pytester, "R01: coverage for the branch and fix modules", "500k")
    assert decision(pytester) != "YES", result.stdout.str()
    assert result.ret == 1
    agents = read_report(pytester.path)["usage"]["agents"]
    a2 = next(a for a in agents if a["agent_id"] == "a2")
    assert (a2["ticket"], a2["stage"]) == ("R01", None), a2
    assert "names several stages" in a2["how"], a2


def test_the_usage_table_marks_stages_a_sub_agent_of_unknown_stage_may_belong_to(
    pytester: pytest.Pytester,
) -> None:
    """review23: a sub-agent of R01 at a stage not known is shown as R01's usage of no stage,
    with no estimate (not as R01's "whole session" against the whole ticket's estimate); each
    stage's figure is a lower bound (its error an upper bound), and R01 in all is compared with
    its estimate."""
    result = _phase(pytester, "R01: coverage for the branch and fix modules", "500k")
    table = result.stdout.str().split("Measured usage", 1)[1].split("Break-even", 1)[0]
    assert "whole session" not in table, table
    rows = {line.split("  ")[0].strip(): line for line in table.splitlines() if "R01" in line}
    assert rows["R01 implementation"].split()[2:5] == ["20,000", "≥", "10,010"], table
    assert "≤ +100%" in rows["R01 implementation"], table
    assert rows["R01 (no stage)"].split()[3:] == ["30,010", "$0.1125"], table
    assert rows["R01 in all"].split()[3:7] == ["21,100", "40,020", "-47%", "$0.1501"], table


@pytest.mark.parametrize(
    "description",
    [
        "R01: add branch coverage reporting",
        "R01: Implementation of branch coverage reporting",
        "R01 branch coverage reporting",
    ],
)
def test_an_unmapped_task_whose_verb_is_no_stage_word_is_not_placed_by_a_noun(
    pytester: pytest.Pytester, description: str
) -> None:
    result = _phase(pytester, description, "20k")
    assert decision(pytester) != "YES", result.stdout.str()
    assert result.ret == 1

"""Attribution of measured usage to tickets: a worker session is never taken for the lead, a
measured ticket whose mapped sub-agent is missing from the transcripts is only a lower bound, and
a ticket's figures do not leave out the usage no rule attributes (repros of the third adversarial
round, then their siblings). Nor do the shared planning's figures: the usage no rule places may
be the planning's (an upper bound of it), and the break-even (report, `orchphase breakeven`) is
the later of its two readings, never when it may be the tickets' own; the dashboard shows a
ticket's figure as its criteria see it."""

from __future__ import annotations

import json

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
    write_jsonl,
)


def test_a_worker_session_naming_its_ticket_is_not_taken_for_the_lead(
    pytester: pytest.Pytester,
) -> None:
    """A phase run without a lead: two worker sessions, each started with `Implement R0x`,
    dropped into transcripts/. R01's worker made 100,000 tokens of its own calls and had its
    work reviewed by a sub-agent (5,010); R02's made 30,000 and spawned nothing. Being "the
    only main session that spawned sub-agents", R01's worker is taken for the lead: its
    100,000 tokens become shared planning, and R01 is counted as its reviewer alone (5,010),
    measured, with no mark, under its 50k cap. A session whose first prompt names exactly one
    of the phase's tickets is that ticket's worker; it cannot be the batch's planning."""

    w1 = "22222222-0000-0000-0000-000000000002"
    w2 = "33333333-0000-0000-0000-000000000003"
    phase = Phase.of(
        "w1",
        [{"id": "cap", "for_each": "ticket", "metric": "tokens", "measure": "total", "max": "50k"}],
        {
            "R01": {"implementation": {"estimated_tokens": 20_000}},
            "R02": {"implementation": {"estimated_tokens": 20_000}},
        },
    )
    phase.write(pytester.path)
    home: ClaudeHome = phase.transcripts(pytester.path)
    review = usage(inp=10, out=0, cw=5000)
    home.subagent(
        "a1", [assistant("m_a1", "q_a1", agent_id="a1", session=w1, u=review)], session=w1
    )
    home.session(
        [
            user("Implement R01: the export button", session=w1),
            assistant(
                "m_w1",
                "q_w1",
                session=w1,
                u=usage(inp=0, out=0, cw=100_000),
                content=[spawn_block("t1", description="Review R01 export button")],
            ),
            agent_result("t1", "a1", review, session=w1),
        ],
        session=w1,
    )
    home.session(
        [
            user("Implement R02: the import button", session=w2),
            assistant("m_w2", "q_w2", session=w2, u=usage(inp=0, out=0, cw=30_000)),
        ],
        session=w2,
    )
    result = pytester.runpytest("--phase", "w1", "--orchphase-json", "r.json", "-p", "no:randomly")
    report = json.loads((pytester.path / "r.json").read_text())
    assert report["decisions"]["proceed"]["answer"] != "YES", result.stdout.str()
    assert result.ret != 0
    result.stdout.fnmatch_lines(["cap[[]R01[]]: tokens 105,010 > max 50,000*"])
    roles = {s["session_id"]: (s["role"], s["ticket"]) for s in report["usage"]["sessions"]}
    assert roles == {w1: ("ticket", "R01"), w2: ("ticket", "R02")}


def test_the_only_main_session_naming_one_ticket_is_not_taken_for_the_lead(
    pytester: pytest.Pytester,
) -> None:
    """The sibling through "the only main session": R02's worker is named with `ticket: R02`,
    R01's worker (100,000 tokens, first prompt `Implement R01`) is left to its first prompt.
    Being the only main session left, it is taken for the lead: R01's 100,000 tokens become
    shared planning and R01 is counted from its 20,000 estimate, under its 50k cap (the
    decision says YES, noting only that R01 is estimated)."""

    w1 = "22222222-0000-0000-0000-000000000002"
    w2 = "33333333-0000-0000-0000-000000000003"
    phase = Phase.of(
        "w2",
        [{"id": "cap", "for_each": "ticket", "metric": "tokens", "measure": "total", "max": "50k"}],
        {
            "R01": {"implementation": {"estimated_tokens": 20_000}},
            "R02": {"implementation": {"estimated_tokens": 20_000}},
        },
        metadata={
            "phase": "w2",
            "tickets": ["R01", "R02"],
            "sessions": [
                {"path": "runs/w1.jsonl"},
                {"path": "runs/w2.jsonl", "ticket": "R02"},
            ],
        },
    )
    runs = phase.write(pytester.path) / "runs"
    write_jsonl(
        runs / "w1.jsonl",
        [
            user("Implement R01: the export button", session=w1),
            assistant("m_w1", "q_w1", session=w1, u=usage(inp=0, out=0, cw=100_000)),
        ],
    )
    write_jsonl(
        runs / "w2.jsonl",
        [
            user("Implement R02: the import button", session=w2),
            assistant("m_w2", "q_w2", session=w2, u=usage(inp=0, out=0, cw=30_000)),
        ],
    )
    result = pytester.runpytest("--phase", "w2", "--orchphase-json", "r.json", "-p", "no:randomly")
    report = json.loads((pytester.path / "r.json").read_text())
    assert report["decisions"]["proceed"]["answer"] != "YES", result.stdout.str()
    assert result.ret != 0
    result.stdout.fnmatch_lines(["cap[[]R01[]]: tokens 100,000 > max 50,000*"])
    (session,) = report["usage"]["sessions"]
    assert (session["role"], session["ticket"]) == ("ticket", "R01")


LEAD = "11111111-0000-0000-0000-000000000001"
WORKER = "22222222-0000-0000-0000-000000000002"


def _lead_and_worker(pytester: pytest.Pytester, lead_prompt: str, cap: str) -> ClaudeHome:
    """Phase l1 (R01, R02 capped at ``cap`` each): a lead session (``lead_prompt``, 10,010 of
    its own) spawning R02's implementer (20,005), and R01's worker session (`Implement R01`,
    30,000 of its own) spawning a reviewer whose Task names no ticket (5,010)."""
    phase = Phase.of(
        "l1",
        [{"id": "cap", "for_each": "ticket", "metric": "tokens", "measure": "total", "max": cap}],
        {
            "R01": {"implementation": {"estimated_tokens": 20_000}},
            "R02": {"implementation": {"estimated_tokens": 20_000}},
        },
        planning={"estimated_tokens": 5_000},
    )
    phase.write(pytester.path)
    home = phase.transcripts(pytester.path)
    impl, review = usage(inp=5, out=0, cw=20_000), usage(inp=10, out=0, cw=5_000)
    home.subagent("a2", [assistant("m_a2", "q_a2", agent_id="a2", session=LEAD, u=impl)], LEAD)
    home.session(
        [
            user(lead_prompt, session=LEAD),
            assistant(
                "m_l",
                "q_l",
                session=LEAD,
                u=usage(inp=10, out=0, cw=10_000),
                content=[spawn_block("t2", description="R02: the import button")],
            ),
            agent_result("t2", "a2", impl, session=LEAD),
        ],
        session=LEAD,
    )
    home.subagent(
        "a1", [assistant("m_a1", "q_a1", agent_id="a1", session=WORKER, u=review)], WORKER
    )
    home.session(
        [
            user("Implement R01: the export button", session=WORKER),
            assistant(
                "m_w",
                "q_w",
                session=WORKER,
                u=usage(inp=0, out=0, cw=30_000),
                content=[spawn_block("t1", description="Check the work")],
            ),
            agent_result("t1", "a1", review, session=WORKER),
        ],
        session=WORKER,
    )
    return home


@pytest.mark.parametrize("lead_prompt", ["Plan the batch: R01 and R02", "Plan the batch"])
def test_the_lead_is_told_apart_from_a_worker_that_spawned_sub_agents_too(
    pytester: pytest.Pytester, lead_prompt: str
) -> None:
    """Both main sessions spawned sub-agents, so before the fix neither was told apart for the
    lead (shared planning unknown, every item failed); R01's worker names its ticket, so the
    other one is the lead: the phase passes on its measured figures (no over-correction)."""
    _lead_and_worker(pytester, lead_prompt, "40k")
    result = pytester.runpytest("--phase", "l1", "--orchphase-json", "r.json")
    report = read_report(pytester.path)
    assert result.ret == 0, result.stdout.str()
    assert report["decisions"]["proceed"]["answer"] == "YES"
    roles = {
        s["session_id"]: (s["role"], s["ticket"], s["how"]) for s in report["usage"]["sessions"]
    }
    assert roles == {
        LEAD: (
            "lead",
            None,
            "the only main session that spawned sub-agents but the tickets' workers",
        ),
        WORKER: ("ticket", "R01", "ticket id in its first prompt"),
    }
    assert report["usage"]["shared_planning"]["total"] == 10_010
    assert report["usage"]["tickets"]["R01"]["total"]["total"] == 35_010


def test_each_sub_agent_is_placed_by_its_task_else_by_the_worker_that_spawned_it(
    pytester: pytest.Pytester,
) -> None:
    """The report says where each sub-agent went and why: the lead's a2 names R02 in its Task
    description (implementation); a1's Task names no ticket, and R01's worker session spawned
    it, so it is R01's, at no stage."""
    _lead_and_worker(pytester, "Plan the batch", "40k")
    pytester.runpytest("--phase", "l1", "--orchphase-json", "r.json")
    agents = {
        a["agent_id"]: (a["ticket"], a["stage"], a["how"])
        for a in read_report(pytester.path)["usage"]["agents"]
    }
    assert agents == {
        "a2": ("R02", "implementation", "ticket id in Task description"),
        "a1": ("R01", None, "spawned by R01's worker session"),
    }


def test_a_worker_that_spawned_sub_agents_beside_the_lead_still_fails_its_cap(
    pytester: pytest.Pytester,
) -> None:
    """The same phase with a 30k cap: R01's worker and its reviewer (35,010) fail it."""
    _lead_and_worker(pytester, "Plan the batch", "30k")
    result = pytester.runpytest("--phase", "l1")
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        ["cap[[]R01[]]: tokens 35,010 > max 30,000*", "Proceed to phase l2: NO*"]
    )


def test_a_lead_named_in_metadata_is_the_lead_whatever_its_first_prompt_names(
    pytester: pytest.Pytester,
) -> None:
    """`lead: true` wins over the first prompt: a lead that started with `Implement R01` (the
    batch's first ticket) named as the lead is shared planning, not R01's worker."""
    home = _lead_and_worker(pytester, "Start the batch with R01", "40k")
    path = home.project / f"{LEAD}.jsonl"
    meta = pytester.path / "docs/orchestration-data/phase-l1/metadata.yaml"
    meta.write_text(meta.read_text() + f"sessions:\n  - {{path: {path}, lead: true}}\n")
    result = pytester.runpytest("--phase", "l1", "--orchphase-json", "r.json")
    report = read_report(pytester.path)
    roles = {s["session_id"]: s["role"] for s in report["usage"]["sessions"]}
    assert roles == {LEAD: "lead", WORKER: "ticket"}, result.stdout.str()
    assert report["usage"]["shared_planning"]["total"] == 10_010


def _reviewed_phase(
    pytester: pytest.Pytester,
    review: dict[str, object],
    *,
    reviewer: bool = False,
    planning_agents: list[str] | None = None,
) -> None:
    """Phase r1: R01 capped at 40k (and the phase at 100k), its implementation and its review
    stage ``review`` (estimated 30,000, completed, PASS unless ``review`` says otherwise); the
    lead (5,010, named) spawning R01's implementer a1 (10,010) and, with ``reviewer``, a
    reviewer a9 (20,010, "Review the export button")."""
    cap = {"metric": "tokens", "measure": "total"}
    planning: dict[str, object] = {"estimated_tokens": 5_000}
    if planning_agents:
        planning["agents"] = {"agent_ids": planning_agents}
    phase = Phase.of(
        "r1",
        [
            {"id": "cap", "for_each": "ticket", **cap, "max": "40k"},
            {"id": "phase-cap", **cap, "max": "100k"},
        ],
        {
            "R01": {
                "implementation": {"estimated_tokens": 12_000, "status": "completed"},
                "review": {
                    "estimated_tokens": 30_000,
                    "status": "completed",
                    "result": "PASS",
                    **review,
                },
            }
        },
        planning=planning,
        metadata={
            "phase": "r1",
            "tickets": ["R01"],
            "sessions": [{"path": "runs/lead.jsonl", "lead": True}],
        },
    )
    runs = phase.write(pytester.path) / "runs"
    impl, rev = usage(inp=10, out=0, cw=10_000), usage(inp=10, out=0, cw=20_000)
    write_jsonl(
        runs / "lead" / "subagents" / "agent-a1.jsonl",
        [assistant("m_a1", "q_a1", agent_id="a1", session=LEAD, u=impl)],
    )
    spawns = [spawn_block("t1", description="R01: implement the export button")]
    results = [agent_result("t1", "a1", impl, session=LEAD)]
    if reviewer:
        write_jsonl(
            runs / "lead" / "subagents" / "agent-a9.jsonl",
            [assistant("m_a9", "q_a9", agent_id="a9", session=LEAD, u=rev)],
        )
        spawns.append(spawn_block("t9", description="Review the export button"))
        results.append(agent_result("t9", "a9", rev, session=LEAD))
    write_jsonl(
        runs / "lead.jsonl",
        [
            user("Plan R01", session=LEAD),
            assistant("m_l", "q_l", session=LEAD, u=usage(inp=10, out=0, cw=5_000), content=spawns),
            *results,
        ],
    )


def test_a_measured_ticket_whose_logged_stage_was_not_measured_is_not_counted_without_it(
    pytester: pytest.Pytester,
) -> None:
    """R01's log says its review ran (status completed, estimated 30,000) and names the
    reviewer `agents.agent_ids: [a9]`; the transcripts hold R01's implementer (a1, 10,010) but
    no a9 (its file was not copied, or the id is mistyped). A ticket with any measured usage is
    counted from measurement alone, so R01 is 10,010, measured, no mark, under its 40k cap: its
    review's tokens are simply gone. `stage_tokens` already calls such a stage unknown ("a
    stage of such a ticket with no measured usage is unknown"); the ticket's total that leaves
    it out must be unknown too, never a pass."""
    _reviewed_phase(pytester, {"agents": {"agent_ids": ["a9"]}})
    result = pytester.runpytest("--phase", "r1", "--orchphase-json", "r.json", "-p", "no:randomly")
    report = json.loads((pytester.path / "r.json").read_text())
    assert report["decisions"]["proceed"]["answer"] != "YES", result.stdout.str()
    assert result.ret != 0
    result.stdout.fnmatch_lines(
        [
            "cap[[]R01[]]: tokens at least 10,010: a lower bound cannot prove max 40,000: ticket "
            "R01 is measured without some of its work: its review stage ran with sub-agent(s) a9 "
            "(agents.agent_ids) that no transcript holds*",
            "phase-cap: tokens at least 15,020: a lower bound cannot prove max 100,000*",
        ]
    )


def test_a_stage_whose_pattern_matches_no_sub_agent_leaves_its_ticket_a_lower_bound(
    pytester: pytest.Pytester,
) -> None:
    """The sibling through `description_pattern`: the review names its sub-agents by a pattern
    that no sub-agent's Task description matches (the reviewer was never copied, or the pattern
    is wrong): R01's 10,010 leaves its review out, and can prove no cap."""
    _reviewed_phase(pytester, {"agents": {"description_pattern": "^Review R01"}})
    result = pytester.runpytest("--phase", "r1")
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [
            "cap[[]R01[]]: tokens at least 10,010: a lower bound cannot prove max 40,000: *its "
            "review stage ran with agents.description_pattern '^Review R01', which no sub-agent "
            "in the transcripts matches*",
        ]
    )


def test_shared_planning_whose_mapped_sub_agent_is_missing_is_a_lower_bound(
    pytester: pytest.Pytester,
) -> None:
    """Shared planning names a sub-agent of its own (a8) the transcripts do not hold: the
    lead's figure leaves it out, so the phase's tokens can prove no cap (R01's can: its work
    is all there)."""
    _reviewed_phase(
        pytester, {"agents": {"agent_ids": ["a9"]}}, reviewer=True, planning_agents=["a8"]
    )
    result = pytester.runpytest("--phase", "r1")
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [
            "phase-cap: tokens at least 35,030: a lower bound cannot prove max 100,000: shared "
            "planning is measured without some of its work: its shared_planning stage ran with "
            "sub-agent(s) a8 *",
            "Proceed to phase r2: NO — failing: phase-cap",
        ]
    )


@pytest.mark.parametrize(
    "review",
    [
        pytest.param({"agents": {"agent_ids": ["a9"]}}, id="agent_ids"),
        pytest.param({"agents": {"description_pattern": "^Review"}}, id="description_pattern"),
    ],
)
def test_a_ticket_whose_mapped_sub_agents_are_all_there_is_exact(
    pytester: pytest.Pytester, review: dict[str, object]
) -> None:
    """No over-correction: with the reviewer in the transcripts, R01 is 30,020, exact, and the
    phase passes."""
    _reviewed_phase(pytester, review, reviewer=True)
    result = pytester.runpytest("--phase", "r1", "--orchphase-json", "r.json")
    assert result.ret == 0, result.stdout.str()
    result.stdout.fnmatch_lines(["cap*R01*tokens*30,020*max*40,000*PASS"])
    assert read_report(pytester.path)["usage"]["tickets"]["R01"]["total"]["total"] == 30_020


def test_a_skipped_stage_naming_a_missing_sub_agent_leaves_its_ticket_exact(
    pytester: pytest.Pytester,
) -> None:
    """A stage that did not run (status skipped) names an agent no transcript holds: nothing
    of R01's is missing, and it passes on its measured 10,010."""
    _reviewed_phase(
        pytester, {"status": "skipped", "result": None, "agents": {"agent_ids": ["a9"]}}
    )
    result = pytester.runpytest("--phase", "r1")
    result.stdout.fnmatch_lines(["cap*R01*tokens*10,010*max*40,000*PASS"])


def _unplaced_phase(
    pytester: pytest.Pytester,
    criteria: list[dict[str, object]],
    *,
    tickets: tuple[str, ...] = ("R01",),
    unplaced: int | None = 80_000,
) -> None:
    """Phase s1 of ``tickets`` (R01, then R02), measured: the lead's own calls (5,010, named),
    R01's implementer (20,010), R02's (10,010), and a sub-agent no rule places ("Check
    versions", ``unplaced`` + 10: unattributed; None: no such sub-agent); baseline
    single_agent at 30k per ticket."""
    phase = Phase.of(
        "s1",
        criteria,
        {
            t: {"implementation": {"estimated_tokens": 20_000, "status": "completed"}}
            for t in tickets
        },
        planning={"estimated_tokens": 5_000},
        metadata={
            "phase": "s1",
            "tickets": list(tickets),
            "sessions": [{"path": "runs/lead.jsonl", "lead": True}],
        },
    )
    runs = phase.write(pytester.path) / "runs"
    (pytester.path / "criteria" / "baselines.yaml").write_text(
        "baselines:\n  single_agent: {tokens_per_ticket: 30000}\n"
    )
    agents = [
        ("a1", "R01: implement the export button", usage(inp=10, out=0, cw=20_000)),
        ("a2", "R02: implement the import button", usage(inp=10, out=0, cw=10_000)),
        ("a3", "Check versions", usage(inp=10, out=0, cw=unplaced or 0)),
    ]
    agents = [a for a in agents if a[0] != "a2" or "R02" in tickets]
    agents = [a for a in agents if a[0] != "a3" or unplaced is not None]
    for agent, _, u in agents:
        write_jsonl(
            runs / "lead" / "subagents" / f"agent-{agent}.jsonl",
            [assistant(f"m_{agent}", f"q_{agent}", agent_id=agent, session=LEAD, u=u)],
        )
    spawns = [spawn_block(f"t_{agent}", description=text) for agent, text, _ in agents]
    write_jsonl(
        runs / "lead.jsonl",
        [
            user("Plan the batch", session=LEAD),
            assistant("m_l", "q_l", session=LEAD, u=usage(inp=10, out=0, cw=5_000), content=spawns),
            *(agent_result(f"t_{agent}", agent, u, session=LEAD) for agent, _, u in agents),
        ],
    )


def _saves(operator: str = "min", limit: str = "10%") -> dict[str, object]:
    return {
        "id": "ticket-saves",
        "for_each": "ticket",
        "metric": "savings",
        "baseline": "single_agent",
        "measure": "total",
        operator: limit,
    }


def test_a_tickets_savings_does_not_leave_out_the_unattributed_usage(
    pytester: pytest.Pytester,
) -> None:
    """One ticket, measured: the lead's own calls (5,010), R01's implementer (20,010) and a
    sub-agent no rule places ("Check versions", 80,010: unattributed, counted in the phase's
    tokens, "never dropped"). Whoever's it is, it is this batch's cost: the phase's `savings`
    against single_agent (30k per ticket) is -250 %, and break-even counts it as overhead
    ("P the shared planning (plus any unattributed usage)"). The ticket's own `savings` is
    (30,000 − (20,010 + 5,010 / 1)) / 30,000 = 16.6 %: it leaves the 80,010 out, and
    "each ticket saves at least 10 % against a single agent" passes on a one-ticket batch that
    cost 3.5 times the single agent."""
    _unplaced_phase(pytester, [_saves()])
    result = pytester.runpytest("--phase", "s1", "--orchphase-json", "r.json", "-p", "no:randomly")
    report = json.loads((pytester.path / "r.json").read_text())
    assert report["usage"]["unattributed"], result.stdout.str()
    assert report["decisions"]["proceed"]["answer"] != "YES", result.stdout.str()
    assert result.ret != 0
    # one ticket: the unattributed usage is R01's or shared planning's, both in its figure
    result.stdout.fnmatch_lines(
        ["ticket-saves[[]R01[]]: savings[[]single_agent[]] -250.1% < min 10.0%*"]
    )


def test_a_tickets_savings_beside_other_tickets_counts_the_unattributed_usage_as_its_own(
    pytester: pytest.Pytester,
) -> None:
    """Two tickets: R01's own share is (30,000 − (20,010 + 5,010 / 2)) / 30,000 = 24.9 %, but
    the 80,010 no rule places may be R01's work: counted as its own, R01 saves at least
    −241.8 %, which proves no 10 % minimum."""
    _unplaced_phase(pytester, [_saves()], tickets=("R01", "R02"))
    result = pytester.runpytest("--phase", "s1")
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [
            "ticket-saves[[]R01[]]: savings[[]single_agent[]] at least -241.8%: *min 10.0%: the "
            "phase's unattributed usage (80,010) is counted as if it were all this ticket's*",
            "Proceed to phase s2: NO — failing: ticket-saves[[]R01[]], ticket-saves[[]R02[]]",
        ]
    )


def test_a_little_unattributed_usage_still_lets_the_tickets_pass(
    pytester: pytest.Pytester,
) -> None:
    """No over-correction: 110 tokens no rule places, counted as each ticket's own, leave R01
    and R02 under their caps and above their savings minimum: the phase passes."""
    cap: dict[str, object] = {
        "id": "cap",
        "for_each": "ticket",
        "metric": "tokens",
        "measure": "total",
        "max": "25k",
    }
    _unplaced_phase(pytester, [_saves(), cap], tickets=("R01", "R02"), unplaced=100)
    result = pytester.runpytest("--phase", "s1")
    assert result.ret == 0, result.stdout.str()
    result.stdout.fnmatch_lines(
        [
            "ticket-saves*R01*savings*at least 24.6%*min*10.0%*PASS",
            "cap*R01*tokens*at most 20,120*max*25,000*PASS",
            "Proceed to phase s2: YES",
        ]
    )


_PER_TICKET = {"id": "cap", "for_each": "ticket"}
_PHASE = {"id": "phase-cap"}


@pytest.mark.parametrize(
    ("criterion", "failure"),
    [
        pytest.param(
            {**_PER_TICKET, "metric": "tokens", "max": "50k"},
            "cap[[]R01[]]: tokens at most 100,020: * max 50,000*",
            id="tokens-max",
        ),
        pytest.param(
            {**_PER_TICKET, "metric": "tokens", "min": "15k"},
            "cap[[]R01[]]: tokens at most 100,020: an upper bound cannot prove min 15,000*",
            id="tokens-min",
        ),
        pytest.param(
            {**_PER_TICKET, "metric": "stage_tokens", "stage": "implementation", "max": "50k"},
            "cap[[]R01[]]: stage_tokens[[]implementation[]] at most 100,020: * max 50,000*",
            id="stage-tokens",
        ),
        pytest.param(
            {**_PER_TICKET, "metric": "tokens_with_planning_share", "max": "50k"},
            "cap[[]R01[]]: tokens_with_planning_share at most 102,525: * max 50,000*",
            id="with-planning-share",
        ),
        pytest.param(
            {**_PHASE, "metric": "stage_tokens", "stage": "implementation", "max": "50k"},
            "phase-cap: stage_tokens[[]implementation[]] at most 110,030: * max 50,000*",
            id="phase-stage-tokens",
        ),
        pytest.param(
            {**_PHASE, "metric": "ticket_tokens_average", "max": "20k"},
            "phase-cap: ticket_tokens_average at most 55,015: * max 20,000*",
            id="ticket-average",
        ),
        pytest.param(
            {**_PHASE, "metric": "unbatched_tokens", "baseline": "single_agent", "max": "100k"},
            "phase-cap: unbatched_tokens[[]single_agent[]] at least 90,020: *cannot prove max*",
            id="unbatched",
        ),
        pytest.param(
            {**_PHASE, "metric": "batching_savings", "baseline": "single_agent", "max": "100k"},
            "phase-cap: batching_savings[[]single_agent[]] at least -25,020: *cannot prove max*",
            id="batching-savings",
        ),
    ],
)
def test_figures_over_tickets_own_tokens_do_not_leave_out_the_unattributed_usage(
    pytester: pytest.Pytester, criterion: dict[str, object], failure: str
) -> None:
    """R01's own 20,010 under a 50k cap, beside 80,010 no rule places, which may be R01's: its
    figures count it (an upper bound), and the cap fails; a minimum cannot be proven on it. The
    phase's figures over the tickets' own tokens: the mean counts it too (an upper bound); the
    unbatched cost leaves it out (it may be tickets' work, which each ticket planned alone
    would do too): a lower bound, and so the batching savings."""
    _unplaced_phase(pytester, [{"measure": "total", **criterion}], tickets=("R01", "R02"))
    result = pytester.runpytest("--phase", "s1")
    assert result.ret == 1
    result.stdout.fnmatch_lines([failure])


@pytest.mark.parametrize(("operator", "proven"), [("above: 0", False), ("below: 1000000", True)])
def test_paired_savings_does_not_leave_out_the_unattributed_usage(
    pytester: pytest.Pytester, operator: str, proven: bool
) -> None:
    """s1 against h0, whose R01 and R02 each cost 100,000 by hand: s1's own figures (20,010,
    10,010) leave out the 80,010 no rule places, which may be its tickets' work: each delta is
    then an upper bound, which proves `below` and never `above` (it was taken as exact)."""
    Phase.of(
        "h0",
        [{"id": "tickets", "metric": "tickets", "min": 1}],
        {
            t: {"execution_model": "sonnet", "actual_tokens": 100_000, "fix_loops": 0}
            for t in ("R01", "R02")
        },
    ).write(pytester.path)
    paired = {"id": "cheaper", "metric": "paired_savings", "versus": "h0", "measure": "total"}
    key, limit = operator.split(": ")
    _unplaced_phase(
        pytester, [{**paired, key: int(limit), "rule": "point"}], tickets=("R01", "R02")
    )
    result = pytester.runpytest("--phase", "s1", "--orchphase-json", "r.json")
    entry = read_report(pytester.path)["criteria"][0]
    assert entry["bound"] == "upper", result.stdout.str()
    assert entry["passed"] is proven
    assert (result.ret == 0) is proven


def test_shared_planning_does_not_leave_out_the_unattributed_usage(
    pytester: pytest.Pytester,
) -> None:
    """The lead's own calls 5,010; a sub-agent the lead spawned that no rule places ("Check
    versions", 30,010). The break-even line adds it to shared planning, and the ticket metrics
    count it as possibly theirs; `shared_planning_tokens` alone showed 5,010 exact, so
    "planning under 10k" passed and the phase proceeded. Counted in, it is at most 35,020."""
    result = _lean_planning(pytester, unplaced=30_000)
    result.stdout.fnmatch_lines(
        [
            "FAIL  shared_planning_tokens at most 35,020: an upper bound cannot prove max 10,000: "
            "the phase's unattributed usage (30,010) is counted as if it were all the shared "
            "planning's, as it may be*"
        ]
    )
    result.stdout.no_fnmatch_line("Proceed to phase *: YES*")
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_shared_planning_under_its_cap_with_unattributed_usage_that_fits(
    pytester: pytest.Pytester,
) -> None:
    """A little unattributed usage (110 tokens) beside the lead's own 5,010: at most 5,120,
    still under 10k: the criterion passes, and says the figure is an upper bound."""
    result = _lean_planning(pytester, unplaced=100)
    result.stdout.fnmatch_lines(["*shared_planning_tokens*at most 5,120*PASS*"])
    assert read_report(pytester.path)["metric_bounds"]["shared_planning_tokens"] == "upper"
    assert result.ret == pytest.ExitCode.OK


def test_shared_planning_is_exact_when_nothing_is_unattributed(pytester: pytest.Pytester) -> None:
    """No usage left unplaced: the lead's own 5,010, exact, under 10k; nothing marked."""
    result = _lean_planning(pytester, unplaced=None)
    result.stdout.fnmatch_lines(["lean-planning * shared_planning_tokens * 5,010 * PASS*"])
    result.stdout.no_fnmatch_line("*at most 5,010*")
    report = read_report(pytester.path)
    assert not report["usage"]["unattributed"]
    assert "shared_planning_tokens" not in report["metric_bounds"]
    assert result.ret == pytest.ExitCode.OK


def test_a_tickets_figure_keeps_its_own_wording(pytester: pytest.Pytester) -> None:
    """The reason names whose figure is charged: the ticket's cap still says "this ticket's"."""
    cap: dict[str, object] = {
        "id": "ticket-cap",
        "for_each": "ticket",
        "metric": "tokens",
        "measure": "total",
        "max": "10k",
    }
    _unplaced_phase(pytester, [cap], tickets=("R01", "R02"), unplaced=30_000)
    result = pytester.runpytest("--phase", "s1", "-p", "no:randomly")
    result.stdout.fnmatch_lines(["*counted as if it were all this ticket's, as it may be*"])
    result.stdout.no_fnmatch_line("*all the shared planning's*")


def _lean_planning(pytester: pytest.Pytester, unplaced: int | None) -> pytest.RunResult:
    """Phase s1 of R01 and R02 (see ``_unplaced_phase``) with "planning under 10k"; ``unplaced``
    None: without the sub-agent no rule places."""
    cap: dict[str, object] = {
        "id": "lean-planning",
        "metric": "shared_planning_tokens",
        "measure": "total",
        "max": "10k",
    }
    _unplaced_phase(pytester, [cap], tickets=("R01", "R02"), unplaced=unplaced)
    return pytester.runpytest("--phase", "s1", "-p", "no:randomly", "--orchphase-json", "r.json")


def _break_even(pytester: pytest.Pytester, unplaced: int | None) -> dict[str, object]:
    """The tokens break-even of s1 (R01 20,010 and R02 10,010: 15,010 per ticket; the lead's
    own 5,010; single_agent 30,000 per ticket) beside ``unplaced`` + 10 no rule places."""
    _unplaced_phase(pytester, [_TICKETS], tickets=("R01", "R02"), unplaced=unplaced)
    pytester.runpytest("--phase", "s1", "-p", "no:randomly", "--orchphase-json", "r.json")
    found: dict[str, object] = read_report(pytester.path)["decisions"]["break_even"]["tokens"]
    return found


_TICKETS: dict[str, object] = {"id": "tickets", "metric": "tickets", "min": 1}


def test_break_even_is_never_when_the_unattributed_usage_may_be_the_tickets_own(
    pytester: pytest.Pytester,
) -> None:
    """30,010 no rule places. As planning: ⌊35,020 / (30,000 − 15,010)⌋ + 1 = 3 tickets, what
    the line said. As the tickets' own work (which every further ticket brings again): a ticket
    costs 15,010 + 30,010 / 2 = 30,015, more than the single agent's 30,000: never. Any split
    lies between; the line said 3, exact."""
    be = _break_even(pytester, 30_000)
    assert be["tickets"] is None, be["line"]
    assert (be["tickets_if_planning"], be["tickets_if_tickets_own"]) == (3, None)
    assert be["depends_on_unattributed"] is True
    assert be["unattributed"] == 30_010
    assert be["line"] == (
        "Break-even (tokens): never: a ticket costs 30,015 under orchestration, single_agent "
        "30,000, so shared planning is never paid back (with the unattributed usage (30,010) "
        "counted as the tickets' own; from 3 tickets if it is all shared planning: map its "
        "agents and sessions to their tickets)"
    )


def test_orchphase_breakeven_says_the_same(
    pytester: pytest.Pytester, capsys: pytest.CaptureFixture[str]
) -> None:
    """`orchphase breakeven` prints the report's line: never, naming the other reading."""
    from pytest_orchphase.cli import main

    _unplaced_phase(pytester, [_TICKETS], tickets=("R01", "R02"), unplaced=30_000)
    data = str(pytester.path / "docs" / "orchestration-data")
    criteria = str(pytester.path / "criteria")
    assert main(["breakeven", "--phase", "s1", "--criteria", criteria, "--data", data]) == 0
    out = capsys.readouterr().out
    assert "Break-even (tokens): never: a ticket costs 30,015 under orchestration" in out, out
    assert "from 3 tickets if it is all shared planning" in out, out


_LATER_OWN = (
    "Break-even (tokens): orchestration beats single_agent from 4 tickets — shared planning 5,010 "
    "/ (single_agent 30,000 − 28,515 per ticket), with the unattributed usage (27,010) counted as "
    "the tickets' own; from 3 tickets if it is all shared planning: map its agents and sessions "
    "to their tickets"
)


_LATER_PLANNING = (
    "Break-even (tokens): orchestration beats single_agent from 2 tickets — shared planning "
    "15,020 / (single_agent 30,000 − 15,010 per ticket), with the unattributed usage (10,010) "
    "counted as all shared planning; from 1 tickets if it is the tickets' own: map its agents "
    "and sessions to their tickets"
)


@pytest.mark.parametrize(
    ("unplaced", "readings", "line"),
    [(27_000, (4, 3, 4), _LATER_OWN), (10_000, (2, 2, 1), _LATER_PLANNING)],
)
def test_break_even_is_the_later_of_the_two_readings(
    pytester: pytest.Pytester, unplaced: int, readings: tuple[int, int, int], line: str
) -> None:
    """27,010 no rule places: as planning ⌊32,020 / 14,990⌋ + 1 = 3; as the tickets' own
    ⌊5,010 / (30,000 − 28,515)⌋ + 1 = 4. The line said 3; it is 4, the other named. 10,010:
    as planning ⌊15,020 / 14,990⌋ + 1 = 2 (the later), as the tickets' own
    ⌊5,010 / (30,000 − 20,015)⌋ + 1 = 1: the answer stays 2, and the line names the reading."""
    be = _break_even(pytester, unplaced)
    assert (be["tickets"], be["tickets_if_planning"], be["tickets_if_tickets_own"]) == readings
    assert be["depends_on_unattributed"] is True
    assert be["line"] == line


def test_break_even_without_unattributed_usage_is_one_figure(pytester: pytest.Pytester) -> None:
    """Nothing unplaced: ⌊5,010 / 14,990⌋ + 1 = 1, exact, the line as it always was."""
    be = _break_even(pytester, None)
    assert (be["tickets"], be["unattributed"], be["depends_on_unattributed"]) == (1, None, False)
    assert be["line"] == (
        "Break-even (tokens): orchestration beats single_agent from 1 tickets — shared planning "
        "5,010 / (single_agent 30,000 − 15,010 per ticket)"
    )


@pytest.mark.parametrize(
    ("unplaced", "shown"),
    [(30_000, "R01 ≤ 50,020, R02 ≤ 40,020"), (None, "R01 20,010, R02 10,010")],
    ids=["unattributed", "none"],
)
def test_the_dashboard_shows_a_tickets_figure_as_its_criteria_see_it(
    pytester: pytest.Pytester,
    capsys: pytest.CaptureFixture[str],
    unplaced: int | None,
    shown: str,
) -> None:
    """Sibling of the ticket table: `orchphase dashboard`'s per-ticket column showed each
    ticket's own tokens as exact beside 30,010 no rule places, which its `tokens` criteria
    (and the report's table) count as at most 50,020 and 40,020. Nothing unplaced: exact."""
    from pytest_orchphase.cli import main

    _unplaced_phase(pytester, [_TICKETS], tickets=("R01", "R02"), unplaced=unplaced)
    data = pytester.path / "docs" / "orchestration-data"
    assert (
        main(["dashboard", "--criteria", str(pytester.path / "criteria"), "--data", str(data)]) == 0
    )
    row = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("s1"))
    assert shown in row, row

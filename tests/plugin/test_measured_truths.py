"""What the transcripts say beside what the log says (repros of the fifth adversarial round,
then their siblings): a measured phase's wall time covers its calls, a phase without the shared
planning record has a lower-bound wall time, a ticket's measured total leaves out no stage that
ran, a measured fix or review beside the log's counts contradicts them, and a ticket's logged
model must be the model of its measured implementation calls."""

from __future__ import annotations

import pytest

from tests.helpers import (
    Phase,
    YamlData,
    agent_result,
    assert_not_yes,
    assistant,
    decision,
    jsonl_line,
    rate_on,
    run_phase,
    spawn_block,
    usage,
    user,
    write_jsonl,
)


def test_a_measured_phase_wall_time_ignores_calls_outside_the_logs_stamps(
    pytester: pytest.Pytester,
) -> None:
    """Phase m1 names its one session (R01's worker, given with ``ticket:``). The log stamps
    R01's implementation 10:00 → 10:20 (20 minutes), but the measured calls of that very session
    run from 10:00 to 11:30: the work took at least 90 minutes. `wall_time_minutes below 30`
    passes on the hand stamps alone: YES. Measured usage wins over the log for tokens; the time
    the transcripts prove is dropped without a word (expected: not YES, or at least a
    contradiction reported as for declared totals). The wall time covers both: 10:00 (the
    log's start) → 11:30 (the last call) = 90 minutes, its note naming both sources."""
    ticket = stamped_r01()
    calls = [(SONNET, "2026-02-07T10:00:05.000Z"), (SONNET, "2026-02-07T11:30:00.000Z")]
    result = worker_phase(pytester, [WALL_BELOW_30], ticket, calls)
    assert_not_yes(pytester, result)
    result.stdout.fnmatch_lines(
        [
            "FAIL  wall_time_minutes 90.0 min >= below 30.0 min",
            "*the log's stamps and the measured calls' timestamps (calls 2026-02-07 10:00:05 to "
            "2026-02-07 11:30:00, beyond the stamps)*",
        ]
    )


def test_a_ticket_logged_on_haiku_whose_measured_calls_are_all_sonnet_counts_for_haiku(
    pytester: pytest.Pytester,
) -> None:
    """Phase m1 names R01's session with ``ticket: R01``; the log says R01 ran on Haiku
    (execution_model haiku, implementation model haiku), but every call measured for R01 is
    claude-sonnet-4-5. `success_rate[haiku] min 60%` (point rule) passes at 100 % (1 of 1) and
    `haiku-validation[R01]` passes: the Haiku criteria pass on work the transcripts show Haiku
    never did (the adoption line likewise pools it as a Haiku success). Expected: not YES (the
    log's model and the measured models contradict each other: an error, as execution_model
    beside another family's implementation.model is)."""
    ticket = {
        "complexity": "mechanical",
        "execution_model": "haiku",
        "fix_loops": 0,
        "implementation": {"model": "haiku", "estimated_tokens": 8_000, "status": "completed"},
        "review": {"result": "PASS", "attempts": 1},  # a known success: no review, none
    }
    validation = {
        "id": "haiku-validation",
        "for_each": "ticket",
        "where": {"execution_model": "haiku"},
        "metric": "fix_loops",
        "max": 1,
    }
    calls = [(SONNET, "2026-02-07T10:00:00.000Z"), (SONNET, "2026-02-07T10:05:00.000Z")]
    result = worker_phase(pytester, [HAIKU_RATE, validation], ticket, calls, stage="implementation")
    assert_not_yes(pytester, result)
    result.stdout.fnmatch_lines(
        [
            "*execution-log.yaml:*: tickets.R01.execution_model: ticket R01 is logged as "
            "executed on 'haiku', but none of its measured implementation stage's calls is: "
            f"they are {SONNET}*"
        ]
    )


def _stamped(start: str, end: str) -> dict[str, object]:
    """A finished Sonnet ticket whose implementation ran from ``start`` to ``end`` (UTC)."""
    return {
        "execution_model": "sonnet",
        "fix_loops": 0,
        "implementation": {
            "estimated_tokens": 10_000,
            "status": "completed",
            "start_time": f"2026-02-07T{start}:00Z",
            "end_time": f"2026-02-07T{end}:00Z",
        },
    }


def test_wall_time_without_the_shared_planning_record_is_not_exact(
    pytester: pytest.Pytester,
) -> None:
    """A two-ticket phase whose log records no shared_planning: the README makes every figure
    that holds the planning a bound (tokens, per_ticket_average, savings…), since the lead's
    planning happened and is counted nowhere. The phase's wall time holds it too (the plan's
    "< 30 minutes end-to-end" starts with the planning), yet `wall_time_minutes below 30`
    passes exactly on the stages' 10:00 → 10:25. Expected: a lower bound, which cannot prove
    below (not YES)."""
    tickets = {"R01": _stamped("10:00", "10:15"), "R02": _stamped("10:10", "10:25")}
    Phase.of("b1", [{"id": "time", "metric": "wall_time_minutes", "below": 30}], tickets).write(
        pytester.path
    )
    result = run_phase(pytester, "b1")
    assert_not_yes(pytester, result)


def test_a_measured_tickets_total_leaves_out_a_stage_that_ran_unmeasured(
    pytester: pytest.Pytester,
) -> None:
    """R01's log: implementation completed (estimate 20,000) and review completed (5,000). The
    transcripts hold only the review: the lead spawned "Review R01" (5,010 tokens); nothing
    measured is R01's implementation (no agents mapping names it, so nothing is "missing").
    R01 is counted from measurement alone: tokens 5,010, exact, and `tokens max 10k` passes.
    The product already calls the phase's `stage_tokens[implementation]` unknown on the same
    data ("R01's implementation stage ran but records no tokens"); the ticket's own total,
    the sum of the same stages, is not. Expected: not YES (a lower bound, or unknown)."""
    ticket = {
        "execution_model": "sonnet",
        "fix_loops": 0,
        "implementation": {"estimated_tokens": 20_000, "status": "completed"},
        "review": {
            "result": "PASS",
            "attempts": 1,
            "estimated_tokens": 5_000,
            "status": "completed",
        },
    }
    cap = {"id": "cap", "for_each": "ticket", "metric": "tokens", "measure": "total", "max": "10k"}
    result = lead_phase(pytester, [cap], ticket, [("a1", "Review R01", SONNET)])
    assert_not_yes(pytester, result)
    result.stdout.fnmatch_lines(
        [
            "*tokens at least 5,010: a lower bound cannot prove max 10,000: ticket R01's "
            "implementation stage(s) ran (the log says so) but no measured usage was placed there*"
        ]
    )


def test_fix_loops_zero_beside_a_measured_fix_agent(pytester: pytest.Pytester) -> None:
    """R01's log: implementation completed, `fix_loops: 0`, no fix stage. The transcripts: the
    lead spawned "R01: implement the parser" and, after it, "R01: fix the failing parser test",
    which the attribution itself places in R01's fix stage (5,010 tokens measured there).
    `fix_loops max 0` passes on the log's 0. A fix stage the log records beside
    `fix_loops: 0` is an error at the ticket (README); one the measurement records is not
    even mentioned. Expected: not YES (the log's fix_loops contradicted by a measured fix)."""
    ticket = {
        "execution_model": "sonnet",
        "fix_loops": 0,
        "implementation": {"estimated_tokens": 20_000, "status": "completed"},
    }
    first_try = {"id": "first-try", "for_each": "ticket", "metric": "fix_loops", "max": 0}
    agents = [
        ("a1", "R01: implement the parser", SONNET),
        ("a2", "R01: fix the failing parser test", SONNET),
    ]
    result = lead_phase(pytester, [first_try], ticket, agents)
    assert_not_yes(pytester, result)
    # the measurement's own placement, named in the error at the log's field
    result.stdout.fnmatch_lines(
        [
            "*execution-log.yaml:*: tickets.R01.fix_loops: fix_loops is 0, but the transcripts "
            "place 5,010 tokens in ticket R01's fix stage: sub-agent(s) a2 ('R01: fix the "
            "failing parser test', ticket id in Task description)*"
        ]
    )


# --- siblings and the other side: what must still pass, and the same holes elsewhere ---

SONNET = "claude-sonnet-4-5-20250929"
HAIKU = "claude-haiku-4-5-20251001"
SESSION = "44444440-0000-0000-0000-000000000000"


def assert_yes(pytester: pytest.Pytester, result: pytest.RunResult) -> None:
    assert decision(pytester) == "YES", result.stdout.str()
    assert result.ret == 0, result.stdout.str()


def worker_phase(
    pytester: pytest.Pytester,
    criteria: list[YamlData],
    ticket: YamlData,
    calls: list[tuple[str, str]],
    *,
    stage: str | None = None,
    broken: bytes | None = None,
) -> pytest.RunResult:
    """Phase m1 of one ticket R01 (``ticket``: its log) measured from one session given to R01
    (and ``stage``) in metadata.yaml, whose calls are ``calls`` (model, timestamp), 15 tokens
    each (and the ``broken`` line after them); the run of ``pytest --phase m1``."""
    spec: YamlData = {"path": "r01.jsonl", "ticket": "R01"}
    if stage is not None:
        spec["stage"] = stage
    phase = Phase.of(
        "m1",
        criteria,
        {"R01": ticket},
        metadata={"phase": "m1", "tickets": ["R01"], "sessions": [spec]},
    )
    data = phase.write(pytester.path)
    lines = [
        assistant(f"m{i}", f"q{i}", session=SESSION, u=usage(inp=10, out=5), model=m, ts=ts)
        for i, (m, ts) in enumerate(calls)
    ]
    tail = [] if broken is None else [broken]
    write_jsonl(data / "r01.jsonl", [user("Implement R01", session=SESSION), *lines, *tail])
    return run_phase(pytester, "m1")


def stamped_stage(start: str, end: str) -> YamlData:
    return {
        "estimated_tokens": 20_000,
        "status": "completed",
        "start_time": f"2026-02-07T{start}:00Z",
        "end_time": f"2026-02-07T{end}:00Z",
    }


def stamped_r01() -> YamlData:
    """R01 on Sonnet, no fix loop, its implementation stamped 10:00 → 10:20."""
    return {
        "execution_model": "sonnet",
        "fix_loops": 0,
        "implementation": stamped_stage("10:00", "10:20"),
    }


WALL_BELOW_30 = {"id": "time", "metric": "wall_time_minutes", "below": 30}


def test_a_measured_phase_whose_calls_fall_inside_the_stamps_still_passes(
    pytester: pytest.Pytester,
) -> None:
    """The other side of the first repro: the calls (10:00:05 → 10:15) fall inside the log's
    stamps (10:00 → 10:20): the wall time is the stamps' 20 minutes, exact, and says it read
    both the stamps and the calls."""
    ticket = stamped_r01()
    calls = [(SONNET, "2026-02-07T10:00:05.000Z"), (SONNET, "2026-02-07T10:15:00.000Z")]
    result = worker_phase(pytester, [WALL_BELOW_30], ticket, calls)
    assert_yes(pytester, result)
    result.stdout.fnmatch_lines(["*time*wall_time_minutes*20.0 min*below*PASS*"])


def test_a_tickets_wall_time_covers_its_measured_calls_too(pytester: pytest.Pytester) -> None:
    """The per-ticket metric has the same hole: R01's wall time (for_each: ticket) from its
    stamps alone is 20 minutes, its calls run to 11:30."""
    per_ticket = {"id": "time", "for_each": "ticket", "metric": "wall_time_minutes", "below": 30}
    ticket = stamped_r01()
    calls = [(SONNET, "2026-02-07T09:30:00.000Z"), (SONNET, "2026-02-07T10:10:00.000Z")]
    result = worker_phase(pytester, [per_ticket], ticket, calls)
    assert_not_yes(pytester, result)
    result.stdout.fnmatch_lines(["FAIL  wall_time_minutes 50.0 min >= below 30.0 min"])


def test_unattributed_calls_outside_a_tickets_time_make_its_wall_time_a_lower_bound(
    pytester: pytest.Pytester,
) -> None:
    """R01's own call (10:05) lies inside its stamps, but the phase also holds a session no
    rule places (neither the lead nor naming a ticket) whose call is at 11:30: they may be R01's
    work, so R01's 20 minutes are only a lower bound, which cannot prove `below`; the same
    criterion passes with the loose session inside R01's time."""
    per_ticket = {"id": "time", "for_each": "ticket", "metric": "wall_time_minutes", "below": 30}
    ticket = stamped_r01()
    phase = Phase.of(
        "m1",
        [per_ticket],
        {"R01": ticket},
        metadata={
            "phase": "m1",
            "tickets": ["R01"],
            "sessions": [
                {"path": "r01.jsonl", "ticket": "R01"},
                {"path": "lead.jsonl", "lead": True},
                {"path": "other.jsonl"},
            ],
        },
    )
    data = phase.write(pytester.path)
    at = "2026-02-07T10:05:00.000Z"
    own = assistant("m0", "q0", session=SESSION, u=usage(inp=10, out=5), model=SONNET, ts=at)
    write_jsonl(data / "r01.jsonl", [user("Implement R01", session=SESSION), own])
    lead = "66666660-0000-0000-0000-000000000000"
    plan = assistant("m8", "q8", session=lead, u=usage(inp=10, out=5), model=SONNET, ts=at)
    write_jsonl(data / "lead.jsonl", [user("Plan the batch", session=lead), plan])
    other = "55555550-0000-0000-0000-000000000000"

    def loose(ts: str) -> None:
        call = assistant("m9", "q9", session=other, u=usage(inp=10, out=5), model=SONNET, ts=ts)
        write_jsonl(data / "other.jsonl", [user("Tidy up", session=other), call])

    loose("2026-02-07T11:30:00.000Z")
    result = run_phase(pytester, "m1")
    assert_not_yes(pytester, result)
    result.stdout.fnmatch_lines(["*at least 20.0 min*unattributed calls*may be its work*"])
    loose("2026-02-07T10:15:00.000Z")
    assert_yes(pytester, run_phase(pytester, "m1"))


def test_wall_time_with_the_shared_planning_record_stays_exact(pytester: pytest.Pytester) -> None:
    """The other side of the second repro: the same two tickets with the lead's planning
    recorded and stamped (09:55 → 10:00): the wall time is 09:55 → 10:25, 30 minutes, exact
    (`below 31` passes); a phase of one ticket has no planning to share and stays exact
    without the record."""
    tickets = {"R01": _stamped("10:00", "10:15"), "R02": _stamped("10:10", "10:25")}
    planning = {
        "estimated_tokens": 5_000,
        "status": "completed",
        "start_time": "2026-02-07T09:55:00Z",
        "end_time": "2026-02-07T10:00:00Z",
    }
    below_31 = {"id": "time", "metric": "wall_time_minutes", "below": 31}
    Phase.of("b1", [below_31], tickets, planning=planning).write(pytester.path)
    result = run_phase(pytester, "b1")
    assert_yes(pytester, result)
    result.stdout.fnmatch_lines(["*time*wall_time_minutes*30.0 min*below*PASS*"])
    Phase.of("b2", [WALL_BELOW_30], {"R01": _stamped("10:00", "10:15")}).write(pytester.path)
    assert_yes(pytester, run_phase(pytester, "b2"))


def test_a_lower_bound_wall_time_still_proves_a_min(pytester: pytest.Pytester) -> None:
    """No over-correction: without the planning record the phase's wall time is at least 25
    minutes, which proves `min: 20` (and fails `min: 26`, which it cannot prove)."""
    tickets = {"R01": _stamped("10:00", "10:15"), "R02": _stamped("10:10", "10:25")}
    at_least = {"id": "time", "metric": "wall_time_minutes", "min": 20}
    Phase.of("b1", [at_least], tickets).write(pytester.path)
    assert_yes(pytester, run_phase(pytester, "b1"))
    Phase.of("b1", [{**at_least, "min": 26}], tickets).write(pytester.path)
    assert_not_yes(pytester, run_phase(pytester, "b1"))


LEAD = "11111111-0000-0000-0000-000000000001"


def lead_phase(
    pytester: pytest.Pytester,
    criteria: list[YamlData],
    ticket: YamlData,
    agents: list[tuple[str, str, str]],
) -> pytest.RunResult:
    """Phase w1 of one ticket R01 (``ticket``: its log), measured from a lead session that
    spawned ``agents`` (id, Task description, model) one after the other, each 5,010 tokens;
    the run of ``pytest --phase w1``."""
    phase = Phase.of("w1", criteria, {"R01": ticket})
    phase.write(pytester.path)
    home = phase.transcripts(pytester.path)
    typed = [(*agent, "general-purpose") for agent in agents]
    lines = [user("Plan the batch", session=LEAD), *home.spawns(LEAD, SONNET, typed)]
    home.session(lines, session=LEAD)
    return run_phase(pytester, "w1")


FIRST_TRY = {"id": "first-try", "for_each": "ticket", "metric": "fix_loops", "max": 1}
IMPLEMENTED = {"estimated_tokens": 20_000, "status": "completed"}


def sonnet_ticket(**changes: object) -> YamlData:
    return {"execution_model": "sonnet", "fix_loops": 0, "implementation": IMPLEMENTED, **changes}


def test_a_measured_fix_beside_one_fix_loop_passes(pytester: pytest.Pytester) -> None:
    """The other side of the fix repro: the log's one fix loop agrees with the measured fix."""
    agents = [("a1", "R01: implement the parser", SONNET), ("a2", "R01: fix the test", SONNET)]
    result = lead_phase(pytester, [FIRST_TRY], sonnet_ticket(fix_loops=1), agents)
    assert_yes(pytester, result)


def test_a_sub_agent_mapped_to_the_implementation_is_no_fix(pytester: pytest.Pytester) -> None:
    """The way out the error names: a sub-agent whose description only says "fix" (the
    ticket's title) mapped to the implementation by the log (agents.agent_ids) is no fix."""
    stage = {**IMPLEMENTED, "agents": {"agent_ids": ["a1"]}}
    ticket = sonnet_ticket(implementation=stage)
    result = lead_phase(pytester, [FIRST_TRY], ticket, [("a1", "R01: fix login bug", SONNET)])
    assert_yes(pytester, result)


REVIEWED = {"result": "PASS", "estimated_tokens": 5_000, "status": "completed"}
TWO_REVIEWS = [
    ("a1", "R01: implement the parser", SONNET),
    ("a2", "Review R01", SONNET),
    ("a3", "Review R01 again", SONNET),
]


def test_measured_review_sub_agents_beyond_the_logs_attempts(pytester: pytest.Pytester) -> None:
    """The variant the brief names: R01 records `review.attempts: 1` (and 1 fix loop, so the
    log-side rule is met), but the transcripts hold two review sub-agents of R01: a
    `review_attempts max 1` criterion must not pass on the log's 1."""
    once = {"id": "once", "for_each": "ticket", "metric": "review_attempts", "max": 1}
    ticket = sonnet_ticket(fix_loops=1, review={**REVIEWED, "attempts": 1})
    result = lead_phase(pytester, [once], ticket, TWO_REVIEWS)
    assert_not_yes(pytester, result)
    result.stdout.fnmatch_lines(
        [
            "*execution-log.yaml:*: tickets.R01.review.attempts: review.attempts is 1, but the "
            "transcripts hold 2 review sub-agents of ticket R01 (a2 ('Review R01', *), a3 *"
        ]
    )


def test_measured_review_sub_agents_beyond_one_plus_fix_loops(pytester: pytest.Pytester) -> None:
    """Without review.attempts, the attempts are derived as 1 + fix_loops (README): two
    measured review sub-agents beside `fix_loops: 0` contradict that."""
    once = {"id": "once", "for_each": "ticket", "metric": "review_attempts", "max": 1}
    result = lead_phase(pytester, [once], sonnet_ticket(review=REVIEWED), TWO_REVIEWS)
    assert_not_yes(pytester, result)
    result.stdout.fnmatch_lines(
        ["*: tickets.R01.fix_loops: fix_loops is 0, but the transcripts hold 2 review sub-agents*"]
    )


def test_review_sub_agents_within_the_attempts_pass(pytester: pytest.Pytester) -> None:
    """The other side: two review sub-agents beside `attempts: 2` and one fix loop agree."""
    twice = {"id": "twice", "for_each": "ticket", "metric": "review_attempts", "max": 2}
    ticket = sonnet_ticket(fix_loops=1, review={**REVIEWED, "attempts": 2})
    assert_yes(pytester, lead_phase(pytester, [twice], ticket, TWO_REVIEWS))


HAIKU_RATE = {"id": "rate", "metric": "success_rate", "model": "haiku", "min": "60%"}
HAIKU_RATE["rule"] = "point"


def test_a_ticket_logged_on_sonnet_whose_measured_calls_are_all_haiku(
    pytester: pytest.Pytester,
) -> None:
    """The reverse of the model repro: R01 logged on Sonnet, its one implementation sub-agent
    ran on Haiku; the error names the field and both models."""
    sonnet_rate = {**HAIKU_RATE, "model": "sonnet"}
    agents = [("a1", "R01: implement the parser", HAIKU)]
    result = lead_phase(pytester, [sonnet_rate], sonnet_ticket(), agents)
    assert_not_yes(pytester, result)
    result.stdout.fnmatch_lines(
        [
            "*execution-log.yaml:*: tickets.R01.execution_model: ticket R01 is logged as "
            f"executed on 'sonnet', but none of its measured implementation stage's calls is: "
            f"they are {HAIKU}*"
        ]
    )


def test_a_ticket_on_haiku_with_helpers_on_other_models_is_no_contradiction(
    pytester: pytest.Pytester,
) -> None:
    """No over-correction: R01 logged on Haiku; one of its implementation calls is Haiku's,
    another Sonnet's (a helper), its review ran on Opus: a mix, which passes."""
    ticket = sonnet_ticket(execution_model="haiku", review={**REVIEWED, "attempts": 1})
    agents = [
        ("a1", "R01: implement the parser", HAIKU),
        ("a2", "R01: implement the parser's tests", SONNET),
        ("a3", "Review R01", "claude-opus-4-6"),
    ]
    assert_yes(pytester, lead_phase(pytester, [HAIKU_RATE], ticket, agents))


def test_without_an_implementation_stage_measured_the_tickets_calls_outside_review_count(
    pytester: pytest.Pytester,
) -> None:
    """Where no usage is placed in the implementation stage, the ticket's calls outside its
    review are its implementation's: R01's worker session (given to R01 as a whole) ran on
    Sonnet only, logged on Haiku (by implementation.model): an error at that field, even
    though a review sub-agent of R01 ran on Haiku."""
    ticket = {
        "fix_loops": 0,
        "implementation": {"model": "haiku", **IMPLEMENTED},
        "review": {**REVIEWED, "attempts": 1},
    }
    phase = Phase.of(
        "m1",
        [HAIKU_RATE],
        {"R01": ticket},
        metadata={"phase": "m1", "tickets": ["R01"], "sessions": [{"path": "r01"}]},
    )
    runs = phase.write(pytester.path) / "r01"
    review = usage(inp=10, out=0, cw=2_000)
    write_jsonl(
        runs / SESSION / "subagents" / "agent-a1.jsonl",
        [assistant("m_a1", "q_a1", agent_id="a1", session=SESSION, u=review, model=HAIKU)],
    )
    write_jsonl(
        runs / f"{SESSION}.jsonl",
        [
            user("Implement R01", session=SESSION),
            assistant(
                "m0",
                "q0",
                session=SESSION,
                u=usage(inp=10, out=500),
                model=SONNET,
                content=[spawn_block("t1", description="Review R01")],
            ),
            agent_result("t1", "a1", review, session=SESSION),
        ],
    )
    result = run_phase(pytester, "m1")
    assert_not_yes(pytester, result)
    result.stdout.fnmatch_lines(
        [
            "*: tickets.R01.implementation.model: ticket R01 is logged as executed on 'haiku', "
            "but none of its measured implementer's calls (its sessions' own, outside its "
            f"review) is: they are {SONNET} (its other calls, on {HAIKU}, are its helpers' or "
            "another stage's)*"
        ]
    )


def test_a_ticket_logged_on_another_haiku_version_than_its_calls(
    pytester: pytest.Pytester,
) -> None:
    """A logged model id of one version beside calls all of another (claude-3-5-haiku logged,
    claude-haiku-4-5 measured) is the same contradiction: a criterion on either id would
    count the ticket wrongly."""
    ticket = sonnet_ticket(execution_model="claude-3-5-haiku")
    agents = [("a1", "R01: implement the parser", HAIKU)]
    result = lead_phase(pytester, [HAIKU_RATE], ticket, agents)
    assert_not_yes(pytester, result)
    result.stdout.fnmatch_lines(["*logged as executed on 'claude-3-5-haiku', but none*"])


TICKET_CAP = {
    "id": "cap",
    "for_each": "ticket",
    "metric": "tokens",
    "measure": "total",
    "max": "12k",
}


@pytest.mark.parametrize(
    ("review", "agents"),
    [
        (
            {**REVIEWED, "attempts": 1},
            [("a1", "R01: implement the parser", SONNET), ("a2", "Review R01", SONNET)],
        ),
        ({**REVIEWED, "status": "skipped", "result": None}, [("a1", "R01: implement", SONNET)]),
    ],
    ids=["every-stage-measured", "review-skipped"],
)
def test_a_measured_ticket_whose_stages_that_ran_are_all_measured_stays_exact(
    pytester: pytest.Pytester, review: YamlData, agents: list[tuple[str, str, str]]
) -> None:
    """The other side of the unmeasured-stage repro: with its review measured too (10,020), or
    with the review marked skipped (5,010), R01's total is exact and passes `max: 12k`."""
    ticket = sonnet_ticket(review={k: v for k, v in review.items() if v is not None})
    result = lead_phase(pytester, [TICKET_CAP], ticket, agents)
    assert_yes(pytester, result)


def test_a_ticket_measured_as_a_whole_may_hold_its_unmeasured_stages(
    pytester: pytest.Pytester,
) -> None:
    """No over-correction: a session given to R01 as a whole (no stage) holds R01's work, of
    any stage: its implementation, which no call was placed in by stage, does not make R01's
    total (30 tokens) a lower bound."""
    ticket = stamped_r01()
    calls = [(SONNET, "2026-02-07T10:00:05.000Z"), (SONNET, "2026-02-07T10:15:00.000Z")]
    assert_yes(pytester, worker_phase(pytester, [TICKET_CAP], ticket, calls))


def test_a_call_line_that_cannot_be_read_makes_the_wall_time_a_lower_bound(
    pytester: pytest.Pytester,
) -> None:
    """A sibling: a transcript line that may have recorded a call (cut short where a session
    killed mid-write leaves it) could not be read; that call's time is not known, so the wall
    time (20 minutes from the stamps and the calls read) is only a lower bound: `below 30`
    cannot pass on it, `min 10` still does."""
    line = jsonl_line(assistant("m9", "q9", session=SESSION, u=usage(inp=10, out=5)))
    cut = line[: line.index(b'"usage"')] + b"\n"
    calls = [(SONNET, "2026-02-07T10:05:00.000Z")]
    result = worker_phase(pytester, [WALL_BELOW_30], stamped_r01(), calls, broken=cut)
    assert_not_yes(pytester, result)
    result.stdout.fnmatch_lines(["*at least 20.0 min*may have recorded a call*"])
    floor = {"id": "time", "metric": "wall_time_minutes", "min": 10}
    assert_yes(pytester, worker_phase(pytester, [floor], stamped_r01(), calls, broken=cut))


def test_a_dotted_model_version_agrees_with_its_measured_calls(
    pytester: pytest.Pytester,
) -> None:
    import json

    from tests.helpers import result_object

    ticket = {"execution_model": "claude-haiku-4.5", "fix_loops": 0}
    ticket["review"] = {"result": "PASS", "attempts": 1}
    run = {"path": "runs/r01.json", "ticket": "R01"}
    metadata = {"phase": "p1", "tickets": ["R01"], "sessions": [run]}
    folder = Phase.of(
        "p1", [rate_on("claude-haiku-4-5")], {"R01": ticket}, metadata=metadata
    ).write(pytester.path)
    (folder / "runs").mkdir()
    (folder / "runs" / "r01.json").write_text(json.dumps(result_object()))
    result = run_phase(pytester, "p1")
    assert result.ret == 0, result.stdout.str()

"""What the execution log says about a ticket, read as a whole (fourth adversarial round,
copied from tests/yes_hunt4/test_wrong_yes.py on branch yes-hunt4, then their siblings).

- Work the log says ran (a stage present and not skipped or pending, a flat ticket's own
  figures) without a start and an end makes the wall time unknown: never the other stamps'.
- A stage whose `verification` failed needed a fix, as one `requires_fix` did: made by a later
  stage it is a fix loop (beside `fix_loops: 0` an error), else the ticket failed.
- A review `result: PASS` beside its own `status: failed` (or `requires_fix`, or `verification:
  failed`) contradicts itself: an error at the review, as beside a FAIL checklist item.
- Review attempts past 1 + fix_loops contradict the fix loops: an error at the ticket.
- Shared planning not finished makes its figures lower bounds and the decision UNDECIDED, as a
  ticket not finished does.
"""

from __future__ import annotations

import pytest

from tests.helpers import (
    Phase,
    YamlData,
    assert_not_yes,
    decision,
    flat_ticket,
    read_report,
    run_phase,
)


def refused(pytester: pytest.Pytester, criteria: list[YamlData], r01: YamlData, line: str) -> None:
    """Phase b1 of ticket ``r01`` is refused: see :func:`assert_error`."""
    Phase.of("b1", criteria, {"R01": r01}).write(pytester.path)
    assert_error(pytester, run_phase(pytester, "b1"), line)


def assert_error(pytester: pytest.Pytester, result: pytest.RunResult, line: str) -> None:
    """A collection error (exit 2) at the log naming ``line``'s field: the decision NO (never
    YES), never a traceback."""
    assert result.ret == pytest.ExitCode.INTERRUPTED, result.stdout.str()
    result.stdout.fnmatch_lines([f"*execution-log.yaml:*: {line}*", "Proceed to phase *: NO*"])
    result.stdout.no_fnmatch_line("*Traceback*")
    assert decision(pytester) == "NO"


# ----------------------------------------------------------------- wall time of unstamped work

REVIEW_5_MIN: YamlData = {
    "result": "PASS",
    "attempts": 1,
    "start_time": "2026-02-09T09:05:00Z",
    "end_time": "2026-02-09T09:10:00Z",
}
IMPLEMENTATION_5_MIN: YamlData = {
    "model": "sonnet",
    "status": "completed",
    "fix_loops": 0,
    "start_time": "2026-02-09T09:00:00Z",
    "end_time": "2026-02-09T09:05:00Z",
}

#: A ticket whose work ran without stamps beside a review stamped over 5 minutes: the flat
#: shape (its 20,000 tokens for the whole ticket), stages with an implementation `status:
#: completed` that records neither figures nor stamps, and (the sibling) a stamped
#: implementation beside a review that records its result alone, no stamp, no status.
UNSTAMPED_WORK: dict[str, YamlData] = {
    "flat": flat_ticket(review=REVIEW_5_MIN),
    "completed-stage": {
        "execution_model": "sonnet",
        "implementation": {"model": "sonnet", "status": "completed", "fix_loops": 0},
        "review": {**REVIEW_5_MIN, "actual_tokens": 3_000},
    },
    "review-result-alone": flat_ticket(implementation=IMPLEMENTATION_5_MIN),
}


@pytest.mark.parametrize("shape", list(UNSTAMPED_WORK))
@pytest.mark.parametrize("for_each", [None, "ticket"])
def test_wall_time_of_work_without_stamps_is_not_its_review_alone(
    pytester: pytest.Pytester, for_each: str | None, shape: str
) -> None:
    """The ticket's only stamps are one stage's (5 minutes); other work ran, unstamped: the
    flat ticket's 20,000 tokens, an implementation `status: completed` with no figure, a review
    with its result. It was read as 5 minutes and `max: 20` passed: YES. Work the log says ran
    makes the wall time unknown, as a stage with tokens and no stamps did."""
    criterion: YamlData = {"id": "wall", "metric": "wall_time_minutes", "max": 20}
    if for_each:
        criterion["for_each"] = for_each
    Phase.of("b1", [criterion], {"R01": UNSTAMPED_WORK[shape]}).write(pytester.path)
    result = run_phase(pytester, "b1")
    assert_not_yes(pytester, result)
    result.stdout.fnmatch_lines(["*ran without a start_time and an end_time*"])


def test_wall_time_names_the_flat_tickets_unstamped_work(pytester: pytest.Pytester) -> None:
    """The reason names the work: the flat ticket's own tokens, which no stage stamps."""
    criterion: YamlData = {"id": "wall", "metric": "wall_time_minutes", "max": 20}
    Phase.of("b1", [criterion], {"R01": UNSTAMPED_WORK["flat"]}).write(pytester.path)
    result = run_phase(pytester, "b1")
    result.stdout.fnmatch_lines(
        [
            "*wall_time_minutes: cannot be evaluated: the work of R01's own tokens (the flat "
            "shape: no implementation stage) ran without a start_time and an end_time*"
        ]
    )


@pytest.mark.parametrize(
    "ticket",
    [
        # the flat ticket's work placed in time by its implementation stage's stamps
        flat_ticket(implementation=IMPLEMENTATION_5_MIN, review=REVIEW_5_MIN),
        # stages, each stamped; a stage the log keeps that did not run needs none
        {
            "implementation": {**IMPLEMENTATION_5_MIN, "actual_tokens": 9_000},
            "fix": {"model": "sonnet", "status": "skipped"},
            "review": {**REVIEW_5_MIN, "actual_tokens": 3_000},
        },
    ],
    ids=["flat-with-stamped-implementation", "stages-stamped"],
)
@pytest.mark.parametrize("for_each", [None, "ticket"])
def test_wall_time_of_stamped_work_still_passes(
    pytester: pytest.Pytester, for_each: str | None, ticket: YamlData
) -> None:
    """No over-correction: every piece of work stamped (a skipped stage needs no stamp), the
    wall time is 10 minutes and `max: 20` passes: YES."""
    criterion: YamlData = {"id": "wall", "metric": "wall_time_minutes", "max": 20}
    if for_each:
        criterion["for_each"] = for_each
    Phase.of("b1", [criterion], {"R01": ticket}).write(pytester.path)
    result = run_phase(pytester, "b1")
    result.stdout.fnmatch_lines(["*wall_time_minutes*10.0 min*PASS*", "Proceed to phase *: YES*"])
    assert result.ret == pytest.ExitCode.OK


# ------------------------------------------------- failures a stage records besides its status


def staged_haiku(
    implementation: YamlData | None = None, review: YamlData | None = None, **more: YamlData
) -> YamlData:
    """A mechanical Haiku ticket by stages: an implementation of 10,000 tokens (completed, no fix
    loop) and a review of 3,000 that passed, each with ``implementation`` / ``review`` added,
    and ``more`` stages after the implementation."""
    return {
        "complexity": "mechanical",
        "execution_model": "haiku",
        "implementation": {
            "model": "haiku",
            "actual_tokens": 10_000,
            "status": "completed",
            "fix_loops": 0,
            **(implementation or {}),
        },
        **more,
        "review": {"actual_tokens": 3_000, "result": "PASS", "attempts": 1, **(review or {})},
    }


RATE: YamlData = {
    "id": "rate",
    "metric": "success_rate",
    "model": "haiku",
    "min": "70%",
    "rule": "point",
}


@pytest.mark.parametrize("stage", ["implementation", "review"])
def test_a_stage_whose_verification_failed_is_no_success(
    pytester: pytest.Pytester, stage: str
) -> None:
    """`verification: failed` on the Haiku ticket's implementation (or review) was never read:
    the ticket was a success, `success_rate[haiku]` 100 % passed `min: 70%`, YES. A failed
    verification is a fix the stage needed: made by the later review it is a fix loop, which
    `fix_loops: 0` denies (an error at the ticket); on a review that passed it contradicts the
    result (an error at the review)."""
    refused(
        pytester,
        [RATE],
        staged_haiku(**{stage: {"verification": "failed"}}),
        "tickets.R01: implementation.fix_loops is 0, but implementation required a fix "
        "(verification failed) that a later stage made"
        if stage == "implementation"
        else "tickets.R01.review: result is PASS but the review records verification failed",
    )


def test_a_verification_failed_that_nothing_fixed_is_a_failure(
    pytester: pytest.Pytester,
) -> None:
    """The sibling with no later stage to make the fix: the finalization `completed` with its
    verification failed. The ticket failed: 0 of 1, the rate fails (NO, not a pass)."""
    final: YamlData = {"model": "haiku", "actual_tokens": 1_000, "verification": "failed"}
    ticket = staged_haiku()
    ticket["finalization"] = {**final, "status": "completed"}
    Phase.of("b1", [RATE], {"R01": ticket}).write(pytester.path)
    result = run_phase(pytester, "b1")
    result.stdout.fnmatch_lines(["*0.0% (0 of 1*FAIL*", "Proceed to phase *: NO*"])
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_a_verification_failed_then_fixed_in_one_loop_is_a_success(
    pytester: pytest.Pytester,
) -> None:
    """No over-correction: the implementation's verification failed, a fix stage made the fix,
    `fix_loops: 1` says so, and the review passed on its second attempt: a success (at most
    one fix loop), 100 %, YES."""
    fix: YamlData = {"model": "haiku", "actual_tokens": 2_000, "status": "completed"}
    ticket = staged_haiku({"verification": "failed", "fix_loops": 1}, {"attempts": 2}, fix=fix)
    Phase.of("b1", [RATE], {"R01": ticket}).write(pytester.path)
    result = run_phase(pytester, "b1")
    result.stdout.fnmatch_lines(["*100.0% (1 of 1*PASS*", "Proceed to phase *: YES*"])
    assert result.ret == pytest.ExitCode.OK


REVIEW_CRITERIA: list[YamlData] = [
    {"id": "passed", "for_each": "ticket", "metric": "review_passed", "equals": True},
    {"id": "all-passed", "metric": "all_reviews_passed", "equals": True},
]


@pytest.mark.parametrize("status", ["failed", "requires_fix"])
def test_review_result_pass_beside_review_status_failed(
    pytester: pytest.Pytester, status: str
) -> None:
    """A review recorded `status: failed` (or `requires_fix`) with `result: PASS`: the success
    rate read the status, `review_passed` and `all_reviews_passed` the result, and passed:
    YES on a review the log says failed. Which is true only the reviewer knows: an error at
    the review, as a PASS beside a FAIL checklist item."""
    refused(
        pytester,
        REVIEW_CRITERIA,
        staged_haiku(review={"status": status}),
        f"tickets.R01.review: result is PASS but the review records status {status}",
    )


def test_review_result_pass_beside_status_completed_still_passes(
    pytester: pytest.Pytester,
) -> None:
    """No over-correction: a review `completed` (verification passed) that passed is passed."""
    ticket = staged_haiku(review={"status": "completed", "verification": "passed"})
    Phase.of("b1", REVIEW_CRITERIA, {"R01": ticket}).write(pytester.path)
    result = run_phase(pytester, "b1")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["Proceed to phase *: YES*"])


# ------------------------------------------------- review attempts that the fix loops refute


@pytest.mark.parametrize(
    ("criterion", "fix_loops", "attempts"),
    [
        (RATE, 1, 3),
        ({"id": "no-fix", "for_each": "ticket", "metric": "fix_loops", "max": 0}, 0, 2),
    ],
    ids=["rate-3-attempts-1-loop", "max-0-loops-2-attempts"],
)
def test_review_attempts_beyond_one_plus_the_fix_loops(
    pytester: pytest.Pytester, criterion: YamlData, fix_loops: int, attempts: int
) -> None:
    """A review that passed on its 3rd attempt failed twice, each failed attempt needing a fix
    before the next (the product derives `review_attempts` as 1 + fix_loops itself). Beside
    `fix_loops: 1` the Haiku ticket was a success, 100 %, YES; `attempts: 2` beside `fix_loops:
    0` passed `fix_loops max: 0`. The same contradiction as `fix_loops: 0` beside a fix stage:
    an error at the ticket naming both fields."""
    ticket = flat_ticket(
        complexity="mechanical",
        execution_model="haiku",
        fix_loops=fix_loops,
        review={"result": "PASS", "attempts": attempts},
    )
    refused(
        pytester,
        [criterion],
        ticket,
        f"tickets.R01: review.attempts is {attempts}, but fix_loops is {fix_loops}",
    )


def test_review_attempts_beyond_the_fix_loops_of_a_single_ticket_log(
    pytester: pytest.Pytester,
) -> None:
    """The sibling in the plan's single-ticket layout (stages at the top of the log): the error
    is at the log's implementation.fix_loops."""
    phase = Phase.of("b1", [RATE], {"R01": flat_ticket()})
    staged = staged_haiku(review={"attempts": 2})
    phase.log = {"implementation": staged["implementation"], "review": staged["review"]}
    phase.write(pytester.path)
    result = run_phase(pytester, "b1")
    assert_error(pytester, result, "review.attempts is 2, but implementation.fix_loops is 0")


def test_review_attempts_within_the_fix_loops_still_pass(pytester: pytest.Pytester) -> None:
    """No over-correction: 2 attempts beside 1 fix loop, and 1 attempt beside 2 fix loops (a
    fix loop may come before any review), are no contradiction: YES."""
    tickets = {
        "R01": flat_ticket(
            execution_model="haiku", fix_loops=1, review={"result": "PASS", "attempts": 2}
        ),
        "R02": flat_ticket(
            execution_model="haiku", fix_loops=1, review={"result": "PASS", "attempts": 1}
        ),
    }
    criteria: list[YamlData] = [RATE, {"id": "loops", "metric": "max_fix_loops", "max": 1}]
    Phase.of("b1", criteria, tickets).write(pytester.path)
    result = run_phase(pytester, "b1")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["Proceed to phase *: YES*"])


# ------------------------------------------------------------ shared planning not finished

PLANNING_IN_PROGRESS: YamlData = {
    "model": "sonnet",
    "actual_tokens": 5_000,
    "status": "in_progress",
}


@pytest.mark.parametrize(
    "criterion",
    [
        {"id": "tokens", "metric": "tokens", "measure": "total", "max": "50k"},
        {"id": "planning", "metric": "shared_planning_tokens", "measure": "total", "max": "10k"},
        {
            "id": "share",
            "for_each": "ticket",
            "metric": "tokens_with_planning_share",
            "measure": "total",
            "max": "30k",
        },
        {"id": "average", "metric": "per_ticket_average", "measure": "total", "max": "25k"},
        # a saving from them is an upper bound: 25 % of 60,000 proves no `min`
        {
            "id": "savings",
            "metric": "savings",
            "baseline": "single_agent",
            "measure": "total",
            "min": "20%",
        },
    ],
    ids=lambda c: str(c["id"]),
)
def test_shared_planning_in_progress_proves_no_max(
    pytester: pytest.Pytester, criterion: YamlData
) -> None:
    """Two finished tickets of 20,000 tokens and a `shared_planning` of 5,000 tokens `status:
    in_progress`: what the lead's planning used *so far*. It was read as final: `tokens` 45,000
    `max: 50k`, `shared_planning_tokens` 5,000 `max: 10k` (and a ticket's share) passed, YES.
    As for a ticket not finished: a lower bound that proves no `max`, and UNDECIDED at most."""
    Phase.of(
        "b1",
        [criterion],
        {"R01": flat_ticket(), "R02": flat_ticket()},
        planning=PLANNING_IN_PROGRESS,
    ).write(pytester.path)
    (pytester.path / "criteria" / "baselines.yaml").write_text(
        "baselines:\n  single_agent: {tokens_per_ticket: 30000}\n"
    )
    result = run_phase(pytester, "b1")
    assert_not_yes(pytester, result)
    result.stdout.fnmatch_lines(
        ["*the shared_planning of phase b1 has not finished (status in_progress)*"]
    )


def test_shared_planning_in_progress_proves_a_min_and_leaves_the_decision_undecided(
    pytester: pytest.Pytester,
) -> None:
    """A lower bound still proves a `min` (`tokens min: 40k` passes on at least 45,000), and
    the decision is UNDECIDED naming the planning, as for a ticket not finished (exit 1)."""
    criterion: YamlData = {"id": "tokens", "metric": "tokens", "measure": "total", "min": "40k"}
    Phase.of(
        "b1",
        [criterion],
        {"R01": flat_ticket(), "R02": flat_ticket()},
        planning=PLANNING_IN_PROGRESS,
    ).write(pytester.path)
    result = run_phase(pytester, "b1")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["Proceed to phase *: UNDECIDED*"])
    decision = read_report(pytester.path)["decisions"]["proceed"]
    assert decision["answer"] == "UNDECIDED"
    assert "shared_planning has not finished (status in_progress)" in decision["reasons"]
    assert result.ret != pytest.ExitCode.OK


def test_wall_time_beside_shared_planning_in_progress_proves_no_max(
    pytester: pytest.Pytester,
) -> None:
    """The sibling: the phase's wall time spans shared planning, which may run on: a lower
    bound, so `max: 60` fails on the 10 minutes stamped so far."""
    planning: YamlData = {
        **PLANNING_IN_PROGRESS,
        "start_time": "2026-02-09T08:55:00Z",
        "end_time": "2026-02-09T09:00:00Z",
    }
    ticket = flat_ticket(implementation=IMPLEMENTATION_5_MIN, review=REVIEW_5_MIN)
    criterion: YamlData = {"id": "wall", "metric": "wall_time_minutes", "max": 60}
    Phase.of("b1", [criterion], {"R01": ticket}, planning=planning).write(pytester.path)
    result = run_phase(pytester, "b1")
    assert_not_yes(pytester, result)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*shared_planning of phase b1 has not finished*"])


@pytest.mark.parametrize("status", ["in_progress", "completed"])
def test_a_limit_from_a_phase_whose_planning_runs_proves_no_min(
    pytester: pytest.Pytester, status: str
) -> None:
    """Another phase reads the same bound: p2 (55,000 tokens, finished) holds `tokens min:
    {phase: b1, metric: tokens}`, b1 at 45,000 so far with its planning `in_progress`: b1 may
    still grow past p2, so the limit proves no `min` (NO, naming b1's planning); with b1's
    planning completed it passes (YES)."""
    Phase.of(
        "b1",
        [{"id": "own", "metric": "tickets", "min": 1}],
        {"R01": flat_ticket(), "R02": flat_ticket()},
        planning={**PLANNING_IN_PROGRESS, "status": status},
    ).write(pytester.path)
    limit: YamlData = {"phase": "b1", "metric": "tokens", "measure": "total"}
    criterion: YamlData = {"id": "c", "metric": "tokens", "measure": "total", "min": limit}
    planning: YamlData = {"model": "sonnet", "actual_tokens": 5_000, "status": "completed"}
    tickets = {"R01": flat_ticket(actual_tokens=25_000), "R02": flat_ticket(actual_tokens=25_000)}
    Phase.of("p2", [criterion], tickets, planning=planning).write(pytester.path)
    result = run_phase(pytester, "p2")
    if status == "completed":
        result.assert_outcomes(passed=1)
        result.stdout.fnmatch_lines(["Proceed to phase *: YES*"])
        return
    assert_not_yes(pytester, result)
    result.stdout.fnmatch_lines(["*the shared_planning of phase b1 has not finished*"])


def test_the_break_even_of_a_phase_whose_planning_runs_names_it(
    pytester: pytest.Pytester,
) -> None:
    """The break-even from planning used so far is only a bound, and its line says why: the
    shared planning not finished (not "sub-agent output no record gives")."""
    from pytest_orchphase.decide.breakeven import break_even
    from pytest_orchphase.evaluate.runner import PhaseRunner

    Phase.of(
        "b1",
        [{"id": "own", "metric": "tickets", "min": 1}],
        {"R01": flat_ticket(), "R02": flat_ticket()},
        planning=PLANNING_IN_PROGRESS,
    ).write(pytester.path)
    (pytester.path / "criteria" / "baselines.yaml").write_text(
        "baselines:\n  single_agent: {tokens_per_ticket: 30000}\n"
    )
    root = pytester.path
    runner = PhaseRunner(root / "criteria", root / "docs" / "orchestration-data")
    line = break_even(runner, "b1").line
    assert "shared_planning of phase b1 has not finished" in line, line
    assert "sub-agent" not in line, line

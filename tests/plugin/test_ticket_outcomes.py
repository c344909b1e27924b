"""What counts as a ticket's success, and a stage that ran without figures (round 20, part F).

A ticket whose work is not finished is no success: its outcome is not known yet, so a rate over
it (success_rate, pass@k, pass^k) is unknown, never a pass, whatever the operator; the adoption
decision (a minimum rate only) counts it as not succeeded. A stage that ran without figures
makes a phase-level sum over that stage unknown, as it does the ticket's own figure. A review
whose result contradicts its checklist is an error at the field. A rate over the runs of the
phases a phase requires judges the runs on its model only, never this phase's run on another.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_orchphase.decide.adoption import adoption
from pytest_orchphase.errors import MetricUnavailable
from pytest_orchphase.evaluate.runner import PhaseRunner
from pytest_orchphase.metrics.registry import MetricContext, metric_value
from pytest_orchphase.usage.accounts import Accounts
from pytest_orchphase.usage.value import Usage
from tests.helpers import (
    A1_LOG,
    BASELINES,
    Phase,
    decision,
    example_baselines,
    rate_phase,
    read_report,
    run_phase,
    write_yaml,
)

UNFINISHED = ["in_progress", "pending", "requires_fix"]


def runner(root: Path) -> PhaseRunner:
    return PhaseRunner(root / "criteria", root / "docs" / "orchestration-data")


def write_a1(root: Path, a1: Phase) -> PhaseRunner:
    """The example's a1 (changed) with the shipped baselines its criteria name."""
    write_yaml(root / BASELINES, example_baselines())
    a1.write(root)
    return runner(root)


# ----------------------------------------------------------------- unfinished tickets: success_rate


@pytest.mark.parametrize("status", UNFINISHED)
def test_a_ticket_that_has_not_finished_is_not_a_success(
    project: pytest.Pytester, status: str
) -> None:
    """T02 is still `in_progress` (or `pending`, or `requires_fix`), with no review yet: it used
    to count as a success, and 2 of 2 passed `success_rate min 70%` (rule point)."""
    phase = rate_phase(2, 2, criterion={"rule": "point"})
    unfinished = phase.ticket("T02")
    unfinished["status"] = status
    del unfinished["review"]
    phase.write(project.path)
    result = project.runpytest("--phase", "p1", "-p", "no:randomly", "--orchphase-json", "r.json")
    result.stdout.no_fnmatch_line("Proceed to phase *: YES*")
    assert result.ret != pytest.ExitCode.OK
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([f"*ticket T02 has not finished (status {status})*"])
    assert read_report(project.path)["decisions"]["proceed"]["answer"] == "NO"


@pytest.mark.parametrize("operator", ["min", "max"])
def test_an_unfinished_ticket_makes_the_rate_unknown_whatever_the_operator(
    project: pytest.Pytester, operator: str
) -> None:
    """Counted as a failure, 1 of 2 (50 %) would pass `max: 60%`; counted as a success, 2 of 2
    would pass `min: 70%`: only "unknown" is never a wrong pass."""
    limit = {"min": "70%", "max": "60%"}[operator]
    phase = rate_phase(2, 2, criterion={"rule": "point", operator: limit})
    rate = phase.criteria["criteria"][0]
    if operator == "max":
        del rate["min"]
    phase.ticket("T02")["status"] = "in_progress"
    phase.write(project.path)
    result = project.runpytest("--phase", "p1", "-p", "no:randomly")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*cannot be evaluated: ticket T02 has not finished*"])
    assert result.ret == pytest.ExitCode.TESTS_FAILED


@pytest.mark.parametrize("status", ["in_progress", "pending"])
def test_a_stage_still_running_leaves_its_ticket_unfinished(
    project: pytest.Pytester, status: str
) -> None:
    """The ticket says nothing, but its implementation stage is still running."""
    phase = rate_phase(2, 2, criterion={"rule": "point"})
    phase.ticket("T02")["implementation"] = {"model": "haiku", "status": status}
    phase.write(project.path)
    result = project.runpytest("--phase", "p1", "-p", "no:randomly")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([f"*ticket T02 has not finished (implementation {status})*"])


def test_finished_tickets_still_pass_the_rate(project: pytest.Pytester) -> None:
    """No over-correction: completed tickets, and an implementation that required a fix and was
    then reviewed PASS (the plan's A2 record), are successes; 2 of 2 pass `min 70%`."""
    phase = rate_phase(2, 2, criterion={"rule": "point"})
    phase.ticket("T01")["status"] = "completed"
    phase.ticket("T02")["implementation"] = {"model": "haiku", "status": "requires_fix"}
    phase.ticket("T02")["fix_loops"] = 1
    phase.write(project.path)
    result = project.runpytest("--phase", "p1", "-p", "no:randomly")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*success_rate[[]haiku[]]  100.0% (2 of 2*PASS", "Proceed*: YES*"])


def test_a_stage_that_required_a_fix_with_nothing_after_it_is_unfinished(
    tmp_path: Path,
) -> None:
    phase = rate_phase(2, 2)
    phase.ticket("T02")["implementation"] = {"model": "haiku", "status": "requires_fix"}
    phase.ticket("T02")["review"] = {"attempts": 1}  # no result: the fix is not shown done
    phase.write(tmp_path)
    with pytest.raises(MetricUnavailable, match=r"T02 has not finished \(implementation requires"):
        metric_value(runner(tmp_path).context("p1"), "success_rate", model="haiku")


# ------------------------------------------------------------- unfinished tickets: pass@k, pass^k


def _twice(root: Path, status: str | None) -> PhaseRunner:
    """Three tickets run in p1 and again in p2, all with 0 fix loops; T03's p2 run ``status``."""
    rate_phase(3, 3).write(root)
    p2 = rate_phase(3, 3, phase="p2", requires=["p1"])
    if status is not None:
        p2.ticket("T03")["status"] = status
        del p2.ticket("T03")["review"]
    p2.write(root)
    return runner(root)


@pytest.mark.parametrize("metric", ["pass_at_k", "pass_hat_k"])
@pytest.mark.parametrize("status", UNFINISHED)
def test_an_unfinished_run_makes_pass_at_k_unknown(
    tmp_path: Path, metric: str, status: str
) -> None:
    """T03's second run is not finished: counted as a success (as before) pass^2 was 100 %;
    left out, T03 would drop below k runs and the rest would read 100 % too."""
    ctx = _twice(tmp_path, status).context("p2")
    with pytest.raises(MetricUnavailable, match=r"T03 has not finished.*phase p2"):
        metric_value(ctx, metric, k=2, model="haiku")
    with pytest.raises(MetricUnavailable, match="T03 has not finished"):
        metric_value(ctx, metric, k=1)


@pytest.mark.parametrize("metric", ["pass_at_k", "pass_hat_k"])
def test_finished_runs_still_give_pass_at_k(tmp_path: Path, metric: str) -> None:
    assert metric_value(_twice(tmp_path, None).context("p2"), metric, k=2) == 100.0


def test_a_run_without_fix_loops_makes_pass_at_k_unknown(tmp_path: Path) -> None:
    """Sibling: a run without fix_loops used to be left out of its ticket's runs; with three
    runs of T03 (p1, p2, p3) and the p3 run unrecorded, pass^2 read 100 % over the two others,
    though the third may have needed three fix loops."""
    rate_phase(3, 3).write(tmp_path)
    rate_phase(3, 3, phase="p2", requires=["p1"]).write(tmp_path)
    p3 = rate_phase(3, 3, phase="p3", requires=["p2"])
    del p3.ticket("T03")["fix_loops"]
    p3.write(tmp_path)
    with pytest.raises(MetricUnavailable, match=r"T03 records no fix_loops \(phase p3\)"):
        metric_value(runner(tmp_path).context("p3"), "pass_hat_k", k=2)


def test_a_ticket_run_fewer_than_k_times_does_not_need_a_known_outcome(tmp_path: Path) -> None:
    """pass@2 averages the tickets run at least twice: T04, run once and unfinished, is not one
    of them, so it does not make the figure unknown."""
    rate_phase(3, 3).write(tmp_path)
    p2 = rate_phase(3, 3, phase="p2", requires=["p1"])
    p2.log["tickets"]["T04"] = {
        "complexity": "mechanical",
        "execution_model": "haiku",
        "actual_tokens": 20000,
        "status": "in_progress",
    }
    p2.metadata["tickets"].append("T04")
    p2.write(tmp_path)
    assert metric_value(runner(tmp_path).context("p2"), "pass_hat_k", k=2) == 100.0


# ------------------------------------------------------------------ unfinished tickets: adoption


def test_an_unfinished_ticket_is_not_a_success_for_adoption(tmp_path: Path) -> None:
    """9 successes and one ticket in progress: counted as a success it read 10 of 10 (YES);
    left out, 9 of 9 (YES). Not succeeded, 9 of 10 leaves the interval straddling 70 %."""
    phase = rate_phase(10, 10)
    phase.ticket("T10")["status"] = "in_progress"
    del phase.ticket("T10")["review"]
    phase.write(tmp_path)
    decided = adoption(runner(tmp_path), "p1")
    assert decided is not None
    assert (decided.answer, decided.successes, decided.sample_size) == ("INCONCLUSIVE", 9, 10)
    assert decided.unfinished == 1
    assert "1 run(s) not finished, counted as not succeeded" in decided.line


def test_finished_tickets_still_adopt(tmp_path: Path) -> None:
    rate_phase(10, 10).write(tmp_path)
    decided = adoption(runner(tmp_path), "p1")
    assert decided is not None and decided.answer == "YES" and decided.unfinished == 0


def test_the_adoption_line_says_a_ticket_was_unfinished(project: pytest.Pytester) -> None:
    phase = rate_phase(10, 10, criterion={"rule": "point"})
    phase.ticket("T10")["status"] = "pending"
    phase.write(project.path)
    result = project.runpytest("--phase", "p1", "-p", "no:randomly")
    result.stdout.fnmatch_lines(
        ["Adopt haiku for mechanical tickets: INCONCLUSIVE — 9 of 10 *not finished*"]
    )


# ------------------------------------------------------ a stage that ran without figures: the sum


def _review_total(a1: Phase) -> None:
    a1.criteria["criteria"] = [
        {
            "id": "review-total",
            "metric": "stage_tokens",
            "stage": "review",
            "measure": "total",
            "max": "8k",
        }
    ]


@pytest.mark.parametrize("measure", ["total", "output", "usd"])
def test_a_stage_that_ran_without_figures_does_not_shrink_the_phase_stage_total(
    project: pytest.Pytester, measure: str
) -> None:
    """R06's review ran (result PASS, stamps) but records no tokens: the phase-level sum used to
    be R03's 4,800 alone and passed `max: 8k` (R06's review had recorded 9,800). Unknown in
    every measure, before the measure is read."""
    a1 = Phase.example("a1")
    review = a1.stage("R06", "review")
    del review["estimated_tokens"], review["actual_tokens"]
    _review_total(a1)
    a1.criteria["criteria"][0]["measure"] = measure
    if measure == "usd":
        a1.criteria["criteria"][0]["max"] = "$1"
    a1.write(project.path)
    result = project.runpytest("--phase", "a1", "-p", "no:randomly")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*cannot be evaluated: ticket R06's review stage ran but records no tokens*"]
    )
    result.stdout.no_fnmatch_line("Proceed to phase a2: YES*")
    assert result.ret == pytest.ExitCode.TESTS_FAILED


@pytest.mark.parametrize("status", ["in_progress", "completed", "failed", "requires_fix"])
def test_any_status_of_a_stage_that_ran_makes_the_sum_unknown(tmp_path: Path, status: str) -> None:
    a1 = Phase.example("a1")
    review = a1.stage("R06", "review")
    del review["estimated_tokens"], review["actual_tokens"]
    review["status"] = status
    if status in ("failed", "requires_fix"):  # a review that passed did neither
        review["result"] = "FAIL"
    with pytest.raises(MetricUnavailable, match="R06's review stage ran but records no tokens"):
        metric_value(write_a1(tmp_path, a1).context("a1"), "stage_tokens", stage="review")


@pytest.mark.parametrize("status", ["skipped", "pending"])
def test_a_stage_that_did_not_run_still_adds_nothing(project: pytest.Pytester, status: str) -> None:
    """No over-correction: R06's review marked as not run adds 0, and R03's 4,800 passes."""
    a1 = Phase.example("a1")
    review = a1.stage("R06", "review")
    del review["estimated_tokens"], review["actual_tokens"]
    review["status"] = status
    review.pop("result")  # a review that has not run has no result (PASS beside it is an error)
    _review_total(a1)
    a1.write(project.path)
    result = project.runpytest("--phase", "a1", "-p", "no:randomly")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*stage_tokens[[]review*4,800*"])


def test_a_ticket_without_the_stage_adds_nothing(tmp_path: Path) -> None:
    """No over-correction: R06 has no monitoring stage at all (nothing ran there), so the
    phase's monitoring tokens are R03's."""
    a1 = Phase.example("a1")
    del a1.ticket("R06")["monitoring"]
    ctx = write_a1(tmp_path, a1).context("a1")
    r03 = a1.stage("R03", "monitoring")["actual_tokens"]
    assert metric_value(ctx, "stage_tokens", stage="monitoring") == r03


def test_a_flat_ticket_makes_a_phase_stage_sum_unknown(tmp_path: Path) -> None:
    """A flat ticket records its tokens as a whole: its review's share is inside that figure, so
    the phase's review sum over the other tickets would be short of it."""
    a1 = Phase.example("a1")
    a1.log["tickets"]["R07"] = {
        "complexity": "mechanical",
        "execution_model": "haiku",
        "actual_tokens": 30000,
        "fix_loops": 0,
        "review": {"result": "PASS"},
    }
    a1.metadata["tickets"].append("R07")
    with pytest.raises(MetricUnavailable, match="R07 records its tokens for the whole ticket"):
        metric_value(write_a1(tmp_path, a1).context("a1"), "stage_tokens", stage="review")


def test_a_measured_ticket_without_measured_usage_for_a_stage_that_ran(tmp_path: Path) -> None:
    """Measured accounts: R06's review ran (in the log) but no measured call was attributed to
    it, and R06 is counted from measurement alone: the sum is unknown, as R06's own figure is.
    A ticket the transcripts could not place (unknown) makes it unknown too."""
    phase = write_a1(tmp_path, Phase.example("a1")).load("a1")
    review = Usage.recorded(4800)
    measured = Accounts(
        planning=None,
        stages={"R03": {"review": review}, "R06": {"implementation": Usage.recorded(9000)}},
        flat={"R03": review, "R06": Usage.recorded(9000)},
        measured=True,
    )
    ctx = MetricContext(phase=phase, accounts=measured)
    with pytest.raises(MetricUnavailable, match="R06's review stage ran but records no tokens"):
        metric_value(ctx, "stage_tokens", stage="review")
    unplaced = Accounts(
        planning=None,
        stages={"R03": {"review": review}},
        flat={"R03": review},
        unknown={"R06": "ticket R06 has no measured usage while some calls could not be placed"},
        measured=True,
    )
    with pytest.raises(MetricUnavailable, match="R06 has no measured usage"):
        metric_value(MetricContext(phase=phase, accounts=unplaced), "stage_tokens", stage="review")


# ---------------------------------------------------- a review that passed with a failed checklist


def test_a_review_that_passed_with_a_failed_checklist_item_is_not_a_quiet_pass(
    project: pytest.Pytester,
) -> None:
    """R03's review says `result: PASS` beside `"Code compiles": FAIL`: which is true only the
    reviewer knows, so the log is refused at the field (it used to say YES without a word)."""
    a1 = Phase.example("a1")
    a1.stage("R03", "review")["checklist_results"] = [
        {"Code compiles": "FAIL"},
        {"Follows pattern": "PASS"},
    ]
    a1.write(project.path)
    result = project.runpytest("--phase", "a1", "-p", "no:randomly")
    assert result.ret == pytest.ExitCode.INTERRUPTED  # a collection error
    result.stdout.fnmatch_lines(
        [
            f"*{A1_LOG}:*: tickets.R03.review: result is PASS but checklist_results records "
            "'Code compiles' as FAIL*correct the result or the checklist*"
        ]
    )
    result.stdout.no_fnmatch_line("Proceed to phase a2: YES*")
    result.stdout.no_fnmatch_line("*Traceback*")


def test_a_failed_checklist_item_fails_a_review_without_a_result(tmp_path: Path) -> None:
    """Sibling: a review with no result but a checklist item FAIL recorded a failure; the
    success rate used to count the ticket as a success (only `result: FAIL` was a failure)."""
    phase = rate_phase(2, 2)
    phase.ticket("T02")["review"] = {"checklist_results": [{"Code compiles": "FAIL"}]}
    phase.write(tmp_path)
    assert metric_value(runner(tmp_path).context("p1"), "success_rate", model="haiku") == 50.0


def test_a_review_that_failed_with_every_item_passing_is_still_accepted(tmp_path: Path) -> None:
    """A review can fail for a reason the checklist does not list: FAIL beside items that all
    passed is no contradiction, and the ticket is no success."""
    phase = rate_phase(2, 2)
    phase.ticket("T02")["review"] = {
        "result": "FAIL",
        "checklist_results": [{"Code compiles": "PASS"}],
    }
    phase.write(tmp_path)
    assert metric_value(runner(tmp_path).context("p1"), "success_rate", model="haiku") == 50.0


# ---------------------------------------------------------------- a key that belongs elsewhere


def test_a_stage_key_on_a_flat_ticket_says_where_it_belongs(project: pytest.Pytester) -> None:
    """`start_time` on a flat ticket used to get "unknown key 'start_time'; did you mean
    'start_time'?": a suggestion must never name the key itself; the key belongs in a stage."""
    phase = rate_phase(2, 2)
    phase.ticket("T01")["start_time"] = "2026-02-07T10:00:00Z"
    phase.write(project.path)
    result = project.runpytest("--phase", "p1", "-p", "no:randomly")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(
        [
            "*execution-log.yaml:*: tickets.T01.start_time: unknown key 'start_time' here; it "
            "belongs under shared_planning, branch_creation, implementation, fix, monitoring, "
            "review or finalization"
        ]
    )
    result.stdout.no_fnmatch_line("*did you mean 'start_time'*")


def test_a_typo_still_gets_its_suggestion(project: pytest.Pytester) -> None:
    phase = rate_phase(2, 2)
    phase.ticket("T01")["fix_loop"] = 0
    phase.write(project.path)
    result = project.runpytest("--phase", "p1", "-p", "no:randomly")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(["*tickets.T01.fix_loop: unknown key 'fix_loop'; did you mean*"])


def test_a_declared_stage_total_over_a_stage_without_figures_is_not_checked(
    project: pytest.Pytester,
) -> None:
    """Sibling: the declared-totals check summed the reviews that record figures, so a declared
    `totals.review` of R03's 4,800 alone read as checked while R06's review is unknown."""
    a1 = Phase.example("a1")
    review = a1.stage("R06", "review")
    del review["estimated_tokens"], review["actual_tokens"]
    a1.log["totals"]["review"] = 4800
    a1.write(project.path)
    result = project.runpytest("--phase", "a1", "-p", "no:randomly")
    result.stdout.fnmatch_lines(
        [
            "*totals.review declares 4,800, not checked: ticket R06's review stage ran but "
            "records no tokens*"
        ]
    )


def test_a_run_without_fix_loops_is_not_a_success_for_adoption(tmp_path: Path) -> None:
    """Sibling: a run without fix_loops was left out of the adoption's pool, so 9 successes and
    one unrecorded ticket read 9 of 9 (YES), though it may have needed three fix loops."""
    phase = rate_phase(10, 10)
    del phase.ticket("T10")["fix_loops"]
    phase.write(tmp_path)
    decided = adoption(runner(tmp_path), "p1")
    assert decided is not None
    assert (decided.answer, decided.successes, decided.sample_size) == ("INCONCLUSIVE", 9, 10)
    assert (
        "1 run(s) without fix_loops, a review result or an implementation that ran, counted as "
        "not succeeded" in decided.line
    )


def test_a_rate_over_earlier_phases_runs_does_not_judge_this_phases_other_run(
    pytester: pytest.Pytester,
) -> None:
    review = {"result": "PASS", "attempts": 1}
    done = {"actual_tokens": 20_000, "fix_loops": 0, "review": review}
    rate = {"id": "pass", "metric": "pass_at_k", "k": 1, "model": "haiku", "min": "100%"}
    Phase.of("p1", [rate], {"R01": {**done, "execution_model": "haiku"}}).write(pytester.path)
    failed = {**done, "execution_model": "sonnet", "status": "failed"}
    Phase.of("p2", [rate], {"R01": failed}, requires=["p1"]).write(pytester.path)
    first = run_phase(pytester, "p1")
    assert (decision(pytester), first.ret) == ("YES", 0), first.stdout.str()
    result = run_phase(pytester, "p2")
    assert decision(pytester) != "YES", result.stdout.str()
    assert result.ret != 0

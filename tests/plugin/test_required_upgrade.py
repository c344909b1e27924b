"""A ticket whose error required a larger model is no success of the model it was executed on, nor
is a ticket whose fix another model made (a larger one, or another version of the family)."""

from __future__ import annotations

import pytest

from tests.helpers import (
    ALL_HAIKU_SUCCEED,
    Phase,
    YamlData,
    assert_not_yes,
    haiku_ticket,
    rate_on,
    run_phase,
)


def _phase(upgrade: str, fix_model: str) -> Phase:
    r01: YamlData = {
        "implementation": {
            "model": "haiku",
            "actual_tokens": 8_000,
            "status": "completed",
            "fix_loops": 1,
            "errors_encountered": [
                {
                    "type": "architectural",
                    "description": "lifecycle observer needs a redesign",
                    "required_upgrade": upgrade,
                }
            ],
        },
        "fix": {"model": fix_model, "actual_tokens": 9_000, "status": "completed"},
        "review": {"result": "PASS", "attempts": 2, "actual_tokens": 1_000},
    }
    criterion = {
        "id": "haiku-success",
        "metric": "success_rate",
        "model": "haiku",
        "min": "100%",
        "rule": "point",
    }
    return Phase.of("g1", [criterion], {"R01": r01})


@pytest.mark.parametrize(("upgrade", "fix_model"), [("opus", "opus"), ("sonnet", "sonnet")])
def test_a_haiku_ticket_that_needed_a_larger_model_is_no_haiku_success(
    pytester: pytest.Pytester, upgrade: str, fix_model: str
) -> None:
    """R01 ran on Haiku, which could not do it: its error says `required_upgrade: opus` and
    the fix ran on Opus; the review then passed, after one fix loop. Haiku's success rate
    counted it (1 of 1, YES): the work that succeeded was the larger model's."""
    _phase(upgrade, fix_model).write(pytester.path)
    result = pytester.runpytest("--phase", "g1", "-p", "no:randomly")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*success_rate[[]haiku[]] 0.0% < min 100.0% (0 of 1;*"])
    result.stdout.no_fnmatch_line("Proceed to phase *: YES*")


@pytest.mark.parametrize("upgrade", ["no", "haiku_retry"])
def test_a_haiku_ticket_that_retried_on_its_own_is_still_a_success(
    pytester: pytest.Pytester, upgrade: str
) -> None:
    """A fix Haiku made itself (`haiku_retry`), or an error that needed no upgrade, within one
    fix loop is the plan's Haiku success (its A2 example's R03)."""
    _phase(upgrade, "haiku").write(pytester.path)
    result = pytester.runpytest("--phase", "g1", "-p", "no:randomly")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*success_rate[[]haiku[]]*100.0% (1 of 1;*"])


@pytest.mark.parametrize("fix_model", ["sonnet", "opus", "claude-opus-4-20250514"])
def test_a_haiku_ticket_fixed_on_a_larger_model_is_no_haiku_success(
    pytester: pytest.Pytester, fix_model: str
) -> None:
    """Round 6: with no error recording an upgrade, the fix stage that ran on Sonnet (or Opus)
    did Haiku's work as much as a `required_upgrade: sonnet` says: no Haiku success."""
    _phase("no", fix_model).write(pytester.path)
    result = pytester.runpytest("--phase", "g1", "-p", "no:randomly")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*success_rate[[]haiku[]] 0.0% < min 100.0% (0 of 1;*"])


def test_a_fix_stage_on_a_larger_model_that_did_not_run_leaves_the_success(
    pytester: pytest.Pytester,
) -> None:
    """No over-correction: a fix stage planned on Sonnet but `status: skipped` did no work (the
    review's second attempt followed Haiku's own fix): still Haiku's success."""
    phase = _phase("no", "sonnet")
    phase.ticket("R01")["fix"]["status"] = "skipped"
    phase.write(pytester.path)
    result = pytester.runpytest("--phase", "g1", "-p", "no:randomly")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*success_rate[[]haiku[]]*100.0% (1 of 1;*"])


def test_a_sonnet_ticket_fixed_on_opus_is_no_sonnet_success(pytester: pytest.Pytester) -> None:
    """The sibling one size up: Sonnet's ticket whose fix Opus made is no Sonnet success."""
    phase = _phase("no", "opus")
    r01 = phase.ticket("R01")
    r01["implementation"]["model"] = "sonnet"
    phase.criteria["criteria"][0]["model"] = "sonnet"
    phase.write(pytester.path)
    result = pytester.runpytest("--phase", "g1", "-p", "no:randomly")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*success_rate[[]sonnet[]] 0.0% < min 100.0% (0 of 1;*"])


def test_a_fix_made_by_a_larger_model_is_no_success_of_the_smaller(
    pytester: pytest.Pytester,
) -> None:
    ticket = haiku_ticket(
        {"actual_tokens": 2_000, "status": "requires_fix", "fix_loops": 1},
        {"result": "PASS", "attempts": 2, "actual_tokens": 1_000, "status": "completed"},
    )
    ticket["fix"] = {"model": "sonnet", "actual_tokens": 2_000, "status": "completed"}
    ticket["review"] = ticket.pop("review")  # the fix before the review, as the stages run
    Phase.of("p1", [ALL_HAIKU_SUCCEED], {"T01": ticket}).write(pytester.path)
    result = run_phase(pytester, "p1")
    assert_not_yes(pytester, result)


def test_a_fix_by_another_model_of_the_family_is_no_success_of_the_ticket_model(
    pytester: pytest.Pytester,
) -> None:
    ticket = {
        "execution_model": "claude-3-5-haiku-20241022",
        "complexity": "mechanical",
        "implementation": {
            "model": "claude-3-5-haiku-20241022",
            "fix_loops": 1,
            "status": "completed",
            "actual_tokens": 5_000,
        },
        "fix": {"model": "claude-haiku-4-5-20251001", "status": "completed", "actual_tokens": 4000},
        "review": {"result": "PASS", "attempts": 2, "actual_tokens": 3_000, "status": "completed"},
    }
    Phase.of("p1", [rate_on("claude-3-5-haiku")], {"T01": ticket}).write(pytester.path)
    result = run_phase(pytester, "p1")
    assert_not_yes(pytester, result)

"""The fixes a ticket's stages record bound its fix loops from below, and a stage makes a fix
only if it did not end before the work it fixes began (by their stamps)."""

from __future__ import annotations

import pytest

from tests.helpers import ALL_HAIKU_SUCCEED, Phase, YamlData, assert_not_yes, run_phase


def _ticket(loops: int, fix_verification: str | None) -> YamlData:
    """R01: its implementation needed a fix (made by the fix stage); the fix's own
    verification ``fix_verification``; a review that passed."""
    fix: YamlData = {"model": "haiku", "actual_tokens": 3_000, "status": "completed"}
    if fix_verification:
        fix["verification"] = fix_verification
    return {
        "execution_model": "haiku",
        "implementation": {
            "model": "haiku",
            "fix_loops": loops,
            "actual_tokens": 9_000,
            "status": "requires_fix",
        },
        "fix": fix,
        "review": {"model": "sonnet", "result": "PASS", "attempts": 1, "status": "completed"},
    }


@pytest.mark.parametrize(
    ("loops", "fix_verification", "error"),
    [
        (1, "failed", "implementation.fix_loops is 1, but implementation required a fix*"),
        (0, "failed", "implementation.fix_loops is 0, but the fix stage ran*"),
        (0, None, "implementation.fix_loops is 0, but the fix stage ran*"),
    ],
)
def test_fix_loops_fewer_than_the_fixes_made_are_an_error(
    pytester: pytest.Pytester, loops: int, fix_verification: str | None, error: str
) -> None:
    Phase.of("p1", [ALL_HAIKU_SUCCEED], {"R01": _ticket(loops, fix_verification)}).write(
        pytester.path
    )
    result = run_phase(pytester, "p1")
    assert_not_yes(pytester, result)
    result.stdout.fnmatch_lines([f"*execution-log.yaml*{error}"])


@pytest.mark.parametrize(("loops", "fix_verification"), [(2, "failed"), (1, None), (3, "passed")])
def test_fix_loops_that_cover_the_fixes_made_are_judged(
    pytester: pytest.Pytester, loops: int, fix_verification: str | None
) -> None:
    """No over-correction: as many loops as fixes (or more) is no error; within the default
    one fix loop of a success, the phase proceeds."""
    Phase.of("p1", [ALL_HAIKU_SUCCEED], {"R01": _ticket(loops, fix_verification)}).write(
        pytester.path
    )
    result = run_phase(pytester, "p1")
    assert "fix loop of its own" not in result.stdout.str(), result.stdout.str()
    assert result.ret == (0 if loops <= 1 else 1), result.stdout.str()


def _stamped(start: str, end: str) -> YamlData:
    return {"start_time": f"2026-02-07T{start}:00Z", "end_time": f"2026-02-07T{end}:00Z"}


@pytest.mark.parametrize("with_fix", [False, True])
def test_a_stage_that_ended_before_the_work_began_made_no_fix(
    pytester: pytest.Pytester, with_fix: bool
) -> None:
    """The implementation's verification failed at 10:00–10:30; the review that passed (and
    the fix stage, when there is one) ended before 10:00: they fixed nothing, the failure
    stands (not YES). Stamped after the work, the same stages make the fix: YES."""

    def ticket(start: str, end: str) -> YamlData:
        implementation = {
            "model": "haiku",
            "fix_loops": 1,
            "actual_tokens": 9_000,
            "status": "completed",
            "verification": "failed",
            **_stamped("10:00", "10:30"),
        }
        out: YamlData = {"execution_model": "haiku", "implementation": implementation}
        if with_fix:
            out["fix"] = {"model": "haiku", "status": "completed", **_stamped(start, end)}
        review = {"model": "sonnet", "result": "PASS", "attempts": 1, "status": "completed"}
        out["review"] = {**review, **_stamped(end, end)}
        return out

    Phase.of("p1", [ALL_HAIKU_SUCCEED], {"R01": ticket("09:00", "09:10")}).write(pytester.path)
    result = run_phase(pytester, "p1")
    assert_not_yes(pytester, result)
    Phase.of("p1", [ALL_HAIKU_SUCCEED], {"R01": ticket("10:31", "10:40")}).write(pytester.path)
    result = run_phase(pytester, "p1")
    assert result.ret == 0, result.stdout.str()


def test_a_review_stamped_before_the_failed_work_did_not_fix_it(
    pytester: pytest.Pytester,
) -> None:
    implementation = {
        "model": "haiku",
        "fix_loops": 1,
        "actual_tokens": 9_000,
        "status": "completed",
        "verification": "failed",
        "start_time": "2026-02-07T10:00:00Z",
        "end_time": "2026-02-07T10:30:00Z",
    }
    review = {
        "model": "sonnet",
        "actual_tokens": 2_000,
        "result": "PASS",
        "attempts": 1,
        "status": "completed",
        "start_time": "2026-02-07T09:00:00Z",
        "end_time": "2026-02-07T09:10:00Z",
    }
    ticket = {"execution_model": "haiku", "implementation": implementation, "review": review}
    Phase.of("p1", [ALL_HAIKU_SUCCEED], {"R01": ticket}).write(pytester.path)
    result = run_phase(pytester, "p1")
    assert_not_yes(pytester, result)


def test_fix_loops_below_the_fixes_the_stages_record_is_an_error(
    pytester: pytest.Pytester,
) -> None:
    ticket = {
        "execution_model": "haiku",
        "implementation": {
            "model": "haiku",
            "fix_loops": 1,
            "actual_tokens": 9_000,
            "status": "requires_fix",
        },
        "fix": {
            "model": "haiku",
            "actual_tokens": 3_000,
            "status": "completed",
            "verification": "failed",
        },
        "review": {
            "model": "sonnet",
            "actual_tokens": 2_000,
            "result": "PASS",
            "attempts": 1,
            "status": "completed",
        },
    }
    one_loop = {"id": "loops", "metric": "max_fix_loops", "max": 1}
    Phase.of("p1", [ALL_HAIKU_SUCCEED, one_loop], {"R01": ticket}).write(pytester.path)
    result = run_phase(pytester, "p1")
    assert_not_yes(pytester, result)

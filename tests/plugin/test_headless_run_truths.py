"""What a headless `claude -p` result says of itself bounds what the phase may claim: the
time its run took (``duration_ms``) and the cost Claude Code gives it. The honest cases pass."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import Phase, YamlData, assert_not_yes, decision, result_object, run_phase

WALL_30: YamlData = {"id": "wall", "metric": "wall_time_minutes", "max": 30}
MINUTE_MS = 60_000


def _stamped(start: str, end: str) -> YamlData:
    return {
        "start_time": f"2026-02-07T{start}:00Z",
        "end_time": f"2026-02-07T{end}:00Z",
        "status": "completed",
    }


def _timed_phase(
    pytester: pytest.Pytester, minutes: float, entry: dict[str, Any], criterion: YamlData = WALL_30
) -> None:
    """Phase p1: R01 implemented 10:00-10:20, reviewed 10:20-10:25 (on Haiku), one headless run
    of ``minutes`` named by the ``sessions:`` entry ``entry`` (its path added)."""
    ticket = {
        "execution_model": "haiku",
        "implementation": {"model": "haiku", "fix_loops": 0, **_stamped("10:00", "10:20")},
        "review": {"model": "haiku", "result": "PASS", "attempts": 1, **_stamped("10:20", "10:25")},
    }
    sessions = [{"path": "runs/r01.json", **entry}]
    metadata = {"phase": "p1", "tickets": ["R01"], "sessions": sessions}
    folder = Phase.of("p1", [criterion], {"R01": ticket}, metadata=metadata).write(pytester.path)
    (folder / "runs").mkdir()
    run = result_object(duration_ms=int(minutes * MINUTE_MS))
    (folder / "runs" / "r01.json").write_text(json.dumps(run))


@pytest.mark.parametrize(
    ("entry", "at"),
    [
        ({"ticket": "R01", "stage": "review"}, "tickets.R01.review.end_time"),
        ({"ticket": "R01"}, "tickets.R01:"),
    ],
)
def test_a_run_longer_than_its_places_stamps_is_an_error_at_them(
    pytester: pytest.Pytester, entry: dict[str, Any], at: str
) -> None:
    _timed_phase(pytester, 28, entry)  # the review is 5 min long, the ticket 25, the cap 30
    result = run_phase(pytester, "p1")
    assert_not_yes(pytester, result)
    result.stdout.fnmatch_lines([f"*{at}*the headless run r01.json took 28.0 min*"])


def test_a_run_no_ticket_holds_is_bounded_by_the_phases_stamps(pytester: pytest.Pytester) -> None:
    _timed_phase(pytester, 28, {})  # the phase's only session: its lead, shared planning
    result = run_phase(pytester, "p1")
    assert_not_yes(pytester, result)
    result.stdout.fnmatch_lines(
        ["*execution-log.yaml:1:1: the headless run r01.json took 28.0 min*the phase*"]
    )


@pytest.mark.parametrize(
    ("minutes", "entry"),
    [
        (20, {"ticket": "R01", "stage": "implementation"}),  # as long as its stage
        (20.9, {"ticket": "R01", "stage": "implementation"}),  # stamps kept to the minute
        (24, {"ticket": "R01"}),  # the ticket's 25 min, beyond any one stage's
    ],
)
def test_a_run_within_its_places_stamps_keeps_the_wall_time(
    pytester: pytest.Pytester, minutes: float, entry: dict[str, Any]
) -> None:
    _timed_phase(pytester, minutes, entry)
    result = run_phase(pytester, "p1")
    assert decision(pytester) == "YES", result.stdout.str()


TOKEN_CAP: YamlData = {"id": "cap", "metric": "tokens", "measure": "total", "max": "300k"}


def _runs_phase(
    pytester: pytest.Pytester, runs: list[tuple[dict[str, Any], float]], unstamped: str
) -> Path:
    """Phase p1 of :func:`_timed_phase`'s R01, its stage ``unstamped`` run without stamps, and
    the headless runs ``runs`` (each its ``sessions:`` entry and minutes, as r0.json …)."""
    ticket: YamlData = {
        "execution_model": "haiku",
        "implementation": {"model": "haiku", "fix_loops": 0, **_stamped("10:00", "10:20")},
        "review": {"model": "haiku", "result": "PASS", "attempts": 1, **_stamped("10:20", "10:25")},
    }
    ticket[unstamped] = {
        k: v for k, v in ticket[unstamped].items() if k not in ("start_time", "end_time")
    }
    sessions = [{"path": f"runs/r{i}.json", **entry} for i, (entry, _) in enumerate(runs)]
    metadata = {"phase": "p1", "tickets": ["R01"], "sessions": sessions}
    folder = Phase.of("p1", [TOKEN_CAP], {"R01": ticket}, metadata=metadata).write(pytester.path)
    (folder / "runs").mkdir()
    for i, (_, minutes) in enumerate(runs):
        run = result_object(
            duration_ms=int(minutes * MINUTE_MS),
            session_id=f"e382184a-1111-2222-3333-44445555000{i}",
        )
        (folder / "runs" / f"r{i}.json").write_text(json.dumps(run))
    return folder


IMPLEMENTED = {"ticket": "R01", "stage": "implementation"}
REVIEWED = {"ticket": "R01", "stage": "review"}


@pytest.mark.parametrize(
    "runs",
    [
        [({"ticket": "R01"}, 28), (REVIEWED, 1)],  # the ticket, its implementation unstamped
        [({}, 28), (IMPLEMENTED, 1), (REVIEWED, 1)],  # the lead: the phase, the same hole
    ],
)
def test_a_run_beside_unstamped_work_is_held_to_no_stamps_that_leave_it_out(
    pytester: pytest.Pytester, runs: list[tuple[dict[str, Any], float]]
) -> None:
    """R01's implementation ran unstamped: it may have run at any time, for as long as it took,
    so the review's 5 stamped minutes bound neither the ticket's work nor the phase's, and a
    28-minute run there contradicts no stamp (the wall time is unknown; the token cap decides)."""
    _runs_phase(pytester, runs, unstamped="implementation")
    result = run_phase(pytester, "p1")
    assert (decision(pytester), result.ret) == ("YES", 0), result.stdout.str()


def test_a_run_in_a_stamped_stage_is_held_to_it_beside_an_unstamped_one(
    pytester: pytest.Pytester,
) -> None:
    """The review ran unstamped, but the implementation's own stamps (20 minutes) still bound
    a 28-minute run counted there."""
    _runs_phase(pytester, [(IMPLEMENTED, 28), (REVIEWED, 1)], unstamped="review")
    result = run_phase(pytester, "p1")
    assert_not_yes(pytester, result)
    result.stdout.fnmatch_lines(
        ["*tickets.R01.implementation.end_time*the headless run r0.json took 28.0 min*"]
    )


@pytest.mark.parametrize("duration", [10**18, -60_000, "600000", 600_000.5])
def test_a_result_of_an_impossible_duration_is_refused_naming_it(
    pytester: pytest.Pytester, duration: object
) -> None:
    """A ``duration_ms`` no run can have (a corrupt file) is refused with the result, as an
    impossible token count is: its usage is then lost, so no cap passes on what is left."""
    _timed_phase(pytester, 1, {"ticket": "R01"}, TOKEN_CAP)
    run = json.dumps(result_object(duration_ms=duration))
    (pytester.path / "docs/orchestration-data/phase-p1/runs/r01.json").write_text(run)
    result = run_phase(pytester, "p1")
    output = result.stdout.str() + result.stderr.str()
    assert "Traceback" not in output, output
    assert_not_yes(pytester, result)
    result.stdout.fnmatch_lines([f"*r01.json*duration_ms is {duration!r}*"])


def test_a_run_priced_at_its_tokens_below_claude_codes_low_cost_passes_a_usd_cap(
    pytester: pytest.Pytester,
) -> None:
    """The example result: Claude Code's $0.0316 (an older build's 5-minute price of 1-hour
    writes) below the table's exact $0.0385; a $1 cap passes."""
    usd_cap = {"id": "usd-cap", "metric": "tokens", "measure": "usd", "max": "$1"}
    _timed_phase(pytester, 1, {"ticket": "R01"}, usd_cap)
    result = run_phase(pytester, "p1")
    assert decision(pytester) == "YES", result.stdout.str()

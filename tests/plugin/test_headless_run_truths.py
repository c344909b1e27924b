"""What a headless `claude -p` result says of itself bounds what the phase may claim: the time
its run took (``duration_ms``, bounding the wall time; an impossible one refused, no
traceback), the cost Claude Code gives it (never taken below what its tokens cost, nor as exact
above the price), the usage it holds beyond its ``modelUsage`` (a main agent above it, a
compaction, web searches), and whether it ended in error (``is_error``, an ``error_…`` subtype:
no success, from the raw result or the ledger, whatever other run of the ticket finished). The
honest cases pass."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import (
    ALL_HAIKU_SUCCEED,
    HAIKU,
    Phase,
    YamlData,
    assert_not_yes,
    decision,
    rate_on,
    result_object,
    run_phase,
)
from tests.plugin.test_measured_costs import SONNET, _not_yes

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


def _headless_phase(root: Path, run: dict[str, Any], criterion: YamlData, **ticket: Any) -> None:
    """Phase p1 of ticket R01 on Haiku, measured from one `claude -p --output-format json`
    result (``run``) named for R01, judged by ``criterion``."""
    flat = {"execution_model": "haiku", "fix_loops": 0, "review": {"result": "PASS", "attempts": 1}}
    sessions = [{"path": "runs/r01.json", "ticket": "R01"}]
    metadata = {"phase": "p1", "tickets": ["R01"], "sessions": sessions}
    folder = Phase.of("p1", [criterion], {"R01": {**flat, **ticket}}, metadata=metadata).write(root)
    (folder / "runs").mkdir()
    (folder / "runs" / "r01.json").write_text(json.dumps(run))


USD_CAP: YamlData = {"id": "usd-cap", "metric": "tokens", "measure": "usd", "max": "$1"}
TOKEN_CAP_100K: YamlData = {"id": "cap", "metric": "tokens", "measure": "total", "max": "100k"}


def test_a_headless_run_costs_no_less_than_claude_code_says(pytester: pytest.Pytester) -> None:
    run = result_object(total_cost_usd=5.0)
    run["modelUsage"][HAIKU]["costUSD"] = 5.0
    _headless_phase(pytester.path, run, USD_CAP)
    result = run_phase(pytester, "p1")
    assert_not_yes(pytester, result)


def test_a_headless_main_agent_above_its_model_usage_is_not_dropped(
    pytester: pytest.Pytester,
) -> None:
    run = result_object()
    run["usage"]["input_tokens"] = 500_000
    _headless_phase(pytester.path, run, TOKEN_CAP_100K)
    result = run_phase(pytester, "p1")
    assert_not_yes(pytester, result)


def test_a_headless_runs_own_duration_bounds_the_wall_time(pytester: pytest.Pytester) -> None:
    def stamped(start: str, end: str) -> YamlData:
        return {
            "start_time": f"2026-02-07T{start}:00Z",
            "end_time": f"2026-02-07T{end}:00Z",
            "status": "completed",
        }

    ticket = {
        "execution_model": "haiku",
        "implementation": {"model": "haiku", "fix_loops": 0, **stamped("10:00", "10:20")},
        "review": {"model": "haiku", "result": "PASS", "attempts": 1, **stamped("10:20", "10:25")},
    }
    sessions = [{"path": "runs/r01.json", "ticket": "R01", "stage": "implementation"}]
    metadata = {"phase": "p1", "tickets": ["R01"], "sessions": sessions}
    wall = {"id": "wall", "metric": "wall_time_minutes", "max": 30}
    folder = Phase.of("p1", [wall], {"R01": ticket}, metadata=metadata).write(pytester.path)
    (folder / "runs").mkdir()
    three_hours = result_object(duration_ms=3 * 3_600_000, duration_api_ms=2 * 3_600_000)
    (folder / "runs" / "r01.json").write_text(json.dumps(three_hours))
    result = run_phase(pytester, "p1")
    assert_not_yes(pytester, result)


def test_a_run_of_an_unstamped_stage_is_not_held_to_another_stages_stamps(
    pytester: pytest.Pytester,
) -> None:
    """R01's implementation is one 10-minute run, its review one 1-minute run stamped 10:20 to
    10:22; without the review's stamps the phase is YES (149,906 tokens under 200k)."""
    cap = {"id": "cap", "metric": "tokens", "measure": "total", "max": "200k"}
    review: YamlData = {
        "model": "haiku",
        "result": "PASS",
        "attempts": 1,
        "status": "completed",
        "start_time": "2026-11-30T10:20:00Z",
        "end_time": "2026-11-30T10:22:00Z",
    }
    ticket: YamlData = {
        "execution_model": "haiku",
        "fix_loops": 0,
        "implementation": {"model": "haiku", "status": "completed"},
        "review": review,
    }
    sessions = [
        {"path": "runs/r01.json", "ticket": "R01", "stage": "implementation"},
        {"path": "runs/r02.json", "ticket": "R01", "stage": "review"},
    ]
    metadata = {"phase": "p1", "tickets": ["R01"], "sessions": sessions}
    folder = Phase.of("p1", [cap], {"R01": ticket}, metadata=metadata).write(pytester.path)
    (folder / "runs").mkdir()
    (folder / "runs" / "r01.json").write_text(json.dumps(result_object(duration_ms=600_000)))
    reviewed = result_object(duration_ms=60_000, session_id="e382184a-1111-2222-3333-444455556667")
    (folder / "runs" / "r02.json").write_text(json.dumps(reviewed))
    result = run_phase(pytester, "p1")
    assert (decision(pytester), result.ret) == ("YES", 0), result.stdout.str()


def test_a_result_of_an_impossible_duration_is_no_traceback(pytester: pytest.Pytester) -> None:
    cap = {"id": "cap", "metric": "tokens", "measure": "total", "max": "200k"}
    sessions = [{"path": "runs/r01.json", "ticket": "R01"}]
    metadata = {"phase": "p1", "tickets": ["R01"], "sessions": sessions}
    ticket = {"execution_model": "haiku", "fix_loops": 0}
    folder = Phase.of("p1", [cap], {"R01": ticket}, metadata=metadata).write(pytester.path)
    (folder / "runs").mkdir()
    (folder / "runs" / "r01.json").write_text(json.dumps(result_object(duration_ms=10**18)))
    result = run_phase(pytester, "p1")
    output = result.stdout.str() + result.stderr.str()
    assert "Traceback" not in output and "OverflowError" not in output, output
    assert "r01.json" in output, output


def _cost_of_runs(pytester: pytest.Pytester, runs: dict[str, str], max_usd: float) -> None:
    """Phase m1: one Haiku ticket R01 measured from headless ``runs`` (file name under runs/ →
    content), each named in ``sessions:`` as R01's, under a cost cap of ``max_usd`` a ticket."""
    sessions = [{"path": f"runs/{name}", "ticket": "R01"} for name in runs]
    ticket = {
        "execution_model": "haiku",
        "fix_loops": 0,
        "review": {"result": "PASS", "attempts": 1},
    }
    cap = {"id": "cost", "for_each": "ticket", "metric": "tokens", "measure": "usd", "max": max_usd}
    metadata = {"phase": "m1", "tickets": ["R01"], "sessions": sessions}
    folder = Phase.of("m1", [cap], {"R01": ticket}, metadata=metadata).write(pytester.path)
    (folder / "runs").mkdir()
    for name, text in runs.items():
        (folder / "runs" / name).write_text(text)


def test_claude_codes_cost_of_several_runs_above_the_price_is_no_exact_figure(
    pytester: pytest.Pytester,
) -> None:
    runs = {}
    for i in range(3):
        run = result_object(session_id=f"e382184a-1111-2222-3333-44445555000{i}")
        run["total_cost_usd"] = run["modelUsage"][HAIKU]["costUSD"] = 0.0433
        runs[f"r{i}.json"] = json.dumps(run)
    _cost_of_runs(pytester, runs, 0.12)
    result = run_phase(pytester, "m1")
    _not_yes(pytester, result)
    # Within the slack Claude Code's figure is the price, rounded: each run counts at it.
    result.stdout.fnmatch_lines(["*tokens (usd) $0.1299 > max $0.1200*"])


def test_claude_codes_cost_below_what_the_tokens_cost_at_least_is_not_taken(
    pytester: pytest.Pytester,
) -> None:
    run = result_object()
    haiku = run["modelUsage"][HAIKU]
    haiku["costUSD"] = 0.0
    # A second model (a sub-agent's): the cache writes' lifetimes are no longer all known, so
    # the table's price of the sums is a lower bound and a trusted build's costUSD is taken.
    run["modelUsage"][SONNET] = {
        **haiku,
        "inputTokens": 10,
        "outputTokens": 10,
        "cacheReadInputTokens": 0,
        "cacheCreationInputTokens": 0,
        "costUSD": 0.00018,
    }
    run["total_cost_usd"] = 0.00018
    init = {
        "type": "system",
        "subtype": "init",
        "session_id": run["session_id"],
        "claude_code_version": "2.1.210",
        "model": HAIKU,
    }
    lines = (json.dumps(obj, separators=(",", ":")) + "\n" for obj in (init, run))
    _cost_of_runs(pytester, {"r0.ndjson": "".join(lines)}, 0.03)
    result = run_phase(pytester, "m1")
    _not_yes(pytester, result)
    # The table's least price stands, a lower bound that says why Claude Code's is not taken.
    result.stdout.fnmatch_lines(
        ["*tokens (usd) at least $0.0318*", "*is below the $0.0316*not taken*"]
    )


def test_a_headless_runs_web_searches_missing_from_its_model_usage_are_counted(
    pytester: pytest.Pytester,
) -> None:
    run = result_object()
    run["usage"]["server_tool_use"] = {"web_search_requests": 50, "web_fetch_requests": 0}
    _cost_of_runs(pytester, {"r0.json": json.dumps(run)}, 0.10)
    result = run_phase(pytester, "m1")
    _not_yes(pytester, result)
    result.stdout.fnmatch_lines(["*tokens (usd) $0.5385 > max $0.1000*"])


def test_a_headless_runs_compaction_beyond_its_model_usage_is_counted(
    pytester: pytest.Pytester,
) -> None:
    run = result_object()
    run["usage"]["iterations"] = [
        {"type": "compaction", "input_tokens": 150_000, "output_tokens": 3_000},
        {"type": "message", "input_tokens": 10, "output_tokens": 200},
    ]
    cap = {"id": "cost", "for_each": "ticket", "metric": "tokens", "measure": "usd", "max": 1.0}
    ticket = {"execution_model": "haiku", "fix_loops": 0, "review": {"result": "PASS"}}
    sessions = [{"path": "r0.json", "ticket": "R01"}]
    metadata = {"phase": "m1", "tickets": ["R01"], "sessions": sessions}
    folder = Phase.of("m1", [cap], {"R01": ticket}, metadata=metadata).write(pytester.path)
    (folder / "r0.json").write_text(json.dumps(run))
    result = run_phase(pytester, "m1")
    assert "contradicts itself" not in result.stdout.str(), result.stdout.str()
    (criterion,) = json.loads((pytester.path / "r.json").read_text())["criteria"]
    # Haiku 4.5's input at $1 a million: the compaction alone cost $0.15
    assert criterion["actual"] is not None and criterion["actual"] >= 0.15, criterion


@pytest.mark.parametrize("subtype", ["error_max_turns", "error_during_execution"])
def test_a_ticket_whose_measured_run_ended_in_error_is_no_success(
    pytester: pytest.Pytester, subtype: str
) -> None:
    ticket = {
        "execution_model": "haiku",
        "fix_loops": 0,
        "review": {"result": "PASS", "attempts": 1},
    }
    run = {"path": "runs/r01.json", "ticket": "R01"}
    metadata = {"phase": "p1", "tickets": ["R01"], "sessions": [run]}
    folder = Phase.of("p1", [ALL_HAIKU_SUCCEED], {"R01": ticket}, metadata=metadata).write(
        pytester.path
    )
    (folder / "runs").mkdir()
    errored = result_object(is_error=True, subtype=subtype)
    (folder / "runs" / "r01.json").write_text(json.dumps(errored))
    result = run_phase(pytester, "p1")
    assert_not_yes(pytester, result)
    result.stdout.fnmatch_lines([f"*execution-log.yaml*R01*ended in error (r01.json ({subtype}))*"])
    # no over-correction: the log recording the failure is judged (2 of 2 -> 1 of 2 < 100%)
    # by the rate, and a retry that finished makes the ticket's work done
    retry = result_object(session_id="e382184a-1111-2222-3333-444455556667")
    (folder / "runs" / "r02.json").write_text(json.dumps(retry))
    metadata["sessions"] = [run, {"path": "runs/r02.json", "ticket": "R01"}]
    Phase.of("p1", [ALL_HAIKU_SUCCEED], {"R01": ticket}, metadata=metadata).write(pytester.path)
    result = run_phase(pytester, "p1")
    assert "ended in error" not in result.stdout.str(), result.stdout.str()


def test_a_run_that_ended_in_error_still_fails_its_ticket_from_the_usage_ledger(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The errored run collected into p1's ledger (collect keeps subtype and is_error), the raw
    result moved away: the phase measured from the ledger is refused as from the raw file."""
    import shutil

    from pytest_orchphase.cli import main

    ticket = {"execution_model": "haiku", "fix_loops": 0, "review": {"result": "PASS"}}
    run = {"path": "runs/r01.json", "ticket": "R01"}
    metadata = {"phase": "p1", "tickets": ["R01"], "sessions": [run]}
    folder = Phase.of("p1", [ALL_HAIKU_SUCCEED], {"R01": ticket}, metadata=metadata).write(
        pytester.path
    )
    (folder / "runs").mkdir()
    out_of_turns = result_object(is_error=False, subtype="error_max_turns")
    (folder / "runs" / "r01.json").write_text(json.dumps(out_of_turns))
    monkeypatch.chdir(pytester.path)
    assert main(["collect", "p1"]) == 0
    shutil.move(folder / "runs", pytester.path / "moved")
    metadata["sessions"] = [{"path": "usage.jsonl", "ticket": "R01"}]
    Phase.of("p1", [ALL_HAIKU_SUCCEED], {"R01": ticket}, metadata=metadata).write(pytester.path)
    result = run_phase(pytester, "p1")
    assert_not_yes(pytester, result)
    result.stdout.fnmatch_lines(["*execution-log.yaml*R01*ended in error*error_max_turns*"])


def test_a_run_out_of_turns_with_is_error_false_is_no_success(pytester: pytest.Pytester) -> None:
    import json

    from tests.helpers import result_object

    review = {"result": "PASS", "attempts": 1}
    ticket = {"execution_model": "haiku", "fix_loops": 0, "review": review}
    run = {"path": "runs/r01.json", "ticket": "R01"}
    metadata = {"phase": "p1", "tickets": ["R01"], "sessions": [run]}
    folder = Phase.of("p1", [rate_on("haiku")], {"R01": ticket}, metadata=metadata).write(
        pytester.path
    )
    (folder / "runs").mkdir()
    out_of_turns = result_object(is_error=False, subtype="error_max_turns")
    (folder / "runs" / "r01.json").write_text(json.dumps(out_of_turns))
    result = run_phase(pytester, "p1")
    assert_not_yes(pytester, result)


def test_a_review_run_does_not_finish_an_errored_implementation_run(
    pytester: pytest.Pytester,
) -> None:
    import json

    from tests.helpers import result_object

    ticket = {
        "complexity": "mechanical",
        "implementation": {"model": "haiku", "fix_loops": 0, "status": "completed"},
        "review": {"model": "haiku", "result": "PASS", "attempts": 1, "status": "completed"},
    }
    runs = [
        {"path": "runs/impl.json", "ticket": "R01", "stage": "implementation"},
        {"path": "runs/review.json", "ticket": "R01", "stage": "review"},
    ]
    metadata = {"phase": "p1", "tickets": ["R01"], "sessions": runs}
    folder = Phase.of("p1", [rate_on("haiku")], {"R01": ticket}, metadata=metadata).write(
        pytester.path
    )
    (folder / "runs").mkdir()
    errored = result_object(is_error=True, subtype="error_max_turns")
    (folder / "runs" / "impl.json").write_text(json.dumps(errored))
    review = result_object(session_id="e382184a-1111-2222-3333-444455556667")
    (folder / "runs" / "review.json").write_text(json.dumps(review))
    result = run_phase(pytester, "p1")
    assert_not_yes(pytester, result)

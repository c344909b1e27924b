"""Times that are not known. A log stamp written as no time (a bare number) is an error at its
field. A measured call whose time is not known (its line records no timestamp, an empty one, or
one that is not a time; a headless stream's messages of a run cut off before its result, read
from the raw stream or from a ledger of any age) may have run outside the log's stamps and the
other calls: the wall time of every place it may belong to is a lower bound, which proves no
max; never an exact figure that leaves it out."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.helpers import (
    HAIKU,
    Phase,
    YamlData,
    assert_not_yes,
    assistant,
    decision,
    implementation_only_ticket,
    result_object,
    run_phase,
    staged_ticket,
    usage,
    write_jsonl,
)

MODEL = "claude-sonnet-4-5-20250929"


def _ticket() -> YamlData:
    """A Sonnet ticket stamped 10:00 to 10:20 (its implementation; branch and review skipped)."""
    return implementation_only_ticket("2026-02-07T10:00:00Z", "2026-02-07T10:20:00Z")


def _measured(
    pytester: pytest.Pytester, criterion: YamlData, stamp: Any, sessions: list[YamlData]
) -> None:
    """Phase p1 measured from t01.jsonl (the ticket's calls: one at 10:00:05, one stamped
    ``stamp``; the key left out when it is ...) and the ``sessions`` named."""
    metadata = {"phase": "p1", "tickets": ["T01"], "sessions": sessions}
    folder = Phase.of("p1", [criterion], {"T01": _ticket()}, metadata=metadata).write(pytester.path)
    first = assistant("m1", "q1", model=MODEL, u=usage(inp=10, out=5), ts="2026-02-07T10:00:05Z")
    other = assistant("m2", "q2", model=MODEL, u=usage(inp=10, out=5))
    if stamp is ...:
        del other["timestamp"]
    else:
        other["timestamp"] = stamp
    write_jsonl(folder / "t01.jsonl", [first, other])


@pytest.mark.parametrize("stamp", ["", "yesterday", 1_770_460_200, None])
def test_a_call_whose_timestamp_is_not_a_time_leaves_the_phase_a_lower_bound(
    pytester: pytest.Pytester, stamp: Any
) -> None:
    wall = {"id": "wall", "metric": "wall_time_minutes", "max": 30}
    _measured(pytester, wall, stamp, [{"path": "t01.jsonl", "ticket": "T01"}])
    result = run_phase(pytester, "p1")
    assert_not_yes(pytester, result)
    result.stdout.fnmatch_lines(["*wall_time_minutes at least 20.0 min*record no time*"])


def test_a_ticket_whose_call_has_no_time_has_a_lower_bound_wall_time(
    pytester: pytest.Pytester,
) -> None:
    wall = {"id": "wall", "for_each": "ticket", "metric": "wall_time_minutes", "max": 30}
    _measured(pytester, wall, ..., [{"path": "t01.jsonl", "ticket": "T01"}])
    result = run_phase(pytester, "p1")
    assert_not_yes(pytester, result)
    result.stdout.fnmatch_lines(["*ticket T01 (or no ticket) record no time*"])


def test_every_call_stamped_gives_an_exact_wall_time(pytester: pytest.Pytester) -> None:
    wall = {"id": "wall", "metric": "wall_time_minutes", "max": 30}
    _measured(pytester, wall, "2026-02-07T10:10:00Z", [{"path": "t01.jsonl", "ticket": "T01"}])
    result = run_phase(pytester, "p1")
    assert decision(pytester) == "YES", result.stdout.str()


@pytest.mark.parametrize("ended", [True, False])
def test_a_headless_runs_messages_are_held_by_its_duration_not_by_their_time(
    pytester: pytest.Pytester, ended: bool
) -> None:
    """A headless stream's messages record no time by design: a run whose result reports its
    ``duration_ms`` is held to its place's stamps by it (a run longer than them is an error),
    so its calls leave the wall time exact; a run cut off before its result reports no
    duration, and its calls of no known time leave the wall time a lower bound."""
    session = "e382184a-1111-2222-3333-444455556666"  # result_object()'s
    init = {"type": "system", "subtype": "init", "session_id": session}
    message = assistant("m1", "q1", model=HAIKU, u=usage(inp=10, out=5))
    del message["timestamp"]
    message.pop("sessionId")
    message["session_id"] = session
    result = result_object(duration_ms=5 * 60_000)  # a Haiku run
    wall = {"id": "wall", "metric": "wall_time_minutes", "max": 30}
    sessions = [{"path": "r01.ndjson", "ticket": "T01"}]
    metadata = {"phase": "p1", "tickets": ["T01"], "sessions": sessions}
    ticket = _ticket()
    ticket["execution_model"] = ticket["implementation"]["model"] = "haiku"
    folder = Phase.of("p1", [wall], {"T01": ticket}, metadata=metadata).write(pytester.path)
    write_jsonl(folder / "r01.ndjson", [init, message, *([result] if ended else [])])
    outcome = run_phase(pytester, "p1")
    if ended:
        assert decision(pytester) == "YES", outcome.stdout.str()
    else:
        assert_not_yes(pytester, outcome)
        outcome.stdout.fnmatch_lines(["*wall_time_minutes at least 20.0 min*record no time*"])


WALL_30: YamlData = {"id": "wall", "metric": "wall_time_minutes", "max": 30}


def test_a_stamp_written_as_a_bare_number_is_no_time(pytester: pytest.Pytester) -> None:
    Phase.of("p1", [WALL_30], {"T01": implementation_only_ticket(1000, 1230)}).write(pytester.path)
    result = run_phase(pytester, "p1")
    assert_not_yes(pytester, result)
    result.stdout.fnmatch_lines(["*execution-log.yaml:*tickets.T01.implementation.start_time*"])


def test_a_measured_call_of_no_known_time_leaves_no_exact_wall_time(
    pytester: pytest.Pytester,
) -> None:
    ticket = implementation_only_ticket("2026-02-07T10:00:00Z", "2026-02-07T10:20:00Z")
    sessions = [{"path": "t01.jsonl", "ticket": "T01"}]
    metadata = {"phase": "p1", "tickets": ["T01"], "sessions": sessions}
    folder = Phase.of("p1", [WALL_30], {"T01": ticket}, metadata=metadata).write(pytester.path)
    model = "claude-sonnet-4-5-20250929"
    first = assistant("m1", "q1", model=model, u=usage(inp=10, out=5), ts="2026-02-07T10:00:05Z")
    late = assistant("m2", "q2", model=model, u=usage(inp=10, out=5))
    del late["timestamp"]
    write_jsonl(folder / "t01.jsonl", [first, late])
    result = run_phase(pytester, "p1")
    assert_not_yes(pytester, result)
    result.stdout.fnmatch_lines(["*wall_time_minutes at least 20.0 min*record no time*"])


SESSION = "e382184a-1111-2222-3333-444455556666"  # result_object()'s


def _stamped_ticket() -> YamlData:
    """A Haiku ticket stamped 10:00 to 10:20 (its implementation; branch and review skipped)."""
    implementation = {
        "model": "haiku",
        "actual_tokens": 5_000,
        "status": "completed",
        "start_time": "2026-02-07T10:00:00Z",
        "end_time": "2026-02-07T10:20:00Z",
    }
    ticket = staged_ticket(implementation)
    ticket["execution_model"] = "haiku"
    ticket["branch_creation"]["status"] = "skipped"
    ticket["review"] = {"model": "sonnet", "status": "skipped"}
    return ticket


def _stream_message(n: int) -> YamlData:
    """A stream-json assistant message of the session: no timestamp, by design."""
    line = assistant(f"m{n}", f"q{n}", model=HAIKU, u=usage(inp=10, out=5))
    del line["timestamp"]
    line.pop("sessionId")
    line["session_id"] = SESSION
    return line


def test_a_cut_off_run_appended_to_a_finished_runs_stream_leaves_the_wall_time_a_bound(
    pytester: pytest.Pytester,
) -> None:
    init = {"type": "system", "subtype": "init", "session_id": SESSION}
    finished = result_object(duration_ms=5 * 60_000)
    wall = {"id": "wall", "metric": "wall_time_minutes", "max": 30}
    sessions = [{"path": "r01.ndjson", "ticket": "T01"}]
    metadata = {"phase": "p1", "tickets": ["T01"], "sessions": sessions}
    phase = Phase.of("p1", [wall], {"T01": _stamped_ticket()}, metadata=metadata)
    folder = phase.write(pytester.path)
    lines = [init, _stream_message(1), finished, init, _stream_message(2)]
    write_jsonl(folder / "r01.ndjson", lines)
    result = run_phase(pytester, "p1")
    assert_not_yes(pytester, result)
    result.stdout.fnmatch_lines(["*wall_time_minutes at least 20.0 min*record no time*"])


def _ledger_phase(pytester: pytest.Pytester, *, keep_runs: bool) -> None:
    """Phase p1 (wall time at most 30 min, its ticket stamped 20 min) measured from a usage
    ledger of a stream holding a finished run (5 min) and a run of the same session cut off
    before its result; ``keep_runs`` False: the ledger as an older collect wrote it, with no
    ``runs`` (same format number)."""
    from pytest_orchphase.usage.sources.ledger.collect import Collected, new_blocks, render

    init = {"type": "system", "subtype": "init", "session_id": SESSION}
    finished = result_object(duration_ms=5 * 60_000)
    stream = pytester.path / "r01.ndjson"
    write_jsonl(stream, [init, _stream_message(1), finished, init, _stream_message(2)])
    wall = {"id": "wall", "metric": "wall_time_minutes", "max": 30}
    sessions = [{"path": "kept.jsonl", "ticket": "T01"}]
    metadata = {"phase": "p1", "tickets": ["T01"], "sessions": sessions}
    phase = Phase.of("p1", [wall], {"T01": _stamped_ticket()}, metadata=metadata)
    ledger = phase.write(pytester.path) / "kept.jsonl"
    text = render("p1", "0.1.0", new_blocks([stream], [], Collected(out=ledger))).decode()
    lines = [json.loads(line) for line in text.splitlines()]
    for record in lines:
        if not keep_runs:
            record.pop("runs", None)
    ledger.write_text("".join(json.dumps(record) + "\n" for record in lines))
    stream.unlink()


def test_a_ledger_with_its_runs_leaves_a_cut_off_runs_wall_time_a_bound(
    pytester: pytest.Pytester,
) -> None:
    """The ledger as `orchphase collect` writes it now, with the runs its streams began."""
    _ledger_phase(pytester, keep_runs=True)
    assert_not_yes(pytester, run_phase(pytester, "p1"))


def test_an_older_ledger_without_runs_leaves_a_cut_off_runs_wall_time_a_bound(
    pytester: pytest.Pytester,
) -> None:
    _ledger_phase(pytester, keep_runs=False)
    assert_not_yes(pytester, run_phase(pytester, "p1"))


def test_a_call_one_of_whose_lines_is_stamped_no_time_leaves_the_phase_a_lower_bound(
    pytester: pytest.Pytester,
) -> None:
    """A response's lines at 10:00:05 and 10:10, its final line's stamp damaged: when that
    line was written is not known (the response may have run on past the stamps), so the
    wall time is a lower bound, as for a call of no known time; never 10 minutes exact."""
    wall = {"id": "wall", "metric": "wall_time_minutes", "max": 30}
    metadata = {
        "phase": "p1",
        "tickets": ["T01"],
        "sessions": [{"path": "t01.jsonl", "ticket": "T01"}],
    }
    folder = Phase.of("p1", [wall], {"T01": _ticket()}, metadata=metadata).write(pytester.path)
    lines = [
        assistant("m1", "q1", model=MODEL, u=usage(inp=10, out=1), final=False, ts=ts)
        for ts in ("2026-02-07T10:00:05Z", "2026-02-07T10:10:00Z")
    ]
    lines.append(assistant("m1", "q1", model=MODEL, u=usage(inp=10, out=5), ts="yesterday"))
    write_jsonl(folder / "t01.jsonl", lines)
    result = run_phase(pytester, "p1")
    assert_not_yes(pytester, result)
    result.stdout.fnmatch_lines(["*wall_time_minutes at least 20.0 min*record no time*"])

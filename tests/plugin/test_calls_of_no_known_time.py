"""A measured call whose time is not known (its line records no timestamp, an empty one, or
one that is not a time) may have run outside the log's stamps and the other calls: the wall
time of every place it may belong to is a lower bound, which proves no max; never an exact
figure that leaves it out."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import (
    Phase,
    YamlData,
    assert_not_yes,
    assistant,
    decision,
    run_phase,
    staged_ticket,
    usage,
    write_jsonl,
)

MODEL = "claude-sonnet-4-5-20250929"


def _ticket() -> YamlData:
    """A Sonnet ticket stamped 10:00 to 10:20 (its implementation; branch and review skipped)."""
    ticket = staged_ticket(
        {
            "actual_tokens": 5_000,
            "status": "completed",
            "start_time": "2026-02-07T10:00:00Z",
            "end_time": "2026-02-07T10:20:00Z",
        }
    )
    ticket["branch_creation"]["status"] = "skipped"
    ticket["review"] = {"model": "sonnet", "status": "skipped"}
    return ticket


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

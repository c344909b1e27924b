"""A transcript line that held usage but cannot be read (cut short, not JSON, wrong field types)
may have recorded a call the figures now miss: every measured figure of the phase is then only
a lower bound, which can prove a `min` but never a `max`. A malformed line that held no usage
loses no call, and changes nothing. A main-session response that records only a placeholder
output count (Claude Code writes `output_tokens: 1` for hundreds of characters) is likewise a
lower bound of its output."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import (
    Phase,
    assert_not_yes,
    assistant,
    flat_ticket,
    jsonl_line,
    read_report,
    run_phase,
    usage,
    user,
)

PLANNING_INPUT_MAX = {"id": "planning-input", "metric": "shared_planning_tokens", "max": 100}


def _phase(pytester: pytest.Pytester, broken: bytes, *criteria: dict[str, Any]) -> None:
    """Phase m1, measured from one lead session of two intact calls (input 10 each) around
    the ``broken`` line."""
    phase = Phase.of(
        "m1",
        [{**PLANNING_INPUT_MAX, "measure": "input"}, *criteria],
        {"R03": {"implementation": {"model": "sonnet", "estimated_tokens": 12000, "fix_loops": 0}}},
        planning={"model": "opus", "estimated_tokens": 15000},
        metadata={"phase": "m1", "tickets": ["R03"]},
    )
    phase.write(pytester.path)
    phase.transcripts(pytester.path).session(
        [
            assistant("msg_p1", "req_p1", u=usage(inp=10, out=120, cw=20000)),
            broken,
            assistant("msg_p3", "req_p3", u=usage(inp=10, out=120, cw=0)),
        ]
    )


def _call_line(**figures: Any) -> bytes:
    return jsonl_line(assistant("msg_p2", "req_p2", u=usage(inp=90000, out=500, cw=20000)))


def _cut(line: bytes) -> bytes:
    return line[: line.index(b'"output_tokens"')] + b"\n"


def _cut_before_usage(line: bytes) -> bytes:
    """Cut where a session killed mid-write leaves it: Claude Code writes usage last."""
    return line[: line.index(b'"usage"')] + b"\n"


def _wrong_type(line: bytes) -> bytes:
    return line.replace(b'"input_tokens":90000', b'"input_tokens":"90000"')


@pytest.mark.parametrize(
    "broken",
    [_cut, _cut_before_usage, _wrong_type],
    ids=["cut-short", "cut-before-usage", "wrong-field-type"],
)
@pytest.mark.parametrize("cache", [[], ["-p", "no:cacheprovider"]], ids=["cache", "no-cache"])
def test_a_lost_usage_line_leaves_the_figures_lower_bounds_that_prove_no_max(
    pytester: pytest.Pytester, broken: Any, cache: list[str]
) -> None:
    """The lost call held an input of 90,000: the 20 read must not pass `max: 100`; a `min`
    the figure read already meets is still proven. Twice: the second run reads the file's
    result back from the scan cache, which keeps the lost line."""
    _phase(
        pytester,
        broken(_call_line()),
        {"id": "planning-floor", "metric": "shared_planning_tokens", "measure": "input", "min": 5},
    )
    for _ in range(2):
        result = pytester.runpytest(
            "--phase", "m1", "-p", "no:randomly", *cache, "--orchphase-json", "r.json"
        )
        result.assert_outcomes(passed=1, failed=1)
        result.stdout.fnmatch_lines(
            [
                "*planning-input*lower bound*",
                "*it may have recorded a call, so the figures are lower bounds*",
            ]
        )
        result.stdout.no_fnmatch_line("Proceed to phase *: YES*")
        assert result.ret == pytest.ExitCode.TESTS_FAILED
        report = read_report(pytester.path, "r.json")
        assert report["data"]["lost_usage_lines"] == 1


def test_a_malformed_line_without_usage_changes_no_figure(pytester: pytest.Pytester) -> None:
    """A user line cut short held no usage: no call is lost, the figures stay exact and the
    phase passes its `max` (counted as a malformed line all the same)."""
    _phase(pytester, _cut_text(jsonl_line(user("Implement R03 as planned"))))
    result = pytester.runpytest("--phase", "m1", "-p", "no:randomly", "--orchphase-json", "r.json")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*1 malformed lines*", "Proceed to phase *: YES*"])
    report = read_report(pytester.path, "r.json")
    assert report["data"]["lost_usage_lines"] == 0


def _cut_text(line: bytes) -> bytes:
    return line[: line.index(b"as planned")] + b"\n"


#: The last message of a real Claude Code 2.1.39 lead session (marot/spotter's fixture
#: ae4a77f8-….jsonl, msg_012Vtrh1KUniRzp9AH8ZCu2b): a summary of 960 characters, 117 words,
#: written on its only line with ``output_tokens: 1`` and no ``stop_reason``. The same file's
#: msg_01KgbUaKnQG26252ASHRHWMJ (1,605 characters) records 1 too; over that folder's six main
#: sessions, 10 to 30 % of responses record at most 10 output tokens for hundreds of characters.
SUMMARY = "All done. The whole epic is complete. " + "Here is what each task changed. " * 30


def test_a_main_session_response_recorded_with_a_placeholder_output_proves_no_max(
    pytester: pytest.Pytester,
) -> None:
    criterion = {
        "id": "planning-output",
        "metric": "shared_planning_tokens",
        "measure": "output",
        "max": 200,
    }
    planning = {"model": "opus", "estimated_tokens": 20_000}
    phase = Phase.of("m1", [criterion], {"R01": flat_ticket()}, planning=planning)
    phase.write(pytester.path)
    reply = [{"type": "text", "text": SUMMARY}]
    phase.transcripts(pytester.path).session(
        [
            user("Plan this batch of tickets"),
            assistant(
                "msg_1", "req_1", u=usage(inp=3, out=1, cw=9_000), content=reply, final=False
            ),
        ]
    )
    result = run_phase(pytester, "m1")
    assert_not_yes(pytester, result)
    result.stdout.fnmatch_lines(
        [
            "*at least 1: a lower bound cannot prove max 200: 1 main-session response(s) record "
            "only a placeholder output count*"
        ]
    )

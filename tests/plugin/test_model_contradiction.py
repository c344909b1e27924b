"""A ticket's log that names two models for its work: `execution_model` of one family and the
implementation stage's `model` of another, or two versions of one family."""

from __future__ import annotations

import json

import pytest

from tests.helpers import A2_LOG, Phase, YamlData, assert_not_yes, flat_ticket, rate_on, run_phase


def _haiku_rate(r01: YamlData) -> Phase:
    """Haiku's success rate over R01 (as given) and R02, a Haiku success."""
    return Phase.of(
        "e1",
        [
            {
                "id": "haiku-success",
                "metric": "success_rate",
                "model": "haiku",
                "min": "100%",
                "rule": "point",
            }
        ],
        {
            "R01": r01,
            "R02": {
                "execution_model": "haiku",
                "implementation": {"model": "haiku", "actual_tokens": 8_000, "fix_loops": 0},
                "review": {"result": "PASS", "attempts": 1, "actual_tokens": 1_000},
            },
        },
    )


def test_an_execution_model_that_contradicts_the_implementation_stage_is_refused(
    pytester: pytest.Pytester,
) -> None:
    """R01 says `execution_model: sonnet` while its implementation says `model: haiku`, and it
    failed (review FAIL, three fix loops). The ticket's model was `execution_model` alone, so
    Haiku's success rate was R02's 1 of 1: YES. Which model did the work only the team knows:
    the log is refused at the ticket, as `fix_loops` given twice and differing is."""
    r01: YamlData = {
        "execution_model": "sonnet",
        "implementation": {"model": "haiku", "actual_tokens": 8_000, "fix_loops": 3},
        "review": {"result": "FAIL", "attempts": 3, "actual_tokens": 1_000},
    }
    _haiku_rate(r01).write(pytester.path)
    result = pytester.runpytest("--phase", "e1", "--orchphase-json", "r.json", "-p", "no:randomly")
    assert result.ret == pytest.ExitCode.INTERRUPTED  # a collection error
    result.stdout.fnmatch_lines(
        [
            "*phase-e1/execution-log.yaml:*: tickets.R01: execution_model 'sonnet' differs from "
            "implementation.model 'haiku': keep one*"
        ]
    )
    report = json.loads((pytester.path / "r.json").read_text())
    assert report["decisions"]["proceed"]["answer"] != "YES"
    result.stdout.no_fnmatch_line("*Traceback*")


@pytest.mark.parametrize("named", ["haiku", "claude-haiku-4-5-20251001", "Haiku"])
def test_two_names_of_one_model_are_no_contradiction(pytester: pytest.Pytester, named: str) -> None:
    """A family name beside one of its ids (or another spelling) names the same model: R01 is
    Haiku's, a failure, and the rate says so."""
    r01: YamlData = {
        "execution_model": named,
        "implementation": {"model": "haiku", "actual_tokens": 8_000, "fix_loops": 3},
        "review": {"result": "FAIL", "attempts": 3, "actual_tokens": 1_000},
    }
    _haiku_rate(r01).write(pytester.path)
    result = pytester.runpytest("--phase", "e1", "-p", "no:randomly")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*success_rate[[]haiku[]] 50.0% < min 100.0% (1 of 2;*"])


def test_the_shipped_a2_log_names_one_model_per_ticket(pytester: pytest.Pytester) -> None:
    """The example logs give both keys, of one family each: they still load and decide."""
    a2 = Phase.example("a2")
    assert a2.ticket("R03")["execution_model"] == a2.stage("R03", "implementation")["model"]
    a2.stage("R03", "implementation")["model"] = "opus"
    a2.write(pytester.path)
    result = pytester.runpytest("--phase", "a2", "-p", "no:randomly", "--orchphase-no-gate")
    result.stdout.fnmatch_lines([f"*{A2_LOG}:*: tickets.R03: execution_model 'haiku' differs*"])


def test_two_versions_of_a_ticket_model_are_an_error(pytester: pytest.Pytester) -> None:
    struggled = {
        "execution_model": "claude-3-5-haiku-20241022",
        "implementation": {"model": "claude-haiku-4-5-20251001", "fix_loops": 3},
        "review": {"result": "PASS", "attempts": 1},
    }
    tickets = {
        "T01": flat_ticket(execution_model="claude-haiku-4-5-20251001"),
        "T02": struggled,
    }
    Phase.of("p1", [rate_on("claude-haiku-4-5")], tickets).write(pytester.path)
    result = run_phase(pytester, "p1")
    assert_not_yes(pytester, result)

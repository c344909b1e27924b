"""The log's recorded `actual_tokens` above what the transcripts (or a headless result) measure in
that place, beyond its rounding: the measured figure is only a lower bound, never proof that a
cap held. A log figure rounded to two digits above the measured one is no such bound."""

from __future__ import annotations

import json

import pytest

from tests.helpers import HAIKU, Phase, YamlData, assert_not_yes, decision, result_object, run_phase
from tests.plugin.test_headless_run_truths import _headless_phase

#: tokens of the one headless run the phase measures (result_object's)
MEASURED = 74_953


def _phase(pytester: pytest.Pytester, criterion: YamlData, ticket: YamlData, stage: str) -> None:
    sessions = [{"path": "runs/r01.json", "ticket": "R01", **({"stage": stage} if stage else {})}]
    metadata = {"phase": "p1", "tickets": ["R01"], "sessions": sessions}
    folder = Phase.of("p1", [criterion], {"R01": ticket}, metadata=metadata).write(pytester.path)
    (folder / "runs").mkdir()
    (folder / "runs" / "r01.json").write_text(json.dumps(result_object()))


def _staged(actual: int) -> YamlData:
    impl = {"model": "haiku", "fix_loops": 0, "status": "completed", "actual_tokens": actual}
    return {"execution_model": "haiku", "implementation": impl}


CAP: YamlData = {"id": "cap", "metric": "tokens", "measure": "total", "max": "100k"}
STAGE_CAP: YamlData = {
    "id": "stage-cap",
    "for_each": "ticket",
    "metric": "stage_tokens",
    "stage": "implementation",
    "measure": "total",
    "max": "100k",
}


@pytest.mark.parametrize(
    ("criterion", "stage", "actual"),
    [
        (CAP, "", 400_000),
        (CAP, "implementation", 400_000),
        (STAGE_CAP, "implementation", 400_000),
        (STAGE_CAP, "implementation", 79_000),  # 5.4 % above: no rounding of 74,953
    ],
)
def test_a_log_recording_more_than_measured_leaves_the_cap_unproven(
    pytester: pytest.Pytester, criterion: YamlData, stage: str, actual: int
) -> None:
    _phase(pytester, criterion, _staged(actual), stage)
    result = run_phase(pytester, "p1")
    assert_not_yes(pytester, result)
    result.stdout.fnmatch_lines([f"*the log records {actual:,} tokens spent on ticket R01*"])


@pytest.mark.parametrize("actual", [MEASURED, 75_000, 78_000, 60_000])
def test_a_log_figure_within_rounding_or_below_is_no_bound(
    pytester: pytest.Pytester, actual: int
) -> None:
    """75,000 is the measured 74,953 rounded; 78,000 (4.1 % above) is within the 5 % that
    rounding to two significant digits may add; below it, the log under-reports,
    which leaves the measured figure exact: the cap is judged on it, YES."""
    _phase(pytester, STAGE_CAP, _staged(actual), "implementation")
    result = run_phase(pytester, "p1")
    assert result.ret == 0, result.stdout.str()


def test_a_measurement_far_below_the_logs_actual_is_no_proof_of_a_cap(
    pytester: pytest.Pytester,
) -> None:
    _headless_phase(pytester.path, result_object(), CAP, actual_tokens=500_000)
    result = run_phase(pytester, "p1")
    assert_not_yes(pytester, result)


def test_a_log_figure_rounded_to_two_digits_is_no_bound(pytester: pytest.Pytester) -> None:
    # one Haiku headless run of 10 + 7,700 + 2,800 = 10,510 tokens, priced as Claude Code did
    run_usage = {
        "input_tokens": 10,
        "cache_creation_input_tokens": 7_700,
        "cache_read_input_tokens": 0,
        "output_tokens": 2_800,
        "cache_creation": {"ephemeral_1h_input_tokens": 7_700, "ephemeral_5m_input_tokens": 0},
    }
    model_usage = {
        HAIKU: {
            "inputTokens": 10,
            "outputTokens": 2_800,
            "cacheReadInputTokens": 0,
            "cacheCreationInputTokens": 7_700,
            "webSearchRequests": 0,
            "costUSD": 0.02941,
            "contextWindow": 200000,
            "maxOutputTokens": 32000,
        }
    }
    run = result_object(usage=run_usage, modelUsage=model_usage, total_cost_usd=0.02941)
    cap = {
        "id": "cap",
        "for_each": "ticket",
        "metric": "stage_tokens",
        "stage": "implementation",
        "measure": "total",
        "max": "100k",
    }
    impl = {"model": "haiku", "status": "completed", "actual_tokens": 11_000}
    sessions = [{"path": "runs/r01.json", "ticket": "R01", "stage": "implementation"}]
    metadata = {"phase": "p1", "tickets": ["R01"], "sessions": sessions}
    ticket = {"execution_model": "haiku", "fix_loops": 0, "implementation": impl}
    folder = Phase.of("p1", [cap], {"R01": ticket}, metadata=metadata).write(pytester.path)
    (folder / "runs").mkdir()
    (folder / "runs" / "r01.json").write_text(json.dumps(run))
    result = run_phase(pytester, "p1")
    assert (decision(pytester), result.ret) == ("YES", 0), result.stdout.str()

"""The second example plan (docs/examples/jira: pilot -> haiku-trial -> scale, tickets JIRA-101...,
its own baselines and thresholds) run through pytest: the pass, one intended failure, the gate,
and the criteria forms it writes in YAML (shares, the team's own success threshold, a limit from
the phase's own figures) refused with a clear error when malformed."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from pytest_orchphase.settings import KEYS
from tests.helpers import REPO, edit_in

JIRA = REPO / "docs" / "examples" / "jira"


@pytest.fixture
def jira(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """The Jira plan as a project of its own: criteria/ and docs/orchestration-data/."""
    for key in KEYS:
        monkeypatch.delenv(key.env, raising=False)
    shutil.copytree(JIRA / "criteria", pytester.path / "criteria")
    shutil.copytree(JIRA / "orchestration-data", pytester.path / "docs" / "orchestration-data")
    return pytester


def edit(root: Path, relpath: str, old: str, new: str) -> None:
    edit_in(root)(relpath, old, new)


def lit(text: str) -> str:
    """``text`` as a literal in an fnmatch pattern (brackets are character classes there)."""
    return re.sub(r"[\[\]]", lambda m: f"[{m.group()}]", text)


TRIAL_LOG = "docs/orchestration-data/haiku-trial/execution-log.yaml"


@pytest.mark.parametrize(("phase", "items"), [("pilot", 7), ("haiku-trial", 11), ("scale", 11)])
def test_every_phase_of_the_plan_passes(jira: pytest.Pytester, phase: str, items: int) -> None:
    result = jira.runpytest("--phase", phase, "-p", "no:randomly")
    result.assert_outcomes(passed=items)
    assert result.ret == 0
    result.stdout.fnmatch_lines(["Proceed to phase *: YES"])


def test_the_plan_runs_from_outside_with_absolute_folders(
    jira: pytest.Pytester, tmp_path_factory: pytest.TempPathFactory
) -> None:
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    criteria, data = jira.path / "criteria", jira.path / "docs" / "orchestration-data"
    for args in (
        ["--orchphase-criteria", str(criteria), f"--orchphase-data={data}"],
        [f"--orchphase-criteria={criteria}", "--orchphase-data", str(data)],
    ):
        result = jira.runpytest_subprocess(
            "--phase", "haiku-trial", *args, "--rootdir", str(elsewhere)
        )
        assert result.ret == 0, result.stdout.str()
        result.stdout.fnmatch_lines(["*batching-saves*16.1%*min*15.0%*PASS*"])


def test_one_intended_failure_reads_as_the_share_formula(jira: pytest.Pytester) -> None:
    # planning grows from 10,000 to 11,000: 11,000 / 105,000 = 10.5 % of the phase's tokens;
    # batching still saves (124,000 - 105,000) / 124,000 = 15.3 %
    edit(
        jira.path,
        "criteria/haiku-trial.yaml",
        "  - id: review-share",
        """  - id: planning-share
    metric: shared_planning_tokens
    measure: total
    of: {metric: tokens, measure: total}
    below: 10%

  - id: review-share""",
    )
    edit(jira.path, TRIAL_LOG, "actual_tokens: 10000", "actual_tokens: 11000")
    result = jira.runpytest("--phase", "haiku-trial", "-p", "no:randomly")
    result.assert_outcomes(passed=11, failed=1)
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [
            "*planning-share: shared_planning_tokens / tokens = 11,000 / 105,000 × 100 = 10.5% "
            ">= below 10.0% — *haiku-trial/execution-log.yaml: shared_planning*",
            "Proceed to phase scale: NO — failing: planning-share",
        ]
    )


def test_a_haiku_ticket_worse_than_sonnets_worst_fails_and_closes_the_gate(
    jira: pytest.Pytester,
) -> None:
    edit(
        jira.path,
        TRIAL_LOG,
        "      result: PASS\n      attempts: 2\n  JIRA-105",
        "      result: PASS\n      attempts: 3\n  JIRA-105",
    )
    trial = jira.runpytest("--phase", "haiku-trial", "-p", "no:randomly")
    assert trial.ret == 1
    trial.stdout.fnmatch_lines(
        [
            "*"
            + lit(
                "haiku-review-attempts: max_review_attempts[haiku] 3 > max 2 "
                "(this phase's max_review_attempts[sonnet])"
            )
            + "*",
        ]
    )
    scale = jira.runpytest("--phase", "scale", "-p", "no:randomly")
    assert scale.ret == 1
    scale.stdout.fnmatch_lines(["*phase haiku-trial failed: haiku-review-attempts*"])


def test_the_teams_success_threshold_decides_the_rate(jira: pytest.Pytester) -> None:
    # with the default threshold (one fix loop) JIRA-104's two loops are a failure: 1 of 2
    edit(
        jira.path, "criteria/haiku-trial.yaml", "    max_fix_loops: 2\n    min: 60%", "    min: 60%"
    )
    result = jira.runpytest("--phase", "haiku-trial", "-p", "no:randomly")
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        ["*" + lit("haiku-success: success_rate[haiku] 50.0% < min 60.0%") + "*"]
    )


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        (
            "metric: all_reviews_passed\n    equals: true\n    of: {metric: tickets}",
            "criteria[5].of: `of:` takes a share of a quantity (tokens, USD, minutes, a count); "
            "metric 'all_reviews_passed' is bool",
        ),
        (
            "metric: tokens\n    measure: total\n    of: {metric: wall_time_minutes}\n    max: 50%",
            "criteria[5].of: a share compares like with like: tokens is in tokens, "
            "wall_time_minutes in minutes",
        ),
        (
            "metric: tokens\n    measure: total\n    of: {metric: tokens, measure: usd}\n"
            "    max: 50%",
            "criteria[5].of: a share compares like with like: tokens is in tokens, tokens in usd",
        ),
        (
            "metric: tokens\n    measure: total\n    of: {baseline: old_proces}\n    max: 50%",
            "criteria[5].of.baseline: unknown baseline 'old_proces'; defined: old_process, "
            "separate_planning; did you mean 'old_process'?",
        ),
        (
            "metric: tokens\n    measure: total\n    of: {metric: stage_tokens}\n    max: 50%",
            "criteria[5].of: metric 'stage_tokens' needs `measure:`",
        ),
        (
            "metric: tokens\n    measure: total\n    of: {metric: tokens, measure: total}\n"
            "    max: 50k",
            "criteria[5].max: limit for tokens: ",
        ),
        (
            "metric: success_rate\n    model: haiku\n    of: {metric: tickets}\n    max: 50%",
            "criteria[5].of: `of:` takes a share of a quantity (tokens, USD, minutes, a count); "
            "metric 'success_rate' is a figure with an interval",
        ),
        (
            "metric: tokens\n    measure: total\n    of: {metric: tokens, per: phase}\n"
            "    max: 50%",
            "`per:` applies to a baseline's cost, not to a metric",
        ),
        (
            "metric: tokens\n    measure: total\n    max_fix_loops: 2\n    max: 50k",
            "criteria[5].max_fix_loops: metric 'tokens' takes no `max_fix_loops`",
        ),
        (
            "all:\n      - {metric: tickets, min: 1}\n    of: {metric: tickets}",
            "of belong to each condition inside `all`, not to the group",
        ),
    ],
)
def test_a_malformed_share_or_threshold_is_a_collection_error(
    jira: pytest.Pytester, condition: str, message: str
) -> None:
    criteria = jira.path / "criteria" / "pilot.yaml"
    criteria.write_text(criteria.read_text() + f"\n  - id: bad\n    {condition}\n")
    result = jira.runpytest("--phase", "pilot", "-p", "no:randomly")
    assert result.ret == 2
    result.stdout.fnmatch_lines([f"*criteria/pilot.yaml:*{lit(message)}*"])
    assert "Traceback" not in result.stdout.str()

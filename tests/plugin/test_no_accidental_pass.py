"""Ways a phase could pass by accident, each shut (found by review, kept by these tests)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import (
    BASELINES,
    ClaudeHome,
    Phase,
    agent_result,
    assistant,
    example_baselines,
    insert,
    spawn_block,
    usage,
    write_yaml,
)


def test_a_failed_review_fails_quality_and_the_model_success_rate(project: pytest.Pytester) -> None:
    a2 = Phase.example("a2")
    a2.stage("R03", "review")["result"] = "FAIL"
    a2.write(project.path)
    result = project.runpytest("--phase", "a2")
    result.stdout.fnmatch_lines(
        ["quality[[]R03[]]: all of 3 conditions must hold; review_passed false != equals true*"]
    )
    result.stdout.fnmatch_lines(["haiku-success-rate: success_rate[[]haiku[]] 0.0% < min 70.0%*"])
    result.stdout.fnmatch_lines(["Proceed to phase a3: NO*"])
    assert result.ret == 1


def test_a_stage_that_ran_without_figures_makes_the_ticket_unknown(
    project: pytest.Pytester,
) -> None:
    a1 = Phase.example("a1")
    del a1.stage("R06", "implementation")["estimated_tokens"]
    del a1.stage("R06", "implementation")["actual_tokens"]
    a1.write(project.path)
    result = project.runpytest("--phase", "a1", "-k", "token-efficiency")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "token-efficiency[[]R06[]]: tokens: cannot be evaluated: ticket R06's "
            "implementation stage records no estimated_tokens or actual_tokens*"
        ]
    )


def test_wall_time_needs_every_ticket_stamped(project: pytest.Pytester) -> None:
    a1 = Phase.example("a1")
    for stage in a1.ticket("R06").values():
        if isinstance(stage, dict):
            stage.pop("start_time", None)
            stage.pop("end_time", None)
    a1.write(project.path)
    result = project.runpytest("--phase", "a1", "-k", "time")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "time: wall_time_minutes: cannot be evaluated: ticket(s) R06 record no "
            "start_time/end_time*"
        ]
    )


@pytest.mark.parametrize(
    "dropped",
    [("start_time", "end_time"), ("end_time",)],
    ids=["no stamps", "start only"],
)
def test_a_stage_that_ran_without_its_stamps_makes_wall_time_unknown(
    project: pytest.Pytester, dropped: tuple[str, ...]
) -> None:
    # R06's finalization (10:25-10:27) is the phase's last work: without its end stamp the
    # phase would measure 24.5 (or 25) minutes and pass a 26-minute cap it did not meet.
    a1 = Phase.example("a1")
    a1.criterion("time")["below"] = 26
    for stamp in dropped:
        del a1.stage("R06", "finalization")[stamp]
    a1.write(project.path)
    result = project.runpytest("--phase", "a1", "-k", "time")
    result.assert_outcomes(failed=1)
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [
            "time: wall_time_minutes: cannot be evaluated: stage(s) R06.finalization ran "
            "without a start_time and an end_time, so the wall time could be longer*",
            "Proceed to phase a2: NO — failing: time",
        ]
    )


def test_a_skipped_stage_needs_no_stamps(project: pytest.Pytester) -> None:
    a1 = Phase.example("a1")
    final = a1.stage("R06", "finalization")
    del final["start_time"], final["end_time"]
    insert(final, "estimated_tokens", "status", "skipped")
    a1.write(project.path)
    result = project.runpytest("--phase", "a1", "-k", "time")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["time*wall_time_minutes*24.5 min*below*30.0 min*PASS"])


def test_a_zero_baseline_is_an_error_at_its_line_not_a_crash(project: pytest.Pytester) -> None:
    baselines = example_baselines()
    baselines["baselines"]["v2"]["tokens_per_ticket"] = 0
    write_yaml(project.path / BASELINES, baselines)
    result = project.runpytest("--phase", "a1")
    assert result.ret == 2
    result.stdout.fnmatch_lines(
        ["*criteria/baselines.yaml:*: baselines.v2: tokens_per_ticket must be above 0"]
    )
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


def test_a_fraction_for_a_percentage_is_refused(project: pytest.Pytester) -> None:
    a1 = Phase.example("a1")
    a1.criterion("savings-vs-v2")["min"] = 0.6
    a1.write(project.path)
    result = project.runpytest("--phase", "a1")
    assert result.ret == 2
    result.stdout.fnmatch_lines(
        [
            "*criteria/a1.yaml:*: criteria[[]3[]].min: limit for savings: 0.6 looks "
            "like a fraction; write the percentage: '60%'*"
        ]
    )


def stretch_to_a1(root: Path, measure: str) -> None:
    """a2's token-efficiency stretches to a1's average ``measure`` tokens per ticket."""
    a2 = Phase.example("a2")
    reference = {"phase": "a1", "metric": "ticket_tokens_average", "measure": measure}
    a2.criterion("token-efficiency")["stretch"] = reference
    a2.write(root)


def test_a_stretch_that_cannot_be_evaluated_never_fails_the_item(project: pytest.Pytester) -> None:
    (project.path / "docs/orchestration-data/phase-a1-r03-r06/metadata.yaml").unlink()
    stretch_to_a1(project.path, "total")
    result = project.runpytest("--phase", "a2", "-k", "token-efficiency", "--orchphase-no-gate")
    result.assert_outcomes(passed=3)


def test_a_reference_in_another_measure_is_refused(project: pytest.Pytester) -> None:
    stretch_to_a1(project.path, "output")
    result = project.runpytest("--phase", "a2")
    assert result.ret == 2
    result.stdout.fnmatch_lines(
        [
            "*criteria/a2.yaml:*: criteria[[]0[]].stretch.measure: compares total tokens "
            "with a1's output tokens; give both the same measure"
        ]
    )


def test_filter_naming_a_ticket_the_phase_lacks_is_an_error(project: pytest.Pytester) -> None:
    a2 = Phase.example("a2")
    a2.criterion("haiku-validation")["where"] = {"tickets": ["R03", "R99"]}
    a2.write(project.path)
    result = project.runpytest("--phase", "a2")
    assert result.ret == 2
    result.stdout.fnmatch_lines(
        ["*criteria[[]2[]].where.tickets: ticket(s) R99 are not in this phase*"]
    )


def test_broken_data_still_names_the_next_phase(project: pytest.Pytester) -> None:
    a1 = Phase.example("a1")
    a1.stage("R06", "implementation")["actual_tokens"] = "${X}"
    a1.write(project.path)
    result = project.runpytest("--phase", "a1")
    result.stdout.fnmatch_lines(["Proceed to phase a2: NO — the phase's files have errors"])


def _measured_phase(pytester: pytest.Pytester, log: str) -> None:
    pytester.makefile(
        ".yaml",
        **{
            "criteria/m1": (
                "phase: m1\ndata: phase-m1\ncriteria:\n  - id: cap\n    for_each: ticket\n"
                "    metric: tokens\n    measure: total\n    max: 100k\n"
            )
        },
    )
    data = pytester.path / "docs" / "orchestration-data" / "phase-m1"
    data.mkdir(parents=True)
    (data / "metadata.yaml").write_text("phase: M1\ntickets: [R03, R06]\n")
    (data / "execution-log.yaml").write_text(log)
    home = ClaudeHome(data / "transcripts")
    home.subagent("a1", [assistant("m1", "q1", agent_id="a1", u=usage(inp=5, cw=8000))])
    home.subagent("a2", [assistant("m2", "q2", agent_id="a2", u=usage(inp=9, cw=50000))])
    home.session(
        [
            assistant(
                "m0",
                "q0",
                u=usage(inp=10, out=100, cw=1000),
                content=[
                    spawn_block("t1", description="R03: rename the helper"),
                    spawn_block("t2", description="Fix lifecycle observer"),  # names no ticket
                ],
            ),
            agent_result("t1", "a1", usage(inp=5, cw=8000)),
            agent_result("t2", "a2", usage(inp=9, cw=50000)),
        ]
    )


LOG = (
    "tickets:\n  R03:\n    implementation: {estimated_tokens: 12000}\n"
    "  R06:\n    implementation: {estimated_tokens: 12000AGENTS}\n"
)


def test_unmeasured_ticket_is_unknown_while_usage_is_unattributed(
    pytester: pytest.Pytester,
) -> None:
    _measured_phase(pytester, LOG.replace("AGENTS", ""))
    result = pytester.runpytest("--phase", "m1")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "cap[[]R06[]]: tokens: cannot be evaluated: ticket R06 has no measured usage "
            "while a2 (Fix lifecycle observer) could not be attributed*"
        ]
    )


def test_mapping_the_agent_measures_the_ticket(pytester: pytest.Pytester) -> None:
    _measured_phase(pytester, LOG.replace("AGENTS", ", agents: {agent_ids: [a2]}"))
    result = pytester.runpytest("--phase", "m1")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["cap*R06*tokens*50,010*max*100,000*PASS"])


def test_an_agent_attributed_twice_is_an_error(pytester: pytest.Pytester) -> None:
    log = (
        "tickets:\n  R03:\n    implementation: {estimated_tokens: 1, agents: {agent_ids: [a2]}}\n"
        "  R06:\n    implementation: {estimated_tokens: 1, agents: {agent_ids: [a2]}}\n"
    )
    _measured_phase(pytester, log)
    result = pytester.runpytest("--phase", "m1")
    assert result.ret == 2
    result.stdout.fnmatch_lines(
        [
            "*execution-log.yaml:5:*: tickets.R06.implementation.agents.agent_ids[[]0[]]: "
            "agent 'a2' is already attributed to tickets.R03.implementation*"
        ]
    )


@pytest.mark.parametrize(
    ("limit", "outcome"),
    [("25min", "failed"), ("1h", "passed"), ("0h25m", "failed")],
)
def test_a_duration_limit_as_people_write_it(
    project: pytest.Pytester, limit: str, outcome: str
) -> None:
    a1 = Phase.example("a1")
    a1.criterion("time")["below"] = limit
    a1.write(project.path)
    result = project.runpytest("--phase", "a1", "-k", "time")
    result.assert_outcomes(**{outcome: 1})
    result.stdout.fnmatch_lines(["time*wall_time_minutes*27.0 min*below*"])

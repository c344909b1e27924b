"""The decision line and the exit status speak for the whole run: every item that failed or
errored counts, a run that did not decide YES never exits 0, and a metric whose code raises is a
named failure everywhere, never a missing row."""

from __future__ import annotations

import pytest

from tests.helpers import Phase, fail_a2, read_report

FAILING_CHECK = """
def test_review_is_under_a_tenth(orchphase_phase):
    assert orchphase_phase.metric("fix_loops", ticket="R03") == 0
"""

BROKEN_FIXTURE = """
import pytest

@pytest.fixture
def broken():
    raise RuntimeError("no connection")

def test_uses_broken(broken):
    pass
"""

RAISING_METRIC = """
def pytest_orchphase_register_metrics(registry):
    def review_share(ctx, ticket, params):
        return 1 / 0
    registry.register("review_share", scope="phase", unit="percent",
                      formula="review tokens / tokens x 100", fn=review_share)
"""

NAN_METRIC = """
def pytest_orchphase_register_metrics(registry):
    registry.register("review_share", scope="phase", unit="percent",
                      formula="review tokens / tokens x 100",
                      fn=lambda ctx, ticket, params: float("nan"))
"""

SHARE_CRITERION = {"id": "review-share", "metric": "review_share", "max": "20%"}


def test_a_failing_python_check_makes_the_decision_no(project: pytest.Pytester) -> None:
    project.makepyfile(test_checks=FAILING_CHECK)
    result = project.runpytest(
        "--phase", "a2", "test_checks.py", "--orchphase-json", "r.json", "--orchphase-md", "r.md"
    )
    result.assert_outcomes(passed=10, failed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        ["Proceed to phase a3: NO — failing: test_checks.py::test_review_is_under_a_tenth"]
    )
    proceed = read_report(project.path)["decisions"]["proceed"]
    assert proceed["answer"] == "NO"
    assert "test_checks.py::test_review_is_under_a_tenth" in proceed["line"]
    assert "test_checks.py::test_review_is_under_a_tenth" in (project.path / "r.md").read_text()


def test_an_item_that_errors_in_setup_makes_the_decision_no(project: pytest.Pytester) -> None:
    project.makepyfile(test_checks=BROKEN_FIXTURE)
    result = project.runpytest("--phase", "a1", "test_checks.py")
    result.assert_outcomes(passed=6, errors=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        ["Proceed to phase a2: NO — failing: test_checks.py::test_uses_broken"]
    )


def test_passing_python_checks_keep_the_decision_yes(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_checks="def test_ok(orchphase_phase):\n    assert orchphase_phase.tickets\n"
    )
    result = project.runpytest("--phase", "a1", "test_checks.py")
    result.assert_outcomes(passed=7)
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["Proceed to phase a2: YES"])


def test_a_gate_says_it_covers_the_yaml_criteria_only(project: pytest.Pytester) -> None:
    project.runpytest("--phase", "a2", "-k", "gate", "--orchphase-json", "r.json")
    (gate,) = read_report(project.path)["gates"]
    assert gate["covers"] == "YAML criteria only; its Python checks count in its own run"
    assert gate["source"].endswith("(YAML criteria only; its Python checks count in its own run)")
    fail_a2(project.path)
    result = project.runpytest("--phase", "a3", "-k", "gate")
    result.stdout.fnmatch_lines(["*(its YAML criteria, evaluated from a2's own data;*"])


@pytest.mark.parametrize(
    "deselect",
    [("-k", "not comparison"), ("--deselect", "criteria/a2.yaml::comparison-to-a1")],
    ids=["-k", "--deselect"],
)
def test_an_undecided_run_exits_non_zero(
    project: pytest.Pytester, deselect: tuple[str, str]
) -> None:
    result = project.runpytest("--phase", "a2", *deselect, "--orchphase-json", "r.json")
    result.assert_outcomes(passed=9, deselected=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["Proceed to phase a3: UNDECIDED — only 9 of 10 criteria ran*"])
    assert read_report(project.path)["decisions"]["proceed"]["answer"] == "UNDECIDED"


def test_a_run_stopped_early_by_x_is_undecided_and_fails(project: pytest.Pytester) -> None:
    a1 = Phase.example("a1")
    a1.criterion("token-efficiency")["below"] = "36k"  # R06's 36,200 fails; its stretch 35k
    a1.write(project.path)
    result = project.runpytest("--phase", "a1", "-x")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["Proceed to phase a2: NO — failing: token-efficiency[[]R06[]]"])


def test_a_metric_that_raises_is_a_named_failure_in_every_output(
    project: pytest.Pytester,
) -> None:
    project.makeconftest(RAISING_METRIC)
    Phase.example("a2").add(SHARE_CRITERION).write(project.path)
    result = project.runpytest(
        "--phase", "a2", "--orchphase-json", "r.json", "--orchphase-md", "r.md"
    )
    result.assert_outcomes(passed=10, failed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "review-share: review_share: cannot be evaluated: metric 'review_share' raised "
            "ZeroDivisionError: division by zero (at conftest.py:3)*",
            "review-share*review_share*n/a*max*FAIL",
            "Proceed to phase a3: NO — failing: review-share",
        ]
    )
    report = read_report(project.path)
    (entry,) = [e for e in report["criteria"] if e["id"] == "review-share"]
    assert entry["passed"] is False
    assert "ZeroDivisionError" in entry["error"]
    assert "review-share" in (project.path / "r.md").read_text()


def test_a_gate_over_a_raising_metric_fails_and_keeps_its_row(project: pytest.Pytester) -> None:
    project.makeconftest(RAISING_METRIC)
    Phase.example("a2").add(SHARE_CRITERION).write(project.path)
    result = project.runpytest("--phase", "a3", "--orchphase-json", "r.json")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*phase-gate[[]a2[]]*phase a2 failed: review-share*"])
    (gate,) = read_report(project.path)["gates"]
    assert (gate["passed"], gate["failing"]) == (False, ["review-share"])


def test_a_metric_returning_nan_fails_instead_of_comparing_as_no_limit(
    project: pytest.Pytester,
) -> None:
    project.makeconftest(NAN_METRIC)
    Phase.example("a2").add(SHARE_CRITERION).write(project.path)
    result = project.runpytest("--phase", "a2", "-k", "review")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*metric 'review_share' returned nan; expected a finite percentage*"]
    )

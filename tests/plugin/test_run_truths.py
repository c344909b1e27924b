"""What a run is, besides its data (repros of the fifth adversarial round, then their siblings):
a run whose pytest configuration pytest dropped, because it took an option's value for a test
path, never says YES; and the JUnit file of a phase says its decision, not only its items."""

from __future__ import annotations

import os
from pathlib import Path
from xml.etree import ElementTree

import pytest

from tests.helpers import (
    PATH_OPTIONS,
    Phase,
    YamlData,
    assert_not_yes,
    decision,
    flat_ticket,
    outside_path,
    run_phase,
)


def test_the_same_command_run_twice_drops_the_projects_checks_and_says_yes(
    pytester: pytest.Pytester, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The project runs its Python checks beside every phase through its pytest.ini
    (`addopts = checks/`); one check fails. `pytest --phase a1 --orchphase-json OUT/r.json`
    (a space, an absolute path outside the project, as the charter's new user writes it): the
    first run says NO, exit 1. The same command again: r.json now exists, pytest roots itself
    in OUT and reads no pytest.ini, so `checks/` is never collected; the run used to warn, then
    say `Proceed to phase a2: YES` and exit 0 on the same data. Now a usage error (exit 4)
    before anything runs, naming the option and the fix."""
    from pytest_orchphase.cli import main

    os.chdir(pytester.path)
    assert main(["init", "--example"]) == 0
    (pytester.path / "pytest.ini").write_text("[pytest]\naddopts = checks/\n")
    checks = pytester.path / "checks"
    checks.mkdir()
    (checks / "test_team.py").write_text(
        "def test_review_share(orchphase_phase):\n    assert False, 'the team check fails'\n"
    )
    report = tmp_path_factory.mktemp("out") / "r.json"
    answers = []
    for _ in range(2):
        result = pytester.runpytest(
            "--phase", "a1", "-p", "no:randomly", "--orchphase-json", str(report)
        )
        answers.append((result.ret, "Proceed to phase a2: YES" in result.stdout.str()))
    assert answers[0] == (1, False), answers
    assert answers[1] == (pytest.ExitCode.USAGE_ERROR, False), answers
    result.stderr.fnmatch_lines(
        [f"ERROR: pytest-orchphase: *--orchphase-json {report}*--orchphase-json={report}*"]
    )


# -- a run whose pytest configuration pytest dropped -------------------------------------------

CHECK = "def test_review_share():\n    assert False, 'the team check fails'\n"
#: Each configuration file pytest reads, running the project's checks beside every phase.
FORMATS = {
    "pytest.toml": '[pytest]\naddopts = ["checks/"]\n',
    "pytest.ini": "[pytest]\naddopts = checks/\n",
    "pyproject.toml": '[tool.pytest.ini_options]\naddopts = "checks/"\n',
    "tox.ini": "[pytest]\naddopts = checks/\n",
    "setup.cfg": "[tool:pytest]\naddopts = checks/\n",
}


#: A project's pytest settings that have no bearing on a phase run.
NO_BEARING_INI = "[pytest]\ntestpaths = tests\nmarkers =\n    slow: slow tests\nminversion = 8.0\n"


@pytest.fixture
def outside(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("outside")


def _checks(project: Path) -> None:
    """The project's failing team check, in checks/."""
    (project / "checks").mkdir()
    (project / "checks" / "test_team.py").write_text(CHECK)


def _with_checks(project: pytest.Pytester, name: str = "pytest.ini") -> None:
    """The example project running its failing team check beside every phase."""
    (project.path / name).write_text(FORMATS[name])
    _checks(project.path)


def _misread(pytester: pytest.Pytester, out: Path, *args: str) -> tuple[pytest.RunResult, Path]:
    """``pytest --phase a1 ARGS --orchphase-json OUT/r.json`` once the report exists, pytest
    rooted by it elsewhere: a usage error."""
    report = out / "r.json"
    report.write_text("{}")
    result = pytester.runpytest("--phase", "a1", *args, "--orchphase-json", str(report))
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str() + result.stderr.str()
    return result, report


@pytest.mark.parametrize("spelling", ["space", "equals"])
@pytest.mark.parametrize("option", PATH_OPTIONS)
def test_every_path_option_spelled_with_a_space_keeps_or_stops_the_projects_checks(
    project: pytest.Pytester, outside: Path, option: str, spelling: str
) -> None:
    """Each path option, an absolute path outside the project, run twice: with `=` both runs
    collect the failing check and say NO; with a space, a run where the value already exists
    (an input always, a report the second time) is a usage error naming the option and both
    fixes, never YES."""
    _with_checks(project)
    data = project.path / "docs" / "orchestration-data"
    path = outside_path(option, outside, project.path / "criteria", data)
    args = [option, str(path)] if spelling == "space" else [f"{option}={path}"]
    for run in (1, 2):
        misread = spelling == "space" and path.exists()
        result = project.runpytest("--phase", "a1", "-p", "no:randomly", *args)
        output = result.stdout.str() + result.stderr.str()
        assert "Proceed to phase a2: YES" not in output, f"run {run}:\n{output}"
        if misread:
            assert result.ret == pytest.ExitCode.USAGE_ERROR, f"run {run}:\n{output}"
            result.stderr.fnmatch_lines(
                [
                    f"ERROR: pytest-orchphase: pytest took the value of `{option} {path}` for "
                    "a test path *, and so chose rootdir * and no configuration file instead "
                    f"of rootdir {project.path} and pytest.ini (settings lost: addopts): *"
                    f"Write `{option}={path}`, or pass `-c pytest.ini`."
                ]
            )
            assert "Proceed to phase" not in output  # nothing ran
        else:
            assert result.ret == pytest.ExitCode.TESTS_FAILED, f"run {run}:\n{output}"
            result.assert_outcomes(passed=6, failed=1)


@pytest.mark.parametrize("name", list(FORMATS))
def test_each_configuration_format_pytest_drops_is_a_usage_error(
    project: pytest.Pytester, outside: Path, name: str
) -> None:
    if pytest.version_tuple < (9,) and name == "pytest.toml":
        pytest.skip("pytest < 9 reads no pytest.toml: its addopts apply in no run")
    _with_checks(project, name)
    result, _ = _misread(project, outside)
    result.stderr.fnmatch_lines(
        [f"*instead of rootdir {project.path} and {name} (settings lost: addopts)*"]
    )
    # the same file found from both (the report inside the project): nothing is dropped
    result = project.runpytest("--phase", "a1", "--orchphase-json", "r.json")
    assert result.ret == pytest.ExitCode.TESTS_FAILED, result.stdout.str()
    result = project.runpytest("--phase", "a1", "--orchphase-json", "r.json")
    assert result.ret == pytest.ExitCode.TESTS_FAILED, result.stdout.str()
    result.assert_outcomes(passed=6, failed=1)


@pytest.mark.parametrize("config", [None, "[pytest]\n", NO_BEARING_INI])
@pytest.mark.parametrize("spelling", ["space", "equals"])
def test_a_run_that_loses_nothing_says_yes_with_both_spellings_twice(
    project: pytest.Pytester, outside: Path, spelling: str, config: str | None
) -> None:
    """No configuration file at all, one with no pytest setting (an empty pytest.ini), or one
    whose settings cannot change a phase run (testpaths, markers, minversion): pytest rooted
    elsewhere loses nothing that counts, so the run is the project's and decides."""
    if config is not None:
        (project.path / "pytest.ini").write_text(config)
    report = outside / "r.json"
    args = (
        ["--orchphase-json", str(report)] if spelling == "space" else [f"--orchphase-json={report}"]
    )
    for run in (1, 2):
        result = project.runpytest("--phase", "a1", "-p", "no:randomly", *args)
        assert result.ret == 0, f"run {run}:\n{result.stdout.str()}{result.stderr.str()}"
        result.assert_outcomes(passed=6)
        assert "Proceed to phase a2: YES" in result.stdout.str()
        assert '"a1"' in report.read_text()


def test_a_configuration_file_where_pytest_roots_itself_is_a_usage_error(
    project: pytest.Pytester, outside: Path
) -> None:
    """The project has no configuration file; the folder the report goes to has one, with
    settings: pytest would run the phase with another project's addopts (here one that drops
    the project's check, by deselecting it)."""
    _checks(project.path)
    (outside / "tox.ini").write_text("[pytest]\naddopts = --deselect checks/test_team.py\n")
    result, report = _misread(project, outside, "checks")
    result.stderr.fnmatch_lines(
        [
            f"*and so chose rootdir {outside} and {outside / 'tox.ini'} instead of rootdir "
            f"{project.path} and no configuration file (settings taken in: addopts): * "
            f"Write `--orchphase-json={report}`."
        ]
    )


def test_a_conftest_the_other_rootdir_loads_is_a_usage_error(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No configuration file anywhere; pytest rooted in the common folder of the project and
    the report's folder loads that folder's conftest.py, which the project's run never loads
    (here it deselects the project's failing check, which would make the phase YES)."""
    from pytest_orchphase.cli import main

    project, out = pytester.mkdir("project"), pytester.mkdir("out")
    monkeypatch.chdir(project)
    assert main(["init", "--example"]) == 0
    _checks(project)
    (pytester.path / "conftest.py").write_text(
        "def pytest_collection_modifyitems(items):\n"
        "    items[:] = [item for item in items if 'checks' not in item.nodeid]\n"
    )
    result, report = _misread(pytester, out, "checks")
    result.stderr.fnmatch_lines(
        [
            f"*(conftest.py files loaded otherwise: {pytester.path / 'conftest.py'}): * Write "
            f"`--orchphase-json={report}`, or pass `--rootdir={project}`."
        ]
    )
    result = pytester.runpytest("--phase", "a1", "checks", f"--orchphase-json={report}")
    assert result.ret == pytest.ExitCode.TESTS_FAILED, result.stdout.str()


@pytest.mark.parametrize("how", ["PYTEST_ADDOPTS", "--rootdir", "-n 2"])
def test_the_other_ways_to_the_same_command_are_usage_errors_too(
    project: pytest.Pytester, outside: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    """The option in PYTEST_ADDOPTS (which pytest reads before choosing), with --rootdir (which
    names the rootdir but not the configuration file: pytest still reads none), under xdist."""
    _with_checks(project)
    report = outside / "r.json"
    report.write_text("{}")
    args = ["--phase", "a1", "-p", "no:randomly"]
    if how == "PYTEST_ADDOPTS":
        monkeypatch.setenv("PYTEST_ADDOPTS", f"--orchphase-json {report}")
    else:
        args += ["--orchphase-json", str(report), *how.split()]
        if how == "--rootdir":
            args[-1] = f"--rootdir={project.path}"
    run = project.runpytest_subprocess if how == "-n 2" else project.runpytest
    result = run(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str() + result.stderr.str()
    result.stderr.fnmatch_lines(["ERROR: pytest-orchphase: pytest took the value of *"])
    assert "Traceback" not in result.stderr.str()


def test_named_configuration_or_no_phase_is_left_to_pytest(
    project: pytest.Pytester, outside: Path
) -> None:
    """`-c pytest.ini` makes pytest read the project's file: the check runs, the phase is NO. A
    run without a phase is pytest's own business: the plugin says nothing."""
    _with_checks(project)
    report = outside / "r.json"
    report.write_text("{}")
    result = project.runpytest("--phase", "a1", "-c", "pytest.ini", "--orchphase-json", str(report))
    assert result.ret == pytest.ExitCode.TESTS_FAILED, result.stdout.str() + result.stderr.str()
    result.assert_outcomes(passed=6, failed=1)
    result = project.runpytest("--orchphase-json", str(report))
    assert result.ret == pytest.ExitCode.TESTS_FAILED, result.stdout.str() + result.stderr.str()
    assert "pytest-orchphase:" not in result.stdout.str() + result.stderr.str()


def test_junit_of_a_phase_decided_no_reads_all_passed(pytester: pytest.Pytester) -> None:
    """b1's criteria all pass, but its shared planning failed: the decision is NO (exit 1).
    The JUnit file docs/ci.md hands to GitLab's test report said failures="0", errors="0",
    every testcase passed, and held nothing of the decision: the merge request's test widget
    showed the phase green. (The same for UNDECIDED on a ticket not finished.) Expected: a NO
    or UNDECIDED decision leaves a failure (or at least the decision) in the JUnit file."""
    tickets = {"R01": flat_ticket(), "R02": flat_ticket()}
    planning = {"estimated_tokens": 1_000, "status": "failed"}
    cap = [
        {"id": "cap", "for_each": "ticket", "metric": "tokens", "measure": "total", "max": "40k"}
    ]
    Phase.of("b1", cap, tickets, planning=planning).write(pytester.path)
    result = run_phase(pytester, "b1", "--junitxml=junit.xml")
    assert_not_yes(pytester, result)
    junit = (pytester.path / "junit.xml").read_text()
    assert 'failures="0"' not in junit or "Proceed to phase" in junit, junit


# -- the decision in the JUnit file ------------------------------------------------------------

CAP: list[YamlData] = [
    {"id": "cap", "for_each": "ticket", "metric": "tokens", "measure": "total", "max": "40k"}
]


def _suite(folder: Path) -> ElementTree.Element:
    """The <testsuite> of the run's junit.xml."""
    suite = ElementTree.parse(folder / "junit.xml").getroot().find("testsuite")
    assert suite is not None
    return suite


def _decision_case(suite: ElementTree.Element) -> ElementTree.Element | None:
    return next((c for c in suite.iter("testcase") if c.get("name") == "phase-decision"), None)


@pytest.mark.parametrize(
    ("why", "workers"),
    [
        ("a shared planning failed", 0),
        ("a shared planning failed", 2),
        ("a ticket failed", 0),
        ("a ticket not finished", 0),
        ("a ticket not finished", 2),
        ("a Python check skipped", 0),
    ],
)
def test_a_decision_other_than_yes_is_a_failing_testcase_in_the_junit_file(
    pytester: pytest.Pytester, why: str, workers: int
) -> None:
    """Every item passes; the decision alone is NO or UNDECIDED. The JUnit file has the
    decision as a testsuite property and a failing testcase `phase-decision` beside the
    phase's items, its message the decision line; under xdist too (the controller writes it)."""
    tickets = {"R01": flat_ticket(), "R02": flat_ticket()}
    planning = None
    args = ["--phase", "b1", "-p", "no:randomly", "--junitxml=junit.xml", "--orchphase-json=r.json"]
    answer, criteria = "UNDECIDED", CAP
    if why == "a shared planning failed":
        planning, answer = {"estimated_tokens": 1_000, "status": "failed"}, "NO"
    elif why == "a ticket failed":
        tickets["R02"], answer = flat_ticket(status="failed"), "NO"
    elif why == "a ticket not finished":
        tickets["R02"] = flat_ticket(status="in_progress")
        del tickets["R02"]["review"]
        # a minimum its figures so far prove: the item passes, the ticket leaves it undecided
        criteria = [{"id": "loops", "metric": "max_fix_loops", "min": 0}]
    else:
        pytester.makepyfile(test_check="import pytest\n\ndef test_later():\n    pytest.skip()\n")
        args.append("test_check.py")
    Phase.of("b1", criteria, tickets, planning=planning).write(pytester.path)
    if workers:
        result = pytester.runpytest_subprocess(*args, "-n", str(workers))
    else:
        result = pytester.runpytest(*args)
    assert result.ret == pytest.ExitCode.TESTS_FAILED, result.stdout.str()
    assert decision(pytester) == answer
    suite = _suite(pytester.path)
    properties = suite.find("properties")
    assert properties is not None
    assert [(p.get("name"), p.get("value")) for p in properties] == [("orchphase_decision", answer)]
    assert (suite.get("failures"), suite.get("errors")) == ("1", "0")
    case = _decision_case(suite)
    assert case is not None, ElementTree.tostring(suite)
    assert case.get("classname") == "criteria.b1.yaml"  # beside the phase's items
    failure = case.find("failure")
    assert failure is not None
    assert failure.get("message", "").startswith("Proceed to phase ")
    assert f": {answer} — " in failure.get("message", "")
    properties = case.find("properties")
    assert properties is not None
    assert ("decision", answer) in [(p.get("name"), p.get("value")) for p in properties]


def test_a_failing_item_and_the_decision_both_fail_in_the_junit_file(
    pytester: pytest.Pytester,
) -> None:
    tickets = {"R01": flat_ticket(), "R02": flat_ticket(actual_tokens=50_000)}
    Phase.of("b1", CAP, tickets).write(pytester.path)
    result = run_phase(pytester, "b1", "--junitxml=junit.xml")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    suite = _suite(pytester.path)
    assert (suite.get("tests"), suite.get("failures")) == ("3", "2")
    case = _decision_case(suite)
    assert case is not None
    failure = case.find("failure")
    assert failure is not None
    assert ": NO — failing: cap[R02]" in failure.get("message", "")


@pytest.mark.parametrize("workers", [0, 2])
def test_the_junit_file_of_a_yes_run_is_unchanged(pytester: pytest.Pytester, workers: int) -> None:
    """Not over-corrected: a YES run's file has its items only, all passed, and no property."""
    Phase.of("b1", CAP, {"R01": flat_ticket(), "R02": flat_ticket()}).write(pytester.path)
    args = ["--phase", "b1", "-p", "no:randomly", "--junitxml=junit.xml"]
    if workers:
        result = pytester.runpytest_subprocess(*args, "-n", str(workers))
    else:
        result = pytester.runpytest(*args)
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    suite = _suite(pytester.path)
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("2", "0", "0")
    assert suite.find("properties") is None
    assert sorted(str(c.get("name")) for c in suite.iter("testcase")) == ["cap[R01]", "cap[R02]"]


def test_a_pytest_without_its_setup_helper_falls_back_to_the_warning(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The check asks pytest's private `determine_setup`; a pytest release that renames it or
    changes its arguments must not turn every phase run into a traceback: the check says it
    cannot tell (None), and the run goes on to the warning it gave before."""
    import _pytest.config.findpaths as findpaths

    from pytest_orchphase.plugin import command_line

    def changed(**kwargs: object) -> object:
        raise TypeError("determine_setup() got an unexpected keyword argument")

    monkeypatch.setattr(findpaths, "determine_setup", changed)

    from types import SimpleNamespace

    line = command_line.CommandLine(
        paths=(), values=(("--orchphase-json", "/x/r.json"),), rootdir=None, confcutdir=None
    )
    config = SimpleNamespace(
        stash={command_line.COMMAND_LINE: line},
        rootpath=Path("/x"),
        inipath=None,
        invocation_params=SimpleNamespace(dir=Path("/project")),
    )
    assert command_line.configuration_dropped(config) is None  # type: ignore[arg-type]

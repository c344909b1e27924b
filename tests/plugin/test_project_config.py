"""The plugin finds the project's configuration itself, whatever pytest's rootdir.

pytest takes command-line values that are existing paths for test paths when it picks its
rootdir and ini file (pytest issues #906, #8846): `--orchphase-json /out/report.json` (with a
space) roots pytest in /out on the second run, once the report exists, and pytest then reads no
ini file at all. These runs put the project's folders away from the defaults (named only in its
configuration file), give every path option in both spellings with an absolute path outside the
project, run twice, from the project's folder and from a subfolder.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.helpers import PATH_OPTIONS, outside_path

TOML = 'orchphase_criteria = "checks/criteria"\norchphase_data = "phase-data"\n'
CONFIG = "[tool.pytest.ini_options]\n" + TOML


@pytest.fixture
def moved(project: pytest.Pytester) -> pytest.Pytester:
    """The example project with its folders where only its pyproject.toml says."""
    (project.path / "checks").mkdir()
    (project.path / "criteria").rename(project.path / "checks" / "criteria")
    (project.path / "docs" / "orchestration-data").rename(project.path / "phase-data")
    (project.path / "pyproject.toml").write_text(CONFIG)
    (project.path / "sub" / "deeper").mkdir(parents=True)
    return project


@pytest.fixture
def outside(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("outside")


@pytest.mark.parametrize("spelling", ["space", "equals"])
@pytest.mark.parametrize("option", PATH_OPTIONS)
def test_a_path_option_outside_the_project_keeps_the_project_configuration(
    moved: pytest.Pytester,
    outside: Path,
    monkeypatch: pytest.MonkeyPatch,
    option: str,
    spelling: str,
) -> None:
    """Run once from the project's folder, then again from a subfolder (where the report of
    the first run is now an existing path)."""
    path = outside_path(
        option, outside, moved.path / "checks" / "criteria", moved.path / "phase-data"
    )
    args = [option, str(path)] if spelling == "space" else [f"{option}={path}"]
    for run, cwd, configuration in (
        (1, moved.path, "pyproject.toml"),
        (2, moved.path / "sub" / "deeper", str(moved.path / "pyproject.toml")),
    ):
        monkeypatch.chdir(cwd)
        # pytest roots itself elsewhere when it takes the value for an existing test path
        pytest_elsewhere = spelling == "space" and path.exists()
        result = moved.runpytest("--phase", "a1", "-p", "no:randomly", *args)
        output = result.stdout.str()
        assert result.ret == 0, f"run {run}:\n{output}\n{result.stderr.str()}"
        result.assert_outcomes(passed=6)
        assert "Proceed to phase a2: YES" in output
        assert f"orchphase: configuration {configuration}, " in output
        assert ("pytest chose rootdir" in output) is pytest_elsewhere, f"run {run}:\n{output}"
        if option == "--orchphase-prices":
            assert f"prices {path} (from --orchphase-prices)" in output
    if option in ("--orchphase-json", "--orchphase-md"):
        assert "a1" in path.read_text()


def test_the_warning_names_both_configurations_and_sits_at_the_project_config(
    moved: pytest.Pytester, outside: Path
) -> None:
    report = outside / "report.json"
    report.write_text("{}")
    result = moved.runpytest("--phase", "a1", "-p", "no:randomly", "--orchphase-json", str(report))
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        [
            "*warnings summary*",
            "pyproject.toml:1",
            f"*OrchphaseWarning: pytest chose rootdir * and no configuration file; "
            f"pytest-orchphase reads the project's configuration, pyproject.toml, and its "
            f"folders from {moved.path}. *--orchphase-json=PATH*",
        ]
    )
    assert "pytest_orchphase" not in result.stdout.str()  # no source path of ours


def test_warning_as_error_is_a_usage_error(moved: pytest.Pytester, outside: Path) -> None:
    report = outside / "report.json"
    report.write_text("{}")
    result = moved.runpytest(
        "--phase", "a1", "--orchphase-json", str(report), "-W", "error::pytest.PytestWarning"
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: pytest-orchphase: pytest chose rootdir *"])
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()


# Each configuration file pytest reads, with the folder settings in it, from a subfolder.
INI = "orchphase_criteria = checks/criteria\norchphase_data = phase-data\n"
FORMATS = {
    "pytest.toml": "[pytest]\n" + TOML,
    "pytest.ini": "[pytest]\n" + INI,
    ".pytest.ini": "[pytest]\n" + INI,
    "pyproject.toml": CONFIG,
    "tox.ini": "[pytest]\n" + INI,
    "setup.cfg": "[tool:pytest]\n" + INI,
}


@pytest.mark.parametrize("name", list(FORMATS))
def test_each_configuration_format_is_read(
    moved: pytest.Pytester, outside: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    (moved.path / "pyproject.toml").unlink()
    (moved.path / name).write_text(FORMATS[name])
    report = outside / "report.json"
    report.write_text("{}")
    monkeypatch.chdir(moved.path / "sub")
    result = moved.runpytest("--phase", "a1", "-p", "no:randomly", "--orchphase-json", str(report))
    assert result.ret == 0, result.stdout.str() + result.stderr.str()
    result.assert_outcomes(passed=6)
    assert f"configuration {moved.path / name}," in result.stdout.str()


def test_the_nearest_configuration_wins_and_its_folder_is_the_base(
    moved: pytest.Pytester, outside: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A subfolder with its own pytest.ini is another project: its folders, not the outer's."""
    (moved.path / "sub" / "pytest.ini").write_text("[pytest]\n")
    monkeypatch.chdir(moved.path / "sub" / "deeper")
    result = moved.runpytest("--phase", "a1")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert f"no *.yaml in {moved.path / 'sub' / 'criteria'}" in result.stderr.str()


def test_the_phase_from_the_project_configuration_with_pytest_elsewhere(
    moved: pytest.Pytester, outside: Path
) -> None:
    """`orchphase_phase` in the project's file turns a plain run into a phase run even when
    pytest roots itself elsewhere; the header says where the phase came from."""
    with (moved.path / "pyproject.toml").open("a") as f:
        f.write('orchphase_phase = "a1"\n')
    report = outside / "report.json"
    report.write_text("{}")
    result = moved.runpytest("-p", "no:randomly", "--orchphase-json", str(report))
    assert result.ret == 0, result.stdout.str() + result.stderr.str()
    result.assert_outcomes(passed=6)
    result.stdout.fnmatch_lines(["orchphase: phase a1 (from orchphase_phase in pyproject.toml)"])
    assert "pytest chose rootdir" in result.stdout.str()


def test_the_header_says_the_phase_came_from_the_environment(
    moved: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    with (moved.path / "pyproject.toml").open("a") as f:
        f.write('testpaths = ["tests"]\n')
    moved.mkdir("tests")
    monkeypatch.setenv("ORCHPHASE_PHASE", "a1")
    result = moved.runpytest("-p", "no:randomly")
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        [
            "orchphase: phase a1 (from the environment variable ORCHPHASE_PHASE)",
            "orchphase: not collected (testpaths: tests)*",
            "orchphase: configuration pyproject.toml, criteria checks/criteria (from "
            "orchphase_criteria in pyproject.toml), data phase-data (from orchphase_data in "
            "pyproject.toml)",
        ]
    )
    assert "pytest chose rootdir" not in result.stdout.str()


def test_precedence_command_line_then_environment_then_file_then_default(
    moved: pytest.Pytester, outside: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(moved.path / "phase-data", outside / "env-data")
    (moved.path / "phase-data" / "phase-a1-r03-r06" / "metadata.yaml").write_text("phase: [\n")
    # the file's folder is broken: the environment's wins over it
    monkeypatch.setenv("ORCHPHASE_DATA", str(outside / "env-data"))
    result = moved.runpytest("--phase", "a1", "-p", "no:randomly")
    assert result.ret == 0, result.stdout.str()
    assert f"{outside / 'env-data'} (from the environment variable ORCHPHASE_DATA)" in (
        result.stdout.str()
    )
    # pytest's -o beats the environment (relative to the configuration file's folder)
    result = moved.runpytest("--phase", "a1", "-o", "orchphase_data=phase-data")
    assert result.ret == pytest.ExitCode.INTERRUPTED, result.stdout.str()  # collection error
    result.stdout.fnmatch_lines(["phase-data/phase-a1-r03-r06/metadata.yaml:*YAML syntax error*"])
    # and the option beats the environment; typed beside -o with another value, it is a usage
    # error naming both (pytest would keep one of them without a word)
    result = moved.runpytest("--phase", "a1", f"--orchphase-data={outside}/env-data")
    assert result.ret == 0, result.stdout.str()
    result = moved.runpytest(
        "--phase", "a1", "-o", "orchphase_data=phase-data", f"--orchphase-data={outside}/env-data"
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str()
    result.stderr.fnmatch_lines(
        ["*`--orchphase-data *` and `-o orchphase_data=phase-data` set one*"]
    )
    # without any, the file's value: broken, so it fails, never passes on another folder
    monkeypatch.delenv("ORCHPHASE_DATA")
    result = moved.runpytest("--phase", "a1")
    assert result.ret == pytest.ExitCode.INTERRUPTED


def test_an_unreadable_project_configuration_is_a_usage_error_for_a_phase_run_only(
    moved: pytest.Pytester, outside: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (moved.path / "pytest.ini").write_text("[pytest]\n")  # what pytest reads here
    (moved.path / "sub" / "tox.ini").write_text("[pytest]\nkey = 1\nkey = 2\n")
    monkeypatch.chdir(moved.path / "sub")
    # pytest itself is run from another folder's configuration: a plain run is not ours to stop
    moved.makepyfile(test_plain="def test_ok():\n    pass\n")
    result = moved.runpytest(str(moved.path / "test_plain.py"), "-p", "no:randomly")
    assert result.ret == 0, result.stdout.str() + result.stderr.str()
    result = moved.runpytest("--phase", "a1", str(moved.path / "test_plain.py"))
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: pytest-orchphase: *tox.ini*expected a valid pytest*"])


def test_an_explicit_configuration_file_is_the_project_configuration(
    moved: pytest.Pytester, outside: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`-c FILE` names the configuration: its values and folder, and no warning about it."""
    (moved.path / "pyproject.toml").unlink()
    ci = moved.path / "ci" / "pytest-ci.ini"
    ci.parent.mkdir()
    ci.write_text(
        "[pytest]\norchphase_criteria = ../checks/criteria\norchphase_data = ../phase-data\n"
    )
    report = outside / "report.json"
    report.write_text("{}")
    monkeypatch.chdir(moved.path / "sub")
    result = moved.runpytest("--phase", "a1", "-c", str(ci), "--orchphase-json", str(report))
    assert result.ret == 0, result.stdout.str() + result.stderr.str()
    assert f"orchphase: configuration {ci}, " in result.stdout.str()
    assert "pytest chose rootdir" not in result.stdout.str()


def test_under_xdist_the_warning_is_given_once(moved: pytest.Pytester, outside: Path) -> None:
    report = outside / "report.json"
    report.write_text("{}")
    result = moved.runpytest_subprocess(
        "--phase", "a1", "-n", "2", "-p", "no:randomly", "--orchphase-json", str(report)
    )
    assert result.ret == 0, result.stdout.str() + result.stderr.str()
    result.assert_outcomes(passed=6, warnings=1)


def test_without_any_configuration_file_the_current_directory_is_the_project(
    project: pytest.Pytester, outside: Path
) -> None:
    """No pytest configuration at all: the defaults are in the current directory, not in the
    rootdir pytest derives from an existing report path (their common ancestor)."""
    report = outside / "report.json"
    for run in (1, 2):
        result = project.runpytest(
            "--phase", "a1", "-p", "no:randomly", "--orchphase-json", str(report)
        )
        assert result.ret == 0, f"run {run}:\n{result.stdout.str()}\n{result.stderr.str()}"
        result.assert_outcomes(passed=6)
        assert "orchphase: configuration no pytest configuration file in " in result.stdout.str()

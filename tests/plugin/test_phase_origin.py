"""A phase asked for by the environment or the ini file says so: a plain `pytest` that became a
phase run names where the phase came from and the test paths it did not collect."""

from __future__ import annotations

import pytest

NOT_COLLECTED = (
    "orchphase: not collected (testpaths: tests): a phase run collects its criteria file "
    "instead; unset the phase to run the tests"
)


def suite(project: pytest.Pytester, ini: str = "") -> None:
    project.makeini(f"[pytest]\ntestpaths = tests\n{ini}")
    project.mkdir("tests")
    (project.path / "tests" / "test_suite.py").write_text("def test_suite():\n    pass\n")


def test_an_exported_phase_says_it_replaced_the_test_suite(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    suite(project)
    monkeypatch.setenv("ORCHPHASE_PHASE", "a1")
    result = project.runpytest()
    result.assert_outcomes(passed=6)
    result.stdout.fnmatch_lines(
        [
            "orchphase: phase a1 (from the environment variable ORCHPHASE_PHASE)",
            NOT_COLLECTED,
            "*orchphase: phase a1*",
            "Proceed to phase a2: YES",
            NOT_COLLECTED,
        ]
    )


def test_a_phase_from_the_ini_file_says_so(project: pytest.Pytester) -> None:
    suite(project, "orchphase_phase = a1\n")
    result = project.runpytest()
    result.assert_outcomes(passed=6)
    result.stdout.fnmatch_lines(
        ["orchphase: phase a1 (from orchphase_phase in tox.ini)", NOT_COLLECTED]
    )


def test_an_explicit_phase_names_its_origin_and_nothing_else(project: pytest.Pytester) -> None:
    suite(project)
    result = project.runpytest("--phase", "a1")
    result.stdout.fnmatch_lines(["orchphase: phase a1 (from --phase)"])
    assert "not collected" not in result.stdout.str()


def test_no_phase_runs_the_suite_without_a_word(project: pytest.Pytester) -> None:
    suite(project)
    result = project.runpytest()
    result.assert_outcomes(passed=1)
    assert "orchphase:" not in result.stdout.str()


def test_a_run_without_a_phase_reads_no_settings(pytester: pytest.Pytester) -> None:
    """An installed plugin costs a run that names no phase anywhere one look at the
    configuration files for the option's name: the settings are not even imported."""
    pytester.makeini("[pytest]\n")
    pytester.makepyfile(test_plain="def test_one():\n    pass\n")
    pytester.makeconftest(
        "import sys\n\n\n"
        "def pytest_unconfigure():\n"
        "    loaded = 'pytest_orchphase.settings' in sys.modules\n"
        "    open('loaded.txt', 'w').write(str(loaded))\n"
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    assert (pytester.path / "loaded.txt").read_text() == "False"
    (pytester.path / "pytest.ini").write_text("[pytest]\norchphase_phase = nope\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR  # named in the file: looked for, not found

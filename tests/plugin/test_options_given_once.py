"""The plugin's options typed twice on one command line with different values: pytest keeps the
last alone, so a phase asked for would never be evaluated, or a report asked for never written
(an older one left at its path speaking for this run). A usage error naming both, before
anything runs; a value from ``addopts`` or ``PYTEST_ADDOPTS`` the command line overrides is
not one."""

from __future__ import annotations

import pytest

from tests.helpers import Phase, YamlData, flat_ticket, read_report

CAP: YamlData = {"id": "cap", "for_each": "ticket", "metric": "tokens", "measure": "total"}


def _two_phases(pytester: pytest.Pytester) -> None:
    """p0 over its cap (NO), p1 under it (YES)."""
    cap = {**CAP, "max": 30_000}
    Phase.of("p0", [cap], {"T01": flat_ticket(actual_tokens=45_000)}).write(pytester.path)
    Phase.of("p1", [cap], {"T01": flat_ticket()}).write(pytester.path)


@pytest.mark.parametrize(
    "args",
    [
        ["--phase=p0", "--orchphase-phase", "p1"],
        ["--orchphase-phase=p0", "--phase=p1"],
    ],
)
def test_two_phases_in_either_spelling_are_a_usage_error(
    pytester: pytest.Pytester, args: list[str]
) -> None:
    _two_phases(pytester)
    result = pytester.runpytest(*args, "-p", "no:randomly", "--orchphase-json=r.json")
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str()
    result.stderr.fnmatch_lines(["*p0*and*p1*given on one command line*one phase per run*"])
    assert not (pytester.path / "r.json").exists()


def test_one_phase_typed_twice_is_one_phase(pytester: pytest.Pytester) -> None:
    _two_phases(pytester)
    result = pytester.runpytest("--phase", "p1", "--phase=p1", "-p", "no:randomly")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()


def test_a_phase_from_addopts_gives_way_to_the_command_line(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    _two_phases(pytester)
    monkeypatch.setenv("PYTEST_ADDOPTS", "--phase p0")
    result = pytester.runpytest("--phase", "p1", "-p", "no:randomly")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    result.stdout.fnmatch_lines(["orchphase: phase p1 (from --phase)"])


def _two_reports(pytester: pytest.Pytester, *more: str) -> pytest.RunResult:
    """Phase p0 run with ``--orchphase-json a.json`` and ``more``."""
    return pytester.runpytest(
        "--phase", "p0", "-p", "no:randomly", "--orchphase-json", "a.json", *more
    )


def test_a_report_asked_for_at_two_paths_is_a_usage_error(pytester: pytest.Pytester) -> None:
    """The first path would keep whatever an earlier run wrote there (a YES)."""
    _two_phases(pytester)
    (pytester.path / "a.json").write_text('{"decisions": {"proceed": {"answer": "YES"}}}')
    result = _two_reports(pytester, "--orchphase-json=b.json")
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str()
    result.stderr.fnmatch_lines(["*`--orchphase-json a.json` and `--orchphase-json b.json`*"])
    assert not (pytester.path / "b.json").exists()


def test_one_report_path_in_two_spellings_is_one_path(pytester: pytest.Pytester) -> None:
    """``a.json``, ``./a.json`` and its absolute path name one file: no conflict; the report is
    written there, saying what the phase decided."""
    _two_phases(pytester)
    result = _two_reports(
        pytester, "--orchphase-json=./a.json", f"--orchphase-json={pytester.path / 'a.json'}"
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED, result.stdout.str()
    assert read_report(pytester.path, "a.json")["decisions"]["proceed"]["answer"] == "NO"

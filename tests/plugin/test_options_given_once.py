"""The plugin's options typed twice on one command line with different values (in either
spelling, through `-o` as well, alone or in a cluster of short flags): pytest keeps the last alone,
so a phase asked for would never be evaluated, or a report asked for never written (an older one
left at its path speaking for this run). A usage error naming both, before anything runs; a value
from ``addopts`` or ``PYTEST_ADDOPTS`` the command line overrides is not one."""

from __future__ import annotations

import pytest

from tests.helpers import Phase, YamlData, flat_ticket, read_report
from tests.plugin.test_report_paths import _passing_phase

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


def test_two_phases_named_on_the_command_line_do_not_pass_on_the_last_alone(
    pytester: pytest.Pytester,
) -> None:
    cap = {**CAP, "max": 30_000}
    Phase.of("p0", [cap], {"T01": flat_ticket(actual_tokens=45_000)}).write(pytester.path)
    Phase.of("p1", [cap], {"T01": flat_ticket()}).write(pytester.path)
    result = pytester.runpytest("--phase", "p0", "--phase", "p1", "-p", "no:randomly")
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str()
    result.stderr.fnmatch_lines(["*`--phase p0` and `--phase p1` given on one command line*"])


@pytest.mark.parametrize(
    "args",
    [["--phase", "p0", "@args.txt"], ["-o", "orchphase_phase=p0", "--phase", "p1"]],
    ids=["argument-file", "dash-o"],
)
def test_a_second_phase_typed_otherwise_is_a_usage_error(
    pytester: pytest.Pytester, args: list[str]
) -> None:
    cap = {**CAP, "max": 30_000}
    Phase.of("p0", [cap], {"T01": flat_ticket(actual_tokens=45_000)}).write(pytester.path)
    _passing_phase(pytester.path)
    pytester.path.joinpath("args.txt").write_text("--phase\np1\n")
    result = pytester.runpytest(*args, "-p", "no:randomly", "--orchphase-json=r.json")
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str()


def test_a_phase_typed_through_o_in_a_cluster_of_short_flags_is_a_usage_error(
    pytester: pytest.Pytester,
) -> None:
    cap = {**CAP, "max": 30_000}
    Phase.of("p0", [cap], {"T01": flat_ticket(actual_tokens=45_000)}).write(pytester.path)
    _passing_phase(pytester.path)
    args = ("-vo", "orchphase_phase=p0", "--phase", "p1", "-p", "no:randomly")
    result = pytester.runpytest(*args, "--orchphase-json=r.json")
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str()


def test_a_phase_typed_through_o_overrides_a_phase_in_pytest_addopts(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    cap = {**CAP, "max": 30_000}
    Phase.of("p0", [cap], {"T01": flat_ticket()}).write(pytester.path)
    Phase.of("p1", [cap], {"T01": flat_ticket(actual_tokens=45_000)}).write(pytester.path)
    monkeypatch.setenv("PYTEST_ADDOPTS", "--phase p0")
    args = ("-o", "orchphase_phase=p1", "-p", "no:randomly", "--orchphase-json=r.json")
    result = pytester.runpytest(*args)
    assert result.ret != pytest.ExitCode.OK, result.stdout.str()


def test_a_typed_o_overrides_the_same_o_in_addopts(pytester: pytest.Pytester) -> None:
    _two_phases(pytester)
    pytester.makeini("[pytest]\naddopts = -o orchphase_phase=p0\n")
    result = pytester.runpytest("-o", "orchphase_phase=p1", "-p", "no:randomly")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()


def test_a_typed_o_overrides_the_same_o_in_pytest_addopts(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    _two_phases(pytester)
    monkeypatch.setenv("PYTEST_ADDOPTS", "-o orchphase_data=elsewhere")
    args = ("--phase", "p1", "-o", "orchphase_data=docs/orchestration-data", "-p", "no:randomly")
    result = pytester.runpytest(*args)
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()


@pytest.mark.parametrize(
    "args",
    [
        ("-o", "orchphase_phase=p0", "-o", "orchphase_phase=p1"),
        ("-vo", "orchphase_phase=p0", "--phase", "p1"),
    ],
    ids=["o-twice", "cluster-and-option"],
)
def test_two_values_typed_for_one_setting_are_a_usage_error(
    pytester: pytest.Pytester, args: tuple[str, ...]
) -> None:
    """Typed twice by -o (pytest keeps the last), or by -o in a cluster beside the option: the
    phase p0 asked for, over its cap, would never be evaluated."""
    _two_phases(pytester)
    result = pytester.runpytest(*args, "-p", "no:randomly")
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str()
    result.stderr.fnmatch_lines(["*orchphase_phase=p0*"])


def test_an_option_typed_beats_an_o_in_addopts(pytester: pytest.Pytester) -> None:
    """`addopts = -o orchphase_phase=p0` and a typed `--phase p1`: the command line wins, p1
    is evaluated (YES), no usage error."""
    _two_phases(pytester)
    pytester.makeini("[pytest]\naddopts = -o orchphase_phase=p0\n")
    result = pytester.runpytest("--phase", "p1", "-p", "no:randomly")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()

"""Third review of review 27b's fixes (review27c): each test was a finding on main, fixed; and
the siblings the fix closed."""

from __future__ import annotations

import pytest

from tests.helpers import Phase, flat_ticket, run_phase_process
from tests.plugin.test_review27_findings import CAP


def _phases(pytester: pytest.Pytester) -> None:
    """Phase p0 over its cap (NO), phase p1 under it (YES)."""
    cap = {**CAP, "max": 30_000}
    Phase.of("p0", [cap], {"T01": flat_ticket(actual_tokens=45_000)}).write(pytester.path)
    Phase.of("p1", [cap], {"T01": flat_ticket()}).write(pytester.path)


# -- -o in addopts overridden by -o typed --------------------------------------------------------


def test_a_typed_o_overrides_the_same_o_in_addopts(pytester: pytest.Pytester) -> None:
    _phases(pytester)
    pytester.makeini("[pytest]\naddopts = -o orchphase_phase=p0\n")
    result = pytester.runpytest("-o", "orchphase_phase=p1", "-p", "no:randomly")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()


def test_a_typed_o_overrides_the_same_o_in_pytest_addopts(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    _phases(pytester)
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
    _phases(pytester)
    result = pytester.runpytest(*args, "-p", "no:randomly")
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str()
    result.stderr.fnmatch_lines(["*orchphase_phase=p0*"])


def test_an_option_typed_beats_an_o_in_addopts(pytester: pytest.Pytester) -> None:
    """`addopts = -o orchphase_phase=p0` and a typed `--phase p1`: the command line wins, p1
    is evaluated (YES), no usage error."""
    _phases(pytester)
    pytester.makeini("[pytest]\naddopts = -o orchphase_phase=p0\n")
    result = pytester.runpytest("--phase", "p1", "-p", "no:randomly")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()


# -- /dev/stdout by another name, stdout redirected to a file ------------------------------------


def test_a_report_on_a_link_to_stdout_redirected_to_a_file_keeps_pytests_output(
    pytester: pytest.Pytester,
) -> None:
    _phases(pytester)
    (pytester.path / "out.json").symlink_to("/dev/stdout")
    out = pytester.path / "out.txt"
    with out.open("wb") as stdout:
        run = run_phase_process(pytester.path, "--orchphase-json=out.json", stdout=stdout)
    text = out.read_text()
    assert run.returncode == 0, text
    assert '"answer": "YES"' in text, text
    assert "test session starts" in text, text  # pytest's header, before the report

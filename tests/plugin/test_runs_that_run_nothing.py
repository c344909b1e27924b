"""pytest options that run no item (`--fixtures`, `--fixtures-per-test`, `--setup-only`,
`--setup-plan`): a phase run with one never says YES, never exits 0 beside a decision, and
never overwrites a report with one that evaluated nothing."""

from __future__ import annotations

import json

import pytest

from tests.helpers import Phase


def _a1(pytester: pytest.Pytester) -> None:
    Phase.example("a1").write(pytester.path)
    (pytester.path / "criteria" / "baselines.yaml").write_text(
        "baselines:\n  v2: {tokens_per_ticket: 121000}\n"
        "  single_agent: {tokens_per_ticket: 30000}\n"
    )


@pytest.mark.parametrize("option", ["--fixtures", "--fixtures-per-test"])
def test_an_option_that_only_lists_decides_nothing_and_writes_nothing(
    pytester: pytest.Pytester, option: str
) -> None:
    """pytest's `--fixtures` and `--fixtures-per-test` return 0 whatever the session's status
    (its own `pytest_cmdline_main`): the run printed and wrote "UNDECIDED — only 0 of 6
    criteria ran" beside exit 0, and overwrote the JSON report with it. Like `--co`, such a
    run lists and decides nothing: no decision printed, no report written, the old one kept."""
    _a1(pytester)
    kept = pytester.path / "r.json"
    kept.write_text('{"kept": true}\n')
    result = pytester.runpytest("--phase", "a1", option, "--orchphase-json", "r.json")
    assert result.ret == 0
    result.stdout.no_fnmatch_line("*Proceed to phase*")
    result.stdout.no_fnmatch_line("*UNDECIDED*")
    assert json.loads(kept.read_text()) == {"kept": True}
    assert not (pytester.path / "orchphase-report.md").exists()


@pytest.mark.parametrize("option", ["--setup-only", "--setup-plan"])
def test_an_option_that_runs_no_item_is_undecided_and_fails(
    pytester: pytest.Pytester, option: str
) -> None:
    """`--setup-only` and `--setup-plan` collect and set up the items but never call them:
    pytest reports them as passed. No criterion was evaluated: UNDECIDED, exit 1."""
    _a1(pytester)
    result = pytester.runpytest("--phase", "a1", option, "--orchphase-json", "r.json")
    report = json.loads((pytester.path / "r.json").read_text())
    assert report["decisions"]["proceed"]["answer"] == "UNDECIDED"
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.no_fnmatch_line("*Proceed to phase*: YES*")

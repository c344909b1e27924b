"""Declared savings are checked against the team's own baseline, whatever it is called, and a
declared figure that cannot be checked is said, never passed over."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import A1_LOG, BASELINES, Phase, example_baselines, insert, rename, write_yaml


def own_baseline(root: Path, a1: Phase, baseline: str = "old_process") -> None:
    """The team calls its reference "old_process" (no baseline named v2); a1's savings criterion
    is against ``baseline``."""
    baselines = example_baselines()
    rename(baselines["baselines"], "v2", "old_process")
    write_yaml(root / BASELINES, baselines)
    a1.criterion("savings-vs-v2")["baseline"] = baseline


def declare_savings(a1: Phase, value: str) -> None:
    insert(a1.log["totals"], "per_ticket_average", "savings_vs_baseline", value)


def test_a_false_saving_against_the_teams_own_baseline_is_reported(
    project: pytest.Pytester,
) -> None:
    a1 = Phase.example("a1")
    own_baseline(project.path, a1)
    declare_savings(a1, "99%")
    a1.write(project.path)
    result = project.runpytest("--phase", "a1", "--orchphase-json", "r.json")
    result.stdout.fnmatch_lines(
        [
            "*OrchphaseWarning: declared total differs: totals.savings_vs_baseline declares "
            "99%, computed 68.18% = "
            "(old_process × tickets − total) / (old_process × tickets) × 100",
            "Declared totals that differ from the computed ones (*",
            f"{A1_LOG}:*totals.savings_vs_baseline*99%*68.18%*old_process*",
        ]
    )
    mismatches = json.loads((project.path / "r.json").read_text())["mismatches"]
    fields = {m["field"]: m for m in mismatches}
    assert fields["totals.savings_vs_baseline"]["computed"] == 68.18


def test_a_true_saving_against_the_teams_own_baseline_is_quiet(
    project: pytest.Pytester,
) -> None:
    a1 = Phase.example("a1")
    own_baseline(project.path, a1)
    declare_savings(a1, "68%")
    del a1.log["batching_analysis"]["savings_vs_v2"]
    del a1.log["batching_analysis"]["v2_baseline"]
    a1.write(project.path)
    result = project.runpytest("--phase", "a1")
    result.assert_outcomes(passed=6)
    assert "savings_vs_baseline" not in result.stdout.str()


def test_v2_figures_without_a_v2_baseline_are_said_not_checked(
    project: pytest.Pytester,
) -> None:
    a1 = Phase.example("a1")
    own_baseline(project.path, a1)
    a1.write(project.path)
    result = project.runpytest("--phase", "a1", "--orchphase-md", "r.md")
    result.stdout.fnmatch_lines(
        [
            "*OrchphaseWarning: batching_analysis.v2_baseline declares 242,000, not checked: "
            "unknown baseline 'v2'*",
            "Declared figures that cannot be checked (2):",
            f"{A1_LOG}:*batching_analysis.v2_baseline*242,000*unknown baseline 'v2'*",
            f"{A1_LOG}:*batching_analysis.savings_vs_v2*68%*unknown baseline 'v2'*",
        ]
    )
    assert "Declared figures that cannot be checked:" in (project.path / "r.md").read_text()


def test_an_unsettled_baseline_is_said_and_totals_baseline_settles_it(
    project: pytest.Pytester,
) -> None:
    # two baselines to compare with, none named v2 and no savings criterion: unsettled
    a1 = Phase.example("a1")
    own_baseline(project.path, a1, "single_agent")
    savings = a1.criterion("savings-vs-v2")
    savings["metric"] = "delta"
    del savings["min"]
    savings["max"] = "100k"
    declare_savings(a1, "99%")
    a1.write(project.path)
    result = project.runpytest("--phase", "a1")
    result.stdout.fnmatch_lines(
        [
            "*totals.savings_vs_baseline declares 99%, not checked: the baseline it is "
            "against is not settled; name it with totals.baseline*"
        ]
    )
    insert(a1.log["totals"], "per_ticket_average", "baseline", "old_process")
    a1.write(project.path)
    result = project.runpytest("--phase", "a1")
    result.stdout.fnmatch_lines(
        ["*totals.savings_vs_baseline declares 99%, computed 68.18% = (old_process × tickets*"]
    )

"""Declared savings are checked against the team's own baseline, whatever it is called, and a
declared figure that cannot be checked is said, never passed over."""

from __future__ import annotations

import json

import pytest
from support import A1_LOG, Edit

BASELINES = "criteria/baselines.yaml"


def own_baseline(edit: Edit) -> None:
    """The team calls its reference "old_process" (no baseline named v2)."""
    edit(BASELINES, "  v2:\n", "  old_process:\n")
    edit("criteria/a1.yaml", "    baseline: v2\n", "    baseline: old_process\n")


def declare_savings(edit: Edit, value: str) -> None:
    edit(
        A1_LOG,
        "  per_ticket_average: 38500",
        f"  savings_vs_baseline: {value}\n  per_ticket_average: 38500",
    )


def test_a_false_saving_against_the_teams_own_baseline_is_reported(
    project: pytest.Pytester, edit: Edit
) -> None:
    own_baseline(edit)
    declare_savings(edit, "99%")
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
    project: pytest.Pytester, edit: Edit
) -> None:
    own_baseline(edit)
    declare_savings(edit, "68%")
    edit(A1_LOG, "  savings_vs_v2: 68%\n", "")
    edit(A1_LOG, "  v2_baseline: 242000\n", "")
    result = project.runpytest("--phase", "a1")
    result.assert_outcomes(passed=6)
    assert "savings_vs_baseline" not in result.stdout.str()


def test_v2_figures_without_a_v2_baseline_are_said_not_checked(
    project: pytest.Pytester, edit: Edit
) -> None:
    own_baseline(edit)
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
    project: pytest.Pytester, edit: Edit
) -> None:
    # two baselines to compare with, none named v2 and no savings criterion: unsettled
    edit(BASELINES, "  v2:\n", "  old_process:\n")
    edit("criteria/a1.yaml", "    baseline: v2\n", "    baseline: single_agent\n")
    edit("criteria/a1.yaml", "    metric: savings\n", "    metric: delta\n")
    edit("criteria/a1.yaml", "    min: 60%\n", "    max: 100k\n")
    declare_savings(edit, "99%")
    result = project.runpytest("--phase", "a1")
    result.stdout.fnmatch_lines(
        [
            "*totals.savings_vs_baseline declares 99%, not checked: the baseline it is "
            "against is not settled; name it with totals.baseline*"
        ]
    )
    edit(
        A1_LOG,
        "  savings_vs_baseline: 99%\n",
        "  savings_vs_baseline: 99%\n  baseline: old_process\n",
    )
    result = project.runpytest("--phase", "a1")
    result.stdout.fnmatch_lines(
        ["*totals.savings_vs_baseline declares 99%, computed 68.18% = (old_process × tickets*"]
    )

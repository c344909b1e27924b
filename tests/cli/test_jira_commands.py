"""The orchphase commands on the second example plan (docs/examples/jira): its phase names,
its graph (pilot -> haiku-trial -> scale), its own baselines and its own success threshold."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
import yaml

from pytest_orchphase.cli import main
from pytest_orchphase.load.phase import plan_order
from tests.helpers import REPO

JIRA = REPO / "docs" / "examples" / "jira"


@pytest.fixture
def plan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(JIRA / "criteria", tmp_path / "criteria")
    shutil.copytree(JIRA / "orchestration-data", tmp_path / "docs" / "orchestration-data")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_compare_holds_a_phase_without_a_rule_to_the_rule_of_the_phase_it_requires(
    plan: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """scale written without its own adoption rule: its success rate is counted on
    haiku-trial's (two fix loops are a success), never on the hidden default of one."""
    criteria = plan / "criteria" / "scale.yaml"
    data = yaml.safe_load(criteria.read_text())
    del data["decisions"]
    criteria.write_text(yaml.safe_dump(data, sort_keys=False))
    assert main(["compare"]) == 0
    lines = capsys.readouterr().out.splitlines()
    rows = {line.split("  ")[0]: line for line in lines[2:]}
    scale = rows["success rate haiku"].split("%", 2)[2]  # the third column: scale
    assert "fix loops <= 2" in scale, rows["success rate haiku"]


def test_plan_order_follows_requires_with_ties_by_name() -> None:
    graph = {"pilot": [], "haiku-trial": ["pilot"], "scale": ["haiku-trial"], "a-side": []}
    assert plan_order(list(graph), graph.get) == ["a-side", "pilot", "haiku-trial", "scale"]
    # a phase whose files do not load requires nothing; a cycle comes last, by name
    cyclic = {"b": ["c"], "c": ["b"], "a": ["z"]}
    assert plan_order(["c", "b", "a", "z"], cyclic.get) == ["z", "a", "b", "c"]


def test_compare_follows_the_plan_and_its_own_baselines(
    plan: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["compare"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["metric", "pilot", "haiku-trial", "scale"]
    rows = {line.split("  ")[0]: line for line in lines[2:]}
    assert rows["savings vs old_process"].split()[3:] == ["45.0%", "56.7%", "62.2%"]
    assert not any(label.startswith("savings vs v2") for label in rows)
    # separate_planning (compare: false) is a part of a cost: never a "saving"
    assert not any("separate_planning" in label for label in rows)
    # haiku-trial's own rule accepts two fix loops: JIRA-104 (two loops) is a success there
    assert "100.0% (2 of 2, fix loops <= 2)" in rows["success rate haiku"]


def test_dashboard_follows_the_plan(plan: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dashboard"]) == 0
    out = capsys.readouterr().out
    assert out.index("pilot") < out.index("haiku-trial") < out.index("scale")
    assert "ERROR" not in out


def test_breakeven_against_the_projects_own_baseline(
    plan: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["breakeven", "--phase", "scale"]) == 0
    out = capsys.readouterr().out
    # no single_agent here: old_process is the only baseline with compare: true
    # 11,000 / (80,000 − 110,000 / 4) = 0.21 → 1 ticket
    assert "orchestration beats old_process from 1 tickets — shared planning 11,000" in out
    assert main(["breakeven", "--phase", "scale", "--baseline=separate_planning"]) == 0
    assert "baseline separate_planning is a part of a cost (compare: false)" in (
        capsys.readouterr().out
    )
    assert main(["breakeven", "--phase", "scale", "--baseline", "v2"]) == 2
    assert capsys.readouterr().err == (
        "orchphase: error: --baseline v2: phase scale defines no such baseline; defined: "
        "old_process, separate_planning\n"
    )


def test_breakeven_asks_for_a_baseline_when_the_choice_is_open(
    plan: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    baselines = plan / "criteria" / "baselines.yaml"
    baselines.write_text(baselines.read_text() + "  contractor: {tokens_per_ticket: 60k}\n")
    assert main(["breakeven", "--phase", "pilot"]) == 0
    assert (
        "Break-even (tokens): unknown: no single_agent baseline, and several to choose from "
        "(contractor, old_process): name one with --baseline"
    ) in capsys.readouterr().out
    assert main(["breakeven", "--phase", "pilot", "--baseline", "contractor"]) == 0
    assert "orchestration beats contractor from 1 tickets" in capsys.readouterr().out


def test_init_a_batch_of_many_jira_tickets_names_its_folder_and_requires(
    plan: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tickets = ",".join(f"JIRA-{n}" for n in range(1001, 1031))  # 30 ids: 300 characters
    assert main(["init", "scale-2", "--tickets", tickets, "--requires", "scale"]) == 0
    folder = plan / "docs" / "orchestration-data" / "phase-scale-2"
    assert (folder / "metadata.yaml").is_file()
    criteria = (plan / "criteria" / "scale-2.yaml").read_text()
    assert "data: phase-scale-2\n" in criteria and "requires: [scale]" in criteria
    assert main(["init", "rollout", "--tickets", "JIRA-2001", "--data-folder=batch-7"]) == 0
    assert (plan / "docs" / "orchestration-data" / "batch-7" / "metadata.yaml").is_file()
    assert "data: batch-7\n" in (plan / "criteria" / "rollout.yaml").read_text()
    assert "requires: []" in (plan / "criteria" / "rollout.yaml").read_text()
    capsys.readouterr()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--data-folder", "../elsewhere"], "--data-folder '../elsewhere': expected one folder"),
        (["--data-folder", ".."], "--data-folder '..': expected one folder"),
        (["--requires", "pilots"], "--requires pilots: unknown phase; known phases: "),
        (["--requires", "rollout"], "--requires rollout: a phase cannot require itself"),
        (["--requires", "scale,pilot,scale"], "--requires scale: listed twice"),
    ],
)
def test_init_refuses_a_bad_folder_or_requirement(
    plan: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    before = sorted(p for p in plan.rglob("*"))
    assert main(["init", "rollout", "--tickets", "JIRA-2001", *args]) == 2
    assert message in capsys.readouterr().err
    assert sorted(p for p in plan.rglob("*")) == before


def test_strategy_uses_the_plans_own_rule_and_one_planning_figure(
    plan: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = plan / "scale.yaml"
    assert main(["strategy", "--for", "scale", "--out", str(out)]) == 0
    strategy = yaml.safe_load(out.read_text())
    mechanical = strategy["model_selection"]["execution"]["mechanical"]
    # scale's own rule: 70 % with at least 3 tickets (2 of 2 Haiku tickets so far)
    assert "against 70% on the point rule with at least 3 tickets" in mechanical["rationale"]
    assert mechanical["model"] == "sonnet"
    # one batch's planning, (8,000 + 10,000) / 2 = 9,000, spread over scale's 4 tickets
    batch = strategy["model_selection"]["planning"]["tokens_per_batch"]
    assert batch == 9000
    assert strategy["batching"]["planning_tokens_per_ticket"] == round(9000 / 4, -2)
    # without a rule of its own, the latest evidence phase's: haiku-trial's 60 % with 2 tickets
    criteria = plan / "criteria" / "scale.yaml"
    text = criteria.read_text()
    criteria.write_text(text[: text.index("# The same rule")] + text[text.index("criteria:") :])
    assert main(["strategy", "--for", "scale", "--out", str(out), "--force"]) == 0
    mechanical = yaml.safe_load(out.read_text())["model_selection"]["execution"]["mechanical"]
    assert "against 60% on the point rule with at least 2 tickets" in mechanical["rationale"]
    assert mechanical["model"] == "haiku"


CUSTOM = """
  - id: review-rounds
    description: A custom metric from the team's package.
    metric: review_rounds
    max: 10
"""


def _install_metrics_package(root: Path, monkeypatch: pytest.MonkeyPatch, body: str) -> None:
    """A package installed the way pip leaves it: a module and its dist-info with an
    orchphase.metrics entry point, on sys.path."""
    site = root / "site"
    (site / "team_metrics-1.0.dist-info").mkdir(parents=True)
    (site / "team_metrics-1.0.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: team-metrics\nVersion: 1.0\n"
    )
    (site / "team_metrics-1.0.dist-info" / "entry_points.txt").write_text(
        "[orchphase.metrics]\nteam = team_metrics:register\n"
    )
    (site / "team_metrics.py").write_text(body)
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.delitem(sys.modules, "team_metrics", raising=False)  # each test its own body


REGISTER = """
def register(registry):
    registry.register(
        "review_rounds", scope="phase", unit="count", formula="Σ review attempts",
        fn=lambda ctx, ticket, params: sum(
            t.review.attempts for t in ctx.phase.tickets.values()
        ),
    )
"""


def test_a_metric_from_an_installed_entry_point_works_in_the_commands(
    plan: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    criteria = plan / "criteria" / "pilot.yaml"
    criteria.write_text(criteria.read_text() + CUSTOM)
    _install_metrics_package(plan, monkeypatch, REGISTER)
    assert main(["compare"]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines()[0].split() == ["metric", "pilot", "haiku-trial", "scale"]
    assert err == ""
    assert main(["dashboard"]) == 0
    assert "ERROR" not in capsys.readouterr().out


def test_a_failing_entry_point_is_named(
    plan: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _install_metrics_package(plan, monkeypatch, "def register(registry):\n    1 / 0\n")
    assert main(["compare"]) == 2
    assert (
        "the orchphase.metrics entry point team (team_metrics:register) failed to register its "
        "metrics: ZeroDivisionError"
    ) in capsys.readouterr().err


def test_a_metric_only_a_conftest_registers_is_named_not_an_error(
    plan: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    criteria = plan / "criteria" / "pilot.yaml"
    criteria.write_text(criteria.read_text() + CUSTOM)
    (plan / "conftest.py").write_text(
        "def pytest_orchphase_register_metrics(registry):\n"
        + REGISTER.split("def register(registry):\n")[1]
    )
    assert main(["dashboard"]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("pilot"))
    assert "ERROR" not in row
    assert "run through pytest: criteria/pilot.yaml:" in row
    assert "metric 'review_rounds' is registered by conftest.py" in row
    assert main(["compare"]) == 0
    out, err = capsys.readouterr()
    assert "pilot" not in out.splitlines()[0]
    assert "phase pilot left out: criteria/pilot.yaml:" in err
    assert "is registered by conftest.py" in err and "run this phase through pytest" in err

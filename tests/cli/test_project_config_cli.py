"""The orchphase commands read the project's pytest configuration as `pytest --phase` does.

The project keeps its criteria and data where only its pyproject.toml says; every command is run
from a subfolder, with no --criteria or --data.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from pytest_orchphase.cli import main
from tests.helpers import REPO, ClaudeHome, assistant

CONFIG = """\
[tool.pytest.ini_options]
orchphase_criteria = "checks/criteria"
orchphase_data = "phase-data"
orchphase_prices = "prices/extra.yaml"
"""
PRICES = """\
models:
  claude-mystery-9:
    input: 1000
    output: 1000
    cache_write_5m: 1000
    cache_write_1h: 1000
    cache_read: 1000
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for env in ("ORCHPHASE_CRITERIA", "ORCHPHASE_DATA", "ORCHPHASE_PRICES"):
        monkeypatch.delenv(env, raising=False)
    root = tmp_path / "project"
    shutil.copytree(REPO / "criteria", root / "checks" / "criteria")
    shutil.copytree(REPO / "docs" / "orchestration-data", root / "phase-data")
    (root / "prices").mkdir()
    (root / "prices" / "extra.yaml").write_text(PRICES)
    (root / "pyproject.toml").write_text(CONFIG)
    (root / "sub" / "deeper").mkdir(parents=True)
    monkeypatch.chdir(root / "sub" / "deeper")
    return root


def test_compare_from_a_subfolder(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare"]) == 0, capsys.readouterr().err
    assert capsys.readouterr().out.splitlines()[0].split() == ["metric", "a1", "a2", "a3"]


def test_dashboard_from_a_subfolder(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dashboard"]) == 0, capsys.readouterr().err
    rows = [line.split()[0] for line in capsys.readouterr().out.splitlines()[2:]]
    assert rows[:3] == ["a1", "a2", "a3"]


def test_breakeven_from_a_subfolder(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["breakeven", "--phase", "a3"]) == 0, capsys.readouterr().err
    assert "orchestration beats single_agent from 7 tickets" in capsys.readouterr().out


def test_strategy_from_a_subfolder_writes_into_the_project_data(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["strategy", "--for", "a3"]) == 0, capsys.readouterr().err
    written = project / "phase-data" / "phase-a3-strategy.yaml"
    assert yaml.safe_load(written.read_text())["evidence"] == ["a1", "a2"]
    assert not (project / "sub" / "deeper" / "docs").exists()


def test_init_and_schema_from_a_subfolder_write_into_the_project(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["schema"]) == 0, capsys.readouterr().err
    assert (project / "docs" / "schema" / "criteria.schema.json").is_file()
    assert main(["init", "a4", "--tickets", "R08"]) == 0, capsys.readouterr().err
    criteria = project / "checks" / "criteria" / "a4.yaml"
    assert criteria.read_text().startswith(
        "# yaml-language-server: $schema=../../docs/schema/criteria.schema.json"
    )
    assert (project / "phase-data" / "phase-a4-r08" / "metadata.yaml").is_file()
    assert list((project / "sub").rglob("*")) == [project / "sub" / "deeper"]


def test_extract_uses_the_project_price_file(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = ClaudeHome(tmp_path / "claude")
    home.session([assistant("msg_1", "req_1", model="claude-mystery-9")])
    assert main(["extract", str(home.root), "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["models"]["claude-mystery-9"]["cost_usd"] is not None
    assert "no price" not in captured.err


def test_command_line_then_environment_then_configuration(
    project: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv("ORCHPHASE_CRITERIA", str(tmp_path / "empty"))
    assert main(["compare"]) == 2  # the environment beats the file
    err = capsys.readouterr().err
    assert f"in {tmp_path / 'empty'} (from the environment variable ORCHPHASE_CRITERIA;" in err
    assert main(["compare", "--criteria", str(project / "checks" / "criteria")]) == 0
    capsys.readouterr()


def test_without_a_configuration_the_error_says_where_it_looked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ORCHPHASE_CRITERIA", raising=False)
    assert main(["compare"]) == 2
    err = capsys.readouterr().err
    assert err == (
        "orchphase: error: no phases: no <phase>.yaml in criteria (default; project "
        "configuration: pytest.ini); expected the criteria folder (--criteria DIR)\n"
    )

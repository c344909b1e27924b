"""The commands a team decides from, on bad input: a baseline no phase defines, a ticket given
twice. One error line naming the argument, exit 2, nothing written (README, The orchphase
command)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pytest_orchphase.cli import main
from tests.helpers import REPO


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the shipped example phases a1-a3, the current folder."""
    shutil.copytree(REPO / "criteria", tmp_path / "criteria")
    shutil.copytree(REPO / "docs" / "orchestration-data", tmp_path / "docs" / "orchestration-data")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_breakeven_against_a_baseline_no_phase_defines_is_an_error(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["breakeven", "--baseline", "nope"])
    out, err = capsys.readouterr()
    assert status == 2, (out, err)
    assert "--baseline nope" in err


def test_strategy_with_a_ticket_given_twice_is_an_error(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["strategy", "--for", "a3", "--tickets", "R08=mechanical,R08=complex"])
    out, err = capsys.readouterr()
    assert status == 2, (out, err)
    assert "R08" in err
    assert not (repo / "docs/orchestration-data/phase-a3-strategy.yaml").exists()

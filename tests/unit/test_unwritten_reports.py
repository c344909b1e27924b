"""A run that asked for a report it could not write fails (exit 4): no report it did write may
say YES beside that status, whichever write failed, since a CI step reading it would take the
run for a pass."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from pytest_orchphase.decide.decisions import Proceed
from pytest_orchphase.errors import OrchphaseError
from pytest_orchphase.report.model import failed_report
from pytest_orchphase.report.outputs import STEP_SUMMARY_ENV, write_outputs
from pytest_orchphase.report.shape import RunReport


def _yes() -> RunReport:
    """A short report whose decision is YES (its figures do not matter here)."""
    return failed_report("p1", OrchphaseError("figures"), Proceed("p2", "YES", []))


def _answer(path: Path) -> str:
    answer: str = json.loads(path.read_text())["decisions"]["proceed"]["answer"]
    return answer


def test_a_markdown_that_cannot_be_written_leaves_no_json_saying_yes(tmp_path: Path) -> None:
    (tmp_path / "blocked").write_text("a file where a folder is needed\n")
    lines, ok, written = write_outputs(_yes(), tmp_path / "r.json", tmp_path / "blocked/r.md")
    assert not ok
    assert _answer(tmp_path / "r.json") == "UNDECIDED"
    assert written["decisions"]["proceed"]["answer"] == "UNDECIDED"
    assert "blocked/r.md" in json.loads((tmp_path / "r.json").read_text())["error"]
    assert lines[0].startswith("orchphase: wrote ") and "cannot write the report" in lines[1]


def test_a_json_that_cannot_be_written_takes_back_the_markdown_saying_yes(
    tmp_path: Path,
) -> None:
    (tmp_path / "blocked").write_text("a file where a folder is needed\n")
    md = tmp_path / "r.md"
    _, ok, _ = write_outputs(_yes(), tmp_path / "blocked/r.json", md)
    assert not ok
    text = md.read_text()
    assert "UNDECIDED" in text and "YES" not in text


def test_a_step_summary_that_cannot_be_written_takes_back_both_reports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "blocked").write_text("a file where a folder is needed\n")
    monkeypatch.setenv(STEP_SUMMARY_ENV, os.fspath(tmp_path / "blocked/summary.md"))
    _, ok, _ = write_outputs(_yes(), tmp_path / "r.json", tmp_path / "r.md")
    assert not ok
    assert _answer(tmp_path / "r.json") == "UNDECIDED"
    assert "YES" not in (tmp_path / "r.md").read_text()


def test_every_report_written_says_yes_when_every_write_succeeds(tmp_path: Path) -> None:
    lines, ok, written = write_outputs(_yes(), tmp_path / "r.json", tmp_path / "r.md")
    assert ok and len(lines) == 2
    assert _answer(tmp_path / "r.json") == "YES" == written["decisions"]["proceed"]["answer"]


def test_a_report_saying_no_is_kept_when_another_cannot_be_written(tmp_path: Path) -> None:
    """NO beside exit 4 misleads no one: the report keeps its reasons."""
    (tmp_path / "blocked").write_text("a file where a folder is needed\n")
    no = failed_report("p1", OrchphaseError("figures"), Proceed("p2", "NO", ["over its cap"]))
    _, ok, _ = write_outputs(no, tmp_path / "r.json", tmp_path / "blocked/r.md")
    assert not ok and _answer(tmp_path / "r.json") == "NO"

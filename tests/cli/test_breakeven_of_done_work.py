"""`orchphase breakeven` takes no ticket whose work did not run as a done ticket: what not
doing the work cost is not what doing it costs (as for a failed ticket)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_orchphase.cli import main
from tests.helpers import YamlData, second_ticket_phase
from tests.plugin.test_work_that_did_not_run import _implementation_skipped_phase

COUNTED: list[YamlData] = [{"id": "counted", "metric": "tickets", "min": 1}]


@pytest.fixture(autouse=True)
def _in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def _breakeven(capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["breakeven", "--phase", "p1"]) == 0
    return capsys.readouterr().out


def test_breakeven_counts_no_implementation_of_0_tokens(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """T02's implementation says completed yet used no token: no model call did its work."""
    second_ticket_phase(tmp_path, COUNTED, {"actual_tokens": 0, "status": "completed"})
    out = _breakeven(capsys)
    assert (
        "Break-even (tokens): unknown: ticket T02's work did not run (implementation "
        "actual_tokens: 0)" in out
    ), out


def test_breakeven_of_done_tickets_is_still_computed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No over-correction: both tickets done for 22,000 each, planning 12,000 against 30,000 a
    ticket: ⌊12,000 / 8,000⌋ + 1 = 2."""
    second_ticket_phase(tmp_path, COUNTED, {"actual_tokens": 20_000, "status": "completed"})
    out = _breakeven(capsys)
    assert "Break-even (tokens): orchestration beats single_agent from 2 tickets" in out, out


def test_breakeven_counts_no_ticket_whose_implementation_was_skipped(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from pytest_orchphase.cli import main

    monkeypatch.chdir(pytester.path)
    _implementation_skipped_phase(pytester.path)
    assert main(["breakeven", "--phase", "p1"]) == 0
    out = capsys.readouterr().out
    assert "Break-even (tokens): unknown" in out and "T02" in out, out

"""`orchphase strategy` writes the success rates it chose on as computed, unrounded: a program
reading the plan file and comparing a rate with a threshold gets the decision's answer."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from pytest_orchphase.cli import main
from tests.helpers import Phase, rate_phase


def _strategy(root: Path, successes: int) -> dict[str, dict[str, object]]:
    """Phase p1: three mechanical tickets on Haiku and three nuanced ones on Sonnet, the first
    ``successes`` of each succeeding; the strategy file for p2, which requires p1."""
    p1 = rate_phase(successes, 3, decisions={"rule": "point", "min_success_rate": "66.67%"})
    for i in range(4, 7):
        ticket = {**p1.ticket("T01"), "complexity": "nuanced", "execution_model": "sonnet"}
        ticket["fix_loops"] = 0 if i - 3 <= successes else 3
        p1.log["tickets"][f"T{i:02d}"] = ticket
    p1.metadata["tickets"] = list(p1.log["tickets"])
    p1.write(root)
    Phase.of("p2", [{"id": "t", "metric": "tickets", "min": 1}], {}, requires=["p1"]).write(root)
    assert main(["strategy", "--for", "p2", "--tickets", "N01=nuanced,M01=mechanical"]) == 0
    data = yaml.safe_load((root / "docs/orchestration-data/phase-p2-strategy.yaml").read_text())
    execution: dict[str, dict[str, object]] = data["model_selection"]["execution"]
    return execution


def test_the_strategy_file_holds_the_rates_unrounded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """2 of 3 is 66.666…%: the file said 66.7, above the 66.67 % the adoption failed it on."""
    monkeypatch.chdir(tmp_path)
    execution = _strategy(tmp_path, 2)
    mechanical, nuanced = execution["mechanical"], execution["nuanced"]
    assert "NO" in str(mechanical["rationale"]), mechanical
    assert mechanical["success_rate"] == pytest.approx(200 / 3, abs=1e-12), mechanical
    assert float(mechanical["success_rate"]) < 66.67  # type: ignore[arg-type]
    assert nuanced["success_rate"] == pytest.approx(200 / 3, abs=1e-12), nuanced


def test_a_whole_rate_is_still_written_as_it_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No over-correction: 3 of 3 is 100.0, as before."""
    monkeypatch.chdir(tmp_path)
    execution = _strategy(tmp_path, 3)
    assert execution["mechanical"]["success_rate"] == 100.0
    assert execution["nuanced"]["success_rate"] == 100.0

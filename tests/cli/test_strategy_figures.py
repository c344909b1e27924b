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


def _estimates(root: Path, statuses: list[str]) -> dict[str, object]:
    """Phase p1: three mechanical Haiku tickets, 40,000 tokens each when done and 2,000 when
    failed (failed work is cheap), with these ``statuses``, and a shared planning of 3,000 (one
    not recorded would make every estimate a lower bound); the strategy file for p2 (M01)."""
    p1 = rate_phase(3, 3, tokens=[40_000 if s != "failed" else 2_000 for s in statuses])
    p1.log["shared_planning"] = {"model": "sonnet", "actual_tokens": 3_000}
    for i, status in enumerate(statuses, start=1):
        p1.log["tickets"][f"T{i:02d}"]["status"] = status
    p1.write(root)
    Phase.of("p2", [{"id": "t", "metric": "tickets", "min": 1}], {}, requires=["p1"]).write(root)
    assert main(["strategy", "--for", "p2", "--tickets", "M01=mechanical"]) == 0
    path = root / "docs/orchestration-data/phase-p2-strategy.yaml"
    data: dict[str, object] = yaml.safe_load(path.read_text())
    return data


def test_a_failed_tickets_cost_is_no_estimate_of_a_done_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """T03 failed at 2,000 tokens: the estimate is the done tickets' 40,000 (+ the planning's
    3,000), not the mean 27,333 with the failure in it, and the file says which run it left out
    and why."""
    monkeypatch.chdir(tmp_path)
    data = _estimates(tmp_path, ["completed", "completed", "failed"])
    costs = data["estimated_costs"]
    assert isinstance(costs, dict)
    assert costs["M01"]["tokens"] == 43_000, costs
    assert "lower_bounds" not in costs["M01"], costs
    left = data["left_out"]
    assert isinstance(left, list) and len(left) == 1, data
    assert "T03" in left[0] and "p1" in left[0] and "failed" in left[0], left


def test_an_estimate_from_failed_runs_only_is_a_lower_bound(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every run failed: their cost is all there is, and finishing costs at least that."""
    monkeypatch.chdir(tmp_path)
    data = _estimates(tmp_path, ["failed", "failed", "failed"])
    costs = data["estimated_costs"]
    assert isinstance(costs, dict)
    assert costs["M01"]["tokens"] == 5_000, costs
    assert costs["M01"]["lower_bounds"] == ["tokens"], costs
    why = data["lower_bounds_why"]
    assert isinstance(why, list) and any("failed" in w for w in why), data

"""`orchphase strategy` decides from what done work showed: a model is chosen for a kind of
ticket by the tickets it succeeded on (never by how many it ran), and a planning the evidence
never recorded is no planning of 0."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from pytest_orchphase.cli import main
from tests.helpers import Phase, YamlData, flat_ticket

COUNTED: list[YamlData] = [{"id": "counted", "metric": "tickets", "min": 1}]
FAILED = {"fix_loops": 3}  # above the default rule's 1 fix loop: not a success
UNREVIEWED = {"review": None}  # no verdict recorded: success not known


@pytest.fixture(autouse=True)
def _in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def _strategy(root: Path, *evidence: Phase, ticket: str = "nuanced") -> Any:
    """The strategy file `orchphase strategy --for p9 --tickets M01=<ticket>` writes, p9
    requiring the ``evidence`` phases."""
    for phase in evidence:
        phase.write(root)
    requires = [p.name for p in evidence]
    Phase.of("p9", COUNTED, {}, requires=requires).write(root)
    assert main(["strategy", "--for", "p9", "--tickets", f"M01={ticket}"]) == 0
    return yaml.safe_load((root / "docs/orchestration-data/phase-p9-strategy.yaml").read_text())


def _nuanced(runs: list[tuple[str, YamlData]]) -> Phase:
    """Phase p1 of nuanced tickets T01…, each on its model with these changes."""
    tickets = {
        f"T{i:02d}": flat_ticket(execution_model=model, complexity="nuanced", **changes)
        for i, (model, changes) in enumerate(runs, start=1)
    }
    for ticket in tickets.values():
        for key in ("review", "execution_model"):
            if not ticket.get(key, True):  # None: not recorded
                del ticket[key]
    planning = {"model": "sonnet", "actual_tokens": 9_000}
    return Phase.of("p1", COUNTED, tickets, planning=planning)


def _choice(root: Path, runs: list[tuple[str, YamlData]]) -> Any:
    return _strategy(root, _nuanced(runs))["model_selection"]["execution"]["nuanced"]


def test_a_model_whose_success_is_not_known_does_not_win_on_count(tmp_path: Path) -> None:
    """Haiku ran three nuanced tickets no review judged; Sonnet's one succeeded."""
    nuanced = _choice(tmp_path, [*[("haiku", UNREVIEWED)] * 3, ("sonnet", {})])
    assert (nuanced["model"], nuanced["sample_size"]) == ("sonnet", 1), nuanced
    assert "haiku 0 of 3" in nuanced["rationale"], nuanced


def test_no_model_that_succeeded_gives_the_proven_default(tmp_path: Path) -> None:
    """Haiku failed two nuanced tickets and Opus one: neither is chosen; the rule's fallback
    (Sonnet) is, and the rationale says no ticket succeeded."""
    nuanced = _choice(tmp_path, [("haiku", FAILED), ("haiku", FAILED), ("opus", FAILED)])
    assert nuanced["model"] == "sonnet", nuanced
    assert (nuanced["success_rate"], nuanced["sample_size"]) == (None, 0), nuanced
    assert "no nuanced ticket succeeded" in nuanced["rationale"], nuanced
    assert "haiku 0 of 2, opus 0 of 1" in nuanced["rationale"], nuanced


def test_the_default_that_failed_too_says_so(tmp_path: Path) -> None:
    """Sonnet (the fallback) failed its one nuanced ticket as Haiku did its two: the figures
    written are Sonnet's own, 0 of 1, never a rate it did not show."""
    nuanced = _choice(tmp_path, [("haiku", FAILED), ("haiku", FAILED), ("sonnet", FAILED)])
    assert (nuanced["model"], nuanced["success_rate"], nuanced["sample_size"]) == (
        "sonnet",
        0.0,
        1,
    ), nuanced


def test_one_success_is_no_proof_beside_nine_of_ten(tmp_path: Path) -> None:
    """Opus 1 of 1 against Haiku 9 of 10: the Wilson lower bound (20.7 % against 59.6 %) picks
    Haiku, not the higher point rate of one ticket."""
    runs = [*[("haiku", {})] * 9, ("haiku", FAILED), ("opus", {})]
    nuanced = _choice(tmp_path, runs)
    assert (nuanced["model"], nuanced["sample_size"]) == ("haiku", 10), nuanced
    assert nuanced["success_rate"] == 90.0, nuanced


def test_tickets_of_no_recorded_model_are_never_a_choice(tmp_path: Path) -> None:
    """Three nuanced tickets succeeded on a model the log does not name, one on Sonnet: a
    strategy cannot run tickets on "unknown"."""
    nuanced = _choice(tmp_path, [*[("", {})] * 3, ("sonnet", {})])
    assert (nuanced["model"], nuanced["sample_size"]) == ("sonnet", 1), nuanced


def test_the_model_that_succeeded_most_is_still_chosen(tmp_path: Path) -> None:
    """No over-correction: Haiku 3 of 3 beside Sonnet 1 of 1 is Haiku, as before."""
    nuanced = _choice(tmp_path, [*[("haiku", {})] * 3, ("sonnet", {})])
    assert (nuanced["model"], nuanced["success_rate"], nuanced["sample_size"]) == (
        "haiku",
        100.0,
        3,
    ), nuanced


def _phase(name: str, n: int, planning: YamlData | None) -> Phase:
    tickets = {f"T{i:02d}": flat_ticket(complexity="nuanced") for i in range(1, n + 1)}
    return Phase.of(name, COUNTED, tickets, planning=planning)


PLANNING: YamlData = {"model": "sonnet", "actual_tokens": 9_000}


def test_an_unrecorded_planning_among_recorded_ones_still_bounds_the_estimates(
    tmp_path: Path,
) -> None:
    """p1 records its planning, p2 (three tickets) none: the mean of p1's alone is not what
    planning costs, so the estimates stay lower bounds, naming p2."""
    strategy = _strategy(tmp_path, _phase("p1", 3, PLANNING), _phase("p2", 3, None))
    cost = strategy["estimated_costs"]
    assert cost["M01"]["lower_bounds"] == ["tokens"], cost
    assert cost["total"]["lower_bounds"] == ["tokens"], cost
    assert any(
        "phase p2: the log records no shared_planning" in why
        for why in strategy["lower_bounds_why"]
    ), strategy
    assert strategy["batching"]["planning_tokens_per_ticket"] == 9_000, strategy


def test_no_planning_known_is_no_share_of_0(tmp_path: Path) -> None:
    """With no planning recorded anywhere, the share is not known (null), never 0."""
    strategy = _strategy(tmp_path, _phase("p1", 3, None))
    assert strategy["batching"]["planning_tokens_per_ticket"] is None, strategy
    assert strategy["estimated_costs"]["M01"]["lower_bounds"] == ["tokens"], strategy


def test_a_recorded_planning_gives_exact_estimates(tmp_path: Path) -> None:
    """No over-correction: planning recorded, the estimate is exact (20,000 + 9,000 / 1)."""
    strategy = _strategy(tmp_path, _phase("p1", 3, PLANNING))
    assert strategy["estimated_costs"]["M01"] == {
        "complexity": "nuanced",
        "model": "sonnet",
        "tokens": 29_000,
        "usd": None,
    }, strategy
    assert "lower_bounds_why" not in strategy, strategy


def test_a_single_ticket_phase_has_no_planning_to_miss(tmp_path: Path) -> None:
    """As the phase's own figures: one ticket without shared_planning planned in its own work,
    so the estimate is exact with a share of 0."""
    strategy = _strategy(tmp_path, _phase("p1", 1, None))
    assert "lower_bounds" not in strategy["estimated_costs"]["M01"], strategy
    assert strategy["batching"]["planning_tokens_per_ticket"] == 0, strategy

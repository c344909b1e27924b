"""`orchphase strategy` decides from what done work showed: a model is chosen for a kind of
ticket by the tickets it succeeded on (never by how many it ran, never the model that failed
them), a planning the evidence never recorded is no planning of 0, a ticket whose work did not
run is no estimate of a done one; and `--out` never writes over a file a phase run reads."""

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


def _strategy_for_p2(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, ticket: str
) -> Any:
    """`orchphase strategy --for p2 --tickets M01=<ticket>` (p2 requires p1): the file written."""
    from pytest_orchphase.cli import main

    monkeypatch.chdir(pytester.path)
    Phase.of("p2", COUNTED, {}, requires=["p1"]).write(pytester.path)
    assert main(["strategy", "--for", "p2", "--tickets", f"M01={ticket}"]) == 0
    return yaml.safe_load(
        (pytester.path / "docs/orchestration-data/phase-p2-strategy.yaml").read_text()
    )


def test_strategy_gives_no_complexity_to_the_model_that_failed_it(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    struggled = {"execution_model": "haiku", "complexity": "nuanced", "fix_loops": 3}
    tickets = {
        "T01": flat_ticket(**struggled),
        "T02": flat_ticket(**struggled),
        "T03": flat_ticket(complexity="nuanced"),
    }
    Phase.of("p1", COUNTED, tickets).write(pytester.path)
    nuanced = _strategy_for_p2(pytester, monkeypatch, "nuanced")["model_selection"]["execution"][
        "nuanced"
    ]
    assert nuanced["model"] == "sonnet", nuanced


def test_strategy_counts_no_unrecorded_planning_as_zero(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    tickets = {f"T0{i}": flat_ticket(complexity="nuanced") for i in (1, 2, 3)}
    Phase.of("p1", COUNTED, tickets).write(pytester.path)
    cost = _strategy_for_p2(pytester, monkeypatch, "nuanced")["estimated_costs"]["M01"]
    assert "tokens" in cost.get("lower_bounds", []), cost


def test_a_ticket_whose_work_did_not_run_is_no_estimate_of_a_done_one(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    import yaml

    from pytest_orchphase.cli import main

    def ticket(ran: bool) -> YamlData:
        done = {"fix_loops": 0, "status": "completed", "actual_tokens": 37_000}
        return {
            "execution_model": "haiku",
            "complexity": "mechanical",
            "implementation": {"model": "haiku", **(done if ran else {"status": "skipped"})},
            **({} if ran else {"fix_loops": 0}),
            "review": {"result": "PASS", "attempts": 1, "actual_tokens": 3_000},
        }

    monkeypatch.chdir(pytester.path)
    tickets = {"T01": ticket(True), "T02": ticket(True), "T03": ticket(False)}
    adopt = {"model": "haiku", "min_success_rate": "50%", "min_sample_size": 2, "rule": "point"}
    counted: list[YamlData] = [{"id": "t", "metric": "tickets", "min": 1}]
    Phase.of("p1", counted, tickets, decisions={"adopt_model": adopt}).write(pytester.path)
    Phase.of("p2", counted, {}, requires=["p1"]).write(pytester.path)
    assert main(["strategy", "--for", "p2", "--tickets", "M01=mechanical"]) == 0
    path = pytester.path / "docs/orchestration-data/phase-p2-strategy.yaml"
    cost = yaml.safe_load(path.read_text())["estimated_costs"]["M01"]
    assert cost["tokens"] == 40_000 or cost.get("lower_bounds") == ["tokens"], cost


def test_strategy_never_writes_over_a_file_a_phase_run_reads(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`orchphase strategy --for a3 --out` on a phase's metadata.yaml or a criteria file,
    --force or not: refused (exit 2), the file as it was; elsewhere it is written (exit 0). A
    sibling of draft-log's writes over a phase's data."""
    from pytest_orchphase import cli

    monkeypatch.chdir(pytester.path)
    assert cli.main(["init", "--example"]) == 0
    data = pytester.path / "docs" / "orchestration-data"
    (metadata,) = data.glob("phase-a1*/metadata.yaml")
    for target in (metadata, pytester.path / "criteria" / "a1.yaml"):
        before = target.read_bytes()
        assert cli.main(["strategy", "--for", "a3", "--out", str(target), "--force"]) == 2
        assert target.read_bytes() == before
    assert cli.main(["strategy", "--for", "a3", "--out", "s.yaml"]) == 0

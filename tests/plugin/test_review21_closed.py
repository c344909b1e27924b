"""A finding of the review of the third round's fixes, closed: the adoption decision's worst case
for runs it cannot place."""

from __future__ import annotations

from pathlib import Path

from pytest_orchphase.decide.decisions import Adoption, adoption
from pytest_orchphase.evaluate.runner import PhaseRunner
from tests.helpers import YamlData, rate_phase


def test_adoption_is_not_yes_when_only_the_failing_unplaced_runs_may_be_in_the_pool(
    tmp_path: Path,
) -> None:
    """Point rule, 70 %, at least 3: T01-T10 Haiku mechanical, 7 succeeded (70 %: YES). T11
    (failed) and T12-T14 (succeeded) record no complexity. Left out: 7 of 10, YES; all counted
    in: 10 of 14 (71.4 %), YES; so the answer is YES. But T11 may be mechanical while T12-T14
    are not: 7 of 11 (63.6 %) is NO. The worst case counts in the failing runs only."""
    decided = _adoption(tmp_path, 7, [3, 0, 0, 0])
    assert decided.answer != "YES", decided.line


def test_adoption_stays_yes_when_even_the_failing_unplaced_runs_keep_it(tmp_path: Path) -> None:
    """The worst case still YES (8 of 10 succeeded; T11, failing, records no complexity: 8 of
    11 is 72.7 %): the answer does not depend on the run, and stays YES."""
    decided = _adoption(tmp_path, 8, [3, 0])
    assert decided.answer == "YES", decided.line


def _adoption(tmp_path: Path, successes: int, unplaced_loops: list[int]) -> Adoption:
    """Adopting Haiku for mechanical tickets on the point rule at 70 %: T01-T10 Haiku
    mechanical, the first ``successes`` succeeded; then T11… Haiku runs that record no
    complexity, with these fix loops (0 succeeds, 3 does not)."""
    phase = rate_phase(successes, 10, decisions={"rule": "point", "min_success_rate": "70%"})
    for i, loops in enumerate(unplaced_loops, start=11):
        t: YamlData = {
            "execution_model": "haiku",
            "actual_tokens": 20_000,
            "fix_loops": loops,
            "review": {"result": "PASS", "attempts": 1},
        }
        phase.log["tickets"][f"T{i}"] = t
        phase.metadata["tickets"].append(f"T{i}")
    phase.write(tmp_path)
    runner = PhaseRunner(tmp_path / "criteria", tmp_path / "docs" / "orchestration-data")
    decided = adoption(runner, "p1")
    assert decided is not None
    return decided

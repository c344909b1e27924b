"""The typed report's boundary: the objects that serialise themselves (decisions, verdicts, the
log's error records) give exactly the keys the report's TypedDicts declare, so the casts in
report/ tell mypy the truth. A field added to one of them fails here until its type says so."""

from __future__ import annotations

from collections.abc import Mapping

from pytest_orchphase.decide.adoption import adoption
from pytest_orchphase.decide.breakeven import BreakEven
from pytest_orchphase.decide.decisions import Proceed
from pytest_orchphase.evaluate.runner import PhaseRunner
from pytest_orchphase.evaluate.verdict import Verdict
from pytest_orchphase.load.models import AdoptModel, ErrorRecord
from pytest_orchphase.report import results, shape
from pytest_orchphase.report.model import adoption_data, break_even_data, proceed_data
from pytest_orchphase.report.tickets import error_data
from tests.helpers import REPO


def keys_of(typed: type) -> set[str]:
    """Every key a TypedDict declares (its own and inherited, required or not)."""
    return set(typed.__annotations__)


def check(data: Mapping[str, object], typed: type) -> None:
    assert set(data) == keys_of(typed), (
        f"missing from {typed.__name__}: {sorted(set(data) - keys_of(typed))}; "
        f"declared but not given: {sorted(keys_of(typed) - set(data))}"
    )


def test_a_decision_gives_the_keys_of_its_type() -> None:
    check(proceed_data(Proceed("a2", "YES", [])), shape.ProceedData)
    check(break_even_data(BreakEven("usd", None, None, None, None, "unknown")), shape.BreakEvenData)
    runner = PhaseRunner(REPO / "criteria", REPO / "docs" / "orchestration-data")
    decided = adoption(runner, "a3", AdoptModel(model="haiku", complexity="mechanical"))
    assert decided is not None
    check(adoption_data(decided), shape.AdoptionData)


def test_a_verdict_gives_the_keys_of_a_leaf_or_a_group() -> None:
    leaf = Verdict(passed=True, metric="tokens", unit="tokens", operator="max", limit=10)
    check(leaf.to_data(), results.LeafData)
    group = Verdict(passed=False, combinator="all", children=[leaf])
    check(group.to_data(), results.GroupData)


def test_an_error_record_gives_the_keys_of_its_type() -> None:
    check(error_data(ErrorRecord(type="logic", description="x")), shape.ErrorData)


def test_a_key_the_type_lacks_is_caught() -> None:
    data = {**proceed_data(Proceed("a2", "YES", [])), "extra": 1}
    try:
        check(data, shape.ProceedData)
    except AssertionError as exc:
        assert "missing from ProceedData: ['extra']" in str(exc)
    else:
        raise AssertionError("an extra key passed the check")

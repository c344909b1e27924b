"""The per-ticket table's cells: the delta columns appear only with something to show, and a
failed review is not said again as the ticket's failure."""

from __future__ import annotations

from typing import Any, cast

from pytest_orchphase.report.shape import TicketRow
from pytest_orchphase.report.tables import ticket_cells, ticket_headers


def row(**kw: Any) -> TicketRow:
    base: TicketRow = {
        "ticket": "R03",
        "model": "haiku",
        "tokens": 28300,
        "usd": None,
        "origin": "recorded",
        "cap_operator": "below",
        "cap": 45000.0,
        "result": "PASS",
        "failing": [],
        "inconclusive": [],
        "versus": None,
        "delta_tokens": None,
        "delta_usd": None,
        "bounds": {},
    }
    return cast(TicketRow, {**base, **kw})


def test_without_a_compared_phase_there_is_no_delta_column() -> None:
    rows = [row()]
    assert ticket_headers(rows)[-1] == "figures"
    assert ticket_cells(rows) == [
        ["R03", "haiku", "28,300", "unknown", "< 45,000", "PASS", "recorded"]
    ]


def test_tokens_and_usd_saved_against_the_compared_phase() -> None:
    rows = [
        row(versus="a1", delta_tokens=900, usd=0.41, delta_usd=-0.0123, origin="measured"),
        row(ticket="R07", failing=["quality[R07]"], result="FAIL", tokens=None, cap=None),
    ]
    assert ticket_headers(rows)[-2:] == ["tokens saved vs a1", "USD saved vs a1"]
    assert ticket_cells(rows) == [
        ["R03", "haiku", "28,300", "$0.4100", "< 45,000", "PASS", "measured", "+900", "-$0.0123"],
        ["R07", "haiku", "unknown", "unknown", "", "FAIL (quality[R07])", "recorded", "", ""],
    ]


def test_a_figure_that_is_only_a_bound_carries_its_mark() -> None:
    """The marks of the criterion lines' bounds, the same as the table of phases."""
    bounds = {"tokens": "lower", "usd": "lower", "delta_tokens": "upper", "delta_usd": "unknown"}
    rows = [row(versus="a1", delta_tokens=900, usd=0.41, delta_usd=-0.0123, bounds=bounds)]
    assert ticket_cells(rows)[0][2:4] + ticket_cells(rows)[0][-2:] == [
        "≥ 28,300",
        "≥ $0.4100",
        "≤ +900",
        "about -$0.0123",
    ]


def test_a_failed_review_is_not_repeated_as_the_tickets_failure() -> None:
    from typing import Any, cast

    from pytest_orchphase.report.markdown import _review_cell

    facts = cast(Any, {"review": "FAIL", "failed": ["review FAIL"]})
    assert _review_cell(facts) == "FAIL"

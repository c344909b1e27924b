"""Review of 2026-11-30's changes: each test is a finding on main (xfail strict until fixed);
the reason says what is observed and what is expected."""

from __future__ import annotations

import pytest

from tests.helpers import Phase, YamlData, assert_not_yes, flat_ticket, run_phase


def _rate_on(wanted: str) -> YamlData:
    """Every ticket executed on ``wanted`` must have succeeded (point rule)."""
    return {
        "id": "rate",
        "metric": "success_rate",
        "model": wanted,
        "min": "100%",
        "rule": "point",
    }


@pytest.mark.xfail(
    strict=True,
    reason=(
        "observed: families.version reads a dotted version after a hyphen ('claude-haiku-4.5', "
        "'haiku-4.5', 'opus-4.1') as its major alone ((4,)), so a ticket recorded so is "
        "certainly another model than the filter's (or the wrong one matches): its failure is "
        "left out and the rate passes, Proceed YES; expected: that model (or 'may be it': "
        "unknown), never YES"
    ),
)
@pytest.mark.parametrize(
    ("succeeded", "struggled", "wanted"),
    [
        ("claude-haiku-4-5-20251001", "claude-haiku-4.5", "claude-haiku-4-5"),
        ("haiku-4.5", "claude-haiku-4-5-20251001", "haiku-4.5"),
        ("claude-opus-4-1-20250805", "claude-opus-4.1", "claude-opus-4-1"),
    ],
)
def test_a_dotted_model_version_is_that_version(
    pytester: pytest.Pytester, succeeded: str, struggled: str, wanted: str
) -> None:
    three_loops = {"fix_loops": 3, "review": {"result": "PASS", "attempts": 1}}
    tickets = {
        "T01": flat_ticket(execution_model=succeeded),
        "T02": flat_ticket(execution_model=struggled, **three_loops),
    }
    Phase.of("p1", [_rate_on(wanted)], tickets).write(pytester.path)
    result = run_phase(pytester, "p1")
    assert_not_yes(pytester, result)


@pytest.mark.xfail(
    strict=True,
    reason=(
        "observed: a figure as a share of itself (`tokens` `of: {metric: tokens}`, always "
        "100 %) or, per ticket, `tokens` bounded by this phase's `tokens` (a part within its "
        "whole) passes on nothing: Proceed YES; expected: an error "
        "like the one for a whole-phase figure bounded by itself (exit 2), never YES"
    ),
)
@pytest.mark.parametrize(
    "criterion",
    [
        {
            "id": "share",
            "metric": "tokens",
            "measure": "total",
            "of": {"metric": "tokens", "measure": "total"},
            "max": "100%",
        },
        {
            "id": "per-ticket",
            "for_each": "ticket",
            "metric": "tokens",
            "measure": "total",
            "max": {"metric": "tokens", "measure": "total"},
        },
    ],
    ids=["share-of-itself", "ticket-bounded-by-itself"],
)
def test_a_figure_compared_with_itself_is_an_error(
    pytester: pytest.Pytester, criterion: YamlData
) -> None:
    tickets = {"T01": flat_ticket(actual_tokens=40_000)}
    Phase.of("p1", [criterion], tickets).write(pytester.path)
    result = run_phase(pytester, "p1")
    assert_not_yes(pytester, result)

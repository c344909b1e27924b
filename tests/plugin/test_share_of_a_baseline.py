"""A share of a baseline's cost is over the cost of what the figure is of: one ticket's
(``of: {baseline: NAME}``) for a ticket's figure or a mean per ticket, the phase's tickets'
(``per: phase``) for a figure of the whole phase. The other way round is a collection error at
the criterion's ``of`` naming the fix: the share would be as many times too large (or too small)
as the phase has tickets."""

from __future__ import annotations

import pytest

from tests.helpers import Phase, YamlData, assert_not_yes, flat_ticket, run_phase, write_yaml


def _phase(pytester: pytest.Pytester, criterion: YamlData) -> pytest.RunResult:
    """Phase p1: three tickets of 38,000 tokens and 10,000 of planning (124,000), against
    baseline v2 of 121,000 per ticket (363,000 for the three), under ``criterion``."""
    write_yaml(
        pytester.path / "criteria/baselines.yaml",
        {"baselines": {"v2": {"tokens_per_ticket": 121_000}}},
    )
    tickets = {t: flat_ticket(actual_tokens=38_000) for t in ("T01", "T02", "T03")}
    planning = {"model": "sonnet", "actual_tokens": 10_000}
    Phase.of("p1", [{"id": "c", **criterion}], tickets, planning=planning).write(pytester.path)
    return run_phase(pytester, "p1")


@pytest.mark.parametrize(
    ("criterion", "where", "fix"),
    [
        # a phase figure over one ticket's cost, said explicitly
        (
            {"metric": "delta", "baseline": "v2", "measure": "total", "min": "70%"}
            | {"of": {"baseline": "v2", "per": "ticket"}},
            "criteria[[]0].of.per",
            "write `per: phase`",
        ),
        (
            {"metric": "tokens", "measure": "total", "max": "50%", "of": {"baseline": "v2"}},
            "criteria[[]0].of",
            "write `per: phase`",
        ),
        # a ticket's figure over the phase's cost: 38,000 of 363,000 reads 10.5 %, not 31.4 %
        (
            {"for_each": "ticket", "metric": "tokens", "measure": "total", "max": "15%"}
            | {"of": {"baseline": "v2", "per": "phase"}},
            "criteria[[]0].of.per",
            "drop `per: phase`",
        ),
        # a mean per ticket is one ticket's figure
        (
            {"metric": "ticket_tokens_average", "measure": "total", "max": "15%"}
            | {"of": {"baseline": "v2", "per": "phase"}},
            "criteria[[]0].of.per",
            "drop `per: phase`",
        ),
    ],
    ids=["phase-per-ticket", "phase-default", "ticket-per-phase", "average-per-phase"],
)
def test_a_share_of_a_baseline_of_the_wrong_scope_is_refused(
    pytester: pytest.Pytester, criterion: YamlData, where: str, fix: str
) -> None:
    result = _phase(pytester, criterion)
    assert_not_yes(pytester, result)
    result.stdout.fnmatch_lines([f"*criteria/p1.yaml*{where}:*{fix}*"])


@pytest.mark.parametrize(
    ("criterion", "shown"),
    [
        (
            {"metric": "delta", "baseline": "v2", "measure": "total", "min": "60%"}
            | {"of": {"baseline": "v2", "per": "phase"}},
            "*delta*/ baseline v2 × 3 tickets*65.8%*min*60.0%*PASS*",
        ),
        (
            {"for_each": "ticket", "metric": "tokens", "measure": "total", "max": "35%"}
            | {"of": {"baseline": "v2"}},
            "*T01*tokens / baseline v2 per ticket*31.4%*max*35.0%*PASS*",
        ),
        (
            {"metric": "ticket_tokens_average", "measure": "total", "max": "35%"}
            | {"of": {"baseline": "v2"}},
            "*ticket_tokens_average / baseline v2 per ticket*31.4%*max*35.0%*PASS*",
        ),
    ],
    ids=["phase-per-phase", "ticket-per-ticket", "average-per-ticket"],
)
def test_a_share_of_a_baseline_of_its_own_scope_is_computed(
    pytester: pytest.Pytester, criterion: YamlData, shown: str
) -> None:
    result = _phase(pytester, criterion)
    result.stdout.fnmatch_lines([shown])
    assert result.ret == 0

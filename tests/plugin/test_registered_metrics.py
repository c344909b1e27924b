"""A metric a team registers in its conftest, in a real run: its function runs once per item
(never again at the session's end), and what it changes in the data it reads no other item
reads."""

from __future__ import annotations

import pytest

from tests.helpers import Phase, YamlData, decision, flat_ticket, run_phase

COUNTED = """
from pathlib import Path


def pytest_orchphase_register_metrics(registry):
    def team(ctx, ticket, params):
        with (Path(__file__).parent / "calls.txt").open("a") as calls:
            calls.write(f"{ctx.phase.name}\\n")
        return 3

    registry.register("team", scope="phase", unit="count", formula="f", fn=team)
"""

TEAM: YamlData = {"id": "team", "metric": "team", "max": 10}


def test_a_metric_runs_once_per_item_and_not_again_for_the_gate_or_the_report(
    pytester: pytest.Pytester,
) -> None:
    """p2 requires p1, each with the team's criterion: p2's item runs it on p2 once, its gate
    on p1 once; the decision, the unjudged failures and the reports at the session's end read
    the verdicts those gave."""
    pytester.makeconftest(COUNTED)
    Phase.of("p1", [TEAM], {"R01": flat_ticket()}).write(pytester.path)
    Phase.of("p2", [TEAM], {"R01": flat_ticket()}, requires=["p1"]).write(pytester.path)
    result = run_phase(pytester, "p2", "--orchphase-md", "r.md")
    result.assert_outcomes(passed=2)
    assert decision(pytester) == "YES"
    assert sorted((pytester.path / "calls.txt").read_text().split()) == ["p1", "p2"]


def test_what_a_ticket_metric_changes_in_the_accounts_no_other_item_reads(
    pytester: pytest.Pytester,
) -> None:
    """A ticket metric that zeroes the other tickets' usage (in its copy) leaves the phase's
    tokens at 40,000 for the cap of 30,000: NO."""
    pytester.makeconftest(
        "from dataclasses import replace\n\n\n"
        "def pytest_orchphase_register_metrics(registry):\n"
        "    def mine(ctx, ticket, params):\n"
        "        for other in list(ctx.accounts.flat):\n"
        "            if other != ticket:\n"
        "                ctx.accounts.flat[other] = replace(ctx.accounts.flat[other], total=0)\n"
        "        return 1\n"
        '    registry.register("mine", scope="ticket", unit="count", formula="f", fn=mine)\n'
    )
    mine: YamlData = {"id": "mine", "metric": "mine", "for_each": "ticket", "max": 1}
    cap: YamlData = {"id": "cap", "metric": "tokens", "measure": "total", "max": 30_000}
    tickets = {"R01": flat_ticket(), "R02": flat_ticket()}
    Phase.of("p1", [mine, cap], tickets, planning={"actual_tokens": 0}).write(pytester.path)
    result = run_phase(pytester, "p1")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["cap: tokens 40,000 > max 30,000*"])
    assert decision(pytester) == "NO"

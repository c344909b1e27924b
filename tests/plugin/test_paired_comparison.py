"""A phase against another on the tickets both ran: per-ticket deltas, a seeded paired bootstrap
interval on their mean and an exact sign test, through real pytest runs."""

from __future__ import annotations

import json

import pytest
from support import A3_LOG, Edit, write_rate_phase

CHEAPER = """
  - id: cheaper-than-a2
    metric: paired_savings
    versus: a2
    measure: total
    above: 0
"""


def test_three_tickets_cheaper_in_the_mean_pass_on_the_point_rule_only(
    project: pytest.Pytester,
) -> None:
    criteria = project.path / "criteria/a3.yaml"
    criteria.write_text(
        criteria.read_text()
        + CHEAPER
        + CHEAPER.replace("a2\n    measure", "a2\n    rule: point\n    measure").replace(
            "cheaper-than-a2", "cheaper-in-the-mean"
        )
    )
    result = project.runpytest("--phase", "a3", "--orchphase-json", "r.json")
    result.assert_outcomes(passed=7, failed=1)
    # a2 → a3 per ticket: R03 28,300 → 22,400, R06 35,100 → 29,900, R07 37,500 → 31,200
    result.stdout.fnmatch_lines(
        [
            "cheaper-than-a2: paired_savings[[]a2[]] 5,800 (3 shared tickets, 3 cheaper, 0 dearer; "
            "two-sided sign test p = 0.25; 95% paired bootstrap interval *, rule interval): "
            "INCONCLUSIVE: too few tickets for the sign test, though the interval is above 0; "
            "the one-sided sign test gives p = 0.125 > 2.5%: 3 more ticket(s) on the limit's "
            "side would pass it — *",
            "cheaper-than-a2 *paired_savings[[]*[]]*5,800 (*rule interval)*above*0*INCONCLUSIVE",
            "cheaper-in-the-mean *paired_savings[[]*[]]*5,800 (*rule point)*above*0*PASS",
        ]
    )
    leaf = json.loads((project.path / "r.json").read_text())["criteria"][-2]["condition"]
    assert leaf["interval_method"] == "paired bootstrap" and leaf["sign_test_p"] == 0.125
    assert leaf["actual"] == pytest.approx(5800)


def test_a_dearer_phase_fails_on_the_interval(project: pytest.Pytester, edit: Edit) -> None:
    for old, new in (("22400", "32400"), ("29900", "39900"), ("31200", "41200")):
        edit(A3_LOG, f"actual_tokens: {old}", f"actual_tokens: {new}")
    criteria = project.path / "criteria/a3.yaml"
    criteria.write_text(criteria.read_text() + CHEAPER)
    result = project.runpytest("--phase", "a3", "-k", "cheaper")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["cheaper-than-a2: paired_savings[[]a2[]] -4,200 (*): upper bound -* <= above 0 — *"]
    )


def test_six_tickets_all_cheaper_say_yes_with_confidence(bare_pair: pytest.Pytester) -> None:
    result = bare_pair.runpytest("--phase", "p2", "-k", "cheaper")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        ["cheaper *paired_savings[[]p1[]]*(6 shared tickets, 6 cheaper, 0 dearer;*interval)*PASS"]
    )


def test_five_tickets_all_cheaper_are_not_enough_for_the_sign_test(
    bare_pair: pytest.Pytester,
) -> None:
    # one-sided p = 1/32 = 0.031 > 0.025: the interval alone would have said YES
    log = bare_pair.path / "docs/orchestration-data/phase-p2/execution-log.yaml"
    log.write_text(log.read_text().replace("actual_tokens: 15000", "actual_tokens: 20000", 1))
    result = bare_pair.runpytest("--phase", "p2", "-k", "cheaper")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*1 more ticket(s) on the limit's side would pass it*"])


@pytest.fixture
def bare_pair(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """p1 and p2 ran the same six tickets; p2 spent 15,000 tokens on each where p1 spent 20,000
    (give or take)."""
    monkeypatch.delenv("ORCHPHASE_PHASE", raising=False)
    write_rate_phase(pytester.path, 6, 6, tokens=[20000, 21000, 19000, 22000, 20500, 18000])
    write_rate_phase(pytester.path, 6, 6, phase="p2", requires="[p1]", tokens=[15000] * 6)
    criteria = pytester.path / "criteria/p2.yaml"
    criteria.write_text(
        criteria.read_text() + "  - id: cheaper\n    metric: paired_savings\n    versus: p1\n"
        "    measure: total\n    above: 0\n"
    )
    return pytester


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ("    versus: a9\n", "unknown phase 'a9'"),
        ("", "metric 'paired_savings' needs `versus:`"),
    ],
)
def test_a_bad_comparison_is_a_collection_error(
    project: pytest.Pytester, lines: str, message: str
) -> None:
    criteria = project.path / "criteria/a3.yaml"
    criteria.write_text(
        criteria.read_text()
        + "  - id: cmp\n    metric: paired_savings\n    measure: total\n    above: 0\n"
        + lines
    )
    result = project.runpytest("--phase", "a3")
    assert result.ret == 2
    result.stdout.fnmatch_lines([f"*criteria/a3.yaml:*{message}*"])


def test_versus_on_another_metric_is_an_error(project: pytest.Pytester) -> None:
    criteria = project.path / "criteria/a3.yaml"
    criteria.write_text(
        criteria.read_text() + "  - id: t\n    metric: tickets\n    versus: a2\n    min: 1\n"
    )
    result = project.runpytest("--phase", "a3")
    assert result.ret == 2
    result.stdout.fnmatch_lines(["*criteria/a3.yaml:*metric 'tickets' takes no `versus`*"])

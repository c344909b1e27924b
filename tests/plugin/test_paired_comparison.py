"""A phase against another on the tickets both ran: per-ticket deltas, a seeded paired bootstrap
interval on their mean and an exact sign test, through real pytest runs; a phase compared with
itself is an error."""

from __future__ import annotations

import json

import pytest

from tests.helpers import Phase, YamlData, decision, flat_ticket, rate_phase, run_phase


def cheaper(name: str = "cheaper-than-a2", **rule: str) -> YamlData:
    """A criterion: a3 is cheaper than a2 on the tickets both ran."""
    return {
        "id": name,
        "metric": "paired_savings",
        "versus": "a2",
        **rule,
        "measure": "total",
        "above": 0,
    }


def test_three_tickets_cheaper_in_the_mean_pass_on_the_point_rule_only(
    project: pytest.Pytester,
) -> None:
    Phase.example("a3").add(cheaper(), cheaper("cheaper-in-the-mean", rule="point")).write(
        project.path
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


def test_a_dearer_phase_fails_on_the_interval(project: pytest.Pytester) -> None:
    a3 = Phase.example("a3")
    for ticket in ("R03", "R06", "R07"):
        a3.ticket(ticket)["actual_tokens"] += 10000
    a3.add(cheaper()).write(project.path)
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
    p2 = pair()
    p2.ticket("T01")["actual_tokens"] = 20000
    p2.write(bare_pair.path)
    result = bare_pair.runpytest("--phase", "p2", "-k", "cheaper")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*1 more ticket(s) on the limit's side would pass it*"])


@pytest.fixture
def bare_pair(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """p1 and p2 ran the same six tickets; p2 spent 15,000 tokens on each where p1 spent 20,000
    (give or take)."""
    monkeypatch.delenv("ORCHPHASE_PHASE", raising=False)
    rate_phase(6, 6, tokens=[20000, 21000, 19000, 22000, 20500, 18000]).write(pytester.path)
    pair().write(pytester.path)
    return pytester


def pair() -> Phase:
    """The p2 of `bare_pair`, with its criterion ``cheaper`` than p1."""
    p2 = rate_phase(6, 6, phase="p2", requires=["p1"], tokens=[15000] * 6)
    cheaper = {"id": "cheaper", "metric": "paired_savings", "versus": "p1", "measure": "total"}
    return p2.add({**cheaper, "above": 0})


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ({"versus": "a9"}, "unknown phase 'a9'"),
        ({}, "metric 'paired_savings' needs `versus:`"),
    ],
)
def test_a_bad_comparison_is_a_collection_error(
    project: pytest.Pytester, lines: YamlData, message: str
) -> None:
    cmp = {"id": "cmp", "metric": "paired_savings", "measure": "total", "above": 0}
    Phase.example("a3").add({**cmp, **lines}).write(project.path)
    result = project.runpytest("--phase", "a3")
    assert result.ret == 2
    result.stdout.fnmatch_lines([f"*criteria/a3.yaml:*{message}*"])


def test_versus_on_another_metric_is_an_error(project: pytest.Pytester) -> None:
    t = {"id": "t", "metric": "tickets", "versus": "a2", "min": 1}
    Phase.example("a3").add(t).write(project.path)
    result = project.runpytest("--phase", "a3")
    assert result.ret == 2
    result.stdout.fnmatch_lines(["*criteria/a3.yaml:*metric 'tickets' takes no `versus`*"])


def test_a_paired_comparison_with_the_phase_itself_is_an_error(
    pytester: pytest.Pytester,
) -> None:
    no_dearer: YamlData = {
        "id": "no-dearer",
        "metric": "paired_savings",
        "versus": "p1",
        "measure": "total",
        "min": 0,
        "rule": "point",
    }
    tickets = {f"T0{i}": flat_ticket() for i in (1, 2, 3)}
    Phase.of("p1", [no_dearer], tickets).write(pytester.path)
    result = run_phase(pytester, "p1")
    assert result.ret != 0, result.stdout.str()
    assert decision(pytester) != "YES"
    result.stdout.fnmatch_lines(["*criteria/p1.yaml*versus: compares phase p1 with itself*"])

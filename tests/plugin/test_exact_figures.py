"""Figures are compared with their limits as they are, never rounded first, and their bounds are
kept (adversarial round 20: metrics rounded to two decimals before the comparison, so 59.9959 %
passed `min: 60%`; a ticket's saving over a lower bound was reported as exact). A share of a
loss over an upper bound is an upper bound, which proves no `min`."""

from __future__ import annotations

import pytest

from tests.helpers import (
    Phase,
    YamlData,
    assert_not_yes,
    decision,
    rate_phase,
    read_report,
    run_phase,
)


def _rounding_phase(criteria: list[YamlData]) -> Phase:
    """Phase s1: one ticket R01 of 48,405 tokens (v2 saves 59.9959 %: (121,000 − 48,405) /
    121,000), worked on from 14:00:00 to 14:30:00.2 (30.0033 minutes)."""
    return Phase.of(
        "s1",
        criteria,
        {
            "R01": {
                "complexity": "mechanical",
                "execution_model": "sonnet",
                "implementation": {
                    "model": "sonnet",
                    "start_time": "2026-02-11T14:00:00Z",
                    "end_time": "2026-02-11T14:30:00.200Z",
                    "actual_tokens": 47405,
                    "status": "completed",
                    "fix_loops": 0,
                },
                "review": {
                    "tier": "T1",
                    "type": "checklist",
                    "result": "PASS",
                    "attempts": 1,
                    "actual_tokens": 1000,
                    "start_time": "2026-02-11T14:10:00Z",
                    "end_time": "2026-02-11T14:20:00Z",
                },
            }
        },
    )


def _run(project: pytest.Pytester, phase: Phase) -> pytest.RunResult:
    phase.write(project.path)
    return project.runpytest(
        "--phase", phase.name, "-p", "no:randomly", "--orchphase-json", "r.json"
    )


def _fails(result: pytest.RunResult) -> None:
    result.assert_outcomes(failed=1)
    result.stdout.no_fnmatch_line("Proceed to phase *: YES*")
    assert result.ret != pytest.ExitCode.OK


_SAVINGS = {"id": "c", "metric": "savings", "baseline": "v2", "measure": "total"}
_TICKET = {"for_each": "ticket"}


@pytest.mark.parametrize(
    "criterion",
    [
        # 59.9959 % was rounded to 60.0 before it was compared: min 60 % passed
        {**_SAVINGS, "min": "60%"},
        {**_SAVINGS, **_TICKET, "min": "60%"},
        # 30.0033 minutes were rounded to 30.0 before they were compared: max 30 passed
        {"id": "c", "metric": "wall_time_minutes", "max": 30},
        {"id": "c", **_TICKET, "metric": "wall_time_minutes", "max": 30},
    ],
    ids=["phase-savings", "ticket-savings", "phase-wall-time", "ticket-wall-time"],
)
def test_a_figure_past_its_limit_is_not_rounded_into_a_pass(
    project: pytest.Pytester, criterion: YamlData
) -> None:
    _fails(_run(project, _rounding_phase([criterion])))


def _review_share(limit: YamlData, review: int) -> Phase:
    """R01's review of ``review`` tokens as a share of its implementation's 40,000."""
    share = {
        "id": "review-share",
        "for_each": "ticket",
        "metric": "stage_tokens",
        "stage": "review",
        "measure": "total",
        "of": {"metric": "stage_tokens", "stage": "implementation", "measure": "total"},
        **limit,
    }
    phase = _rounding_phase([share])
    phase.stage("R01", "implementation")["actual_tokens"] = 40000
    phase.stage("R01", "review")["actual_tokens"] = review
    return phase


def test_a_share_past_its_limit_is_not_rounded_into_a_pass(project: pytest.Pytester) -> None:
    """10,001 / 40,000 = 25.0025 % was rounded to 25.0 and passed `max: 25%`."""
    _fails(_run(project, _review_share({"max": "25%"}, 10001)))


@pytest.mark.parametrize(
    ("limit", "passes"),
    [({"max": "25%"}, True), ({"min": "25%"}, True), ({"below": "25%"}, False)],
)
def test_a_share_exactly_at_its_limit_is_at_it(
    project: pytest.Pytester, limit: YamlData, passes: bool
) -> None:
    """10,000 / 40,000 is 25 % exactly: it meets max and min 25 %, and is not below it."""
    result = _run(project, _review_share(limit, 10000))
    result.assert_outcomes(passed=1 if passes else 0, failed=0 if passes else 1)


def _hundred(criterion: YamlData) -> Phase:
    """Phase h1: ticket R01 of 42 tokens against a baseline of 100 per ticket: a saving of 58 %
    exactly, which ``(100 − 42) / 100 × 100`` computes as 57.99999999999999 in floats."""
    phase = Phase.of(
        "h1",
        [{"id": "c", "baseline": "hundred", "measure": "total", **criterion}],
        {"R01": {"execution_model": "sonnet", "actual_tokens": 42, "fix_loops": 0}},
    )
    phase.criteria["baselines"] = {"hundred": {"tokens_per_ticket": 100}}
    return phase


@pytest.mark.parametrize("scope", [{}, _TICKET], ids=["phase", "ticket"])
@pytest.mark.parametrize(
    ("limit", "passes"),
    [({"min": "58%"}, True), ({"max": "58%"}, True), ({"above": "58%"}, False)],
    ids=["min", "max", "above"],
)
def test_a_saving_exactly_at_its_limit_is_at_it_despite_float_error(
    project: pytest.Pytester, scope: YamlData, limit: YamlData, passes: bool
) -> None:
    """No over-correction: compared unrounded, 58 % computed with float error must still meet
    `min: 58%` (and not pass `above: 58%`)."""
    result = _run(project, _hundred({"metric": "savings", **scope, **limit}))
    result.assert_outcomes(passed=1 if passes else 0, failed=0 if passes else 1)
    assert read_report(project.path)["criteria"][0]["actual"] == 58.0


@pytest.mark.parametrize(("limit", "passes"), [({"max": 30}, True), ({"below": 30}, False)])
def test_a_wall_time_exactly_at_its_limit_is_at_it(
    project: pytest.Pytester, limit: YamlData, passes: bool
) -> None:
    phase = _rounding_phase([{"id": "c", "metric": "wall_time_minutes", **limit}])
    phase.stage("R01", "implementation")["end_time"] = "2026-02-11T14:30:00Z"
    result = _run(project, phase)
    result.assert_outcomes(passed=1 if passes else 0, failed=0 if passes else 1)


def test_a_failed_figure_is_shown_with_the_digits_that_make_it_fail(
    project: pytest.Pytester,
) -> None:
    """The failure line, the summary table and the markdown never show "60.0%" for a figure
    that failed `min: 60%`; the JSON carries the figure compared, unrounded."""
    phase = _rounding_phase([{**_SAVINGS, "min": "60%"}])
    phase.write(project.path)
    result = project.runpytest(
        "--phase", "s1", "-p", "no:randomly", "--orchphase-json", "r.json",
        "--orchphase-md", "r.md",
    )  # fmt: skip
    result.stdout.fnmatch_lines(["*savings[[]v2[]] 59.996% < min 60.000%*"])
    result.stdout.no_fnmatch_line("*60.0% < min 60.0%*")
    entry = read_report(project.path)["criteria"][0]
    assert entry["actual"] == (121000 - 48405) * 100 / 121000
    assert entry["limit"] == 60.0
    markdown = (project.path / "r.md").read_text()
    assert "59.996%" in markdown


def test_a_success_rate_past_its_limit_is_not_rounded_into_a_pass(
    project: pytest.Pytester,
) -> None:
    """Sibling: 2 of 3 is 66.666…%, rounded to 66.67 it passed `min: 66.67%` (rule: point)."""
    result = _run(project, rate_phase(2, 3, criterion={"min": "66.67%", "rule": "point"}))
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*success_rate[[]haiku[]] 66.667% < min 66.670%*"])


@pytest.mark.parametrize("metric", ["pass_at_k", "pass_hat_k"])
def test_pass_at_k_past_its_limit_is_not_rounded_into_a_pass(
    project: pytest.Pytester, metric: str
) -> None:
    """Sibling: with k = 1, 2 of 3 tickets succeeding is 66.666…%, which passed 66.67 %."""
    criterion = {"metric": metric, "k": 1, "min": "66.67%"}
    result = _run(project, rate_phase(2, 3, criterion=criterion))
    result.assert_outcomes(failed=1)


@pytest.mark.parametrize("metric", ["pass_at_k", "pass_hat_k"])
def test_pass_at_k_exactly_at_its_limit_passes(project: pytest.Pytester, metric: str) -> None:
    criterion = {"metric": metric, "k": 1, "min": "60%"}
    result = _run(project, rate_phase(3, 5, criterion=criterion))
    result.assert_outcomes(passed=1)


# A figure that is only a bound keeps its bound, and a limit that is one keeps its own.


def _measured(
    pytester: pytest.Pytester, criteria: str, baselines: str = "", *, unplaced: bool = True
) -> pytest.RunResult:
    """Phase m1 (measured: R03's sub-agent made two calls and no record gives the first's
    output, so R03's output, total and cost are only lower bounds) with these criteria;
    ``unplaced``: with its sub-agent no rule places (unattributed usage)."""
    from tests.plugin.test_measured_phase import write_phase

    write_phase(pytester, unplaced=unplaced)
    files = {"criteria/m1": f"phase: m1\ndata: phase-m1\ncriteria:\n{criteria}"}
    if baselines:
        files["criteria/baselines"] = f"baselines:\n{baselines}"
    pytester.makefile(".yaml", **files)
    return pytester.runpytest("--phase", "m1", "-p", "no:randomly", "--orchphase-json", "r.json")


_R03_SAVINGS = (
    "  - {id: ticket-savings, for_each: ticket, where: {tickets: [R03]},"
    " metric: savings, baseline: big, measure: usd, %s}\n"
)
_BIG = "  big: {tokens_per_ticket: 1, usd_per_ticket: 10}\n"


def test_a_ticket_saving_from_a_lower_bound_cannot_prove_a_min(pytester: pytest.Pytester) -> None:
    """R03's cost is a lower bound, so its saving against a baseline is an upper bound (as the
    phase-level `savings` already said): it cannot prove `min`, and was reported as exact."""
    result = _measured(pytester, _R03_SAVINGS % "min: 10", _BIG)
    entry = read_report(pytester.path)["criteria"][0]
    assert entry["bound"] == "upper"
    assert not entry["passed"]
    result.stdout.fnmatch_lines(["*at most *: an upper bound cannot prove min 10.0%*"])
    result.stdout.no_fnmatch_line("Proceed to phase *: YES*")


def test_a_ticket_saving_from_a_lower_bound_still_proves_a_max(pytester: pytest.Pytester) -> None:
    """No over-correction: an upper bound at or under a maximum proves it."""
    _measured(pytester, _R03_SAVINGS % "max: 100", _BIG).assert_outcomes(passed=1)
    assert read_report(pytester.path)["criteria"][0]["bound"] == "upper"


def _h0(pytester: pytest.Pytester, tokens: int) -> None:
    """Phase h0: R03 and R06, each of ``tokens`` tokens by hand, after 1,000 of shared planning
    (recorded: without it the phase's tokens would be only a lower bound)."""
    Phase.of(
        "h0",
        [{"id": "tickets", "metric": "tickets", "min": 1}],
        {
            "R03": {"execution_model": "sonnet", "actual_tokens": tokens, "fix_loops": 0},
            "R06": {"execution_model": "sonnet", "actual_tokens": tokens, "fix_loops": 0},
        },
        planning={"model": "sonnet", "actual_tokens": 1_000},
    ).write(pytester.path)


_PAIRED = "  - {id: cheaper-than-h0, metric: paired_savings, versus: h0, measure: total, %s}\n"


@pytest.mark.parametrize("rule", ["point", "interval"])
def test_paired_savings_over_a_lower_bound_cannot_prove_above(
    pytester: pytest.Pytester, rule: str
) -> None:
    """h0's R03 − m1's R03 subtracts a lower bound: an upper bound, which proves only max and
    below. paired_savings took every ticket's figure as exact."""
    _h0(pytester, 100000)
    result = _measured(pytester, _PAIRED % f"above: 0, rule: {rule}")
    entry = read_report(pytester.path)["criteria"][0]
    assert entry["bound"] == "upper"
    assert not entry["passed"], entry["headline"]
    result.stdout.no_fnmatch_line("Proceed to phase *: YES*")


def test_paired_savings_over_a_lower_bound_still_proves_below(pytester: pytest.Pytester) -> None:
    _h0(pytester, 100000)
    _measured(pytester, _PAIRED % "below: 1000000, rule: point").assert_outcomes(passed=1)


@pytest.mark.parametrize(
    ("operator", "per_ticket", "proven"),
    [
        ("max", 100000, False),
        ("below", 100000, False),
        ("equals", 100000, False),
        ("min", 30000, True),
        ("above", 30000, True),
    ],
)
def test_a_limit_that_is_an_upper_bound_proves_only_min_and_above(
    pytester: pytest.Pytester, operator: str, per_ticket: int, proven: bool
) -> None:
    """`{metric: delta, …}` as a limit is the baseline minus m1's tokens, which are only a lower
    bound: the limit is an upper bound, the true one may be lower. The shared planning's exact
    20,512 tokens under "at most 1xx,xxx" prove no `max` (the limit kept only its value, and
    passed); above "at most 1x,xxx" they prove `min` and `above`. (Without the sub-agent no
    rule places: beside unattributed usage the planning's figure is an upper bound itself.)"""
    limit = "{metric: delta, baseline: base, measure: total}"
    criterion = (
        f"  - {{id: c, metric: shared_planning_tokens, measure: total, {operator}: {limit}}}\n"
    )
    base = f"  base: {{tokens_per_ticket: {per_ticket}}}\n"
    result = _measured(pytester, criterion, base, unplaced=False)
    result.assert_outcomes(passed=int(proven), failed=int(not proven))
    assert read_report(pytester.path)["criteria"][0]["condition"]["limit_bound"] == "upper"
    result.stdout.fnmatch_lines([f"c * shared_planning_tokens * 20,512 * {operator} * at most 1*"])
    if not proven:
        result.stdout.fnmatch_lines(
            [f"*the limit at most * is only an upper bound, which cannot prove {operator}*"]
        )
        result.stdout.no_fnmatch_line("Proceed to phase *: YES*")


@pytest.mark.parametrize(
    ("operator", "tokens", "proven"), [("min", 100000, False), ("max", 1000, True)]
)
def test_another_phases_figure_that_is_a_lower_bound_proves_only_max_and_below(
    pytester: pytest.Pytester, operator: str, tokens: int, proven: bool
) -> None:
    """The same through `{phase: m1, metric: …}` from another phase: h0's 200,000 tokens are
    not proven at least m1's, whose total is only a lower bound; its 2,000 are at most m1's."""
    from tests.plugin.test_measured_phase import write_phase

    write_phase(pytester)
    _h0(pytester, tokens)
    criteria = pytester.path / "criteria" / "h0.yaml"
    criteria.write_text(
        criteria.read_text().replace(
            "- id: tickets\n  metric: tickets\n  min: 1\n",
            "- {id: c, metric: tokens, measure: total,"
            f" {operator}: {{phase: m1, metric: tokens, measure: total}}}}\n",
        )
    )
    result = pytester.runpytest("--phase", "h0", "-p", "no:randomly")
    result.assert_outcomes(passed=int(proven), failed=int(not proven))
    if not proven:
        result.stdout.fnmatch_lines(
            ["*m1's tokens) is only a lower bound, which cannot prove min*"]
        )


@pytest.mark.parametrize("bare", [1.0, 1])
def test_a_rate_limit_written_as_the_fraction_one_is_not_read_as_one_percent(
    project: pytest.Pytester, bare: float
) -> None:
    """`0.6` where a percentage belongs is refused as a fraction, but `1.0` (the same fraction
    for "every ticket") was read as 1 %: 1 of 2 Haiku tickets (50 %) passed `min: 1.0` and the
    phase said YES. A bare 1 or 1.0 is refused like 0.6: a collection error naming the field."""
    rate_phase(1, 2, criterion={"min": bare, "rule": "point"}).write(project.path)
    result = project.runpytest("--phase", "p1", "-p", "no:randomly")
    result.stdout.no_fnmatch_line("Proceed to phase *: YES*")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines([f"*criteria/p1.yaml:*min*{bare!r} looks like a fraction*100%*"])


def test_a_rate_limit_of_one_percent_written_so_still_works(project: pytest.Pytester) -> None:
    """No over-correction: `1%` is one percent, and 50 % passes it."""
    rate_phase(1, 2, criterion={"min": "1%", "rule": "point"}).write(project.path)
    project.runpytest("--phase", "p1", "-p", "no:randomly").assert_outcomes(passed=1)


def test_the_comparison_table_marks_a_figure_that_is_only_a_bound(
    pytester: pytest.Pytester,
) -> None:
    """R03's saving against `big` is only an upper bound (m1's usage is a lower bound): the
    criterion line says "at most"; `orchphase compare` (and the reports' comparison table) say
    it too, "≤" before the saving and "≥" before the per-ticket tokens, as before the total."""
    _measured(
        pytester,
        "  - {id: s, metric: savings, baseline: big, measure: total, max: 100}\n",
        _BIG,
    )
    assert read_report(pytester.path)["criteria"][0]["bound"] == "upper"
    result = pytester.run("orchphase", "compare")
    rows = {line.split("  ")[0]: line for line in result.outlines}
    assert "≤ " in rows["savings vs big"], rows["savings vs big"]
    assert "≥ " in rows["per-ticket tokens"], rows["per-ticket tokens"]
    assert rows["total tokens"].count("≥") == 1, rows["total tokens"]  # marked once


def _loss_share_phase(pytester: pytest.Pytester, limit: YamlData) -> None:
    """Phase s1 (test_attribution_holes' measured phase): the lead 5,010, R01 20,010 and R02
    10,010 of their own, 20,010 no rule places; single_agent at 20,000 per ticket; one criterion,
    the loss against it (`delta`) as a share of `ticket_tokens_average`, with ``limit``."""
    from tests.plugin.test_attribution_holes import _unplaced_phase

    criterion: YamlData = {
        "id": "loss-share",
        "metric": "delta",
        "baseline": "single_agent",
        "measure": "total",
        "of": {"metric": "ticket_tokens_average", "measure": "total"},
        **limit,
    }
    _unplaced_phase(pytester, [criterion], tickets=("R01", "R02"), unplaced=20_000)
    (pytester.path / "criteria" / "baselines.yaml").write_text(
        "baselines:\n  single_agent: {tokens_per_ticket: 20000}\n"
    )


def test_a_share_of_a_loss_over_an_upper_bound_proves_no_min(pytester: pytest.Pytester) -> None:
    """A share's bound is not taken from its two figures' bounds as if the numerator were never
    negative ("a larger denominator, a smaller share": exact over upper, a lower bound): for a loss
    it is the reverse: a loss over a denominator that may be smaller is a share that may be more
    negative. Phase s1 (see ``_loss_share_phase``): the lead 5,010, R01 20,010 and R02 10,010 of
    their own, 20,010 that no rule places; single_agent at 20,000 per ticket. `delta` is 40,000 −
    55,040 = −15,040 (exact), and `ticket_tokens_average` 25,015 an upper bound (the unattributed
    usage charged, as it may be the tickets'; without it 15,010). "Over the baseline by at most 75 %
    of a ticket's cost": −15,040 / 25,015 = −60.1 % would meet `min: -75%` as a lower bound: YES.
    The share may be −15,040 / 15,010 = −100.2 %: the figure is an upper bound, which proves no
    `min`."""
    _loss_share_phase(pytester, {"min": "-75%"})
    result = run_phase(pytester, "s1")
    assert_not_yes(pytester, result)
    result.stdout.fnmatch_lines(["*loss-share*at most*cannot prove min*"])


def test_the_same_share_of_a_loss_still_proves_a_max(pytester: pytest.Pytester) -> None:
    """No over-correction: at most −60.1 % proves "a loss of at least half a ticket's cost"
    (`max: -50%`): YES."""
    _loss_share_phase(pytester, {"max": "-50%"})
    result = run_phase(pytester, "s1")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    assert decision(pytester) == "YES"

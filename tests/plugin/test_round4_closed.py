"""The fourth adversarial round (branch yes-hunt4), the lead's part: a Python check beside the
criteria that did not run, a figure a check reads through the `orchphase_phase` fixture, a share
of a loss over a bounded figure, an adoption pooled without a phase that does not load: none may
let a phase say YES. Each repro is kept as the round wrote it, beside its siblings."""

from __future__ import annotations

import json

import pytest

from tests.helpers import Phase, YamlData, assert_not_yes, decision, flat_ticket, run_phase


def _phase_with_check(pytester: pytest.Pytester, check: str) -> None:
    Phase.of(
        "b1", [{"id": "loops", "metric": "fix_loops", "max": 0}], {"R01": flat_ticket()}
    ).write(pytester.path)
    (pytester.path / "checks").mkdir()
    (pytester.path / "checks" / "test_share.py").write_text(check)


# -- the repros ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "check",
    [
        "import pytest\n\ndef test_review_share():\n    pytest.skip('later')\n",
        "import pytest\n\npytest.importorskip('no_such_module_here')\n\n"
        "def test_review_share():\n    assert False\n",
    ],
    ids=["skip", "importorskip"],
)
def test_a_skipped_python_check_beside_the_criteria_is_not_a_pass(
    pytester: pytest.Pytester, check: str
) -> None:
    """`pytest --phase b1 checks/` (README, Extending in Python): the criteria pass and the
    Python check beside them skips (itself, or its module through `importorskip` on a runner
    without that package). The decision counts only the other items that *failed*, so the run
    says YES and exits 0 on a check that never ran. README: YES "when every criterion and gate
    passed, and every other item of the run (a Python check collected beside the criteria)
    passed too"; a skipped criterion makes it UNDECIDED, and so must a skipped check."""
    _phase_with_check(pytester, check)
    result = run_phase(pytester, "b1", "checks/")
    result.assert_outcomes(passed=1, skipped=1)
    assert_not_yes(pytester, result)


# -- siblings and no over-correction -------------------------------------------------------------


@pytest.mark.parametrize(
    ("check", "outcomes"),
    [
        (
            "import pytest\n\n@pytest.mark.skip(reason='later')\ndef test_share():\n    pass\n",
            {"skipped": 1},
        ),
        (
            "import pytest\n\n@pytest.mark.xfail(reason='known')\ndef test_share():\n"
            "    assert False\n",
            {"xfailed": 1},
        ),
        (
            "import pytest\n\n@pytest.fixture\ndef share():\n    pytest.skip('no data')\n\n"
            "def test_share(share):\n    pass\n",
            {"skipped": 1},
        ),
    ],
    ids=["skip-mark", "xfail", "skip-in-fixture"],
)
def test_a_check_skipped_by_a_mark_or_a_fixture_or_xfailed_is_no_pass(
    pytester: pytest.Pytester, check: str, outcomes: dict[str, int]
) -> None:
    """The same through a skip mark, a fixture that skips (a setup-time skip), and a check
    that fails as expected (xfail): none of them passed; the decision is UNDECIDED and names
    the check."""
    _phase_with_check(pytester, check)
    result = run_phase(pytester, "b1", "checks/")
    result.assert_outcomes(passed=1, **outcomes)
    assert_not_yes(pytester, result)
    assert decision(pytester) == "UNDECIDED"
    result.stdout.fnmatch_lines(["*UNDECIDED*1 other item(s) did not pass*checks/test_share.py*"])


@pytest.mark.parametrize(
    "check",
    [
        "def test_share():\n    pass\n",
        "import pytest\n\n@pytest.mark.xfail(reason='fixed now')\ndef test_share():\n    pass\n",
    ],
    ids=["passes", "xpass"],
)
def test_a_check_that_passes_leaves_the_decision_yes(pytester: pytest.Pytester, check: str) -> None:
    """No over-correction: a check that ran and passed (an unexpected pass of a non-strict
    xfail is a pass) leaves YES."""
    _phase_with_check(pytester, check)
    result = run_phase(pytester, "b1", "checks/")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    assert decision(pytester) == "YES"


@pytest.mark.parametrize("check", ["skip", "importorskip"])
def test_a_skipped_check_under_xdist_is_no_pass_either(
    pytester: pytest.Pytester, check: str
) -> None:
    """Under `-n 2` the workers' reports reach the controller, which decides: the same."""
    pytest.importorskip("xdist")
    body = {
        "skip": "import pytest\n\ndef test_review_share():\n    pytest.skip('later')\n",
        "importorskip": "import pytest\n\npytest.importorskip('no_such_module_here')\n\n"
        "def test_review_share():\n    assert False\n",
    }[check]
    _phase_with_check(pytester, body)
    result = run_phase(pytester, "b1", "checks/", "-n", "2")
    assert_not_yes(pytester, result)


def test_the_fixtures_metric_is_not_a_lower_bound_read_as_exact(
    pytester: pytest.Pytester,
) -> None:
    """README, Extending in Python: a check beside the criteria reads figures through the
    `orchphase_phase` fixture, `orchphase_phase.metric("tokens", measure="total")`. Two
    tickets of 20,000 and no shared_planning recorded: the phase's `tokens` is "at least
    40,000" (README, Shared planning not recorded), and a YAML `max: 45k` on it fails. The
    fixture's `metric()` returns the bare figure (`metric_value` drops the Measurement's
    bound), so the check `assert ... < 45_000` passes and, its YAML criterion passing too,
    the run says YES. A figure that is only a bound must not reach a check as exact (raise,
    as for an unavailable one, or carry the bound)."""
    Phase.of(
        "b1",
        [{"id": "loops", "metric": "fix_loops", "max": 0}],
        {"R01": flat_ticket(), "R02": flat_ticket()},
    ).write(pytester.path)
    (pytester.path / "checks").mkdir()
    (pytester.path / "checks" / "test_cap.py").write_text(
        "def test_phase_cap(orchphase_phase):\n"
        "    assert orchphase_phase.metric('tokens', measure='total') < 45_000\n"
    )
    result = run_phase(pytester, "b1", "checks/")
    assert_not_yes(pytester, result)


CHECKS = """\
import pytest
from pytest_orchphase.errors import MetricUnavailable


def test_metric_refuses_a_bound(orchphase_phase):
    with pytest.raises(MetricUnavailable, match="tokens is at least 40,000"):
        orchphase_phase.metric("tokens", measure="total")


def test_measurement_carries_it(orchphase_phase):
    figure = orchphase_phase.measurement("tokens", measure="total")
    assert (figure.value, figure.bound) == (40_000, "lower")
    assert "shared_planning" in figure.bound_note


def test_usage_says_so(orchphase_phase):
    usage = orchphase_phase.usage
    assert usage.total == 40_000 and usage.is_lower_bound("total")
"""


def test_the_fixture_gives_a_bound_with_its_bound_and_never_bare(pytester: pytest.Pytester) -> None:
    """The sibling reads: `metric()` raises naming the bound, `measurement()` gives the figure
    with it, and `usage` (a Usage) lists the total under its lower bounds, as the phase's
    `tokens` metric says (its own usage, without the unrecorded planning, did not)."""
    Phase.of(
        "b1",
        [{"id": "loops", "metric": "fix_loops", "max": 0}],
        {"R01": flat_ticket(), "R02": flat_ticket()},
    ).write(pytester.path)
    (pytester.path / "checks").mkdir()
    (pytester.path / "checks" / "test_reads.py").write_text(CHECKS)
    result = run_phase(pytester, "b1", "checks/")
    result.assert_outcomes(passed=4)


def test_an_exact_figure_reaches_a_check_as_it_is(pytester: pytest.Pytester) -> None:
    """No over-correction: with the shared planning recorded (5,000) the phase's 45,000 tokens
    are exact: `metric()` returns them, the check decides, YES."""
    planning: YamlData = {"model": "sonnet", "actual_tokens": 5_000}
    Phase.of(
        "b1",
        [{"id": "loops", "metric": "fix_loops", "max": 0}],
        {"R01": flat_ticket(), "R02": flat_ticket()},
        planning=planning,
    ).write(pytester.path)
    (pytester.path / "checks").mkdir()
    (pytester.path / "checks" / "test_cap.py").write_text(
        "def test_phase_cap(orchphase_phase):\n"
        "    assert orchphase_phase.metric('tokens', measure='total') == 45_000\n"
        "    assert not orchphase_phase.usage.lower_bounds\n"
    )
    result = run_phase(pytester, "b1", "checks/")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    assert decision(pytester) == "YES"


def _loss_share_phase(pytester: pytest.Pytester, limit: YamlData) -> None:
    """Phase s1 (the round-3 measured fixture): the lead 5,010, R01 20,010 and R02 10,010 of
    their own, 20,010 no rule places; single_agent at 20,000 per ticket; one criterion, the
    loss against it (`delta`) as a share of `ticket_tokens_average`, with ``limit``."""
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
    """A share's bound is taken from its two figures' bounds as if the numerator were never
    negative: "a larger denominator, a smaller share" (`_SHARE_BOUND`: exact over upper is a
    lower bound). For a loss it is the reverse: a loss over a denominator that may be smaller
    is a share that may be more negative. Phase s1 (measured, the round-3 fixture): the lead
    5,010, R01 20,010 and R02 10,010 of their own, 20,010 that no rule places; single_agent at
    20,000 per ticket. `delta` is 40,000 − 55,040 = −15,040 (exact), and
    `ticket_tokens_average` 25,015 an upper bound (the unattributed usage charged, as it may be
    the tickets'; without it 15,010). "Over the baseline by at most 75 % of a ticket's cost":
    −15,040 / 25,015 = −60.1 % meets `min: -75%`, taken as a lower bound: YES. The share may be
    −15,040 / 15,010 = −100.2 %: the figure is an upper bound, which proves no `min`."""
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


def test_adoption_does_not_leave_out_a_required_phase_whose_files_do_not_load(
    pytester: pytest.Pytester,
) -> None:
    """Phase p2 (9 of 9 Haiku mechanical tickets succeeded) requires p1, where 3 of 3 failed;
    p1's log has an unknown key, so p1 does not load. Its gate fails and Proceed is NO, but
    the adoption decision pools "the phase and the phases it requires" through `lineage`,
    which leaves out "a phase whose files do not load": it reads 9 of 9 (Wilson 70.1–100 %)
    and prints "Adopt haiku for mechanical tickets: YES … (phases p2)", in the terminal and
    as `decisions.adopt_model.answer` in the JSON. With p1's runs, 9 of 12, the answer is
    INCONCLUSIVE; without them it is not known: never YES."""
    from tests.helpers import rate_phase

    p1 = rate_phase(0, 3, phase="p1")
    p1.ticket("T01")["colour"] = "red"  # an unknown key: p1's log does not load
    p1.write(pytester.path)
    rate_phase(9, 9, phase="p2", requires=["p1"]).write(pytester.path)
    result = run_phase(pytester, "p2")
    report = json.loads((pytester.path / "r.json").read_text())
    adoption = report["decisions"]["adopt_model"]
    assert adoption["answer"] != "YES", result.stdout.str()
    assert adoption["answer"] == "INCONCLUSIVE"
    assert adoption["unloaded"] == ["p1"]
    result.stdout.fnmatch_lines(["*Adopt haiku*INCONCLUSIVE*required phase(s) p1 do not load*"])


def test_adoption_with_every_required_phase_loaded_still_decides(
    pytester: pytest.Pytester,
) -> None:
    """No over-correction: a phase requiring nothing, 9 of 9 Haiku successes: YES, nothing
    left out."""
    from tests.helpers import rate_phase

    rate_phase(9, 9, phase="p3").write(pytester.path)
    run_phase(pytester, "p3")
    report = json.loads((pytester.path / "r.json").read_text())
    assert report["decisions"]["adopt_model"]["answer"] == "YES"
    assert report["decisions"]["adopt_model"]["unloaded"] == []

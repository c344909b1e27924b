"""Python checks beside the criteria (README "Extending in Python"): a check that did not run and
pass (skipped by itself, by `importorskip`, a mark or a fixture, or xfailed; under xdist too) is
no pass, so the phase is UNDECIDED; one that passed leaves YES. A figure that is only a bound never
reaches a check as exact through the `orchphase_phase` fixture (`metric()` refuses it,
`measurement()` and `usage` carry the bound); and the README's conftest example of
`review_share` says nothing beside usage no rule places."""

from __future__ import annotations

import pytest

from tests.helpers import Phase, YamlData, assert_not_yes, decision, flat_ticket, run_phase


def _phase_with_check(pytester: pytest.Pytester, check: str) -> None:
    Phase.of(
        "b1", [{"id": "loops", "metric": "fix_loops", "max": 0}], {"R01": flat_ticket()}
    ).write(pytester.path)
    (pytester.path / "checks").mkdir()
    (pytester.path / "checks" / "test_share.py").write_text(check)


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
    without that package). A decision counting only the other items that *failed* would say YES
    and exit 0 on a check that never ran. README: YES "when every criterion and gate
    passed, and every other item of the run (a Python check collected beside the criteria)
    passed too"; a skipped criterion makes it UNDECIDED, and so must a skipped check."""
    _phase_with_check(pytester, check)
    result = run_phase(pytester, "b1", "checks/")
    result.assert_outcomes(passed=1, skipped=1)
    assert_not_yes(pytester, result)


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
    40,000" (README, Shared planning not recorded), and a YAML `max: 45k` on it fails. Were the
    fixture's `metric()` to return the bare figure (the Measurement's bound dropped), the check
    `assert ... < 45_000` would pass and, its YAML criterion passing too, the run say YES. A
    figure that is only a bound never reaches a check as exact."""
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


def _readme_conftest() -> str:
    """The README's conftest example, as a user copies it."""
    from tests.helpers import REPO

    text = (REPO / "README.md").read_text()
    start = text.index("# conftest.py\n")
    return text[start : text.index("```", start)]


def _review_share_phase(pytester: pytest.Pytester, *, stray: bool) -> None:
    """Phase m1, measured: R01's implementer (20,010 tokens) and reviewer (5,010) mapped by
    their descriptions, and with ``stray`` a 50,010-token sub-agent no rule places; one
    criterion, the README example's `review_share` under `max: 25%`, with the example as the
    project's conftest."""
    from tests.plugin.test_attribution_truths import measured_batch

    staged: dict[str, object] = {
        "execution_model": "sonnet",
        "implementation": {
            "estimated_tokens": 20_000,
            "status": "completed",
            "agents": {"description_pattern": "R01 implement"},
        },
        "review": {
            "estimated_tokens": 5_000,
            "status": "completed",
            "result": "PASS",
            "attempts": 1,
            "agents": {"description_pattern": "R01 review"},
        },
        "fix_loops": 0,
    }
    agents = [("a1", "R01 implement", 20_000), ("a2", "R01 review", 5_000)]
    measured_batch(
        pytester,
        [{"id": "share", "metric": "review_share", "max": "25%"}],
        {"R01": staged},
        [*agents, ("a3", "stray", 50_000)] if stray else agents,
    )
    (pytester.path / "conftest.py").write_text(_readme_conftest())


def test_readme_review_share_example_is_no_yes_beside_unattributed_usage(
    pytester: pytest.Pytester,
) -> None:
    """README "Extending in Python", the conftest example verbatim. R01's review sub-agent made
    5,010 tokens, its implementation 20,010; a 50,010-token sub-agent no rule places may be the
    review's (the YAML `stage_tokens` counts it so, as an upper bound). Shown as an exact 6.3 %,
    review_share would pass `max: 25%`, YES, where the true share may be 69 %: not YES (a plain
    value computed from a bounded usage is not exact), and the example says the share is not
    known."""
    _review_share_phase(pytester, stray=True)
    result = run_phase(pytester, "m1")
    assert decision(pytester) != "YES", result.stdout.str()
    result.stdout.fnmatch_lines(["*review's share is not known*"])


def test_the_readme_review_share_example_still_decides_when_all_is_placed(
    pytester: pytest.Pytester,
) -> None:
    """No over-correction: the same phase without the stray sub-agent: the example's share is
    5,010 / 25,030 (about 20 %), exact, and `max: 25%` passes."""
    _review_share_phase(pytester, stray=False)
    result = run_phase(pytester, "m1")
    assert decision(pytester) == "YES", result.stdout.str()

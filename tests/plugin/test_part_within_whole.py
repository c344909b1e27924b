"""A part of a phase (a ticket, or the tickets `where:` selects) bounded by the phase's own
figure that holds every part's (a sum, or a maximum over its tickets) decides nothing: `max:`
always passes. A collection error at the bound, never YES; bounded by another phase's figure,
another figure or another model's, it is judged."""

from __future__ import annotations

import pytest

from tests.helpers import Phase, YamlData, assert_not_yes, flat_ticket, run_phase

HAIKU = {"execution_model": "haiku"}


def _tickets() -> dict[str, YamlData]:
    struggled = {"fix_loops": 3, "review": {"result": "PASS", "attempts": 4}}
    return {
        "T01": flat_ticket(actual_tokens=40_000),
        "T02": flat_ticket(actual_tokens=90_000, execution_model="haiku", **struggled),
        "T03": flat_ticket(actual_tokens=10_000, execution_model="sonnet"),
    }


CASES: dict[str, YamlData] = {
    "ticket-tokens": {
        "for_each": "ticket",
        "metric": "tokens",
        "measure": "total",
        "max": {"metric": "tokens", "measure": "total"},
    },
    "ticket-tokens-named-phase": {
        "for_each": "ticket",
        "metric": "tokens",
        "measure": "usd",
        "max": {"metric": "tokens", "measure": "usd", "phase": "p1"},
    },
    "ticket-tokens-stretch": {
        "for_each": "ticket",
        "metric": "tokens",
        "measure": "total",
        "max": 200_000,
        "stretch": {"metric": "tokens", "measure": "total"},
    },
    "ticket-review-attempts": {
        "for_each": "ticket",
        "metric": "review_attempts",
        "max": {"metric": "max_review_attempts"},
    },
    "ticket-fix-loops": {
        "for_each": "ticket",
        "metric": "fix_loops",
        "max": {"metric": "max_fix_loops"},
    },
    "ticket-fix-loops-sum": {
        "for_each": "ticket",
        "metric": "fix_loops",
        "max": {"metric": "fix_loops"},
    },
    "ticket-wall-time": {
        "for_each": "ticket",
        "metric": "wall_time_minutes",
        "max": {"metric": "wall_time_minutes"},
    },
    "haiku-max-fix-loops": {
        "metric": "max_fix_loops",
        "model": "haiku",
        "max": {"metric": "max_fix_loops"},
    },
    "haiku-max-attempts": {
        "metric": "max_review_attempts",
        "model": "haiku",
        "max": 5,
        "stretch": {"metric": "max_review_attempts"},
    },
    "under-all": {
        "for_each": "ticket",
        "all": [
            {"metric": "fix_loops", "max": 5},
            {
                "metric": "tokens",
                "measure": "total",
                "max": {"metric": "tokens", "measure": "total"},
            },
        ],
    },
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_part_bounded_by_its_whole_is_an_error(pytester: pytest.Pytester, case: str) -> None:
    Phase.of("p1", [{"id": "c", **CASES[case]}], _tickets()).write(pytester.path)
    result = run_phase(pytester, "p1")
    assert_not_yes(pytester, result)
    result.stdout.fnmatch_lines(["*criteria/p1.yaml*bounds a part of phase p1 by its whole*"])


JUDGED: dict[str, YamlData] = {
    # the plan's own shape: a Haiku ticket's attempts within Sonnet's worst
    "another-model": {
        "for_each": "ticket",
        "where": HAIKU,
        "metric": "review_attempts",
        "max": {"metric": "max_review_attempts", "model": "sonnet"},
    },
    "another-phase": {
        "for_each": "ticket",
        "metric": "tokens",
        "measure": "total",
        "max": {"phase": "p0", "metric": "tokens", "measure": "total"},
    },
    "another-figure": {
        "for_each": "ticket",
        "metric": "tokens",
        "measure": "total",
        "max": {"metric": "per_ticket_average", "measure": "total"},
    },
    # a rate of fewer tickets can be above the whole's: judged
    "haiku-rate": {
        "metric": "success_rate",
        "model": "haiku",
        "min": {"metric": "success_rate", "model": "sonnet"},
        "rule": "point",
    },
    "another-stage": {
        "metric": "stage_tokens",
        "stage": "review",
        "measure": "total",
        "max": {"metric": "stage_tokens", "stage": "implementation", "measure": "total"},
    },
    "sonnet-bounds-haiku": {
        "metric": "max_fix_loops",
        "model": "haiku",
        "max": {"metric": "max_fix_loops", "model": "sonnet"},
    },
}


@pytest.mark.parametrize("case", sorted(JUDGED))
def test_a_part_bounded_by_another_figure_is_judged(pytester: pytest.Pytester, case: str) -> None:
    """Each of these fails on the data (T02 struggled: 4 attempts, 90,000 tokens), which shows
    the bound was judged, not refused."""
    Phase.of("p0", [{"id": "t", "metric": "tickets", "min": 1}], {"T09": flat_ticket()}).write(
        pytester.path
    )
    Phase.of("p1", [{"id": "c", **JUDGED[case]}], _tickets(), requires=["p0"]).write(pytester.path)
    assert run_phase(pytester, "p0").ret == 0
    result = run_phase(pytester, "p1")
    assert "by its whole" not in result.stdout.str(), result.stdout.str()
    assert result.ret == 1, result.stdout.str()
    assert result.parseoutcomes()["failed"] >= 1


TEAM_METRICS = """
def pytest_orchphase_register_metrics(registry):
    def loops(ctx, ticket, params):
        return 0 if ticket is None else 2
    registry.register("rework", scope="ticket", unit="count", formula="rework", fn=loops)
    registry.register("total_rework", scope="phase", unit="count", formula="sum of rework",
                      fn=loops, parts=("rework",))
"""


def test_a_registered_metric_names_its_parts(pytester: pytest.Pytester) -> None:
    """A conftest's phase metric that says which ticket metric it holds is refused as the
    bound of that part, as the shipped ones are."""
    pytester.makeconftest(TEAM_METRICS)
    bounded = {"for_each": "ticket", "metric": "rework", "max": {"metric": "total_rework"}}
    Phase.of("p1", [{"id": "c", **bounded}], _tickets()).write(pytester.path)
    result = run_phase(pytester, "p1")
    assert_not_yes(pytester, result)
    result.stdout.fnmatch_lines(["*criteria/p1.yaml*bounds a part of phase p1 by its whole*"])


@pytest.mark.parametrize(
    "criterion",
    [
        {"id": "most", "metric": "max_fix_loops", "max": {"metric": "fix_loops"}},
        {
            "id": "most-haiku",
            "metric": "max_fix_loops",
            "model": "haiku",
            "max": {"metric": "fix_loops"},
        },
        {
            "id": "impl",
            "metric": "stage_tokens",
            "stage": "implementation",
            "measure": "total",
            "max": {"metric": "tokens", "measure": "total"},
        },
        {
            "id": "ticket-impl",
            "for_each": "ticket",
            "metric": "stage_tokens",
            "stage": "implementation",
            "measure": "total",
            "max": {"metric": "tokens", "measure": "total"},
        },
    ],
    ids=["max-by-sum", "haiku-max-by-sum", "stage-by-total", "ticket-stage-by-total"],
)
def test_a_part_bounded_by_a_larger_whole_is_refused(
    pytester: pytest.Pytester, criterion: YamlData
) -> None:
    impl = {"model": "haiku", "status": "completed", "actual_tokens": 30_000}
    ticket: YamlData = {
        "execution_model": "haiku",
        "fix_loops": 3,
        "implementation": impl,
        "review": {
            "model": "haiku",
            "actual_tokens": 2_000,
            "result": "PASS",
            "attempts": 1,
            "status": "completed",
        },
    }
    Phase.of("p1", [criterion], {"T01": ticket}).write(pytester.path)
    result = run_phase(pytester, "p1")
    assert_not_yes(pytester, result)


@pytest.mark.parametrize("limit_phase", [None, "p1"])
def test_a_phase_figure_bounded_by_itself_is_an_error(
    pytester: pytest.Pytester, limit_phase: str | None
) -> None:
    """`tokens max: {metric: tokens}` (this phase's, or named `phase: p1`) is always equal:
    it would pass on nothing. Bounded by another figure of the phase, it is judged."""
    own: YamlData = {"metric": "tokens", "measure": "total"}
    if limit_phase:
        own["phase"] = limit_phase
    cap: YamlData = {"metric": "tokens", "measure": "total", "max": own}
    tickets = {f"T0{i}": flat_ticket() for i in (1, 2, 3)}
    Phase.of("p1", [{"id": "cap", "all": [cap]}], tickets).write(pytester.path)
    result = run_phase(pytester, "p1")
    assert result.ret != 0, result.stdout.str()
    result.stdout.fnmatch_lines(["*criteria/p1.yaml*compares phase p1's tokens with itself*"])
    other: YamlData = {"metric": "tokens", "measure": "output"}
    half = {"id": "cap", "metric": "tokens", "measure": "input", "max": other}
    Phase.of("p1", [half], tickets).write(pytester.path)
    result = run_phase(pytester, "p1")
    assert "with itself" not in result.stdout.str(), result.stdout.str()


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

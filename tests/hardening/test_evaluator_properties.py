"""The criteria evaluator as logic: each operator passes exactly when its comparison holds, a
stretch target never changes the verdict (one looser than its limit fails the item), and
all/any are and/or over random trees."""

from __future__ import annotations

from typing import Any

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from pytest_orchphase.evaluate.condition import evaluate
from pytest_orchphase.evaluate.runner import PhaseRunner
from pytest_orchphase.evaluate.terms import stretch_looser
from pytest_orchphase.load.models import Condition
from pytest_orchphase.metrics.registry import REGISTRY, Measurement, Metric, MetricContext, Params
from pytest_orchphase.metrics.stats import same_figure
from tests.helpers import REPO

RUNNER = PhaseRunner(REPO / "criteria", REPO / "docs" / "orchestration-data")
CONTEXT = RUNNER.context("a1")
PROPERTY = settings(deadline=None, max_examples=200)

HOLDS = {
    "max": lambda a, b: a <= b,
    "below": lambda a, b: a < b,
    "min": lambda a, b: a >= b,
    "above": lambda a, b: a > b,
    "equals": lambda a, b: a == b,
}
numbers = st.one_of(
    st.integers(min_value=-(10**12), max_value=10**12),
    # data files hold numbers up to 2**53 - 1 in magnitude (larger ones are refused on loading)
    st.floats(min_value=-(2.0**40), max_value=2.0**40, width=32),
)


def registry_with(name: str, value: float, unit: str = "count") -> Any:
    """The built-in registry plus a phase metric ``name`` that measures ``value``."""

    def measure(ctx: MetricContext, ticket: str | None, params: Params) -> Measurement:
        return Measurement(value, unit, "probe")  # type: ignore[arg-type]

    registry = REGISTRY.copy()
    registry.add(Metric(name, "phase", unit, "a fixed value", measure))  # type: ignore[arg-type]
    return registry


def passed(condition: dict[str, Any], value: float, unit: str = "count") -> bool:
    verdict = evaluate(
        Condition.model_validate(condition),
        CONTEXT,
        None,
        RUNNER.context,
        registry_with("probe", value, unit),
    )
    assert verdict.error is None
    return verdict.passed


@PROPERTY
@given(actual=numbers, limit=numbers, operator=st.sampled_from(sorted(HOLDS)))
def test_an_operator_passes_exactly_when_its_comparison_holds(
    actual: float, limit: float, operator: str
) -> None:
    # a figure at its limit but for float error is at it (tests/unit/test_exact_figures.py)
    assume(actual == limit or not same_figure(actual, limit))
    assert passed({"metric": "probe", operator: limit}, actual) is HOLDS[operator](actual, limit)


@PROPERTY
@given(limit=st.integers(min_value=0, max_value=10**9), below=st.integers(1, 10**6))
def test_max_passes_for_every_value_up_to_its_limit_and_fails_above(limit: int, below: int) -> None:
    assert passed({"metric": "probe", "max": limit}, limit - below)
    assert passed({"metric": "probe", "max": limit}, limit)
    assert not passed({"metric": "probe", "max": limit}, limit + below)


@PROPERTY
@given(
    actual=st.integers(min_value=0, max_value=10**9),
    thousands=st.integers(min_value=0, max_value=10**6),
    operator=st.sampled_from(sorted(HOLDS)),
    form=st.sampled_from(["plain", "commas", "k"]),
)
def test_a_token_limit_means_the_same_however_it_is_written(
    actual: int, thousands: int, operator: str, form: str
) -> None:
    limit = thousands * 1000
    written = {"plain": limit, "commas": f"{limit:,}", "k": f"{thousands}k"}[form]
    verdict = passed({"metric": "probe", operator: written}, actual, "tokens")
    assert verdict is HOLDS[operator](actual, limit)


#: a figure, its limit and a stretch beside it, under an operator with a direction
WITH_STRETCH = given(
    actual=numbers,
    limit=numbers,
    stretch=numbers,
    operator=st.sampled_from(["max", "below", "min", "above"]),
)


@PROPERTY
@WITH_STRETCH
def test_a_stretch_target_never_changes_the_verdict(
    actual: float, limit: float, stretch: float, operator: str
) -> None:
    assume(not stretch_looser(operator, stretch, limit, "count"))
    plain = passed({"metric": "probe", operator: limit}, actual)
    assert passed({"metric": "probe", operator: limit, "stretch": stretch}, actual) is plain


@PROPERTY
@WITH_STRETCH
def test_a_stretch_looser_than_its_limit_fails_the_item_naming_it(
    actual: float, limit: float, stretch: float, operator: str
) -> None:
    assume(stretch_looser(operator, stretch, limit, "count"))
    verdict = evaluate(
        Condition.model_validate({"metric": "probe", operator: limit, "stretch": stretch}),
        CONTEXT,
        None,
        RUNNER.context,
        registry_with("probe", actual),
    )
    assert not verdict.passed and verdict.stretch_met is None
    assert verdict.error is not None and "is looser than its limit" in verdict.error


GRADES = ["worse", "same", "better"]


@PROPERTY
@given(
    actual=st.sampled_from(GRADES),
    limit=st.sampled_from(GRADES),
    operator=st.sampled_from(sorted(HOLDS)),
)
def test_quality_grades_compare_in_their_order(actual: str, limit: str, operator: str) -> None:
    expected = HOLDS[operator](GRADES.index(actual), GRADES.index(limit))
    assert passed({"metric": "probe", operator: limit}, actual, "quality") is expected  # type: ignore[arg-type]


# -- all / any -------------------------------------------------------------------------------

Tree = tuple[str, Any]  # ("leaf", (operator, limit)) or ("all"|"any", [trees])

leaves = st.tuples(st.just("leaf"), st.tuples(st.sampled_from(sorted(HOLDS)), st.integers(-5, 5)))
trees = st.recursive(
    leaves,
    lambda children: st.tuples(
        st.sampled_from(["all", "any"]), st.lists(children, min_size=1, max_size=4)
    ),
    max_leaves=12,
)


def as_yaml(tree: Tree) -> dict[str, Any]:
    kind, body = tree
    if kind == "leaf":
        operator, limit = body
        return {"metric": "probe", operator: limit}
    return {kind: [as_yaml(child) for child in body]}


def truth(tree: Tree, value: int) -> bool:
    kind, body = tree
    if kind == "leaf":
        operator, limit = body
        return bool(HOLDS[operator](value, limit))
    results = [truth(child, value) for child in body]
    return all(results) if kind == "all" else any(results)


@PROPERTY
@given(tree=trees, value=st.integers(-6, 6))
def test_all_and_any_are_and_and_or_over_any_tree(tree: Tree, value: int) -> None:
    verdict = evaluate(
        Condition.model_validate(as_yaml(tree)),
        CONTEXT,
        None,
        RUNNER.context,
        registry_with("probe", value),
    )
    assert verdict.passed is truth(tree, value)
    assert len(verdict.leaves()) == str(tree).count("'leaf'")

"""A stretch target is at least as strict as its limit: a looser one given as a figure is a
collection error at the criterion's stretch, naming both (the shipped criteria all load); one
beside a reference, known with the data, fails its item and any group holding it."""

from __future__ import annotations

import pytest

from tests.helpers import (
    Phase,
    YamlData,
    assert_not_yes,
    decision,
    flat_ticket,
    run_phase,
    write_yaml,
)


@pytest.mark.parametrize(
    "condition",
    [
        {"metric": "quality_vs_sonnet", "min": "same", "stretch": "worse"},
        {"metric": "wall_time_minutes", "max": "1h", "stretch": "90min"},
        {"metric": "shared_planning_tokens", "measure": "total", "below": "10%"}
        | {"of": {"metric": "tokens", "measure": "total"}, "stretch": "15%"},
    ],
    ids=["grade", "minutes", "share"],
)
def test_a_stretch_looser_than_its_limit_is_a_collection_error(
    pytester: pytest.Pytester, condition: YamlData
) -> None:
    Phase.of("p1", [{"id": "c", **condition}], {"T01": flat_ticket()}).write(pytester.path)
    result = run_phase(pytester, "p1")
    assert_not_yes(pytester, result)
    stretch = "*criteria/p1.yaml*criteria[[]0].stretch*is looser than its limit*"
    result.stdout.fnmatch_lines([stretch])


def test_a_looser_stretch_beside_a_reference_in_any_is_no_yes(pytester: pytest.Pytester) -> None:
    write_yaml(
        pytester.path / "criteria/baselines.yaml",
        {"baselines": {"v2": {"tokens_per_ticket": 40_000}}},
    )
    tokens: YamlData = {"metric": "tokens", "measure": "total", "stretch": "90k"}
    tokens["max"] = {"baseline": "v2", "per": "phase"}
    crit: YamlData = {"id": "c", "any": [tokens, {"metric": "max_fix_loops", "max": 1}]}
    tickets = {t: flat_ticket(actual_tokens=38_000) for t in ("T01", "T02")}
    planning = {"model": "sonnet", "actual_tokens": 1_000}
    Phase.of("p1", [crit], tickets, planning=planning).write(pytester.path)
    result = run_phase(pytester, "p1")
    assert decision(pytester) != "YES", result.stdout.str()
    result.stdout.fnmatch_lines(["*stretch 90,000 is looser than its limit*"])

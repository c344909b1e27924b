"""A stretch target is at least as strict as its limit: a looser one given as a figure is a
collection error at the criterion's stretch, naming both (the shipped criteria all load)."""

from __future__ import annotations

import pytest

from tests.helpers import Phase, YamlData, assert_not_yes, flat_ticket, run_phase


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

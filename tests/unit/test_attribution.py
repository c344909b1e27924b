from __future__ import annotations

import pytest

from pytest_orchphase.usage.subagents import infer_stage


@pytest.mark.parametrize(
    ("description", "stage"),
    [
        ("Review R06 lifecycle fix", "review"),
        ("R03: rename the helper", "implementation"),
        ("R03: add prefix to log tags", "implementation"),  # "prefix" is not "fix"
        ("R07: implement push notifications", "implementation"),
        ("Fix R06 observer", "fix"),
        ("Monitoring R07", "monitoring"),
        ("Create branch for R03", "branch_creation"),
        ("Merge R03 and update the board", "finalization"),
    ],
)
def test_stage_is_named_by_a_whole_word(description: str, stage: str) -> None:
    assert infer_stage(description) == stage

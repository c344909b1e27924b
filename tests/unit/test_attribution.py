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
        ("R01: add branch coverage reporting", ""),  # a noun, no verb: either stage
        ("Merge R03 and update the board", "finalization"),
        # the leading verb says what the task is, whatever else the description names
        ("R01: implement branch coverage reporting", "implementation"),
        ("[R01] Review the fix of the parser", "review"),
        ("JIRA-101: fix the review comments", "fix"),
        # several stages named and none leads: not known (the ticket's, stage unknown)
        ("R01: coverage for the branch and fix modules", ""),
        ("R01: add review and monitoring hooks", ""),
    ],
)
def test_stage_is_named_by_a_whole_word(description: str, stage: str) -> None:
    assert infer_stage(description) == stage

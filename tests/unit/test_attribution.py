"""The stage a sub-agent's Task description gives (pytest_orchphase.usage.subagents.infer_stage): a
stage word as a whole word, the verb that leads it after any ticket id, and a review a person
places at once."""

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


@pytest.mark.parametrize(
    "description",
    [
        "#12: review the fix",
        "12: review the fix",
        "PROJ_12: review the fix",
        "A1.2: review the fix",
        "R03a: review the fix",
        "R03.1 review the fix",
        "ABC-DEF-12: review the fix",
        "ÄB-12: review the fix",
    ],
)
def test_a_description_led_by_an_odd_ticket_id_is_placed_by_its_verb(description: str) -> None:
    assert infer_stage(description) == "review"


@pytest.mark.parametrize(
    "description",
    [
        "ticket R03: review the fix",
        "Code review of R03's fix",
        "R03 code review of the fix",
        "R03: re-review after the fixes",
    ],
)
def test_a_review_a_person_places_at_once_is_a_review(description: str) -> None:
    assert infer_stage(description) == "review"

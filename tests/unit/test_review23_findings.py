"""Review 23 (unit): the stage an unmapped sub-agent's Task description gives. xfail strict:
each is a finding on main. (Its records of Haiku 4.5 with other numbers, which may be
``claude-haiku-4-5``, are that model now: tests/unit/test_model_names.py.)"""

from __future__ import annotations

import pytest

from pytest_orchphase.usage.subagents import infer_stage


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


def test_a_failed_review_is_not_repeated_as_the_tickets_failure() -> None:
    from typing import Any, cast

    from pytest_orchphase.report.markdown import _review_cell

    facts = cast(Any, {"review": "FAIL", "failed": ["review FAIL"]})
    assert _review_cell(facts) == "FAIL"

"""Whether a ticket's recorded model is the model a filter names (`model:`, `where:`,
`adopt_model`), may be it, or is another: the names teams, Claude Code and the providers write."""

from __future__ import annotations

import pytest

from pytest_orchphase.families import may_be, snapshot_date
from pytest_orchphase.metrics.which_tickets import known_model, model_matches


def membership(recorded: str, wanted: str) -> str:
    """ "is", "may be" (its family, less precisely), "unknown" (of no known family) or
    "another"; never two at once."""
    found = [
        state
        for state, holds in (
            ("is", model_matches(recorded, wanted)),
            ("may be", may_be(recorded, wanted)),
            ("unknown", not known_model(recorded, wanted)),
        )
        if holds
    ]
    assert len(found) <= 1, found
    return found[0] if found else "another"


HAIKU_4_5 = [
    "claude-haiku-4-5-20251001",
    "anthropic.claude-haiku-4-5-20251001-v1:0",
    "us.anthropic.claude-haiku-4-5-v1:0",
    "claude-haiku-4-5",
    "Haiku 4.5",
    "Haiku 4.5 (run 2)",
    "haiku 4.5, 200k context",
]


@pytest.mark.parametrize("wanted", ["Haiku 4.5", "haiku-4-5", "claude-haiku-4-5"])
@pytest.mark.parametrize("recorded", HAIKU_4_5)
def test_a_record_of_the_version_a_filter_names_is_that_model(recorded: str, wanted: str) -> None:
    assert membership(recorded, wanted) == "is"


@pytest.mark.parametrize(
    ("recorded", "wanted", "expected"),
    [
        ("claude-haiku-4-5-20251001", "claude-haiku-4-5-20251001", "is"),
        ("anthropic.claude-haiku-4-5-20251001-v1:0", "claude-haiku-4-5-20251001", "is"),
        ("claude-sonnet-4-5-20250929[1m]", "claude-sonnet-4-5-20250929", "is"),
        ("claude-sonnet-4-5-20250929[1m]", "sonnet", "is"),
        ("sonnet[1m]", "sonnet", "is"),
        ("claude-opus-4-1-20250805", "claude-opus-4-1", "is"),
        ("claude-3-5-haiku-20241022", "claude-3-5-haiku", "is"),
        ("claude-fable-5", "claude-fable-5", "is"),
        ("claude-haiku-4-5", "claude-haiku-4-5-20251001", "may be"),
        ("Haiku 4.5", "claude-haiku-4-5-20251001", "may be"),
        ("sonnet[1m]", "claude-sonnet-4-5-20250929", "may be"),
        ("haiku", "Haiku 4.5", "may be"),
        ("claude-haiku-4-5-20251001", "haiku4.5", "may be"),
        ("claude-haiku-4-5-20251001", "claude-3-5-haiku", "another"),
        ("claude-3-5-haiku-20241022", "Haiku 4.5", "another"),
        ("claude-haiku-4-5-20251001", "claude-haiku-4-5-20250101", "another"),
        ("claude-opus-4-20250514", "claude-opus-4-1", "another"),
        ("claude-sonnet-4-5-20250929", "haiku", "another"),
        ("opus", "claude-fable-5", "another"),
        ("hiaku", "haiku", "unknown"),
        ("hiaku", "claude-haiku-4-5", "unknown"),
        ("claude-fable-5", "haiku", "unknown"),
    ],
)
def test_membership_of_a_recorded_model(recorded: str, wanted: str, expected: str) -> None:
    assert membership(recorded, wanted) == expected


@pytest.mark.parametrize(
    ("model", "day"),
    [
        ("claude-haiku-4-5-20251001", "20251001"),
        ("anthropic.claude-opus-4-1-20250805-v1:0", "20250805"),
        ("claude-opus-4@20250514", "20250514"),
        ("claude-sonnet-4-5-20250929[1m]", "20250929"),
        ("claude-haiku-4-5", None),
        ("haiku-" + "2" * 5000, None),
    ],
)
def test_a_snapshots_date_wherever_a_provider_puts_it(model: str, day: str | None) -> None:
    assert snapshot_date(model) == day

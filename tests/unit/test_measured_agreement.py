"""Which model a measured call may be of the model a log names (the core of the check that a
ticket's logged model agrees with its measured implementation calls)."""

from __future__ import annotations

import pytest

from pytest_orchphase.usage.agreement import same_model


@pytest.mark.parametrize(
    ("call", "logged", "same"),
    [
        ("claude-haiku-4-5-20251001", "haiku", True),
        ("claude-haiku-4-5-20251001", "claude-haiku-4-5", True),
        ("claude-haiku-4-5-20251001", "Haiku 4.5", True),
        ("claude-3-5-haiku-20241022", "claude-3-5-haiku", True),
        ("claude-haiku-4-5-20251001", "claude-3-5-haiku", False),
        ("claude-sonnet-4-5-20250929", "haiku", False),
        ("claude-opus-4-6", "sonnet", False),
        ("claude-sonnet-4-5-20250929", "claude-sonnet-4-5", True),
    ],
)
def test_a_call_is_of_the_logged_model_by_family_and_version(
    call: str, logged: str, same: bool
) -> None:
    assert same_model(call, logged) is same

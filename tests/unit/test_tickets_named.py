"""Which tickets a text names: a whole word, case-insensitive, as a regular expression search
per ticket says (the reference below); the quick substring test in front of it never drops
one, whatever the letters (the long s and the Kelvin sign fold to ASCII letters)."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_orchphase.usage.records import tickets_named


def reference(text: str, tickets: list[str]) -> list[str]:
    return [
        t
        for t in tickets
        if re.search(rf"(?<![A-Za-z0-9]){re.escape(t)}(?![A-Za-z0-9])", text, re.IGNORECASE)
    ]


LETTERS = "aRr01-_ .:\u017f\u0131\u212aKsSiI\u00df"


@settings(max_examples=400, deadline=None)
@given(
    text=st.text(alphabet=LETTERS, max_size=24),
    tickets=st.lists(st.text(alphabet=LETTERS, min_size=1, max_size=4), max_size=6),
)
def test_the_same_tickets_as_a_search_for_each(text: str, tickets: list[str]) -> None:
    assert tickets_named(text, tickets) == reference(text, tickets)


def test_whole_words_only_in_the_tickets_order() -> None:
    text = "Implement r10 for JIRA-101, then R1x"
    assert tickets_named(text, ["R1", "R10", "101", "JIRA-101"]) == ["R10", "101", "JIRA-101"]
    assert tickets_named("\u017f1 done", ["S1"]) == ["S1"]  # the long s is an s, as re says

"""Patterns from data files are matched in linear time, with exactly re's meaning."""

from __future__ import annotations

import re
import sys

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from pytest_orchphase.errors import UnsafePattern
from pytest_orchphase.load.pattern import MAX_INSTRUCTIONS, compile_linear

# Pieces of patterns people write for Task descriptions, and the constructs that nest.
atoms = st.sampled_from(
    ["a", "b", "R", "0", "3", " ", ".", r"\w", r"\d", r"\s", r"\W", "[a-c]", "[^a ]", r"\.", "é"]
)
anchors = st.sampled_from(["^", "$", r"\b", r"\B", r"\A", r"\Z"])
quantifiers = st.sampled_from(["*", "+", "?", "{2}", "{0,2}", "{1,}", "*?", "+?"])


def _patterns() -> st.SearchStrategy[str]:
    def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.one_of(
            st.tuples(inner, quantifiers).map(lambda xq: f"(?:{xq[0]}){xq[1]}"),
            st.lists(inner, min_size=2, max_size=3).map("".join),
            st.lists(inner, min_size=2, max_size=3).map(lambda xs: "(" + "|".join(xs) + ")"),
            inner.map(lambda x: f"(?:{x})"),
        )

    return st.recursive(st.one_of(atoms, anchors), extend, max_leaves=6)


texts = st.text(alphabet="abR03 .\né-", max_size=12)
flags = st.sampled_from(["", "(?i)", "(?m)", "(?s)", "(?a)"])


@settings(max_examples=400, deadline=None)
@given(pattern=_patterns(), text=texts, flag=flags)
def test_matches_exactly_where_re_does(pattern: str, text: str, flag: str) -> None:
    source = flag + pattern
    try:
        re.compile(source)
    except re.error:
        assume(False)  # a quantifier after an anchor, ...: not a pattern at all
    assert compile_linear(source).search(text) == bool(re.search(source, text)), source


@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [
        (r"^(R\d+)[: ]", "R03: rename the helper", True),
        (r"(?i)\breview\b", "Review R06 lifecycle fix", True),
        (r"(?i)\breview\b", "Reviewer of R06", False),
        (r"^R0[36]$", "R03\n", True),
        (r"(?m)^fix", "R03\nfix it", True),
        (r"(?x) R 0 3  # a comment", "R03", True),
    ],
)
def test_usual_patterns(pattern: str, text: str, expected: bool) -> None:
    assert compile_linear(pattern).search(text) is expected


@pytest.mark.parametrize(
    "pattern",
    [
        r"^(\w+\s?)*$",  # the pattern: exponential in re on a description ending in '!'
        r"^(a|a)*$",
        r"^(a+)+$",
        r".*.*.*.*x!",  # polynomial: minutes in re on a long description
    ],
)
def test_patterns_that_make_re_backtrack_are_answered(pattern: str) -> None:
    """A step count, not a clock: the automaton looks at each character once per
    instruction, so the answer comes in at most len(program) × len(text) steps."""
    compiled = compile_linear(pattern)
    text = "Implement the session lifecycle changes for the ticket " * 40 + "!"
    assert compiled.search(text) is False
    assert len(compiled.program) <= 4 * len(pattern)


@pytest.mark.parametrize(
    ("pattern", "says"),
    [
        (r"(R\d+) \1", "uses a backreference"),
        (r"(?=R03)", "uses a lookahead or lookbehind"),
        (r"(?<!x)R03", "uses a negative lookahead or lookbehind"),
        (r"(?>R0)3", "uses an atomic group"),
        (r"R\d++", "uses a possessive quantifier"),
        (r"(R)?(?(1)03|06)", "uses a conditional group"),
        (r"(R0", "not a valid regular expression: missing ), unterminated subpattern"),
        (r"(a{100}){100}", f"expands to more than {MAX_INSTRUCTIONS:,} steps"),
    ],
)
def test_what_needs_backtracking_is_refused_with_the_reason(pattern: str, says: str) -> None:
    if sys.version_info < (3, 11) and ("(?>" in pattern or "++" in pattern):
        says = (
            "not a valid regular expression"  # Python 3.10's re has neither: refused all the same
        )
    with pytest.raises(UnsafePattern, match=re.escape(says)):
        compile_linear(pattern)

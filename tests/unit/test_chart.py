"""The usage chart's per-ticket panel says what the tables say of a figure that is a bound."""

from __future__ import annotations

from typing import Any

import pytest


def _texts(rows: list[dict[str, Any]]) -> list[tuple[str, float]]:
    pytest.importorskip("matplotlib")
    from matplotlib import ticker
    from matplotlib.figure import Figure

    from pytest_orchphase.report.chart import _draw_tickets

    ax = Figure().add_subplot()
    _draw_tickets(ax, rows, ticker)
    # the annotations' anchors: (text, the bar's x)
    return [(t.get_text(), t.xy[0]) for t in ax.texts]  # type: ignore[attr-defined]


def test_a_bar_whose_figure_is_only_a_bound_carries_its_mark() -> None:
    """R01 exact, R02 at least (a ticket still running), R03 at most (unattributed usage
    counted as possibly its own), R04 an estimate bounded neither way, R05 unknown: the
    marks are the tables' (≥, ≤, about), over the bar they belong to, and none over R01."""
    rows: list[dict[str, Any]] = [
        {"ticket": "R01", "tokens": 1000, "cap": 2000, "bounds": {}},
        {"ticket": "R02", "tokens": 1000, "cap": 2000, "bounds": {"tokens": "lower"}},
        {"ticket": "R03", "tokens": 1000, "cap": None, "bounds": {"tokens": "upper"}},
        {"ticket": "R04", "tokens": 1000, "cap": None, "bounds": {"tokens": "unknown"}},
        {"ticket": "R05", "tokens": None, "cap": None, "bounds": {}},
    ]
    assert _texts(rows) == [("≥", 1), ("≤", 2), ("about", 3), ("unknown", 4)]


def test_a_usd_bound_alone_marks_no_token_bar() -> None:
    """The bars are tokens: a bound on the ticket's USD alone is not theirs."""
    rows: list[dict[str, Any]] = [
        {"ticket": "R01", "tokens": 1000, "cap": None, "bounds": {"usd": "lower"}},
    ]
    assert _texts(rows) == []

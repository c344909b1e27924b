"""The usage chart: a PNG with matplotlib, a one-line hint and no file without it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from pytest_orchphase.report.chart import CHART_HINT, render_chart

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
USAGE: dict[str, list[dict[str, object]]] = {
    "a1": [
        {"stage": "shared_planning", "model": "sonnet", "total": 11600, "usd": None},
        {"stage": "implementation", "model": "sonnet", "total": 24900, "usd": None},
        {"stage": "monitoring", "model": "haiku", "total": 8800, "usd": None},
    ],
    "a2": [
        {"stage": "shared_planning", "model": "claude-sonnet-4-5", "total": 20512, "usd": 0.1376},
        {"stage": "implementation", "model": "claude-haiku-4-5", "total": 20713, "usd": 0.0159},
        {"stage": "implementation", "model": "claude-sonnet-4-5", "total": 9000, "usd": 0.04},
    ],
}


def test_chart_is_a_png_written_whole(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    path = tmp_path / "report" / "usage.png"
    assert render_chart(USAGE, path) is None
    assert path.read_bytes().startswith(PNG_SIGNATURE)
    assert [p.name for p in path.parent.iterdir()] == ["usage.png"]  # no temporary file left


def test_chart_rejects_a_row_without_figures(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    bad: dict[str, list[dict[str, object]]] = {"a1": [{"stage": "review", "model": "x"}]}
    with pytest.raises(ValueError, match="'total' must be a number"):
        render_chart(bad, tmp_path / "usage.png")
    assert list(tmp_path.iterdir()) == []


def test_without_matplotlib_the_chart_says_how_to_get_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now fails
    path = tmp_path / "usage.png"
    message = render_chart(USAGE, path)
    assert message == CHART_HINT
    assert 'pip install "pytest-orchphase[chart]"' in message and "\n" not in message
    assert list(tmp_path.iterdir()) == []


def _png_height(path: Path) -> int:
    return int.from_bytes(path.read_bytes()[20:24], "big")  # the IHDR chunk's height


def test_a_phase_measured_by_hand_gets_no_usd_panel_and_tickets_get_theirs(
    tmp_path: Path,
) -> None:
    pytest.importorskip("matplotlib")
    tickets: list[dict[str, object]] = [
        {"ticket": "R03", "tokens": 28300, "cap": 45000.0},
        {"ticket": "R06", "tokens": None, "cap": None},
    ]
    hand, both, split = tmp_path / "hand.png", tmp_path / "both.png", tmp_path / "split.png"
    render_chart({"a1": USAGE["a1"]}, hand)  # every USD unknown: tokens only
    render_chart(USAGE, both)  # a2 measured: tokens and USD
    render_chart({"a1": USAGE["a1"]}, split, tickets=tickets)  # tokens and the tickets
    # 110 dpi, 3.5 inches a panel plus 0.5 for the title
    assert _png_height(hand) == round(4.0 * 110)
    assert _png_height(both) == round(7.5 * 110)
    assert _png_height(split) == round(7.5 * 110)


def test_an_axis_never_runs_below_zero_dollars() -> None:
    pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure

    from pytest_orchphase.report.chart import _draw

    ax = Figure().subplots()
    _draw(ax, {("a1", "review"): {"sonnet": 0.0}}, ["sonnet"], {"sonnet": "blue"})
    assert ax.get_ylim() == (0.0, 1.0)

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

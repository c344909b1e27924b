"""Fixtures of the transcript tests; the line builders are in tests/helpers.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import ClaudeHome


@pytest.fixture
def home(tmp_path: Path) -> ClaudeHome:
    """An empty Claude config folder (``<tmp>/claude``) to write transcripts into."""
    return ClaudeHome(tmp_path / "claude")

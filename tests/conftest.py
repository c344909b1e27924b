"""Shared fixtures: a pytester project holding the shipped criteria and example data."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

# Inline pytester runs drop the modules they imported when they end. PyYAML's and pydantic's C
# extensions cannot be imported twice cleanly, so load the plugin's modules once, up front.
import pytest_orchphase.items  # noqa: F401

pytest_plugins = ["pytester"]

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
A1_LOG = "docs/orchestration-data/phase-a1-r03-r06/execution-log.yaml"
A2_LOG = "docs/orchestration-data/phase-a2-r03-r06-r07/execution-log.yaml"
A3_LOG = "docs/orchestration-data/phase-a3-r03-r06-r07/execution-log.yaml"

Edit = Callable[[str, str, str], None]


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A fresh copy of the repository's criteria/ and docs/orchestration-data/."""
    monkeypatch.delenv("ORCHPHASE_PHASE", raising=False)
    shutil.copytree(REPO / "criteria", pytester.path / "criteria")
    shutil.copytree(
        REPO / "docs" / "orchestration-data", pytester.path / "docs" / "orchestration-data"
    )
    return pytester


@pytest.fixture
def edit(project: pytest.Pytester) -> Edit:
    """Replace one exact snippet in a project file (fails loudly if the snippet is absent)."""

    def replace(relpath: str, old: str, new: str) -> None:
        path = project.path / relpath
        text = path.read_text()
        assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {relpath}"
        path.write_text(text.replace(old, new))

    return replace


def fail_a2(edit: Edit) -> None:
    """Make phase a2 fail: Haiku needed three fix loops on R03."""
    edit(A2_LOG, "      fix_loops: 1\n      errors_encountered:", "      fix_loops: 3\n      errors_encountered:")

"""Shared fixtures: a pytester project holding the shipped criteria and example data."""

from __future__ import annotations

import contextlib
import shutil

import pytest
from support import REPO, Edit, edit_in

# Inline pytester runs drop the modules they imported when they end. The C extensions of PyYAML,
# pydantic and numpy cannot be imported twice in a process, so load them once, up front.
import pytest_orchphase.plugin.collect  # noqa: F401
from pytest_orchphase.settings import KEYS

with contextlib.suppress(ImportError):  # matplotlib (numpy) is optional: the chart extra
    import matplotlib.backends.backend_agg
    import matplotlib.figure  # noqa: F401

pytest_plugins = ["pytester"]


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A fresh copy of the repository's criteria/ and docs/orchestration-data/."""
    for key in KEYS:  # the environment would otherwise override the project's settings
        monkeypatch.delenv(key.env, raising=False)
    shutil.copytree(REPO / "criteria", pytester.path / "criteria")
    shutil.copytree(
        REPO / "docs" / "orchestration-data", pytester.path / "docs" / "orchestration-data"
    )
    return pytester


@pytest.fixture
def edit(project: pytest.Pytester) -> Edit:
    """Replace one exact snippet in a project file (fails loudly if the snippet is absent)."""
    return edit_in(project.path)

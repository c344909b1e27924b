"""Shared fixtures: a pytester project holding the shipped criteria and example data."""

from __future__ import annotations

import contextlib
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# Inline pytester runs drop the modules they imported when they end. The C extensions of PyYAML,
# pydantic and numpy cannot be imported twice in a process, so load them once, up front. So are
# the scan's modules, which tests patch: one that a run imported first is dropped when the run
# ends while its package keeps it as an attribute, so a later test's `from pytest_orchphase.usage
# import cache_lookup` would patch that old module and its run use a new one (the patch unseen).
import pytest_orchphase.plugin.collect
import pytest_orchphase.usage.cache
import pytest_orchphase.usage.cache_lookup
import pytest_orchphase.usage.parallel
import pytest_orchphase.usage.scan  # noqa: F401
from pytest_orchphase.settings import KEYS
from tests.helpers import REPO, Edit, edit_in

with contextlib.suppress(ImportError):  # matplotlib (numpy) is optional: the chart extra
    import matplotlib.backends.backend_agg
    import matplotlib.figure  # noqa: F401

pytest_plugins = ["pytester"]


@pytest.fixture(autouse=True, scope="session")
def _scan_cache_of_the_tests(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The commands' scan cache in a folder of the test session, never the user's own."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg-cache")))
        yield


@pytest.fixture
def pytester(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """pytester, its runs seeing the interpreter's own ``sys.path``. Pytest puts the repository
    root there to import this test package; a run would then find the source tree's
    ``pytest_orchphase.egg-info`` as a second installed copy of the plugin and warn that it cannot
    be rewritten. The test modules are imported by now, so nothing needs the root any more."""
    kept = [p for p in sys.path if not (p and Path(p).resolve() == REPO)]
    monkeypatch.setattr(sys, "path", kept)
    return pytester


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

"""The README tells the truth about the code, and the code is ruff- and mypy-clean."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys

import pytest
from support import REPO

from pytest_orchphase.metrics import REGISTRY

README = (REPO / "README.md").read_text()


def test_readme_documents_every_metric_with_its_formula() -> None:
    rows = set(
        re.findall(r"^\| `(\w+)` \| (phase|ticket) \| \w+ \| [^|]+ \| (.+) \|$", README, re.M)
    )
    registered = {(name, scope, m.formula) for (scope, name), m in REGISTRY.metrics.items()}
    assert registered == rows


def test_readme_documents_every_option() -> None:
    plugin = (REPO / "pytest_orchphase" / "plugin.py").read_text()
    options = set(re.findall(r'"(--[a-z-]+)"', plugin))
    inis = set(re.findall(r'parser\.addini\(\s*"(\w+)"', plugin))
    assert options and inis
    missing = sorted(o for o in options | inis if f"`{o}" not in README)
    assert missing == []


def _tool(name: str) -> list[str]:
    if importlib.util.find_spec(name) is None:
        pytest.skip(f"{name} is not installed (pip install -e '.[test]')")
    return [sys.executable, "-m", name]


def test_ruff_is_clean() -> None:
    result = subprocess.run(
        [*_tool("ruff"), "check", "."], cwd=REPO, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_is_clean() -> None:
    result = subprocess.run(_tool("mypy"), cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr

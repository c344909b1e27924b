"""What the package declares (versions, license, supported Pythons and pytest) is true and agrees
with itself: the CLI, pytest's plugin line, the changelog, the metadata and the test matrix."""

from __future__ import annotations

import re
from importlib.metadata import metadata, version

import pytest

import pytest_orchphase
from pytest_orchphase import cli
from tests.helpers import REPO, nox_constant

DIST = "pytest-orchphase"


def test_orchphase_version_is_the_installed_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        cli.main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out == f"orchphase {version(DIST)}\n"
    assert version(DIST) == pytest_orchphase.__version__


def test_pytest_names_the_plugin_with_the_same_version(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess("-VV")
    plugin_lines = [line for line in result.stdout.lines + result.stderr.lines if DIST in line]
    assert plugin_lines, result.stdout.str() + result.stderr.str()
    assert plugin_lines[0].strip().startswith(f"{DIST}-{pytest_orchphase.__version__} at ")


def test_changelog_top_section_is_this_version() -> None:
    sections = re.findall(
        r"^## (\S+) \((unreleased|\d{4}-\d\d-\d\d)\)$", (REPO / "CHANGELOG.md").read_text(), re.M
    )
    assert sections, "CHANGELOG.md: no '## X.Y.Z (date or unreleased)' section"
    assert sections[0][0] == pytest_orchphase.__version__


def test_declared_pythons_and_pytest_are_the_tested_ones() -> None:
    meta = metadata(DIST)
    pythons = nox_constant("PYTHONS")
    assert isinstance(pythons, list)
    classified = sorted(
        c.rsplit(":: ", 1)[1]
        for c in meta.get_all("Classifier") or []
        if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)
    )
    assert sorted(classified, key=lambda v: tuple(map(int, v.split(".")))) == pythons
    assert meta["Requires-Python"] == f">={pythons[0]}"
    requires = meta.get_all("Requires-Dist") or []
    assert f"pytest>={nox_constant('PYTEST_FLOOR')}" in requires
    assert "Framework :: Pytest" in (meta.get_all("Classifier") or [])


def test_license_file_is_the_declared_license() -> None:
    meta = metadata(DIST)
    assert meta["License-Expression"] == "MIT"
    assert meta.get_all("License-File") == ["LICENSE"]
    assert (REPO / "LICENSE").read_text().startswith("MIT License\n")

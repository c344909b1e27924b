"""The project's configuration lookup (pytest_orchphase.settings): pytest's own rules, checked
against pytest's implementation, and the precedence command line > environment > file > default."""

from __future__ import annotations

import inspect
import itertools
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from _pytest.config.findpaths import locate_config
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_orchphase.errors import OrchphaseError
from pytest_orchphase.settings import (
    ProjectConfig,
    find_config,
    load_config,
    resolve,
)


def pytest_finds(start: Path) -> tuple[Path | None, Path | None]:
    """pytest's own (rootdir, configuration file) from ``start``. A private API: pytest 8.0's
    ``locate_config`` takes the arguments alone, later ones the invocation folder first."""
    locate: Any = locate_config  # its signature depends on the pytest installed (mypy too)
    if "invocation_dir" in inspect.signature(locate_config).parameters:
        found = locate(start, [start])
    else:  # pytest 8.0
        found = locate([start])
    return found[0], found[1]


def older_pytest_differs(files: Iterable[tuple[str, bool]]) -> str | None:
    """Why the running pytest (older than 9) chooses otherwise than the lookup, which follows
    pytest 9's rules (README), or None."""
    if pytest.version_tuple < (9,) and (".pytest.ini", False) in files:
        return "pytest 8 takes a .pytest.ini only with a [pytest] section"
    if pytest.version_tuple < (8, 1) and ("pyproject.toml", False) in files:
        return "pytest 8.0 falls back to no pyproject.toml without its table"
    return None


# A file of each kind, with a pytest section or without one.
WITH = {
    "pytest.toml": '[pytest]\norchphase_data = "d"\n',
    ".pytest.toml": '[pytest]\norchphase_data = "d"\n',
    "pytest.ini": "[pytest]\norchphase_data = d\n",
    ".pytest.ini": "[pytest]\norchphase_data = d\n",
    "pyproject.toml": '[tool.pytest.ini_options]\norchphase_data = "d"\n',
    "tox.ini": "[pytest]\norchphase_data = d\n",
    "setup.cfg": "[tool:pytest]\norchphase_data = d\n",
}
WITHOUT = {
    "pytest.toml": "",
    ".pytest.toml": "",
    "pytest.ini": "[other]\n",
    ".pytest.ini": "",
    "pyproject.toml": '[project]\nname = "x"\n',
    "tox.ini": "[tox]\n",
    "setup.cfg": "[metadata]\nname = x\n",
}


def _layouts() -> list[tuple[tuple[str, bool], ...]]:
    """Pairs of files (name, has a pytest section), in the start folder or its parent."""
    files = [(name, has) for name in WITH for has in (True, False)]
    return list(itertools.combinations(files, 2))


@pytest.mark.parametrize("outer", [False, True], ids=["same-folder", "one-in-parent"])
@pytest.mark.parametrize("layout", _layouts(), ids=lambda lay: "+".join(f"{n}:{h}" for n, h in lay))
def test_the_same_file_as_pytest_from_the_same_folder(
    tmp_path: Path, layout: tuple[tuple[str, bool], ...], outer: bool
) -> None:
    """Whatever files the folders hold, the lookup settles where pytest's own does (pytest run
    with no path argument in the same folder)."""
    if pytest.version_tuple < (9,) and any(n.endswith("pytest.toml") for n, _ in layout):
        pytest.skip("pytest.toml is read from pytest 9 on")
    if reason := older_pytest_differs(layout):
        pytest.skip(reason)
    start = tmp_path / "project" / "sub"
    start.mkdir(parents=True)
    for i, (name, has) in enumerate(layout):
        folder = start.parent if (outer and i == 0) else start
        if (folder / name).exists():
            continue
        (folder / name).write_text((WITH if has else WITHOUT)[name])
    rootdir, inipath = pytest_finds(start)
    ours = find_config(start)
    assert ours.path == inipath
    assert ours.base == (rootdir if rootdir is not None else start)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 2), st.sampled_from(sorted(WITH)), st.booleans()), max_size=6)
)
def test_the_same_file_as_pytest_in_any_tree(files: list[tuple[int, str, bool]]) -> None:
    """Files of every kind, with or without a pytest section, at three depths."""
    if pytest.version_tuple < (9,):
        files = [f for f in files if not f[1].endswith("pytest.toml")]
    files = [f for f in files if not older_pytest_differs([f[1:]])]
    with tempfile.TemporaryDirectory() as tmp:
        start = Path(tmp) / "a" / "b" / "c"
        start.mkdir(parents=True)
        for depth, name, has in files:
            path = (start, *start.parents)[depth] / name
            if not path.exists():
                path.write_text((WITH if has else WITHOUT)[name])
        rootdir, inipath = pytest_finds(start)
        ours = find_config(start)
        assert ours.path == inipath
        assert ours.base == (rootdir if rootdir is not None else start)


def test_nearest_folder_wins_then_precedence_within_a_folder(tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\norchphase_data = outer\n")
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "tox.ini").write_text("[pytest]\norchphase_data = tox\n")
    (sub / "pyproject.toml").write_text('[tool.pytest.ini_options]\norchphase_data = "pyproject"\n')
    found = find_config(sub / "deeper")  # a folder that does not exist yet is fine
    assert found.path == sub / "pyproject.toml"
    assert found.values == {"orchphase_data": "pyproject"}


def test_native_tool_pytest_table_and_pytest_toml(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.pytest]\norchphase_criteria = "c"\n')
    assert find_config(tmp_path).values == {"orchphase_criteria": "c"}
    (tmp_path / "pytest.toml").write_text("[pytest]\norchphase_phase = 'a2'\n")
    assert find_config(tmp_path).values == {"orchphase_phase": "a2"}


def test_a_pyproject_without_a_table_is_the_fallback_with_no_values(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    (tmp_path / "a" / "b").mkdir(parents=True)
    found = find_config(tmp_path / "a" / "b")
    assert (found.path, found.base, dict(found.values)) == (
        tmp_path / "pyproject.toml",
        tmp_path,
        {},
    )


def test_no_configuration_at_all_is_based_on_the_start_folder(tmp_path: Path) -> None:
    found = find_config(tmp_path)
    if found.path is not None:  # pragma: no cover - a configuration file above the temp dir
        pytest.skip(f"{found.path} lies above the temporary folder")
    assert found.base == tmp_path
    assert "no pytest configuration file" in found.describe()


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("pyproject.toml", "[tool.pytest.ini_options\n", "invalid TOML"),
        ("pytest.toml", "[pytest]\norchphase_data = 3\n", "orchphase_data: 3; expected a string"),
        ("tox.ini", "[pytest]\norchphase_data = a\norchphase_data = b\n", "orchphase_data"),
        ("setup.cfg", "[pytest]\norchphase_data = a\n", "use [tool:pytest]"),
        ("pytest.ini", "\xff", "not UTF-8"),
    ],
)
def test_a_broken_configuration_file_is_an_error_naming_it(
    tmp_path: Path, name: str, text: str, message: str
) -> None:
    path = tmp_path / name
    if text == "\xff":
        path.write_bytes(b"[pytest]\n\xff\n")
    else:
        path.write_text(text)
    with pytest.raises(OrchphaseError) as info:
        find_config(tmp_path)
    assert info.value.path == path
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("ci.ini", "[pytest]\norchphase_criteria = crit\n"),
        ("ci.cfg", "[tool:pytest]\norchphase_criteria = crit\n"),
        ("ci.toml", '[pytest]\norchphase_criteria = "crit"\n'),
        ("ci.toml", '[tool.pytest.ini_options]\norchphase_criteria = "crit"\n'),
    ],
)
def test_an_explicit_file_is_read_by_its_suffix(tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    assert load_config(path) == ProjectConfig(path, tmp_path, {"orchphase_criteria": "crit"})


def test_precedence_and_bases(tmp_path: Path) -> None:
    project = ProjectConfig(
        tmp_path / "pytest.ini",
        tmp_path,
        {"orchphase_criteria": "from-file", "orchphase_data": "data-file", "orchphase_phase": "a1"},
    )
    cwd = tmp_path / "sub"
    env = {"ORCHPHASE_CRITERIA": "from-env", "ORCHPHASE_PHASE": "a2"}
    settings = resolve(
        cwd,
        env,
        project,
        {"criteria": ("from-cli", "--orchphase-criteria"), "data": (None, "--orchphase-data")},
        overrides={"orchphase_phase": "a3"},
    )
    assert settings.criteria.value == cwd / "from-cli"
    assert settings.criteria.describe() == "from --orchphase-criteria"
    assert settings.phase.value == "a3"  # -o, on the command line, beats the environment
    assert settings.phase.describe() == "from -o orchphase_phase"
    assert settings.data.value == tmp_path / "data-file"  # the file's, relative to the file
    assert settings.prices.value is None
    assert settings.prices.describe() == "default"

    settings = resolve(cwd, env, project)
    assert settings.criteria.value == cwd / "from-env"  # environment: relative to cwd
    assert settings.criteria.describe() == "from the environment variable ORCHPHASE_CRITERIA"
    assert settings.phase.value == "a2"

    settings = resolve(cwd, {"ORCHPHASE_DATA": ""}, ProjectConfig(None, tmp_path))
    assert settings.criteria.value == tmp_path / "criteria"  # defaults: from the base
    assert settings.data.value == tmp_path / "docs" / "orchestration-data"
    assert settings.phase.value is None


def test_the_plugins_quick_look_knows_every_configuration_file() -> None:
    """The plugin looks for the phase option in these files before it reads the settings: a
    file the settings read and the look skips would leave a phase named there unrun."""
    from pytest_orchphase.defaults import CONFIG_FILES
    from pytest_orchphase.settings import LOADERS

    assert tuple(LOADERS) == CONFIG_FILES

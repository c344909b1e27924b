"""The path of a user who installs pytest-orchphase from the package index into their own
repository: the wheel is built once per session, then installed (not in editable mode) into fresh
virtual environments, in an empty project outside this repository.

These tests need the package index (the build's setuptools, the dependencies). Offline they skip,
saying so; under CI=true a missing index is a failure, never a silent skip: CI must prove the wheel.
Deselect them with `-m "not package"`.
"""

from __future__ import annotations

import email
import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

import pytest_orchphase
from tests.helpers import REPO, nox_constant

pytestmark = pytest.mark.package

IN_CI = os.environ.get("CI", "").lower() == "true"
PIP_TIMEOUT = 600
IGNORED = shutil.ignore_patterns(
    ".git",
    ".venv",
    "venv*",
    ".nox",
    ".tox",
    "build",
    "dist",
    "*.egg-info",
    "__pycache__",
    ".pytest_cache",
    ".mypy_cache",
    ".ruff_cache",
    ".hypothesis",
    "corpus",
    "out",
)
EXAMPLE_FILES = sorted(
    f"pytest_orchphase/examples/{part}/{p.relative_to(root).as_posix()}"
    for part, root in (
        ("criteria", REPO / "criteria"),
        ("orchestration-data", REPO / "docs" / "orchestration-data"),
    )
    for p in root.rglob("*.yaml")
)


PYTHONS: list[str] = nox_constant("PYTHONS")  # type: ignore[assignment]
PYTEST_FLOOR: str = nox_constant("PYTEST_FLOOR")  # type: ignore[assignment]


def unavailable(reason: str) -> None:
    """Skip, except under CI=true, where what these tests need must be there."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: these tests must run in CI)", pytrace=False)
    pytest.skip(reason)


def run(
    cmd: list[str | Path], cwd: Path, env: dict[str, str] | None = None, timeout: int = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


def must(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, f"{result.args}\n{result.stdout}\n{result.stderr}"
    return result


def find_python(version: str) -> Path | None:
    """An interpreter of this version that runs: this one, one on PATH (a pyenv shim on PATH
    may refuse to run), or one pyenv installed."""
    if f"{sys.version_info.major}.{sys.version_info.minor}" == version:
        return Path(sys.executable)
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    on_path = shutil.which(f"python{version}")
    candidates = [Path(on_path)] if on_path else []
    candidates += sorted(root.glob(f"{version}.*/bin/python{version}"), reverse=True)
    check = "import sys; print('%d.%d' % sys.version_info[:2])"
    for candidate in candidates:
        try:
            result = run([candidate, "-c", check], cwd=Path.cwd(), timeout=60)
        except OSError:
            continue
        if result.returncode == 0 and result.stdout.strip() == version:
            return candidate
    return None


@pytest.fixture(scope="session")
def index(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The package index answers: fetch what building the wheel needs."""
    where = tmp_path_factory.mktemp("probe")
    result = run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "-d", where, "setuptools>=77"],
        cwd=where,
        timeout=PIP_TIMEOUT,
    )
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        unavailable(f"the package index cannot be reached (pip: {last})")


@pytest.fixture(scope="session")
def wheel(index: None, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built as a release would build it (isolated, from a copy of the source)."""
    source = tmp_path_factory.mktemp("source") / "pytest-orchphase"
    shutil.copytree(REPO, source, ignore=IGNORED)
    out = tmp_path_factory.mktemp("wheel")
    must(
        run(
            [sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", out, source],
            cwd=out,
            timeout=PIP_TIMEOUT,
        )
    )
    (built,) = out.glob("pytest_orchphase-*.whl")
    return built


Venv = Callable[..., Path]


@pytest.fixture(scope="session")
def make_venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Venv:
    """A fresh virtual environment with the wheel (and extra requirements) installed; returns
    its bin folder."""

    def make(python: Path, *requirements: str, extra: str = "") -> Path:
        venv = tmp_path_factory.mktemp("venv")
        must(run([python, "-m", "venv", venv], cwd=venv))
        bindir = venv / "bin"
        must(
            run(
                [bindir / "python", "-m", "pip", "install", f"{wheel}{extra}", *requirements],
                cwd=venv,
                timeout=PIP_TIMEOUT,
            )
        )
        return bindir

    return make


def user_env(bindir: Path) -> dict[str, str]:
    """A user's shell with the venv activated, none of this test run's settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "ORCHPHASE_"))}
    env.pop("GITHUB_STEP_SUMMARY", None)
    env["PATH"] = f"{bindir}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(bindir.parent)
    return env


# --------------------------------------------------------------------------- the wheel


def test_wheel_carries_what_runs_and_nothing_of_the_tests(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        (meta_name,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        meta = email.message_from_string(zf.read(meta_name).decode("utf-8"))
        entry_points = zf.read(meta_name.replace("METADATA", "entry_points.txt")).decode()
    modules = {p.relative_to(REPO).as_posix() for p in (REPO / "pytest_orchphase").rglob("*.py")}
    runtime = {
        "pytest_orchphase/py.typed",
        "pytest_orchphase/data/prices.yaml",
        "pytest_orchphase/data/prices.json",
        *EXAMPLE_FILES,
    }
    assert modules | runtime <= names, sorted(modules | runtime - names)
    packaged = {n for n in names if ".dist-info/" not in n}
    assert packaged == modules | runtime, sorted(packaged - modules - runtime)  # no tests, docs
    assert not any(n.startswith(("tests/", "benchmarks/", "docs/")) for n in names)
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    # what the package index shows
    assert meta["Name"] == "pytest-orchphase" and meta["Version"] == pytest_orchphase.__version__
    assert meta["License-Expression"] == "MIT"
    assert meta["Description-Content-Type"] == "text/markdown"
    assert meta.get_payload() == (REPO / "README.md").read_text()
    assert f"Programming Language :: Python :: {PYTHONS[-1]}" in (meta.get_all("Classifier") or [])
    assert "[pytest11]\norchphase = pytest_orchphase.plugin" in entry_points
    assert "orchphase = pytest_orchphase.cli:main" in entry_points


# --------------------------------------------------------------------------- a new user


def new_user_session(bindir: Path, project: Path) -> None:
    """The README's way in "from the package index, in your own repository", step by step."""
    env = user_env(bindir)

    def sh(*cmd: str, cwd: Path = project) -> subprocess.CompletedProcess[str]:
        return run(list(cmd), cwd=cwd, env=env)

    imported = must(sh("python", "-c", "import pytest_orchphase; print(pytest_orchphase.__file__)"))
    assert imported.stdout.startswith(str(bindir.parent)), "not the installed wheel"
    assert os.listdir(project) == []

    version = must(sh("orchphase", "--version")).stdout.strip()
    assert version == f"orchphase {pytest_orchphase.__version__}"
    vv = must(sh("pytest", "-VV"))
    plugin = [ln.strip() for ln in (vv.stdout + vv.stderr).splitlines() if "pytest-orchphase" in ln]
    assert plugin and plugin[0].startswith(f"pytest-orchphase-{version.split()[1]} at ")

    init = must(sh("orchphase", "init", "--example"))
    assert init.stdout.endswith("next: pytest --phase a1  (then a2, a3)\n")
    a1 = sh("pytest", "--phase", "a1")
    assert a1.returncode == 0, a1.stdout + a1.stderr
    assert re.search(r"^criteria/a1\.yaml \.{6} +\[100%\]$", a1.stdout, re.M), a1.stdout
    assert "Proceed to phase a2: YES" in a1.stdout
    assert re.search(r"^=+ 6 passed in [\d.]+s", a1.stdout, re.M)
    for phase, proceed in (("a2", "a3"), ("a3", None)):
        result = sh("pytest", "--phase", phase)
        assert result.returncode == 0, result.stdout + result.stderr
        if proceed:
            assert f"Proceed to phase {proceed}: YES" in result.stdout

    compare = must(sh("orchphase", "compare"))
    assert compare.stdout.splitlines()[0].split()[1:] == ["a1", "a2", "a3"]
    again = sh("orchphase", "init", "--example")
    assert again.returncode == 2 and "never overwrites" in again.stderr


@pytest.mark.parametrize("python_version", PYTHONS)
def test_new_user_installs_the_wheel_into_an_empty_project(
    python_version: str, make_venv: Venv, tmp_path: Path
) -> None:
    python = find_python(python_version)
    if python is None:
        pytest.skip(f"Python {python_version} is not on this machine (PATH or pyenv)")
    bindir = make_venv(python)
    project = tmp_path / "my-repo"
    project.mkdir()
    new_user_session(bindir, project)


# --------------------------------------------------------------------------- both ends


@pytest.mark.parametrize(
    ("end", "python_version", "pytest_requirement"),
    [
        ("floor", PYTHONS[0], f"pytest=={PYTEST_FLOOR}.*"),
        ("newest", PYTHONS[-1], "pytest"),  # pip takes the newest release
    ],
)
def test_suite_passes_at_both_ends_of_the_matrix(
    end: str, python_version: str, pytest_requirement: str, make_venv: Venv
) -> None:
    """What noxfile.py runs, at its two ends: the oldest declared Python with the oldest declared
    pytest, the newest with the newest; the wheel installed, this repository's tests run there
    (all but these package tests)."""
    python = find_python(python_version)
    if python is None:
        python = Path(sys.executable)  # the pytest end is proven all the same
    bindir = make_venv(python, pytest_requirement, extra="[test]")
    env = user_env(bindir)
    got = must(run(["pytest", "--version"], cwd=REPO, env=env)).stdout
    got += must(run(["python", "--version"], cwd=REPO, env=env)).stdout
    if end == "floor":
        assert f"pytest {PYTEST_FLOOR}." in got, got
    result = run(
        ["pytest", "-m", "not package", "-p", "no:cacheprovider", "-n", "2", "-q"],
        cwd=REPO,
        env=env,
        timeout=1800,
    )
    tail = "\n".join(result.stdout.splitlines()[-30:])
    assert result.returncode == 0, f"{got}\n{tail}\n{result.stderr[-3000:]}"
    assert re.search(r"^\d+ passed", result.stdout.splitlines()[-1]), tail

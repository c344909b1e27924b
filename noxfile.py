"""The test matrix: every Python the package declares, on the oldest and the newest pytest.

    pip install nox
    nox                                   # every session (each Python found on PATH)
    nox -s "tests-3.10(pytest='floor')"   # one session
    nox -s tests -- -x -k init            # arguments after -- go to pytest

The package is installed from a built wheel (not in editable mode), so the tests run against what
users install. The tests marked `package` (they build the wheel and make their own virtual
environments, the floor among them) run once, in the README's `pytest`, not in every session.
"""

from __future__ import annotations

import nox

# Keep in step with pyproject.toml: requires-python, the classifiers and the pytest requirement
# (tests/test_packaging.py checks that they agree).
PYTHONS = ["3.10", "3.11", "3.12", "3.13"]
PYTEST_FLOOR = "8.0"

nox.options.default_venv_backend = "venv"


@nox.session(python=PYTHONS)
@nox.parametrize("pytest", ["floor", "newest"])
def tests(session: nox.Session, pytest: str) -> None:
    session.install(".[test]")
    if pytest == "floor":
        session.install(f"pytest=={PYTEST_FLOOR}.*")
    else:
        session.install("--upgrade", "pytest")
    session.run("pytest", "-m", "not package", *session.posargs)

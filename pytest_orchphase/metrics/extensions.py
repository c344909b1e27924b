"""Metrics from outside the package: installed ``orchphase.metrics`` entry points, and the names
a conftest.py registers (read from its source, never run, for the orchphase commands)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from pytest_orchphase.errors import raised

if TYPE_CHECKING:
    from pytest_orchphase.metrics.registry import Registry

#: pytest)
CONFTEST_ONLY = "registered by conftest.py"

#: the entry-point group of installed packages that register metrics for both front ends:
#: ``[project.entry-points."orchphase.metrics"] name = "package.module:register"``, where
#: ``register(registry)`` calls ``registry.register(...)``
ENTRY_POINT_GROUP = "orchphase.metrics"


def load_entry_points(registry: Registry) -> None:
    """Let every installed ``orchphase.metrics`` entry point register its metrics; an entry
    point that fails is an error naming it (its metrics would otherwise be silently missing)."""
    from importlib.metadata import entry_points

    from pytest_orchphase.errors import OrchphaseError

    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            ep.load()(registry)
        except Exception as exc:
            raise OrchphaseError(
                f"the {ENTRY_POINT_GROUP} entry point {ep.name} ({ep.value}) failed to register "
                f"its metrics: {raised(exc)}"
            ) from None


def conftest_metrics(folder: Path) -> dict[str, str]:
    """Metric names the conftest.py files under ``folder`` register, by their path: the first
    argument of each ``registry.register("name", ...)`` call, read from the source (the file is
    parsed, never run). The orchphase commands name them instead of calling them unknown."""
    import ast

    found: dict[str, str] = {}
    for path in sorted(folder.glob("**/conftest.py")):
        if any(part.startswith(".") or part in ("node_modules", "venv") for part in path.parts):
            continue
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
            continue
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "register"
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                found.setdefault(node.args[0].value, str(path))
    return found

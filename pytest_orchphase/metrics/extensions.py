"""Metrics from outside the package: installed ``orchphase.metrics`` entry points, and the names
a conftest.py registers (read from its source, never run, for the orchphase commands)."""

from __future__ import annotations

from collections.abc import Callable
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

    for ep in entry_points(group=ENTRY_POINT_GROUP):
        register_from(
            registry, f"the {ENTRY_POINT_GROUP} entry point {ep.name} ({ep.value})", ep.load
        )


def register_from(
    registry: Registry, source: str, register: Callable[[], Callable[[Registry], object]]
) -> None:
    """Let ``register()(registry)`` (an entry point's function, or the run's
    ``pytest_orchphase_register_metrics`` hooks) register metrics. One that fails, or whose
    registration the registry refuses (a name taken, an unknown unit or parameter), is an error
    naming ``source`` and where in its code (the front ends make it a usage error): its metrics
    would otherwise be missing, or the run end in a traceback."""
    from pytest_orchphase.errors import OrchphaseError

    try:
        register()(registry)
    except Exception as exc:
        raise OrchphaseError(f"{source} failed to register its metrics: {raised(exc)}") from None


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

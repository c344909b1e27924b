"""The ``requires`` graph between phases: cycles are a usage error, found before collection."""

from __future__ import annotations

from pathlib import Path

from pytest_orchphase.errors import OrchphaseError, PhaseUsageError
from pytest_orchphase.phase import criteria_path, load_criteria


def requires_of(criteria_dir: Path, name: str) -> list[str]:
    """The phases ``name`` requires, read from its criteria file alone (no data is loaded)."""
    criteria, _ = load_criteria(criteria_path(criteria_dir, name))
    return list(criteria.requires)


def check_graph(criteria_dir: Path, start: str) -> None:
    """Raise :class:`PhaseUsageError` for a cycle reachable from ``start``.

    Files that cannot be read are left for collection to report with their line.
    """
    state: dict[str, str] = {}

    def visit(name: str, trail: list[str]) -> None:
        if state.get(name) == "done":
            return
        if state.get(name) == "open":
            cycle = [*trail[trail.index(name) :], name]
            raise PhaseUsageError(f"phases require each other in a cycle: {' -> '.join(cycle)}")
        if not criteria_path(criteria_dir, name).is_file():
            state[name] = "done"  # reported at collection, at the `requires` line
            return
        state[name] = "open"
        try:
            required = requires_of(criteria_dir, name)
        except OrchphaseError:
            required = []
        for other in required:
            visit(other, [*trail, name])
        state[name] = "done"

    visit(start, [])

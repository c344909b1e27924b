"""The ``requires`` graph between phases: cycles are a usage error, found before collection."""

from __future__ import annotations

from pathlib import Path

from pytest_orchphase.errors import OrchphaseError, PhaseUsageError
from pytest_orchphase.load.phase import CriteriaLoader, criteria_path, known_phases, load_criteria
from pytest_orchphase.load.yamlio import Document


def _cycle_error(doc: Document, index: int, cycle: list[str]) -> PhaseUsageError:
    """The cycle, at the ``requires`` entry that closes it."""
    at = ("requires", index)
    line, column = doc.where(at)
    return PhaseUsageError(
        f"phases require each other in a cycle: {' -> '.join(cycle)}; expected each phase to "
        "require only phases that come before it",
        path=doc.path,
        line=line,
        column=column,
        field=f"requires[{index}]",
    )


def check_graph(
    criteria_dir: Path, start: str | None = None, load: CriteriaLoader = load_criteria
) -> None:
    """Raise :class:`PhaseUsageError` for a cycle among the criteria files: first one reachable
    from ``start`` (the asked phase's chain), then one anywhere else, since the comparison of all
    phases, the dashboard and the strategy walk every phase's ``requires``.

    Files that cannot be read are left for collection to report with their line.
    """
    state: dict[str, str] = {}

    def visit(name: str, trail: list[str]) -> None:
        if not criteria_path(criteria_dir, name).is_file():
            state[name] = "done"  # reported at collection, at the `requires` line
            return
        state[name] = "open"
        try:
            criteria, doc = load(criteria_path(criteria_dir, name))
        except OrchphaseError:
            criteria, doc = None, None
        for index, other in enumerate(criteria.requires if criteria else []):
            if state.get(other) == "open":
                cycle = (
                    [*trail[trail.index(other) :], name, other] if other in trail else [name, other]
                )
                assert doc is not None
                raise _cycle_error(doc, index, cycle)
            if state.get(other) != "done":
                visit(other, [*trail, name])
        state[name] = "done"

    for name in [start] if start else []:
        visit(name, [])
    for name in known_phases(criteria_dir):
        if name not in state:
            visit(name, [])

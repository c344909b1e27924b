"""Paths and helpers shared by the plugin and core tests (importable: pythonpath = tests)."""

from __future__ import annotations

import ast
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
A1_LOG = "docs/orchestration-data/phase-a1-r03-r06/execution-log.yaml"
A2_LOG = "docs/orchestration-data/phase-a2-r03-r06-r07/execution-log.yaml"
A3_LOG = "docs/orchestration-data/phase-a3-r03-r06-r07/execution-log.yaml"

Edit = Callable[[str, str, str], None]


def edit_in(project: Path) -> Edit:
    """Replace one exact snippet in a file of ``project`` (fails loudly if it is absent)."""

    def replace(relpath: str, old: str, new: str) -> None:
        path = project / relpath
        text = path.read_text()
        assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {relpath}"
        path.write_text(text.replace(old, new))

    return replace


def fail_a2(edit: Edit) -> None:
    """Make phase a2 fail: Haiku needed three fix loops on R03."""
    edit(
        A2_LOG,
        "      fix_loops: 1\n      errors_encountered:",
        "      fix_loops: 3\n      errors_encountered:",
    )


def nox_constant(name: str) -> object:
    """A constant of noxfile.py (the test matrix: PYTHONS, PYTEST_FLOOR), read without nox."""
    tree = ast.parse((REPO / "noxfile.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        ):
            return ast.literal_eval(node.value)
    raise AssertionError(f"noxfile.py defines no {name}")


def write_rate_phase(
    root: Path,
    successes: int,
    n: int,
    *,
    criterion: str = "    rule: interval\n",
    decisions: str = "",
    phase: str = "p1",
    requires: str = "[]",
    model: str = "haiku",
    tokens: list[int] | None = None,
) -> None:
    """A phase of ``n`` mechanical tickets on ``model`` (flat log shape), the first ``successes``
    with 0 fix loops and the rest with 3, and a criterion ``success_rate >= 70 %`` (plus the
    lines ``criterion``) and the adoption decision (plus ``decisions``)."""
    ids = [f"T{i:02d}" for i in range(1, n + 1)]
    data = root / "docs" / "orchestration-data" / f"phase-{phase}"
    data.mkdir(parents=True, exist_ok=True)
    (data / "metadata.yaml").write_text(f"phase: {phase}\ntickets: [{', '.join(ids)}]\n")
    lines = ["tickets:"]
    for i, tid in enumerate(ids):
        loops = 0 if i < successes else 3
        lines += [
            f"  {tid}:",
            "    complexity: mechanical",
            f"    execution_model: {model}",
            f"    actual_tokens: {tokens[i] if tokens else 20000}",
            f"    fix_loops: {loops}",
            "    review: {result: PASS, attempts: 1}",
        ]
    (data / "execution-log.yaml").write_text("\n".join(lines) + "\n")
    criteria = root / "criteria"
    criteria.mkdir(exist_ok=True)
    (criteria / f"{phase}.yaml").write_text(
        f"phase: {phase}\ndata: phase-{phase}\nrequires: {requires}\n"
        "decisions:\n  adopt_model:\n    model: haiku\n    min_success_rate: 70%\n"
        "    min_sample_size: 3\n" + decisions + "criteria:\n"
        "  - id: rate\n    metric: success_rate\n    model: haiku\n    min: 70%\n" + criterion
    )


def read_report(folder: Path, name: str = "r.json") -> dict[str, Any]:
    """The JSON report a phase run wrote into ``folder``."""
    data: dict[str, Any] = json.loads((folder / name).read_text())
    return data

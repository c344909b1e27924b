"""Paths and helpers shared by the plugin and core tests (importable: pythonpath = tests)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
A1_LOG = "docs/orchestration-data/phase-a1-r03-r06/execution-log.yaml"
A2_LOG = "docs/orchestration-data/phase-a2-r03-r06-r07/execution-log.yaml"
A3_LOG = "docs/orchestration-data/phase-a3-r03-r06-r07/execution-log.yaml"

Edit = Callable[[str, str, str], None]


def fail_a2(edit: Edit) -> None:
    """Make phase a2 fail: Haiku needed three fix loops on R03."""
    edit(
        A2_LOG,
        "      fix_loops: 1\n      errors_encountered:",
        "      fix_loops: 3\n      errors_encountered:",
    )

"""Hook specifications of pytest-orchphase (kept import-light: pytest loads them at start-up)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pytest_orchphase.metrics.registry import Registry


@pytest.hookspec
def pytest_orchphase_register_metrics(registry: Registry) -> None:
    """Register extra metrics that YAML criteria can then name.

    Called once per run, when a phase is asked for, before any criteria file is read::

        def pytest_orchphase_register_metrics(registry):
            registry.register(
                "review_tokens_share", scope="phase", unit="percent",
                formula="review tokens / tokens × 100",
                fn=lambda ctx, ticket, params: ...,
            )
    """

"""The fixture that hands a test the phase being evaluated."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def orchphase_phase(request: pytest.FixtureRequest) -> Any:
    """The phase being evaluated (``PhaseView``), for checks YAML cannot express. Skips when no
    phase was asked for."""
    session = request.config.pluginmanager.get_plugin("orchphase-session")
    if session is None:
        pytest.skip("no phase asked for: run with --phase NAME")
    from pytest_orchphase.evaluate.view import PhaseView

    return PhaseView(session.settings.phase, session.settings.runner)

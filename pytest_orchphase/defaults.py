"""The settings' defaults and the phase's environment variable: plain names, kept apart from
:mod:`pytest_orchphase.settings` so that the plugin, which names them in its options' help,
imports nothing more when no phase is asked for."""

from __future__ import annotations

DEFAULT_CRITERIA = "criteria"
DEFAULT_DATA = "docs/orchestration-data"
#: The environment variable that names the phase to run.
ENV_PHASE = "ORCHPHASE_PHASE"
#: The pytest configuration files a project's settings may come from, in pytest's order.
CONFIG_FILES = (
    "pytest.toml",
    ".pytest.toml",
    "pytest.ini",
    ".pytest.ini",
    "pyproject.toml",
    "tox.ini",
    "setup.cfg",
)
#: The ini option that names the phase to run.
INI_PHASE = "orchphase_phase"

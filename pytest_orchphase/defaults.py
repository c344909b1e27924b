"""The settings' defaults and the phase's environment variable: plain names, kept apart from
:mod:`pytest_orchphase.settings` so that the plugin, which names them in its options' help,
imports nothing more when no phase is asked for."""

from __future__ import annotations

DEFAULT_CRITERIA = "criteria"
DEFAULT_DATA = "docs/orchestration-data"
#: The environment variable that names the phase to run.
ENV_PHASE = "ORCHPHASE_PHASE"

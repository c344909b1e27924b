"""pytest hooks and options of pytest-orchphase.

Nothing heavy is imported here: without a phase the plugin registers its options and marker and
does nothing else. Everything else is imported once ``--phase`` (or ``ORCHPHASE_PHASE``, or the
``orchphase_phase`` ini option) asks for a phase.
"""

from __future__ import annotations

import os

import pytest

from pytest_orchphase.defaults import ENV_PHASE
from pytest_orchphase.plugin.fixtures import orchphase_phase
from pytest_orchphase.plugin.options import (
    add_options,
    given_twice,
    phase_may_be_asked,
    resolve_settings,
    set_twice,
    typed,
)

__all__ = ["orchphase_phase"]


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    from pytest_orchphase.plugin import hookspecs as hooks

    pluginmanager.add_hookspecs(hooks)


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_load_initial_conftests(early_config: pytest.Config, parser: pytest.Parser) -> None:
    """The command line parsed with every option known, kept before any conftest loads: pytest
    chose its configuration from it without the installed plugins' options."""
    from pytest_orchphase.plugin.command_line import remember_command_line

    remember_command_line(early_config, parser)


#: Set once this plugin's configure has run: the run is then this plugin's to end (a phase
#: run's session writes its reports), or no phase was asked.
_CONFIGURED = pytest.StashKey[bool]()


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_CONFIGURED] = True
    config.addinivalue_line(
        "markers", "orchphase: a success criterion or phase gate collected by pytest-orchphase"
    )
    if not phase_may_be_asked(config):
        return
    invocation = config.invocation_params
    args = typed([str(a) for a in invocation.args], invocation.dir)
    if twice := given_twice(args, invocation.dir) or set_twice(config, args):
        raise pytest.UsageError(f"pytest-orchphase: {twice}")
    from pytest_orchphase.errors import OrchphaseError

    try:
        resolved = resolve_settings(config)
    except OrchphaseError as exc:
        # pytest read its configuration; ours could not be: an error only for a phase run.
        asked = config.getoption("orchphase_phase") or os.environ.get(ENV_PHASE)
        if asked or config.getini("orchphase_phase"):
            raise pytest.UsageError(f"pytest-orchphase: {exc}") from None
        return
    phase = resolved.phase.text
    if not phase:
        return
    from pytest_orchphase.plugin.session import start_phase_run

    start_phase_run(config, resolved, phase)


def pytest_unconfigure(config: pytest.Config) -> None:
    """A phase run stopped before this plugin's configure started it (a project's
    ``pytest_configure`` ran first and called ``pytest.exit``, or failed): see
    :func:`~pytest_orchphase.plugin.session.stopped_before_start`. A started phase run's
    session handles its own end."""
    if config.stash.get(_CONFIGURED, False) or not phase_may_be_asked(config):
        return
    if config.pluginmanager.get_plugin("session") is None:
        return  # no session was made (--help, --version): nothing ran
    from pytest_orchphase.plugin.session import stopped_before_start

    stopped_before_start(config)

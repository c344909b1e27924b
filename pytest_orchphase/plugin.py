"""pytest hooks and options of pytest-orchphase.

Nothing heavy is imported here: without a phase the plugin registers its options and marker and
does nothing else. Everything else is imported once ``--phase`` (or ``ORCHPHASE_PHASE``, or the
``orchphase_phase`` ini option) asks for a phase.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

ENV_PHASE = "ORCHPHASE_PHASE"
DEFAULT_CRITERIA = "criteria"
DEFAULT_DATA = "docs/orchestration-data"


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    from pytest_orchphase import hooks

    pluginmanager.add_hookspecs(hooks)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("orchphase", "orchestration phase criteria (pytest-orchphase)")
    group.addoption(
        "--phase",
        "--orchphase-phase",
        dest="orchphase_phase",
        metavar="NAME",
        default=None,
        help="evaluate phase NAME's criteria (criteria/NAME.yaml) on its data instead of "
        f"collecting tests. Falls back to ${ENV_PHASE}, then the orchphase_phase ini option.",
    )
    group.addoption(
        "--orchphase-data",
        dest="orchphase_data",
        metavar="DIR",
        default=None,
        help=f"folder holding the phases' data folders (default: {DEFAULT_DATA})",
    )
    group.addoption(
        "--orchphase-criteria",
        dest="orchphase_criteria",
        metavar="DIR",
        default=None,
        help=f"folder holding <phase>.yaml criteria files (default: {DEFAULT_CRITERIA})",
    )
    group.addoption(
        "--orchphase-prices",
        dest="orchphase_prices",
        metavar="FILE",
        default=None,
        help="a price file merged over the shipped prices (see README: Prices)",
    )
    group.addoption(
        "--orchphase-json",
        dest="orchphase_json",
        metavar="FILE",
        default=None,
        help="write the phase's canonical JSON report to FILE (whole or not at all)",
    )
    group.addoption(
        "--orchphase-md",
        dest="orchphase_md",
        metavar="FILE",
        default=None,
        help="write the phase's markdown analysis to FILE (and its chart beside it); also "
        "appended to $GITHUB_STEP_SUMMARY when that is set",
    )
    group.addoption(
        "--orchphase-no-gate",
        dest="orchphase_no_gate",
        action="store_true",
        default=False,
        help="pass the phase-gate items with a warning even when a required phase failed",
    )
    parser.addini("orchphase_phase", "phase to evaluate when --phase is not given", default="")
    parser.addini("orchphase_data", "folder of the phases' data folders", default="")
    parser.addini("orchphase_criteria", "folder of <phase>.yaml criteria files", default="")
    parser.addini("orchphase_prices", "price file merged over the shipped prices", default="")


def _output(config: pytest.Config, option: str) -> Path | None:
    """A path given on the command line, relative to the directory pytest was started in."""
    given = config.getoption(option)
    return Path(config.invocation_params.dir / str(given)).resolve() if given else None


def _folder(config: pytest.Config, option: str, ini: str, default: str) -> Path:
    """Command line (relative to the invocation dir) > ini (relative to the ini file) > default."""
    given = _output(config, option)
    if given is not None:
        return given
    base = config.inipath.parent if config.inipath else config.rootpath
    from_ini = str(config.getini(ini) or "")
    return Path(base / (from_ini or default)).resolve()


def _phase(config: pytest.Config) -> tuple[str, str]:
    """The phase asked for and where it came from: command line > environment > ini."""
    if given := config.getoption("orchphase_phase"):
        return str(given), "--phase"
    if given := os.environ.get(ENV_PHASE):
        return given, f"the environment variable {ENV_PHASE}"
    if given := str(config.getini("orchphase_phase") or ""):
        where = config.inipath.name if config.inipath else "the ini file"
        return given, f"orchphase_phase in {where}"
    return "", ""


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "orchphase: a success criterion or phase gate collected by pytest-orchphase"
    )
    phase, phase_from = _phase(config)
    if not phase:
        return

    from pytest_orchphase.errors import OrchphaseError
    from pytest_orchphase.gate import check_graph
    from pytest_orchphase.items import PhaseSession, PhaseSettings
    from pytest_orchphase.metrics import REGISTRY
    from pytest_orchphase.phase import require_phase
    from pytest_orchphase.runner import PhaseRunner

    criteria_dir = _folder(config, "orchphase_criteria", "orchphase_criteria", DEFAULT_CRITERIA)
    data_root = _folder(config, "orchphase_data", "orchphase_data", DEFAULT_DATA)
    given_prices = config.getoption("orchphase_prices") or config.getini("orchphase_prices")
    prices = _folder(config, "orchphase_prices", "orchphase_prices", "") if given_prices else None
    registry = REGISTRY.copy()
    config.hook.pytest_orchphase_register_metrics(registry=registry)
    runner = PhaseRunner(criteria_dir, data_root, registry=registry, prices=prices)
    try:
        criteria_file = require_phase(criteria_dir, phase)
        check_graph(criteria_dir, phase, load=runner.criteria)
        if prices is not None:  # read now: a broken price file fails every run, measured or not
            from pytest_orchphase.transcripts.price_file import check_price_file

            check_price_file(prices)
        from pytest_orchphase.report.write import check_output_path

        outputs = [_output(config, "orchphase_json"), _output(config, "orchphase_md")]
        for path in filter(None, outputs):
            check_output_path(path)
    except OrchphaseError as exc:
        raise pytest.UsageError(f"pytest-orchphase: {exc}") from None

    # A phase run evaluates the phase's criteria, not the project's test suite: the default
    # test paths give way to the criteria file (and the header and summary say so, since an
    # exported ORCHPHASE_PHASE would otherwise turn a plain `pytest` into a phase run quietly);
    # explicitly named paths are collected as well.
    not_collected: list[str] = []
    if config.args_source != pytest.Config.ArgsSource.ARGS:
        source = config.args_source == pytest.Config.ArgsSource.TESTPATHS
        not_collected = [
            f"{'testpaths' if source else 'the current directory'}: " + " ".join(config.args)
        ]
    settings = PhaseSettings(
        phase=phase,
        criteria_file=criteria_file,
        runner=runner,
        no_gate=bool(config.getoption("orchphase_no_gate")),
        json_path=outputs[0],
        md_path=outputs[1],
        phase_from=phase_from,
        not_collected=not_collected,
    )
    config.pluginmanager.register(PhaseSession(settings), "orchphase-session")
    if not_collected:
        config.args = [str(criteria_file)]
    elif not any(Path(a.split("::")[0]).resolve() == criteria_file for a in config.args):
        config.args = [*config.args, str(criteria_file)]


@pytest.fixture
def orchphase_phase(request: pytest.FixtureRequest) -> Any:
    """The phase being evaluated (``PhaseView``), for checks YAML cannot express. Skips when no
    phase was asked for."""
    session = request.config.pluginmanager.get_plugin("orchphase-session")
    if session is None:
        pytest.skip("no phase asked for: run with --phase NAME")
    from pytest_orchphase.view import PhaseView

    return PhaseView(session.settings.phase, session.settings.runner)

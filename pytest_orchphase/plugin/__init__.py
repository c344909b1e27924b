"""pytest hooks and options of pytest-orchphase.

Nothing heavy is imported here: without a phase the plugin registers its options and marker and
does nothing else. Everything else is imported once ``--phase`` (or ``ORCHPHASE_PHASE``, or the
``orchphase_phase`` ini option) asks for a phase.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pytest_orchphase.settings import DEFAULT_CRITERIA, DEFAULT_DATA, PHASE

if TYPE_CHECKING:
    from pytest_orchphase.settings import Settings

ENV_PHASE = PHASE.env


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    from pytest_orchphase.plugin import hookspecs as hooks

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
        help="folder holding the phases' data folders (default: $ORCHPHASE_DATA, else the "
        f"orchphase_data ini option, else {DEFAULT_DATA}; see README: Where the settings come "
        "from)",
    )
    group.addoption(
        "--orchphase-criteria",
        dest="orchphase_criteria",
        metavar="DIR",
        default=None,
        help="folder holding <phase>.yaml criteria files (default: $ORCHPHASE_CRITERIA, else "
        f"the orchphase_criteria ini option, else {DEFAULT_CRITERIA})",
    )
    group.addoption(
        "--orchphase-prices",
        dest="orchphase_prices",
        metavar="FILE",
        default=None,
        help="a price file merged over the shipped prices (see README: Prices; default: "
        "$ORCHPHASE_PRICES, else the orchphase_prices ini option)",
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


def _resolved(path: Path) -> Path:
    """``path`` resolved; a symbolic link loop is left as it is, for the check that names it."""
    from pytest_orchphase.errors import resolve_path

    try:
        return resolve_path(path)
    except OSError:
        return path.absolute()


def _output(config: pytest.Config, option: str) -> Path | None:
    """A path given on the command line, relative to the directory pytest was started in."""
    given = config.getoption(option)
    return _resolved(config.invocation_params.dir / str(given)) if given else None


def _settings(config: pytest.Config) -> Settings:
    """The phase and folders, from the project's own configuration file (found from the
    invocation directory, never from pytest's rootdir: see :mod:`pytest_orchphase.settings`)."""
    from pytest_orchphase.settings import (
        INI_OPTIONS,
        ProjectConfig,
        find_config,
        load_config,
        resolve,
    )

    cwd = config.invocation_params.dir
    if config.option.inifilename and config.inipath is not None:  # -c FILE: named explicitly
        # a path that is not a file (-c /dev/null) asks for no configuration, as for pytest
        is_file = config.inipath.is_file()
        project = load_config(config.inipath) if is_file else ProjectConfig(None, cwd)
    else:
        project = find_config(cwd)
    overrides: dict[str, str] = {}
    for item in config.option.override_ini or ():
        name, sep, value = item.partition("=")
        if sep and name in INI_OPTIONS:
            overrides[name] = value
    given = {
        name: (config.getoption(f"orchphase_{name}"), spelled)
        for name, spelled in (
            ("phase", "--phase"),
            ("criteria", "--orchphase-criteria"),
            ("data", "--orchphase-data"),
            ("prices", "--orchphase-prices"),
        )
    }
    return resolve(cwd, os.environ, project, given, overrides)


def _check_rootdir(config: pytest.Config, settings: Settings) -> None:
    """Warn when pytest settled on another configuration than the project's. The warning is
    located at the project's configuration file, the file the user can act on."""
    import warnings

    from _pytest.config import apply_warning_filters

    from pytest_orchphase.errors import display
    from pytest_orchphase.plugin.collect import OrchphaseWarning

    project = settings.config
    if config.option.inifilename:  # -c FILE: pytest's choice is the user's, and ours
        return
    if hasattr(config, "workerinput"):  # an xdist worker: the controller warns, once
        return
    if config.inipath == project.path and (
        project.path is not None or config.rootpath == project.base
    ):
        return
    if config.pluginmanager.is_blocked("warnings"):
        return
    pytest_choice = display(config.inipath) if config.inipath else "no configuration file"
    warning = OrchphaseWarning(
        f"pytest chose rootdir {display(config.rootpath)} and {pytest_choice}; pytest-orchphase "
        f"reads the project's configuration, {project.describe()}, and its folders from "
        f"{project.base}. pytest takes command-line values that are existing paths "
        "(like `--orchphase-json PATH`) for test paths (pytest issues #906, #8846): write "
        "`--orchphase-json=PATH`, or pass --rootdir or -c, so that pytest agrees."
    )
    where = str(project.path or project.base)
    with warnings.catch_warnings(record=True) as records:
        warnings.simplefilter("always", OrchphaseWarning)
        apply_warning_filters(
            config.getini("filterwarnings"), config.known_args_namespace.pythonwarnings or []
        )
        try:
            warnings.warn_explicit(warning, OrchphaseWarning, filename=where, lineno=1)
        except OrchphaseWarning as exc:  # -W error: the run stops here, as a usage error
            raise pytest.UsageError(f"pytest-orchphase: {exc}") from None
    if records:
        config.hook.pytest_warning_recorded.call_historic(
            kwargs={
                "warning_message": records[0],
                "when": "config",
                "nodeid": "",
                "location": (where, 1, "pytest_configure"),
            }
        )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "orchphase: a success criterion or phase gate collected by pytest-orchphase"
    )
    from pytest_orchphase.errors import OrchphaseError

    try:
        resolved = _settings(config)
    except OrchphaseError as exc:
        # pytest read its configuration; ours could not be: an error only for a phase run.
        asked = config.getoption("orchphase_phase") or os.environ.get(ENV_PHASE)
        if asked or config.getini("orchphase_phase"):
            raise pytest.UsageError(f"pytest-orchphase: {exc}") from None
        return
    phase = resolved.phase.text
    if not phase:
        return

    from pytest_orchphase.evaluate.runner import PhaseRunner
    from pytest_orchphase.load.phase import require_phase
    from pytest_orchphase.load.requires import check_graph
    from pytest_orchphase.metrics.registry import REGISTRY
    from pytest_orchphase.plugin.collect import PhaseSession, PhaseSettings

    _check_rootdir(config, resolved)
    criteria_dir, data_root = resolved.criteria_dir, resolved.data_root
    prices = resolved.prices.path
    registry = REGISTRY.copy()
    config.hook.pytest_orchphase_register_metrics(registry=registry)
    runner = PhaseRunner(criteria_dir, data_root, registry=registry, prices=prices)
    try:
        criteria_file = require_phase(criteria_dir, phase)
        check_graph(criteria_dir, phase, load=runner.criteria)
        if prices is not None:  # read now: a broken price file fails every run, measured or not
            from pytest_orchphase.usage.price_file import check_price_file

            check_price_file(prices)
        from pytest_orchphase.files import check_output_path

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
        phase_from=resolved.phase.source(),
        not_collected=not_collected,
        configuration=_folders_line(resolved),
        project=resolved.config.base if resolved.config.path is not None else None,
    )
    config.pluginmanager.register(PhaseSession(settings), "orchphase-session")
    if config.getoption("collectonly") and not config.getoption("stepwise", False):
        # pytest < 8.4's stepwise plugin clears its cache at the end of every session, --co
        # included, creating .pytest_cache: a --co phase run must write nothing.
        config.pluginmanager.unregister(name="stepwise")
    if not_collected:
        config.args = [str(criteria_file)]
    elif not any(_resolved(Path(a.split("::")[0])) == criteria_file for a in config.args):
        config.args = [*config.args, str(criteria_file)]


def _folders_line(resolved: Settings) -> str:
    from pytest_orchphase.errors import display

    parts = [f"configuration {resolved.config.describe()}"]
    for setting in (resolved.criteria, resolved.data, resolved.prices):
        if setting.path is not None:
            parts.append(f"{setting.key.name} {display(setting.path)} ({setting.describe()})")
    return "orchphase: " + ", ".join(parts)


@pytest.fixture
def orchphase_phase(request: pytest.FixtureRequest) -> Any:
    """The phase being evaluated (``PhaseView``), for checks YAML cannot express. Skips when no
    phase was asked for."""
    session = request.config.pluginmanager.get_plugin("orchphase-session")
    if session is None:
        pytest.skip("no phase asked for: run with --phase NAME")
    from pytest_orchphase.evaluate.view import PhaseView

    return PhaseView(session.settings.phase, session.settings.runner)

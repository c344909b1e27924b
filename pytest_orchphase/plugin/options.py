"""The plugin's options, and the settings they resolve to (shared with the CLI through
:mod:`pytest_orchphase.settings`): the phase, the folders, the output paths."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pytest_orchphase.defaults import (
    CONFIG_FILES,
    DEFAULT_CRITERIA,
    DEFAULT_DATA,
    ENV_PHASE,
    INI_PHASE,
)

if TYPE_CHECKING:
    from pytest_orchphase.settings import Settings


def add_options(parser: pytest.Parser) -> None:
    """The plugin's command-line options and their ini twins (see README: Options)."""
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
    _add_switches(group)
    parser.addini("orchphase_phase", "phase to evaluate when --phase is not given", default="")
    parser.addini("orchphase_data", "folder of the phases' data folders", default="")
    parser.addini("orchphase_criteria", "folder of <phase>.yaml criteria files", default="")
    parser.addini("orchphase_prices", "price file merged over the shipped prices", default="")


def _add_switches(group: pytest.OptionGroup) -> None:
    group.addoption(
        "--orchphase-no-gate",
        dest="orchphase_no_gate",
        action="store_true",
        default=False,
        help="pass the phase-gate items with a warning even when a required phase failed",
    )
    group.addoption(
        "--orchphase-no-cache",
        dest="orchphase_no_cache",
        action="store_true",
        default=False,
        help="read every transcript whole, without the scan cache kept in pytest's cache "
        "folder (--cache-clear empties it; -p no:cacheprovider turns it off too)",
    )


#: The plugin's options that take a value, each with its spellings on the command line.
VALUE_OPTIONS = (
    ("--phase", "--orchphase-phase"),
    ("--orchphase-data",),
    ("--orchphase-criteria",),
    ("--orchphase-prices",),
    ("--orchphase-json",),
    ("--orchphase-md",),
)


#: The plugin's settings pytest's ``-o NAME=VALUE`` may set too: the ini name, the option's
#: destination and how it is spelled.
_INI_OF = (
    ("orchphase_phase", "orchphase_phase", "--phase"),
    ("orchphase_data", "orchphase_data", "--orchphase-data"),
    ("orchphase_criteria", "orchphase_criteria", "--orchphase-criteria"),
    ("orchphase_prices", "orchphase_prices", "--orchphase-prices"),
)


def typed(args: Sequence[str], folder: Path, depth: int = 0) -> list[str]:
    """The command line ``args`` as pytest reads them: each ``@FILE`` (argparse's argument
    file, one argument per line, relative to ``folder``) replaced by what it holds, itself
    expanded. One that cannot be read is left as it is (pytest says so)."""
    out: list[str] = []
    for n, arg in enumerate(args):
        if arg == "--":
            return out + list(args[n:])
        if arg.startswith("@") and depth < 20:
            try:
                text = (folder / arg[1:]).read_text()
            except (OSError, UnicodeDecodeError, ValueError):
                out.append(arg)
                continue
            out += typed(text.splitlines(), folder, depth + 1)
        else:
            out.append(arg)
    return out


def _value_of(items: Sequence[str], n: int) -> tuple[tuple[str, ...], str, str] | None:
    """The plugin option ``items[n]`` sets (its spellings, the name typed, the value), or
    None: ``--phase p1``, ``--phase=p1``."""
    spelled = {name: option for option in VALUE_OPTIONS for name in option}
    name, sep, value = items[n].partition("=")
    if name not in spelled:
        return None
    if not sep:
        if n + 1 >= len(items):
            return None  # pytest says the value is missing
        value = items[n + 1]
    return spelled[name], name, value


def set_twice(config: pytest.Config, typed_args: Sequence[str]) -> str | None:
    """Why the run is refused: a setting given by its option and by pytest's ``-o`` with two
    values where the one the settings take (the option) is not the one typed, or typed twice
    by ``-o``; so the other phase (or folder) asked for would never be looked at. The option
    typed beats an ``-o`` from ``addopts`` or ``PYTEST_ADDOPTS``, and a typed ``-o`` another
    ``-o`` from there, as the command line should; a typed ``-o`` against an option from there,
    or typed beside the option, is the error. What was typed is ``typed_args`` read by pytest's
    own parser (``-vo NAME=…`` is an ``-o`` too). None when there is no such conflict."""
    merged = _overrides(config.option.override_ini)
    typed_ns = _typed(config, typed_args)
    typed_o = _overrides(getattr(typed_ns, "override_ini", None)) if typed_ns else merged
    for ini, dest, spelled in _INI_OF:
        if typed_ns is not None:
            values = {value for key, _, value in _split(typed_ns.override_ini) if key == ini}
            if len(values) > 1:
                both = " and ".join(f"`-o {ini}={v}`" for v in sorted(values))
                return f"{both} typed for one setting: pytest would keep the last alone; give one"
        option, override = config.getoption(dest), merged.get(ini)
        if not option or override is None or override == option:
            continue
        typed_option = getattr(typed_ns, dest, None) if typed_ns is not None else option
        if typed_option and ini not in typed_o:
            continue  # the option typed beats an -o from addopts: the command line wins
        return (
            f"`{spelled} {option}` and `-o {ini}={override}` set one setting: the option would "
            "be kept and the other never looked at; give one"
        )
    return None


def _split(items: Sequence[str] | None) -> list[tuple[str, str, str]]:
    return [item.partition("=") for item in items or ()]


def _overrides(items: Sequence[str] | None) -> dict[str, str]:
    """The value of each ini name its last ``-o NAME=VALUE`` gives (as pytest takes it)."""
    return {key: value for key, sep, value in _split(items) if sep}


def _typed(config: pytest.Config, args: Sequence[str]) -> Any:
    """``args`` (the command line as typed) as pytest's own parser reads them, None when it
    cannot (then every value counts as typed)."""
    try:
        return config._parser.parse_known_args(list(args))
    except (Exception, SystemExit):  # pragma: no cover - pytest parsed them already
        return None


def given_twice(args: Sequence[str], folder: Path) -> str | None:
    """Why the command line ``args`` (as typed: ``config.invocation_params.args``) is refused:
    one of the plugin's options given two different values (``--phase p0 --phase p1``, either
    spelling, with a space or ``=``), of which pytest would keep the last without a word, so
    that a phase asked for is never evaluated, or a report asked for never written (an older
    one left there speaking for this run). None when it is not. A value from ``addopts`` or
    ``PYTEST_ADDOPTS`` that the command line overrides is not in ``args``: overriding it is
    what the command line is for. Paths are compared as the files they name, relative to
    ``folder`` (where pytest was started): ``a.json`` and ``./a.json`` are one value."""
    values: dict[tuple[str, ...], list[tuple[str, str]]] = {}
    items = list(args)
    for n, arg in enumerate(items):
        if arg == "--":
            break
        found = _value_of(items, n)
        if found is not None:
            option, name, value = found
            values.setdefault(option, []).append((name, value))
    for option, given in values.items():
        same = str if option == VALUE_OPTIONS[0] else (lambda v: report_path(folder / v))
        if len({same(value) for _, value in given}) > 1:
            both = " and ".join(f"`{name} {value}`" for name, value in given)
            one = "evaluate one phase per run" if option == VALUE_OPTIONS[0] else "give one"
            return f"{both} given on one command line: pytest would keep the last alone; {one}"
    return None


def resolved_path(path: Path) -> Path:
    """``path`` resolved; a symbolic link loop is left as it is, for the check that names it."""
    from pytest_orchphase.errors import resolve_path

    try:
        return resolve_path(path)
    except OSError:
        return path.absolute()


def output_path(config: pytest.Config, option: str) -> Path | None:
    """A path given on the command line, relative to the directory pytest was started in;
    resolved, but for a special file (``/dev/stdout``, a named pipe), written into by the name
    given: ``/dev/stdout`` resolves to ``/proc/<pid>/fd/1``'s target, which a pipe's
    (``pipe:[n]``) is no path to open."""
    given = config.getoption(option)
    return report_path(config.invocation_params.dir / str(given)) if given else None


def report_path(path: Path) -> Path:
    """Where a report given as ``path`` goes: resolved, but for a special file (a descriptor of
    this process such as ``/dev/stdout``, a named pipe, a device), written into by the name
    given: ``/dev/stdout`` on a pipe resolves to ``pipe:[n]``, which is no path to open."""
    from pytest_orchphase.files import is_special

    return path.absolute() if is_special(path) else resolved_path(path)


def phase_may_be_asked(config: pytest.Config) -> bool:
    """Whether this run may be asked for a phase: by ``--phase``, ``-o orchphase_phase=``,
    the environment, or a configuration file it could come from (pytest's own, or any from
    the invocation folder up) that mentions the option at all. When none does, no phase is
    asked, and the project's configuration need not be read: an installed plugin costs a run
    without a phase nothing but this look."""
    if config.getoption("orchphase_phase") or os.environ.get(ENV_PHASE):
        return True
    if any(item.startswith(INI_PHASE) for item in config.option.override_ini or ()):
        return True
    start = config.invocation_params.dir
    candidates = [config.inipath] if config.inipath is not None else []
    candidates += [folder / name for folder in (start, *start.parents) for name in CONFIG_FILES]
    for path in candidates:
        try:
            if INI_PHASE.encode() in path.read_bytes():
                return True
        except OSError:  # absent, a folder, unreadable: the full lookup will say
            continue
    return False


def resolve_settings(config: pytest.Config) -> Settings:
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


def check_rootdir(config: pytest.Config, settings: Settings) -> None:
    """A usage error when pytest took an option's value for a test path and so read another
    configuration than the command line asks for (see :mod:`.command_line`): the run would not
    be the project's. A warning when pytest's configuration is not the project's otherwise (a
    test path named elsewhere, or a choice that changes none of pytest's settings), located at
    the project's configuration file, the file the user can act on."""
    import warnings

    from _pytest.config import apply_warning_filters

    from pytest_orchphase.errors import display
    from pytest_orchphase.plugin.collect import OrchphaseWarning
    from pytest_orchphase.plugin.command_line import configuration_dropped

    project = settings.config
    if config.option.inifilename:  # -c FILE: pytest's choice is the user's, and ours
        return
    if hasattr(config, "workerinput"):  # an xdist worker: the controller checks, once
        return
    dropped = configuration_dropped(config)
    if dropped is not None:
        raise pytest.UsageError(f"pytest-orchphase: {dropped}")
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
        "`--orchphase-json=PATH`, or pass -c (or --rootdir, without a configuration file), so "
        "that pytest agrees."
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


def folders_line(resolved: Settings) -> str:
    from pytest_orchphase.errors import display

    parts = [f"configuration {resolved.config.describe()}"]
    for setting in (resolved.criteria, resolved.data, resolved.prices):
        if setting.path is not None:
            parts.append(f"{setting.key.name} {display(setting.path)} ({setting.describe()})")
    return "orchphase: " + ", ".join(parts)

"""Whether pytest read the run's command line as the user meant it when it chose its rootdir
and configuration file.

pytest chooses them before it loads installed plugins, so it takes the values of their options
that are existing paths for test paths (pytest issues #906, #8846): the second
``pytest --phase a1 --orchphase-json /out/r.json`` roots pytest in ``/out``, where it finds no
configuration file, and the project's ``addopts`` (the Python checks run beside the phase among
them), ``markers`` and ``filterwarnings`` silently do not apply. Such a run is a usage error,
unless what pytest chose provably changes nothing: neither file holds a pytest setting besides
``orchphase_*`` (which the plugin reads from the project itself), and no ``conftest.py`` is
loaded or left out because of the other rootdir.
"""

from __future__ import annotations

import inspect
import os
import shlex
from collections import Counter
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import pytest

from pytest_orchphase.errors import OrchphaseError, display


@dataclass(frozen=True)
class CommandLine:
    """The command line pytest chose its configuration from (``PYTEST_ADDOPTS``, then the
    arguments), parsed with every option known."""

    #: the test paths it names, as pytest would take them once it knows every option
    paths: tuple[str, ...]
    #: ``(option, value)``: values of options, spelled with a space, that are existing paths
    values: tuple[tuple[str, str], ...]
    rootdir: str | None
    confcutdir: str | None


COMMAND_LINE = pytest.StashKey[CommandLine]()


def remember_command_line(config: pytest.Config, parser: pytest.Parser) -> None:
    """Keep the command line parsed with every option known (called once the installed
    plugins are loaded, before any conftest), for :func:`configuration_dropped`."""
    given = [str(arg) for arg in config.invocation_params.args]
    args = [*shlex.split(os.environ.get("PYTEST_ADDOPTS", "")), *given]
    try:
        namespace = parser.parse_known_args(args)
    except pytest.UsageError:  # pytest says so itself, with its own words
        return
    paths = [str(path) for path in namespace.file_or_dir or ()]
    unclaimed = Counter(paths)
    values: list[tuple[str, str]] = []
    for before, arg in pairwise(["", *args]):
        if arg.startswith("-"):
            continue
        if unclaimed[arg]:
            unclaimed[arg] -= 1
        elif before.startswith("-") and "=" not in before and _exists(config, arg):
            values.append((before, arg))
    config.stash[COMMAND_LINE] = CommandLine(
        tuple(paths), tuple(values), namespace.rootdir or None, namespace.confcutdir
    )


def _exists(config: pytest.Config, arg: str) -> bool:
    try:
        return (config.invocation_params.dir / arg.split("::")[0]).exists()
    except (OSError, ValueError):
        return False


@dataclass(frozen=True)
class Setup:
    """pytest's choice: its rootdir and configuration file."""

    rootdir: Path
    inipath: Path | None

    @property
    def confcutdir(self) -> Path:
        """Where pytest stops looking up for ``conftest.py`` files (without --confcutdir)."""
        return self.inipath.parent if self.inipath is not None else self.rootdir

    def describe(self) -> str:
        config = display(self.inipath) if self.inipath is not None else "no configuration file"
        return f"rootdir {self.rootdir} and {config}"


def _pytest_setup(config: pytest.Config, paths: list[str], rootdir: str | None) -> Setup:
    """What pytest chooses for these test paths, by its own code (its signature differs
    between pytest 8.0 and 9)."""
    from _pytest.config.findpaths import determine_setup

    cwd = config.invocation_params.dir
    given: dict[str, object] = {
        "inifile": None,
        "args": [str(cwd / path) for path in paths],
        "rootdir_cmd_arg": rootdir,
        "invocation_dir": cwd,
        "override_ini": None,
    }
    accepted = inspect.signature(determine_setup).parameters
    found = determine_setup(**{k: v for k, v in given.items() if k in accepted})  # type: ignore[arg-type]
    return Setup(Path(found[0]), None if found[1] is None else Path(found[1]))


#: pytest settings that cannot change what a phase run decides: the default test paths (a
#: phase run collects its criteria file instead, see plugin/session.py), marker declarations
#: (an unknown marker is an error only under strict markers, itself a setting that counts),
#: and where pytest's cache lives and the version it asks for
NO_BEARING = frozenset({"testpaths", "markers", "minversion", "required_plugins", "cache_dir"})


def _own_settings(path: Path | None) -> list[str] | None:
    """The pytest settings a configuration file holds besides the plugin's (which the plugin
    reads from the project's file itself) and those with no bearing on a phase run
    (:data:`NO_BEARING`); None when the file cannot be read."""
    from pytest_orchphase.settings import INI_OPTIONS, file_settings

    if path is None:
        return []
    try:
        settings = file_settings(path) or {}
    except OrchphaseError:
        return None
    return sorted(n for n in settings if n not in INI_OPTIONS and n not in NO_BEARING)


def configuration_dropped(config: pytest.Config) -> str | None:
    """Why pytest's configuration is not the one the command line asks for (a usage error
    message), or None when it is, or provably changes nothing."""
    line = config.stash.get(COMMAND_LINE, None)
    if line is None or not line.values:
        return None
    chosen = Setup(config.rootpath, config.inipath)
    try:
        meant = _pytest_setup(config, list(line.paths), line.rootdir)
    except (pytest.UsageError, pytest.fail.Exception) as exc:  # the project's file is broken
        return f"the project's pytest configuration cannot be read: {exc}"
    except (ImportError, AttributeError, TypeError):  # a pytest whose private helper changed:
        return None  # not provable either way; the caller still warns of another configuration
    if meant == chosen:
        return None
    lost: list[str] = []
    if meant.inipath != chosen.inipath:
        for setup, verb in ((meant, "lost"), (chosen, "taken in")):
            names = _own_settings(setup.inipath)
            if names is None:
                lost.append(f"{display(setup.inipath or Path())} cannot be read")
            elif names:
                lost.append(f"settings {verb}: {', '.join(names)}")
    if line.confcutdir is None and meant.confcutdir != chosen.confcutdir:
        moved = set(meant.confcutdir.parents) ^ set(chosen.confcutdir.parents)
        conftests = sorted(folder / "conftest.py" for folder in moved)
        named = [display(path) for path in conftests if path.is_file()]
        if named:
            lost.append(f"conftest.py files loaded otherwise: {', '.join(named)}")
    if not lost:
        return None
    return _message(config, line, meant, chosen, lost)


def _message(
    config: pytest.Config, line: CommandLine, meant: Setup, chosen: Setup, lost: list[str]
) -> str:
    misread = [
        (option, value)
        for option, value in line.values
        if _pytest_setup(config, [*line.paths, value], line.rootdir) != meant
    ] or list(line.values)
    spelled = " and ".join(f"`{option} {value}`" for option, value in misread)
    fixes = " and ".join(f"`{option}={value}`" for option, value in misread)
    if meant.inipath is not None:  # pytest reads the named file whatever the test paths
        fixes += f", or pass `-c {display(meant.inipath)}`"
    elif chosen.inipath is None:  # only the rootdir differs: naming it is enough
        fixes += f", or pass `--rootdir={meant.rootdir}`"
    return (
        f"pytest took the value{'s' if len(misread) > 1 else ''} of {spelled} for a test path "
        "(it chooses its configuration "
        "before it knows the options of installed plugins: pytest issues #906, #8846), and "
        f"so chose {chosen.describe()} instead of {meant.describe()} ({'; '.join(lost)}): "
        f"this run is not the project's, and cannot decide the phase. Write {fixes}."
    )

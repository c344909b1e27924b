"""Where a project's pytest-orchphase settings come from: one lookup for the plugin and the CLI.

The project's configuration is the pytest configuration file found by walking up from the
folder a command was started in, chosen by pytest's own rules: in each folder, in this order,
``pytest.toml``, ``.pytest.toml``, ``pytest.ini``, ``.pytest.ini`` (always, even without a
pytest section), ``pyproject.toml`` with a ``[tool.pytest.ini_options]`` or ``[tool.pytest]``
table, ``tox.ini`` with a ``[pytest]`` section, ``setup.cfg`` with a ``[tool:pytest]`` section;
the nearest folder with one wins; when none has one, the nearest ``pyproject.toml``. Its folder
is the project's base: configured paths and the defaults are relative to it (to the starting
folder when there is no configuration file at all).

pytest itself picks its configuration from the command line's existing paths when there are
some (pytest issues #906, #8846), so ``pytest --orchphase-json /tmp/out/report.json`` may root
pytest in ``/tmp/out``: the folders of a phase never come from pytest's rootdir, always from here.

Each setting is resolved as command line > environment > configuration file > default, and
keeps where its value came from, for the header and for error messages. Plain Python, no pytest.
"""

from __future__ import annotations

import enum
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_orchphase.defaults import DEFAULT_CRITERIA, DEFAULT_DATA, ENV_PHASE
from pytest_orchphase.errors import OrchphaseError, display, resolve_path

if TYPE_CHECKING:
    import configparser


class Origin(enum.Enum):
    COMMAND_LINE = "command line"
    ENVIRONMENT = "environment"
    CONFIG_FILE = "configuration file"
    DEFAULT = "default"


@dataclass(frozen=True)
class Key:
    """One setting: its ini option, environment variable and default (relative to the base)."""

    name: str
    ini: str
    env: str
    default: str | None = None
    is_path: bool = True


PHASE = Key("phase", "orchphase_phase", ENV_PHASE, is_path=False)
CRITERIA = Key("criteria", "orchphase_criteria", "ORCHPHASE_CRITERIA", DEFAULT_CRITERIA)
DATA = Key("data", "orchphase_data", "ORCHPHASE_DATA", DEFAULT_DATA)
PRICES = Key("prices", "orchphase_prices", "ORCHPHASE_PRICES")
KEYS = (PHASE, CRITERIA, DATA, PRICES)
INI_OPTIONS = tuple(k.ini for k in KEYS)


# -- finding and reading the configuration file ----------------------------------------------


def _error(path: Path, message: str) -> OrchphaseError:
    return OrchphaseError(f"{message}; expected a valid pytest configuration file", path=path)


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise _error(path, f"not UTF-8 ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise OrchphaseError(f"cannot be read: {exc.strerror or exc}", path=path) from None


def _ini_sections(path: Path) -> configparser.ConfigParser:
    import configparser  # here: most folders have no ini file to read

    parser = configparser.ConfigParser(interpolation=None, allow_no_value=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys keep their case
    try:
        parser.read_string(_read_text(path), source=str(path))
    except configparser.Error as exc:
        message = re.sub(r"^While reading from .*? \[line +\d+\]: ", "", str(exc).splitlines()[0])
        raise OrchphaseError(
            f"{message.rstrip('.')}; expected a valid pytest configuration file",
            path=path,
            line=getattr(exc, "lineno", None),
        ) from None
    return parser


def _section(parser: configparser.ConfigParser, name: str) -> dict[str, Any]:
    return {k: v for k, v in parser.items(name, raw=True) if k not in parser.defaults()}


def _toml(path: Path) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10: the tomli backport (a conditional dependency)
        import tomli as tomllib
    try:
        return tomllib.loads(_read_text(path))
    except tomllib.TOMLDecodeError as exc:
        where = re.search(r" \(at line (\d+), column (\d+)\)$", str(exc))
        message = str(exc)[: where.start()] if where else str(exc)
        raise OrchphaseError(
            f"invalid TOML: {message}; expected a valid pytest configuration file",
            path=path,
            line=int(where[1]) if where else None,
            column=int(where[2]) if where else None,
        ) from None


def _pytest_ini(path: Path) -> dict[str, Any] | None:
    parser = _ini_sections(path)
    return _section(parser, "pytest") if parser.has_section("pytest") else {}


def _tox_ini(path: Path) -> dict[str, Any] | None:
    parser = _ini_sections(path)
    return _section(parser, "pytest") if parser.has_section("pytest") else None


def _setup_cfg(path: Path) -> dict[str, Any] | None:
    parser = _ini_sections(path)
    if parser.has_section("tool:pytest"):
        return _section(parser, "tool:pytest")
    if parser.has_section("pytest"):
        raise _error(
            path, "a [pytest] section, which pytest refuses in setup.cfg (use [tool:pytest])"
        )
    return None


def _pytest_toml(path: Path) -> dict[str, Any] | None:
    table = _toml(path).get("pytest", {})
    return dict(table) if isinstance(table, dict) else {}


def _pyproject_toml(path: Path) -> dict[str, Any] | None:
    tool = _toml(path).get("tool", {})
    tool_pytest = tool.get("pytest") if isinstance(tool, dict) else None
    if not isinstance(tool_pytest, dict):
        return None
    native = {k: v for k, v in tool_pytest.items() if k != "ini_options"}
    ini_options = tool_pytest.get("ini_options")
    if native:
        return native
    return dict(ini_options) if isinstance(ini_options, dict) else None


#: pytest's configuration files by name, in pytest's order of precedence within a folder; a
#: loader returns the file's pytest settings, or None when the file holds no pytest section.
LOADERS: dict[str, Callable[[Path], dict[str, Any] | None]] = {
    "pytest.toml": _pytest_toml,
    ".pytest.toml": _pytest_toml,
    "pytest.ini": _pytest_ini,
    ".pytest.ini": _pytest_ini,
    "pyproject.toml": _pyproject_toml,
    "tox.ini": _tox_ini,
    "setup.cfg": _setup_cfg,
}


def _custom_toml(path: Path) -> dict[str, Any] | None:
    """A TOML file of another name given with ``-c``: pyproject's tables, else ``[pytest]``."""
    from_tables = _pyproject_toml(path)
    return from_tables if from_tables is not None else _pytest_toml(path)


#: Files of other names, named with ``-c FILE``: read by their suffix, as pytest does.
_BY_SUFFIX: dict[str, Callable[[Path], dict[str, Any] | None]] = {
    ".ini": _tox_ini,
    ".cfg": _setup_cfg,
    ".toml": _custom_toml,
}


@dataclass(frozen=True)
class ProjectConfig:
    """The project's configuration file (None when there is none), its folder (the base of
    relative paths), and the ``orchphase_*`` values it sets."""

    path: Path | None
    base: Path
    values: Mapping[str, str] = field(default_factory=dict)

    def describe(self) -> str:
        if self.path is None:
            return f"no pytest configuration file in {self.base} or above"
        return display(self.path)


def _orchphase_values(path: Path, settings: Mapping[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name in INI_OPTIONS:
        if name not in settings or settings[name] is None:
            continue
        value = settings[name]
        if not isinstance(value, str):
            raise OrchphaseError(
                f"{value!r}; expected a string ("
                + ("a phase name)" if name == PHASE.ini else "a path)"),
                path=path,
                field=name,
            )
        out[name] = value.strip()
    return out


def file_settings(path: Path) -> dict[str, Any] | None:
    """The pytest settings in a configuration file, read as pytest reads a file of its name
    (or, another name, of its suffix); None when it holds no pytest section or is no file."""
    loader = LOADERS.get(path.name) or _BY_SUFFIX.get(path.suffix)
    return loader(path) if loader is not None and path.is_file() else None


def load_config(path: Path) -> ProjectConfig:
    """A configuration file named explicitly (pytest's ``-c FILE``): read whatever its name."""
    path = Path(path).absolute()
    return ProjectConfig(path, path.parent, _orchphase_values(path, file_settings(path) or {}))


def find_config(start: Path) -> ProjectConfig:
    """The project's configuration: the first pytest configuration file from ``start`` up."""
    start = Path(start).absolute()
    first_pyproject: Path | None = None
    for folder in (start, *start.parents):
        for name, loader in LOADERS.items():
            path = folder / name
            if not path.is_file():
                continue
            if name == "pyproject.toml" and first_pyproject is None:
                first_pyproject = path
            settings = loader(path)
            if settings is not None:
                return ProjectConfig(path, folder, _orchphase_values(path, settings))
    if first_pyproject is not None:  # pytest's fallback: a pyproject.toml without a table
        return ProjectConfig(first_pyproject, first_pyproject.parent)
    return ProjectConfig(None, start)


# -- resolving the settings -------------------------------------------------------------------


@dataclass(frozen=True)
class Setting:
    """A setting's value (a resolved path for path settings) and where it came from."""

    key: Key
    value: str | Path | None
    origin: Origin
    where: str  # "--orchphase-data", "ORCHPHASE_DATA", "pyproject.toml", "default"

    def source(self) -> str:
        """Where the value came from, as the header says it."""
        if self.origin is Origin.ENVIRONMENT:
            return f"the environment variable {self.where}"
        if self.origin is Origin.CONFIG_FILE:
            return f"{self.key.ini} in {self.where}"
        return self.where  # "--phase", "-o orchphase_phase", "default"

    def describe(self) -> str:
        return "default" if self.origin is Origin.DEFAULT else f"from {self.source()}"

    @property
    def path(self) -> Path | None:
        return self.value if isinstance(self.value, Path) else None

    @property
    def text(self) -> str | None:
        return self.value if isinstance(self.value, str) else None


@dataclass(frozen=True)
class Settings:
    config: ProjectConfig
    phase: Setting
    criteria: Setting
    data: Setting
    prices: Setting

    @property
    def criteria_dir(self) -> Path:
        assert self.criteria.path is not None  # it has a default
        return self.criteria.path

    @property
    def data_root(self) -> Path:
        assert self.data.path is not None  # it has a default
        return self.data.path


def _setting(
    key: Key,
    given: str | None,
    spelled: str,
    cwd: Path,
    environ: Mapping[str, str],
    config: ProjectConfig,
    overrides: Mapping[str, str],
) -> Setting:
    def value(text: str, base: Path) -> str | Path:
        if not key.is_path:
            return text
        try:
            return resolve_path(base / text)
        except OSError:  # a symbolic link loop: left as it is, for the check that names it
            return (base / text).absolute()

    if given:
        return Setting(key, value(given, cwd), Origin.COMMAND_LINE, spelled)
    if overrides.get(key.ini):  # pytest's -o NAME=VALUE: an ini value, relative to the base
        return Setting(
            key, value(overrides[key.ini], config.base), Origin.COMMAND_LINE, f"-o {key.ini}"
        )
    if environ.get(key.env):
        return Setting(key, value(environ[key.env], cwd), Origin.ENVIRONMENT, key.env)
    if config.values.get(key.ini):
        return Setting(
            key, value(config.values[key.ini], config.base), Origin.CONFIG_FILE, config.describe()
        )
    if key.default is None:
        return Setting(key, None, Origin.DEFAULT, "default")
    return Setting(key, value(key.default, config.base), Origin.DEFAULT, "default")


def resolve(
    cwd: Path,
    environ: Mapping[str, str],
    config: ProjectConfig,
    given: Mapping[str, tuple[str | None, str]] | None = None,
    overrides: Mapping[str, str] | None = None,
) -> Settings:
    """Every setting: command line > environment > configuration file > default.

    ``given`` maps a key's name (``"data"``) to the value given on the command line and the
    option that gave it (``"--orchphase-data"``); ``overrides`` are pytest's ``-o NAME=VALUE``
    ini values. Command-line and environment paths are relative to ``cwd``; ini values (from
    the file or ``-o``) and the defaults to the configuration file's folder.
    """
    given = given or {}

    def one(key: Key) -> Setting:
        value, spelled = given.get(key.name, (None, ""))
        return _setting(key, value, spelled, cwd, environ, config, overrides or {})

    return Settings(config, one(PHASE), one(CRITERIA), one(DATA), one(PRICES))

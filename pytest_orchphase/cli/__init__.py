"""The ``orchphase`` command: one module per subcommand.

Add a subcommand by writing a module ``cli/<name>.py`` with ``_add_<name>(subparsers)`` (which
sets ``func``; the shared options are in :mod:`pytest_orchphase.cli.options`) and naming it in
:data:`SUBCOMMANDS`. A subcommand returns the exit code; an
:class:`~pytest_orchphase.errors.OrchphaseError` becomes one error line and exit 2.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pytest_orchphase.cli.options import EXIT_BROKEN_PIPE, EXIT_INPUT, EXIT_INTERRUPTED
from pytest_orchphase.cli.schema import cmd_schema
from pytest_orchphase.errors import OrchphaseError


def main(argv: list[str] | None = None) -> int:
    given = sys.argv[1:] if argv is None else argv
    parser = build_parser(given)
    args = parser.parse_args(given)
    func: Callable[[argparse.Namespace], int] | None = getattr(args, "func", None)
    if func is None:
        parser.print_help(sys.stderr)
        return EXIT_INPUT
    try:
        _apply_settings(args)
        status = func(args)
        sys.stdout.flush()  # a closed pipe shows here, not at exit
        return status
    except KeyboardInterrupt:  # Ctrl-C: nothing was written half-done (files are atomic)
        print("orchphase: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `orchphase compare | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except OrchphaseError as exc:
        print(f"orchphase: error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except OSError as exc:  # a path the command had to write or read and could not
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"orchphase: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return EXIT_INPUT


def _apply_settings(args: argparse.Namespace) -> None:
    """Fill the folders and the price file a command did not get on its command line from the
    environment, then the project's pytest configuration, then the defaults: the same lookup as
    ``pytest --phase`` (:mod:`pytest_orchphase.settings`)."""
    import os

    from pytest_orchphase.settings import find_config, resolve

    reads = ("criteria", "data", "prices", "schema")
    if args.func is not cmd_schema and not any(hasattr(args, n) for n in reads):
        return
    cwd = Path.cwd()
    given = {
        name: (None if value is None else str(value), f"--{name}")
        for name in ("criteria", "data", "prices")
        for value in [getattr(args, name, None)]
    }
    settings = resolve(cwd, os.environ, find_config(cwd), given)
    args.settings = settings
    if hasattr(args, "criteria"):
        args.criteria, args.data = settings.criteria_dir, settings.data_root
    if hasattr(args, "prices"):
        args.prices = settings.prices.path
    if not hasattr(args, "schema") and args.func is not cmd_schema:
        return
    from pytest_orchphase.load.schema import DEFAULT_DIR

    if hasattr(args, "schema") and args.schema is None:
        args.schema = settings.config.base / DEFAULT_DIR
    if args.func is cmd_schema and args.out is None:
        args.out = settings.config.base / DEFAULT_DIR


def build_parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    """The ``orchphase`` parser. When ``argv`` starts with a subcommand's name, only that
    subcommand's parser is built (a run imports only its own module); otherwise all of them
    (the help lists them, a wrong name is told the choices)."""
    parser = _Parser(
        prog="orchphase", description="Measured agent usage and phase success criteria."
    )
    parser.add_argument("--version", action=_Version, nargs=0, help="print the version and exit")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    names = [argv[0]] if argv and argv[0] in SUBCOMMANDS else list(SUBCOMMANDS)
    for name in names:
        module, function = SUBCOMMANDS[name]
        # __import__, not importlib.import_module: -X importtime sees what it imports.
        found = __import__(f"pytest_orchphase.cli.{module}", fromlist=[function])
        getattr(found, function)(subparsers)
    return parser


class _StoreOnce(argparse._StoreAction):
    """An option's value, given once: typed twice with different values, argparse would keep
    the last one silently (``strategy --tickets R08=mechanical --tickets R08=complex``, two
    ``--baseline``s), a usage error naming both instead, as ``pytest --phase`` gives one. The
    same value typed twice is that value."""

    given: tuple[str, Any] | None = None

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        if option_string is None:  # a positional: argparse may match it more than once
            super().__call__(parser, namespace, values, option_string)
            return
        if self.given is not None and self.given[1] != values:
            first = f"{self.given[0]} {self.given[1]}"
            parser.error(
                f"{first} and {option_string} {values}: given twice with different values; "
                "expected one"
            )
        self.given = (option_string, values)
        super().__call__(parser, namespace, values, option_string)


class _Parser(argparse.ArgumentParser):
    """The ``orchphase`` parser and its subcommands' (:func:`add_subparsers` makes them of its
    own class): a plain option keeps one value (:class:`_StoreOnce`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.register("action", None, _StoreOnce)
        self.register("action", "store", _StoreOnce)


class _Version(argparse.Action):
    """``--version``, its version looked up only when asked for (the lookup reads the installed
    packages' metadata: time every other command would pay)."""

    def __call__(self, parser: argparse.ArgumentParser, *_: Any) -> None:
        sys.stdout.write(f"{parser.prog} {version()}\n")  # where argparse's own action prints
        parser.exit()


def version() -> str:
    """The installed distribution's version: the one ``pytest -VV`` names in its plugin line."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    from pytest_orchphase import __version__

    try:
        return installed("pytest-orchphase")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return __version__


#: Each subcommand by its name, in the order the help lists them: the module of ``cli/`` and
#: the function of it that adds its parser.
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "extract": ("extract", "_add_extract"),
    "prices": ("prices", "_add_prices_command"),
    "init": ("init", "_add_init"),
    "schema": ("schema", "_add_schema"),
    "dashboard": ("dashboard", "_add_dashboard"),
    "compare": ("compare", "_add_compare"),
    "breakeven": ("breakeven", "_add_breakeven"),
    "strategy": ("strategy", "_add_strategy"),
    "plan": ("plan", "_add_plan"),
    "collect": ("collect", "_add_collect"),
    "draft-log": ("draft_log", "_add_draft_log"),
    "hook": ("hook", "_add_hook"),
}

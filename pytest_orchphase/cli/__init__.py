"""The ``orchphase`` command: one module per subcommand.

Add a subcommand by writing a module ``cli/<name>.py`` with ``_add_<name>(subparsers)`` (which
sets ``func``; the shared options are in :mod:`pytest_orchphase.cli.options`) and listing it in
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

from pytest_orchphase.cli.breakeven import _add_breakeven
from pytest_orchphase.cli.collect import _add_collect
from pytest_orchphase.cli.compare import _add_compare
from pytest_orchphase.cli.dashboard import _add_dashboard
from pytest_orchphase.cli.draft_log import _add_draft_log
from pytest_orchphase.cli.extract import _add_extract
from pytest_orchphase.cli.hook import _add_hook
from pytest_orchphase.cli.init import _add_init
from pytest_orchphase.cli.options import EXIT_BROKEN_PIPE, EXIT_INPUT, EXIT_INTERRUPTED
from pytest_orchphase.cli.plan import _add_plan
from pytest_orchphase.cli.prices import _add_prices_command
from pytest_orchphase.cli.schema import _add_schema, cmd_schema
from pytest_orchphase.cli.strategy import _add_strategy
from pytest_orchphase.errors import OrchphaseError


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="orchphase", description="Measured agent usage and phase success criteria."
    )
    parser.add_argument("--version", action=_Version, nargs=0, help="print the version and exit")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    for add in SUBCOMMANDS:
        add(subparsers)
    return parser


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


SUBCOMMANDS: Sequence[Callable[[Any], None]] = (
    _add_extract,
    _add_prices_command,
    _add_init,
    _add_schema,
    _add_dashboard,
    _add_compare,
    _add_breakeven,
    _add_strategy,
    _add_plan,
    _add_collect,
    _add_draft_log,
    _add_hook,
)

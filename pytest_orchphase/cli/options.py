"""What the ``orchphase`` subcommands share: exit codes and the options for folders and prices."""

from __future__ import annotations

import argparse
from pathlib import Path

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_INPUT = 2
#: A closed pipe ends the command quietly with the status of a Unix tool killed by SIGPIPE.
EXIT_BROKEN_PIPE = 128 + 13
#: Ctrl-C: the status of a shell command ended by SIGINT.
EXIT_INTERRUPTED = 128 + 2
MAX_WARNINGS = 10

DEFAULT_HELP = (
    "default: ${key.env}, else {key.ini} in the project's pytest configuration, else "
    "{key.default}; the last two relative to the project's folder"
)


def add_prices(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--prices",
        type=Path,
        metavar="FILE",
        help="a price YAML file merged over the shipped one (default: $ORCHPHASE_PRICES, else "
        "orchphase_prices in the project's pytest configuration, relative to its folder)",
    )


def add_folders(p: argparse.ArgumentParser) -> None:
    from pytest_orchphase.settings import CRITERIA, DATA

    p.add_argument(
        "--criteria",
        type=Path,
        metavar="DIR",
        help=f"folder of <phase>.yaml criteria files ({DEFAULT_HELP.format(key=CRITERIA)})",
    )
    p.add_argument(
        "--data",
        type=Path,
        metavar="DIR",
        help=f"folder of the phases' data folders ({DEFAULT_HELP.format(key=DATA)})",
    )

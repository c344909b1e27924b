"""``orchphase dashboard``: each phase's target tokens against its actual tokens, USD and gate."""

from __future__ import annotations

import argparse
from typing import Any

from pytest_orchphase.cli.options import EXIT_OK, add_cache, add_folders, add_prices, runner_for


def _add_dashboard(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "dashboard",
        help="each phase's target tokens against its actual tokens, USD and gate",
        description=(
            "For every phase with a criteria file: metadata.yaml's expected_tokens against the "
            "phase's tokens (measured when it names sessions, else the log's figures), the "
            "difference, each ticket's tokens, the cost in USD when measured, and whether the "
            "phase passes its criteria and gates. A phase whose files are broken is a row "
            "saying why."
        ),
    )
    add_folders(p)
    add_prices(p)
    add_cache(p)
    p.set_defaults(func=cmd_dashboard)


def cmd_dashboard(args: argparse.Namespace) -> int:
    from pytest_orchphase.report.dashboard import collect, render

    print(render(collect(runner_for(args))))
    return EXIT_OK

"""``orchphase compare``: the cross-phase table, one column per phase with data."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from pytest_orchphase.cli.options import EXIT_OK, add_cache, add_folders, add_prices, runner_for
from pytest_orchphase.errors import OrchphaseError


def _add_compare(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "compare",
        help="the cross-phase table: one column per phase with data",
        description=(
            "Tickets, execution models, total and per-ticket tokens, USD, fix loops, quality, "
            "reviews, savings vs V2, success rate per model and the recommended execution "
            "model, one column per phase whose data loads (the others are named on stderr)."
        ),
    )
    add_folders(p)
    add_prices(p)
    add_cache(p)
    p.add_argument("--markdown", action="store_true", help="print a markdown table")
    p.set_defaults(func=cmd_compare)


def cmd_compare(args: argparse.Namespace) -> int:
    from tabulate import tabulate

    from pytest_orchphase.report.compare import comparison

    def skipped(name: str, exc: OrchphaseError) -> None:
        print(f"orchphase: phase {name} left out: {str(exc).splitlines()[0]}", file=sys.stderr)

    table = comparison(runner_for(args), on_error=skipped)
    if not table.phases:
        raise OrchphaseError("no phase has data that loads; see the messages above")
    print(
        tabulate(
            table.rows,
            headers=table.headers,
            disable_numparse=True,
            tablefmt="github" if args.markdown else "simple",
        )
    )
    return EXIT_OK

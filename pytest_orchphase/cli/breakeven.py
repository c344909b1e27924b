"""``orchphase breakeven``: how many tickets a batch needs before orchestration beats a baseline."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from pytest_orchphase.cli.options import EXIT_OK, add_cache, add_folders, add_prices, runner_for
from pytest_orchphase.errors import OrchphaseError

if TYPE_CHECKING:
    from pytest_orchphase.evaluate.runner import PhaseRunner


def _add_breakeven(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "breakeven",
        help="how many tickets a batch needs before orchestration beats a baseline",
        description=(
            "From a phase's shared planning P and mean per-ticket cost t against a baseline's "
            "cost per ticket s: N = floor(P / (s - t)) + 1 tickets, in tokens and in USD."
        ),
    )
    add_folders(p)
    p.add_argument("--phase", metavar="NAME", help="one phase (default: every phase with data)")
    p.add_argument(
        "--baseline",
        metavar="NAME",
        help="the baseline to beat (default: single_agent when defined, else the project's only "
        "baseline with compare: true)",
    )
    add_prices(p)
    add_cache(p)
    p.set_defaults(func=cmd_breakeven)


def cmd_breakeven(args: argparse.Namespace) -> int:
    from pytest_orchphase.decide.breakeven import break_even
    from pytest_orchphase.load.phase import require_phase

    runner = runner_for(args)
    if args.phase:
        require_phase(args.criteria, args.phase)
    names = [args.phase] if args.phase else runner.in_plan_order()
    if args.baseline is not None and not args.phase:
        _require_baseline(runner, names, args.baseline)
    shown = 0
    for name in names:
        try:
            defined = runner.context(name).phase.baselines
            if args.baseline is not None and args.baseline not in defined:
                raise OrchphaseError(
                    f"--baseline {args.baseline}: phase {name} defines no such baseline; "
                    f"defined: {', '.join(sorted(defined)) or 'none'}"
                )
            lines = [break_even(runner, name, m, args.baseline).line for m in ("total", "usd")]
        except OrchphaseError as exc:
            if args.phase:
                raise
            print(f"orchphase: phase {name} left out: {str(exc).splitlines()[0]}", file=sys.stderr)
            continue
        shown += 1
        print(f"{name}:")
        for line in lines:
            print(f"  {line}")
    if not shown:  # as `orchphase compare`: nothing printed is no answer
        raise OrchphaseError("no phase has data that loads; see the messages above")
    return EXIT_OK


def _require_baseline(runner: PhaseRunner, names: list[str], baseline: str) -> None:
    """An error naming ``baseline`` and the baselines known when no phase defines it: every
    phase left out, nothing printed, would read as no answer at all."""
    known: set[str] = set()
    for name in names:
        try:
            known |= set(runner.load(name).baselines)
        except OrchphaseError:
            continue  # left out below, with its reason
    if baseline not in known:
        raise OrchphaseError(
            f"--baseline {baseline}: no phase defines such a baseline; defined: "
            f"{', '.join(sorted(known)) or 'none'}"
        )

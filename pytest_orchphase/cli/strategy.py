"""``orchphase strategy``: the next phase's model-selection file, filled from measured data."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from pytest_orchphase.cli.options import (
    EXIT_OK,
    add_cache,
    add_folders,
    add_prices,
    loaded_phases,
    refuse_phase_file,
    runner_for,
)
from pytest_orchphase.errors import OrchphaseError


def _add_strategy(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "strategy",
        help="write the next phase's model-selection file, filled from measured data",
        description=(
            "Write <data>/phase-<PHASE>-strategy.yaml (the plan's phase-a3-strategy.yaml) "
            "from the data of the phases PHASE requires: model per complexity with its rationale "
            "and success rate, planning and review tiers, expected tokens and USD per ticket. "
            "An existing file is never overwritten without --force."
        ),
    )
    add_folders(p)
    p.add_argument("--for", dest="target", required=True, metavar="PHASE", help="the phase to plan")
    p.add_argument(
        "--tickets",
        metavar="ID=COMPLEXITY,...",
        help="the phase's tickets and complexities (default: from its data)",
    )
    p.add_argument("--out", type=Path, metavar="FILE", help="where to write (default: in --data)")
    p.add_argument("--force", action="store_true", help="replace an existing file")
    add_prices(p)
    add_cache(p)
    p.set_defaults(func=cmd_strategy)


def _ticket_complexities(text: str) -> dict[str, str]:
    """``R08=mechanical,R09=complex`` by ticket; a ticket given twice is an error naming it
    (the last word kept would drop the first unsaid), as ``init --tickets`` refuses one."""
    out: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        ticket, _, complexity = part.partition("=")
        if complexity not in ("mechanical", "nuanced", "complex") or not ticket:
            raise OrchphaseError(
                f"--tickets: {part!r}; expected ID=mechanical|nuanced|complex, comma-separated"
            )
        first = next((t for t in out if t.lower() == ticket.lower()), None)
        if first is not None:
            raise OrchphaseError(
                f"--tickets: {ticket!r} is given twice ({first}={out[first]}, {part}); "
                "expected each ticket once"
            )
        out[ticket] = complexity
    return out


def cmd_strategy(args: argparse.Namespace) -> int:
    from pytest_orchphase.decide.strategy import build_strategy, strategy_path, strategy_yaml
    from pytest_orchphase.errors import display
    from pytest_orchphase.files import atomic_write
    from pytest_orchphase.load.phase import require_phase

    runner = runner_for(args)
    require_phase(args.criteria, args.target)
    tickets = _ticket_complexities(args.tickets) if args.tickets else None
    out = args.out or strategy_path(args.data, args.target)
    refuse_phase_file(out, args.criteria, loaded_phases(runner, args.criteria))
    if out.exists() and not args.force:
        raise OrchphaseError("exists; not overwritten (pass --force to replace it)", path=out)
    text = strategy_yaml(build_strategy(runner, args.target, tickets))
    atomic_write(out, text.encode())
    print(f"orchphase: wrote {display(out)}")
    return EXIT_OK

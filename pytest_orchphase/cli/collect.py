"""``orchphase collect``: a phase's measured usage kept as a content-free usage ledger."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from pytest_orchphase.cli.options import EXIT_OK, add_cache, add_folders, scan_cache


def _add_collect(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "collect",
        help="keep a phase's measured usage as a content-free ledger in its data folder",
        description=(
            "Read the phase's sessions (the SESSION_IDs and PATHs given, else every session of "
            "--project DIR, else those its metadata.yaml names), with their sub-agents, and "
            "write what accounting and attribution need, and no prompt, message or tool "
            "output, into the phase's usage ledger (usage.jsonl in its data folder). A ledger "
            "already there is merged: a call is never counted twice. Name the ledger in "
            "metadata.yaml (sessions: [usage.jsonl]) to measure the phase from it."
        ),
    )
    p.add_argument("phase", metavar="PHASE", help="the phase's name, like a4")
    p.add_argument("targets", nargs="*", metavar="SESSION_ID|PATH")
    p.add_argument("--since", metavar="TIME", help="only sessions active at or after TIME")
    p.add_argument("--until", metavar="TIME", help="only sessions active at or before TIME")
    p.add_argument(
        "--project",
        type=Path,
        metavar="DIR",
        help="every session of this project: a Claude project folder or the working folder",
    )
    p.add_argument(
        "--out",
        type=Path,
        metavar="FILE",
        help="the ledger (default: usage.jsonl in the data folder)",
    )
    add_folders(p)
    add_cache(p)
    p.set_defaults(func=cmd_collect)


def cmd_collect(args: argparse.Namespace) -> int:
    from pytest_orchphase.load.phase import load_phase_in_progress
    from pytest_orchphase.usage.sources.ledger.collect import collect, parse_time

    since = parse_time("--since", args.since) if args.since else None
    until = parse_time("--until", args.until) if args.until else None
    phase = load_phase_in_progress(args.criteria, args.data, args.phase)
    done = collect(
        phase,
        args.targets,
        since=since,
        until=until,
        project=args.project,
        out=args.out,
        cache=scan_cache(args),
    )
    share = f" ({done.ledger_bytes / done.raw_bytes:.1%} of them)" if done.raw_bytes else ""
    print(
        f"{done.out}: {done.files} file(s) collected, {done.raw_bytes:,} bytes read, "
        f"{done.calls:,} call record(s); ledger {done.ledger_bytes:,} bytes{share}"
        + (f"; {done.replaced} block(s) collected again" if done.replaced else "")
        + (f"; {done.kept} block(s) kept from before" if done.kept else "")
    )
    return EXIT_OK

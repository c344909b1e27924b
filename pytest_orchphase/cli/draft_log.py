"""``orchphase draft-log PHASE``: the execution log drafted from the phase's measured usage."""

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
    scan_cache,
)
from pytest_orchphase.errors import OrchphaseError

#: The draft's name, beside the phase's execution-log.yaml.
DRAFT_FILE = "execution-log.draft.yaml"


def _add_draft_log(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "draft-log",
        help="draft the phase's execution log from its measured usage",
        description=(
            f"Write {DRAFT_FILE} beside the phase's execution-log.yaml: shared planning and, "
            "per ticket, the stages attribution found, with model, worker (agent ids), measured "
            "tokens and the first and last call, from the sessions metadata.yaml names (or the "
            "phase's transcripts/ folder), read exactly as `pytest --phase` reads them. "
            "Judgements (complexity, status, fix loops, errors, quality vs Sonnet, the review) "
            "are ${...} placeholders unless the log already holds them; the log itself is never "
            "written. Works right after `orchphase init`, placeholders and all."
        ),
    )
    p.add_argument("phase", metavar="PHASE", help="the phase, like a4")
    p.add_argument(
        "--out",
        type=Path,
        metavar="FILE",
        help=f"where to write (default: {DRAFT_FILE} beside the log)",
    )
    p.add_argument("--force", action="store_true", help="replace an existing draft")
    add_folders(p)
    add_prices(p)
    add_cache(p)
    p.set_defaults(func=cmd_draft_log)


def cmd_draft_log(args: argparse.Namespace) -> int:
    from pytest_orchphase.errors import display, resolve_path
    from pytest_orchphase.files import atomic_write, check_output_path
    from pytest_orchphase.load.phase import LOG_FILE, METADATA_FILE, load_phase_in_progress
    from pytest_orchphase.report.draft_log import draft_log
    from pytest_orchphase.usage.attribution import measure_phase
    from pytest_orchphase.usage.roots import TRANSCRIPTS_DIR

    phase = load_phase_in_progress(args.criteria, args.data, args.phase)
    out: Path = args.out or phase.data_dir / DRAFT_FILE
    check_output_path(out)
    for own in (LOG_FILE, METADATA_FILE):
        if resolve_path(out) == resolve_path(phase.data_dir / own):
            raise OrchphaseError(
                f"is the phase's {own}; draft-log never writes it: write the draft beside it",
                path=out,
            )
    # its own phase's files, and those of every phase that loads (a source another names)
    refuse_phase_file(out, args.criteria, [phase, *loaded_phases(runner_for(args), args.criteria)])
    if (out.exists() or out.is_symlink()) and not args.force:
        raise OrchphaseError("exists; not overwritten (pass --force to replace it)", path=out)
    measured = measure_phase(phase, args.prices, cache=scan_cache(args))
    if measured is None:
        raise OrchphaseError(
            f"phase {args.phase} names no sessions in {display(phase.metadata_doc.path)} and "
            f"has no {TRANSCRIPTS_DIR}/ folder: nothing measured to draft from; expected "
            "`sessions:` (session ids or paths) or the transcripts in "
            f"{display(phase.data_dir / TRANSCRIPTS_DIR)}"
        )
    draft = draft_log(phase, measured)
    atomic_write(out, draft.text.encode())
    print(f"orchphase: wrote {display(out)}: {draft.placeholders} values to fill (${{...}})")
    for note in draft.notes:
        print(f"note: {note}")
    print(
        f"next: fill every ${{...}}, replace {display(phase.log_doc.path)} with it, then "
        f"`pytest --phase {args.phase}`"
    )
    return EXIT_OK

"""``orchphase init``: scaffold a new phase, or write the example phases."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from pytest_orchphase.cli.options import EXIT_OK, add_folders
from pytest_orchphase.errors import OrchphaseError


def _add_init(subparsers: Any) -> None:
    from pytest_orchphase.load.schema import DEFAULT_DIR

    p = subparsers.add_parser(
        "init",
        help="scaffold a new phase: metadata.yaml, execution-log.yaml and a criteria stub",
        description=(
            "Create <data>/phase-<phase>-<tickets>/ with metadata.yaml and an execution-log.yaml "
            "template, and <criteria>/<phase>.yaml when it is missing. Values to fill are ${...} "
            "placeholders, which `pytest --phase` refuses until they are replaced. Never "
            "overwrites: when a file exists, nothing is written."
        ),
    )
    p.add_argument("phase", nargs="?", metavar="PHASE", help="the phase's name, like a4")
    p.add_argument("--tickets", metavar="IDS", help="the phase's tickets, like R08,R09 (required)")
    p.add_argument(
        "--data-folder",
        metavar="NAME",
        help="the data folder's name under --data (default: phase-<phase>-<tickets>, or "
        "phase-<phase> when that would pass 64 characters)",
    )
    p.add_argument(
        "--requires",
        metavar="PHASES",
        help="the phases this one requires, comma-separated (default: the known phase with the "
        "same prefix and the next lower number, a3 for a4; none for a name without a number)",
    )
    p.add_argument(
        "--example",
        action="store_true",
        help="instead of a new phase, write the example phases a1-a3 (criteria, baselines, "
        "data and schemas) to start from; nothing is written when any of them exists",
    )
    add_folders(p)
    p.add_argument(
        "--schema",
        type=Path,
        metavar="DIR",
        help="where `orchphase schema` wrote the schemas the files name (default: "
        f"{DEFAULT_DIR} in the project's folder)",
    )
    p.set_defaults(func=cmd_init)


def cmd_init(args: argparse.Namespace) -> int:
    import datetime as dt

    from pytest_orchphase.cli import scaffold
    from pytest_orchphase.errors import display
    from pytest_orchphase.load.phase import criteria_path, known_phases
    from pytest_orchphase.load.schema import KINDS, file_name

    if args.example:
        return _init_example(args)
    if args.phase is None or args.tickets is None:
        raise OrchphaseError(
            "init needs a PHASE and --tickets (like `orchphase init a4 --tickets R08,R09`), "
            "or --example"
        )
    phase = scaffold.parse_phase(args.phase)
    tickets = scaffold.parse_tickets(args.tickets)
    folder = None if args.data_folder is None else scaffold.parse_folder(args.data_folder)
    requires = (
        None
        if args.requires is None
        else scaffold.parse_requires(args.requires, known_phases(args.criteria), phase)
    )
    plan = scaffold.plan(
        phase,
        tickets,
        args.data,
        args.criteria,
        args.schema,
        dt.datetime.now(dt.timezone.utc),
        folder_name=folder,
        requires=requires,
    )
    scaffold.create_new(plan.files)
    criteria = criteria_path(args.criteria, phase)
    for line in scaffold.describe(plan, criteria):
        print(line)
    if plan.criteria_existed:
        data = _criteria_data(criteria)
        if data is not None and data != plan.folder.name:
            print(
                f"note: {display(criteria)} reads its data from {data!r}; set `data: "
                f"{plan.folder.name}` to use the new folder"
            )
    if not all((args.schema / file_name(kind)).is_file() for kind in KINDS):
        print(
            f"note: no schemas in {display(args.schema)}: run `orchphase schema` so editors check"
        )
    print(f"next: fill every ${{...}}, then `pytest --phase {phase}`")
    return EXIT_OK


def _init_example(args: argparse.Namespace) -> int:
    from pytest_orchphase.cli import scaffold
    from pytest_orchphase.errors import display
    from pytest_orchphase.settings import Origin

    if any(v is not None for v in (args.phase, args.tickets, args.data_folder, args.requires)):
        raise OrchphaseError(
            "--example writes the example phases: give no PHASE, --tickets, --data-folder or "
            "--requires"
        )
    files = scaffold.example_plan(args.criteria, args.data, args.schema)
    scaffold.create_new(files, advice=scaffold.EXAMPLE_ADVICE)
    for path, _ in files:
        print(f"created {display(path)}")
    # pytest finds the folders the environment or the configuration named; not these:
    folders = (args.settings.criteria, args.settings.data)
    given = [s for s in folders if s.origin is Origin.COMMAND_LINE and s.path]
    options = [f"--orchphase-{s.key.name} {display(s.path)}" for s in given]
    print(f"next: pytest {' '.join([*options, '--phase a1'])}  (then a2, a3)")
    return EXIT_OK


def _criteria_data(path: Path) -> str | None:
    """The ``data:`` an existing criteria file names, if it can be read at all."""
    from pytest_orchphase.load import yamlio

    try:
        doc = yamlio.load(path)
    except OrchphaseError:
        return None
    data = doc.data.get("data") if isinstance(doc.data, dict) else None
    return data if isinstance(data, str) else None

"""``orchphase schema``: the JSON Schemas of the files a phase is made of, for editors."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from pytest_orchphase.cli.options import EXIT_OK


def _add_schema(subparsers: Any) -> None:
    from pytest_orchphase.load.schema import DEFAULT_DIR

    p = subparsers.add_parser(
        "schema",
        help="write JSON Schemas of the metadata, execution-log, criteria and baselines files",
        description=(
            "Write metadata.schema.json, execution-log.schema.json, criteria.schema.json and "
            "baselines.schema.json (JSON Schema draft-07, generated from the models) for editors. "
            "Point a YAML file at one with a first line "
            "`# yaml-language-server: $schema=<relative path to the .schema.json>`."
        ),
    )
    p.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help=f"the folder to write them to (default: {DEFAULT_DIR} in the project's folder); "
        "existing schemas are replaced",
    )
    p.set_defaults(func=cmd_schema)


def cmd_schema(args: argparse.Namespace) -> int:
    from pytest_orchphase.errors import display
    from pytest_orchphase.load.schema import write_schemas

    for path in write_schemas(args.out):
        print(f"wrote {display(path)}")
    return EXIT_OK

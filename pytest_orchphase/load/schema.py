"""JSON Schema for the files people edit, so that editors check them while they are typed.

The schemas are generated from the pydantic models (:mod:`pytest_orchphase.load.models`) in JSON
Schema draft-07, the draft YAML editors support (the Red Hat YAML language server in VS Code,
JetBrains IDEs). They accept what the loaders accept (``"40k"``, ``"60%"``, ``r03_cost``) and
catch shapes and typos; the rules that span several keys (exactly one operator per condition,
declared totals that add up) are checked by ``pytest --phase`` alone.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_orchphase.files import atomic_write

if TYPE_CHECKING:
    from pydantic import BaseModel

DRAFT = "http://json-schema.org/draft-07/schema#"
DEFAULT_DIR = Path("docs/schema")
KINDS = ("metadata", "execution-log", "criteria", "baselines")
TITLES = {
    "metadata": "orchphase metadata.yaml: a phase's tickets, strategy and targets",
    "execution-log": "orchphase execution-log.yaml: what a phase's tickets and stages cost",
    "criteria": "orchphase criteria/<phase>.yaml: a phase's success criteria",
    "baselines": "orchphase criteria/baselines.yaml: reference approaches per ticket",
}


def file_name(kind: str) -> str:
    return f"{kind}.schema.json"


def modeline(kind: str, yaml_dir: Path, schema_dir: Path) -> str:
    """The comment that tells the YAML language server which schema a file in ``yaml_dir`` uses."""
    rel = Path(os.path.relpath(schema_dir / file_name(kind), yaml_dir)).as_posix()
    return f"# yaml-language-server: $schema={rel}"


def _model(kind: str) -> type[BaseModel]:
    from pytest_orchphase.load import models

    chosen: dict[str, type[BaseModel]] = {
        "metadata": models.Metadata,
        "execution-log": models.ExecutionLog,
        "criteria": models.CriteriaFile,
        "baselines": models.BaselinesFile,
    }
    return chosen[kind]


def _object_branch(prop: dict[str, Any]) -> dict[str, Any]:
    """The object alternative of an optional property (``anyOf: [{object}, {null}]``)."""
    branches: list[dict[str, Any]] = prop.get("anyOf", [prop])
    for branch in branches:
        if branch.get("type") == "object":
            return branch
    raise KeyError("no object alternative")


def _widen(kind: str, schema: dict[str, Any], defs: dict[str, Any]) -> None:
    """What model validators accept beyond the fields: keys renamed or converted before checks."""
    from pytest_orchphase.load.models import STAGES, TOKENS_SCHEMA

    if kind == "metadata":
        # ticket ids written as bare numbers become text
        schema["properties"]["tickets"]["items"] = {"type": ["string", "integer"]}
    if kind == "execution-log":
        # `r03_cost: 29200` is a ticket's declared total; `a1_total` the orchestration total
        defs["DeclaredTotals"]["patternProperties"] = {"^.+_cost$": TOKENS_SCHEMA}
        defs["ComparisonToV2"]["patternProperties"] = {"^[a-z][0-9]+_total$": TOKENS_SCHEMA}
        # a stage name used as a ticket id is the plan's own A1 mistake
        tickets = _object_branch(schema["properties"]["tickets"])
        tickets["propertyNames"] = {"not": {"enum": list(STAGES)}}


def build(kind: str) -> dict[str, Any]:
    """The JSON Schema of one kind of file: metadata, execution-log, criteria or baselines."""
    generated = _model(kind).model_json_schema(ref_template="#/definitions/{model}")
    defs: dict[str, Any] = generated.pop("$defs", {})
    _widen(kind, generated, defs)
    schema: dict[str, Any] = {"$schema": DRAFT, **generated, "title": TITLES[kind]}
    if defs:
        schema["definitions"] = defs
    return schema


def render(kind: str) -> str:
    return json.dumps(build(kind), indent=2, ensure_ascii=False) + "\n"


def write_schemas(out_dir: Path) -> list[Path]:
    """Write every schema into ``out_dir`` (created when missing); returns the files written."""
    from pytest_orchphase.errors import OrchphaseError

    if out_dir.exists() and not out_dir.is_dir():
        raise OrchphaseError("is a file; expected a folder for the schema files", path=out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for kind in KINDS:
        path = out_dir / file_name(kind)
        atomic_write(path, render(kind).encode())
        written.append(path)
    return written

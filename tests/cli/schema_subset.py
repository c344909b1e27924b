"""A JSON Schema (draft-07) validator for exactly the keywords ``orchphase schema`` emits.

The project does not depend on ``jsonschema``; this checks instances against the committed
schemas. A keyword it does not know is an error, so a schema that grows one cannot pass unseen.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

ANNOTATIONS = {"$schema", "title", "description", "default", "format", "definitions"}


def as_json(value: Any) -> Any:
    """YAML data as an editor sees it: timestamps are strings."""
    if isinstance(value, dict):
        return {k: as_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_json(v) for v in value]
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return value


def _is(kind: str, value: Any) -> bool:
    number = isinstance(value, int | float) and not isinstance(value, bool)
    return {
        "null": value is None,
        "boolean": isinstance(value, bool),
        "string": isinstance(value, str),
        "number": number,
        "integer": number and float(value).is_integer(),
        "object": isinstance(value, dict),
        "array": isinstance(value, list),
    }[kind]


def errors(value: Any, schema: dict[str, Any], root: dict[str, Any], at: str = "") -> list[str]:
    """Every way ``value`` breaks ``schema`` (empty when it conforms)."""
    out: list[str] = []
    for key, rule in schema.items():
        if key in ANNOTATIONS:
            continue
        if key == "$ref":
            assert rule.startswith("#/definitions/"), rule
            out += errors(value, root["definitions"][rule.split("/")[-1]], root, at)
        elif key == "type":
            kinds = rule if isinstance(rule, list) else [rule]
            if not any(_is(k, value) for k in kinds):
                out.append(f"{at}: {value!r} is not {rule}")
        elif key == "enum":
            if not any(type(r) is type(value) and r == value for r in rule):
                out.append(f"{at}: {value!r} not in {rule}")
        elif key == "const":
            if value != rule:
                out.append(f"{at}: {value!r} != {rule!r}")
        elif key == "pattern":
            if isinstance(value, str) and not re.search(rule, value):
                out.append(f"{at}: {value!r} does not match {rule}")
        elif key in ("minimum", "exclusiveMinimum"):
            if _is("number", value) and (
                value < rule or (key == "exclusiveMinimum" and value == rule)
            ):
                out.append(f"{at}: {value!r} below {key} {rule}")
        elif key == "minItems":
            if isinstance(value, list) and len(value) < rule:
                out.append(f"{at}: fewer than {rule} items")
        elif key == "items":
            if isinstance(value, list):
                for i, item in enumerate(value):
                    out += errors(item, rule, root, f"{at}[{i}]")
        elif key == "required":
            if isinstance(value, dict):
                out += [f"{at}: missing {name!r}" for name in rule if name not in value]
        elif key == "properties":
            if isinstance(value, dict):
                for name, sub in rule.items():
                    if name in value:
                        out += errors(value[name], sub, root, f"{at}.{name}")
        elif key == "patternProperties":
            if isinstance(value, dict):
                for name, item in value.items():
                    for pattern, sub in rule.items():
                        if re.search(pattern, name):
                            out += errors(item, sub, root, f"{at}.{name}")
        elif key == "additionalProperties":
            if isinstance(value, dict):
                for name, item in value.items():
                    if name in schema.get("properties", {}) or any(
                        re.search(p, name) for p in schema.get("patternProperties", {})
                    ):
                        continue
                    if rule is False:
                        out.append(f"{at}: unknown key {name!r}")
                    elif isinstance(rule, dict):
                        out += errors(item, rule, root, f"{at}.{name}")
        elif key == "propertyNames":
            if isinstance(value, dict):
                for name in value:
                    out += [f"{at}: key {e}" for e in errors(name, rule, root, f"{at}.{name}")]
        elif key == "not":
            if not errors(value, rule, root, at):
                out.append(f"{at}: {value!r} matches a forbidden schema")
        elif key in ("anyOf", "oneOf"):
            found = [errors(value, b, root, at) for b in rule]
            matching = [e for e in found if not e]
            if not matching:
                out.append(
                    f"{at}: matches no {key} alternative: "
                    + "; ".join(e for errs in found for e in errs)
                )
            elif key == "oneOf" and len(matching) > 1:
                out.append(f"{at}: {value!r} matches {len(matching)} oneOf alternatives")
        else:
            raise AssertionError(f"schema keyword {key!r} is not supported by this checker")
    return out

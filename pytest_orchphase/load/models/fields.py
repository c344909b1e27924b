"""The field types every model shares: numbers as people write them, grades, ids, names."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    WithJsonSchema,
)

from pytest_orchphase.load.quantity import (
    _PERCENT,
    _TOKENS,
    _USD,
    QUALITY_ORDER,
    parse_percent,
    parse_quality,
    parse_tokens,
    parse_usd,
)


def _any_case(*words: str) -> str:
    """A JSON Schema pattern matching any of ``words`` in any letter case (no regex flags)."""
    return "|".join(
        "".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else c for c in w) for w in words
    )


# The JSON Schema of each type accepts what its validator accepts (see ``orchphase schema``).
TOKENS_SCHEMA: dict[str, Any] = {
    "description": "a token count: 40000, '40k', '40,000', '1.5M'",
    "anyOf": [
        {"type": "integer", "minimum": 0},
        {"type": "string", "pattern": _TOKENS.pattern},
    ],
}
Tokens = Annotated[int, BeforeValidator(parse_tokens), WithJsonSchema(TOKENS_SCHEMA)]
# Counts and whole declared figures are strict: pydantic would otherwise read true (or YAML's
# yes/on) as 1 and 3.0 as 3, and `fix_loops: true` would pass a "max 1" criterion.
Whole = StrictInt
Count = Annotated[StrictInt, Field(ge=0)]
PositiveCount = Annotated[StrictInt, Field(gt=0)]
Percent = Annotated[
    float,
    BeforeValidator(parse_percent),
    WithJsonSchema(
        {
            "description": "a percentage: '60%' or 60",
            "anyOf": [{"type": "number"}, {"type": "string", "pattern": _PERCENT.pattern}],
        }
    ),
]
Usd = Annotated[
    float,
    BeforeValidator(parse_usd),
    WithJsonSchema(
        {
            "description": "an amount in USD: 1.5 or '$1.50'",
            "anyOf": [
                {"type": "number", "minimum": 0},
                {"type": "string", "pattern": _USD.pattern},
            ],
        }
    ),
]
Grade = Annotated[
    str,
    BeforeValidator(parse_quality),
    WithJsonSchema(
        {
            "description": "a quality grade: worse < same < better",
            "anyOf": [
                {"enum": list(QUALITY_ORDER)},
                {"type": "string", "pattern": rf"^\s*({_any_case(*QUALITY_ORDER)})\s*$"},
            ],
        }
    ),
]


#: A number, or text that is one: pydantic would read it as Unix seconds (``1000``, ``'1230'``).
_BARE_NUMBER = re.compile(r"^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$")


def _no_number(value: Any) -> Any:
    """A stamp is a date and time with its time zone, never a bare number: pydantic would
    read ``start_time: 1000`` (a team's 10:00) as 1970-01-01 00:16:40 UTC, a time no wall
    time can be taken from."""
    if (isinstance(value, (int, float)) and not isinstance(value, bool)) or (
        isinstance(value, str) and _BARE_NUMBER.match(value)
    ):
        raise ValueError(
            f"expected a date and time with its time zone, like '2026-02-07T10:00:00Z', got "
            f"{value!r} (a number is no time)"
        )
    return value


Stamp = Annotated[
    AwareDatetime,
    BeforeValidator(_no_number),
    WithJsonSchema(
        {
            "description": "a date and time with its time zone: '2026-02-07T10:00:00Z'",
            "type": "string",
            "format": "date-time",
        }
    ),
]


def _upper(value: Any) -> Any:
    return value.upper() if isinstance(value, str) else value


def _text_id(value: Any) -> Any:
    """Task ids are often written bare (``task_id: 2``): keep them as text."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _upper_schema(*values: str) -> WithJsonSchema:
    """The enum for completion, and the same values in any case (the validator upper-cases)."""
    return WithJsonSchema(
        {
            "anyOf": [
                {"enum": list(values)},
                {"type": "string", "pattern": f"^({_any_case(*values)})$"},
            ]
        }
    )


ReviewResult = Annotated[
    Literal["PASS", "FAIL"], BeforeValidator(_upper), _upper_schema("PASS", "FAIL")
]
Tier = Annotated[
    Literal["T1", "T2", "T3"], BeforeValidator(_upper), _upper_schema("T1", "T2", "T3")
]
Status = Literal["completed", "requires_fix", "failed", "in_progress", "skipped", "pending"]
#: a stage in one of these statuses did not run (it used no tokens, it made no fix)
NOT_RUN = ("skipped", "pending")
Complexity = Literal["mechanical", "nuanced", "complex"]
TextId = Annotated[str, BeforeValidator(_text_id), WithJsonSchema({"type": ["string", "integer"]})]

STAGES = ("branch_creation", "implementation", "fix", "monitoring", "review", "finalization")
StageName = Literal[
    "branch_creation", "implementation", "fix", "monitoring", "review", "finalization"
]
Measure = Literal["total", "input", "output", "cache_write", "cache_read", "usd"]
#: how a figure with an interval (a rate, a paired mean delta) is compared with its limit
DecisionRule = Literal["interval", "point"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

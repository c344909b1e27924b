"""Numbers as people write them in plans: ``40000``, ``"40k"``, ``"40,000"``, ``"1.5M"``, ``"60%"``.

Parsing is strict: anything else is a ``ValueError`` whose text says what was expected, so a
pydantic validator can pass it on with the field's name and line.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

_TOKENS = re.compile(r"^\s*(\d+(?:[.,_]\d+)*)\s*([kKmM]?)\s*$")
_PERCENT = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*%\s*$")
_USD = re.compile(r"^\s*\$?\s*(\d+(?:\.\d+)?)\s*$")

QUALITY_ORDER = ("worse", "same", "better")
#: The largest magnitude a number in a data file may have: 2**53 - 1, the largest integer that
#: every JSON reader (jq, JavaScript) keeps exact. Beyond it a figure would lose digits in the
#: reports or overflow a float in evaluation; a token count, a price or a limit never gets near.
MAX_NUMBER = 2**53 - 1


def _bounded(number: float, value: Any) -> float:
    """``number`` (parsed from ``value``), or a ValueError when it is past :data:`MAX_NUMBER`."""
    if not abs(number) <= MAX_NUMBER:  # also catches inf and nan
        shown = repr(value) if len(repr(value)) <= 24 else f"{repr(value)[:12]}…"
        raise ValueError(f"{shown} is too large; expected at most {MAX_NUMBER:,}")
    return number


def parse_tokens(value: Any) -> int:
    """A whole, non-negative token count: ``12000``, ``"12k"``, ``"12,000"``, ``"1.2M"``.

    A plain decimal is refused: ``43.000`` (YAML reads it as 43.0) is a thousands separator in
    many locales, and reading it as 43 would let a cap pass.
    """
    hint = f"expected a token count like 40000 or '40k', got {value!r}"
    if isinstance(value, bool):
        raise ValueError(hint)
    if isinstance(value, float):
        raise ValueError(f"{hint}: write whole tokens (43000 or '43k'), not a decimal")
    if isinstance(value, int):
        number: float = value
    elif isinstance(value, str) and (m := _TOKENS.match(value)):
        digits, suffix = m.groups()
        if "," in digits and not re.fullmatch(r"\d{1,3}(,\d{3})+", digits):
            raise ValueError(hint)
        if "." in digits and not suffix:
            raise ValueError(f"{hint}: a '.' is ambiguous without k or M ('43k', '1.5M')")
        number = float(digits.replace(",", "").replace("_", ""))
        number = _bounded(number * {"": 1, "k": 1_000, "m": 1_000_000}[suffix.lower()], value)
        if not number.is_integer():
            raise ValueError(f"{value!r} is not a whole number of tokens")
    else:
        raise ValueError(
            hint + ("; put notes in a YAML comment (# ...)" if isinstance(value, str) else "")
        )
    if number < 0:
        raise ValueError(f"a token count cannot be negative, got {value!r}")
    return int(_bounded(number, value))


def parse_percent(value: Any) -> float:
    """A percentage: ``"60%"`` or a plain number meaning percent (``60``). A bare number from 0
    to 1 (``0.6``, and ``1`` or ``1.0`` too, which may mean 100 % as well as 1 %) is refused:
    read as the wrong one, a limit of "every ticket" would pass at 1 %. So is one from -1 to 0
    (``-0.5``: read as -0.5 %, "at least 50 % dearer" would pass at 1 % dearer)."""
    if isinstance(value, bool):
        raise ValueError(f"expected a percentage like '60%', got {value!r}")
    if isinstance(value, int | float):
        if 0 < abs(value) <= 1:
            raise ValueError(
                f"{value!r} looks like a fraction; write the percentage: '{value * 100:g}%' "
                f"(or '{value}%' if you mean that)"
            )
        return _bounded(float(value), value)
    if isinstance(value, str) and (m := _PERCENT.match(value)):
        return _bounded(float(m.group(1)), value)
    raise ValueError(f"expected a percentage like '60%', got {value!r}")


def parse_number(value: Any) -> float:
    """A plain number (minutes, counts, ratios)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"expected a number, got {value!r}")
    return _bounded(float(value), value)


_DURATION = re.compile(
    r"^\s*(?:(?P<h>\d+(?:\.\d+)?)\s*h(?:ours?|rs?)?)?"
    r"\s*(?:(?P<m>\d+(?:\.\d+)?)\s*m(?:in(?:utes?|s)?)?)?\s*$",
    re.I,
)


def parse_minutes(value: Any) -> float:
    """A duration in minutes: a number (``90``), or ``"90min"``, ``"2h"``, ``"1h30m"``,
    ``"1.5 hours"``. YAML's ``1:30`` (read as sexagesimal 90) is refused when the file is read."""
    hint = f"expected a number of minutes like 90, '90min', '2h' or '1h30m', got {value!r}"
    if isinstance(value, str):
        m = _DURATION.match(value)
        if not m or not (m.group("h") or m.group("m")):
            raise ValueError(hint)
        return float(m.group("h") or 0) * 60 + float(m.group("m") or 0)
    try:
        return parse_number(value)
    except ValueError:
        raise ValueError(hint) from None


def parse_usd(value: Any) -> float:
    """US dollars: ``1.5`` or ``"$1.50"``."""
    if isinstance(value, bool):
        raise ValueError(f"expected an amount in USD like 1.50 or '$1.50', got {value!r}")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError(f"an amount cannot be negative, got {value!r}")
        return _bounded(float(value), value)
    if isinstance(value, str) and (m := _USD.match(value)):
        return _bounded(float(m.group(1)), value)
    raise ValueError(f"expected an amount in USD like 1.50 or '$1.50', got {value!r}")


def parse_quality(value: Any) -> str:
    """One of the ordinal quality grades, worse < same < better."""
    if isinstance(value, str) and value.strip().lower() in QUALITY_ORDER:
        return value.strip().lower()
    raise ValueError(f"expected one of {', '.join(QUALITY_ORDER)}, got {value!r}")


def quality_rank(grade: str) -> int:
    return QUALITY_ORDER.index(grade)


def parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise ValueError(f"expected true or false, got {value!r}")


def fmt_tokens(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def utc_stamp(text: str | None) -> datetime | None:
    """An ISO 8601 time as Claude Code and people write it (``2026-11-29``, ``…T14:00``, ``…Z``
    or with an offset), a naive one taken as UTC; None when it is missing or not a time."""
    if not text:
        return None
    try:
        stamp = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return stamp if stamp.tzinfo is not None else stamp.replace(tzinfo=timezone.utc)

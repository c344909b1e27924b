"""Claude model families: the name a team writes in its log (``haiku``) and the ids the API
records (``claude-haiku-4-5-20251001``) name the same model when they are of one family. Plain
Python, no dependency: read by the log's checks, the metrics and the reports."""

from __future__ import annotations

import re

FAMILIES = ("opus", "sonnet", "haiku")


def family(model: str | None) -> str | None:
    """``claude-haiku-4-5-20251001`` → ``haiku``; a family name is its own family; a name of
    no known family is itself, lowercased."""
    if not model:
        return None
    low = model.lower()
    return next((f for f in FAMILIES if f in low), low)


def _dated(model: str) -> bool:
    """``claude-haiku-4-5-20251001``: a snapshot id, one model exactly (an alias such as
    ``claude-haiku-4-5`` or ``claude-3-5-haiku-latest`` may stand for several)."""
    tail = model.rsplit("-", 1)[-1]
    return len(tail) == 8 and tail.isdigit()


#: a snapshot's date, wherever a provider puts it: ``claude-haiku-4-5-20251001``,
#: ``anthropic.claude-haiku-4-5-20251001-v1:0``, ``claude-opus-4@20250514``,
#: ``claude-sonnet-4-5-20250929[1m]`` (Claude Code's 1M-context variant of that snapshot)
_DATE = re.compile(r"(?<![\d.])20\d{2}[01]\d[0-3]\d(?![\d.])")


def snapshot_date(model: str) -> str | None:
    """The date of the snapshot a name records (``20251001``); None for a family, an alias or
    a free-text name."""
    found = _DATE.search(model)
    return found.group() if found else None


def snapshot_of(recorded: str, wanted: str) -> bool:
    """Whether ``recorded`` is a snapshot id of the model ``wanted`` names undated
    (``claude-3-5-haiku-20241022`` of ``claude-3-5-haiku``): that model, exactly."""
    low, want = recorded.lower(), wanted.lower()
    return _dated(low) and not _dated(want) and low.rsplit("-", 1)[0] == want


_FAMILY = "(?:" + "|".join(FAMILIES) + ")"
#: the shapes that give a model's version: ``claude-3-5-haiku``, ``claude-haiku-4-5`` (a date or
#: a provider's suffix may follow), ``Haiku 4.5``; one or two numbers of one or two digits
_VERSIONS = (
    re.compile(rf"claude-(\d{{1,2}})(?:[-.](\d{{1,2}}))?-{_FAMILY}(?![a-z])"),
    re.compile(rf"(?<![a-z]){_FAMILY}-(\d{{1,2}})(?:[-.](\d{{1,2}}))?(?![\d.])"),
    re.compile(rf"(?<![a-z]){_FAMILY}\s+(\d{{1,2}})(?:\.(\d{{1,2}}))?(?![\d.])"),
)


def version(model: str) -> tuple[int, ...] | None:
    """The model version a name gives in one of the shapes models are named by, trailing zeros
    dropped: ``claude-3-5-haiku-latest`` and ``Haiku 3.5`` → (3, 5), ``claude-haiku-4.5`` (a
    dot for the hyphen) → (4, 5); ``claude-opus-4-20250514``,
    ``claude-opus-4-0`` and ``anthropic.claude-opus-4-20250514-v1:0`` → (4,); None when it gives
    none in such a shape (``haiku``, ``my haiku run 2``): other numbers (a date, a provider's
    ``-v1:0``, ``200k context``) are no version."""
    low = model.lower()
    for shape in _VERSIONS:
        if found := shape.search(low):
            parts = [int(d) for d in found.groups() if d is not None]
            while parts and parts[-1] == 0:
                parts.pop()
            return tuple(parts) if parts else None
    return None


def same_model(recorded: str, wanted: str) -> bool:
    """Whether ``recorded`` gives the family and version ``wanted`` names a model by (and its
    snapshot's date, where ``wanted`` gives one): ``claude-haiku-4-5-20251001``,
    ``anthropic.claude-haiku-4-5-20251001-v1:0`` and ``claude-haiku-4-5`` are Haiku 4.5, which
    ``Haiku 4.5``, ``haiku-4-5`` and ``claude-haiku-4-5`` name in every snapshot of it; of
    ``claude-haiku-4-5-20251001`` only a record of that snapshot is. False when ``wanted`` gives
    no version, or is of no known family."""
    low, want = recorded.lower(), wanted.lower()
    theirs = version(want)
    if theirs is None or family(want) not in FAMILIES or family(low) != family(want):
        return False
    day = snapshot_date(want)
    return version(low) == theirs and (day is None or snapshot_date(low) == day)


def may_be(recorded: str, wanted: str) -> bool:
    """Whether a model recorded less precisely than ``wanted`` names (``haiku``, an alias, a
    free-text name of the family) may be it, without being known to: of ``wanted``'s family
    (one of :data:`FAMILIES`), not that model (see :func:`same_model`), not of another version
    (``claude-3-5-haiku`` is not Haiku 4.5 for certain; ``haiku`` gives no version), and not a
    snapshot of that version where ``wanted`` names another (a snapshot id is the most precise
    record there is). Where ``wanted`` gives no version in a shape :func:`version` reads
    (``haiku4.5``, ``claude-haiku-latest``), which model it names is not known: every record of
    its family that is not ``wanted`` itself may be it. A filter naming a family is matched by
    its family alone: never "may be"."""
    low, want = recorded.lower(), wanted.lower()
    if want in FAMILIES or low == want or family(low) != family(want):
        return False
    if family(low) not in FAMILIES or snapshot_of(low, want) or same_model(low, want):
        return False
    mine, theirs = version(low), version(want)
    if mine is None or theirs is None:
        return True
    return mine == theirs and snapshot_date(low) is None


def two_models(one: str, other: str) -> bool:
    """Whether two names name two models: two families, or two versions of one
    (``claude-3-5-haiku`` and ``claude-haiku-4-5``); a name without a version (``haiku``) is no
    other model than any of its family's."""
    if family(one) != family(other):
        return True
    mine, theirs = version(one), version(other)
    return mine is not None and theirs is not None and mine != theirs

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


def snapshot_of(recorded: str, wanted: str) -> bool:
    """Whether ``recorded`` is a snapshot id of the model ``wanted`` names undated
    (``claude-3-5-haiku-20241022`` of ``claude-3-5-haiku``): that model, exactly."""
    low, want = recorded.lower(), wanted.lower()
    return _dated(low) and not _dated(want) and low.rsplit("-", 1)[0] == want


_FAMILY = "(?:" + "|".join(FAMILIES) + ")"
#: the shapes that give a model's version: ``claude-3-5-haiku``, ``claude-haiku-4-5`` (a date or
#: a provider's suffix may follow), ``Haiku 4.5``; one or two numbers of one or two digits
_VERSIONS = (
    re.compile(rf"claude-(\d{{1,2}})(?:-(\d{{1,2}}))?-{_FAMILY}(?![a-z])"),
    re.compile(rf"(?<![a-z]){_FAMILY}-(\d{{1,2}})(?:-(\d{{1,2}}))?(?!\d)"),
    re.compile(rf"(?<![a-z]){_FAMILY}\s+(\d{{1,2}})(?:\.(\d{{1,2}}))?(?![\d.])"),
)


def version(model: str) -> tuple[int, ...] | None:
    """The model version a name gives in one of the shapes models are named by, trailing zeros
    dropped: ``claude-3-5-haiku-latest`` and ``Haiku 3.5`` → (3, 5); ``claude-opus-4-20250514``,
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


def may_be(recorded: str, wanted: str) -> bool:
    """Whether a model recorded less precisely than ``wanted`` names (``haiku``, an alias, a
    free-text name of the family) may be it, without being known to: of ``wanted``'s family,
    not the same name, not of another version (``claude-3-5-haiku`` is not Haiku 4.5 for
    certain; ``haiku`` gives no version), and not a snapshot id (the most precise record there
    is: it is the model wanted, or its snapshot, or another model for certain). A filter
    naming a family is matched by its family alone: never "may be"."""
    low, want = recorded.lower(), wanted.lower()
    if want in FAMILIES or low == want or family(low) != family(want):
        return False
    mine, theirs = version(low), version(want)
    if mine is not None and theirs is not None and mine != theirs:
        return False
    return not _dated(low)

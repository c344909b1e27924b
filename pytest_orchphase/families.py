"""Claude model families: the name a team writes in its log (``haiku``) and the ids the API
records (``claude-haiku-4-5-20251001``) name the same model when they are of one family. Plain
Python, no dependency: read by the log's checks, the metrics and the reports."""

from __future__ import annotations

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


def may_be(recorded: str, wanted: str) -> bool:
    """Whether a model recorded less precisely than ``wanted`` names (``haiku``, an alias, a
    free-text name of the family) may be it, without being known to: of ``wanted``'s family,
    not the same name, and not two snapshot ids (which differ for certain). A filter naming a
    family is matched by its family alone: never "may be"."""
    low, want = recorded.lower(), wanted.lower()
    if want in FAMILIES or low == want or family(low) != family(want):
        return False
    return not (_dated(low) and _dated(want))

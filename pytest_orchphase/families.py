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

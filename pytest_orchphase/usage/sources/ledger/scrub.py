"""Masks credential-shaped strings in the few free-text fields a usage ledger keeps.

A ledger keeps no prompt, no message and no tool input or output; of a Task/Agent call it keeps
the description, the sub-agent type, the requested model and the status, and those pass through
:func:`scrub` first: API keys, tokens, passwords in URLs and private key blocks become ``[secret]``.
"""

from __future__ import annotations

import functools
import re

MASK = "[secret]"

_SECRETS = (
    # A private key block (PEM, OpenSSH), or its first line when the block is cut short.
    r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(-----END [A-Z0-9 ]*PRIVATE KEY-----|$)",
    r"\bsk-ant-[A-Za-z0-9_\-]{8,}",  # Anthropic
    r"\bsk-(proj-)?[A-Za-z0-9_\-]{20,}",  # OpenAI and the like
    r"\bgh[pousr]_[A-Za-z0-9]{20,}",  # GitHub tokens
    r"\bgithub_pat_[A-Za-z0-9_]{20,}",
    r"\bglpat-[A-Za-z0-9_\-]{20,}",  # GitLab
    r"\bxox[abposr]-[A-Za-z0-9\-]{10,}",  # Slack
    r"\b(AKIA|ASIA)[0-9A-Z]{16}\b",  # AWS access key ids
    r"\bAIza[0-9A-Za-z_\-]{35}",  # Google API keys
    r"\beyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}",  # JWTs
    r"(?i)\bbearer\s+[A-Za-z0-9\-._~+/]{16,}=*",
)
#: ``scheme://user:password@host``: the password is masked, the rest kept.
_URL_PASSWORD = r"([A-Za-z][A-Za-z0-9+.\-]*://[^/\s:@]*:)[^/\s@]+@"
#: ``password=…``, ``api_key: …``, ``token=…``: the value is masked.
_ASSIGNED = (
    r"(?i)\b((?:api[_-]?key|access[_-]?key|secret|token|passw(?:or)?d|pwd)\w*\s*[:=]\s*)"
    r"(?!\[secret\])[\"']?[^\s\"',;]{4,}[\"']?"
)


@functools.cache
def _compiled() -> tuple[tuple[re.Pattern[str], ...], re.Pattern[str], re.Pattern[str]]:
    """The patterns, compiled on first use (not at import: every scan imports this module,
    few write a ledger)."""
    return (
        tuple(re.compile(p, re.DOTALL) for p in _SECRETS),
        re.compile(_URL_PASSWORD),
        re.compile(_ASSIGNED),
    )


def scrub(text: str | None) -> str | None:
    """``text`` with every credential-shaped string replaced by ``[secret]``."""
    if text is None:
        return None
    secrets, url_password, assigned = _compiled()
    for pattern in secrets:
        text = pattern.sub(MASK, text)
    text = url_password.sub(rf"\1{MASK}@", text)
    return assigned.sub(rf"\1{MASK}", text)

"""Measured token usage from Claude Code transcripts (plain Python, no pytest).

>>> from pytest_orchphase.usage.scan import scan_paths
>>> scan = scan_paths([Path("~/.claude/projects").expanduser()])  # doctest: +SKIP
>>> sum(c.output_tokens for c in scan.calls)  # doctest: +SKIP
"""

from __future__ import annotations

from pytest_orchphase.usage.records import (
    TOKEN_FIELDS,
    AgentInfo,
    ApiCall,
    HeadlessResult,
    ModelUsage,
    Scan,
)
from pytest_orchphase.usage.sources.claude_code.layout import (
    default_config_dirs,
    discover_sessions,
    expand_paths,
    projects_dirs,
    resolve_session,
    resolve_sessions,
)
from pytest_orchphase.usage.sources.claude_code.source import ClaudeCodeSource

SOURCE = ClaudeCodeSource()

__all__ = [
    "SOURCE",
    "TOKEN_FIELDS",
    "AgentInfo",
    "ApiCall",
    "HeadlessResult",
    "ModelUsage",
    "Scan",
    "default_config_dirs",
    "discover_sessions",
    "expand_paths",
    "projects_dirs",
    "resolve_session",
    "resolve_sessions",
]

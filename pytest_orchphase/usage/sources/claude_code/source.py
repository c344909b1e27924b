"""Claude Code transcripts as a usage source: sessions, sub-agents, ``agent-*.meta.json``."""

from __future__ import annotations

from pathlib import Path

from pytest_orchphase.usage.sources.base import FileResult
from pytest_orchphase.usage.sources.claude_code.layout import is_agent_file, session_files


class ClaudeCodeSource:
    name = "claude_code"
    suffixes = (".jsonl", ".ndjson", ".meta.json")

    def claims(self, path: Path) -> bool:
        return path.name.endswith(self.suffixes)

    def companions(self, path: Path) -> list[Path]:
        """A main session file brings its sub-agents' files along (all three layouts)."""
        if path.suffix == ".jsonl" and not is_agent_file(path):
            return session_files(path)
        return [path]

    def read(self, path: Path, *, prompts: bool = True) -> FileResult:
        from pytest_orchphase.usage.sources.claude_code.reader import read_transcript

        return read_transcript(path, prompts=prompts)

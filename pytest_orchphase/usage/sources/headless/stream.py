"""The lines of a headless run: Claude Code's messages, plus the run's ``result`` and ``init``."""

from __future__ import annotations

from typing import Any

from pytest_orchphase.usage.sources.claude_code.transcript import LineReader, unread_usage
from pytest_orchphase.usage.sources.headless.results import read_result_object


class HeadlessReader(LineReader):
    """Claude Code's message lines, plus a run's ``result`` and its ``init`` line's version."""

    #: The model the last ``init`` line names: the main agent's of the run it begins.
    main_model: str | None = None

    def other(self, kind: Any, obj: dict[str, Any], lineno: int) -> None:
        if kind == "result":
            result = read_result_object(obj, self.res.path, self.main_model)
            self.res.headless.append(result)
        elif kind == "system":
            if obj.get("subtype") == "init":  # a run begins (`--resume` appends one)
                session = obj.get("session_id")
                self.res.run_starts.append(session if isinstance(session, str) else None)
                model = obj.get("model")
                self.main_model = model if isinstance(model, str) else None
            if isinstance(obj.get("claude_code_version"), str):
                self.res.version = obj["claude_code_version"]
        else:
            unread_usage(self, kind, obj, lineno)

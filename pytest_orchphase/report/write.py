"""Writing reports: whole or not at all, and the GitHub step summary kept under its limit."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from pytest_orchphase.errors import OrchphaseError, resolve_path

STEP_SUMMARY_LIMIT = 1024 * 1024  # GitHub refuses a step summary over 1 MiB
TRUNCATED = "\n\n_(report truncated to stay under GitHub's 1 MiB step summary limit)_\n"


def check_output_path(path: Path) -> None:
    """Refuse, before anything runs, a report path that cannot be a file."""
    try:
        resolve_path(path)
    except OSError as exc:  # a symbolic link loop
        raise OrchphaseError(
            f"cannot be resolved ({exc.strerror}); expected the path of a file to write",
            path=path,
        ) from None
    if path.is_dir():
        raise OrchphaseError("is a directory; expected the path of a file to write", path=path)


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename, so a
    reader (or a crash) never sees a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def json_bytes(report: dict[str, Any]) -> bytes:
    return (json.dumps(report, indent=2, ensure_ascii=False, sort_keys=False) + "\n").encode()


def append_step_summary(path: Path, markdown: str) -> bool:
    """Append to GitHub's step summary file; returns False when the text had to be cut."""
    used = path.stat().st_size if path.exists() else 0
    room = STEP_SUMMARY_LIMIT - used - len(TRUNCATED.encode())
    data = markdown.encode()
    whole = len(data) <= STEP_SUMMARY_LIMIT - used
    if not whole:
        cut = data[: max(room, 0)].decode("utf-8", errors="ignore")
        data = (cut[: cut.rfind("\n") + 1] if "\n" in cut else "").encode() + TRUNCATED.encode()
    with path.open("ab") as fh:
        fh.write(b"\n" + data)
    return whole

"""What the hardening tests share: a snapshot of a project's files, to prove nothing was written."""

from __future__ import annotations

import os
import re
from pathlib import Path

#: What pytester itself writes into the project for a child process: its output and basetemp.
PYTESTER_OWN = re.compile(r"^(stdout|stderr|runpytest-.*)$")

Tree = dict[str, tuple[int, int]]


def tree(root: Path) -> Tree:
    """Every path below ``root`` with its modification time and size (pytester's own excepted)."""
    out: Tree = {}
    for folder, dirs, files in os.walk(root):
        if Path(folder) == root:
            dirs[:] = [d for d in dirs if not PYTESTER_OWN.match(d)]
            files = [f for f in files if not PYTESTER_OWN.match(f)]
        for name in (*dirs, *files):
            path = Path(folder) / name
            info = path.lstat()
            out[str(path.relative_to(root))] = (info.st_mtime_ns, info.st_size)
    return out

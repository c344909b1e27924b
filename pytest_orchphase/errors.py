"""Every exception and warning of the core, in one place.

Errors about a user's input name where it is (file, line, column, field) and what was expected,
so the plugin can show them as a collection or usage error without a traceback. A figure the data
cannot give is ``MetricUnavailable`` (its item fails with the reason). The two classes that must
derive from pytest's own (``OrchphaseWarning``, ``CriterionFailed``) live in ``plugin/collect.py``.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path


def display(path: Path) -> str:
    """A path as the user would write it: relative to the working directory when below it; a
    name that is not UTF-8 (``l\\xe9nk``) with its odd bytes escaped, so that a message naming
    it can be printed and written to a report."""
    if not path.is_absolute():
        return printable(str(path))
    try:
        rel = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return printable(str(path))
    return printable(str(path) if rel.startswith("..") else rel)


def printable(text: str) -> str:
    """``text`` with the bytes a file name that is not UTF-8 brought in (Python's surrogate
    escapes) written as ``\\xe9``: such text cannot be encoded to write it out."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return text


def raised(exc: BaseException) -> str:
    """``ZeroDivisionError: division by zero (at conftest.py:5)``: an exception from a user's
    code (a registered metric, a registration) in one line, at the innermost frame of its
    traceback outside this package (the user's line that called it: a registration the
    registry refuses is raised in here), else at the innermost frame."""
    import traceback

    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    frames = traceback.extract_tb(exc.__traceback__)
    package = Path(__file__).parent
    theirs = [f for f in frames if package not in Path(f.filename).parents]
    if frames:
        frame = (theirs or frames)[-1]
        text += f" (at {display(Path(frame.filename))}:{frame.lineno})"
    return text


def resolve_path(path: Path) -> Path:
    """``path.resolve()``, with a symbolic link loop raised as an ``OSError`` (ELOOP) on every
    Python: 3.10 to 3.12 raise ``RuntimeError``, 3.13 returns the looping path as if it were
    fine. Every caller then handles it with the other errors of the file system."""
    try:
        resolved = path.resolve()
    except RuntimeError:
        raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), str(path)) from None
    try:  # Python 3.13 resolves a loop without a word: the file system says it loops
        os.stat(resolved)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), str(path)) from None
    except ValueError:  # a NUL byte: the caller's own checks name it
        pass
    return resolved


class OrchphaseError(Exception):
    """Bad input data: a file, a field or a value that is not what was expected."""

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        line: int | None = None,
        column: int | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = Path(path) if path is not None else None
        self.line = line
        self.column = column
        self.field = field

    @property
    def location(self) -> str:
        """``file:line:column`` (as much of it as is known)."""
        if self.path is None:
            return ""
        where = display(self.path)
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return where

    def __str__(self) -> str:
        parts = [p for p in (self.location, self.field) if p]
        prefix = ": ".join(parts)
        return f"{prefix}: {self.message}" if prefix else self.message


class PhaseUsageError(OrchphaseError):
    """The command line or configuration asks for something that cannot be done (exit 4)."""


class InvalidFile(OrchphaseError):
    """Several problems in one file, each with its own line and field."""

    def __init__(self, problems: list[OrchphaseError]) -> None:
        first = problems[0]
        super().__init__(
            first.message, path=first.path, line=first.line, column=first.column, field=first.field
        )
        self.problems = problems

    def __str__(self) -> str:
        return "\n".join(OrchphaseError.__str__(p) for p in self.problems)


class MetricUnavailable(Exception):
    """The data cannot give this figure; the reason says why and what would give it."""


class MetricFailed(MetricUnavailable):
    """A registered metric's own code raised, or returned what its unit cannot hold: its item
    fails naming the metric and the error, like any figure the data cannot give."""


class UnsafePattern(ValueError):
    """A pattern that cannot be matched in linear time, or that does not compile."""


class UnknownModelWarning(UserWarning):
    """A call's model is not in the price table: its cost is unknown (None), not $0."""

"""Safe YAML loading that remembers where every value came from.

PyYAML's ``safe_load`` silently keeps the last of two equal keys (a duplicated ticket would lose
its data), forgets line numbers, and expands aliases without bound. This module composes the node
graph itself and builds plain Python values from it, so that:

- a duplicate key in a mapping is an error naming both lines;
- every value's line and column is kept (``Document.where(path)``) for error messages;
- documents over ``MAX_BYTES`` and alias expansions over ``MAX_NODES`` are rejected;
- a plain scalar that YAML 1.1 reads as something other than what the person typed is an error:
  ``023400`` (octal 9,984), ``0x9C40``, ``0b1010``, ``1:30`` (sexagesimal 90), ``yes``/``no``/
  ``on``/``off`` (booleans), and ``.inf``/``.nan`` (no figure of a plan is infinite).

An unfilled ``${...}`` template placeholder is refused by :mod:`pytest_orchphase.load.placeholders`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from pytest_orchphase.errors import OrchphaseError
from pytest_orchphase.files import read_regular
from pytest_orchphase.load.quantity import MAX_NUMBER

MAX_BYTES = 5 * 1024 * 1024
MAX_NODES = 200_000
#: Deeper nesting is refused before parsing: libyaml's composer recurses in C and crashes the
#: process (a segmentation fault) somewhere past 20,000 levels.
MAX_DEPTH = 1000
_BRACKETS = re.compile(r"[\[\]{}]")
_DASHES = re.compile(r"(?:-[ \t]+)+")
#: Tags a mapping or a list may carry: the plain ones. Any other tag (``!!python/object``…) is an
#: error, never silently dropped and never constructed.
PLAIN_TAGS = {"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"}
_INT_TAG = "tag:yaml.org,2002:int"
_FLOAT_TAG = "tag:yaml.org,2002:float"
_BOOL_TAG = "tag:yaml.org,2002:bool"
#: Integers YAML 1.1 reads in another base than the decimal a person means: a leading 0 (octal),
#: 0x, 0b, or a colon (sexagesimal, base 60). ``0`` alone is fine.
_SURPRISING_INT = re.compile(r"[-+]?(0[0-9_]+|0[xXbBoO].*|.*:.*)")

FieldPath = tuple[str | int, ...]

try:  # the C parser is several times faster; marks and errors are the same
    _BaseLoader: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment]
except AttributeError:  # pragma: no cover - libyaml missing
    _BaseLoader = yaml.SafeLoader


def dotted(path: FieldPath) -> str:
    """``("tickets", "R03", "review")`` → ``tickets.R03.review``; list indexes as ``[0]``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(document)"


@dataclass
class Document:
    """A loaded YAML file: its data and the line/column of every key and item."""

    path: Path
    data: Any
    marks: dict[FieldPath, tuple[int, int]] = field(default_factory=dict)

    def where(self, path: FieldPath) -> tuple[int | None, int | None]:
        """1-based line and column of ``path``, or of its nearest ancestor that has one."""
        probe = tuple(path)
        while probe:
            if probe in self.marks:
                return self.marks[probe]
            probe = probe[:-1]
        return self.marks.get((), (None, None))

    def line(self, path: FieldPath) -> int | None:
        return self.where(path)[0]

    def error(self, message: str, path: FieldPath = ()) -> OrchphaseError:
        line, column = self.where(path)
        return OrchphaseError(
            message, path=self.path, line=line, column=column, field=dotted(path) if path else None
        )


class _Builder:
    def __init__(self, loader: yaml.SafeLoader, path: Path) -> None:
        self.loader = loader
        self.path = path
        self.marks: dict[FieldPath, tuple[int, int]] = {}
        self.count = 0
        #: Collection nodes built so far: one seen again was reached through an alias.
        self.collections: set[int] = set()
        self.aliased = False
        #: Per mapping node, the key nodes written in it (not brought in by a merge key).
        self.explicit: dict[int, set[int]] = {}

    def _mark(self, node: yaml.Node) -> tuple[int, int]:
        return node.start_mark.line + 1, node.start_mark.column + 1

    def build(self, node: yaml.Node, at: FieldPath) -> Any:
        self._count(node)
        if isinstance(node, yaml.CollectionNode) and node.tag not in PLAIN_TAGS:
            line, column = self._mark(node)
            raise _tag_error(node.tag, self.path, line, column, dotted(at) if at else None)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, at)
        if isinstance(node, yaml.SequenceNode):
            items = []
            for index, item in enumerate(node.value):
                here = (*at, index)
                self.marks[here] = self._mark(item)
                items.append(self.build(item, here))
            return items
        return self.scalar(node, at)

    def _count(self, node: yaml.Node) -> None:
        """One more value built: past MAX_NODES the document is refused (an alias bomb, when
        a collection was reached twice)."""
        self.count += 1
        if isinstance(node, yaml.CollectionNode):
            self.aliased = self.aliased or id(node) in self.collections
            self.collections.add(id(node))
        if self.count <= MAX_NODES:
            return
        line, column = self._mark(node)
        cause = (
            "expands to more than {:,} values through its aliases (an alias bomb?)"
            if self.aliased
            else "holds more than {:,} values (the limit of a data file)"
        )
        raise OrchphaseError(
            f"document {cause.format(MAX_NODES)}; expected a plain data file",
            path=self.path,
            line=line,
            column=column,
        )

    def _mapping(self, node: yaml.MappingNode, at: FieldPath) -> dict[Any, Any]:
        # A merge key (`<<: *defaults`) brings in keys that an explicit key of this mapping
        # may override (legal YAML: the explicit one wins); two explicit keys are an error.
        if id(node) not in self.explicit:  # an aliased node is flattened once
            self.explicit[id(node)] = {
                id(k) for k, _ in node.value if k.tag != "tag:yaml.org,2002:merge"
            }
        explicit = self.explicit[id(node)]
        self.loader.flatten_mapping(node)
        result: dict[Any, Any] = {}
        first_line: dict[Any, int] = {}
        stated: set[Any] = set()  # keys written in this mapping, not merged
        for key_node, value_node in node.value:
            key = self._key(key_node, at)
            line, column = self._mark(key_node)
            if key in result and (key in stated or id(key_node) not in explicit):
                raise OrchphaseError(
                    f"duplicate key {key!r} (first at line {first_line[key]}); YAML would "
                    "silently keep only the last value: rename or merge one of them",
                    path=self.path,
                    line=line,
                    column=column,
                    field=dotted((*at, key)),
                )
            if id(key_node) in explicit:
                stated.add(key)
            first_line[key] = line
            here = (*at, key)  # named: mypy targeting 3.10 misreads d[(*a, b)] as PEP 646
            self.marks[here] = (line, column)
            result[key] = self.build(value_node, here)
        return result

    def _key(self, key_node: yaml.Node, at: FieldPath) -> str:
        """A mapping key as the name a field path uses: a plain scalar, as text."""
        key = self.scalar(key_node, at, key=True)
        if not isinstance(key, str | int | float | bool) and key is not None:
            line, column = self._mark(key_node)
            raise OrchphaseError(
                "a mapping key must be a plain scalar",
                path=self.path,
                line=line,
                column=column,
                field=dotted(at),
            )
        if isinstance(key, bool) or key is None:
            return str(key).lower()
        return key if isinstance(key, str) else str(key)

    def scalar(self, node: yaml.Node, at: FieldPath, *, key: bool = False) -> Any:
        """A scalar's value. A number too large or not finite is an error at its line, never a
        crash in evaluation or a report jq cannot read (a key is a name: only one too long to
        convert is refused)."""
        try:
            if isinstance(node, yaml.ScalarNode) and not node.style:  # plain: C "", Python None
                self._check_plain(node, at)
            value = self.loader.construct_object(node, deep=True)
        except ValueError:  # an integer past Python's 4,300-digit conversion limit
            problem = "is too large"
        else:
            if key or isinstance(value, bool) or not isinstance(value, int | float):
                return value
            if isinstance(value, float) and not math.isfinite(value):
                problem = "is not a finite number"
            elif abs(value) > MAX_NUMBER:
                problem = "is too large"
            else:
                return value
        text = str(node.value)
        shown = text if len(text) <= 24 else f"{text[:8]}…{text[-4:]} ({len(text):,} characters)"
        line, column = self._mark(node)
        raise OrchphaseError(
            f"{shown} {problem}; expected a number of at most {MAX_NUMBER:,} in magnitude",
            path=self.path,
            line=line,
            column=column,
            field=dotted(at) if at else None,
        )

    def _check_plain(self, node: yaml.ScalarNode, at: FieldPath) -> None:
        """Refuse a plain scalar that YAML 1.1 reads differently from what the person typed."""
        text = node.value
        problem = ""
        if node.tag == _INT_TAG and _SURPRISING_INT.fullmatch(text):
            value = self.loader.construct_object(node)
            problem = (
                f"{text} is read by YAML as {value:,} (a number in base "
                f"{_base(text)}), not as the decimal it looks like; write the decimal number "
                "you mean, or quote it if it is text"
            )
        elif node.tag == _FLOAT_TAG and ":" in text:
            value = self.loader.construct_object(node)
            problem = (
                f"{text} is read by YAML as {value:g} (sexagesimal, base 60); write the "
                "number itself, or quote it if it is text"
            )
        elif node.tag == _FLOAT_TAG and text.lstrip("+-").lower() in (".inf", ".nan"):
            problem = f"{text} is not a finite number; expected a figure"
        elif node.tag == _BOOL_TAG and text.lower() not in ("true", "false"):
            value = self.loader.construct_object(node)
            problem = (
                f"{text} is read by YAML 1.1 as the boolean {str(value).lower()}; write true or "
                "false for a yes/no field, a number for a figure, or quote it if it is text"
            )
        if problem:
            line, column = self._mark(node)
            raise OrchphaseError(
                problem, path=self.path, line=line, column=column, field=dotted(at) or None
            )


def _base(text: str) -> int:
    digits = text.lstrip("+-").lower()
    if ":" in digits:
        return 60
    return {"0x": 16, "0b": 2}.get(digits[:2], 8)


def _tag_error(
    tag: str | None, path: Path, line: int | None, column: int | None, field: str | None
) -> OrchphaseError:
    shown = (tag or "").replace("tag:yaml.org,2002:", "!!")
    return OrchphaseError(
        f"unsupported tag {shown!r}; expected plain YAML data (a tag is never run or built)",
        path=path,
        line=line,
        column=column,
        field=field,
    )


def _syntax_error(path: Path, exc: yaml.YAMLError) -> OrchphaseError:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    if isinstance(exc, yaml.constructor.ConstructorError) and "constructor for the tag" in problem:
        tag = problem.rsplit(" ", 1)[-1].strip("'")
        line = mark.line + 1 if mark is not None else None
        return _tag_error(tag, path, line, mark.column + 1 if mark is not None else None, None)
    context = getattr(exc, "context", None)
    hint = ""
    if problem.startswith("mapping values are not allowed"):
        hint = " (a plain value may not contain ': '; quote it)"
    message = f"YAML syntax error: {problem}{hint}"
    if context:
        message += f" ({context})"
    return OrchphaseError(
        message,
        path=path,
        line=mark.line + 1 if mark is not None else None,
        column=mark.column + 1 if mark is not None else None,
    )


def _too_deep(text: str) -> int | None:
    """The line where nesting may pass ``MAX_DEPTH`` levels (flow brackets, or block sequences
    opened on one line: ``- - - x``), else None. Brackets in quoted text count too: a cheap,
    conservative bound."""
    if text.count("[") + text.count("{") > MAX_DEPTH:
        depth = 0
        for match in _BRACKETS.finditer(text):
            depth += 1 if match.group() in "[{" else -1
            if depth > MAX_DEPTH:
                return text.count("\n", 0, match.start()) + 1
    if text.count("-") > MAX_DEPTH:
        for match in _DASHES.finditer(text):  # maximal runs: linear in the text
            if match.group().count("-") > MAX_DEPTH:
                return text.count("\n", 0, match.start()) + 1
    return None


def _nesting_error(path: Path, line: int | None) -> OrchphaseError:
    return OrchphaseError(
        f"YAML nesting is too deep (over {MAX_DEPTH:,} levels); expected a plain data file",
        path=path,
        line=line,
    )


def parse(text: str, path: Path) -> Document:
    """Parse YAML text (already read) into a :class:`Document`."""
    if (deep := _too_deep(text)) is not None:
        raise _nesting_error(path, deep)
    loader = _BaseLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:  # empty, or only comments: errors about it point at line 1
            return Document(path=path, data=None, marks={(): (1, 1)})
        builder = _Builder(loader, path)
        builder.marks[()] = builder._mark(node)
        data = builder.build(node, ())
        return Document(path=path, data=data, marks=builder.marks)
    except yaml.YAMLError as exc:
        raise _syntax_error(path, exc) from None
    except RecursionError:
        raise _nesting_error(path, None) from None
    finally:
        loader.dispose()


def load(path: Path) -> Document:
    """Read and parse a YAML file, with clear errors for everything that can be wrong with it."""
    if not path.exists():
        raise OrchphaseError("file not found; expected a YAML file here", path=path)
    if path.is_dir():
        raise OrchphaseError("is a directory; expected a YAML file", path=path)
    try:
        raw = read_regular(path, MAX_BYTES, "a YAML data file")
    except OSError as exc:
        raise OrchphaseError(f"cannot read: {exc.strerror}", path=path) from None
    if (nul := raw.find(b"\x00")) >= 0:
        raise OrchphaseError(
            f"binary content (NUL byte at byte {nul}); expected a YAML text file",
            path=path,
            line=raw[:nul].count(b"\n") + 1,
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise OrchphaseError(
            f"invalid UTF-8 at byte {exc.start}; expected a UTF-8 text file", path=path, line=line
        ) from None
    return parse(text, path)

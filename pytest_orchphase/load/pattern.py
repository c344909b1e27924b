"""Regular expressions from data files, matched in linear time.

A pattern read from a data file (``agents.description_pattern``) must never hang a run. Python's
``re`` backtracks: ``^(\\w+\\s?)*$`` against an ordinary 30-character Task description never
finishes, and three ``.*`` in a row take minutes on a long one. So the pattern is parsed by the
standard library's own parser (the syntax is exactly ``re``'s) and matched by simulating its
automaton (Thompson's construction): every position of the text is looked at once per
instruction, so the time is at most proportional to the pattern's size times the text's length,
whatever the pattern. One character is tested against one class (``[a-z]``, ``\\w``, a letter
under ``(?i)``) by ``re`` itself, so each character means what it means in ``re``.

What no automaton can match without backtracking is refused when the file is loaded, with the
reason: backreferences, lookahead and lookbehind, conditional groups, atomic groups and
possessive quantifiers. Counted repeats may expand the pattern to at most
:data:`MAX_INSTRUCTIONS` instructions.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pytest_orchphase.errors import UnsafePattern

#: The largest program a pattern may compile to (``x{1000}`` is a thousand copies of ``x``).
MAX_INSTRUCTIONS = 2000

_REFUSED = {
    "GROUPREF": "a backreference",
    "GROUPREF_EXISTS": "a conditional group",
    "ASSERT": "a lookahead or lookbehind",
    "ASSERT_NOT": "a negative lookahead or lookbehind",
    "ATOMIC_GROUP": "an atomic group",
    "POSSESSIVE_REPEAT": "a possessive quantifier",
}
_CATEGORIES = {
    "CATEGORY_DIGIT": r"\d",
    "CATEGORY_NOT_DIGIT": r"\D",
    "CATEGORY_SPACE": r"\s",
    "CATEGORY_NOT_SPACE": r"\S",
    "CATEGORY_WORD": r"\w",
    "CATEGORY_NOT_WORD": r"\W",
}
#: The flags that change what one character matches.
_CHAR_FLAGS = re.IGNORECASE | re.DOTALL | re.ASCII


def _sre_parser() -> Any:
    try:
        return importlib.import_module("re._parser")  # Python 3.11+
    except ImportError:  # pragma: no cover - Python 3.10
        return importlib.import_module("sre_parse")


# The program: ("char", test) consumes one character; ("split", a, b) and ("jmp", a) move
# without consuming; ("at", kind, flags) checks the position; ("match",) ends a match.
Instruction = tuple[Any, ...]


def _char(text: str, flags: int) -> Callable[[str], bool]:
    compiled = re.compile(text, flags & _CHAR_FLAGS)
    return lambda ch: compiled.fullmatch(ch) is not None


def _code(c: int) -> str:
    return f"\\U{c:08x}"


class _Compiler:
    def __init__(self, source: str) -> None:
        self.source = source
        self.program: list[Instruction] = []
        self.chars: dict[tuple[str, int], Callable[[str], bool]] = {}

    def emit(self, *instruction: Any) -> int:
        if len(self.program) >= MAX_INSTRUCTIONS:
            raise UnsafePattern(
                f"expands to more than {MAX_INSTRUCTIONS:,} steps (a large counted repeat?); "
                "expected a shorter regular expression"
            )
        self.program.append(instruction)
        return len(self.program) - 1

    def char(self, text: str, flags: int) -> None:
        key = (text, flags & _CHAR_FLAGS)
        if key not in self.chars:
            self.chars[key] = _char(text, flags)
        self.emit("char", self.chars[key])

    def sequence(self, items: Any, flags: int) -> None:
        for op, av in items:
            self.item(op.name, av, flags)

    def item(self, name: str, av: Any, flags: int) -> None:
        if name in _REFUSED:
            raise UnsafePattern(
                f"uses {_REFUSED[name]}, which cannot be matched without backtracking (a run "
                "could hang on it); expected a regular expression without backreferences, "
                "lookarounds, conditional or atomic groups and possessive quantifiers"
            )
        if name == "LITERAL":
            self.char(_code(av), flags)
        elif name == "NOT_LITERAL":
            self.char(f"[^{_code(av)}]", flags)
        elif name == "ANY":
            self.char(".", flags)
        elif name == "IN":
            self.char(self.char_class(av), flags)
        elif name == "AT":
            self.emit("at", av.name, flags)
        elif name == "SUBPATTERN":
            _group, add, remove, body = av
            self.sequence(body, (flags | add) & ~remove)
        elif name == "BRANCH":
            self.branch(av[1], flags)
        elif name in ("MAX_REPEAT", "MIN_REPEAT"):  # lazy or greedy: the same set of matches
            low, high, body = av
            self.repeat(low, high, body, flags)
        else:  # pragma: no cover - an operation this parser version adds
            raise UnsafePattern(f"uses {name.lower()}, which is not supported here")

    def char_class(self, items: Any) -> str:
        parts: list[str] = []
        for op, av in items:
            if op.name == "NEGATE":
                parts.insert(0, "^")
            elif op.name == "LITERAL":
                parts.append(_code(av))
            elif op.name == "RANGE":
                parts.append(f"{_code(av[0])}-{_code(av[1])}")
            elif op.name == "CATEGORY":
                parts.append(_CATEGORIES[av.name])
            else:  # pragma: no cover
                raise UnsafePattern(f"uses {op.name.lower()} in a class, not supported here")
        return "[" + "".join(parts) + "]"

    def branch(self, alternatives: list[Any], flags: int) -> None:
        jumps = []
        for alternative in alternatives[:-1]:
            split = self.emit("split", 0, 0)
            self.sequence(alternative, flags)
            jumps.append(self.emit("jmp", 0))
            self.program[split] = ("split", split + 1, len(self.program))
        self.sequence(alternatives[-1], flags)
        for jump in jumps:
            self.program[jump] = ("jmp", len(self.program))

    def repeat(self, low: int, high: int, body: Any, flags: int) -> None:
        unbounded = high >= _sre_parser().MAXREPEAT
        for _ in range(low):
            self.sequence(body, flags)
        if unbounded:  # L: split L+1, out; body; jmp L
            split = self.emit("split", 0, 0)
            self.sequence(body, flags)
            self.emit("jmp", split)
            self.program[split] = ("split", split + 1, len(self.program))
            return
        splits = []
        for _ in range(high - low):  # each optional copy may be skipped to the end
            splits.append(self.emit("split", 0, 0))
            self.sequence(body, flags)
        for split in splits:
            self.program[split] = ("split", split + 1, len(self.program))


@dataclass(frozen=True)
class LinearPattern:
    """A compiled pattern: :meth:`search` says whether it matches anywhere in a text."""

    source: str
    program: tuple[Instruction, ...]

    def search(self, text: str) -> bool:
        program = self.program
        threads = self._closure({0}, text, 0)
        for pos, ch in enumerate(text):
            if any(program[pc][0] == "match" for pc in threads):
                return True
            moved = {pc + 1 for pc in threads if program[pc][0] == "char" and program[pc][1](ch)}
            moved.add(0)  # a match may start at any position
            threads = self._closure(moved, text, pos + 1)
        return any(program[pc][0] == "match" for pc in threads)

    def _closure(self, start: set[int], text: str, pos: int) -> set[int]:
        """The instructions reachable from ``start`` without consuming a character."""
        program = self.program
        done: set[int] = set()
        stack = list(start)
        while stack:
            pc = stack.pop()
            if pc in done:
                continue
            done.add(pc)
            op = program[pc]
            if op[0] == "jmp":
                stack.append(op[1])
            elif op[0] == "split":
                stack += [op[1], op[2]]
            elif op[0] == "at" and _at(op[1], op[2], text, pos):
                stack.append(pc + 1)
        return {pc for pc in done if program[pc][0] in ("char", "match")}


_WORD = re.compile(r"\w")
_WORD_ASCII = re.compile(r"\w", re.ASCII)


def _at(kind: str, flags: int, text: str, pos: int) -> bool:
    end = len(text)
    if kind == "AT_BEGINNING_STRING":
        return pos == 0
    if kind == "AT_END_STRING":
        return pos == end
    if kind == "AT_BEGINNING":
        return pos == 0 or bool(flags & re.MULTILINE and text[pos - 1] == "\n")
    if kind == "AT_END":
        if pos == end or (pos == end - 1 and text[pos] == "\n"):
            return True
        return bool(flags & re.MULTILINE and text[pos] == "\n")
    word = _WORD_ASCII if flags & re.ASCII else _WORD
    before = pos > 0 and word.fullmatch(text[pos - 1]) is not None
    after = pos < end and word.fullmatch(text[pos]) is not None
    if kind == "AT_BOUNDARY":
        return before != after
    if kind == "AT_NON_BOUNDARY":
        return end > 0 and before == after
    raise UnsafePattern(f"uses the anchor {kind.lower()}, which is not supported here")


def compile_linear(source: str) -> LinearPattern:
    """Compile ``source`` (``re`` syntax) for matching in linear time; :class:`UnsafePattern`
    says why a pattern is refused (it does not compile, or it needs backtracking)."""
    try:
        re.compile(source)  # the error messages users know, for a pattern that does not compile
        parsed = _sre_parser().parse(source)
    except re.error as exc:
        raise UnsafePattern(f"not a valid regular expression: {exc}") from None
    state = getattr(parsed, "state", None) or parsed.pattern  # 3.11+ / 3.10
    compiler = _Compiler(source)
    compiler.sequence(parsed, state.flags)
    compiler.emit("match")
    return LinearPattern(source, tuple(compiler.program))

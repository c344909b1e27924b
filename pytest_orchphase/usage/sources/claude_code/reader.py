"""Read Claude Code transcript files: whole, or on from where an earlier read stopped (the scan
cache's cut), each complete line handed to a :class:`~.transcript.LineReader`.

Lines that cannot carry usage (no ``"usage"`` key anywhere in their bytes) are not parsed: they
are only checked to be one JSON object (``{`` … ``}``), which is how a truncated line is caught.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from pytest_orchphase.usage.sources import registry
from pytest_orchphase.usage.sources.base import FileResult
from pytest_orchphase.usage.sources.claude_code.lines import (
    _USAGE,
    _USER,
    READ_BUFFER,
    _also_read,
    _Bad,
    _loads,
    bad_line,
    foreign_encoding,
    foreign_file,
    may_hold_usage,
)
from pytest_orchphase.usage.sources.claude_code.transcript import LineReader


def read_file(path: Path, prompts: bool = True) -> FileResult:
    """Read one file by the source that claims it (see :mod:`..registry`)."""
    return registry.read_file(path, prompts)


def read_transcript(
    path: Path, reader_type: type[LineReader] | None = None, *, prompts: bool = True
) -> FileResult:
    """Read one transcript or meta.json file (with ``reader_type``: a file whose lines are
    Claude Code messages and more, such as a headless stream). Never raises for bad content.
    ``prompts=False``: no line is parsed only to find the session's first prompt (a file with
    no prompt would have every user line parsed: the tool outputs)."""
    if not path.name.endswith(".json"):
        return resume_transcript(path, None, 0, 0, prompts=prompts, reader_type=reader_type)
    reader = (reader_type or LineReader)(path)
    try:
        _read_whole(reader, path)
    except OSError as exc:
        reader.res.warnings.append(f"{path}: cannot read: {exc}")
    reader.resolve_sidechains()
    return reader.res


@dataclass
class Resumed:
    """A transcript read in two parts: its complete lines (up to ``end``, the byte after the
    last newline), then what follows them (a line still being written, without its newline)."""

    #: The result of the complete lines, before any inline sidechain is resolved.
    head: FileResult
    end: int
    lines: int
    #: ``head`` can be read on from ``end``: no inline sidechain line in it (resolving those
    #: needs every line of the chain, which the head's result does not keep).
    resumable: bool
    #: No line follows ``end``: the head is the whole file.
    whole: bool
    #: Whether the lines after ``end`` are still to be looked at for a first prompt.
    want_prompt: bool


def resume_transcript(
    path: Path,
    head: FileResult | None,
    start: int,
    lines: int,
    *,
    prompts: bool = True,
    want_prompt: bool = True,
    seen: Callable[[bytes], None] | None = None,
    on_head: Callable[[Resumed], None] | None = None,
    reader_type: type[LineReader] | None = None,
) -> FileResult:
    """A file of lines read from byte ``start`` (line ``lines + 1``) to its end, ``head``
    being the result of its lines before (``None``: from the start) and ``want_prompt`` the
    reader's search for a first prompt after them: :func:`read_transcript` of a transcript or
    a headless stream is this from the start. ``seen`` is given each complete line read;
    ``on_head`` the result of the complete lines (to be copied at once: reading goes on into
    it), before the last line is read when it has no newline yet. The result is the one a
    whole read gives."""
    reader = (reader_type or LineReader)(path)
    if head is not None:
        reader.res = head
    reader.want_prompt = want_prompt
    tail: bytes | None = None
    end = start
    try:
        with path.open("rb", buffering=READ_BUFFER) as fh:
            if start:
                fh.seek(start)
            numbered = _complete(fh, seen) if seen is not None else fh
            lines, tail = _read_lines(reader, numbered, prompts, lines, hold_tail=True)
            if on_head is not None:
                end = fh.tell() - len(tail or b"")
    except OSError as exc:
        reader.res.warnings.append(f"{path}: cannot read: {exc}")
        on_head = None
    if reader.foreign:
        on_head = None  # never kept in the scan cache: read again, warned again
    if on_head is not None:
        resumable = not (reader.parents or reader.roots or reader.chain_of)
        on_head(Resumed(reader.res, end, lines, resumable, tail is None, reader.want_prompt))
    if tail is not None:
        _read_lines(reader, [tail], prompts, lines)
    reader.resolve_sidechains()
    return reader.res


def _complete(lines: Iterable[bytes], seen: Callable[[bytes], None]) -> Iterator[bytes]:
    for line in lines:
        if line[-1:] == b"\n":
            seen(line)
        yield line


#: A UTF-8 byte order mark, which some editors and Windows tools put at the start of a file.
_BOM = b"\xef\xbb\xbf"


def _read_whole(reader: LineReader, path: Path) -> None:
    raw = path.read_bytes().removeprefix(_BOM)
    if encoding := foreign_encoding(raw[:4]):
        # A headless result saved as UTF-16 may hold a run's calls; an agent's meta.json none.
        reader.warn_line(1, foreign_file(encoding), lost=not path.name.endswith(".meta.json"))
        return
    try:
        obj = _loads(raw)
        if path.name.endswith(".meta.json"):
            reader.meta(obj)
            reader.res.intact += 1
        elif isinstance(obj, list):  # `claude -p --output-format json --verbose`: all messages
            for index, item in enumerate(obj, 1):
                try:
                    reader.line(item, index)
                    reader.res.intact += 1
                except (_Bad, ValueError) as exc:  # this message alone, not the whole file
                    lost = may_hold_usage(json.dumps(item, separators=(",", ":")).encode())
                    reader.warn_line(index, bad_line(exc, "wrong field types"), lost=lost)
        else:
            reader.line(obj, 1)
            reader.res.intact += 1
    except (ValueError, _Bad) as exc:
        what = bad_line(exc, "not a JSON object of the expected shape")
        reader.warn_line(1, what, lost=may_hold_usage(raw))


def _look_for_prompt(reader: LineReader, line: bytes) -> bool:
    """Read a user line without usage for the session's first prompt (a line with usage is
    read whole anyway); whether the prompt is still to be found."""
    if _USAGE not in line:
        try:
            obj = _loads(line)
        except ValueError:
            return not reader.res.prompts  # counted by the caller like any line
        if isinstance(obj, dict) and obj.get("type") == "user":
            reader.prompt(obj)
    return not reader.res.prompts


_ASSISTANT, _PROGRESS, _MESSAGE = b'"assistant"', b'"agent_progress"', b'"message":{'
#: How far from a line's end its type sits: Claude Code writes ``type`` (and an agent_progress
#: line's ``data.type``, at most 3.5 kB from the end in the real files) after the message.
_TAIL = 8192


def _response_without_usage(line: bytes) -> bool:
    """Whether a line of no ``usage``, whose tail names an assistant or agent_progress line, is
    an assistant line (or a sub-agent's copy of one in an ``agent_progress`` line) whose
    message is damaged (null, a text, absent): it recorded a call, lost with it, and is read
    so that the figures are marked lower bounds. The types are searched for as JSON strings (a
    quote inside a text is escaped) in the line's tail: most lines without usage are long tool
    results, which a search of the whole would read once more. A line whose message is an
    object (an agent_progress line's copied line holds one more: a user's copy) is no damaged
    response, and is not parsed."""
    find = line.find
    progress = find(_PROGRESS, len(line) - _TAIL) >= 0
    first = find(_MESSAGE)
    if first >= 0 and (not progress or find(_MESSAGE, first + 1) >= 0):
        return False
    try:
        obj = _loads(line)
    except ValueError:
        return False  # told by the line's reading as any line that is not JSON
    if not isinstance(obj, dict):
        return False
    if obj.get("type") == "assistant":
        return True
    data = obj.get("data")
    if obj.get("type") != "progress" or not isinstance(data, dict):
        return False
    inner = data.get("message")
    return data.get("type") == "agent_progress" and (
        not isinstance(inner, dict) or inner.get("type") == "assistant"
    )


def _read_lines(
    reader: LineReader,
    lines: Iterable[bytes],
    prompts: bool = True,
    before: int = 0,
    *,
    hold_tail: bool = False,
) -> tuple[int, bytes | None]:
    """Read ``lines`` (numbered from ``before + 1``) into ``reader``. Returns the number of the
    last line read, and with ``hold_tail`` the last line when it has no newline yet, not read
    (see :func:`resume_transcript`)."""
    loads = _loads
    # A main session's first prompt names its ticket: parse lines whole until it is found.
    want_prompt = prompts and reader.file_agent is None and reader.want_prompt
    # A sub-agent's own file: every line is a sidechain line, none of them is needed unparsed.
    main_file = reader.file_agent is None
    lineno = before
    for lineno, line in enumerate(lines, before + 1):
        if hold_tail and line[-1:] != b"\n":
            reader.want_prompt = want_prompt
            return lineno - 1, line
        if lineno == 1:
            if encoding := foreign_encoding(line[:4]):
                # Not UTF-8: its lines cannot be told apart, nor its calls read.
                reader.warn_line(1, foreign_file(encoding), lost=True)
                reader.foreign = True
                return lineno, None
            line = line.removeprefix(_BOM)  # else the first line is not JSON
        if want_prompt and _USER in line:
            want_prompt = _look_for_prompt(reader, line)
        if (
            _USAGE not in line
            and not (main_file and _also_read(line))
            and not (
                # the type of a line's damaged response (see _response_without_usage), searched
                # here in the line's tail: a call per line would cost more than the search
                (
                    line.find(_ASSISTANT, len(line) - _TAIL) >= 0
                    or line.find(_PROGRESS, len(line) - _TAIL) >= 0
                )
                and _response_without_usage(line)
            )
        ):
            # Cannot carry usage: only check that it is one whole JSON object (most lines at a
            # glance, without the copy a strip makes).
            if line[:1] == b"{" and line[-2:] == b"}\n":
                reader.res.intact += 1
                continue
            stripped = line.strip()
            if not stripped:
                continue
            if stripped[:1] == b"{" and stripped[-1:] == b"}":
                reader.res.intact += 1
            else:  # cut short, perhaps before the usage Claude Code writes last
                reader.warn_line(
                    lineno, "not a whole JSON object (truncated?)", lost=may_hold_usage(stripped)
                )
            continue
        # From here on the line may hold usage: one that cannot be read may lose a call.
        try:
            obj = loads(line)
        except ValueError:
            reader.warn_line(lineno, "not valid JSON (or not UTF-8)", lost=may_hold_usage(line))
            continue
        try:
            reader.line(obj, lineno)
            reader.res.intact += 1
        except (_Bad, ValueError) as exc:
            reader.warn_line(lineno, bad_line(exc, "wrong field types"), lost=may_hold_usage(line))
    reader.want_prompt = want_prompt
    return lineno, None

"""Headless ``claude -p`` runs as a usage source: ``--output-format json`` (one ``result``
object, or with ``--verbose`` a list of every message) and ``--output-format stream-json`` (one
message a line, starting with a ``system``/``init`` line and ending with the ``result``).

A stream's messages are Claude Code's own: they are read by the transcript line reader, and this
source adds the lines only a headless run writes (the ``result``, the ``init`` line's version).
"""

from __future__ import annotations

from pathlib import Path

from pytest_orchphase.usage.sources.base import FileResult
from pytest_orchphase.usage.sources.claude_code.lines import foreign_encoding

#: Bytes that mark a ``.json`` file as a headless result (``--output-format json``), not any
#: other JSON file that happens to sit in the folder (package.json, settings.json …). In JSON a
#: quote inside a string is escaped, so these occur only as a key and its value.
_RESULT_MARKERS = (b'"modelUsage"', b'"type":"result"', b'"type": "result"')
_INIT_MARKERS = (b'"subtype":"init"', b'"subtype": "init"')
_SYSTEM = (b'{"type":"system"', b'{"type": "system"')
#: How much of a stream's first and last line is looked at to tell it from a transcript.
_PEEK = 64 * 1024
#: What is read first of each end: most files are told apart by it (a transcript's first line
#: is not a system line; its last line ends in it), so a folder of them is searched quickly.
_GLANCE = 4096


def _ends(path: Path) -> tuple[bytes, bytes]:
    """The first line and the last non-blank line of a file (each cut to :data:`_PEEK` bytes;
    a first line that is not a ``system`` line only to its start)."""
    with open(path, "rb") as fh:
        head = fh.read(_GLANCE)
        start = head.lstrip(b"\xef\xbb\xbf").lstrip()
        if len(head) == _GLANCE and (not start or start.startswith(_SYSTEM)):
            head += fh.read(_PEEK - _GLANCE)
        size = fh.seek(0, 2)
        fh.seek(max(0, size - _GLANCE))
        tail = fh.read(_GLANCE).rstrip()
        if size > _GLANCE and b"\n" not in tail:  # a last line longer than the glance
            fh.seek(max(0, size - _PEEK))
            tail = fh.read(_PEEK).rstrip()
    first = head.lstrip(b"\xef\xbb\xbf").split(b"\n", 1)[0]
    last = tail.rsplit(b"\n", 1)[-1]
    return first, last


def is_headless(path: Path) -> bool:
    """A ``.json`` file holding a result, or a line file that starts with a headless ``init``
    line or ends with a ``result`` line."""
    try:
        if path.name.endswith(".json"):
            data = path.read_bytes()
            if foreign_encoding(data[:4]):
                # Saved as UTF-16 (or UTF-32): its ASCII keys are the bytes between the NULs.
                # Claimed, so that the read reports it (a result no source claims is lost).
                data = data.replace(b"\x00", b"")
            return any(marker in data for marker in _RESULT_MARKERS)
        first, last = _ends(path)
    except OSError:
        return False  # the source that reads it reports it
    started = first.lstrip().startswith(_SYSTEM) and any(m in first for m in _INIT_MARKERS)
    return started or any(marker in last for marker in _RESULT_MARKERS[1:])


class HeadlessSource:
    name = "headless"
    suffixes = (".json", ".jsonl", ".ndjson")

    def claims(self, path: Path) -> bool:
        return not path.name.endswith(".meta.json") and is_headless(path)

    def companions(self, path: Path) -> list[Path]:
        return [path]

    def read(self, path: Path, *, prompts: bool = True) -> FileResult:
        from pytest_orchphase.usage.sources.claude_code.reader import read_transcript
        from pytest_orchphase.usage.sources.headless.stream import HeadlessReader

        return read_transcript(path, HeadlessReader, prompts=prompts)

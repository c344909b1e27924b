"""The usage ledger's format: its marker and version, its file name, the fields of a call, a
block of one source file's records, and the error of a record of the wrong shape.

The format is described in ``docs/ledger.md``. A ledger is JSON Lines: a header, then one block
per source file: a ``file`` record followed by what that file held, each record named by its
``kind``. :mod:`.encode` writes a :class:`~pytest_orchphase.usage.sources.base.FileResult` as
records, :mod:`.decode` reads them back.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

#: The first key of a ledger's first line (its value is the format version).
MARKER = "orchphase_ledger"
FORMAT = 1
#: The ledger's file name in a phase's data folder.
NAME = "usage.jsonl"

#: The usage fields of a call (and of a Task result's ``usage``), as the scan keeps them.
USAGE_FIELDS = (
    "input_tokens",
    "output_tokens",
    "cache_creation_input_tokens",
    "cache_creation_1h_tokens",
    "cache_read_input_tokens",
    "web_search_requests",
    "speed",
    "inference_geo",
    "service_tier",
)
CALL_FLAGS = ("sidechain", "compaction", "untimed_line")
MODEL_FIELDS = (
    "input_tokens",
    "output_tokens",
    "cache_creation_input_tokens",
    "cache_read_input_tokens",
    "web_search_requests",
)


class LedgerError(ValueError):
    """A record of the wrong shape (the reader counts it as a malformed line)."""


class UnknownKind(LedgerError):
    """A record of a kind this reader does not know (a later orchphase's): the ledger's reader
    skips it and says so; to the scan cache, whose records this version wrote, it is damage."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


@dataclass
class Block:
    """One source file in a ledger: its ``file`` record and the records of what it held."""

    file: dict[str, Any]
    records: list[dict[str, Any]] = field(default_factory=list)

    @property
    def sha256(self) -> str:
        return str(self.file.get("sha256", ""))


def blocks(records: Iterable[dict[str, Any]]) -> list[Block]:
    """Records (after the header) grouped by the ``file`` record that opens each block."""
    out: list[Block] = []
    for record in records:
        if record.get("kind") == "file":
            out.append(Block(file=record))
        elif out:
            out[-1].records.append(record)
    return out

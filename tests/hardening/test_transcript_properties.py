"""The transcript reader under stress: sources that cannot be read at all."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pytest_orchphase.errors import OrchphaseError
from pytest_orchphase.transcripts import scan_paths


@pytest.mark.parametrize("kind", ["pipe", "device", "dangling link"])
def test_a_file_that_is_not_regular_is_named_instead_of_read(tmp_path: Path, kind: str) -> None:
    odd = tmp_path / "project" / "agent-x.jsonl"
    odd.parent.mkdir()
    if kind == "pipe":
        os.mkfifo(odd)  # reading it would block for ever
    else:
        odd.symlink_to("/dev/zero" if kind == "device" else tmp_path / "gone")
    with pytest.raises(OrchphaseError, match="not a regular file") as err:
        scan_paths([tmp_path / "project"])
    assert err.value.path == odd

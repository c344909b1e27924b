from __future__ import annotations

from pathlib import Path

import pytest

from pytest_orchphase import yamlio
from pytest_orchphase.errors import OrchphaseError

P = Path("x.yaml")


def test_lines_of_keys_and_items_are_kept() -> None:
    doc = yamlio.parse("a:\n  b: 1\n  c:\n    - 2\n    - 3\n", P)
    assert doc.data == {"a": {"b": 1, "c": [2, 3]}}
    assert doc.line(("a", "b")) == 2
    assert doc.line(("a", "c", 1)) == 5
    assert doc.line(("a", "c", 1, "missing")) == 5  # nearest known ancestor


def test_duplicate_key_names_both_lines() -> None:
    with pytest.raises(OrchphaseError) as err:
        yamlio.parse("tickets:\n  R03: {fix_loops: 0}\n  R03: {fix_loops: 2}\n", P)
    assert (err.value.line, err.value.field) == (3, "tickets.R03")
    assert "first at line 2" in err.value.message


def test_alias_bomb_is_refused_quickly() -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 9):
        prev, cur = chr(96 + i), chr(97 + i)
        lines.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    with pytest.raises(OrchphaseError, match="alias bomb"):
        yamlio.parse("\n".join(lines), P)


def test_placeholder_is_an_error_naming_the_field() -> None:
    doc = yamlio.parse("tickets:\n  R03:\n    actual_tokens: ${ACTUAL}\n", P)
    with pytest.raises(OrchphaseError) as err:
        yamlio.reject_placeholders(doc)
    assert (err.value.line, err.value.field) == (3, "tickets.R03.actual_tokens")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"a: \x00", "binary content"),
        (b"a: \xff\xfe", "invalid UTF-8"),
    ],
)
def test_unreadable_files_are_named(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_bytes(content)
    with pytest.raises(OrchphaseError, match=expected) as err:
        yamlio.load(path)
    assert err.value.path == path


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(OrchphaseError, match="file not found"):
        yamlio.load(tmp_path / "nope.yaml")
    with pytest.raises(OrchphaseError, match="is a directory"):
        yamlio.load(tmp_path)

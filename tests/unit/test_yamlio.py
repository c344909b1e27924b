from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_orchphase import files
from pytest_orchphase.errors import OrchphaseError
from pytest_orchphase.load import yamlio
from pytest_orchphase.load.placeholders import reject_placeholders

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
        reject_placeholders(doc)
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


@pytest.mark.parametrize("other", ["a named pipe", "an endless device"])
def test_what_is_no_regular_file_is_refused_without_waiting(other: str, tmp_path: Path) -> None:
    """(In a child process, so that a hang fails this test instead of holding the suite.)"""
    path = tmp_path / "criteria.yaml"
    if other == "a named pipe":
        os.mkfifo(path)  # no writer: a plain read would wait for one forever
    else:
        path.symlink_to("/dev/zero")
    code = (
        "import sys; from pathlib import Path; from pytest_orchphase.load import yamlio\n"
        "try:\n    yamlio.load(Path(sys.argv[1]))\n"
        "except Exception as exc:\n    print(type(exc).__name__, exc)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout.startswith("OrchphaseError")
    assert "not a regular file (a named pipe or a device); expected a YAML data file" in done.stdout


def test_no_more_than_the_limit_is_read_whatever_size_a_file_says(tmp_path: Path) -> None:
    """A file system that tells no size (procfs: 0), or a file that grew since its stat."""
    status = Path("/proc/self/status")
    if not status.is_file() or status.stat().st_size != 0:
        pytest.skip("needs a file whose stat says 0 bytes while it holds more (Linux procfs)")
    with pytest.raises(OrchphaseError, match="file is more than 10 bytes; a YAML data file is"):
        files.read_regular(status, 10, "a YAML data file")
    small = tmp_path / "small.yaml"
    small.write_bytes(b"a: 1\n")
    assert files.read_regular(small, 5, "a YAML data file") == b"a: 1\n"
    with pytest.raises(OrchphaseError, match="file is 5 bytes; a YAML data file is expected to"):
        files.read_regular(small, 4, "a YAML data file")


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(OrchphaseError, match="file not found"):
        yamlio.load(tmp_path / "nope.yaml")
    with pytest.raises(OrchphaseError, match="is a directory"):
        yamlio.load(tmp_path)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # legal YAML: the explicit key wins over the one the merge brings in
        (
            "d: &d {model: sonnet, status: completed}\nx:\n  <<: *d\n  model: haiku\n",
            {"model": "haiku", "status": "completed"},
        ),
        ("d: &d {m: 1}\nx:\n  m: 3\n  <<: *d\n", {"m": 3}),  # the merge may come after
        ("a: &a {m: 1}\nb: &b {m: 2}\nx:\n  <<: [*a, *b]\n", {"m": 1}),  # the first merge wins
    ],
)
def test_a_merge_key_may_be_overridden_by_an_explicit_key(
    text: str, expected: dict[str, object]
) -> None:
    import yaml

    data = yamlio.parse(text, P).data
    assert data["x"] == expected == yaml.safe_load(text)["x"]


def test_an_aliased_mapping_with_a_merge_and_an_override_loads_each_time() -> None:
    data = yamlio.parse("d: &d {<<: {m: 1}, m: 2}\nx: *d\ny: *d\n", P).data
    assert data == {"d": {"m": 2}, "x": {"m": 2}, "y": {"m": 2}}


def test_two_explicit_keys_are_still_an_error_beside_a_merge() -> None:
    text = "d: &d {model: sonnet}\nx:\n  <<: *d\n  model: haiku\n  model: opus\n"
    with pytest.raises(OrchphaseError, match=r"x\.yaml:5:3: x\.model: duplicate key 'model'"):
        yamlio.parse(text, P)

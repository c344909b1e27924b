"""``orchphase extract`` prints a kept answer only for the same question of the same files: any
change to a file, the file list, the options, the price file or the code asks again, and a
broken or foreign answer is never trusted."""

from __future__ import annotations

import importlib
import json
import os
import shutil
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

import pytest_orchphase.usage.scan
from pytest_orchphase import files
from pytest_orchphase.cli import answers, main
from pytest_orchphase.usage import cache_sweep
from pytest_orchphase.usage.sources import registry
from tests.helpers import (
    SESSION,
    ClaudeHome,
    assistant,
    jsonl_line,
    rewrite_keeping_size_and_time,
    usage,
    write_jsonl,
)

OTHER = "0f0e0d0c-0b0a-4909-8807-060504030201"


@pytest.fixture(autouse=True)
def settled(monkeypatch: pytest.MonkeyPatch) -> None:
    """Files written by the test count as settled at once (they would be two seconds later)."""
    monkeypatch.setattr(answers, "RACY_NS", 0)


@dataclass
class Extract:
    """``orchphase extract`` run here, its cache in ``xdg``."""

    home: ClaudeHome
    xdg: Path
    capsys: pytest.CaptureFixture[str]

    def __call__(self, *args: str, cache_off: bool = False) -> tuple[str, str]:
        assert main(["extract", *args, *(["--no-cache"] if cache_off else [])]) == 0
        captured = self.capsys.readouterr()
        return captured.out, captured.err

    def of_home(self, *args: str, cache_off: bool = False) -> tuple[str, str]:
        return self(str(self.home.root), "--json", *args, cache_off=cache_off)

    def kept(self) -> list[Path]:
        folder = self.xdg / "orchphase" / answers.FOLDER
        return sorted(p for p in folder.glob("*.json")) if folder.is_dir() else []


@pytest.fixture
def extract(
    home: ClaudeHome,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Extract:
    xdg = tmp_path / "xdg"
    monkeypatch.setenv("XDG_CACHE_HOME", str(xdg))
    _write(home)
    return Extract(home, xdg, capsys)


def _write(home: ClaudeHome) -> Path:
    calls = [
        assistant("msg_1", "req_1", u=usage(inp=10, out=20, cw=300, cr=4000)),
        assistant("msg_2", "req_2", model="claude-sonnet-4-5-20250929", u=usage(inp=5, out=70)),
    ]
    return home.session([*calls, "{not json\n"])  # a malformed line: a warning to replay


def _reading_forbidden(monkeypatch: pytest.MonkeyPatch) -> None:
    def scan(*args: object, **kwargs: object) -> None:
        raise AssertionError("the files were read again")

    monkeypatch.setattr(pytest_orchphase.usage.scan, "scan_files", scan)


def _new_ctime(path: Path, before: int) -> None:
    """Wait until the change time tells the change (a file system's clock ticks coarsely)."""
    while path.stat().st_ctime_ns == before:
        time.sleep(0.005)
        os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns))


def test_the_same_question_of_the_same_files_is_answered_without_reading_them(
    extract: Extract, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = extract.of_home()
    assert "not a whole JSON object" in first[1]
    [kept] = extract.kept()
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert stat.S_IMODE(kept.parent.stat().st_mode) == 0o700
    _reading_forbidden(monkeypatch)
    assert extract.of_home() == first  # stdout and the warnings
    assert extract.kept() == [kept]


def _append(home: ClaudeHome) -> None:
    with (home.project / f"{SESSION}.jsonl").open("ab") as fh:
        fh.write(jsonl_line(assistant("msg_3", "req_3", u=usage(inp=1, out=1))))


def _rewrite(home: ClaudeHome) -> None:
    path = home.project / f"{SESSION}.jsonl"
    before = path.stat().st_ctime_ns
    rewrite_keeping_size_and_time(path, b'"output_tokens":70', b'"output_tokens":90')
    _new_ctime(path, before)


def _add(home: ClaudeHome) -> None:
    home.session([assistant("msg_9", "req_9", u=usage(inp=9, out=9))], session=OTHER)


def _remove(home: ClaudeHome) -> None:
    (home.project / f"{OTHER}.jsonl").unlink()


def _replace(home: ClaudeHome) -> None:
    """Another file of the same size and times renamed over it: only the inode tells."""
    path = home.project / f"{SESSION}.jsonl"
    new = path.with_name("new.tmp")
    new.write_bytes(path.read_bytes().replace(b'"output_tokens":70', b'"output_tokens":90'))
    before = path.stat()
    os.utime(new, ns=(before.st_atime_ns, before.st_mtime_ns))
    new.replace(path)


CHANGES = {
    "grown": _append,
    "rewritten, its size and time kept": _rewrite,
    "a file added": _add,
    "a file removed": _remove,
    "replaced by a rename": _replace,
}


@pytest.mark.parametrize("change", list(CHANGES.values()), ids=list(CHANGES))
def test_every_change_to_the_files_asks_again(
    change: Callable[[ClaudeHome], None], extract: Extract
) -> None:
    if change is _remove:
        _add(extract.home)
    first = extract.of_home()
    assert extract.kept()
    assert extract.of_home() == first  # kept, and printed again
    change(extract.home)
    truth = extract.of_home(cache_off=True)
    assert truth != first  # the change shows in the answer
    assert extract.of_home() == truth
    assert extract.of_home() == truth  # and its answer is kept in turn


def test_each_option_and_folder_is_its_own_question(
    extract: Extract, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = str(extract.home.root)
    asks = [
        ["--json"],
        [],
        ["--by", "session"],
        ["--by", "agent"],
        ["--prices", str(_price_file(tmp_path / "p.yaml", 99.0))],
    ]
    truths = [extract(root, *a, cache_off=True) for a in asks]
    assert len({out for out, _ in truths}) == len(asks)
    for a, truth in zip(asks, truths, strict=True):
        assert extract(root, *a) == truth
    assert len(extract.kept()) == len(asks)
    # The same relative path from another folder is another question, kept apart.
    other = tmp_path / "elsewhere"
    shutil.copytree(extract.home.root, other / "claude")
    _rewrite(ClaudeHome(other / "claude"))
    monkeypatch.chdir(extract.home.root.parent)
    here = extract("claude", "--json")
    monkeypatch.chdir(other)
    there = extract("claude", "--json", cache_off=True)
    assert there != here
    assert extract("claude", "--json") == there
    assert len(extract.kept()) == len(asks) + 2
    monkeypatch.chdir(extract.home.root.parent)
    _reading_forbidden(monkeypatch)
    assert extract("claude", "--json") == here


def _price_file(path: Path, opus_output: float) -> Path:
    path.write_text(
        "models:\n"
        "  claude-opus-4-6:\n"
        f"    {{input: 5, output: {opus_output}, cache_write_5m: 6.25, cache_write_1h: 10, "
        "cache_read: 0.5}\n"
    )
    return path


def test_a_changed_price_file_prices_again(extract: Extract, tmp_path: Path) -> None:
    prices = ["--prices", str(_price_file(tmp_path / "prices.yaml", 25.0))]
    first = extract.of_home(*prices)
    assert extract.of_home(*prices) == first
    _price_file(tmp_path / "prices.yaml", 50.0)  # the same path, other rates
    truth = extract.of_home(*prices, cache_off=True)
    assert truth != first
    assert extract.of_home(*prices) == truth


def test_no_answer_is_kept_while_a_file_is_within_its_time_grain(
    extract: Extract, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file just written (a live session) could change again with the same times: its
    answer is not kept (the scan cache reads on from what it holds)."""
    monkeypatch.setattr(answers, "RACY_NS", files.RACY_NS)
    first = extract.of_home()
    assert extract.of_home() == first
    assert extract.kept() == []


def test_a_file_with_an_old_time_but_a_new_change_time_keeps_no_answer(
    extract: Extract, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``touch -d``, ``rsync -t``: the modification time is set back, the change time is not."""
    monkeypatch.setattr(answers, "RACY_NS", files.RACY_NS)
    day_ago = time.time() - 86400
    for path in extract.home.project.rglob("*.jsonl"):
        os.utime(path, (day_ago, day_ago))
    extract.of_home()
    assert extract.kept() == []


def test_other_code_asks_again_and_code_changed_meanwhile_keeps_nothing(
    extract: Extract, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = extract.of_home()
    [kept] = extract.kept()
    monkeypatch.setattr(answers, "_this_code", lambda: "0" * 64)  # an upgrade
    forged = _edit(kept.read_bytes(), out="forged\n", err="")
    kept.write_bytes(forged)
    assert extract.of_home() == first  # read again, under another question
    assert extract.kept() == [kept]  # and kept none: the code is not what it was asked with
    monkeypatch.undo()
    monkeypatch.setattr(answers, "RACY_NS", 0)
    digests = iter(["1" * 64, "2" * 64])
    monkeypatch.setattr(answers, "_this_code", lambda: next(digests))
    monkeypatch.setattr(answers, "code_digest", lambda *_: next(digests))
    kept.unlink()
    assert extract.of_home() == first
    assert extract.kept() == []  # the code changed while it answered


def test_a_library_is_named_by_its_installed_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    site = tmp_path / "site"
    (site / "fakelib").mkdir(parents=True)
    (site / "fakelib" / "__init__.py").write_text("")
    (site / "fakelib-1.0.dist-info").mkdir()
    monkeypatch.syspath_prepend(str(site))
    libraries = {"fakelib": "fakelib"}
    first = answers.code_digest(package, libraries)
    (site / "fakelib-1.0.dist-info").rename(site / "fakelib-2.0.dist-info")
    answers._listing.cache_clear()
    second = answers.code_digest(package, libraries)
    assert second != first  # another version, the same files
    shutil.rmtree(site / "fakelib")
    importlib.invalidate_caches()
    assert answers.code_digest(package, libraries) not in {first, second}  # absent
    assert "wcwidth" in answers.LIBRARIES  # tabulate's widths of wide characters


def test_with_no_cache_no_answer_is_kept_or_read(
    extract: Extract, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = extract.of_home(cache_off=True)
    assert not extract.xdg.exists()
    extract.of_home()
    _reading_forbidden(monkeypatch)
    with pytest.raises(AssertionError, match="read again"):
        extract.of_home(cache_off=True)
    assert extract.of_home() == first


def test_a_registered_source_is_answered_by_reading(extract: Extract) -> None:
    """Another source's code is not in the question: its answers are not kept."""
    source = registry.sources()[-1]

    class Extra:
        name = "extra"
        suffixes = (".extra",)

        def claims(self, path: Path) -> bool:
            return False

        def __getattr__(self, name: str) -> object:
            return getattr(source, name)

    extra = Extra()
    registry.register(extra)  # type: ignore[arg-type]
    try:
        extract.of_home()
    finally:
        registry.unregister(extra)  # type: ignore[arg-type]
    assert extract.kept() == []


BROKEN: dict[str, Callable[[bytes], bytes]] = {
    "cut short": lambda raw: raw[: len(raw) // 2],
    "not JSON": lambda raw: b"\x00\xff",
    "a list": lambda raw: b"[]",
    "another format": lambda raw: _edit(raw, orchphase_answer=2),
    "another question": lambda raw: _edit(raw, question="0" * 64),
    "other files": lambda raw: _edit(raw, files=[]),
    "an answer of another shape": lambda raw: _edit(raw, out=["forged"]),
    "nested too deep for the parser": lambda raw: b"[" * 200_000 + b"]" * 200_000,
}


def _edit(raw: bytes, **fields: object) -> bytes:
    record = json.loads(raw)
    record.update(fields)
    return json.dumps(record).encode()


@pytest.mark.parametrize("spoil", list(BROKEN.values()), ids=list(BROKEN))
def test_a_broken_or_foreign_answer_is_never_printed(
    spoil: Callable[[bytes], bytes], extract: Extract
) -> None:
    first = extract.of_home()
    [kept] = extract.kept()
    kept.write_bytes(spoil(_edit(kept.read_bytes(), out="forged\n", err="")))
    assert extract.of_home() == first
    assert json.loads(kept.read_bytes())["out"] == first[0]  # made again


@pytest.mark.parametrize("other", ["a pipe", "an endless device"])
def test_an_answer_that_is_no_regular_file_is_not_read(other: str, extract: Extract) -> None:
    """(In a child process, so that a hang fails this test instead of holding the suite.)"""
    first = extract.of_home()
    [kept] = extract.kept()
    kept.unlink()
    if other == "a pipe":
        os.mkfifo(kept)
    else:
        kept.symlink_to("/dev/zero")
    command = [sys.executable, "-m", "pytest_orchphase.cli", "extract", str(extract.home.root)]
    env = {**os.environ, "XDG_CACHE_HOME": str(extract.xdg)}
    done = subprocess.run(
        [*command, "--json"], capture_output=True, text=True, env=env, timeout=120, check=False
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, *first)


def test_an_unwritable_cache_only_costs_time(extract: Extract) -> None:
    extract.xdg.mkdir()
    (extract.xdg / "orchphase").write_text("not a folder")
    first = extract.of_home(cache_off=True)
    assert extract.of_home() == first
    assert extract.of_home() == first


def test_the_code_names_the_question(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "a.py").write_text("A = 1\n")
    (package / "sub" / "b.py").write_text("B = 1\n")
    first = answers.code_digest(package)
    (package / "__pycache__").mkdir()
    (package / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"compiled")
    assert answers.code_digest(package) == first  # the interpreter's caches are not the code
    (package / "sub" / "b.py").write_text("B = 2\n")
    second = answers.code_digest(package)
    assert second != first
    (package / "sub" / "data.yaml").write_text("x: 1\n")
    assert answers.code_digest(package) != second
    third = answers.code_digest(package)
    (package / "sub" / "b.py").rename(package / "sub" / "c.py")  # the same bytes, another module
    assert answers.code_digest(package) not in {first, second, third}


def test_old_answers_are_swept_once_a_day(tmp_path: Path) -> None:
    folder = tmp_path / "answers"
    folder.mkdir()
    old, new = folder / f"{'a' * 64}.json", folder / f"{'b' * 64}.json"
    for path in (old, new):
        path.write_text("{}")
    day = 86400
    os.utime(old, (time.time() - (cache_sweep.UNNAMED_DAYS + 1) * day,) * 2)
    os.utime(new, (time.time() - (cache_sweep.UNNAMED_DAYS - 1) * day,) * 2)
    answers._sweep(folder)
    assert sorted(folder.iterdir()) == [folder / cache_sweep.SWEPT, new]
    os.utime(new, (time.time() - (cache_sweep.UNNAMED_DAYS + 1) * day,) * 2)
    answers._sweep(folder)  # swept less than a day ago
    assert new.exists()
    os.utime(folder / cache_sweep.SWEPT, (time.time() - day - 60,) * 2)
    answers._sweep(folder)
    assert sorted(folder.iterdir()) == [folder / cache_sweep.SWEPT]


def test_answers_hold_what_a_table_prints(
    extract: Extract, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A table with non-ASCII text and a warning of a model without a price come back as
    they were printed."""
    write_jsonl(
        extract.home.project / f"{OTHER}.jsonl",
        [assistant("msg_7", "req_7", model="claude-ünknown-1", u=usage(inp=3, out=4))],
    )
    first = extract(str(extract.home.root), "--by", "model")
    assert "ünknown" in first[0] and "no price for model" in first[1]
    _reading_forbidden(monkeypatch)
    assert extract(str(extract.home.root), "--by", "model") == first

"""The scan cache gives the result a scan without it gives, in every case: cold, warm, a file
that grew, a line still being written, a file rewritten, copied, renamed, a bad entry, two scans
at once, the worker pool. Each test compares the whole scan (every call's fields in order, the
agents, the warnings, the first prompts, the counts) with a scan that has no cache, and counts
the transcript lines the cached scan parsed, so that a cache never read cannot pass."""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import shutil
import stat
import time
from pathlib import Path
from typing import Any

import pytest

from pytest_orchphase.files import user_cache_folder
from pytest_orchphase.usage import cache as cache_module
from pytest_orchphase.usage import cache_lookup, cache_sweep, parallel
from pytest_orchphase.usage import scan as scan_module
from pytest_orchphase.usage.cache import ScanCache
from pytest_orchphase.usage.cache_entry import FORMAT
from pytest_orchphase.usage.records import Scan
from pytest_orchphase.usage.scan import scan_paths
from tests.helpers import (
    HAIKU,
    REAL_TRANSCRIPTS,
    REPO,
    SESSION,
    ClaudeHome,
    agent_progress,
    agent_result,
    assistant,
    count_parsed_lines,
    rewrite_keeping_size_and_time,
    scan_text,
    spawn_block,
    usage,
    user,
)
from tests.helpers import (
    ParsedLines as Lines,
)


@pytest.fixture
def parsed(monkeypatch: pytest.MonkeyPatch) -> Lines:
    return count_parsed_lines(monkeypatch)


@pytest.fixture
def cache(tmp_path: Path) -> ScanCache:
    return ScanCache(tmp_path / "cache")


FIRST = assistant("msg_a1_1", "req_a1_1", model=HAIKU, agent_id="a1", u=usage(inp=5, out=3))


def _parent_lines() -> list[dict[str, Any]]:
    """A parent session: a first prompt naming a ticket, a response written over two lines,
    two Tasks (one with an empty description), a sub-agent's agent_progress copy, and its Task
    result with the true usage of its last call and 0 tool uses (figures that must read back
    as themselves, not as absent)."""
    result = agent_result("toolu_1", "a1", usage(inp=7, out=700))
    result["toolUseResult"]["totalToolUseCount"] = 0
    return [
        user("Implement R03 please"),
        assistant("msg_p1", "req_p1", u=usage(inp=10, out=120, cw=2000)),
        assistant("msg_p1", "req_p1", u=usage(inp=10, out=500, cw=2000)),
        assistant(
            "msg_p2",
            "req_p2",
            u=usage(inp=1, out=1),
            content=[
                spawn_block("toolu_1", description="R03: rename", model="haiku"),
                spawn_block("toolu_2", description="", prompt="R06"),
            ],
        ),
        agent_progress(FIRST, agent_id="a1", parent_tool_use_id="toolu_1"),
        result,
    ]


@pytest.fixture
def home(tmp_path: Path) -> ClaudeHome:
    home = ClaudeHome(tmp_path / "claude")
    last = assistant("msg_a1_2", "req_a1_2", model=HAIKU, agent_id="a1", u=usage(inp=7, out=1))
    home.subagent("a1", [FIRST, last])
    home.meta("a1", {"agentType": "general-purpose", "description": "R03: rename"})
    home.session(_parent_lines())
    return home


def _scans(paths: list[Path], cache: ScanCache, parsed: Lines, prompts: bool = True) -> int:
    """Scan with the cache, check it gives the scan without it; the lines it parsed."""
    plain = scan_text(scan_paths(paths, prompts=prompts))
    parsed.take()
    assert scan_text(scan_paths(paths, prompts=prompts, cache=cache)) == plain
    return parsed.take()


def _append(path: Path, data: bytes) -> None:
    with path.open("ab") as fh:
        fh.write(data)


def _line(obj: dict[str, Any]) -> bytes:
    import json

    return json.dumps(obj, separators=(",", ":")).encode() + b"\n"


# -- the same result, read back ----------------------------------------------------------------


def _fixture_folders() -> list[Any]:
    folders: list[Any] = [pytest.param(REPO / "tests" / "fixtures" / "transcripts", id="fixtures")]
    for name in ("projects", "single", "wild"):
        folder = REAL_TRANSCRIPTS / name
        absent = pytest.mark.skipif(not folder.is_dir(), reason="the real transcripts are absent")
        folders.append(pytest.param(folder, marks=absent, id=name))
    return folders


@pytest.mark.parametrize("prompts", [True, False], ids=["prompts", "no-prompts"])
@pytest.mark.parametrize("folder", _fixture_folders())
def test_every_fixture_scans_the_same_cold_and_warm(
    folder: Path, prompts: bool, cache: ScanCache, parsed: Lines
) -> None:
    assert _scans([folder], cache, parsed, prompts) > 0  # cold: read and kept
    assert any(cache.folder.rglob("*.jsonl"))
    _scans([folder], cache, parsed, prompts)  # warm: read back, the same


def test_a_warm_scan_parses_no_line(home: ClaudeHome, cache: ScanCache, parsed: Lines) -> None:
    assert _scans([home.root], cache, parsed) == 8  # the session's 6 lines, the agent's 2
    assert _scans([home.root], cache, parsed) == 0


def test_a_scan_without_prompts_keeps_an_entry_of_its_own(
    home: ClaudeHome, cache: ScanCache, parsed: Lines
) -> None:
    """A result read without looking for first prompts is not one read with them."""
    assert _scans([home.root], cache, parsed, prompts=False) == 8
    assert _scans([home.root], cache, parsed, prompts=True) == 8
    assert _scans([home.root], cache, parsed, prompts=False) == 0
    assert _scans([home.root], cache, parsed, prompts=True) == 0


# -- a file that changed -----------------------------------------------------------------------


def _session(home: ClaudeHome) -> Path:
    return home.project / f"{SESSION}.jsonl"


def _output(scan: Scan, message_id: str) -> int:
    return next(c.output_tokens for c in scan.calls if c.message_id == message_id)


def test_a_session_that_grew_is_read_on_from_its_last_complete_line(
    home: ClaudeHome, cache: ScanCache, parsed: Lines
) -> None:
    """Two lines appended: a later copy of a response read before (the largest output wins
    across the cut) and a new response; only they are parsed."""
    _scans([home.root], cache, parsed)
    more = assistant("msg_p1", "req_p1", u=usage(inp=10, out=900, cw=2000))
    _append(_session(home), _line(more) + _line(assistant("msg_p3", "req_p3")))
    assert _scans([home.root], cache, parsed) == 2
    assert _output(scan_paths([home.root], cache=cache), "msg_p1") == 900
    assert _scans([home.root], cache, parsed) == 0


def test_a_response_still_being_written_is_a_lower_bound_until_its_final_line(
    home: ClaudeHome, cache: ScanCache, parsed: Lines
) -> None:
    """A live session: a response's first line (a placeholder count, no stop_reason) is a
    lower bound in the cached head; its final line, appended, makes it exact across the cut."""
    first = assistant("msg_p3", "req_p3", u=usage(inp=4, out=1), final=False)
    _append(_session(home), _line(first))
    _scans([home.root], cache, parsed)
    call = next(c for c in scan_paths([home.root], cache=cache).calls if c.message_id == "msg_p3")
    assert (call.output_tokens, call.output_exact) == (1, False)
    _append(_session(home), _line(assistant("msg_p3", "req_p3", u=usage(inp=4, out=640))))
    assert _scans([home.root], cache, parsed) == 1
    call = next(c for c in scan_paths([home.root], cache=cache).calls if c.message_id == "msg_p3")
    assert (call.output_tokens, call.output_exact) == (640, True)


def test_a_sub_agent_file_that_grew_is_read_on(
    home: ClaudeHome, cache: ScanCache, parsed: Lines
) -> None:
    _scans([home.root], cache, parsed)
    agent = next(home.project.rglob("agent-a1.jsonl"))
    _append(agent, _line(assistant("msg_a1_3", "req_a1_3", model=HAIKU, agent_id="a1")))
    assert _scans([home.root], cache, parsed) == 1


def test_a_line_still_being_written_is_read_each_time_never_kept(
    home: ClaudeHome, cache: ScanCache, parsed: Lines
) -> None:
    """Half a line at the end (a session being written): a malformed line now, read again on
    each scan; once it is whole, it is a call like any other."""
    line = _line(assistant("msg_p3", "req_p3", u=usage(inp=4, out=9)))
    _append(_session(home), line[:40])
    assert _scans([home.root], cache, parsed) == 8 + 2
    assert scan_paths([home.root], cache=cache).malformed_lines == 1
    assert _scans([home.root], cache, parsed) == 2  # only the half line
    _append(_session(home), line[40:])
    assert _scans([home.root], cache, parsed) == 1
    scan = scan_paths([home.root], cache=cache)
    assert scan.malformed_lines == 0 and _output(scan, "msg_p3") == 9
    assert _scans([home.root], cache, parsed) == 0


def test_a_file_rewritten_with_more_bytes_is_read_whole(
    home: ClaudeHome, cache: ScanCache, parsed: Lines
) -> None:
    """Same inode, bigger, but its first bytes changed: not a session that grew."""
    _scans([home.root], cache, parsed)
    session = _session(home)
    data = session.read_bytes()
    changed = data.replace(b'"output_tokens":500', b'"output_tokens":501')
    with session.open("r+b") as fh:  # in place: the inode stays
        fh.write(changed + _line(assistant("msg_p3", "req_p3")))
    assert _scans([home.root], cache, parsed) == 7
    assert _output(scan_paths([home.root], cache=cache), "msg_p1") == 501


def test_a_file_rewritten_to_its_size_with_its_time_set_back_is_read_again(
    home: ClaudeHome, cache: ScanCache, parsed: Lines
) -> None:
    """Size and modification time as they were (``rsync -t``, ``touch -d``): the change time
    still tells."""
    _scans([home.root], cache, parsed)
    rewrite_keeping_size_and_time(_session(home), b'"output_tokens":500', b'"output_tokens":600')
    assert _scans([home.root], cache, parsed) == 6
    assert _output(scan_paths([home.root], cache=cache), "msg_p1") == 600


def test_a_file_cut_shorter_is_read_whole(
    home: ClaudeHome, cache: ScanCache, parsed: Lines
) -> None:
    _scans([home.root], cache, parsed)
    session = _session(home)
    session.write_bytes(b"".join(session.read_bytes().splitlines(keepends=True)[:3]))
    assert _scans([home.root], cache, parsed) == 3


def test_an_inline_sidechain_session_that_grew_is_read_whole(
    tmp_path: Path, cache: ScanCache, parsed: Lines
) -> None:
    """Claude Code 1.0.x wrote a sub-agent's lines into the parent, tied to its Task by the
    chain of parentUuid up to a prompt: what resolves them is not kept, so a grown file of
    this kind is read from its start (and gives what a whole read gives)."""
    home = ClaudeHome(tmp_path / "claude")
    root = user("Search for the latest versions")
    root |= {"isSidechain": True, "parentUuid": None, "uuid": "u-root"}
    side = assistant("msg_s1", "req_s1", model=HAIKU, u=usage(inp=3, out=30))
    side |= {"isSidechain": True, "parentUuid": "u-root", "uuid": "u-side"}
    task = assistant("msg_t", "req_t", content=[spawn_block("toolu_9")])
    session = home.session([user("R03"), task, root, side])
    assert _scans([home.root], cache, parsed) == 4
    assert _scans([home.root], cache, parsed) == 0  # unchanged: the whole result is kept
    agents = {c.agent_id for c in scan_paths([home.root]).calls}
    assert "toolu_9" in agents  # the chain is tied to its Task
    _append(session, _line(assistant("msg_p9", "req_p9")))
    assert _scans([home.root], cache, parsed) == 5


# -- found where the bytes are -------------------------------------------------------------------


def test_files_copied_with_new_times_are_found_by_their_content(
    home: ClaudeHome, tmp_path: Path, cache: ScanCache, parsed: Lines
) -> None:
    """A cache restored in CI: the checkout gives every file a new time, the bytes are the same."""
    _scans([home.root], cache, parsed)
    copy = tmp_path / "checkout"
    shutil.copytree(home.root, copy, copy_function=shutil.copyfile)  # new times
    assert _scans([copy], cache, parsed) == 0


def test_a_file_no_entry_is_named_for_is_read_once_not_hashed_first(
    home: ClaudeHome, tmp_path: Path, cache: ScanCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only an entry of a file of the same name can hold a file's bytes: a file no kept entry
    is named for is read once (and kept), not hashed first to look for one; a copy of a kept
    file, of the same name, is hashed and found."""
    hashed: list[Path] = []
    real = cache_lookup._Lookup._content

    def counted(self: Any) -> Any:
        hashed.append(self.path)
        return real(self)

    monkeypatch.setattr(cache_lookup._Lookup, "_content", counted)
    plain = scan_text(scan_paths([home.root]))
    assert scan_text(scan_paths([home.root], cache=cache)) == plain
    assert hashed == []
    copy = tmp_path / "checkout"
    shutil.copytree(home.root, copy, copy_function=shutil.copyfile)  # new times
    monkeypatch.setattr(cache_module, "_ENDINGS", {})  # as a later run, which lists them
    assert scan_text(scan_paths([copy], cache=cache)) == scan_text(scan_paths([copy]))
    assert sorted(hashed) == sorted(p for p in copy.rglob("*.jsonl"))


def test_a_copy_under_another_name_is_not_read_as_the_first(
    home: ClaudeHome, cache: ScanCache, parsed: Lines
) -> None:
    """A sub-agent file's name says whose calls it holds (when its lines do not): the same bytes
    under another name are read, not taken from the entry of the first."""
    _scans([home.root], cache, parsed)
    agent = next(home.project.rglob("agent-a1.jsonl"))
    shutil.copyfile(agent, agent.with_name("agent-a7.jsonl"))
    assert _scans([home.root], cache, parsed) == 2


# -- entries never trusted -----------------------------------------------------------------------


def _entries(cache: ScanCache) -> list[Path]:
    return sorted(cache.folder.rglob("entries/*.jsonl"))


#: The session's calls' output tokens, as its entry keeps them (a column: msg_p1's first).
OUTPUTS = b"[500,1,3]"


def _session_entry(cache: ScanCache) -> Path:
    return next(p for p in _entries(cache) if OUTPUTS in p.read_bytes())


def _flip(data: bytes) -> bytes:
    return data.replace(OUTPUTS, b"[999,1,3]", 1)


SPOILED = {
    "a changed figure": _flip,
    "cut short": lambda data: data[: len(data) // 2],
    "empty": lambda data: b"",
    "not JSON": lambda data: b"\x00\xff garbage\n" + data,
    "another scanner": lambda data: data.replace(b'"scanner":"', b'"scanner":"0', 1),
    "another format": lambda data: data.replace(
        f'"orchphase_scan_cache":{FORMAT}'.encode(), f'"orchphase_scan_cache":{FORMAT + 1}'.encode()
    ),
    "a header field changed": lambda data: data.replace(b'"lines":6', b'"lines":5', 1),
    "another check": lambda data: data.replace(b'"check":"', b'"check":"0', 1),
}


@pytest.mark.parametrize("spoil", list(SPOILED.values()), ids=list(SPOILED))
def test_a_spoiled_entry_is_ignored_and_made_again(
    home: ClaudeHome, cache: ScanCache, parsed: Lines, spoil: Any
) -> None:
    _scans([home.root], cache, parsed)
    session_entry = _session_entry(cache)
    session_entry.write_bytes(spoil(session_entry.read_bytes()))
    assert _scans([home.root], cache, parsed) == 6  # the session read again, not the agent
    assert _scans([home.root], cache, parsed) == 0  # and kept again


def test_a_spoiled_entry_with_a_matching_digest_is_still_refused(
    home: ClaudeHome, cache: ScanCache, parsed: Lines
) -> None:
    """Records of the wrong shape, behind a check that matches them."""
    import hashlib
    import json

    _scans([home.root], cache, parsed)
    entry = _session_entry(cache)
    first, _, held = entry.read_bytes().partition(b"\n")
    held = held.replace(OUTPUTS, b'["500",1,3]')
    check = json.loads(first) | {"check": hashlib.sha256(held).hexdigest()}
    entry.write_bytes(json.dumps(check).encode() + b"\n" + held)
    assert _scans([home.root], cache, parsed) == 6


def test_another_files_entry_in_its_place_is_refused(
    home: ClaudeHome, cache: ScanCache, parsed: Lines
) -> None:
    _scans([home.root], cache, parsed)
    agent_entry, session_entry = sorted(_entries(cache), key=lambda p: p.stat().st_size)
    shutil.copyfile(agent_entry, session_entry)
    assert _scans([home.root], cache, parsed) == 6


def test_an_index_naming_no_entry_reads_the_file(
    home: ClaudeHome, cache: ScanCache, parsed: Lines
) -> None:
    _scans([home.root], cache, parsed)
    for entry in _entries(cache):
        entry.unlink()
    assert _scans([home.root], cache, parsed) == 8
    for index in cache.folder.rglob("index/*.json"):
        index.write_bytes(b"[1, 2")
    assert _scans([home.root], cache, parsed) == 0  # found by content, the index made again


def test_an_upgrade_never_reads_an_entry_made_before_it(
    home: ClaudeHome, cache: ScanCache, parsed: Lines, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The scanner's digest names its entries: code that reads files otherwise makes its own."""
    _scans([home.root], cache, parsed)
    monkeypatch.setattr(cache_module, "scanner", lambda: "f" * 64)
    assert _scans([home.root], cache, parsed) == 8


def test_the_scanner_is_named_by_its_code() -> None:
    digest = cache_module.scanner()
    assert len(digest) == 64 and digest == cache_module.scanner()
    assert "pytest_orchphase.usage.sources.claude_code.reader" in cache_module.SCANNER_MODULES


#: Modules the scanner's modules import that make no part of a kept file's result: errors, file
#: helpers, the sources' package, what only a headless stream's reading uses (the cache keeps
#: Claude Code session files alone), and the sweep (it removes files, never makes a result).
NOT_THE_SCANNER = {
    "pytest_orchphase.errors",
    "pytest_orchphase.files",
    "pytest_orchphase.usage.sources",
    "pytest_orchphase.usage.sources.headless.results",
    "pytest_orchphase.usage.sources.headless.stream",
    "pytest_orchphase.usage.cache_sweep",
}


def _imported(module: str) -> set[str]:
    """The package's modules ``module`` imports, at its top or in a function."""
    import ast
    from importlib import util

    spec = util.find_spec(module)
    assert spec is not None and spec.origin is not None
    found = set()
    here = module if spec.submodule_search_locations else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(Path(spec.origin).read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            name = util.resolve_name("." * node.level + (node.module or ""), here)
            if not name.startswith("pytest_orchphase"):
                continue
            found.add(name)
            package = util.find_spec(name)
            for alias in node.names:  # `from package import module`
                full = f"{name}.{alias.name}"
                if package and package.submodule_search_locations and util.find_spec(full):
                    found.add(full)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("pytest_orchphase")}
    return found


def test_every_module_the_scanner_runs_names_its_entries() -> None:
    """A module the scanner's code imports is among the modules whose bytes name its entries:
    else a change to it (a counting rule moved into a module of its own) would leave entries
    made by the older code to be read as if they were this code's."""
    reached: set[str] = set()
    todo = list(cache_module.SCANNER_MODULES)
    while todo:
        module = todo.pop()
        if module not in reached:
            reached.add(module)
            todo.extend(_imported(module))
    assert reached - set(cache_module.SCANNER_MODULES) == NOT_THE_SCANNER


# -- writing -------------------------------------------------------------------------------------


def test_entries_are_whole_files_readable_by_their_owner_only(
    home: ClaudeHome, cache: ScanCache, parsed: Lines
) -> None:
    _scans([home.root], cache, parsed)
    written = [p for p in cache.folder.rglob("*") if p.is_file()]
    # An entry and an index record per session file, and the day's sweep mark.
    assert sorted(p.parent.name if p.name != ".swept" else p.name for p in written) == [
        ".swept",
        "entries",
        "entries",
        "index",
        "index",
    ]
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in written)
    assert not [p for p in written if p.name.endswith(".tmp")]


def test_a_cache_that_cannot_be_written_changes_nothing(
    home: ClaudeHome, tmp_path: Path, parsed: Lines
) -> None:
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the cache folder would be")
    cache = ScanCache(blocked / "cache")
    assert _scans([home.root], cache, parsed) == 8
    assert _scans([home.root], cache, parsed) == 8
    assert blocked.read_text() == "a file where the cache folder would be"


def test_a_file_written_to_while_it_is_read_is_not_kept(
    home: ClaudeHome, cache: ScanCache, parsed: Lines, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = cache_lookup._Stat.of
    calls = [0]

    def moving(path: Path) -> Any:
        calls[0] += 1
        st = real(path)
        return dataclasses.replace(st, size=st.size + calls[0])  # a new size at each look

    monkeypatch.setattr(cache_lookup._Stat, "of", moving)
    assert _scans([home.root], cache, parsed) == 8
    assert _entries(cache) == []


def _scan_into(folder: str, cache_folder: str) -> str:
    return scan_text(scan_paths([Path(folder)], cache=ScanCache(Path(cache_folder))))


def test_scans_at_once_leave_whole_entries(home: ClaudeHome, cache: ScanCache) -> None:
    plain = scan_text(scan_paths([home.root]))
    context = multiprocessing.get_context("fork")
    with context.Pool(4) as pool:
        got = pool.starmap(_scan_into, [(str(home.root), str(cache.folder))] * 8)
    assert got == [plain] * 8
    assert not [p for p in cache.folder.rglob("*.tmp")]
    assert scan_text(scan_paths([home.root], cache=cache)) == plain


def test_the_worker_pool_reads_through_the_cache(
    home: ClaudeHome, cache: ScanCache, parsed: Lines, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each worker process keeps what it read; the next scan, in one process, reads it back."""
    monkeypatch.setattr(scan_module, "PARALLEL_BYTES", 1)
    monkeypatch.setattr(parallel, "worker_count", lambda: 2)
    _scans([home.root], cache, parsed)
    assert len(_entries(cache)) == 2
    monkeypatch.setattr(scan_module, "PARALLEL_BYTES", 1 << 40)
    assert _scans([home.root], cache, parsed) == 0


def test_the_commands_cache_follows_xdg(tmp_path: Path) -> None:
    assert user_cache_folder({"XDG_CACHE_HOME": str(tmp_path)}) == tmp_path / "orchphase"
    home = Path.home() / ".cache" / "orchphase"
    assert user_cache_folder({"XDG_CACHE_HOME": "relative/cache"}) == home  # not absolute: unset
    assert user_cache_folder({}) == home


# -- the commands --------------------------------------------------------------------------------


def test_extract_prints_the_same_with_the_cache_and_without(
    home: ClaudeHome,
    tmp_path: Path,
    parsed: Lines,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pytest_orchphase.cli import main

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    printed = []
    for extra in (["--no-cache"], [], []):
        assert main(["extract", str(home.root), "--json", *extra]) == 0
        printed.append((capsys.readouterr().out, parsed.take()))
        if extra:
            assert not (tmp_path / "xdg").exists()  # --no-cache: nothing written
    (no_cache, plain), (cold, kept), (warm, read_back) = printed
    assert no_cache == cold == warm
    assert plain == kept == 8 and read_back == 0
    assert any((tmp_path / "xdg" / "orchphase").rglob("entries/*.jsonl"))


def test_folders_it_makes_are_its_owners_only(home: ClaudeHome, tmp_path: Path) -> None:
    cache = ScanCache(tmp_path / "xdg" / "orchphase")
    scan_paths([home.root], cache=cache)
    made = [tmp_path / "xdg", *[p for p in (tmp_path / "xdg").rglob("*") if p.is_dir()]]
    assert len(made) == 5  # xdg, orchphase, the scanner's folder, entries, index
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o700 for p in made)


def test_what_no_run_reads_is_pruned(
    home: ClaudeHome, cache: ScanCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another scanner's entries left alone for a day go, and a killed writer's temporary
    file an hour old; what another version may still be using, and what is not the cache's,
    stay."""
    monkeypatch.setattr(cache_sweep, "_PRUNED", set())
    old, recent, foreign = (
        cache.folder / n for n in ("0123456789abcdef", "fedcba9876543210", "notes")
    )
    mine = cache.folder / cache_module.scanner()[:16] / "entries"
    for folder in (old, recent, foreign, mine):
        folder.mkdir(parents=True)
    stale, fresh = mine / ".x.jsonl.abc.tmp", mine / ".y.jsonl.def.tmp"
    stale.write_text("cut short")
    fresh.write_text("being written")
    two_days_ago = time.time() - 2 * 86400
    for path in (old, foreign, stale):
        os.utime(path, (two_days_ago, two_days_ago))
    scan_paths([home.root], cache=cache)
    assert not old.exists() and not stale.exists()
    assert recent.exists() and foreign.exists() and fresh.exists()


def test_a_negative_duration_reads_back_from_the_cache(
    tmp_path: Path, cache: ScanCache, parsed: Lines
) -> None:
    """A Task result's figures below 0 are not figures (none is recorded): kept as such, the
    entry reads back instead of being made again on every run."""
    home = ClaudeHome(tmp_path / "claude")
    result = agent_result("toolu_1", "a1", usage(inp=7, out=700))
    result["toolUseResult"]["totalDurationMs"] = -1
    home.session([assistant("msg_p", "req_p", content=[spawn_block("toolu_1")]), result])
    assert _scans([home.root], cache, parsed) == 2
    assert scan_paths([home.root]).agent("a1").duration_ms is None
    assert _scans([home.root], cache, parsed) == 0


def test_a_scanner_whose_code_cannot_be_read_means_no_cache(
    home: ClaudeHome,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """An install without the modules' source (a zip, bytecode only) cannot name its entries,
    which keeps an upgrade from reading an older version's: no cache then, never an error."""
    from pytest_orchphase.cli import main

    def unreadable() -> str:
        raise OSError("no source code of pytest_orchphase.usage.records")

    monkeypatch.setattr(cache_module, "scanner", unreadable)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_module.cache_in(tmp_path / "cache") is None
    assert main(["extract", str(home.root), "--json"]) == 0
    assert '"calls"' in capsys.readouterr().out
    assert not (tmp_path / "xdg").exists()


# -- the sweep: what no run will read goes --------------------------------------------------


def _kept(cache: ScanCache) -> tuple[list[Path], list[Path]]:
    mine = cache.folder / cache_module.scanner()[:16]
    return sorted((mine / "index").glob("*.json")), sorted((mine / "entries").glob("*.jsonl"))


def _sweep_again(cache: ScanCache, monkeypatch: pytest.MonkeyPatch, days: float = 1.5) -> None:
    """As a run ``days`` later: this process's once-only mark forgotten, the day's mark old."""
    monkeypatch.setattr(cache_sweep, "_SWEPT_HERE", set())
    marker = cache.folder / cache_module.scanner()[:16] / ".swept"
    then = time.time() - days * 86400
    os.utime(marker, (then, then))


def _age(paths: list[Path], days: float) -> None:
    then = time.time() - days * 86400
    for path in paths:
        os.utime(path, (then, then))


def test_a_deleted_sessions_index_record_and_old_entry_are_swept(
    home: ClaudeHome, cache: ScanCache, parsed: Lines, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = ClaudeHome(home.root.parent / "other")
    gone = other.session([assistant("msg_x", "req_x")])
    assert _scans([home.root, other.root], cache, parsed) > 0
    index, entries = _kept(cache)
    assert (len(index), len(entries)) == (3, 3)
    gone.unlink()
    _age(entries, 8)
    _sweep_again(cache, monkeypatch)
    assert _scans([home.root], cache, parsed) == 0  # what remains is read from the cache
    index_after, entries_after = _kept(cache)
    assert len(index_after) == 2 and len(entries_after) == 2
    assert set(index_after) < set(index) and set(entries_after) < set(entries)


def test_a_record_of_a_relative_path_is_left_to_the_folder_it_was_read_from(
    home: ClaudeHome, cache: ScanCache, parsed: Lines, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`orchphase extract projects/` keeps its files under the path as given: from another
    folder it names nothing, yet the file is there for a run from the first folder."""
    monkeypatch.chdir(home.root.parent)
    relative = Path(home.root.name)
    _scans([relative], cache, parsed)
    index, entries = _kept(cache)
    _age(entries, 30)
    elsewhere = home.root.parent / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    _sweep_again(cache, monkeypatch)
    cache.sweep()
    assert _kept(cache) == (index, entries)
    monkeypatch.chdir(home.root.parent)
    assert _scans([relative], cache, parsed) == 0


def test_a_rewritten_files_old_entry_goes_once_a_week_old_its_new_one_stays(
    home: ClaudeHome, cache: ScanCache, parsed: Lines, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = home.session([assistant("msg_r", "req_r", u=usage(inp=1, out=1))], "s-rewritten")
    _scans([home.root], cache, parsed)
    _, before = _kept(cache)
    session.write_text(session.read_text().replace('"input_tokens":1', '"input_tokens":9'))
    _scans([home.root], cache, parsed)
    _, both = _kept(cache)
    (new,) = set(both) - set(before)  # the rewrite kept a new entry beside the old one
    _age(both, 6)
    _sweep_again(cache, monkeypatch)
    _scans([home.root], cache, parsed)
    assert _kept(cache)[1] == both  # not a week old: it may still be found by its content
    _age(both, 8)
    _sweep_again(cache, monkeypatch)
    assert _scans([home.root], cache, parsed) == 0
    _, after = _kept(cache)
    assert new in after and len(set(before) - set(after)) == 1 and len(after) == len(before)


def test_entries_a_path_names_stay_however_old_and_sweeping_is_daily(
    home: ClaudeHome, cache: ScanCache, parsed: Lines, monkeypatch: pytest.MonkeyPatch
) -> None:
    _scans([home.root], cache, parsed)
    index, entries = _kept(cache)
    _age(index + entries, 400)
    _sweep_again(cache, monkeypatch)
    assert _scans([home.root], cache, parsed) == 0
    assert _kept(cache) == (index, entries)
    # Swept within the day: a deleted file's record waits for tomorrow's sweep.
    monkeypatch.setattr(cache_sweep, "_SWEPT_HERE", set())
    next(iter(home.root.rglob("*.jsonl"))).unlink()
    scan_paths([home.root], cache=cache)
    assert len(_kept(cache)[0]) == len(index)


def test_a_cache_restored_elsewhere_keeps_the_entries_its_files_are_found_by(
    home: ClaudeHome, cache: ScanCache, parsed: Lines, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CI: the cache comes from another machine (its index names paths that are not here, its
    entries weeks old), the checkout gives the same files new paths. The sweep after the run
    keeps what the run found by content, and drops the other machine's index records."""
    _scans([home.root], cache, parsed)
    index, entries = _kept(cache)
    moved = home.root.parent / "checkout"
    shutil.copytree(home.root, moved)
    shutil.rmtree(home.root)
    _age(entries, 30)
    _sweep_again(cache, monkeypatch)
    assert _scans([moved], cache, parsed) == 0  # found by content
    index_after, entries_after = _kept(cache)
    assert entries_after == entries
    assert not set(index_after) & set(index) and len(index_after) == len(index)


def test_a_sweep_of_a_cache_it_cannot_write_changes_nothing(
    home: ClaudeHome, cache: ScanCache, parsed: Lines, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read-only cache (here: its writes refused, as for a user without the right; the
    tests may run as root): the sweep's mark cannot be written, so nothing is removed, and
    the scan's result stands."""
    _scans([home.root], cache, parsed)
    index, entries = _kept(cache)
    next(iter(home.root.rglob("*.jsonl"))).unlink()
    _age(entries, 30)
    _sweep_again(cache, monkeypatch)

    def refused(path: Path, data: bytes) -> None:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(cache_module, "cache_write", refused)
    monkeypatch.setattr(cache_sweep, "cache_write", refused)
    assert scan_text(scan_paths([home.root], cache=cache)) == scan_text(scan_paths([home.root]))
    assert _kept(cache) == (index, entries)

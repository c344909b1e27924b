"""One test per accounting rule of the transcript scan (usage.sources.claude_code)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from pytest_orchphase.errors import OrchphaseError
from pytest_orchphase.usage import parallel
from pytest_orchphase.usage import scan as scan_module
from pytest_orchphase.usage.scan import scan_files, scan_paths
from pytest_orchphase.usage.sources.claude_code import (
    ApiCall,
    Scan,
    discover_sessions,
    resolve_session,
)
from pytest_orchphase.usage.sources.claude_code import reader as reader_module
from pytest_orchphase.usage.sources.claude_code.layout import expand_paths
from pytest_orchphase.usage.sources.claude_code.lines import INLINE_SIDECHAIN
from pytest_orchphase.usage.sources.claude_code.lines import _loads as real_loads
from pytest_orchphase.usage.sources.registry import expand_resolved
from tests.helpers import (
    SESSION,
    ClaudeHome,
    Line,
    agent_progress,
    agent_result,
    assistant,
    result_object,
    snapshot,
    spawn_block,
    usage,
    user,
    write_jsonl,
)

SONNET = "claude-sonnet-4-5-20250929"


def only(scan: Scan) -> ApiCall:
    assert len(scan.calls) == 1, scan.calls
    return scan.calls[0]


def test_streaming_lines_of_one_response_count_once_with_the_largest_output(
    home: ClaudeHome,
) -> None:
    lines = [
        assistant("msg_A", "req_A", u=usage(inp=3, cw=111, cr=28615, out=out))
        for out in (1, 1, 395)
    ]
    scan = scan_paths([home.session(lines)])
    call = only(scan)
    assert (call.input_tokens, call.output_tokens) == (3, 395)
    assert (call.cache_creation_input_tokens, call.cache_read_input_tokens) == (111, 28615)


def test_largest_output_is_kept_whatever_the_line_order(home: ClaudeHome) -> None:
    lines = [assistant("msg_A", "req_A", u=usage(out=out)) for out in (173, 25)]
    assert only(scan_paths([home.session(lines)])).output_tokens == 173


def test_same_response_in_two_files_is_counted_once(home: ClaudeHome) -> None:
    # A resumed session copies earlier messages into its new file.
    line = assistant("msg_A", "req_A", u=usage(inp=5, out=40))
    first = home.session([line], session="s-1")
    second = home.session([line, assistant("msg_B", "req_B", u=usage(out=7))], session="s-2")
    scan = scan_paths([first, second])
    assert sorted(c.message_id for c in scan.calls) == ["msg_A", "msg_B"]
    assert sum(c.output_tokens for c in scan.calls) == 47
    assert scan.files == 2


def test_same_message_id_with_another_request_id_is_another_call(home: ClaudeHome) -> None:
    lines = [assistant("msg_A", "req_1"), assistant("msg_A", "req_2")]
    assert len(scan_paths([home.session(lines)]).calls) == 2


def _subagent_session(home: ClaudeHome, *, with_file: bool, name: str = "Task") -> Path:
    first = assistant(
        "msg_S1",
        "req_S1",
        model=SONNET,
        u=usage(inp=3, cw=13838, out=3),
        agent_id="aac57f5",
        ts="2026-02-12T14:12:35.862Z",
    )
    last = assistant(
        "msg_S2",
        "req_S2",
        model=SONNET,
        u=usage(inp=79, cw=3378, cr=15436, out=1),
        agent_id="aac57f5",
        ts="2026-02-12T14:13:05.048Z",
    )
    spawn = assistant("msg_P", "req_P", u=usage(out=8), content=[spawn_block("toolu_T", name=name)])
    true_last = usage(inp=79, cw=3378, cr=15436, out=938)
    parent = [
        user("look up versions"),
        spawn,
        agent_progress(first, agent_id="aac57f5", parent_tool_use_id="toolu_T"),
        agent_progress(first, agent_id="aac57f5", parent_tool_use_id="toolu_T"),
        agent_result("toolu_T", "aac57f5", true_last, total_tokens=76365),
    ]
    if with_file:
        home.subagent("aac57f5", [user("Search", agent_id="aac57f5"), first, first, last])
    return home.session(parent)


def test_agent_progress_copies_and_the_agent_file_count_once(home: ClaudeHome) -> None:
    scan = scan_paths([_subagent_session(home, with_file=True)])
    first = [c for c in scan.calls if c.message_id == "msg_S1"]
    assert len(first) == 1
    assert first[0].agent_id == "aac57f5"
    assert first[0].cache_creation_input_tokens == 13838


def test_agent_progress_alone_is_counted_and_attributed(home: ClaudeHome) -> None:
    scan = scan_paths([_subagent_session(home, with_file=False)])
    first = [c for c in scan.calls if c.message_id == "msg_S1"]
    assert [c.agent_id for c in first] == ["aac57f5"]


def test_tool_use_result_usage_corrects_the_last_call_output(home: ClaudeHome) -> None:
    scan = scan_paths([_subagent_session(home, with_file=True)])
    by_id = {c.message_id: c for c in scan.calls}
    assert by_id["msg_S2"].output_tokens == 938  # the file only has the placeholder 1
    assert by_id["msg_S1"].output_tokens == 3  # earlier calls are left alone
    sonnet = [c for c in scan.calls if c.model == SONNET]
    assert sum(c.output_tokens for c in sonnet) == 941


def test_last_call_missing_from_every_file_is_counted_from_tool_use_result(
    home: ClaudeHome,
) -> None:
    scan = scan_paths([_subagent_session(home, with_file=False)])
    agent_calls = [c for c in scan.calls if c.agent_id == "aac57f5"]
    assert sum(c.output_tokens for c in agent_calls) == 3 + 938
    assert sum(c.input_tokens for c in agent_calls) == 3 + 79
    assert all(c.model == SONNET for c in agent_calls)
    assert any("last call" in w for w in scan.warnings)


def _only_last_call(home: ClaudeHome, tool_uses: int | None) -> Path:
    """A sub-agent none of whose calls any file holds: only the parent's toolUseResult (its
    last call's usage, and ``tool_uses``: ``totalToolUseCount``, None for none recorded)."""
    spawn = assistant("msg_P", "req_P", u=usage(out=8), content=[spawn_block("toolu_T")])
    result = agent_result("toolu_T", "aac57f5", usage(inp=79, cw=3378, cr=15436, out=938))
    if tool_uses is None:
        del result["toolUseResult"]["totalToolUseCount"]
    else:
        result["toolUseResult"]["totalToolUseCount"] = tool_uses
    return home.session([user("look up versions"), spawn, result])


@pytest.mark.parametrize("tool_uses", [12, None])
def test_a_sub_agent_known_only_by_its_last_call_is_a_lower_bound_of_every_figure(
    home: ClaudeHome, tool_uses: int | None
) -> None:
    """It used tools (or says not how many), so it made calls before its last one, and no file
    read holds them: every figure of its (tokens, cost) is a lower bound, and says why."""
    from pytest_orchphase.usage.aggregate import by_agent, price_calls
    from pytest_orchphase.usage.pricing import PriceTable
    from pytest_orchphase.usage.value import MEASURES

    scan = scan_paths([_only_last_call(home, tool_uses)])
    (call,) = [c for c in scan.calls if c.agent_id == "aac57f5"]
    assert (call.output_tokens, call.earlier_calls_unread) == (938, True)
    rows = {row.agent_id: row for row in by_agent(price_calls(scan, PriceTable.load()), scan)}
    usage_of_agent = rows["aac57f5"].totals.usage()
    assert usage_of_agent.lower_bounds == MEASURES
    assert "1 sub-agent(s) known only by their last call" in usage_of_agent.lower_bound_note
    assert rows["main"].totals.usage().lower_bounds == frozenset()
    used = "used 12 tool(s)" if tool_uses else "records no count of its tool uses"
    assert any("aac57f5" in w and used in w and "lower bounds" in w for w in scan.warnings)


def test_a_sub_agent_that_used_no_tool_made_its_last_call_alone(home: ClaudeHome) -> None:
    """``totalToolUseCount`` 0: the call the parent records is all the agent made (exact)."""
    from pytest_orchphase.usage.aggregate import price_calls, total
    from pytest_orchphase.usage.pricing import PriceTable

    scan = scan_paths([_only_last_call(home, 0)])
    assert [c.earlier_calls_unread for c in scan.calls] == [False, False]
    assert total(price_calls(scan, PriceTable.load())).usage().lower_bounds == frozenset()


def test_total_tokens_is_not_used_as_spend(home: ClaudeHome) -> None:
    scan = scan_paths([_subagent_session(home, with_file=True)])
    agent_calls = [c for c in scan.calls if c.agent_id == "aac57f5"]
    spend = sum(
        c.input_tokens + c.output_tokens + c.cache_creation_input_tokens + c.cache_read_input_tokens
        for c in agent_calls
    )
    assert spend == (3 + 13838 + 3) + (79 + 3378 + 15436 + 938)
    assert spend != 76365


@pytest.mark.parametrize("tool", ["Task", "Agent"])
def test_task_and_agent_spawns_give_the_agent_info(home: ClaudeHome, tool: str) -> None:
    scan = scan_paths([_subagent_session(home, with_file=True, name=tool)])
    info = scan.agent("aac57f5")
    assert info.tool_name == tool
    assert info.tool_use_id == "toolu_T"
    assert info.subagent_type == "general-purpose"
    assert info.description == "Check versions"
    assert info.requested_model == "sonnet"
    assert info.session_id == SESSION
    assert info.status == "completed"


def test_meta_json_names_the_agent_when_the_spawn_is_not_read(home: ClaudeHome) -> None:
    home.subagent("a1", [assistant("msg_X", "req_X", agent_id="a1")])
    home.meta("a1", {"agentType": "Explore", "description": "Find the config", "toolUseId": "t9"})
    scan = scan_paths([home.root])
    info = scan.agent("a1")
    assert (info.subagent_type, info.description, info.tool_use_id) == (
        "Explore",
        "Find the config",
        "t9",
    )


def test_synthetic_model_is_not_a_billed_call(home: ClaudeHome) -> None:
    lines = [
        assistant("msg_E", "req_E", model="<synthetic>", u=usage(inp=0, out=0)),
        assistant("msg_A", "req_A"),
    ]
    scan = scan_paths([home.session(lines)])
    assert [c.message_id for c in scan.calls] == ["msg_A"]
    assert scan.malformed_lines == 0


def test_unknown_line_types_are_ignored(home: ClaudeHome) -> None:
    lines = [
        snapshot(),
        {"type": "queue-operation", "operation": "enqueue", "content": "usage"},
        {"type": "summary", "summary": "x", "usage": {"input_tokens": 999}},
        {"type": "system", "subtype": "local_command", "content": '"usage"'},
        assistant("msg_A", "req_A", u=usage(inp=2)),
    ]
    scan = scan_paths([home.session(lines)])
    assert only(scan).input_tokens == 2
    assert scan.malformed_lines == 0


def test_an_unknown_line_type_holding_a_responses_usage_is_a_lost_call(home: ClaudeHome) -> None:
    """Ignored, a later build's line that records a response would leave its call out of
    every figure unsaid: it is not read, and the figures are lower bounds."""
    future = {"type": "future-kind", "message": {"usage": {"input_tokens": 999}, "model": "m"}}
    lines = [future, assistant("msg_A", "req_A", u=usage(inp=2))]
    scan = scan_paths([home.session(lines)])
    assert only(scan).input_tokens == 2
    assert (scan.malformed_lines, scan.lost_usage_lines) == (1, 1)


def test_malformed_and_truncated_lines_are_counted_not_fatal(home: ClaudeHome) -> None:
    good = assistant("msg_A", "req_A", u=usage(inp=2))
    wrong_types = assistant("msg_B", "req_B", u={"input_tokens": "many", "output_tokens": 1})
    lines: list[dict[str, object] | bytes] = [
        good,
        b'{"type":"assistant","message":{"usage": {bad json\n',
        wrong_types,
        assistant("msg_C", "req_C", u=usage(inp=4)),
        b'{"type":"assistant","message":{"model":"\xff\xfe","usage":{}}}\n',  # not UTF-8
        {"type": "assistant", "message": "not an object", "usage": 1},
        b'{"type":"user","message":{"role":"user","content":"cut he',  # truncated last line
    ]
    scan = scan_paths([home.session(lines)])
    assert sorted(c.message_id for c in scan.calls) == ["msg_A", "msg_C"]
    assert scan.malformed_lines == 5
    assert any(":7:" in w for w in scan.warnings)


def test_truncated_line_carrying_usage_is_counted(home: ClaudeHome) -> None:
    text = '{"type":"assistant","message":{"model":"claude-opus-4-6","usage":{"input_tokens":3'
    scan = scan_paths([home.session([assistant("msg_A", "req_A"), text])])
    assert (len(scan.calls), scan.malformed_lines) == (1, 1)


def test_layout_subagents_folder(home: ClaudeHome) -> None:
    session = home.session([assistant("msg_M", "req_M")])
    home.subagent("a1", [assistant("msg_S", "req_S", agent_id="a1")])
    scan = scan_paths([session])  # a session file brings its sub-agents along
    assert {c.message_id: c.agent_id for c in scan.calls} == {"msg_M": None, "msg_S": "a1"}


def test_layout_flat_agent_files_beside_the_session(home: ClaudeHome) -> None:
    session = home.session([assistant("msg_M", "req_M")])
    home.flat_agent("a2", [assistant("msg_S", "req_S", agent_id="a2")])
    home.flat_agent("other", [assistant("msg_O", "req_O", agent_id="o", session="another")])
    scan = scan_paths([session])
    assert {c.message_id: c.agent_id for c in scan.calls} == {"msg_M": None, "msg_S": "a2"}


def test_layout_inline_sidechain_lines(home: ClaudeHome) -> None:
    side = assistant("msg_S", "req_S")
    side["isSidechain"] = True
    scan = scan_paths([home.session([assistant("msg_M", "req_M"), side])])
    agents = {c.message_id: c.agent_id for c in scan.calls}
    assert agents["msg_M"] is None
    assert agents["msg_S"] is not None


def test_acompact_file_is_compaction_overhead(home: ClaudeHome) -> None:
    session = home.session([assistant("msg_M", "req_M")])
    home.subagent(
        "acompact-946d2b",
        [assistant("msg_C", "req_C", u=usage(cw=121689), agent_id="acompact-946d2b")],
    )
    scan = scan_paths([session])
    flags = {c.message_id: c.compaction for c in scan.calls}
    assert flags == {"msg_M": False, "msg_C": True}
    assert all(k[1] != "acompact-946d2b" for k in scan.agents)  # tied to no task


def test_a_folder_and_a_file_inside_it_are_read_once(home: ClaudeHome) -> None:
    session = home.session([assistant("msg_M", "req_M")])
    files = expand_paths([home.root, session, home.project])
    assert files.count(session) == 1


def test_each_file_is_listed_once_with_its_resolved_path(home: ClaudeHome, tmp_path: Path) -> None:
    """Two names of one file (a link in another folder, the folder given twice) are one file,
    named by the first; each comes with the path a resolve gives (what a phase's sources are
    told apart by)."""
    session = home.session([assistant("msg_M", "req_M")])
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "linked.jsonl").symlink_to(session)
    found = expand_resolved([home.project, elsewhere / "linked.jsonl", home.root])
    assert [f for f, _ in found].count(session) == 1
    assert elsewhere / "linked.jsonl" not in [f for f, _ in found]
    assert all(real == f.resolve() for f, real in found)
    alone = expand_resolved([elsewhere])
    assert alone == [(elsewhere / "linked.jsonl", session.resolve())]


def test_a_folder_is_walked_in_order_following_links_to_folders_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each folder's files by name, then its folders by name (``os.walk``'s order, sorted),
    whatever order the file system lists them in; a link to a folder is followed (a project
    folder linked in), each folder walked once however many links lead to it, a link back up
    included (no loop, no file twice)."""
    root = tmp_path / "root"
    names = ["m", "b", "z", "a", "q", "c"]
    for name in names:
        write_jsonl(root / f"{name}.jsonl", [assistant("msg_M", "req_M")])
        write_jsonl(root / name / "s" / "x.jsonl", [assistant("msg_M", "req_M")])
        write_jsonl(root / name / "w.jsonl", [assistant("msg_M", "req_M")])
    outside = tmp_path / "outside"
    write_jsonl(outside / "o.jsonl", [assistant("msg_M", "req_M")])
    (root / "n").symlink_to(outside, target_is_directory=True)
    (root / "o").symlink_to(outside, target_is_directory=True)  # the same folder again
    (root / "a" / "up").symlink_to(root, target_is_directory=True)  # a link back up
    listed = os.scandir

    def shuffled(path: str) -> Any:
        entries = list(listed(path))
        return _Listing(list(reversed(entries)))

    monkeypatch.setattr(os, "scandir", shuffled)
    found = [str(p.relative_to(root)) for p in expand_paths([root])]
    tree: list[str] = []
    for name in sorted(names):
        tree += [f"{name}/w.jsonl", f"{name}/s/x.jsonl"]
        if name == "m":
            tree.append("n/o.jsonl")
    assert found == [f"{n}.jsonl" for n in sorted(names)] + tree


class _Listing(list[Any]):
    """A listing as ``os.scandir`` gives it (a context manager), in another order."""

    def __enter__(self) -> _Listing:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def test_a_folder_that_cannot_be_listed_is_an_error_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What it holds would be left out without a word (os.walk skips it)."""
    root = tmp_path / "root"
    write_jsonl(root / "s.jsonl", [assistant("msg_M", "req_M")])
    write_jsonl(root / "locked" / "l.jsonl", [assistant("msg_M", "req_M")])
    listed = os.scandir

    def refusing(path: str) -> Any:
        if os.path.basename(path) == "locked":
            raise PermissionError(13, "Permission denied", path)
        return listed(path)

    monkeypatch.setattr(os, "scandir", refusing)
    with pytest.raises(OrchphaseError, match=r"cannot list this folder \(Permission denied") as err:
        expand_paths([root])
    assert err.value.path == root / "locked"


@pytest.mark.parametrize(
    "name", ["s.jsonl.gz", "s.ndjson.zst", "result.json.xz", "sessions.zip", "s.tar.gz", "N.TGZ"]
)
def test_an_archive_or_compressed_file_in_a_folder_is_an_error_naming_it(
    tmp_path: Path, name: str
) -> None:
    """No source reads it, and the calls of the transcripts it may hold would be left out
    without a word; other files (notes) are left out as before."""
    root = tmp_path / "root"
    write_jsonl(root / "s1.jsonl", [assistant("msg_M", "req_M")])
    (root / "notes.txt").write_bytes(b"")
    assert expand_paths([root]) == [root / "s1.jsonl"]
    (root / name).write_bytes(b"")
    with pytest.raises(OrchphaseError, match="an archive or a compressed file") as err:
        expand_paths([root])
    assert err.value.path == root / name


@pytest.mark.parametrize("target", ["gone", "gone.jsonl"])
def test_a_link_to_nothing_in_a_folder_is_an_error_naming_it(tmp_path: Path, target: str) -> None:
    """A link made on another machine (to a project folder, to a session) leads nowhere in a
    checkout: what it stood for would be left out without a word."""
    root = tmp_path / "root"
    write_jsonl(root / "s1.jsonl", [assistant("msg_M", "req_M")])
    (root / "linked").symlink_to(tmp_path / target)
    with pytest.raises(OrchphaseError, match="leads nowhere") as err:
        expand_paths([root])
    assert err.value.path == root / "linked"


def test_a_config_folder_is_read_through_its_projects_unless_read_whole(tmp_path: Path) -> None:
    """A Claude config folder (holding projects/) is read through projects/ only (Claude's
    prompt history beside it is no session); read whole (a phase's transcripts/ folder), a
    session beside projects/ is read too."""
    root = tmp_path / "root"
    write_jsonl(root / "projects" / "p" / "s1.jsonl", [assistant("msg_M", "req_M")])
    write_jsonl(root / "beside.jsonl", [assistant("msg_B", "req_B")])
    assert expand_paths([root]) == [root / "projects" / "p" / "s1.jsonl"]
    found = [f for f, _ in expand_resolved([root], whole=True)]
    assert found == [root / "beside.jsonl", root / "projects" / "p" / "s1.jsonl"]


def test_no_depth_of_folders_is_too_deep_to_walk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Deeper than Python's recursion limit (os.walk is iterative from Python 3.12)."""
    monkeypatch.chdir(tmp_path)  # relative paths: the deep one stays below PATH_MAX
    deep = Path("root")
    deep.mkdir()
    for _ in range(sys.getrecursionlimit() + 50):
        deep = deep / "d"
        deep.mkdir()  # one by one: a mkdir of all parents recurses too
    session = write_jsonl(deep / "s.jsonl", [assistant("msg_M", "req_M")])
    try:
        assert expand_paths([Path("root")]) == [session]
    finally:  # one by one too: pytest's removal of old temporary folders recurses
        session.unlink()
        while deep != Path("."):
            deep.rmdir()
            deep = deep.parent


def test_missing_path_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(OrchphaseError) as err:
        scan_paths([tmp_path / "nope.jsonl"])
    assert err.value.path == tmp_path / "nope.jsonl"


def test_discover_and_resolve_sessions(home: ClaudeHome, tmp_path: Path) -> None:
    session = home.session([assistant("msg_M", "req_M")])
    home.subagent("a1", [assistant("msg_S", "req_S", agent_id="a1")])
    home.flat_agent("a2", [assistant("msg_T", "req_T", agent_id="a2")])
    assert discover_sessions([home.root]) == [session]
    assert resolve_session(SESSION, [home.root]) == session
    with pytest.raises(OrchphaseError, match="no transcript for session"):
        resolve_session("missing", [home.root])


def test_default_config_dirs_follow_claude_config_dir(
    home: ClaudeHome, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = home.session([assistant("msg_M", "req_M")])
    other = tmp_path / "other"
    other_session = write_jsonl(other / "projects" / "p" / "s2.jsonl", [assistant("m2", "r2")])
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", f"{home.root},{other}")
    assert discover_sessions() == [session, other_session]


def test_a_scan_without_prompts_parses_no_line_for_them_and_counts_the_same(
    home: ClaudeHome, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`orchphase extract` needs no first prompt: a main file with none would otherwise have
    every user line (its tool outputs) parsed looking for one."""
    tool_output = {**user("x"), "message": {"role": "user", "content": [{"type": "tool_result"}]}}
    lines: list[Line] = [tool_output, user("R07: fix the parser"), assistant("msg_A", "req_A")]
    files = expand_paths([home.session([*lines, "{cut"])])
    parsed: list[bytes] = []

    def spy(raw: bytes) -> Any:
        parsed.append(raw)
        return real_loads(raw)

    monkeypatch.setattr(reader_module, "_loads", spy)
    without = scan_files(files, prompts=False)
    assert len(parsed) == 1 and b'"usage"' in parsed[0]  # the call's line alone
    with_prompts = scan_files(files)
    assert without.first_prompts == {} and with_prompts.first_prompts == {
        SESSION: "R07: fix the parser"
    }
    assert (without.calls, without.malformed_lines) == (with_prompts.calls, 1)


def test_parallel_read_gives_the_same_scan(
    home: ClaudeHome, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = _subagent_session(home, with_file=True)
    files = expand_paths([session])
    serial = scan_files(files)
    monkeypatch.setattr(scan_module, "PARALLEL_BYTES", 1)
    monkeypatch.setattr(parallel, "worker_count", lambda: 2)
    assert scan_files(files) == serial


def test_usage_details_are_read_for_pricing(home: ClaudeHome) -> None:
    u = usage(cw=300, cw_1h=200, web=2, speed="fast", geo="us")
    call = only(scan_paths([home.session([assistant("msg_A", "req_A", u=u)])]))
    assert (call.cache_creation_input_tokens, call.cache_creation_1h_tokens) == (300, 200)
    assert (call.web_search_requests, call.speed, call.inference_geo) == (2, "fast", "us")
    assert call.timestamp is not None and call.timestamp.year == 2026
    assert call.session_id == SESSION


@pytest.mark.parametrize(
    ("split", "expected"),
    [
        ((0, 100_000), (100_000, 100_000)),  # the split above a total of 0: the split
        ((30_000, 20_000), (50_000, 20_000)),  # both parts above it: their sum
        ((0, 200), (300, 200)),  # below it: the total, its rest at the 5-minute rate
    ],
)
def test_cache_writes_are_the_larger_of_the_total_and_its_split(
    home: ClaudeHome, split: tuple[int, int], expected: tuple[int, int]
) -> None:
    """A line whose ``cache_creation`` split (5-minute, 1-hour) sums above its
    ``cache_creation_input_tokens`` contradicts itself: the larger figure is counted, so a cap
    is never held to a low one."""
    u = usage(cw=300 if split == (0, 200) else 0)
    u["cache_creation"] = {
        "ephemeral_5m_input_tokens": split[0],
        "ephemeral_1h_input_tokens": split[1],
    }
    call = only(scan_paths([home.session([assistant("msg_A", "req_A", u=u)])]))
    assert (call.cache_creation_input_tokens, call.cache_creation_1h_tokens) == expected


def _iteration(kind: str, u: dict[str, Any]) -> dict[str, Any]:
    return {"type": kind, **{k: v for k, v in u.items() if k != "service_tier"}}


def test_a_compaction_iteration_left_out_of_the_top_level_usage_is_counted(
    home: ClaudeHome,
) -> None:
    """The API's top-level usage of a compacting request is its last sampling alone; the
    compaction iteration (its own input and output) is billed too: each count is the larger of
    the top-level one and its sum over ``usage.iterations``."""
    u = usage(inp=1_000, out=1_000, cr=500)
    u["iterations"] = [
        _iteration("compaction", usage(inp=180_000, out=3_500, cw=2_000, cw_1h=2_000)),
        _iteration("message", usage(inp=1_000, out=1_000, cr=500)),
    ]
    call = only(scan_paths([home.session([assistant("msg_A", "req_A", u=u)])]))
    assert (call.input_tokens, call.output_tokens) == (181_000, 4_500)
    assert (call.cache_creation_input_tokens, call.cache_creation_1h_tokens) == (2_000, 2_000)
    assert (call.cache_read_input_tokens, call.output_exact) == (500, True)


def test_iterations_a_top_level_usage_already_holds_are_not_counted_twice(
    home: ClaudeHome,
) -> None:
    """The 2.1.2xx builds' final lines: one ``message`` iteration equal to the top level."""
    u = usage(inp=2, out=368, cr=589_739, cw=2_134, cw_1h=2_134)
    u["iterations"] = [_iteration("message", u)]
    call = only(scan_paths([home.session([assistant("msg_A", "req_A", u=u)])]))
    assert (call.input_tokens, call.output_tokens, call.cache_read_input_tokens) == (
        2,
        368,
        589_739,
    )
    assert call.cache_creation_input_tokens == 2_134


@pytest.mark.parametrize("iterations", [5, "compaction", [3], [{"input_tokens": -1}]])
def test_iterations_of_the_wrong_shape_make_a_malformed_line(
    home: ClaudeHome, iterations: object
) -> None:
    """Never read as no iteration: the line may have recorded a compaction's tokens, so every
    figure is a lower bound."""
    u = usage(inp=10, out=10)
    u["iterations"] = iterations
    scan = scan_paths([home.session([assistant("msg_A", "req_A", u=u)])])
    assert (scan.calls, scan.malformed_lines, scan.lost_usage_lines) == ([], 1, 1)


# -- inline sidechains (Claude Code 1.0.x-2.0.x) -----------------------------------------------


def _chained(line: dict[str, Any], uuid: str, parent: str | None) -> dict[str, Any]:
    """``line`` as an inline sidechain line of Claude Code 1.0.x: no agentId, linked by uuid."""
    line = {**line, "isSidechain": True, "uuid": uuid, "parentUuid": parent, "version": "1.0.98"}
    line.pop("agentId", None)
    return line


def _task_result_1_0(tool_use_id: str, u: dict[str, Any]) -> dict[str, Any]:
    """A 1.0.x Task result: ``toolUseResult`` without agentId or status."""
    line = agent_result(tool_use_id, "unused", u)
    result = line["toolUseResult"]
    for key in ("agentId", "status", "prompt"):
        result.pop(key)
    return line


def _inline_session(home: ClaudeHome, prompts: list[str]) -> Path:
    """A main session spawning one parallel Task per prompt, each with a two-call chain."""
    spawns = [
        spawn_block(f"toolu_{i}", description=f"task {i}", prompt=p, model=None)
        for i, p in enumerate(prompts)
    ]
    lines: list[Line] = [assistant("msg_M", "req_M", content=spawns)]
    for i, prompt in enumerate(prompts):
        root = user(prompt)
        lines.append(_chained(root, f"root-{i}", None))
        first = assistant(f"msg_{i}a", f"req_{i}a", u=usage(inp=10 + i, out=5))
        lines.append(_chained(first, f"a-{i}", f"root-{i}"))
        lines.append(_chained(user("tool output"), f"t-{i}", f"a-{i}"))
        last = assistant(f"msg_{i}b", f"req_{i}b", u=usage(inp=20 + i, cr=100, out=7))
        lines.append(_chained(last, f"b-{i}", f"t-{i}"))
    for i in range(len(prompts)):
        lines.append(_task_result_1_0(f"toolu_{i}", usage(inp=20 + i, cr=100, out=7)))
    return home.session(lines)


def test_inline_sidechains_are_attributed_to_their_task_by_root_prompt(home: ClaudeHome) -> None:
    scan = scan_paths([_inline_session(home, ["Find the bug", "Write the docs", "Run the tests"])])
    agents = {c.message_id: c.agent_id for c in scan.calls}
    assert agents == {
        "msg_M": None,
        "msg_0a": "toolu_0",
        "msg_0b": "toolu_0",
        "msg_1a": "toolu_1",
        "msg_1b": "toolu_1",
        "msg_2a": "toolu_2",
        "msg_2b": "toolu_2",
    }
    assert [scan.agent(f"toolu_{i}").description for i in range(3)] == [
        "task 0",
        "task 1",
        "task 2",
    ]
    assert scan.agent("toolu_1").prompt == "Write the docs"
    assert scan.agent("toolu_1").tool_use_count == 12  # the 1.0.x Task result is linked
    assert not scan.warnings
    assert len(scan.calls) == 7  # the results' usage is the chains' last calls, not new ones


def test_inline_sidechains_with_the_same_prompt_take_the_tasks_in_order(
    home: ClaudeHome,
) -> None:
    scan = scan_paths([_inline_session(home, ["Same", "Same"])])
    agents = {c.message_id: c.agent_id for c in scan.calls}
    assert (agents["msg_0a"], agents["msg_1b"]) == ("toolu_0", "toolu_1")


def test_an_inline_chain_that_leads_to_no_task_stays_unnamed_and_says_so(
    home: ClaudeHome,
) -> None:
    session = _inline_session(home, ["Find the bug"])
    stray = assistant("msg_X", "req_X", u=usage(inp=3, out=2))
    with session.open("a") as fh:
        fh.write(json.dumps(_chained(user("Nobody asked"), "root-x", None)) + "\n")
        fh.write(json.dumps(_chained(stray, "x-1", "root-x")) + "\n")
    scan = scan_paths([session])
    assert {c.message_id: c.agent_id for c in scan.calls}["msg_X"] == INLINE_SIDECHAIN
    assert any("lead to no Task's prompt" in w for w in scan.warnings)


# -- background sub-agents (the Agent tool with run_in_background, Claude Code >= 2.1.2xx) --------


def _background_session(home: ClaudeHome, *, notice: bool = True) -> Path:
    spawn = spawn_block("toolu_BG", name="Agent", description="Smoke test", model=None)
    spawn["input"]["run_in_background"] = True
    launched = user("")
    launched["message"]["content"] = [
        {
            "tool_use_id": "toolu_BG",
            "type": "tool_result",
            "content": [{"type": "text", "text": "Async agent launched successfully."}],
        }
    ]
    launched["toolUseResult"] = {
        "isAsync": True,
        "status": "async_launched",
        "agentId": "a70eebf64f6caa954",
        "description": "Smoke test",
        "resolvedModel": "claude-opus-5[1m]",
        "outputFile": "/tmp/claude-0/tasks/a70eebf64f6caa954.output",
    }
    lines: list[Line] = [
        assistant("msg_P", "req_P", model="claude-fable-5", content=[spawn]),
        launched,
    ]
    if notice:
        lines.append(
            user(
                "<task-notification>\n<task-id>a70eebf64f6caa954</task-id>\n"
                "<tool-use-id>toolu_BG</tool-use-id>\n<status>completed</status>\n"
                '<summary>Agent "Smoke test" completed</summary>\n</task-notification>'
            )
        )
    # Its file: the first call ends with a final line (stop_reason, usage.iterations) holding
    # the true output; the second call's lines hold only the placeholder.
    placeholder = assistant(
        "msg_B1",
        "req_B1",
        model="claude-opus-5",
        u=usage(inp=2, cw=10870, out=1),
        agent_id="a70eebf64f6caa954",
    )
    final = assistant(
        "msg_B1",
        "req_B1",
        model="claude-opus-5",
        u=usage(inp=2, cw=10870, out=202),
        agent_id="a70eebf64f6caa954",
    )
    final["message"]["stop_reason"] = "tool_use"
    final["message"]["usage"]["iterations"] = [{"type": "message", "output_tokens": 202}]
    second = assistant(
        "msg_B2",
        "req_B2",
        model="claude-opus-5",
        u=usage(inp=2, cr=33649, out=2),
        agent_id="a70eebf64f6caa954",
    )
    home.subagent("a70eebf64f6caa954", [placeholder, final, second])
    return home.session(lines)


def test_background_agent_is_linked_by_its_launch_result_without_meta_json(
    home: ClaudeHome,
) -> None:
    scan = scan_paths([_background_session(home)])
    info = scan.agent("a70eebf64f6caa954")
    assert (info.tool_use_id, info.tool_name, info.description) == (
        "toolu_BG",
        "Agent",
        "Smoke test",
    )
    assert info.background and info.resolved_model == "claude-opus-5[1m]"
    assert info.status == "completed"  # from the <task-notification>
    assert not info.last_call_corrected


def test_background_agent_without_its_notice_stays_launched(home: ClaudeHome) -> None:
    scan = scan_paths([_background_session(home, notice=False)])
    assert scan.agent("a70eebf64f6caa954").status == "async_launched"


def test_background_agent_output_is_a_lower_bound_and_says_so(home: ClaudeHome) -> None:
    from pytest_orchphase.usage.aggregate import by_agent, price_calls
    from pytest_orchphase.usage.pricing import PriceTable

    scan = scan_paths([_background_session(home)])
    exact = {c.message_id: (c.output_tokens, c.output_exact) for c in scan.calls}
    assert exact["msg_B1"] == (202, True)  # the final line of a response is its true count
    assert exact["msg_B2"] == (2, False)  # no record holds the true one: never claimed
    assert any(
        "sub-agent a70eebf64f6caa954: 1 call(s) record only a placeholder" in w
        and "background" in w
        for w in scan.warnings
    )
    rows = {r.agent_id: r for r in by_agent(price_calls(scan, PriceTable.load()), scan)}
    assert rows["a70eebf64f6caa954"].totals.usage().lower_bounds == {"output", "total", "usd"}
    assert rows["main"].totals.usage().lower_bounds == frozenset()
    from pytest_orchphase.cli.extract import extract_table

    table = extract_table(scan, price_calls(scan, PriceTable.load()), "agent")
    assert "general-purpose (background)" in table and "≥" in table


def test_btw_side_question_replay_is_counted_once(home: ClaudeHome) -> None:
    parent = assistant("msg_1", "req_1", u=usage(inp=7, cr=5000, out=40))
    replay = assistant("msg_1", "req_btw", u=usage(inp=7, cr=5000, out=40))
    replay["isSidechain"] = True  # /btw rewrites the parent's history on sidechain lines
    answer = assistant("msg_2", "req_2", u=usage(inp=3, cr=5000, out=12))
    answer["isSidechain"] = True  # the side question's own answer: a distinct response
    scan = scan_paths([home.session([parent, replay, answer])])
    assert sorted((c.message_id, c.request_id) for c in scan.calls) == [
        ("msg_1", "req_1"),
        ("msg_2", "req_2"),
    ]


def test_a_recovered_last_call_takes_the_parent_records_time_so_dated_rates_apply(
    home: ClaudeHome,
) -> None:
    from pytest_orchphase.usage.pricing import PriceTable

    spawn = assistant("msg_P", "req_P", content=[spawn_block("toolu_T")])
    result = agent_result(
        "toolu_T", "a1", usage(inp=0, cr=1_000_000, out=0), ts="2026-09-30T10:00:00.000Z"
    )
    home.subagent("a1", [assistant("msg_S", "req_S", model="claude-sonnet-5-5", agent_id="a1")])
    scan = scan_paths([home.session([spawn, result])])
    (recovered,) = [c for c in scan.calls if c.message_id.startswith("toolUseResult:")]
    assert recovered.timestamp is not None and recovered.timestamp.isoformat().startswith(
        "2026-09-30T10:00"
    )
    # Sonnet 5.5 read 0.20 per million before 2026-10-07, 0.10 after.
    assert PriceTable.load().cost(recovered) == pytest.approx(0.20)


def test_an_inline_chain_with_a_parent_cycle_ends_and_stays_unnamed(home: ClaudeHome) -> None:
    first = _chained(assistant("msg_A", "req_A"), "u-1", "u-2")
    second = _chained(user("tool output"), "u-2", "u-1")  # a cycle: no root
    spawn = assistant("msg_M", "req_M", content=[spawn_block("toolu_0", prompt="Find it")])
    scan = scan_paths([home.session([spawn, first, second])])
    assert {c.message_id: c.agent_id for c in scan.calls}["msg_A"] == INLINE_SIDECHAIN


def test_task_notifications_of_no_known_agent_or_cut_short_change_nothing(
    home: ClaudeHome,
) -> None:
    session = _background_session(home, notice=False)
    with session.open("a") as fh:
        for text in (
            "<task-notification>\n<task-id>nobody</task-id>\n<status>failed</status>",
            "<task-notification><status>",  # cut short: no field
        ):
            fh.write(json.dumps(user(text)) + "\n")
    scan = scan_paths([session])
    assert scan.agent("a70eebf64f6caa954").status == "async_launched"
    assert scan.malformed_lines == 0


@pytest.mark.parametrize("first", ["usage", "other"])
def test_a_byte_order_mark_does_not_drop_the_first_line(home: ClaudeHome, first: str) -> None:
    head = assistant("msg_A", "req_A", u=usage(inp=7)) if first == "usage" else snapshot()
    line = b"\xef\xbb\xbf" + json.dumps(head).encode() + b"\n"
    scan = scan_paths([home.session([line, assistant("msg_B", "req_B", u=usage(inp=5))])])
    assert scan.malformed_lines == 0
    expected = ["msg_A", "msg_B"] if first == "usage" else ["msg_B"]
    assert sorted(c.message_id for c in scan.calls) == expected


def test_a_byte_order_mark_before_a_headless_result(tmp_path: Path) -> None:
    path = tmp_path / "run.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(result_object()).encode())
    scan = scan_paths([path])
    assert scan.malformed_lines == 0 and scan.headless


# -- a response's final line --------------------------------------------------------------------


def _streamed(msg_id: str, outs: list[int], *, final: bool, **kw: Any) -> list[dict[str, Any]]:
    """One response as Claude Code 2.1.3x writes it: a line per content block, each with the
    output count so far; with ``final``, its last line carries stop_reason (the true count)."""
    lines = [
        assistant(
            msg_id,
            f"req_{msg_id}",
            u=usage(inp=3, cw=900, out=out),
            content=[{"type": "text", "text": "Here is what each task changed. " * 20}],
            final=final and i == len(outs) - 1,
            **kw,
        )
        for i, out in enumerate(outs)
    ]
    return lines


def test_a_main_response_with_its_final_line_is_exact(home: ClaudeHome) -> None:
    scan = scan_paths([home.session([user("Plan"), *_streamed("msg_m", [1, 1, 395], final=True)])])
    (call,) = scan.calls
    assert (call.output_tokens, call.output_exact) == (395, True)
    assert not scan.warnings


def test_usage_iterations_marks_a_final_line_without_stop_reason(home: ClaudeHome) -> None:
    """2.1.38/2.1.39 main sessions write no stop_reason, but their final line's usage holds
    ``iterations`` (711 of their responses: none records a placeholder)."""
    last = assistant("msg_m", "req_msg_m", u=usage(out=395), final=False)
    last["message"]["usage"]["iterations"] = [{"type": "message", "output_tokens": 395}]
    scan = scan_paths([home.session([user("Plan"), *_streamed("msg_m", [1], final=False), last])])
    assert [(c.output_tokens, c.output_exact) for c in scan.calls] == [(395, True)]


def test_a_main_response_without_its_final_line_is_a_lower_bound_and_says_so(
    home: ClaudeHome,
) -> None:
    scan = scan_paths([home.session([user("Plan"), *_streamed("msg_m", [1, 1], final=False)])])
    (call,) = scan.calls
    assert (call.agent_id, call.output_tokens, call.output_exact) == (None, 1, False)
    assert scan.warnings == [
        f"session {SESSION}: 1 main-session response(s) record only a placeholder output count "
        "(their final line, with stop_reason, was never written): its output and cost are "
        "lower bounds"
    ]
    from pytest_orchphase.usage.aggregate import by_agent, price_calls
    from pytest_orchphase.usage.pricing import PriceTable

    (row,) = by_agent(price_calls(scan, PriceTable.load()), scan)
    assert row.totals.usage().lower_bounds == {"output", "total", "usd"}


def test_synthetic_lines_make_no_response_inexact(home: ClaudeHome) -> None:
    error = assistant("msg_s", "req_s", model="<synthetic>", u=usage(out=0), final=False)
    scan = scan_paths([home.session([user("Plan"), error, *_streamed("m", [9], final=True)])])
    assert [(c.message_id, c.output_exact) for c in scan.calls] == [("m", True)]
    assert not scan.warnings


@pytest.mark.parametrize(
    ("version", "exact"), [("1.0.98", True), ("2.0.46", True), ("2.1.39", False)]
)
def test_an_inline_sidechain_response_is_written_whole_only_before_2_1(
    home: ClaudeHome, version: str, exact: bool
) -> None:
    """1.0.x/2.0.x inline sidechains write each response once complete (166 of 166 without a
    stop_reason record one count on all their lines, a plausible one): exact. A 2.1 build
    streams them like a main session's: without the final line, a lower bound."""
    lines = _streamed("msg_c", [74, 74], final=False, agent_id="sidechain")
    for line in lines:
        del line["agentId"]
        line["version"] = version
    scan = scan_paths([home.session([user("Plan"), *lines])])
    assert [(c.agent_id, c.output_exact) for c in scan.calls] == [(INLINE_SIDECHAIN, exact)]

"""What a headless result settles: its ``modelUsage`` is the whole of its run (every agent's,
sub-agents read from their own files too), so it makes exact the placeholder counts of that
run's messages, in a stream or a transcript; never another run's (a run without its result, a
run resumed under the same session id in the same file or stream, a transcript holding more
than it): those stay lower bounds. Two finished runs of one stream are each settled by their
own results, or together when their messages cannot be told apart. A replayed line beside a
result is no traceback."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pytest_orchphase.cli import main
from pytest_orchphase.usage.aggregate import Totals, price_calls, total
from pytest_orchphase.usage.pricing import PriceTable
from pytest_orchphase.usage.scan import scan_paths
from tests.helpers import HAIKU, ClaudeHome, assistant, result_object, usage, user, write_jsonl

FIRST = "e382184a-1111-2222-3333-444455556666"  # result_object()'s session
SECOND = "e382184a-9999-2222-3333-444455556666"


def _streamed(msg_id: str, session: str) -> dict[str, Any]:
    """A 2.1.207 stream-json message: one line, a placeholder output count, no stop_reason."""
    line = assistant(
        msg_id, f"req_{msg_id}", model=HAIKU, u=usage(inp=4, cw=9097, out=2), final=False
    )
    line.pop("sessionId")
    line["session_id"] = session
    return line


def _init(session: str) -> dict[str, Any]:
    return {
        "type": "system",
        "subtype": "init",
        "session_id": session,
        "claude_code_version": "2.1.207",
    }


def _run(msg_id: str, session: str, *, ended: bool) -> list[dict[str, Any]]:
    """One headless run's stream: its init line, one message and, when ``ended``, its result."""
    lines = [_init(session), _streamed(msg_id, session)]
    return [*lines, result_object(session_id=session)] if ended else lines


def _stream_totals(path: Path, *runs: list[dict[str, Any]]) -> Totals:
    """The priced totals of ``runs`` appended to one stream file at ``path``."""
    scan = scan_paths([write_jsonl(path, [line for run in runs for line in run])])
    return total(price_calls(scan, PriceTable.load()))


def test_a_run_without_its_result_is_not_settled_by_another_runs_result(
    tmp_path: Path,
) -> None:
    first, second = _run("msg_1", FIRST, ended=True), _run("msg_2", SECOND, ended=False)
    totals = _stream_totals(tmp_path / "runs.ndjson", first, second)
    assert "output" in totals.usage().lower_bounds


def test_a_resumed_run_appended_under_its_session_is_not_settled_by_the_first_result(
    tmp_path: Path,
) -> None:
    """`claude -p --resume` keeps the session id: a second run appended to the stream names the
    same session as the first, whose result cannot be the whole of both runs' messages (their
    cache writes sum above it): the second run, stopped before its result, stays a lower
    bound."""
    first, resumed = _run("msg_1", FIRST, ended=True), _run("msg_2", FIRST, ended=False)
    totals = _stream_totals(tmp_path / "runs.ndjson", first, resumed)
    assert "output" in totals.usage().lower_bounds


def test_two_finished_runs_in_one_stream_are_each_made_whole_by_their_own_result(
    tmp_path: Path,
) -> None:
    """Each result summed against both runs' messages: what each run's messages are short of
    was taken as less than it is, 4 output and 8 input tokens of 5,578 and 20 lost while the
    figures claimed to be exact."""
    first, second = _run("msg_1", FIRST, ended=True), _run("msg_2", SECOND, ended=True)
    totals = _stream_totals(tmp_path / "runs.ndjson", first, second)
    assert (totals.output_tokens, totals.input_tokens) == (2 * 2789, 2 * 10)
    assert totals.usage().lower_bounds == frozenset()


def test_two_finished_resumed_runs_in_one_stream_keep_their_input_whole(tmp_path: Path) -> None:
    """Two finished runs of one session appended to one stream (`claude -p --resume` keeps the
    session id) were each summed against the pooled messages: input 12 shown exact where the
    two results' modelUsage sum to 20."""
    first, resumed = _run("msg_1", FIRST, ended=True), _run("msg_2", FIRST, ended=True)
    totals = _stream_totals(tmp_path / "runs.ndjson", first, resumed)
    assert totals.input_tokens == 20 or "input" in totals.usage().lower_bounds


def test_two_finished_resumed_runs_in_one_stream_are_made_whole_together(tmp_path: Path) -> None:
    """The two results weighed together against their pooled messages: every figure the
    results' modelUsage summed, exact."""
    first, resumed = _run("msg_1", FIRST, ended=True), _run("msg_2", FIRST, ended=True)
    totals = _stream_totals(tmp_path / "runs.ndjson", first, resumed)
    assert (totals.output_tokens, totals.input_tokens) == (2 * 2789, 2 * 10)
    assert (totals.cache_creation_input_tokens, totals.cache_read_input_tokens) == (
        2 * 9097,
        2 * 63057,
    )
    assert totals.usage().lower_bounds == frozenset()


def test_a_transcript_made_whole_by_its_runs_json_result_is_exact(tmp_path: Path) -> None:
    """The transcript complete: its cache counts are its result's, as a real run's are."""
    home = ClaudeHome(tmp_path / "claude")
    whole = usage(inp=4, cw=9097, cr=63057, out=2)
    placeholder = assistant("msg_1", "req_1", model=HAIKU, session=FIRST, u=whole, final=False)
    home.session([user("Implement R01", session=FIRST), placeholder], session=FIRST)
    (tmp_path / "r01.json").write_text(json.dumps(result_object()))  # session FIRST's result
    scan = scan_paths([home.root, tmp_path / "r01.json"])
    totals = total(price_calls(scan, PriceTable.load()))
    assert totals.output_tokens == 2789
    assert totals.usage().lower_bounds == frozenset()


def test_a_json_result_settles_its_sessions_sub_agent_calls_too(tmp_path: Path) -> None:
    """modelUsage is every agent's: the session's sub-agent calls read from their own file
    (placeholder counts no parent record corrects) are made whole with the main session's
    (their cache counts together are the result's)."""
    home = ClaudeHome(tmp_path / "claude")
    main_agent = usage(inp=4, cw=9097, cr=62157, out=2)
    placeholder = assistant("msg_1", "req_1", model=HAIKU, session=FIRST, u=main_agent, final=False)
    home.session([user("Implement R01", session=FIRST), placeholder], session=FIRST)
    helper = assistant(
        "msg_2", "req_2", model=HAIKU, session=FIRST, agent_id="a1", u=usage(inp=3, cr=900, out=1)
    )
    home.subagent("a1", [helper], session=FIRST)
    (tmp_path / "r01.json").write_text(json.dumps(result_object()))
    scan = scan_paths([home.root, tmp_path / "r01.json"])
    totals = total(price_calls(scan, PriceTable.load()))
    assert totals.output_tokens == 2789
    assert totals.usage().lower_bounds == frozenset()
    assert not [w for w in scan.warnings if "placeholder" in w]


def test_a_json_result_is_not_the_whole_of_a_transcript_holding_more_than_it(
    tmp_path: Path,
) -> None:
    """A transcript holding another run of the session too (`--resume`: same session id, same
    file) reads more cache than the result reports: the result does not settle it."""
    home = ClaudeHome(tmp_path / "claude")
    responses = [
        assistant(
            f"msg_{n}",
            f"req_{n}",
            model=HAIKU,
            session=FIRST,
            u=usage(inp=4, cr=40_000, out=2),
            final=False,
        )
        for n in (1, 2)
    ]
    home.session([user("Implement R01", session=FIRST), *responses], session=FIRST)
    (tmp_path / "r01.json").write_text(json.dumps(result_object()))
    scan = scan_paths([home.root, tmp_path / "r01.json"])
    totals = total(price_calls(scan, PriceTable.load()))
    assert "output" in totals.usage().lower_bounds


def test_a_resumed_run_within_what_the_transcript_is_short_of_is_not_settled(
    tmp_path: Path,
) -> None:
    """A json result whose transcript holds less than its run (sub-agents' files not copied,
    as _whole_run allows for) settled a resumed run (--resume, same session id, same file)
    whose messages fit in what the transcript is short of: output 2,789 shown exact, the
    resumed run's tokens (50,004 in) absorbed; nothing tells them from the run's missing
    ones, so output is a lower bound."""
    home = ClaudeHome(tmp_path / "claude")
    first = assistant(
        "msg_1", "req_1", model=HAIKU, session=FIRST, u=usage(inp=4, cw=9097, out=2), final=False
    )
    resumed = assistant(
        "msg_2", "req_2", model=HAIKU, session=FIRST, u=usage(inp=4, cr=50_000, out=2), final=False
    )
    home.session(
        [user("Implement R01", session=FIRST), first, user("go on", session=FIRST), resumed],
        session=FIRST,
    )
    (tmp_path / "r01.json").write_text(json.dumps(result_object()))  # the first run's result
    scan = scan_paths([home.root, tmp_path / "r01.json"])
    totals = total(price_calls(scan, PriceTable.load()))
    assert "output" in totals.usage().lower_bounds


def test_what_a_json_result_adds_beside_a_transcript_short_of_it_is_a_lower_bound(
    tmp_path: Path,
) -> None:
    """The transcript's response whole (its final line written), its cache counts short of
    the result's: the output the result adds may be another run's too (a resumed run's
    calls in the same file), so it is a lower bound, not the run's exact output."""
    home = ClaudeHome(tmp_path / "claude")
    response = assistant(
        "msg_1", "req_1", model=HAIKU, session=FIRST, u=usage(inp=4, cw=9097, out=20), final=True
    )
    home.session([user("Implement R01", session=FIRST), response], session=FIRST)
    (tmp_path / "r01.json").write_text(json.dumps(result_object()))
    scan = scan_paths([home.root, tmp_path / "r01.json"])
    totals = total(price_calls(scan, PriceTable.load()))
    assert totals.output_tokens == 2789
    assert "output" in totals.usage().lower_bounds
    note = totals.usage().lower_bound_note
    assert "1 headless result(s) add output" in note and "response(s)" not in note
    assert any("--resume" in w for w in scan.warnings)


def test_a_replayed_line_beside_a_headless_result_is_no_traceback(tmp_path: Path) -> None:
    parent = assistant("msg_X", "req_1", model=HAIKU, session=FIRST, u=usage(inp=4, out=20))
    replay = {**assistant("msg_X", "req_2", model=HAIKU, session=FIRST), "isSidechain": True}
    lines = [user("Implement R01", session=FIRST), parent, replay, result_object()]
    path = write_jsonl(tmp_path / "run.ndjson", lines)
    assert main(["extract", "--no-cache", str(path)]) in (0, 2)


def test_a_replay_in_a_stream_of_a_response_its_transcript_holds_is_no_traceback(
    tmp_path: Path,
) -> None:
    """The replay's parent in the session's transcript, the replay beside the result in the
    stream: the stream's only call is dropped from the merged calls, then was looked up."""
    home = ClaudeHome(tmp_path / "claude")
    parent = assistant("msg_X", "req_1", model=HAIKU, session=FIRST, u=usage(inp=4, out=20))
    home.session([user("Implement R01", session=FIRST), parent], session=FIRST)
    replay = {**assistant("msg_X", "req_2", model=HAIKU, session=FIRST), "isSidechain": True}
    path = write_jsonl(tmp_path / "run.ndjson", [_init(FIRST), replay, result_object()])
    assert main(["extract", "--no-cache", str(home.root), str(path)]) in (0, 2)
    scan = scan_paths([home.root, path])
    assert [c.request_id for c in scan.calls if c.message_id == "msg_X"] == ["req_1"]

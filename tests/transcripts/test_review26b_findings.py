"""Review 26b (e0b3b6b..4737bcf), core findings on what a headless result settles: each test is
a finding on main, fixed (each docstring says what was observed)."""

from __future__ import annotations

import json
from pathlib import Path

from pytest_orchphase.usage.aggregate import price_calls, total
from pytest_orchphase.usage.pricing import PriceTable
from pytest_orchphase.usage.scan import scan_paths
from tests.helpers import HAIKU, ClaudeHome, assistant, result_object, usage, user
from tests.transcripts.test_review26_findings import _run, _stream_totals

FIRST = "e382184a-1111-2222-3333-444455556666"  # result_object()'s session


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


def test_two_finished_resumed_runs_in_one_stream_keep_their_input_whole(tmp_path: Path) -> None:
    """Two finished runs of one session appended to one stream (`claude -p --resume` keeps the
    session id) were each summed against the pooled messages: input 12 shown exact where the
    two results' modelUsage sum to 20."""
    first, resumed = _run("msg_1", FIRST, ended=True), _run("msg_2", FIRST, ended=True)
    totals = _stream_totals(tmp_path / "runs.ndjson", first, resumed)
    assert totals.input_tokens == 20 or "input" in totals.usage().lower_bounds


# -- siblings the same mechanisms allowed (found while fixing the two above) -------------------


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

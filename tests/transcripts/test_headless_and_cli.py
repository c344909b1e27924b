"""Headless `claude -p` results, the real samples, and the `orchphase extract` command."""

from __future__ import annotations

import io
import json
import os
import sys
from pathlib import Path

import pytest

from pytest_orchphase.cli import main
from pytest_orchphase.usage.pricing import PriceTable
from pytest_orchphase.usage.scan import scan_paths
from tests.helpers import (
    HAIKU,
    REAL_TRANSCRIPTS,
    SESSION,
    ClaudeHome,
    agent_result,
    assistant,
    result_object,
    spawn_block,
    usage,
    write_jsonl,
)

#: result_object()'s session: a stream's every line names the run's session (real 2.1.207 runs).
RUN = "e382184a-1111-2222-3333-444455556666"


def test_headless_json_result_gives_per_model_usage(tmp_path: Path) -> None:
    path = tmp_path / "run.json"
    path.write_text(json.dumps(result_object()))
    scan = scan_paths([path])
    (call,) = scan.calls
    assert (call.model, call.input_tokens, call.output_tokens) == (HAIKU, 10, 2789)
    assert (call.cache_creation_input_tokens, call.cache_read_input_tokens) == (9097, 63057)
    assert call.cache_creation_1h_tokens == 9097  # from the main agent's split
    assert scan.headless[0].total_cost_usd == pytest.approx(0.03163195)
    expected = (10 * 1 + 2789 * 5 + 63057 * 0.10 + 9097 * 2) / 1e6
    assert PriceTable.load().cost(call) == pytest.approx(expected)


def test_headless_aggregate_is_not_priced_at_the_long_context_tier(tmp_path: Path) -> None:
    big = result_object(
        usage={"input_tokens": 900_000},
        modelUsage={"claude-sonnet-4-5-20250929": {"inputTokens": 900_000, "outputTokens": 0}},
    )
    path = write_jsonl(tmp_path / "run.json", [big])
    (call,) = scan_paths([path]).calls
    assert PriceTable.load().cost(call) == pytest.approx(900_000 * 3 / 1e6)


def test_stream_json_is_priced_from_its_messages(tmp_path: Path) -> None:
    sid = "e382184a-1111-2222-3333-444455556666"
    first = assistant(
        "msg_1", "req_1", model=HAIKU, session=sid, u=usage(inp=4, cw=9097, cw_1h=9097, out=9)
    )
    second = assistant(
        "msg_2", "req_2", model=HAIKU, session=sid, u=usage(inp=6, cr=63057, out=2780)
    )
    for line in (first, second):
        line["session_id"] = line.pop("sessionId")
        line["parent_tool_use_id"] = None
    lines = [{"type": "system", "subtype": "init", "session_id": sid}, first, second]
    lines.append(result_object())
    scan = scan_paths([write_jsonl(tmp_path / "run.jsonl", lines)])
    assert sorted(c.message_id for c in scan.calls) == ["msg_1", "msg_2"]  # nothing added
    assert scan.headless[0].has_messages
    repriced = sum(PriceTable.load().cost(c) or 0 for c in scan.calls)
    assert repriced == pytest.approx((10 + 2789 * 5 + 63057 * 0.10 + 9097 * 2) / 1e6)


def test_stream_json_short_of_model_usage_gets_the_difference(tmp_path: Path) -> None:
    only = assistant(
        "msg_1", "req_1", model=HAIKU, session=RUN, u=usage(inp=10, cr=63057, cw=9097, out=1)
    )
    scan = scan_paths([write_jsonl(tmp_path / "run.jsonl", [only, result_object()])])
    assert sum(c.output_tokens for c in scan.calls) == 2789
    assert sum(c.input_tokens for c in scan.calls) == 10


def test_crashed_headless_run_with_zeros_warns(tmp_path: Path) -> None:
    zeros = result_object(
        subtype="error_during_execution",
        is_error=True,
        total_cost_usd=0,
        modelUsage={HAIKU: {"inputTokens": 0, "outputTokens": 0}},
    )
    path = write_jsonl(tmp_path / "crash.json", [zeros])
    scan = scan_paths([path])
    assert scan.calls == []
    assert any("reports no usage" in w for w in scan.warnings)


def test_headless_summary_of_a_session_read_from_its_transcript_is_not_counted_twice(
    home: ClaudeHome, tmp_path: Path
) -> None:
    """The transcript holds every token the summary reports: the summary adds nothing."""
    whole = usage(inp=10, out=2789, cw=9097, cr=63057)
    session = home.session([assistant("msg_1", "req_1", model=HAIKU, u=whole)])
    result = write_jsonl(tmp_path / "r.json", [result_object(session_id=SESSION)])
    scan = scan_paths([session, result])
    assert [c.message_id for c in scan.calls] == ["msg_1"]


def test_headless_summary_fills_in_what_its_sessions_transcript_is_short_of(
    home: ClaudeHome, tmp_path: Path
) -> None:
    """The transcript holds less than the summary (its sub-agents' files were not copied): the
    summary is not dropped for it, it adds what the transcript is short of, as figures of the
    model (not as one more call), whose cache writes of unknown lifetime make the cost a lower
    bound. Dropping it counted 1,010 tokens of a run that spent 74,953."""
    part = usage(inp=10, out=0, cw=1_000)
    session = home.session([assistant("msg_1", "req_1", model=HAIKU, u=part)])
    result = write_jsonl(tmp_path / "r.json", [result_object(session_id=SESSION)])
    scan = scan_paths([session, result])
    assert [c.message_id.rsplit(":", 1)[0] for c in scan.calls] == [
        "msg_1",
        f"headless:{SESSION}:{HAIKU}",
    ]
    fields = (
        "input_tokens",
        "output_tokens",
        "cache_creation_input_tokens",
        "cache_read_input_tokens",
    )
    total = [sum(getattr(c, f) for c in scan.calls) for f in fields]
    assert total == [10, 2789, 9097, 63057]
    extra = scan.calls[1]
    assert extra.surplus and extra.cost_lower_bound
    assert any("than its session" in w for w in scan.warnings)


# -- the real samples ------------------------------------------------------------------------

EXPECTED = {
    "claude-opus-4-6": {
        "input_tokens": 5,
        "cache_creation_input_tokens": 125_533,
        "cache_read_input_tokens": 75_183,
        "output_tokens": 411,
    },
    "claude-sonnet-4-5-20250929": {
        "input_tokens": 2_408,
        "cache_creation_input_tokens": 18_814,
        "cache_read_input_tokens": 29_274,
        "output_tokens": 944,
    },
}


@pytest.fixture
def real_projects() -> Path:
    projects = REAL_TRANSCRIPTS / "projects"
    if not projects.is_dir():
        pytest.skip(f"real transcript samples not present at {projects}")
    return projects


def test_real_samples_match_ccusage_counts_and_correct_its_output(
    real_projects: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["extract", str(real_projects), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    for model, figures in EXPECTED.items():
        got = doc["models"][model]
        assert {k: got[k] for k in figures} == figures
    assert doc["models"]["claude-opus-4-6"]["cost_usd"] == pytest.approx(0.83247275)
    sonnet = (2408 * 3 + 944 * 15 + 18814 * 3.75 + 29274 * 0.30) / 1e6
    assert doc["models"]["claude-sonnet-4-5-20250929"]["cost_usd"] == pytest.approx(sonnet)
    assert (doc["files"], doc["malformed_lines"]) == (3, 0)
    kinds = {a["agent_id"]: (a["subagent_type"], a["compaction"]) for a in doc["agents"]}
    assert kinds == {"aac57f5": ("general-purpose", False), "acompact-946d2b": (None, True)}


# -- orchphase extract -----------------------------------------------------------------------


def _demo(home: ClaudeHome) -> Path:
    spawn = assistant(
        "msg_P", "req_P", u=usage(inp=1, out=8, cw=3733, cr=28726), content=[spawn_block("toolu_T")]
    )
    sub = assistant(
        "msg_S",
        "req_S",
        model="claude-sonnet-4-5-20250929",
        u=usage(inp=79, cw=3378, cr=15436, out=1),
        agent_id="a1",
    )
    home.subagent("a1", [sub])
    true_usage = usage(inp=79, cw=3378, cr=15436, out=938)
    return home.session([spawn, agent_result("toolu_T", "a1", true_usage)])


def test_extract_json_keys_and_values(home: ClaudeHome, capsys: pytest.CaptureFixture[str]) -> None:
    _demo(home)
    assert main(["extract", str(home.root), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert set(doc) == {
        "models",
        "agents",
        "totals",
        "files",
        "malformed_lines",
        "lost_usage_lines",
    }
    keys = {
        "input_tokens",
        "output_tokens",
        "cache_creation_input_tokens",
        "cache_read_input_tokens",
        "cost_usd",
        "calls",
        "lower_bounds",
    }
    assert set(doc["totals"]) == keys
    # the sub-agent's one call is corrected from the parent's record: every figure exact
    assert doc["totals"]["lower_bounds"] == []
    assert all(set(m) == keys for m in doc["models"].values())
    assert doc["totals"]["output_tokens"] == 8 + 938
    assert doc["totals"]["calls"] == 2
    assert doc["files"] == 2
    (agent,) = doc["agents"]
    assert (agent["agent_id"], agent["description"], agent["requested_model"]) == (
        "a1",
        "Check versions",
        "sonnet",
    )
    assert agent["output_tokens"] == 938


def test_extract_without_path_reads_claude_config_dir(
    home: ClaudeHome, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _demo(home)
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(home.root))
    assert main(["extract", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["totals"]["calls"] == 2


@pytest.mark.parametrize(
    ("by", "expected"),
    [("model", "claude-sonnet-4-5"), ("agent", "Check versions"), ("session", SESSION)],
)
def test_extract_table(
    home: ClaudeHome, capsys: pytest.CaptureFixture[str], by: str, expected: str
) -> None:
    _demo(home)
    assert main(["extract", str(home.root), "--by", by]) == 0
    out = capsys.readouterr().out
    assert expected in out
    assert "total" in out
    assert "malformed lines: 0" in out


def test_extract_unknown_model_shows_unknown_cost(
    home: ClaudeHome, capsys: pytest.CaptureFixture[str]
) -> None:
    home.session([assistant("msg_1", "req_1", model="claude-mystery-9")])
    assert main(["extract", str(home.root), "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["models"]["claude-mystery-9"]["cost_usd"] is None
    assert "no price for model 'claude-mystery-9'" in captured.err


def test_extract_missing_path_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["extract", str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "missing" in err and "Traceback" not in err


def test_extract_bad_price_file_exits_2(
    home: ClaudeHome, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _demo(home)
    bad = tmp_path / "prices.yaml"
    bad.write_text("models: {x: {input: one}}\n")
    assert main(["extract", str(home.root), "--prices", str(bad)]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and "models.x" in err


class _Terminal(io.StringIO):
    """A stderr that says it is a terminal."""

    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("tty", [True, False])
def test_extract_shows_progress_only_on_a_terminal(
    home: ClaudeHome, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tty: bool
) -> None:
    home.session([assistant("msg_1", "req_1", u=usage(inp=3, out=5))])
    err = _Terminal() if tty else io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    assert main(["extract", "--json", str(home.root)]) == 0
    assert json.loads(capsys.readouterr().out)["totals"]["input_tokens"] == 3  # stdout stays JSON
    assert ("scanning 1/1 files" in err.getvalue()) is tty


# -- orchphase prices -------------------------------------------------------------------------


def test_prices_lists_every_rate_with_its_source_and_date(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["prices"]) == 0
    out = capsys.readouterr().out
    fable = next(line for line in out.splitlines() if line.startswith("claude-fable-5 "))
    assert fable.split()[1:8] == ["10", "50", "12.5", "20", "1", "2026-11-29", fable.split()[7]]
    assert "https://platform.claude.com/docs/en/about-claude/pricing" in fable
    assert "unpriced: claude-fable-5-2:" in out
    # A family meant other models on other days: priced only as a price file says.
    assert "families: none: a call under a family name only (sonnet) has no price" in out


def test_prices_json_carries_source_and_date_of_each_model(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["prices", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    fable = doc["models"]["claude-fable-5-1"]
    assert (fable["input"], fable["cache_read"], fable["read"]) == (10, 0.25, "2026-11-29")
    assert fable["source"].startswith("https://platform.claude.com/")
    assert "claude-mythos-5-2" in doc["unpriced"]
    assert doc["seen"] == {}


def test_prices_flags_a_model_seen_in_transcripts_without_a_price(
    home: ClaudeHome, capsys: pytest.CaptureFixture[str]
) -> None:
    home.session(
        [
            assistant("msg_1", "req_1", model="claude-fable-5-2"),
            assistant("msg_2", "req_2", model="claude-opus-4-7-20260416"),
        ]
    )
    assert main(["prices", "--json", str(home.root)]) == 1
    captured = capsys.readouterr()
    seen = json.loads(captured.out)["seen"]
    assert seen["claude-fable-5-2"] == {"calls": 1, "priced_as": None}
    assert seen["claude-opus-4-7-20260416"]["priced_as"] == "claude-opus-4-7"
    assert "no price for model 'claude-fable-5-2'" in captured.err
    assert "no published price" in captured.err
    assert main(["prices", str(home.root)]) == 1
    assert "NO PRICE" in capsys.readouterr().out


def test_prices_exits_0_when_every_model_seen_is_priced(
    home: ClaudeHome, capsys: pytest.CaptureFixture[str]
) -> None:
    home.session([assistant("msg_1", "req_1", model="claude-fable-5")])
    assert main(["prices", str(home.root)]) == 0
    assert "no price" not in capsys.readouterr().err


def test_extract_marks_placeholder_output_as_a_lower_bound(
    home: ClaudeHome, capsys: pytest.CaptureFixture[str]
) -> None:
    first = assistant("msg_S1", "req_S1", u=usage(inp=5, cw=100, out=1), agent_id="a1")
    home.subagent(
        "a1", [first, assistant("msg_S2", "req_S2", u=usage(inp=6, out=1), agent_id="a1")]
    )
    spawn = assistant("msg_P", "req_P", content=[spawn_block("toolu_T")])
    home.session([spawn, agent_result("toolu_T", "a1", usage(inp=6, out=90))])
    assert main(["extract", str(home.root), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["totals"]["output_tokens"] == 1 + 1 + 90  # the first call's 1 is a placeholder
    assert doc["totals"]["lower_bounds"] == ["output", "total", "usd"]
    (agent,) = doc["agents"]
    assert agent["lower_bounds"] == ["output", "total", "usd"]
    assert main(["extract", str(home.root), "--by", "agent"]) == 0
    out = capsys.readouterr().out
    assert "≥91" in out and "≥: a lower bound: 1 sub-agent call(s) record only a placeholder" in out


def test_extract_marks_every_figure_of_a_sub_agent_known_by_its_last_call_alone(
    home: ClaudeHome, capsys: pytest.CaptureFixture[str]
) -> None:
    """No file holds a call of sub-agent a1 (12 tool uses): its row's every column, and the
    total's, is at least what it shows, in the table and the JSON alike."""
    # A model id: a family name ("sonnet") of a sub-agent known only by its parent's record
    # has no price at all (what it ran on that day is not recorded).
    task = spawn_block("toolu_T", model="claude-sonnet-4-5-20250929")
    spawn = assistant("msg_P", "req_P", u=usage(inp=3, out=5), content=[task])
    home.session([spawn, agent_result("toolu_T", "a1", usage(inp=6, out=90, cw=40, cr=700))])
    assert main(["extract", str(home.root), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    every = ["cache_read", "cache_write", "input", "output", "total", "usd"]
    assert doc["totals"]["lower_bounds"] == every
    assert [a["lower_bounds"] for a in doc["agents"]] == [every]
    assert main(["extract", str(home.root), "--by", "agent"]) == 0
    out = capsys.readouterr().out
    (row,) = [line for line in out.splitlines() if line.startswith("a1 ")]
    assert row.split()[-6:] == ["≥6", "≥90", "≥40", "≥700", "1", row.split()[-1]]
    assert row.split()[-1].startswith("≥")
    assert "1 sub-agent(s) known only by their last call" in out


# -- headless results with several models ----------------------------------------------------

OPUS_USAGE = {
    "inputTokens": 1200,
    "outputTokens": 5400,
    "cacheReadInputTokens": 310000,
    "cacheCreationInputTokens": 42000,
    "webSearchRequests": 0,
    # Claude Code's own figure with every write at the 1-hour rate
    "costUSD": (1200 * 5 + 5400 * 25 + 310000 * 0.5 + 42000 * 10) / 1e6,
}


def _two_models(**overrides: object) -> dict[str, object]:
    run = result_object(**overrides)
    run["modelUsage"] = {**run["modelUsage"], "claude-opus-4-6": OPUS_USAGE}
    return run


def test_two_model_result_without_messages_is_a_cost_lower_bound(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from pytest_orchphase.usage.aggregate import price_calls, total

    path = tmp_path / "run.json"
    path.write_text(json.dumps(_two_models()))
    scan = scan_paths([path])
    totals = total(price_calls(scan, PriceTable.load()))
    # Each model's writes are of unknown lifetime: priced at the 5m rate, never presented exact.
    assert totals.usage().lower_bounds == {"usd"}
    assert totals.cost_usd is not None and totals.cost_usd < 0.03163195 + OPUS_USAGE["costUSD"]
    assert main(["extract", str(path)]) == 0
    captured = capsys.readouterr()
    assert "≥" in captured.out and "cache-write tokens of unknown lifetime" in captured.out


def test_two_model_result_of_a_build_known_to_price_1h_writes_uses_its_cost(
    tmp_path: Path,
) -> None:
    from pytest_orchphase.usage.aggregate import price_calls, total

    init = {"type": "system", "subtype": "init", "claude_code_version": "2.1.207"}
    path = tmp_path / "run.json"
    path.write_text(json.dumps([init, _two_models()]))
    totals = total(price_calls(scan_paths([path]), PriceTable.load()))
    assert totals.usage().lower_bounds == frozenset()
    assert totals.cost_usd == pytest.approx(0.03163195 + OPUS_USAGE["costUSD"])
    old = tmp_path / "old.json"
    old.write_text(json.dumps([{**init, "claude_code_version": "2.1.100"}, _two_models()]))
    assert total(price_calls(scan_paths([old]), PriceTable.load())).usage().lower_bounds == {"usd"}


def test_stream_json_surplus_adds_tokens_but_no_call(tmp_path: Path) -> None:
    from pytest_orchphase.usage.aggregate import price_calls, total

    sid = "e382184a-1111-2222-3333-444455556666"
    first = assistant(
        "msg_1", "req_1", model=HAIKU, session=sid, u=usage(inp=4, cw=9097, cw_1h=9097, out=9)
    )
    first["session_id"] = first.pop("sessionId")
    first["request_id"] = first.pop("requestId")  # the stream-json spelling
    init = {
        "type": "system",
        "subtype": "init",
        "session_id": sid,
        "claude_code_version": "2.1.207",
    }
    path = write_jsonl(tmp_path / "run.ndjson", [init, first, first, result_object()])
    totals = total(price_calls(scan_paths([path]), PriceTable.load()))
    assert totals.calls == 1  # one streamed response; modelUsage's surplus is not a call
    assert (totals.input_tokens, totals.output_tokens) == (10, 2789)
    assert totals.cache_read_input_tokens == 63057


@pytest.mark.parametrize("ended", [True, False], ids=["with-result", "still-running"])
def test_stream_json_placeholder_outputs_are_settled_only_by_its_result(
    tmp_path: Path, ended: bool
) -> None:
    """A stream (2.1.207) writes each message once, with a placeholder output count and no
    stop_reason: the run's ``modelUsage`` makes the sum whole; without it, a lower bound."""
    from pytest_orchphase.usage.aggregate import price_calls, total

    first = assistant(
        "msg_1", "req_1", model=HAIKU, session=RUN, u=usage(inp=4, cw=9097, out=2), final=False
    )
    first["session_id"] = first.pop("sessionId")
    init = {"type": "system", "subtype": "init", "claude_code_version": "2.1.207"}
    lines = [init, first, result_object()] if ended else [init, first]
    totals = total(
        price_calls(scan_paths([write_jsonl(tmp_path / "run.ndjson", lines)]), PriceTable.load())
    )
    assert totals.output_tokens == (2789 if ended else 2)
    assert totals.usage().lower_bounds == (frozenset() if ended else {"output", "total", "usd"})


def test_a_stream_message_whose_cache_split_is_above_its_total_counts_the_split(
    tmp_path: Path,
) -> None:
    """A stream's message (read as a transcript line is) whose ``cache_creation`` split
    (100,000 1-hour writes) is above its ``cache_creation_input_tokens`` (0): its writes are
    the larger figure, priced at the 1-hour rate, never 0."""
    from pytest_orchphase.usage.aggregate import price_calls, total

    u = usage(inp=4, out=2)
    u["cache_creation"] = {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 100_000}
    first = assistant("msg_1", "req_1", model=HAIKU, session=RUN, u=u, final=False)
    first["session_id"] = first.pop("sessionId")
    init = {"type": "system", "subtype": "init", "claude_code_version": "2.1.207"}
    scan = scan_paths([write_jsonl(tmp_path / "run.ndjson", [init, first])])
    totals = total(price_calls(scan, PriceTable.load()))
    assert totals.cache_creation_input_tokens == 100_000
    assert totals.priced_usd >= 100_000 * 2 / 1e6  # Haiku 4.5's 1-hour write rate, $2/M


# -- headless results found where users keep them ---------------------------------------------


def test_a_folder_of_headless_results_is_read_json_ndjson_and_jsonl(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    runs = tmp_path / "runs"
    runs.mkdir()
    (runs / "a.json").write_text(json.dumps(result_object(session_id="s-a")))
    write_jsonl(runs / "b.ndjson", [result_object(session_id="s-b")])
    write_jsonl(runs / "c.jsonl", [result_object(session_id="s-c")])
    (runs / "package.json").write_text('{"name": "not a transcript"}')  # left alone
    scan = scan_paths([runs])
    assert sorted(h.session_id or "" for h in scan.headless) == ["s-a", "s-b", "s-c"]
    assert scan.files == 3
    assert main(["extract", "--json", str(runs)]) == 0
    assert json.loads(capsys.readouterr().out)["totals"]["calls"] == 3


@pytest.mark.parametrize("content", [None, "package.json"])
def test_extract_of_a_folder_without_transcripts_is_an_error_not_a_zero_total(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None
) -> None:
    runs = tmp_path / "runs"
    runs.mkdir()
    if content:
        (runs / content).write_text("{}")
    assert main(["extract", str(runs)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # no $0.0000 total
    assert "no API call found" in captured.err and str(runs) in captured.err
    assert main(["prices", str(runs)]) == 2  # nor "every model seen is priced" for nothing
    assert "no API call found" in capsys.readouterr().err


def test_extract_names_a_symbolic_link_loop(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "loop.jsonl").symlink_to("loop.jsonl")
    assert main(["extract", str(tmp_path / "loop.jsonl")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("orchphase: error: ")
    assert "loop.jsonl: a symbolic link that leads nowhere (a loop or a missing target)" in err


@pytest.mark.parametrize(
    ("entry", "says"),
    [
        ("models: {claude-sonnet-4-5: {input: .inf}}", ".inf is not a finite number"),
        ("models: {claude-sonnet-4-5: {output: Infinity}}", "should be a valid number"),
        ("models: {claude-sonnet-4-5: {cache_read: -1}}", "greater than or equal to 0"),
        ("geo_multipliers: {us: -1.1}", "greater than 0"),
        ("geo_multipliers: {us: 0}", "greater than 0"),
        ("web_search_per_request: .nan", ".nan is not a finite number"),
    ],
)
def test_extract_refuses_a_price_that_is_not_finite_or_negative(
    home: ClaudeHome, tmp_path: Path, capsys: pytest.CaptureFixture[str], entry: str, says: str
) -> None:
    """No $inf, no Infinity in the JSON and no negative cost: the price file is refused."""
    _demo(home)
    bad = tmp_path / "prices.yaml"
    bad.write_text(entry + "\n")
    assert main(["extract", str(home.root), "--json", "--prices", str(bad)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(f"orchphase: error: {bad}:1:") and says in err


def test_extract_on_a_folder_without_transcripts_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Not a $0 total with exit 0: nothing was measured."""
    (tmp_path / "notes.txt").write_text("no transcript here\n")
    assert main(["extract", str(tmp_path)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(f"orchphase: error: {tmp_path}: no transcript file, no API call found")


@pytest.mark.parametrize("command", [["extract"], ["compare"]])
def test_a_closed_pipe_ends_quietly(home: ClaudeHome, tmp_path: Path, command: list[str]) -> None:
    """`orchphase … | head`: the reader is gone before the command writes; no 'Broken pipe'
    error line, the status of a tool ended by SIGPIPE."""
    import shutil
    import subprocess

    from tests.helpers import REPO

    _demo(home)
    shutil.copytree(REPO / "criteria", tmp_path / "criteria")
    shutil.copytree(REPO / "docs/orchestration-data", tmp_path / "docs/orchestration-data")
    args = [*command, str(home.root)] if command == ["extract"] else command
    read, write = os.pipe()
    os.close(read)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "pytest_orchphase.cli", *args],
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            cwd=tmp_path,
            check=False,
        )
    finally:
        os.close(write)
    assert (done.returncode, done.stderr) == (141, "")


def test_ctrl_c_ends_a_command_with_one_line(
    home: ClaudeHome, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import pytest_orchphase.usage.scan

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    _demo(home)
    monkeypatch.setattr(pytest_orchphase.usage.scan, "scan_files", interrupted)
    assert main(["extract", str(home.root)]) == 130
    assert capsys.readouterr() == ("", "orchphase: interrupted\n")

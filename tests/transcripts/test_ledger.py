"""The usage ledger: what a phase's sessions held, kept without content, read back as a usage
source that gives the same calls, agents and prompts' tickets as the raw files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_orchphase.errors import OrchphaseError
from pytest_orchphase.usage.aggregate import price_calls, total
from pytest_orchphase.usage.pricing import PriceTable
from pytest_orchphase.usage.records import Scan, TicketsNamed
from pytest_orchphase.usage.scan import scan_files, scan_paths
from pytest_orchphase.usage.sessions import ticket_named
from pytest_orchphase.usage.sources import registry
from pytest_orchphase.usage.sources.ledger.collect import Collected, merge, new_blocks, render
from tests.helpers import (
    HAIKU,
    REAL_TRANSCRIPTS,
    SESSION,
    ClaudeHome,
    agent_progress,
    agent_result,
    assistant,
    result_object,
    spawn_block,
    usage,
    user,
    write_jsonl,
)

TICKETS = ["R03", "R06"]
SECRETS = (
    "sk-ant-api03-PLANTEDkey0123456789abcdef",
    "ghp_PLANTEDgithubTOKEN0123456789abcdefgh",
    "hunter2PLANTEDpw",
    "MIIEPLANTEDprivateKEYbody",
)
CONTENT = ("PLANTED-PROMPT-TEXT", "PLANTED-TOOL-INPUT", "PLANTED-TOOL-OUTPUT", "PLANTED-FIRST")
KEY_BLOCK = f"-----BEGIN RSA PRIVATE KEY-----\n{SECRETS[3]}\n-----END RSA PRIVATE KEY-----"
URL = f"https://deploy:{SECRETS[2]}@git.example.com/repo.git"


def _ledger(files: list[Path], out: Path, tickets: list[str] = TICKETS) -> Path:
    done = Collected(out=out)
    out.write_bytes(render("m1", "0.1.0", new_blocks(files, tickets, done)))
    return out


def _everything(home: ClaudeHome, tmp_path: Path) -> list[Path]:
    """Sub-agents in each layout, their corrections, a meta.json, a compaction, a first prompt
    naming a ticket, a Task prompt naming one, a headless stream and a headless result."""
    impl = assistant("msg_a1", "req_a1", model=HAIKU, agent_id="a1", u=usage(inp=5, out=3, cw=80))
    review = assistant("msg_a2", "req_a2", agent_id="a2", u=usage(inp=3, out=2, cr=900))
    compact = assistant("msg_c", "req_c", agent_id="acompact-1", u=usage(inp=7, out=70))
    home.subagent("a1", [impl])
    home.subagent("a2", [review])
    home.subagent("acompact-1", [compact])
    home.meta("a2", {"agentType": "reviewer", "description": "Review R06", "toolUseId": "t2"})
    spawns = [
        spawn_block("t1", description="rename the helper", prompt="Work on R03 please"),
        spawn_block("t2", name="Agent", description="Review R06 lifecycle fix"),
    ]
    session = home.session(
        [
            user("Plan R03 and R06"),
            assistant("msg_p", "req_p", u=usage(inp=10, out=120, cw=2000), content=spawns),
            assistant("msg_p", "req_p", u=usage(inp=10, out=500, cw=2000), content=spawns),
            agent_progress(impl, agent_id="a1", parent_tool_use_id="t1"),
            agent_result("t1", "a1", usage(inp=5, out=700, cw=80)),
            agent_result("t2", "a2", usage(inp=3, out=400, cr=900)),
        ]
    )
    init = {
        "type": "system",
        "subtype": "init",
        "session_id": "s-h",
        "claude_code_version": "2.1.9",
    }
    line = assistant("msg_h", "req_h", model=HAIKU, u=usage(inp=4, out=9))
    line["session_id"] = line.pop("sessionId")
    stream = write_jsonl(tmp_path / "runs" / "run.ndjson", [init, line, result_object()])
    single = write_jsonl(tmp_path / "runs" / "one.json", [result_object(session_id="s-j")])
    return registry.expand_paths([session, stream, single])


def _facts(scan: Scan) -> dict[str, object]:
    def prompt(p: str | TicketsNamed | None) -> list[str]:
        return ticket_named(p, TICKETS)  # what attribution reads from it

    calls = sorted(
        (
            c.message_id,
            c.request_id,
            c.model,
            c.session_id,
            c.agent_id,
            c.timestamp,
            c.input_tokens,
            c.output_tokens,
            c.cache_creation_input_tokens,
            c.cache_creation_1h_tokens,
            c.cache_read_input_tokens,
            c.web_search_requests,
            c.speed,
            c.inference_geo,
            c.service_tier,
            c.compaction,
            c.output_exact,
            c.aggregate,
            c.surplus,
            c.reported_cost,
            c.cost_lower_bound != "",
        )
        for c in scan.calls
    )
    agents = {
        k: (
            a.session_id,
            a.tool_use_id,
            a.tool_name,
            a.subagent_type,
            a.description,
            a.status,
            a.requested_model,
            a.tool_use_count,
            a.duration_ms,
            a.last_call_corrected,
        )
        for k, a in scan.agents.items()
    }
    named = {"/".join(k): prompt(a.prompt) for k, a in scan.agents.items()}
    named |= {f"first:{k}": prompt(p) for k, p in scan.first_prompts.items()}
    return {
        "calls": calls,
        "agents": agents,
        "named": named,
        "files": scan.files,
        "malformed": scan.malformed_lines,
        "headless": [(h.session_id, h.total_cost_usd, sorted(h.models)) for h in scan.headless],
    }


def _usd(scan: Scan) -> object:
    return total(price_calls(scan, PriceTable.load())).as_json()


def test_a_ledger_gives_the_same_calls_agents_and_cost_as_the_raw_files(
    home: ClaudeHome, tmp_path: Path
) -> None:
    files = _everything(home, tmp_path)
    raw = scan_files(files)
    ledger = scan_paths([_ledger(files, tmp_path / "usage.jsonl")])
    assert _facts(ledger) == _facts(raw)
    assert _usd(ledger) == _usd(raw)
    assert raw.agent("a1").prompt == "Work on R03 please"
    assert ledger.agent("a1").prompt == TicketsNamed(("R03",), frozenset(TICKETS))
    assert ledger.first_prompts == {SESSION: TicketsNamed(("R03", "R06"), frozenset(TICKETS))}
    assert len(raw.calls) == 7 and len(raw.headless) == 2  # the fixture holds every kind
    first = json.loads((tmp_path / "usage.jsonl").read_text().splitlines()[1])
    assert (first["kind"], first["source"], first["claude_code"]) == (
        "file",
        "claude_code",
        "2.1.39",
    )


def test_a_ledger_holds_no_content_and_no_secret(home: ClaudeHome, tmp_path: Path) -> None:
    secret_text = f"{SECRETS[0]} {SECRETS[1]} {URL} {KEY_BLOCK}"
    task = spawn_block(
        "t1",
        description=f"R03 deploy with {SECRETS[0]} {URL}",
        prompt=f"{CONTENT[0]} R03 {secret_text}",
    )
    tool: dict[str, object] = {"type": "tool_use", "id": "b1", "name": "Bash"}
    tool["input"] = {"command": f"echo {CONTENT[1]} {secret_text}"}
    output = user("")
    output["message"]["content"] = [
        {"type": "tool_result", "tool_use_id": "b1", "content": f"{CONTENT[2]} {secret_text}"}
    ]
    output["toolUseResult"] = {"stdout": f"{CONTENT[2]} {secret_text}", "stderr": ""}
    home.subagent("a1", [assistant("msg_a", "req_a", agent_id="a1", content=[tool])])
    home.meta("a1", {"agentType": "general", "description": f"R03 {SECRETS[1]}"})
    session = home.session(
        [
            user(f"{CONTENT[3]} R03 {secret_text}"),
            assistant("msg_1", "req_1", content=[task, tool]),
            output,
            agent_result("t1", "a1", usage(out=9)),
        ]
    )
    files = registry.expand_paths([session])
    assert any(s in f.read_text() for f in files for s in (*SECRETS, *CONTENT))  # planted
    data = _ledger(files, tmp_path / "usage.jsonl").read_text()
    for planted in (*SECRETS, *CONTENT, "BEGIN RSA", "echo"):
        assert planted not in data
    ledger = scan_paths([tmp_path / "usage.jsonl"])
    masked = "R03 deploy with [secret] https://deploy:[secret]@git.example.com/repo.git"
    assert ledger.agent("a1").description == masked
    assert ledger.agent("a1").prompt == TicketsNamed(("R03",), frozenset(TICKETS))


def test_collecting_again_gives_the_same_bytes_and_merging_counts_no_call_twice(
    home: ClaudeHome, tmp_path: Path
) -> None:
    files = _everything(home, tmp_path)
    first = Collected(out=tmp_path / "x")
    once = new_blocks(files, TICKETS, first)
    again = merge(once, new_blocks(files, TICKETS, Collected(out=tmp_path / "x")), first)
    assert render("m1", "0.1.0", again) == render("m1", "0.1.0", once)
    # The same session grown on another machine: its old and new blocks hold the same calls.
    session = files[0]
    with session.open("a") as fh:
        fh.write(json.dumps(assistant("msg_new", "req_new", u=usage(inp=1, out=1))) + "\n")
    grown = merge(once, new_blocks([session], TICKETS, Collected(out=tmp_path / "x")), first)
    assert len(grown) == len(once) + 1
    path = tmp_path / "merged.jsonl"
    path.write_bytes(render("m1", "0.1.0", grown))
    assert _usd(scan_paths([path])) == _usd(scan_files(files))


def test_a_ledger_record_of_the_wrong_shape_is_counted_and_named(tmp_path: Path) -> None:
    home = ClaudeHome(tmp_path / "home")
    path = _ledger([home.session([assistant("msg_1", "req_1")])], tmp_path / "usage.jsonl")
    lines = path.read_text().splitlines()
    lines.insert(2, '{"kind":"call","message_id":"m","model":"x","output_tokens":-5}')
    lines.insert(3, "{not json")
    path.write_text("\n".join(lines) + "\n")
    scan = scan_paths([path])
    assert [c.message_id for c in scan.calls] == ["msg_1"]
    assert scan.malformed_lines == 2
    expected = "usage.jsonl:3: ledger record: 'output_tokens': expected a count"
    assert any(expected in w for w in scan.warnings)


@pytest.mark.parametrize(
    "record",
    [
        '{"kind":"call","message_id":"m","model":"x","session":7}',
        '{"kind":"call","message_id":"m","model":"x","cache_read_input_tokens":true}',
        '{"kind":"call","message_id":"m","model":"x","speed":1}',
        '{"kind":"call","model":"x"}',
    ],
)
def test_a_call_record_with_one_wrong_field_is_counted_never_half_read(
    tmp_path: Path, record: str
) -> None:
    home = ClaudeHome(tmp_path / "home")
    path = _ledger([home.session([assistant("msg_1", "req_1")])], tmp_path / "usage.jsonl")
    lines = path.read_text().splitlines()
    lines.insert(2, record)
    path.write_text("\n".join(lines) + "\n")
    scan = scan_paths([path])
    assert [c.message_id for c in scan.calls] == ["msg_1"]
    assert scan.malformed_lines == 1
    assert any("usage.jsonl:3: ledger record: '" in w for w in scan.warnings)


@pytest.mark.parametrize("kind", ["spawn_prompt", "_init__", "_class__", "_setattr__"])
def test_a_record_kind_named_like_a_reader_method_is_an_unknown_kind_ignored(
    tmp_path: Path, kind: str
) -> None:
    """The kinds are looked up in a table, not as methods: a kind was once looked up as the
    decoder's attribute "_" + kind, and each of these called a method with the wrong
    arguments (a TypeError traceback)."""
    home = ClaudeHome(tmp_path / "home")
    path = _ledger([home.session([assistant("msg_1", "req_1")])], tmp_path / "usage.jsonl")
    lines = path.read_text().splitlines()
    lines.insert(2, json.dumps({"kind": kind, "session": "s"}))
    path.write_text("\n".join(lines) + "\n")
    scan = scan_paths([path])
    assert [c.message_id for c in scan.calls] == ["msg_1"]
    assert scan.malformed_lines == 0


def test_a_ledger_of_a_later_format_is_unreadable_never_read_as_empty(tmp_path: Path) -> None:
    path = tmp_path / "usage.jsonl"
    path.write_text('{"orchphase_ledger":99,"orchphase":"9.0"}\n{"kind":"file","name":"x"}\n')
    scan = scan_paths([path])
    assert scan.unreadable == [path]
    assert any("ledger format 99; this orchphase reads 1 to 1" in w for w in scan.warnings)


def test_ticket_facts_of_other_tickets_are_an_error_not_no_ticket() -> None:
    named = TicketsNamed(("R03",), frozenset({"R03", "R06"}))
    assert named.among(["R06", "R03"]) == ["R03"]
    with pytest.raises(OrchphaseError, match="collected for tickets R03, R06, not R09"):
        named.among(["R03", "R09"])


WILD = REAL_TRANSCRIPTS / "wild"


@pytest.mark.skipif(not WILD.is_dir(), reason="the real transcripts (../shared) are absent")
def test_the_wild_corpus_round_trips_in_under_five_percent_of_its_bytes(tmp_path: Path) -> None:
    files = registry.expand_paths([WILD])
    done = Collected(out=tmp_path / "usage.jsonl")
    data = render("w", "0.1.0", new_blocks(files, TICKETS, done))
    (tmp_path / "usage.jsonl").write_bytes(data)
    raw, ledger = scan_files(files), scan_paths([tmp_path / "usage.jsonl"])
    assert _facts(ledger) == _facts(raw)
    assert _usd(ledger) == _usd(raw)
    assert len(data) / done.raw_bytes < 0.05
    print(f"wild corpus: ledger {len(data):,} of {done.raw_bytes:,} raw bytes")


def test_collecting_through_the_scan_cache_writes_the_same_ledger(
    home: ClaudeHome, tmp_path: Path
) -> None:
    """The hook collects at every session's end: through the scan cache, a session read
    before is read back (or read on), and the ledger is the same bytes as one collected
    without it, cold, warm and after a session grew."""
    from pytest_orchphase.usage.cache import ScanCache

    files = _everything(home, tmp_path)
    cache = ScanCache(tmp_path / "cache")

    def ledger(through: ScanCache | None) -> bytes:
        return render(
            "m1", "0.1.0", new_blocks(files, TICKETS, Collected(out=tmp_path / "x"), through)
        )

    without = ledger(None)
    assert ledger(cache) == without and any(cache.folder.rglob("entries/*.jsonl"))
    assert ledger(cache) == without
    with files[0].open("a") as fh:
        fh.write(json.dumps(assistant("msg_new", "req_new", u=usage(inp=1, out=1))) + "\n")
    assert ledger(cache) == ledger(None) != without


@pytest.mark.parametrize("duration", [10**18, -1, "600000"])
def test_a_headless_record_of_an_impossible_duration_is_counted_and_named(
    tmp_path: Path, duration: object
) -> None:
    """A duration no run can have taken is refused as the transcript reader refuses it: held
    against the log's stamps it would end the run in a traceback (OverflowError)."""
    home = ClaudeHome(tmp_path / "home")
    path = _ledger([home.session([assistant("msg_1", "req_1")])], tmp_path / "usage.jsonl")
    lines = path.read_text().splitlines()
    lines.insert(2, json.dumps({"kind": "headless", "duration_ms": duration}))
    path.write_text("\n".join(lines) + "\n")
    scan = scan_paths([path])
    assert scan.headless == [] and scan.malformed_lines == 1
    assert any("usage.jsonl:3: ledger record: 'duration_ms'" in w for w in scan.warnings)


@pytest.mark.parametrize(
    "record",
    [
        {"total_cost_usd": float("nan")},
        {"total_cost_usd": float("inf")},
        {"models": {"claude-haiku-4-5": {"input_tokens": 1, "cost_usd": float("nan")}}},
    ],
)
def test_a_headless_record_of_a_cost_no_run_has_is_counted_and_named(
    tmp_path: Path, record: dict[str, object]
) -> None:
    """A ledger is read with Python's JSON, which takes NaN and Infinity: a cost no run has
    is refused as a negative one is (NaN would pass every comparison with the price)."""
    home = ClaudeHome(tmp_path / "home")
    path = _ledger([home.session([assistant("msg_1", "req_1")])], tmp_path / "usage.jsonl")
    lines = path.read_text().splitlines()
    lines.insert(2, json.dumps({"kind": "headless", **record}))
    path.write_text("\n".join(lines) + "\n")
    scan = scan_paths([path])
    assert scan.headless == [] and scan.malformed_lines == 1
    assert any("usage.jsonl:3: ledger record:" in w and "amount in USD" in w for w in scan.warnings)


def test_a_main_response_without_its_final_line_stays_a_lower_bound_in_a_ledger(
    home: ClaudeHome, tmp_path: Path
) -> None:
    """A lead's response whose final line was never written (output_tokens 1): its ledger
    record says so (``placeholder_output``), and the figures read back are lower bounds."""
    placeholder = assistant("msg_m", "req_m", u=usage(inp=3, out=1, cw=900), final=False)
    session = home.session([user("Plan R03"), placeholder])
    ledger = _ledger([session], tmp_path / "usage.jsonl")
    records = [json.loads(line) for line in ledger.read_text().splitlines()]
    (call,) = [r for r in records if r.get("kind") == "call"]
    assert call["placeholder_output"] is True
    scan = scan_paths([ledger])
    assert [(c.output_tokens, c.output_exact) for c in scan.calls] == [(1, False)]
    assert total(price_calls(scan, PriceTable.load())).usage().lower_bounds == {
        "output",
        "total",
        "usd",
    }


def test_a_call_record_whose_1h_writes_are_above_its_cache_writes_counts_the_larger(
    tmp_path: Path,
) -> None:
    """A record whose ``cache_creation_1h_tokens`` (100,000) is above its
    ``cache_creation_input_tokens`` (0) contradicts itself: its cache writes are counted at the
    larger figure, every one of them at the 1-hour rate, never at 0."""
    home = ClaudeHome(tmp_path / "home")
    path = _ledger([home.session([assistant("msg_1", "req_1")])], tmp_path / "usage.jsonl")
    lines = path.read_text().splitlines()
    record = '{"kind":"call","message_id":"m","model":"%s","cache_creation_1h_tokens":100000}'
    lines.insert(2, record % HAIKU)
    path.write_text("\n".join(lines) + "\n")
    scan = scan_paths([path])
    (call,) = [c for c in scan.calls if c.message_id == "m"]
    assert (call.cache_creation_input_tokens, call.cache_creation_1h_tokens) == (100_000, 100_000)
    assert scan.malformed_lines == 0


def test_a_compaction_iteration_is_kept_in_a_ledger(home: ClaudeHome, tmp_path: Path) -> None:
    """A response whose ``usage.iterations`` hold a compaction its top-level usage leaves out:
    the ledger keeps the billed counts (top level or the iterations' sum, the larger), as the
    raw file gives them."""
    u = usage(inp=1_000, out=1_000)
    u["iterations"] = [
        {"type": "compaction", "input_tokens": 180_000, "output_tokens": 3_500},
        {"type": "message", "input_tokens": 1_000, "output_tokens": 1_000},
    ]
    session = home.session([user("Plan R03"), assistant("msg_m", "req_m", u=u)])
    scan = scan_paths([_ledger([session], tmp_path / "usage.jsonl")])
    assert [(c.input_tokens, c.output_tokens) for c in scan.calls] == [(181_000, 4_500)]


def test_a_sub_agent_known_only_by_its_last_call_stays_a_lower_bound_in_a_ledger(
    home: ClaudeHome, tmp_path: Path
) -> None:
    """The parent's toolUseResult (12 tool uses) is the agent's only record: read back from
    the ledger, its figures are lower bounds as from the raw file."""
    spawn = assistant("msg_P", "req_P", u=usage(out=8), content=[spawn_block("t1")])
    session = home.session(
        [user("Plan R03"), spawn, agent_result("t1", "a1", usage(inp=5, out=700, cw=80))]
    )
    scan = scan_paths([_ledger([session], tmp_path / "usage.jsonl")])
    assert [c.earlier_calls_unread for c in scan.calls if c.agent_id == "a1"] == [True]
    assert total(price_calls(scan, PriceTable.load())).usage().lower_bounds == {
        "total",
        "input",
        "output",
        "cache_write",
        "cache_read",
        "usd",
    }

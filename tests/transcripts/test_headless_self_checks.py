"""A headless result's figures checked against each other: the main agent's ``usage`` is part
of ``modelUsage`` (every agent's), and Claude Code's own cost is never above the figure shown
exact."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pytest_orchphase.usage.records import Scan
from pytest_orchphase.usage.scan import scan_paths
from pytest_orchphase.usage.sources.ledger.collect import Collected, new_blocks, render
from tests.helpers import HAIKU, assistant, result_object, usage, write_jsonl

SONNET = "claude-sonnet-4-5-20250929"


def _json(tmp_path: Path, run: dict[str, Any]) -> Path:
    path = tmp_path / "run.json"
    path.write_text(json.dumps(run))
    return path


@pytest.mark.parametrize(
    ("field", "value", "said"),
    [
        ("input_tokens", 500_000, "usage.input_tokens 500,000 above modelUsage's 10"),
        ("output_tokens", 9_000, "usage.output_tokens 9,000 above modelUsage's 2,789"),
        ("cache_read_input_tokens", 70_000, "usage.cache_read_input_tokens 70,000 above"),
        ("cache_creation_input_tokens", 9_098, "usage.cache_creation_input_tokens 9,098 above"),
    ],
)
def test_a_main_agent_count_above_every_agents_is_no_intact_result(
    tmp_path: Path, field: str, value: int, said: str
) -> None:
    run = result_object()
    run["usage"][field] = value
    path = _json(tmp_path, run)
    scan = scan_paths([path])
    assert scan.calls == [] and scan.unreadable == [path]
    assert any(str(path) in w and said in w for w in scan.warnings), scan.warnings


def test_a_main_agent_cache_split_above_every_agents_writes_contradicts_too(
    tmp_path: Path,
) -> None:
    run = result_object()
    run["usage"]["cache_creation"]["ephemeral_5m_input_tokens"] = 50_000
    scan = scan_paths([_json(tmp_path, run)])
    assert scan.calls == []
    assert any(
        "cache_creation_input_tokens 59,097 above modelUsage's 9,097" in w for w in scan.warnings
    )


def _compacted(run: dict[str, Any], inp: int = 10, out: int = 2_789) -> dict[str, Any]:
    """``run`` whose main agent's last request compacted (180,000 input, 3,500 output) before
    its message (``inp``, ``out``): the top-level usage leaves the compaction out."""
    compaction = {"type": "compaction", "input_tokens": 180_000, "output_tokens": 3_500}
    message = {"type": "message", "input_tokens": inp, "output_tokens": out}
    run["usage"]["iterations"] = [compaction, message]
    return run


def _figures(scan: Scan, model: str = HAIKU) -> tuple[int, int]:
    calls = [c for c in scan.calls if c.model == model]
    return sum(c.input_tokens for c in calls), sum(c.output_tokens for c in calls)


def test_a_main_agent_compaction_beyond_every_agents_is_counted_on_top(tmp_path: Path) -> None:
    """Claude Code sums ``modelUsage`` from each response's top-level usage, which leaves a
    compaction's sampling out: the compaction the main agent's ``usage.iterations`` hold
    (180,000 input, 3,500 output) is counted on top of ``modelUsage`` (10 input, 2,789 output),
    not the whole result refused as contradicting itself."""
    scan = scan_paths([_json(tmp_path, _compacted(result_object()))])
    assert (scan.malformed_lines, scan.lost_usage_lines) == (0, 0), scan.warnings
    assert _figures(scan) == (180_010, 6_289)


def test_a_compaction_is_counted_however_large_the_runs_top_level_sum(tmp_path: Path) -> None:
    """A result's top-level usage sums every request of the main agent, its iterations are its
    last request's (the real 2.1.207 results): a compaction below that sum is still billed, not
    taken as held by it (the larger of the two would drop it)."""
    run = result_object()
    run["usage"]["input_tokens"] = run["modelUsage"][HAIKU]["inputTokens"] = 500_000
    scan = scan_paths([_json(tmp_path, _compacted(run))])
    assert _figures(scan) == (680_000, 6_289)


def test_a_compaction_is_counted_on_the_main_agents_model_its_init_line_names(
    tmp_path: Path,
) -> None:
    """Not on the first model ``modelUsage`` lists (a sub-agent's cheaper Haiku): the
    compaction is the main agent's sampling, on its model."""
    run = result_object()
    figures = run["modelUsage"][HAIKU]
    run["modelUsage"] = {HAIKU: {**figures, "inputTokens": 5}, SONNET: figures}
    init = {"type": "system", "subtype": "init", "session_id": run["session_id"], "model": SONNET}
    scan = scan_paths([write_jsonl(tmp_path / "run.ndjson", [init, _compacted(run)])])
    assert (_figures(scan, HAIKU), _figures(scan, SONNET)) == ((5, 2_789), (180_010, 6_289))


def test_a_compaction_a_streams_message_holds_is_not_counted_twice(tmp_path: Path) -> None:
    """The stream's message of the compacting request holds the compaction in its own
    iterations: the result fills in only what the messages are short of."""
    u = usage(inp=10, cr=63057, cw=9097, out=2_789)
    u["iterations"] = _compacted(result_object())["usage"]["iterations"]
    run = _compacted(result_object())
    message = {**assistant("msg_1", "req_1", model=HAIKU, u=u), "sessionId": run["session_id"]}
    scan = scan_paths([write_jsonl(tmp_path / "run.jsonl", [message, run])])
    assert not any("modelUsage reports more" in w for w in scan.warnings), scan.warnings
    assert _figures(scan) == (180_010, 6_289)


def test_a_stream_whose_result_contradicts_itself_leaves_its_figures_lower_bounds(
    tmp_path: Path,
) -> None:
    run = result_object()
    run["usage"]["output_tokens"] = 9_000
    message = assistant("msg_1", "req_1", model=HAIKU, u=usage(inp=10, cr=63057, cw=9097, out=1))
    scan = scan_paths([write_jsonl(tmp_path / "run.jsonl", [message, run])])
    assert [c.message_id for c in scan.calls] == ["msg_1"]  # the result's surplus is not taken
    assert scan.lost_usage_lines == 1  # … and not dropped in silence: every figure is a bound


def test_a_main_agent_within_the_sum_of_several_models_is_honest(tmp_path: Path) -> None:
    run = result_object()
    run["usage"]["input_tokens"] = 15  # above Haiku's 10, within Haiku's and Sonnet's 20
    run["modelUsage"][SONNET] = {"inputTokens": 10, "outputTokens": 0}
    scan = scan_paths([_json(tmp_path, run)])
    assert sorted(c.model for c in scan.calls) == sorted([HAIKU, SONNET])
    assert scan.malformed_lines == 0


def test_sub_agents_above_the_main_agent_are_honest(tmp_path: Path) -> None:
    run = result_object()
    run["modelUsage"][HAIKU]["inputTokens"] = 5_000  # sub-agents' input beside the main's 10
    (call,) = scan_paths([_json(tmp_path, run)]).calls
    assert call.input_tokens == 5_000


# -- Claude Code's own cost of a run --------------------------------------------------------


def _priced(path: Path) -> Any:
    from pytest_orchphase.usage.aggregate import by_model, price_calls, total
    from pytest_orchphase.usage.pricing import PriceTable

    costed = price_calls(scan_paths([path]), PriceTable.load())
    return total(costed).usage(), by_model(costed)


PRICED = (10 * 1 + 2789 * 5 + 63057 * 0.10 + 9097 * 2) / 1e6  # result_object()'s Haiku, $0.0385


def test_a_total_cost_above_the_priced_tokens_makes_the_cost_a_lower_bound(tmp_path: Path) -> None:
    path = _json(tmp_path, result_object(total_cost_usd=5.0))  # costUSD still the low 0.0316
    found, _ = _priced(path)
    assert found.usd == pytest.approx(PRICED) and found.lower_bounds == {"usd"}
    assert f"{path}: Claude Code says it cost $5.0000 (total_cost_usd)" in found.lower_bound_note


def test_one_models_cost_above_its_priced_tokens_bounds_that_model_alone(tmp_path: Path) -> None:
    run = result_object(total_cost_usd=None)
    run["modelUsage"][SONNET] = {"inputTokens": 1_000, "outputTokens": 0, "costUSD": 0.003}
    run["modelUsage"][HAIKU]["costUSD"] = 5.0
    found, models = _priced(_json(tmp_path, run))
    assert found.lower_bounds == {"usd"}
    assert f"its {HAIKU} calls cost $5.0000 (costUSD)" in found.lower_bound_note
    assert f"{HAIKU} calls" in "; ".join(models[HAIKU].cost_lower_bound)
    assert not any("costUSD" in why for why in models[SONNET].cost_lower_bound)


def test_a_stream_whose_cost_is_above_its_priced_messages_is_a_lower_bound(
    tmp_path: Path,
) -> None:
    sid = "e382184a-1111-2222-3333-444455556666"
    message = assistant("msg_1", "req_1", model=HAIKU, u=usage(inp=10, cr=63057, cw=9097, out=1))
    message["session_id"] = message.pop("sessionId")
    init = {"type": "system", "subtype": "init", "session_id": sid}
    run = result_object(total_cost_usd=5.0)
    found, _ = _priced(write_jsonl(tmp_path / "run.ndjson", [init, message, run]))
    assert found.lower_bounds == {"usd"} and "(total_cost_usd)" in found.lower_bound_note


def test_a_trusted_builds_cost_above_the_table_is_no_exact_figure_below_it(
    tmp_path: Path,
) -> None:
    init = {"type": "system", "subtype": "init", "claude_code_version": "2.1.207"}
    run = result_object(total_cost_usd=5.0)
    run["modelUsage"][HAIKU]["costUSD"] = 5.0
    path = tmp_path / "run.json"
    path.write_text(json.dumps([init, run]))
    found, _ = _priced(path)
    assert found.lower_bounds == {"usd"} and found.usd is not None and found.usd < 5.0


@pytest.mark.parametrize("reported", [0.03163195, PRICED])
def test_a_cost_claude_code_puts_at_or_below_the_price_keeps_it_exact(
    tmp_path: Path, reported: float
) -> None:
    """Older builds price 1-hour writes at the 5-minute rate (0.0316 for 0.0385): the table's
    price is the bill; so is one Claude Code equals."""
    run = result_object(total_cost_usd=reported)
    run["modelUsage"][HAIKU]["costUSD"] = reported
    found, _ = _priced(_json(tmp_path, run))
    assert found.usd == pytest.approx(PRICED) and found.lower_bounds == frozenset()


@pytest.mark.parametrize("model_cost", [True, False])
def test_a_cost_claude_code_puts_within_half_a_cent_above_the_price_is_the_figure(
    tmp_path: Path, model_cost: bool
) -> None:
    """Within half a cent the two are one price, rounded apart: the larger is the figure, so
    runs each a little above their price never sum to less than Claude Code says they cost."""
    paths = []
    for i in range(3):
        run = result_object(session_id=f"run-{i}", total_cost_usd=PRICED + 0.0048)
        if model_cost:
            run["modelUsage"][HAIKU]["costUSD"] = PRICED + 0.0048
        else:
            del run["modelUsage"][HAIKU]["costUSD"]
        paths.append(tmp_path / f"r{i}.json")
        paths[-1].write_text(json.dumps(run))
    from pytest_orchphase.usage.aggregate import by_session, price_calls, total
    from pytest_orchphase.usage.pricing import PriceTable

    costed = price_calls(scan_paths(paths), PriceTable.load())
    found = total(costed).usage()
    assert found.usd == pytest.approx(3 * (PRICED + 0.0048)) and found.lower_bounds == frozenset()
    assert by_session(costed)["run-1"].cost_usd == pytest.approx(PRICED + 0.0048)


def _resumed_stream(tmp_path: Path, above: float, runs: int = 2) -> Path:
    """A stream of ``runs`` runs of one session (``--resume`` appends), each of one message
    priced ``PRICED``, each saying it cost ``above`` more."""
    sid = "e382184a-1111-2222-3333-444455556666"
    lines: list[Any] = [{"type": "system", "subtype": "init", "session_id": sid}]
    for i in range(runs):
        u = usage(inp=10, cr=63057, cw=9097, cw_1h=9097, out=2789)
        message = assistant(f"msg_{i}", f"req_{i}", model=HAIKU, u=u)
        del message["sessionId"]
        message["session_id"] = sid
        run = result_object(total_cost_usd=PRICED + above, duration_ms=40_000 + i)
        run["modelUsage"][HAIKU]["costUSD"] = PRICED + above
        lines += [message, run]
    return write_jsonl(tmp_path / "runs.ndjson", lines)


def test_runs_whose_calls_cannot_be_told_apart_are_held_to_their_costs_summed(
    tmp_path: Path,
) -> None:
    """Two runs of one session in one stream: each run's cost is compared with the calls of
    both (they cannot be told apart), so neither was ever above them; summed, they are: the
    half-cent slack is spent once for the pool, and $0.008 above is a lower bound."""
    found, _ = _priced(_resumed_stream(tmp_path, 0.004))
    assert found.usd == pytest.approx(2 * PRICED) and found.lower_bounds == {"usd"}
    assert "2 runs' claude-haiku-4-5-20251001 calls cost $0.0849 (costUSD)" in (
        found.lower_bound_note
    )
    found, _ = _priced(_resumed_stream(tmp_path, 0.002))
    assert found.usd == pytest.approx(2 * PRICED + 0.004) and found.lower_bounds == frozenset()


def test_a_result_read_from_two_copies_is_one_run_compared(tmp_path: Path) -> None:
    run = result_object(total_cost_usd=PRICED + 0.004)
    for name in ("a.json", "b.json"):
        (tmp_path / name).write_text(json.dumps(run))
    from pytest_orchphase.usage.aggregate import price_calls, total
    from pytest_orchphase.usage.pricing import PriceTable

    scan = scan_paths([tmp_path / "a.json", tmp_path / "b.json"])
    found = total(price_calls(scan, PriceTable.load())).usage()
    assert found.usd == pytest.approx(PRICED + 0.004) and found.lower_bounds == frozenset()


def test_a_ledger_of_a_run_claude_code_costs_above_its_price_keeps_the_bound(
    tmp_path: Path,
) -> None:
    """A CI runner measures from a usage ledger: the run's own cost travels with it."""
    from pytest_orchphase.usage.sources.ledger.collect import Collected, new_blocks, render

    path = _json(tmp_path, result_object(total_cost_usd=5.0))
    ledger = tmp_path / "usage.jsonl"
    ledger.write_bytes(render("m1", "0.1.0", new_blocks([path], ["R01"], Collected(out=ledger))))
    found, _ = _priced(ledger)
    assert found.usd == pytest.approx(PRICED) and found.lower_bounds == {"usd"}
    assert "(total_cost_usd)" in found.lower_bound_note


# -- web searches ---------------------------------------------------------------------------


def test_the_main_agents_web_searches_missing_from_model_usage_are_counted(
    tmp_path: Path,
) -> None:
    """Builds leave the main agent's searches out of ``modelUsage``: the larger count is the
    run's, added to the first model it lists ($0.01 each whatever the model)."""
    run = result_object()
    run["usage"]["server_tool_use"] = {"web_search_requests": 50, "web_fetch_requests": 3}
    run["modelUsage"][SONNET] = {"inputTokens": 10, "webSearchRequests": 20}
    found, models = _priced(_json(tmp_path, run))
    haiku = 0.03163195  # two models: the writes' lifetimes unknown, priced at the 5m rate
    assert found.usd == pytest.approx(haiku + 10 * 3 / 1e6 + 0.50)
    assert models[HAIKU].cost_usd == pytest.approx(haiku + 0.30)


def test_web_searches_model_usage_counts_above_the_main_agents_stand(tmp_path: Path) -> None:
    run = result_object()
    run["usage"]["server_tool_use"] = {"web_search_requests": 5}
    run["modelUsage"][HAIKU]["webSearchRequests"] = 7  # sub-agents searched too
    found, _ = _priced(_json(tmp_path, run))
    assert found.usd == pytest.approx(PRICED + 0.07)


def test_a_streams_web_searches_are_counted_at_the_larger_of_messages_and_result(
    tmp_path: Path,
) -> None:
    sid = "e382184a-1111-2222-3333-444455556666"
    u = usage(inp=10, cr=63057, cw=9097, cw_1h=9097, out=2789)
    u["server_tool_use"] = {"web_search_requests": 2}
    message = assistant("msg_1", "req_1", model=HAIKU, u=u)
    del message["sessionId"]
    message["session_id"] = sid
    run = result_object()
    run["usage"]["server_tool_use"] = {"web_search_requests": 50}
    found, _ = _priced(write_jsonl(tmp_path / "run.ndjson", [message, run]))
    assert found.usd == pytest.approx(PRICED + 0.50)


def test_a_server_tool_use_that_is_no_object_is_a_malformed_result(tmp_path: Path) -> None:
    run = result_object()
    run["usage"]["server_tool_use"] = 50
    path = _json(tmp_path, run)
    scan = scan_paths([path])
    assert scan.calls == [] and scan.unreadable == [path]


# -- Claude Code's cost: figures no run has -----------------------------------------------


@pytest.mark.parametrize("where", ["total_cost_usd", "costUSD"])
def test_a_negative_cost_is_no_figure(tmp_path: Path, where: str) -> None:
    """A negative cost is a corrupt result, said so: taken (a trusted build's), it would be a
    figure below the bill. (A non-finite one is no JSON the reader takes.)"""
    run = result_object()
    if where == "costUSD":
        run["modelUsage"][HAIKU]["costUSD"] = -0.5
    else:
        run["total_cost_usd"] = -0.5
    path = _json(tmp_path, run)
    scan = scan_paths([path])
    assert scan.calls == [] and scan.unreadable == [path]
    said = [w for w in scan.warnings if str(path) in w and "expected an amount in USD" in w]
    assert said and where in said[0], scan.warnings


@pytest.mark.parametrize("value", ["true", 1, None])
def test_an_is_error_that_is_not_a_boolean_is_no_figure(tmp_path: Path, value: object) -> None:
    """Read as false, ``"is_error": "true"`` would take a run that ended in error for one that
    finished its ticket (the ledger refuses the same flag): a corrupt result, said so."""
    path = _json(tmp_path, result_object(is_error=value))
    scan = scan_paths([path])
    assert scan.headless == [] and scan.unreadable == [path]
    assert any(str(path) in w and "is_error" in w and "true or false" in w for w in scan.warnings)


def test_a_run_that_says_no_cost_leaves_the_others_of_its_pool_compared(tmp_path: Path) -> None:
    """A run of the pool without ``total_cost_usd``: what the others say is at most what all
    cost, so a price below it is still a lower bound."""
    path = _resumed_stream(tmp_path, 0.004)
    lines = path.read_text().splitlines()
    last = json.loads(lines[-1])
    del last["total_cost_usd"], last["modelUsage"][HAIKU]["costUSD"]
    first = json.loads(lines[2])
    first["total_cost_usd"] = first["modelUsage"][HAIKU]["costUSD"] = 3 * PRICED
    path.write_text("\n".join([*lines[:2], json.dumps(first), *lines[3:-1], json.dumps(last)]))
    found, _ = _priced(path)
    assert found.usd == pytest.approx(2 * PRICED) and found.lower_bounds == {"usd"}


# -- runs of one session in files of their own ------------------------------------------------


def test_resumed_runs_of_one_session_in_files_of_their_own_are_each_counted(
    tmp_path: Path,
) -> None:
    """`claude -p --resume SID --output-format json > run2.json` keeps the session id: the
    second run's result is no transcript of the first's, nor the first's of it, so each adds
    its own tokens (its modelUsage covers its own process)."""
    for i in range(2):
        run = result_object(duration_ms=40_000 + i)
        (tmp_path / f"run{i}.json").write_text(json.dumps(run))
    found, _ = _priced(tmp_path)
    assert found.input == 20 and found.cache_read == 2 * 63057
    assert found.usd == pytest.approx(2 * PRICED) and found.lower_bounds == frozenset()


def test_a_result_read_from_two_copies_is_counted_once(tmp_path: Path) -> None:
    run = result_object()
    for name in ("run.json", "copy.json"):
        (tmp_path / name).write_text(json.dumps(run))
    found, _ = _priced(tmp_path)
    assert found.input == 10 and found.usd == pytest.approx(PRICED)


def test_a_compaction_on_a_model_guessed_among_several_is_priced_as_a_lower_bound(
    tmp_path: Path,
) -> None:
    """No ``init`` line names the main agent's model: the compaction goes on the first model
    ``modelUsage`` lists, and its price says it may be low (another listed may cost more),
    in a usage ledger too."""
    run = result_object()
    figures = run["modelUsage"][HAIKU]
    run["modelUsage"] = {HAIKU: figures, SONNET: figures}
    path = _json(tmp_path, _compacted(run))
    ledger = tmp_path / "usage.jsonl"
    ledger.write_bytes(render("m1", "0.1.0", new_blocks([path], [], Collected(out=ledger))))
    for scan in (scan_paths([path]), scan_paths([ledger])):
        assert _figures(scan, HAIKU) == (180_010, 6_289)
        (call,) = [c for c in scan.calls if c.model == HAIKU]
        assert "compaction beyond modelUsage priced at" in call.cost_lower_bound
        (other,) = [c for c in scan.calls if c.model == SONNET]
        assert "compaction beyond modelUsage" not in other.cost_lower_bound


def test_a_compaction_on_the_only_model_listed_is_no_guess(tmp_path: Path) -> None:
    scan = scan_paths([_json(tmp_path, _compacted(result_object()))])
    assert [c.cost_lower_bound for c in scan.calls] == [""]  # its 1h split known: exact

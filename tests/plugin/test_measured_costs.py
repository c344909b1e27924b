"""A measured phase's cost is never taken low: every token a transcript line records counts (a
cache-write split above its total, a compaction iteration its top-level usage leaves out); a
price file's rates apply to every name of their model (an entry under the alias prices the dated
calls; two prices of one model, or a rate given as `true`, are errors naming the file and the
field); a sub-agent known only by its last call is a lower bound."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import (
    Phase,
    YamlData,
    agent_result,
    assistant,
    decision,
    flat_ticket,
    run_phase,
    spawn_block,
    usage,
    user,
    write_yaml,
)

SONNET = "claude-sonnet-4-5-20250929"


def _planning_cost(pytester: pytest.Pytester, lines: list[YamlData], max_usd: float) -> None:
    """Phase m1 (one ticket, R01, from the log), measured from its transcripts/ folder: a lead
    session of these assistant ``lines`` after its prompt, under ``shared_planning_tokens`` in
    USD at most ``max_usd``."""
    criterion = {
        "id": "planning-cost",
        "metric": "shared_planning_tokens",
        "measure": "usd",
        "max": max_usd,
    }
    planning = {"model": "sonnet", "estimated_tokens": 20_000}
    phase = Phase.of("m1", [criterion], {"R01": flat_ticket()}, planning=planning)
    phase.write(pytester.path)
    phase.transcripts(pytester.path).session([user("Plan this batch"), *lines])


def _not_yes(pytester: pytest.Pytester, result: pytest.RunResult) -> None:
    """The run did not exit 0, and its report (when one was written: a fix may refuse the data
    as an error instead) does not say YES."""
    assert result.ret != 0, result.stdout.str()
    if (pytester.path / "r.json").exists():
        assert decision(pytester) != "YES", result.stdout.str()


def _one_sonnet_call(u: dict[str, Any], model: str = SONNET) -> list[YamlData]:
    return [assistant("msg_1", "req_1", model=model, u=u)]


def test_a_cache_write_split_above_its_total_is_not_counted_at_the_total(
    pytester: pytest.Pytester,
) -> None:
    """A line whose cache_creation split (100,000 1-hour write tokens) is above its
    cache_creation_input_tokens (0) contradicts itself: counted at the larger figure, the
    split at its rates ($0.618, not $0.018), so the $0.10 cap fails."""
    u = usage(inp=1_000, out=1_000)  # cache_creation_input_tokens 0
    u["cache_creation"] = {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 100_000}
    _planning_cost(pytester, _one_sonnet_call(u), 0.10)
    result = run_phase(pytester, "m1")
    _not_yes(pytester, result)
    assert decision(pytester) == "NO", result.stdout.str()
    result.stdout.fnmatch_lines(["*0.618*"])


def test_a_compaction_iteration_of_a_response_is_counted(pytester: pytest.Pytester) -> None:
    """A response whose usage.iterations holds a compaction iteration (180,000 input, 3,500
    output) that its top-level usage leaves out (the API's top-level usage is the last
    sampling; the bill holds the compaction too): each count is the larger of the top-level
    one and its sum over the iterations, $0.6105, so the $0.10 cap fails."""
    u = usage(inp=1_000, out=1_000)
    u["iterations"] = [
        {
            "type": "compaction",
            "input_tokens": 180_000,
            "output_tokens": 3_500,
            "cache_read_input_tokens": 0,
            "cache_creation_input_tokens": 0,
        },
        {
            "type": "message",
            "input_tokens": 1_000,
            "output_tokens": 1_000,
            "cache_read_input_tokens": 0,
            "cache_creation_input_tokens": 0,
        },
    ]
    _planning_cost(pytester, _one_sonnet_call(u), 0.10)
    result = run_phase(pytester, "m1")
    _not_yes(pytester, result)
    assert decision(pytester) == "NO", result.stdout.str()
    result.stdout.fnmatch_lines(["*0.6105*"])


def test_a_price_file_entry_under_a_models_alias_prices_its_dated_calls(
    pytester: pytest.Pytester,
) -> None:
    rates = {"input": 30, "output": 150, "cache_write_5m": 37.5, "cache_write_1h": 60}
    write_yaml(
        pytester.path / "prices.yaml",
        {"models": {"claude-sonnet-4-5": {**rates, "cache_read": 3}}},
    )
    _planning_cost(pytester, _one_sonnet_call(usage(inp=1_000, out=1_000)), 0.10)
    _not_yes(pytester, run_phase(pytester, "m1", "--orchphase-prices", "prices.yaml"))


def test_a_price_file_pricing_an_alias_and_its_model_apart_is_an_error(
    pytester: pytest.Pytester,
) -> None:
    """The sibling: one file, two prices of one model (under its alias and its dated id)."""
    rates = {"input": 30, "output": 150, "cache_write_5m": 37.5, "cache_write_1h": 60}
    shipped = {"input": 3, "output": 15, "cache_write_5m": 3.75, "cache_write_1h": 6}
    models = {
        SONNET: {**shipped, "cache_read": 0.3},
        "claude-sonnet-4-5": {**rates, "cache_read": 3},
    }
    write_yaml(pytester.path / "prices.yaml", {"models": models})
    _planning_cost(pytester, _one_sonnet_call(usage(inp=1_000, out=1_000)), 0.10)
    result = run_phase(pytester, "m1", "--orchphase-prices", "prices.yaml")
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str()
    result.stderr.fnmatch_lines([f"*prices.yaml*models.{SONNET} and models.claude-sonnet-4-5 *"])


def test_a_price_file_rate_given_as_true_is_an_error(pytester: pytest.Pytester) -> None:
    rates = {"input": 3, "output": True, "cache_write_5m": 3.75, "cache_write_1h": 6}
    write_yaml(pytester.path / "prices.yaml", {"models": {SONNET: {**rates, "cache_read": 0.3}}})
    _planning_cost(pytester, _one_sonnet_call(usage(inp=1_000, out=1_000)), 0.10)
    result = run_phase(pytester, "m1", "--orchphase-prices", "prices.yaml")
    assert result.ret != 0, result.stdout.str()
    result.stderr.fnmatch_lines(["*prices.yaml*models.claude-sonnet-4-5-20250929.output*"])


def _sub_agent_phase(
    pytester: pytest.Pytester, criterion: YamlData, model: str | None, tool_uses: int = 12
) -> None:
    """Phase m1: one ticket R01 (its implementation only, no tokens in the log), which a sub-agent
    of the lead did (Task "R01: implement the parser", asked ``model``); no file holds its
    calls, only the parent's toolUseResult (``tool_uses`` tool uses, the last call's usage:
    12,000 tokens on Sonnet 4.5's rates $0.078, on Sonnet 5.5's $0.052). With tool uses, the
    agent made earlier calls than that last one, and its figures are lower bounds; with none,
    that call is all it made."""
    ticket = {
        "execution_model": "sonnet",
        "fix_loops": 0,
        "implementation": {"model": "sonnet", "status": "completed"},
    }
    planning = {"model": "sonnet", "estimated_tokens": 1_000}
    phase = Phase.of("m1", [criterion], {"R01": ticket}, planning=planning)
    phase.write(pytester.path)
    spawn = spawn_block("toolu_1", description="R01: implement the parser", model=model)
    u = usage(inp=1_000, out=1_000, cw=10_000, cw_1h=10_000)
    result = agent_result("toolu_1", "a1b2c3d", u, tool_uses=tool_uses)
    phase.transcripts(pytester.path).session(
        [
            user("Plan this batch"),
            assistant("msg_1", "req_1", model=SONNET, u=usage(inp=10, out=10), content=[spawn]),
            result,
        ]
    )


def test_a_sub_agent_known_only_by_its_last_call_is_a_lower_bound(
    pytester: pytest.Pytester,
) -> None:
    """A sub-agent whose calls no file holds is counted as its last call alone (12,000
    tokens), though its toolUseResult records 12 tool uses, so earlier calls were made: the
    ticket's tokens are at least 12,000, a lower bound that proves no max."""
    cap = {"id": "cap", "for_each": "ticket", "metric": "tokens", "measure": "total", "max": 15_000}
    _sub_agent_phase(pytester, cap, SONNET)
    result = run_phase(pytester, "m1")
    _not_yes(pytester, result)
    assert decision(pytester) == "NO", result.stdout.str()
    result.stdout.fnmatch_lines(["*at least 12,000*lower bound cannot prove max*"])

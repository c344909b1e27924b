"""Calls whose rate depends on something the data does not say (the day it was made, the
long-context tier of each request summed into a headless result): their cost is a bound, never
shown exact, and a cost criterion decides on it only what a bound can prove. A call on a cloud
platform's id (a Bedrock geographic or GovCloud profile, an inference-profile ARN, Vertex AI)
or on a model named by its family alone has no price the data gives: its cost is unknown, and
Claude Code's own costUSD of it is not taken.

The first two tests are the third adversarial round's repros (branch yes-hunt3,
tests/yes_hunt3/test_wrong_yes.py), kept as they were written."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pytest_orchphase.families import family
from tests.helpers import HAIKU, Phase, assert_not_yes, result_object, run_phase, usage, write_jsonl
from tests.plugin.test_measured_costs import (
    SONNET,
    _not_yes,
    _one_sonnet_call,
    _planning_cost,
    _sub_agent_phase,
)

HAIKU_5_5 = "claude-haiku-5-5"  # long-context tier above 100,000 prompt tokens, at 5x the rates
SONNET_5_5 = "claude-sonnet-5-5"  # cache reads $0.20/M before 2026-10-07, $0.10/M since
INIT_2_1_207 = {"type": "system", "subtype": "init", "claude_code_version": "2.1.207"}


def _headless(
    model: str, *, turns: int, cache_read: int, output: int, cost: float
) -> dict[str, object]:
    """A `claude -p --output-format json` result of one model: 10 input tokens, no cache
    writes, ``cache_read`` and ``output`` tokens, Claude Code's own ``cost``."""
    return result_object(
        num_turns=turns,
        total_cost_usd=cost,
        usage={
            "input_tokens": 10,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": cache_read,
            "output_tokens": output,
            "cache_creation": {"ephemeral_1h_input_tokens": 0, "ephemeral_5m_input_tokens": 0},
        },
        modelUsage={
            model: {
                "inputTokens": 10,
                "outputTokens": output,
                "cacheReadInputTokens": cache_read,
                "cacheCreationInputTokens": 0,
                "webSearchRequests": 0,
                "costUSD": cost,
                "contextWindow": 1_000_000,
            }
        },
    )


def _long_context_result(
    model: str = HAIKU_5_5, cost: float = 0.125, cache_read: int = 1_500_000
) -> dict[str, object]:
    """A `claude -p --output-format json` run of 12 turns on Haiku 5.5 that read 1.5M cache
    tokens (125k per request on average: above the model's 100k long-context threshold).
    Claude Code's own costUSD prices them at the long-context rates: 1.5M x $0.05/M + 20k x
    $2.50/M = $0.125; at the base rates it would be $0.025."""
    return _headless(model, turns=12, cache_read=cache_read, output=20_000, cost=cost)


def _sonnet_result(cache_read: int = 90_000, cost: float = 0.03802) -> dict[str, object]:
    """A headless json run on Sonnet 5.5 (no date anywhere in it): 90k cache reads + 2k output
    cost $0.029 at today's rates, $0.038 before 2026-10-07."""
    return _headless(SONNET_5_5, turns=3, cache_read=cache_read, output=2_000, cost=cost)


def _run(
    pytester: pytest.Pytester,
    name: str,
    run: object,
    limit: dict[str, str],
    *,
    model: str = "haiku",
    tokens: int = 1_520_010,
    extra: tuple[str, ...] = (),
) -> tuple[pytest.RunResult, dict[str, Any]]:
    """Phase ``name``: one ticket measured from one headless result (``run``, written as
    r01.json), one criterion on its cost in USD."""
    phase = Phase.of(
        name,
        [{"id": "ticket-cost", "for_each": "ticket", "metric": "tokens", "measure": "usd"} | limit],
        {"R01": {"execution_model": model, "actual_tokens": tokens, "fix_loops": 0}},
        metadata={
            "phase": name.upper(),
            "tickets": ["R01"],
            "sessions": [{"path": "r01.json", "ticket": "R01"}],
        },
    )
    folder = phase.write(pytester.path)
    (folder / "r01.json").write_text(json.dumps(run))
    result = pytester.runpytest(
        "--phase", name, "--orchphase-json", "r.json", "-p", "no:randomly", *extra
    )
    return result, json.loads((pytester.path / "r.json").read_text())


def _answer(report: dict[str, Any]) -> str:
    return str(report["decisions"]["proceed"]["answer"])


def _entry(report: dict[str, Any]) -> dict[str, Any]:
    """The report's entry of the cost criterion (its one ticket)."""
    (entry,) = [e for e in report["criteria"] if e["id"] == "ticket-cost"]
    return dict(entry)


# -- the repros ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "cost", "cap"),
    [
        # a published long-context tier (above 100k prompt tokens, 5x)
        (HAIKU_5_5, 0.125, "$0.05"),
        # the sibling: a tier whose rates are published nowhere read (the shipped table's
        # `unknown_long_context`, above 200k before 2026-03-13); a headless json result has no
        # date, and a call of unknown date in the tier's range is flagged, but not a sum
        ("claude-sonnet-4-6", 1.5, "$1"),
    ],
)
def test_a_headless_sum_over_a_long_context_threshold_is_no_exact_cost(
    pytester: pytest.Pytester, model: str, cost: float, cap: str
) -> None:
    """A headless json result is one aggregate call per model, priced at the base rates (no
    per-request tier applies to a sum). When the sum's prompt tokens pass the model's
    long-context threshold, some request may have been billed at the long-context rates: the
    cost is then at least the base-rate figure, never exactly it. Here Claude Code itself says
    $0.125 in the same file; a cap of $0.05 must not pass on $0.025."""
    run = _long_context_result(model, cost)
    result, report = _run(pytester, "h1", run, {"max": cap}, model=family(model) or model)
    assert _answer(report) != "YES", result.stdout.str()
    assert result.ret != 0
    assert _entry(report)["bound"] == "lower"
    assert "long-context" in result.stdout.str()


def test_a_call_of_unknown_date_is_not_priced_at_the_later_cheaper_rate_as_exact(
    pytester: pytest.Pytester,
) -> None:
    """Claude Sonnet 5.5 (what `sonnet` means today) paid $0.20/M for cache reads until
    2026-10-07 and $0.10/M since (the shipped table's `earlier`). A headless result carries no
    date (neither the json result nor the stream-json messages have a timestamp), so its calls
    are priced at today's cheaper rate and shown as exact: 90k cache reads + 2k output cost
    $0.029 at today's rates, $0.038 before 2026-10-07 (Claude Code's own costUSD in the file).
    A cap of $0.035 must not pass on a figure that may be below the bill: the cost of a call
    of unknown date under a model whose rates changed is at least the cheaper figure, as the
    table's `unknown_long_context` rule already says for a tier ("made on an unknown date")."""
    result, report = _run(
        pytester, "h2", _sonnet_result(), {"max": "$0.035"}, model="sonnet", tokens=92_010
    )
    assert _answer(report) != "YES", result.stdout.str()
    assert result.ret != 0
    entry = _entry(report)
    assert entry["bound"] == "lower"
    assert entry["actual"] == pytest.approx((10 * 2 + 2_000 * 10 + 90_000 * 0.10) / 1e6)
    assert "unknown date" in result.stdout.str()


# -- no over-correction: what is known still decides ---------------------------------------------


def test_a_headless_sum_of_a_build_trusted_to_price_it_is_claude_codes_own_exact_cost(
    pytester: pytest.Pytester,
) -> None:
    """A build known to price right (2.1.207 and later, from the `init` line of a `--verbose`
    json list) gives the run's cost per model, long-context requests included: that figure is
    exact and decides a cap both ways."""
    run = [INIT_2_1_207, _long_context_result()]
    result, report = _run(pytester, "h3", run, {"max": "$0.20"})
    assert (_answer(report), result.ret) == ("YES", 0), result.stdout.str()
    entry = _entry(report)
    assert (entry["actual"], entry["bound"]) == (pytest.approx(0.125), "exact")
    result, report = _run(pytester, "h3", run, {"max": "$0.05"})
    assert _answer(report) == "NO"
    assert "at least" not in result.stdout.str()


def test_a_headless_sum_under_the_long_context_threshold_is_exact(
    pytester: pytest.Pytester,
) -> None:
    """No request of a sum of 90,010 prompt tokens can have passed a 100,000 threshold: the
    base-rate cost is exact, and a cap above it passes."""
    run = _long_context_result(cost=0.0109, cache_read=90_000)
    result, report = _run(pytester, "h4", run, {"max": "$0.05"}, tokens=110_010)
    assert (_answer(report), result.ret) == ("YES", 0), result.stdout.str()
    entry = _entry(report)
    assert entry["bound"] == "exact"
    assert entry["actual"] == pytest.approx((10 * 0.10 + 20_000 * 0.50 + 90_000 * 0.01) / 1e6)


def test_a_lower_bound_of_unknown_tier_still_proves_a_minimum(pytester: pytest.Pytester) -> None:
    """At least $0.025 proves `min: $0.02` (the bound is used where it decides)."""
    result, report = _run(pytester, "h5", _long_context_result(), {"min": "$0.02"})
    assert (_answer(report), result.ret) == ("YES", 0), result.stdout.str()
    assert _entry(report)["bound"] == "lower"


def test_a_call_of_unknown_date_whose_tokens_no_change_touched_is_exact(
    pytester: pytest.Pytester,
) -> None:
    """Only Sonnet 5.5's cache-read rate changed: a run that read no cache costs the same on
    any day, so its cost is exact and a cap passes on it."""
    result, report = _run(
        pytester,
        "h6",
        _sonnet_result(cache_read=0, cost=0.02002),
        {"max": "$0.035"},
        model="sonnet",
        tokens=2_010,
    )
    assert (_answer(report), result.ret) == ("YES", 0), result.stdout.str()
    assert _entry(report)["bound"] == "exact"


# -- the upper side: a figure that may be above the bill ------------------------------------------


@pytest.mark.parametrize(("floor", "answer"), [("$0.015", "NO"), ("$0.005", "YES")])
def test_an_undated_call_after_a_price_rise_proves_no_minimum_on_todays_figure(
    pytester: pytest.Pytester, tmp_path_factory: pytest.TempPathFactory, floor: str, answer: str
) -> None:
    """A model whose input rate rose (from $1/M to $2/M on 2026-06-01, in the user's price
    file): 10,000 input tokens of unknown date cost $0.01 or $0.02. Priced at today's rate as
    exact, `min: $0.015` passed on a figure that may be twice the bill; the cost is now at
    least $0.01, which proves a minimum at or under it and no higher one. The price file is
    given as an absolute path outside the project, with `=`."""
    prices = tmp_path_factory.mktemp("elsewhere") / "prices.yaml"
    prices.write_text(
        "models:\n"
        "  claude-risen-1:\n"
        "    input: 2\n    output: 10\n    cache_write_5m: 2.5\n    cache_write_1h: 4\n"
        "    cache_read: 0.2\n"
        "    earlier:\n"
        "      - {until: 2026-06-01, input: 1}\n"
    )
    run = _headless("claude-risen-1", turns=1, cache_read=0, output=0, cost=0.02)
    run["modelUsage"]["claude-risen-1"]["inputTokens"] = 10_000  # type: ignore[index]
    result, report = _run(
        pytester,
        "h7",
        run,
        {"min": floor},
        model="claude-risen-1",
        tokens=10_000,
        extra=(f"--orchphase-prices={prices}",),
    )
    assert _answer(report) == answer, result.stdout.str()
    entry = _entry(report)
    assert (entry["actual"], entry["bound"]) == (pytest.approx(0.01), "lower")


@pytest.mark.parametrize(("geo", "answer"), [("eu", "NO"), ("global", "YES"), ("us", "NO")])
def test_a_call_of_an_inference_geo_without_a_multiplier_proves_no_cap(
    pytester: pytest.Pytester, geo: str, answer: str
) -> None:
    """A transcript call of 1M output tokens on Opus 4.6 costs $25 at the standard rate, $27.50
    with US-only inference (x1.1). A geo the price table has no multiplier for may cost more
    than the standard rate: a cap of $26 must not pass on $25 shown exact (it did: the geo was
    priced x1.0 without a word). `global` is the standard rate: YES; `us` is known: $27.50, NO
    (exact)."""
    from tests.helpers import assistant, usage, write_jsonl

    phase = Phase.of(
        "g1",
        [{"id": "cap", "for_each": "ticket", "metric": "tokens", "measure": "usd", "max": "$26"}],
        {"R01": {"execution_model": "opus", "actual_tokens": 1_000_001, "fix_loops": 0}},
        metadata={
            "phase": "G1",
            "tickets": ["R01"],
            "sessions": [{"path": "r01.jsonl", "ticket": "R01"}],
        },
    )
    folder = phase.write(pytester.path)
    call = assistant("msg_1", "req_1", u=usage(out=1_000_000, geo=geo))
    write_jsonl(folder / "r01.jsonl", [call])
    result = pytester.runpytest("--phase", "g1", "--orchphase-json", "r.json", "-p", "no:randomly")
    report = json.loads((pytester.path / "r.json").read_text())
    assert _answer(report) == answer, result.stdout.str()
    (cap,) = [e for e in report["criteria"] if e["id"] == "cap"]
    if geo == "eu":
        assert cap["bound"] == "lower"
        assert "inference_geo 'eu'" in result.stdout.str()
    else:
        assert cap["bound"] == "exact"
        assert cap["actual"] == pytest.approx(25 if geo == "global" else 27.5)


BEDROCK_US = f"us.anthropic.{SONNET}-v1:0"


@pytest.mark.parametrize(
    "model",
    [
        BEDROCK_US,
        # The sibling: Vertex AI's id, one for its global endpoint and its regional ones (10 %
        # above it from Sonnet 4.5 on), was priced at Anthropic's rate too.
        "claude-sonnet-4-5@20250929",
    ],
)
def test_a_bedrock_geographic_profile_call_is_not_priced_at_the_global_rate(
    pytester: pytest.Pytester, model: str
) -> None:
    u = usage(inp=1_000, out=1_000, cw=10_000, cw_1h=10_000, geo="not_available")
    _planning_cost(pytester, _one_sonnet_call(u, model=model), 0.08)
    result = run_phase(pytester, "m1")
    _not_yes(pytester, result)
    # The platform's rates are no Anthropic page's: the cost is unknown, as an unknown model's.
    (criterion,) = json.loads((pytester.path / "r.json").read_text())["criteria"]
    assert criterion["actual"] is None, criterion
    assert f"model '{model}' has no price" in criterion["error"], criterion


def test_a_sub_agent_call_named_by_its_family_is_not_priced_as_todays_default(
    pytester: pytest.Pytester,
) -> None:
    cap = {"id": "cost", "for_each": "ticket", "metric": "tokens", "measure": "usd", "max": 0.07}
    # No tool use: its one call is all it made, so its figures are no lower bound for that.
    _sub_agent_phase(pytester, cap, "sonnet", tool_uses=0)
    result = run_phase(pytester, "m1")
    _not_yes(pytester, result)
    # What "sonnet" ran on that day is not in the record: the cost is unknown, never a guess.
    (criterion,) = json.loads((pytester.path / "r.json").read_text())["criteria"]
    assert criterion["actual"] is None, criterion
    assert "model 'sonnet' has no price" in criterion["error"], criterion


def _headless_phase(
    pytester: pytest.Pytester, run: dict[str, Any], max_usd: float, main: str = HAIKU
) -> None:
    """Phase m1: one Haiku ticket R01 measured from one headless stream (the init line of a
    build trusted to price a run, its main agent on ``main``, then ``run``), under a cost cap
    of ``max_usd``."""
    init = {
        "type": "system",
        "subtype": "init",
        "session_id": run["session_id"],
        "claude_code_version": "2.1.210",
        "model": main,
    }
    ticket = {"execution_model": "haiku", "fix_loops": 0, "review": {"result": "PASS"}}
    cap = {"id": "cost", "for_each": "ticket", "metric": "tokens", "measure": "usd"}
    sessions = [{"path": "runs/r0.ndjson", "ticket": "R01"}]
    metadata = {"phase": "m1", "tickets": ["R01"], "sessions": sessions}
    phase = Phase.of("m1", [{**cap, "max": max_usd}], {"R01": ticket}, metadata=metadata)
    write_jsonl(phase.write(pytester.path) / "runs" / "r0.ndjson", [init, run])


def _cloud_run(main: str, sub: str) -> dict[str, Any]:
    """A headless run of two models (the main agent's and a sub-agent's: the sums' cache
    writes are then of no known lifetime, a lower bound), 74,953 tokens each, Claude Code's
    costUSD of each $0.001."""
    run = result_object()
    figures = run["modelUsage"].pop(HAIKU)
    run["modelUsage"] = {main: {**figures, "costUSD": 0.001}, sub: {**figures, "costUSD": 0.001}}
    run["total_cost_usd"] = 0.002
    return run


GOV_CLOUD = "us-gov.anthropic.claude-{}-v1:0"
PROFILE_ARN = "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-{}-v1:0"


@pytest.mark.parametrize("spelling", [GOV_CLOUD, PROFILE_ARN], ids=["us-gov", "arn"])
def test_claude_codes_cost_of_any_bedrock_id_is_not_taken(
    pytester: pytest.Pytester, spelling: str
) -> None:
    main = spelling.format("haiku-4-5-20251001")
    run = _cloud_run(main, spelling.format("sonnet-4-5-20250929"))
    _headless_phase(pytester, run, 0.01, main)  # its init line names the main agent's model
    result = run_phase(pytester, "m1")
    assert_not_yes(pytester, result)
    (criterion,) = json.loads((pytester.path / "r.json").read_text())["criteria"]
    assert criterion["actual"] is None, criterion

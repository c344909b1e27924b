"""The price of a call whose rate depends on what its record does not say (its day, the
long-context tier of each request of a sum) is a lower bound: never above the bill, never
shown exact (pytest_orchphase.usage.pricing.PriceTable.priced)."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from pytest_orchphase.usage.pricing import PriceTable
from pytest_orchphase.usage.sources.claude_code import ApiCall, Scan

M = 1_000_000
INIT = {"type": "system", "subtype": "init", "claude_code_version": "2.1.207"}


@pytest.fixture(scope="module")
def table() -> PriceTable:
    return PriceTable.load()


def call(model: str, **fields: object) -> ApiCall:
    fields.setdefault("message_id", "m")
    return ApiCall(request_id="r", model=model, **fields)  # type: ignore[arg-type]


def exact(table: PriceTable, c: ApiCall) -> float | None:
    """The cost of ``c``, which must not be flagged as a bound."""
    cost, why = table.priced(c)
    assert why == ""
    return cost


def day(month: int, dom: int) -> datetime:
    return datetime(2026, month, dom, 12, tzinfo=timezone.utc)


def test_a_call_of_unknown_date_is_priced_at_the_cheapest_rate_as_a_lower_bound(
    table: PriceTable,
) -> None:
    """Sonnet 5.5's cache reads cost $0.20/M before 2026-10-07 and $0.10/M since."""
    undated = call("claude-sonnet-5-5", cache_read_input_tokens=M)
    cost, why = table.priced(undated)
    assert cost == pytest.approx(0.10)
    assert "unknown date" in why and "lower bound" in why and "2026-10-07" in why
    # Dated, the rate of its day applies and the figure is exact.
    before = call("claude-sonnet-5-5", cache_read_input_tokens=M, timestamp=day(10, 6))
    assert table.priced(before)[0] == pytest.approx(0.20)
    for when in (day(10, 6), day(10, 7)):
        dated = call("claude-sonnet-5-5", cache_read_input_tokens=M, timestamp=when)
        assert table.priced(dated)[1] == ""


def test_a_call_of_unknown_date_that_no_rate_change_touches_is_exact(table: PriceTable) -> None:
    """Only the cache-read rate changed: input and output cost the same on any day."""
    assert exact(
        table, call("claude-sonnet-5-5", input_tokens=M, output_tokens=M)
    ) == pytest.approx(12)


def test_a_price_that_went_up_gives_the_earlier_cheaper_figure_never_one_above_the_bill(
    tmp_path: Path,
) -> None:
    """The upper side: when the earlier rates were lower, today's figure may be ABOVE the bill
    (a `min` on USD, or a saving, would pass on it). The call is priced at the cheapest of the
    periods' rates, and each call at the cheapest for its own tokens when one rate went up and
    another down."""
    prices = tmp_path / "prices.yaml"
    prices.write_text(
        "models:\n"
        "  my-model:\n"
        "    input: 2\n    output: 10\n    cache_write_5m: 2.5\n    cache_write_1h: 4\n"
        "    cache_read: 0.2\n"
        "    earlier:\n"
        "      - {until: 2026-06-01, input: 1, cache_read: 0.4}\n"
    )
    table = PriceTable.load(prices)
    cost, why = table.priced(call("my-model", input_tokens=M))  # $2 now, $1 before
    assert cost == pytest.approx(1) and "unknown date" in why
    assert table.priced(call("my-model", cache_read_input_tokens=M))[0] == pytest.approx(0.2)
    mixed = call("my-model", input_tokens=M, cache_read_input_tokens=M)  # 2.2 now, 1.4 before
    assert table.priced(mixed)[0] == pytest.approx(1.4)
    assert exact(table, call("my-model", input_tokens=M, timestamp=day(7, 1))) == pytest.approx(2)


def test_a_sum_over_a_long_context_threshold_is_at_least_its_base_rate_cost(
    table: PriceTable,
) -> None:
    above = call("claude-haiku-5-5", cache_read_input_tokens=150_000, aggregate=True)
    cost, why = table.priced(above)
    assert cost == pytest.approx(150_000 * 0.01 / M)
    assert "long-context" in why and "lower bound" in why
    below = call("claude-haiku-5-5", cache_read_input_tokens=100_000, aggregate=True)
    assert table.priced(below)[1] == ""
    # One request above the threshold is priced at the tier's rates, exactly.
    request = call("claude-haiku-5-5", cache_read_input_tokens=150_000, timestamp=day(11, 1))
    assert exact(table, request) == pytest.approx(150_000 * 0.05 / M)


def test_a_sum_in_an_unpublished_tier_is_flagged_as_a_request_is(table: PriceTable) -> None:
    summed = call("claude-opus-4-6", input_tokens=300_000, aggregate=True)
    assert "long-context rate" in table.priced(summed)[1]
    assert table.priced(call("claude-opus-4-6", input_tokens=150_000, aggregate=True))[1] == ""


def test_claude_codes_trusted_cost_settles_what_the_table_cannot_price(table: PriceTable) -> None:
    """``reported_cost`` (set only for a build trusted to price right) is taken where the
    table's price would be a lower bound, and only there."""
    above = call(
        "claude-haiku-5-5", cache_read_input_tokens=150_000, aggregate=True, reported_cost=0.5
    )
    assert table.priced(above) == (0.5, "")
    assert table.lower_bound_reason(above) == ""
    below = call(
        "claude-haiku-5-5", cache_read_input_tokens=90_000, aggregate=True, reported_cost=0.5
    )
    assert exact(table, below) == pytest.approx(90_000 * 0.01 / M)
    unsure = call("claude-haiku-5-5", input_tokens=10, cost_lower_bound="writes", aggregate=True)
    cost, why = table.priced(unsure)
    assert cost == pytest.approx(10 * 0.10 / M) and why == "writes"


def test_claude_codes_cost_below_the_least_its_tokens_cost_is_not_taken(
    table: PriceTable,
) -> None:
    """A trusted build's cost below the table's cheapest price of the tokens is no bill (a
    model it does not price, a count it left out): the table's price stands, as a lower
    bound saying why; within half a cent below it, it is that price, rounded."""
    least = 1_500_000 * 0.01 / M  # the cache reads at the base rate: $0.015
    nothing = call(
        "claude-haiku-5-5", cache_read_input_tokens=1_500_000, aggregate=True, reported_cost=0.0
    )
    cost, why = table.priced(nothing)
    assert cost == pytest.approx(least)
    assert "costUSD of claude-haiku-5-5 ($0.0000) is below the $0.0150" in why
    assert "long-context" in why  # the reason the table's price is a bound still stands
    assert table.lower_bound_reason(nothing) == why
    rounded = call(
        "claude-haiku-5-5",
        cache_read_input_tokens=1_500_000,
        aggregate=True,
        reported_cost=least - 0.004,
    )
    assert exact(table, rounded) == pytest.approx(least)


def test_claude_codes_cost_of_nothing_for_a_model_the_table_lacks_is_no_price(
    table: PriceTable,
) -> None:
    """$0 for tokens of a model the table has no price for is the build not pricing it
    either: the cost is unknown, never $0; a positive figure is the build's price of it."""
    unpriced = call(
        "claude-mystery-9", input_tokens=50_000, aggregate=True, cost_lower_bound="writes"
    )
    unpriced.reported_cost = 0.0
    with pytest.warns(UserWarning, match="no price for model 'claude-mystery-9'"):
        assert table.priced(unpriced)[0] is None
    unpriced.reported_cost = 0.25
    assert table.priced(unpriced) == (0.25, "")


def test_a_group_with_a_call_of_unknown_date_has_a_lower_bound_cost(table: PriceTable) -> None:
    from pytest_orchphase.usage.aggregate import price_calls, total

    dated = call("claude-sonnet-5-5", cache_read_input_tokens=M, timestamp=day(11, 1))
    undated = call("claude-sonnet-5-5", message_id="m2", cache_read_input_tokens=M)
    assert total(price_calls(Scan(calls=[dated]), table)).usage().lower_bounds == frozenset()
    usage = total(price_calls(Scan(calls=[dated, undated]), table)).usage()
    assert usage.lower_bounds == {"usd"} and "unknown date" in usage.lower_bound_note
    assert usage.usd == pytest.approx(0.20)


def test_tokens_a_stream_json_run_reports_beyond_its_long_context_messages_are_a_lower_bound(
    tmp_path: Path,
) -> None:
    """A stream's messages carry placeholder output counts; `modelUsage` adds the rest, as
    tokens of no request in particular. Where a message of that model passed the long-context
    threshold, those tokens may be its: priced at the base rates, they are a lower bound (the
    sum's own prompt tokens are 0, so the sum rule alone says nothing)."""
    from pytest_orchphase.usage.aggregate import price_calls, total
    from pytest_orchphase.usage.scan import scan_paths
    from tests.helpers import assistant, result_object, usage, write_jsonl

    def run(cache_read: int) -> Path:
        sid = "e382184a-1111-2222-3333-444455556666"
        line = assistant(
            "msg_1",
            "req_1",
            model="claude-haiku-5-5",
            session=sid,  # every line of a stream names its run's session
            u=usage(inp=10, cr=cache_read, out=1),
        )
        line.pop("timestamp")  # a stream's messages carry no date
        line["session_id"] = line.pop("sessionId")
        init = {**INIT, "session_id": sid}
        figures = {
            "inputTokens": 10,
            "outputTokens": 20_000,
            "cacheReadInputTokens": cache_read,
            "cacheCreationInputTokens": 0,
            "webSearchRequests": 0,
        }
        main = {"input_tokens": 10, "output_tokens": 20_000, "cache_read_input_tokens": cache_read}
        end = result_object(
            session_id=sid,
            total_cost_usd=0.01,
            usage=main,
            modelUsage={"claude-haiku-5-5": figures},
        )
        return write_jsonl(tmp_path / f"run-{cache_read}.ndjson", [init, line, end])

    big = total(price_calls(scan_paths([run(150_000)]), PriceTable.load())).usage()
    assert big.lower_bounds == {"usd"}, big
    assert "beyond the run's messages" in big.lower_bound_note
    small = total(price_calls(scan_paths([run(50_000)]), PriceTable.load())).usage()
    assert small.lower_bounds == frozenset(), small


@pytest.mark.parametrize(
    ("model", "main_usage", "top", "why"),
    [
        ("claude-haiku-4-5-20251001", {"inference_geo": "us"}, {}, "us"),
        ("claude-opus-4-6", {"speed": "fast"}, {}, "fast"),
        ("claude-opus-4-6", {"speed": "standard"}, {"fast_mode_state": "on"}, "fast"),
    ],
)
def test_a_headless_sum_of_a_run_in_us_only_inference_or_fast_mode_is_a_lower_bound(
    tmp_path: Path, model: str, main_usage: dict[str, str], top: dict[str, str], why: str
) -> None:
    """A sum does not say which of its requests were made in fast mode or with US-only
    inference (x1.1); the run's `usage` (its main agent's) and `fast_mode_state` say that
    some were: priced at the standard rates, the sum is a lower bound. Without such a sign
    (`global`, `not_available`, `standard`, `off`) it is exact."""
    import json

    from pytest_orchphase.usage.aggregate import price_calls, total
    from pytest_orchphase.usage.scan import scan_paths
    from tests.helpers import result_object

    def cost(main: dict[str, str], extra: dict[str, str]) -> tuple[float | None, str]:
        run = result_object(**extra)
        run["usage"] = {**run["usage"], **main}
        run["modelUsage"] = {model: run["modelUsage"]["claude-haiku-4-5-20251001"]}
        path = tmp_path / f"run-{len(list(tmp_path.iterdir()))}.json"
        path.write_text(json.dumps(run))
        usage = total(price_calls(scan_paths([path]), PriceTable.load())).usage()
        assert usage.lower_bounds == (frozenset({"usd"}) if usage.lower_bound_note else set())
        return usage.usd, usage.lower_bound_note

    plain, note = cost(
        {"inference_geo": "not_available", "speed": "standard"}, {"fast_mode_state": "off"}
    )
    assert note == ""
    flagged, note = cost(main_usage, top)
    assert why in note and "lower bound" in note
    assert flagged == pytest.approx(plain)  # the standard, worldwide price: never above the bill


@pytest.mark.parametrize("tier", ["priority", "batch", "flex"])
def test_a_call_of_a_service_tier_the_table_has_no_rates_for_has_no_cost(
    table: PriceTable, tier: str
) -> None:
    """The table's rates are the standard tier's. Batch is billed at half of them (a figure
    above the bill would prove a `min` or a saving), priority under a commitment no page read
    prices: such a call's cost is unknown, never the standard figure shown exact."""
    from pytest_orchphase.usage.aggregate import price_calls, total

    odd = call("claude-opus-4-6", output_tokens=M, service_tier=tier, timestamp=day(11, 1))
    cost, why = table.priced(odd)
    assert cost is None and f"service tier {tier!r}" in why
    usage = total(price_calls(Scan(calls=[odd]), table)).usage()
    assert usage.usd is None and f"service tier {tier!r}" in usage.usd_note
    for standard in ("standard", "STANDARD", None):
        plain = call(
            "claude-opus-4-6", output_tokens=M, service_tier=standard, timestamp=day(11, 1)
        )
        assert exact(table, plain) == pytest.approx(25)


def test_a_fast_call_of_a_model_without_fast_rates_is_a_lower_bound(table: PriceTable) -> None:
    """Fast mode costs more than standard; where the table has no fast rates for the model,
    the standard figure is only a lower bound, never shown exact."""
    fast = call("claude-opus-4-5", output_tokens=M, speed="fast", timestamp=day(11, 1))
    cost, why = table.priced(fast)
    assert cost == pytest.approx(25) and "fast" in why and "lower bound" in why
    standard = call("claude-opus-4-5", output_tokens=M, speed="standard", timestamp=day(11, 1))
    assert exact(table, standard) == pytest.approx(25)
    assert exact(
        table, call("claude-opus-4-6", output_tokens=M, speed="fast", timestamp=day(11, 1))
    ) == pytest.approx(150)


def test_a_call_of_an_inference_geo_the_table_has_no_multiplier_for_is_a_lower_bound(
    table: PriceTable, tmp_path: Path
) -> None:
    """Anthropic publishes two inference geos: `global` (the standard rate) and `us` (x1.1);
    Claude Code writes `not_available` or nothing for models without the parameter. A geo
    beyond those may cost more than the standard rate: priced at it, the figure is at least
    that, never exact, until a price file gives its multiplier."""
    from pytest_orchphase.usage.aggregate import price_calls, total

    odd = call("claude-opus-4-6", output_tokens=M, inference_geo="eu", timestamp=day(11, 1))
    cost, why = table.priced(odd)
    assert cost == pytest.approx(25) and "'eu'" in why and "lower bound" in why
    usage = total(price_calls(Scan(calls=[odd]), table)).usage()
    assert usage.lower_bounds == {"usd"} and "'eu'" in usage.lower_bound_note
    for plain in ("global", "not_available", "", None, "GLOBAL"):
        same = call("claude-opus-4-6", output_tokens=M, inference_geo=plain, timestamp=day(11, 1))
        assert exact(table, same) == pytest.approx(25), plain
    us = call("claude-opus-4-6", output_tokens=M, inference_geo="US", timestamp=day(11, 1))
    assert exact(table, us) == pytest.approx(27.5)
    # A price file that gives the geo's multiplier makes its calls exact again.
    prices = tmp_path / "prices.yaml"
    prices.write_text("geo_multipliers:\n  eu: 1.2\n")
    given = PriceTable.load(prices)
    assert exact(given, odd) == pytest.approx(30)

"""One test per pricing rule (pytest_orchphase.usage.pricing and data/prices.yaml).

Run as a script (``python -m tests.transcripts.test_pricing``), it writes data/prices.json
again from data/prices.yaml."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml

from pytest_orchphase.errors import OrchphaseError, UnknownModelWarning
from pytest_orchphase.usage.pricing import SHIPPED_PRICES, SHIPPED_TABLE, PriceTable
from pytest_orchphase.usage.sources.claude_code import ApiCall

M = 1_000_000


@pytest.fixture(scope="module")
def table() -> PriceTable:
    return PriceTable.load()


def call(model: str, **tokens: object) -> ApiCall:
    return ApiCall(message_id="m", request_id="r", model=model, **tokens)  # type: ignore[arg-type]


def test_shipped_table_says_when_it_was_taken(table: PriceTable) -> None:
    assert table.taken == "2026-11-29"


def test_every_shipped_rate_names_its_anthropic_source_and_the_day_it_was_read(
    table: PriceTable,
) -> None:
    for model_id, price in table.models.items():
        assert price.source is not None, model_id
        assert price.source.startswith(
            ("https://platform.claude.com/docs/", "https://docs.anthropic.com/")
        ), model_id
        assert price.read is not None and len(price.read) == len("2026-11-29"), model_id


@pytest.mark.parametrize(
    ("model", "rates"),
    [
        # Anthropic's pricing page, read 2026-11-29: input, output, 5m write, 1h write, read.
        ("claude-fable-5", (10, 50, 12.5, 20, 1)),
        ("claude-mythos-5", (10, 50, 12.5, 20, 1)),
        ("claude-fable-5-1", (10, 50, 12.5, 20, 0.25)),
        ("claude-mythos-5-1", (10, 50, 12.5, 20, 0.25)),
        ("claude-3-7-sonnet-20250219", (3, 15, 3.75, 6, 0.30)),
        ("claude-3-5-sonnet-20241022", (3, 15, 3.75, 6, 0.30)),
        ("claude-3-5-sonnet-20240620", (3, 15, 3.75, 6, 0.30)),
        ("claude-3-5-haiku-20241022", (0.80, 4, 1, 1.6, 0.08)),
        ("claude-3-haiku-20240307", (0.25, 1.25, 0.30, 0.50, 0.03)),
        ("claude-3-opus-20240229", (15, 75, 18.75, 30, 1.50)),
    ],
)
def test_models_real_sessions_use_are_priced(
    table: PriceTable, model: str, rates: tuple[float, ...]
) -> None:
    c = call(
        model,
        input_tokens=M,
        output_tokens=2 * M,
        cache_creation_input_tokens=7 * M,
        cache_creation_1h_tokens=3 * M,
        cache_read_input_tokens=5 * M,
    )
    inp, out, w5, w1, read = rates
    assert table.cost(c) == pytest.approx(inp + 2 * out + 4 * w5 + 3 * w1 + 5 * read)


@pytest.mark.parametrize(
    ("dated", "model"),
    [
        ("claude-opus-4-6-20260205", "claude-opus-4-6"),
        ("claude-opus-4-7-20260416", "claude-opus-4-7"),
        ("claude-haiku-4-5-20251001", "claude-haiku-4-5-20251001"),
    ],
)
def test_dated_ids_of_current_models_cost_what_the_model_costs(
    table: PriceTable, dated: str, model: str
) -> None:
    assert table.resolve(dated) == model


@pytest.mark.parametrize("model", ["claude-fable-5-2", "claude-mythos-5-2[1m]"])
def test_a_model_without_an_anthropic_price_is_never_guessed(model: str) -> None:
    table = PriceTable.load()
    assert table.resolve(model) is None
    with pytest.warns(UnknownModelWarning, match="no published price"):
        assert table.cost(call(model, input_tokens=10)) is None
    # Nor through its undated family or a dated spelling.
    assert table.resolve(model.replace("[1m]", "") + "-20261109") is None


def test_a_price_file_can_price_a_model_the_shipped_table_leaves_unpriced(
    tmp_path: Path,
) -> None:
    override = tmp_path / "p.yaml"
    override.write_text(
        "models:\n  claude-fable-5-2:\n    source: my invoice\n    read: 2026-11-30\n"
        "    input: 8\n    output: 40\n    cache_write_5m: 10\n    cache_write_1h: 16\n"
        "    cache_read: 0.2\n"
    )
    table = PriceTable.load(override)
    assert table.cost(call("claude-fable-5-2", input_tokens=M)) == pytest.approx(8)
    assert table.models["claude-fable-5-2"].read == "2026-11-30"


def test_formula_prices_1h_and_5m_cache_writes_apart(table: PriceTable) -> None:
    c = call(
        "claude-opus-4-6",
        input_tokens=M,
        output_tokens=M,
        cache_read_input_tokens=M,
        cache_creation_input_tokens=3 * M,
        cache_creation_1h_tokens=M,
    )
    # 5 + 25 + 0.50 + 1h: 1M x 10 + 5m: 2M x 6.25
    assert table.cost(c) == pytest.approx(5 + 25 + 0.5 + 10 + 12.5)


def test_all_cache_writes_are_5m_without_the_split(table: PriceTable) -> None:
    c = call("claude-haiku-4-5-20251001", cache_creation_input_tokens=M)
    assert table.cost(c) == pytest.approx(1.25)


def test_real_sample_cost_of_one_opus_call(table: PriceTable) -> None:
    c = call(
        "claude-opus-4-6",
        input_tokens=3,
        output_tokens=8,
        cache_creation_input_tokens=121689,
        cache_read_input_tokens=17842,
    )
    assert table.cost(c) == pytest.approx((3 * 5 + 8 * 25 + 121689 * 6.25 + 17842 * 0.5) / M)


@pytest.mark.parametrize(
    ("model", "prompt", "expected_input_rate"),
    [
        ("claude-sonnet-4-5-20250929", 200_000, 3),
        ("claude-sonnet-4-5-20250929", 200_001, 6),
        ("claude-sonnet-4-20250514", 250_000, 6),
        ("claude-haiku-5-5", 100_000, 0.10),
        ("claude-haiku-5-5", 100_001, 0.50),
    ],
)
def test_long_context_tier_bills_the_whole_request(
    table: PriceTable, model: str, prompt: int, expected_input_rate: float
) -> None:
    c = call(model, input_tokens=prompt)
    assert table.cost(c) == pytest.approx(prompt * expected_input_rate / M)


def test_long_context_tier_counts_cache_in_the_prompt(table: PriceTable) -> None:
    c = call(
        "claude-sonnet-4-5-20250929",
        input_tokens=1,
        cache_read_input_tokens=200_000,
        output_tokens=M,
    )
    assert table.cost(c) == pytest.approx((6 + 200_000 * 0.60 + 22.5 * M) / M)


def test_1m_suffix_is_stripped(table: PriceTable) -> None:
    assert table.resolve("claude-sonnet-4-5-20250929[1m]") == "claude-sonnet-4-5-20250929"
    assert table.cost(call("claude-opus-4-6[1m]", output_tokens=M)) == pytest.approx(25)


@pytest.mark.parametrize(
    ("alias", "canonical"),
    [
        ("claude-sonnet-4-5", "claude-sonnet-4-5-20250929"),
        ("claude-haiku-4-5", "claude-haiku-4-5-20251001"),
        ("claude-opus-4-1", "claude-opus-4-1-20250805"),
        ("anthropic/claude-sonnet-4-5-20250929", "claude-sonnet-4-5-20250929"),
    ],
)
def test_undated_aliases_resolve(table: PriceTable, alias: str, canonical: str) -> None:
    assert table.resolve(alias) == canonical


@pytest.mark.parametrize(
    ("model", "platform"),
    [
        # Amazon Bedrock: in-Region, geographic and global cross-Region inference profiles.
        ("anthropic.claude-sonnet-4-5-20250929-v1:0", "Amazon Bedrock"),
        ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", "Amazon Bedrock"),
        ("eu.anthropic.claude-haiku-4-5-20251001-v1:0", "Amazon Bedrock"),
        ("apac.anthropic.claude-sonnet-4-20250514-v1:0[1m]", "Amazon Bedrock"),
        ("global.anthropic.claude-opus-4-6-v1", "Amazon Bedrock"),
        # Google Vertex AI: one id for its global and regional endpoints.
        ("claude-sonnet-4-5@20250929", "Google Vertex AI"),
        ("claude-opus-4-1@20250805", "Google Vertex AI"),
    ],
)
def test_a_cloud_platforms_model_id_has_no_anthropic_price(model: str, platform: str) -> None:
    """AWS and Google bill Claude at their own rates (by Region, profile and endpoint), which no
    Anthropic page gives: the cost is unknown, never Anthropic's rate shown exact."""
    table = PriceTable.load()
    assert table.resolve(model) is None
    with pytest.warns(UnknownModelWarning, match=f"an {platform} model id"):
        assert table.cost(call(model, input_tokens=M)) is None


def test_claude_codes_cost_of_a_cloud_platforms_call_is_not_its_bill() -> None:
    """Claude Code's own costUSD (taken where the table's price of a sum is a lower bound) is
    priced at Anthropic's rates: for a Bedrock or Vertex AI id it is no more the bill."""
    table = PriceTable.load()
    for model in ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", "claude-sonnet-4-5@20250929"):
        sum_of_run = call(
            model, input_tokens=M, aggregate=True, reported_cost=3.0, cost_lower_bound="writes"
        )
        with pytest.warns(UnknownModelWarning):
            assert table.priced(sum_of_run)[0] is None, model
    # The first-party id keeps it (the build is trusted to price it right).
    first_party = call(
        "claude-sonnet-4-5-20250929",
        input_tokens=M,
        aggregate=True,
        reported_cost=3.0,
        cost_lower_bound="writes",
    )
    assert table.priced(first_party) == (3.0, "")


def test_a_price_file_prices_a_cloud_platforms_model_id(tmp_path: Path) -> None:
    override = tmp_path / "p.yaml"
    bedrock = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
    override.write_text(
        f"models:\n  {bedrock}:\n    aliases: [claude-sonnet-4-5@20250929]\n"
        "    input: 3.3\n    output: 16.5\n    cache_write_5m: 4.125\n    cache_write_1h: 6.6\n"
        "    cache_read: 0.33\n"
    )
    table = PriceTable.load(override)
    assert table.cost(call(bedrock, output_tokens=M)) == pytest.approx(16.5)
    assert table.cost(call("claude-sonnet-4-5@20250929", output_tokens=M)) == pytest.approx(16.5)
    # The first-party id keeps Anthropic's rate.
    assert table.cost(call("claude-sonnet-4-5-20250929", output_tokens=M)) == pytest.approx(15)


@pytest.mark.parametrize("family", ["sonnet", "Opus", "haiku[1m]"])
def test_a_family_name_has_no_price_of_its_own(family: str) -> None:
    """What Claude Code's alias ran changed with its version and day (claude-sonnet-5-5 since
    2.1.293, Sonnet 4.5 in a 2.1.39 session): never today's model's price shown exact."""
    table = PriceTable.load()
    assert table.resolve(family) is None
    with pytest.warns(UnknownModelWarning, match="a model family, not a model"):
        assert table.cost(call(family, input_tokens=M)) is None


def test_family_name_uses_the_configured_default(tmp_path: Path) -> None:
    override = tmp_path / "p.yaml"
    override.write_text("family_defaults:\n  haiku: claude-haiku-4-5\n")
    assert PriceTable.load(override).resolve("haiku") == "claude-haiku-4-5-20251001"


def test_unknown_model_has_no_cost_and_warns() -> None:
    table = PriceTable.load()
    with pytest.warns(UnknownModelWarning, match="claude-mystery-9"):
        assert table.cost(call("claude-mystery-9", input_tokens=10)) is None
    assert table.unknown_models == {"claude-mystery-9": 1}
    assert table.resolve("claude-mystery-9") is None


def test_us_inference_costs_ten_percent_more_and_web_search_a_cent(table: PriceTable) -> None:
    base = call("claude-opus-4-6", output_tokens=M)
    us = call("claude-opus-4-6", output_tokens=M, inference_geo="us")
    searched = call("claude-opus-4-6", output_tokens=M, web_search_requests=3)
    assert table.cost(base) == pytest.approx(25)
    assert table.cost(us) == pytest.approx(27.5)
    assert table.cost(searched) == pytest.approx(25.03)


def test_fast_mode_rates(table: PriceTable) -> None:
    fast = call("claude-opus-4-6", input_tokens=M, output_tokens=M, speed="fast")
    assert table.cost(fast) == pytest.approx(30 + 150)
    assert table.cost(call("claude-opus-4-8", output_tokens=M, speed="fast")) == pytest.approx(50)


def test_earlier_rates_apply_before_their_date(table: PriceTable) -> None:
    def read(day: int) -> float | None:
        stamp = datetime(2026, 10, day, tzinfo=timezone.utc)
        return table.cost(call("claude-sonnet-5-5", cache_read_input_tokens=M, timestamp=stamp))

    assert read(6) == pytest.approx(0.20)
    assert read(7) == pytest.approx(0.10)


def test_user_override_replaces_and_extends(tmp_path: Path) -> None:
    override = tmp_path / "prices.yaml"
    override.write_text(
        "models:\n"
        "  claude-opus-4-6: {input: 1, output: 2, cache_write_5m: 3, cache_write_1h: 4,"
        " cache_read: 5}\n"
        "  my-model: {input: 1, output: 1, cache_write_5m: 1, cache_write_1h: 1,"
        " cache_read: 1, aliases: [mine]}\n"
    )
    table = PriceTable.load(override)
    assert table.cost(call("claude-opus-4-6", output_tokens=M)) == pytest.approx(2)
    assert table.cost(call("mine", input_tokens=M)) == pytest.approx(1)
    assert table.cost(call("claude-haiku-4-5", output_tokens=M)) == pytest.approx(5)  # kept


_USER_RATES = "input: 30, output: 150, cache_write_5m: 37.5, cache_write_1h: 60, cache_read: 3"


@pytest.mark.parametrize(
    "entry",
    [
        # An entry under an alias of the shipped table prices the model the alias names.
        f"claude-sonnet-4-5: {{{_USER_RATES}}}",
        # An entry whose aliases name a shipped model (or a shipped alias of it) prices it too.
        f"my-sonnet: {{aliases: [claude-sonnet-4-5-20250929], {_USER_RATES}}}",
        f"my-sonnet: {{aliases: [claude-sonnet-4-5], {_USER_RATES}}}",
    ],
)
def test_a_price_file_entry_under_any_name_of_a_model_prices_all_its_calls(
    tmp_path: Path, entry: str
) -> None:
    override = tmp_path / "p.yaml"
    override.write_text(f"models:\n  {entry}\n")
    table = PriceTable.load(override)
    for name in ("claude-sonnet-4-5", "claude-sonnet-4-5-20250929", "claude-sonnet-4-5[1m]"):
        assert table.cost(call(name, output_tokens=M)) == pytest.approx(150), name
    assert table.cost(call("claude-opus-4-6", output_tokens=M)) == pytest.approx(25)  # kept


def test_a_price_file_entry_under_a_snapshot_id_prices_the_undated_model_it_is(
    tmp_path: Path,
) -> None:
    # The table prices claude-opus-4-6-20260205 as claude-opus-4-6: one model, one price.
    override = tmp_path / "p.yaml"
    override.write_text(f"models:\n  claude-opus-4-6-20260205: {{{_USER_RATES}}}\n")
    table = PriceTable.load(override)
    for name in ("claude-opus-4-6", "claude-opus-4-6-20260205", "claude-opus-4-6-20260301"):
        assert table.cost(call(name, output_tokens=M)) == pytest.approx(150), name


def test_a_price_file_unpricing_an_alias_unprices_the_model_it_names(tmp_path: Path) -> None:
    override = tmp_path / "p.yaml"
    override.write_text("unpriced:\n  claude-sonnet-4-5: our contract's rates are not public\n")
    table = PriceTable.load(override)
    for name in ("claude-sonnet-4-5", "claude-sonnet-4-5-20250929"):
        assert table.resolve(name) is None, name
        assert "our contract's rates" in table.why_unpriced(name)
    assert table.resolve("claude-sonnet-4-20250514") == "claude-sonnet-4-20250514"  # kept


def test_a_price_file_pricing_an_alias_and_its_model_apart_is_an_error(tmp_path: Path) -> None:
    override = tmp_path / "p.yaml"
    override.write_text(
        f"models:\n  claude-sonnet-4-5-20250929: {{{_USER_RATES}}}\n"
        "  claude-sonnet-4-5: {input: 3, output: 15, cache_write_5m: 3.75, cache_write_1h: 6,"
        " cache_read: 0.3}\n"
    )
    with pytest.raises(OrchphaseError) as err:
        PriceTable.load(override)
    assert err.value.path == override
    assert "models.claude-sonnet-4-5-20250929" in str(err.value)
    assert "models.claude-sonnet-4-5 " in str(err.value)
    # The same rates under both names are one price: no error.
    override.write_text(
        f"models:\n  claude-sonnet-4-5-20250929: {{{_USER_RATES}}}\n"
        f"  claude-sonnet-4-5: {{{_USER_RATES}}}\n"
    )
    assert PriceTable.load(override).cost(call("claude-sonnet-4-5", output_tokens=M)) == 150


_RATES = "input: 3, output: 15, cache_write_5m: 3.75, cache_write_1h: 6, cache_read: 0.3"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("models:\n  x: {input: 1}\n", "models.x"),
        ("modles: {}\n", "modles"),
        (
            "models:\n  x: {input: 1, output: 1, cache_write_5m: 1, cache_write_1h: 1,"
            " cache_read: -1}\n",
            "cache_read",
        ),
        ("- just a list\n", "expected a mapping"),
        ("models: [unclosed\n", "YAML syntax error"),
        # A boolean where a rate belongs is not $1 (YAML reads `true` as one), nor words a number.
        (
            "models:\n  m: {input: 3, output: true, cache_write_5m: 3.75, cache_write_1h: 6,"
            " cache_read: 0.3}\n",
            "models.m.output",
        ),
        (
            "models:\n  m: {input: '3', output: 15, cache_write_5m: 3.75, cache_write_1h: 6,"
            " cache_read: 0.3}\n",
            "models.m.input",
        ),
        (f"models:\n  m: {{{_RATES}, fast: {{input: true, output: 30}}}}\n", "models.m.fast.input"),
        (
            f"models:\n  m: {{{_RATES}, earlier: [{{until: 2026-01-01, cache_read: true}}]}}\n",
            "models.m.earlier[0].cache_read",
        ),
        (
            f"models:\n  m: {{{_RATES}, long_context: {{above_prompt_tokens: true, {_RATES}}}}}\n",
            "models.m.long_context.above_prompt_tokens",
        ),
        ("geo_multipliers: {us: true}\n", "geo_multipliers.us"),
        ("web_search_per_request: true\n", "web_search_per_request"),
    ],
)
def test_bad_price_file_is_an_input_error_naming_the_file(
    tmp_path: Path, text: str, expected: str
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    with pytest.raises(OrchphaseError) as err:
        PriceTable.load(bad)
    assert err.value.path == bad
    assert expected in str(err.value), str(err.value)


def test_missing_price_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(OrchphaseError, match="price file not found"):
        PriceTable.load(tmp_path / "none.yaml")


def shipped_json() -> str:
    """data/prices.json as data/prices.yaml makes it: its keys in the YAML's order, its days
    as ISO text."""

    def plain(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list):
            return [plain(v) for v in value]
        return value.isoformat() if isinstance(value, date) else value

    data = yaml.safe_load(SHIPPED_PRICES.read_text(encoding="utf-8"))
    return json.dumps(plain(data), indent=2, ensure_ascii=False) + "\n"


def test_the_shipped_json_is_the_yaml_to_the_byte() -> None:
    # A run reads the JSON (no YAML parser to import); people read and change the YAML.
    assert SHIPPED_TABLE.read_text(encoding="utf-8") == shipped_json(), (
        "pytest_orchphase/data/prices.json is not pytest_orchphase/data/prices.yaml's copy: "
        "write it again with `python -m tests.transcripts.test_pricing`"
    )


def test_the_table_read_from_the_json_is_the_one_the_yaml_gives(table: PriceTable) -> None:
    from_yaml = PriceTable(models={})
    from_yaml._merge(yaml.safe_load(SHIPPED_PRICES.read_text(encoding="utf-8")), SHIPPED_PRICES)
    assert table.models == from_yaml.models  # the days of earlier rates and tiers among them
    assert any(price.earlier for price in table.models.values())
    assert any(price.unknown_tier for price in table.models.values())
    for name in ("aliases", "family_defaults", "unpriced", "geo_multipliers"):
        assert getattr(table, name) == getattr(from_yaml, name), name
    assert (table.web_search_per_request, table.taken) == (0.01, "2026-11-29")
    # `orchphase prices` names the file people read and change, not its copy.
    assert table.sources == [SHIPPED_PRICES]


def test_shipped_price_file_passes_the_schema_users_get() -> None:
    # The shipped table is read without pydantic for speed: this keeps it honest.
    from importlib import resources

    from pytest_orchphase.usage.price_file import read_price_file

    shipped = resources.files("pytest_orchphase") / "data" / "prices.yaml"
    with resources.as_file(shipped) as path:
        data = read_price_file(path)
    assert "claude-opus-4-6" in data.models
    assert not data.family_defaults  # a family meant other models on other days


@pytest.mark.parametrize("model", ["claude-opus-4-6", "claude-sonnet-4-6"])
@pytest.mark.parametrize(
    ("when", "prompt", "flagged"),
    [
        ("2026-03-12T23:00:00+00:00", 250_000, True),  # 1M beta: long-context rate unpublished
        (None, 250_000, True),  # undated: it may have been
        ("2026-03-13T00:00:00+00:00", 250_000, False),  # 1M standard from that day
        ("2026-02-10T10:00:00+00:00", 150_000, False),  # below the tier
    ],
)
def test_unpublished_long_context_rate_makes_the_cost_a_lower_bound(
    table: PriceTable, model: str, when: str | None, prompt: int, flagged: bool
) -> None:
    c = call(
        model,
        input_tokens=10,
        cache_read_input_tokens=prompt - 10,
        timestamp=datetime.fromisoformat(when) if when else None,
    )
    reason = table.lower_bound_reason(c)
    assert bool(reason) is flagged
    if flagged:
        assert "long-context rate" in reason and "lower bound" in reason
    uncached = table.cost(call(model, input_tokens=10))
    assert uncached is not None
    assert table.cost(c) == pytest.approx(
        uncached + (prompt - 10) * table.models[model].rates.cache_read / M
    )


def test_a_call_in_an_unpublished_tier_makes_its_groups_cost_a_lower_bound(
    table: PriceTable,
) -> None:
    from pytest_orchphase.usage.aggregate import price_calls, total
    from pytest_orchphase.usage.sources.claude_code import Scan

    big = call("claude-opus-4-6", input_tokens=300_000)  # undated, above 200K
    small = call("claude-opus-4-6", input_tokens=1_000)
    assert total(price_calls(Scan(calls=[small]), table)).usage().lower_bounds == frozenset()
    usage = total(price_calls(Scan(calls=[small, big]), table)).usage()
    assert usage.lower_bounds == {"usd"} and "long-context rate" in usage.lower_bound_note


if __name__ == "__main__":
    SHIPPED_TABLE.write_text(shipped_json(), encoding="utf-8")

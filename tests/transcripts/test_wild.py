"""The real transcripts from public repositories (../shared/transcripts/wild, SOURCES.txt there):
one test per case, against ccusage 20.0.24's figures, pinned here so that a regression fails and
npm is never needed.

ccusage was run once (`ccusage claude daily --json --offline --breakdown`, and `claude session`)
with CLAUDE_CONFIG_DIR pointing at a folder holding each case as projects/<name>/…. Its `daily`
report is pinned: its `session` report drops the sub-agents that exist only as agent_progress
copies (the vr-forest files) and equals `daily` everywhere else.

Where orchphase and ccusage differ, orchphase is right and the test says why:
* a sub-agent's final call recorded only in the parent's toolUseResult.usage (its own file, or
  its agent_progress copies, stop before it) is counted by orchphase, not by ccusage;
* a sub-agent's last call corrected from the same record carries its true output, where ccusage
  keeps the placeholder (1-4 tokens);
* ccusage 20.0.24 reports nothing for daaain/claude-code-log's sidechain_integrated.jsonl (a
  2.0.46 session that repository trimmed and re-serialised); its figures are computed by hand.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import pytest

from pytest_orchphase.usage.aggregate import by_agent, by_model, price_calls, total
from pytest_orchphase.usage.pricing import PriceTable
from pytest_orchphase.usage.records import ApiCall
from pytest_orchphase.usage.scan import scan_paths
from pytest_orchphase.usage.sources.claude_code import Scan
from tests.helpers import REAL_TRANSCRIPTS

WILD = REAL_TRANSCRIPTS / "wild"
SPOTTER = "marot__spotter/test/fixtures/transcripts"
FOREST = "reality2-roycdavies__vr-forest/transcripts"
VIEWER = "d-kimuson__claude-code-viewer/mock-global-claude-dir/projects/sample-project"
BOOK = "palimondo__BookMinder/claude-dev-log-diary/jsonl/cloud-2026"
HARNESS = "th-yoo__meta-harness/opencode-plugin/test/fixtures/drivers/claude-code"
OPUS, SONNET, HAIKU = "claude-opus-4-6", "claude-sonnet-4-5-20250929", "claude-haiku-4-5-20251001"

Figures = tuple[int, int, int, int]  # input, output, cache write, cache read
#: case -> (files relative to WILD, ccusage daily per model: (input, output, cw, cr, USD)).
CCUSAGE: dict[str, tuple[list[str], dict[str, tuple[int, int, int, int, float]]]] = {
    "spotter-258c7280": (
        [f"{SPOTTER}/258c7280-ae70-4798-800f-63464d01a85d.jsonl"],
        {
            OPUS: (183, 38905, 351961, 14938375, 11.9623375),
            SONNET: (15, 3, 42176, 34159, 0.2633937),
        },
    ),
    "spotter-4d5611e5": (
        [f"{SPOTTER}/4d5611e5-241a-462a-8d15-5122611a9569.jsonl"],
        {
            OPUS: (180, 28763, 488218, 11783397, 9.663036),
            SONNET: (53, 136, 71257, 604156, 0.45065955),
        },
    ),
    "spotter-6adcf0da": (
        [f"{SPOTTER}/6adcf0da-e8ac-4760-8026-66fb75b5ee45.jsonl"],
        {OPUS: (119, 17345, 211249, 9243229, 6.37614075)},
    ),
    "spotter-6c2214d7-orphan": (
        [f"{SPOTTER}/6c2214d7-b87e-4432-8e41-22ba294ea584"],
        {HAIKU: (219, 28, 39438, 457858, 0.1250208)},
    ),
    "spotter-8463c716": (
        [f"{SPOTTER}/8463c716-a2ea-4c14-9efa-87158ebd9f20.jsonl"],
        {
            OPUS: (2484, 40326, 263265, 15907654, 11.607047),
            HAIKU: (94, 33, 13554, 299487, 0.0573157),
        },
    ),
    "spotter-ae4a77f8": (
        [f"{SPOTTER}/ae4a77f8-aedd-4bc1-888f-c94edc91af04.jsonl"],
        {
            OPUS: (95, 19596, 217025, 5638009, 4.66578575),
            HAIKU: (150, 29879, 141785, 10933461, 1.42012235),
            SONNET: (2408, 7, 18814, 29274, 0.0866637),
        },
    ),
    "spotter-fa812bfe": (
        [f"{SPOTTER}/fa812bfe-b295-4cca-9c2f-fdf01028cb46.jsonl"],
        {
            OPUS: (1505, 36262, 262626, 15540548, 10.3257615),
            HAIKU: (122, 45, 98183, 635125, 0.18658825),
        },
    ),
    "spotter-subagent": (
        [f"{SPOTTER}/subagent.jsonl"],
        {
            OPUS: (1576, 1586, 25842, 427286, 0.519593),
            HAIKU: (24, 7, 14285, 95343, 0.0381633),
        },
    ),
    "forest-day1-01": (
        [f"{FOREST}/day1-01-initial-appraisal.jsonl"],
        {
            OPUS: (5441, 2480, 149638, 2924077, 3.0476235),
            HAIKU: (10, 4, 12708, 20029, 0.0274489),
        },
    ),
    "forest-day1-02": (
        [f"{FOREST}/day1-02-footsteps-crickets-spatial-audio.jsonl"],
        {
            OPUS: (242, 52757, 193767, 18905936, 12.710773),
            SONNET: (12, 31, 25957, 36482, 0.1671876),
        },
    ),
    "forest-day2-01": (
        [f"{FOREST}/day2-01-shadows-creatures-morepork.jsonl"],
        {
            OPUS: (49, 9616, 68066, 2508730, 2.17567),
            HAIKU: (58, 81, 61069, 340412, 0.1566422),
        },
    ),
    "forest-day2-02": (
        [f"{FOREST}/day2-02-shadows-creatures-continued.jsonl"],
        {
            OPUS: (66, 3598, 176971, 2037464, 2.878722),
            HAIKU: (48, 18, 66780, 166335, 0.1503315),
        },
    ),
    "forest-day4-01": (
        [f"{FOREST}/day4-01-cloud-diversity.jsonl"],
        {OPUS: (120, 36429, 157034, 6781307, 5.8723185)},
    ),
    "forest-day4-02": (
        [f"{FOREST}/day4-02-weather-system.jsonl"],
        {
            OPUS: (3864, 47783, 289628, 14805681, 11.5130155),
            HAIKU: (34, 22, 116565, 124265, 0.2457005),
        },
    ),
    "viewer-1af7fc5e": (
        [f"{VIEWER}/1af7fc5e-8455-4414-9ccd-011d40f70b2a.jsonl"],
        {"claude-sonnet-4-20250514": (93, 953, 12698, 103219, 0.0931572)},
    ),
    "viewer-5c0375b4": (
        [f"{VIEWER}/5c0375b4-57a5-4f26-b12d-d022ee4e51b7.jsonl"],
        {"claude-sonnet-4-20250514": (129, 3629, 47747, 324259, 0.33115095)},
    ),
    "viewer-fe5e1c67": (
        [f"{VIEWER}/fe5e1c67-53e7-4862-81ae-d0e013e3270b.jsonl"],
        {"claude-sonnet-4-20250514": (818, 51933, 137976, 3647854, 2.3932152)},
    ),
    "bookminder": (
        [f"{BOOK}/a42b9c92-c0e6-588e-bc6f-3d5e4f37b895.jsonl"],
        {
            "claude-fable-5": (5, 3497, 3659, 1348025, 1.596105),
            "claude-opus-5": (8, 483, 19854, 123519, 0.197962),
        },
    ),
}

#: The sub-agents' final calls recorded only in the parent's toolUseResult.usage: counted by
#: orchphase, absent from ccusage (the whole difference in input and cache counts).
RECOVERED: dict[str, dict[str, Figures]] = {
    "spotter-subagent": {HAIKU: (3, 3130, 892, 29869)},
    "forest-day1-01": {HAIKU: (7, 3747, 15306, 21950), OPUS: (1, 9424, 5185, 50883)},
    "forest-day1-02": {SONNET: (3, 2294, 2624, 25957)},
    "forest-day2-01": {HAIKU: (14, 2442, 5610, 34746)},
    "forest-day2-02": {HAIKU: (12, 3733, 8013, 86314), OPUS: (2, 11053, 2176, 105643)},
    "forest-day4-01": {OPUS: (1, 1440, 709, 11137)},
    "forest-day4-02": {HAIKU: (14, 9269, 10389, 126788), OPUS: (2, 12299, 944, 98910)},
}


def _scan(files: list[str]) -> Scan:
    if not WILD.is_dir():
        pytest.skip(f"the real transcripts from the wild are not present at {WILD}")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an unpriced model would warn
        return scan_paths([WILD / f for f in files])


def _figures(calls: Sequence[ApiCall]) -> Figures:
    return (
        sum(c.input_tokens for c in calls),
        sum(c.output_tokens for c in calls),
        sum(c.cache_creation_input_tokens for c in calls),
        sum(c.cache_read_input_tokens for c in calls),
    )


@pytest.mark.parametrize("case", sorted(CCUSAGE))
def test_wild_case_matches_ccusage_input_and_cache_and_never_undercounts_output(
    case: str,
) -> None:
    files, peer = CCUSAGE[case]
    scan = _scan(files)
    prices = PriceTable.load()
    costed = price_calls(scan, prices)
    models = by_model(costed)
    assert set(models) == set(peer)
    assert all(prices.resolve(m) is not None for m in models)  # every model priced
    recovered = RECOVERED.get(case, {})
    for model, (inp, out, cw, cr, _usd) in peer.items():
        own = [c for c in scan.calls if c.model == model]
        read = [c for c in own if not c.message_id.startswith("toolUseResult:")]
        extra = [c for c in own if c.message_id.startswith("toolUseResult:")]
        got = _figures(read)
        assert (got[0], got[2], got[3]) == (inp, cw, cr), model
        assert models[model].output_tokens >= out, model
        assert (_figures(extra) if extra else None) == recovered.get(model), model


@pytest.mark.parametrize(
    ("case", "model", "expected"),
    [
        # Inline sidechains (1.0.98): every output is in the file; equals ccusage's cost.
        ("viewer-fe5e1c67", "claude-sonnet-4-20250514", 2.3932152),
        # subagents/ (2.1.39): ccusage's cost + the corrected last call's true output
        # (999 − 3 placeholder tokens) at Sonnet 4.5's $15 per million.
        ("spotter-258c7280", SONNET, 0.2633937 + (999 - 3) * 15 / 1e6),
        # agent_progress copies only (2.1.39): ccusage's cost + the recovered final call
        # (1 in, 1,440 out, 709 1h writes, 11,137 reads at Opus 4.6's 5 / 25 / 10 / 0.50).
        ("forest-day4-01", OPUS, 5.8723185 + (1 * 5 + 1440 * 25 + 709 * 10 + 11137 * 0.5) / 1e6),
        # background Agent with meta.json (2.1.231, claude-fable-5 at 10 / 50 / 12.50 / 1):
        ("bookminder", "claude-fable-5", 1.596105),
        ("bookminder", "claude-opus-5", 0.197962),
    ],
)
def test_wild_usd_equals_a_hand_computation(case: str, model: str, expected: float) -> None:
    files, _ = CCUSAGE[case]
    scan = _scan(files)
    cost = by_model(price_calls(scan, PriceTable.load()))[model].cost_usd
    assert cost == pytest.approx(expected, abs=1e-6)


def test_wild_2_0_inline_session_by_hand_where_ccusage_reads_nothing() -> None:
    scan = _scan(["daaain__claude-code-log/test/test_data/sidechain_integrated.jsonl"])
    t = total(price_calls(scan, PriceTable.load()))
    # 3 responses (one written twice): 3+3+3 in, 365+183+190 out, 141,272+19,830+2,952 writes
    # (no 1h split recorded: 5-minute writes), 141,272 reads; Sonnet 4.5 at 3 / 15 / 3.75 / 0.30.
    assert (t.calls, *_figures(list(scan.calls))) == (3, 9, 738, 164054, 141272)
    assert t.cost_usd == pytest.approx((9 * 3 + 738 * 15 + 164054 * 3.75 + 141272 * 0.3) / 1e6)


@pytest.mark.parametrize(
    ("name", "figures", "cost_usd"),
    [
        ("success.ndjson", (540, 307, 7165, 41039), 0.0205089),
        ("tool-error.ndjson", (545, 274, 7258, 41218), 0.0205528),
    ],
)
def test_wild_headless_stream_equals_its_own_model_usage_and_cost(
    name: str, figures: Figures, cost_usd: float
) -> None:
    scan = _scan([f"{HARNESS}/{name}"])
    t = total(price_calls(scan, PriceTable.load()))
    assert t.calls == 2  # two streamed responses; modelUsage's surplus is not a call
    assert (t.input_tokens, t.output_tokens, t.cache_creation_input_tokens) == figures[:3]
    assert t.cache_read_input_tokens == figures[3]
    assert t.cost_usd == pytest.approx(cost_usd, abs=1e-6)  # Claude Code's own costUSD
    assert t.usage().lower_bounds == frozenset()


def test_wild_five_parallel_inline_tasks_are_five_agents() -> None:
    files, _ = CCUSAGE["viewer-fe5e1c67"]
    scan = _scan(files)
    rows = by_agent(price_calls(scan, PriceTable.load()), scan)
    agents = {r.info.description: r.totals.calls for r in rows if r.info is not None}
    assert agents == {
        "Build TODO components": 9,
        "Setup Next.js project": 34,
        "Create data models": 40,
        "Implement state management": 25,
        "Create main page integration": 53,
    }  # 161 sidechain calls, once one unnamed row
    assert scan.warnings == [
        "session fe5e1c67-53e7-4862-81ae-d0e013e3270b: 8 main-session response(s) record only "
        "a placeholder output count (their final line, with stop_reason, was never written): "
        "its output and cost are lower bounds"
    ]


def _calls(scan: Scan) -> dict[str, ApiCall]:
    return {c.message_id: c for c in scan.calls}


def test_wild_1_0_main_responses_without_a_final_line_are_lower_bounds() -> None:
    """Claude Code 1.0.98 streams a main session's response as one line per content block,
    each with the count so far; the final line (stop_reason set) is missing from 8 of its
    responses, one of 1,544 characters recording 1 output token. Its 161 inline sidechain
    responses are written whole (one count on every line) and stay exact."""
    scan = _scan(CCUSAGE["viewer-fe5e1c67"][0])
    calls = _calls(scan)
    assert calls["msg_01AuT93UJC73Mit1msuFh9r5"].output_tokens == 1
    assert not calls["msg_01AuT93UJC73Mit1msuFh9r5"].output_exact
    assert calls["msg_0175yHhPUPFGbabUiDkdjvaD"].output_exact  # its third line: tool_use
    main = [c for c in scan.calls if c.agent_id is None]
    assert sum(not c.output_exact for c in main) == 8
    sidechains = [c for c in scan.calls if c.agent_id is not None]
    assert len(sidechains) == 161 and all(c.output_exact for c in sidechains)
    rows = {r.agent_id: r for r in by_agent(price_calls(scan, PriceTable.load()), scan)}
    assert rows["main"].totals.usage().lower_bounds == {"output", "total", "usd"}
    notes = rows["main"].totals.lower_bound_notes()
    assert notes == [
        "8 main-session response(s) record only a placeholder output count (their final "
        "line, with stop_reason, was never written)"
    ]


def test_wild_2_1_39_main_responses_without_a_final_line_are_lower_bounds() -> None:
    """Claude Code 2.1.39 writes a main session's final line with usage.iterations, when it
    writes it: msg_012Vtrh1… (960 characters) has only its first line, output_tokens 1."""
    scan = _scan(CCUSAGE["spotter-ae4a77f8"][0])
    calls = _calls(scan)
    placeholder = calls["msg_012Vtrh1KUniRzp9AH8ZCu2b"]
    assert (placeholder.agent_id, placeholder.output_tokens) == (None, 1)
    assert not placeholder.output_exact
    assert not calls["msg_01KgbUaKnQG26252ASHRHWMJ"].output_exact
    main = [c for c in scan.calls if c.agent_id is None]
    assert all(c.output_tokens > 10 for c in main if c.output_exact)
    assert any(c.output_exact for c in main)
    assert any(w.startswith("session ae4a77f8-") and "main-session" in w for w in scan.warnings)


def test_wild_background_agent_is_linked_and_its_output_a_lower_bound() -> None:
    files, _ = CCUSAGE["bookminder"]
    scan = _scan(files)
    info = scan.agent("a70eebf64f6caa954")
    assert (info.tool_use_id, info.tool_name, info.background) == (
        "toolu_01UgoLp6KLJF5UKrxQtWTwa6",
        "Agent",
        True,
    )
    assert info.resolved_model == "claude-opus-5[1m]" and info.status == "async_launched"
    rows = {r.agent_id: r for r in by_agent(price_calls(scan, PriceTable.load()), scan)}
    assert rows["a70eebf64f6caa954"].totals.usage().lower_bounds == {"output", "total", "usd"}
    assert rows["main"].totals.usage().lower_bounds == frozenset()


def test_wild_multi_call_sub_agent_output_is_a_lower_bound_even_corrected() -> None:
    files, _ = CCUSAGE["spotter-258c7280"]
    scan = _scan(files)
    rows = {r.agent_id: r for r in by_agent(price_calls(scan, PriceTable.load()), scan)}
    sub = rows["a881341"]
    assert scan.agent("a881341").last_call_corrected
    assert sub.totals.output_tokens == 999  # 1 + 1 placeholders + the corrected 997
    assert sub.totals.usage().lower_bounds == {"output", "total", "usd"}


def test_wild_all_files_at_once_count_each_response_once() -> None:
    scan = _scan(["."])
    keys = [(c.message_id, c.request_id) for c in scan.calls]
    assert len(keys) == len(set(keys))
    assert scan.malformed_lines == 0
    prices = PriceTable.load()
    assert all(cost is not None for _, cost in price_calls(scan, prices))
    assert not prices.unknown_models

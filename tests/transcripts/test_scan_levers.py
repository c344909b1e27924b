"""What the scan's speed levers must keep: a usage object read at once gives what the field by
field reading gives (or the same refusal), a call crosses processes whole, the collector is
paused only while a scan runs, a price looked up once is forgotten when a price file merges in,
a file's owning session is the one a try of every root gives."""

from __future__ import annotations

import dataclasses
import gc
import pickle
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_orchphase.load.models import SessionSpec
from pytest_orchphase.usage import scan as scan_module
from pytest_orchphase.usage.pricing import PriceTable
from pytest_orchphase.usage.records import ApiCall, UsageFields
from pytest_orchphase.usage.sessions import Owners
from pytest_orchphase.usage.sources.base import FileResult
from pytest_orchphase.usage.sources.claude_code import lines
from pytest_orchphase.usage.sources.claude_code.reader import read_file
from tests.helpers import ClaudeHome, assistant

# -- usage_fields: the one-expression reading against the field by field one ----------------

VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-3, max_value=10**12),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.sampled_from(["", "fast", "us", "standard", "0"]),
    st.lists(st.integers(0, 3), max_size=2),
)
NESTED = st.one_of(
    st.none(),
    VALUES,
    st.dictionaries(
        st.sampled_from(["ephemeral_1h_input_tokens", "ephemeral_5m_input_tokens"]), VALUES
    ),
    st.dictionaries(st.sampled_from(["web_search_requests", "web_fetch_requests"]), VALUES),
)
KEYS = [
    "input_tokens",
    "output_tokens",
    "cache_creation_input_tokens",
    "cache_read_input_tokens",
    "speed",
    "inference_geo",
    "service_tier",
]


def field_by_field(usage: Any) -> UsageFields:
    """The reading before the one-expression path (kept here as the reference)."""
    if not isinstance(usage, dict):
        raise lines._Bad
    write_1h = lines._nested_int(usage, "cache_creation", "ephemeral_1h_input_tokens")
    write_5m = lines._nested_int(usage, "cache_creation", "ephemeral_5m_input_tokens")
    return (
        lines._count(usage, "input_tokens"),
        lines._count(usage, "output_tokens"),
        max(lines._count(usage, "cache_creation_input_tokens"), write_5m + write_1h),
        write_1h,
        lines._count(usage, "cache_read_input_tokens"),
        lines._nested_int(usage, "server_tool_use", "web_search_requests"),
        lines._opt_str(usage.get("speed")) or None,
        lines._opt_str(usage.get("inference_geo")) or None,
        lines._opt_str(usage.get("service_tier")) or None,
    )


def outcome(read: Any, usage: Any) -> Any:
    try:
        return read(usage)
    except (lines._Bad, lines.ImpossibleFigure):  # a null count too: no count is 0
        return "refused"


@settings(max_examples=600, deadline=None)
@given(
    flat=st.dictionaries(st.sampled_from(KEYS), VALUES),
    created=NESTED,
    server=NESTED,
    absent=st.sets(st.sampled_from(["cache_creation", "server_tool_use"])),
)
def test_usage_read_at_once_equals_the_field_by_field_reading(
    flat: dict[str, Any], created: Any, server: Any, absent: set[str]
) -> None:
    usage: dict[str, Any] = dict(flat)
    if "cache_creation" not in absent:
        usage["cache_creation"] = created
    if "server_tool_use" not in absent:
        usage["server_tool_use"] = server
    assert outcome(lines.usage_fields, usage) == outcome(field_by_field, usage)


@pytest.mark.parametrize("usage", [None, [], "usage", 3])
def test_a_usage_that_is_no_object_is_refused(usage: Any) -> None:
    with pytest.raises(lines._Bad):
        lines.usage_fields(usage)


# -- a call between processes ----------------------------------------------------------------


def test_a_call_pickles_with_every_field() -> None:
    """The scan's workers send calls as their fields' tuple: a field left out would come back
    as its default, a changed figure nowhere reported."""
    values: dict[str, Any] = {}
    for f in dataclasses.fields(ApiCall):
        if f.type in ("int",):
            values[f.name] = 7 + len(values)
        elif f.type in ("bool",):
            values[f.name] = not f.default
        elif f.name == "path":
            values[f.name] = Path("/x/y.jsonl")
        elif f.name == "timestamp":
            from datetime import datetime, timezone

            values[f.name] = datetime(2026, 1, 2, tzinfo=timezone.utc)
        elif f.name == "reported_cost":
            values[f.name] = 1.25
        else:
            values[f.name] = f"{f.name}-value"
    call = ApiCall(**values)
    back = pickle.loads(pickle.dumps(call))
    for f in dataclasses.fields(ApiCall):
        assert getattr(back, f.name) == values[f.name], f.name
        assert getattr(back, f.name) != f.default, f.name


# -- the collector ---------------------------------------------------------------------------


def test_the_collector_is_paused_during_a_scan_and_back_after(
    home: ClaudeHome, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = home.session([assistant("msg_1", "req_1")])
    seen: list[bool] = []
    real = read_file

    def read(p: Path, prompts: bool = True) -> FileResult:
        seen.append(gc.isenabled())
        return real(p, prompts)

    monkeypatch.setattr(scan_module, "read_file", read)
    assert gc.isenabled()
    scan = scan_module.scan_files([path])
    assert [c.message_id for c in scan.calls] == ["msg_1"]
    assert seen == [False]
    assert gc.isenabled()


def test_a_scan_that_raises_gives_the_collector_back(
    home: ClaudeHome, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = home.session([assistant("msg_1", "req_1")])

    def broken(p: Path, prompts: bool = True) -> FileResult:
        raise KeyboardInterrupt

    monkeypatch.setattr(scan_module, "read_file", broken)
    with pytest.raises(KeyboardInterrupt):
        scan_module.scan_files([path])
    assert gc.isenabled()


def test_a_scan_leaves_a_paused_collector_paused(home: ClaudeHome) -> None:
    path = home.session([assistant("msg_1", "req_1")])
    gc.disable()
    try:
        scan_module.scan_files([path])
        assert not gc.isenabled()
    finally:
        gc.enable()


# -- prices looked up once -------------------------------------------------------------------


def test_a_price_file_merged_in_after_a_lookup_prices_the_model(tmp_path: Path) -> None:
    table = PriceTable.load()
    assert table.price("claude-orchphase-test-1") is None
    override = tmp_path / "prices.yaml"
    override.write_text(
        "models:\n  claude-orchphase-test-1:\n    input: 1\n    output: 2\n"
        "    cache_write_5m: 1.25\n    cache_write_1h: 2\n    cache_read: 0.1\n"
    )
    from pytest_orchphase.usage.price_file import read_price_file

    table._merge(read_price_file(override).model_dump(), override)
    price = table.price("claude-orchphase-test-1")
    assert price is not None and price.rates.output == 2.0
    # And the other way: a model the merged file declares unpriced loses its price.
    assert table.price("claude-sonnet-4-5") is not None
    gone = tmp_path / "gone.yaml"
    gone.write_text("unpriced:\n  claude-sonnet-4-5: withdrawn for the test\n")
    table._merge(read_price_file(gone).model_dump(), gone)
    assert table.price("claude-sonnet-4-5") is None


# -- which sessions: entry owns a file ---------------------------------------------------------


def nearness(path: Path, root: Path) -> int | None:
    """The rule before the lookup by folders (kept here as the reference): a file is within its
    root when it is the root (0), or lies in the root's folder (a session file's root: its own
    folder) at any depth (1 for the folder itself, then one more for each level above); None
    when it is not within it."""
    if path == root:
        return 0
    folder = root.with_suffix("") if root.suffix == ".jsonl" else root
    chain = [path, *path.parents]
    return chain.index(folder) + 1 if folder in chain else None


PARTS = st.sampled_from(["p", "q", "s.jsonl", "s", "agent-1.jsonl", "subagents", "x.json"])
PATHS = st.lists(PARTS, min_size=0, max_size=4).map(lambda parts: Path("/r", *parts))


@settings(max_examples=500, deadline=None)
@given(roots=st.lists(PATHS, max_size=6), files=st.lists(PATHS, max_size=8))
def test_a_files_owner_is_the_nearest_root_it_is_within(
    roots: list[Path], files: list[Path]
) -> None:
    """The most specific entry holding a file owns it (the first of equally near ones): an
    entry naming one file of a folder another entry names, listed after it, still has it."""
    specs = [SessionSpec(session=f"s{n}") for n in range(len(roots))]
    owners = Owners([*zip(roots, specs, strict=True), (Path("/r/p"), None)])
    for path in files:
        near = [(nearness(path, root), n) for n, root in enumerate(roots)]
        ranked = sorted((d, n) for d, n in near if d is not None)
        expected = specs[ranked[0][1]] if ranked else None
        call = ApiCall("m", "r", "x", path=path)
        assert owners(call) is expected
        assert owners(call) is expected  # and from the per-file memo


@pytest.mark.parametrize("lead_read_first", [True, False])
def test_a_call_read_from_nested_roots_is_the_innermost_entrys(lead_read_first: bool) -> None:
    """A sub-agent's call, in its parent session's file and its own (named apart): the sub-agent
    entry's, whichever file was read first; copies in unrelated roots leave it the first file's
    (refuse_calls_given_twice refuses them when they give it to two places)."""
    lead, sub = Path("/r/s.jsonl"), Path("/r/s/subagents/agent-1.jsonl")
    copy = Path("/elsewhere/agent-1.jsonl")
    specs = [SessionSpec(session="s", lead=True), SessionSpec(path=str(sub), ticket="R01")]
    specs.append(SessionSpec(path=str(copy), ticket="R02"))
    first, other = (lead, sub) if lead_read_first else (sub, lead)
    call = ApiCall("m", "r", "x", path=first)
    roots: list[tuple[Path, SessionSpec | None]] = list(zip([lead, sub], specs, strict=False))
    assert Owners(roots, {("m", "r"): {other}})(call) is specs[1]
    assert Owners(roots)(call) is specs[0 if lead_read_first else 1]  # no copies: its own file
    owners = Owners([*roots, (copy, specs[2])], {("m", "r"): {other, copy}})
    assert owners(call) is specs[0 if lead_read_first else 1]
    assert owners.unrelated([first, other, copy]) == [((0, lead), (2, copy)), ((1, sub), (2, copy))]

"""A headless result's figures checked against each other: the main agent's ``usage`` is part
of ``modelUsage`` (every agent's), and Claude Code's own cost is never above the figure shown
exact."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pytest_orchphase.usage.scan import scan_paths
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

"""The plan's own A1 execution log holds most mistakes a hand-kept log can hold: each is caught.

tests/fixtures/plan-a1-execution-log.yaml is the block as printed in the plan. Each test fixes the
mistakes the previous one found and checks the next is reported.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_orchphase.errors import InvalidFile, OrchphaseError, display
from pytest_orchphase.evaluate.declared import declared_mismatches
from pytest_orchphase.load import validation, yamlio
from pytest_orchphase.load.models import ExecutionLog
from pytest_orchphase.load.phase import load_phase
from pytest_orchphase.metrics.registry import MetricContext
from pytest_orchphase.usage.accounts import hand_accounts
from tests.helpers import FIXTURES, REPO

LOG = FIXTURES / "plan-a1-execution-log.yaml"
UNQUOTED = "    - Classify complexity (R03: mechanical, R06: nuanced)"
QUOTED = '    - "Classify complexity (R03: mechanical, R06: nuanced)"'


def printed() -> str:
    return LOG.read_text()


def quoted() -> str:
    return printed().replace(UNQUOTED, QUOTED)


def deduplicated() -> str:
    text = quoted()
    text = text.replace("  planning_overhead: 20000", "  unbatched_planning_overhead: 20000")
    return text.replace("  planning_overhead: 12000", "  batched_planning_overhead: 12000")


def without_stray_stages() -> str:
    """Drop the stage entries the plan put inside `tickets` (a copy of R03 with timestamps)."""
    lines = deduplicated().splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line == "  branch_creation:\n")
    end = next(i for i, line in enumerate(lines) if line.startswith("totals:"))
    return "".join(lines[:start] + lines[end:])


def test_as_printed_it_is_a_syntax_error_at_the_unquoted_colon() -> None:
    line = printed().splitlines().index(UNQUOTED) + 1
    with pytest.raises(OrchphaseError) as err:
        yamlio.parse(printed(), LOG)
    assert err.value.line == line
    assert err.value.column is not None
    assert UNQUOTED[err.value.column - 1 :].startswith(": ")  # at an unquoted ': ' of that line
    assert str(err.value).startswith(f"{display(LOG)}:{line}:")
    assert "mapping values are not allowed" in str(err.value)
    assert "quote it" in str(err.value)


def test_quoted_it_repeats_planning_overhead_which_is_an_error_not_a_silent_overwrite() -> None:
    text = quoted()
    first = text.splitlines().index("  planning_overhead: 20000  # 2 × 10k separate planning") + 1
    second = text.splitlines().index("  planning_overhead: 12000  # Shared planning") + 1
    with pytest.raises(OrchphaseError) as err:
        yamlio.parse(text, LOG)
    assert err.value.line == second
    assert err.value.field == "batching_analysis.planning_overhead"
    assert f"first at line {first}" in err.value.message


def test_stage_entries_inside_tickets_are_reported() -> None:
    doc = yamlio.parse(deduplicated(), LOG)
    with pytest.raises(InvalidFile) as err:
        validation.validate(doc, ExecutionLog)
    tickets_line = deduplicated().splitlines().index("tickets:") + 1
    problem = err.value.problems[0]
    assert problem.field == "tickets"
    assert problem.line == tickets_line
    assert "branch_creation, implementation, monitoring, review, finalization are stages" in (
        problem.message
    )


def _phase(tmp_path: Path, log_text: str) -> MetricContext:
    criteria = tmp_path / "criteria"
    criteria.mkdir()
    (criteria / "baselines.yaml").write_text((REPO / "criteria" / "baselines.yaml").read_text())
    (criteria / "a1.yaml").write_text(
        "phase: a1\ndata: plan-a1\ncriteria:\n  - id: tokens\n    metric: tokens\n"
        "    measure: total\n    max: 100k\n"
    )
    data = tmp_path / "data" / "plan-a1"
    data.mkdir(parents=True)
    (data / "metadata.yaml").write_text("phase: A1_conservative\ntickets: [R03, R06]\n")
    (data / "execution-log.yaml").write_text(log_text)
    phase = load_phase(criteria, tmp_path / "data", "a1")
    return MetricContext(phase=phase, accounts=hand_accounts(phase))


def test_fixed_it_loads_and_exactly_its_two_arithmetic_slips_are_flagged(tmp_path: Path) -> None:
    ctx = _phase(tmp_path, without_stray_stages())
    slips = {m.field: (m.declared, m.computed) for m in declared_mismatches(ctx.phase)}
    assert slips == {
        "batching_analysis.unbatched_cost": (96000, 94000),  # (10k + 32k) + (10k + 42k)
        "batching_analysis.batching_savings": (10000, 8000),  # 20k - 12k
    }


def test_its_correct_figures_are_recomputed_not_just_trusted(tmp_path: Path) -> None:
    ctx = _phase(tmp_path, without_stray_stages())
    assert ctx.phase_usage().total == 86000
    assert ctx.ticket_usage("R03").total == 32000
    assert ctx.ticket_usage("R06").total == 42000

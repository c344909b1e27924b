"""Review 22 (read-only review of the merges d339a33..main): each finding as a test that fails
on main, marked xfail(strict) so the suite stays green until it is fixed."""

from __future__ import annotations

import pytest

from tests.helpers import Phase
from tests.plugin.test_attribution_truths import answer, flat, run


@pytest.mark.xfail(
    strict=True,
    reason="review22: families.may_be calls a dated snapshot id 'less precise' than an alias of "
    "another model: its membership is known (not that model), the criterion fails instead",
)
def test_a_snapshot_id_is_not_a_may_be_of_another_models_alias(pytester: pytest.Pytester) -> None:
    """R01 records the exact snapshot `claude-haiku-4-5-20251001` (what a transcript records);
    the criterion filters on `claude-3-5-haiku`, an alias of another model
    (`claude-3-5-haiku-20241022`, which R02 records). R01 is certainly not on it, so its fix
    loop is none of the criterion's business and the phase is YES. Main says R01 "records its
    model only as 'claude-haiku-4-5-20251001', not which haiku model id" (false: it is the most
    precise record there is) and fails the criterion: a wrong NO on ordinary measured data."""
    Phase.of(
        "b1",
        [
            {
                "id": "loops",
                "for_each": "ticket",
                "where": {"execution_model": "claude-3-5-haiku"},
                "metric": "fix_loops",
                "max": 0,
            },
        ],
        {
            "R01": flat(execution_model="claude-haiku-4-5-20251001", fix_loops=1),
            "R02": flat(execution_model="claude-3-5-haiku-20241022"),
        },
    ).write(pytester.path)
    result = run(pytester, "b1")
    assert "not which haiku model id" not in result.stdout.str()
    assert answer(pytester) == "YES", result.stdout.str()
    assert result.ret == 0

"""Review 22 (read-only review of the merges d339a33..main): each finding as a test that failed
on main. The review PASS beside a ticket's failure, and a shared planning that failed, are in
test_failures_the_log_records.py."""

from __future__ import annotations

import pytest

from tests.helpers import Phase, decision, flat_ticket, run_phase


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
            "R01": flat_ticket(execution_model="claude-haiku-4-5-20251001", fix_loops=1),
            "R02": flat_ticket(execution_model="claude-3-5-haiku-20241022"),
        },
    ).write(pytester.path)
    result = run_phase(pytester, "b1")
    assert "not which haiku model id" not in result.stdout.str()
    assert decision(pytester) == "YES", result.stdout.str()
    assert result.ret == 0


def test_a_snapshot_of_the_model_a_filter_names_is_that_model(pytester: pytest.Pytester) -> None:
    """The other side: R02 records `claude-3-5-haiku-20241022`, a snapshot of the model the
    filter names undated (`claude-3-5-haiku`): it is that model, so its fix loop counts and
    `max: 0` fails. Left out (a full id matching only exactly), the phase would say YES."""
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
            "R01": flat_ticket(execution_model="claude-haiku-4-5-20251001"),
            "R02": flat_ticket(execution_model="claude-3-5-haiku-20241022", fix_loops=1),
        },
    ).write(pytester.path)
    result = run_phase(pytester, "b1")
    assert decision(pytester) != "YES", result.stdout.str()
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*loops*R02*FAIL*"])


def _measured_m1(pytester: pytest.Pytester) -> dict[str, object]:
    """Measured phase m1: R01's sub-agent a1 ("R01 implement", 20,010 tokens) in phase-m1/runs;
    R01's log entry, which a second phase copies."""
    from tests.plugin.test_attribution_truths import measured_batch

    implemented: dict[str, object] = {
        "execution_model": "sonnet",
        "implementation": {
            "estimated_tokens": 20_000,
            "status": "completed",
            "agents": {"description_pattern": "R01"},
        },
    }
    measured_batch(
        pytester,
        [{"id": "x", "metric": "fix_loops", "for_each": "ticket", "max": 5}],
        {"R01": implemented},
        [("a1", "R01 implement", 20_000)],
    )
    return implemented


def test_a_sessions_folder_holding_another_phases_data_folder_is_an_error(
    pytester: pytest.Pytester,
) -> None:
    """m1 is a measured phase (its run in phase-m1/runs). m2 has no transcript of its own; its
    metadata names `sessions: [{path: ..}]`, the data root, which holds phase-m1 (and m2's own
    folder). Since 0c79e49 `../phase-m1/runs` (a path inside another phase's data folder) is an
    error at `sessions[0]`; a folder *around* it is scanned whole, m1's calls are measured as
    m2's R01 (its description pattern matches), and m2 says YES on m1's run (exit 0). Expected:
    the same error, naming phase-m1's folder (or m2's R01 unmeasured), never YES."""
    implemented = _measured_m1(pytester)
    Phase.of(
        "m2",
        [{"id": "cap", "for_each": "ticket", "metric": "tokens", "measure": "total", "max": "40k"}],
        {"R01": implemented},
        metadata={"phase": "m2", "tickets": ["R01"], "sessions": [{"path": ".."}]},
    ).write(pytester.path)
    result = run_phase(pytester, "m2")
    assert result.ret != 0, result.stdout.str()
    assert "phase-m1" in result.stdout.str() + result.stderr.str()


@pytest.mark.parametrize("link", ["transcripts", "transcripts/projects"])
def test_a_transcripts_link_into_another_phases_data_folder_is_an_error(
    pytester: pytest.Pytester, link: str
) -> None:
    """m2's metadata names no sessions; its `transcripts/` folder (or a folder in it) is a
    symbolic link to phase-m1/runs, m1's run. m2 measures m1's calls as its R01's and says YES
    (exit 0). The resolved path lies in another phase's data folder, exactly what 0c79e49 makes
    an error for a `sessions:` path. Expected: the same error (or R01 unmeasured), never YES."""
    import os

    implemented = _measured_m1(pytester)
    folder = Phase.of(
        "m2",
        [{"id": "cap", "for_each": "ticket", "metric": "tokens", "measure": "total", "max": "40k"}],
        {"R01": implemented},
    ).write(pytester.path)
    (folder / link).parent.mkdir(parents=True, exist_ok=True)
    os.symlink(folder.parent / "phase-m1" / "runs", folder / link)
    result = run_phase(pytester, "m2")
    assert result.ret != 0, result.stdout.str()
    assert decision(pytester) != "YES"


def test_readme_exit_code_table_lists_todays_log_errors() -> None:
    """f18066d made three log contradictions collection errors (exit 2): `result: PASS` beside
    the review's own `status: failed`/`requires_fix`/`verification: failed`, review attempts
    past 1 + fix_loops, and `fix_loops: 0` beside a `verification: failed` a later stage fixed.
    README's Exit codes table, row 2, still lists only the round-3 forms (`result: PASS` beside a
    `FAIL` checklist item; `fix_loops: 0` beside a fix stage or a `requires_fix` made later)."""
    from tests.helpers import REPO

    row = next(
        line
        for line in (REPO / "README.md").read_text().splitlines()
        if line.startswith("| 2 (collection error)")
    )
    assert "attempts" in row and "verification" in row, row


@pytest.mark.parametrize("metric", ["review_passed", "all_reviews_passed"])
def test_a_skipped_review_with_result_pass_is_no_yes(
    pytester: pytest.Pytester, metric: str
) -> None:
    """f18066d: `result: PASS` beside the review's own `status: failed`/`requires_fix` or
    `verification: failed` is an error, since `review_passed` passed on it. The review's
    `status: skipped` says it never ran, so its PASS is no review at all; the ticket is not
    "not finished" (one stage skipped beside others that ran is allowed), and `review_passed`
    (and `all_reviews_passed`) PASS: YES, exit 0. Expected: an error at the review, or the
    item failing; never YES."""
    ticket: dict[str, object] = {
        "execution_model": "sonnet",
        "fix_loops": 0,
        "implementation": {"estimated_tokens": 10_000, "status": "completed"},
        "review": {"result": "PASS", "attempts": 1, "status": "skipped"},
    }
    criterion: dict[str, object] = {"id": "rev", "metric": metric, "equals": True}
    if metric == "review_passed":
        criterion["for_each"] = "ticket"
    Phase.of("b1", [criterion], {"R01": ticket}).write(pytester.path)
    result = run_phase(pytester, "b1")
    assert decision(pytester) != "YES", result.stdout.str()
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*result is PASS but the review's status is skipped*"])


def _readme_conftest() -> str:
    """The README's conftest example, as a user copies it."""
    from tests.helpers import REPO

    text = (REPO / "README.md").read_text()
    start = text.index("# conftest.py\n")
    return text[start : text.index("```", start)]


def _review_share_phase(pytester: pytest.Pytester, *, stray: bool) -> None:
    """Phase m1, measured: R01's implementer (20,010 tokens) and reviewer (5,010) mapped by
    their descriptions, and with ``stray`` a 50,010-token sub-agent no rule places; one
    criterion, the README example's `review_share` under `max: 25%`, with the example as the
    project's conftest."""
    from tests.plugin.test_attribution_truths import measured_batch

    staged: dict[str, object] = {
        "execution_model": "sonnet",
        "implementation": {
            "estimated_tokens": 20_000,
            "status": "completed",
            "agents": {"description_pattern": "R01 implement"},
        },
        "review": {
            "estimated_tokens": 5_000,
            "status": "completed",
            "result": "PASS",
            "attempts": 1,
            "agents": {"description_pattern": "R01 review"},
        },
        "fix_loops": 0,
    }
    agents = [("a1", "R01 implement", 20_000), ("a2", "R01 review", 5_000)]
    measured_batch(
        pytester,
        [{"id": "share", "metric": "review_share", "max": "25%"}],
        {"R01": staged},
        [*agents, ("a3", "stray", 50_000)] if stray else agents,
    )
    (pytester.path / "conftest.py").write_text(_readme_conftest())


def test_readme_review_share_example_is_no_yes_beside_unattributed_usage(
    pytester: pytest.Pytester,
) -> None:
    """README "Extending in Python", the conftest example verbatim. R01's review sub-agent made
    5,010 tokens, its implementation 20,010; a 50,010-token sub-agent no rule places may be the
    review's (the YAML `stage_tokens` counts it so, as an upper bound). review_share is shown as
    an exact 6.3 %, `max: 25%` passes, YES; the true share may be 69 %. Expected: not YES (a plain
    value computed from a bounded usage is not exact; or the README example says how to keep
    the bound)."""
    _review_share_phase(pytester, stray=True)
    result = run_phase(pytester, "m1")
    assert decision(pytester) != "YES", result.stdout.str()
    result.stdout.fnmatch_lines(["*review's share is not known*"])


def test_the_readme_review_share_example_still_decides_when_all_is_placed(
    pytester: pytest.Pytester,
) -> None:
    """No over-correction: the same phase without the stray sub-agent: the example's share is
    5,010 / 25,030 (about 20 %), exact, and `max: 25%` passes."""
    _review_share_phase(pytester, stray=False)
    result = run_phase(pytester, "m1")
    assert decision(pytester) == "YES", result.stdout.str()


@pytest.mark.parametrize(
    "planning",
    [
        pytest.param(
            {"estimated_tokens": 5_000, "status": "completed", "verification": "failed"},
            id="verification-failed",
        ),
        pytest.param(
            {"estimated_tokens": 5_000, "status": "failed"},
            id="status-failed",
        ),
    ],
)
def test_shared_planning_that_failed_or_needs_a_fix_is_no_yes(
    pytester: pytest.Pytester, planning: dict[str, object]
) -> None:
    """Today (23676bc and siblings) shared planning `status: requires_fix` has not finished:
    its figures are lower bounds (this `max` fails: NO; UNDECIDED when nothing fails). f18066d
    made `verification: failed` a fix the stage needed, exactly as `requires_fix`
    (`fix_needed`), but `planning_unfinished` reads `status` alone: planning whose verification
    failed (nothing after it to make the fix), or whose status is `failed`, leaves
    `shared_planning_tokens` exact and the phase YES (exit 0). Expected: not YES, as for
    `requires_fix` (checked: NO)."""
    Phase.of(
        "b1",
        [{"id": "plan", "metric": "shared_planning_tokens", "measure": "total", "max": "10k"}],
        {"R01": flat_ticket(), "R02": flat_ticket()},
        planning=planning,
    ).write(pytester.path)
    result = run_phase(pytester, "b1")
    assert decision(pytester) != "YES", result.stdout.str()
    assert result.ret != 0

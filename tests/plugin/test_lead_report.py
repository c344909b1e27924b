"""The report a lead acts on: the per-ticket table with caps, results, origin and the delta
against the compared phase; context compaction on its own line; the log's own notes."""

from __future__ import annotations

import json
import re

import pytest

from tests.helpers import REAL_TRANSCRIPTS, ClaudeHome, Phase, assistant, fail_a2, usage


def test_the_ticket_table_in_terminal_markdown_and_json(project: pytest.Pytester) -> None:
    result = project.runpytest(
        "--phase", "a2", "--orchphase-json", "r.json", "--orchphase-md", "r.md"
    )
    result.assert_outcomes(passed=10)
    # a1 → a2 own tokens: R03 29,200 → 28,300, R06 36,200 → 35,100; R07 is new in a2
    result.stdout.fnmatch_lines(
        [
            "Tickets (own stages; shared planning apart):",
            "ticket*model*tokens*USD*cap*result*figures*tokens saved vs a1",
            "R03*haiku*28,300*unknown*< 45,000*PASS*recorded*+900",
            "R06*sonnet*35,100*unknown*< 45,000*PASS*recorded*+1,100",
            "R07*sonnet*37,500*unknown*< 45,000*PASS*recorded",
        ]
    )
    markdown = (project.path / "r.md").read_text()
    assert (
        "| R03      | haiku   | 28,300   | unknown | < 45,000 | PASS     | recorded  | +900"
        in markdown
    )
    rows = json.loads((project.path / "r.json").read_text())["ticket_table"]
    r03 = rows[0]
    assert (r03["ticket"], r03["model"], r03["tokens"], r03["usd"], r03["origin"]) == (
        "R03",
        "haiku",
        28300,
        None,
        "recorded",
    )
    assert (r03["cap_operator"], r03["cap"], r03["result"], r03["failing"]) == (
        "below",
        45000.0,
        "PASS",
        [],
    )
    assert (r03["versus"], r03["delta_tokens"], r03["delta_usd"]) == ("a1", 900, None)
    assert rows[2]["versus"] is None and rows[2]["delta_tokens"] is None


def test_a_failing_ticket_names_its_items(project: pytest.Pytester) -> None:
    fail_a2(project.path)
    result = project.runpytest("--phase", "a2", "-p", "no:randomly")
    result.stdout.fnmatch_lines(["R03*haiku*FAIL (haiku-validation[[]R03[]])*recorded*"])


def test_the_logs_notes_are_in_the_report(project: pytest.Pytester) -> None:
    result = project.runpytest(
        "--phase", "a2", "--orchphase-md", "r.md", "--orchphase-json", "r.json"
    )
    result.stdout.fnmatch_lines(
        [
            "Key insight (log): Haiku handled the mechanical rename with one retry*",
            "Error encountered (log): R03 (mechanical): missed one call site of the renamed helper",
        ]
    )
    markdown = (project.path / "r.md").read_text()
    assert "## Notes from the log" in markdown
    assert "**Risk:** MEDIUM - Haiku on R03 experimental" in markdown
    assert "- Haiku works for mechanical (R03)" in markdown
    notes = json.loads((project.path / "r.json").read_text())["notes"]
    assert notes["errors_encountered"][0]["required_upgrade"] == "haiku_retry"


def _compaction_phase(pytester: pytest.Pytester) -> None:
    c1 = Phase.of(
        "c1",
        [{"id": "cost", "metric": "tokens", "measure": "usd", "max": 5}],
        {"R01": {"implementation": {"model": "opus", "estimated_tokens": 500, "fix_loops": 0}}},
        planning={"model": "opus", "estimated_tokens": 1000},
        metadata={"phase": "C1", "tickets": ["R01"]},
    )
    c1.write(pytester.path)
    home = c1.transcripts(pytester.path)
    home.session([assistant("msg_p", "req_p", u=usage(inp=10, out=500, cw=20000))])
    home.subagent(
        "acompact-1", [assistant("msg_c", "req_c", agent_id="acompact-1", u=usage(cw=60000))]
    )


def test_context_compaction_is_on_its_own_line(pytester: pytest.Pytester) -> None:
    _compaction_phase(pytester)
    result = pytester.runpytest(
        "--phase", "c1", "--orchphase-json", "r.json", "--orchphase-md", "r.md"
    )
    # planning 10 + 500 + 20,000 and compaction 1 + 1 + 60,000: 60,002 of 80,512 tokens; Opus
    # 4.6 ($5 in, $25 out, $6.25 5-minute cache write per million): $0.37503 of $0.51258
    line = (
        "Context compaction: 60,002 tokens, $0.3750 — counted in shared planning: 75% of its "
        "tokens and 73% of its USD"
    )
    result.stdout.fnmatch_lines([line])
    assert line in (pytester.path / "r.md").read_text()
    report = json.loads((pytester.path / "r.json").read_text())
    assert report["usage"]["compaction"]["cache_write"] == 60000
    assert report["usage"]["shared_planning"]["total"] == 80512  # still counted there


def test_without_compaction_there_is_no_line(project: pytest.Pytester) -> None:
    result = project.runpytest("--phase", "a1")
    assert "Context compaction" not in result.stdout.str()


@pytest.mark.skipif(not REAL_TRANSCRIPTS.is_dir(), reason="the real samples are not here")
def test_compaction_of_the_real_sample_is_most_of_its_planning(pytester: pytest.Pytester) -> None:
    import shutil

    _compaction_phase(pytester)
    data = pytester.path / "docs" / "orchestration-data" / "phase-c1"
    shutil.rmtree(data / "transcripts")
    shutil.copytree(
        REAL_TRANSCRIPTS / "projects" / "-home-USER-projects-spotter-worktrees-spotter-4te",
        data / "transcripts",
    )
    result = pytester.runpytest("--phase", "c1", "--orchphase-md", "r.md")
    result.stdout.fnmatch_lines(
        [
            "Context compaction: 139,542 tokens, $0.7697 — counted in shared planning: "
            "69% of its tokens and 92% of its USD"
        ]
    )
    # R01's usage is unknown (an unattributed agent): the markdown says so instead of failing
    markdown = (pytester.path / "r.md").read_text()
    # the USD column is as wide as its widest figure ("≥ $0.5126" when that is a lower bound)
    assert "| **total**" in markdown and re.search(r"\| \*\*unknown\*\* +\| unknown +\|", markdown)
    assert "Traceback" not in result.stdout.str()


def test_markdown_of_a_phase_whose_total_is_unknown(pytester: pytest.Pytester) -> None:
    """R01 has no measured usage while a sub-agent is unattributed: the phase's total is
    unknown, and the markdown says so (it used to stop the run with a traceback)."""
    _compaction_phase(pytester)
    home = ClaudeHome(pytester.path / "docs" / "orchestration-data" / "phase-c1" / "transcripts")
    home.subagent("a9", [assistant("msg_9", "req_9", agent_id="a9", u=usage(cw=100))])
    result = pytester.runpytest("--phase", "c1", "--orchphase-md", "r.md")
    assert result.ret == 1  # the cost criterion cannot be evaluated: a failure, not a crash
    markdown = (pytester.path / "r.md").read_text()
    # the USD column is as wide as its widest figure ("≥ $0.5126" when that is a lower bound)
    assert "| **total**" in markdown and re.search(r"\| \*\*unknown\*\* +\| unknown +\|", markdown)
    assert "Traceback" not in result.stdout.str() + result.stderr.str()

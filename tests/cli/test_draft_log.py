"""orchphase draft-log: the execution log drafted from measured usage, right after orchphase init.

The drafted figures are the ones `pytest --phase` measures; the judgements stay placeholders, so a
draft passes only once a person fills them, and fails when they are filled with a failing fact.
`--out` never writes over a file a phase reads (its log, a transcript, another phase's source)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from pytest_orchphase import cli
from pytest_orchphase.load import yamlio
from pytest_orchphase.settings import KEYS
from tests.helpers import (
    REAL_TRANSCRIPTS,
    ClaudeHome,
    Phase,
    agent_result,
    assistant,
    flat_ticket,
    jsonl_line,
    read_report,
    spawn_block,
    usage,
    user,
    write_jsonl,
)
from tests.plugin.test_report_paths import CAP

LEAD = "11111111-0000-0000-0000-000000000001"
HAIKU = "claude-haiku-4-5-20251001"
A4 = Path("docs/orchestration-data/phase-a4-r08-r09")
LOG = A4 / "execution-log.yaml"
DRAFT = A4 / "execution-log.draft.yaml"
CRITERIA = """\
phase: a4
data: phase-a4-r08-r09
criteria:
  - id: token-efficiency
    for_each: ticket
    metric: tokens
    measure: total
    below: 70k
  - id: quality
    for_each: ticket
    all:
      - {metric: fix_loops, max: 1}
      - {metric: review_passed, equals: true}
  - id: reviews
    metric: all_reviews_passed
    equals: true
"""
PLACEHOLDER = re.compile(r"\$\{([A-Z0-9_]+)\}")


@pytest.fixture
def a4(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """`orchphase init a4 --tickets R08,R09`, caps written, and the phase's sessions: the lead
    (10,010 tokens) spawning R08's implementer (8,006, Opus), R09's (50,006, Haiku) and R08's
    reviewer (7,006)."""
    for key in KEYS:
        monkeypatch.delenv(key.env, raising=False)
    monkeypatch.chdir(pytester.path)
    assert cli.main(["init", "a4", "--tickets", "R08,R09"]) == 0
    (pytester.path / "criteria" / "a4.yaml").write_text(CRITERIA)
    (pytester.path / "criteria" / "baselines.yaml").unlink()
    metadata = pytester.path / A4 / "metadata.yaml"
    metadata.write_text(metadata.read_text().replace("${EXPECTED_TOKENS}", "80k"))
    home = ClaudeHome(pytester.path / A4 / "transcripts")
    calls = (
        ("a1", "m1", "claude-opus-4-6", 8000, "2026-02-12T14:13:00.000Z"),
        ("a2", "m2", HAIKU, 50000, "2026-02-12T14:20:00.000Z"),
        ("a3", "m3", "claude-opus-4-6", 7000, "2026-02-12T14:30:00.000Z"),
    )
    for agent, msg, model, cw, ts in calls:
        line = assistant(
            msg, "q" + msg, agent_id=agent, session=LEAD, model=model, u=usage(inp=5, cw=cw), ts=ts
        )
        home.subagent(agent, [line], session=LEAD)
    spawns = [
        spawn_block("t1", description="R08: rename the helper"),
        spawn_block("t2", description="R09: export button"),
        spawn_block("t3", description="Review R08"),
    ]
    home.session(
        [
            user("Plan R08 and R09", session=LEAD),
            assistant("m0", "q0", session=LEAD, u=usage(inp=10, out=0, cw=10000), content=spawns),
            *(
                agent_result(f"t{i}", agent, usage(inp=5, cw=cw), session=LEAD)
                for i, (agent, _, _, cw, _) in enumerate(calls, 1)
            ),
        ],
        session=LEAD,
    )
    return pytester


def filled(text: str, **values: str) -> str:
    """The draft with each placeholder replaced: by name, else by its field's passing value."""
    passing = {
        "COMPLEXITY": "mechanical",
        "STATUS": "completed",
        "FIX_LOOPS": "0",
        "ERRORS_ENCOUNTERED": "[]",
        "CODE_CORRECTNESS": "same",
        "PATTERN_FOLLOWING": "same",
        "EDGE_CASE_HANDLING": "same",
        "REVIEW_TIER": "T1",
        "REVIEW_RESULT": "PASS",
        "REVIEW_ATTEMPTS": "1",
        "CHECKLIST_RESULTS": "[]",
    }

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in values:
            return values[name]
        return next(v for k, v in passing.items() if name.endswith(k))

    return PLACEHOLDER.sub(value, text)


def lower_bounds_as_figures(text: str) -> str:
    """A draft whose "at least N" placeholders are filled with N (what a person who accepts
    the measured lower bound writes)."""
    return re.sub(
        r"\$\{\w+_ACTUAL\}(  # measured at least )([\d,]+)",
        lambda m: m.group(2).replace(",", "") + m.group(1) + m.group(2),
        text,
    )


def draft(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = cli.main(["draft-log", "a4", *args])
    out = capsys.readouterr()
    return status, out.out, out.err


def test_right_after_init_the_draft_holds_the_measured_figures_and_the_log_is_untouched(
    a4: pytest.Pytester, capsys: pytest.CaptureFixture[str]
) -> None:
    before = (a4.path / LOG).read_bytes()
    status, out, _ = draft(capsys)
    assert status == 0, out
    assert f"wrote {DRAFT}: 22 values to fill" in out
    assert (a4.path / LOG).read_bytes() == before
    data = yamlio.parse(filled((a4.path / DRAFT).read_text()), DRAFT).data
    planning = data["shared_planning"]
    assert planning["actual_tokens"] == 10010
    assert planning["model"] == "claude-opus-4-6"
    assert planning["start_time"] == "2026-02-12T14:12:23.585000Z"
    r08, r09 = data["tickets"]["R08"], data["tickets"]["R09"]
    assert r08["implementation"]["actual_tokens"] == 8006
    assert r08["implementation"]["agents"] == {"agent_ids": ["a1"]}
    assert r08["implementation"]["worker"] == "a1"
    assert r08["implementation"]["start_time"] == "2026-02-12T14:13:00Z"
    assert r08["review"]["actual_tokens"] == 7006
    assert r08["review"]["worker"] == "a3"
    assert r09["implementation"]["model"] == HAIKU
    assert r09["implementation"]["actual_tokens"] == 50006
    assert "actual_tokens" not in r09["review"]  # no reviewer of R09 was measured


def test_an_unfilled_draft_cannot_pass(
    a4: pytest.Pytester, capsys: pytest.CaptureFixture[str]
) -> None:
    assert draft(capsys)[0] == 0
    shutil.copy(a4.path / DRAFT, a4.path / LOG)
    result = a4.runpytest("--phase", "a4")
    assert result.ret == 2
    result.stdout.fnmatch_lines(
        [
            "*execution-log.yaml:*: tickets.R08.implementation.fix_loops: unfilled placeholder "
            "'${R08_FIX_LOOPS}'; expected the fix loops the ticket needed (0 when none)",
            "*execution-log.yaml:*: tickets.R09.review.result: unfilled placeholder "
            "'${R09_REVIEW_RESULT}'; expected the review's verdict: PASS or FAIL",
        ]
    )


def review_r09(a4: pytest.Pytester) -> None:
    """The lead also spawned R09's reviewer ("Review R09", 6,006 tokens on Opus): without it,
    R09's review (which the filled draft says ran) is measured nowhere, and R09's tokens are
    only a lower bound."""
    home = ClaudeHome(a4.path / A4 / "transcripts")
    call = assistant(
        "m4",
        "qm4",
        agent_id="a4",
        session=LEAD,
        model="claude-opus-4-6",
        u=usage(inp=5, cw=6000),
        ts="2026-02-12T14:40:00.000Z",
    )
    home.subagent("a4", [call], session=LEAD)
    spawn = [spawn_block("t4", description="Review R09")]
    lines = [
        assistant("m5", "q5", session=LEAD, u=usage(inp=10, out=0), content=spawn),
        agent_result("t4", "a4", usage(inp=5, cw=6000), session=LEAD),
    ]
    with (home.project / f"{LEAD}.jsonl").open("ab") as fh:
        fh.write(b"".join(jsonl_line(line) for line in lines))


def test_a_filled_draft_passes_with_the_figures_pytest_measures(
    a4: pytest.Pytester, capsys: pytest.CaptureFixture[str]
) -> None:
    review_r09(a4)
    assert draft(capsys)[0] == 0
    text = filled((a4.path / DRAFT).read_text())
    (a4.path / LOG).write_text(text)
    result = a4.runpytest("--phase", "a4", "--orchphase-json", "r.json")
    result.assert_outcomes(passed=5)
    assert result.ret == 0
    measured = read_report(a4.path)["usage"]
    drafted = yamlio.parse(text, LOG).data
    assert measured["shared_planning"]["total"] == drafted["shared_planning"]["actual_tokens"]
    for ticket in ("R08", "R09"):
        stages = measured["tickets"][ticket]["stages"]
        mine = drafted["tickets"][ticket]
        assert {s: u["total"] for s, u in stages.items()} == {
            s: v["actual_tokens"]
            for s, v in mine.items()
            if isinstance(v, dict) and "actual_tokens" in v
        }
    assert measured["tickets"]["R09"]["total"]["total"] == 56012


@pytest.mark.parametrize(
    ("values", "failing"),
    [
        ({"R08_FIX_LOOPS": "2"}, "quality[[]R08[]]"),
        ({"R09_REVIEW_RESULT": "FAIL"}, "quality[[]R09[]]"),
    ],
)
def test_a_draft_filled_with_a_failing_judgement_fails(
    a4: pytest.Pytester,
    capsys: pytest.CaptureFixture[str],
    values: dict[str, str],
    failing: str,
) -> None:
    assert draft(capsys)[0] == 0
    (a4.path / LOG).write_text(filled((a4.path / DRAFT).read_text(), **values))
    result = a4.runpytest("--phase", "a4")
    assert result.ret == 1
    result.stdout.fnmatch_lines([f"*Proceed to phase*: NO*{failing}*"])


def test_a_ticket_over_its_cap_fails_on_the_drafted_figures(
    a4: pytest.Pytester, capsys: pytest.CaptureFixture[str]
) -> None:
    (a4.path / "criteria" / "a4.yaml").write_text(CRITERIA.replace("below: 70k", "below: 50k"))
    assert draft(capsys)[0] == 0
    (a4.path / LOG).write_text(filled((a4.path / DRAFT).read_text()))
    result = a4.runpytest("--phase", "a4")
    assert result.ret == 1
    # R09's review, which the filled draft says ran, is measured nowhere: at least 50,006
    result.stdout.fnmatch_lines(
        ["*token-efficiency[[]R09[]]: tokens at least 50,006: a lower bound cannot prove below*"]
    )


def test_values_a_person_entered_are_carried_over_never_replaced(
    a4: pytest.Pytester, capsys: pytest.CaptureFixture[str]
) -> None:
    log = a4.path / LOG
    text = log.read_text()
    text = text.replace("fix_loops: ${R08_FIX_LOOPS}", "fix_loops: 1", 1)
    text = text.replace(
        "estimated_tokens: ${R08_IMPLEMENTATION_ESTIMATED}", "estimated_tokens: 9000", 1
    )
    text = text.replace("      # result: PASS ", "      result: FAIL  #", 1)
    text = text.replace("actual_tokens: ${R08_IMPLEMENTATION_ACTUAL}", "actual_tokens: 9500", 1)
    text = text.replace("      # also: worker", '      notes: "flaky CI"\n      # also:', 1)
    log.write_text(text)
    status, out, _ = draft(capsys)
    assert status == 0, out
    assert "20 values to fill" in out
    # what replacing the log with the draft would lose or change is named, never silent
    assert (
        "note: not in the draft, copy by hand before replacing the log: "
        "tickets.R08.branch_creation\n" in out
    )
    assert (
        "note: measured otherwise than the log records: "
        "tickets.R08.implementation.actual_tokens (log 9500, draft 8006)\n" in out
    )
    data = yamlio.parse(filled((a4.path / DRAFT).read_text()), DRAFT).data
    r08 = data["tickets"]["R08"]
    assert r08["implementation"]["fix_loops"] == 1
    assert r08["implementation"]["estimated_tokens"] == 9000
    assert r08["implementation"]["actual_tokens"] == 8006
    assert r08["review"]["result"] == "FAIL"
    assert log.read_text() == text


def test_an_existing_draft_is_kept_without_force(
    a4: pytest.Pytester, capsys: pytest.CaptureFixture[str]
) -> None:
    path = a4.path / DRAFT
    path.write_text("# my notes\n")
    status, _, err = draft(capsys)
    assert status == 2
    assert f"{DRAFT}: exists; not overwritten (pass --force to replace it)" in err
    assert path.read_text() == "# my notes\n"
    assert draft(capsys, "--force")[0] == 0
    assert "shared_planning:" in path.read_text()


@pytest.mark.parametrize("name", ["execution-log.yaml", "metadata.yaml"])
def test_the_log_and_metadata_are_never_the_output_even_forced(
    a4: pytest.Pytester, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    before = (a4.path / A4 / name).read_bytes()
    status, _, err = draft(capsys, f"--out={a4.path / A4 / name}", "--force")
    assert status == 2
    assert "draft-log never writes it" in err
    assert (a4.path / A4 / name).read_bytes() == before


def test_an_absolute_out_path_elsewhere_from_another_folder(
    a4: pytest.Pytester,
    capsys: pytest.CaptureFixture[str],
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    elsewhere = tmp_path_factory.mktemp("out") / "draft.yaml"
    a4.makeini("[pytest]\n")  # the project's folder, found from below it
    (a4.path / "docs").mkdir(exist_ok=True)
    monkeypatch.chdir(a4.path / "docs")
    status, _, err = draft(capsys, "--out", str(elsewhere))
    assert status == 0, err
    assert "actual_tokens: 50006" in elsewhere.read_text()
    assert not (a4.path / DRAFT).exists()


def test_a_phase_with_nothing_measured_is_an_error(
    a4: pytest.Pytester, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.rmtree(a4.path / A4 / "transcripts")
    status, _, err = draft(capsys)
    assert status == 2
    assert "names no sessions" in err and "nothing measured to draft from" in err
    assert not (a4.path / DRAFT).exists()


def test_a_figure_measured_only_as_a_lower_bound_stays_a_placeholder(
    a4: pytest.Pytester, capsys: pytest.CaptureFixture[str]
) -> None:
    """R09's implementer made two calls; its own file holds placeholder output for the first,
    which no record corrects: its total is only "at least", never written as the figure."""
    home = ClaudeHome(a4.path / A4 / "transcripts")
    first = assistant(
        "m2a",
        "q2a",
        agent_id="a2",
        session=LEAD,
        model=HAIKU,
        u=usage(inp=5, cw=100),
        ts="2026-02-12T14:19:00.000Z",
    )
    last = assistant(
        "m2",
        "qm2",
        agent_id="a2",
        session=LEAD,
        model=HAIKU,
        u=usage(inp=5, cw=50000),
        ts="2026-02-12T14:20:00.000Z",
    )
    home.subagent("a2", [first, last], session=LEAD)
    assert draft(capsys)[0] == 0
    text = (a4.path / DRAFT).read_text()
    placeholder = r"actual_tokens: \$\{R09_IMPLEMENTATION_ACTUAL\}"
    assert re.search(placeholder + r"  # measured at least 50,112, a lower bound", text)
    assert 'start_time: "2026-02-12T14:19:00Z"' in text


def test_an_unattributed_agent_is_named_and_a_ticket_without_usage_stays_a_placeholder(
    a4: pytest.Pytester, capsys: pytest.CaptureFixture[str]
) -> None:
    """R09's implementer's Task names no ticket: its usage is unattributed, R09 unmeasured."""
    session = a4.path / A4 / "transcripts" / "projects"
    lead = next(session.rglob(f"{LEAD}.jsonl"))
    lead.write_text(lead.read_text().replace("R09: export button", "export button"))
    status, out, _ = draft(capsys)
    assert status == 0
    assert "note: R09: no measured usage while some usage is unattributed" in out
    assert "note: unattributed: 50,006 tokens in no ticket" in out
    text = (a4.path / DRAFT).read_text()
    assert "#   agent a2 (export button): no mapping and no ticket id in the Task" in text
    assert "actual_tokens: ${R09_IMPLEMENTATION_ACTUAL}" in text


PROJECT = REAL_TRANSCRIPTS / "projects" / "-home-USER-projects-spotter-worktrees-spotter-4te"


def real_phase(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, sources: list[Path]
) -> Path:
    """Phase r1 with one ticket, S1, whose sub-agents are all mapped to its implementation;
    ``sources`` (session files and their folders) copied into its transcripts/ folder."""
    for key in KEYS:
        monkeypatch.delenv(key.env, raising=False)
    monkeypatch.chdir(pytester.path)
    assert cli.main(["init", "r1", "--tickets", "S1"]) == 0
    folder = pytester.path / "docs/orchestration-data/phase-r1-s1"
    (pytester.path / "criteria" / "baselines.yaml").unlink()
    metadata = folder / "metadata.yaml"
    metadata.write_text(metadata.read_text().replace("${EXPECTED_TOKENS}", "300k"))
    for source in sources:
        if source.is_dir():
            shutil.copytree(source, folder / "transcripts" / source.name)
        else:
            (folder / "transcripts").mkdir(exist_ok=True)
            shutil.copy(source, folder / "transcripts" / source.name)
    (pytester.path / "criteria" / "r1.yaml").write_text(
        "phase: r1\ndata: phase-r1-s1\ncriteria:\n"
        "  - {id: cap, for_each: ticket, metric: tokens, measure: input, min: 0}\n"
    )
    log = folder / "execution-log.yaml"
    mapped = "    implementation:\n      agents: {description_pattern: .}\n"
    log.write_text(log.read_text().replace("    implementation:\n", mapped, 1))
    return folder


def draft_and_measure(
    pytester: pytest.Pytester, capsys: pytest.CaptureFixture[str], folder: Path
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The draft (filled, lower bounds taken as drafted) and the usage `pytest --phase r1`
    measures with it as the log."""
    assert cli.main(["draft-log", "r1"]) == 0, capsys.readouterr()
    text = filled(lower_bounds_as_figures((folder / "execution-log.draft.yaml").read_text()))
    log = folder / "execution-log.yaml"
    log.write_text(text)
    result = pytester.runpytest("--phase", "r1", "--orchphase-json", "r.json")
    assert result.ret == 0, result.stdout.str()
    drafted: dict[str, Any] = yamlio.parse(text, log).data
    return drafted, read_report(pytester.path)["usage"]


@pytest.mark.skipif(not PROJECT.is_dir(), reason="the real samples are not here")
def test_on_real_transcripts_the_draft_equals_what_pytest_measures(
    pytester: pytest.Pytester, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real spotter session (an Opus lead, a Sonnet sub-agent whose last call the parent
    corrects, a compaction): one ticket, S1, whose sub-agent is mapped by its Task description."""
    folder = real_phase(pytester, monkeypatch, list(PROJECT.iterdir()))
    drafted, measured = draft_and_measure(pytester, capsys, folder)
    assert measured["shared_planning"]["total"] == drafted["shared_planning"]["actual_tokens"]
    stages = measured["tickets"]["S1"]["stages"]
    assert set(stages) == {"implementation"}
    s1 = drafted["tickets"]["S1"]["implementation"]
    assert s1["agents"] == {"agent_ids": ["aac57f5"], "description_pattern": "."}
    assert s1["model"] == "claude-sonnet-4-5-20250929"
    assert s1["actual_tokens"] == stages["implementation"]["total"] == 51440
    assert drafted["shared_planning"]["actual_tokens"] == 201132  # a lower bound: compaction


SPOTTER = REAL_TRANSCRIPTS / "wild" / "marot__spotter" / "test" / "fixtures" / "transcripts"
FOREST = REAL_TRANSCRIPTS / "wild" / "reality2-roycdavies__vr-forest" / "transcripts"
WILD = {
    "spotter two sub-agents": [
        SPOTTER / "fa812bfe-b295-4cca-9c2f-fdf01028cb46.jsonl",
        SPOTTER / "fa812bfe-b295-4cca-9c2f-fdf01028cb46",
    ],
    "vr-forest four Tasks": [FOREST / "day2-01-shadows-creatures-morepork.jsonl"],
}


@pytest.mark.skipif(not SPOTTER.is_dir(), reason="the real samples are not here")
@pytest.mark.parametrize("case", sorted(WILD))
def test_on_wild_transcripts_the_draft_equals_what_pytest_measures(
    pytester: pytest.Pytester,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    case: str,
) -> None:
    folder = real_phase(pytester, monkeypatch, WILD[case])
    drafted, measured = draft_and_measure(pytester, capsys, folder)
    assert measured["shared_planning"]["total"] == drafted["shared_planning"]["actual_tokens"]
    implementation = drafted["tickets"]["S1"]["implementation"]
    assert implementation["actual_tokens"] == measured["tickets"]["S1"]["total"]["total"]
    assert len(implementation["agents"]["agent_ids"]) >= 2
    assert implementation["start_time"] <= implementation["end_time"]


WORKER = "22222222-0000-0000-0000-000000000002"


def worker_session(a4: pytest.Pytester, model: str = HAIKU, explore: int = 0) -> None:
    """A session of its own implementing R09 (its first prompt names it) on ``model``: 10,000
    tokens, and an Explore sub-agent of ``explore`` tokens on Haiku when given."""
    home = ClaudeHome(a4.path / A4 / "transcripts")
    spawned: list[dict[str, Any]] = []
    helper = usage(inp=0, out=0, cr=explore)
    if explore:
        call = assistant("x1", "rx1", session=WORKER, agent_id="ax", model=HAIKU, u=helper)
        home.subagent("ax", [call], session=WORKER)
        spawned = [
            spawn_block("tx", description="Explore the export code", subagent_type="Explore")
        ]
    home.session(
        [
            user("Implement R09: the export button", session=WORKER),
            assistant(
                "w1",
                "r1",
                session=WORKER,
                model=model,
                u=usage(inp=0, out=0, cr=10000),
                content=spawned or None,
                ts="2026-02-12T15:00:00.000Z",
            ),
            *([agent_result("tx", "ax", helper, session=WORKER)] if explore else []),
        ],
        session=WORKER,
    )


def only_its_worker(a4: pytest.Pytester) -> None:
    """R09 not spawned by the lead: only its own session measures it."""
    folder = a4.path / A4 / "transcripts" / "projects"
    lead = next(folder.rglob(f"{LEAD}.jsonl"))
    lines = [line for line in lead.read_text().splitlines() if '"a2"' not in line]
    lead.write_text("\n".join(lines).replace("R09: export button", "Check versions") + "\n")
    next(folder.rglob("agent-a2.jsonl")).unlink()


def test_a_worker_session_s_own_calls_join_the_implementation_stage(
    a4: pytest.Pytester, capsys: pytest.CaptureFixture[str]
) -> None:
    worker_session(a4)
    assert draft(capsys)[0] == 0
    text = filled((a4.path / DRAFT).read_text())
    assert f"implementation:  # with 10,000 tokens of R09's worker sessions ({WORKER})" in text
    (a4.path / LOG).write_text(text)
    result = a4.runpytest("--phase", "a4", "--orchphase-json", "r.json")
    assert result.ret == 0, result.stdout.str()
    r09 = yamlio.parse(text, LOG).data["tickets"]["R09"]
    assert r09["implementation"]["actual_tokens"] == 60006
    assert read_report(a4.path)["usage"]["tickets"]["R09"]["total"]["total"] == 60006


def test_a_ticket_measured_only_as_a_worker_session_takes_the_flat_shape(
    a4: pytest.Pytester, capsys: pytest.CaptureFixture[str]
) -> None:
    """R09 was not spawned by the lead: only its own session measures it."""
    only_its_worker(a4)
    worker_session(a4)
    assert draft(capsys)[0] == 0
    text = filled((a4.path / DRAFT).read_text())
    r09 = yamlio.parse(text, LOG).data["tickets"]["R09"]
    assert r09["execution_model"] == HAIKU
    assert r09["actual_tokens"] == 10000
    assert "implementation" not in r09 and r09["fix_loops"] == 0
    (a4.path / LOG).write_text(text)
    result = a4.runpytest("--phase", "a4", "--orchphase-json", "r.json")
    assert result.ret == 0, result.stdout.str()
    assert read_report(a4.path)["usage"]["tickets"]["R09"]["total"]["total"] == 10000


def test_an_id_two_sessions_agents_have_is_drafted_with_each_session(
    a4: pytest.Pytester, capsys: pytest.CaptureFixture[str]
) -> None:
    """R09's worker session (its own session, not the lead's) spawned R09's reviewer, whose id
    a3 is the id of the lead's reviewer of R08 too (agent ids are unique only within a
    session): the draft lists each as SESSION/ID, and filled, it passes on the figures pytest
    measures (an id alone would name both, an error)."""
    worker = "22222222-0000-0000-0000-000000000002"
    home = ClaudeHome(a4.path / A4 / "transcripts")
    call = assistant(
        "m9",
        "qm9",
        agent_id="a3",
        session=worker,
        model="claude-opus-4-6",
        u=usage(inp=5, cw=6000),
        ts="2026-02-12T14:40:00.000Z",
    )
    home.subagent("a3", [call], session=worker)
    spawn = [spawn_block("t9", description="Review R09")]
    home.session(
        [
            user("Implement R09", session=worker),
            assistant("m8", "q8", session=worker, u=usage(inp=10, out=0), content=spawn),
            agent_result("t9", "a3", usage(inp=5, cw=6000), session=worker),
        ],
        session=worker,
    )
    assert draft(capsys)[0] == 0
    text = filled((a4.path / DRAFT).read_text())
    tickets = yamlio.parse(text, DRAFT).data["tickets"]
    assert tickets["R08"]["review"]["agents"] == {"agent_ids": [f"{LEAD}/a3"]}
    assert tickets["R09"]["review"]["agents"] == {"agent_ids": [f"{worker}/a3"]}
    assert tickets["R08"]["implementation"]["agents"] == {"agent_ids": ["a1"]}
    (a4.path / LOG).write_text(text)
    result = a4.runpytest("--phase", "a4", "--orchphase-json", "r.json")
    assert result.ret == 0, result.stdout.str()
    stages = read_report(a4.path)["usage"]["tickets"]["R09"]["stages"]
    assert stages["review"]["total"] == 6006


def test_draft_log_never_writes_over_a_transcript_the_phase_reads(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pytest_orchphase import cli

    phase = Phase.of("p1", [{**CAP, "max": 30_000}], {"T01": flat_ticket()})
    phase.write(pytester.path)
    call = assistant("msg_1", "req_1", model=HAIKU, u=usage(inp=10, out=10))
    transcript = phase.transcripts(pytester.path).session([user("T01: do it"), call])
    before = transcript.read_bytes()
    monkeypatch.chdir(pytester.path)
    # the log itself is refused so (exit 2), --force or not
    log = phase.folder(pytester.path) / "execution-log.yaml"
    assert cli.main(["draft-log", "p1", "--out", str(log), "--force"]) == 2
    assert cli.main(["draft-log", "p1", "--out", str(transcript), "--force"]) == 2
    assert transcript.read_bytes() == before


def test_draft_log_never_writes_over_a_source_another_phase_names(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pytest_orchphase import cli

    call = assistant("msg_0", "req_0", model=HAIKU, u=usage(inp=10, out=10))
    source = write_jsonl(pytester.path / "runs" / "r0.ndjson", [user("T01: do it"), call])
    sessions = [{"path": "../../../runs/r0.ndjson", "ticket": "T01"}]
    metadata = {"phase": "p0", "tickets": ["T01"], "sessions": sessions}
    cap = {**CAP, "max": 30_000}
    Phase.of("p0", [cap], {"T01": flat_ticket()}, metadata=metadata).write(pytester.path)
    p1 = Phase.of("p1", [cap], {"T01": flat_ticket()})
    p1.write(pytester.path)
    mine = assistant("msg_1", "req_1", model=HAIKU, u=usage(inp=10, out=10))
    p1.transcripts(pytester.path).session([user("T01: do it"), mine])
    before = source.read_bytes()
    monkeypatch.chdir(pytester.path)
    code = cli.main(["draft-log", "p1", "--out", str(source), "--force"])
    assert (code, source.read_bytes()) == (2, before)


def test_a_worker_s_explore_helper_does_not_draft_the_ticket_s_model(
    a4: pytest.Pytester, capsys: pytest.CaptureFixture[str]
) -> None:
    """R09's worker session ran on Sonnet (10,000 tokens) and spawned an Explore sub-agent,
    which spent more (50,000) on Haiku: the helper's model is not the ticket's. The draft
    names Sonnet, the model `pytest --phase` holds the log's to (before: Haiku, the model that
    spent the most, and the filled draft was refused)."""
    sonnet = "claude-sonnet-4-5-20250929"
    only_its_worker(a4)
    worker_session(a4, sonnet, explore=50000)
    assert draft(capsys)[0] == 0
    text = filled((a4.path / DRAFT).read_text())
    r09 = yamlio.parse(text, LOG).data["tickets"]["R09"]
    assert r09["execution_model"] == sonnet
    (a4.path / LOG).write_text(text)
    result = a4.runpytest("--phase", "a4", "--orchphase-json", "r.json")
    assert result.ret == 0, result.stdout.str()

"""Which files measure a phase: a named source that holds no call, a headless summary beside a
transcript that holds less, a session id found under two projects, a ledger collected for
another phase. Each must not let the phase say YES on figures that are not its own or that say
nothing (the third adversarial round's repros, and their siblings)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import HAIKU, Phase, assistant, result_object, usage, user, write_jsonl

S1 = "22222222-0000-0000-0000-000000000002"
RUN = "e382184a-1111-2222-3333-444455556666"  # result_object's session


def _capped(name: str, cap: str = "50k", **metadata: object) -> Phase:
    """Phase ``name``: R01 estimated at 20,000 tokens, capped at ``cap`` in all."""
    return Phase.of(
        name,
        [{"id": "cap", "for_each": "ticket", "metric": "tokens", "measure": "total", "max": cap}],
        {"R01": {"implementation": {"estimated_tokens": 20_000}}},
        metadata={"phase": name, "tickets": ["R01"], **metadata},
    )


def _run(pytester: pytest.Pytester, name: str) -> tuple[pytest.RunResult, dict[str, Any]]:
    result = pytester.runpytest("--phase", name, "--orchphase-json", "r.json", "-p", "no:randomly")
    return result, json.loads((pytester.path / "r.json").read_text())


def _yes(pytester: pytest.Pytester, name: str) -> dict[str, Any]:
    """The phase passes: YES, exit 0; its JSON report."""
    result, report = _run(pytester, name)
    assert (report["decisions"]["proceed"]["answer"], result.ret) == ("YES", 0), result.stdout.str()
    return report


def _not_yes(pytester: pytest.Pytester, name: str) -> pytest.RunResult:
    result, report = _run(pytester, name)
    assert report["decisions"]["proceed"]["answer"] != "YES", result.stdout.str()
    assert result.ret != 0
    return result


def _crashed() -> dict[str, Any]:
    """The result of a headless run that crashed, reporting zeros (a session of its own)."""
    return result_object(
        session_id="33333333-0000-0000-0000-000000000003",
        subtype="error_during_execution",
        is_error=True,
        total_cost_usd=0,
        usage={"input_tokens": 0, "output_tokens": 0},
        modelUsage={},
    )


def _summary(cache_writes: int) -> dict[str, Any]:
    """A headless run's result on Haiku: 10 input tokens and ``cache_writes``."""
    model: dict[str, Any] = {"inputTokens": 10, "outputTokens": 0, "cacheReadInputTokens": 0}
    model |= {"cacheCreationInputTokens": cache_writes, "webSearchRequests": 0, "costUSD": 0.125}
    return result_object(
        usage={
            "input_tokens": 10,
            "cache_creation_input_tokens": cache_writes,
            "cache_read_input_tokens": 0,
            "output_tokens": 0,
            "cache_creation": {"ephemeral_1h_input_tokens": 0, "ephemeral_5m_input_tokens": 1_000},
        },
        modelUsage={HAIKU: model},
    )


def _run_transcript(folder: Path, cache_writes: int) -> None:
    """The headless run's session transcript: one Haiku call of 10 + ``cache_writes`` tokens."""
    write_jsonl(
        folder / f"{RUN}.jsonl",
        [
            user("Implement R01", session=RUN),
            assistant(
                "m1", "q1", model=HAIKU, session=RUN, u=usage(inp=10, out=0, cw=cache_writes)
            ),
        ],
    )


def _two_projects(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    """Session S1 in Claude Code's folder under two projects: 60,010 and 1,010 tokens."""
    claude = pytester.path / "claude"
    write_jsonl(
        claude / "projects" / "-work-app-old" / f"{S1}.jsonl",
        [
            user("Implement R01", session=S1),
            assistant("m1", "q1", session=S1, u=usage(inp=10, out=0, cw=60_000)),
        ],
    )
    write_jsonl(
        claude / "projects" / "-work-app" / f"{S1}.jsonl",
        [assistant("m2", "q2", session=S1, u=usage(inp=10, out=0, cw=1_000))],
    )
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(claude))


# -- the repros ----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["session-without-a-call", "headless-reporting-zeros"])
def test_a_named_session_without_one_api_call_does_not_leave_its_ticket_to_the_estimate(
    pytester: pytest.Pytester, kind: str
) -> None:
    """R01's session is named for it in metadata.yaml, and its file is intact but holds no API
    call (the prompt was written, the responses never were: a session cut off, or the wrong
    file). The run falls back to R01's 20,000 estimate, under its 50k cap, and says YES (with a
    note that R01 is estimated). README: "a named session that yields nothing readable fails
    the phase's items instead of leaving them to the log's estimates"; `orchphase extract` on
    paths that hold no API call is an error, never a $0 total. A named source with no call
    measures nothing: it must not pass its ticket on the estimate. The sibling: a headless
    result of a crashed run reporting zeros, named for R01, which the run itself warns about
    ("reports no usage at all (a crashed run reports zeros): its spend is unknown") and then
    passes R01 on its estimate all the same."""
    phase = _capped("n1", sessions=[{"path": "runs/r01", "ticket": "R01"}])
    runs = phase.write(pytester.path) / "runs" / "r01"
    if kind == "session-without-a-call":
        write_jsonl(runs / "r01.jsonl", [user("Implement R01: the export button", session=S1)])
    else:
        runs.mkdir(parents=True)
        (runs / "r01.json").write_text(json.dumps(_crashed()))
    result = _not_yes(pytester, "n1")
    result.stdout.fnmatch_lines(["*sessions[[]0[]]: *r01 holds no API call*"])


def test_a_headless_summary_is_not_dropped_for_a_transcript_that_holds_less(
    pytester: pytest.Pytester,
) -> None:
    """R01 ran headless (`claude -p --output-format json`): its result, whose `modelUsage`
    covers every agent of the run, reports 100,010 tokens; R01's folder also holds the run's
    session transcript, but only its main file (one call of 1,010 tokens: the sub-agents'
    files were not copied). "A headless result whose session was also read from its
    transcript is not counted twice": the summary is dropped whole, and R01 is 1,010 tokens,
    exact, under its 50k cap. The summary must at least fill in what the transcript is short
    of (as it does for a stream-json log's messages), never be dropped for less."""
    folder = _capped("h3", sessions=[{"path": "r01", "ticket": "R01"}]).write(pytester.path) / "r01"
    _run_transcript(folder, 1_000)
    (folder / "result.json").write_text(json.dumps(_summary(100_000)))
    _not_yes(pytester, "h3")
    report = json.loads((pytester.path / "r.json").read_text())
    assert report["usage"]["tickets"]["R01"]["total"]["total"] == 100_010


def test_a_session_id_found_under_two_projects_is_not_read_from_the_first_alone(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """metadata.yaml names R01's session by id. Claude Code's folder holds a file of that id
    under two projects (the project's folder was renamed between two parts of the session, or
    the session was resumed from the new path): `-work-app-old` with 60,010 tokens and
    `-work-app` with 1,010. The id is resolved to the first path in sorted order alone, the
    other file never read, never named: R01 is 1,010 tokens, exact, under its 50k cap. A
    session id that names two files is ambiguous: both read (calls counted once), or an error
    at the entry, never one of them picked by its folder's name."""
    _two_projects(pytester, monkeypatch)
    _capped("d1", sessions=[{"session": S1, "ticket": "R01"}]).write(pytester.path)
    _not_yes(pytester, "d1")


def test_a_ledger_collected_for_another_phase_does_not_measure_this_one(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Phase m2's data folder was made by copying m1's (the easy way to start a phase that
    re-runs the same tickets), and with it m1's usage ledger, whose header says `"phase":
    "m1"`. A ledger in the data folder is read without being named, so m2 is "measured" from
    m1's calls, its own transcripts never collected: every figure is another phase's. The
    ledger says whose it is; a phase measured from another phase's ledger must not say YES."""
    import shutil

    m1_data, m2_data = _m1_ledger(pytester, monkeypatch, capsys)
    first = (m1_data / "usage.jsonl").read_text().splitlines()[0]
    assert '"phase":"m1"' in first.replace(" ", "")
    shutil.copy(m1_data / "usage.jsonl", m2_data / "usage.jsonl")
    result = _not_yes(pytester, "m2")
    result.stdout.fnmatch_lines(["*usage.jsonl:1: phase: a usage ledger collected for phase 'm1'*"])


# -- siblings: a source that says nothing --------------------------------------------------------


@pytest.mark.parametrize("calls", [0, 1])
def test_a_transcripts_folder_without_one_api_call_does_not_leave_the_phase_to_estimates(
    pytester: pytest.Pytester, calls: int
) -> None:
    """The phase's `transcripts/` folder holds a session whose responses were never written:
    the phase was "measured" from nothing and every ticket fell back to its estimate (YES).
    Such a folder measures nothing: an error naming it. With one call, it measures R01."""
    folder = _capped("t1").write(pytester.path) / "transcripts"
    lines = [user("Implement R01: the export button", session=S1)]
    lines += [assistant("m1", "q1", session=S1, u=usage(inp=10, cw=1_000))] * calls
    write_jsonl(folder / f"{S1}.jsonl", lines)
    if calls:
        _yes(pytester, "t1")
        return
    _not_yes(pytester, "t1").stdout.fnmatch_lines(
        ["*transcripts holds no API call*it measures nothing*"]
    )


def test_a_named_session_whose_calls_another_source_also_holds_still_measures_its_ticket(
    pytester: pytest.Pytester,
) -> None:
    """No over-correction: R01's named session is also copied into `transcripts/` (its calls
    counted once, kept at the named entry). Both files recorded calls: neither is a source
    that says nothing, and R01 is measured (1,011 tokens), YES."""
    phase = _capped("t2", sessions=[{"path": "runs/r01", "ticket": "R01"}])
    data = phase.write(pytester.path)
    lines = [
        user("Implement R01", session=S1),
        assistant("m1", "q1", session=S1, u=usage(inp=10, cw=1_000)),
    ]
    write_jsonl(data / "runs" / "r01" / f"{S1}.jsonl", lines)
    write_jsonl(data / "transcripts" / f"{S1}.jsonl", lines)
    assert _yes(pytester, "t2")["usage"]["tickets"]["R01"]["total"]["total"] == 1_011


@pytest.mark.parametrize("crashed", [True, False])
def test_a_crashed_headless_run_beside_measured_sessions_leaves_only_a_lower_bound(
    pytester: pytest.Pytester, crashed: bool
) -> None:
    """R01's folder holds a session with one call and the result of a second, crashed run that
    reports zeros: that run's spend is unknown (the run warned so) and R01 was 1,010 tokens,
    exact, under its cap: YES. Its spend unknown, R01's figure is only a lower bound, which
    proves no `max`. Without the crashed run, YES."""
    data = _capped("t3", sessions=[{"path": "runs/r01", "ticket": "R01"}]).write(pytester.path)
    runs = data / "runs" / "r01"
    _run_transcript(runs, 1_000)
    if not crashed:
        _yes(pytester, "t3")
        return
    (runs / "crash.json").write_text(json.dumps(_crashed()))
    _not_yes(pytester, "t3").stdout.fnmatch_lines(["*at least 1,010*lower bound cannot prove max*"])


# -- siblings: a headless summary beside its session's transcript ----------------------------------


def test_a_headless_summary_of_a_transcript_that_holds_it_all_is_not_counted_twice(
    pytester: pytest.Pytester,
) -> None:
    """No over-correction: the transcript holds every token the summary reports (100,010): R01
    is 100,010, not twice that, under its 150k cap: YES."""
    phase = _capped("h4", "150k", sessions=[{"path": "r01", "ticket": "R01"}])
    folder = phase.write(pytester.path) / "r01"
    _run_transcript(folder, 100_000)
    (folder / "result.json").write_text(json.dumps(_summary(100_000)))
    assert _yes(pytester, "h4")["usage"]["tickets"]["R01"]["total"]["total"] == 100_010


# -- siblings: a session id under two projects ---------------------------------------------------


def test_a_session_id_under_two_projects_is_read_from_both(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No over-correction: under a 100k cap, R01 is both files' 61,020 tokens: YES."""
    _two_projects(pytester, monkeypatch)
    _capped("d2", "100k", sessions=[{"session": S1, "ticket": "R01"}]).write(pytester.path)
    assert _yes(pytester, "d2")["usage"]["tickets"]["R01"]["total"]["total"] == 61_020


def test_a_session_collected_from_two_projects_is_read_whole_from_the_ledger(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`orchphase collect` took the first file of the id alone, and the ledger, read where
    Claude Code's folder is absent, gave the first file it stored: R01 was 1,010 (or 60,010)
    tokens, not 61,020. Both are collected, and both read back: over its 50k cap, NO."""
    from pytest_orchphase.cli import main

    _two_projects(pytester, monkeypatch)
    _capped("d3", sessions=[{"session": S1, "ticket": "R01"}]).write(pytester.path)
    monkeypatch.chdir(pytester.path)
    assert main(["collect", "d3"]) == 0
    assert "2 file(s) collected" in capsys.readouterr().out
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(pytester.path / "nowhere"))
    _not_yes(pytester, "d3")
    report = json.loads((pytester.path / "r.json").read_text())
    assert report["usage"]["tickets"]["R01"]["total"]["total"] == 61_020


def test_resolve_session_never_picks_one_of_several_files(tmp_path: Path) -> None:
    """The one-file lookup of the Python API refuses an id found under two projects (naming
    both); `resolve_sessions` gives them all."""
    from pytest_orchphase.errors import OrchphaseError
    from pytest_orchphase.usage.sources.claude_code import resolve_session, resolve_sessions

    root = tmp_path
    for project in ("-b", "-a"):
        write_jsonl(root / "projects" / project / f"{S1}.jsonl", [assistant("m", "q", session=S1)])
    found = resolve_sessions(S1, [root])
    assert [p.parent.name for p in found] == ["-a", "-b"]
    with pytest.raises(OrchphaseError, match="under 2 projects"):
        resolve_session(S1, [root])


# -- siblings: a ledger of another phase ---------------------------------------------------------


def _m1_ledger(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[Path, Path]:
    """Phase m1 collected into its ledger, and phase m2's data folder beside it (no ledger)."""
    from pytest_orchphase.cli import main
    from tests.plugin.test_measured_phase import write_phase

    write_phase(pytester)
    monkeypatch.chdir(pytester.path)
    m1_data = pytester.path / "docs" / "orchestration-data" / "phase-m1"
    assert main(["collect", "m1", str(m1_data / "transcripts")]) == 0
    capsys.readouterr()
    m2_data = m1_data.parent / "phase-m2"
    m2_data.mkdir()
    (m2_data / "execution-log.yaml").write_bytes((m1_data / "execution-log.yaml").read_bytes())
    (m2_data / "metadata.yaml").write_text("phase: M2\ntickets: [R03, R06]\n")
    (pytester.path / "criteria" / "m2.yaml").write_text(
        "phase: m2\ndata: phase-m2\ncriteria:\n"
        "  - {id: cap, for_each: ticket, metric: tokens, measure: input, max: 1M}\n"
    )
    return m1_data, m2_data


def test_a_ledger_of_another_phase_named_in_sessions_does_not_measure_this_one(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """m2 names m1's ledger in `sessions:` (a copied metadata.yaml): every figure would be
    m1's. An error at the entry, naming the ledger's phase."""
    m2_data = _m1_ledger(pytester, monkeypatch, capsys)[1]
    (m2_data / "metadata.yaml").write_text(
        "phase: M2\ntickets: [R03, R06]\nsessions: [../phase-m1/usage.jsonl]\n"
    )
    _not_yes(pytester, "m2").stdout.fnmatch_lines(
        [
            "*sessions[[]0[]]: *usage.jsonl:1: phase: a usage ledger collected for phase 'm1',"
            " not 'm2'*"
        ]
    )


@pytest.mark.parametrize("how", ["copied into the data folder", "given as a PATH"])
def test_collect_never_merges_another_phases_ledger(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    how: str,
) -> None:
    """`orchphase collect m2` beside m1's copied ledger merged m1's calls into m2's ledger and
    wrote m2's header over them: the copied folder then measured m2 without a word. Given m1's
    ledger as a PATH, the same. An error naming it; nothing written."""
    import shutil

    from pytest_orchphase.cli import main

    m1_data, m2_data = _m1_ledger(pytester, monkeypatch, capsys)
    m1_ledger = m1_data / "usage.jsonl"
    before = m1_ledger.read_bytes()
    if how == "given as a PATH":
        args = [str(m1_ledger)]
    else:
        shutil.copy(m1_ledger, m2_data / "usage.jsonl")
        args = [str(m1_data / "transcripts")]
    assert main(["collect", "m2", *args]) == 2
    err = capsys.readouterr().err
    assert "a usage ledger collected for phase 'm1', not 'm2'" in err, err
    assert "not merged" in err
    assert m1_ledger.read_bytes() == before
    copied = m2_data / "usage.jsonl"
    assert not copied.exists() if how == "given as a PATH" else copied.read_bytes() == before


# -- a file named by two entries -----------------------------------------------------------------


def test_a_session_file_named_for_its_ticket_is_not_given_to_a_folder_listed_before_it(
    pytester: pytest.Pytester,
) -> None:
    """metadata.yaml: `{path: runs, ticket: R02}` (R02's sessions), then `{path:
    runs/w1.jsonl, ticket: R01}` (the one session in that folder that was R01's). The file is
    given to the first entry whose root holds it, the folder, not to the entry naming the file
    itself: R01's 100,000 tokens go to R02 (under R02's 500k cap), and R01, measured nothing
    while nothing is unattributed, is counted from its 20,000 estimate under its 50k cap: YES.
    The entry naming the file is the more specific; the file is R01's. (The other file of the
    folder, 10,010 tokens, stays R02's.)"""
    w2 = "33333333-0000-0000-0000-000000000003"
    cap = {"for_each": "ticket", "metric": "tokens", "measure": "total"}
    phase = Phase.of(
        "o1",
        [
            {"id": "cap-r01", **cap, "where": {"tickets": ["R01"]}, "max": "50k"},
            {"id": "cap-r02", **cap, "where": {"tickets": ["R02"]}, "max": "500k"},
        ],
        {
            "R01": {"implementation": {"estimated_tokens": 20_000}},
            "R02": {"implementation": {"estimated_tokens": 20_000}},
        },
        metadata={
            "phase": "o1",
            "tickets": ["R01", "R02"],
            "sessions": [
                {"path": "runs", "ticket": "R02"},
                {"path": "runs/w1.jsonl", "ticket": "R01"},
            ],
        },
    )
    runs = phase.write(pytester.path) / "runs"
    write_jsonl(
        runs / "w1.jsonl",
        [
            user("Implement R01", session=S1),
            assistant("m1", "q1", session=S1, u=usage(inp=10, out=0, cw=100_000)),
        ],
    )
    write_jsonl(
        runs / "w2.jsonl",
        [
            user("Implement R02", session=w2),
            assistant("m2", "q2", session=w2, u=usage(inp=10, out=0, cw=10_000)),
        ],
    )
    _not_yes(pytester, "o1")
    tickets = json.loads((pytester.path / "r.json").read_text())["usage"]["tickets"]
    assert (tickets["R01"]["total"]["total"], tickets["R02"]["total"]["total"]) == (
        100_010,
        10_010,
    )


def test_a_session_folder_named_inside_a_folder_entry_takes_its_sub_agents_too() -> None:
    """The nearest entry wins at any depth: a sub-agent's file under `runs/w1/` belongs to the
    entry naming `runs/w1.jsonl` (its session), not to the `runs` folder entry listed first;
    a file of the folder named by no deeper entry stays the folder's."""
    from pytest_orchphase.load.models import SessionSpec
    from pytest_orchphase.usage.records import ApiCall
    from pytest_orchphase.usage.sessions import Owners

    folder = SessionSpec(path="runs", ticket="R02")
    session = SessionSpec(path="runs/w1.jsonl", ticket="R01")
    owners = Owners([(Path("/p/runs"), folder), (Path("/p/runs/w1.jsonl"), session)])

    def owner(path: str) -> SessionSpec | None:
        return owners(ApiCall(message_id="m", request_id="q", model="x", path=Path(path)))

    assert owner("/p/runs/w1.jsonl") is session
    assert owner("/p/runs/w1/subagents/agent-a1.jsonl") is session
    assert owner("/p/runs/w2.jsonl") is folder
    assert owner("/p/other/w3.jsonl") is None

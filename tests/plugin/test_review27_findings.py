"""Review of round 9's fixes (review27): each test was a finding on main, now fixed, or a
sibling the fix closed."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.helpers import (
    HAIKU,
    Phase,
    YamlData,
    assert_not_yes,
    assistant,
    flat_ticket,
    result_object,
    run_phase,
    run_phase_process,
    staged_ticket,
    usage,
    user,
    write_jsonl,
)

SESSION = "e382184a-1111-2222-3333-444455556666"  # result_object()'s
CAP: YamlData = {"id": "cap", "for_each": "ticket", "metric": "tokens", "measure": "total"}


# -- Claude Code's costUSD of a cloud platform's id ----------------------------------------------


def _headless_phase(pytester: pytest.Pytester, run: dict[str, Any], max_usd: float) -> None:
    """Phase m1: one Haiku ticket R01 measured from one headless stream (the init line of a
    build trusted to price a run, then ``run``), under a cost cap of ``max_usd``."""
    init = {
        "type": "system",
        "subtype": "init",
        "session_id": run["session_id"],
        "claude_code_version": "2.1.210",
        "model": HAIKU,
    }
    ticket = {"execution_model": "haiku", "fix_loops": 0, "review": {"result": "PASS"}}
    cap = {"id": "cost", "for_each": "ticket", "metric": "tokens", "measure": "usd"}
    sessions = [{"path": "runs/r0.ndjson", "ticket": "R01"}]
    metadata = {"phase": "m1", "tickets": ["R01"], "sessions": sessions}
    phase = Phase.of("m1", [{**cap, "max": max_usd}], {"R01": ticket}, metadata=metadata)
    write_jsonl(phase.write(pytester.path) / "runs" / "r0.ndjson", [init, run])


def _cloud_run(main: str, sub: str) -> dict[str, Any]:
    """A headless run of two models (the main agent's and a sub-agent's: the sums' cache
    writes are then of no known lifetime, a lower bound), 74,953 tokens each, Claude Code's
    costUSD of each $0.001."""
    run = result_object()
    figures = run["modelUsage"].pop(HAIKU)
    run["modelUsage"] = {main: {**figures, "costUSD": 0.001}, sub: {**figures, "costUSD": 0.001}}
    run["total_cost_usd"] = 0.002
    return run


GOV_CLOUD = "us-gov.anthropic.claude-{}-v1:0"
PROFILE_ARN = "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-{}-v1:0"


@pytest.mark.parametrize("spelling", [GOV_CLOUD, PROFILE_ARN], ids=["us-gov", "arn"])
def test_claude_codes_cost_of_any_bedrock_id_is_not_taken(
    pytester: pytest.Pytester, spelling: str
) -> None:
    run = _cloud_run(spelling.format("haiku-4-5-20251001"), spelling.format("sonnet-4-5-20250929"))
    _headless_phase(pytester, run, 0.01)
    result = run_phase(pytester, "m1")
    assert_not_yes(pytester, result)
    (criterion,) = json.loads((pytester.path / "r.json").read_text())["criteria"]
    assert criterion["actual"] is None, criterion


# -- a headless run's calls of no known time -----------------------------------------------------


def _stamped_ticket() -> YamlData:
    """A Haiku ticket stamped 10:00 to 10:20 (its implementation; branch and review skipped)."""
    implementation = {
        "model": "haiku",
        "actual_tokens": 5_000,
        "status": "completed",
        "start_time": "2026-02-07T10:00:00Z",
        "end_time": "2026-02-07T10:20:00Z",
    }
    ticket = staged_ticket(implementation)
    ticket["execution_model"] = "haiku"
    ticket["branch_creation"]["status"] = "skipped"
    ticket["review"] = {"model": "sonnet", "status": "skipped"}
    return ticket


def _stream_message(n: int) -> YamlData:
    """A stream-json assistant message of the session: no timestamp, by design."""
    line = assistant(f"m{n}", f"q{n}", model=HAIKU, u=usage(inp=10, out=5))
    del line["timestamp"]
    line.pop("sessionId")
    line["session_id"] = SESSION
    return line


def test_a_cut_off_run_appended_to_a_finished_runs_stream_leaves_the_wall_time_a_bound(
    pytester: pytest.Pytester,
) -> None:
    init = {"type": "system", "subtype": "init", "session_id": SESSION}
    finished = result_object(duration_ms=5 * 60_000)
    wall = {"id": "wall", "metric": "wall_time_minutes", "max": 30}
    sessions = [{"path": "r01.ndjson", "ticket": "T01"}]
    metadata = {"phase": "p1", "tickets": ["T01"], "sessions": sessions}
    phase = Phase.of("p1", [wall], {"T01": _stamped_ticket()}, metadata=metadata)
    folder = phase.write(pytester.path)
    lines = [init, _stream_message(1), finished, init, _stream_message(2)]
    write_jsonl(folder / "r01.ndjson", lines)
    result = run_phase(pytester, "p1")
    assert_not_yes(pytester, result)
    result.stdout.fnmatch_lines(["*wall_time_minutes at least 20.0 min*record no time*"])


# -- report paths and the command line -------------------------------------------------------


def _passing_phase(pytester: pytest.Pytester) -> None:
    """Phase p1: one Sonnet ticket of 20,000 tokens under a cap of 30,000 (YES)."""
    Phase.of("p1", [{**CAP, "max": 30_000}], {"T01": flat_ticket()}).write(pytester.path)


def test_two_reports_thrown_away_in_dev_null_are_no_usage_error(
    pytester: pytest.Pytester,
) -> None:
    _passing_phase(pytester)
    args = ("--orchphase-json=/dev/null", "--orchphase-md=/dev/null")
    result = pytester.runpytest("--phase", "p1", "-p", "no:randomly", *args)
    assert result.ret == pytest.ExitCode.OK, result.stderr.str()


@pytest.mark.parametrize("verbosity", ["-q", "-v", "-rA"])
def test_the_json_report_on_stdout_a_pipe_is_written(
    pytester: pytest.Pytester, verbosity: str
) -> None:
    """Whole, on lines of its own after pytest's progress line (not after its ``[100%]``), so
    that a program can cut it out of the output."""
    _passing_phase(pytester)
    run = run_phase_process(pytester.path, verbosity, "--orchphase-json=/dev/stdout")
    assert run.returncode == 0, run.stdout
    lines = run.stdout.splitlines()
    start = lines.index("{")
    report = json.loads("\n".join(lines[start : lines.index("}", start) + 1]))
    assert report["decisions"]["proceed"]["answer"] == "YES", run.stdout


@pytest.mark.parametrize(
    "args",
    [["--phase", "p0", "@args.txt"], ["-o", "orchphase_phase=p0", "--phase", "p1"]],
    ids=["argument-file", "dash-o"],
)
def test_a_second_phase_typed_otherwise_is_a_usage_error(
    pytester: pytest.Pytester, args: list[str]
) -> None:
    cap = {**CAP, "max": 30_000}
    Phase.of("p0", [cap], {"T01": flat_ticket(actual_tokens=45_000)}).write(pytester.path)
    _passing_phase(pytester)
    pytester.path.joinpath("args.txt").write_text("--phase\np1\n")
    result = pytester.runpytest(*args, "-p", "no:randomly", "--orchphase-json=r.json")
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str()


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


def test_strategy_never_writes_over_a_file_a_phase_run_reads(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`orchphase strategy --for a3 --out` on a phase's metadata.yaml or a criteria file,
    --force or not: refused (exit 2), the file as it was; elsewhere it is written (exit 0). A
    sibling of draft-log's writes over a phase's data."""
    from pytest_orchphase import cli

    monkeypatch.chdir(pytester.path)
    assert cli.main(["init", "--example"]) == 0
    data = pytester.path / "docs" / "orchestration-data"
    (metadata,) = data.glob("phase-a1*/metadata.yaml")
    for target in (metadata, pytester.path / "criteria" / "a1.yaml"):
        before = target.read_bytes()
        assert cli.main(["strategy", "--for", "a3", "--out", str(target), "--force"]) == 2
        assert target.read_bytes() == before
    assert cli.main(["strategy", "--for", "a3", "--out", "s.yaml"]) == 0


def test_a_headless_runs_compaction_beyond_its_model_usage_is_counted(
    pytester: pytest.Pytester,
) -> None:
    run = result_object()
    run["usage"]["iterations"] = [
        {"type": "compaction", "input_tokens": 150_000, "output_tokens": 3_000},
        {"type": "message", "input_tokens": 10, "output_tokens": 200},
    ]
    cap = {"id": "cost", "for_each": "ticket", "metric": "tokens", "measure": "usd", "max": 1.0}
    ticket = {"execution_model": "haiku", "fix_loops": 0, "review": {"result": "PASS"}}
    sessions = [{"path": "r0.json", "ticket": "R01"}]
    metadata = {"phase": "m1", "tickets": ["R01"], "sessions": sessions}
    folder = Phase.of("m1", [cap], {"R01": ticket}, metadata=metadata).write(pytester.path)
    (folder / "r0.json").write_text(json.dumps(run))
    result = run_phase(pytester, "m1")
    assert "contradicts itself" not in result.stdout.str(), result.stdout.str()
    (criterion,) = json.loads((pytester.path / "r.json").read_text())["criteria"]
    # Haiku 4.5's input at $1 a million: the compaction alone cost $0.15
    assert criterion["actual"] is not None and criterion["actual"] >= 0.15, criterion


def test_the_step_summary_on_stdout_a_pipe_is_written(pytester: pytest.Pytester) -> None:
    """$GITHUB_STEP_SUMMARY on /dev/stdout, stdout a pipe: the summary is appended into the
    pipe by that name (resolved, it is /proc/<pid>/fd/1's pipe:[n], no path to open)."""
    _passing_phase(pytester)
    run = run_phase_process(pytester.path, env={"GITHUB_STEP_SUMMARY": "/dev/stdout"})
    assert run.returncode == 0, run.stdout
    assert "# Phase p1 analysis" in run.stdout, run.stdout

"""Second review of review 27's fixes (review27b): each test was a finding on main, now fixed
(its reason said what was observed and what was expected)."""

from __future__ import annotations

import json

import pytest

from tests.helpers import (
    HAIKU,
    Phase,
    assert_not_yes,
    assistant,
    flat_ticket,
    result_object,
    run_phase,
    run_phase_process,
    usage,
    user,
    write_jsonl,
)
from tests.plugin.test_review27_findings import (
    CAP,
    SESSION,
    _passing_phase,
    _stamped_ticket,
    _stream_message,
)

# -- -o typed in a cluster of short options ------------------------------------------------------


def test_a_phase_typed_through_o_in_a_cluster_of_short_flags_is_a_usage_error(
    pytester: pytest.Pytester,
) -> None:
    cap = {**CAP, "max": 30_000}
    Phase.of("p0", [cap], {"T01": flat_ticket(actual_tokens=45_000)}).write(pytester.path)
    _passing_phase(pytester)
    args = ("-vo", "orchphase_phase=p0", "--phase", "p1", "-p", "no:randomly")
    result = pytester.runpytest(*args, "--orchphase-json=r.json")
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str()


def test_a_phase_typed_through_o_overrides_a_phase_in_pytest_addopts(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    cap = {**CAP, "max": 30_000}
    Phase.of("p0", [cap], {"T01": flat_ticket()}).write(pytester.path)
    Phase.of("p1", [cap], {"T01": flat_ticket(actual_tokens=45_000)}).write(pytester.path)
    monkeypatch.setenv("PYTEST_ADDOPTS", "--phase p0")
    args = ("-o", "orchphase_phase=p1", "-p", "no:randomly", "--orchphase-json=r.json")
    result = pytester.runpytest(*args)
    assert result.ret != pytest.ExitCode.OK, result.stdout.str()


# -- /dev/stdout redirected to a file ------------------------------------------------------------


def test_the_json_report_on_stdout_redirected_to_a_file_keeps_pytests_output(
    pytester: pytest.Pytester,
) -> None:
    _passing_phase(pytester)
    out = pytester.path / "out.txt"
    with out.open("wb") as stdout:
        run = run_phase_process(pytester.path, "--orchphase-json=/dev/stdout", stdout=stdout)
    text = out.read_text()
    assert run.returncode == 0, text
    assert '"answer": "YES"' in text, text
    assert "test session starts" in text, text  # pytest's header, before the report


def test_the_junit_file_and_the_step_summary_on_stdout_a_pipe_are_no_usage_error(
    pytester: pytest.Pytester,
) -> None:
    _passing_phase(pytester)
    summary = {"GITHUB_STEP_SUMMARY": "/dev/stdout"}
    run = run_phase_process(pytester.path, "--junitxml=/dev/stdout", env=summary)
    assert run.returncode == 0, run.stdout
    assert "# Phase p1 analysis" in run.stdout, run.stdout


# -- a usage ledger collected before the runs were kept ------------------------------------------


def _ledger_phase(pytester: pytest.Pytester, *, keep_runs: bool) -> None:
    """Phase p1 (wall time at most 30 min, its ticket stamped 20 min) measured from a usage
    ledger of a stream holding a finished run (5 min) and a run of the same session cut off
    before its result; ``keep_runs`` False: the ledger as one collected before a0ca061 wrote
    it, with no ``runs`` (same format number)."""
    from pytest_orchphase.usage.sources.ledger.collect import Collected, new_blocks, render

    init = {"type": "system", "subtype": "init", "session_id": SESSION}
    finished = result_object(duration_ms=5 * 60_000)
    stream = pytester.path / "r01.ndjson"
    write_jsonl(stream, [init, _stream_message(1), finished, init, _stream_message(2)])
    wall = {"id": "wall", "metric": "wall_time_minutes", "max": 30}
    sessions = [{"path": "kept.jsonl", "ticket": "T01"}]
    metadata = {"phase": "p1", "tickets": ["T01"], "sessions": sessions}
    phase = Phase.of("p1", [wall], {"T01": _stamped_ticket()}, metadata=metadata)
    ledger = phase.write(pytester.path) / "kept.jsonl"
    text = render("p1", "0.1.0", new_blocks([stream], [], Collected(out=ledger))).decode()
    lines = [json.loads(line) for line in text.splitlines()]
    for record in lines:
        if not keep_runs:
            record.pop("runs", None)
    ledger.write_text("".join(json.dumps(record) + "\n" for record in lines))
    stream.unlink()


def test_a_ledger_with_its_runs_leaves_a_cut_off_runs_wall_time_a_bound(
    pytester: pytest.Pytester,
) -> None:
    """The control of the finding below: the ledger as main writes it."""
    _ledger_phase(pytester, keep_runs=True)
    assert_not_yes(pytester, run_phase(pytester, "p1"))


def test_an_older_ledger_without_runs_leaves_a_cut_off_runs_wall_time_a_bound(
    pytester: pytest.Pytester,
) -> None:
    _ledger_phase(pytester, keep_runs=False)
    assert_not_yes(pytester, run_phase(pytester, "p1"))


# -- draft-log --out on another phase's source ---------------------------------------------------


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

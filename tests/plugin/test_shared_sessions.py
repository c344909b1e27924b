"""One phase's data read by another: a session named by two phases' metadata (by its id, its file,
a folder holding it, a copy under another name, two ledgers keeping its calls, a later phase
resuming it), a data folder whose metadata names another phase, a sessions folder or a
transcripts link reaching into another phase's data folder. Its usage would count in both, and
each phase's figures would hold the other's work: an error at the entry, naming the other phase.
Another phase's malformed ledger is no traceback here."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import (
    Phase,
    YamlData,
    assert_not_yes,
    assistant,
    decision,
    flat_ticket,
    run_phase,
    usage,
    user,
    write_jsonl,
)

S1 = "33333333-0000-0000-0000-000000000001"
S2 = "33333333-0000-0000-0000-000000000002"


def _capped(name: str, sessions: list[object]) -> Phase:
    """Phase ``name``: R01 under 50k tokens, its usage the ``sessions`` given to it."""
    return Phase.of(
        name,
        [{"id": "cap", "for_each": "ticket", "metric": "tokens", "measure": "total", "max": "50k"}],
        {"R01": {"execution_model": "opus", "fix_loops": 0}},
        metadata={"phase": name, "tickets": ["R01"], "sessions": sessions},
    )


def _session(folder: Path, session: str, tokens: int) -> Path:
    return write_jsonl(
        folder / f"{session}.jsonl",
        [
            user("Implement R01", session=session),
            assistant("m-" + session, "q-" + session, session=session, u=usage(inp=10, cw=tokens)),
        ],
    )


def _refused_by_both(pytester: pytest.Pytester) -> Iterator[tuple[pytest.RunResult, str]]:
    """b2's run, then b1's: each not YES and not exit 0; with the other phase's name."""
    for name, other in (("b2", "b1"), ("b1", "b2")):
        result = run_phase(pytester, name)
        assert result.ret != 0, result.stdout.str()
        assert decision(pytester) != "YES"
        yield result, other


def _both_yes(pytester: pytest.Pytester) -> None:
    """b1 and b2 each run to YES, exit 0."""
    for name in ("b1", "b2"):
        result = run_phase(pytester, name)
        assert (decision(pytester), result.ret) == ("YES", 0), result.stdout.str()


@pytest.fixture
def claude(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A Claude config folder outside the project with sessions S1 and S2 (20,011 tokens each)."""
    root = pytester.path.parent / f"{pytester.path.name}-claude"
    project = root / "projects" / "-work-app"
    _session(project, S1, 20_000)
    _session(project, S2, 20_000)
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(root))
    return project


@pytest.mark.parametrize(
    ("b1", "b2"),
    [
        ([{"session": S1, "ticket": "R01"}], [{"session": S1, "ticket": "R01"}]),
        ([S1], [S2, S1]),
        ("file", "file"),
        ("folder", "file"),
        ([S1], "file"),
    ],
    ids=["same-id", "same-id-plain", "same-path", "folder-holding-it", "id-and-its-file"],
)
def test_a_session_two_phases_name_is_an_error_naming_both(
    pytester: pytest.Pytester, claude: Path, b1: object, b2: object
) -> None:
    """b2 (its metadata copied from b1's, or naming the project folder b1's session is in)
    names S1 as b1 does: b2 is not YES, the error names the entry and phase b1."""
    paths = {"file": [{"path": str(claude / f"{S1}.jsonl"), "ticket": "R01"}]}
    paths["folder"] = [{"path": str(claude), "ticket": "R01"}]
    first = paths[b1] if isinstance(b1, str) else b1
    second = paths[b2] if isinstance(b2, str) else b2
    assert isinstance(first, list) and isinstance(second, list)
    _capped("b1", first).write(pytester.path)
    _capped("b2", second).write(pytester.path)
    for result, other in _refused_by_both(pytester):
        result.stdout.fnmatch_lines(
            [f"*metadata.yaml*sessions*is named by phase {other} too*count in both phases*"]
        )
    for option in (["--phase", "b2"], ["--phase=b2"]):
        again = pytester.runpytest(*option, "-p", "no:randomly")
        assert again.ret != 0


def test_two_phases_with_sessions_of_their_own_pass(
    pytester: pytest.Pytester, claude: Path
) -> None:
    """No over-correction: b1 names S1 and b2 names S2, each 20,011 tokens under 50k: YES."""
    _capped("b1", [{"session": S1, "ticket": "R01"}]).write(pytester.path)
    _capped("b2", [{"path": str(claude / f"{S2}.jsonl"), "ticket": "R01"}]).write(pytester.path)
    _both_yes(pytester)


def test_two_phases_naming_files_of_one_name_in_their_own_folders_pass(
    pytester: pytest.Pytester,
) -> None:
    """No over-correction (review23): only a transcript named by a session id (a UUID) is that
    session; b1's and b2's own `run.jsonl` (or their own usage ledgers, `usage.jsonl`) are two
    files: each phase measures its own, YES."""
    for name, session in (("b1", S1), ("b2", S2)):
        phase = _capped(name, [{"path": "run.jsonl", "ticket": "R01"}])
        folder = phase.write(pytester.path)
        (folder / "run.jsonl").write_text(_session(folder / "tmp", session, 20_000).read_text())
    _both_yes(pytester)


def _names_both(result: pytest.RunResult, other: str, holder: str) -> None:
    """The error names session S1, the other phase (or its metadata file) and ``holder``."""
    errors = [line for line in result.stdout.lines if "would count in both phases" in line]
    assert errors, result.stdout.str()
    line = errors[0]
    assert f"session {S1}" in line and holder in line, line
    assert f"phase {other}" in line or f"phase-{other}/metadata.yaml" in line, line


@pytest.mark.parametrize("order", ["folder-then-id", "id-then-folder"])
def test_a_folder_and_a_session_id_in_it_named_by_two_phases_is_an_error(
    pytester: pytest.Pytester, claude: Path, order: str
) -> None:
    """review23: b1 names the project folder holding S1, b2 names S1 by its id (or the reverse):
    S1 would count in both phases. An error at the entry, naming the other phase."""
    folder: list[object] = [{"path": str(claude), "ticket": "R01"}]
    by_id: list[object] = [{"session": S1, "ticket": "R01"}]
    first, second = (folder, by_id) if order == "folder-then-id" else (by_id, folder)
    _capped("b1", first).write(pytester.path)
    _capped("b2", second).write(pytester.path)
    for result, other in _refused_by_both(pytester):
        result.stdout.fnmatch_lines([f"*session {S1}*is named by phase {other} too*"])


def test_a_session_in_one_phases_transcripts_folder_named_by_another_is_an_error(
    pytester: pytest.Pytester, claude: Path
) -> None:
    """b1 measures S1 from a copy in its `transcripts/` folder, b2 names S1 by its id: S1 would
    count in both phases. The error names b1's folder. The copy renamed as another session
    still holds S1's calls: refused by them. A session of b1's own there: both YES."""
    b1 = _capped("b1", []).write(pytester.path)
    (b1 / "transcripts").mkdir()
    (b1 / "transcripts" / f"{S1}.jsonl").write_text((claude / f"{S1}.jsonl").read_text())
    _capped("b2", [{"session": S1, "ticket": "R01"}]).write(pytester.path)
    for result, other in _refused_by_both(pytester):
        _names_both(result, other, "transcripts")
    (b1 / "transcripts" / f"{S1}.jsonl").rename(b1 / "transcripts" / f"{S2}.jsonl")
    for result, other in _refused_by_both(pytester):
        result.stdout.fnmatch_lines([f"*API call(s) measured here are counted by phase {other}*"])
    (b1 / "transcripts" / f"{S2}.jsonl").write_text((claude / f"{S2}.jsonl").read_text())
    _both_yes(pytester)


def test_a_session_kept_in_one_phases_ledger_named_by_another_is_an_error(
    pytester: pytest.Pytester, claude: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """b1's usage ledger keeps S1 (collected), b2 names S1 by its id: b2 would count the calls
    b1 counts. An error naming the ledger. Two ledgers each keeping S1 (a collect chooses
    whole sessions, `--since`/`--until` too) are refused alike; b2's ledger of its own session
    S2 beside b1's of S1: both YES."""
    from pytest_orchphase.cli import main

    _capped("b1", [{"session": S1, "ticket": "R01"}]).write(pytester.path)
    monkeypatch.chdir(pytester.path)
    assert main(["collect", "b1"]) == 0
    b1 = _capped("b1", [{"path": "usage.jsonl", "ticket": "R01"}]).write(pytester.path)
    assert (b1 / "usage.jsonl").is_file()
    _capped("b2", [{"session": S1, "ticket": "R01"}]).write(pytester.path)
    for result, other in _refused_by_both(pytester):
        _names_both(result, other, "usage.jsonl")
    assert main(["collect", "b2"]) == 0
    b2 = _capped("b2", [{"path": "usage.jsonl", "ticket": "R01"}]).write(pytester.path)
    for result, other in _refused_by_both(pytester):
        _names_both(result, other, "usage.jsonl")
    (b2 / "usage.jsonl").unlink()
    _capped("b2", [{"session": S2, "ticket": "R01"}]).write(pytester.path)
    assert main(["collect", "b2"]) == 0
    _capped("b2", [{"path": "usage.jsonl", "ticket": "R01"}]).write(pytester.path)
    _both_yes(pytester)


def test_a_headless_result_copied_into_another_phase_is_an_error(pytester: pytest.Pytester) -> None:
    """b1's `claude -p` result copied into b2's folder under another name: the same run (its
    session id), counted by both phases. Refused by its calls; b2's own run: both YES."""
    import json

    from tests.helpers import result_object

    folders = {}
    for name in ("b1", "b2"):
        run = {"path": f"runs/{name}.json", "ticket": "R01"}
        folders[name] = Phase.of(
            name,
            [{"id": "cap", "metric": "tokens", "measure": "total", "max": "100k"}],
            {"R01": {"execution_model": "haiku", "fix_loops": 0}},
            metadata={"phase": name, "tickets": ["R01"], "sessions": [run]},
        ).write(pytester.path)
        (folders[name] / "runs").mkdir()
    copied = json.dumps(result_object(session_id=S1))
    (folders["b1"] / "runs" / "b1.json").write_text(copied)
    (folders["b2"] / "runs" / "b2.json").write_text(copied)
    for result, other in _refused_by_both(pytester):
        result.stdout.fnmatch_lines([f"*API call(s) measured here are counted by phase {other}*"])
    (folders["b2"] / "runs" / "b2.json").write_text(json.dumps(result_object(session_id=S2)))
    _both_yes(pytester)


@pytest.mark.parametrize("copy", ["copy.jsonl", f"{S2}.jsonl"])
def test_one_session_given_to_two_tickets_under_two_names_is_an_error(
    pytester: pytest.Pytester, claude: Path, copy: str
) -> None:
    """Within one phase, R01's session S1 and a copy of it under another name given to R02:
    counted once, its calls went to R01 and R02 fell back on its log's 10,000 (YES). An error
    at the later entry, naming both files; R02's own session there: YES."""
    cap = {"id": "cap", "for_each": "ticket", "metric": "tokens", "measure": "total", "max": "50k"}
    ticket = {"execution_model": "opus", "fix_loops": 0, "actual_tokens": 10_000}
    sessions = [{"session": S1, "ticket": "R01"}, {"path": copy, "ticket": "R02"}]
    metadata = {"phase": "p1", "tickets": ["R01", "R02"], "sessions": sessions}
    p1 = Phase.of("p1", [cap], {"R01": ticket, "R02": ticket}, metadata=metadata)
    folder = p1.write(pytester.path)
    (folder / copy).write_text((claude / f"{S1}.jsonl").read_text())
    result = run_phase(pytester, "p1")
    assert result.ret != 0, result.stdout.str()
    assert decision(pytester) != "YES"
    result.stdout.fnmatch_lines(
        [f"*metadata.yaml*sessions[[]1[]]*{copy} holds 1 API call(s) that *{S1}.jsonl holds too*"]
    )
    (folder / copy).write_text((claude / f"{S2}.jsonl").read_text())
    result = run_phase(pytester, "p1")
    assert (decision(pytester), result.ret) == ("YES", 0), result.stdout.str()


def test_a_session_copied_under_another_name_counts_in_one_phase_only(
    pytester: pytest.Pytester,
    claude: Path,
) -> None:
    original = claude / f"{S1}.jsonl"
    _capped("b1", [{"session": S1, "ticket": "R01"}]).write(pytester.path)
    b2 = _capped("b2", [{"path": "run.jsonl", "ticket": "R01"}]).write(pytester.path)
    (b2 / "run.jsonl").write_text(original.read_text())
    for name in ("b2", "b1"):
        assert_not_yes(pytester, run_phase(pytester, name))


def test_two_ledgers_keeping_the_same_calls_count_them_in_one_phase_only(
    pytester: pytest.Pytester,
    claude: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pytest_orchphase.cli import main

    monkeypatch.chdir(pytester.path)
    for name in ("b1", "b2"):
        _capped(name, [{"session": S1, "ticket": "R01"}]).write(pytester.path)
        assert main(["collect", name]) == 0
        _capped(name, [{"path": "usage.jsonl", "ticket": "R01"}]).write(pytester.path)
    assert_not_yes(pytester, run_phase(pytester, "b2"))


def test_another_phases_malformed_ledger_line_is_no_traceback(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pytest_orchphase.usage.sources.ledger.format import MARKER
    from tests.helpers import assistant, usage, user, write_jsonl

    home = pytester.path.parent / f"{pytester.path.name}-claude"
    lines = [
        user("Implement R01", session=S1),
        assistant("m-1", "q-1", session=S1, u=usage(inp=10, cw=20_000)),
    ]
    write_jsonl(home / "projects" / "-work-app" / f"{S1}.jsonl", lines)
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(home))
    _capped("b1", [{"session": S1, "ticket": "R01"}]).write(pytester.path)
    b2 = _capped("b2", []).write(pytester.path)
    header = '{"' + MARKER + '": 1, "phase": "b2"}\n'
    (b2 / "usage.jsonl").write_text(header + '[{"kind":"file","name":"-w/x.jsonl"}]\n')
    result = run_phase(pytester, "b1")
    assert "Traceback" not in result.stdout.str() + result.stderr.str()
    assert result.ret in (0, 1), result.stdout.str()


def test_a_later_phase_resuming_a_session_leaves_the_earlier_phase_yes(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = pytester.path.parent / f"{pytester.path.name}-claude" / "projects" / "-work-app"
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(project.parent.parent))
    first = [
        user("Implement R01", session=S1),
        assistant("m-1", "q-1", session=S1, u=usage(inp=10, cw=20_000)),
    ]
    write_jsonl(project / f"{S1}.jsonl", first)
    resumed = [  # `claude --resume S1` in phase b2: S1's history, then b2's own call
        *[{**line, "sessionId": S2} for line in first],
        user("Implement R01", session=S2),
        assistant("m-2", "q-2", session=S2, u=usage(inp=10, cw=20_000)),
    ]
    write_jsonl(project / f"{S2}.jsonl", resumed)
    for name, session in (("b1", S1), ("b2", S2)):
        Phase.of(
            name,
            [{"id": "cap", "metric": "tokens", "measure": "total", "max": "50k"}],
            {"R01": flat_ticket(execution_model="opus")},
            metadata={"phase": name, "tickets": ["R01"], "sessions": [session]},
        ).write(pytester.path)
    result = run_phase(pytester, "b1")
    assert (decision(pytester), result.ret) == ("YES", 0), result.stdout.str()
    # b2 counts b1's history again: refused, naming b1
    result = run_phase(pytester, "b2")
    assert_not_yes(pytester, result)
    result.stdout.fnmatch_lines(["*API call(s) measured here are counted by phase b1 too*"])


def test_a_data_folder_whose_metadata_names_another_phase_is_an_error(
    pytester: pytest.Pytester,
) -> None:
    cap: list[YamlData] = [{"id": "cap", "metric": "tokens", "measure": "total", "max": "100k"}]
    Phase.of("p1", cap, {"T01": flat_ticket()}).write(pytester.path)
    copied = {"phase": "p1", "tickets": ["T01"]}
    Phase.of("p2", cap, {"T01": flat_ticket()}, requires=["p1"], metadata=copied).write(
        pytester.path
    )
    result = run_phase(pytester, "p2")
    assert result.ret != 0, result.stdout.str()
    assert decision(pytester) != "YES"
    result.stdout.fnmatch_lines(["*metadata.yaml*phase: 'p1' is phase p1's (its name), not p2's*"])


def test_a_data_folder_whose_metadata_label_is_another_phases_is_an_error(
    pytester: pytest.Pytester,
) -> None:
    """The shipped labels are free text (`A1_conservative` for a1): a folder copied from p1 keeps
    p1's label. An error naming p1; with a label of its own, p2 is YES."""
    cap: list[YamlData] = [{"id": "cap", "metric": "tokens", "measure": "total", "max": "100k"}]
    first = {"phase": "P1_conservative", "tickets": ["T01"]}
    Phase.of("p1", cap, {"T01": flat_ticket()}, metadata=first).write(pytester.path)
    Phase.of("p2", cap, {"T01": flat_ticket()}, requires=["p1"], metadata=first).write(
        pytester.path
    )
    result = run_phase(pytester, "p2")
    assert result.ret != 0 and decision(pytester) != "YES", result.stdout.str()
    result.stdout.fnmatch_lines(["*metadata.yaml*'P1_conservative' is phase p1's*not p2's*"])
    own = {"phase": "P2_experimental", "tickets": ["T01"]}
    Phase.of("p2", cap, {"T01": flat_ticket()}, requires=["p1"], metadata=own).write(pytester.path)
    result = run_phase(pytester, "p2")
    assert (result.ret, decision(pytester)) == (0, "YES"), result.stdout.str()


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
    folder). `../phase-m1/runs` (a path inside another phase's data folder) is an error at
    `sessions[0]`; a folder *around* it, scanned whole, would measure m1's calls as m2's R01 (its
    description pattern matches) and m2 would say YES on m1's run (exit 0): the same error,
    naming phase-m1's folder (or m2's R01 unmeasured), never YES."""
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
    symbolic link to phase-m1/runs, m1's run: read through it, m2 would measure m1's calls as
    its R01's and say YES (exit 0). The resolved path lies in another phase's data folder, an
    error for a `sessions:` path: the same error here (or R01 unmeasured), never YES."""
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

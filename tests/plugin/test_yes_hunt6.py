"""Sixth adversarial round: phases that say "Proceed: YES" when their data shows they should
not. Each test is a finding on main (xfail strict until fixed); the reason says what is
observed and what is expected."""

from __future__ import annotations

import json

import pytest

from tests.helpers import (
    Phase,
    YamlData,
    assert_not_yes,
    decision,
    flat_ticket,
    read_report,
    result_object,
    run_phase,
)

#: Haiku's success rate at 100 % on the point estimate: every Haiku ticket must have succeeded.
ALL_HAIKU_SUCCEED: YamlData = {
    "id": "haiku-success",
    "metric": "success_rate",
    "model": "haiku",
    "min": "100%",
    "rule": "point",
}


def _haiku_ticket(implementation: YamlData, review: YamlData) -> YamlData:
    """A mechanical ticket executed on Haiku, with these implementation and review stages."""
    return {
        "execution_model": "haiku",
        "complexity": "mechanical",
        "branch_creation": {"model": "sonnet", "actual_tokens": 2_000, "status": "completed"},
        "implementation": {"model": "haiku", "fix_loops": 0, **implementation},
        "review": review,
    }


def _two_models(
    pytester: pytest.Pytester, succeeded: str, struggled: str, criterion: YamlData
) -> pytest.RunResult:
    """Phase p1 judged by ``criterion``: T01 executed on ``succeeded`` (a success) and T02 on
    ``struggled``, which needed three fix loops (no success); its run."""
    three_loops = {"fix_loops": 3, "review": {"result": "PASS", "attempts": 1}}
    tickets = {
        "T01": flat_ticket(execution_model=succeeded),
        "T02": flat_ticket(execution_model=struggled, **three_loops),
    }
    Phase.of("p1", [criterion], tickets).write(pytester.path)
    return run_phase(pytester, "p1")


@pytest.mark.parametrize("implementation", ["skipped", "absent"])
def test_a_ticket_whose_implementation_did_not_run_is_no_success(
    pytester: pytest.Pytester, implementation: str
) -> None:
    review = {"result": "PASS", "attempts": 1, "actual_tokens": 3_000, "status": "completed"}
    ticket = _haiku_ticket({"status": "skipped"}, review)
    if implementation == "absent":
        del ticket["implementation"]
        ticket["fix_loops"] = 0
    Phase.of("p1", [ALL_HAIKU_SUCCEED], {"T01": ticket}).write(pytester.path)
    result = run_phase(pytester, "p1")
    assert_not_yes(pytester, result)


def test_adoption_counts_no_ticket_whose_implementation_was_skipped(
    pytester: pytest.Pytester,
) -> None:
    review = {"result": "PASS", "attempts": 1, "actual_tokens": 3_000, "status": "completed"}
    tickets = {f"T0{i}": _haiku_ticket({"status": "skipped"}, review) for i in (1, 2, 3)}
    adopt = {"model": "haiku", "min_success_rate": "50%", "min_sample_size": 3, "rule": "point"}
    counted: YamlData = {"id": "three-tickets", "metric": "tickets", "min": 3}
    Phase.of("p1", [counted], tickets, decisions={"adopt_model": adopt}).write(pytester.path)
    result = run_phase(pytester, "p1")
    adoption = read_report(pytester.path)["decisions"]["adopt_model"]
    assert adoption["answer"] != "YES", result.stdout.str()


def test_a_skipped_review_with_a_passing_checklist_is_no_verdict(
    pytester: pytest.Pytester,
) -> None:
    ticket = _haiku_ticket(
        {"actual_tokens": 2_000, "status": "completed"},
        {"checklist_results": [{"Code compiles": "PASS"}], "status": "skipped"},
    )
    Phase.of("p1", [ALL_HAIKU_SUCCEED], {"T01": ticket}).write(pytester.path)
    result = run_phase(pytester, "p1")
    assert_not_yes(pytester, result)


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


@pytest.mark.parametrize("wanted", ["Haiku 4.5", "haiku-4-5"])
def test_a_snapshot_id_is_of_the_model_its_version_name_gives(
    pytester: pytest.Pytester, wanted: str
) -> None:
    rate = {**ALL_HAIKU_SUCCEED, "model": wanted}
    result = _two_models(pytester, wanted, "claude-haiku-4-5-20251001", rate)
    assert_not_yes(pytester, result)


#: At most one fix loop for each ticket executed on Haiku.
HAIKU_LOOPS: YamlData = {
    "id": "haiku-loops",
    "for_each": "ticket",
    "where": {"execution_model": "haiku"},
    "metric": "fix_loops",
    "max": 1,
}


@pytest.mark.parametrize("criterion", ["rate", "where"])
def test_a_model_of_no_family_is_not_silently_another_model(
    pytester: pytest.Pytester, criterion: str
) -> None:
    judged = ALL_HAIKU_SUCCEED if criterion == "rate" else HAIKU_LOOPS
    result = _two_models(pytester, "haiku", "hiaku", judged)
    assert_not_yes(pytester, result)
    result.stdout.fnmatch_lines(["*T02*'hiaku'*no known model family (opus, sonnet, haiku)*"])


def test_an_adoption_counts_no_model_of_no_family_as_another(pytester: pytest.Pytester) -> None:
    """The adoption decision pools the tickets on its model as the rate does: T02's failure on
    'hiaku' may be Haiku's, so 'Adopt haiku' is not YES on T01's success alone."""
    adopt = {"model": "haiku", "min_success_rate": "100%", "min_sample_size": 1, "rule": "point"}
    counted: YamlData = {"id": "two-tickets", "metric": "tickets", "min": 2}
    tickets = {
        "T01": flat_ticket(execution_model="haiku", complexity="mechanical"),
        "T02": flat_ticket(execution_model="hiaku", complexity="mechanical", fix_loops=3),
    }
    Phase.of("p1", [counted], tickets, decisions={"adopt_model": adopt}).write(pytester.path)
    result = run_phase(pytester, "p1")
    adoption = read_report(pytester.path)["decisions"]["adopt_model"]
    assert adoption["answer"] != "YES", result.stdout.str()


def test_repeated_runs_count_no_model_of_no_family_as_another(pytester: pytest.Pytester) -> None:
    """pass_hat_k over Haiku's runs: T02's failed run on 'hiaku' may be Haiku's."""
    every: YamlData = {
        "id": "every",
        "metric": "pass_hat_k",
        "model": "haiku",
        "k": 1,
        "min": "100%",
    }
    result = _two_models(pytester, "haiku", "hiaku", every)
    assert_not_yes(pytester, result)


@pytest.mark.parametrize(
    "other",
    [
        "sonnet[1m]",
        "claude-opus-4-1",
        "claude-sonnet-4-5-20250929",
        "claude-sonnet-4-5-20250929[1m]",
        "anthropic.claude-opus-4-1-20250805-v1:0",
    ],
)
@pytest.mark.parametrize("criterion", ["rate", "where"])
def test_a_model_of_another_family_is_known_to_be_another(
    pytester: pytest.Pytester, criterion: str, other: str
) -> None:
    """The honest side: names Claude Code and the providers record for Sonnet and Opus are of a
    known family, so their failures are none of Haiku's criteria's business."""
    judged = ALL_HAIKU_SUCCEED if criterion == "rate" else HAIKU_LOOPS
    result = _two_models(pytester, "haiku", other, judged)
    assert decision(pytester) == "YES", result.stdout.str()
    assert result.ret == 0


@pytest.mark.parametrize("wanted", ["Haiku 4.5", "haiku-4-5"])
def test_a_snapshot_of_the_version_a_name_gives_counts_in_its_rate(
    pytester: pytest.Pytester, wanted: str
) -> None:
    """The honest side: the snapshot's ticket succeeded too, so Haiku 4.5's rate is 2 of 2 (an
    unknown membership would not say YES)."""
    rate = {**ALL_HAIKU_SUCCEED, "model": wanted}
    tickets = {
        "T01": flat_ticket(execution_model=wanted),
        "T02": flat_ticket(execution_model="claude-haiku-4-5-20251001"),
    }
    Phase.of("p1", [rate], tickets).write(pytester.path)
    result = run_phase(pytester, "p1")
    assert decision(pytester) == "YES", result.stdout.str()
    assert result.ret == 0


@pytest.mark.parametrize("other", ["claude-3-5-haiku-20241022", "claude-haiku-3-5"])
def test_a_snapshot_of_another_version_is_not_in_the_rate(
    pytester: pytest.Pytester, other: str
) -> None:
    """Haiku 3.5's failing ticket is no Haiku 4.5 ticket, whatever shape names either."""
    rate = {**ALL_HAIKU_SUCCEED, "model": "Haiku 4.5"}
    result = _two_models(pytester, "claude-haiku-4-5-20251001", other, rate)
    assert decision(pytester) == "YES", result.stdout.str()
    assert result.ret == 0


def test_a_where_naming_a_version_judges_its_snapshots(pytester: pytest.Pytester) -> None:
    """The filter of a for_each criterion, as the rate's: the snapshot's three fix loops fail
    `max: 1` of the tickets on Haiku 4.5."""
    loops: YamlData = {
        "id": "haiku-loops",
        "for_each": "ticket",
        "where": {"execution_model": "Haiku 4.5"},
        "metric": "fix_loops",
        "max": 1,
    }
    result = _two_models(pytester, "Haiku 4.5", "claude-haiku-4-5-20251001", loops)
    assert_not_yes(pytester, result)
    result.stdout.fnmatch_lines(["*haiku-loops*T02*FAIL*"])


def test_a_fix_made_by_a_larger_model_is_no_success_of_the_smaller(
    pytester: pytest.Pytester,
) -> None:
    ticket = _haiku_ticket(
        {"actual_tokens": 2_000, "status": "requires_fix", "fix_loops": 1},
        {"result": "PASS", "attempts": 2, "actual_tokens": 1_000, "status": "completed"},
    )
    ticket["fix"] = {"model": "sonnet", "actual_tokens": 2_000, "status": "completed"}
    ticket["review"] = ticket.pop("review")  # the fix before the review, as the stages run
    Phase.of("p1", [ALL_HAIKU_SUCCEED], {"T01": ticket}).write(pytester.path)
    result = run_phase(pytester, "p1")
    assert_not_yes(pytester, result)


def test_a_paired_comparison_with_the_phase_itself_is_an_error(
    pytester: pytest.Pytester,
) -> None:
    no_dearer: YamlData = {
        "id": "no-dearer",
        "metric": "paired_savings",
        "versus": "p1",
        "measure": "total",
        "min": 0,
        "rule": "point",
    }
    tickets = {f"T0{i}": flat_ticket() for i in (1, 2, 3)}
    Phase.of("p1", [no_dearer], tickets).write(pytester.path)
    result = run_phase(pytester, "p1")
    assert result.ret != 0, result.stdout.str()
    assert decision(pytester) != "YES"
    result.stdout.fnmatch_lines(["*criteria/p1.yaml*versus: compares phase p1 with itself*"])


@pytest.mark.parametrize("limit_phase", [None, "p1"])
def test_a_phase_figure_bounded_by_itself_is_an_error(
    pytester: pytest.Pytester, limit_phase: str | None
) -> None:
    """`tokens max: {metric: tokens}` (this phase's, or named `phase: p1`) is always equal:
    it would pass on nothing. Bounded by another figure of the phase, it is judged."""
    own: YamlData = {"metric": "tokens", "measure": "total"}
    if limit_phase:
        own["phase"] = limit_phase
    cap: YamlData = {"metric": "tokens", "measure": "total", "max": own}
    tickets = {f"T0{i}": flat_ticket() for i in (1, 2, 3)}
    Phase.of("p1", [{"id": "cap", "all": [cap]}], tickets).write(pytester.path)
    result = run_phase(pytester, "p1")
    assert result.ret != 0, result.stdout.str()
    result.stdout.fnmatch_lines(["*criteria/p1.yaml*compares phase p1's tokens with itself*"])
    other: YamlData = {"metric": "tokens", "measure": "output"}
    half = {"id": "cap", "metric": "tokens", "measure": "input", "max": other}
    Phase.of("p1", [half], tickets).write(pytester.path)
    result = run_phase(pytester, "p1")
    assert "with itself" not in result.stdout.str(), result.stdout.str()


@pytest.mark.parametrize("subtype", ["error_max_turns", "error_during_execution"])
def test_a_ticket_whose_measured_run_ended_in_error_is_no_success(
    pytester: pytest.Pytester, subtype: str
) -> None:
    ticket = {
        "execution_model": "haiku",
        "fix_loops": 0,
        "review": {"result": "PASS", "attempts": 1},
    }
    run = {"path": "runs/r01.json", "ticket": "R01"}
    metadata = {"phase": "p1", "tickets": ["R01"], "sessions": [run]}
    folder = Phase.of("p1", [ALL_HAIKU_SUCCEED], {"R01": ticket}, metadata=metadata).write(
        pytester.path
    )
    (folder / "runs").mkdir()
    errored = result_object(is_error=True, subtype=subtype)
    (folder / "runs" / "r01.json").write_text(json.dumps(errored))
    result = run_phase(pytester, "p1")
    assert_not_yes(pytester, result)
    result.stdout.fnmatch_lines([f"*execution-log.yaml*R01*ended in error (r01.json ({subtype}))*"])
    # no over-correction: the log recording the failure is judged (2 of 2 -> 1 of 2 < 100%)
    # by the rate, and a retry that finished makes the ticket's work done
    retry = result_object(session_id="e382184a-1111-2222-3333-444455556667")
    (folder / "runs" / "r02.json").write_text(json.dumps(retry))
    metadata["sessions"] = [run, {"path": "runs/r02.json", "ticket": "R01"}]
    Phase.of("p1", [ALL_HAIKU_SUCCEED], {"R01": ticket}, metadata=metadata).write(pytester.path)
    result = run_phase(pytester, "p1")
    assert "ended in error" not in result.stdout.str(), result.stdout.str()


def test_a_run_that_ended_in_error_still_fails_its_ticket_from_the_usage_ledger(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The errored run collected into p1's ledger (collect keeps subtype and is_error), the raw
    result moved away: the phase measured from the ledger is refused as from the raw file."""
    import shutil

    from pytest_orchphase.cli import main

    ticket = {"execution_model": "haiku", "fix_loops": 0, "review": {"result": "PASS"}}
    run = {"path": "runs/r01.json", "ticket": "R01"}
    metadata = {"phase": "p1", "tickets": ["R01"], "sessions": [run]}
    folder = Phase.of("p1", [ALL_HAIKU_SUCCEED], {"R01": ticket}, metadata=metadata).write(
        pytester.path
    )
    (folder / "runs").mkdir()
    out_of_turns = result_object(is_error=False, subtype="error_max_turns")
    (folder / "runs" / "r01.json").write_text(json.dumps(out_of_turns))
    monkeypatch.chdir(pytester.path)
    assert main(["collect", "p1"]) == 0
    shutil.move(folder / "runs", pytester.path / "moved")
    metadata["sessions"] = [{"path": "usage.jsonl", "ticket": "R01"}]
    Phase.of("p1", [ALL_HAIKU_SUCCEED], {"R01": ticket}, metadata=metadata).write(pytester.path)
    result = run_phase(pytester, "p1")
    assert_not_yes(pytester, result)
    result.stdout.fnmatch_lines(["*execution-log.yaml*R01*ended in error*error_max_turns*"])

"""What the execution log says about a ticket, read as a whole (third adversarial round,
copied from tests/yes_hunt3/test_wrong_yes.py on branch yes-hunt3, then their siblings).

- A fix loop the log's own stages record (a `fix` stage that ran, or a stage that required a fix
  which a later stage completed) beside `fix_loops: 0` is a contradiction: an error at the field,
  as a review `result: PASS` beside a FAIL checklist item is.
- A ticket whose execution model (or complexity, or review tier) is not recorded may belong to a
  criterion's filter: the criterion cannot pass on the tickets it knows alone.
- A phase of one ticket batched nothing: its batching savings cannot pass a criterion.
- The adoption decision pools every run it may hold: a run whose model, complexity or model
  family is not known is counted in its worst case (its failure may be the adopted model's), and
  a required phase whose files do not load leaves the answer INCONCLUSIVE; never YES.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pytest_orchphase.decide.adoption import Adoption, adoption
from pytest_orchphase.errors import MetricUnavailable
from pytest_orchphase.evaluate.runner import PhaseRunner
from pytest_orchphase.metrics.registry import metric_value
from tests.helpers import Phase, flat_ticket, rate_phase, read_report, run_phase

YamlData = dict[str, Any]


def run(pytester: pytest.Pytester, phase: str) -> pytest.RunResult:
    return pytester.runpytest("--phase", phase, "--orchphase-json", "r.json", "-p", "no:randomly")


def assert_not_yes(pytester: pytest.Pytester, result: pytest.RunResult) -> None:
    report = read_report(pytester.path)
    assert report["decisions"]["proceed"]["answer"] != "YES", result.stdout.str()
    assert result.ret != 0


# ------------------------------------------------------------------ fix loops the stages record

FIX_LOOP_CRITERIA: list[YamlData] = [
    {"id": "no-fix-loop", "for_each": "ticket", "metric": "fix_loops", "max": 0},
    {"id": "phase-fix-loops", "metric": "fix_loops", "max": 0},
]


def staged(
    status: str = "completed", loops: int = 0, fix: str | None = None, attempts: int = 1
) -> YamlData:
    """A Haiku ticket in stages: its implementation's ``status`` and ``fix_loops``, a ``fix``
    stage of that status when given, a review that passed on its ``attempts``-th attempt."""
    ticket: YamlData = {
        "implementation": {
            "model": "haiku",
            "actual_tokens": 9000,
            "status": status,
            "fix_loops": loops,
        }
    }
    if fix is not None:
        ticket["fix"] = {"model": "haiku", "actual_tokens": 4000, "status": fix}
    ticket["review"] = {"result": "PASS", "actual_tokens": 1000, "attempts": attempts}
    return ticket


CLEAN = staged()


@pytest.mark.parametrize(
    "r02",
    [
        # a fix stage that ran (figures, status completed) is a fix loop the ticket needed
        staged(fix="completed"),
        # the sibling: an implementation that required a fix, fixed by a later stage (so the
        # ticket counts as finished), is a fix loop too
        staged("requires_fix", attempts=2),
    ],
    ids=["fix-stage-ran", "requires-fix-then-completed"],
)
def test_fix_loops_zero_beside_a_fix_that_ran_is_no_pass(
    pytester: pytest.Pytester, r02: YamlData
) -> None:
    """`fix_loops: 0` beside a fix the log itself records (a `fix` stage that ran, or an
    implementation `requires_fix` that a later stage completed) contradicts itself, as a review
    `result: PASS` beside a FAIL checklist item does (an error at the review): a `max: 0` on
    fix loops ("no fix loop") must not pass on the figure that the log's own stages refute."""
    Phase.of("f1", FIX_LOOP_CRITERIA, {"R01": CLEAN, "R02": r02}).write(pytester.path)
    result = run(pytester, "f1")
    assert_not_yes(pytester, result)


def test_fix_loops_zero_beside_a_fix_is_an_error_naming_the_field(
    pytester: pytest.Pytester,
) -> None:
    """The contradiction is a collection error (exit 2) at the ticket, naming the field that
    says 0 and each stage that says otherwise; the decision is NO, never a traceback."""
    r02: YamlData = {
        "execution_model": "haiku",
        "fix_loops": 0,
        "implementation": {"model": "haiku", "actual_tokens": 9000, "status": "requires_fix"},
        "fix": {"model": "haiku", "actual_tokens": 4000},
        "review": {"result": "PASS", "actual_tokens": 1000, "attempts": 2},
    }
    Phase.of("f1", FIX_LOOP_CRITERIA, {"R01": CLEAN, "R02": r02}).write(pytester.path)
    result = run(pytester, "f1")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(
        [
            "*docs/orchestration-data/phase-f1/execution-log.yaml:*: tickets.R02: fix_loops is 0,"
            " but the fix stage ran (no status) and implementation required a fix (status"
            " requires_fix) that a later stage made*",
            "Proceed to phase *: NO*",
        ]
    )
    result.stdout.no_fnmatch_line("*Traceback*")
    assert read_report(pytester.path)["decisions"]["proceed"]["answer"] == "NO"


def test_fix_loops_zero_beside_a_fix_in_a_single_ticket_log_is_an_error(
    pytester: pytest.Pytester,
) -> None:
    """The plan's single-ticket layout (stages at the top of the log) says the same: the error
    is at the log's implementation.fix_loops, not a traceback from building its one ticket."""
    phase = Phase.of("f1", FIX_LOOP_CRITERIA[:1], {"R01": CLEAN})
    phase.log = {
        "implementation": {
            "model": "haiku",
            "actual_tokens": 9000,
            "status": "completed",
            "fix_loops": 0,
        },
        "fix": {"model": "haiku", "actual_tokens": 4000, "status": "completed"},
        "review": {"result": "PASS", "actual_tokens": 1000, "attempts": 1},
    }
    phase.write(pytester.path)
    result = run(pytester, "f1")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(
        ["*execution-log.yaml*implementation.fix_loops is 0, but the fix stage ran (status*"]
    )
    result.stdout.no_fnmatch_line("*Traceback*")


@pytest.mark.parametrize(
    "r02",
    [
        # the plan's A2 record: Haiku's implementation required a fix, one fix loop made it,
        # and the review passed on its second attempt
        staged("requires_fix", loops=1, fix="completed", attempts=2),
        # a fix stage the log keeps but that did not run is no fix loop
        staged(fix="skipped"),
    ],
    ids=["plan-a2-record", "fix-stage-skipped"],
)
def test_fix_loops_that_agree_with_the_stages_still_pass(
    pytester: pytest.Pytester, r02: YamlData
) -> None:
    """No over-correction: fix loops the stages agree with pass their limits (`max: 1` for the
    plan's A2 record, `max: 0` beside a fix stage marked skipped), and the phase says YES."""
    loops = r02["implementation"]["fix_loops"]
    criteria = [
        {"id": "fix-loops", "for_each": "ticket", "metric": "fix_loops", "max": loops},
        {
            "id": "haiku-success",
            "metric": "success_rate",
            "model": "haiku",
            "min": "100%",
            "rule": "point",
        },
    ]
    Phase.of("f1", criteria, {"R01": CLEAN, "R02": r02}).write(pytester.path)
    result = run(pytester, "f1")
    result.assert_outcomes(passed=3)
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*100.0% (2 of 2*PASS*", "Proceed to phase *: YES*"])


# ------------------------------------------------------- a ticket whose model is not recorded

HAIKU_FILTERS: list[YamlData] = [
    {
        "id": "haiku-success",
        "metric": "success_rate",
        "model": "haiku",
        "min": "100%",
        "rule": "point",
    },
    {"id": "haiku-loops", "metric": "max_fix_loops", "model": "haiku", "max": 1},
    {"id": "haiku-reviews", "metric": "max_review_attempts", "model": "haiku", "max": 1},
    {
        "id": "haiku-validation",
        "for_each": "ticket",
        "where": {"execution_model": "haiku"},
        "metric": "fix_loops",
        "max": 1,
    },
]


def flat(loops: int, attempts: int, result: str = "PASS", **more: object) -> YamlData:
    """A flat ticket (the A3 shape) of 3,000 tokens, with ``more`` keys (its model...)."""
    return {
        **more,
        "actual_tokens": 3000,
        "fix_loops": loops,
        "review": {"result": result, "attempts": attempts},
    }


@pytest.mark.parametrize("criterion", HAIKU_FILTERS, ids=lambda c: str(c["id"]))
def test_a_ticket_of_unknown_model_does_not_drop_out_of_a_model_filter(
    pytester: pytest.Pytester, criterion: YamlData
) -> None:
    """R02 records no execution model (no `execution_model`, no implementation stage): the
    ticket table itself shows its model as `unknown`. It may have run on Haiku, and it failed
    (review FAIL, three fix loops, three review attempts); a criterion over the tickets executed
    on Haiku cannot tell whether it belongs, so it must not pass on R01 alone (1 of 1)."""
    tickets = {
        "R01": flat(0, 1, execution_model="haiku"),
        "R02": flat(3, 3, "FAIL"),
    }
    Phase.of("u1", [criterion], tickets).write(pytester.path)
    result = run(pytester, "u1")
    assert_not_yes(pytester, result)
    result.stdout.fnmatch_lines(
        [
            "*ticket R02 records no execution model (execution_model, or the implementation"
            " stage's model)*not known*"
        ]
    )


@pytest.mark.parametrize("criterion", HAIKU_FILTERS[1:], ids=lambda c: str(c["id"]))
def test_a_ticket_of_unknown_model_that_changes_nothing_lets_the_criterion_pass(
    pytester: pytest.Pytester, criterion: YamlData
) -> None:
    """No over-correction: where the answer does not depend on R02's model (its fix loops and
    review attempts are no higher than Haiku's R01's, or it passes the per-ticket criterion
    anyway), the criterion passes; so does every criterion once R02 records its model."""
    tickets = {"R01": flat(1, 1, execution_model="haiku"), "R02": flat(0, 1)}
    Phase.of("u1", [criterion], tickets).write(pytester.path)
    result = run(pytester, "u1")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    result.stdout.fnmatch_lines(["Proceed to phase *: YES*"])


@pytest.mark.parametrize("criterion", HAIKU_FILTERS, ids=lambda c: str(c["id"]))
def test_a_failing_ticket_recorded_on_another_model_is_left_out(
    pytester: pytest.Pytester, criterion: YamlData
) -> None:
    """No over-correction: R02 did badly (three fix loops, three review attempts), but on
    Sonnet, as it records: Haiku's criteria pass. (A failure the log records, a review FAIL,
    would fail the phase whatever the criteria: test_failures_the_log_records.py.)"""
    tickets = {
        "R01": flat(0, 1, execution_model="haiku"),
        "R02": flat(3, 3, execution_model="claude-sonnet-4-5"),
    }
    Phase.of("u1", [criterion], tickets).write(pytester.path)
    result = run(pytester, "u1")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()


@pytest.mark.parametrize(
    ("where", "unrecorded", "known"),
    [
        ({"complexity": "mechanical"}, "complexity", {"complexity": "nuanced"}),
        ({"review_tier": "T1"}, "review tier", {"review": {"tier": "T2"}}),
        ({"execution_model": "haiku", "complexity": "mechanical"}, "complexity", {}),
    ],
    ids=["complexity", "review-tier", "model-and-complexity"],
)
def test_a_ticket_that_records_no_field_of_the_filter_is_not_left_out(
    pytester: pytest.Pytester, where: YamlData, unrecorded: str, known: YamlData
) -> None:
    """The same for `where:` on the other fields: R02 records no complexity (or no review
    tier) and fails the criterion (three fix loops); it may be one of the tickets named, so its
    item fails, naming why. Recorded as another complexity or tier, it is left out and the phase
    passes."""
    criterion = {"id": "few-loops", "for_each": "ticket", "where": where, "metric": "fix_loops"}
    r01 = flat(0, 1, execution_model="haiku", complexity="mechanical")
    r01["review"]["tier"] = "T1"
    r02 = flat(3, 3, execution_model="haiku")
    Phase.of("u1", [{**criterion, "max": 1}], {"R01": r01, "R02": r02}).write(pytester.path)
    result = run(pytester, "u1")
    assert_not_yes(pytester, result)
    result.stdout.fnmatch_lines(
        [f"*few-loops[[]R02[]]*ticket R02 records no {unrecorded}*fix_loops 3 > max 1*"]
    )
    if known:  # R02 records the field, with another value: it is left out
        for key, value in known.items():
            r02[key] = {**r02[key], **value} if isinstance(value, dict) else value
        Phase.of("u1", [{**criterion, "max": 1}], {"R01": r01, "R02": r02}).write(pytester.path)
        again = run(pytester, "u1")
        assert again.ret == pytest.ExitCode.OK, again.stdout.str()


@pytest.mark.parametrize("metric", ["pass_at_k", "pass_hat_k"])
def test_a_run_of_unknown_model_makes_pass_at_k_on_a_model_unknown(
    tmp_path: Path, metric: str
) -> None:
    """T03's second run records no execution model and failed (three fix loops): left out,
    T03 had one run on Haiku only, below k = 2, and the other tickets' 100 % was Haiku's
    pass^2. Whether that run was Haiku's is not known: the figure is unknown, naming it."""
    rate_phase(3, 3).write(tmp_path)
    p2 = rate_phase(3, 3, phase="p2", requires=["p1"])
    del p2.ticket("T03")["execution_model"]
    p2.ticket("T03")["fix_loops"] = 3
    p2.write(tmp_path)
    runner = PhaseRunner(tmp_path / "criteria", tmp_path / "docs" / "orchestration-data")
    with pytest.raises(MetricUnavailable, match=r"ticket T03 records no execution model.*p2"):
        metric_value(runner.context("p2"), metric, k=2, model="haiku")
    # no model asked: T03's runs count (1 of 2 succeeded)
    expected = {"pass_at_k": 100.0, "pass_hat_k": 200 / 3}[metric]
    assert metric_value(runner.context("p2"), metric, k=2) == pytest.approx(expected)


# ------------------------------------------------------------------ batching savings of one ticket

BATCHING: YamlData = {
    "id": "batching-saves",
    "metric": "batching_savings",
    "baseline": "separate_planning",
    "measure": "total",
    "of": {"metric": "unbatched_tokens", "baseline": "separate_planning", "measure": "total"},
    "min": "15%",
}


PLANNING: YamlData = {"model": "sonnet", "actual_tokens": 5_000}


def batching_phase(
    pytester: pytest.Pytester,
    tickets: int,
    criterion: YamlData,
    planning: YamlData | None = PLANNING,
) -> None:
    """Phase b1 of ``tickets`` Sonnet tickets of 20,000 tokens after ``planning`` (5,000 of
    shared planning), against a separate planning of 10,000 per ticket."""
    each = {f"R{i:02d}": flat(0, 1, execution_model="sonnet") for i in range(1, tickets + 1)}
    for ticket in each.values():
        ticket["actual_tokens"] = 20_000
    Phase.of("b1", [criterion], each, planning=planning).write(pytester.path)
    (pytester.path / "criteria" / "baselines.yaml").write_text(
        "baselines:\n  separate_planning: {tokens_per_ticket: 10000, compare: false}\n"
    )


@pytest.mark.parametrize(
    "criterion",
    [BATCHING, {**{k: v for k, v in BATCHING.items() if k != "of"}, "min": "4k"}],
    ids=["share", "tokens"],
)
def test_batching_savings_of_a_one_ticket_phase_is_no_saving_from_batching(
    pytester: pytest.Pytester, criterion: YamlData
) -> None:
    """A phase of one ticket batched nothing: its `batching_savings` (10k of separate
    planning + 20k − (5k of planning + 20k) = 5,000, 16.7 % of `unbatched_tokens`) only says
    that this lead's planning cost less than the baseline's estimate of planning one ticket
    alone. "Batching saves at least 15 %" (or 4k) must not pass on a batch of one (the brief's
    "batching savings with one ticket"): the figure has no meaning there, so it cannot pass."""
    batching_phase(pytester, 1, criterion)
    result = run(pytester, "b1")
    assert_not_yes(pytester, result)
    result.stdout.fnmatch_lines(
        ["*cannot be evaluated: phase b1 has one ticket: a batch of one batches nothing*"]
    )


def test_batching_savings_of_two_tickets_still_pass(pytester: pytest.Pytester) -> None:
    """No over-correction: two tickets planned together save (2 × 10k + 40k) − (5k + 40k) =
    15,000, 25 % of 60,000: `min 15%` passes."""
    batching_phase(pytester, 2, BATCHING)
    result = run(pytester, "b1")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    result.stdout.fnmatch_lines(["*batching_savings*25.0%*PASS*", "Proceed to phase *: YES*"])


def test_batching_savings_without_a_shared_planning_record_is_no_saving(
    pytester: pytest.Pytester,
) -> None:
    """The sibling: a two-ticket log with no `shared_planning` at all (not recorded). The
    batch's planning was taken as 0, so `batching_savings` was the whole separate planning of
    both tickets (2 × 10,000 = 20,000) and "batching saves tokens" passed on a planning cost
    nobody recorded. With the batch's planning unknown the saving is unknown, never the whole
    of the separate planning (copied from yes-hunt3, added after this part's brief)."""
    batching_phase(pytester, 2, {**BATCHING, "min": "1%"}, planning=None)
    result = run(pytester, "b1")
    assert_not_yes(pytester, result)
    result.stdout.fnmatch_lines(["*cannot be evaluated: the log records no shared_planning*"])


# ------------------------------------------------------------ the adoption decision's pool


def adopt_with_t04(root: Path, t04: YamlData) -> Adoption:
    """Phase p1: T01–T03 Haiku mechanical successes and ``t04`` (changed in place), with
    the adoption rule "Haiku on mechanical tickets at 80 %, point rule, at least 3"."""
    phase = rate_phase(4, 4, decisions={"rule": "point", "min_success_rate": "80%"})
    phase.ticket("T04").update(t04)
    for key in [k for k, v in t04.items() if v is None]:
        del phase.ticket("T04")[key]
    phase.write(root)
    decided = adoption(PhaseRunner(root / "criteria", root / "docs" / "orchestration-data"), "p1")
    assert decided is not None
    return decided


@pytest.mark.parametrize("unrecorded", ["execution_model", "complexity"])
def test_a_run_of_unknown_model_or_complexity_leaves_no_adoption_yes(
    tmp_path: Path, unrecorded: str
) -> None:
    """T04 records no execution model (or no complexity) and failed (three fix loops): left
    out of the pool, Haiku's 3 of 3 said "Adopt haiku: YES"; counted in, 3 of 4 (75 %) is
    below 80 %. Whether it belongs is not known: the answer is not YES, and the line says
    which run it could not place."""
    decided = adopt_with_t04(tmp_path, {unrecorded: None, "fix_loops": 3})
    assert decided.answer == "INCONCLUSIVE", decided.line
    assert "p1:T04 record(s) no execution model or complexity" in decided.line
    assert decided.unknown_membership == ["p1:T04"]


@pytest.mark.parametrize(
    ("t04", "named"),
    [
        ({"execution_model": None}, True),  # a success either way: 3 of 3 or 4 of 4
        ({"execution_model": "sonnet", "fix_loops": 3}, False),  # another model's failure
        ({"complexity": "nuanced", "fix_loops": 3}, False),  # another complexity's
    ],
    ids=["unknown-model-succeeded", "recorded-on-sonnet", "recorded-nuanced"],
)
def test_an_adoption_that_does_not_depend_on_the_run_stays_yes(
    tmp_path: Path, t04: YamlData, named: bool
) -> None:
    """No over-correction: where counting T04 in or out gives YES alike, or T04 records
    another model or complexity, the answer stays YES."""
    decided = adopt_with_t04(tmp_path, t04)
    assert decided.answer == "YES", decided.line
    assert (decided.unknown_membership == ["p1:T04"]) is named


def test_a_run_of_no_known_model_family_leaves_no_adoption_yes(tmp_path: Path) -> None:
    """T04 logged on 'hiaku' (a typo: no known family) and failed: it may be Haiku's run, so
    the answer is not YES, and the line says why the run could not be placed."""
    decided = adopt_with_t04(tmp_path, {"execution_model": "hiaku", "fix_loops": 3})
    assert decided.answer == "INCONCLUSIVE", decided.line
    assert "p1:T04 record(s) no execution model or complexity (or a model of no known" in (
        decided.line
    )


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


def test_adoption_is_not_yes_when_only_the_failing_unplaced_runs_may_be_in_the_pool(
    tmp_path: Path,
) -> None:
    """Point rule, 70 %, at least 3: T01-T10 Haiku mechanical, 7 succeeded (70 %: YES). T11
    (failed) and T12-T14 (succeeded) record no complexity. Left out: 7 of 10, YES; all counted
    in: 10 of 14 (71.4 %), YES; so the answer is YES. But T11 may be mechanical while T12-T14
    are not: 7 of 11 (63.6 %) is NO. The worst case counts in the failing runs only."""
    decided = _adoption(tmp_path, 7, [3, 0, 0, 0])
    assert decided.answer != "YES", decided.line


def test_adoption_stays_yes_when_even_the_failing_unplaced_runs_keep_it(tmp_path: Path) -> None:
    """The worst case still YES (8 of 10 succeeded; T11, failing, records no complexity: 8 of
    11 is 72.7 %): the answer does not depend on the run, and stays YES."""
    decided = _adoption(tmp_path, 8, [3, 0])
    assert decided.answer == "YES", decided.line


def _adoption(tmp_path: Path, successes: int, unplaced_loops: list[int]) -> Adoption:
    """Adopting Haiku for mechanical tickets on the point rule at 70 %: T01-T10 Haiku
    mechanical, the first ``successes`` succeeded; then T11… Haiku runs that record no
    complexity, with these fix loops (0 succeeds, 3 does not)."""
    phase = rate_phase(successes, 10, decisions={"rule": "point", "min_success_rate": "70%"})
    for i, loops in enumerate(unplaced_loops, start=11):
        t: YamlData = {
            "execution_model": "haiku",
            "actual_tokens": 20_000,
            "fix_loops": loops,
            "review": {"result": "PASS", "attempts": 1},
        }
        phase.log["tickets"][f"T{i}"] = t
        phase.metadata["tickets"].append(f"T{i}")
    phase.write(tmp_path)
    runner = PhaseRunner(tmp_path / "criteria", tmp_path / "docs" / "orchestration-data")
    decided = adoption(runner, "p1")
    assert decided is not None
    return decided


def test_adoption_does_not_leave_out_a_required_phase_whose_files_do_not_load(
    pytester: pytest.Pytester,
) -> None:
    """Phase p2 (9 of 9 Haiku mechanical tickets succeeded) requires p1, where 3 of 3 failed;
    p1's log has an unknown key, so p1 does not load. Its gate fails and Proceed is NO; the
    adoption decision pools "the phase and the phases it requires", and leaving out "a phase
    whose files do not load" it would read 9 of 9 (Wilson 70.1–100 %) and print "Adopt haiku
    for mechanical tickets: YES … (phases p2)", in the terminal and as
    `decisions.adopt_model.answer` in the JSON. With p1's runs, 9 of 12, the answer is
    INCONCLUSIVE; without them it is not known: never YES."""
    from tests.helpers import rate_phase

    p1 = rate_phase(0, 3, phase="p1")
    p1.ticket("T01")["colour"] = "red"  # an unknown key: p1's log does not load
    p1.write(pytester.path)
    rate_phase(9, 9, phase="p2", requires=["p1"]).write(pytester.path)
    result = run_phase(pytester, "p2")
    report = json.loads((pytester.path / "r.json").read_text())
    adoption = report["decisions"]["adopt_model"]
    assert adoption["answer"] != "YES", result.stdout.str()
    assert adoption["answer"] == "INCONCLUSIVE"
    assert adoption["unloaded"] == ["p1"]
    result.stdout.fnmatch_lines(["*Adopt haiku*INCONCLUSIVE*required phase(s) p1 do not load*"])


def test_adoption_with_every_required_phase_loaded_still_decides(
    pytester: pytest.Pytester,
) -> None:
    """No over-correction: a phase requiring nothing, 9 of 9 Haiku successes: YES, nothing
    left out."""
    from tests.helpers import rate_phase

    rate_phase(9, 9, phase="p3").write(pytester.path)
    run_phase(pytester, "p3")
    report = json.loads((pytester.path / "r.json").read_text())
    assert report["decisions"]["adopt_model"]["answer"] == "YES"
    assert report["decisions"]["adopt_model"]["unloaded"] == []

"""Tenth adversarial round, part A: the usage ledger and the plan's criteria. A phase measured
from its ledger (``orchphase collect``) must never read less usage than the transcripts it was
collected from hold: each ledger test is a ledger damaged as files are (cut short, a record of no
kind, a record repeated, a flag of the wrong type) whose phase reads YES today; a criterion
written as the plan writes them, with a slip in it, must be refused, not copied. Each is a
finding on main (xfail strict until fixed); the reason says what is observed and what is
expected."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from pytest_orchphase.cli import main
from tests.helpers import (
    Phase,
    YamlData,
    assert_not_yes,
    assistant,
    flat_ticket,
    run_phase,
    usage,
    user,
    write_jsonl,
    write_yaml,
)

SESSION = "33333333-0000-0000-0000-000000000001"


def _capped(sessions: list[object]) -> Phase:
    """Phase p1: R01 under 50k tokens, its usage the ``sessions`` given to it."""
    cap = {"id": "cap", "for_each": "ticket", "metric": "tokens", "measure": "total", "max": "50k"}
    review = {"result": "PASS", "attempts": 1}
    ticket = {"execution_model": "opus", "fix_loops": 0, "review": review}
    metadata = {"phase": "p1", "tickets": ["R01"], "sessions": sessions}
    return Phase.of("p1", [cap], {"R01": ticket}, metadata=metadata)


def _ledger(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, cache_writes: list[int]
) -> Path:
    """R01's session (one call per cache write given, 10 input and 1 output each) collected
    into p1's ledger, which p1 then names for R01 (the transcript moved away: the ledger alone
    is read)."""
    monkeypatch.chdir(pytester.path)
    folder = _capped([]).write(pytester.path)
    calls = [
        assistant(f"m{i}", f"q{i}", session=SESSION, u=usage(inp=10, cw=tokens))
        for i, tokens in enumerate(cache_writes)
    ]
    session = write_jsonl(
        pytester.path / "elsewhere" / f"{SESSION}.jsonl",
        [user("Implement R01", session=SESSION), *calls],
    )
    assert main(["collect", "p1", str(session), "--no-cache"]) == 0
    _capped([{"path": "usage.jsonl", "ticket": "R01"}]).write(pytester.path)
    return folder / "usage.jsonl"


def _edit_last_call(ledger: Path, change: Callable[[str], str]) -> None:
    """Replace the ledger's last call record (a line) by what ``change`` makes of it."""
    lines = ledger.read_text().splitlines(keepends=True)
    last = max(i for i, line in enumerate(lines) if line.startswith('{"kind":"call"'))
    lines[last : last + 1] = [change(lines[last])]
    ledger.write_text("".join(lines))


def test_a_ledger_cut_off_inside_a_call_record_is_no_exact_figure(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # R01 used 60,022 tokens (20,000 + 40,000 cache writes); the ledger ends mid-record.
    ledger = _ledger(pytester, monkeypatch, [20_000, 40_000])
    text = ledger.read_text()
    cut = text.rindex('{"kind":"call"')
    ledger.write_text(text[: text.index('"session"', cut)])
    result = run_phase(pytester, "p1")
    assert_not_yes(pytester, result)
    result.stdout.fnmatch_lines(["*cap*R01*tokens*at least 20,011*max*50,000*FAIL*"])


def test_a_ledger_record_without_its_kind_is_not_ignored(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = _ledger(pytester, monkeypatch, [20_000, 40_000])
    _edit_last_call(ledger, lambda line: line.replace('"kind":"call",', "", 1))
    result = run_phase(pytester, "p1")
    assert_not_yes(pytester, result)
    result.stdout.fnmatch_lines(["*usage.jsonl:4: ledger record: 'kind'*lower bounds*"])


def test_a_call_repeated_in_a_ledger_keeps_its_largest_figures(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = _ledger(pytester, monkeypatch, [20_000, 40_000])
    field = '"cache_creation_input_tokens":'
    _edit_last_call(ledger, lambda line: line + line.replace(f"{field}40000", f"{field}4000"))
    result = run_phase(pytester, "p1")
    assert_not_yes(pytester, result)
    result.stdout.fnmatch_lines(["*cap*R01*tokens*60,022*max*50,000*FAIL*"])


@pytest.mark.parametrize("flag", ["1", '"true"'])
def test_a_ledger_flag_that_is_not_a_boolean_is_refused(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, flag: str
) -> None:
    # With "placeholder_output": true the same phase is NO today (a lower bound).
    ledger = _ledger(pytester, monkeypatch, [20_000, 20_000])
    _edit_last_call(ledger, lambda line: line.replace("}\n", f',"placeholder_output":{flag}}}\n'))
    result = run_phase(pytester, "p1")
    assert_not_yes(pytester, result)
    result.stdout.fnmatch_lines(["*usage.jsonl:4: *'placeholder_output': expected true or false*"])


@pytest.mark.parametrize(
    "condition",
    [
        {"metric": "tokens", "measure": "total", "below": "45k", "stretch": "50k"},
        {"metric": "savings", "baseline": "single_agent", "measure": "total", "min": "10%"}
        | {"stretch": "5%"},
    ],
    ids=["tokens-below", "savings-min"],
)
def test_a_stretch_looser_than_its_limit_is_refused(
    pytester: pytest.Pytester, condition: YamlData
) -> None:
    write_yaml(
        pytester.path / "criteria/baselines.yaml",
        {"baselines": {"single_agent": {"tokens_per_ticket": 30_000}}},
    )
    tickets = {"T01": flat_ticket(), "T02": flat_ticket()}  # 41,000 tokens with planning
    planning = {"model": "sonnet", "actual_tokens": 1_000}
    Phase.of("p1", [{"id": "c", **condition}], tickets, planning=planning).write(pytester.path)
    result = run_phase(pytester, "p1")
    assert_not_yes(pytester, result)
    result.stdout.fnmatch_lines(["*criteria/p1.yaml*stretch*is looser than its limit*"])


def test_a_phase_saving_over_one_ticket_of_its_baseline_is_refused(
    pytester: pytest.Pytester,
) -> None:
    write_yaml(
        pytester.path / "criteria/baselines.yaml",
        {"baselines": {"v2": {"tokens_per_ticket": 121_000}}},
    )
    # 124,000 tokens for three tickets (10,000 planning, 38,000 each) against v2's 363,000.
    tickets = {t: flat_ticket(actual_tokens=38_000) for t in ("T01", "T02", "T03")}
    planning = {"model": "sonnet", "actual_tokens": 10_000}
    share = {"metric": "delta", "baseline": "v2", "of": {"baseline": "v2"}, "min": "70%"}
    criterion = {"id": "c", "measure": "total", **share}
    Phase.of("p1", [criterion], tickets, planning=planning).write(pytester.path)
    result = run_phase(pytester, "p1")
    assert_not_yes(pytester, result)
    result.stdout.fnmatch_lines(["*criteria/p1.yaml*criteria[[]0].of*write `per: phase`*"])


def test_paired_savings_beside_a_ticket_that_failed_proves_no_minimum(
    pytester: pytest.Pytester,
) -> None:
    tickets = ("T01", "T02", "T03")
    planning = {"model": "sonnet", "actual_tokens": 1_000}
    done = {t: flat_ticket(actual_tokens=30_000) for t in tickets}
    fix_loops = {"id": "fix-loops", "metric": "fix_loops", "max": 9}
    Phase.of("a1", [fix_loops], done, planning=planning).write(pytester.path)
    cheaper = {"id": "cheaper", "metric": "paired_savings", "versus": "a1", "measure": "total"}
    rate = {"id": "rate", "metric": "success_rate", "model": "sonnet", "min": "60%"}
    failed = {"status": "failed", "review": {"result": "FAIL", "attempts": 1}}
    mine = {t: flat_ticket(actual_tokens=28_000) for t in tickets[:2]}
    mine["T03"] = flat_ticket(actual_tokens=3_000, **failed)
    criteria: list[YamlData] = [
        cheaper | {"above": 5_000, "rule": "point"},
        rate | {"rule": "point"},
    ]
    Phase.of("b1", criteria, mine, planning=planning).write(pytester.path)
    result = run_phase(pytester, "b1")
    assert_not_yes(pytester, result)
    result.stdout.fnmatch_lines(["*paired_savings*at most*upper bound cannot prove*T03 failed*"])


@pytest.mark.parametrize(
    "condition",
    [
        {"metric": "ticket_tokens_average"}
        | {"below": {"phase": "a1", "metric": "ticket_tokens_average", "measure": "total"}},
        {"metric": "per_ticket_average", "below": "25k"},
    ],
    ids=["vs-a1", "cap"],
)
def test_an_average_beside_a_ticket_that_failed_is_no_exact_figure(
    pytester: pytest.Pytester, condition: YamlData
) -> None:
    tickets = ("T01", "T02", "T03")
    planning = {"model": "sonnet", "actual_tokens": 1_000}
    done = {t: flat_ticket(actual_tokens=26_000) for t in tickets}
    fix_loops = {"id": "fix-loops", "metric": "fix_loops", "max": 9}
    Phase.of("a1", [fix_loops], done, planning=planning).write(pytester.path)
    failed = {"status": "failed", "review": {"result": "FAIL", "attempts": 1}}
    mine = {t: flat_ticket(actual_tokens=28_000) for t in tickets[:2]}
    mine["T03"] = flat_ticket(actual_tokens=3_000, **failed)
    rate = {"id": "rate", "metric": "success_rate", "model": "sonnet", "min": "60%"}
    criteria: list[YamlData] = [
        {"id": "cheaper", "measure": "total", **condition},
        rate | {"rule": "point"},
    ]
    Phase.of("b1", criteria, mine, planning=planning).write(pytester.path)
    result = run_phase(pytester, "b1")
    assert_not_yes(pytester, result)
    result.stdout.fnmatch_lines(["*at least*a lower bound cannot prove below*T03 failed*"])

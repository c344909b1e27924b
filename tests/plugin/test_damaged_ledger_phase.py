"""A phase measured from a damaged usage ledger (``orchphase collect``) never reads less usage
than the transcripts it was collected from: a ledger cut inside a call record, a record of no
kind, a call repeated with a smaller figure, a flag that is not a boolean; each leaves the
figures lower bounds or is refused, never exact and YES."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from pytest_orchphase.cli import main
from tests.helpers import (
    Phase,
    assert_not_yes,
    assistant,
    run_phase,
    usage,
    user,
    write_jsonl,
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
    # With "placeholder_output": true the same phase is NO (a lower bound).
    ledger = _ledger(pytester, monkeypatch, [20_000, 20_000])
    _edit_last_call(ledger, lambda line: line.replace("}\n", f',"placeholder_output":{flag}}}\n'))
    result = run_phase(pytester, "p1")
    assert_not_yes(pytester, result)
    result.stdout.fnmatch_lines(["*usage.jsonl:4: *'placeholder_output': expected true or false*"])

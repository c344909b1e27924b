"""Two late holes of the third adversarial round (yes-hunt3): batching savings when the batch's
planning was never recorded, and a session file given to a folder entry listed before the entry
naming the file itself. Each test of a wrong YES fails without its fix."""

from __future__ import annotations

import json

import pytest

from tests.helpers import Phase, YamlData, assistant, usage, user, write_jsonl


def run(pytester: pytest.Pytester, phase: str) -> pytest.RunResult:
    return pytester.runpytest("--phase", phase, "--orchphase-json", "r.json", "-p", "no:randomly")


def answer(pytester: pytest.Pytester) -> str:
    report = json.loads((pytester.path / "r.json").read_text())
    return str(report["decisions"]["proceed"]["answer"])


def assert_not_yes(pytester: pytest.Pytester, result: pytest.RunResult) -> None:
    assert answer(pytester) != "YES", result.stdout.str()
    assert result.ret != 0, result.stdout.str()


# ------------------------------------------------------ batching without a shared planning record

BATCHING: YamlData = {
    "id": "batching-saves",
    "metric": "batching_savings",
    "baseline": "separate_planning",
    "measure": "total",
    "above": 0,
}
SEPARATE_PLANNING = "baselines:\n  separate_planning: {tokens_per_ticket: 10000, compare: false}\n"


def two_tickets(
    pytester: pytest.Pytester, criteria: list[YamlData], planning: YamlData | None = None
) -> None:
    """Phase b2: two Sonnet tickets of 25,000 tokens each, with ``planning`` as its
    `shared_planning` (none recorded by default), against a separate planning of 10,000."""
    tickets = {
        t: {
            "execution_model": "sonnet",
            "actual_tokens": 25_000,
            "fix_loops": 0,
            "review": {"result": "PASS", "attempts": 1},
        }
        for t in ("R01", "R02")
    }
    Phase.of("b2", criteria, tickets, planning=planning).write(pytester.path)
    (pytester.path / "criteria" / "baselines.yaml").write_text(SEPARATE_PLANNING)


def test_batching_savings_without_a_shared_planning_record_is_no_saving(
    pytester: pytest.Pytester,
) -> None:
    """yes-hunt3: a two-ticket log with no `shared_planning` at all (not recorded). The
    batch's planning was taken as 0, so `batching_savings` was the whole separate planning of
    both tickets (2 × 10,000 = 20,000) and "batching saves tokens" passed on a planning cost
    nobody recorded. Batching savings is separate planning minus the batch's planning: with
    the batch's planning unknown it is unknown, never the whole of the separate planning."""
    two_tickets(pytester, [BATCHING])
    result = run(pytester, "b2")
    assert_not_yes(pytester, result)
    result.stdout.fnmatch_lines(["*cannot be evaluated: *records no shared_planning*"])


def test_batching_savings_with_a_shared_planning_record_still_pass(
    pytester: pytest.Pytester,
) -> None:
    """No over-correction: the same log with 12,000 tokens of shared planning saves
    (2 × 10k + 50k) − (12k + 50k) = 8,000: `above 0` passes."""
    two_tickets(pytester, [BATCHING], {"model": "sonnet", "actual_tokens": 12_000})
    result = run(pytester, "b2")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    assert answer(pytester) == "YES"
    result.stdout.fnmatch_lines(["*batching_savings*8,000*PASS*"])


# ------------------------------------------------- a session file and a folder listed before it

R01_SESSION = "22222222-0000-0000-0000-000000000002"
R02_SESSION = "33333333-0000-0000-0000-000000000003"
#: sessions: entries giving R01's session to R01 inside a folder given to R02, listed first:
#: the file itself, or a deeper folder holding it
LAYOUTS = {
    "file": ("runs/w1.jsonl", "runs/w1.jsonl"),
    "deeper-folder": ("runs/r01", "runs/r01/w1.jsonl"),
}


def folder_and_file(
    pytester: pytest.Pytester, layout: str, caps: dict[str, str], *, r01_first: bool = False
) -> None:
    """Phase o1: R01's session (100,010 tokens) lies in ``runs/`` (at LAYOUTS[layout]), whose
    other session, R02's, holds 10,010; metadata gives `runs` to R02 and the narrower entry to
    R01, listed after it unless ``r01_first``. ``caps``: each ticket's `max`."""
    entry, file = LAYOUTS[layout]
    sessions: list[YamlData] = [{"path": "runs", "ticket": "R02"}, {"path": entry, "ticket": "R01"}]
    phase = Phase.of(
        "o1",
        [
            {
                "id": f"cap-{t.lower()}",
                "for_each": "ticket",
                "where": {"tickets": [t]},
                "metric": "tokens",
                "measure": "total",
                "max": cap,
            }
            for t, cap in caps.items()
        ],
        {
            "R01": {"implementation": {"estimated_tokens": 20_000}},
            "R02": {"implementation": {"estimated_tokens": 20_000}},
        },
        metadata={
            "phase": "o1",
            "tickets": ["R01", "R02"],
            "sessions": sessions[::-1] if r01_first else sessions,
        },
    )
    data = phase.write(pytester.path)
    write_jsonl(
        data / file,
        [
            user("Implement R01", session=R01_SESSION),
            assistant("m1", "q1", session=R01_SESSION, u=usage(inp=10, out=0, cw=100_000)),
        ],
    )
    write_jsonl(
        data / "runs" / "w2.jsonl",
        [
            user("Implement R02", session=R02_SESSION),
            assistant("m2", "q2", session=R02_SESSION, u=usage(inp=10, out=0, cw=10_000)),
        ],
    )


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_a_session_file_named_for_its_ticket_is_not_given_to_a_folder_listed_before_it(
    pytester: pytest.Pytester, layout: str
) -> None:
    """yes-hunt3: metadata.yaml gives `runs` to R02, then `runs/w1.jsonl` (or the folder
    `runs/r01` holding it) to R01. The file went to the first entry whose root holds it, the
    folder: R01's 100,000 tokens went to R02 (under R02's 500k cap), and R01, measured nothing
    while nothing is unattributed, was counted from its 20,000 estimate under its 50k cap: YES.
    The entry naming the file (or the deeper folder) is the more specific; the file is R01's."""
    folder_and_file(pytester, layout, {"R01": "50k", "R02": "500k"})
    result = run(pytester, "o1")
    assert_not_yes(pytester, result)
    result.stdout.fnmatch_lines(["*cap-r01*100,010*FAIL*"])


@pytest.mark.parametrize("r01_first", [False, True], ids=["folder-first", "file-first"])
@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_the_most_specific_sessions_entry_wins_in_any_order(
    pytester: pytest.Pytester, layout: str, r01_first: bool
) -> None:
    """No over-correction, whatever the order of the entries: R01's file is R01's (100,010
    under 150k), and the folder's other file is still R02's (10,010 under 50k): YES."""
    folder_and_file(pytester, layout, {"R01": "150k", "R02": "50k"}, r01_first=r01_first)
    result = run(pytester, "o1")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    assert answer(pytester) == "YES"
    result.stdout.fnmatch_lines(["*cap-r01*100,010*PASS*", "*cap-r02*10,010*PASS*"])

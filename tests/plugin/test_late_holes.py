"""Two late holes of the third adversarial round (yes-hunt3): batching savings when the batch's
planning was never recorded, and a session file given to a folder entry listed before the entry
naming the file itself. Each test of a wrong YES fails without its fix."""

from __future__ import annotations

import pytest

from tests.helpers import (
    Phase,
    YamlData,
    assert_not_yes,
    assistant,
    decision,
    run_phase,
    usage,
    user,
    write_jsonl,
)

# ------------------------------------------------------ batching without a shared planning record

BATCHING: YamlData = {
    "id": "batching-saves",
    "metric": "batching_savings",
    "baseline": "separate_planning",
    "measure": "total",
    "above": 0,
}
BASELINES = (
    "baselines:\n  separate_planning: {tokens_per_ticket: 10000, compare: false}\n"
    "  single_agent: {tokens_per_ticket: 30000}\n"
)


def two_tickets(
    pytester: pytest.Pytester, criteria: list[YamlData], planning: YamlData | None = None
) -> None:
    """Phase b2: two Sonnet tickets of 25,000 tokens each, with ``planning`` as its
    `shared_planning` (none recorded by default), against a separate planning of 10,000 and a
    single agent's 30,000 per ticket."""
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
    (pytester.path / "criteria" / "baselines.yaml").write_text(BASELINES)


def test_batching_savings_without_a_shared_planning_record_is_no_saving(
    pytester: pytest.Pytester,
) -> None:
    """yes-hunt3: a two-ticket log with no `shared_planning` at all (not recorded). The
    batch's planning was taken as 0, so `batching_savings` was the whole separate planning of
    both tickets (2 × 10,000 = 20,000) and "batching saves tokens" passed on a planning cost
    nobody recorded. Batching savings is separate planning minus the batch's planning: with
    the batch's planning unknown it is unknown, never the whole of the separate planning."""
    two_tickets(pytester, [BATCHING])
    result = run_phase(pytester, "b2")
    assert_not_yes(pytester, result)
    result.stdout.fnmatch_lines(["*cannot be evaluated: *records no shared_planning*"])


def test_batching_savings_with_a_shared_planning_record_still_pass(
    pytester: pytest.Pytester,
) -> None:
    """No over-correction: the same log with 12,000 tokens of shared planning saves
    (2 × 10k + 50k) − (12k + 50k) = 8,000: `above 0` passes."""
    two_tickets(pytester, [BATCHING], {"model": "sonnet", "actual_tokens": 12_000})
    result = run_phase(pytester, "b2")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    assert decision(pytester) == "YES"
    result.stdout.fnmatch_lines(["*batching_savings*8,000*PASS*"])


#: Criteria that read the phase's (or a ticket's) tokens with the shared planning in them, each
#: met by the two tickets with 5,000 tokens of shared planning (55,000 in all), and none provable
#: when that planning is not recorded: the figures then leave it out (50,000 "in all").
WITH_PLANNING: list[YamlData] = [
    {"id": "phase-tokens", "metric": "tokens", "measure": "total", "max": "60k"},
    {"id": "average", "metric": "per_ticket_average", "measure": "total", "max": "30k"},
    {
        "id": "vs-single",
        "metric": "savings",
        "baseline": "single_agent",
        "measure": "total",
        "min": "5%",
    },
    {"id": "delta", "metric": "delta", "baseline": "single_agent", "measure": "total", "min": "4k"},
    {
        "id": "ticket-vs-single",
        "for_each": "ticket",
        "metric": "savings",
        "baseline": "single_agent",
        "measure": "total",
        "min": "5%",
    },
    {
        "id": "with-share",
        "for_each": "ticket",
        "metric": "tokens_with_planning_share",
        "measure": "total",
        "max": "30k",
    },
]


@pytest.mark.parametrize("criterion", WITH_PLANNING, ids=lambda c: str(c["id"]))
def test_figures_without_the_unrecorded_shared_planning_are_only_bounds(
    pytester: pytest.Pytester, criterion: YamlData
) -> None:
    """The sibling: without a `shared_planning` record the phase's tokens (50,000) leave out
    the lead's planning of the two tickets, counted as 0: they are at least 50,000, so a `max`
    cannot pass on them, and a saving against the single agent (16.7 %, 10,000) or a ticket's
    share (25,000, 16.7 %) is at most that, so a `min` cannot either. Before, each passed."""
    two_tickets(pytester, [criterion])
    result = run_phase(pytester, "b2")
    assert_not_yes(pytester, result)
    result.stdout.fnmatch_lines(["*FAIL*", "*cannot prove*"])
    assert "records no shared_planning" in result.stdout.str()


@pytest.mark.parametrize("criterion", WITH_PLANNING, ids=lambda c: str(c["id"]))
def test_the_same_figures_with_a_shared_planning_record_still_pass(
    pytester: pytest.Pytester, criterion: YamlData
) -> None:
    """No over-correction: with its 5,000 tokens of shared planning recorded, each figure is
    exact and meets its limit: YES."""
    two_tickets(pytester, [criterion], {"model": "sonnet", "actual_tokens": 5_000})
    result = run_phase(pytester, "b2")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    assert decision(pytester) == "YES"


def test_a_lower_bound_without_the_planning_still_proves_a_min(pytester: pytest.Pytester) -> None:
    """No over-correction: at least 50,000 tokens proves `min 40k` (the planning can only add)."""
    two_tickets(pytester, [{"id": "busy", "metric": "tokens", "measure": "total", "min": "40k"}])
    result = run_phase(pytester, "b2")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    result.stdout.fnmatch_lines(["*busy*at least 50,000*PASS*"])


ONE_TICKET_CAP: YamlData = {"id": "cap", "metric": "tokens", "measure": "total", "max": "30k"}


@pytest.mark.parametrize("layout", ["tickets", "single-ticket"])
def test_one_ticket_without_shared_planning_is_counted_exactly(
    pytester: pytest.Pytester, layout: str
) -> None:
    """No over-correction: a phase of one ticket has no planning to share (the plan's
    single-ticket layout records none, by design): its 25,000 tokens are exact, `max 30k`
    passes, in the single-ticket layout as under `tickets:`."""
    ticket: YamlData = {
        "implementation": {"model": "sonnet", "actual_tokens": 20_000, "fix_loops": 0},
        "review": {"tier": "T1", "estimated_tokens": 5_000, "result": "PASS"},
    }
    phase = Phase.of("s1", [ONE_TICKET_CAP], {"R06": ticket})
    if layout == "single-ticket":
        phase = Phase(phase.criteria, phase.metadata, ticket)
    phase.write(pytester.path)
    result = run_phase(pytester, "s1")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    assert decision(pytester) == "YES"
    result.stdout.fnmatch_lines(["*cap*25,000*max*30,000*PASS*"])


def measured_workers(pytester: pytest.Pytester, *, lead: bool) -> None:
    """Phase m2: R01's and R02's worker sessions (25,010 tokens each) named with their tickets,
    the log recording no shared_planning; with ``lead``, the lead's session too (5,010)."""
    sessions: list[YamlData] = [
        {"path": "r01.jsonl", "ticket": "R01"},
        {"path": "r02.jsonl", "ticket": "R02"},
    ]
    if lead:
        sessions.append({"path": "lead.jsonl", "lead": True})
    phase = Phase.of(
        "m2",
        [{"id": "phase-tokens", "metric": "tokens", "measure": "total", "max": "60k"}],
        {t: {"implementation": {"estimated_tokens": 20_000}} for t in ("R01", "R02")},
        metadata={"phase": "m2", "tickets": ["R01", "R02"], "sessions": sessions},
    )
    data = phase.write(pytester.path)
    files = {"r01": 25_000, "r02": 25_000, **({"lead": 5_000} if lead else {})}
    for n, (name, tokens) in enumerate(files.items()):
        session = f"4444444{n}-0000-0000-0000-00000000000{n}"
        write_jsonl(
            data / f"{name}.jsonl",
            [
                user(f"Work {name}", session=session),
                assistant(f"m{n}", f"q{n}", session=session, u=usage(inp=10, out=0, cw=tokens)),
            ],
        )


def test_measured_workers_without_a_lead_leave_the_planning_out(
    pytester: pytest.Pytester,
) -> None:
    """The measured sibling: the sessions named are the two workers' only; no lead's calls
    were measured and the log records no shared_planning: 50,020 tokens are at least that,
    and `max 60k` cannot pass on them."""
    measured_workers(pytester, lead=False)
    result = run_phase(pytester, "m2")
    assert_not_yes(pytester, result)
    result.stdout.fnmatch_lines(["*at least 50,020: a lower bound cannot prove max 60,000*"])


def test_a_measured_lead_counts_the_planning(pytester: pytest.Pytester) -> None:
    """No over-correction: with the lead's session measured, its calls are the shared planning
    (no log record needed): 55,030 tokens, exact, under 60k: YES."""
    measured_workers(pytester, lead=True)
    result = run_phase(pytester, "m2")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    result.stdout.fnmatch_lines(["*phase-tokens*55,030*PASS*"])


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
    result = run_phase(pytester, "o1")
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
    result = run_phase(pytester, "o1")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    assert decision(pytester) == "YES"
    result.stdout.fnmatch_lines(["*cap-r01*100,010*PASS*", "*cap-r02*10,010*PASS*"])


@pytest.mark.parametrize("r01_first", [False, True], ids=["r02-first", "r01-first"])
def test_one_session_file_given_to_two_tickets_is_an_error(
    pytester: pytest.Pytester, r01_first: bool
) -> None:
    """The sibling left to the order: two entries naming the same file (here `runs/w1.jsonl`
    and `runs/../runs/w1.jsonl`) give it to R02 and to R01. The first listed won, so the order
    of the entries decided whose 100,000 tokens they were (R02, under its 500k cap, while R01
    passed on its estimate: YES). The data contradicts itself: an error at the later entry,
    naming both, whatever the order."""
    folder_and_file(pytester, "file", {"R01": "50k", "R02": "500k"})
    metadata = pytester.path / "docs" / "orchestration-data" / "phase-o1" / "metadata.yaml"
    entries = ["{path: runs/../runs/w1.jsonl, ticket: R02}", "{path: runs/w1.jsonl, ticket: R01}"]
    listed = entries[::-1] if r01_first else entries
    text = metadata.read_text().split("sessions:")[0]
    metadata.write_text(text + "sessions:\n" + "".join(f"- {e}\n" for e in listed))
    result = run_phase(pytester, "o1")
    assert_not_yes(pytester, result)
    given = ["ticket R01", "ticket R02"][:: 1 if r01_first else -1]
    result.stdout.fnmatch_lines(
        [
            f"*metadata.yaml:*sessions[[]1[]]: *w1.jsonl is also sessions[[]0[]], which gives it "
            f"to {given[0]}; this entry gives it to {given[1]}: name each session once*"
        ]
    )


@pytest.mark.parametrize("lead", [False, True])
def test_the_comparison_tables_usd_carries_the_phase_figures_bound(
    pytester: pytest.Pytester, lead: bool
) -> None:
    """The table of phases (`orchphase compare`, the reports) took the USD row's mark from the
    measured usage alone: with the lead's planning neither recorded nor measured, the phase's
    tokens read "≥ 50,020" and its cost, which leaves out the same planning, read bare, as if
    exact. Both are the same figure's measures: at least that. With the lead measured both are
    exact."""
    measured_workers(pytester, lead=lead)
    result = pytester.run("orchphase", "compare")
    rows = {line.split("  ")[0]: line for line in result.outlines}
    mark = "" if lead else "≥ "
    assert f"{mark}$" in rows["USD"], rows["USD"]
    assert (mark + ("55,030" if lead else "50,020")) in rows["total tokens"], rows["total tokens"]
    if lead:
        assert "≥" not in rows["USD"], rows["USD"]

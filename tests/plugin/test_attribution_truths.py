"""Which usage is whose, and which data a phase reads (repros of the fourth adversarial round,
then their siblings): a sub-agent two explicit mappings claim is no one's silently, a stage's
measured figure beside a session given to its ticket as a whole is only a lower bound, two phases
cannot read one data folder, and a ticket recording only a model's family may be the model id a
criterion filters on."""

from __future__ import annotations

import json

import pytest

from tests.helpers import (
    Phase,
    YamlData,
    agent_result,
    assert_not_yes,
    assistant,
    decision,
    flat_ticket,
    run_phase,
    spawn_block,
    usage,
    user,
    write_jsonl,
    write_yaml,
)

LEAD = "11111111-0000-0000-0000-000000000001"
WORKER = "22222222-0000-0000-0000-000000000002"
HAIKU_45 = "claude-haiku-4-5-20251001"
SONNET = "claude-sonnet-4-5-20250929"


def report(pytester: pytest.Pytester) -> dict[str, object]:
    return dict(json.loads((pytester.path / "r.json").read_text()))


def assert_yes(pytester: pytest.Pytester, result: pytest.RunResult) -> None:
    assert decision(pytester) == "YES", result.stdout.str()
    assert result.ret == 0, result.stdout.str()


def model_of(tickets: dict[str, YamlData], text: str) -> str:
    """The model id of the family the log records for the one ticket ``text`` names (Opus
    otherwise)."""
    named = [t for t in tickets if t in text]
    logged = tickets[named[0]].get("execution_model") if len(named) == 1 else None
    return {"haiku": HAIKU_45, "sonnet": SONNET}.get(str(logged), "claude-opus-4-6")


def measured_batch(
    pytester: pytest.Pytester,
    criteria: list[YamlData],
    tickets: dict[str, YamlData],
    agents: list[tuple[str, str, int]],
) -> Phase:
    """Phase m1 measured from one lead session (5,010 tokens of its own) that spawned
    ``agents`` (id, Task description, cache-write tokens; each 10 more of input), each on the
    model the log records for the one ticket its description names, with the log's
    ``tickets`` and 5,000 tokens of shared planning."""
    phase = Phase.of(
        "m1",
        criteria,
        tickets,
        planning={"estimated_tokens": 5_000},
        metadata={
            "phase": "m1",
            "tickets": list(tickets),
            "sessions": [{"path": "runs/lead.jsonl", "lead": True}],
        },
    )
    runs = phase.write(pytester.path) / "runs"
    used = {a: usage(inp=10, out=0, cw=tokens) for a, _, tokens in agents}
    for agent, text, _ in agents:
        call = assistant(f"m_{agent}", f"q_{agent}", agent_id=agent, session=LEAD, u=used[agent])
        call["message"]["model"] = model_of(tickets, text)
        write_jsonl(runs / "lead" / "subagents" / f"agent-{agent}.jsonl", [call])
    spawns = [spawn_block(f"t_{a}", description=text) for a, text, _ in agents]
    write_jsonl(
        runs / "lead.jsonl",
        [
            user("Plan the batch", session=LEAD),
            assistant("m_l", "q_l", session=LEAD, u=usage(inp=10, out=0, cw=5_000), content=spawns),
            *(agent_result(f"t_{a}", a, used[a], session=LEAD) for a, _, _ in agents),
        ],
    )
    return phase


# ------------------------------------------------------- a sub-agent two patterns describe

HAIKU_CAP: YamlData = {
    "id": "haiku-cap",
    "for_each": "ticket",
    "where": {"execution_model": "haiku"},
    "metric": "tokens",
    "measure": "total",
    "max": "30k",
}


def two_patterns(first: str, second: str) -> dict[str, YamlData]:
    return {
        "R01": {
            "execution_model": "sonnet",
            "implementation": {
                "estimated_tokens": 20_000,
                "status": "completed",
                "agents": {"description_pattern": first},
            },
        },
        "R02": {
            "execution_model": "haiku",
            "implementation": {
                "estimated_tokens": 20_000,
                "status": "completed",
                "agents": {"description_pattern": second},
            },
        },
    }


IMPLEMENTERS = [
    ("a1", "R01: implement the export", 20_000),
    ("a2", "R02: implement the import", 50_000),
]


def test_a_sub_agent_two_description_patterns_match_is_not_the_first_ones(
    pytester: pytest.Pytester,
) -> None:
    """Two stages' `agents.description_pattern`s both match one sub-agent's Task description:
    R01's implementation `^R0` (written loosely) and R02's implementation `^R02`. The first
    pattern in log order wins, silently: R02's implementer (50,010 tokens, "R02: implement
    the import") is counted as R01's, and R02, the Haiku ticket the cap is on, is left with
    nothing of its own. A Task description naming two tickets is unattributed ("names several
    tickets"), never given to the first; two patterns claiming one agent are the same
    ambiguity, and R02's cap of 30k must not pass on it."""
    measured_batch(pytester, [HAIKU_CAP], two_patterns("^R0", "^R02"), IMPLEMENTERS)
    result = run_phase(pytester, "m1")
    assert_not_yes(pytester, result)
    result.stdout.fnmatch_lines(
        [
            "*execution-log.yaml:*: tickets.R02.implementation.agents.description_pattern: "
            "sub-agent a2's Task description 'R02: implement the import' matches this pattern "
            "(R02's implementation) and tickets.R01.implementation.agents.description_pattern "
            "'^R0' (R01's implementation) too*"
        ]
    )


def test_two_stages_of_one_ticket_whose_patterns_match_one_sub_agent(
    pytester: pytest.Pytester,
) -> None:
    """The same within a ticket: R01's implementation `R01` and its review `review` both match
    "R01 review": its implementation or its review, only the team knows; a `stage_tokens`
    cap on either must not pass on the first's guess."""
    tickets = two_patterns("^R01", "^R02")
    tickets["R01"]["review"] = {
        "estimated_tokens": 4_000,
        "result": "PASS",
        "attempts": 1,
        "agents": {"description_pattern": "review"},
    }
    agents = [*IMPLEMENTERS, ("a3", "R01 review", 3_000)]
    measured_batch(pytester, [REVIEW_CAP], tickets, agents)
    result = run_phase(pytester, "m1")
    assert_not_yes(pytester, result)
    result.stdout.fnmatch_lines(["*tickets.R01.review.agents.description_pattern: sub-agent a3*"])


@pytest.mark.parametrize(
    ("first", "second", "listed"),
    [("^R01", "^R02", False), ("^R0", "^R02", True)],
    ids=["exclusive-patterns", "listed-by-id"],
)
def test_sub_agents_mapped_once_are_their_stages(
    pytester: pytest.Pytester, first: str, second: str, listed: bool
) -> None:
    """No over-correction: patterns that each match their own implementer place them (R02's
    50,010 under a cap of 60k: YES), and a loose pattern beside the agent's listing by id
    (`agents.agent_ids`, which wins over a pattern, as documented) is no ambiguity."""
    tickets = two_patterns(first, second)
    if listed:
        tickets["R02"]["implementation"]["agents"] = {"agent_ids": ["a2"]}
    measured_batch(pytester, [{**HAIKU_CAP, "max": "60k"}], tickets, IMPLEMENTERS)
    result = run_phase(pytester, "m1")
    assert_yes(pytester, result)
    agents = report(pytester)["usage"]
    assert isinstance(agents, dict)
    placed = {a["agent_id"]: (a["ticket"], a["usage"]["total"]) for a in agents["agents"]}
    assert placed == {"a1": ("R01", 20_010), "a2": ("R02", 50_010)}


def agent_in_a_worker(pytester: pytest.Pytester, listed_for: str) -> None:
    """Phase m1: the lead (5,010 of its own), and a worker session metadata names with `ticket:
    R01` that spawned sub-agent a2 (50,010), which the log lists in ``listed_for``'s
    implementation (`agents.agent_ids`); R02 is the Haiku ticket of the 30k cap."""
    tickets: YamlData = {
        "R01": {
            "execution_model": "sonnet",
            "implementation": {"estimated_tokens": 20_000, "status": "completed"},
        },
        "R02": {
            "execution_model": "haiku",
            "implementation": {"estimated_tokens": 20_000, "status": "completed"},
        },
    }
    tickets[listed_for]["implementation"]["agents"] = {"agent_ids": ["a2"]}
    phase = Phase.of(
        "m1",
        [HAIKU_CAP],
        tickets,
        planning={"estimated_tokens": 5_000},
        metadata={
            "phase": "m1",
            "tickets": ["R01", "R02"],
            "sessions": [
                {"path": "runs/lead.jsonl", "lead": True},
                {"path": "runs/worker.jsonl", "ticket": "R01"},
            ],
        },
    )
    runs = phase.write(pytester.path) / "runs"
    write_jsonl(
        runs / "lead.jsonl",
        [
            user("Plan the batch", session=LEAD),
            assistant("m_l", "q_l", session=LEAD, u=usage(inp=10, out=0, cw=5_000)),
        ],
    )
    used = usage(inp=10, out=0, cw=50_000)
    write_jsonl(
        runs / "worker" / "subagents" / "agent-a2.jsonl",
        [assistant("m_a2", "q_a2", agent_id="a2", session=WORKER, u=used, model=SONNET)],
    )
    write_jsonl(
        runs / "worker.jsonl",
        [
            user("Work on R01 and hand R02 to a helper", session=WORKER),
            assistant(
                "m_w",
                "q_w",
                session=WORKER,
                u=usage(inp=10, out=0, cw=20_000),
                content=[spawn_block("t_a2", description="Implement the import")],
                model=SONNET,
            ),
            agent_result("t_a2", "a2", used, session=WORKER),
        ],
    )


def test_an_agent_listed_for_a_ticket_inside_another_tickets_session(
    pytester: pytest.Pytester,
) -> None:
    """The same ambiguity between explicit mappings: R02's implementation lists its agent by id
    (`agents.agent_ids: [a2]`, 50,010 tokens), and a2 was spawned inside the session metadata
    names with `ticket: R01`. Rule 1 (the session's ticket) silently wins over rule 3 (the
    agent's listing): R01 gets a2's usage, R02 has no measured usage and is counted from its
    estimate (20,000), under its 30k cap: YES. An agent listed in two places is an error
    (`_check_agent_links`); a listing that a session's `ticket:` overrides is the same
    contradiction."""
    agent_in_a_worker(pytester, "R02")
    result = run_phase(pytester, "m1")
    assert_not_yes(pytester, result)
    result.stdout.fnmatch_lines(
        [
            "*execution-log.yaml:*: tickets.R02.implementation.agents.agent_ids[[]0[]]: "
            "sub-agent a2 is mapped here to R02's implementation, but it ran in "
            "*agent-a2.jsonl, which *metadata.yaml: sessions[[]1[]] gives to ticket R01*"
        ]
    )


def test_an_agent_listed_for_the_ticket_of_its_session_is_no_contradiction(
    pytester: pytest.Pytester,
) -> None:
    """No over-correction: a2 listed for R01, the ticket its session is named with, is R01's
    as before; R02 (nothing measured, nothing unattributed) is counted from its 20,000
    estimate, under the 30k cap: YES."""
    agent_in_a_worker(pytester, "R01")
    result = run_phase(pytester, "m1")
    assert_yes(pytester, result)


# ------------------------------------------- a stage's figure beside the ticket's whole usage

REVIEW_CAP: YamlData = {
    "id": "review-cap",
    "metric": "stage_tokens",
    "stage": "review",
    "measure": "total",
    "max": "5k",
}


def whole_ticket_session(pytester: pytest.Pytester, criterion: YamlData) -> None:
    """Phase m1: the lead's review sub-agent "R01 review" (3,010 tokens), and a worker session
    of 40,010 named in metadata with `ticket: R01` and no stage."""
    tickets: YamlData = {
        "R01": {
            "execution_model": "sonnet",
            "implementation": {"estimated_tokens": 20_000, "status": "completed", "fix_loops": 0},
            "review": {"estimated_tokens": 4_000, "result": "PASS", "attempts": 1},
        }
    }
    measured_batch(pytester, [criterion], tickets, [("a1", "R01 review", 3_000)])
    folder = pytester.path / "docs" / "orchestration-data" / "phase-m1"
    meta = folder / "metadata.yaml"
    meta.write_text(meta.read_text() + "- {path: runs/worker.jsonl, ticket: R01}\n")
    write_jsonl(
        folder / "runs" / "worker.jsonl",
        [
            user("Work on the export button", session=WORKER),
            assistant(
                "m_w", "q_w", session=WORKER, u=usage(inp=10, out=0, cw=40_000), model=SONNET
            ),
        ],
    )


@pytest.mark.parametrize("for_each", [None, "ticket"])
def test_a_stage_beside_a_whole_ticket_session_is_only_a_lower_bound(
    pytester: pytest.Pytester, for_each: str | None
) -> None:
    """R01's worker session is named in metadata with `ticket: R01` and no `stage` (README:
    "all of this session's usage belongs to R01"): its 40,010 tokens are the ticket's as a
    whole, of no stage. The lead's review sub-agent ("R01 review", 3,010) is R01's review. A
    ticket whose tokens are recorded only as a whole makes its stages' figures unknown
    ("records its tokens for the whole ticket, not per stage"); beside a whole-ticket session
    the review stage is read as 3,010, exact, though the worker's 40,010 may hold review work
    too: `stage_tokens[review] max: 5k` passes, YES. Expected: a lower bound (or unknown)."""
    criterion = dict(REVIEW_CAP)
    if for_each:
        criterion["for_each"] = for_each
    whole_ticket_session(pytester, criterion)
    result = run_phase(pytester, "m1")
    assert_not_yes(pytester, result)


@pytest.mark.parametrize(
    ("criterion", "worker"),
    [
        ({**REVIEW_CAP, "max": None, "min": "2k"}, True),
        (
            {
                "id": "cap",
                "for_each": "ticket",
                "metric": "tokens",
                "measure": "total",
                "max": "50k",
            },
            True,
        ),
        (REVIEW_CAP, False),
    ],
    ids=["stage-min", "ticket-total", "no-whole-usage"],
)
def test_what_a_whole_ticket_session_still_proves(
    pytester: pytest.Pytester, criterion: YamlData, worker: bool
) -> None:
    """No over-correction: the review's 3,010, a lower bound, still proves `min: 2k`; the
    ticket's own total (43,020: the worker's 40,010 and the review's 3,010) is exact and passes
    `max: 50k`; without the worker session the review's 3,010 is exact and passes `max: 5k`."""
    criterion = {k: v for k, v in criterion.items() if v is not None}
    if worker:
        whole_ticket_session(pytester, criterion)
    else:
        tickets: YamlData = {
            "R01": {
                "execution_model": "sonnet",
                "implementation": {"estimated_tokens": 20_000, "status": "completed"},
                "review": {"estimated_tokens": 4_000, "result": "PASS", "attempts": 1},
            }
        }
        measured_batch(pytester, [criterion], tickets, [("a1", "R01 review", 3_000)])
    result = run_phase(pytester, "m1")
    assert_yes(pytester, result)


# ------------------------------------------------------------ two phases on one data folder


def test_a_phase_whose_criteria_name_another_phases_data_folder(
    pytester: pytest.Pytester,
) -> None:
    """criteria/b2.yaml copied from b1.yaml with its `phase:` changed and `requires: [b1]`
    added, but `data: phase-b1` left as it was: phase b2 is evaluated on phase b1's data
    (its tickets, its log, its metadata naming `phase: b1`), passes, and the run says
    "Proceed to phase b3: YES" for a phase that has no data of its own. A data folder holds
    one phase's run: two criteria files naming one folder must be an error (naming both
    files), never a pass. (metadata.yaml's `phase:` is free text, so it cannot tell.)"""
    criteria: list[YamlData] = [{"id": "loops", "metric": "fix_loops", "max": 0}]
    Phase.of("b1", criteria, {"R01": flat_ticket()}).write(pytester.path)
    copied: YamlData = {"phase": "b2", "data": "phase-b1", "requires": ["b1"], "criteria": criteria}
    write_yaml(pytester.path / "criteria" / "b2.yaml", copied)
    result = run_phase(pytester, "b2")
    assert_not_yes(pytester, result)
    result.stdout.fnmatch_lines(
        [
            "*criteria/b2.yaml:2:*: data: data folder docs/orchestration-data/phase-b1 is also "
            "phase b1's (criteria/b1.yaml: data)*"
        ]
    )


@pytest.mark.parametrize("placeholder", [False, True], ids=["loads", "does-not-load"])
def test_the_phase_whose_data_folder_another_criteria_file_names(
    pytester: pytest.Pytester, placeholder: bool
) -> None:
    """The same from b1's side: which of the two files the folder is for, only the team knows,
    so b1's run says so too (naming b2), even when b2's file does not load otherwise (a limit
    still a `${...}` placeholder, or written `./phase-b1/`)."""
    criteria: list[YamlData] = [{"id": "loops", "metric": "fix_loops", "max": 0}]
    Phase.of("b1", criteria, {"R01": flat_ticket()}).write(pytester.path)
    limit: object = "${MAX}" if placeholder else 0
    copied: YamlData = {
        "phase": "b2",
        "data": "./phase-b1/",
        "criteria": [{"id": "loops", "metric": "fix_loops", "max": limit}],
    }
    write_yaml(pytester.path / "criteria" / "b2.yaml", copied)
    result = run_phase(pytester, "b1")
    assert_not_yes(pytester, result)
    result.stdout.fnmatch_lines(
        ["*criteria/b1.yaml:*: data: *is also phase b2's (criteria/b2.yaml*"]
    )


def test_phases_with_their_own_data_folders_still_pass(pytester: pytest.Pytester) -> None:
    """No over-correction: b2 with its own folder, requiring b1, passes (YES)."""
    criteria: list[YamlData] = [{"id": "loops", "metric": "fix_loops", "max": 0}]
    Phase.of("b1", criteria, {"R01": flat_ticket()}).write(pytester.path)
    Phase.of("b2", criteria, {"R01": flat_ticket()}, requires=["b1"]).write(pytester.path)
    result = run_phase(pytester, "b2")
    assert_yes(pytester, result)


@pytest.mark.parametrize("entry", ["runs/lead.jsonl", "runs"], ids=["file", "folder"])
def test_a_phase_measured_from_another_phases_session_files(
    pytester: pytest.Pytester, entry: str
) -> None:
    """The same mistake one file further: b2 has its own data folder, but its metadata.yaml,
    copied from m1's, names m1's session (`../phase-m1/runs/lead.jsonl`, or its folder): b2's
    R01 and R02 would be measured from m1's run (a2's 50,010 under a 60k cap: YES). A session
    file in another phase's data folder is that phase's run: an error at the entry."""
    criteria = [{**HAIKU_CAP, "max": "60k"}]
    measured_batch(pytester, criteria, two_patterns("^R01", "^R02"), IMPLEMENTERS)
    b2 = Phase.of(
        "b2",
        criteria,
        two_patterns("^R01", "^R02"),
        planning={"estimated_tokens": 5_000},
        metadata={
            "phase": "b2",
            "tickets": ["R01", "R02"],
            "sessions": [{"path": f"../phase-m1/{entry}", "lead": True}],
        },
    )
    b2.write(pytester.path)
    result = run_phase(pytester, "b2")
    assert_not_yes(pytester, result)
    result.stdout.fnmatch_lines(
        [
            "*metadata.yaml:*: sessions[[]0[]]: session file ../phase-m1/* lies in *phase-m1, "
            "another phase's data folder*"
        ]
    )


def test_a_session_file_kept_outside_any_phase_folder_still_measures(
    pytester: pytest.Pytester,
) -> None:
    """No over-correction: m1's session kept in a folder of the project that is no phase's
    (no metadata.yaml and execution log there) measures m1 as before: YES."""
    criteria = [{**HAIKU_CAP, "max": "60k"}]
    folder = measured_batch(pytester, criteria, two_patterns("^R01", "^R02"), IMPLEMENTERS)
    data = folder.folder(pytester.path)
    shared = pytester.path / "recordings"
    (data / "runs").rename(shared)
    meta = data / "metadata.yaml"
    meta.write_text(meta.read_text().replace("runs/lead.jsonl", str(shared / "lead.jsonl")))
    result = run_phase(pytester, "m1")
    assert_yes(pytester, result)


# --------------------------------------- a model filter naming an id beside a ticket of its family


#: A check of each ticket run on that id, and a success rate of that id.
ON_HAIKU_45: list[YamlData] = [
    {
        "id": "haiku-validation",
        "for_each": "ticket",
        "where": {"execution_model": HAIKU_45},
        "metric": "fix_loops",
        "max": 1,
    },
    {"id": "rate", "metric": "success_rate", "model": HAIKU_45, "min": "50%", "rule": "point"},
]


@pytest.mark.parametrize("criterion", ON_HAIKU_45, ids=["where", "success_rate"])
def test_a_ticket_recording_only_the_family_may_be_the_model_id_filtered_on(
    pytester: pytest.Pytester, criterion: YamlData
) -> None:
    """The criteria name a model id (`claude-haiku-4-5-20251001`); R01 records that id, R02
    only its family, `haiku` (3 fix loops). "A full id must match exactly" (model_matches), so
    R02 drops out: the where-filtered check has R01 alone, `success_rate` is 1 of 1, and the
    run says YES (the adoption line too). R02 ran on a Haiku whose version the log does not
    say: it may be that id, as a ticket recording no model may be any (round 3: such a ticket
    gets its item, which fails unless it passes anyway; the rate is unknown)."""
    tickets = {
        "R01": flat_ticket(complexity="mechanical", execution_model=HAIKU_45),
        "R02": flat_ticket(complexity="mechanical", execution_model="haiku", fix_loops=3),
    }
    Phase.of("b1", [criterion], tickets).write(pytester.path)
    result = run_phase(pytester, "b1")
    assert_not_yes(pytester, result)


@pytest.mark.parametrize(
    ("other", "expected"),
    [(HAIKU_45, "YES"), ("sonnet", "YES"), ("claude-3-5-haiku-20241022", "YES")],
    ids=["same-id", "other-family", "other-snapshot"],
)
def test_a_ticket_known_to_be_or_not_to_be_the_model_id_still_decides(
    pytester: pytest.Pytester, other: str, expected: str
) -> None:
    """No over-correction: R02 recording that very id is counted (its 0 fix loops pass), and
    R02 recording another family, or another snapshot id of Haiku, is known not to be the id
    filtered on and is left out as before: the filter's check and the rate pass, YES."""
    fix_loops = 0 if other == HAIKU_45 else 3
    tickets = {
        "R01": flat_ticket(complexity="mechanical", execution_model=HAIKU_45),
        "R02": flat_ticket(complexity="mechanical", execution_model=other, fix_loops=fix_loops),
    }
    Phase.of("b1", ON_HAIKU_45, tickets).write(pytester.path)
    result = run_phase(pytester, "b1")
    assert decision(pytester) == expected, result.stdout.str()
    assert result.ret == 0


def test_adoption_naming_a_model_id_does_not_leave_out_a_run_recording_its_family(
    pytester: pytest.Pytester,
) -> None:
    """The same for `decisions.adopt_model` naming the id: 3 runs recording it succeeded, a
    fourth recording only `haiku` failed (3 fix loops). Left out, 3 of 3 reaches `point` 70 %:
    "Adopt … YES". It may be one of them: with it counted in (3 of 4, 75 %) the answer holds,
    but with two such failures (3 of 5, 60 %) it does not, and is INCONCLUSIVE, naming them."""
    from tests.helpers import rate_phase

    phase = rate_phase(3, 3, model=HAIKU_45, decisions={"model": HAIKU_45, "rule": "point"})
    for name in ("T04", "T05"):
        phase.log["tickets"][name] = flat_ticket(
            complexity="mechanical", execution_model="haiku", fix_loops=3
        )
        phase.metadata["tickets"].append(name)
    phase.criteria["criteria"] = [{"id": "loops", "metric": "fix_loops", "max": 3}]
    phase.write(pytester.path)
    run_phase(pytester, "p1")
    adoption = report(pytester)["decisions"]
    assert isinstance(adoption, dict)
    assert adoption["adopt_model"]["answer"] == "INCONCLUSIVE", adoption["adopt_model"]
    assert sorted(adoption["adopt_model"]["unknown_membership"]) == ["p1:T04", "p1:T05"]


@pytest.mark.parametrize(
    ("recorded", "wanted", "maybe"),
    [
        ("haiku", HAIKU_45, True),
        ("Haiku", HAIKU_45, True),
        ("claude-haiku-4-5", HAIKU_45, True),
        # a snapshot id is the most precise record: its model's (the filter's alias: it is
        # that model), or another's for certain (review 22)
        (HAIKU_45, "claude-haiku-4-5", False),
        (HAIKU_45, "claude-3-5-haiku", False),
        (HAIKU_45, HAIKU_45, False),
        ("claude-3-5-haiku-20241022", HAIKU_45, False),
        ("sonnet", HAIKU_45, False),
        ("claude-haiku-4-5", "haiku", False),
        # an alias (or a free-text name) of another version is another model for certain
        ("claude-3-5-haiku", HAIKU_45, False),
        ("claude-3-5-haiku-latest", "claude-haiku-4-5", False),
        ("Haiku 3.5", HAIKU_45, False),
        ("Haiku 4.5", HAIKU_45, True),
        ("claude-opus-4-0", "claude-opus-4-20250514", True),
        ("claude-opus-4-1", "claude-opus-4-20250514", False),
        ("claude-opus-4", "claude-opus-4-1-20250805", False),
    ],
)
def test_may_be(recorded: str, wanted: str, maybe: bool) -> None:
    """A model recorded less precisely than the id asked about may be it; a family asked about
    is matched by its family, and two snapshot ids are two models."""
    from pytest_orchphase.families import may_be

    assert may_be(recorded, wanted) is maybe


@pytest.mark.parametrize(
    ("recorded", "wanted", "matches"),
    [
        (HAIKU_45, "claude-haiku-4-5", True),
        ("claude-3-5-haiku-20241022", "claude-3-5-haiku", True),
        (HAIKU_45, "claude-3-5-haiku", False),
        ("claude-haiku-4-5", HAIKU_45, False),
        (HAIKU_45, "haiku", True),
    ],
)
def test_a_snapshot_matches_the_model_a_filter_names_undated(
    recorded: str, wanted: str, matches: bool
) -> None:
    """A snapshot id is the model its undated name names; an alias is not known to be one
    snapshot (that is "may be", above)."""
    from pytest_orchphase.metrics.which_tickets import model_matches

    assert model_matches(recorded, wanted) is matches

"""The model a ticket (or a stage) is logged on must be its implementer's: the calls placed in
its implementation stage, else its sessions' own calls, never a helper's (an Explore
sub-agent, which Claude Code runs on Haiku whatever the session's model). Helpers may run on
any model; the implementer on another model than the log's is an error at the log's field
naming the models measured. A stage's own ``model`` (review, fix…) is held to the calls
placed there the same way, and a fix stage that names none to the ticket's model (a fix on
another model makes the ticket's success that model's)."""

from __future__ import annotations

import json

import pytest

from tests.helpers import (
    PROJECT,
    Phase,
    YamlData,
    assert_not_yes,
    assistant,
    decision,
    result_object,
    run_phase,
    usage,
    user,
)

SONNET = "claude-sonnet-4-5-20250929"
HAIKU = "claude-haiku-4-5-20251001"
OPUS = "claude-opus-4-6"
LEAD = "11111111-0000-0000-0000-0000000000a1"
WORKER = "22222222-0000-0000-0000-0000000000b2"

HAIKU_RATE: YamlData = {
    "id": "rate",
    "metric": "success_rate",
    "model": "haiku",
    "min": "60%",
    "rule": "point",
}
REVIEWED: YamlData = {"result": "PASS", "attempts": 1, "estimated_tokens": 5_000}
IMPLEMENTED: YamlData = {"estimated_tokens": 20_000, "status": "completed"}

#: A sub-agent: its id, Task description, model and type.
Agent = tuple[str, str, str, str]


def _ticket(model: str = "haiku", **changes: object) -> YamlData:
    ticket: YamlData = {
        "execution_model": model,
        "complexity": "mechanical",
        "fix_loops": 0,
        "implementation": IMPLEMENTED,
        "review": REVIEWED,
    }
    ticket.update(changes)
    return ticket


def lead_phase(
    pytester: pytest.Pytester, ticket: YamlData, agents: list[Agent], criteria: list[YamlData]
) -> pytest.RunResult:
    """Phase w1 of one ticket R01 (``ticket``: its log), measured from a lead session on Opus
    (its own calls: shared planning) that spawned ``agents``."""
    phase = Phase.of("w1", criteria, {"R01": ticket})
    phase.write(pytester.path)
    home = phase.transcripts(pytester.path)
    lines = [user("Plan the batch", session=LEAD), *home.spawns(LEAD, OPUS, agents)]
    home.session(lines, session=LEAD)
    return run_phase(pytester, "w1")


def worker_phase(
    pytester: pytest.Pytester,
    worker_model: str,
    agents: list[Agent],
    ticket: YamlData,
    criterion: YamlData = HAIKU_RATE,
) -> pytest.RunResult:
    """Phase w1 of one ticket R01, measured from its worker session (its first prompt names
    R01) whose own calls ran on ``worker_model`` and that spawned ``agents``."""
    phase = Phase.of("w1", [criterion], {"R01": ticket})
    phase.write(pytester.path)
    home = phase.transcripts(pytester.path)
    own = assistant("m_w", "q_w", session=WORKER, u=usage(inp=20_000, out=800), model=worker_model)
    lines = [user("Implement R01", session=WORKER), own]
    home.session([*lines, *home.spawns(WORKER, worker_model, agents)], session=WORKER)
    return run_phase(pytester, "w1")


def assert_yes(pytester: pytest.Pytester, result: pytest.RunResult) -> None:
    assert decision(pytester) == "YES", result.stdout.str()
    assert result.ret == 0, result.stdout.str()


# -- the implementer -----------------------------------------------------------------------------


def test_an_explore_helper_placed_in_the_implementation_is_no_implementer(
    pytester: pytest.Pytester,
) -> None:
    """The lead spawned "R01: implement the parser" (Sonnet) and an Explore sub-agent whose
    description names R01 (Haiku), which the description places in R01's implementation
    stage too. R01 is logged on Haiku: its implementer ran on Sonnet, the Explore helper's
    Haiku proves nothing (before: a mix, a Haiku success, YES)."""
    agents = [
        ("a1", "R01: implement the parser", SONNET, "general-purpose"),
        ("a2", "Explore R01's parser module", HAIKU, "Explore"),
    ]
    result = lead_phase(pytester, _ticket(), agents, [HAIKU_RATE])
    assert_not_yes(pytester, result)
    result.stdout.fnmatch_lines(
        [
            "*: tickets.R01.execution_model: ticket R01 is logged as executed on 'haiku', but "
            f"none of its measured implementation stage's calls is: they are {SONNET} (its "
            f"other calls, on {HAIKU}, are its helpers' or another stage's)*"
        ]
    )


def test_a_plan_helper_on_the_logged_model_is_no_implementer(pytester: pytest.Pytester) -> None:
    """A worker session on Sonnet whose only sub-agent is a Plan helper on Haiku: the worker
    is the implementer, R01 is no Haiku ticket."""
    agents = [("a1", "Plan the parser change", HAIKU, "Plan")]
    result = worker_phase(pytester, SONNET, agents, _ticket())
    assert_not_yes(pytester, result)
    result.stdout.fnmatch_lines(
        ["*tickets.R01.execution_model: ticket R01 is logged as executed on 'haiku', but none*"]
    )


@pytest.mark.parametrize(
    "helper",
    [
        ("a1", "Find where the parser reads its input", SONNET, "general-purpose"),
        ("a1", "Explore the parser module", SONNET, "Explore"),
        ("a1", "Explore the parser module", OPUS, "Explore"),
    ],
)
def test_a_haiku_worker_with_a_helper_on_another_model_is_a_haiku_ticket(
    pytester: pytest.Pytester, helper: Agent
) -> None:
    """No over-correction: the worker's own calls ran on Haiku, as logged; its helper's
    model, whatever it is, is no contradiction."""
    assert_yes(pytester, worker_phase(pytester, HAIKU, [helper], _ticket()))


def test_a_sonnet_ticket_with_an_explore_helper_on_haiku_is_a_sonnet_ticket(
    pytester: pytest.Pytester,
) -> None:
    """No over-correction, the real Claude Code pattern: a Sonnet worker whose Explore
    sub-agent ran on Haiku is a Sonnet ticket."""
    agents = [("a1", "Explore the parser module", HAIKU, "Explore")]
    sonnet_rate = {**HAIKU_RATE, "model": "sonnet"}
    assert_yes(pytester, worker_phase(pytester, SONNET, agents, _ticket("sonnet"), sonnet_rate))


def test_a_haiku_implementer_sub_agent_of_a_lead_on_opus_is_a_haiku_ticket(
    pytester: pytest.Pytester,
) -> None:
    """No over-correction: the lead plans on Opus (shared planning, no ticket's), R01's
    implementer sub-agent ran on Haiku as logged, an Explore helper on Sonnet."""
    agents = [
        ("a1", "R01: implement the parser", HAIKU, "general-purpose"),
        ("a2", "Explore R01's parser module", SONNET, "Explore"),
    ]
    assert_yes(pytester, lead_phase(pytester, _ticket(), agents, [HAIKU_RATE]))


def test_only_a_helper_measured_proves_no_model(pytester: pytest.Pytester) -> None:
    """A ticket all of whose measured calls are an Explore helper's (on Sonnet) has no
    measured implementer: its logged Haiku is not contradicted (nor proven)."""
    agents = [("a1", "Explore R01's parser module", SONNET, "Explore")]
    result = lead_phase(pytester, _ticket(), agents, [HAIKU_RATE])
    result.stdout.no_fnmatch_line("*logged as executed on*")


# -- a stage's model -----------------------------------------------------------------------------


def test_a_review_logged_on_sonnet_whose_reviewer_ran_on_haiku(pytester: pytest.Pytester) -> None:
    """`review.model: sonnet`, but the one review sub-agent measured ran on Haiku: an error
    at review.model, naming the models measured there and elsewhere."""
    agents = [
        ("a1", "R01: implement the parser", SONNET, "general-purpose"),
        ("a2", "Review R01", HAIKU, "general-purpose"),
    ]
    ticket = _ticket("sonnet", review={**REVIEWED, "model": "sonnet"})
    result = lead_phase(pytester, ticket, agents, [{**HAIKU_RATE, "model": "sonnet"}])
    assert_not_yes(pytester, result)
    result.stdout.fnmatch_lines(
        [
            "*: tickets.R01.review.model: ticket R01: its review stage is logged on 'sonnet', "
            f"but none of the calls measured there is: they are {HAIKU}; a helper's model*"
        ]
    )


def test_a_review_on_its_logged_model_beside_helpers_on_another_passes(
    pytester: pytest.Pytester,
) -> None:
    """No over-correction: the reviewer ran on Sonnet as logged, an Explore helper and the
    implementer on Haiku (R01 is a Haiku ticket)."""
    agents = [
        ("a1", "R01: implement the parser", HAIKU, "general-purpose"),
        ("a2", "Review R01", SONNET, "general-purpose"),
        ("a3", "Explore R01's parser module", HAIKU, "Explore"),
    ]
    ticket = _ticket(review={**REVIEWED, "model": "sonnet"})
    assert_yes(pytester, lead_phase(pytester, ticket, agents, [HAIKU_RATE]))


FIXED: list[Agent] = [
    ("a1", "R01: implement the parser", HAIKU, "general-purpose"),
    ("a2", "R01: fix the failing parser test", SONNET, "general-purpose"),
]


@pytest.mark.parametrize(
    ("fix", "at"),
    [
        ({"status": "completed"}, "tickets.R01.fix: ticket R01: its fix stage records no model, "),
        ({"status": "completed", "model": "haiku"}, "tickets.R01.fix.model: ticket R01: its fix "),
        (None, "tickets.R01: ticket R01: its fix stage records no model, so it is read as on"),
    ],
)
def test_a_fix_on_sonnet_does_not_leave_a_haiku_ticket_a_haiku_success(
    pytester: pytest.Pytester, fix: YamlData | None, at: str
) -> None:
    """R01 is logged on Haiku with one fix loop; its fix sub-agent ran on Sonnet. A fix on
    another model makes the ticket's success that model's (README: success_rate), but the
    log's fix stage names no model, or Haiku, or is not there: R01 counted as a Haiku
    success (before: YES). An error at the fix stage (or the ticket)."""
    ticket = _ticket(fix_loops=1, review={**REVIEWED, "attempts": 2})
    if fix is not None:
        ticket["fix"] = fix
    result = lead_phase(pytester, ticket, FIXED, [HAIKU_RATE])
    assert_not_yes(pytester, result)
    result.stdout.fnmatch_lines([f"*: {at}*they are {SONNET}*"])


def test_a_fix_logged_on_the_model_it_ran_on_counts_as_an_upgrade(
    pytester: pytest.Pytester,
) -> None:
    """No over-correction: the log says the fix ran on Sonnet, as measured: no error, and
    R01 is no Haiku success (the success rate fails as it should)."""
    ticket = _ticket(fix_loops=1, review={**REVIEWED, "attempts": 2})
    ticket["fix"] = {"status": "completed", "model": "sonnet"}
    result = lead_phase(pytester, ticket, FIXED, [HAIKU_RATE])
    assert result.ret == pytest.ExitCode.TESTS_FAILED, result.stdout.str()
    result.stdout.fnmatch_lines(["*success_rate[[]haiku[]] 0.0% < min 60.0%*"])


# -- a headless run's summed figures -------------------------------------------------------------


def _figures(inp: int, out: int) -> dict[str, int | float]:
    return {
        "inputTokens": inp,
        "outputTokens": out,
        "cacheReadInputTokens": 0,
        "cacheCreationInputTokens": 0,
        "webSearchRequests": 0,
        "costUSD": 0.01,
    }


def headless_phase(
    pytester: pytest.Pytester,
    main: str,
    helper: str,
    own: dict[str, int] | None = None,
    entry: YamlData | None = None,
    ticket: YamlData | None = None,
) -> pytest.RunResult:
    """Phase w1 of one ticket R01 logged on Haiku (else ``ticket``), measured from one
    `claude -p --output-format json` result given to R01 (with ``entry``'s keys): its main
    agent (``usage``: 20,000 in, 800 out, else ``own``) ran on ``main``, a sub-agent (2,000
    in, 100 out) on ``helper``; ``modelUsage`` lists both, the main agent's as 20,000 in,
    800 out."""
    phase = Phase.of(
        "w1",
        [HAIKU_RATE],
        {"R01": ticket or _ticket()},
        metadata={
            "phase": "w1",
            "tickets": ["R01"],
            "sessions": [{"path": "r01.json", "ticket": "R01", **(entry or {})}],
        },
    )
    folder = phase.write(pytester.path)
    run = result_object(
        usage=own or {"input_tokens": 20_000, "output_tokens": 800},
        modelUsage={main: _figures(20_000, 800), helper: _figures(2_000, 100)},
    )
    (folder / "r01.json").write_text(json.dumps(run))
    return run_phase(pytester, "w1")


def test_a_headless_runs_sub_agent_on_the_logged_model_is_no_implementer(
    pytester: pytest.Pytester,
) -> None:
    """The run's main agent ran on Sonnet (only Sonnet's modelUsage holds its usage), a
    sub-agent on Haiku: the summed figures of both were its main agent's, and R01 a Haiku
    success (before: YES)."""
    result = headless_phase(pytester, SONNET, HAIKU)
    assert_not_yes(pytester, result)
    result.stdout.fnmatch_lines(
        [
            "*tickets.R01.execution_model: ticket R01 is logged as executed on 'haiku', but none "
            f"of its measured implementer's calls (its sessions' own, outside its review) is: "
            f"they are {SONNET} (its other calls, on {HAIKU}, *"
        ]
    )


def test_a_headless_run_on_the_logged_model_with_a_sub_agent_on_another_passes(
    pytester: pytest.Pytester,
) -> None:
    """No over-correction: the main agent ran on Haiku as logged, its sub-agent on Sonnet."""
    assert_yes(pytester, headless_phase(pytester, HAIKU, SONNET))


UNSURE_WHY = (
    "*may be its main agent's or its sub-agents': its record does not say which model its main "
    "agent ran on*"
)


def test_a_headless_run_whose_usage_several_models_hold_proves_none_of_them(
    pytester: pytest.Pytester,
) -> None:
    """The run's main agent's ``usage`` (1,000 in, 90 out) fits within Sonnet's figures and
    Haiku's: it may have run on either, the other figures being its sub-agent's. Each was
    read as its main agent's, and the Haiku log passed (before: YES); a model is proven only
    when all the run's figures are of it."""
    own = {"input_tokens": 1_000, "output_tokens": 90}
    result = headless_phase(pytester, SONNET, HAIKU, own)
    assert_not_yes(pytester, result)
    result.stdout.fnmatch_lines(["*tickets.R01.execution_model: ticket R01 *" + UNSURE_WHY])


def test_a_headless_run_all_of_whose_figures_are_of_the_logged_model_passes(
    pytester: pytest.Pytester,
) -> None:
    """No over-correction: which of two Haiku versions the main agent ran on is not known,
    but both are Haiku 4.5 (the log's model)."""
    own = {"input_tokens": 1_000, "output_tokens": 90}
    assert_yes(pytester, headless_phase(pytester, HAIKU, "claude-haiku-4-5", own))


def test_a_review_runs_sub_agent_is_no_reviewer_of_its_stage(pytester: pytest.Pytester) -> None:
    """A headless review run of R01, named with ``stage: review``: its main agent ran on
    Sonnet, a sub-agent it spawned on Haiku; the review is logged on Haiku. The sub-agent's
    figures were the stage's, and the Haiku review passed (before: no error); the run's main
    agent is its reviewer, what it spawned its helpers."""
    ticket = _ticket(review={**REVIEWED, "model": "haiku"})
    result = headless_phase(pytester, SONNET, HAIKU, entry={"stage": "review"}, ticket=ticket)
    assert result.ret != 0, result.stdout.str()
    result.stdout.fnmatch_lines(
        ["*tickets.R01.review.model: ticket R01: its review stage is logged on 'haiku'*"]
    )


def test_a_sub_agent_the_log_maps_to_a_named_implementation_stage_is_its_implementer(
    pytester: pytest.Pytester,
) -> None:
    """No over-correction: a Sonnet worker session named with ``stage: implementation``
    spawned a Haiku sub-agent the log maps there (agents.agent_ids): it implemented R01,
    which is a Haiku ticket."""
    implementation = {**IMPLEMENTED, "agents": {"agent_ids": ["a1"]}}
    name = f"transcripts/projects/{PROJECT}/{WORKER}.jsonl"
    meta = {
        "phase": "w1",
        "tickets": ["R01"],
        "sessions": [{"path": name, "ticket": "R01", "stage": "implementation"}],
    }
    phase = Phase.of(
        "w1", [HAIKU_RATE], {"R01": _ticket(implementation=implementation)}, metadata=meta
    )
    phase.write(pytester.path)
    home = phase.transcripts(pytester.path)
    own = assistant("m_w", "q_w", session=WORKER, u=usage(inp=20_000, out=800), model=SONNET)
    helper = ("a1", "Write the parser", HAIKU, "general-purpose")
    lines = [user("Implement R01", session=WORKER), own]
    home.session([*lines, *home.spawns(WORKER, SONNET, [helper])], session=WORKER)
    assert_yes(pytester, run_phase(pytester, "w1"))

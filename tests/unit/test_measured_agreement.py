"""Which model a measured call may be of the model a log names, and which calls are a
ticket's implementer's (the core of the check that a ticket's logged model agrees with its
measured implementation calls): never a helper's."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_orchphase.usage.agreement import (
    implementation_models,
    implementer_may_be,
    same_model,
)
from pytest_orchphase.usage.attribution import (
    AGENT,
    HELPER,
    MAIN,
    SPAWNED,
    UNSURE,
    Measured,
    main_models,
    role_of,
)
from pytest_orchphase.usage.records import (
    AgentInfo,
    ApiCall,
    HeadlessResult,
    ModelUsage,
    Scan,
    agent_key,
)
from pytest_orchphase.usage.sources.headless.results import read_result_object


@pytest.mark.parametrize(
    ("call", "logged", "same"),
    [
        ("claude-haiku-4-5-20251001", "haiku", True),
        ("claude-haiku-4-5-20251001", "claude-haiku-4-5", True),
        ("claude-haiku-4-5-20251001", "Haiku 4.5", True),
        ("claude-3-5-haiku-20241022", "claude-3-5-haiku", True),
        ("claude-haiku-4-5-20251001", "claude-3-5-haiku", False),
        ("claude-sonnet-4-5-20250929", "haiku", False),
        ("claude-opus-4-6", "sonnet", False),
        ("claude-sonnet-4-5-20250929", "claude-sonnet-4-5", True),
    ],
)
def test_a_call_is_of_the_logged_model_by_family_and_version(
    call: str, logged: str, same: bool
) -> None:
    assert same_model(call, logged) is same


SONNET, HAIKU = "claude-sonnet-4-5-20250929", "claude-haiku-4-5-20251001"
OPUS = "claude-opus-4-6"


def _measured(**roles: set[str]) -> Measured:
    """R01's calls by ``<stage>__<role>`` (stage ``whole``: of no stage)."""
    out = Measured()
    for key, models in roles.items():
        stage, role = key.split("__")
        out.models_by_role[("R01", "" if stage == "whole" else stage, role)] = models
    return out


@pytest.mark.parametrize(
    ("roles", "models"),
    [
        # the implementation stage's calls, a helper's aside
        ({"implementation__agent": {SONNET}, "implementation__helper": {HAIKU}}, [SONNET]),
        ({"implementation__main": {HAIKU}, "whole__main": {SONNET}}, [HAIKU]),
        # else the ticket's sessions' own calls: a worker's sub-agents are its helpers
        ({"whole__main": {SONNET}, "whole__agent": {HAIKU}, "whole__helper": {HAIKU}}, [SONNET]),
        ({"whole__main": {SONNET}, "review__main": {HAIKU}}, [SONNET]),
        # else its sub-agents' outside its review
        ({"whole__agent": {HAIKU}, "review__agent": {SONNET}}, [HAIKU]),
        ({"fix__agent": {HAIKU, SONNET}}, [HAIKU, SONNET]),
        # a helper alone, or a review alone: no implementer measured
        ({"whole__helper": {HAIKU}}, []),
        ({"review__main": {SONNET}}, []),
    ],
)
def test_the_implementers_models_are_never_a_helpers(
    roles: dict[str, set[str]], models: list[str]
) -> None:
    assert implementation_models(_measured(**roles), "R01")[0] == models


def _call(agent: str | None, *, compaction: bool = False) -> ApiCall:
    return ApiCall("m", "q", SONNET, session_id="s1", agent_id=agent, compaction=compaction)


@pytest.mark.parametrize(
    ("call", "kind", "role"),
    [
        (_call(None), None, MAIN),
        (_call("acompact-1", compaction=True), None, MAIN),
        (_call("a1"), "Explore", HELPER),
        (_call("a1"), "Plan", HELPER),
        (_call("a1"), "general-purpose", AGENT),
        (_call("a1"), "explore", AGENT),  # a custom type, of any work
        (_call("a1"), None, AGENT),  # spawn not found: may be any
        (_call("a2"), "Explore", AGENT),  # another sub-agent's type
    ],
)
def test_who_made_a_call(call: ApiCall, kind: str | None, role: str) -> None:
    scan = Scan(agents={agent_key("s1", "a1"): AgentInfo("a1", subagent_type=kind)})
    assert role_of(call, scan, {}) == role


def _run(main_model: str | None = None, **usage: int) -> tuple[str, ...]:
    """The main agent's possible models of a run whose ``modelUsage`` lists Sonnet (20,000
    in, 800 out) and Haiku (2,000 in, 100 out), its main agent's ``usage`` as given."""

    def figures(inp: int, out: int) -> dict[str, int]:
        return {"inputTokens": inp, "outputTokens": out}

    run = {
        "type": "result",
        "usage": usage,
        "modelUsage": {SONNET: figures(20_000, 800), HAIKU: figures(2_000, 100)},
    }
    return read_result_object(run, Path("r.json"), main_model).main_models


@pytest.mark.parametrize(
    ("main_model", "usage", "models"),
    [
        (None, {"input_tokens": 20_000, "output_tokens": 800}, (SONNET,)),
        (None, {"input_tokens": 1_000, "output_tokens": 90}, (SONNET, HAIKU)),
        (HAIKU, {"input_tokens": 1_000, "output_tokens": 90}, (HAIKU,)),  # its init line's
        ("claude-opus-4-6", {"input_tokens": 1_000, "output_tokens": 90}, (SONNET, HAIKU)),
    ],
)
def test_the_models_a_headless_runs_main_agent_may_have_run_on(
    main_model: str | None, usage: dict[str, int], models: tuple[str, ...]
) -> None:
    assert _run(main_model, **usage) == models


@pytest.mark.parametrize(
    ("model", "main", "role"),
    [
        (SONNET, {SONNET}, MAIN),
        (HAIKU, {SONNET}, AGENT),  # a model the main agent did not run on: a sub-agent's
        (HAIKU, set(), UNSURE),  # not known: the main agent's or a sub-agent's
        (SONNET, set(), UNSURE),
    ],
)
def test_a_headless_runs_summed_figures_are_its_main_agents_on_its_model(
    model: str, main: set[str], role: str
) -> None:
    call = ApiCall("headless:s1", "", model, session_id="s1", aggregate=True)
    assert role_of(call, Scan(), {"s1": main}) == role


def test_the_main_agents_models_of_a_session() -> None:
    """Of its own messages; of a run, those it says, else the one model of its usage."""
    scan = Scan(
        calls=[
            ApiCall("m1", "q1", OPUS, session_id="s1"),
            ApiCall("m2", "q2", HAIKU, session_id="s1", agent_id="a1"),
            ApiCall("headless:s1", "", HAIKU, session_id="s1", aggregate=True),
        ]
    )
    one = HeadlessResult(Path("r2.json"), "s2", None, False, None, None, None)
    one.models = {HAIKU: ModelUsage(model=HAIKU)}
    two = HeadlessResult(Path("r3.json"), "s3", None, False, None, None, None)
    two.models = {HAIKU: ModelUsage(model=HAIKU), SONNET: ModelUsage(model=SONNET)}
    said = HeadlessResult(Path("r4.json"), "s4", None, False, None, None, None)
    said.models, said.main_models = dict(two.models), (SONNET,)
    both = HeadlessResult(Path("r5.json"), "s5", None, False, None, None, None)
    both.models, both.main_models = dict(two.models), (SONNET, HAIKU)  # says neither
    scan.headless = [one, two, said, both]
    assert main_models(scan) == {
        "s1": {OPUS},
        "s2": {HAIKU},
        "s3": set(),
        "s4": {SONNET},
        "s5": set(),
    }


def _roles(*entries: tuple[str, str, set[str]]) -> Measured:
    """R01's calls as (stage, role, models)."""
    out = Measured()
    for stage, role, models in entries:
        out.models_by_role[("R01", stage, role)] = models
    return out


@pytest.mark.parametrize(
    ("measured", "logged", "may"),
    [
        # a run whose main agent's model is not known: a model only if all its figures are
        (_roles(("", UNSURE, {SONNET, HAIKU})), "haiku", False),
        (_roles(("", UNSURE, {HAIKU})), "haiku", True),
        (_roles(("", MAIN, {HAIKU}), ("", UNSURE, {SONNET, HAIKU})), "haiku", True),
        (_roles(("implementation", UNSURE, {SONNET, HAIKU})), "haiku", False),
        # a session named with the implementation stage: its main agent is the implementer,
        # what it spawned (the log mapping none of it there) its helpers
        (
            _roles(("implementation", MAIN, {SONNET}), ("implementation", SPAWNED, {HAIKU})),
            "haiku",
            False,
        ),
        (
            _roles(("implementation", MAIN, {SONNET}), ("implementation", AGENT, {HAIKU})),
            "haiku",
            True,
        ),
        (_roles(("implementation", SPAWNED, {HAIKU})), "haiku", True),  # no call of its own
    ],
)
def test_the_implementer_is_proven_on_a_model_only_by_its_own_calls(
    measured: Measured, logged: str, may: bool
) -> None:
    assert implementer_may_be(measured, "R01", logged) is may

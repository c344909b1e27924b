"""What a phase's records say when they say less than they should: a headless run in a ledger
collected before it kept the main agent's models proves no model its sub-agent ran; a session
named for its implementation stage has the sub-agents it spawned as helpers; a response line
stamped with no time hides none of its later lines; an assistant line whose message is not an
object is a lost call. Each is refused, bounded or lost, never an exact figure and YES."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import (
    PROJECT,
    Phase,
    YamlData,
    assert_not_yes,
    assistant,
    flat_ticket,
    implementation_only_ticket,
    result_object,
    run_phase,
    usage,
    user,
)
from tests.plugin.test_implementer_model import (
    HAIKU,
    HAIKU_RATE,
    SONNET,
    WORKER,
    _figures,
    _ticket,
)

#: A usage ledger as `orchphase collect` wrote it before today (format 1): its file record
#: has no ``call_ends``, its headless record no ``main_models``. The run's main agent ran on
#: Sonnet (20,000 in, 800 out), a sub-agent on Haiku (2,000 in, 100 out).
OLD_LEDGER = [
    {"orchphase_ledger": 1, "orchphase": "0.9.0", "phase": "w1"},
    {
        "kind": "file",
        "name": "r01.json",
        "source": "headless",
        "bytes": 625,
        "sha256": "89156b5d323339fb31b4dcf11858ac6b7393c1a01e9abfbc6e5e8ebb3b25e80b",
        "intact": 1,
        "tickets": ["R01"],
    },
    {
        "kind": "headless",
        "session": "e382184a-1111-2222-3333-444455556666",
        "subtype": "success",
        "num_turns": 6,
        "duration_ms": 41230,
        "total_cost_usd": 0.03163195,
        "models": {
            SONNET: {"input_tokens": 20_000, "output_tokens": 800, "cost_usd": 0.01},
            HAIKU: {"input_tokens": 2_000, "output_tokens": 100, "cost_usd": 0.01},
        },
    },
]


def test_an_old_ledgers_headless_run_on_sonnet_is_no_haiku_success(
    pytester: pytest.Pytester,
) -> None:
    """The same run as test_implementer_model's headless_phase(SONNET, HAIKU), which the raw
    result refuses (R01 logged on Haiku, its main agent on Sonnet), read from the ledger
    collected from it before today: the implementer's model check finds no main agent's
    model and takes the sub-agents' tier, where Haiku is."""
    phase = Phase.of(
        "w1",
        [HAIKU_RATE],
        {"R01": _ticket()},
        metadata={
            "phase": "w1",
            "tickets": ["R01"],
            "sessions": [{"path": "usage.jsonl", "ticket": "R01"}],
        },
    )
    folder = phase.write(pytester.path)
    text = "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in OLD_LEDGER)
    (folder / "usage.jsonl").write_text(text)
    result = run_phase(pytester, "w1")
    if (pytester.path / "r.json").exists():
        assert_not_yes(pytester, result)
    else:
        assert result.ret != 0, result.stdout.str()


def _implementer_on_sonnet(pytester: pytest.Pytester, source: str, stage: str | None) -> Path:
    """Phase w1 of one ticket R01 logged on Haiku, measured from one source given to R01
    (with ``stage`` when given) whose main agent ran on Sonnet (20,000 in, 800 out) beside a
    sub-agent on Haiku (2,000 in, 100 out): a `claude -p --output-format json` result whose
    ``modelUsage`` lists both, or a worker session that spawned a general-purpose sub-agent."""
    name = "r01.json" if source == "headless" else f"transcripts/projects/{PROJECT}/{WORKER}.jsonl"
    entry: YamlData = {"path": name, "ticket": "R01"}
    if stage is not None:
        entry["stage"] = stage
    meta = {"phase": "w1", "tickets": ["R01"], "sessions": [entry]}
    phase = Phase.of("w1", [HAIKU_RATE], {"R01": _ticket()}, metadata=meta)
    folder = phase.write(pytester.path)
    if source == "headless":
        run = result_object(
            usage={"input_tokens": 20_000, "output_tokens": 800},
            modelUsage={SONNET: _figures(20_000, 800), HAIKU: _figures(2_000, 100)},
        )
        (folder / name).write_text(json.dumps(run))
    else:
        home = phase.transcripts(pytester.path)
        own = assistant("m_w", "q_w", session=WORKER, u=usage(inp=20_000, out=800), model=SONNET)
        helper = ("a1", "Write the parser tests", HAIKU, "general-purpose")
        lines = [user("Implement R01", session=WORKER), own]
        home.session([*lines, *home.spawns(WORKER, SONNET, [helper])], session=WORKER)
    return folder


@pytest.mark.parametrize("source", ["headless", "transcript"])
def test_naming_the_implementation_stage_keeps_a_sonnet_implementer_from_a_haiku_log(
    pytester: pytest.Pytester, source: str
) -> None:
    """Without ``stage:`` the run (or worker session) is refused: its own calls ran on
    Sonnet and its sub-agent's Haiku is a helper's (checked by hand: exit 1, NO, the
    implementer's calls "are claude-sonnet-4-5…"; test_implementer_model's headless case).
    Naming the same
    source with ``stage: implementation``, as the README advises for precision, makes every
    call of it, its sub-agent's (or modelUsage's Haiku beyond the run's messages) too, the
    implementer's: the Haiku log passes and R01 counts as a Haiku success."""
    _implementer_on_sonnet(pytester, source, "implementation")
    result = run_phase(pytester, "w1")
    if (pytester.path / "r.json").exists():
        assert_not_yes(pytester, result)
    else:
        assert result.ret != 0, result.stdout.str()


def test_a_damaged_stamp_on_a_responses_last_line_hides_its_later_lines(
    pytester: pytest.Pytester,
) -> None:
    """Shared planning stamped 14:00-14:10, R01's implementation 14:10-14:20, under a 30
    minute cap. The lead's one response has lines at 14:02 and 14:45, then its final line,
    whose ``timestamp`` is damaged: the call ran at least until 14:45 (without the damaged
    line: 45 min, NO). Its last line's time is the largest text, not the latest time."""
    planning = {
        "model": "opus",
        "start_time": "2026-02-12T14:00:00Z",
        "end_time": "2026-02-12T14:10:00Z",
    }
    ticket = implementation_only_ticket("2026-02-12T14:10:00Z", "2026-02-12T14:20:00Z")
    cap = {"id": "time", "metric": "wall_time_minutes", "max": 30}
    phase = Phase.of("w1", [cap], {"R01": ticket}, planning=planning)
    phase.write(pytester.path)
    early, late = "2026-02-12T14:02:00.000Z", "2026-02-12T14:45:00.000Z"
    lines = [
        user("Plan the batch"),
        assistant("m1", "q1", u=usage(inp=10, out=1), final=False, ts=early),
        assistant("m1", "q1", u=usage(inp=10, out=1), final=False, ts=late),
        assistant("m1", "q1", u=usage(inp=10, out=300), ts="not a time"),
    ]
    phase.transcripts(pytester.path).session(lines)
    assert_not_yes(pytester, run_phase(pytester, "w1"))


@pytest.mark.parametrize("message", [None, "[redacted]", "absent"])
def test_an_assistant_line_of_no_message_object_is_a_lost_call(
    pytester: pytest.Pytester, message: str | None
) -> None:
    """R01's worker session: a response of 20,800 tokens, then one of 40,500 whose line is
    damaged. With ``message.usage: null`` the round-10 fix makes the figure "at least 20,800"
    and the cap fails (NO); the same line whose whole ``message`` is damaged is no line at
    all to the reader, and R01 passes its cap."""
    cap = {"id": "cap", "for_each": "ticket", "metric": "tokens", "measure": "total", "max": "50k"}
    ticket = flat_ticket()
    del ticket["actual_tokens"]
    phase = Phase.of("w1", [cap], {"R01": ticket})
    phase.write(pytester.path)
    damaged = assistant("m2", "q2", session=WORKER, u=usage(inp=40_000, out=500))
    if message == "absent":
        del damaged["message"]
    else:
        damaged["message"] = message
    own = assistant("m1", "q1", session=WORKER, u=usage(inp=20_000, out=800), model=SONNET)
    lines = [user("Implement R01", session=WORKER), own, damaged]
    phase.transcripts(pytester.path).session(lines, session=WORKER)
    assert_not_yes(pytester, run_phase(pytester, "w1"))

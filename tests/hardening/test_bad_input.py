"""Bad input, through real pytest runs: a clean error that names file, line or field and what was
expected; never a traceback from the plugin, never a pass, never a hang, nothing written.

Each case edits a fresh copy of the shipped criteria and data (the ``project`` fixture), runs
``pytest --phase a1`` and checks the exit status, one output line naming the place and the
expectation, and that the project's files are exactly as they were before the run.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.hardening.snapshot import tree
from tests.helpers import A1_LOG, REPO

CRITERIA = "criteria/a1.yaml"
BASELINES = "criteria/baselines.yaml"
DATA = "docs/orchestration-data/phase-a1-r03-r06"
META = f"{DATA}/metadata.yaml"
LOG = A1_LOG
PRICES = "prices.yaml"

COLLECTION = 2  # a file is invalid: a collection error
USAGE = 4  # the command line or the phase graph asks for the impossible
DATA_FACT = 1  # the data names something that cannot be read at run time: the items fail

Setup = Callable[[Path], None]


# -- building bad projects -----------------------------------------------------------------


def edit(relpath: str, old: str, new: str) -> Setup:
    def run(root: Path) -> None:
        path = root / relpath
        text = path.read_text()
        assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {relpath}"
        path.write_text(text.replace(old, new))

    return run


def write(relpath: str, content: str | bytes) -> Setup:
    def run(root: Path) -> None:
        path = root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)

    return run


def replace_with_folder(relpath: str) -> Setup:
    def run(root: Path) -> None:
        (root / relpath).unlink()
        (root / relpath).mkdir()

    return run


def remove(relpath: str) -> Setup:
    return lambda root: (root / relpath).unlink()


def steps(*setups: Setup) -> Setup:
    def run(root: Path) -> None:
        for setup in setups:
            setup(root)

    return run


def session(entry: str, *setups: Setup) -> Setup:
    """metadata.yaml names one session (a flow mapping or an id), plus the files it needs."""
    return steps(
        edit(META, "tickets: [R03, R06]\n", f"tickets: [R03, R06]\nsessions:\n  - {entry}\n"),
        *setups,
    )


def alias_bomb(key: str) -> str:
    lines = [f'{key}: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 9):
        prev, cur = chr(96 + i), chr(97 + i)
        lines.append(f"x{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def usage_line(**usage: object) -> bytes:
    """One assistant line in Claude Code's format, with the given ``usage``."""
    line = {
        "type": "assistant",
        "sessionId": "s-1",
        "requestId": "req_1",
        "timestamp": "2026-02-07T10:05:00Z",
        "message": {"id": "msg_1", "model": "claude-sonnet-4-5-20250929", "usage": usage},
    }
    return json.dumps(line).encode() + b"\n"


def fifo(relpath: str) -> Setup:
    """A named pipe at ``relpath``, in place of the file there if there is one."""

    def run(root: Path) -> None:
        (root / relpath).unlink(missing_ok=True)
        os.mkfifo(root / relpath)

    return run


def symlink(relpath: str, target: str) -> Setup:
    def run(root: Path) -> None:
        (root / relpath).parent.mkdir(parents=True, exist_ok=True)
        (root / relpath).symlink_to(target)

    return run


def big_line(relpath: str, size: int) -> Setup:
    """One line of ``size`` bytes that looks like the start of a usage line, never closed."""

    def run(root: Path) -> None:
        with (root / relpath).open("wb") as fh:
            fh.write(b'{"type":"assistant","message":{"usage":{"input_tokens":1},"text":"')
            chunk = b"x" * (1 << 20)
            for _ in range(size // len(chunk)):
                fh.write(chunk)

    return run


# -- the corpus ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """A bad input and the error it must give: ``file`` (relative) at the line of ``at`` (the
    first line of the file, after the edit, that starts with it; a number is the line itself;
    None: the error is about the whole file), then ``field``, then ``says`` on the same line."""

    id: str
    setup: Setup
    ret: int
    file: str
    at: str | int | None
    field: str | None
    says: str
    args: tuple[str, ...] = ()
    #: Run pytest in a child process: a crash there fails this test instead of ending the run.
    subprocess: bool = False
    #: Why this case does not hold yet (a strict xfail: it fails the day it starts to hold).
    xfail: str = ""


def case(
    id: str,
    setup: Setup,
    ret: int,
    file: str,
    at: str | int | None,
    field: str | None,
    says: str,
    *args: str,
    subprocess: bool = False,
    xfail: str = "",
) -> Case:
    return Case(id, setup, ret, file, at, field, says, args, subprocess, xfail)


def in_session(
    id: str, entry: str, *setups: Setup, field: str = "sessions[0]", says: str = ""
) -> Case:
    """metadata.yaml names ``entry`` as its session; the items fail at that entry's line."""
    says = says or "; expected Claude Code transcript lines (a JSON object each) or a headless"
    return case(id, session(entry, *setups), DATA_FACT, META, "  - {", field, says)


RUN = "{path: run.json, ticket: R03}"
SHIPPED_LOG = (REPO / LOG).read_bytes()
MEASURED = session("{path: s.jsonl}", write(f"{DATA}/s.jsonl", usage_line(input_tokens=5)))
P = ("--orchphase-prices", PRICES)
FULL_RATES = "    output: 1\n    cache_write_5m: 1\n    cache_write_1h: 1\n    cache_read: 1\n"
RESULT = json.dumps(
    {
        "type": "result",
        "modelUsage": {"claude-sonnet-4-5": {"inputTokens": -5, "outputTokens": "9k"}},
    }
)
#: A phase of its own beside a1 (its requires filled in), that a1 does not depend on.
OTHER_PHASE = (
    "phase: {name}\ndata: phase-a1-r03-r06\nrequires: [{requires}]\ncriteria:\n"
    "  - {{id: time, metric: wall_time_minutes, below: 30}}\n"
)
TITLE = 'title: "A1 conservative: two-ticket batch (R03 + R06), Sonnet planning and execution"'

CASES = [
    # criteria/a1.yaml
    case(
        "criteria: YAML syntax error",
        edit(CRITERIA, TITLE, "title: A1 conservative: two-ticket batch"),
        COLLECTION,
        CRITERIA,
        "title:",
        None,
        "mapping values are not allowed",
    ),
    case(
        "criteria: unclosed flow sequence",
        edit(CRITERIA, "requires: []", "requires: [a0"),
        COLLECTION,
        CRITERIA,
        None,
        None,
        "did not find expected ',' or ']'",
    ),
    case(
        "criteria: tab indentation",
        edit(CRITERIA, "    metric: wall_time_minutes", "\tmetric: wall_time_minutes"),
        COLLECTION,
        CRITERIA,
        "\tmetric",
        None,
        "tab character that violates indentation",
    ),
    case(
        "criteria: two documents",
        edit(CRITERIA, "phase: a1\n", "phase: a1\n---\nphase: a1\n"),
        COLLECTION,
        CRITERIA,
        "---",
        None,
        "expected a single document",
    ),
    case(
        "criteria: python tag is not run",
        edit(CRITERIA, "requires: []", 'requires: !!python/object/apply:os.system ["touch x"]'),
        COLLECTION,
        CRITERIA,
        "requires:",
        "requires",
        "expected plain YAML data",
    ),
    case(
        "criteria: wrong type",
        edit(CRITERIA, "requires: []", "requires: 7"),
        COLLECTION,
        CRITERIA,
        "requires:",
        "requires",
        "Input should be a valid list, got 7",
    ),
    case(
        "criteria: unknown key",
        edit(CRITERIA, "requires: []", "requires: []\nnext_phse: a2"),
        COLLECTION,
        CRITERIA,
        "next_phse",
        "next_phse",
        "did you mean 'next_phase'?",
    ),
    case(
        "criteria: missing required field",
        edit(CRITERIA, "data: phase-a1-r03-r06\n", ""),
        COLLECTION,
        CRITERIA,
        "phase:",
        "data",
        "missing required key 'data'",
    ),
    case(
        "criteria: duplicate key",
        edit(
            CRITERIA,
            "    metric: wall_time_minutes\n",
            "    metric: wall_time_minutes\n    metric: x\n",
        ),
        COLLECTION,
        CRITERIA,
        "    metric: x",
        "criteria[2].metric",
        "duplicate key 'metric' (first at",
    ),
    case(
        "criteria: duplicate criterion id",
        edit(CRITERIA, "  - id: time\n", "  - id: quality\n"),
        COLLECTION,
        CRITERIA,
        "criteria:",
        "criteria",
        "criterion id 'quality' is used twice",
    ),
    case(
        "criteria: unfilled placeholder",
        edit(CRITERIA, "    below: 30\n", "    below: ${MINUTES}\n"),
        COLLECTION,
        CRITERIA,
        "    below: $",
        "criteria[2].below",
        "expected the limit (a number like 40000",
    ),
    case(
        "criteria: unknown metric",
        edit(CRITERIA, "      - metric: review_attempts", "      - metric: review_atempts"),
        COLLECTION,
        CRITERIA,
        "      - metric: review_atempts",
        "criteria[1].all[1].metric",
        "did you mean 'review_attempts'?",
    ),
    case(
        "criteria: ticket metric without for_each",
        edit(CRITERIA, "    metric: wall_time_minutes", "    metric: review_attempts"),
        COLLECTION,
        CRITERIA,
        "    metric: review_attempts",
        "criteria[2].metric",
        "is a ticket metric (add `for_each: ticket`)",
    ),
    case(
        "criteria: unknown phase in requires",
        edit(CRITERIA, "requires: []", "requires: [a0]"),
        COLLECTION,
        CRITERIA,
        "requires:",
        "requires[0]",
        "unknown phase 'a0'; known phases: a1",
    ),
    case(
        "criteria: cycle in requires",
        edit(CRITERIA, "requires: []", "requires: [a1]"),
        USAGE,
        CRITERIA,
        "requires:",
        "requires[0]",
        "a cycle: a1 -> a1; expected",
    ),
    case(
        "criteria: cycle in another phase's file",
        steps(
            write("criteria/x1.yaml", OTHER_PHASE.format(name="x1", requires="x2")),
            write("criteria/x2.yaml", OTHER_PHASE.format(name="x2", requires="x1")),
        ),
        USAGE,
        "criteria/x2.yaml",
        "requires:",
        "requires[0]",
        "a cycle: x1 -> x2 -> x1; expected",
    ),
    case(
        "criteria: phase does not match the file name",
        edit(CRITERIA, "phase: a1\n", "phase: a2\n"),
        COLLECTION,
        CRITERIA,
        "phase:",
        "phase",
        "does not match the file name; expected 'a1'",
    ),
    case(
        "criteria: empty file",
        write(CRITERIA, ""),
        COLLECTION,
        CRITERIA,
        1,
        None,
        "is empty; expected a mapping",
    ),
    case(
        "criteria: a list instead of a mapping",
        write(CRITERIA, "- phase: a1\n"),
        COLLECTION,
        CRITERIA,
        1,
        None,
        "expected a mapping of keys (CriteriaFile), got list",
    ),
    case(
        "criteria: binary garbage",
        write(CRITERIA, b"phase: a1\n\x00\x01\x02\xff\xfe"),
        COLLECTION,
        CRITERIA,
        2,
        None,
        "binary content (NUL byte at byte 10); expected a YAML",
    ),
    case(
        "criteria: invalid UTF-8",
        write(CRITERIA, b"phase: a1\ntitle: caf\xe9\n"),
        COLLECTION,
        CRITERIA,
        2,
        None,
        "invalid UTF-8 at byte 20; expected a UTF-8 text file",
    ),
    case(
        "criteria: a folder where the file belongs",
        replace_with_folder(CRITERIA),
        USAGE,
        CRITERIA,
        None,
        None,
        "is a directory; expected the phase's YAML criteria file",
    ),
    case(
        "criteria: a named pipe where the file belongs",
        fifo(CRITERIA),
        USAGE,
        CRITERIA,
        None,
        None,
        "not a regular file (a named pipe or a device); expected the phase's YAML criteria file",
    ),
    case(
        "criteria: alias bomb",
        write(CRITERIA, "phase: a1\ndata: phase-a1-r03-r06\n" + alias_bomb("title")),
        COLLECTION,
        CRITERIA,
        None,
        None,
        "expands to more than 200,000 values through its aliases (an alias bomb?); expected",
    ),
    case(
        "criteria: too many values, no alias",
        write(CRITERIA, "phase: a1\ndata: phase-a1-r03-r06\ntitle: [" + "1," * 250_000 + "]\n"),
        COLLECTION,
        CRITERIA,
        None,
        None,
        "document holds more than 200,000 values (the limit of a data file); expected",
    ),
    case(
        "criteria: oversized",
        write(CRITERIA, "phase: a1\n" + "# padding\n" * 600_000),
        COLLECTION,
        CRITERIA,
        None,
        None,
        "is expected to be under 5,242,880",
    ),
    case(
        "criteria: brackets nested a hundred thousand deep",
        write(CRITERIA, "phase: a1\ntitle: " + "[" * 100_000 + "\n"),
        COLLECTION,
        CRITERIA,
        "title:",
        None,
        "YAML nesting is too deep (over 1,000 levels); expected a plain data file",
        subprocess=True,
    ),
    case(
        "criteria: block lists nested a hundred thousand deep",
        write(CRITERIA, "phase: a1\ntitle:\n  " + "- " * 100_000 + "x\n"),
        COLLECTION,
        CRITERIA,
        "  - - -",
        None,
        "YAML nesting is too deep (over 1,000 levels); expected a plain data file",
        subprocess=True,
    ),
    case(
        "criteria: two operators",
        edit(CRITERIA, "    below: 30\n", "    below: 30\n    max: 40\n"),
        COLLECTION,
        CRITERIA,
        "  - id: time",
        "criteria[2]",
        "needs exactly one operator",
    ),
    case(
        "criteria: limit of the wrong kind",
        edit(CRITERIA, "    below: 30\n", "    below: thirty\n"),
        COLLECTION,
        CRITERIA,
        "    below: thirty",
        "criteria[2].below",
        "expected a number",
    ),
    case(
        "criteria: negative token limit",
        edit(CRITERIA, "    below: 40k\n", "    below: -40k\n"),
        COLLECTION,
        CRITERIA,
        "    below: -40k",
        "criteria[0].below",
        "expected a token count",
    ),
    case(
        "criteria: a token limit too large for a float",
        edit(CRITERIA, "    below: 40k\n", "    below: " + "9" * 400 + "k\n"),
        COLLECTION,
        CRITERIA,
        "    below: 999",
        "criteria[0].below",
        "is too large; expected at most 9,007,199,254,740,991",
    ),
    case(
        "criteria: an infinite limit",
        edit(CRITERIA, "    below: 30\n", "    below: .inf\n"),
        COLLECTION,
        CRITERIA,
        "    below: .inf",
        "criteria[2].below",
        ".inf is not a finite number; expected a figure",
    ),
    case(
        "criteria: unknown baseline",
        edit(CRITERIA, "    baseline: v2\n", "    baseline: v3\n"),
        COLLECTION,
        CRITERIA,
        "    baseline: v3",
        "criteria[3].baseline",
        "unknown baseline 'v3'",
    ),
    case(
        "criteria: parameter missing",
        edit(CRITERIA, "    measure: total\n    min: 60%", "    min: 60%"),
        COLLECTION,
        CRITERIA,
        "  - id: savings-vs-v2",
        "criteria[3]",
        "needs `measure:` (one of",
    ),
    case(
        "criteria: no criteria",
        write(CRITERIA, "phase: a1\ndata: phase-a1-r03-r06\ncriteria: []\n"),
        COLLECTION,
        CRITERIA,
        "criteria:",
        "criteria",
        "List should have at least 1 item",
    ),
    case(
        "criteria: data folder missing",
        edit(CRITERIA, "data: phase-a1-r03-r06", "data: phase-a1-typo"),
        COLLECTION,
        CRITERIA,
        "data:",
        "data",
        "expected a folder holding metadata.yaml",
    ),
    case(
        "criteria: data folder name with a NUL",
        edit(CRITERIA, "data: phase-a1-r03-r06", 'data: "phase\\0a1"'),
        COLLECTION,
        CRITERIA,
        "data:",
        "data",
        "embedded null",  # "byte" up to Python 3.12, "character in path" on 3.13
    ),
    case(
        "criteria: data folder name too long",
        edit(CRITERIA, "data: phase-a1-r03-r06", "data: " + "x" * 5000),
        COLLECTION,
        CRITERIA,
        "data:",
        "data",
        "(File name too long); expected a folder",
    ),
    case(
        "criteria: data folder is a symbolic link loop",
        steps(
            symlink("docs/orchestration-data/loop", "loop"),
            edit(CRITERIA, "data: phase-a1-r03-r06", "data: loop"),
        ),
        COLLECTION,
        CRITERIA,
        "data:",
        "data",
        "(Too many levels of symbolic links); expected a folder",
    ),
    case(
        "criteria: where without for_each",
        edit(
            CRITERIA,
            "    metric: wall_time_minutes",
            "    where: {tickets: [R03]}\n    metric: wall_time_minutes",
        ),
        COLLECTION,
        CRITERIA,
        "  - id: time",
        "criteria[2]",
        "it needs `for_each: ticket`",
    ),
    # criteria/baselines.yaml
    case(
        "baselines: negative tokens",
        edit(BASELINES, "tokens_per_ticket: 121000", "tokens_per_ticket: -121000"),
        COLLECTION,
        BASELINES,
        "    tokens_per_ticket: -",
        "baselines.v2.tokens_per_ticket",
        "a token count cannot be negative",
    ),
    case(
        "baselines: duplicate baseline",
        edit(BASELINES, "  single_agent:\n", "  v2:  # again\n"),
        COLLECTION,
        BASELINES,
        "  v2:  # again",
        "baselines.v2",
        "duplicate key 'v2' (first at",
    ),
    case(
        "baselines: an infinite price",
        edit(BASELINES, "ticket: 30000\n", "ticket: 30000\n    usd_per_ticket: .inf\n"),
        COLLECTION,
        BASELINES,
        "    usd_per_ticket",
        "baselines.single_agent.usd_per_ticket",
        ".inf is not a finite number",
    ),
    # metadata.yaml
    case(
        "metadata: missing tickets",
        edit(META, "tickets: [R03, R06]\n", ""),
        COLLECTION,
        META,
        "phase:",
        "tickets",
        "missing required key 'tickets'",
    ),
    case(
        "metadata: duplicate ticket id",
        edit(META, "tickets: [R03, R06]", "tickets: [R03, R06, R03]"),
        COLLECTION,
        META,
        "tickets:",
        "tickets",
        "ticket 'R03' is listed twice",
    ),
    case(
        "metadata: duplicate key",
        edit(META, "tickets: [R03, R06]\n", "tickets: [R03, R06]\ntickets: [R03]  # again\n"),
        COLLECTION,
        META,
        "tickets: [R03]  # again",
        "tickets",
        "duplicate key 'tickets' (first at",
    ),
    case(
        "metadata: words where a number belongs",
        edit(META, "expected_tokens: 56000", "expected_tokens: about 56k"),
        COLLECTION,
        META,
        "expected_tokens:",
        "expected_tokens",
        "put notes in a YAML comment",
    ),
    case(
        "metadata: ticket without a log entry",
        edit(META, "tickets: [R03, R06]", "tickets: [R03, R06, R07]"),
        COLLECTION,
        LOG,
        "tickets:",
        "tickets",
        "no entry for ticket(s) R07",
    ),
    case(
        "metadata: empty file",
        write(META, ""),
        COLLECTION,
        META,
        1,
        None,
        "is empty; expected a mapping",
    ),
    case(
        "metadata: a folder where the file belongs",
        replace_with_folder(META),
        COLLECTION,
        META,
        None,
        None,
        "is a directory; expected a YAML file",
    ),
    case(
        "metadata: missing file",
        remove(META),
        COLLECTION,
        META,
        None,
        None,
        "file not found; expected a YAML file",
    ),
    case(
        "metadata: session with both id and path",
        session("{session: abc, path: s.jsonl}"),
        COLLECTION,
        META,
        "  - {session",
        "sessions[0]",
        "give exactly one of `session`",
    ),
    # execution-log.yaml
    case(
        "log: negative tokens",
        edit(LOG, "actual_tokens: 13400", "actual_tokens: -13400"),
        COLLECTION,
        LOG,
        "      actual_tokens: -",
        "tickets.R06.implementation.actual_tokens",
        "a token count cannot be negative",
    ),
    case(
        "log: fractional tokens",
        edit(LOG, "actual_tokens: 13400", "actual_tokens: 13400.5"),
        COLLECTION,
        LOG,
        "      actual_tokens: 13400.5",
        "tickets.R06.implementation.actual_tokens",
        "write whole tokens (43000 or '43k'), not a decimal",
    ),
    case(
        "log: an integer past Python's 4,300-digit limit",
        edit(LOG, "actual_tokens: 13400", "actual_tokens: " + "9" * 5000),
        COLLECTION,
        LOG,
        "      actual_tokens: 999",
        "tickets.R06.implementation.actual_tokens",
        "99999999…9999 (5,000 characters) is too large; expected a number of at most",
    ),
    case(
        "log: an integer too large for a float",
        edit(LOG, "actual_tokens: 13400", "actual_tokens: 1" + "0" * 400),
        COLLECTION,
        LOG,
        "      actual_tokens: 1000",
        "tickets.R06.implementation.actual_tokens",
        "is too large; expected a number of at most 9,007,199,254,740,991",
    ),
    case(
        "log: an integer past what JSON readers keep exact",
        edit(LOG, "actual_tokens: 13400", "actual_tokens: 9007199254740993"),
        COLLECTION,
        LOG,
        "      actual_tokens: 9007199254740993",
        "tickets.R06.implementation.actual_tokens",
        "9007199254740993 is too large",
    ),
    case(
        "log: yes as a token count",
        edit(LOG, "actual_tokens: 4600", "actual_tokens: yes"),
        COLLECTION,
        LOG,
        "      actual_tokens: yes",
        "tickets.R06.monitoring.actual_tokens",
        "yes is read by YAML 1.1 as the boolean true; write true or false for a yes/no field",
    ),
    case(
        "log: duplicate ticket",
        edit(LOG, "  R06:\n    complexity: nuanced", "  R03:  # again\n    complexity: nuanced"),
        COLLECTION,
        LOG,
        "  R03:  # again",
        "tickets.R03",
        "duplicate key 'R03' (first at",
    ),
    case(
        "log: stage name as a ticket id",
        edit(LOG, "  R06:\n    complexity: nuanced", "  review:\n    complexity: nuanced"),
        COLLECTION,
        LOG,
        "tickets:",
        "tickets",
        "review is a stage, not a ticket id",
    ),
    case(
        "log: timestamp without a timezone",
        edit(LOG, 'start_time: "2026-02-07T10:00:00Z"', 'start_time: "2026-02-07T10:00:00"'),
        COLLECTION,
        LOG,
        '  start_time: "2026-02-07T10:00:00"',
        "shared_planning.start_time",
        "Input should have timezone info",
    ),
    case(
        "log: end before start",
        edit(LOG, 'end_time: "2026-02-07T10:03:00Z"', 'end_time: "2026-02-07T09:03:00Z"'),
        COLLECTION,
        LOG,
        "shared_planning:",
        "shared_planning",
        "end_time is before start_time",
    ),
    case(
        "log: unknown status",
        edit(
            LOG,
            "status: completed\n      verification: passed\n    implementation:",
            "status: done\n      verification: passed\n    implementation:",
        ),
        COLLECTION,
        LOG,
        "      status: done",
        "tickets.R03.branch_creation.status",
        "Input should be 'completed'",
    ),
    case(
        "log: negative fix loops",
        edit(LOG, "fix_loops: 0", "fix_loops: -1"),
        COLLECTION,
        LOG,
        "      fix_loops: -1",
        "tickets.R03.implementation.fix_loops",
        "greater than or equal to 0",
    ),
    # YAML 1.1 reads these differently from what the person typed: each an error, never a value
    case(
        "log: octal tokens (023400 would be 9,984)",
        edit(LOG, "actual_tokens: 13400", "actual_tokens: 023400"),
        COLLECTION,
        LOG,
        "      actual_tokens: 023400",
        "tickets.R06.implementation.actual_tokens",
        "023400 is read by YAML as 9,984 (a number in base 8)",
    ),
    case(
        "criteria: hexadecimal limit",
        edit(CRITERIA, "    below: 40k\n", "    below: 0x9C40\n"),
        COLLECTION,
        CRITERIA,
        "    below: 0x9C40",
        "criteria[0].below",
        "0x9C40 is read by YAML as 40,000 (a number in base 16)",
    ),
    case(
        "criteria: binary limit",
        edit(CRITERIA, "    below: 30\n", "    below: 0b11110\n"),
        COLLECTION,
        CRITERIA,
        "    below: 0b11110",
        "criteria[2].below",
        "(a number in base 2)",
    ),
    case(
        "criteria: sexagesimal minutes (1:30 would be 90)",
        edit(CRITERIA, "    below: 30\n", "    below: 1:30\n"),
        COLLECTION,
        CRITERIA,
        "    below: 1:30",
        "criteria[2].below",
        "1:30 is read by YAML as 90 (a number in base 60)",
    ),
    case(
        "baselines: octal tokens per ticket",
        edit(BASELINES, "tokens_per_ticket: 30000", "tokens_per_ticket: 030000"),
        COLLECTION,
        BASELINES,
        "    tokens_per_ticket: 030000",
        "baselines.single_agent.tokens_per_ticket",
        "(a number in base 8)",
    ),
    case(
        "log: yes as fix loops",
        edit(LOG, "fix_loops: 0", "fix_loops: yes"),
        COLLECTION,
        LOG,
        "      fix_loops: yes",
        "tickets.R03.implementation.fix_loops",
        "yes is read by YAML 1.1 as the boolean true",
    ),
    case(
        "log: on as review attempts",
        edit(LOG, "attempts: 2", "attempts: on"),
        COLLECTION,
        LOG,
        "      attempts: on",
        "tickets.R06.review.attempts",
        "on is read by YAML 1.1 as the boolean true",
    ),
    case(
        "log: true as fix loops",
        edit(LOG, "fix_loops: 0", "fix_loops: true"),
        COLLECTION,
        LOG,
        "      fix_loops: true",
        "tickets.R03.implementation.fix_loops",
        "Input should be a valid integer",
    ),
    case(
        "log: 1.0 as review attempts",
        edit(LOG, "attempts: 2", "attempts: 2.0"),
        COLLECTION,
        LOG,
        "      attempts: 2.0",
        "tickets.R06.review.attempts",
        "Input should be a valid integer",
    ),
    case(
        "criteria: .nan limit",
        edit(CRITERIA, "    below: 30\n", "    below: .nan\n"),
        COLLECTION,
        CRITERIA,
        "    below: .nan",
        "criteria[2].below",
        ".nan is not a finite number",
    ),
    case(
        "criteria: .inf limit",
        edit(CRITERIA, "    below: 40k\n", "    below: .inf\n"),
        COLLECTION,
        CRITERIA,
        "    below: .inf",
        "criteria[0].below",
        ".inf is not a finite number",
    ),
    case(
        "criteria: octal key",
        edit(CRITERIA, "  - id: time\n", "  - id: time\n    0100: x\n"),
        COLLECTION,
        CRITERIA,
        "    0100: x",
        "criteria[2]",
        "0100 is read by YAML as 64",
    ),
    case(
        "log: regex that does not compile",
        edit(
            LOG,
            "      fix_loops: 0\n",
            "      fix_loops: 0\n      agents: {description_pattern: '(R0'}\n",
        ),
        COLLECTION,
        LOG,
        "      agents:",
        "tickets.R03.implementation.agents.description_pattern",
        "not a valid regular expression",
    ),
    case(
        "log: regex that needs backtracking",
        edit(
            LOG,
            "      fix_loops: 0\n",
            "      fix_loops: 0\n      agents: {description_pattern: '(R0\\d) \\1'}\n",
        ),
        COLLECTION,
        LOG,
        "      agents:",
        "tickets.R03.implementation.agents.description_pattern",
        "uses a backreference, which cannot be matched without backtracking",
    ),
    case(
        "log: invalid UTF-8",
        write(LOG, SHIPPED_LOG.replace(b"Analyze both", b"Analyze b\xf6th")),
        COLLECTION,
        LOG,
        SHIPPED_LOG[: SHIPPED_LOG.index(b"Analyze both")].count(b"\n") + 1,
        None,
        "expected a UTF-8 text file",
    ),
    # --orchphase-prices FILE
    case(
        "prices: missing file",
        steps(),
        USAGE,
        PRICES,
        None,
        None,
        "price file not found; expected a YAML price file",
        *P,
    ),
    case(
        "prices: a symbolic link loop",
        symlink(PRICES, PRICES),
        USAGE,
        PRICES,
        None,
        None,
        "price file not found; expected a YAML price file",
        "--orchphase-prices=" + PRICES,
    ),
    case(
        "prices: a named pipe",
        fifo(PRICES),
        USAGE,
        PRICES,
        None,
        None,
        "not a regular file (a named pipe or a device); expected a YAML data file",
        *P,
    ),
    case(
        "prices: a folder",
        lambda root: (root / PRICES).mkdir(),
        USAGE,
        PRICES,
        None,
        None,
        "is a directory; expected a YAML price file",
        *P,
    ),
    case(
        "prices: YAML syntax error",
        steps(MEASURED, write(PRICES, "models:\n  claude-x: {input: 1\n")),
        USAGE,
        PRICES,
        None,
        None,
        "YAML syntax error",
        *P,
    ),
    case(
        "prices: negative rate",
        steps(MEASURED, write(PRICES, "models:\n  claude-x:\n    input: -1\n" + FULL_RATES)),
        USAGE,
        PRICES,
        "    input: -1",
        "models.claude-x.input",
        "greater than or equal to 0",
        *P,
    ),
    case(
        "prices: an infinite rate",
        steps(MEASURED, write(PRICES, "models:\n  claude-x:\n    input: .inf\n" + FULL_RATES)),
        USAGE,
        PRICES,
        "    input: .inf",
        "models.claude-x.input",
        ".inf is not a finite number",
        *P,
    ),
    case(
        "prices: Infinity as text",
        steps(MEASURED, write(PRICES, "models:\n  claude-x:\n    input: Infinity\n" + FULL_RATES)),
        USAGE,
        PRICES,
        "    input: Infinity",
        "models.claude-x.input",
        "Input should be a valid number",  # text where a number belongs
        *P,
    ),
    case(
        "prices: a negative geo multiplier",
        steps(MEASURED, write(PRICES, "geo_multipliers:\n  us: -1.1\n")),
        USAGE,
        PRICES,
        "  us: -1.1",
        "geo_multipliers.us",
        "Input should be greater than 0",
        *P,
    ),
    case(
        "prices: unknown key",
        steps(MEASURED, write(PRICES, "modles: {}\n")),
        USAGE,
        PRICES,
        "modles",
        "modles",
        "did you mean 'models'?",
        *P,
    ),
    case(
        "prices: duplicate family",
        steps(MEASURED, write(PRICES, "family_defaults:\n  sonnet: a\n  sonnet: b\n")),
        USAGE,
        PRICES,
        "  sonnet: b",
        "family_defaults.sonnet",
        "duplicate key 'sonnet'",
        *P,
    ),
    case(
        "prices: alias bomb",
        steps(MEASURED, write(PRICES, alias_bomb("taken"))),
        USAGE,
        PRICES,
        None,
        None,
        "(an alias bomb?); expected a plain data file",
        *P,
    ),
    case(
        "prices: broken file, phase not measured",
        write(PRICES, "models: [\n"),
        USAGE,
        PRICES,
        None,
        None,
        "YAML syntax error",
        *P,
    ),
    # transcripts named by metadata.yaml `sessions:`, and headless `claude -p` result files
    in_session("transcript: missing file", "{path: gone.jsonl}", says=f"{DATA}); expected"),
    in_session(
        "transcript: empty folder",
        "{path: runs}",
        lambda root: (root / DATA / "runs").mkdir(),
        says="holds no transcript (.jsonl, .ndjson or .json headless result); expected",
    ),
    in_session("transcript: empty file", "{path: s.jsonl}", write(f"{DATA}/s.jsonl", "")),
    in_session(
        "transcript: binary garbage", "{path: s.jsonl}", write(f"{DATA}/s.jsonl", bytes(range(256)))
    ),
    in_session(
        "transcript: invalid UTF-8",
        "{path: s.jsonl}",
        write(f"{DATA}/s.jsonl", usage_line(input_tokens=5).replace(b"s-1", b"s-\xff")),
    ),
    in_session(
        "transcript: negative token count",
        "{path: s.jsonl}",
        write(f"{DATA}/s.jsonl", usage_line(input_tokens=-5)),
    ),
    in_session(
        "transcript: a 100 MB single line",
        "{path: big.jsonl}",
        big_line(f"{DATA}/big.jsonl", 100 << 20),
    ),
    in_session(
        "transcript: a named pipe",
        "{path: pipe.jsonl}",
        fifo(f"{DATA}/pipe.jsonl"),
        says="expected a transcript file",
    ),
    in_session(
        "transcript: endless device in a session folder",
        "{path: runs}",
        symlink(f"{DATA}/runs/agent-zero.jsonl", "/dev/zero"),
        write(f"{DATA}/runs/s.jsonl", usage_line(input_tokens=5)),
        says="not a regular file",
    ),
    in_session(
        "transcript: a symbolic link loop in a session folder",
        "{path: runs}",
        symlink(f"{DATA}/runs/loop.jsonl", "loop.jsonl"),
        write(f"{DATA}/runs/s.jsonl", usage_line(input_tokens=5)),
        says="not a regular file",
    ),
    in_session(
        "transcript: a symbolic link loop",
        "{path: s.jsonl}",
        symlink(f"{DATA}/s.jsonl", "s.jsonl"),
        says="session file s.jsonl is a symbolic link loop (Too many levels of symbolic links)",
    ),
    case(
        "report path: a symbolic link loop",
        symlink("loop.json", "loop.json"),
        USAGE,
        "loop.json",
        None,
        None,
        "cannot be resolved (Too many levels of symbolic links); expected the path of a file",
        "--orchphase-json",
        "loop.json",
    ),
    case(
        "report path: in a folder that is a symbolic link loop",
        symlink("out", "out"),
        USAGE,
        "out/report.md",
        None,
        None,
        "cannot be resolved (Too many levels of symbolic links); expected the path of a file",
        "--orchphase-md=out/report.md",
    ),
    in_session(
        "transcript: unknown ticket",
        "{path: s.jsonl, ticket: R09}",
        write(f"{DATA}/s.jsonl", usage_line(input_tokens=5)),
        field="sessions[0].ticket",
        says="is not one of this phase's tickets",
    ),
    in_session("result file: not JSON", RUN, write(f"{DATA}/run.json", "Error: rate limit\n")),
    in_session("result file: empty", RUN, write(f"{DATA}/run.json", "")),
    in_session("result file: negative and textual counts", RUN, write(f"{DATA}/run.json", RESULT)),
]


#: No cache written by pytest itself; no plugin the runs do not need.
QUIET = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-p", "no:xdist")


def place(root: Path, case: Case) -> str:
    """A pattern for ``file:line:column: field: `` (any line, or none, when ``at`` is None)."""
    if case.at is None:
        line = r"(\d+:){0,2} "
    else:
        if isinstance(case.at, int):
            number = case.at
        else:
            lines = (root / case.file).read_text().splitlines()
            number = next(n for n, text in enumerate(lines, 1) if text.startswith(case.at))
        line = rf"{number}:(\d+:)? "
    field = re.escape(f"{case.field}: ") if case.field is not None else ""
    return re.escape(f"{case.file}:") + line + field


def assert_clean_error(result: pytest.RunResult, root: Path, case: Case) -> str:
    """The run ended with ``case.ret`` and one output line names the file and line, the field,
    and what was expected; no traceback, nothing of the plugin's own code. Returns that line."""
    lines = [*result.stdout.lines, *result.stderr.lines]
    text = "\n".join(lines)
    assert result.ret == case.ret, text
    assert "Traceback" not in text, text
    assert "pytest_orchphase/" not in text, text
    pattern = place(root, case) + ".*" + re.escape(case.says)
    hits = [line for line in lines if re.search(pattern, line)]
    assert hits, f"no line matches {pattern!r}:\n{text}"
    assert str(root) not in hits[0], hits[0]
    return hits[0]


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(c, id=c.id, marks=[pytest.mark.xfail(reason=c.xfail, strict=True)])
        if c.xfail
        else pytest.param(c, id=c.id)
        for c in CASES
    ],
)
def test_bad_input_is_a_clean_error_and_writes_nothing(
    project: pytest.Pytester, case: Case
) -> None:
    case.setup(project.path)
    before = tree(project.path)
    run = project.runpytest_subprocess if case.subprocess else project.runpytest
    try:
        result = run(*QUIET, "--phase", "a1", *case.args)
        assert_clean_error(result, project.path, case)
        assert tree(project.path) == before
    finally:
        for big in project.path.rglob("big.jsonl"):
            big.unlink()  # 100 MB: pytester keeps the last runs' folders


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(c, id=c.id)
        for c in CASES
        if c.id in ("criteria: wrong type", "log: negative tokens")
    ],
)
def test_an_invalid_file_is_exit_2_under_xdist_too(project: pytest.Pytester, case: Case) -> None:
    """Under `-n 2` the workers' collection errors reached the controller as failures: exit 1."""
    pytest.importorskip("xdist")
    case.setup(project.path)
    result = project.runpytest("-p", "no:cacheprovider", "--phase", "a1", "-n", "2")
    assert_clean_error(result, project.path, case)


def test_numeric_ticket_ids_are_text_everywhere(project: pytest.Pytester) -> None:
    """Bare numbers as ticket ids were accepted in metadata.yaml and refused in
    shared_planning.tickets; read as text everywhere (where.tickets, sessions[].ticket too)."""
    for old, new in (("R03", "303"), ("R06", "306")):
        for path in (META, LOG):
            file = project.path / path
            file.write_text(file.read_text().replace(old, new))
    crit = project.path / CRITERIA
    crit.write_text(
        crit.read_text().replace(
            "    for_each: ticket\n    metric: tokens",
            "    for_each: ticket\n    where: {tickets: [303, 306]}\n    metric: tokens",
        )
    )
    result = project.runpytest(*QUIET, "--phase", "a1")
    result.assert_outcomes(passed=6)
    result.stdout.fnmatch_lines(["token-efficiency  303 *PASS*"])


def test_a_criteria_file_that_fails_to_load_is_parsed_once(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The gate graph, collection, the next-phase lookup and the report all ask for it."""
    from pytest_orchphase.load import yamlio

    (project.path / CRITERIA).write_text("phase: a1\ntitle: [" + "1," * 250_000 + "]\n")
    parsed: list[str] = []
    parse = yamlio.parse

    def counted(text: str, path: Path) -> yamlio.Document:
        parsed.append(path.name)
        return parse(text, path)

    monkeypatch.setattr(yamlio, "parse", counted)
    result = project.runpytest(*QUIET, "--phase", "a1")
    assert result.ret == COLLECTION
    assert parsed.count("a1.yaml") == 1

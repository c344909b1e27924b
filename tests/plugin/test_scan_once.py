"""A phase run reads each measured phase's transcripts once: its items, its gate on the phase
it requires, its decisions and its reports share one scan; another phase is scanned only for
what the run needs of it (the comparison table, a gate), and then once. Counted, never timed:
a conftest wraps the scan and writes a line per scan naming the data folders it read, and
whether it looked for the sessions' first prompts (needed only for sessions not named)."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from tests.helpers import (
    ClaudeHome,
    agent_result,
    assistant,
    spawn_block,
    usage,
    user,
    write_jsonl,
)

LEAD = "11111111-0000-0000-0000-000000000001"
WORKER = "22222222-0000-0000-0000-000000000002"
SONNET_4_5 = "claude-sonnet-4-5-20250929"
CRITERIA = """\
phase: {name}
data: phase-{name}
requires: [{requires}]
criteria:
  - id: tokens
    for_each: ticket
    metric: tokens
    measure: total
    max: {cap}
  - id: cost
    metric: tokens
    measure: usd
    max: 1
"""
LOG = """\
shared_planning: {model: opus, estimated_tokens: 1000}
tickets:
  R1: {implementation: {estimated_tokens: 2000}}  # m1 and m2 ran it on two models
"""
COUNTER = """\
import pytest_orchphase.usage.scan as transcripts

_scan = transcripts.scan_files


def counted(files, **kwargs):
    phases = sorted({part for f in files for part in f.parts if part.startswith("phase-")})
    with open(SCANS, "a") as fh:
        fh.write(",".join(phases) + f" prompts={kwargs.get('prompts', True)}\\n")
    return _scan(files, **kwargs)


transcripts.scan_files = counted
"""


def _phase(pytester: pytest.Pytester, name: str, requires: str, cap: int, meta: str) -> ClaudeHome:
    pytester.makefile(
        ".yaml", **{f"criteria/{name}": CRITERIA.format(name=name, requires=requires, cap=cap)}
    )
    data = pytester.path / "docs" / "orchestration-data" / f"phase-{name}"
    data.mkdir(parents=True)
    (data / "metadata.yaml").write_text(f"phase: {name}\ntickets: [R1]\n{meta}")
    (data / "execution-log.yaml").write_text(LOG)
    return ClaudeHome(data / "transcripts")


@pytest.fixture
def phases(pytester: pytest.Pytester) -> pytest.Pytester:
    """m1 measured from its transcripts/ folder; m2 (requires m1) from sessions its metadata
    names by path, with their tickets; h3 kept by hand (nothing to scan)."""
    m1 = _phase(pytester, "m1", "", 10**9, "")
    m1.session(
        [
            assistant(
                "msg_l1",
                "req_l1",
                session=LEAD,
                u=usage(inp=10, out=100, cw=1000),
                # A model id: a family name ("sonnet") of a sub-agent known only by its
                # parent's record has no price (what it ran on that day is not recorded).
                content=[spawn_block("toolu_1", description="R1: implement", model=SONNET_4_5)],
            ),
            agent_result("toolu_1", "a1", usage(inp=5, out=70, cw=100), session=LEAD, tool_uses=0),
        ],
        session=LEAD,
    )
    meta = "sessions:\n  - {path: sessions/lead.jsonl, lead: true}\n"
    meta += "  - {path: sessions/worker.jsonl, ticket: R1}\n"
    # m2's cap fails its own run: the counts hold for a failing run too.
    _phase(pytester, "m2", "m1", 1, meta)
    sessions = pytester.path / "docs" / "orchestration-data" / "phase-m2" / "sessions"
    write_jsonl(sessions / "lead.jsonl", [assistant("msg_l2", "req_l2", session=LEAD)])
    worker = [user("R1 please", session=WORKER), assistant("msg_w", "req_w", session=WORKER)]
    write_jsonl(sessions / "worker.jsonl", worker)
    _phase(pytester, "h3", "", 10**9, "")
    scans = pytester.path / "scans.txt"
    pytester.makeconftest(f"SCANS = {str(scans)!r}\n" + COUNTER)
    return pytester


def _scans(pytester: pytest.Pytester) -> Counter[str]:
    path = pytester.path / "scans.txt"
    text = path.read_text() if path.exists() else ""
    path.unlink(missing_ok=True)
    return Counter(text.splitlines())


def test_a_run_scans_its_phase_and_the_phase_it_requires_once_each(
    phases: pytest.Pytester,
) -> None:
    """m2's items, its gate on m1 (m1 evaluated from its own transcripts), the decisions, the
    terminal summary, the JSON and markdown reports and their comparison table of all phases:
    one scan of m2, one of m1, none of the phase kept by hand."""
    result = phases.runpytest_subprocess(
        "--phase", "m2", "--orchphase-json", "r.json", "--orchphase-md", "r.md"
    )
    result.assert_outcomes(passed=2, failed=1)  # the gate and the cost pass; m2's cap fails
    assert (phases.path / "r.json").exists() and (phases.path / "r.md").exists()
    # m2 names every session with its ticket or as the lead: no first prompt is looked for.
    assert _scans(phases) == Counter({"phase-m2 prompts=False": 1, "phase-m1 prompts=True": 1})


def test_another_measured_phase_is_scanned_once_for_the_comparison_table(
    phases: pytest.Pytester,
) -> None:
    result = phases.runpytest_subprocess("--phase", "m1", "--orchphase-json", "r.json")
    result.assert_outcomes(passed=2)
    assert _scans(phases) == Counter({"phase-m1 prompts=True": 1, "phase-m2 prompts=False": 1})


def test_collecting_only_scans_nothing(phases: pytest.Pytester) -> None:
    result = phases.runpytest_subprocess("--phase", "m2", "--co")
    assert result.ret == pytest.ExitCode.OK
    assert _scans(phases) == Counter()


DYING_READER = """\
import os
import signal

import pytest_orchphase.usage.parallel as parallel
import pytest_orchphase.usage.scan as scan

HERE = os.getpid()
_read = scan._How.read


def read(how, path):
    if os.getpid() != HERE:  # a process the scan forked: killed (out of memory) while reading
        os.kill(os.getpid(), signal.SIGKILL)
    return _read(how, path)


scan._How.read = read
scan.PARALLEL_BYTES = 1
parallel.FORKS = True
parallel.worker_count = lambda: 2
parallel._threaded = lambda: False
"""


def test_a_scan_process_that_dies_fails_the_phase_it_measures(phases: pytest.Pytester) -> None:
    """The files a killed scan process was reading are never left out of the figures: every
    measured item fails with the error, and the phase does not proceed."""
    m1 = ClaudeHome(phases.path / "docs" / "orchestration-data" / "phase-m1" / "transcripts")
    m1.session([assistant("msg_x", "req_x", session=WORKER)], session=WORKER)
    phases.makeconftest(DYING_READER)
    result = phases.runpytest_subprocess("--phase", "m1", "--orchphase-json", "r.json")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        [
            "*ended without its results (killed by signal 9)*",
            "Proceed to phase m2: NO — the phase's files have errors",
        ]
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    report = json.loads((phases.path / "r.json").read_text())
    assert "ended without its results" in report["error"]


def test_ctrl_c_while_the_report_is_built_ends_the_run_without_a_traceback(
    phases: pytest.Pytester,
) -> None:
    """The comparison table is built after m1's items ran (pytest's session finish, which
    pytest does not guard against Ctrl-C): the run says it was interrupted, its report says
    so (UNDECIDED), and it exits as an interrupted run, with no traceback."""
    phases.makeconftest(
        """
        import pytest_orchphase.report.model as model


        def interrupted(*args, **kwargs):
            raise KeyboardInterrupt


        model.comparison = interrupted
        """
    )
    result = phases.runpytest_subprocess("--phase", "m1", "--orchphase-json", "r.json")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["orchphase: interrupted (Ctrl-C): *(UNDECIDED)"])
    assert result.ret == pytest.ExitCode.INTERRUPTED
    assert "Traceback" not in result.stdout.str() + result.stderr.str()
    assert "Proceed to phase" not in result.stdout.str()
    report = json.loads((phases.path / "r.json").read_text())
    assert report["decisions"]["proceed"]["answer"] == "UNDECIDED"

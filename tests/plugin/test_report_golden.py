"""The bytes a team reads after a phase run, pinned: the JSON report, the markdown analysis, the
step summary and the terminal summary of the shipped phases (a1, a2, a3 of criteria/ and
docs/orchestration-data/), and of a few variants that reach the sections the shipped data does
not (failing items, declared figures that differ or cannot be checked, a bypassed gate, a phase
left out of the comparison, files that do not load, a phase measured from transcripts).

The golden files under golden/ were made from main before the report was typed and its
renderers broken up (issue 12). A difference is a change in what users read: fix the code, or,
when the change is deliberate, regenerate them and review the diff before committing it:

    ORCHPHASE_REGENERATE_GOLDEN=1 pytest tests/plugin/test_report_golden.py -p no:randomly
    git diff tests/plugin/golden/

Only what varies from run to run or machine to machine is normalised, each explicitly: the
package version in the JSON's generator, the temporary project's absolute path (where a message
shows it) and the width of pytest's section lines. The commit is pinned to none by keeping git
from looking above the temporary project.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from pytest_orchphase import __version__
from tests.helpers import (
    A1_LOG,
    A2_LOG,
    HAIKU,
    ClaudeHome,
    Edit,
    agent_progress,
    agent_result,
    assistant,
    edit_in,
    spawn_block,
    usage,
)

GOLDEN = Path(__file__).resolve().parent / "golden"
REGENERATE = os.environ.get("ORCHPHASE_REGENERATE_GOLDEN") == "1"
OUTPUTS = ("report.json", "report.md", "summary.md", "terminal.txt")
SECTION = re.compile(r"^=+ (.+?) =+$")

Prepare = Callable[[pytest.Pytester, Edit], None]


def _nothing(project: pytest.Pytester, edit: Edit) -> None:
    """The shipped data as it is."""


def _a2_fails_and_declares_a_wrong_total(project: pytest.Pytester, edit: Edit) -> None:
    # text edits, as fail_a2 makes in data: the golden reports hold the shipped files' lines
    edit(
        A2_LOG,
        "      fix_loops: 1\n      errors_encountered:",
        "      fix_loops: 3\n      errors_encountered:",
    )
    edit(A2_LOG, "  total: 115400\n", "  total: 116000\n")


def _a1_without_v2_and_a3_broken(project: pytest.Pytester, edit: Edit) -> None:
    """a1's declared v2 figures cannot be checked (the team's baseline is called otherwise), and
    a3's metadata does not load (it is left out of the comparison)."""
    edit("criteria/baselines.yaml", "  v2:\n", "  old_process:\n")
    edit("criteria/a1.yaml", "    baseline: v2\n", "    baseline: old_process\n")
    (project.path / "docs/orchestration-data/phase-a3-r03-r06-r07/metadata.yaml").write_text("[\n")


def _a1_unfilled_placeholder(project: pytest.Pytester, edit: Edit) -> None:
    edit(A1_LOG, "      actual_tokens: 13400", "      actual_tokens: ${ACTUAL}")


SONNET = "claude-sonnet-4-5-20250929"
MEASURED_CRITERIA = """\
phase: m1
title: Measured from transcripts
data: phase-m1
criteria:
  - id: output-per-ticket
    for_each: ticket
    metric: tokens
    measure: output
    max: 1000
  - id: cost
    metric: tokens
    measure: usd
    max: 0.20
  - id: review-cost
    for_each: ticket
    where: {tickets: [R06]}
    metric: stage_tokens
    stage: review
    measure: usd
    max: 0.02
"""
MEASURED_LOG = """\
shared_planning:
  model: opus
  estimated_tokens: 15000
tickets:
  R03:
    implementation:
      model: haiku
      estimated_tokens: 12000
      fix_loops: 0
  R06:
    review:
      tier: T2
      estimated_tokens: 5000
      result: PASS
"""


def _measured_phase(project: pytest.Pytester, edit: Edit) -> None:
    """Phase m1 in Claude Code's format: a lead session spawning an implementer, a reviewer and
    an agent no ticket claims; a context compaction; a malformed line; a model with no price."""
    project.makefile(".yaml", **{"criteria/m1": MEASURED_CRITERIA})
    data = project.path / "docs" / "orchestration-data" / "phase-m1"
    data.mkdir(parents=True)
    (data / "metadata.yaml").write_text("phase: M1\ntickets: [R03, R06]\n")
    (data / "execution-log.yaml").write_text(MEASURED_LOG)
    home = ClaudeHome(data / "transcripts")
    impl_1 = assistant(
        "msg_a1_1", "req_a1_1", model=HAIKU, agent_id="a1", u=usage(inp=5, out=3, cw=8000, cr=2000)
    )
    impl_2 = assistant(
        "msg_a1_2", "req_a1_2", model=HAIKU, agent_id="a1", u=usage(inp=5, out=1, cw=1000, cr=9000)
    )
    review = assistant(
        "msg_a2_1", "req_a2_1", model=SONNET, agent_id="a2", u=usage(inp=3, out=2, cw=5000, cr=1000)
    )
    other = assistant(
        "msg_a3_1", "req_a3_1", model="claude-mystery-9", agent_id="a3", u=usage(inp=2, out=50)
    )
    home.subagent("a1", [impl_1, impl_2])
    home.subagent("a2", [review, "{not json\n"])
    home.subagent("a3", [other])
    home.subagent(
        "acompact-1", [assistant("msg_c", "req_c", agent_id="acompact-1", u=usage(cw=6000))]
    )
    home.session(
        [
            assistant("msg_p1", "req_p1", u=usage(inp=10, out=120, cw=20000)),
            assistant("msg_p1", "req_p1", u=usage(inp=10, out=500, cw=20000)),
            assistant(
                "msg_p2",
                "req_p2",
                u=usage(inp=1, out=1),
                content=[
                    spawn_block("toolu_1", description="R03: rename the helper", model="haiku"),
                    spawn_block("toolu_2", name="Agent", description="Review R06 lifecycle fix"),
                    spawn_block("toolu_3", description="Check versions"),
                ],
            ),
            agent_progress(impl_1, agent_id="a1", parent_tool_use_id="toolu_1"),
            agent_result("toolu_1", "a1", usage(inp=5, out=700, cw=1000, cr=9000)),
            agent_result("toolu_2", "a2", usage(inp=3, out=400, cw=5000, cr=1000)),
            agent_result("toolu_3", "a3", usage(inp=2, out=50)),
        ]
    )


@dataclass(frozen=True)
class Case:
    name: str
    phase: str
    prepare: Prepare = _nothing
    options: tuple[str, ...] = ()


CASES = (
    Case("a1", "a1"),
    Case("a2", "a2"),
    Case("a3", "a3"),
    Case("a2-failing", "a2", _a2_fails_and_declares_a_wrong_total),
    Case("a3-bypassed", "a3", _a2_fails_and_declares_a_wrong_total, ("--orchphase-no-gate",)),
    Case("a1-unchecked", "a1", _a1_without_v2_and_a3_broken),
    Case("a1-broken", "a1", _a1_unfilled_placeholder),
    Case("m1-measured", "m1", _measured_phase),
)


def terminal_summary(output: str) -> str:
    """The orchphase section of a run's terminal output, up to pytest's next section; section
    lines without their width (the terminal's)."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("=") and "orchphase:" in line)
    end = next((i for i in range(start + 1, len(lines)) if SECTION.match(lines[i])), len(lines))
    kept = [SECTION.sub(r"== \1 ==", line) for line in lines[start:end]]
    return "\n".join(kept) + "\n"


def normalised(name: str, text: str, project: Path) -> str:
    text = text.replace(f"{project}{os.sep}", f"<project>{os.sep}")
    if name == "report.json":
        shown = f'"generator": "pytest-orchphase {__version__}"'
        assert text.count(shown) == 1, "the JSON report names its generator once"
        text = text.replace(shown, '"generator": "pytest-orchphase <version>"')
    return text


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_report_bytes_are_unchanged(
    case: Case, project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("matplotlib")  # the chart's line in the markdown (the test extra has it)
    # the temporary project is in no git work tree: the report's commit is none, on any machine
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(project.path.parent))
    summary = project.path / "out" / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    case.prepare(project, edit_in(project.path))
    summary.parent.mkdir()
    result = project.runpytest(
        "--phase",
        case.phase,
        "--orchphase-json",
        "out/report.json",
        "--orchphase-md",
        "out/report.md",
        *case.options,
    )
    assert "Traceback" not in result.stdout.str() + result.stderr.str()
    out = project.path / "out"
    actual = {
        "report.json": (out / "report.json").read_text(),
        "report.md": (out / "report.md").read_text(),
        "summary.md": summary.read_text(),
        "terminal.txt": terminal_summary(result.stdout.str()),
    }
    folder = GOLDEN / case.name
    if REGENERATE:
        folder.mkdir(parents=True, exist_ok=True)
        for name in OUTPUTS:
            (folder / name).write_text(normalised(name, actual[name], project.path))
        pytest.skip(f"regenerated {folder}: review the diff before committing it")
    for name in OUTPUTS:
        expected = (folder / name).read_text()
        assert normalised(name, actual[name], project.path) == expected, (
            f"{case.name}/{name} changed"
        )

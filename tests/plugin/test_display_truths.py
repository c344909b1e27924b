"""What the reports show must be what the decision saw: the per-ticket table marks a figure that
is only a bound, as the criterion lines and the table of phases do; an item that failed after its
result was recorded shows FAIL (or ERROR) in its row, as the decision counts it."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import SESSION, Phase, assistant, jsonl_line, read_report, usage


def _m1(pytester: pytest.Pytester, requires: str = "", baselines: str = "") -> pytest.RunResult:
    """Phase m1 (measured: R03's sub-agent made two calls and no record gives the first's
    output, so R03's output, total and cost are only lower bounds; R06's are exact), one
    criterion that passes, and both reports."""
    from tests.plugin.test_measured_phase import write_phase

    write_phase(pytester)
    files = {
        "criteria/m1": f"phase: m1\ndata: phase-m1\n{requires}criteria:\n"
        "  - {id: t, metric: tickets, min: 1}\n"
    }
    if baselines:
        files["criteria/baselines"] = f"baselines:\n{baselines}"
    pytester.makefile(".yaml", **files)
    return pytester.runpytest(
        "--phase", "m1", "-p", "no:randomly", "--orchphase-json=r.json", "--orchphase-md=r.md"
    )


def _rows(result: pytest.RunResult, pytester: pytest.Pytester) -> dict[str, Any]:
    """Per ticket: its row in the terminal table, in the markdown table, in the JSON."""
    lines = result.outlines
    start = next(i for i, line in enumerate(lines) if line.startswith("Tickets (own stages"))
    md = (pytester.path / "r.md").read_text().splitlines()
    md = md[md.index("### Tickets") :]
    out: dict[str, Any] = {}
    for row in read_report(pytester.path)["ticket_table"]:
        ticket = row["ticket"]
        terminal = next(line for line in lines[start:] if line.startswith(f"{ticket} "))
        markdown = next(line for line in md if line.startswith(f"| {ticket} "))
        out[ticket] = (terminal, markdown, row)
    return out


def test_the_ticket_table_says_a_lower_bound_is_one(pytester: pytest.Pytester) -> None:
    """Review finding: R03's tokens and USD are lower bounds ("≥ 20,713" in the measured-usage
    table below it), and the per-ticket table showed them as plain figures; R06's are exact and
    stay unmarked."""
    rows = _rows(_m1(pytester), pytester)
    for shown in rows["R03"][:2]:
        assert "≥ 20,713" in shown and "≥ $0.0159" in shown, shown
    assert rows["R03"][2]["bounds"] == {"tokens": "lower", "usd": "lower"}
    # R06's own 6,403 are exact, but the phase's unattributed 1,052 may be R06's: counted as
    # its own, its figures are upper bounds
    for shown in rows["R06"][:2]:
        assert "≥" not in shown and "≤ 7,455" in shown and "≤ $0.0326" in shown, shown
    assert rows["R06"][2]["bounds"] == {"tokens": "upper", "usd": "upper"}


def test_a_lost_usage_line_marks_every_ticket_figure(pytester: pytest.Pytester) -> None:
    """A transcript line that may have recorded a call could not be read: every measured figure
    is a lower bound, R06's too, and the ticket table says so."""
    _m1(pytester)
    session = next((pytester.path / "docs").rglob(f"{SESSION}.jsonl"))
    line = jsonl_line(assistant("msg_px", "req_px", u=usage(inp=90000, out=500, cw=20000)))
    with session.open("ab") as f:
        f.write(line[: line.index(b'"usage"')] + b"\n")
    rows = _rows(
        pytester.runpytest(
            "--phase", "m1", "-p", "no:randomly", "--orchphase-json=r.json", "--orchphase-md=r.md"
        ),
        pytester,
    )
    assert read_report(pytester.path)["data"]["lost_usage_lines"] == 1
    for shown in rows["R06"][:2]:
        assert "≥ 6,403" in shown, shown
    assert rows["R06"][2]["bounds"] == {"tokens": "lower", "usd": "lower"}


def test_a_saving_against_a_lower_bound_is_marked_an_upper_bound(
    pytester: pytest.Pytester,
) -> None:
    """h0's R03 (100,000 by hand) − m1's R03 (at least 20,713) is at most 79,287: the saving
    column says "≤"; R06's saving subtracts exact figures and stays unmarked."""
    Phase.of(
        "h0",
        [{"id": "tickets", "metric": "tickets", "min": 1}],
        {
            "R03": {"execution_model": "sonnet", "actual_tokens": 100000, "fix_loops": 0},
            "R06": {"execution_model": "sonnet", "actual_tokens": 100000, "fix_loops": 0},
        },
    ).write(pytester.path)
    rows = _rows(_m1(pytester, "requires: [h0]\n"), pytester)
    for shown in rows["R03"][:2]:
        assert "≤ +79,287" in shown, shown
    assert rows["R03"][2]["bounds"] == {"tokens": "lower", "usd": "lower", "delta_tokens": "upper"}
    # R06 counts the phase's unattributed 1,052 as its own: at most 7,455, saving at least
    for shown in rows["R06"][:2]:
        assert "≥ +92,545" in shown, shown
    assert rows["R06"][2]["bounds"] == {"tokens": "upper", "usd": "upper", "delta_tokens": "lower"}


# --- an item that fails after its result was recorded: its row says what the decision saw ---

NO_GATE_ERROR = (
    "--orchphase-no-gate",
    "-W",
    "error::pytest_orchphase.plugin.collect.OrchphaseWarning",
)


def _failing_a1_run_a2(
    project: pytest.Pytester, *args: str, xdist: bool = False
) -> tuple[pytest.RunResult, Any]:
    """Phase a2 of the example over an a1 that fails (`time` 27 min against below 20); under
    xdist in a subprocess, with two workers."""
    a1 = Phase.example("a1")
    a1.criterion("time")["below"] = 20
    a1.write(project.path)
    run = project.runpytest_subprocess if xdist else project.runpytest
    result = run(
        *(("-n", "2") if xdist else ()),
        "--phase",
        "a2",
        "-p",
        "no:randomly",
        "--orchphase-json=r.json",
        "--orchphase-md=r.md",
        "--junitxml=j.xml",
        *args,
    )
    return result, read_report(project.path)


def _row(result: pytest.RunResult, project: pytest.Pytester, name: str) -> tuple[str, str, str]:
    """An item's result in the terminal summary, the markdown report and the JUnit XML."""
    import xml.etree.ElementTree as ET

    criterion, _, ticket = name.partition("[")
    ticket = ticket.rstrip("]")
    start = next(i for i, line in enumerate(result.outlines) if "orchphase: phase" in line)
    terminal = next(
        line.split()[-1]
        for line in result.outlines[start:]
        if line.split()[:1] == [criterion] and (not ticket or line.split()[1] == ticket)
    )
    markdown = next(
        line.strip("| ").split("|")[-1].strip()
        for line in (project.path / "r.md").read_text().splitlines()
        if line.startswith(f"| {criterion} ")
    )
    case = next(
        c for c in ET.parse(project.path / "j.xml").iter("testcase") if c.get("name") == name
    )
    junit = next(p.get("value") for p in case.iter("property") if p.get("name") == "result")
    return terminal, markdown, str(junit)


@pytest.mark.parametrize("xdist", [False, True], ids=["serial", "xdist"])
def test_a_bypassed_gate_failing_under_w_error_is_a_failed_row(
    project: pytest.Pytester, xdist: bool
) -> None:
    """The gate's warning made an error fails the item after its entry said BYPASSED: the
    decision said NO, the row still BYPASSED (terminal, markdown, JSON `passed: true`)."""
    result, report = _failing_a1_run_a2(project, *NO_GATE_ERROR, xdist=xdist)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert report["decisions"]["proceed"]["answer"] == "NO"
    assert _row(result, project, "phase-gate[a1]") == ("FAIL", "FAIL", "failed")
    gate = report["gates"][0]
    assert gate["passed"] is False, gate
    assert "OrchphaseWarning: gate bypassed" in gate["late_failure"]["reason"], gate
    assert report["decisions"]["proceed"]["reasons"] == ["failing: phase-gate[a1]"]
    # the failure is the warning, not a traceback through the plugin's code
    result.stdout.fnmatch_lines(["phase-gate[[]a1[]]: OrchphaseWarning made an error (-W): *"])
    result.stdout.no_fnmatch_line("*def runtest*")


def test_a_bypassed_gate_without_w_error_stays_a_bypassed_row(project: pytest.Pytester) -> None:
    result, report = _failing_a1_run_a2(project, "--orchphase-no-gate")
    assert result.ret == pytest.ExitCode.OK
    assert _row(result, project, "phase-gate[a1]") == ("BYPASSED", "BYPASSED", "bypassed")
    assert report["gates"][0]["passed"] is True
    assert "late_failure" not in report["gates"][0]


def _late(hook: str, item: str = "time") -> str:
    """A conftest whose hook raises once ``item``'s call or teardown is over (its entry set)."""
    return (
        "import pytest\n\n"
        "@pytest.hookimpl(wrapper=True)\n"
        f"def pytest_runtest_{hook}(item):\n"
        "    yield\n"
        f"    if item.name == {item!r}:\n"
        f"        raise RuntimeError('a hook of the project fails after the {hook}')\n"
    )


def _run_a1(project: pytest.Pytester) -> pytest.RunResult:
    return project.runpytest(
        "--phase", "a1", "-p", "no:randomly", "--orchphase-json=r.json", "--orchphase-md=r.md",
        "--junitxml=j.xml",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("hook", "word"),
    [("call", "FAIL"), ("teardown", "ERROR")],
    ids=["call", "teardown"],
)
def test_a_criterion_failing_after_its_entry_is_a_failed_row(
    project: pytest.Pytester, hook: str, word: str
) -> None:
    """`time` passes its own figure, then its call fails (a hook of the project) or its
    teardown errors: the decision names it; its row says FAIL or ERROR, not PASS."""
    project.makeconftest(_late(hook))
    result = _run_a1(project)
    report = read_report(project.path)
    assert report["decisions"]["proceed"]["reasons"] == ["failing: time"]
    assert _row(result, project, "time") == (
        word,
        word,
        word.lower() if word == "ERROR" else "failed",
    )
    entry = next(c for c in report["criteria"] if c["name"] == "time")
    assert (entry["passed"], entry["outcome"]) == (False, word), entry
    assert entry["late_failure"]["result"] == word


def test_a_criterion_passing_with_the_same_hooks_around_it_stays_a_passed_row(
    project: pytest.Pytester,
) -> None:
    """No over-correction: the same hooks for another item leave `time` PASS, and YES."""
    project.makeconftest(_late("call", item="nothing") + _late("teardown", item="nothing"))
    result = _run_a1(project)
    assert result.ret == pytest.ExitCode.OK
    assert _row(result, project, "time") == ("PASS", "PASS", "passed")
    entry = next(c for c in read_report(project.path)["criteria"] if c["name"] == "time")
    assert (entry["passed"], entry["outcome"], "late_failure" in entry) == (True, "PASS", False)


# --- siblings: the markdown's other figures of a measured phase ---


def test_the_markdown_marks_the_other_figures_that_are_bounds(pytester: pytest.Pytester) -> None:
    """Sibling of the ticket table: the usage by stage and model, its total, the efficiency
    lines and the comparison to baselines showed m1's lower bounds (and the saving computed from
    them, an upper bound) as plain figures; the exact rows stay unmarked."""
    _m1(pytester, baselines="  v2: {tokens_per_ticket: 121000}\n")
    md = (pytester.path / "r.md").read_text().splitlines()
    rows = {
        " ".join(cell.strip() for cell in line.split("|")[1:3]): line
        for line in md
        if line.startswith("| ")
    }
    haiku = rows["implementation claude-haiku-4-5-20251001"]
    assert "≥ 20,713" in haiku and "≥ $0.0159" in haiku, haiku
    assert "≥" not in rows["review claude-sonnet-4-5-20250929"]
    assert "≥" not in rows["shared_planning claude-opus-4-6"]
    assert "**≥ 48,680**" in rows["**total** "] and "≥ $0.1860" in rows["**total** "]
    assert "- Total tokens: ≥ 48,680; cost: ≥ $0.1860" in md
    # the lead's own 20,512 + the 1,052 no rule places (a3), which may be planning: at most
    assert "- Shared planning + unattributed usage: ≤ 21,564" in md
    assert "- Per ticket (shared planning included): ≥ 24,340; own stages only: ≥ 13,558" in md
    # (242,000 − at least 48,680) / 242,000: at most 79.9 %
    v2 = rows["v2 121,000"]
    assert "≥ 48,680" in v2 and "≤ 79.9%" in v2, v2
    report = read_report(pytester.path)
    assert report["metric_bounds"]["tokens"] == "lower"
    assert report["metric_bounds"]["savings_vs_v2"] == "upper"
    assert report["metric_bounds"]["shared_planning_tokens"] == "upper"
    by = {(r["stage"], r["model"]): r for r in report["usage"]["by_stage_model"]}
    assert by[("review", "claude-sonnet-4-5-20250929")]["lower_bounds"] == []
    assert "total" in by[("implementation", "claude-haiku-4-5-20251001")]["lower_bounds"]


def test_the_ticket_table_marks_a_ticket_not_finished(project: pytest.Pytester) -> None:
    """The table takes its bounds from the `tokens` metric: a ticket still running has used its
    tokens so far only (a lower bound, as every reader has it), and its row says "≥"; the
    finished ticket's row stays unmarked."""
    from tests.plugin.test_unfinished_figures import _phase

    _phase([{"id": "t", "metric": "tickets", "min": 1}], "in_progress").write(project.path)
    result = project.runpytest(
        "--phase", "p1", "-p", "no:randomly", "--orchphase-json=r.json", "--orchphase-md=r.md"
    )
    rows = _rows(result, project)
    for shown in rows["T02"][:2]:
        assert "≥ 20,000" in shown, shown
    assert rows["T02"][2]["bounds"] == {"tokens": "lower"}
    for shown in rows["T01"][:2]:
        assert "20,000" in shown and "≥" not in shown, shown
    assert rows["T01"][2]["bounds"] == {}


# --- the labels beside figures that count in the usage no rule places ---


@pytest.mark.parametrize(
    ("unplaced", "title", "planning", "own"),
    [
        (
            30_000,
            "Tickets (own stages + unattributed usage where marked ≤; shared planning apart):",
            "- Shared planning + unattributed usage: ≤ 35,020",
            "own stages + unattributed usage: ≤ 30,015",
        ),
        (
            None,
            "Tickets (own stages; shared planning apart):",
            "- Shared planning: 5,010",
            "own stages only: 15,010",
        ),
    ],
    ids=["unattributed", "none"],
)
def test_the_labels_say_when_the_unattributed_usage_is_counted_in(
    pytester: pytest.Pytester, unplaced: int | None, title: str, planning: str, own: str
) -> None:
    """R01 20,010 and R02 10,010 of their own, the lead's 5,010, and 30,010 no rule places:
    each ticket's row (≤ 50,020, ≤ 40,020), the shared planning (≤ 35,020) and the mean of the
    tickets' own (≤ 15,010 + 30,010 / 2) count it in, as it may be theirs; the labels said "own
    stages" and "shared planning" alone. Nothing unplaced: the labels as they were."""
    from tests.plugin.test_attribution_holes import _unplaced_phase

    criteria: list[dict[str, object]] = [{"id": "tickets", "metric": "tickets", "min": 1}]
    _unplaced_phase(pytester, criteria, tickets=("R01", "R02"), unplaced=unplaced)
    result = pytester.runpytest("--phase", "s1", "-p", "no:randomly", "--orchphase-md=r.md")
    assert title in result.outlines
    md = (pytester.path / "r.md").read_text().splitlines()
    assert planning in md
    assert next(line for line in md if line.startswith("- Per ticket")).endswith(own)

"""A phase whose sessions are measured from transcripts in the real Claude Code format."""

from __future__ import annotations

import json

import pytest

from tests.helpers import (
    HAIKU,
    Phase,
    YamlData,
    agent_progress,
    agent_result,
    assistant,
    result_object,
    spawn_block,
    usage,
)

SONNET = "claude-sonnet-4-5-20250929"


def m1(*, monitoring: YamlData | None = None) -> Phase:
    """Phase m1 as its log records it: planning on Opus, R03 implemented on Haiku, R06 reviewed
    (and monitored, by the agents ``monitoring`` names); output, cost and review-cost caps."""
    r06: YamlData = {"review": {"tier": "T2", "estimated_tokens": 5000, "result": "PASS"}}
    if monitoring is not None:
        r06["monitoring"] = {"agents": monitoring}
    r03 = {"implementation": {"model": "haiku", "estimated_tokens": 12000, "fix_loops": 0}}
    criteria: list[YamlData] = [
        {
            "id": "output-per-ticket",
            "for_each": "ticket",
            "metric": "tokens",
            "measure": "output",
            "max": 1000,
        },
        {"id": "cost", "metric": "tokens", "measure": "usd", "max": 0.20},
        {
            "id": "review-cost",
            "for_each": "ticket",
            "where": {"tickets": ["R06"]},
            "metric": "stage_tokens",
            "stage": "review",
            "measure": "usd",
            "max": 0.02,
        },
    ]
    return Phase.of(
        "m1",
        criteria,
        {"R03": r03, "R06": r06},
        planning={"model": "opus", "estimated_tokens": 15000},
        metadata={"phase": "M1", "tickets": ["R03", "R06"]},
    )


def write_phase(
    pytester: pytest.Pytester,
    *,
    reviewer: str = SONNET,
    monitoring: YamlData | None = None,
    unplaced: bool = True,
) -> None:
    """Phase m1 measured: the lead's calls, R03's implementer (a1), R06's reviewer (a2) and,
    ``unplaced``, a sub-agent no rule places (a3, "Check versions": unattributed usage)."""
    phase = m1(monitoring=monitoring)
    phase.write(pytester.path)
    home = phase.transcripts(pytester.path)

    impl_1 = assistant(
        "msg_a1_1", "req_a1_1", model=HAIKU, agent_id="a1", u=usage(inp=5, out=3, cw=8000, cr=2000)
    )
    impl_2 = assistant(
        "msg_a1_2", "req_a1_2", model=HAIKU, agent_id="a1", u=usage(inp=5, out=1, cw=1000, cr=9000)
    )
    review = assistant(
        "msg_a2_1",
        "req_a2_1",
        model=reviewer,
        agent_id="a2",
        u=usage(inp=3, out=2, cw=5000, cr=1000),
    )
    other = assistant("msg_a3_1", "req_a3_1", agent_id="a3", u=usage(inp=2, out=50, cw=1000))
    home.subagent("a1", [impl_1, impl_2])
    home.subagent("a2", [review])
    if unplaced:
        home.subagent("a3", [other])
    spawns = [
        spawn_block("toolu_1", description="R03: rename the helper", model="haiku"),
        spawn_block("toolu_2", name="Agent", description="Review R06 lifecycle fix"),
        spawn_block("toolu_3", description="Check versions"),
    ]
    home.session(
        [
            assistant("msg_p1", "req_p1", u=usage(inp=10, out=120, cw=20000)),
            assistant("msg_p1", "req_p1", u=usage(inp=10, out=500, cw=20000)),  # same response
            assistant(
                "msg_p2",
                "req_p2",
                u=usage(inp=1, out=1, cw=0),
                content=spawns if unplaced else spawns[:2],
            ),
            agent_progress(impl_1, agent_id="a1", parent_tool_use_id="toolu_1"),
            agent_result("toolu_1", "a1", usage(inp=5, out=700, cw=1000, cr=9000)),
            agent_result("toolu_2", "a2", usage(inp=3, out=400, cw=5000, cr=1000)),
            *([agent_result("toolu_3", "a3", usage(inp=2, out=50, cw=1000))] if unplaced else []),
        ]
    )


# Prices per million tokens (pricing.md): Haiku 4.5 in 1 / out 5 / 5m write 1.25 / read 0.10;
# Sonnet 4.5 3 / 15 / 3.75 / 0.30; Opus 4.6 5 / 25 / 6.25 / 0.50.
R03_USD = (5 + 3 * 5 + 8000 * 1.25 + 2000 * 0.1 + 5 + 700 * 5 + 1000 * 1.25 + 9000 * 0.1) / 1e6
R06_REVIEW_USD = (3 * 3 + 400 * 15 + 5000 * 3.75 + 1000 * 0.3) / 1e6


def test_measured_usage_drives_token_and_usd_criteria(pytester: pytest.Pytester) -> None:
    write_phase(pytester)
    result = pytester.runpytest("--phase", "m1")
    # R03's output: the placeholder 3 of a1's first call (its true count is in no record), plus
    # the last call's true 700 from toolUseResult.usage: at least 703, which cannot prove a max;
    # the phase's cost holds the same call. R06's reviewer made one call, corrected: exact, but
    # the unattributed a3 (50 output tokens, $0.0075) may be R06's: counted as its own, R06's
    # figures are upper bounds.
    result.assert_outcomes(passed=1, failed=3)
    out = result.stdout.str()
    result.stdout.fnmatch_lines(
        [
            "review-cost[[]R06[]]: stage_tokens[[]review[]] (usd) "
            "at most $0.0326: an upper bound cannot prove max $0.0200: "
            "the phase's unattributed usage ($0.0075) is counted as if it were all this "
            "ticket's* — docs/orchestration-data/phase-m1/execution-log.yaml: tickets.R06.review",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "output-per-ticket[[]R03[]]: tokens (output) at least 703: a lower bound cannot prove "
            "max 1,000: 1 sub-agent call(s) record only a placeholder output count*",
        ]
    )
    result.stdout.fnmatch_lines(
        ["cost: tokens (usd) at least $0.1860: a lower bound cannot prove max $0.2000*"]
    )
    result.stdout.fnmatch_lines(
        [
            "output-per-ticket*R03*tokens (output)*at least 703*max*1,000*FAIL",
            "output-per-ticket*R06*tokens (output)*at most 450*max*1,000*PASS",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*place*estimated*measured*error*USD*",
            "shared planning*15,000*20,512*-27%*",
            "R03 implementation*12,000*≥ 20,713*-42%*" + f"≥ ${R03_USD:.4f}",
            "R06 review*5,000*6,403*-22%*",
            "unattributed**1,052**",
            "unattributed: agent a3 (Check versions): no mapping and no ticket id in the Task",
        ]
    )
    assert "Traceback" not in out


def test_explicit_agent_mapping_wins_and_leaves_nothing_unattributed(
    pytester: pytest.Pytester,
) -> None:
    write_phase(pytester, monitoring={"agent_ids": ["a3"]})
    result = pytester.runpytest("--phase", "m1")
    result.stdout.fnmatch_lines(["R06 monitoring**1,052**"])
    assert "unattributed:" not in result.stdout.str()


def test_unknown_model_makes_a_cost_criterion_fail_never_pass_on_zero(
    pytester: pytest.Pytester,
) -> None:
    write_phase(pytester, reviewer="claude-mystery-9")
    result = pytester.runpytest("--phase", "m1")
    result.assert_outcomes(passed=1, failed=3)  # the phase's cost is unknown too
    # each failure on its own: they print in the order the items ran
    result.stdout.fnmatch_lines(
        ["cost: tokens (usd): cannot be evaluated: cost in USD is unknown*"]
    )
    result.stdout.fnmatch_lines(
        [
            "review-cost[[]R06[]]: stage_tokens[[]review[]] (usd): cannot be evaluated: "
            "cost in USD is unknown: model 'claude-mystery-9' has no price*",
        ]
    )
    result.stdout.fnmatch_lines(
        ["warning: 1 call(s) of model 'claude-mystery-9' have no price: cost unknown"]
    )


def test_estimates_have_no_usd_so_a_cost_criterion_fails_clearly(project: pytest.Pytester) -> None:
    a1 = Phase.example("a1")
    cost = {"id": "cost", "metric": "tokens", "measure": "usd", "max": 5}
    a1.criteria = {"phase": "a1", "data": "phase-a1-r03-r06", "criteria": [cost]}
    a1.write(project.path)
    result = project.runpytest("--phase", "a1")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["cost: tokens (usd): cannot be evaluated: cost in USD is unknown*"]
    )


def test_collect_only_reads_no_transcript(pytester: pytest.Pytester) -> None:
    write_phase(pytester)
    meta = pytester.path / "docs" / "orchestration-data" / "phase-m1" / "metadata.yaml"
    meta.write_text("phase: M1\ntickets: [R03, R06]\nsessions: [no-such-session-id]\n")
    collected = pytester.runpytest("--phase", "m1", "--co", "-q")
    assert collected.ret == 0
    ran = pytester.runpytest("--phase", "m1")
    ran.assert_outcomes(failed=4)
    ran.stdout.fnmatch_lines(["*metadata.yaml:3:*: sessions[[]0[]]: *no-such-session-id*"])


def test_json_report_holds_measured_and_estimated_figures(pytester: pytest.Pytester) -> None:
    import json

    write_phase(pytester)
    pytester.runpytest("--phase", "m1", "--orchphase-json", "r.json")
    report = json.loads((pytester.path / "r.json").read_text())
    usage = report["usage"]
    assert usage["source"] == "measured"
    r03 = next(r for r in usage["estimate_rows"] if r["place"] == "R03 implementation")
    assert (r03["estimated"], r03["measured"], r03["error_percent"]) == (12000, 20713, -42.1)
    assert r03["usd"] == pytest.approx(R03_USD)
    assert usage["tickets"]["R03"]["total"]["output"] == 703
    assert r03["lower_bounds"] == ["output", "total", "usd"]
    # the report says which agent's output no record gives, and why
    (a1,) = [a for a in usage["agents"] if a["agent_id"] == "a1"]
    assert a1["usage"]["lower_bounds"] == ["output", "total", "usd"]
    assert any(
        w.startswith("sub-agent a1: 1 call(s) record only a placeholder output count")
        for w in usage["warnings"]
    )
    leaf = next(
        c for c in report["criteria"] if c["id"] == "output-per-ticket" and c["ticket"] == "R03"
    )
    assert (leaf["passed"], leaf["bound"]) == (False, "lower")
    assert usage["estimated"]["tickets"]["R03"]["total"]["total"] == 12000
    assert usage["unattributed"]["total"] == 2 + 50 + 1000
    assert [a["how"] for a in usage["agents"] if a["agent_id"] == "a1"] == [
        "ticket id in Task description"
    ]


def test_a_headless_run_named_for_a_ticket_measures_that_ticket(pytester: pytest.Pytester) -> None:
    import json

    write_phase(pytester)
    data = pytester.path / "docs" / "orchestration-data" / "phase-m1"
    (data / "r06.json").write_text(json.dumps(result_object()))
    (data / "metadata.yaml").write_text(
        "phase: M1\ntickets: [R03, R06]\nsessions:\n  - {path: r06.json, ticket: R06}\n"
    )
    result = pytester.runpytest("--phase", "m1", "--orchphase-json", "r.json")
    report = json.loads((pytester.path / "r.json").read_text())
    r06 = report["usage"]["tickets"]["R06"]["total"]
    # the result's modelUsage, R06's whole session: all four kinds and its price
    assert (r06["input"], r06["output"], r06["cache_write"], r06["cache_read"]) == (
        10 + 3,
        2789 + 400,
        9097 + 5000,
        63057 + 1000,
    )  # + the review sub-agent (ticket id)
    result.stdout.fnmatch_lines(["R06 (no stage)*", "R06 in all*"])


def test_dashboard_shows_the_measured_cost(
    pytester: pytest.Pytester, capsys: pytest.CaptureFixture[str]
) -> None:
    from pytest_orchphase.cli import main

    write_phase(pytester)
    folders = [
        "--criteria",
        str(pytester.path / "criteria"),
        "--data",
        str(pytester.path / "docs" / "orchestration-data"),
    ]
    assert main(["dashboard", *folders]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("m1"))
    # planning (opus) + R03 (haiku) + R06 review (sonnet) + the unattributed agent (opus)
    planning = (10 * 5 + 500 * 25 + 20000 * 6.25 + 1 * 5 + 1 * 25) / 1e6
    unattributed = (2 * 5 + 50 * 25 + 1000 * 6.25) / 1e6
    total = planning + R03_USD + R06_REVIEW_USD + unattributed
    # R03's sub-agent made a call whose output no record gives: tokens and cost are lower bounds
    assert f"≥ ${total:,.4f}" in row and "≥ 48," in row
    assert main(["compare", *folders]) == 0
    compared = capsys.readouterr().out
    assert f"≥ ${total:,.4f}" in compared


_R03 = "for_each: ticket, where: {tickets: [R03]}, metric: tokens"
BOUNDED = "phase: m1\ndata: phase-m1\ncriteria:\n" + "".join(
    f"  - {{id: {cid}, {rest}}}\n"
    for cid, rest in [
        ("out-max", f"{_R03}, measure: output, max: 100000"),
        ("out-below", f"{_R03}, measure: output, below: 100000"),
        ("out-equals", f"{_R03}, measure: output, equals: 703"),
        ("out-min", f"{_R03}, measure: output, min: 500"),
        ("out-above", f"{_R03}, measure: output, above: 700"),
        ("out-min-unmet", f"{_R03}, measure: output, min: 800"),
        ("input-max", f"{_R03}, measure: input, max: 100"),
        ("savings-min", "metric: savings, baseline: big, measure: usd, min: 10"),
        ("savings-max", "metric: savings, baseline: big, measure: usd, max: 100"),
    ]
)


def test_a_lower_bound_proves_min_and_above_only(pytester: pytest.Pytester) -> None:
    import json

    write_phase(pytester)
    pytester.makefile(".yaml", **{"criteria/m1": BOUNDED})
    pytester.makefile(
        ".yaml",
        **{"criteria/baselines": "baselines:\n  big: {tokens_per_ticket: 1, usd_per_ticket: 10}\n"},
    )
    result = pytester.runpytest("--phase", "m1", "--orchphase-json", "r.json")
    report = json.loads((pytester.path / "r.json").read_text())
    outcome = {c["id"]: c["passed"] for c in report["criteria"]}
    assert outcome == {
        # R03's output is at least 703: a max/below/equals over it cannot be proven, whatever
        # the limit; a min/above it already reaches is proven; one it does not reach fails.
        "out-max": False,
        "out-below": False,
        "out-equals": False,
        "out-min": True,
        "out-above": True,
        "out-min-unmet": False,
        # input counts are exact: decided as usual
        "input-max": True,
        # savings = baseline − output: an upper bound, which proves max and nothing else
        "savings-min": False,
        "savings-max": True,
    }
    result.stdout.fnmatch_lines(
        ["out-max[[]R03[]]: tokens (output) at least 703: a lower bound cannot prove max 100,000*"]
    )
    result.stdout.fnmatch_lines(
        [
            "savings-min: savings[[]big[]] (usd) at most 99.1%: "
            "an upper bound cannot prove min 10.0%*"
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "out-min-unmet[[]R03[]]: tokens (output) at least 703: "
            "a lower bound cannot prove min 800*"
        ]
    )
    result.stdout.fnmatch_lines(["Proceed to phase m2: NO*out-max*"])
    assert result.ret == 1


def test_exact_sub_agent_figures_decide_a_max(pytester: pytest.Pytester) -> None:
    """A sub-agent whose every call is corrected from the parent's records is exact."""
    write_phase(pytester)
    pytester.makefile(".yaml", **{"criteria/m1": BOUNDED.split("  - {id: out-below")[0]})
    sub = pytester.path / "docs/orchestration-data/phase-m1/transcripts/projects"
    (agent,) = sub.glob("*/*/subagents/agent-a1.jsonl")
    first_call_only = agent.read_text().splitlines()[1]  # drop the uncorrectable first call
    agent.write_text(first_call_only + "\n")
    session = next(sub.glob("*/*.jsonl"))
    session.write_text(
        "\n".join(x for x in session.read_text().splitlines() if "msg_a1_1" not in x) + "\n"
    )
    result = pytester.runpytest("--phase", "m1")
    result.assert_outcomes(passed=1)
    # exact: 700; the unattributed a3's 50 output tokens, which may be R03's, make it at most 750
    result.stdout.fnmatch_lines(["out-max*R03*tokens (output)*at most 750*max*100,000*PASS"])


def test_a_phase_source_folder_of_ndjson_and_json_results_is_measured(
    pytester: pytest.Pytester,
) -> None:
    import json

    write_phase(pytester)
    data = pytester.path / "docs" / "orchestration-data" / "phase-m1"
    runs = data / "runs"
    runs.mkdir()
    (runs / "r03.ndjson").write_text(json.dumps(result_object(session_id="s-1")) + "\n")
    (runs / "r06.json").write_text(json.dumps(result_object(session_id="s-2")))
    (data / "metadata.yaml").write_text(
        "phase: M1\ntickets: [R03, R06]\nsessions:\n  - {path: runs, ticket: R03}\n"
    )
    result = pytester.runpytest("--phase", "m1", "--orchphase-json", "r.json")
    report = json.loads((pytester.path / "r.json").read_text())
    assert report["data"]["transcript_files"] == 4 + 2  # transcripts/ and the two results
    assert report["usage"]["tickets"]["R03"]["total"]["output"] >= 2 * 2789
    assert "holds no" not in result.stdout.str()


def test_older_logs_inline_sidechains_are_attributed_to_their_ticket(
    pytester: pytest.Pytester,
) -> None:
    """Claude Code 1.0.x: sub-agent lines inline in the session, tied to their Task by prompt."""
    import json

    from tests.helpers import user

    def chained(line: dict[str, object], uuid: str, parent: str | None) -> dict[str, object]:
        line = {**line, "isSidechain": True, "uuid": uuid, "parentUuid": parent}
        line.pop("agentId", None)
        return line

    phase = m1()
    phase.criteria["criteria"] = [
        {"id": "t", "for_each": "ticket", "metric": "tokens", "measure": "input", "max": 50}
    ]
    phase.write(pytester.path)
    spawns = [
        spawn_block("toolu_a", description="R03: rename the helper", prompt="Rename it"),
        spawn_block("toolu_b", description="Review R06 lifecycle fix", prompt="Review it"),
    ]
    lines = [assistant("msg_M", "req_M", u=usage(inp=1, out=1), content=spawns)]
    runs = (("a", "Rename it", 30, HAIKU), ("b", "Review it", 70, SONNET))  # R03 ran on Haiku
    for tool, prompt, inp, model in runs:
        lines.append(chained(user(prompt), f"root-{tool}", None))
        call = assistant(f"msg_{tool}", f"req_{tool}", model=model, u=usage(inp=inp, out=5))
        lines.append(chained(call, f"call-{tool}", f"root-{tool}"))
    phase.transcripts(pytester.path).session(lines)
    result = pytester.runpytest("--phase", "m1", "--orchphase-json", "r.json")
    report = json.loads((pytester.path / "r.json").read_text())
    tickets = report["usage"]["tickets"]
    assert (tickets["R03"]["total"]["input"], tickets["R06"]["total"]["input"]) == (30, 70)
    result.assert_outcomes(passed=1, failed=1)  # R06's 70 input tokens > max 50


def test_break_even_from_lower_bounds_says_the_true_one_is_later(
    pytester: pytest.Pytester,
) -> None:
    write_phase(pytester)
    pytester.makefile(
        ".yaml",
        **{
            "criteria/baselines": "baselines:\n"
            "  single_agent: {tokens_per_ticket: 100000, usd_per_ticket: 1}\n"
        },
    )
    result = pytester.runpytest("--phase", "m1")
    result.stdout.fnmatch_lines(
        [
            "Break-even (tokens): orchestration beats single_agent from 1 tickets — "
            "*; from lower bounds (sub-agent output no record gives): the true break-even is "
            "later, or never",
        ]
    )


def test_a_backtracking_description_pattern_does_not_hang_the_run(
    pytester: pytest.Pytester,
) -> None:
    """`^(\\w+\\s?)*$` against a Task description ending in '!' never finishes in re. In a child
    process with a timeout only so that a hang fails this test instead of holding the suite."""
    write_phase(pytester, monitoring={"description_pattern": r"^(\w+\s?)*$"})
    session = next(
        (pytester.path / "docs/orchestration-data/phase-m1/transcripts").rglob("*.jsonl")
    )
    long = "Check the versions of every dependency that the project pins in its lock file!"
    session.write_text(session.read_text().replace("Check versions", long))
    result = pytester.runpytest_subprocess("--phase", "m1", timeout=120)
    result.stdout.fnmatch_lines(
        [
            "R06 monitoring*6,403*",  # a2, "Review R06 lifecycle fix", matches: attributed
            "unattributed: agent a3 (Check the versions*): no mapping*",  # does not match
        ]
    )


def test_ctrl_c_during_the_scan_stops_the_run_without_a_rescan_or_a_report(
    pytester: pytest.Pytester,
) -> None:
    """Ctrl-C while the transcripts are read (injected where the scan starts, in a child
    process as a real Ctrl-C would be): the run ends there, the scan is not started again to
    build the report, and each report asked for says the run was interrupted, UNDECIDED."""
    write_phase(pytester)
    pytester.makeconftest(
        """
        import pytest_orchphase.usage.scan

        def interrupted(*args, **kwargs):
            with open("scans.txt", "a") as fh:
                fh.write("scan\\n")
            raise KeyboardInterrupt

        pytest_orchphase.usage.scan.scan_files = interrupted
        """
    )
    result = pytester.runpytest_subprocess(
        "--phase", "m1", "--orchphase-json", "r.json", "--orchphase-md", "r.md"
    )
    assert result.ret == pytest.ExitCode.INTERRUPTED
    assert (pytester.path / "scans.txt").read_text() == "scan\n"
    report = json.loads((pytester.path / "r.json").read_text())
    assert report["decisions"]["proceed"]["answer"] == "UNDECIDED"
    assert "interrupted (Ctrl-C)" in report["error"]
    assert "interrupted (Ctrl-C)" in (pytester.path / "r.md").read_text()
    result.stdout.fnmatch_lines(
        ["orchphase: interrupted (Ctrl-C): the phase was not decided (UNDECIDED)"]
    )
    assert "Proceed to phase" not in result.stdout.str()


def test_strategy_usd_includes_the_planning_share_as_its_tokens_do(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Measured evidence (m1): each ticket's USD estimate is its own cost plus its share of the
    shared planning, as its token estimate is (left out, the batch came to a third)."""
    from pathlib import Path

    import yaml

    from pytest_orchphase.cli import main
    from pytest_orchphase.evaluate.runner import PhaseRunner

    write_phase(pytester)
    pytester.makefile(
        ".yaml",
        **{
            "criteria/m2": "phase: m2\ndata: phase-m2\nrequires: [m1]\ncriteria:\n"
            "  - {id: time, metric: wall_time_minutes, below: 30}\n"
        },
    )
    monkeypatch.chdir(pytester.path)
    assert main(["strategy", "--for", "m2", "--tickets", "R10=mechanical"]) == 0
    strategy = yaml.safe_load(Path("docs/orchestration-data/phase-m2-strategy.yaml").read_text())
    accounts = PhaseRunner(Path("criteria"), Path("docs/orchestration-data")).context("m1").accounts
    assert accounts.planning is not None and accounts.planning.usd
    # one batch's planning (m1's, the only evidence) spread over m2's tickets: R10 alone
    share = accounts.planning.usd / 1
    # m1's tickets have no complexity: a ticket's own cost is estimated from all of them
    tickets = [accounts.ticket(t) for t in ("R03", "R06")]
    assert None not in tickets
    costs = [t.usd for t in tickets if t is not None]
    assert None not in costs
    own = sum(c for c in costs if c is not None) / 2
    assert strategy["batching"]["planning_usd_per_ticket"] == pytest.approx(share)
    assert strategy["estimated_costs"]["R10"]["usd"] == pytest.approx(own + share)
    assert strategy["estimated_costs"]["total"]["usd"] == pytest.approx(own + share)
    # m1's sub-agent a3 is no ticket's (unattributed): it may be R03's or R06's own work, which
    # their figures leave out, so an estimate made of them is at least what it says
    assert accounts.unattributed is not None and accounts.unattributed.total
    assert strategy["estimated_costs"]["R10"]["lower_bounds"] == ["tokens", "usd"]
    assert strategy["estimated_costs"]["total"]["lower_bounds"] == ["tokens", "usd"]
    why = strategy["lower_bounds_why"]
    assert why[0].startswith("phase m1's unattributed usage ("), why
    # the planning per batch and the review tiers' means may miss that usage too
    assert strategy["model_selection"]["planning"]["lower_bound"] is True

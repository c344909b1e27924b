"""`pytest --phase aN` end to end, through pytester: outcomes, exit codes, output, JUnit."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from tests.helpers import A1_LOG, Edit, Phase, fail_a2, rename

A1_ITEMS = [
    "criteria/a1.yaml::token-efficiency[R03]",
    "criteria/a1.yaml::token-efficiency[R06]",
    "criteria/a1.yaml::quality[R03]",
    "criteria/a1.yaml::quality[R06]",
    "criteria/a1.yaml::time",
    "criteria/a1.yaml::savings-vs-v2",
]


def test_a1_passes_on_the_example_data_and_prints_table_and_decision(
    project: pytest.Pytester,
) -> None:
    project.makepyfile(test_own_suite="def test_not_a_criterion():\n    assert False\n")
    result = project.runpytest("--phase", "a1")
    result.assert_outcomes(passed=6)
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        [
            "*criterion*ticket*metric*actual*operator*limit*stretch*result*",
            "token-efficiency*R06*tokens*36,200*below*40,000*35,000*PASS (stretch missed)",
            "savings-vs-v2*savings[[]v2[]]*68.2%*min*60.0%*PASS",
            "Proceed to phase a2: YES",
        ]
    )
    assert "test_not_a_criterion" not in result.stdout.str()


def test_each_phase_of_the_example_data_passes(project: pytest.Pytester) -> None:
    for phase, items, upcoming in (("a2", 10, "a3"), ("a3", 6, "a4")):
        result = project.runpytest("--phase", phase)
        result.assert_outcomes(passed=items)
        result.stdout.fnmatch_lines([f"Proceed to phase {upcoming}: YES"])


def test_failure_reads_as_one_line_naming_file_and_field(project: pytest.Pytester) -> None:
    a1 = Phase.example("a1")
    rename(a1.criterion("token-efficiency"), "below", "max")
    a1.stage("R06", "implementation")["actual_tokens"] = 19200
    a1.write(project.path)
    result = project.runpytest("--phase", "a1")
    result.assert_outcomes(passed=5, failed=1)
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [
            "token-efficiency[[]R06[]]: tokens 42,000 > max 40,000 (stretch 35,000 missed) — "
            f"{A1_LOG}: tickets.R06",
            "Proceed to phase a2: NO — failing: token-efficiency[[]R06[]]",
        ]
    )
    assert "Traceback" not in result.stdout.str()
    assert "pytest_orchphase" not in result.stdout.str()


def test_item_location_is_the_criterion_line(project: pytest.Pytester) -> None:
    a1 = Phase.example("a1")
    a1.stage("R06", "implementation")["actual_tokens"] = 19200
    a1.write(project.path)
    xml = project.path / "junit.xml"
    project.runpytest("--phase", "a1", f"--junitxml={xml}", "-o", "junit_family=xunit1")
    case = next(
        c for c in ET.parse(xml).iter("testcase") if c.get("name") == "token-efficiency[R06]"
    )
    assert case.get("file") == "criteria/a1.yaml"
    lines = (project.path / "criteria/a1.yaml").read_text().splitlines()
    assert lines[int(case.get("line", "-1"))].strip() == "- id: token-efficiency"


def test_stretch_missed_passes_and_met_is_reported(project: pytest.Pytester) -> None:
    result = project.runpytest("--phase", "a1")
    result.stdout.fnmatch_lines(
        [
            "token-efficiency*R03*29,200*PASS (stretch met)",
            "token-efficiency*R06*36,200*PASS (stretch missed)",
        ]
    )
    assert result.ret == 0


def test_all_fails_when_one_condition_fails(project: pytest.Pytester) -> None:
    a1 = Phase.example("a1")
    a1.stage("R06", "implementation")["fix_loops"] = 2
    a1.write(project.path)
    result = project.runpytest("--phase", "a1")
    result.assert_outcomes(passed=5, failed=1)
    result.stdout.fnmatch_lines(
        [
            "quality[[]R06[]]: all of 3 conditions must hold; fix_loops 2 > max 1 — *",
            "*PASS  review_passed true == equals true",
            "*PASS  review_attempts 2 <= max 2",
            "*FAIL  fix_loops 2 > max 1",
        ]
    )


def test_any_passes_when_one_branch_holds_and_fails_when_none(project: pytest.Pytester) -> None:
    # Example data: A2 costs more per ticket than A1, yet quality is maintained: the OR passes.
    ok = project.runpytest("--phase", "a2", "-k", "comparison")
    ok.assert_outcomes(passed=1)
    ok.stdout.fnmatch_lines(["comparison-to-a1*33,633.3 | same*below | min*32,700 | same*PASS"])
    a2 = Phase.example("a2")
    a2.stage("R03", "implementation")["quality_vs_sonnet"]["edge_case_handling"] = "worse"
    a2.write(project.path)
    bad = project.runpytest("--phase", "a2", "-k", "comparison")
    bad.assert_outcomes(failed=1)
    bad.stdout.fnmatch_lines(
        [
            "comparison-to-a1: one of 2 conditions must hold; "
            "ticket_tokens_average 33,633.3 >= below 32,700 (a1's ticket_tokens_average); "
            "quality_vs_sonnet worse < min same — *",
        ]
    )


def test_per_ticket_filter_makes_items_only_for_matching_tickets(project: pytest.Pytester) -> None:
    result = project.runpytest("--phase", "a2", "--co", "-q")
    out = result.stdout.str()
    assert "criteria/a2.yaml::haiku-validation[R03]" in out
    assert "haiku-validation[R06]" not in out and "haiku-validation[R07]" not in out
    assert result.ret == 0


def test_filter_matching_no_ticket_fails_instead_of_passing(project: pytest.Pytester) -> None:
    a2 = Phase.example("a2")
    a2.criterion("haiku-validation")["where"] = {"execution_model": "opus"}
    a2.write(project.path)
    result = project.runpytest("--phase", "a2", "-k", "haiku-validation")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*no ticket matches where: {'execution_model': 'opus'}*"])


def test_cross_phase_reference_follows_the_other_phases_data(project: pytest.Pytester) -> None:
    # Raise A1's per-ticket average above A2's: the cost branch of the OR now holds on its own.
    a1 = Phase.example("a1")
    a1.stage("R06", "implementation")["actual_tokens"] = 19400
    a1.write(project.path)
    a2 = Phase.example("a2")
    a2.stage("R03", "implementation")["quality_vs_sonnet"]["edge_case_handling"] = "worse"
    a2.write(project.path)
    result = project.runpytest("--phase", "a2", "-k", "comparison", "-p", "no:warnings")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["comparison-to-a1*33,633.3 | worse*35,700 | same*PASS"])


def test_gate_blocks_a3_when_a2_fails_on_its_data(project: pytest.Pytester) -> None:
    fail_a2(project.path)
    result = project.runpytest("--phase", "a3")
    result.assert_outcomes(passed=5, failed=1)
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [
            "phase-gate[[]a2[]]: a3 requires a2, and phase a2 failed: haiku-validation[[]R03[]], "
            "haiku-success-rate",
            "Proceed to phase a4: NO — failing: phase-gate[[]a2[]]",
        ]
    )


def test_gate_is_recursive(project: pytest.Pytester) -> None:
    a1 = Phase.example("a1")
    a1.stage("R06", "implementation")["fix_loops"] = 2
    a1.write(project.path)
    result = project.runpytest("--phase", "a3", "-k", "gate")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["phase-gate[[]a2[]]: a3 requires a2, and phase a2 failed: phase-gate[[]a1[]]"]
    )


def test_no_gate_passes_with_a_recorded_warning(project: pytest.Pytester) -> None:
    fail_a2(project.path)
    result = project.runpytest("--phase", "a3", "--orchphase-no-gate")
    result.assert_outcomes(passed=6, warnings=1)
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        [
            "*gate bypassed with --orchphase-no-gate: phase a2 failed: haiku-validation*",
            "phase-gate*a2*BYPASSED",
            "Proceed to phase a4: YES — gate a2 bypassed with --orchphase-no-gate",
        ]
    )


def test_declared_total_mismatch_is_warned_and_listed(project: pytest.Pytester) -> None:
    a1 = Phase.example("a1")
    a1.log["totals"]["total_tokens"] = 79000
    a1.write(project.path)
    result = project.runpytest("--phase", "a1")
    result.assert_outcomes(passed=6, warnings=1)
    result.stdout.fnmatch_lines(
        [
            f"*{A1_LOG}:{line_of(project, A1_LOG, '  total_tokens:')}: OrchphaseWarning: "
            "declared total differs: "
            "totals.total_tokens declares 79,000, computed 77,000 = planning + Σ tickets",
            "Declared totals that differ from the computed ones (1):",
            f"{A1_LOG}:*totals.total_tokens*79,000*77,000*planning + Σ tickets",
        ]
    )


def test_unfilled_placeholder_is_a_collection_error(project: pytest.Pytester) -> None:
    a1 = Phase.example("a1")
    a1.stage("R06", "implementation")["actual_tokens"] = "${ACTUAL}"
    a1.write(project.path)
    result = project.runpytest("--phase", "a1")
    assert result.ret == pytest.ExitCode.INTERRUPTED  # collection error stops the run
    result.stdout.fnmatch_lines(
        [
            f"*{A1_LOG}:*:*: tickets.R06.implementation.actual_tokens: unfilled placeholder "
            "'${ACTUAL}'; expected the measured value",
        ]
    )
    assert "Traceback" not in result.stdout.str()


def test_yaml_syntax_error_names_file_line_and_column(project: pytest.Pytester, edit: Edit) -> None:
    edit(
        A1_LOG,
        '    - "Classify complexity (R03: mechanical, R06: nuanced)"',
        "    - Classify complexity (R03: mechanical, R06: nuanced)",
    )
    line = line_of(project, A1_LOG, "    - Classify complexity")
    result = project.runpytest("--phase", "a1")
    assert result.ret == 2
    result.stdout.fnmatch_lines(
        [f"*{A1_LOG}:{line}:*: YAML syntax error: mapping values are not allowed*"]
    )


def test_unknown_key_is_an_error_with_did_you_mean(project: pytest.Pytester) -> None:
    a1 = Phase.example("a1")
    rename(a1.ticket("R03"), "review", "reveiw")
    a1.write(project.path)
    result = project.runpytest("--phase", "a1")
    assert result.ret == 2
    result.stdout.fnmatch_lines(
        [f"*{A1_LOG}:*: tickets.R03.reveiw: unknown key 'reveiw'; did you mean 'review'?"]
    )


def test_unknown_metric_in_criteria_is_an_error_at_its_line(project: pytest.Pytester) -> None:
    a1 = Phase.example("a1")
    a1.criterion("time")["metric"] = "wall_time_minuts"
    a1.write(project.path)
    result = project.runpytest("--phase", "a1")
    assert result.ret == 2
    result.stdout.fnmatch_lines(
        [
            "*criteria/a1.yaml:*: criteria[[]2[]].metric: unknown phase metric "
            "'wall_time_minuts'; did you mean 'wall_time_minutes'?*"
        ]
    )


def test_unknown_phase_is_a_usage_error_listing_known_phases(project: pytest.Pytester) -> None:
    result = project.runpytest("--phase", "a9")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*unknown phase 'a9'; known phases: a1, a2, a3*"])


def test_requires_cycle_is_a_usage_error(project: pytest.Pytester) -> None:
    a1 = Phase.example("a1")
    a1.criteria["requires"] = ["a3"]
    a1.write(project.path)
    result = project.runpytest("--phase", "a2")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*phases require each other in a cycle: a2 -> a1 -> a3 -> a2*"])


def test_collect_only_lists_node_ids(project: pytest.Pytester) -> None:
    result = project.runpytest("--phase", "a1", "--co", "-q")
    listed = [line for line in result.stdout.lines if line.startswith("criteria/")]
    assert sorted(listed) == sorted(A1_ITEMS)  # the order is pytest's (or pytest-randomly's)
    assert result.ret == 0


def test_k_selects_criteria_and_leaves_the_decision_open(project: pytest.Pytester) -> None:
    result = project.runpytest("--phase", "a1", "-k", "quality")
    result.assert_outcomes(passed=2, deselected=4)
    result.stdout.fnmatch_lines(["Proceed to phase a2: UNDECIDED — only 2 of 6 criteria ran*"])


def test_marker_is_registered_and_selects(project: pytest.Pytester) -> None:
    result = project.runpytest("--phase", "a1", "-m", "orchphase", "--strict-markers")
    result.assert_outcomes(passed=6)
    none = project.runpytest("--phase", "a1", "-m", "not orchphase")
    none.assert_outcomes(deselected=6)


def test_junit_carries_properties_per_item(project: pytest.Pytester) -> None:
    xml = project.path / "junit.xml"
    project.runpytest("--phase", "a1", f"--junitxml={xml}")
    case = next(
        c for c in ET.parse(xml).iter("testcase") if c.get("name") == "token-efficiency[R06]"
    )
    props = {p.get("name"): p.get("value") for p in case.iter("property")}
    assert props["phase"] == "a1"
    assert props["metric"] == "tokens"
    assert props["actual"] == "36,200"
    assert props["operator"] == "below"
    assert props["limit"] == "40,000"
    assert props["stretch"] == "35,000"
    assert props["stretch_met"] == "false"
    assert props["result"] == "passed"


def test_without_a_phase_the_plugin_collects_nothing_and_imports_nothing_heavy(
    project: pytest.Pytester,
) -> None:
    project.makepyfile(
        test_light="""
        import sys
        def test_light():
            heavy = [m for m in ("pydantic", "yaml", "tabulate", "pytest_orchphase.load.models")
                     if m in sys.modules]
            assert heavy == []
    """
    )
    result = project.runpytest_subprocess("-p", "no:hypothesispytest", "-p", "no:xdist")
    result.assert_outcomes(passed=1)


def test_disabling_the_plugin_removes_the_option(project: pytest.Pytester) -> None:
    result = project.runpytest("-p", "no:orchphase", "--phase", "a1")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*unrecognized arguments: --phase*"])


def test_phase_from_env_and_ini_with_command_line_first(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    project.makeini("[pytest]\norchphase_phase = a3\n")
    assert project.runpytest().parseoutcomes()["passed"] == 6  # ini: a3
    monkeypatch.setenv("ORCHPHASE_PHASE", "a2")
    assert project.runpytest().parseoutcomes()["passed"] == 10  # env beats ini
    assert project.runpytest("--phase", "a1").parseoutcomes()["passed"] == 6  # option beats env


def test_data_and_criteria_folders_can_be_moved(project: pytest.Pytester) -> None:
    (project.path / "criteria").rename(project.path / "gates")
    (project.path / "docs").rename(project.path / "records")
    result = project.runpytest(
        "--phase",
        "a1",
        "--orchphase-criteria",
        "gates",
        "--orchphase-data",
        "records/orchestration-data",
    )
    result.assert_outcomes(passed=6)
    result.stdout.fnmatch_lines(["gates/a1.yaml ......*"])


def line_of(project: pytest.Pytester, relpath: str, start: str) -> int:
    """The 1-based line of ``relpath`` that starts with ``start`` (exactly one must)."""
    lines = (project.path / relpath).read_text().splitlines()
    found = [i for i, text in enumerate(lines, 1) if text.startswith(start)]
    assert len(found) == 1, found
    return found[0]


def test_the_readmes_sample_output_is_what_a_run_prints(project: pytest.Pytester) -> None:
    from tests.helpers import REPO

    readme = (REPO / "README.md").read_text()
    start = readme.index("```text\ncriteria/a1.yaml") + len("```text\n")
    sample = readme[start : readme.index("\n```", start)].splitlines()
    result = project.runpytest("--phase", "a1", "-p", "no:randomly")
    out = result.stdout.lines
    printed = out[next(i for i, line in enumerate(out) if line.startswith("criteria/a1.yaml")) :]
    # the last line holds the run's duration
    assert printed[: len(sample) - 1] == sample[:-1]
    assert sample[-1].split(" in ")[0] == printed[len(sample) - 1].split(" in ")[0]
    a2 = project.runpytest("--phase", "a2", "-p", "no:randomly").stdout.lines
    adopt = next(line for line in a2 if line.startswith("Adopt haiku"))
    assert f"```text\n{adopt}\n```" in readme


@pytest.mark.parametrize("workers", [(), ("-n", "2")], ids=["serial", "xdist"])
def test_tb_line_prints_one_line_per_failure(
    project: pytest.Pytester, edit: Edit, workers: tuple[str, ...]
) -> None:
    """`--tb=line` printed the failure's whole text, then its first 50 characters."""
    if workers:
        pytest.importorskip("xdist")
    # a text edit: the failure names the criterion's line in the shipped file (12)
    edit("criteria/a1.yaml", "    below: 40k\n", "    below: 36k\n")
    result = project.runpytest("--phase", "a1", "--tb=line", *workers)
    result.assert_outcomes(passed=5, failed=1)
    lines = result.stdout.lines
    start = lines.index(next(line for line in lines if "= FAILURES =" in line))
    end = next(i for i, line in enumerate(lines) if i > start and line.startswith("==="))
    body = [line for line in lines[start + 1 : end] if not line.startswith("[gw")]
    assert body == [
        "criteria/a1.yaml:12: token-efficiency[R06]: tokens 36,200 >= below 36,000 (stretch "
        "35,000 missed) — docs/orchestration-data/phase-a1-r03-r06/execution-log.yaml: "
        "tickets.R06"
    ]


def test_an_item_that_cannot_be_evaluated_still_shows_its_limit(project: pytest.Pytester) -> None:
    """Output tokens of an estimate are unknown: the item fails, showing the limit it was held
    to, not `limit n/a`."""
    a1 = Phase.example("a1")
    a1.criterion("token-efficiency")["measure"] = "output"
    a1.write(project.path)
    result = project.runpytest("--phase", "a1", "--orchphase-json", "r.json")
    result.assert_outcomes(passed=4, failed=2)
    result.stdout.fnmatch_lines(
        ["token-efficiency  R03  *tokens (output)  *n/a  *below  *40,000  *35,000  *FAIL"]
    )
    report = json.loads((project.path / "r.json").read_text())
    leaf = next(c for c in report["criteria"] if c["name"] == "token-efficiency[R03]")
    assert (leaf["passed"], leaf["actual"], leaf["limit"], leaf["stretch"]) == (
        False,
        None,
        40000,
        35000,
    )
    assert leaf["stretch_met"] is None  # not evaluated: neither met nor missed


def test_only_a_run_the_command_line_started_freezes_the_collector_before_exit(
    pytester: pytest.Pytester,
) -> None:
    """The phase run moves what it holds out of the garbage collector's last passes (pytest's
    and Python's at exit) only when the process ends with it: a run in a process that goes on
    (pytest.main([...]), pytester in-process) freezes nothing, so its garbage stays
    collectable."""
    import gc

    from tests.helpers import Phase, decision, flat_ticket

    cap = {"id": "cap", "for_each": "ticket", "metric": "tokens", "measure": "total", "max": "50k"}
    Phase.of("z1", [cap], {"R01": flat_ticket()}).write(pytester.path)
    pytester.makeconftest(
        """
        import gc

        def pytest_unconfigure(config):
            with open("frozen.txt", "w") as fh:
                fh.write(str(gc.get_freeze_count()))
        """
    )
    frozen = pytester.path / "frozen.txt"
    result = pytester.runpytest_subprocess("--phase", "z1", "--orchphase-json", "r.json")
    assert (result.ret, decision(pytester)) == (0, "YES"), result.stdout.str()
    assert int(frozen.read_text()) > 0
    before = gc.get_freeze_count()
    result = pytester.runpytest_inprocess("--phase", "z1", "--orchphase-json", "r.json")
    assert (result.ret, decision(pytester)) == (0, "YES"), result.stdout.str()
    assert int(frozen.read_text()) == before == gc.get_freeze_count()

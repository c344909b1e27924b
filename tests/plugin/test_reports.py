"""What a team reads after `pytest --phase aN`: JSON, markdown, step summary, extension points."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from pytest_orchphase.files import STEP_SUMMARY_LIMIT, append_step_summary, atomic_write
from tests.helpers import Phase, fail_a2

MD_SECTIONS = [
    "# Phase a2 analysis: *",
    "## Results",
    "### Token usage by stage and model",
    "### Criteria",
    "## Quality",
    "## Efficiency",
    "## Comparison to baselines",
    "## Comparison to the previous phase (a1)",
    "## Model adoption",
    "## Declared totals",
    "## Chart",
    "## Decision",
]


def run_a2(project: pytest.Pytester, *extra: str) -> pytest.RunResult:
    return project.runpytest(
        "--phase",
        "a2",
        "--orchphase-json",
        "out/report.json",
        "--orchphase-md",
        "out/report.md",
        *extra,
    )


def test_json_report_is_canonical_and_complete(project: pytest.Pytester) -> None:
    run_a2(project).assert_outcomes(passed=10)
    report = json.loads((project.path / "out/report.json").read_text())
    for key in (
        "format_version",
        "phase",
        "commit",
        "data",
        "criteria",
        "gates",
        "decisions",
        "usage",
    ):
        assert key in report
    assert report["phase"] == "a2"
    assert report["data"]["tickets"] == ["R03", "R06", "R07"]
    first = report["criteria"][0]
    for key in (
        "id",
        "ticket",
        "metric",
        "actual",
        "operator",
        "limit",
        "stretch",
        "passed",
        "stretch_met",
        "source",
    ):
        assert key in first
    assert (first["id"], first["ticket"], first["actual"], first["limit"], first["stretch"]) == (
        "token-efficiency",
        "R03",
        28300,
        45000,
        30000,
    )
    assert first["stretch_met"] is True
    assert first["source"].endswith("execution-log.yaml: tickets.R03")
    assert len(report["criteria"]) == 9
    (gate,) = report["gates"]
    assert {
        k: gate[k]
        for k in ("required", "passed", "bypassed", "failing", "error", "source", "covers")
    } == {
        "required": "a1",
        "passed": True,
        "bypassed": False,
        "failing": [],
        "error": None,
        "source": "phase a1 passed all its criteria (YAML criteria only; its Python checks "
        "count in its own run)",
        "covers": "YAML criteria only; its Python checks count in its own run",
    }
    assert report["decisions"]["proceed"]["answer"] == "YES"
    adopt = report["decisions"]["adopt_model"]
    assert (adopt["answer"], adopt["successes"], adopt["sample_size"]) == ("INCONCLUSIVE", 1, 1)
    # Wilson, 1 of 1, unrounded as decided on (shown 20.7–100.0)
    assert adopt["interval"] == [pytest.approx(20.654931437723747, abs=1e-12), 100.0]
    assert report["usage"]["source"] == "estimated"
    assert report["usage"]["total"]["total"] == 115400
    assert report["usage"]["estimated"]["tickets"]["R03"]["total"]["total"] == 28300


def test_markdown_has_the_analysis_sections_filled(project: pytest.Pytester) -> None:
    result = run_a2(project)
    result.stdout.fnmatch_lines(
        ["orchphase: wrote out/report.json", "orchphase: wrote out/report.md"]
    )
    text = (project.path / "out/report.md").read_text()
    lines = text.splitlines()
    for section in MD_SECTIONS:
        assert any(Path(line).match(section) or line == section for line in lines), section
    assert "**Proceed to phase a3: YES**" in text
    assert "| v2 " in text and "363,000" in text
    assert "${" not in text and "[assessment]" not in text


def test_same_json_report_serial_and_under_xdist(project: pytest.Pytester) -> None:
    pytest.importorskip("xdist")
    run_a2(project).assert_outcomes(passed=10)
    serial = (project.path / "out/report.json").read_text()
    (project.path / "out/report.json").unlink()
    result = run_a2(project, "-n", "2")
    result.assert_outcomes(passed=10)
    assert (project.path / "out/report.json").read_text() == serial
    assert result.stdout.str().count("orchphase: wrote out/report.json") == 1  # controller only


def test_step_summary_is_appended(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = project.path / "summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    project.runpytest("--phase", "a1").assert_outcomes(passed=6)
    text = summary.read_text()
    assert text.startswith("earlier step\n")
    assert "# Phase a1 analysis" in text and "**Proceed to phase a2: YES**" in text


def test_step_summary_stays_under_githubs_limit(tmp_path: Path) -> None:
    path = tmp_path / "summary.md"
    path.write_bytes(b"x" * (STEP_SUMMARY_LIMIT - 1000))
    assert append_step_summary(path, "line\n" * 10_000) == "truncated"
    assert path.stat().st_size <= STEP_SUMMARY_LIMIT
    assert path.read_text().endswith("step summary limit)_\n")


def test_atomic_write_leaves_the_old_file_whole_when_it_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "report.json"
    target.write_text("old")

    def crash(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError):
        atomic_write(target, b"new")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]  # no temp file left


def test_failing_phase_report_says_no_with_reasons(project: pytest.Pytester) -> None:
    fail_a2(project.path)
    run_a2(project).assert_outcomes(passed=8, failed=2)
    report = json.loads((project.path / "out/report.json").read_text())
    assert report["decisions"]["proceed"]["answer"] == "NO"
    assert report["decisions"]["proceed"]["reasons"] == [
        "failing: haiku-validation[R03], haiku-success-rate"
    ]
    failed = [c["name"] for c in report["criteria"] if not c["passed"]]
    assert failed == ["haiku-validation[R03]", "haiku-success-rate"]


def test_broken_data_still_writes_a_report_saying_why(project: pytest.Pytester) -> None:
    a1 = Phase.example("a1")
    a1.stage("R06", "implementation")["actual_tokens"] = "${ACTUAL}"
    a1.write(project.path)
    result = project.runpytest("--phase", "a1", "--orchphase-json", "r.json")
    assert result.ret == 2
    report = json.loads((project.path / "r.json").read_text())
    assert report["decisions"]["proceed"]["answer"] == "NO"
    assert "unfilled placeholder" in report["error"]


def test_collect_only_writes_no_report(project: pytest.Pytester) -> None:
    run_a2(project, "--co").assert_outcomes()
    assert not (project.path / "out").exists()


def test_fixture_gives_tests_the_phase_and_its_metrics(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_extra="""
        def test_review_share(orchphase_phase):
            review = orchphase_phase.metric("stage_tokens", stage="review", measure="total")
            assert review == 5100 + 10400 + 11600
            assert orchphase_phase.metric("fix_loops", ticket="R03") == 1
            assert list(orchphase_phase.tickets) == ["R03", "R06", "R07"]
    """
    )
    project.runpytest("--phase", "a2", "test_extra.py").assert_outcomes(passed=11)
    project.runpytest("test_extra.py").assert_outcomes(skipped=1)  # no phase: skipped, not failed


def test_hook_registers_a_metric_that_criteria_can_name(project: pytest.Pytester) -> None:
    project.makeconftest("""
        def pytest_orchphase_register_metrics(registry):
            def review_share(ctx, ticket, params):
                review = sum(ctx.accounts.stage(t, "review").total for t in ctx.phase.tickets)
                return review / ctx.phase_usage().total * 100
            registry.register("review_share", scope="phase", unit="percent",
                              formula="review tokens / tokens × 100", fn=review_share)
    """)
    review_share = {"id": "review-share", "metric": "review_share", "max": "20%"}
    Phase.example("a2").add(review_share).write(project.path)
    result = project.runpytest("--phase", "a2", "-k", "review-share")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["review-share: review_share 23.5% > max 20.0% — *"])


def test_summary_compares_every_phase_with_data_and_names_one_left_out(
    project: pytest.Pytester,
) -> None:
    (project.path / "docs/orchestration-data/phase-a3-r03-r06-r07/metadata.yaml").write_text("[\n")
    result = project.runpytest("--phase", "a1")
    result.stdout.fnmatch_lines(
        [
            "Phases compared (one column per phase with data):",
            "metric*a1*a2",
            "total tokens*77,000*115,400",
            "phase a3 left out: docs/orchestration-data/phase-a3-r03-r06-r07/metadata.yaml:*",
        ]
    )


def test_a_report_path_that_is_a_directory_is_a_usage_error(project: pytest.Pytester) -> None:
    (project.path / "out").mkdir()
    result = project.runpytest("--phase", "a1", "--orchphase-json", "out")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*out: is a directory; expected the path of a file to write"])


def test_a_report_that_cannot_be_written_is_refused_before_anything_is_written(
    project: pytest.Pytester,
) -> None:
    (project.path / "blocked").write_text("a file where a folder is needed\n")
    result = project.runpytest(
        "--phase", "a1", "--orchphase-json", "r.json", "--orchphase-md", "blocked/r.md"
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*blocked/r.md: cannot be written: blocked is not a folder*"])
    assert not (project.path / "r.json").exists()
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


@pytest.mark.parametrize("form", ["space", "equals"])
def test_report_paths_outside_the_project_work_run_after_run(
    project: pytest.Pytester, tmp_path_factory: pytest.TempPathFactory, form: str
) -> None:
    """An absolute report path that exists (the second run) must not move the phase's folders:
    pytest takes an existing path among its arguments as a hint for its rootdir."""
    out = tmp_path_factory.mktemp("elsewhere")
    args = []
    for option, name in (("--orchphase-md", "r.md"), ("--orchphase-json", "r.json")):
        path = str(out / name)
        args += [option, path] if form == "space" else [f"{option}={path}"]
    for _ in range(2):
        result = project.runpytest("--phase", "a1", *args)
        result.assert_outcomes(passed=6)
        assert result.ret == 0
    assert (out / "r.md").is_file() and (out / "r.json").is_file()


def test_json_and_markdown_reports_read_the_same_from_any_folder(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Their paths are relative to the project (the criteria folder's parent), not to the
    folder the run started in (from a subfolder they came out absolute)."""
    root = project.path
    outputs = (f"--orchphase-json={root}/r1.json", f"--orchphase-md={root}/r1.md")
    project.runpytest("--phase", "a1", *outputs).assert_outcomes(passed=6)
    (root / "sub").mkdir()
    monkeypatch.chdir(root / "sub")
    project.runpytest(
        "--phase",
        "a1",
        f"--orchphase-criteria={root}/criteria",
        "--orchphase-data=../docs/orchestration-data",
        f"--orchphase-json={root}/r2.json",
        f"--orchphase-md={root}/r2.md",
    ).assert_outcomes(passed=6)
    first = json.loads((root / "r1.json").read_text())
    assert json.loads((root / "r2.json").read_text()) == first
    assert first["data"]["criteria"] == "criteria/a1.yaml"
    assert str(root) not in (root / "r2.json").read_text()
    md = [(root / name).read_text().replace("r2-usage", "r1-usage") for name in ("r1.md", "r2.md")]
    assert md[0] == md[1]


def test_report_paths_are_relative_to_the_projects_configuration(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a pytest configuration file, its folder is the base, from the project's root or
    from a subfolder (the settings are found from there)."""
    root = project.path
    (root / "pytest.ini").write_text("[pytest]\norchphase_criteria = criteria\n")
    project.runpytest("--phase", "a1", f"--orchphase-json={root}/r1.json").assert_outcomes(passed=6)
    (root / "sub").mkdir()
    monkeypatch.chdir(root / "sub")
    project.runpytest("--phase", "a1", f"--orchphase-json={root}/r2.json").assert_outcomes(passed=6)
    first = json.loads((root / "r1.json").read_text())
    assert json.loads((root / "r2.json").read_text()) == first
    assert first["data"]["criteria"] == "criteria/a1.yaml"

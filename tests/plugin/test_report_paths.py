"""Report paths that would destroy what the run reads, or one another, are a usage error (exit
4) before anything is written, the file left as it was (two reports thrown away in /dev/null
destroy nothing); a report that still cannot be written late leaves no report saying YES beside
the failed run."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import Phase, YamlData, decision, flat_ticket, read_report, run_phase

CAP: YamlData = {"id": "cap", "for_each": "ticket", "metric": "tokens", "measure": "total"}
DATA = "docs/orchestration-data/phase-p1"


def _passing_phase(root: Path, **metadata: object) -> Path:
    """Phase p1: one Sonnet ticket of 20,000 tokens under a cap of 30,000 (YES); its folder."""
    meta = {"phase": "p1", "tickets": ["T01"], **metadata} if metadata else None
    return Phase.of("p1", [{**CAP, "max": 30_000}], {"T01": flat_ticket()}, metadata=meta).write(
        root
    )


def _refused(pytester: pytest.Pytester, own: Path, *args: str) -> pytest.RunResult:
    before = own.read_bytes()
    result = pytester.runpytest("--phase", "p1", "-p", "no:randomly", *args)
    assert own.read_bytes() == before
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str()
    return result


def test_an_absolute_path_and_a_space_are_compared_as_the_file(pytester: pytest.Pytester) -> None:
    _passing_phase(pytester.path)
    own = pytester.path / "criteria/p1.yaml"
    result = _refused(pytester, own, "--orchphase-md", str(own))
    result.stderr.fnmatch_lines(["*--orchphase-md names a criteria file, which the run reads*"])


def test_a_link_to_the_log_is_the_log(pytester: pytest.Pytester) -> None:
    _passing_phase(pytester.path)
    own = pytester.path / DATA / "execution-log.yaml"
    (pytester.path / "report.json").symlink_to(own)
    result = _refused(pytester, own, "--orchphase-json=report.json")
    result.stderr.fnmatch_lines(["*--orchphase-json names the execution-log.yaml of a phase's*"])


def test_the_baselines_and_the_price_file_are_inputs(pytester: pytest.Pytester) -> None:
    _passing_phase(pytester.path)
    (pytester.path / "criteria/baselines.yaml").write_text("baselines: {}\n")
    prices = pytester.path / "prices.yaml"
    prices.write_text("models: {}\n")
    _refused(
        pytester,
        pytester.path / "criteria/baselines.yaml",
        "--orchphase-md=criteria/baselines.yaml",
    )
    result = _refused(
        pytester, prices, "--orchphase-prices=prices.yaml", "--orchphase-json=prices.yaml"
    )
    result.stderr.fnmatch_lines(["*--orchphase-json names the price file*"])


def test_a_transcript_the_phase_reads_is_an_input(pytester: pytest.Pytester) -> None:
    folder = _passing_phase(
        pytester.path, sessions=[{"path": "../../../runs/t01.jsonl", "ticket": "T01"}]
    )
    (pytester.path / "runs").mkdir()
    own = pytester.path / "runs/t01.jsonl"
    own.write_text("{}\n")
    result = _refused(pytester, own, "--orchphase-json=runs/t01.jsonl")
    result.stderr.fnmatch_lines(["*names a source phase p1's sessions: name*"])
    (folder / "transcripts").mkdir()
    (folder / "transcripts/old.jsonl").write_text("{}\n")
    _refused(
        pytester, folder / "transcripts/old.jsonl", f"--orchphase-md={DATA}/transcripts/old.jsonl"
    )


def test_a_session_named_by_id_is_an_input_in_the_claude_projects_folder(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A session named by id is every ``<id>.jsonl`` under the Claude projects folders: a report
    on it would replace the transcript, and one beside it would become a part of a session."""
    session = "0f0e0d0c-0000-4000-8000-000000000001"
    _passing_phase(pytester.path, sessions=[{"session": session, "ticket": "T01"}])
    project = pytester.path / "claude/projects/-work-app"
    project.mkdir(parents=True)
    own = project / f"{session}.jsonl"
    own.write_text("{}\n")
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(pytester.path / "claude"))
    result = _refused(pytester, own, f"--orchphase-json={own}")
    result.stderr.fnmatch_lines(
        ["*--orchphase-json names a file in the Claude projects folder*where the sessions*"]
    )
    _refused(pytester, own, "--orchphase-md", str(project.parent / "-work-other" / "r.md"))
    assert not (project.parent / "-work-other").exists()


def test_the_chart_and_the_junit_file_are_reports_too(pytester: pytest.Pytester) -> None:
    _passing_phase(pytester.path)
    result = pytester.runpytest(
        "--phase", "p1", "-p", "no:randomly", "--orchphase-md=a.md", "--orchphase-json=a-usage.png"
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str()
    result.stderr.fnmatch_lines(
        ["*--orchphase-json and the chart of --orchphase-md name one file*"]
    )
    result = pytester.runpytest(
        "--phase", "p1", "-p", "no:randomly", "--orchphase-json=r.xml", "--junitxml=r.xml"
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str()
    result.stderr.fnmatch_lines(["*--orchphase-json and --junitxml name one file*"])
    assert not (pytester.path / "r.xml").exists()


def test_a_report_in_the_phase_folder_beside_its_data_is_written(
    pytester: pytest.Pytester,
) -> None:
    """Only the files the run reads are refused: an analysis kept beside the data is not one."""
    _passing_phase(pytester.path)
    result = pytester.runpytest(
        "--phase",
        "p1",
        "-p",
        "no:randomly",
        f"--orchphase-md={DATA}/analysis.md",
        "--orchphase-json=new/r.json",
    )
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    assert (pytester.path / DATA / "analysis.md").is_file()
    assert read_report(pytester.path, "new/r.json")["decisions"]["proceed"]["answer"] == "YES"


def test_a_report_that_fails_late_leaves_no_report_saying_yes(pytester: pytest.Pytester) -> None:
    """The markdown's folder passes the check, then goes (a check beside the criteria removes
    it): the run exits 4, its JSON report and its JUnit file say UNDECIDED."""
    _passing_phase(pytester.path)
    (pytester.path / "out").mkdir()
    pytester.makepyfile(
        check_gone="import shutil\n\n\ndef test_gone():\n    shutil.rmtree('out')\n"
        "    open('out', 'w').close()\n"
    )
    result = pytester.runpytest(
        "--phase",
        "p1",
        "-p",
        "no:randomly",
        "check_gone.py",
        "--orchphase-json=r.json",
        "--orchphase-md=out/r.md",
        "--junitxml=j.xml",
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str()
    report = read_report(pytester.path)
    assert report["decisions"]["proceed"]["answer"] == "UNDECIDED"
    assert "out/r.md" in str(report["error"])
    assert 'name="orchphase_decision" value="UNDECIDED"' in (pytester.path / "j.xml").read_text()


@pytest.mark.parametrize(
    ("option", "own_file"),
    [
        ("--orchphase-json", "criteria/p1.yaml"),
        ("--orchphase-md", "docs/orchestration-data/phase-p1/execution-log.yaml"),
        ("--junitxml", "docs/orchestration-data/phase-p1/metadata.yaml"),
    ],
)
def test_a_report_path_on_a_file_of_the_phase_leaves_it_as_it_was(
    pytester: pytest.Pytester, option: str, own_file: str
) -> None:
    _passing_phase(pytester.path)
    before = (pytester.path / own_file).read_bytes()
    result = pytester.runpytest("--phase", "p1", "-p", "no:randomly", f"{option}={own_file}")
    assert (pytester.path / own_file).read_bytes() == before
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str()
    result.stderr.fnmatch_lines([f"*{own_file}*{option} names *, which the run reads*"])


def test_two_reports_given_one_path_is_a_usage_error(pytester: pytest.Pytester) -> None:
    _passing_phase(pytester.path)
    result = pytester.runpytest(
        "--phase", "p1", "-p", "no:randomly", "--orchphase-json=out.txt", "--orchphase-md=out.txt"
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str()
    result.stderr.fnmatch_lines(["*out.txt*--orchphase-json and --orchphase-md name one file*"])
    assert not (pytester.path / "out.txt").exists()


def test_a_run_that_exits_4_leaves_no_json_report_saying_yes(pytester: pytest.Pytester) -> None:
    _passing_phase(pytester.path)
    result = run_phase(pytester, "p1", "--orchphase-md=criteria/p1.yaml/analysis.md")
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str()
    assert not (pytester.path / "r.json").exists() or decision(pytester) != "YES"


def test_two_reports_thrown_away_in_dev_null_are_no_usage_error(
    pytester: pytest.Pytester,
) -> None:
    _passing_phase(pytester.path)
    args = ("--orchphase-json=/dev/null", "--orchphase-md=/dev/null")
    result = pytester.runpytest("--phase", "p1", "-p", "no:randomly", *args)
    assert result.ret == pytest.ExitCode.OK, result.stderr.str()

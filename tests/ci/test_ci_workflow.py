"""The CI configurations users copy (docs/ci/): valid for GitHub, and their own shell steps run here
on the example phases, as the runner would run them (bash -eo pipefail, GITHUB_OUTPUT, the step
summary); only the install and GitHub's own actions are left out."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from pytest_orchphase import cli
from tests.helpers import REPO, fail_a2

WORKFLOW = REPO / "docs" / "ci" / "phase-gate.yml"
GITLAB = REPO / "docs" / "ci" / "gitlab-ci.yml"
COMMENT_LIMIT = 65536
CHECK_JSONSCHEMA = [sys.executable, "-m", "check_jsonschema", "--builtin-schema"]


def workflow() -> dict[Any, Any]:
    loaded: dict[Any, Any] = yaml.safe_load(WORKFLOW.read_text())
    return loaded


def steps() -> dict[str, dict[str, Any]]:
    job = workflow()["jobs"]["phase-gate"]
    return {s.get("id") or s.get("name") or s["uses"]: s for s in job["steps"]}


def clean_env(tmp: Path) -> dict[str, str]:
    """The machine's environment without this test run's pytest and orchphase settings, with
    this interpreter's scripts (pytest, python) first on PATH."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTEST_", "ORCHPHASE_", "GITHUB_", "COV_"))
    }
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


class Runner:
    """Runs the workflow's steps in a project folder, as GitHub's runner would."""

    def __init__(self, project: Path, tmp: Path, values: dict[str, str]) -> None:
        self.project, self.tmp, self.values = project, tmp, values
        self.output = tmp / "github_output"
        self.summary = tmp / "step_summary"
        self.output.touch()
        self.summary.touch()
        self.env = clean_env(tmp)

    def _resolve(self, env: dict[str, Any]) -> dict[str, str]:
        # A value with a ${{ }} expression is GitHub's to compute: the test gives it.
        return {k: self.values[k] if "${{" in str(v) else str(v) for k, v in env.items()}

    def run(self, step_id: str, **values: str) -> subprocess.CompletedProcess[str]:
        step = steps()[step_id]
        script = self.tmp / f"{step_id}.sh"
        script.write_text(step["run"])
        self.values.update(values)
        env = {
            **self.env,
            **self._resolve(workflow().get("env", {})),
            **self._resolve(workflow()["jobs"]["phase-gate"].get("env", {})),
            **self._resolve(step.get("env", {})),
            "GITHUB_OUTPUT": str(self.output),
            "GITHUB_STEP_SUMMARY": str(self.summary),
        }
        return subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
            cwd=self.project,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    def outputs(self) -> dict[str, str]:
        lines = self.output.read_text().splitlines()
        return dict(line.split("=", 1) for line in lines if "=" in line)


@pytest.fixture
def example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty project where `orchphase init --example` wrote the example phases."""
    project = tmp_path / "project"
    project.mkdir()
    monkeypatch.chdir(project)
    assert cli.main(["init", "--example"]) == 0
    monkeypatch.chdir(tmp_path)
    return project


@pytest.fixture
def runner(example: Path, tmp_path: Path) -> Runner:
    return Runner(example, tmp_path, {"PHASE": "a1", "COMMENT": "false"})


# --------------------------------------------------------------------------- validity


def check_jsonschema(
    path: Path, schema: str = "vendor.github-workflows"
) -> subprocess.CompletedProcess[str]:
    if importlib.util.find_spec("check_jsonschema") is None:
        pytest.skip("check-jsonschema is not installed (pip install -e '.[test]')")
    return subprocess.run(
        [*CHECK_JSONSCHEMA, schema, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_workflow_is_valid_for_github(tmp_path: Path) -> None:
    result = check_jsonschema(WORKFLOW)
    assert result.returncode == 0, result.stdout + result.stderr
    # the checker does check: a misspelt key is refused
    broken = tmp_path / "broken.yml"
    broken.write_text(WORKFLOW.read_text().replace("runs-on:", "run-on:"))
    assert check_jsonschema(broken).returncode == 1


def test_gitlab_job_is_valid_for_gitlab(tmp_path: Path) -> None:
    result = check_jsonschema(GITLAB, "vendor.gitlab-ci")
    assert result.returncode == 0, result.stdout + result.stderr
    broken = tmp_path / "broken.yml"
    broken.write_text(GITLAB.read_text().replace("  script:", "  scripts:"))
    assert check_jsonschema(broken, "vendor.gitlab-ci").returncode == 1


def test_workflow_does_what_docs_ci_says() -> None:
    flow, by_id = workflow(), steps()
    uses = {s.get("uses", "").split("@")[0] for s in by_id.values()}
    assert {"actions/cache", "actions/upload-artifact", "actions/setup-python"} <= uses
    gate = by_id["gate"]["run"]
    for option in (
        "--phase",
        "--orchphase-no-cache",  # no run after it would find the scan cache: no cost of making it
        "--junitxml=",
        "--orchphase-json=",
        "--orchphase-md=",
    ):
        assert option in gate
    assert "--orchphase-no-cache" in GITLAB.read_text()
    triggers = flow.get("on", flow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert triggers is not None
    assert set(triggers) == {"pull_request", "push", "workflow_dispatch"}
    assert flow["permissions"] == {"contents": "read", "pull-requests": "write"}
    # a run script takes GitHub's values through env:, never pasted in (script injection)
    assert all("${{" not in s.get("run", "") for s in by_id.values())
    assert by_id["Verdict"]["if"] == "always()"
    doc = (REPO / "docs" / "ci.md").read_text()
    for name in ("ORCHPHASE_PHASE", "ORCHPHASE_COMMENT", "PYTEST_ORCHPHASE", "65,536"):
        assert name in doc


# --------------------------------------------------------------------------- the gate step


def test_gate_step_passes_keeps_the_reports_and_the_summary(runner: Runner) -> None:
    result = runner.run("gate")
    assert result.returncode == 0, result.stdout + result.stderr
    assert runner.outputs() == {"status": "0"}
    assert "orchphase: phase a1 passed" in result.stdout and "::error" not in result.stdout
    reports = runner.project / "orchphase-reports"
    names = {p.name for p in reports.iterdir()}
    assert {"junit.xml", "a1.json", "a1.md"} <= names
    if importlib.util.find_spec("matplotlib"):
        assert "a1-usage.png" in names  # the chart, kept with the reports
    assert json.loads((reports / "a1.json").read_text())["phase"] == "a1"
    assert "**Proceed to phase a2: YES**" in runner.summary.read_text()
    assert runner.run("Verdict", STATUS="0").returncode == 0


def test_gate_step_tells_a_failed_phase(runner: Runner) -> None:
    fail_a2(runner.project)
    result = runner.run("gate", PHASE="a2")
    assert result.returncode == 0, result.stderr  # the verdict comes last, after the artifacts
    assert runner.outputs() == {"status": "1"}
    assert "::error title=Phase a2 failed::FAILED: a criterion or gate" in result.stdout
    assert "CONFIGURATION" not in result.stdout
    assert "**Proceed to phase a3: NO" in runner.summary.read_text()
    assert runner.run("Verdict", STATUS="1").returncode == 1


@pytest.mark.parametrize(
    ("phase", "breakage", "status"),
    [
        ("a1", "phase: a1\nphase: a1\n", "2"),  # a duplicate key: a collection error
        ("a9", None, "4"),  # an unknown phase: a usage error
    ],
)
def test_gate_step_tells_a_configuration_error_from_a_failed_phase(
    runner: Runner, phase: str, breakage: str | None, status: str
) -> None:
    if breakage is not None:
        criteria = runner.project / "criteria" / "a1.yaml"
        criteria.write_text(criteria.read_text().replace("phase: a1\n", breakage, 1))
    result = runner.run("gate", PHASE=phase)
    assert result.returncode == 0, result.stderr
    assert runner.outputs() == {"status": status}
    assert (
        f"::error title=Phase {phase} not evaluated::CONFIGURATION ERROR (exit {status})"
        in result.stdout
    )
    assert "FAILED" not in result.stdout
    assert f"\n## Phase {phase}: CONFIGURATION ERROR (exit {status})" in runner.summary.read_text()
    assert runner.run("Verdict", STATUS=status).returncode == int(status)


def test_verdict_fails_when_the_gate_never_ran(runner: Runner) -> None:
    result = runner.run("Verdict", STATUS="")
    assert result.returncode == 1 and "not evaluated" in result.stdout


# --------------------------------------------------------------------------- the comment


FAKE_GH = """#!/usr/bin/env bash
# gh, as far as the comment step uses it: lists the comments (through the step's own --jq
# filter, with jq) and records what it is asked to post.
echo "$*" >> "$GH_LOG"
if [ "$1 $2" = "api --method" ]; then
  for arg in "$@"; do
    case "$arg" in body=@*) cp "${arg#body=@}" "$GH_LOG.body" ;; esac
  done
  exit 0
fi
jq -r "$5" "$GH_COMMENTS"
"""


@pytest.fixture
def gh(runner: Runner, tmp_path: Path) -> Path:
    if shutil.which("jq") is None:
        pytest.skip("jq is not installed: the fake gh runs the step's --jq filter with it")
    bindir = tmp_path / "bin"
    bindir.mkdir()
    fake = bindir / "gh"
    fake.write_text(FAKE_GH)
    fake.chmod(0o755)
    log = tmp_path / "gh.log"
    runner.env["PATH"] = f"{bindir}{os.pathsep}{runner.env['PATH']}"
    runner.env["GH_LOG"] = str(log)
    runner.env["GH_COMMENTS"] = str(tmp_path / "comments.json")
    runner.values.update({"GH_TOKEN": "t", "GH_REPO": "me/repo", "PR": "7", "COMMENT": "true"})
    return log


def comments(runner: Runner, bodies: dict[int, str]) -> None:
    data = [{"id": i, "body": b} for i, b in bodies.items()]
    Path(runner.env["GH_COMMENTS"]).write_text(json.dumps(data))


def test_comment_is_posted_then_updated_in_place(runner: Runner, gh: Path) -> None:
    assert runner.run("gate").returncode == 0
    comments(runner, {1: "looks good", 2: "<!-- orchphase phase-gate a2 -->\nanother phase"})
    result = runner.run("comment", STATUS="0")
    assert result.returncode == 0, result.stderr
    assert "commented on pull request #7" in result.stdout
    calls = gh.read_text().splitlines()
    assert calls[-1].startswith("api --method POST repos/me/repo/issues/7/comments -F body=@")
    body = Path(f"{gh}.body").read_text()
    assert body.startswith("<!-- orchphase phase-gate a1 -->\n# Phase a1 analysis")
    assert "**Proceed to phase a2: YES**" in body

    comments(runner, {1: "looks good", 31: body})  # the next push finds it and replaces it
    result = runner.run("comment", STATUS="0")
    assert result.returncode == 0, result.stderr
    assert "updated comment 31 on pull request #7" in result.stdout
    assert (
        gh.read_text()
        .splitlines()[-1]
        .startswith("api --method PATCH repos/me/repo/issues/comments/31 -F body=@")
    )


def test_comment_stays_within_githubs_limit(runner: Runner, gh: Path) -> None:
    reports = runner.project / "orchphase-reports"
    reports.mkdir()
    line = "| R03 | implementation | 12,000 | 20,713 | −42 % | é |\n"  # not ASCII: characters count
    (reports / "a1.md").write_text(line * (2 * COMMENT_LIMIT // len(line)))
    comments(runner, {})
    result = runner.run("comment", STATUS="1")
    assert result.returncode == 0, result.stderr
    body = Path(f"{gh}.body").read_text(encoding="utf-8")
    assert len(body) <= COMMENT_LIMIT
    assert len(body) > COMMENT_LIMIT - 2 * len(line)
    assert body.endswith("the whole analysis is in the job's artifact)_\n")
    assert line in body and "\n| R03 | implementation | 12,000 | 20,713 | −42 % | é |\n\n" in body


def test_comment_without_a_report_says_the_phase_was_not_evaluated(
    runner: Runner, gh: Path
) -> None:
    comments(runner, {})
    assert runner.run("gate", PHASE="a9").returncode == 0
    assert runner.run("comment", PHASE="a9", STATUS="4").returncode == 0
    body = Path(f"{gh}.body").read_text()
    assert body == (
        "<!-- orchphase phase-gate a9 -->\nPhase not evaluated (exit 4): see the job's log.\n"
    )


# --------------------------------------------------------------------------- GitLab


def run_gitlab(project: Path, tmp: Path, phase: str) -> subprocess.CompletedProcess[str]:
    job = yaml.safe_load(GITLAB.read_text())["phase-gate"]
    install, *script = job["script"]
    assert install.startswith("python -m pip install")  # needs the index: not run here
    path = tmp / "gitlab.sh"
    path.write_text("\n".join(script) + "\n")
    variables = {k: str(v) for k, v in job["variables"].items() if "$" not in str(v)}
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(path)],
        cwd=project,
        env={**clean_env(tmp), **variables, "PHASE": phase},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_gitlab_job_runs_the_gate_and_tells_errors_from_failures(
    example: Path, tmp_path: Path
) -> None:
    job = yaml.safe_load(GITLAB.read_text())["phase-gate"]
    reports = job["variables"]["REPORTS"]
    assert job["artifacts"]["paths"] == [f"{reports}/"]
    assert job["artifacts"]["reports"]["junit"] == f"{reports}/junit.xml"
    assert job["artifacts"]["when"] == "always"

    passed = run_gitlab(example, tmp_path, "a1")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "orchphase: phase a1 passed" in passed.stdout
    assert {"junit.xml", "a1.json", "a1.md"} <= {p.name for p in (example / reports).iterdir()}

    error = run_gitlab(example, tmp_path, "a9")
    assert error.returncode == 4
    assert "orchphase: phase a9 CONFIGURATION ERROR (exit 4)" in error.stdout

    fail_a2(example)
    failed = run_gitlab(example, tmp_path, "a2")
    assert failed.returncode == 1
    assert "orchphase: phase a2 FAILED" in failed.stdout

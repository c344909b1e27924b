"""orchphase init, schema and dashboard, called through cli.main as a user would."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from pytest_orchphase import cli
from pytest_orchphase.cli.scaffold import previous_phase
from pytest_orchphase.errors import OrchphaseError
from pytest_orchphase.evaluate.runner import PhaseRunner
from pytest_orchphase.load import models, yamlio
from pytest_orchphase.load.phase import load_phase
from pytest_orchphase.load.placeholders import reject_placeholders
from pytest_orchphase.load.schema import DRAFT, KINDS, build, file_name
from pytest_orchphase.load.schema import render as render_schema
from pytest_orchphase.load.validation import _vocabulary
from pytest_orchphase.report.dashboard import PhaseRow, render
from tests.cli.schema_subset import as_json, errors
from tests.helpers import A2_LOG, REPO, files_under

DATA = Path("docs/orchestration-data")
A4 = DATA / "phase-a4-r08-r09"
PLACEHOLDER = re.compile(r"\$\{[^}]*\}")


@pytest.fixture
def repo_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The shipped criteria/ and docs/orchestration-data/ in a fresh working directory."""
    shutil.copytree(REPO / "criteria", tmp_path / "criteria")
    shutil.copytree(REPO / DATA, tmp_path / DATA)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def fill(path: Path, value: str = "1") -> None:
    path.write_text(PLACEHOLDER.sub(value, path.read_text()))


# --------------------------------------------------------------------------- init


def test_init_scaffolds_the_data_folder_and_a_criteria_stub(
    repo_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["init", "a4", "--tickets", "R08, R09"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[:3] == [
        f"created {A4 / 'metadata.yaml'}",
        f"created {A4 / 'execution-log.yaml'}",
        "created criteria/a4.yaml",
    ]
    stub = yamlio.load(Path("criteria/a4.yaml")).data
    assert stub["data"] == "phase-a4-r08-r09"
    assert stub["requires"] == ["a3"]  # the previous phase gates the new one
    metadata = yamlio.load(A4 / "metadata.yaml").data
    assert metadata["tickets"] == ["R08", "R09"]
    log = yamlio.load(A4 / "execution-log.yaml").data
    assert list(log["tickets"]) == ["R08", "R09"]  # the multi-ticket layout, one entry each
    for path in (A4 / "metadata.yaml", A4 / "execution-log.yaml", Path("criteria/a4.yaml")):
        first = path.read_text().splitlines()[0]
        target = first.removeprefix("# yaml-language-server: $schema=")
        assert target != first and (path.parent / target).resolve().name.endswith(".schema.json")


def test_unfilled_scaffold_is_refused_file_by_file(repo_copy: Path) -> None:
    assert cli.main(["init", "a4", "--tickets", "R08,R09"]) == 0
    expected = [
        ("criteria/a4.yaml", "criteria[0].below: unfilled placeholder '${TICKET_TOKEN_CAP}'"),
        (f"{A4}/metadata.yaml", "expected_tokens: unfilled placeholder '${EXPECTED_TOKENS}'"),
        (f"{A4}/execution-log.yaml", "unfilled placeholder '${PLANNING_ESTIMATED}'"),
    ]
    for path, message in expected:
        with pytest.raises(OrchphaseError) as caught:
            load_phase(Path("criteria"), DATA, "a4")
        assert str(caught.value).startswith(path + ":") and message in str(caught.value)
        fill(Path(path))
    phase = load_phase(Path("criteria"), DATA, "a4")
    assert list(phase.tickets) == ["R08", "R09"]


def test_unfilled_scaffold_is_a_collection_error_under_pytest(project: pytest.Pytester) -> None:
    assert cli.main(["init", "a4", "--tickets", "R08,R09"]) == 0
    fill(project.path / "criteria/a4.yaml", "40k")
    result = project.runpytest("--phase", "a4")
    assert result.ret == 2
    result.stdout.fnmatch_lines(
        [f"*{A4}/metadata.yaml:*: expected_tokens: unfilled placeholder '${{EXPECTED_TOKENS}}'*"]
    )


def test_filled_scaffold_runs_as_a_phase(repo_copy: Path) -> None:
    assert cli.main(["init", "a4", "--tickets", "R08,R09"]) == 0
    for path in (Path("criteria/a4.yaml"), A4 / "metadata.yaml", A4 / "execution-log.yaml"):
        fill(path, "1000")
    runner = PhaseRunner(Path("criteria"), DATA)
    assert [s.name for s in runner.items("a4")] == [
        "token-efficiency[R08]",
        "token-efficiency[R09]",
        "phase-tokens",
    ]
    # 5 stages x 1000 per ticket (actual_tokens wins), under a 1000 cap: fails, honestly
    assert runner.context("a4").ticket_usage("R08").total == 5000
    assert not runner.gate("a4").passed


@pytest.mark.parametrize(
    ("model", "file"),
    [(models.ExecutionLog, "execution-log.yaml"), (models.Metadata, "metadata.yaml")],
)
def test_templates_show_every_key_of_the_models(
    repo_copy: Path, model: type[BaseModel], file: str
) -> None:
    assert cli.main(["init", "a4", "--tickets", "R08,R09"]) == 0
    text = (A4 / file).read_text()
    written = set(re.findall(r"^[\s#-]*\{?\s*(\w+):", text, re.M))
    written |= set(re.findall(r"[{,]\s*(\w+):", text))  # keys inside flow mappings
    keys = set(_vocabulary(model)) - {"ticket_costs"}  # written as r08_cost:, r09_cost:
    assert keys - written == set()
    assert {"r08_cost", "r09_cost"} <= written or file == "metadata.yaml"


def test_init_never_overwrites_and_writes_nothing(
    repo_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    A4.mkdir()
    (A4 / "execution-log.yaml").write_text("kept: true\n")
    before = files_under(repo_copy)
    assert cli.main(["init", "a4", "--tickets", "R08,R09"]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"orchphase: error: {A4}/execution-log.yaml: already exists; orchphase init never "
        "overwrites: move it away or pick another phase or tickets\n"
    )
    assert files_under(repo_copy) == before  # not even the criteria stub or metadata.yaml


def test_init_keeps_an_existing_criteria_file(
    repo_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stub = Path("criteria/a4.yaml")
    stub.write_text("phase: a4\ndata: somewhere-else\ncriteria: []\n")
    assert cli.main(["init", "a4", "--tickets", "R08"]) == 0
    out = capsys.readouterr().out
    assert stub.read_text() == "phase: a4\ndata: somewhere-else\ncriteria: []\n"
    assert "kept criteria/a4.yaml (it exists)" in out
    assert "note: criteria/a4.yaml reads its data from 'somewhere-else'" in out
    assert (DATA / "phase-a4-r08" / "metadata.yaml").is_file()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["A4", "--tickets", "R08"], "phase 'A4': expected a lower-case name like 'a4'"),
        (["4a", "--tickets", "R08"], "phase '4a': expected a lower-case name like 'a4'"),
        (["a4", "--tickets", "R08,,R09"], "--tickets 'R08,,R09': empty ticket id"),
        (["a4", "--tickets", "R08,r08"], "--tickets: 'r08' is listed twice (as 'R08')"),
        (["a4", "--tickets", "R08,review"], "--tickets: 'review' is a stage name"),
        (["a4", "--tickets", "R 08"], "--tickets: 'R 08' is not a ticket id"),
    ],
)
def test_init_rejects_bad_input_in_one_line(
    repo_copy: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    before = files_under(repo_copy)
    assert cli.main(["init", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"orchphase: error: {message}") and err.count("\n") == 1
    assert files_under(repo_copy) == before


def test_first_phase_requires_nothing(repo_copy: Path) -> None:
    assert cli.main(["init", "b1", "--tickets", "X1"]) == 0
    assert yamlio.load(Path("criteria/b1.yaml")).data["requires"] == []


def test_previous_phase_is_the_highest_lower_number_of_the_same_prefix() -> None:
    known = ["a1", "a2", "a9", "a10", "b3", "baseline"]
    assert previous_phase(known, "a10") == "a9"
    assert previous_phase(known, "a4") == "a2"
    assert previous_phase(known, "b1") is None
    assert previous_phase(known, "pilot") is None


# --------------------------------------------------------------------------- schema


def test_schema_writes_draft_07_schemas(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert cli.main(["schema", "--out", "out"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"wrote out/{file_name(kind)}" for kind in KINDS
    ]
    for kind in KINDS:
        schema = json.loads((tmp_path / "out" / file_name(kind)).read_text())
        assert schema["$schema"] == DRAFT and "$defs" not in json.dumps(schema)


def test_committed_schemas_are_current() -> None:
    stale = [
        kind
        for kind in KINDS
        if (REPO / "docs/schema" / file_name(kind)).read_text() != render_schema(kind)
    ]
    assert stale == [], "run `orchphase schema` and commit docs/schema/"


def _shipped() -> list[tuple[Path, str]]:
    files = [(p, "criteria") for p in sorted((REPO / "criteria").glob("*.yaml"))]
    files = [(p, "baselines" if p.name == "baselines.yaml" else k) for p, k in files]
    for folder in sorted((REPO / DATA).iterdir()):
        files += [
            (folder / "metadata.yaml", "metadata"),
            (folder / "execution-log.yaml", "execution-log"),
        ]
    return files


def test_every_shipped_file_validates_against_its_schema() -> None:
    files = _shipped()
    assert len(files) == 10
    for path, kind in files:
        schema = json.loads((REPO / "docs/schema" / file_name(kind)).read_text())
        assert errors(as_json(yamlio.load(path).data), schema, schema) == [], path


# 12000.0 is left out: JSON Schema counts it as an integer, while the loader refuses any decimal
# token count (43.000 would otherwise read as 43); the editor's check is the looser of the two.
LOG_CASES: list[tuple[str, Any]] = [
    *(("tokens", v) for v in [12000, "40k", "40,000", "1.5M", " 7 k ", "12_000", 0]),
    *(("tokens", v) for v in ["40q", -5, True, "forty", None, [1]]),
    *(("percent", v) for v in [60, 60.5, "60%", "-3.5 %", "60", "sixty", True]),
    *(("grade", v) for v in ["same", " Better ", "WORSE", "good", 1]),
    *(("result", v) for v in ["PASS", "pass", "Fail", "ok", " PASS"]),
    *(("tier", v) for v in ["T1", "t3", "T4", 1]),
    *(("task_id", v) for v in ["1", 2, True, 1.5]),
    *(("usd", v) for v in [0.5, "$0.50", "1", -1, "$-1"]),
]


def _log_with(field: str, value: Any) -> tuple[type[BaseModel], dict[str, Any], str]:
    stage = "implementation"
    doc: dict[str, Any] = {
        "tokens": {"tickets": {"R1": {stage: {"estimated_tokens": value}}}},
        "percent": {"totals": {"savings_percent": value}},
        "grade": {"tickets": {"R1": {stage: {"quality_vs_sonnet": {"code_correctness": value}}}}},
        "result": {"tickets": {"R1": {"review": {"result": value}}}},
        "tier": {"tickets": {"R1": {"review": {"tier": value}}}},
        "task_id": {"tickets": {"R1": {stage: {"task_id": value}}}},
        "usd": {"baselines": {"v2": {"tokens_per_ticket": 1, "usd_per_ticket": value}}},
    }[field]
    if field == "usd":
        return models.BaselinesFile, doc, "baselines"
    return models.ExecutionLog, doc, "execution-log"


@pytest.mark.parametrize(("field", "value"), LOG_CASES)
def test_schema_accepts_exactly_what_the_loader_accepts(field: str, value: Any) -> None:
    model, doc, kind = _log_with(field, value)
    try:
        model.model_validate(doc)
        loads = True
    except ValidationError:
        loads = False
    schema = build(kind)
    assert (errors(doc, schema, schema) == []) == loads


def test_schema_catches_typos_and_stage_names_as_tickets() -> None:
    schema = build("execution-log")
    typo = {"tickets": {"R1": {"reveiw": {"result": "PASS"}}}}
    assert ".tickets.R1: unknown key 'reveiw'" in "".join(errors(typo, schema, schema))
    assert errors({"tickets": {"R1": {"review": {"result": "PASS"}}}}, schema, schema) == []
    stage: dict[str, Any] = {"tickets": {"review": {}}}
    assert errors(stage, schema, schema) != []
    declared = {"totals": {"r03_cost": "29.2k"}, "comparison_to_v2_orchestration": {"a1_total": 1}}
    assert errors(declared, schema, schema) == []
    assert errors({"totals": {"r03_cost": "lots"}}, schema, schema) != []


# --------------------------------------------------------------------------- dashboard


def test_dashboard_prints_target_against_actual(
    repo_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["dashboard"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == [
        "phase",
        "target",
        "actual",
        "difference",
        "%",
        "per",
        "ticket",
        "USD",
        "gate",
    ]
    a1 = lines[2].split("  ")
    cells = [c.strip() for c in a1 if c.strip()]
    assert cells == [
        "a1",
        "56,000",
        "77,000",
        "+21,000",
        "+37.5%",
        "R03 29,200, R06 36,200",
        "unknown",
        "PASS",
    ]
    assert [line.split()[0] for line in lines[2:]] == ["a1", "a2", "a3"]


def test_dashboard_shows_a_broken_phase_as_a_row(
    repo_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = repo_copy / A2_LOG
    log.write_text(log.read_text().replace("tickets:\n", "tickets: [\n", 1))
    assert cli.main(["dashboard"]) == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()[2:]}
    assert lines["a1"].rstrip().endswith("PASS")
    assert re.search(rf"a2 +ERROR: {A2_LOG}:\d+:\d+: YAML syntax error", lines["a2"])
    assert lines["a3"].rstrip().endswith("FAIL: phase-gate[a2]")


def test_dashboard_without_criteria_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert cli.main(["dashboard", "--criteria", "nowhere"]) == 2
    assert capsys.readouterr().err == (
        "orchphase: error: no phases: no <phase>.yaml in nowhere; expected the criteria folder "
        "(--criteria DIR)\n"
    )


def test_dashboard_cells_for_measured_usd_and_unset_target() -> None:
    row = PhaseRow(
        "m1",
        target=None,
        actual=1500,
        tickets={"R1": 1500},
        usd=0.01234,
        passed=False,
        failing=["cost"],
    )
    table = render([row]).splitlines()[2]
    assert [c.strip() for c in table.split("  ") if c.strip()] == [
        "m1",
        "not set",
        "1,500",
        "R1 1,500",
        "$0.0123",
        "FAIL: cost",
    ]


def test_dashboard_shows_a_huge_number_as_a_row_error(
    repo_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An integer beyond what a float holds is refused at its line, not an OverflowError."""
    meta = repo_copy / "docs/orchestration-data/phase-a1-r03-r06/metadata.yaml"
    meta.write_text(
        meta.read_text().replace("expected_tokens: 56000", "expected_tokens: 1" + "0" * 400)
    )
    assert cli.main(["dashboard"]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("a1"))
    assert (
        "ERROR: docs/orchestration-data/phase-a1-r03-r06/metadata.yaml:6:18: expected_tokens: "
        in row
    )
    assert "is too large" in row


def test_every_unfilled_field_of_a_file_is_reported_at_once_with_its_line(
    project: pytest.Pytester,
) -> None:
    """Not one placeholder per run (about 30 runs for two tickets): each file's all at once."""
    assert cli.main(["init", "a4", "--tickets", "R08,R09"]) == 0
    for path in ("criteria/a4.yaml", f"{A4}/metadata.yaml"):
        fill(project.path / path, "40k")
    log = project.path / A4 / "execution-log.yaml"
    placeholders = [
        (n, line)
        for n, line in enumerate(log.read_text().splitlines(), 1)
        if "${" in line.split("#")[0]
    ]
    assert len(placeholders) > 20
    result = project.runpytest("--phase", "a4")
    assert result.ret == 2
    reported = [
        line for line in result.stdout.lines if line.startswith(f"{A4}/execution-log.yaml:")
    ]
    assert [int(line.split(":")[1]) for line in reported] == [n for n, _ in placeholders]
    assert all("unfilled placeholder" in line for line in reported)


@pytest.mark.parametrize(
    ("file", "field", "expected"),
    [
        ("criteria/a4.yaml", "criteria[0].below", "expected the limit (a number like 40000"),
        (f"{A4}/metadata.yaml", "expected_tokens", "expected the phase's target (56000"),
        (f"{A4}/execution-log.yaml", "shared_planning.estimated_tokens", "expected the estimate"),
        (f"{A4}/execution-log.yaml", "shared_planning.actual_tokens", "expected the measured"),
    ],
)
def test_a_placeholder_says_what_its_field_expects(
    repo_copy: Path, file: str, field: str, expected: str
) -> None:
    """A cap or a target is not 'the measured value'."""
    assert cli.main(["init", "a4", "--tickets", "R08,R09"]) == 0
    with pytest.raises(OrchphaseError) as caught:
        reject_placeholders(yamlio.load(Path(file)))
    line = next(p for p in str(caught.value).splitlines() if f": {field}: " in p)
    assert expected in line


def test_init_scaffolds_a_baselines_file_when_there_is_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without one, break-even says "unknown baseline 'single_agent'"; with placeholders the
    phase cannot pass until the baselines are filled."""
    from pytest_orchphase.decide.breakeven import break_even

    monkeypatch.chdir(tmp_path)
    assert cli.main(["init", "a1", "--tickets", "R01"]) == 0
    assert "created criteria/baselines.yaml" in capsys.readouterr().out
    baselines = Path("criteria/baselines.yaml")
    assert baselines.read_text().startswith(
        "# yaml-language-server: $schema=../docs/schema/baselines.schema.json\n"
    )
    for path in (Path("criteria/a1.yaml"), *sorted(DATA.glob("*/*.yaml"))):
        fill(path, "1000")
    with pytest.raises(OrchphaseError, match=r"single_agent\.tokens_per_ticket: unfilled"):
        load_phase(Path("criteria"), DATA, "a1")
    fill(baselines, "1000")
    line = break_even(PhaseRunner(Path("criteria"), DATA), "a1", "total").line
    assert "unknown baseline" not in line
    assert cli.main(["init", "a2", "--tickets", "R02"]) == 0  # an existing one is kept
    assert "baselines" not in capsys.readouterr().out

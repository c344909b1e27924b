"""`orchphase init --example`: the example phases, from package data into a user's project."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pytest_orchphase import cli
from pytest_orchphase.cli import scaffold
from pytest_orchphase.load.schema import KINDS, file_name
from pytest_orchphase.load.schema import render as render_schema
from tests.helpers import REPO, files_under

DATA = Path("docs/orchestration-data")


def repo_example() -> dict[str, dict[str, str]]:
    def texts(root: Path) -> dict[str, str]:
        return {
            p.relative_to(root).as_posix(): p.read_text(encoding="utf-8")
            for p in root.rglob("*")
            if p.is_file()
        }

    return {
        scaffold.EXAMPLE_CRITERIA: texts(REPO / "criteria"),
        scaffold.EXAMPLE_DATA: texts(REPO / DATA),
    }


def test_shipped_example_is_the_repositorys_example() -> None:
    """The package data under pytest_orchphase/examples/ cannot drift from criteria/ and
    docs/orchestration-data/ (in the installed wheel too: the copy is read as package data)."""
    assert scaffold.example_sources() == repo_example(), (
        "copy criteria/*.yaml to pytest_orchphase/examples/criteria/ and "
        "docs/orchestration-data/ to pytest_orchphase/examples/orchestration-data/"
    )


def test_init_example_then_phases_pass_as_the_readme_shows(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("ORCHPHASE_PHASE", raising=False)
    assert os.listdir(pytester.path) == []
    assert cli.main(["init", "--example"]) == 0
    out = capsys.readouterr().out
    assert "created criteria/a1.yaml" in out and "created docs/schema/criteria.schema.json" in out
    assert out.endswith("next: pytest --phase a1  (then a2, a3)\n")
    written = files_under(pytester.path)
    assert {k: v.decode() for k, v in written.items() if not k.startswith("docs/schema")} == {
        f"criteria/{rel}": text for rel, text in repo_example()[scaffold.EXAMPLE_CRITERIA].items()
    } | {f"{DATA}/{rel}": text for rel, text in repo_example()[scaffold.EXAMPLE_DATA].items()}
    assert {k: v.decode() for k, v in written.items() if k.startswith("docs/schema")} == {
        f"docs/schema/{file_name(kind)}": render_schema(kind) for kind in KINDS
    }
    result = pytester.runpytest_subprocess("--phase", "a1", "-p", "no:randomly")
    result.assert_outcomes(passed=6)
    assert "Proceed to phase a2: YES" in result.stdout.str()
    for phase in ("a2", "a3"):
        assert pytester.runpytest_subprocess("--phase", phase).ret == 0


def test_init_example_never_overwrites_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    mine = tmp_path / "criteria" / "baselines.yaml"
    mine.parent.mkdir()
    mine.write_text("baselines: {mine: {tokens_per_ticket: 1}}\n")
    before = files_under(tmp_path)
    assert cli.main(["init", "--example"]) == 2
    assert capsys.readouterr().err == (
        "orchphase: error: criteria/baselines.yaml: already exists; orchphase init never "
        "overwrites: move it away, or write the example into an empty folder\n"
    )
    assert files_under(tmp_path) == before  # not a1.yaml, not the data, not the schemas
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["baselines.yaml", "criteria"]
    # and a second run over a complete example is refused the same way
    mine.unlink()
    assert cli.main(["init", "--example"]) == 0
    again = files_under(tmp_path)
    assert cli.main(["init", "--example"]) == 2
    assert files_under(tmp_path) == again


def test_init_example_into_folders_outside_the_project(
    pytester: pytest.Pytester,
    tmp_path_factory: pytest.TempPathFactory,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Absolute folders elsewhere: the schema lines point at the schemas from where each file is,
    and the phase runs with the same folders given to pytest, in both spellings."""
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    criteria, data, schema = elsewhere / "c", elsewhere / "d" / "phases", elsewhere / "s"
    args = ["init", "--example", "--criteria", str(criteria), f"--data={data}"]
    assert cli.main([*args, "--schema", str(schema)]) == 0
    assert os.listdir(pytester.path) == []
    assert capsys.readouterr().out.endswith(
        f"next: pytest --orchphase-criteria {criteria} --orchphase-data {data} --phase a1"
        "  (then a2, a3)\n"
    )
    for yaml_file in [*criteria.glob("*.yaml"), *data.glob("*/*.yaml")]:
        first = yaml_file.read_text().splitlines()[0]
        target = first.removeprefix("# yaml-language-server: $schema=")
        assert target != first and (yaml_file.parent / target).resolve().is_file(), yaml_file
    result = pytester.runpytest_subprocess(
        "--phase", "a2", "--orchphase-criteria", str(criteria), f"--orchphase-data={data}"
    )
    assert result.ret == 0, result.stdout.str()
    assert "Proceed to phase a3: YES" in result.stdout.str()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["init"], "init needs a PHASE and --tickets (like `orchphase init a4 --tickets R08,R09`)"),
        (["init", "a4"], "init needs a PHASE and --tickets"),
        (["init", "a4", "--example"], "--example writes the example phases: give no PHASE"),
        (["init", "--example", "--tickets", "R1"], "--example writes the example phases"),
    ],
)
def test_init_arguments_are_checked_in_one_line(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"orchphase: error: {message}") and err.count("\n") == 1
    assert os.listdir(tmp_path) == []

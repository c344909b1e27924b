"""The ``orchphase`` parser: every subcommand is offered and has its help, and a run builds
(and imports) only the subcommand it names."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_orchphase.cli import SUBCOMMANDS, build_parser, main


def _choices(parser: argparse.ArgumentParser) -> list[str]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return list(action.choices)
    return []


def test_the_help_lists_every_subcommand_in_order(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    places = [out.index(f"\n    {name}") for name in SUBCOMMANDS]
    assert places == sorted(places)


@pytest.mark.parametrize("name", list(SUBCOMMANDS))
def test_each_subcommand_has_its_help(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main([name, "--help"])
    assert done.value.code == 0
    assert capsys.readouterr().out.startswith(f"usage: orchphase {name}")


def test_a_run_builds_only_the_subcommand_it_names() -> None:
    assert _choices(build_parser(["extract", "x"])) == ["extract"]
    assert _choices(build_parser(["--version"])) == list(SUBCOMMANDS)
    assert _choices(build_parser(["nope"])) == list(SUBCOMMANDS)
    assert _choices(build_parser()) == list(SUBCOMMANDS)
    code = (
        "import json, sys; from pytest_orchphase.cli import build_parser; "
        "build_parser(['extract']); "
        "print(json.dumps([m for m in sys.modules if m.startswith('pytest_orchphase.cli.')]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    imported = json.loads(done.stdout)
    assert "pytest_orchphase.cli.extract" in imported
    assert "pytest_orchphase.cli.hook" not in imported


def test_an_unknown_subcommand_is_told_the_choices(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["nope"])
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'nope'" in err and all(name in err for name in SUBCOMMANDS)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["plan", "--rate", "70", "--rate=80"], "--rate 70 and --rate 80: given twice"),
        (
            ["breakeven", "--baseline", "v2", "--baseline", "single_agent"],
            "--baseline v2 and --baseline single_agent: given twice",
        ),
        (
            ["strategy", "--for", "a3", "--tickets", "R08=mechanical", "--tickets", "R08=complex"],
            "--tickets R08=mechanical and --tickets R08=complex: given twice",
        ),
        (["extract", "--by", "model", "--by", "agent"], "--by model and --by agent: given twice"),
    ],
    ids=["plan", "breakeven", "strategy", "extract"],
)
def test_an_option_typed_twice_with_two_values_is_a_usage_error(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    message: str,
) -> None:
    """argparse keeps the last value silently: the first, the one meant perhaps, dropped
    unsaid. As `pytest --phase`, a usage error naming both, before anything runs (an empty
    folder: run, the command would write nothing in the repository)."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as done:
        main(argv)
    assert done.value.code == 2
    assert message in capsys.readouterr().err


def test_an_option_typed_twice_with_one_value_is_that_value(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["plan", "--rate", "70", "--rate=70", "--failures", "0"]) == 0
    assert "9 of 9" in capsys.readouterr().out

"""The ``orchphase`` parser: every subcommand is offered and has its help, and a run builds
(and imports) only the subcommand it names."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

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

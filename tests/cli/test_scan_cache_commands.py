"""Every command that reads a phase's transcripts reads them through the scan cache in
``$XDG_CACHE_HOME/orchphase``, and with ``--no-cache`` writes none (and prints the same)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_orchphase.cli import main
from tests.plugin.test_measured_phase import write_phase

COMMANDS = {
    "compare": ["compare"],
    "dashboard": ["dashboard"],
    "draft-log": ["draft-log", "m1", "--out", "{tmp}/{run}/draft.yaml"],
    "collect": [
        "collect",
        "m1",
        "docs/orchestration-data/phase-m1/transcripts",
        "--out",
        "{tmp}/{run}/usage.jsonl",
    ],
}


@pytest.mark.parametrize("command", list(COMMANDS.values()), ids=list(COMMANDS))
def test_a_command_reads_through_the_scan_cache_and_not_with_no_cache(
    command: list[str],
    pytester: pytest.Pytester,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    write_phase(pytester)
    monkeypatch.chdir(pytester.path)
    xdg = tmp_path / "xdg"
    monkeypatch.setenv("XDG_CACHE_HOME", str(xdg))
    for name in ("without", "with"):
        (tmp_path / name).mkdir()

    def run(name: str, *extra: str) -> tuple[str, list[bytes]]:
        assert main([*(a.format(tmp=tmp_path, run=name) for a in command), *extra]) == 0
        written = sorted(p.read_bytes() for p in (tmp_path / name).iterdir())
        return capsys.readouterr().out.replace(f"{tmp_path}/{name}", "OUT"), written

    without = run("without", "--no-cache")
    assert not xdg.exists()
    assert run("with") == without
    assert len(list(xdg.rglob("entries/*.jsonl"))) == 4  # the session and its three agents

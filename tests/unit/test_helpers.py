"""The test helpers' phase builder: a phase written from Python data reads as the files it came
from, so a test that changes one value in code tests exactly that change."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_orchphase.load import yamlio
from tests.helpers import (
    BASELINES,
    CRITERIA,
    REPO,
    Phase,
    example_baselines,
    rate_phase,
    write_yaml,
)


@pytest.mark.parametrize("name", ["a1", "a2", "a3"])
def test_an_example_phase_written_from_data_reads_as_the_shipped_one(
    name: str, tmp_path: Path
) -> None:
    written = Phase.example(name).write(tmp_path)
    shipped = REPO / "docs" / "orchestration-data" / written.name
    pairs = [(tmp_path / CRITERIA / f"{name}.yaml", REPO / CRITERIA / f"{name}.yaml")]
    pairs += [(written / f, shipped / f) for f in ("metadata.yaml", "execution-log.yaml")]
    for copy, original in pairs:
        assert yamlio.load(copy).data == yamlio.load(original).data, copy.name


def test_the_baselines_written_from_data_read_as_the_shipped_ones(tmp_path: Path) -> None:
    copy = write_yaml(tmp_path / BASELINES, example_baselines())
    assert yamlio.load(copy).data == yamlio.load(REPO / BASELINES).data


def test_a_change_in_code_is_the_only_change(tmp_path: Path) -> None:
    a1 = Phase.example("a1")
    a1.stage("R06", "implementation")["fix_loops"] = 2
    log = yamlio.load(a1.write(tmp_path) / "execution-log.yaml").data
    shipped = yamlio.load(REPO / "docs/orchestration-data/phase-a1-r03-r06/execution-log.yaml").data
    assert log["tickets"]["R06"]["implementation"]["fix_loops"] == 2
    log["tickets"]["R06"]["implementation"]["fix_loops"] = 1
    assert log == shipped


def test_a_rate_phase_has_its_successes_first(tmp_path: Path) -> None:
    p1 = rate_phase(2, 3, tokens=[1, 2, 3])
    folder = p1.write(tmp_path)
    log = yamlio.load(folder / "execution-log.yaml").data
    assert [t["fix_loops"] for t in log["tickets"].values()] == [0, 0, 3]
    assert [t["actual_tokens"] for t in log["tickets"].values()] == [1, 2, 3]
    assert yamlio.load(folder / "metadata.yaml").data == {
        "phase": "p1",
        "tickets": list(log["tickets"]),
    }
    assert yamlio.load(tmp_path / CRITERIA / "p1.yaml").data["criteria"][0]["rule"] == "interval"

"""orchphase compare, breakeven and strategy on a copy of the shipped example data; on bad input
(a baseline no phase defines, a ticket given twice) one error line, exit 2, nothing written."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from pytest_orchphase.cli import main
from tests.helpers import REPO


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(REPO / "criteria", tmp_path / "criteria")
    shutil.copytree(REPO / "docs" / "orchestration-data", tmp_path / "docs" / "orchestration-data")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_compare_has_a_column_per_phase(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["metric", "a1", "a2", "a3"]
    total = next(line for line in lines if line.startswith("total tokens"))
    assert total.split()[2:] == ["77,000", "115,400", "97,300"]
    assert any(line.startswith("recommended for mechanical") for line in lines)


def test_compare_names_a_phase_it_had_to_leave_out(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "docs/orchestration-data/phase-a2-r03-r06-r07/metadata.yaml").write_text("phase: [\n")
    assert main(["compare"]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines()[0].split() == ["metric", "a1", "a3"]
    assert "phase a2 left out: docs/orchestration-data/phase-a2-r03-r06-r07/metadata.yaml:" in err


def test_breakeven(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["breakeven", "--phase", "a3"]) == 0
    out = capsys.readouterr().out
    # planning 13,800 / (30,000 − 83,500 / 3) = 6.37 → 7 tickets
    assert "orchestration beats single_agent from 7 tickets" in out
    assert "Break-even (USD): unknown" in out


def test_strategy_is_written_once_and_never_overwritten(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = repo / "docs/orchestration-data/phase-a3-strategy.yaml"
    assert main(["strategy", "--for", "a3"]) == 0
    strategy = yaml.safe_load(out.read_text())
    execution = strategy["model_selection"]["execution"]
    assert execution["mechanical"]["model"] == "sonnet"  # Haiku evidence: 1 ticket, inconclusive
    assert "INCONCLUSIVE" in execution["mechanical"]["rationale"]
    assert execution["nuanced"]["model"] == "sonnet"
    # R06 ran in a1 and a2: one ticket, not two trials (R06 and R07: 2, not 3)
    assert execution["nuanced"]["sample_size"] == 2
    assert execution["nuanced"]["rationale"].startswith("2 of 2 nuanced tickets")
    assert strategy["evidence"] == ["a1", "a2"]
    # A1's R03 + its share of one batch's planning: (11,600 + 14,500) / 2 / 3 tickets = 4,350
    assert strategy["estimated_costs"]["R03"]["tokens"] == round(29200 + 4350, -2)
    before = out.read_text()
    assert main(["strategy", "--for", "a3"]) == 2
    assert "exists; not overwritten" in capsys.readouterr().err
    assert out.read_text() == before
    assert main(["strategy", "--for", "a3", "--force", "--tickets", "R08=nuanced"]) == 0
    assert yaml.safe_load(out.read_text())["tickets"] == ["R08"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["strategy", "--for", "a9"], "unknown phase 'a9'"),
        (["strategy", "--for", "a1"], "requires no phase with data"),
        (["strategy", "--for", "a3", "--tickets", "R08=easy"], "expected ID=mechanical"),
        (["breakeven", "--phase", "a9"], "unknown phase 'a9'"),
        (["compare", "--criteria", "nowhere"], "no phases"),
    ],
)
def test_bad_arguments_are_one_clear_line(
    repo: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (repo / "docs/orchestration-data/phase-a3-strategy.yaml").exists()


def test_a_path_that_cannot_be_written_is_one_line(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "f").write_text("a file where a folder is needed\n")
    assert main(["schema", "--out", "f/schemas"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("orchphase: error: f/schemas: ") and "Traceback" not in err


def test_plan_prints_the_sample_a_rate_decision_needs(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["plan", "--rate", "70%"]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()[3:]]
    assert rows == [
        ["0", "9", "9", "of", "9", "70.1%"],
        ["1", "15", "14", "of", "15", "70.2%"],
        ["2", "21", "19", "of", "21", "71.1%"],
    ]
    assert main(["plan", "--rate=70", "--confidence=90%", "--failures", "3,0"]) == 0
    out = capsys.readouterr().out
    assert "the 90% Wilson interval's lower bound must reach 70%" in out
    assert [line.split()[:2] for line in out.splitlines()[3:]] == [["0", "7"], ["3", "22"]]
    # a lower bound shown with the digits that tell it from the rate (never 100.0% for 99.99%)
    assert main(["plan", "--rate", "99.99%", "--failures", "0"]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()[3:]]
    assert rows[0][-1] != "100.0%" and rows[0][-1].startswith("99.99"), rows


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--rate", "100%"], "--rate: '100%'; expected a percentage above 0 and below 100"),
        (["--rate", "0.7"], "--rate: 0.7 looks like a fraction"),
        (["--rate", "seventy"], "--rate: "),
        (["--rate", "70%", "--confidence", "40%"], "--confidence: '40%'; expected a level"),
        (["--rate", "70%", "--failures", "1,x"], "--failures: '1,x'; expected whole numbers"),
        (["--rate", "70%", "--failures", "-1"], "--failures: '-1'; expected whole numbers"),
    ],
)
def test_plan_bad_arguments_are_one_clear_line(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["plan", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"orchphase: error: {message}") and len(err.splitlines()) == 1


@pytest.mark.parametrize(
    "command",
    [["dashboard"], ["compare"], ["breakeven"], ["strategy", "--for", "a3"]],
    ids=lambda c: c[0],
)
def test_a_cycle_in_any_phase_is_one_error_line(
    repo: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    """Phases x1 and x2 require each other; every command walks all phases' requirements."""
    for name, other in (("x1", "x2"), ("x2", "x1")):
        (repo / f"criteria/{name}.yaml").write_text(
            f"phase: {name}\ndata: phase-a1-r03-r06\nrequires: [{other}]\ncriteria:\n"
            "  - {id: time, metric: wall_time_minutes, below: 30}\n"
        )
    assert main(command) == 2
    assert capsys.readouterr().err == (
        "orchphase: error: criteria/x2.yaml:3:12: requires[0]: phases require each other in a "
        "cycle: x1 -> x2 -> x1; expected each phase to require only phases that come before it\n"
    )
    assert not (repo / "docs/orchestration-data/phase-a3-strategy.yaml").exists()


def test_strategy_for_a_phase_not_yet_run_asks_for_its_tickets(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """a4 has criteria but no data yet: its tickets are not a3's tickets."""
    (repo / "criteria/a4.yaml").write_text(
        "phase: a4\ndata: phase-a4-r08\nrequires: [a3]\ncriteria:\n"
        "  - {id: time, metric: wall_time_minutes, below: 30}\n"
    )
    out = repo / "docs/orchestration-data/phase-a4-strategy.yaml"
    assert main(["strategy", "--for", "a4"]) == 2
    err = capsys.readouterr().err
    assert "phase a4's tickets are unknown: its data does not load (criteria/a4.yaml:2:" in err
    assert "name them: orchphase strategy --for a4 --tickets ID=" in err
    assert not out.exists()
    assert main(["strategy", "--for", "a4", "--tickets", "R08=mechanical,R09=complex"]) == 0
    strategy = yaml.safe_load(out.read_text())
    assert strategy["tickets"] == ["R08", "R09"]
    assert set(strategy["estimated_costs"]) == {"R08", "R09", "total"}


def test_strategy_estimates_from_a_run_not_finished_are_lower_bounds(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """a2's R06 still running: its tokens so far are at least what the log says, and so is a
    nuanced ticket's estimate made from them (a mean over a figure that is only a lower bound).
    It was written as if exact; now the estimate lists `lower_bounds` and the file says why.
    The mechanical estimate (R03's finished runs) stays exact."""
    from tests.helpers import Phase

    a2 = Phase.example("a2")
    a2.ticket("R06")["status"] = "in_progress"
    a2.write(repo)
    assert main(["strategy", "--for", "a3", "--tickets", "R08=nuanced,R09=mechanical"]) == 0
    text = (repo / "docs/orchestration-data/phase-a3-strategy.yaml").read_text()
    strategy = yaml.safe_load(text)
    costs = strategy["estimated_costs"]
    assert costs["R08"]["lower_bounds"] == ["tokens"], costs
    assert "lower_bounds" not in costs["R09"], costs
    assert costs["total"]["lower_bounds"] == ["tokens"]
    assert any("R06" in why for why in strategy["lower_bounds_why"]), strategy
    assert "are at least that" in text
    # so is the mean review cost of R06's tier (its review so far), not the other tier's
    tier = a2.ticket("R06")["review"]["tier"]
    reviews = strategy["model_selection"]["review"]
    assert reviews[tier]["lower_bound"] is True, reviews
    assert [t for t, r in reviews.items() if "lower_bound" in r] == [tier], reviews
    assert "lower_bound" not in strategy["model_selection"]["planning"]


def test_strategy_estimates_from_finished_runs_carry_no_bounds(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No over-correction: the shipped example's runs are all finished and hand-kept whole."""
    assert main(["strategy", "--for", "a3", "--tickets", "R08=nuanced,R09=mechanical"]) == 0
    text = (repo / "docs/orchestration-data/phase-a3-strategy.yaml").read_text()
    strategy = yaml.safe_load(text)
    assert "lower_bounds_why" not in strategy
    assert all("lower_bounds" not in c for c in strategy["estimated_costs"].values())
    selection = strategy["model_selection"]
    assert "lower_bound" not in selection["planning"]
    assert all("lower_bound" not in r for r in selection["review"].values()), selection


def test_breakeven_against_a_baseline_no_phase_defines_names_those_defined(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every phase left out for it printed nothing and exited 0: no answer read as one."""
    assert main(["breakeven", "--baseline", "nope"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        "orchphase: error: --baseline nope: no phase defines such a baseline; defined: "
        "separate_planning, single_agent, v2\n"
    )


def test_breakeven_with_no_phase_that_loads_is_an_error(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """As `orchphase compare`: each phase left out is named, and nothing printed is exit 2."""
    shutil.rmtree(repo / "docs" / "orchestration-data")
    assert main(["breakeven"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert "phase a1 left out:" in err
    assert err.endswith("orchphase: error: no phase has data that loads; see the messages above\n")


@pytest.mark.parametrize(
    "tickets",
    [
        "R08=mechanical,R08=complex",
        "R08=mechanical,r08=complex",
        "R08=complex,R09=nuanced,R08=complex",
    ],
)
def test_strategy_with_a_ticket_given_twice_names_it(
    repo: Path, capsys: pytest.CaptureFixture[str], tickets: str
) -> None:
    """The last word kept would drop the first unsaid; as `init --tickets`, a ticket listed
    twice is an error naming it, whatever its words, nothing written."""
    assert main(["strategy", "--for", "a3", "--tickets", tickets]) == 2
    err = capsys.readouterr().err
    assert "--tickets: " in err and "given twice" in err and "R08" in err
    assert not (repo / "docs/orchestration-data/phase-a3-strategy.yaml").exists()


def test_breakeven_against_a_baseline_no_phase_defines_is_an_error(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["breakeven", "--baseline", "nope"])
    out, err = capsys.readouterr()
    assert status == 2, (out, err)
    assert "--baseline nope" in err


def test_strategy_with_a_ticket_given_twice_is_an_error(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["strategy", "--for", "a3", "--tickets", "R08=mechanical,R08=complex"])
    out, err = capsys.readouterr()
    assert status == 2, (out, err)
    assert "R08" in err
    assert not (repo / "docs/orchestration-data/phase-a3-strategy.yaml").exists()

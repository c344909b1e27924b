"""What the reports show must be what the decision saw: the per-ticket table marks a figure that
is only a bound, as the criterion lines and the table of phases do."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import SESSION, Phase, assistant, jsonl_line, read_report, usage


def _m1(pytester: pytest.Pytester, requires: str = "") -> pytest.RunResult:
    """Phase m1 (measured: R03's sub-agent made two calls and no record gives the first's
    output, so R03's output, total and cost are only lower bounds; R06's are exact), one
    criterion that passes, and both reports."""
    from tests.plugin.test_measured_phase import write_phase

    write_phase(pytester)
    pytester.makefile(
        ".yaml",
        **{
            "criteria/m1": f"phase: m1\ndata: phase-m1\n{requires}criteria:\n"
            "  - {id: t, metric: tickets, min: 1}\n"
        },
    )
    return pytester.runpytest(
        "--phase", "m1", "-p", "no:randomly", "--orchphase-json=r.json", "--orchphase-md=r.md"
    )


def _rows(result: pytest.RunResult, pytester: pytest.Pytester) -> dict[str, Any]:
    """Per ticket: its row in the terminal table, in the markdown table, in the JSON."""
    lines = result.outlines
    start = lines.index("Tickets (own stages; shared planning apart):")
    md = (pytester.path / "r.md").read_text().splitlines()
    md = md[md.index("### Tickets") :]
    out: dict[str, Any] = {}
    for row in read_report(pytester.path)["ticket_table"]:
        ticket = row["ticket"]
        terminal = next(line for line in lines[start:] if line.startswith(f"{ticket} "))
        markdown = next(line for line in md if line.startswith(f"| {ticket} "))
        out[ticket] = (terminal, markdown, row)
    return out


def test_the_ticket_table_says_a_lower_bound_is_one(pytester: pytest.Pytester) -> None:
    """Review finding: R03's tokens and USD are lower bounds ("≥ 20,713" in the measured-usage
    table below it), and the per-ticket table showed them as plain figures; R06's are exact and
    stay unmarked."""
    rows = _rows(_m1(pytester), pytester)
    for shown in rows["R03"][:2]:
        assert "≥ 20,713" in shown and "≥ $0.0159" in shown, shown
    assert rows["R03"][2]["bounds"] == {"tokens": "lower", "usd": "lower"}
    for shown in rows["R06"][:2]:
        assert "≥" not in shown and "6,403" in shown, shown
    assert rows["R06"][2]["bounds"] == {}


def test_a_lost_usage_line_marks_every_ticket_figure(pytester: pytest.Pytester) -> None:
    """A transcript line that may have recorded a call could not be read: every measured figure
    is a lower bound, R06's too, and the ticket table says so."""
    _m1(pytester)
    session = next((pytester.path / "docs").rglob(f"{SESSION}.jsonl"))
    line = jsonl_line(assistant("msg_px", "req_px", u=usage(inp=90000, out=500, cw=20000)))
    with session.open("ab") as f:
        f.write(line[: line.index(b'"usage"')] + b"\n")
    rows = _rows(
        pytester.runpytest(
            "--phase", "m1", "-p", "no:randomly", "--orchphase-json=r.json", "--orchphase-md=r.md"
        ),
        pytester,
    )
    assert read_report(pytester.path)["data"]["lost_usage_lines"] == 1
    for shown in rows["R06"][:2]:
        assert "≥ 6,403" in shown, shown
    assert rows["R06"][2]["bounds"] == {"tokens": "lower", "usd": "lower"}


def test_a_saving_against_a_lower_bound_is_marked_an_upper_bound(
    pytester: pytest.Pytester,
) -> None:
    """h0's R03 (100,000 by hand) − m1's R03 (at least 20,713) is at most 79,287: the saving
    column says "≤"; R06's saving subtracts exact figures and stays unmarked."""
    Phase.of(
        "h0",
        [{"id": "tickets", "metric": "tickets", "min": 1}],
        {
            "R03": {"execution_model": "sonnet", "actual_tokens": 100000, "fix_loops": 0},
            "R06": {"execution_model": "sonnet", "actual_tokens": 100000, "fix_loops": 0},
        },
    ).write(pytester.path)
    rows = _rows(_m1(pytester, "requires: [h0]\n"), pytester)
    for shown in rows["R03"][:2]:
        assert "≤ +79,287" in shown, shown
    assert rows["R03"][2]["bounds"] == {"tokens": "lower", "usd": "lower", "delta_tokens": "upper"}
    for shown in rows["R06"][:2]:
        assert "+93,597" in shown and "≤" not in shown, shown
    assert rows["R06"][2]["bounds"] == {}

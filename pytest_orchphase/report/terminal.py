"""The terminal summary of a phase run, rendered from the canonical report: one function per
section, in the order they print."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from tabulate import tabulate

from pytest_orchphase.report.results import SUMMARY_HEADERS, Entry, summary_cells
from pytest_orchphase.report.shape import Decisions, ProceedData, Report, RunReport
from pytest_orchphase.report.tables import (
    ESTIMATE_HEADERS,
    MISMATCH_HEADERS,
    UNCHECKED_HEADERS,
    estimate_cells,
    mismatch_cells,
    split_mismatches,
    ticket_cells,
    ticket_headers,
    ticket_title,
)


class Terminal(Protocol):
    """What the summary writes to: pytest's terminal reporter (the plugin passes it)."""

    def section(self, title: str, sep: str = ..., **markup: bool) -> None: ...

    def write_line(self, line: str, **markup: bool) -> None: ...


def _table(rows: Sequence[Sequence[str]], headers: Sequence[str]) -> str:
    return tabulate(rows, headers=headers, tablefmt="simple", disable_numparse=True)


def _results(tr: Terminal, entries: Sequence[Entry]) -> None:
    if entries:
        tr.write_line(_table([summary_cells(e) for e in entries], SUMMARY_HEADERS))
    else:
        tr.write_line("no criterion ran")


def _tickets(tr: Terminal, report: Report) -> None:
    rows = report["ticket_table"]
    if rows:
        tr.write_line("")
        tr.write_line(ticket_title(rows))
        tr.write_line(_table(ticket_cells(rows), ticket_headers(rows)))
    compaction = report["usage"]["compaction_line"]
    if compaction:
        tr.write_line(compaction)


def _declared(tr: Terminal, report: Report) -> None:
    differ, unchecked = split_mismatches(report["mismatches"])
    for rows, title, headers in (
        (differ, "Declared totals that differ from the computed ones", MISMATCH_HEADERS),
        (unchecked, "Declared figures that cannot be checked", UNCHECKED_HEADERS),
    ):
        if rows:
            tr.write_line("")
            tr.write_line(f"{title} ({len(rows)}):")
            tr.write_line(_table(mismatch_cells(rows), headers))


def _measured(tr: Terminal, report: Report) -> None:
    usage, data = report["usage"], report["data"]
    if usage["source"] != "measured":
        return
    tr.write_line("")
    tr.write_line(
        f"Measured usage ({data['transcript_files']} transcript files, "
        f"{data['malformed_lines']} malformed lines); the error is "
        "(estimated − measured) / measured:"
    )
    tr.write_line(_table(estimate_cells(usage["estimate_rows"]), ESTIMATE_HEADERS))
    for agent in usage["agents"]:
        if agent["ticket"] is None and agent["stage"] is None:
            tr.write_line(
                f"unattributed: agent {agent['agent_id']} "
                f"({agent['description'] or 'no description'}): {agent['how']}"
            )
    for warning in usage["warnings"]:
        tr.write_line(f"warning: {warning}")


def _comparison(tr: Terminal, report: Report) -> None:
    comparison = report["comparison"]
    if len(comparison["phases"]) <= 1 and not comparison["left_out"]:
        return
    tr.write_line("")
    tr.write_line("Phases compared (one column per phase with data):")
    tr.write_line(_table(comparison["rows"], ["metric", *comparison["phases"]]))
    for gone in comparison["left_out"]:
        tr.write_line(f"phase {gone['phase']} left out: {gone['error']}")


def _notes(tr: Terminal, report: Report) -> None:
    notes = report["notes"]
    if not notes["key_insight"] and not notes["errors_encountered"]:
        return
    tr.write_line("")
    if notes["key_insight"]:
        tr.write_line(f"Key insight (log): {' '.join(notes['key_insight'].split())}")
    for e in notes["errors_encountered"]:
        tr.write_line(f"Error encountered (log): {e['ticket']} ({e['type']}): {e['description']}")


def _decisions(tr: Terminal, decisions: Decisions) -> None:
    adopt = decisions["adopt_model"]
    lines = [adopt["line"]] if adopt else []
    lines += [decisions["break_even"]["tokens"]["line"], decisions["break_even"]["usd"]["line"]]
    tr.write_line("")
    for line in lines:
        tr.write_line(line)


def _proceed(tr: Terminal, proceed: ProceedData) -> None:
    tr.write_line("")
    yes = proceed["answer"] == "YES"
    tr.write_line(proceed["line"], bold=True, green=yes, red=not yes)


def write_summary(tr: Terminal, report: RunReport, entries: Sequence[Entry]) -> None:
    """The summary table of the items, then what the report says about the phase, then the
    decision to proceed."""
    tr.section(f"orchphase: phase {report['phase']}", sep="=")
    _results(tr, entries)
    if "error" in report:
        tr.write_line("")
        tr.write_line(f"The phase's files have errors: {report['error'].splitlines()[0]}")
    else:
        for section in (_tickets, _declared, _measured, _comparison, _notes):
            section(tr, report)
        _decisions(tr, report["decisions"])
    _proceed(tr, report["decisions"]["proceed"])

"""The terminal summary of a phase run, rendered from the canonical report."""

from __future__ import annotations

from typing import Any

from tabulate import tabulate

from pytest_orchphase.report.results import (
    ESTIMATE_HEADERS,
    MISMATCH_HEADERS,
    SUMMARY_HEADERS,
    UNCHECKED_HEADERS,
    estimate_cells,
    mismatch_cells,
    split_mismatches,
    summary_cells,
    ticket_cells,
    ticket_headers,
)


def write_summary(tr: Any, report: dict[str, Any], entries: list[dict[str, Any]]) -> None:
    tr.section(f"orchphase: phase {report['phase']}", sep="=")
    if entries:
        tr.write_line(
            tabulate(
                [summary_cells(e) for e in entries],
                headers=SUMMARY_HEADERS,
                tablefmt="simple",
                disable_numparse=True,
            )
        )
    else:
        tr.write_line("no criterion ran")
    if "error" in report:
        tr.write_line("")
        tr.write_line(f"The phase's files have errors: {report['error'].splitlines()[0]}")
    tickets = report.get("ticket_table")
    if tickets:
        tr.write_line("")
        tr.write_line("Tickets (own stages; shared planning apart):")
        tr.write_line(
            tabulate(
                ticket_cells(tickets),
                headers=ticket_headers(tickets),
                tablefmt="simple",
                disable_numparse=True,
            )
        )
    compaction = report.get("usage", {}).get("compaction_line")
    if compaction:
        tr.write_line(compaction)
    differ, unchecked = split_mismatches(report.get("mismatches", []))
    for rows, title, headers in (
        (differ, "Declared totals that differ from the computed ones", MISMATCH_HEADERS),
        (unchecked, "Declared figures that cannot be checked", UNCHECKED_HEADERS),
    ):
        if rows:
            tr.write_line("")
            tr.write_line(f"{title} ({len(rows)}):")
            tr.write_line(
                tabulate(
                    mismatch_cells(rows),
                    headers=headers,
                    tablefmt="simple",
                    disable_numparse=True,
                )
            )
    usage = report.get("usage", {})
    if usage.get("source") == "measured":
        data = report["data"]
        tr.write_line("")
        tr.write_line(
            f"Measured usage ({data['transcript_files']} transcript files, "
            f"{data['malformed_lines']} malformed lines); the error is "
            "(estimated − measured) / measured:"
        )
        tr.write_line(
            tabulate(
                estimate_cells(usage["estimate_rows"]),
                headers=ESTIMATE_HEADERS,
                tablefmt="simple",
                disable_numparse=True,
            )
        )
        for agent in usage["agents"]:
            if agent["ticket"] is None and agent["stage"] is None:
                tr.write_line(
                    f"unattributed: agent {agent['agent_id']} "
                    f"({agent['description'] or 'no description'}): {agent['how']}"
                )
        for warning in usage["warnings"]:
            tr.write_line(f"warning: {warning}")
    comparison = report.get("comparison")
    if comparison and (len(comparison["phases"]) > 1 or comparison["left_out"]):
        tr.write_line("")
        tr.write_line("Phases compared (one column per phase with data):")
        tr.write_line(
            tabulate(
                comparison["rows"],
                headers=["metric", *comparison["phases"]],
                tablefmt="simple",
                disable_numparse=True,
            )
        )
        for gone in comparison["left_out"]:
            tr.write_line(f"phase {gone['phase']} left out: {gone['error']}")
    notes = report.get("notes") or {}
    if notes.get("key_insight") or notes.get("errors_encountered"):
        tr.write_line("")
        if notes.get("key_insight"):
            tr.write_line(f"Key insight (log): {' '.join(notes['key_insight'].split())}")
        for e in notes.get("errors_encountered", []):
            tr.write_line(
                f"Error encountered (log): {e['ticket']} ({e['type']}): {e['description']}"
            )
    decisions = report["decisions"]
    lines = [decisions["adopt_model"]["line"]] if decisions.get("adopt_model") else []
    lines += [b["line"] for b in decisions.get("break_even", {}).values()]
    if lines:
        tr.write_line("")
        for line in lines:
            tr.write_line(line)
    proceed = decisions["proceed"]
    tr.write_line("")
    tr.write_line(
        proceed["line"], bold=True, green=proceed["answer"] == "YES", red=proceed["answer"] != "YES"
    )

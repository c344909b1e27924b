"""The terminal summary of a phase run, rendered from the canonical report."""

from __future__ import annotations

from typing import Any

from tabulate import tabulate

from pytest_orchphase.declared import show
from pytest_orchphase.report.results import (
    ESTIMATE_HEADERS,
    SUMMARY_HEADERS,
    estimate_cells,
    summary_cells,
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
    mismatches = report.get("mismatches", [])
    if mismatches:
        tr.write_line("")
        tr.write_line(f"Declared totals that differ from the computed ones ({len(mismatches)}):")
        tr.write_line(
            tabulate(
                [
                    [
                        f"{m['file']}:{m['line']}" if m["line"] else m["file"],
                        m["field"],
                        show(m["declared"], m["percent"]),
                        show(m["computed"], m["percent"]),
                        m["formula"],
                    ]
                    for m in mismatches
                ],
                headers=("where", "field", "declared", "computed", "formula"),
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

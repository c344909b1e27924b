"""Build a phase run's report once, and write what was asked for."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pytest_orchphase.decisions import Proceed, proceed
from pytest_orchphase.errors import OrchphaseError, display
from pytest_orchphase.phase import next_phase_name
from pytest_orchphase.report.model import build, failed_report
from pytest_orchphase.runner import PhaseRunner

STEP_SUMMARY_ENV = "GITHUB_STEP_SUMMARY"


def phase_report(
    runner: PhaseRunner,
    name: str,
    entries: list[dict[str, Any]],
    collection_errors: int,
    *,
    no_gate: bool = False,
) -> dict[str, Any]:
    """The canonical report, or a report of the error when the phase's files do not load."""
    try:
        phase = runner.load(name)
        expected = len(phase.criteria.requires) + len(runner.items(name))
        decision = proceed(
            next_phase_name(
                runner.criteria_dir, name, phase.criteria.next_phase, load=runner.criteria
            ),
            entries,
            expected,
            collection_errors,
        )
        return build(runner, name, entries, decision, no_gate=no_gate)
    except OrchphaseError as exc:
        upcoming = next_phase_name(runner.criteria_dir, name, load=runner.criteria)
        return failed_report(name, exc, Proceed(upcoming, "NO", ["the phase's files have errors"]))


def markdown_for(report: dict[str, Any], md_path: Path | None) -> str:
    """The markdown report, with its chart drawn beside ``md_path`` when it can be."""
    from pytest_orchphase.report.markdown import render, render_error

    if "error" in report:
        return render_error(report)
    chart: str | None = None
    note: str | None = "Charts are drawn beside the markdown report (--orchphase-md FILE)."
    if md_path is not None:
        from pytest_orchphase.report.chart import render_chart

        chart_path = md_path.with_name(f"{md_path.stem}-usage.png")
        note = render_chart({report["phase"]: report["usage"]["by_stage_model"]}, chart_path)
        chart = chart_path.name if note is None else None
    return render(report, chart=chart, chart_note=note)


def write_outputs(
    report: dict[str, Any], json_path: Path | None, md_path: Path | None
) -> list[str]:
    """Write the JSON and markdown reports and the step summary; returns lines for the user."""
    from pytest_orchphase.report.write import append_step_summary, atomic_write, json_bytes

    done: list[str] = []
    if json_path is not None:
        atomic_write(json_path, json_bytes(report))
        done.append(f"orchphase: wrote {display(json_path)}")
    summary = os.environ.get(STEP_SUMMARY_ENV)
    if md_path is None and not summary:
        return done
    markdown = markdown_for(report, md_path)
    if md_path is not None:
        atomic_write(md_path, markdown.encode())
        done.append(f"orchphase: wrote {display(md_path)}")
    if summary:
        whole = append_step_summary(Path(summary), markdown)
        done.append(
            f"orchphase: appended the report to ${STEP_SUMMARY_ENV}"
            + ("" if whole else " (truncated to its 1 MiB limit)")
        )
    return done

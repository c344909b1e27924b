"""Build a phase run's report once, and write what was asked for."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TypeVar, cast

from pytest_orchphase.decide.decisions import Proceed, mixed_sources, proceed
from pytest_orchphase.errors import OrchphaseError, display
from pytest_orchphase.evaluate.runner import PhaseRunner, gate_name
from pytest_orchphase.load.phase import CriteriaLoader, next_phase_name
from pytest_orchphase.metrics.open_work import not_finished
from pytest_orchphase.report.model import build, failed_report
from pytest_orchphase.report.results import Entry
from pytest_orchphase.report.shape import RunReport

STEP_SUMMARY_ENV = "GITHUB_STEP_SUMMARY"


def phase_report(
    runner: PhaseRunner,
    name: str,
    entries: Sequence[Entry],
    collection_errors: int,
    *,
    other_failures: list[str] | None = None,
    other_skipped: Sequence[str] = (),
    no_gate: bool = False,
) -> RunReport:
    """The canonical report, or a report of the error when the phase's files do not load."""
    try:
        phase = runner.load(name)
        expected = [("gate", gate_name(r)) for r in phase.criteria.requires]
        expected += [("criterion", spec.name) for spec in runner.items(name)]
        decision = proceed(
            next_phase_name(
                runner.criteria_dir, name, phase.criteria.next_phase, load=runner.criteria
            ),
            entries,
            expected,
            collection_errors,
            [*(other_failures or []), *runner.unjudged_failures(name)],
            not_finished(phase),
            other_skipped,
        )
        if (mixed := mixed_sources(runner.context(name))) is not None:
            decision = Proceed(decision.next_phase, decision.answer, [*decision.reasons, mixed])
        return build(runner, name, entries, decision, no_gate=no_gate)
    except OrchphaseError as exc:
        upcoming = next_phase_name(runner.criteria_dir, name, load=runner.criteria)
        return failed_report(name, exc, Proceed(upcoming, "NO", ["the phase's files have errors"]))


def interrupted_report(
    criteria_dir: Path, name: str, why: str, load: CriteriaLoader | None = None
) -> RunReport:
    """What a run stopped before its decision (Ctrl-C, ``pytest.exit``) writes in place of its
    report: no figure (no transcript is read again) and UNDECIDED, so that a report an earlier
    run left where this one was to write does not speak for it."""
    try:
        upcoming = next_phase_name(criteria_dir, name, load=load)
    except OrchphaseError:  # a criteria file that does not load: its own run says so
        upcoming = "?"
    error = OrchphaseError(f"the run was interrupted ({why}) before the phase was decided")
    return failed_report(name, error, Proceed(upcoming, "UNDECIDED", ["the run was interrupted"]))


def markdown_for(report: RunReport, md_path: Path | None) -> str:
    """The markdown report, with its chart drawn beside ``md_path`` when it can be (not beside a
    named pipe or a device such as ``/dev/null``: the chart would land in its folder)."""
    from pytest_orchphase.files import is_special
    from pytest_orchphase.report.markdown import render, render_error

    if "error" in report:
        return render_error(report)
    chart: str | None = None
    note: str | None = "Charts are drawn beside the markdown report (--orchphase-md FILE)."
    if md_path is not None and is_special(md_path):
        note = "No chart: the markdown report is not written to a regular file."
    elif md_path is not None:
        from pytest_orchphase.report.chart import render_chart

        chart_path = chart_beside(md_path)
        try:
            note = render_chart(
                {report["phase"]: report["usage"]["by_stage_model"]},
                chart_path,
                tickets=report["ticket_table"],
            )
        except OSError as exc:
            note = f"no chart: cannot write {display(chart_path)}: {exc.strerror or exc}"
        chart = chart_path.name if note is None else None
    return render(report, chart=chart, chart_note=note)


def chart_beside(md_path: Path) -> Path:
    """Where the markdown report's chart is drawn: beside it, named after it."""
    return md_path.with_name(f"{md_path.stem}-usage.png")


def summary_markdown(report: RunReport, md_path: Path | None) -> str:
    """The markdown for GitHub's step summary: a chart linked by a relative path cannot render
    there, so the summary names where the chart is instead."""
    from pytest_orchphase.report.markdown import render, render_error

    if "error" in report:
        return render_error(report)
    chart = chart_beside(md_path) if md_path is not None else None
    note = (
        f"The chart is in the run's files: {display(chart)} (a step summary cannot show an image "
        "by a relative path)."
        if chart is not None and chart.is_file()
        else "Charts are drawn beside the markdown report (--orchphase-md FILE)."
    )
    return render(report, chart=None, chart_note=note)


R = TypeVar("R", bound=Mapping[str, object])


def portable(report: R, folders: Sequence[Path], base: Path) -> R:
    """The report with the paths of ``folders`` written relative to ``base`` instead of as the
    run showed them (relative to the working directory, or absolute outside it), so that the
    files written hold the same text from whatever folder the run started."""
    # a folder as the run showed it, and absolute (how a scan's warnings name the file)
    pairs = sorted(
        {
            (shown + os.sep, os.path.relpath(f, base) + os.sep)
            for f in folders
            for shown in (display(f), str(f.absolute()))
        },
        key=lambda pair: -len(pair[0]),
    )

    def fix(value: object) -> object:
        if isinstance(value, dict):
            return {k: fix(v) for k, v in value.items()}
        if isinstance(value, list):
            return [fix(v) for v in value]
        if isinstance(value, str) and os.sep in value:
            for shown, stable in pairs:
                if shown != stable:
                    value = value.replace(shown, stable)
        return value

    return cast(R, fix(report))  # the same keys, strings with relative paths


def write_outputs(
    report: RunReport,
    json_path: Path | None,
    md_path: Path | None,
    *,
    folders: Sequence[Path] = (),
    base: Path | None = None,
) -> tuple[list[str], bool, RunReport]:
    """Write the JSON and markdown reports and the step summary. Returns the lines for the user,
    whether everything asked for was written, and the report written; a file that cannot be
    written is one line naming it (the others are still written). In the files, the paths under
    ``folders`` are relative to ``base`` (see :func:`portable`).

    A run that asked for a report it did not get fails (exit 4): where its decision was YES, no
    report written says so, since a CI step reading one would take it for a pass. Once a write
    has failed, the files still to write get :func:`unwritten_report` (UNDECIDED) instead, and
    the files written before it are written again with it."""
    from pytest_orchphase.files import append_step_summary, atomic_write, json_bytes

    if base is not None:
        report = portable(report, folders, base)

    said: dict[str, str] = {}
    failed: list[Path] = []
    yes: list[tuple[str, Path]] = []  # the files written with the report saying YES

    def now() -> RunReport:
        return report if not failed or not _says_yes(report) else unwritten_report(report, failed)

    def write(what: str, path: Path) -> None:
        data = now()
        try:
            if what == "summary":
                said[what] = _appended(append_step_summary(path, summary_markdown(data, md_path)))
            else:
                text = json_bytes(data) if what == "json" else _markdown(data, md_path)
                said[what] = _written(atomic_write, path, text)
            if _says_yes(data):
                yes.append((what, path))
        except OSError as exc:
            failed.append(path)
            error = OrchphaseError(f"cannot write the report: {exc.strerror or exc}", path=path)
            said[what] = f"orchphase: error: {error}"

    summary = os.environ.get(STEP_SUMMARY_ENV)
    # the markdown, the JSON, then the summary: the only file a YES cannot be taken back from
    # (it is appended to) is written last, when every other write is known
    for what, path in (("md", md_path), ("json", json_path), ("summary", summary)):
        if path is not None and path != "":
            write(what, Path(path))
    if failed and yes:
        for what, path in list(yes):  # written before a write failed: never a YES beside exit 4
            write(what, path)
    return [said[w] for w in ("json", "md", "summary") if w in said], not failed, now()


def _markdown(report: RunReport, md_path: Path | None) -> bytes:
    return markdown_for(report, md_path).encode("utf-8", "backslashreplace")  # as json_bytes


def _appended(done: str) -> str:
    if done == "full":
        return f"orchphase: ${STEP_SUMMARY_ENV} is full (1 MiB): the report was not added"
    return f"orchphase: appended the report to ${STEP_SUMMARY_ENV}" + (
        " (truncated to its 1 MiB limit)" if done == "truncated" else ""
    )


def _says_yes(report: RunReport) -> bool:
    return report["decisions"]["proceed"]["answer"] == "YES"


def unwritten_report(report: RunReport, unwritten: Sequence[Path]) -> RunReport:
    """What a run whose reports could not all be written writes in place of a YES report: no
    figure, UNDECIDED, and the files it could not write (the run fails: exit 4)."""
    files = ", ".join(display(path) for path in unwritten)
    error = OrchphaseError(
        f"the run could not write {files}, a report asked for: it failed (exit 4), whatever "
        "its criteria say"
    )
    proceed = report["decisions"]["proceed"]
    decision = Proceed(proceed["next_phase"], "UNDECIDED", ["a report could not be written"])
    return failed_report(report["phase"], error, decision)


def _written(write: Callable[[Path, bytes], None], path: Path, data: bytes) -> str:
    write(path, data)
    return f"orchphase: wrote {display(path)}"

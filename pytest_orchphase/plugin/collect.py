"""Collection of a phase's criteria file: an item per criterion (per ticket), one per gate."""

from __future__ import annotations

import warnings
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from _pytest._code.code import ExceptionInfo, TerminalRepr

from pytest_orchphase.errors import OrchphaseError, display
from pytest_orchphase.evaluate.runner import ItemSpec, PhaseRunner
from pytest_orchphase.report.results import Entry, criterion_entry, gate_entry, row


class OrchphaseWarning(pytest.PytestWarning):
    """A fact about a phase's data that does not fail it (declared-total mismatch, gate bypass)."""


class CriterionFailed(Exception):
    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


@dataclass
class PhaseSettings:
    """What the plugin resolved from options: the phase, folders, outputs, and the runner."""

    phase: str
    criteria_file: Path
    runner: PhaseRunner
    no_gate: bool = False
    json_path: Path | None = None
    md_path: Path | None = None
    #: where the phase was asked for: "--phase", the environment variable, the ini option
    phase_from: str = "--phase"
    #: the default test paths a phase run did not collect (testpaths, or the current directory)
    not_collected: list[str] = field(default_factory=list)
    #: where the project's configuration and each folder came from (a header line)
    configuration: str = ""
    #: the folder of the project's configuration file, if it has one: the base of the paths in
    #: the report files (else the criteria folder's parent)
    project: Path | None = None

    def origin_lines(self) -> list[str]:
        """What the header and the summary say about how this became a phase run."""
        lines = [f"orchphase: phase {self.phase} (from {self.phase_from})"]
        lines += [
            f"orchphase: not collected ({where}): a phase run collects its criteria file "
            "instead; unset the phase to run the tests"
            for where in self.not_collected
            if self.phase_from != "--phase"
        ]
        return lines


class _OrchphaseItem(pytest.Item):
    entry: Entry

    def __init__(self, *, settings: PhaseSettings, line: int | None, order: int, **kw: Any) -> None:
        super().__init__(**kw)
        self.settings = settings
        self.line = line
        self.order = order
        self.add_marker("orchphase")

    def repr_failure(
        self, excinfo: ExceptionInfo[BaseException], style: Any = None
    ) -> str | TerminalRepr:
        if isinstance(excinfo.value, CriterionFailed):
            text = excinfo.value.text
        elif isinstance(excinfo.value, OrchphaseError):
            text = str(excinfo.value)
        else:
            return super().repr_failure(excinfo, style=style)
        if self.config.getoption("tbstyle", "auto") == "line":
            return self._one_line(text)
        return text

    def _one_line(self, text: str) -> TerminalRepr:
        """``--tb=line``: pytest prints a failure's crash line (``file:line: message``); a plain
        text would be printed whole, then cut at 50 characters. Built from pytest's own report
        classes, so that xdist carries it to the controller as it is."""
        from _pytest._code.code import ReprExceptionInfo, ReprFileLocation, ReprTraceback

        headline = text.splitlines()[0] if text else ""
        return ReprExceptionInfo(
            reprtraceback=ReprTraceback([], None, "line"),
            reprcrash=ReprFileLocation(display(self.path), self.line or 0, headline),
        )

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return (
            self.path,
            (self.line - 1) if self.line else None,
            f"{self.settings.phase}: {self.name}",
        )


class CriterionItem(_OrchphaseItem):
    def __init__(self, *, spec: ItemSpec, **kw: Any) -> None:
        super().__init__(**kw)
        self.spec = spec

    def runtest(self) -> None:
        settings = self.settings
        verdict = settings.runner.verdict(settings.phase, self.spec)
        self.entry = criterion_entry(
            phase=settings.phase,
            name=self.name,
            order=self.order,
            criterion=self.spec.criterion.id,
            ticket=self.spec.ticket,
            verdict=verdict,
        )
        self.user_properties.extend(row(self.entry).items())
        if not verdict.passed:
            lines = [self.entry["headline"]]
            if verdict.combinator or verdict.actual is not None:
                lines.append("")
                lines.extend(verdict.details())
            if self.spec.criterion.description:
                lines += ["", f"criterion: {self.spec.criterion.description.strip()}"]
            raise CriterionFailed("\n".join(lines))


class GateItem(_OrchphaseItem):
    def __init__(self, *, required: str, **kw: Any) -> None:
        super().__init__(**kw)
        self.required = required

    def runtest(self) -> None:
        settings = self.settings
        result = settings.runner.gate(self.required)
        self.entry = gate_entry(
            phase=settings.phase,
            name=self.name,
            order=self.order,
            required=self.required,
            result=result,
            bypassed=settings.no_gate,
        )
        self.user_properties.extend(row(self.entry).items())
        if result.passed:
            return
        if settings.no_gate:
            warnings.warn_explicit(
                OrchphaseWarning(f"gate bypassed with --orchphase-no-gate: {result.describe()}"),
                OrchphaseWarning,
                filename=str(self.path),
                lineno=self.line or 0,
            )
            return
        raise CriterionFailed(
            f"{self.name}: {settings.phase} requires {self.required}, and "
            f"{result.describe()}\n(its YAML criteria, evaluated from {self.required}'s own data; "
            f"run `pytest --phase {self.required}` for its details, or pass "
            "--orchphase-no-gate to go on anyway)"
        )


class CriteriaFile(pytest.File):
    """``criteria/<phase>.yaml``: gates first, then the criteria in file order."""

    settings: PhaseSettings

    def collect(self) -> Iterator[pytest.Item]:
        settings = self.settings
        runner = settings.runner
        try:
            phase = runner.load(settings.phase)
            specs = runner.items(settings.phase)
            mismatches = runner.mismatches(settings.phase)
        except OrchphaseError as exc:
            raise self.CollectError(str(exc)) from None
        for mismatch in mismatches:
            # Point the warning at the declared figure's line, not at this code.
            warnings.warn_explicit(
                OrchphaseWarning(
                    ("declared total differs: " if mismatch.computed is not None else "")
                    + mismatch.describe(located=False)
                ),
                OrchphaseWarning,
                filename=mismatch.file,
                lineno=mismatch.line or 0,
            )
        doc = phase.criteria_doc
        gates = phase.criteria.requires
        for i, required in enumerate(gates):
            name = f"phase-gate[{required}]"
            yield GateItem.from_parent(
                self,
                name=name,
                nodeid=f"{self.nodeid}::{name}",
                required=required,
                settings=settings,
                line=doc.line(("requires", i)),
                order=i,
            )
        for i, spec in enumerate(specs, start=len(gates)):
            yield CriterionItem.from_parent(
                self,
                name=spec.name,
                # pytest parses a cached "name[param]" id apart; state the id whole so that
                # --lf and --deselect find the item again
                nodeid=f"{self.nodeid}::{spec.name}",
                spec=spec,
                settings=settings,
                line=doc.line(("criteria", spec.index)),
                order=i,
            )


class PhaseSession:
    """The hooks of one phase run, registered by the plugin only when a phase is asked for."""

    def __init__(self, settings: PhaseSettings) -> None:
        self.settings = settings
        self.entries: list[Entry] = []
        #: Node ids of the run's other failed items (Python checks beside the criteria, items
        #: that errored in setup or teardown): each counts in the decision.
        self.other_failures: list[str] = []
        self.report: dict[str, Any] | None = None
        self.written: list[str] = []
        self.interrupted = False

    def pytest_report_header(self) -> list[str]:
        configuration = [self.settings.configuration] if self.settings.configuration else []
        return [*self.settings.origin_lines(), *configuration]

    def pytest_collect_file(
        self, file_path: Path, parent: pytest.Collector
    ) -> pytest.Collector | None:
        if file_path != self.settings.criteria_file:
            return None
        # Annotated: on pytest 8.0, from_parent is typed as returning Any.
        collector: CriteriaFile = CriteriaFile.from_parent(parent, path=file_path)
        collector.settings = self.settings
        return collector

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        entry = getattr(item, "entry", None)
        if call.when == "call" and entry is not None:
            vars(report)["orchphase"] = entry  # plain data: xdist carries it to the controller
        return report

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        entry = getattr(report, "orchphase", None)
        if report.when == "call" and isinstance(entry, dict):
            self.entries.append(entry)
        elif report.failed and report.nodeid not in self.other_failures:
            self.other_failures.append(report.nodeid)

    def ordered(self) -> list[Entry]:
        return sorted(self.entries, key=lambda e: int(e["order"]))

    def pytest_keyboard_interrupt(self, excinfo: ExceptionInfo[BaseException]) -> None:
        """Ctrl-C (pytest calls this before ``pytest_sessionfinish``). A collection error stops
        the session through ``Session.Interrupted``, a KeyboardInterrupt too: that run still
        writes its report, saying why the phase's files do not load."""
        if not isinstance(excinfo.value, pytest.Session.Interrupted):
            self.interrupted = True

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """Build the report once; only a controller (or a plain run) writes files. --co builds
        nothing: it reads no transcript and writes nothing. An interrupted run (Ctrl-C) builds
        nothing either: the report would scan the transcripts the interrupt stopped again, and
        would describe a run that did not finish."""
        config = session.config
        if config.option.collectonly or hasattr(config, "workerinput"):
            return
        if self.interrupted:
            return
        from pytest_orchphase.report.outputs import phase_report, write_outputs

        reporter = config.pluginmanager.get_plugin("terminalreporter")
        stats = reporter.stats.get("error", []) if reporter is not None else []
        # Items' setup/teardown errors are TestReports, counted as failures by logreport.
        errors = sum(1 for r in stats if not isinstance(r, pytest.TestReport))
        settings = self.settings
        self.report = phase_report(
            settings.runner,
            settings.phase,
            self.ordered(),
            errors,
            other_failures=self.other_failures,
            no_gate=settings.no_gate,
        )
        collect_errors = [
            r
            for r in (reporter.stats.get("error", []) if reporter is not None else [])
            if isinstance(r, pytest.CollectReport)
        ]
        if collect_errors and session.exitstatus == pytest.ExitCode.TESTS_FAILED:
            # An invalid file is a collection error, exit 2, as in a serial run; under xdist the
            # workers' collection errors reach the controller as failures (exit 1). A fact found
            # when the items run (an unreadable transcript) stays a failure, exit 1.
            session.exitstatus = pytest.ExitCode.INTERRUPTED
        runner = settings.runner
        self.written, ok = write_outputs(
            self.report,
            settings.json_path,
            settings.md_path,
            # paths in the files relative to the project, so that they read the same from
            # whatever folder the run started
            folders=[runner.criteria_dir, runner.data_root],
            base=settings.project or runner.criteria_dir.parent,
        )
        if not ok:  # the run asked for a report it did not get: not a success
            session.exitstatus = pytest.ExitCode.USAGE_ERROR
        elif (
            self.report["decisions"]["proceed"]["answer"] != "YES"
            and session.exitstatus == pytest.ExitCode.OK
        ):
            # A phase run succeeds only when its decision is YES: an UNDECIDED run (criteria
            # deselected with -k, skipped, or stopped early) is not a pass a CI job may read.
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.interrupted:
            terminalreporter.write_line("orchphase: interrupted: no report built or written")
        if self.report is None:
            return
        from pytest_orchphase.report.terminal import write_summary

        write_summary(terminalreporter, self.report, self.ordered())
        for line in self.settings.origin_lines()[1:]:
            terminalreporter.write_line(line)
        for line in self.written:
            terminalreporter.write_line(line)

"""One phase run: its settings, the checks before collection, and the session that gathers
the items' results, decides, and writes the reports (only the controller under xdist)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pytest
from _pytest._code.code import ExceptionInfo

from pytest_orchphase.plugin.collect import PhaseCriteriaFile
from pytest_orchphase.plugin.junit import record_decision
from pytest_orchphase.plugin.options import (
    check_rootdir,
    folders_line,
    output_path,
    report_path,
    resolved_path,
)
from pytest_orchphase.report.results import Entry, distinct, failed_late, row
from pytest_orchphase.report.shape import RunReport

if TYPE_CHECKING:
    from pytest_orchphase.evaluate.runner import PhaseRunner
    from pytest_orchphase.load.phase import CriteriaLoader
    from pytest_orchphase.settings import Settings
    from pytest_orchphase.usage.cache import ScanCache


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


def lists_only(config: pytest.Config) -> bool:
    """Whether the run only lists what it collected (``--co``, ``--fixtures``,
    ``--fixtures-per-test``): it runs no item, so it decides nothing."""
    option = config.option
    return bool(
        option.collectonly
        or getattr(option, "showfixtures", False)
        or getattr(option, "show_fixtures_per_test", False)
    )


def start_phase_run(config: pytest.Config, resolved: Settings, phase: str) -> None:
    """Check the phase's files and folders, and register the session that runs it."""
    check_rootdir(config, resolved)
    runner = _runner(config, resolved)
    criteria_file, outputs = _checked_files(config, resolved, runner, phase)
    not_collected = _default_paths_not_collected(config)
    settings = PhaseSettings(
        phase=phase,
        criteria_file=criteria_file,
        runner=runner,
        no_gate=bool(config.getoption("orchphase_no_gate")),
        json_path=outputs[0],
        md_path=outputs[1],
        phase_from=resolved.phase.source(),
        not_collected=not_collected,
        configuration=folders_line(resolved),
        project=resolved.config.base if resolved.config.path is not None else None,
    )
    config.pluginmanager.register(PhaseSession(settings), "orchphase-session")
    if config.getoption("collectonly") and not config.getoption("stepwise", False):
        # pytest < 8.4's stepwise plugin clears its cache at the end of every session, --co
        # included, creating .pytest_cache: a --co phase run must write nothing.
        config.pluginmanager.unregister(name="stepwise")
    if not_collected:
        config.args = [str(criteria_file)]
    elif not any(resolved_path(Path(a.split("::")[0])) == criteria_file for a in config.args):
        config.args = [*config.args, str(criteria_file)]


def _runner(config: pytest.Config, resolved: Settings) -> PhaseRunner:
    """The run's evaluator, with the metrics plugins and conftests register."""
    from pytest_orchphase.errors import OrchphaseError
    from pytest_orchphase.evaluate.runner import PhaseRunner
    from pytest_orchphase.metrics.extensions import load_entry_points, register_from
    from pytest_orchphase.metrics.registry import REGISTRY, Registry

    def hooks() -> Callable[[Registry], object]:
        return lambda r: config.hook.pytest_orchphase_register_metrics(registry=r)

    registry = REGISTRY.copy()
    try:
        load_entry_points(registry)  # the same metrics the orchphase commands load
        register_from(registry, "a pytest_orchphase_register_metrics hook", hooks)
    except OrchphaseError as exc:
        raise pytest.UsageError(f"pytest-orchphase: {exc}") from None
    return PhaseRunner(
        resolved.criteria_dir,
        resolved.data_root,
        registry=registry,
        prices=resolved.prices.path,
        scan_cache=_scan_cache(config),
    )


def _scan_cache(config: pytest.Config) -> Callable[[], ScanCache | None] | None:
    """The scan cache in pytest's cache folder, made when a phase is first measured (a run
    that measures nothing, ``--co`` included, writes nothing); none with
    ``--orchphase-no-cache`` or ``-p no:cacheprovider``."""
    pytest_cache = getattr(config, "cache", None)
    if pytest_cache is None or config.getoption("orchphase_no_cache"):
        return None

    def made() -> ScanCache | None:
        from pytest_orchphase.usage.cache import cache_in

        try:
            return cache_in(pytest_cache.mkdir("orchphase"))
        except OSError:  # a read-only project: pytest warns of its own cache, and so it runs
            return None

    return made


def _checked_files(
    config: pytest.Config, resolved: Settings, runner: PhaseRunner, phase: str
) -> tuple[Path, list[Path | None]]:
    """The phase's criteria file, its requires graph, the price file and the output paths,
    checked before collection: each problem is a usage error. Returns the criteria file and the
    JSON and markdown output paths."""
    from pytest_orchphase.errors import OrchphaseError
    from pytest_orchphase.files import check_output_path, check_report_paths
    from pytest_orchphase.load.phase import require_phase
    from pytest_orchphase.load.requires import check_graph

    try:
        criteria_file = require_phase(resolved.criteria_dir, phase)
        check_graph(resolved.criteria_dir, phase, load=runner.criteria)
        prices = resolved.prices.path
        if prices is not None:  # read now: a broken price file fails every run, measured or not
            from pytest_orchphase.usage.price_file import check_price_file

            check_price_file(prices)
        outputs = [output_path(config, "orchphase_json"), output_path(config, "orchphase_md")]
        for path in filter(None, outputs):
            check_output_path(path)
        check_report_paths(_reports(config, outputs), _reads(resolved, runner, phase))
    except OrchphaseError as exc:
        raise pytest.UsageError(f"pytest-orchphase: {exc}") from None
    return criteria_file, outputs


def _reports(config: pytest.Config, outputs: list[Path | None]) -> list[tuple[str, Path]]:
    """Every file the run writes into: the JSON and markdown reports, the markdown's chart, the
    JUnit file the phase's items fill (pytest's ``--junitxml``) and the step summary."""
    import os

    from pytest_orchphase.files import is_special
    from pytest_orchphase.report.outputs import STEP_SUMMARY_ENV, chart_beside

    json_path, md_path = outputs
    reports = [("--orchphase-json", json_path), ("--orchphase-md", md_path)]
    if md_path is not None and not is_special(md_path):
        reports.append(("the chart of --orchphase-md", chart_beside(md_path)))
    if xml := getattr(config.option, "xmlpath", None):
        where = os.path.expanduser(os.path.expandvars(str(xml)))
        reports.append(("--junitxml", report_path(config.invocation_params.dir / where)))
    if summary := os.environ.get(STEP_SUMMARY_ENV):
        reports.append((f"${STEP_SUMMARY_ENV}", report_path(Path(summary))))
    return [(option, path) for option, path in reports if path is not None]


def _reads(resolved: Settings, runner: PhaseRunner, phase: str) -> Callable[[Path], str | None]:
    """What a resolved path is of the files the run reads (see
    :func:`~pytest_orchphase.usage.roots.what_a_run_reads`), the price file too. The sources
    ``sessions:`` names are known only of the phases that load (the phase and those it
    requires): a phase that does not is a collection error of its own."""
    from pytest_orchphase.errors import OrchphaseError
    from pytest_orchphase.load.phase import Phase, criteria_path, requires_order
    from pytest_orchphase.usage.roots import what_a_run_reads

    def requires_of(name: str) -> list[str] | None:
        try:
            return runner.criteria(criteria_path(runner.criteria_dir, name))[0].requires
        except OrchphaseError:
            return None

    phases: list[Phase] = []
    for name in requires_order(phase, requires_of):
        with contextlib.suppress(OrchphaseError):
            phases.append(runner.load(name))
    prices = resolved.prices.path
    price_file = resolved_path(prices) if prices is not None else None

    def reads(path: Path) -> str | None:
        if path == price_file:
            return "the price file"
        return what_a_run_reads(path, runner.criteria_dir, phases)

    return reads


def _default_paths_not_collected(config: pytest.Config) -> list[str]:
    """A phase run evaluates the phase's criteria, not the project's test suite: the default
    test paths give way to the criteria file (and the header and summary say so, since an
    exported ORCHPHASE_PHASE would otherwise turn a plain `pytest` into a phase run quietly);
    explicitly named paths are collected as well."""
    if config.args_source == pytest.Config.ArgsSource.ARGS:
        return []
    source = config.args_source == pytest.Config.ArgsSource.TESTPATHS
    return [f"{'testpaths' if source else 'the current directory'}: " + " ".join(config.args)]


class PhaseSession:
    """The hooks of one phase run, registered by the plugin only when a phase is asked for."""

    def __init__(self, settings: PhaseSettings) -> None:
        self.settings = settings
        self.entries: list[Entry] = []
        #: Node ids of the run's other failed items (Python checks beside the criteria, items
        #: that errored in setup or teardown): each counts in the decision.
        self.other_failures: list[str] = []
        #: Node ids of the run's other items (or their modules) that were skipped: a Python
        #: check that did not run proves nothing, so the decision cannot be YES beside it.
        self.other_skipped: list[str] = []
        #: Node ids of the collectors that failed (a Python file beside the criteria that does
        #: not import, an invalid criteria file), counted here, from the hook, rather than from
        #: the terminal reporter: a run with ``-p no:terminal`` has none, and its report must
        #: still count them. Under xdist the workers' collection errors reach the controller's
        #: hook too.
        self.collection_errors: list[str] = []
        self.report: RunReport | None = None
        self.written: list[str] = []
        self.interrupted = False
        #: What stopped an interrupted run, for its reports ("Ctrl-C", "pytest.exit: …").
        self.interruption = ""
        #: Whether the session finish ran (see :meth:`pytest_unconfigure`).
        self.finished = False

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        """A run that ends without a session finish decided nothing: a project's
        ``pytest_configure`` (after this plugin's) or ``pytest_sessionstart`` stopped it
        (``pytest.exit``, Ctrl-C) or failed. Its reports say so all the same, and it does not
        exit 0 (pytest returns the session's status after this hook). A usage error writes
        nothing, as a run refused before it starts."""
        session = stopped_session(config)
        if self.finished or session is None:
            return
        if lists_only(config) or hasattr(config, "workerinput"):
            return
        if not self.interrupted:
            self.interruption = f"its session did not start: exit status {int(session.exitstatus)}"
        self._write_interrupted(session)
        terminal = config.pluginmanager.get_plugin("terminalreporter")
        if terminal is not None:
            for line in self._interrupted_lines():
                terminal.write_line(line)

    def pytest_report_header(self) -> list[str]:
        configuration = [self.settings.configuration] if self.settings.configuration else []
        return [*self.settings.origin_lines(), *configuration]

    def pytest_collect_file(
        self, file_path: Path, parent: pytest.Collector
    ) -> pytest.Collector | None:
        if file_path != self.settings.criteria_file:
            return None
        # Annotated: on pytest 8.0, from_parent is typed as returning Any.
        collector: PhaseCriteriaFile = PhaseCriteriaFile.from_parent(parent, path=file_path)
        collector.settings = self.settings
        return collector

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        entry: Entry | None = getattr(item, "entry", None)
        if entry is None or call.when == "setup":
            return report
        if report.failed and entry["passed"] and call.excinfo is not None:
            # The item failed after its entry said it passed (a bypassed gate's warning turned
            # into an error by -W error, a hook or fixture of the project in its call or its
            # teardown): its entry says so, so that the decision, its row in every report and
            # its JUnit properties agree with pytest's outcome.
            entry = failed_late(entry, call.when, call.excinfo.exconly().splitlines()[0])
            vars(item)["entry"] = entry
            result = row(entry)["result"]
            for properties in (item.user_properties, report.user_properties):
                properties[:] = [(k, result if k == "result" else v) for k, v in properties]
        elif call.when != "call":
            return report
        vars(report)["orchphase"] = entry  # plain data: xdist carries it to the controller
        return report

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        entry = getattr(report, "orchphase", None)
        if isinstance(entry, dict):
            # as the item built it (or xdist carried it); a teardown's report carries one only
            # when the teardown failed the item, and then its failed entry stands for the item
            self.entries.append(cast(Entry, entry))
        elif report.failed and report.nodeid not in self.other_failures:
            self.other_failures.append(report.nodeid)
        elif report.skipped and report.nodeid not in self.other_skipped:
            self.other_skipped.append(report.nodeid)  # skipped or xfailed: it did not pass

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed and report.nodeid not in self.collection_errors:
            self.collection_errors.append(report.nodeid)
        elif report.skipped and report.nodeid not in self.other_skipped:
            # a module of checks skipped whole (``pytest.importorskip``, a module-level skip)
            self.other_skipped.append(report.nodeid)

    def ordered(self) -> list[Entry]:
        """Each item's entry once (see ``distinct``), in collection order."""
        return sorted(distinct(self.entries), key=lambda e: int(e["order"]))

    def pytest_keyboard_interrupt(self, excinfo: ExceptionInfo[BaseException]) -> None:
        """Ctrl-C, or ``pytest.exit`` (pytest calls this before ``pytest_sessionfinish``). A
        collection error stops the session through ``Session.Interrupted``, and pytest-xdist
        stops a run at ``-x``, ``--maxfail`` or ``--sw`` through an ``Interrupted`` of its own,
        KeyboardInterrupts both: such a run still writes its report, as a serial run stopped
        early does (the failure that stopped it makes it NO)."""
        stop = excinfo.value
        if isinstance(stop, pytest.Session.Interrupted) or _stopped_by_xdist(stop):
            return
        self.interrupted = True
        message = str(getattr(stop, "msg", "") or "")
        self.interruption = f"pytest.exit: {message}" if message else "Ctrl-C"

    @pytest.hookimpl(wrapper=True, tryfirst=True)  # before pytest's JUnit plugin writes its file
    def pytest_sessionfinish(self, session: pytest.Session) -> Generator[None, None, None]:
        """Decide and write the reports (:meth:`_finish`) before every other plugin's session
        finish; after them all, a run whose decision is not YES exits non-zero still, whatever
        they made of its status (a project hook turning pytest's "no tests ran", 5, into 0 would
        otherwise make a phase whose every criterion was deselected pass its CI job), a later
        hook's ``pytest.exit(returncode=0)`` included."""
        self.finished = True
        status = self._finish(session)
        try:
            yield
        except pytest.exit.Exception as stop:
            # A later hook's pytest.exit (a conftest's session finish or terminal summary):
            # pytest takes its return code as the run's, so a 0 gives way to the decision's.
            if status is not None and stop.returncode == pytest.ExitCode.OK:
                stop.returncode = status
            raise
        finally:
            if status is not None and session.exitstatus == pytest.ExitCode.OK:
                session.exitstatus = status

    def _finish(self, session: pytest.Session) -> int | pytest.ExitCode | None:
        """Build the report once; only a controller (or a plain run) writes files. A run that
        only lists (--co, --fixtures, --fixtures-per-test) builds nothing: it reads no
        transcript, decides nothing and writes nothing (pytest ends the two --fixtures runs
        with exit 0 whatever the session's status, so a decision beside it would be dropped).
        An interrupted run (Ctrl-C, ``pytest.exit``) measures nothing either: the report would
        scan the transcripts the interrupt stopped again, and would describe a run that did not
        finish; it writes a short report saying so (:meth:`_write_interrupted`). The exit
        status a decision other than YES needs, or None."""
        config = session.config
        if lists_only(config) or hasattr(config, "workerinput"):
            return None
        if self.interrupted:
            return self._write_interrupted(session)
        from pytest_orchphase.report.outputs import phase_report, write_outputs

        settings = self.settings
        try:
            report = phase_report(
                settings.runner,
                settings.phase,
                self.ordered(),
                # items' setup/teardown errors are TestReports, failures in logreport
                len(self.collection_errors),
                other_failures=self.other_failures + self._run_failure(session),
                other_skipped=self.other_skipped,
                no_gate=settings.no_gate,
            )
        except KeyboardInterrupt:
            # Ctrl-C while the report measures other phases (the comparison table, a gate):
            # pytest does not guard its session finish, so this run ends here, as one
            # interrupted in its items does, rather than in a traceback.
            self.interrupted = True
            self.interruption = "Ctrl-C"
            session.exitstatus = pytest.ExitCode.INTERRUPTED
            return self._write_interrupted(session)
        self.report = report
        if self.collection_errors and session.exitstatus == pytest.ExitCode.TESTS_FAILED:
            # An invalid file is a collection error, exit 2, as in a serial run; under xdist the
            # workers' collection errors reach the controller as failures (exit 1). A fact found
            # when the items run (an unreadable transcript) stays a failure, exit 1.
            session.exitstatus = pytest.ExitCode.INTERRUPTED
        runner = settings.runner
        _begin_on_a_line(config, [settings.json_path, settings.md_path])
        self.written, ok, written = write_outputs(
            self.report,
            settings.json_path,
            settings.md_path,
            # paths in the files relative to the project, so that they read the same from
            # whatever folder the run started
            folders=[runner.criteria_dir, runner.data_root],
            base=settings.project or runner.criteria_dir.parent,
        )
        answer = self.report["decisions"]["proceed"]["answer"]
        if not ok:  # the run asked for a report it did not get: not a success
            session.exitstatus = pytest.ExitCode.USAGE_ERROR
        elif answer != "YES" and session.exitstatus == pytest.ExitCode.OK:
            # A phase run succeeds only when its decision is YES: an UNDECIDED run (criteria
            # deselected with -k, skipped, or stopped early) is not a pass a CI job may read.
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
        # the decision the reports written give (UNDECIDED when one could not be written)
        record_decision(
            config, settings.phase, settings.criteria_file, written["decisions"]["proceed"]
        )
        _freeze_before_exit(config)
        return session.exitstatus if answer != "YES" or not ok else None

    def _interrupted_lines(self) -> list[str]:
        what = (
            f"orchphase: interrupted ({self.interruption}): the phase was not decided (UNDECIDED)"
        )
        return [what, *self.written]

    def _write_interrupted(self, session: pytest.Session) -> int | pytest.ExitCode:
        """The reports of a run stopped before its decision: each file asked for says so, with
        the decision UNDECIDED, and the JUnit file has the decision's item. Without them, a
        report an earlier run wrote where this one was to write would stay, saying YES (or
        NO) for a run that did not finish. A run stopped with ``pytest.exit(returncode=0)``
        exits 2, as after Ctrl-C: only a YES exits 0."""
        settings = self.settings
        runner = settings.runner
        with contextlib.suppress(KeyboardInterrupt):  # pressed again: each file is whole
            self.written = write_stopped(
                session,
                runner.criteria_dir,
                settings.phase,
                self.interruption,
                [settings.json_path, settings.md_path],
                load=runner.criteria,
                criteria_file=settings.criteria_file,
            )
        if session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.INTERRUPTED
        return session.exitstatus

    @staticmethod
    def _run_failure(session: pytest.Session) -> list[str]:
        """An internal error (a plugin's or a conftest's hook raised, after the items ran)
        fails the run, not an item: the decision says so instead of YES beside exit status 3."""
        if session.exitstatus != pytest.ExitCode.INTERNAL_ERROR:
            return []
        return [f"pytest internal error (exit status {int(pytest.ExitCode.INTERNAL_ERROR)})"]

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.interrupted:
            for line in self._interrupted_lines():
                terminalreporter.write_line(line)
        if self.report is None:
            return
        from pytest_orchphase.report.terminal import write_summary

        write_summary(terminalreporter, self.report, self.ordered())
        for line in self.settings.origin_lines()[1:]:
            terminalreporter.write_line(line)
        for line in self.written:
            terminalreporter.write_line(line)


def stopped_before_start(config: pytest.Config) -> None:
    """A phase run stopped before this plugin started it: a project's ``pytest_configure`` that
    ran before the plugin's called ``pytest.exit`` or failed (a usage error aside). Each report
    asked for says it was interrupted, UNDECIDED, and the run does not exit 0."""
    from pytest_orchphase.errors import OrchphaseError
    from pytest_orchphase.plugin.options import resolve_settings

    session = stopped_session(config)
    if session is None or hasattr(config, "workerinput") or lists_only(config):
        return
    try:
        resolved = resolve_settings(config)
        phase = resolved.phase.text
        if not phase:
            return
        why = f"its session did not start: exit status {int(session.exitstatus)}"
        paths = [output_path(config, "orchphase_json"), output_path(config, "orchphase_md")]
        write_stopped(session, resolved.criteria_dir, phase, why, paths)
    except OrchphaseError:
        return  # no phase, or no settings to say where its reports go
    if session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.INTERRUPTED


def write_stopped(
    session: pytest.Session,
    criteria_dir: Path,
    phase: str,
    why: str,
    outputs: list[Path | None],
    *,
    load: CriteriaLoader | None = None,
    criteria_file: Path | None = None,
) -> list[str]:
    """Write a stopped run's short UNDECIDED report (see :func:`interrupted_report`; ``why``:
    what stopped it) to each of ``outputs`` asked for, and its decision's item to the JUnit
    file when the criteria file is known. The lines saying what was written."""
    from pytest_orchphase.report.outputs import interrupted_report, write_outputs

    report = interrupted_report(criteria_dir, phase, why, load)
    _begin_on_a_line(session.config, outputs)
    written, _, _ = write_outputs(report, *outputs)
    if criteria_file is not None:
        record_decision(session.config, phase, criteria_file, report["decisions"]["proceed"])
    return written


def _begin_on_a_line(config: pytest.Config, outputs: list[Path | None]) -> None:
    """A report written on this process's standard output (``/dev/stdout``) begins on a line
    of its own, not after the progress line's ``[100%]``, so that what follows pytest's output
    is the report alone, whole lines a program can cut out."""
    from pytest_orchphase.files import stream_fd

    if any(path is not None and stream_fd(path) == 1 for path in outputs):
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        if reporter is None:
            return
        # -q's progress letters leave no mark ensure_newline() sees: ask the writer itself
        # (pytest's own attribute), a newline when it cannot say
        writer = getattr(reporter, "_tw", None)
        if getattr(writer, "width_of_current_line", 1):
            reporter.write("\n", flush=True)


def stopped_session(config: pytest.Config) -> pytest.Session | None:
    """The session of a run that began (pytest made it) but was stopped or failed before its
    end, not by a usage error (which writes nothing, as a run refused before it starts)."""
    session = config.pluginmanager.get_plugin("session")
    if not isinstance(session, pytest.Session):
        return None
    return None if session.exitstatus == pytest.ExitCode.USAGE_ERROR else session


def _stopped_by_xdist(stop: BaseException) -> bool:
    """pytest-xdist's ``Interrupted``: the run stopped by ``-x``, ``--maxfail`` or ``--sw``
    (or a worker's Ctrl-C), not the controller's own Ctrl-C. Told by its module: the plugin
    does not import xdist."""
    return type(stop).__module__.split(".")[0] == "xdist"


def _freeze_before_exit(config: pytest.Config) -> None:
    """Take what the run holds out of the garbage collector's later passes when the process
    ends with this run: pytest collects twice after the session (its unraisable-exception
    checks) and Python once more at exit, each over every object the plugin's imports and
    the phase's measurement made (a fifth of a warm phase run's CPU time on a 200 MB phase).
    Only for the run the command line started (pytest's arguments are the process's): a
    program that runs pytest in-process (``pytest.main([...])``, pytester) goes on after the
    run, and its garbage must stay collectable. Objects freed by their reference count are
    freed as before."""
    import gc
    import sys

    if config.invocation_params.args == tuple(sys.argv[1:]):
        gc.freeze()

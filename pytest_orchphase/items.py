"""Collection of a phase's criteria file: an item per criterion (per ticket), one per gate."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _pytest._code.code import ExceptionInfo, TerminalRepr

from pytest_orchphase.errors import OrchphaseError
from pytest_orchphase.evaluate import Verdict, fmt
from pytest_orchphase.runner import GateResult, ItemSpec, PhaseRunner


class OrchphaseWarning(pytest.PytestWarning):
    """A fact about a phase's data that does not fail it (declared-total mismatch, gate bypass)."""


class CriterionFailed(Exception):
    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


class PhaseSettings:
    """What the plugin resolved from options: the phase, folders, and the runner."""

    def __init__(self, phase: str, criteria_file: Path, runner: PhaseRunner, no_gate: bool) -> None:
        self.phase = phase
        self.criteria_file = criteria_file
        self.runner = runner
        self.no_gate = no_gate


def _properties(
    phase: str, criterion: str, ticket: str | None, verdict: Verdict
) -> list[tuple[str, object]]:
    leaves = verdict.leaves()
    joiner = " | " if verdict.combinator == "any" else " & "

    def join(values: list[str]) -> str:
        return joiner.join(values)

    stretch = [leaf for leaf in leaves if leaf.stretch is not None]
    return [
        ("phase", phase),
        ("criterion", criterion),
        ("ticket", ticket or ""),
        ("metric", join([leaf.label for leaf in leaves])),
        (
            "actual",
            join(
                [
                    "n/a"
                    if leaf.error
                    else fmt(leaf.actual.value if leaf.actual else None, leaf.unit)
                    for leaf in leaves
                ]
            ),
        ),
        ("operator", join([leaf.operator or "" for leaf in leaves])),
        (
            "limit",
            join(
                [fmt(leaf.limit, leaf.unit) if leaf.limit is not None else "n/a" for leaf in leaves]
            ),
        ),
        ("stretch", join([fmt(leaf.stretch, leaf.unit) for leaf in stretch])),
        (
            "stretch_met",
            "" if not stretch else str(all(leaf.stretch_met for leaf in stretch)).lower(),
        ),
        ("result", "passed" if verdict.passed else "failed"),
        ("source", verdict.source),
    ]


class _OrchphaseItem(pytest.Item):
    settings: PhaseSettings
    line: int | None

    def repr_failure(
        self, excinfo: ExceptionInfo[BaseException], style: Any = None
    ) -> str | TerminalRepr:
        if isinstance(excinfo.value, CriterionFailed):
            return excinfo.value.text
        if isinstance(excinfo.value, OrchphaseError):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return (
            self.path,
            (self.line - 1) if self.line else None,
            f"{self.settings.phase}: {self.name}",
        )


class CriterionItem(_OrchphaseItem):
    def __init__(
        self, *, spec: ItemSpec, settings: PhaseSettings, line: int | None, **kw: Any
    ) -> None:
        super().__init__(**kw)
        self.spec = spec
        self.settings = settings
        self.line = line
        self.add_marker("orchphase")

    def runtest(self) -> None:
        verdict = self.settings.runner.verdict(self.settings.phase, self.spec)
        self.user_properties.extend(
            _properties(self.settings.phase, self.spec.criterion.id, self.spec.ticket, verdict)
        )
        if not verdict.passed:
            lines = [f"{self.name}: {verdict.headline()}"]
            if verdict.combinator or verdict.actual is not None:
                lines.append("")
                lines.extend(verdict.details())
            if self.spec.criterion.description:
                lines += ["", f"criterion: {self.spec.criterion.description.strip()}"]
            raise CriterionFailed("\n".join(lines))


class GateItem(_OrchphaseItem):
    def __init__(
        self, *, required: str, settings: PhaseSettings, line: int | None, **kw: Any
    ) -> None:
        super().__init__(**kw)
        self.required = required
        self.settings = settings
        self.line = line
        self.add_marker("orchphase")

    def runtest(self) -> None:
        result: GateResult = self.settings.runner.gate(self.required)
        outcome = "passed" if result.passed else ("bypassed" if self.settings.no_gate else "failed")
        self.user_properties.extend(
            [
                ("phase", self.settings.phase),
                ("criterion", "phase-gate"),
                ("ticket", self.required),
                ("metric", f"phase {self.required} passed"),
                ("actual", "yes" if result.passed else "no"),
                ("operator", "equals"),
                ("limit", "yes"),
                ("stretch", ""),
                ("stretch_met", ""),
                ("result", outcome),
                ("source", result.describe()),
            ]
        )
        if result.passed:
            return
        if self.settings.no_gate:
            warnings.warn_explicit(
                OrchphaseWarning(f"gate bypassed with --orchphase-no-gate: {result.describe()}"),
                OrchphaseWarning,
                filename=str(self.path),
                lineno=self.line or 0,
            )
            return
        raise CriterionFailed(
            f"{self.name}: {self.settings.phase} requires {self.required}, and "
            f"{result.describe()}\n(evaluated from {self.required}'s own data; "
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
                OrchphaseWarning(f"declared total differs: {mismatch.describe(located=False)}"),
                OrchphaseWarning,
                filename=mismatch.file,
                lineno=mismatch.line or 0,
            )
        doc = phase.criteria_doc
        for i, required in enumerate(phase.criteria.requires):
            yield GateItem.from_parent(
                self,
                name=f"phase-gate[{required}]",
                required=required,
                settings=settings,
                line=doc.line(("requires", i)),
            )
        for spec in specs:
            yield CriterionItem.from_parent(
                self,
                name=spec.name,
                spec=spec,
                settings=settings,
                line=doc.line(("criteria", spec.index)),
            )


class PhaseSession:
    """The hooks of one phase run, registered by the plugin only when a phase is asked for."""

    def __init__(self, settings: PhaseSettings) -> None:
        self.settings = settings
        self.rows: list[dict[str, str]] = []

    def pytest_collect_file(
        self, file_path: Path, parent: pytest.Collector
    ) -> pytest.Collector | None:
        if file_path != self.settings.criteria_file:
            return None
        collector = CriteriaFile.from_parent(parent, path=file_path)
        collector.settings = self.settings
        return collector

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Rows for the summary, from reports: works the same on an xdist controller."""
        props = {k: str(v) for k, v in report.user_properties}
        if "criterion" in props and report.when == "call":
            self.rows.append(props)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        from pytest_orchphase.report.terminal import write_summary

        write_summary(terminalreporter, self.settings, self.rows)

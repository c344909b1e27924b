"""Collection of a phase's criteria file: an item per criterion (per ticket), one per gate."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from _pytest._code.code import ExceptionInfo, TerminalRepr

from pytest_orchphase.errors import OrchphaseError, display
from pytest_orchphase.evaluate.runner import ItemSpec, gate_name
from pytest_orchphase.report.results import Entry, criterion_entry, gate_entry, row

if TYPE_CHECKING:
    from pytest_orchphase.plugin.session import PhaseSettings


class OrchphaseWarning(pytest.PytestWarning):
    """A fact about a phase's data that does not fail it (declared-total mismatch, gate bypass)."""


class CriterionFailed(Exception):
    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


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
        elif isinstance(excinfo.value, OrchphaseWarning):
            # made an error by -W error (a bypassed gate's warning): the warning, not our code
            text = f"{self.name}: OrchphaseWarning made an error (-W): {excinfo.value}"
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


class PhaseCriteriaFile(pytest.File):
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
            name = gate_name(required)
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

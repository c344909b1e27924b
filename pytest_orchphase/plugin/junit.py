"""The phase's decision in pytest's JUnit XML file (``--junitxml``).

A phase can be decided NO or UNDECIDED while every item passed (a failure the log records that
no criterion judges, a ticket not finished, a Python check skipped): its JUnit file would then
read ``failures="0"``, and a CI's test report (GitLab's merge-request widget, see docs/ci.md)
would show the phase green. So a decision other than YES adds to the file a testsuite property
``orchphase_decision`` and a failing testcase ``phase-decision`` beside the phase's items, its
message the decision line. A YES run's file is unchanged.

pytest has no public way to add a testcase once the items have run (``record_testsuite_property``
is a fixture of the items, and under xdist the items run in workers that write no file), so
this hands the testcase to pytest's JUnit plugin as the reports of an item that ran.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pytest_orchphase.report.shape import ProceedData

#: The name of the decision's testcase, after the criteria file's path, as an item's would be.
DECISION_ITEM = "phase-decision"


def record_decision(
    config: pytest.Config, phase: str, criteria_file: Path, proceed: ProceedData
) -> None:
    """Add a decision other than YES to the run's JUnit file, if it writes one."""
    try:
        from _pytest.junitxml import xml_key
    except ImportError:  # a pytest whose JUnit plugin moved: its file cannot be reached
        return
    xml = config.stash.get(xml_key, None)
    if xml is None or proceed["answer"] == "YES":
        return
    xml.add_global_property("orchphase_decision", proceed["answer"])
    path = Path(os.path.relpath(criteria_file, config.rootpath)).as_posix()
    nodeid = f"{path}::{DECISION_ITEM}"
    properties = [("phase", phase), ("decision", proceed["answer"])]
    for when, longrepr in (("call", proceed["line"]), ("teardown", None)):
        xml.pytest_runtest_logreport(
            pytest.TestReport(
                nodeid,
                (path, None, DECISION_ITEM),
                {},
                "failed" if longrepr else "passed",
                longrepr,
                when,  # type: ignore[arg-type]
                user_properties=properties,
            )
        )

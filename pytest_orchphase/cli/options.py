"""What the ``orchphase`` subcommands share: exit codes, the options for folders and prices, and
the phases, metrics and runner the commands that walk the phases start from."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_orchphase.errors import OrchphaseError

if TYPE_CHECKING:
    from pytest_orchphase.load.phase import Phase
    from pytest_orchphase.usage.cache import ScanCache

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_INPUT = 2
#: A closed pipe ends the command quietly with the status of a Unix tool killed by SIGPIPE.
EXIT_BROKEN_PIPE = 128 + 13
#: Ctrl-C: the status of a shell command ended by SIGINT.
EXIT_INTERRUPTED = 128 + 2
MAX_WARNINGS = 10

DEFAULT_HELP = (
    "default: ${key.env}, else {key.ini} in the project's pytest configuration, else "
    "{key.default}; the last two relative to the project's folder"
)


def add_prices(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--prices",
        type=Path,
        metavar="FILE",
        help="a price YAML file merged over the shipped one (default: $ORCHPHASE_PRICES, else "
        "orchphase_prices in the project's pytest configuration, relative to its folder)",
    )


def add_cache(p: argparse.ArgumentParser, *, answers: bool = False) -> None:
    """``--no-cache``; ``answers`` for a command that also keeps its answer (``extract``)."""
    kept = " (and the command's answer while no file has changed)" if answers else ""
    p.add_argument(
        "--no-cache",
        action="store_true",
        help="read every transcript whole, without the scan cache ($XDG_CACHE_HOME/orchphase, "
        f"else ~/.cache/orchphase), which keeps each file's result while it is unchanged{kept}",
    )


def scan_cache(args: argparse.Namespace) -> ScanCache | None:
    """The scan cache the command reads through (``None`` with ``--no-cache``, or where no
    cache folder can be found)."""
    if getattr(args, "no_cache", False):
        return None
    from pytest_orchphase.files import user_cache_folder
    from pytest_orchphase.usage.cache import cache_in

    return cache_in(user_cache_folder())


def add_folders(p: argparse.ArgumentParser) -> None:
    from pytest_orchphase.settings import CRITERIA, DATA

    p.add_argument(
        "--criteria",
        type=Path,
        metavar="DIR",
        help=f"folder of <phase>.yaml criteria files ({DEFAULT_HELP.format(key=CRITERIA)})",
    )
    p.add_argument(
        "--data",
        type=Path,
        metavar="DIR",
        help=f"folder of the phases' data folders ({DEFAULT_HELP.format(key=DATA)})",
    )


def require_phases(args: argparse.Namespace) -> None:
    """At least one phase, and no cycle in ``requires`` among them (every command here walks
    the phases' requirements)."""
    from pytest_orchphase.errors import display
    from pytest_orchphase.load.phase import known_phases
    from pytest_orchphase.load.requires import check_graph
    from pytest_orchphase.settings import Origin

    if not known_phases(args.criteria):
        criteria, project = args.settings.criteria, args.settings.config
        where = f" ({criteria.describe()}; project configuration: {project.describe()})"
        if criteria.origin is Origin.COMMAND_LINE:
            where = ""
        raise OrchphaseError(
            f"no phases: no <phase>.yaml in {display(args.criteria)}{where}; expected the "
            "criteria folder (--criteria DIR)"
        )
    check_graph(args.criteria)


def registry_for(args: argparse.Namespace) -> Any:
    """The metrics the commands know: the built-in ones and those installed packages register
    through the orchphase.metrics entry points; a conftest.py's metrics are named, not run."""
    from pytest_orchphase.metrics.extensions import conftest_metrics, load_entry_points
    from pytest_orchphase.metrics.registry import REGISTRY

    registry = REGISTRY.copy()
    load_entry_points(registry)
    registry.conftest_only = {
        name: path
        for name, path in conftest_metrics(args.settings.config.base).items()
        if registry.get("phase", name) is None and registry.get("ticket", name) is None
    }
    return registry


def runner_for(args: argparse.Namespace) -> Any:
    from pytest_orchphase.evaluate.runner import PhaseRunner

    require_phases(args)
    return PhaseRunner(
        args.criteria,
        args.data,
        registry=registry_for(args),
        prices=getattr(args, "prices", None),
        scan_cache=lambda: scan_cache(args),
    )


def refuse_phase_file(out: Path, criteria_dir: Path, phases: Sequence[Phase]) -> None:
    """A command's ``--out`` that names a file a phase run reads (a criteria file, a phase's
    metadata, log, ledger or transcript, a source ``sessions:`` names): an error, ``--force``
    or not, since the next run would read the command's output as its data."""
    from pytest_orchphase.errors import resolve_path
    from pytest_orchphase.usage.roots import what_a_run_reads

    try:
        target = resolve_path(out)
    except (OSError, ValueError):
        return  # check_output_path names it
    if (what := what_a_run_reads(target, criteria_dir, phases)) is not None:
        raise OrchphaseError(
            f"is {what}, which a phase run reads; never overwritten (--force replaces an "
            "earlier output, not the phase's data): write it elsewhere",
            path=out,
        )


def loaded_phases(runner: Any, criteria_dir: Path) -> list[Phase]:
    """The phases of ``criteria_dir`` that load (one that does not is left out: the command
    that needs it says why)."""
    from pytest_orchphase.load.phase import known_phases

    phases = []
    for name in known_phases(criteria_dir):
        try:
            phases.append(runner.load(name))
        except OrchphaseError:
            continue
    return phases

"""The ``orchphase`` command: one function per subcommand.

Add a subcommand by writing ``_add_<name>(subparsers)`` (which sets ``func``) and listing it in
:data:`SUBCOMMANDS`. A subcommand returns the exit code; an
:class:`~pytest_orchphase.errors.OrchphaseError` becomes one error line and exit 2.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pytest_orchphase.cli.collect import _add_collect
from pytest_orchphase.cli.draft_log import _add_draft_log
from pytest_orchphase.cli.extract import _add_extract
from pytest_orchphase.cli.hook import _add_hook
from pytest_orchphase.cli.options import (
    EXIT_BROKEN_PIPE,
    EXIT_INPUT,
    EXIT_INTERRUPTED,
    EXIT_OK,
    add_folders,
    add_prices,
)
from pytest_orchphase.cli.prices import _add_prices_command
from pytest_orchphase.errors import OrchphaseError


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] | None = getattr(args, "func", None)
    if func is None:
        parser.print_help(sys.stderr)
        return EXIT_INPUT
    try:
        _apply_settings(args)
        status = func(args)
        sys.stdout.flush()  # a closed pipe shows here, not at exit
        return status
    except KeyboardInterrupt:  # Ctrl-C: nothing was written half-done (files are atomic)
        print("orchphase: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `orchphase compare | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except OrchphaseError as exc:
        print(f"orchphase: error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except OSError as exc:  # a path the command had to write or read and could not
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"orchphase: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return EXIT_INPUT


def _apply_settings(args: argparse.Namespace) -> None:
    """Fill the folders and the price file a command did not get on its command line from the
    environment, then the project's pytest configuration, then the defaults: the same lookup as
    ``pytest --phase`` (:mod:`pytest_orchphase.settings`)."""
    import os

    from pytest_orchphase.settings import find_config, resolve

    reads = ("criteria", "data", "prices", "schema")
    if args.func is not cmd_schema and not any(hasattr(args, n) for n in reads):
        return
    cwd = Path.cwd()
    given = {
        name: (None if value is None else str(value), f"--{name}")
        for name in ("criteria", "data", "prices")
        for value in [getattr(args, name, None)]
    }
    settings = resolve(cwd, os.environ, find_config(cwd), given)
    args.settings = settings
    if hasattr(args, "criteria"):
        args.criteria, args.data = settings.criteria_dir, settings.data_root
    if hasattr(args, "prices"):
        args.prices = settings.prices.path
    from pytest_orchphase.load.schema import DEFAULT_DIR

    if hasattr(args, "schema") and args.schema is None:
        args.schema = settings.config.base / DEFAULT_DIR
    if args.func is cmd_schema and args.out is None:
        args.out = settings.config.base / DEFAULT_DIR


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="orchphase", description="Measured agent usage and phase success criteria."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    for add in SUBCOMMANDS:
        add(subparsers)
    return parser


def version() -> str:
    """The installed distribution's version: the one ``pytest -VV`` names in its plugin line."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    from pytest_orchphase import __version__

    try:
        return installed("pytest-orchphase")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return __version__


def _add_init(subparsers: Any) -> None:
    from pytest_orchphase.load.schema import DEFAULT_DIR

    p = subparsers.add_parser(
        "init",
        help="scaffold a new phase: metadata.yaml, execution-log.yaml and a criteria stub",
        description=(
            "Create <data>/phase-<phase>-<tickets>/ with metadata.yaml and an execution-log.yaml "
            "template, and <criteria>/<phase>.yaml when it is missing. Values to fill are ${...} "
            "placeholders, which `pytest --phase` refuses until they are replaced. Never "
            "overwrites: when a file exists, nothing is written."
        ),
    )
    p.add_argument("phase", nargs="?", metavar="PHASE", help="the phase's name, like a4")
    p.add_argument("--tickets", metavar="IDS", help="the phase's tickets, like R08,R09 (required)")
    p.add_argument(
        "--data-folder",
        metavar="NAME",
        help="the data folder's name under --data (default: phase-<phase>-<tickets>, or "
        "phase-<phase> when that would pass 64 characters)",
    )
    p.add_argument(
        "--requires",
        metavar="PHASES",
        help="the phases this one requires, comma-separated (default: the known phase with the "
        "same prefix and the next lower number, a3 for a4; none for a name without a number)",
    )
    p.add_argument(
        "--example",
        action="store_true",
        help="instead of a new phase, write the example phases a1-a3 (criteria, baselines, "
        "data and schemas) to start from; nothing is written when any of them exists",
    )
    add_folders(p)
    p.add_argument(
        "--schema",
        type=Path,
        metavar="DIR",
        help="where `orchphase schema` wrote the schemas the files name (default: "
        f"{DEFAULT_DIR} in the project's folder)",
    )
    p.set_defaults(func=cmd_init)


def cmd_init(args: argparse.Namespace) -> int:
    import datetime as dt

    from pytest_orchphase.cli import scaffold
    from pytest_orchphase.errors import display
    from pytest_orchphase.load.phase import criteria_path, known_phases
    from pytest_orchphase.load.schema import KINDS, file_name

    if args.example:
        return _init_example(args)
    if args.phase is None or args.tickets is None:
        raise OrchphaseError(
            "init needs a PHASE and --tickets (like `orchphase init a4 --tickets R08,R09`), "
            "or --example"
        )
    phase = scaffold.parse_phase(args.phase)
    tickets = scaffold.parse_tickets(args.tickets)
    folder = None if args.data_folder is None else scaffold.parse_folder(args.data_folder)
    requires = (
        None
        if args.requires is None
        else scaffold.parse_requires(args.requires, known_phases(args.criteria), phase)
    )
    plan = scaffold.plan(
        phase,
        tickets,
        args.data,
        args.criteria,
        args.schema,
        dt.datetime.now(dt.timezone.utc),
        folder_name=folder,
        requires=requires,
    )
    scaffold.create_new(plan.files)
    criteria = criteria_path(args.criteria, phase)
    for line in scaffold.describe(plan, criteria):
        print(line)
    if plan.criteria_existed:
        data = _criteria_data(criteria)
        if data is not None and data != plan.folder.name:
            print(
                f"note: {display(criteria)} reads its data from {data!r}; set `data: "
                f"{plan.folder.name}` to use the new folder"
            )
    if not all((args.schema / file_name(kind)).is_file() for kind in KINDS):
        print(
            f"note: no schemas in {display(args.schema)}: run `orchphase schema` so editors check"
        )
    print(f"next: fill every ${{...}}, then `pytest --phase {phase}`")
    return EXIT_OK


def _init_example(args: argparse.Namespace) -> int:
    from pytest_orchphase.cli import scaffold
    from pytest_orchphase.errors import display
    from pytest_orchphase.settings import Origin

    if any(v is not None for v in (args.phase, args.tickets, args.data_folder, args.requires)):
        raise OrchphaseError(
            "--example writes the example phases: give no PHASE, --tickets, --data-folder or "
            "--requires"
        )
    files = scaffold.example_plan(args.criteria, args.data, args.schema)
    scaffold.create_new(files, advice=scaffold.EXAMPLE_ADVICE)
    for path, _ in files:
        print(f"created {display(path)}")
    # pytest finds the folders the environment or the configuration named; not these:
    folders = (args.settings.criteria, args.settings.data)
    given = [s for s in folders if s.origin is Origin.COMMAND_LINE and s.path]
    options = [f"--orchphase-{s.key.name} {display(s.path)}" for s in given]
    print(f"next: pytest {' '.join([*options, '--phase a1'])}  (then a2, a3)")
    return EXIT_OK


def _criteria_data(path: Path) -> str | None:
    """The ``data:`` an existing criteria file names, if it can be read at all."""
    from pytest_orchphase.load import yamlio

    try:
        doc = yamlio.load(path)
    except OrchphaseError:
        return None
    data = doc.data.get("data") if isinstance(doc.data, dict) else None
    return data if isinstance(data, str) else None


# -- schema ---------------------------------------------------------------------------------


def _add_schema(subparsers: Any) -> None:
    from pytest_orchphase.load.schema import DEFAULT_DIR

    p = subparsers.add_parser(
        "schema",
        help="write JSON Schemas of the metadata, execution-log, criteria and baselines files",
        description=(
            "Write metadata.schema.json, execution-log.schema.json, criteria.schema.json and "
            "baselines.schema.json (JSON Schema draft-07, generated from the models) for editors. "
            "Point a YAML file at one with a first line "
            "`# yaml-language-server: $schema=<relative path to the .schema.json>`."
        ),
    )
    p.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help=f"the folder to write them to (default: {DEFAULT_DIR} in the project's folder); "
        "existing schemas are replaced",
    )
    p.set_defaults(func=cmd_schema)


def cmd_schema(args: argparse.Namespace) -> int:
    from pytest_orchphase.errors import display
    from pytest_orchphase.load.schema import write_schemas

    for path in write_schemas(args.out):
        print(f"wrote {display(path)}")
    return EXIT_OK


# -- dashboard ------------------------------------------------------------------------------


def _add_dashboard(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "dashboard",
        help="each phase's target tokens against its actual tokens, USD and gate",
        description=(
            "For every phase with a criteria file: metadata.yaml's expected_tokens against the "
            "phase's tokens (measured when it names sessions, else the log's figures), the "
            "difference, each ticket's tokens, the cost in USD when measured, and whether the "
            "phase passes its criteria and gates. A phase whose files are broken is a row "
            "saying why."
        ),
    )
    add_folders(p)
    add_prices(p)
    p.set_defaults(func=cmd_dashboard)


def cmd_dashboard(args: argparse.Namespace) -> int:
    from pytest_orchphase.report.dashboard import collect, render

    _require_phases(args)
    print(render(collect(args.criteria, args.data, args.prices, _registry_for(args))))
    return EXIT_OK


# -- compare, breakeven, strategy ----------------------------------------------------------


def _require_phases(args: argparse.Namespace) -> None:
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


def _registry_for(args: argparse.Namespace) -> Any:
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


def _runner_for(args: argparse.Namespace) -> Any:
    from pytest_orchphase.evaluate.runner import PhaseRunner

    _require_phases(args)
    return PhaseRunner(
        args.criteria, args.data, registry=_registry_for(args), prices=getattr(args, "prices", None)
    )


def _add_compare(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "compare",
        help="the cross-phase table: one column per phase with data",
        description=(
            "Tickets, execution models, total and per-ticket tokens, USD, fix loops, quality, "
            "reviews, savings vs V2, success rate per model and the recommended execution "
            "model, one column per phase whose data loads (the others are named on stderr)."
        ),
    )
    add_folders(p)
    add_prices(p)
    p.add_argument("--markdown", action="store_true", help="print a markdown table")
    p.set_defaults(func=cmd_compare)


def cmd_compare(args: argparse.Namespace) -> int:
    from tabulate import tabulate

    from pytest_orchphase.report.compare import comparison

    def skipped(name: str, exc: OrchphaseError) -> None:
        print(f"orchphase: phase {name} left out: {str(exc).splitlines()[0]}", file=sys.stderr)

    table = comparison(_runner_for(args), on_error=skipped)
    if not table.phases:
        raise OrchphaseError("no phase has data that loads; see the messages above")
    print(
        tabulate(
            table.rows,
            headers=table.headers,
            disable_numparse=True,
            tablefmt="github" if args.markdown else "simple",
        )
    )
    return EXIT_OK


def _add_breakeven(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "breakeven",
        help="how many tickets a batch needs before orchestration beats a baseline",
        description=(
            "From a phase's shared planning P and mean per-ticket cost t against a baseline's "
            "cost per ticket s: N = floor(P / (s - t)) + 1 tickets, in tokens and in USD."
        ),
    )
    add_folders(p)
    p.add_argument("--phase", metavar="NAME", help="one phase (default: every phase with data)")
    p.add_argument(
        "--baseline",
        metavar="NAME",
        help="the baseline to beat (default: single_agent when defined, else the project's only "
        "baseline with compare: true)",
    )
    add_prices(p)
    p.set_defaults(func=cmd_breakeven)


def cmd_breakeven(args: argparse.Namespace) -> int:
    from pytest_orchphase.decide.decisions import break_even
    from pytest_orchphase.load.phase import require_phase

    runner = _runner_for(args)
    if args.phase:
        require_phase(args.criteria, args.phase)
    names = [args.phase] if args.phase else runner.in_plan_order()
    for name in names:
        try:
            defined = runner.context(name).phase.baselines
            if args.baseline is not None and args.baseline not in defined:
                raise OrchphaseError(
                    f"--baseline {args.baseline}: phase {name} defines no such baseline; "
                    f"defined: {', '.join(sorted(defined)) or 'none'}"
                )
            lines = [break_even(runner, name, m, args.baseline).line for m in ("total", "usd")]
        except OrchphaseError as exc:
            if args.phase:
                raise
            print(f"orchphase: phase {name} left out: {str(exc).splitlines()[0]}", file=sys.stderr)
            continue
        print(f"{name}:")
        for line in lines:
            print(f"  {line}")
    return EXIT_OK


def _add_strategy(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "strategy",
        help="write the next phase's model-selection file, filled from measured data",
        description=(
            "Write <data>/phase-<PHASE>-strategy.yaml (the plan's phase-a3-strategy.yaml) "
            "from the data of the phases PHASE requires: model per complexity with its rationale "
            "and success rate, planning and review tiers, expected tokens and USD per ticket. "
            "An existing file is never overwritten without --force."
        ),
    )
    add_folders(p)
    p.add_argument("--for", dest="target", required=True, metavar="PHASE", help="the phase to plan")
    p.add_argument(
        "--tickets",
        metavar="ID=COMPLEXITY,...",
        help="the phase's tickets and complexities (default: from its data)",
    )
    p.add_argument("--out", type=Path, metavar="FILE", help="where to write (default: in --data)")
    p.add_argument("--force", action="store_true", help="replace an existing file")
    add_prices(p)
    p.set_defaults(func=cmd_strategy)


def _ticket_complexities(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        ticket, _, complexity = part.partition("=")
        if complexity not in ("mechanical", "nuanced", "complex") or not ticket:
            raise OrchphaseError(
                f"--tickets: {part!r}; expected ID=mechanical|nuanced|complex, comma-separated"
            )
        out[ticket] = complexity
    return out


def cmd_strategy(args: argparse.Namespace) -> int:
    from pytest_orchphase.decide.strategy import build_strategy, strategy_path, strategy_yaml
    from pytest_orchphase.errors import display
    from pytest_orchphase.files import atomic_write
    from pytest_orchphase.load.phase import require_phase

    runner = _runner_for(args)
    require_phase(args.criteria, args.target)
    tickets = _ticket_complexities(args.tickets) if args.tickets else None
    out = args.out or strategy_path(args.data, args.target)
    if out.exists() and not args.force:
        raise OrchphaseError("exists; not overwritten (pass --force to replace it)", path=out)
    text = strategy_yaml(build_strategy(runner, args.target, tickets))
    atomic_write(out, text.encode())
    print(f"orchphase: wrote {display(out)}")
    return EXIT_OK


# -- plan -----------------------------------------------------------------------------------


def _add_plan(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "plan",
        help="the sample a rate decision needs before it can say YES",
        description=(
            "For each number of failures, the smallest number of tickets whose Wilson interval's "
            "lower bound reaches --rate at --confidence: the size of the next phase before it "
            "runs (70%%: 9 of 9, 14 of 15, ...)."
        ),
    )
    p.add_argument("--rate", required=True, metavar="PERCENT", help="the threshold, e.g. 70%%")
    p.add_argument(
        "--confidence", default="95%", metavar="PERCENT", help="the confidence level (95%%)"
    )
    p.add_argument(
        "--failures",
        default="0,1,2",
        metavar="N,...",
        help="numbers of failed tickets to plan for, comma-separated (0,1,2)",
    )
    p.set_defaults(func=cmd_plan)


def _percent_arg(option: str, text: str, low: float, high: float, expected: str) -> float:
    """A percentage argument (``70%`` or ``70``) with ``low <= value < high``."""
    from pytest_orchphase.load.quantity import parse_percent

    try:
        value = parse_percent(text if text.strip().endswith("%") else float(text))
    except ValueError as exc:
        raise OrchphaseError(f"{option}: {exc}") from None
    if not low <= value < high:
        raise OrchphaseError(f"{option}: {text!r}; expected {expected}")
    return value


def cmd_plan(args: argparse.Namespace) -> int:
    from pytest_orchphase.metrics.stats import sample_needed, wilson

    rate = _percent_arg("--rate", args.rate, 1e-9, 100, "a percentage above 0 and below 100")
    confidence = _percent_arg(
        "--confidence", args.confidence, 50, 100, "a level from 50% to under 100%"
    )
    try:
        failures = sorted({int(part) for part in args.failures.split(",") if part.strip()})
    except ValueError:
        failures = []
    if not failures or failures[0] < 0:
        raise OrchphaseError(
            f"--failures: {args.failures!r}; expected whole numbers from 0, comma-separated"
        )
    print(
        f"Tickets a rate decision needs before it can say YES: the {confidence:g}% Wilson "
        f"interval's lower bound must reach {rate:g}%."
    )
    rows = []
    for failed in failures:
        n = sample_needed(rate / 100, failed, confidence)
        if n is None:
            rows.append([str(failed), "never (within 100,000 tickets)", "", ""])
            continue
        low = wilson(n - failed, n, confidence)[0] * 100
        rows.append([str(failed), str(n), f"{n - failed} of {n}", f"{low:.1f}%"])
    from tabulate import tabulate

    print(tabulate(rows, headers=["failures", "tickets", "successes", "lower bound"]))
    return EXIT_OK


SUBCOMMANDS: Sequence[Callable[[Any], None]] = (
    _add_extract,
    _add_prices_command,
    _add_init,
    _add_schema,
    _add_dashboard,
    _add_compare,
    _add_breakeven,
    _add_strategy,
    _add_plan,
    _add_collect,
    _add_draft_log,
    _add_hook,
)

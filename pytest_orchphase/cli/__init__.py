"""The ``orchphase`` command: one function per subcommand.

Add a subcommand by writing ``_add_<name>(subparsers)`` (which sets ``func``) and listing it in
:data:`SUBCOMMANDS`. A subcommand returns the exit code; an
:class:`~pytest_orchphase.errors.OrchphaseError` becomes one error line and exit 2.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_orchphase.errors import OrchphaseError

if TYPE_CHECKING:
    from pytest_orchphase.usage.aggregate import Costed, Totals
    from pytest_orchphase.usage.pricing import PriceTable
    from pytest_orchphase.usage.records import Scan

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_INPUT = 2
#: A closed pipe ends the command quietly with the status of a Unix tool killed by SIGPIPE.
EXIT_BROKEN_PIPE = 128 + 13
#: Ctrl-C: the status of a shell command ended by SIGINT.
EXIT_INTERRUPTED = 128 + 2
MAX_WARNINGS = 10


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


# -- extract --------------------------------------------------------------------------------


def _add_extract(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "extract",
        help="token and dollar usage measured from Claude Code transcripts",
        description=(
            "Read Claude Code transcripts (or headless `claude -p` results) and print the "
            "measured token usage and cost. A PATH is a session .jsonl file, a project folder, "
            "a Claude config folder (holding projects/) or a headless result file; with none, "
            "the sessions under $CLAUDE_CONFIG_DIR (comma-separated), else ~/.config/claude "
            "and ~/.claude."
        ),
    )
    p.add_argument("paths", nargs="*", type=Path, metavar="PATH")
    p.add_argument(
        "--by",
        choices=("model", "agent", "session"),
        default="model",
        help="group the table rows (default: model)",
    )
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    _add_prices(p)
    p.set_defaults(func=cmd_extract)


def cmd_extract(args: argparse.Namespace) -> int:
    from pytest_orchphase.errors import UnknownModelWarning
    from pytest_orchphase.usage.aggregate import price_calls
    from pytest_orchphase.usage.pricing import PriceTable
    from pytest_orchphase.usage.sources.claude_code import default_config_dirs, scan_paths

    prices = PriceTable.load(args.prices)
    paths: list[Path] = list(args.paths)
    if not paths:
        paths = default_config_dirs()
        if not paths:
            raise OrchphaseError(
                "no Claude projects folder found in $CLAUDE_CONFIG_DIR, ~/.config/claude or "
                "~/.claude: give a PATH (session .jsonl, project folder or config folder)"
            )
    scan = scan_paths(paths, progress=sys.stderr.isatty())
    if not scan.calls:
        where = ", ".join(str(p) for p in paths)
        found = f"{scan.files} file(s) read, " if scan.files else "no transcript file, "
        raise OrchphaseError(
            f"{where}: {found}no API call found; expected Claude Code transcripts (.jsonl), "
            "headless streams (.ndjson) or results (.json)"
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnknownModelWarning)
        costed = price_calls(scan, prices)
    if args.json:
        print(json.dumps(extract_json(scan, costed), indent=2))
    else:
        print(extract_table(scan, costed, args.by))
    _print_warnings(scan, prices)
    return EXIT_OK


def extract_json(scan: Scan, costed: Costed) -> dict[str, Any]:
    """The ``--json`` document: models, agents (sub-agents and compaction), totals, counts."""
    from pytest_orchphase.usage.aggregate import MAIN_AGENT, by_agent, by_model, total

    return {
        "models": {model: t.as_json() for model, t in by_model(costed).items()},
        "agents": [row.as_json() for row in by_agent(costed, scan) if row.agent_id != MAIN_AGENT],
        "totals": total(costed).as_json(),
        "files": scan.files,
        "malformed_lines": scan.malformed_lines,
    }


_TOKEN_HEADERS = ["input", "output", "cache write", "cache read", "calls", "USD"]


def _figures(t: Totals) -> list[str]:
    return [
        f"{t.input_tokens:,}",
        ("≥" if t.output_lower_bound else "") + f"{t.output_tokens:,}",
        f"{t.cache_creation_input_tokens:,}",
        f"{t.cache_read_input_tokens:,}",
        f"{t.calls:,}",
        _usd(t),
    ]


def _usd(t: Totals) -> str:
    if t.unpriced_calls == 0:
        return ("≥" if "usd" in t.usage().lower_bounds else "") + f"{t.priced_usd:,.4f}"
    if t.unpriced_calls == t.calls:
        return "unknown"
    return f"≥{t.priced_usd:,.4f} ({t.unpriced_calls} unpriced)"


def _short(text: str | None, width: int = 40) -> str:
    if not text:
        return ""
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def extract_table(scan: Scan, costed: Costed, by: str) -> str:
    from tabulate import tabulate

    from pytest_orchphase.usage.aggregate import by_agent, by_model, by_session, total

    rows: list[list[str]]
    if by == "agent":
        headers = ["agent", "session", "type", "task", "asked model", *_TOKEN_HEADERS]
        rows = []
        for row in by_agent(costed, scan):
            info = row.info
            kind = "compaction" if row.compaction else (info.subagent_type if info else "")
            if info is not None and info.background:
                kind = f"{kind or 'agent'} (background)"
            rows.append(
                [
                    row.agent_id,
                    (row.session_id or "")[:8],
                    kind or "",
                    _short(info.description if info else None),
                    (info.requested_model or "") if info else "",
                    *_figures(row.totals),
                ]
            )
        lead = 5
    elif by == "session":
        headers = ["session", *_TOKEN_HEADERS]
        rows = [[sid or "(none)", *_figures(t)] for sid, t in by_session(costed).items()]
        lead = 1
    else:
        headers = ["model", *_TOKEN_HEADERS]
        rows = [[model, *_figures(t)] for model, t in by_model(costed).items()]
        lead = 1
    rows.append(["total", *[""] * (lead - 1), *_figures(total(costed))])
    table = tabulate(rows, headers=headers, stralign="left", disable_numparse=True)
    lines = [table, "", f"files: {scan.files:,}   malformed lines: {scan.malformed_lines:,}"]
    every = total(costed)
    if every.lower_bound_notes():
        lines.append("≥: a lower bound: " + "; ".join(every.lower_bound_notes()))
    for result in scan.headless:
        reported = result.total_cost_usd
        lines.append(
            f"headless run {result.session_id or result.path}: {result.subtype or '?'}, "
            f"reported total_cost_usd "
            f"{'unknown' if reported is None else f'{reported:.4f}'}"
        )
    return "\n".join(lines)


def _print_warnings(scan: Scan, prices: PriceTable) -> None:
    for model, count in sorted(prices.unknown_models.items()):
        print(
            f"orchphase: warning: no price for model {model!r} ({count} calls): cost unknown; "
            f"{prices.why_unpriced(model)}",
            file=sys.stderr,
        )
    for text in scan.warnings[:MAX_WARNINGS]:
        print(f"orchphase: warning: {text}", file=sys.stderr)
    if len(scan.warnings) > MAX_WARNINGS:
        print(
            f"orchphase: warning: … and {len(scan.warnings) - MAX_WARNINGS} more warnings",
            file=sys.stderr,
        )


# -- prices ---------------------------------------------------------------------------------


def _add_prices_command(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "prices",
        help="the price table with each rate's source and date; flags models seen without one",
        description=(
            "List the price table (the shipped one, with --prices FILE merged over it): each "
            "model's rates in USD per million tokens, its aliases, the page the rates were "
            "read from and the day. Given PATHs (as for `orchphase extract`), also list the "
            "models their calls use and flag each one without a price: exit 1 when there is one."
        ),
    )
    p.add_argument("paths", nargs="*", type=Path, metavar="PATH")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    _add_prices(p)
    p.set_defaults(func=cmd_prices)


def cmd_prices(args: argparse.Namespace) -> int:
    from pytest_orchphase.usage.pricing import PriceTable

    prices = PriceTable.load(args.prices)
    seen: dict[str, int] = {}
    if args.paths:
        from pytest_orchphase.usage.sources.claude_code import scan_paths

        for call in scan_paths(list(args.paths), progress=sys.stderr.isatty()).calls:
            seen[call.model] = seen.get(call.model, 0) + 1
        if not seen:
            raise OrchphaseError(
                f"{', '.join(str(p) for p in args.paths)}: no API call found; expected Claude "
                "Code transcripts (.jsonl), headless streams (.ndjson) or results (.json)"
            )
    unpriced = sorted(m for m in seen if prices.resolve(m) is None)
    if args.json:
        print(json.dumps(prices_json(prices, seen), indent=2))
    else:
        print(prices_table(prices, seen))
    for model in unpriced:
        print(
            f"orchphase: warning: no price for model {model!r} ({seen[model]} calls): "
            f"{prices.why_unpriced(model)}",
            file=sys.stderr,
        )
    return EXIT_FAILED if unpriced else EXIT_OK


def _aliases_by_model(prices: PriceTable) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for alias, target in sorted(prices.aliases.items()):
        out.setdefault(target, []).append(alias)
    return out


def prices_json(prices: PriceTable, seen: dict[str, int]) -> dict[str, Any]:
    """The ``prices --json`` document: models with rates, source and date; what PATHs used."""
    from dataclasses import asdict

    aliases = _aliases_by_model(prices)
    models = {}
    for model_id, price in sorted(prices.models.items()):
        models[model_id] = {
            **asdict(price.rates),
            "aliases": aliases.get(model_id, []),
            "source": price.source,
            "read": price.read,
            "earlier": [{"until": str(u), **asdict(r)} for u, r in price.earlier],
            "long_context_above": price.long_context_above,
            "long_context": asdict(price.long_context) if price.long_context else None,
            "unknown_long_context": None
            if price.unknown_tier is None
            else {
                "above_prompt_tokens": price.unknown_tier[0],
                "until": str(price.unknown_tier[1]),
                "why": price.unknown_tier[2],
            },
        }
    return {
        "taken": prices.taken,
        "files": [str(p) for p in prices.sources],
        "family_defaults": dict(prices.family_defaults),
        "models": models,
        "unpriced": dict(prices.unpriced),
        "seen": {
            model: {"calls": count, "priced_as": prices.resolve(model)}
            for model, count in sorted(seen.items())
        },
    }


def prices_table(prices: PriceTable, seen: dict[str, int]) -> str:
    from tabulate import tabulate

    aliases = _aliases_by_model(prices)
    rows = []
    for model_id, price in sorted(prices.models.items()):
        r = price.rates
        notes = [f"before {u}: read {e.cache_read:g}" for u, e in price.earlier]
        if price.long_context_above is not None:
            notes.append(f"long context above {price.long_context_above:,}")
        if price.unknown_tier is not None:
            notes.append(
                f"above {price.unknown_tier[0]:,} before {price.unknown_tier[1]}: "
                "rate unpublished, cost a lower bound"
            )
        rows.append(
            [
                model_id,
                *(f"{v:g}" for v in (r.input, r.output, r.cache_write_5m, r.cache_write_1h)),
                f"{r.cache_read:g}",
                price.read or "?",
                price.source or "(no source given)",
                "; ".join([*aliases.get(model_id, []), *notes]),
            ]
        )
    headers = ["model", "input", "output", "5m write", "1h write", "read", "read on", "source"]
    lines = [
        tabulate(rows, headers=[*headers, "aliases, notes"], disable_numparse=True),
        "",
        "USD per million tokens; price files: " + ", ".join(str(p) for p in prices.sources),
        "families: " + ", ".join(f"{k} = {v}" for k, v in sorted(prices.family_defaults.items())),
    ]
    for model_id, why in sorted(prices.unpriced.items()):
        lines.append(f"unpriced: {model_id}: {why}")
    if seen:
        lines.append("")
        lines.append(
            tabulate(
                [[m, f"{n:,}", prices.resolve(m) or "NO PRICE"] for m, n in sorted(seen.items())],
                headers=["model seen", "calls", "priced as"],
                disable_numparse=True,
            )
        )
    return "\n".join(lines)


# -- init -----------------------------------------------------------------------------------

DEFAULT_HELP = (
    "default: ${key.env}, else {key.ini} in the project's pytest configuration, else "
    "{key.default}; the last two relative to the project's folder"
)


def _add_prices(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--prices",
        type=Path,
        metavar="FILE",
        help="a price YAML file merged over the shipped one (default: $ORCHPHASE_PRICES, else "
        "orchphase_prices in the project's pytest configuration, relative to its folder)",
    )


def _add_folders(p: argparse.ArgumentParser) -> None:
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
        "--example",
        action="store_true",
        help="instead of a new phase, write the example phases a1-a3 (criteria, baselines, "
        "data and schemas) to start from; nothing is written when any of them exists",
    )
    _add_folders(p)
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
    from pytest_orchphase.load.phase import criteria_path
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
    plan = scaffold.plan(
        phase, tickets, args.data, args.criteria, args.schema, dt.datetime.now(dt.timezone.utc)
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

    if args.phase is not None or args.tickets is not None:
        raise OrchphaseError("--example writes the example phases: give no PHASE or --tickets")
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
    _add_folders(p)
    _add_prices(p)
    p.set_defaults(func=cmd_dashboard)


def cmd_dashboard(args: argparse.Namespace) -> int:
    from pytest_orchphase.report.dashboard import collect, render

    _require_phases(args)
    print(render(collect(args.criteria, args.data, args.prices)))
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


def _runner_for(args: argparse.Namespace) -> Any:
    from pytest_orchphase.evaluate.runner import PhaseRunner

    _require_phases(args)
    return PhaseRunner(args.criteria, args.data, prices=getattr(args, "prices", None))


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
    _add_folders(p)
    _add_prices(p)
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
        help="how many tickets a batch needs before orchestration beats a single agent",
        description=(
            "From a phase's shared planning P and mean per-ticket cost t against the "
            "single_agent baseline s: N = floor(P / (s - t)) + 1 tickets, in tokens and in USD."
        ),
    )
    _add_folders(p)
    p.add_argument("--phase", metavar="NAME", help="one phase (default: every phase with data)")
    _add_prices(p)
    p.set_defaults(func=cmd_breakeven)


def cmd_breakeven(args: argparse.Namespace) -> int:
    from pytest_orchphase.decide.decisions import break_even
    from pytest_orchphase.load.phase import known_phases, require_phase

    runner = _runner_for(args)
    if args.phase:
        require_phase(args.criteria, args.phase)
    names = [args.phase] if args.phase else known_phases(args.criteria)
    for name in names:
        try:
            lines = [break_even(runner, name, m).line for m in ("total", "usd")]
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
    _add_folders(p)
    p.add_argument("--for", dest="target", required=True, metavar="PHASE", help="the phase to plan")
    p.add_argument(
        "--tickets",
        metavar="ID=COMPLEXITY,...",
        help="the phase's tickets and complexities (default: from its data)",
    )
    p.add_argument("--out", type=Path, metavar="FILE", help="where to write (default: in --data)")
    p.add_argument("--force", action="store_true", help="replace an existing file")
    _add_prices(p)
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
)


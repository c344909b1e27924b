"""``orchphase extract``: measured tokens and USD from Claude Code transcripts, table or JSON."""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_orchphase.cli.options import EXIT_OK, MAX_WARNINGS, add_cache, add_prices, scan_cache
from pytest_orchphase.errors import OrchphaseError

if TYPE_CHECKING:
    from pytest_orchphase.cli.answers import Answer, Question
    from pytest_orchphase.usage.aggregate import Costed, Totals
    from pytest_orchphase.usage.pricing import PriceTable
    from pytest_orchphase.usage.records import Scan


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
    add_prices(p)
    add_cache(p, answers=True)
    p.set_defaults(func=cmd_extract)


def cmd_extract(args: argparse.Namespace) -> int:
    from pytest_orchphase.usage.sources import registry
    from pytest_orchphase.usage.sources.claude_code import default_config_dirs

    paths: list[Path] = list(args.paths)
    if not paths:
        paths = default_config_dirs()
        if not paths:
            raise OrchphaseError(
                "no Claude projects folder found in $CLAUDE_CONFIG_DIR, ~/.config/claude or "
                "~/.claude: give a PATH (session .jsonl, project folder or config folder)"
            )
    files = registry.expand_paths(paths)
    question = _question(args, paths, files)
    answer = question.recall() if question is not None else None
    if answer is None:
        answer = _answer(args, paths, files)
        if question is not None:
            question.keep(answer)
    sys.stdout.write(answer.out)
    sys.stderr.write(answer.err)
    return EXIT_OK


def _question(args: argparse.Namespace, paths: list[Path], files: list[Path]) -> Question | None:
    """What this run asks (see :mod:`pytest_orchphase.cli.answers`); ``None`` without the
    scan cache, or with a source registered beside the built-in ones (its code is not known)."""
    from pytest_orchphase.files import user_cache_folder
    from pytest_orchphase.usage.sources import registry

    folder = None if args.no_cache or registry.added() else user_cache_folder()
    if folder is None:
        return None
    from pytest_orchphase.cli.answers import ask

    prices: list[Path] = [args.prices] if args.prices is not None else []
    request = ["extract", f"--by={args.by}", f"--json={args.json}", *map(str, paths)]
    request += [f"--prices={p}" for p in prices]
    return ask(folder, request, [*files, *prices])


def _answer(args: argparse.Namespace, paths: list[Path], files: list[Path]) -> Answer:
    from pytest_orchphase.cli.answers import Answer
    from pytest_orchphase.errors import UnknownModelWarning
    from pytest_orchphase.usage.aggregate import price_calls
    from pytest_orchphase.usage.pricing import PriceTable
    from pytest_orchphase.usage.scan import scan_files

    prices = PriceTable.load(args.prices)
    # No first prompts: only a phase's attribution reads them.
    scan = scan_files(files, progress=sys.stderr.isatty(), prompts=False, cache=scan_cache(args))
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
        out = json.dumps(extract_json(scan, costed), indent=2)
    else:
        out = extract_table(scan, costed, args.by)
    told = "".join(f"orchphase: warning: {text}\n" for text in _warnings(scan, prices))
    return Answer(out + "\n", told)


def extract_json(scan: Scan, costed: Costed) -> dict[str, Any]:
    """The ``--json`` document: models, agents (sub-agents and compaction), totals, counts."""
    from pytest_orchphase.usage.aggregate import MAIN_AGENT, by_agent, by_model, total

    models = {model: t.as_json() for model, t in by_model(costed).items()}
    agents = [row.as_json() for row in by_agent(costed, scan) if row.agent_id != MAIN_AGENT]
    totals = total(costed).as_json()
    if scan.lost_usage_lines:  # a call may be missing from any figure: none is more than a floor
        from pytest_orchphase.usage.value import MEASURES

        for group in [*models.values(), *agents, totals]:
            group["lower_bounds"] = sorted(MEASURES)
    return {
        "models": models,
        "agents": agents,
        "totals": totals,
        "files": scan.files,
        "malformed_lines": scan.malformed_lines,
        "lost_usage_lines": scan.lost_usage_lines,
    }


_TOKEN_HEADERS = ["input", "output", "cache write", "cache read", "calls", "USD"]


def _figures(t: Totals) -> list[str]:
    low = t.usage().lower_bounds
    return [
        *(
            ("≥" if measure in low else "") + f"{count:,}"
            for measure, count in (
                ("input", t.input_tokens),
                ("output", t.output_tokens),
                ("cache_write", t.cache_creation_input_tokens),
                ("cache_read", t.cache_read_input_tokens),
            )
        ),
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
    if scan.lost_usage_lines:
        lines.append(
            f"every figure is a lower bound: {scan.lost_usage_lines} line(s) that may have "
            "recorded a call could not be read (see the warnings), and such calls are missing"
        )
    for result in scan.headless:
        reported = result.total_cost_usd
        lines.append(
            f"headless run {result.session_id or result.path}: {result.subtype or '?'}, "
            f"reported total_cost_usd "
            f"{'unknown' if reported is None else f'{reported:.4f}'}"
        )
    return "\n".join(lines)


def _warnings(scan: Scan, prices: PriceTable) -> list[str]:
    out = [
        f"no price for model {model!r} ({count} calls): cost unknown; {prices.why_unpriced(model)}"
        for model, count in sorted(prices.unknown_models.items())
    ]
    out += scan.warnings[:MAX_WARNINGS]
    if len(scan.warnings) > MAX_WARNINGS:
        out.append(f"… and {len(scan.warnings) - MAX_WARNINGS} more warnings")
    return out


# -- prices ---------------------------------------------------------------------------------

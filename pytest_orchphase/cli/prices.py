"""``orchphase prices``: the price table in use, the shipped one merged with the user's."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_orchphase.cli.options import EXIT_FAILED, EXIT_OK, add_cache, add_prices, scan_cache
from pytest_orchphase.errors import OrchphaseError

if TYPE_CHECKING:
    from pytest_orchphase.usage.pricing import PriceTable


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
    add_prices(p)
    add_cache(p)
    p.set_defaults(func=cmd_prices)


def cmd_prices(args: argparse.Namespace) -> int:
    from pytest_orchphase.usage.pricing import PriceTable

    prices = PriceTable.load(args.prices)
    seen: dict[str, int] = {}
    if args.paths:
        from pytest_orchphase.usage.scan import scan_paths

        scan = scan_paths(
            list(args.paths),
            progress=sys.stderr.isatty(),
            prompts=False,
            cache=scan_cache(args),
        )
        for call in scan.calls:
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
        "families: "
        + (
            ", ".join(f"{k} = {v}" for k, v in sorted(prices.family_defaults.items()))
            or "none: a call under a family name only (sonnet) has no price; give what it "
            "meant in family_defaults of a price file"
        ),
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

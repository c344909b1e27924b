"""``orchphase plan``: the sample a rate decision needs before it can say YES."""

from __future__ import annotations

import argparse
from typing import Any

from pytest_orchphase.cli.options import EXIT_OK
from pytest_orchphase.errors import OrchphaseError


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
    from pytest_orchphase.evaluate.formatting import fmt_beside
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
        # with the digits that tell it from the rate it must reach (never "100.0%" for 99.99%)
        rows.append([str(failed), str(n), f"{n - failed} of {n}", fmt_beside(low, rate, "percent")])
    from tabulate import tabulate

    print(tabulate(rows, headers=["failures", "tickets", "successes", "lower bound"]))
    return EXIT_OK

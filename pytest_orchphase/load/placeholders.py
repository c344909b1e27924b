"""The ``${...}`` placeholders a template leaves for a person to fill (``orchphase init``'s
files, a drafted log): one left in a loaded document is an error at its line, naming the field
and what it expects, never a value read as text.

Plain Python: a check of a loaded :class:`~pytest_orchphase.load.yamlio.Document`, no YAML here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from pytest_orchphase.errors import InvalidFile

if TYPE_CHECKING:
    from pytest_orchphase.load.yamlio import Document, FieldPath

PLACEHOLDER = re.compile(r"\$\{[^}]*\}")


def walk(data: Any, at: FieldPath = ()) -> Iterator[tuple[FieldPath, Any]]:
    """Every scalar in ``data`` with its path."""
    if isinstance(data, Mapping):
        for key, value in data.items():
            yield from walk(value, (*at, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from walk(value, (*at, index))
    else:
        yield at, data


#: What a placeholder stands for, by the name of its field (else: the measured value).
_PLACEHOLDER_MEANS = {
    **dict.fromkeys(
        ("below", "max", "min", "above", "equals"),
        "the limit (a number like 40000 or '40k', a percentage, an amount or a grade)",
    ),
    "stretch": "the stretch target (a number like 35000 or '35k')",
    "expected_tokens": "the phase's target (56000 or '56k')",
    "expected_savings": "the phase's target ('7%')",
    "baseline_comparison": "the declared baseline total (363000)",
    "estimated_tokens": "the estimate (12000 or '12k')",
    "tokens_per_ticket": "the baseline's tokens per ticket (30000 or '30k')",
    "usd_per_ticket": "the baseline's USD per ticket (0.45)",
    # judgements `orchphase init` and `orchphase draft-log` leave to a person
    "fix_loops": "the fix loops the ticket needed (0 when none)",
    "attempts": "the review attempts (1 or more)",
    "result": "the review's verdict: PASS or FAIL",
    "tier": "the review tier: T1, T2 or T3",
    "complexity": "the ticket's complexity: mechanical, nuanced or complex",
    "status": "completed, requires_fix, failed, in_progress, skipped or pending",
    "errors_encountered": "the errors met: [] when none, else a list of {type, description}",
    "checklist_results": "the checklist's results: [] when none, else [{item: PASS}, ...]",
    **dict.fromkeys(
        ("code_correctness", "pattern_following", "edge_case_handling"),
        "a grade against Sonnet: worse, same or better",
    ),
}


def reject_placeholders(doc: Document) -> None:
    """Raise for the unfilled ``${...}`` template placeholders in the document: all of them at
    once, each at its line, saying what the field expects (a cap is not a measured value)."""
    problems = []
    for at, value in walk(doc.data):
        if isinstance(value, str) and (match := PLACEHOLDER.search(value)):
            name = next((p for p in reversed(at) if isinstance(p, str)), "")
            means = _PLACEHOLDER_MEANS.get(name, "the measured value")
            problems.append(
                doc.error(f"unfilled placeholder {match.group(0)!r}; expected {means}", at)
            )
    if len(problems) == 1:
        raise problems[0]
    if problems:
        raise InvalidFile(problems)

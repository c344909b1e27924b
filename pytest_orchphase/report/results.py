"""One result entry per item, as plain data: the single source of the summary table, JUnit
properties and the JSON report.

Items attach their entry to their test report (``report.orchphase``), which pytest-xdist carries
to the controller unchanged, so every output is the same in a serial and in a distributed run.
"""

from __future__ import annotations

from typing import Any

from pytest_orchphase.evaluate.runner import GATE_COVERS, GateResult
from pytest_orchphase.evaluate.verdict import BOUND_WORDS, SYMBOL, Verdict, fmt

Entry = dict[str, Any]


def _leaves(condition: dict[str, Any]) -> list[dict[str, Any]]:
    if "conditions" in condition:
        return [leaf for child in condition["conditions"] for leaf in _leaves(child)]
    return [condition]


def criterion_entry(
    *, phase: str, name: str, order: int, criterion: str, ticket: str | None, verdict: Verdict
) -> Entry:
    condition = verdict.to_data()
    leaves = _leaves(condition)
    single = len(leaves) == 1 and "conditions" not in condition
    # a stretch that was not evaluated (its item could not be) is neither met nor missed
    stretches = [leaf["stretch_met"] for leaf in leaves if leaf["stretch_met"] is not None]
    return {
        "kind": "criterion",
        "phase": phase,
        "name": name,
        "order": order,
        "id": criterion,
        "ticket": ticket,
        "metric": leaves[0]["label"]
        if single
        else f"{condition['combinator']}({', '.join(leaf['label'] for leaf in leaves)})",
        "actual": leaves[0]["actual"] if single else [leaf["actual"] for leaf in leaves],
        "bound": leaves[0]["bound"] if single else [leaf["bound"] for leaf in leaves],
        "unit": leaves[0]["unit"] if single else [leaf["unit"] for leaf in leaves],
        "operator": leaves[0]["operator"] if single else condition["combinator"],
        "limit": leaves[0]["limit"] if single else [leaf["limit"] for leaf in leaves],
        "stretch": leaves[0]["stretch"] if single else [leaf["stretch"] for leaf in leaves],
        "passed": verdict.passed,
        "outcome": verdict.outcome,
        "stretch_met": all(stretches) if stretches else None,
        "source": verdict.source,
        "error": next((leaf["error"] for leaf in leaves if leaf["error"]), None),
        "headline": f"{name}: {verdict.headline()}",
        "condition": condition,
        # a figure taken from an estimate (or, in a measured phase, from the log) says so
        "marks": sorted({leaf["mark"] for leaf in leaves if leaf.get("mark")}),
    }


def gate_entry(
    *, phase: str, name: str, order: int, required: str, result: GateResult, bypassed: bool
) -> Entry:
    return {
        "kind": "gate",
        "phase": phase,
        "name": name,
        "order": order,
        "id": "phase-gate",
        "ticket": required,
        "required": required,
        "metric": f"phase {required} passed",
        "actual": result.passed,
        "unit": "bool",
        "operator": "equals",
        "limit": True,
        "stretch": None,
        "passed": result.passed or bypassed,
        "bypassed": bypassed and not result.passed,
        "stretch_met": None,
        "source": result.describe(),
        "error": result.error,
        "failing": result.failing,
        "covers": GATE_COVERS,
        "headline": f"{name}: {result.describe()}",
    }


def row(entry: Entry) -> dict[str, str]:
    """The entry as the strings of the summary table and the JUnit properties."""
    if "condition" in entry:
        leaves = _leaves(entry["condition"])
        joiner = " | " if entry["operator"] == "any" else " & "
    else:
        leaves = [
            {
                "label": entry["metric"],
                "actual": "yes" if entry["actual"] else "no",
                "unit": "",
                "operator": "equals",
                "limit": "yes",
                "stretch": None,
                "error": entry["error"],
            }
        ]
        joiner = ""

    def column(key: str) -> str:
        values = []
        for leaf in leaves:
            if key == "label":
                values.append(str(leaf["label"]))
            elif key == "operator":
                values.append(str(leaf["operator"] or ""))
            elif key == "actual" and leaf.get("error"):
                values.append("n/a")
            elif key == "actual" and (leaf.get("mark") or leaf.get("bound", "exact") != "exact"):
                bound = leaf.get("bound", "exact")
                text = fmt(leaf[key], leaf["unit"])
                if bound != "exact":
                    text = f"{BOUND_WORDS[bound]} {text}"
                values.append(f"{text} ({leaf['mark']})" if leaf.get("mark") else text)
            elif key == "actual" and leaf.get("interval") is not None:
                # a figure with an interval shows it, its level and the rule that decided
                low, high = (fmt(v, leaf["unit"]) for v in leaf["interval"])
                values.append(
                    f"{fmt(leaf['actual'], leaf['unit'])} ({leaf['sample']}; "
                    f"{leaf['confidence']:g}% CI {low}–{high}, rule {leaf['rule']})"
                )
            elif key == "stretch" and leaf["stretch"] is None:
                continue
            else:
                values.append(fmt(leaf[key], leaf["unit"]) if leaf["unit"] else str(leaf[key]))
        return joiner.join(values)

    result = "bypassed" if entry.get("bypassed") else ("passed" if entry["passed"] else "failed")
    if entry.get("outcome") == "INCONCLUSIVE":
        result = "inconclusive"
    met = entry["stretch_met"]
    return {
        "phase": entry["phase"],
        "criterion": entry["id"],
        "ticket": entry["ticket"] or "",
        "metric": column("label"),
        "actual": column("actual"),
        "operator": column("operator"),
        "limit": column("limit"),
        "stretch": column("stretch"),
        "stretch_met": "" if met is None else str(met).lower(),
        "result": result,
        "source": entry["source"],
    }


SUMMARY_HEADERS = (
    "criterion",
    "ticket",
    "metric",
    "actual",
    "operator",
    "limit",
    "stretch",
    "result",
)
RESULT_WORDS = {
    "passed": "PASS",
    "failed": "FAIL",
    "bypassed": "BYPASSED",
    "inconclusive": "INCONCLUSIVE",
}


def result_text(r: dict[str, str]) -> str:
    """PASS, FAIL or BYPASSED; a passed item with a stretch says whether it was met."""
    text = RESULT_WORDS.get(r["result"], r["result"].upper())
    if r["result"] == "passed" and r.get("stretch_met") in ("true", "false"):
        text += " (stretch met)" if r["stretch_met"] == "true" else " (stretch missed)"
    return text


def summary_cells(entry: Entry) -> list[str]:
    """One row of the results table (terminal and markdown)."""
    r = row(entry)
    return [
        r["criterion"],
        r["ticket"],
        r["metric"],
        r["actual"],
        r["operator"],
        r["limit"],
        r["stretch"],
        result_text(r),
    ]


ESTIMATE_HEADERS = ("place", "estimated", "measured", "error", "USD")


def estimate_cells(rows: list[dict[str, Any]]) -> list[list[str]]:
    """The measured-against-estimated rows of a report, as table cells."""
    out = []
    for r in rows:
        error = r["error_percent"]
        low = r.get("lower_bounds", [])
        usd = (
            ""
            if r["measured"] is None
            else ("unknown" if r["usd"] is None else fmt(r["usd"], "usd"))
        )
        if usd.startswith("$") and "usd" in low:
            usd = "≥ " + usd
        measured = "" if r["measured"] is None else fmt(r["measured"], "tokens")
        if measured and "total" in low:
            measured = "≥ " + measured
        out.append(
            [
                r["place"],
                "" if r["estimated"] is None else fmt(r["estimated"], "tokens"),
                measured,
                "" if error is None else f"{error:+.0f}%",
                usd,
            ]
        )
    return out


MISMATCH_HEADERS = ("where", "field", "declared", "computed", "formula")
UNCHECKED_HEADERS = ("where", "field", "declared", "why it cannot be checked")


def mismatch_cells(mismatches: list[dict[str, Any]]) -> list[list[str]]:
    """Declared figures as table cells: a difference with its formula, or (computed None) a
    figure that cannot be checked with the reason."""
    from pytest_orchphase.evaluate.declared import show

    out = []
    for m in mismatches:
        where = f"{m['file']}:{m['line']}" if m["line"] else m["file"]
        cells = [where, m["field"], show(m["declared"], m["percent"])]
        if m["computed"] is not None:
            cells.append(show(m["computed"], m["percent"]))
        out.append([*cells, m["formula"]])
    return out


def split_mismatches(
    mismatches: list[dict[str, Any]],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(declared figures that differ, declared figures that cannot be checked)."""
    return (
        [m for m in mismatches if m["computed"] is not None],
        [m for m in mismatches if m["computed"] is None],
    )


def ticket_headers(rows: list[dict[str, Any]]) -> list[str]:
    """The per-ticket table's headers; the delta column names the compared phase, if any."""
    versus = next((r["versus"] for r in rows if r["versus"]), None)
    headers = ["ticket", "model", "tokens", "USD", "cap", "result", "figures"]
    if versus:
        headers.append(f"tokens saved vs {versus}")
    if any(r["delta_usd"] is not None for r in rows):
        headers.append(f"USD saved vs {versus}")
    return headers


def ticket_cells(rows: list[dict[str, Any]]) -> list[list[str]]:
    """The per-ticket table (terminal and markdown): tokens, USD, cap, result, whether the
    figures were measured or estimated, and the delta against the compared phase."""
    versus = any(r["versus"] for r in rows)
    usd = any(r["delta_usd"] is not None for r in rows)
    out = []
    for r in rows:
        result = r["result"]
        if r["failing"]:
            result += f" ({', '.join(r['failing'])})"
        cells = [
            r["ticket"],
            r["model"] or "unknown",
            "unknown" if r["tokens"] is None else fmt(r["tokens"], "tokens"),
            "unknown" if r["usd"] is None else fmt(r["usd"], "usd"),
            "" if r["cap"] is None else f"{SYMBOL[r['cap_operator']]} {fmt(r['cap'], 'tokens')}",
            result,
            r["origin"] or "unknown",
        ]
        if versus:
            delta = r["delta_tokens"]
            cells.append("" if delta is None else f"{delta:+,.0f}")
        if usd:
            saved = r["delta_usd"]
            cells.append(
                "" if saved is None else ("+" if saved >= 0 else "-") + fmt(abs(saved), "usd")
            )
        out.append(cells)
    return out

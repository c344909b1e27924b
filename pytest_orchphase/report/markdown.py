"""The markdown analysis of a phase, rendered from the canonical report (the plan's analysis.md
sections, filled with numbers; a figure the data cannot give says so instead of a placeholder)."""

from __future__ import annotations

from typing import Any

from tabulate import tabulate

from pytest_orchphase.evaluate.verdict import fmt
from pytest_orchphase.report.results import (
    ESTIMATE_HEADERS,
    MISMATCH_HEADERS,
    SUMMARY_HEADERS,
    UNCHECKED_HEADERS,
    estimate_cells,
    mismatch_cells,
    split_mismatches,
    summary_cells,
    ticket_cells,
    ticket_headers,
)


def _table(rows: list[list[Any]], headers: list[str]) -> str:
    def cell(value: Any) -> str:
        return str(value).replace("|", "\\|")  # an "any" condition's values are joined by |

    return tabulate(
        [[cell(v) for v in r] for r in rows],
        headers=headers,
        tablefmt="github",
        disable_numparse=True,
    )


def _tokens(value: Any) -> str:
    return "unknown" if value is None else fmt(value, "tokens")


def _usd(value: Any) -> str:
    return "unknown" if value is None else fmt(value, "usd")


def _metric(report: dict[str, Any], key: str, unit: str) -> str:
    value = report["metrics"].get(key)
    return "not available from this data" if value is None else fmt(value, unit)


def _criteria(report: dict[str, Any]) -> list[str]:
    cells = [summary_cells(e) for e in [*report["gates"], *report["criteria"]]]
    out = [_table(cells, list(SUMMARY_HEADERS))]
    failing = [c["headline"] for c in report["criteria"] if not c["passed"]]
    failing += [
        f"phase-gate[{g['required']}]: {g['source']}" for g in report["gates"] if not g["passed"]
    ]
    if failing:
        out += ["", "Failing:", "", *(f"- {line}" for line in failing)]
    return out


def _usage(report: dict[str, Any]) -> list[str]:
    usage = report["usage"]
    rows = [
        [r["stage"], r["model"], _tokens(r["total"]), _usd(r["usd"]), r["origin"]]
        for r in usage["by_stage_model"]
    ]
    total = usage["total"]  # None when a ticket's usage is unknown
    rows.append(
        ["**total**", "", f"**{_tokens(total['total'])}**", _usd(total["usd"]), total["origin"]]
        if total
        else ["**total**", "", "**unknown**", "unknown", ""]
    )
    source = (
        f"measured from {report['data']['transcript_files']} transcript files"
        if usage["source"] == "measured"
        else "the execution log's figures (recorded actuals, else estimates); name the phase's "
        "sessions in metadata.yaml to measure tokens and USD"
    )
    out = [f"Source: {source}.", "", _table(rows, ["stage", "model", "tokens", "USD", "origin"])]
    if usage["source"] == "measured":
        out += [
            "",
            "Measured usage against the log's estimates "
            "(error = (estimated − measured) / measured):",
            "",
            _table(estimate_cells(usage["estimate_rows"]), list(ESTIMATE_HEADERS)),
        ]
        unplaced = [a for a in usage["agents"] if a["ticket"] is None and a["stage"] is None]
        out += [
            f"- unattributed: agent {a['agent_id']} ({a['description'] or 'no description'}): "
            f"{a['how']}"
            for a in unplaced
        ]
    return out


def _compaction(report: dict[str, Any]) -> list[str]:
    line = report["usage"].get("compaction_line")
    return ["", line] if line else []


def _notes(notes: dict[str, Any] | None) -> list[str]:
    """The log's own notes, where it has them."""
    if not notes:
        return []
    out: list[str] = []
    if notes["hypothesis"]:
        out += ["**Hypothesis:**", "", *(f"- {h}" for h in notes["hypothesis"]), ""]
    if notes["risk"]:
        out += [f"**Risk:** {notes['risk']}", ""]
    if notes["key_insight"]:
        out += [f"**Key insight:** {' '.join(notes['key_insight'].split())}", ""]
    if notes["errors_encountered"]:
        out += ["**Errors encountered:**", ""]
        out += [
            f"- {e['ticket']} ({e['type']}): {e['description']}"
            + (f" — upgrade: {e['required_upgrade']}" if e["required_upgrade"] != "no" else "")
            for e in notes["errors_encountered"]
        ]
        out += [""]
    if notes["stage_notes"]:
        out += ["**Stage notes:**", ""]
        out += [f"- {n['ticket']} {n['stage']}: {n['note']}" for n in notes["stage_notes"]]
        out += [""]
    return ["", "## Notes from the log", "", *out[:-1]] if out else []


def _quality(report: dict[str, Any], tickets: dict[str, Any]) -> list[str]:
    rows = []
    for ticket in report["data"]["tickets"]:
        q = tickets.get(ticket, {})
        rows.append(
            [
                ticket,
                q.get("model") or "unknown",
                q.get("tier") or "",
                q.get("review") or "none",
                q.get("attempts") or "",
                q.get("fix_loops") if q.get("fix_loops") is not None else "",
                q.get("quality") or "",
            ]
        )
    return [
        _table(
            rows,
            [
                "ticket",
                "execution model",
                "review tier",
                "review",
                "attempts",
                "fix loops",
                "quality vs sonnet",
            ],
        )
    ]


def render(report: dict[str, Any], *, chart: str | None, chart_note: str | None) -> str:
    """The markdown report; ``chart`` is the image to link (relative to the markdown file), or
    ``chart_note`` says why there is none."""
    decision = report["decisions"]["proceed"]
    title = f"# Phase {report['phase']} analysis" + (
        f": {report['title']}" if report["title"] else ""
    )
    data = report["data"]
    head = [
        title,
        "",
        f"**{decision['line']}**",
        "",
        f"Data: `{data['directory']}` · tickets {', '.join(data['tickets'])}"
        + (f" · commit `{report['commit'][:12]}`" if report["commit"] else "")
        + (f" · strategy: {data['strategy']}" if data["strategy"] else ""),
    ]
    if data["no_gate"]:
        head += ["", "> Gates were bypassed with `--orchphase-no-gate`."]
    lines = [*head, "", "## Results", "", "### Token usage by stage and model", "", *_usage(report)]
    lines += ["", "### Criteria", "", *_criteria(report)]
    if report.get("ticket_table"):
        rows = report["ticket_table"]
        lines += ["", "### Tickets", "", _table(ticket_cells(rows), ticket_headers(rows))]
        lines += _compaction(report)
    lines += ["", "## Quality", "", *_quality(report, report["tickets"])]
    be = report["decisions"]["break_even"]
    lines += [
        "",
        "## Efficiency",
        "",
        f"- Total tokens: {_metric(report, 'tokens', 'tokens')}; "
        f"cost: {_metric(report, 'usd', 'usd')}",
        f"- Shared planning: {_metric(report, 'shared_planning_tokens', 'tokens')}",
        "- Per ticket (shared planning included): "
        f"{_metric(report, 'per_ticket_average', 'tokens')}; "
        f"own stages only: {_metric(report, 'ticket_tokens_average', 'tokens')}",
        f"- Wall time: {_metric(report, 'wall_time_minutes', 'minutes')}",
        f"- Batching savings against planning each ticket separately: "
        f"{_metric(report, 'batching_savings', 'tokens')}",
        f"- {be['tokens']['line']}",
        f"- {be['usd']['line']}",
    ]
    n = len(data["tickets"])
    base_rows = []
    total = report["metrics"].get("tokens")
    for name, b in report["baselines"].items():
        saving = (
            ""
            if total is None
            else fmt((b["for_tickets"] - total) / b["for_tickets"] * 100, "percent")
        )
        base_rows.append(
            [name, _tokens(b["per_ticket"]), _tokens(b["for_tickets"]), _tokens(total), saving]
        )
    lines += [
        "",
        "## Comparison to baselines",
        "",
        f"Baselines are per ticket; the totals are for this phase's {n} tickets.",
        "",
        _table(base_rows, ["baseline", "per ticket", f"for {n} tickets", "this phase", "saving"]),
    ]
    cmp = report["comparison"]
    previous, here = cmp["previous"], report["phase"]
    if previous in cmp["phases"] and here in cmp["phases"]:
        cols = [cmp["phases"].index(previous) + 1, cmp["phases"].index(here) + 1]
        rows = [[r[0], r[cols[0]], r[cols[1]]] for r in cmp["rows"]]
        lines += [
            "",
            f"## Comparison to the previous phase ({previous})",
            "",
            _table(rows, ["metric", previous, here]),
        ]
    else:
        lines += [
            "",
            "## Comparison to the previous phase",
            "",
            "This phase requires no earlier phase with data."
            if previous is None
            else f"Phase {previous} has no data that loads.",
        ]
    if len(cmp["phases"]) > 2 or cmp["left_out"]:
        lines += ["", "## All phases", "", _table(cmp["rows"], ["metric", *cmp["phases"]])]
        lines += [f"- phase {x['phase']} left out: {x['error']}" for x in cmp["left_out"]]
    adopt = report["decisions"]["adopt_model"]
    if adopt:
        lines += [
            "",
            "## Model adoption",
            "",
            adopt["line"],
            "",
            f"Recommended execution model for {adopt['complexity']} tickets: "
            f"**{adopt['recommended']}**.",
        ]
    lines += _notes(report.get("notes"))
    lines += ["", "## Declared totals", ""]
    differ, unchecked = split_mismatches(report["mismatches"])
    if differ:
        lines += [
            "Declared figures that differ from the computed ones (the computed ones are used):",
            "",
            _table(mismatch_cells(differ), list(MISMATCH_HEADERS)),
        ]
    if unchecked:
        lines += [
            *([""] if differ else []),
            "Declared figures that cannot be checked:",
            "",
            _table(mismatch_cells(unchecked), list(UNCHECKED_HEADERS)),
        ]
    if not report["mismatches"]:
        lines += ["Every declared total and analysis matches the figures it is computed from."]
    lines += ["", "## Chart", ""]
    lines += [f"![tokens and USD by stage and model]({chart})" if chart else (chart_note or "")]
    lines += ["", "## Decision", "", f"**{decision['line']}**"]
    lines += [f"- {reason}" for reason in decision["reasons"]]
    if adopt:
        lines += [f"- {adopt['line']}"]
    return "\n".join(lines) + "\n"


def render_error(report: dict[str, Any]) -> str:
    """The markdown of a run whose phase files do not load."""
    decision = report["decisions"]["proceed"]
    return (
        f"# Phase {report['phase']} analysis\n\n**{decision['line']}**\n\n"
        f"The phase's files have errors:\n\n```text\n{report['error']}\n```\n"
    )

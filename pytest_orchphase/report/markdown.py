"""The markdown analysis of a phase, rendered from the canonical report (the plan's analysis.md
sections, filled with numbers; a figure the data cannot give says so instead of a placeholder)."""

from __future__ import annotations

from collections.abc import Sequence

from tabulate import tabulate

from pytest_orchphase.evaluate.formatting import fmt, marked
from pytest_orchphase.metrics.bounds import flipped
from pytest_orchphase.metrics.registry import Value
from pytest_orchphase.report.results import SUMMARY_HEADERS, Entry, summary_cells
from pytest_orchphase.report.shape import FailedReport, Notes, Report, TicketFacts
from pytest_orchphase.report.tables import (
    ESTIMATE_HEADERS,
    MISMATCH_HEADERS,
    UNCHECKED_HEADERS,
    at_least,
    estimate_cells,
    mismatch_cells,
    split_mismatches,
    ticket_cells,
    ticket_headers,
)


def _table(rows: Sequence[Sequence[object]], headers: Sequence[str]) -> str:
    def cell(value: object) -> str:
        return str(value).replace("|", "\\|")  # an "any" condition's values are joined by |

    return tabulate(
        [[cell(v) for v in r] for r in rows],
        headers=headers,
        tablefmt="github",
        disable_numparse=True,
    )


def _tokens(value: Value | None) -> str:
    return "unknown" if value is None else fmt(value, "tokens")


def _usd(value: Value | None) -> str:
    return "unknown" if value is None else fmt(value, "usd")


def _metric(report: Report, key: str, unit: str) -> str:
    value = report["metrics"].get(key)
    if value is None:
        return "not available from this data"
    return marked(fmt(value, unit), report["metric_bounds"].get(key))


def _charged(report: Report, key: str) -> str:
    """The label's addition when the figure counts the unattributed usage in (an upper bound:
    the usage no rule places may be this figure's, see ``usage_figures.charged``); "" otherwise."""
    return " + unattributed usage" if report["metric_bounds"].get(key) == "upper" else ""


def _criteria(report: Report) -> list[str]:
    entries: list[Entry] = [*report["gates"], *report["criteria"]]
    cells = [summary_cells(e) for e in entries]
    out = [_table(cells, list(SUMMARY_HEADERS))]
    failing = [c["headline"] for c in report["criteria"] if not c["passed"]]
    failing += [g["headline"] for g in report["gates"] if not g["passed"]]
    if failing:
        out += ["", "Failing:", "", *(f"- {line}" for line in failing)]
    return out


def _figures(total: int, usd: float | None, lower_bounds: list[str]) -> tuple[str, str]:
    """A usage row's tokens and USD, each marked when it is only a lower bound."""
    return (
        at_least(_tokens(total), "total", lower_bounds),
        "unknown" if usd is None else at_least(_usd(usd), "usd", lower_bounds),
    )


def _usage(report: Report) -> list[str]:
    usage = report["usage"]
    rows = [
        [r["stage"], r["model"], *_figures(r["total"], r["usd"], r["lower_bounds"]), r["origin"]]
        for r in usage["by_stage_model"]
    ]
    total = usage["total"]  # None when a ticket's usage is unknown
    if total:
        tokens, usd = _figures(total["total"], total["usd"], total["lower_bounds"])
        rows.append(["**total**", "", f"**{tokens}**", usd, total["origin"]])
    else:
        rows.append(["**total**", "", "**unknown**", "unknown", ""])
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


def _compaction(report: Report) -> list[str]:
    line = report["usage"]["compaction_line"]
    return ["", line] if line else []


def _notes(notes: Notes) -> list[str]:
    """The log's own notes, where it has them."""
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


QUALITY_HEADERS = (
    "ticket",
    "execution model",
    "review tier",
    "review",
    "attempts",
    "fix loops",
    "quality vs sonnet",
)


def _quality(report: Report, tickets: dict[str, TicketFacts]) -> list[str]:
    rows = []
    for ticket in report["data"]["tickets"]:
        q = tickets[ticket]
        rows.append(
            [
                ticket,
                q["model"] or "unknown",
                q["tier"] or "",
                _review_cell(q),
                q["attempts"] or "",
                q["fix_loops"] if q["fix_loops"] is not None else "",
                q["quality"] or "",
            ]
        )
    return [_table(rows, QUALITY_HEADERS)]


def _review_cell(q: TicketFacts) -> str:
    """The review's result, and the ticket's failure beside it (a PASS that did not hold)."""
    review = q["review"] or "none"
    # the review's own failure is the cell itself: say only where else the ticket failed
    elsewhere = [f for f in q["failed"] if not f.startswith("review ")]
    return f"{review} (ticket failed: {', '.join(elsewhere)})" if elsewhere else review


def _head(report: Report) -> list[str]:
    data, commit = report["data"], report["commit"]
    title = f"# Phase {report['phase']} analysis" + (
        f": {report['title']}" if report["title"] else ""
    )
    head = [
        title,
        "",
        f"**{report['decisions']['proceed']['line']}**",
        "",
        f"Data: `{data['directory']}` · tickets {', '.join(data['tickets'])}"
        + (f" · commit `{commit[:12]}`" if commit else "")
        + (f" · strategy: {data['strategy']}" if data["strategy"] else ""),
    ]
    if data["no_gate"]:
        head += ["", "> Gates were bypassed with `--orchphase-no-gate`."]
    return head


def _results(report: Report) -> list[str]:
    lines = ["", "## Results", "", "### Token usage by stage and model", "", *_usage(report)]
    lines += ["", "### Criteria", "", *_criteria(report)]
    rows = report["ticket_table"]
    if rows:
        lines += ["", "### Tickets", "", _table(ticket_cells(rows), ticket_headers(rows))]
        lines += _compaction(report)
    return lines


def _efficiency(report: Report) -> list[str]:
    be = report["decisions"]["break_even"]
    return [
        "",
        "## Efficiency",
        "",
        f"- Total tokens: {_metric(report, 'tokens', 'tokens')}; "
        f"cost: {_metric(report, 'usd', 'usd')}",
        f"- Shared planning{_charged(report, 'shared_planning_tokens')}: "
        f"{_metric(report, 'shared_planning_tokens', 'tokens')}",
        "- Per ticket (shared planning included): "
        f"{_metric(report, 'per_ticket_average', 'tokens')}; "
        f"own stages{_charged(report, 'ticket_tokens_average') or ' only'}: "
        f"{_metric(report, 'ticket_tokens_average', 'tokens')}",
        f"- Wall time: {_metric(report, 'wall_time_minutes', 'minutes')}",
        f"- Batching savings against planning each ticket separately: "
        f"{_metric(report, 'batching_savings', 'tokens')}",
        f"- {be['tokens']['line']}",
        f"- {be['usd']['line']}",
    ]


def _baselines(report: Report) -> list[str]:
    n = len(report["data"]["tickets"])
    total = report["metrics"].get("tokens")
    bound = report["metric_bounds"].get("tokens", "exact")
    shown = marked(_tokens(total), bound) if total is not None else _tokens(total)
    rows = []
    for name, b in report["baselines"].items():
        saving = (
            # the baseline's cost less this phase's: a lower bound subtracted is an upper one
            marked(
                fmt((b["for_tickets"] - total) / b["for_tickets"] * 100, "percent"), flipped(bound)
            )
            if isinstance(total, int | float)
            else ""
        )
        rows.append([name, _tokens(b["per_ticket"]), _tokens(b["for_tickets"]), shown, saving])
    return [
        "",
        "## Comparison to baselines",
        "",
        f"Baselines are per ticket; the totals are for this phase's {n} tickets.",
        "",
        _table(rows, ["baseline", "per ticket", f"for {n} tickets", "this phase", "saving"]),
    ]


def _previous(report: Report) -> list[str]:
    """This phase beside the last phase it requires, or why there is none."""
    cmp = report["comparison"]
    previous, here = cmp["previous"], report["phase"]
    if previous is None or previous not in cmp["phases"] or here not in cmp["phases"]:
        return [
            "",
            "## Comparison to the previous phase",
            "",
            "This phase requires no earlier phase with data."
            if previous is None
            else f"Phase {previous} has no data that loads.",
        ]
    cols = [cmp["phases"].index(previous) + 1, cmp["phases"].index(here) + 1]
    rows = [[r[0], r[cols[0]], r[cols[1]]] for r in cmp["rows"]]
    return [
        "",
        f"## Comparison to the previous phase ({previous})",
        "",
        _table(rows, ["metric", previous, here]),
    ]


def _all_phases(report: Report) -> list[str]:
    cmp = report["comparison"]
    if len(cmp["phases"]) <= 2 and not cmp["left_out"]:
        return []
    lines = ["", "## All phases", "", _table(cmp["rows"], ["metric", *cmp["phases"]])]
    return lines + [f"- phase {x['phase']} left out: {x['error']}" for x in cmp["left_out"]]


def _adoption(report: Report) -> list[str]:
    adopt = report["decisions"]["adopt_model"]
    if not adopt:
        return []
    return [
        "",
        "## Model adoption",
        "",
        adopt["line"],
        "",
        f"Recommended execution model for {adopt['complexity']} tickets: "
        f"**{adopt['recommended']}**.",
    ]


def _declared(report: Report) -> list[str]:
    lines = ["", "## Declared totals", ""]
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
    return lines


def _decision(report: Report) -> list[str]:
    decision, adopt = report["decisions"]["proceed"], report["decisions"]["adopt_model"]
    lines = ["", "## Decision", "", f"**{decision['line']}**"]
    lines += [f"- {reason}" for reason in decision["reasons"]]
    return lines + ([f"- {adopt['line']}"] if adopt else [])


def render(report: Report, *, chart: str | None, chart_note: str | None) -> str:
    """The markdown report; ``chart`` is the image to link (relative to the markdown file), or
    ``chart_note`` says why there is none."""
    lines = [*_head(report), *_results(report)]
    lines += ["", "## Quality", "", *_quality(report, report["tickets"])]
    for section in (_efficiency, _baselines, _previous, _all_phases, _adoption):
        lines += section(report)
    lines += _notes(report["notes"])
    lines += _declared(report)
    lines += ["", "## Chart", ""]
    lines += [f"![tokens and USD by stage and model]({chart})" if chart else (chart_note or "")]
    lines += _decision(report)
    return "\n".join(lines) + "\n"


def render_error(report: FailedReport) -> str:
    """The markdown of a run whose phase files do not load."""
    decision = report["decisions"]["proceed"]
    return (
        f"# Phase {report['phase']} analysis\n\n**{decision['line']}**\n\n"
        f"The phase's files have errors:\n\n```text\n{report['error']}\n```\n"
    )

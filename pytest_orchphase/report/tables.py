"""The report's tables as cells, shared by the terminal and markdown renderers: the measured
figures against the log's estimates, the declared figures that differ or cannot be checked, and
the per-ticket table a lead acts on."""

from __future__ import annotations

from collections.abc import Sequence

from pytest_orchphase.evaluate.formatting import SYMBOL, fmt, marked
from pytest_orchphase.report.shape import EstimateRow, MismatchData, TicketRow

ESTIMATE_HEADERS = ("place", "estimated", "measured", "error", "USD")


def at_least(shown: str, measure: str, lower_bounds: Sequence[str]) -> str:
    """A usage's figure as shown, marked when its ``measure`` is among ``lower_bounds`` (the
    measures a report's usage rows name as only lower bounds)."""
    return marked(shown, "lower" if measure in lower_bounds else None)


def estimate_cells(rows: Sequence[EstimateRow]) -> list[list[str]]:
    """The measured-against-estimated rows of a report, as table cells."""
    out = []
    for r in rows:
        error = r["error_percent"]
        low = r["lower_bounds"]
        usd = (
            ""
            if r["measured"] is None
            else ("unknown" if r["usd"] is None else fmt(r["usd"], "usd"))
        )
        if usd.startswith("$"):
            usd = at_least(usd, "usd", low)
        measured = (
            "" if r["measured"] is None else at_least(fmt(r["measured"], "tokens"), "total", low)
        )
        out.append(
            [
                r["place"],
                "" if r["estimated"] is None else fmt(r["estimated"], "tokens"),
                measured,
                # against a measured lower bound, the error is at most the figure
                "" if error is None else marked(f"{error:+.0f}%", _upper(low)),
                usd,
            ]
        )
    return out


def _upper(lower_bounds: Sequence[str]) -> str | None:
    return "upper" if "total" in lower_bounds else None


MISMATCH_HEADERS = ("where", "field", "declared", "computed", "formula")
UNCHECKED_HEADERS = ("where", "field", "declared", "why it cannot be checked")


def mismatch_cells(mismatches: Sequence[MismatchData]) -> list[list[str]]:
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
    mismatches: Sequence[MismatchData],
) -> tuple[list[MismatchData], list[MismatchData]]:
    """(declared figures that differ, declared figures that cannot be checked)."""
    return (
        [m for m in mismatches if m["computed"] is not None],
        [m for m in mismatches if m["computed"] is None],
    )


def ticket_title(rows: Sequence[TicketRow]) -> str:
    """What the per-ticket table's tokens and USD hold: the tickets' own stages, and, in a row
    marked ≤, the unattributed usage too (it may be the ticket's, see ``usage_figures.charged``)."""
    charged = any("upper" in (r["bounds"].get("tokens"), r["bounds"].get("usd")) for r in rows)
    own = "own stages + unattributed usage where marked ≤" if charged else "own stages"
    return f"Tickets ({own}; shared planning apart):"


def ticket_headers(rows: Sequence[TicketRow]) -> list[str]:
    """The per-ticket table's headers; the delta column names the compared phase, if any."""
    versus = next((r["versus"] for r in rows if r["versus"]), None)
    headers = ["ticket", "model", "tokens", "USD", "cap", "result", "figures"]
    if versus:
        headers.append(f"tokens saved vs {versus}")
    if any(r["delta_usd"] is not None for r in rows):
        headers.append(f"USD saved vs {versus}")
    return headers


def _cap_text(r: TicketRow) -> str:
    if r["cap"] is None or r["cap_operator"] is None:
        return ""
    return f"{SYMBOL[r['cap_operator']]} {fmt(r['cap'], 'tokens')}"


def ticket_cells(rows: Sequence[TicketRow]) -> list[list[str]]:
    """The per-ticket table (terminal and markdown): tokens, USD, cap, result, whether the
    figures were measured or estimated, and the delta against the compared phase; a figure that
    is only a bound carries its mark."""
    versus = any(r["versus"] for r in rows)
    usd = any(r["delta_usd"] is not None for r in rows)
    out = []
    for r in rows:
        bounds = r["bounds"]
        result = r["result"]
        if r["failing"]:
            result += f" ({', '.join(r['failing'])})"
        cells = [
            r["ticket"],
            r["model"] or "unknown",
            "unknown"
            if r["tokens"] is None
            else marked(fmt(r["tokens"], "tokens"), bounds.get("tokens")),
            "unknown" if r["usd"] is None else marked(fmt(r["usd"], "usd"), bounds.get("usd")),
            _cap_text(r),
            result,
            r["origin"] or "unknown",
        ]
        if versus:
            delta = r["delta_tokens"]
            cells.append(
                "" if delta is None else marked(f"{delta:+,.0f}", bounds.get("delta_tokens"))
            )
        if usd:
            saved = r["delta_usd"]
            cells.append(
                ""
                if saved is None
                else marked(
                    ("+" if saved >= 0 else "-") + fmt(abs(saved), "usd"), bounds.get("delta_usd")
                )
            )
        out.append(cells)
    return out

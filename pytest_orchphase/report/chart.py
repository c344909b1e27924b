"""A chart of tokens and USD by stage and model for each phase, as a PNG for the markdown report.

matplotlib is an optional extra (``pip install "pytest-orchphase[chart]"``): it is imported only
here, only when a chart is drawn, and without it :func:`render_chart` says how to get it and
writes nothing. Drawing uses the Agg canvas directly (no pyplot, no global backend switch).
"""

from __future__ import annotations

import importlib
import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from pytest_orchphase.evaluate.formatting import BOUND_MARKS

CHART_HINT = 'no chart: it needs matplotlib; install it with pip install "pytest-orchphase[chart]"'


def _text(row: Mapping[str, object], key: str) -> str:
    value = row.get(key)
    if not isinstance(value, str):
        raise ValueError(f"chart row {dict(row)!r}: {key!r} must be text")
    return value


def _number(row: Mapping[str, object], key: str) -> float | None:
    """A figure of a row; None where it may be unknown (USD, a ticket's tokens, its cap)."""
    value = row.get(key)
    if value is None and key in ("usd", "tokens", "cap"):
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"chart row {dict(row)!r}: {key!r} must be a number")
    return float(value)


Bars = dict[tuple[str, str], dict[str, float]]  # (phase, stage) -> model -> figure
#: tokens, USD, the bars whose USD is unknown, the models in order
Tables = tuple[Bars, Bars, set[tuple[str, str]], list[str]]


def _tables(usage: Mapping[str, Sequence[Mapping[str, object]]]) -> Tables:
    """Tokens and USD per (phase, stage) and model; bars with an unknown USD; models in order."""
    tokens: Bars = {}
    usd: Bars = {}
    unknown: set[tuple[str, str]] = set()
    models: list[str] = []
    for phase, rows in usage.items():
        for row in rows:
            stage, model = _text(row, "stage"), _text(row, "model")
            total, cost = _number(row, "total"), _number(row, "usd")
            if model not in models:
                models.append(model)
            bar = tokens.setdefault((phase, stage), {})
            bar[model] = bar.get(model, 0.0) + (total or 0.0)
            usd.setdefault((phase, stage), {})
            if cost is None:
                unknown.add((phase, stage))
            else:
                usd[(phase, stage)][model] = usd[(phase, stage)].get(model, 0.0) + cost
    return tokens, usd, unknown, models


def _draw(ax: Any, bars: Bars, models: list[str], colors: dict[str, Any]) -> None:
    keys = list(bars)
    highest = max((sum(bar.values()) for bar in bars.values()), default=0.0)
    # room above the highest bar; never an axis running below zero (tokens and USD are not)
    ax.set_ylim(0, highest * 1.1 if highest > 0 else 1.0)
    for model in models:
        heights = [bars[k].get(model, 0.0) for k in keys]
        bottoms = [sum(bars[k].get(m, 0.0) for m in models[: models.index(model)]) for k in keys]
        ax.bar(_positions(keys), heights, bottom=bottoms, color=colors[model], label=model)


def _positions(keys: list[tuple[str, str]]) -> list[float]:
    """One slot per bar, and an empty slot between phases."""
    out: list[float] = []
    x = 0.0
    for i, (phase, _) in enumerate(keys):
        if i and keys[i - 1][0] != phase:
            x += 1.0
        out.append(x)
        x += 1.0
    return out


def _unknown_mark(ax: Any, x: float, text: str) -> None:
    """A grey upright note at the foot of a bar whose figure is unknown."""
    ax.annotate(
        text,
        (x, 0.0),
        xytext=(0, 4),
        textcoords="offset points",
        rotation=90,
        ha="center",
        va="bottom",
        color="dimgray",
        fontsize="small",
    )


def _draw_tickets(ax: Any, tickets: Sequence[Mapping[str, object]], ticker: Any) -> None:
    """One bar per ticket (its own tokens) with its cap drawn across it; a figure that is only
    a bound carries its mark above the bar ("≥", "≤", "about")."""
    xs = list(range(len(tickets)))
    figures = [_number(t, "tokens") for t in tickets]
    heights = [f or 0.0 for f in figures]
    caps = [_number(t, "cap") for t in tickets]
    ax.bar(xs, heights, color="tab:blue", width=0.6)
    for x, cap in zip(xs, caps, strict=True):
        if cap is not None:
            ax.hlines(cap, x - 0.4, x + 0.4, colors="tab:red", linestyles="dashed")
    for x, figure, row in zip(xs, figures, tickets, strict=True):
        if figure is None:
            _unknown_mark(ax, x, "unknown")
            continue
        bounds = row.get("bounds")
        bound = bounds.get("tokens") if isinstance(bounds, Mapping) else None
        if isinstance(bound, str) and (mark := BOUND_MARKS.get(bound, "").strip()):
            # a figure that is only a bound says so above its bar, as the tables do
            ax.annotate(
                mark,
                (x, figure),
                xytext=(0, 2),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize="small",
            )
    highest = max([*heights, *(c for c in caps if c is not None)], default=0.0)
    ax.set_ylim(0, highest * 1.15 if highest > 0 else 1.0)
    ax.set_xticks(xs)
    ax.set_xticklabels([_text(t, "ticket") for t in tickets])
    ax.set_ylabel("tokens per ticket")
    ax.yaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:,.0f}"))
    if any(c is not None for c in caps):
        ax.plot([], [], color="tab:red", linestyle="dashed", label="cap")
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")


def _phase_labels(ax: Any, keys: list[tuple[str, str]], xs: list[float]) -> None:
    """Each phase's name above the middle of its bars."""
    for phase in dict.fromkeys(p for p, _ in keys):
        span = [x for x, (p, _) in zip(xs, keys, strict=True) if p == phase]
        middle = (span[0] + span[-1]) / 2
        ax.annotate(
            phase,
            (middle, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(0, 4),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontweight="bold",
        )


def _usage_panels(top: Any, bottom: Any, tables: Tables, mpl: ModuleType) -> None:
    """Tokens on ``top`` and, when ``bottom`` is another panel, USD on it: stacked by model,
    one bar per stage, grouped by phase; the stage names under ``bottom``."""
    ticker = mpl.ticker
    tokens, usd, unknown, models = tables
    keys = list(tokens)
    xs = _positions(keys)
    with_usd = bottom is not top
    cmap = mpl.colormaps["tab10"]
    colors = {m: cmap(i % 10) for i, m in enumerate(models)}
    _draw(top, tokens, models, colors)
    if with_usd:
        _draw(bottom, usd, models, colors)
        bottom.set_ylabel("USD")
        top.set_xticks(xs)
        top.set_xticklabels([])
    top.set_ylabel("tokens")
    top.yaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:,.0f}"))
    top.set_title(
        "Tokens and USD by stage and model, per phase"
        if with_usd
        else "Tokens by stage and model, per phase (USD unknown: not measured)",
        pad=22,
    )
    _phase_labels(top, keys, xs)
    for x, key in zip(xs, keys, strict=True):
        if key in unknown and with_usd:
            _unknown_mark(bottom, x, "USD unknown" if not usd[key] else "USD partly unknown")
    bottom.set_xticks(xs)
    bottom.set_xticklabels([stage for _, stage in keys], rotation=35, ha="right")
    if models:
        top.legend(title="model", loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    else:
        top.text(0.5, 0.5, "no usage", transform=top.transAxes, ha="center")


def _matplotlib() -> ModuleType | None:
    """matplotlib with the modules the chart draws with, or None when it is not installed."""
    try:
        mpl = importlib.import_module("matplotlib")  # first: a blocked package stops here
        for module in ("matplotlib.figure", "matplotlib.backends.backend_agg", "matplotlib.ticker"):
            importlib.import_module(module)
    except ImportError:
        return None
    return mpl


def render_chart(
    usage: Mapping[str, Sequence[Mapping[str, object]]],
    path: Path,
    tickets: Sequence[Mapping[str, object]] | None = None,
) -> str | None:
    """Draw tokens (top) and USD (below) stacked by model, one bar per stage, grouped by phase;
    the USD panel only when some USD is known (a phase measured by hand has none). With
    ``tickets`` (rows ``{"ticket", "tokens", "cap"}``), a last panel splits the tickets: one bar
    each, its cap drawn across it.

    ``usage`` maps a phase name to rows ``{"stage", "model", "total", "usd"}`` (``usd`` None
    when unknown). Writes a PNG to ``path`` atomically and returns None; returns a one-line
    message and writes nothing when matplotlib is not installed.
    """
    mpl = _matplotlib()
    if mpl is None:
        return CHART_HINT
    from pytest_orchphase.files import atomic_write

    tables = _tables(usage)
    tokens, usd = tables[0], tables[1]
    with_usd = any(bar for bar in usd.values())  # some USD is known
    # the ticket panel only when some ticket's tokens are known
    tickets = (
        tickets if tickets and any(_number(t, "tokens") is not None for t in tickets) else None
    )
    panels = 1 + with_usd + (tickets is not None)
    width = max(6.0, 0.55 * len(_positions(list(tokens))) + 2.5)
    fig = mpl.figure.Figure(figsize=(width, 3.5 * panels + 0.5), dpi=110)
    mpl.backends.backend_agg.FigureCanvasAgg(fig)
    axes = list(fig.subplots(panels, 1, squeeze=False)[:, 0])
    # the panel that carries the stage labels: USD's when drawn
    _usage_panels(axes[0], axes[1] if with_usd else axes[0], tables, mpl)
    if tickets:
        _draw_tickets(axes[-1], tickets, mpl.ticker)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    atomic_write(path, buffer.getvalue())
    return None

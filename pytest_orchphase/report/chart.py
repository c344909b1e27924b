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
from typing import Any

CHART_HINT = 'no chart: it needs matplotlib; install it with pip install "pytest-orchphase[chart]"'


def _text(row: Mapping[str, object], key: str) -> str:
    value = row.get(key)
    if not isinstance(value, str):
        raise ValueError(f"chart row {dict(row)!r}: {key!r} must be text")
    return value


def _number(row: Mapping[str, object], key: str) -> float | None:
    value = row.get(key)
    if value is None and key == "usd":
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"chart row {dict(row)!r}: {key!r} must be a number")
    return float(value)


Bars = dict[tuple[str, str], dict[str, float]]  # (phase, stage) -> model -> figure


def _tables(
    usage: Mapping[str, Sequence[Mapping[str, object]]],
) -> tuple[Bars, Bars, set[tuple[str, str]], list[str]]:
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
    if highest > 0:
        ax.set_ylim(0, highest * 1.1)  # room above the highest bar
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


def render_chart(usage: dict[str, list[dict[str, object]]], path: Path) -> str | None:
    """Draw tokens (top) and USD (bottom) stacked by model, one bar per stage, grouped by phase.

    ``usage`` maps a phase name to rows ``{"stage", "model", "total", "usd"}`` (``usd`` None
    when unknown). Writes a PNG to ``path`` atomically and returns None; returns a one-line
    message and writes nothing when matplotlib is not installed.
    """
    try:
        mpl = importlib.import_module("matplotlib")  # first: a blocked package stops here
        figure_mod = importlib.import_module("matplotlib.figure")
        agg = importlib.import_module("matplotlib.backends.backend_agg")
        ticker = importlib.import_module("matplotlib.ticker")
    except ImportError:
        return CHART_HINT
    from pytest_orchphase.report.write import atomic_write

    tokens, usd, unknown, models = _tables(usage)
    keys = list(tokens)
    xs = _positions(keys)
    fig = figure_mod.Figure(figsize=(max(6.0, 0.55 * len(xs) + 2.5), 7.0), dpi=110)
    agg.FigureCanvasAgg(fig)
    top, bottom = fig.subplots(2, 1, sharex=True)
    cmap = mpl.colormaps["tab10"]
    colors = {m: cmap(i % 10) for i, m in enumerate(models)}
    _draw(top, tokens, models, colors)
    _draw(bottom, usd, models, colors)
    top.set_ylabel("tokens")
    top.yaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:,.0f}"))
    bottom.set_ylabel("USD")
    top.set_title("Tokens and USD by stage and model, per phase", pad=22)
    for phase in dict.fromkeys(p for p, _ in keys):
        span = [x for x, (p, _) in zip(xs, keys, strict=True) if p == phase]
        middle = (span[0] + span[-1]) / 2
        top.annotate(
            phase,
            (middle, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(0, 4),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontweight="bold",
        )
    for x, key in zip(xs, keys, strict=True):
        if key in unknown:
            bottom.annotate(
                "USD unknown" if not usd[key] else "USD partly unknown",
                (x, 0.0),
                xytext=(0, 4),
                textcoords="offset points",
                rotation=90,
                ha="center",
                va="bottom",
                color="dimgray",
                fontsize="small",
            )
    bottom.set_xticks(xs)
    bottom.set_xticklabels([stage for _, stage in keys], rotation=35, ha="right")
    if models:
        top.legend(title="model", loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    else:
        top.text(0.5, 0.5, "no usage", transform=top.transAxes, ha="center")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    atomic_write(path, buffer.getvalue())
    return None

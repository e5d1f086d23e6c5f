"""Charts over time and against a benchmark: trend lines by year or period, and funnel plots of areas.

Re-exported by lt_workbench.present.figures, where the reports find every builder.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from lt_workbench.present.fmt import (
    number,
    percent_text,
    short_label,
    wrap_label,
)
from lt_workbench.present.fmt import as_number as _num
from lt_workbench.present.fmt import plain as _plain

from lt_workbench.present.style import PALETTE, _hover_share, _layout

__all__ = ["trend_lines", "funnel_grid"]


def trend_lines(
    table: pd.DataFrame,
    *,
    title: str,
    unit: str = "reviews",
    x: str = "year",
    series_breaks: Sequence[tuple[int, int, str]] = (),
    subtitle: str | None = None,
    band: bool | None = None,
) -> go.Figure:
    """Percentage of units with each code over time; the 95% interval as a band when one code is shown.

    x: "year", or "period" for bins labelled "2008-2010" (fewer hidden cells than single years). Hidden
    points are gaps in the line, marked "c" on the axis. Series breaks (e.g. SCR to CSPR, 2018-19) are shaded and named.
    Expects columns code, label, x, count, denominator, percent, ci_low, ci_high.
    """
    codes = list(dict.fromkeys(table["code"]))
    band = (len(codes) == 1) if band is None else band
    data = table[table[x].astype(str) != "All"].copy()

    def start(v: Any) -> int:
        return int(str(v)[:4])

    def end(v: Any) -> int:
        tail = str(v)[-4:]
        return int(tail) if tail.isdigit() else start(v)

    steps = sorted(dict.fromkeys(data[x]), key=start)
    names_x = [str(v).replace("-", "–") for v in steps]
    fig = go.Figure()
    for i, code in enumerate(codes):
        part = data[data["code"] == code].set_index(data[data["code"] == code][x]).reindex(steps)
        name = short_label(code, table.loc[table["code"] == code, "label"].iloc[0], 60)
        colour = PALETTE[i % len(PALETTE)]
        pct = [_num(v) for v in part["percent"]]
        if band:
            lo = [_num(v) for v in part["ci_low"]]
            hi = [_num(v) for v in part["ci_high"]]
            # One band segment per run of visible points, so a hidden point never gets a band drawn across it.
            fig.add_trace(go.Scatter(x=names_x, y=hi, mode="lines", line={"width": 0}, showlegend=False, hoverinfo="skip", connectgaps=False))
            fig.add_trace(go.Scatter(x=names_x, y=lo, mode="lines", line={"width": 0}, fill="tonexty", fillcolor="rgba(0,114,178,0.15)",
                                     name="95% interval", hoverinfo="skip", connectgaps=False))
        hover = [_hover_share(f"{name}, {xv}", c, d, p, a, b, unit) for xv, c, d, p, a, b in
                 zip(names_x, part["count"], part["denominator"], part["percent"], part["ci_low"], part["ci_high"], strict=False)]
        fig.add_trace(go.Scatter(
            x=names_x, y=pct, mode="lines+markers", name=name, line={"color": colour, "width": 2.5}, marker={"size": 8},
            connectgaps=False, hovertext=hover, hoverinfo="text",
            customdata=[[_plain(c), _plain(d)] for c, d in zip(part["count"], part["denominator"], strict=False)],
            meta={"counts": ["customdata[0]", "customdata[1]"]},
        ))
        hidden = [xv for xv, p, c in zip(names_x, pct, part["count"], strict=False) if p is None and str(c) == "c"]
        if hidden:
            fig.add_trace(go.Scatter(x=hidden, y=[0] * len(hidden), mode="text", text=["c"] * len(hidden), textposition="top center",
                                     textfont={"color": colour, "size": 13}, hoverinfo="skip", showlegend=False, cliponaxis=False))
    for first, last, text in series_breaks:
        idx = [k for k, v in enumerate(steps) if start(v) <= last and end(v) >= first]
        if idx:
            fig.add_vrect(x0=min(idx) - 0.5, x1=max(idx) + 0.5, fillcolor="#cbd2d9", opacity=0.35, line_width=0, layer="below",
                          annotation_text=html.escape(text), annotation_position="top left", annotation_font_size=11)
    fig.update_xaxes(type="category")
    fig.update_yaxes(ticksuffix="%", rangemode="tozero", showgrid=True, gridcolor="#e4e7eb")
    fig.update_layout(hovermode="closest")
    return _layout(fig, title=title, subtitle=subtitle, height=470,
                   x_title="Years the reviews were completed" if x == "period" else "Year the review was completed",
                   y_title=f"Percentage of {unit}", left=60)


def funnel_grid(
    panels: Sequence[tuple[str, pd.DataFrame, float]],
    *,
    title: str,
    unit: str = "reviews",
    highlight: str | None = None,
    subtitle: str | None = None,
    columns: int = 2,
) -> go.Figure:
    """Several funnel plots side by side, one per (panel title, points, overall percentage).

    points: columns name, count, denominator, percent (protected). Each panel draws the 95% and 99.8%
    limits around its overall percentage; the highlighted place is an orange diamond. Hidden places are
    not drawn. A funnel is a comparison with what chance would give, not a ranking.
    """
    from plotly.subplots import make_subplots

    from lt_workbench.analysis.stats import funnel_limits

    n_rows = max(1, math.ceil(len(panels) / columns))
    fig = make_subplots(rows=n_rows, cols=columns, subplot_titles=[wrap_label(t, 48, 2) for t, _, _ in panels],
                        horizontal_spacing=0.09, vertical_spacing=0.16 if n_rows > 1 else 0.1)
    grey = "#7b8794"
    all_dens = [_num(d) for _, pts, _ in panels for d in pts["denominator"]]
    n_max = int(max([d for d in all_dens if d is not None] + [10]) * 1.1)
    ns = np.arange(1, n_max + 1)
    for k, (_, pts, p0) in enumerate(panels):
        r, c = k // columns + 1, k % columns + 1
        first = k == 0
        lim = funnel_limits(ns, p0 / 100.0)
        for arr, dash, label in ((lim.upper_998, "dot", "99.8% limits"), (lim.upper_95, "dash", "95% limits"),
                                 (lim.lower_95, "dash", None), (lim.lower_998, "dot", None)):
            fig.add_trace(go.Scatter(x=ns.tolist(), y=[round(100 * float(v), 3) for v in arr], mode="lines",
                                     line={"color": grey, "dash": dash, "width": 1.1, "shape": "hv"}, name=label or "",
                                     showlegend=first and label is not None, legendgroup=dash, hoverinfo="skip"), row=r, col=c)
        fig.add_trace(go.Scatter(x=[1, n_max], y=[p0, p0], mode="lines", line={"color": "#1f2933", "width": 1.4},
                                 name="Overall percentage", showlegend=first, legendgroup="overall", hoverinfo="skip"), row=r, col=c)
        ok = [(_num(p) is not None and _num(d) is not None) for p, d in zip(pts["percent"], pts["denominator"], strict=False)]
        shown = pts[ok]
        for is_high in (False, True):
            part = shown[(shown["name"] == highlight) == is_high] if highlight is not None else (shown if not is_high else shown.iloc[0:0])
            if part.empty:
                continue
            hover = [f"<b>{html.escape(str(n))}</b><br>{percent_text(p)} of {unit} ({number(cn)} of {number(d)})<br>overall {p0:.1f}%"
                     for n, cn, d, p in zip(part["name"], part["count"], part["denominator"], part["percent"], strict=False)]
            fig.add_trace(go.Scatter(
                x=[_num(d) for d in part["denominator"]], y=[_num(p) for p in part["percent"]], mode="markers",
                marker={"size": 13 if is_high else 8, "color": PALETTE[1] if is_high else PALETTE[0], "line": {"color": "white", "width": 1},
                        "symbol": "diamond" if is_high else "circle"},
                name=str(highlight) if is_high else "Other places", showlegend=first or (is_high and k == 0), legendgroup=f"pts{is_high}",
                hovertext=hover, hoverinfo="text",
                customdata=[[_plain(cn), _plain(d)] for cn, d in zip(part["count"], part["denominator"], strict=False)],
                meta={"counts": ["x", "customdata[0]", "customdata[1]"]},
            ), row=r, col=c)
        fig.update_yaxes(ticksuffix="%", rangemode="tozero", row=r, col=c, showgrid=True, gridcolor="#e4e7eb")
        fig.update_xaxes(range=[0, n_max], row=r, col=c, showgrid=True, gridcolor="#e4e7eb")
    for c in range(1, columns + 1):
        fig.update_xaxes(title_text=f"Number of {unit}", row=n_rows, col=c)
    for r in range(1, n_rows + 1):
        fig.update_yaxes(title_text=f"% of {unit}", row=r, col=1)
    fig.update_annotations(font_size=13)
    _layout(fig, title=title, subtitle=subtitle, height=140 + 330 * n_rows, left=60)
    # Legend at the right, clear of the panel titles.
    fig.update_layout(legend={"orientation": "v", "x": 1.02, "xanchor": "left", "y": 1, "yanchor": "top"},
                      margin={"r": 170, "t": 130 if subtitle else 100})
    return fig

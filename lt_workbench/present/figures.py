"""Figures and tables for reports: plain words, labels from the coding frames, offline and deterministic.

Why this module exists:

- Under papermill plotly's default renderer emits only its own mimetype, which nbconvert drops, so
  figures silently vanish from HTML. `show()` emits `text/html` instead: a div and a `Plotly.newPlot`
  call, with plotly.js embedded once per notebook by `init_notebook()` (no CDN, so reports open
  offline and inside secure networks).
- plotly gives every figure a random div id, so two runs on the same data differ. `show()` numbers
  figures in order (`lt-figure-01`, ...) and passes plain lists, not numpy arrays, so the JSON is
  stable (plotly would otherwise encode arrays as base64 blobs).
- Every builder draws only what it is given. Reports give it tables that went through
  `lt_workbench.analysis.disclosure`, so hidden cells (`c`) stay hidden in the picture: no bar, a "c" label.
- Traces record in `meta["counts"]` which of their fields hold counts of reviews, children or
  recommendations, so tests (and output checkers) can verify that no small count is drawn.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from lt_workbench.present.fmt import (
    bare,
    interval_text,
    is_hidden,
    number,
    percent_text,
    short_label,
    wrap_label,
    year_span,
)
from lt_workbench.present.fmt import as_number as _num
from lt_workbench.present.fmt import plain as _plain
from lt_workbench.present.html import REPORT_CSS, figure_html, init_notebook, show, show_table, show_text, table_html
from lt_workbench.present.style import DIRECTION_COLOURS, FONT, LEVEL_COLOURS, PALETTE, STATUS_COLOURS, _hover_share, _layout
from lt_workbench.present.heatmaps import cooccurrence_count_traces, cooccurrence_heatmap, pair_grid, year_heat_traces
from lt_workbench.present.trends import funnel_grid, trend_lines

__all__ = [
    "FONT",
    "PALETTE",
    "DIRECTION_COLOURS",
    "LEVEL_COLOURS",
    "STATUS_COLOURS",
    "init_notebook",
    "show",
    "figure_html",
    "short_label",
    "year_span",
    "wrap_label",
    "is_hidden",
    "number",
    "percent_text",
    "interval_text",
    "table_html",
    "show_table",
    "show_text",
    "bar_shares",
    "bar_share_traces",
    "grouped_shares",
    "count_bars",
    "trend_lines",
    "stacked_shares",
    "cooccurrence_heatmap",
    "cooccurrence_count_traces",
    "pair_grid",
    "year_heat_traces",
    "funnel_grid",
    "REPORT_CSS",
]

def bar_share_traces(
    table: pd.DataFrame,
    *,
    unit: str = "reviews",
    label: str | None = None,
    colour: str = PALETTE[0],
    label_width: int = 40,
    with_codes: bool = False,
    code_after: bool = False,
    value_labels: str = "percent",
) -> tuple[dict[str, Any], dict[str, Any], float]:
    """The two traces of `bar_shares` as plain dicts (bars with whiskers; value labels beside them) and the
    largest value drawn. For a figure already on screen (the explorer), which takes the traces only:
    building a whole figure with its template for every redraw would cost more than the query.
    """
    rows = bare(table).reset_index(drop=True)
    names = [short_label(c, lab, 200) if with_codes else str(lab) for c, lab in zip(rows["code"], rows["label"], strict=False)]
    if code_after:
        y = [f"{wrap_label(str(lab), label_width, 2)} · {c}" for c, lab in zip(rows["code"], rows["label"], strict=True)]
        names = [f"{lab} ({c})" for c, lab in zip(rows["code"], rows["label"], strict=True)]
    else:
        y = [wrap_label(n, label_width) for n in names]
    pct = [_num(v) for v in rows["percent"]]
    lo = [_num(v) for v in rows["ci_low"]] if "ci_low" in rows else [None] * len(rows)
    hi = [_num(v) for v in rows["ci_high"]] if "ci_high" in rows else [None] * len(rows)
    plus = [(h - p) if (h is not None and p is not None) else None for p, h in zip(pct, hi, strict=False)]
    minus = [(p - lo_) if (lo_ is not None and p is not None) else None for p, lo_ in zip(pct, lo, strict=False)]
    hover = [_hover_share(n, c, d, p, a, b, unit) for n, c, d, p, a, b in
             zip(names, rows["count"], rows["denominator"], rows["percent"], rows.get("ci_low", rows["percent"]), rows.get("ci_high", rows["percent"]), strict=False)]
    bars = dict(
        x=[v if v is not None else 0 for v in pct], y=y, orientation="h", marker={"color": colour}, name=label or unit,
        error_x={"type": "data", "symmetric": False, "array": plus, "arrayminus": minus, "color": "#3e4c59", "thickness": 1.2, "width": 4},
        customdata=[[_plain(c), _plain(d)] for c, d in zip(rows["count"], rows["denominator"], strict=False)],
        hovertext=hover, hoverinfo="text", meta={"counts": ["customdata[0]", "customdata[1]"]}, showlegend=False,
    )
    # Value labels sit just beyond the whisker, so they never collide with it.
    label_x = [((h if h is not None else p) + 1.0) if p is not None else 0.5 for p, h in zip(pct, hi, strict=False)]
    if value_labels == "count_of":
        label_text = [f"{number(c)} of {number(d)}" if p is not None else ("c  hidden: small number" if str(c) == "c" else str(c))
                      for p, c, d in zip(pct, rows["count"], rows["denominator"], strict=True)]
    else:
        label_text = [f"{p:.0f}%" if p is not None else ("c  hidden: small number" if str(c) == "c" else str(c))
                      for p, c in zip(pct, rows["count"], strict=False)]
    values = dict(x=label_x, y=y, mode="text", text=label_text, textposition="middle right", hoverinfo="skip",
                  showlegend=False, textfont={"size": 12, "color": "#3e4c59"}, cliponaxis=False)
    top = max([h for h in hi if h is not None] + [v for v in pct if v is not None] + [10])
    return bars, values, float(top)


def bar_shares(
    table: pd.DataFrame,
    *,
    title: str,
    unit: str = "reviews",
    label: str | None = None,
    colour: str = PALETTE[0],
    subtitle: str | None = None,
    x_title: str | None = None,
    label_width: int = 40,
    with_codes: bool = False,
    code_after: bool = False,
    value_labels: str = "percent",
) -> go.Figure:
    """Horizontal bars: the percentage of units with each code, with its 95% interval as a whisker.

    Rows appear top to bottom in table order. Hidden rows keep their place, with no bar and a 'c'.
    Expects columns code, label, count, denominator, percent, ci_low, ci_high. with_codes: show the
    code before the label (for the typology and the factors framework, whose codes readers use).
    code_after: "label · CODE" with the label wrapped onto two lines (the explorer reads the code back
    from a clicked bar's axis label). value_labels: "percent" ("54%") or "count_of" ("17 of 32")
    beside each bar. The traces come from `bar_share_traces`, which the explorer draws with too.
    """
    bars, values, top = bar_share_traces(table, unit=unit, label=label, colour=colour, label_width=label_width,
                                         with_codes=with_codes, code_after=code_after, value_labels=value_labels)
    fig = go.Figure([go.Bar(bars), go.Scatter(values)])
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(range=[0, min(100, top * 1.12 + 8)], ticksuffix="%")
    return _layout(fig, title=title, subtitle=subtitle, height=110 + 34 * len(table),
                   x_title=x_title or f"Percentage of {unit}: bar, with its 95% interval as a line")


def grouped_shares(
    table: pd.DataFrame,
    *,
    group: str,
    group_labels: Mapping[str, str],
    colours: Mapping[str, str] | None = None,
    title: str,
    unit: str = "reviews",
    subtitle: str | None = None,
    label_width: int = 40,
) -> go.Figure:
    """Horizontal bars of percentages, one colour per value of `group` (e.g. constructive / unsafe)."""
    codes = list(dict.fromkeys(table["code"]))
    label_of = dict(zip(table["code"], table["label"], strict=False))
    names = {c: short_label(c, label_of[c], 200) for c in codes}
    fig = go.Figure()
    for i, (g, glabel) in enumerate(group_labels.items()):
        part = table[table[group] == g].set_index("code").reindex(codes)
        pct = [_num(v) for v in part["percent"]]
        hover = [_hover_share(f"{names[c]} — {glabel}", n, d, p, a, b, unit)
                 for c, n, d, p, a, b in zip(codes, part["count"], part["denominator"], part["percent"], part["ci_low"], part["ci_high"], strict=False)]
        fig.add_trace(go.Bar(
            x=[v if v is not None else 0 for v in pct], y=[wrap_label(names[c], label_width) for c in codes], orientation="h",
            name=glabel, marker_color=(colours or {}).get(g, PALETTE[i % len(PALETTE)]),
            # Values printed beside the bars (readers of a printed report cannot hover); c where hidden.
            text=[("c" if str(n) == "c" else "") if p is None else f"{p:.0f}%" for n, p in zip(part["count"], pct, strict=True)],
            textposition="outside", cliponaxis=False,
            customdata=[[_plain(n), _plain(d)] for n, d in zip(part["count"], part["denominator"], strict=False)],
            hovertext=hover, hoverinfo="text", meta={"counts": ["customdata[0]", "customdata[1]"]},
        ))
    fig.update_layout(barmode="group")
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(ticksuffix="%", rangemode="tozero")
    return _layout(fig, title=title, subtitle=subtitle, height=130 + 26 * len(codes) * max(1, len(group_labels)),
                   x_title=f"Percentage of {unit}")


def count_bars(
    categories: Sequence[Any],
    values: Sequence[Any],
    *,
    title: str,
    x_title: str,
    y_title: str,
    colour: str = PALETTE[0],
    subtitle: str | None = None,
    horizontal: bool = False,
    hover_unit: str = "reviews",
    series_breaks: Sequence[tuple[int, int, str]] = (),
) -> go.Figure:
    """Bars of counts (e.g. reviews per year). Hidden counts keep their place, with no bar and a 'c'."""
    vals = [_num(v) for v in values]
    cats = [str(c).replace("-", "–") if re.fullmatch(r"\d{4}-\d{4}", str(c)) else str(c) for c in categories]
    text = ["c" if str(v) == "c" else number(v) for v in values]
    hover = [f"<b>{html.escape(c)}</b><br>{'hidden: a small number' if n is None else number(v) + ' ' + hover_unit}"
             for c, n, v in zip(cats, vals, values, strict=False)]
    counts_axis = "x" if horizontal else "y"
    bar = go.Bar(
        x=vals if horizontal else cats, y=cats if horizontal else vals, orientation="h" if horizontal else "v",
        marker_color=colour, text=text, textposition="outside", cliponaxis=False, hovertext=hover, hoverinfo="text",
        customdata=[[_plain(v)] for v in values], meta={"counts": [counts_axis, "customdata[0]"]}, name=y_title, showlegend=False,
    )
    fig = go.Figure(bar)
    if horizontal:
        fig.update_yaxes(autorange="reversed", type="category")
    else:
        fig.update_xaxes(type="category")
    top = max([v for v in vals if v is not None] + [1])
    (fig.update_xaxes if horizontal else fig.update_yaxes)(range=[0, top * 1.15])
    if cats and all(v is None for v in vals):
        fig.add_annotation(text="Every value is hidden: too few reviews in each to show without revealing small numbers",
                           xref="paper", yref="paper", x=0.5, y=0.6, showarrow=False, font={"size": 14, "color": "#52606d"})
    hidden = [c for c, n, v in zip(cats, vals, values, strict=False) if n is None and str(v) == "c"]
    if hidden and not horizontal:
        fig.add_trace(go.Scatter(x=hidden, y=[0] * len(hidden), mode="text", text=["c"] * len(hidden), textposition="top center",
                                 hoverinfo="skip", showlegend=False, textfont={"color": "#52606d", "size": 13}, cliponaxis=False))
    for start, end, label in series_breaks:
        # Category axes place shapes by position: shade the categories that overlap start..end.
        spans = [year_span(c) for c in cats]
        idx = [i for i, sp in enumerate(spans) if sp is not None and sp[0] <= end and sp[1] >= start]
        if idx and not horizontal:
            fig.add_vrect(x0=min(idx) - 0.5, x1=max(idx) + 0.5, fillcolor="#cbd2d9", opacity=0.35, line_width=0, layer="below",
                          annotation_text=html.escape(label), annotation_position="top left", annotation_font_size=11)
    height = (110 + 30 * len(cats)) if horizontal else 380
    return _layout(fig, title=title, subtitle=subtitle, height=height, x_title=x_title, y_title=y_title)


def stacked_shares(
    table: pd.DataFrame,
    *,
    row: str,
    row_labels: Mapping[str, str],
    group: str,
    group_labels: Mapping[str, str],
    colours: Mapping[str, str],
    title: str,
    unit: str = "recommendations",
    subtitle: str | None = None,
    label_width: int = 34,
) -> go.Figure:
    """One horizontal bar per value of `row` (e.g. agency), split into the shares of each `group` value
    (e.g. status), adding to 100%. Expects count, denominator (the row's total) and percent per row x group.
    Segment values are printed on the bars; a row's hidden shares are drawn together as one hatched grey 'c'
    segment (the rest of its bar), and a note under the chart says when bars miss 100% through rounding.
    """
    rows = list(dict.fromkeys(table[row]))
    fig = go.Figure()
    for g, glabel in group_labels.items():
        part = table[table[group] == g].set_index(row).reindex(rows)
        pct = [_num(v) for v in part["percent"]]
        names = [str(row_labels.get(r, r)) for r in rows]
        hover = [f"<b>{html.escape(n)}</b> — {html.escape(glabel)}<br>" +
                 ("hidden: a small number" if p is None else f"{percent_text(p)} of its {unit} ({number(c)} of {number(d)})")
                 for n, c, d, p in zip(names, part["count"], part["denominator"], pct, strict=False)]
        fig.add_trace(go.Bar(
            x=pct, y=[wrap_label(n, label_width) for n in names], orientation="h", name=glabel,
            marker_color=colours.get(g, "#999999"), hovertext=hover, hoverinfo="text",
            # Values printed on the segments wide enough to hold them (the table beside has every number).
            text=[f"{p:.0f}%" if p is not None and p >= 5 else "" for p in pct], textposition="inside", insidetextanchor="middle",
            customdata=[[_plain(c), _plain(d)] for c, d in zip(part["count"], part["denominator"], strict=False)],
            meta={"counts": ["customdata[0]", "customdata[1]"]},
        ))
    all_hidden, part_hidden, rest, off = [], [], [], []
    for r in rows:
        part = table[table[row] == r]
        shown = [_num(v) for v in part["percent"]]
        if all(v is None for v in shown):
            all_hidden.append(wrap_label(str(row_labels.get(r, r)), label_width))
        elif any(v is None for v in shown):
            part_hidden.append(wrap_label(str(row_labels.get(r, r)), label_width))
            rest.append(max(0.0, 100.0 - sum(v for v in shown if v is not None)))
        elif abs(sum(v for v in shown if v is not None) - 100.0) > 0.5:
            off.append(str(row_labels.get(r, r)))
    notes = []
    if part_hidden:
        # The hidden shares of a row together make up the rest of its bar (100% less the shown ones): marked, not left blank.
        fig.add_trace(go.Bar(x=rest, y=part_hidden, orientation="h", name="Hidden (small numbers)", text=["c"] * len(rest),
                             textposition="inside", insidetextanchor="middle", hoverinfo="skip",
                             marker={"color": "#e4e7eb", "line": {"color": "#9aa5b1", "width": 1}, "pattern": {"shape": "/"}}))
        notes.append("Hatched grey (c): shares hidden because the numbers are small; together they make up the rest of the bar.")
    if off:
        notes.append(f"{len(off)} bar(s) stop short of or pass 100% because counts and totals are rounded independently "
                     "for publication.")
    if notes:
        fig.add_annotation(text="<br>".join(html.escape(n) for n in notes), xref="paper", yref="paper", x=0, y=0, yshift=-58,
                           xanchor="left", yanchor="top", showarrow=False, align="left", font={"size": 11, "color": "#52606d"})
    if all_hidden:
        fig.add_trace(go.Scatter(x=[1] * len(all_hidden), y=all_hidden, mode="text", text=["c  hidden: small numbers"] * len(all_hidden),
                                 textposition="middle right", hoverinfo="skip", showlegend=False, textfont={"color": "#52606d", "size": 12}))
    fig.update_layout(barmode="stack", legend={"traceorder": "normal"})
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(range=[0, 100], ticksuffix="%")
    out = _layout(fig, title=title, subtitle=subtitle, height=150 + 32 * len(rows) + 18 * len(notes),
                  x_title=f"Percentage of each row's {unit}")
    if notes:
        out.update_layout(margin={"b": 70 + 18 * len(notes)})
    return out

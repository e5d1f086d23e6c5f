"""Heat maps: codes × years (or periods), and codes found together (co-occurrence), for reports and the explorer.

Re-exported by lt_workbench.present.figures, where the reports find every builder. The explorer draws
its two heat maps with the `*_traces` builders here (plain dicts it sets on its on-screen figures, which
keep their click handlers), so a report and the explorer decide the same way which cells are shown,
hidden (c, drawn grey) or never seen together. Nothing here counts: tables come from the analysis API,
already through disclosure control.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from lt_workbench.present.fmt import display as _fmt
from lt_workbench.present.fmt import bare, is_hidden, number, short_label, wrap_label, year_span
from lt_workbench.present.fmt import nan_number as _nan
from lt_workbench.present.fmt import plain as _plain
from lt_workbench.present.fmt import significant as _sig
from lt_workbench.present.style import _layout

__all__ = ["pair_grid", "cooccurrence_heatmap", "cooccurrence_count_traces", "year_heat_traces", "HIDDEN_GREY"]

HIDDEN_GREY = "#e9ecef"


def pair_grid(table: pd.DataFrame, rows: Sequence[str], columns: Sequence[str], symmetric: bool) -> list[list[tuple[str, Any]]]:
    """Each (row, column) pair of a co-occurrence table as (state, record): "self" (a code with itself in a
    symmetric grid), "none" (not in the table: never recorded together), "hidden" (count c) or "shown"."""
    pairs: dict[tuple[str, str], Any] = {}
    for record in table.to_dict("records"):
        rec: Any = record
        pairs[(rec["code_a"], rec["code_b"])] = rec
        if symmetric:
            pairs[(rec["code_b"], rec["code_a"])] = {**rec, "n_a": rec["n_b"], "n_b": rec["n_a"],
                                                     "label_a": rec.get("label_b"), "label_b": rec.get("label_a")}
    grid = []
    for r in rows:
        line: list[tuple[str, Any]] = []
        for c in columns:
            rec = pairs.get((r, c))
            if symmetric and r == c:
                line.append(("self", None))
            elif rec is None:
                line.append(("none", None))
            else:
                line.append(("hidden" if is_hidden(rec["n_ab"]) else "shown", rec))
        grid.append(line)
    return grid


def cooccurrence_heatmap(
    table: pd.DataFrame,
    *,
    rows: Sequence[tuple[str, str]],
    columns: Sequence[tuple[str, str]],
    symmetric: bool,
    title: str,
    unit: str,
    x_title: str,
    y_title: str,
    subtitle: str | None = None,
    code_columns: bool = False,
) -> go.Figure:
    """Lift of each pair (how many times more often together than if unrelated) as a heat map.

    table: a (protected) co-occurrence table with code_a, code_b, n_a, n_b, n_ab, lift. rows/columns:
    (code, label) in frame order; pairs missing from the table were never seen together (lift 0).
    Hidden pairs stay grey. code_columns: label columns by code only (for wide grids whose rows name them).
    """
    grid = pair_grid(table, [c for c, _ in rows], [c for c, _ in columns], symmetric)
    z: list[list[float | None]] = []
    hover: list[list[str]] = []
    counts: list[list[Any]] = []
    for (rc, rl), line in zip(rows, grid, strict=True):
        zr: list[float | None] = []
        hr: list[str] = []
        cr: list[Any] = []
        for (cc, cl), (state, rec) in zip(columns, line, strict=True):
            pair_words = f"<b>{html.escape(short_label(rc, rl, 60))}</b><br>with <b>{html.escape(short_label(cc, cl, 60))}</b><br>"
            if state == "self":
                zr.append(None)
                hr.append(html.escape(short_label(rc, rl, 60)))
                cr.append(None)
            elif state == "none":
                zr.append(0.0)
                hr.append(pair_words + f"never recorded together (0 {unit})")
                cr.append(0)
            elif state == "hidden" or is_hidden(rec["lift"]):
                zr.append(None)
                hr.append(pair_words + "hidden: small numbers")
                cr.append(_plain(rec["n_ab"]))
            else:
                lift = float(rec["lift"])
                zr.append(round(lift, 3))
                hr.append(pair_words + f"together in {number(rec['n_ab'])} {unit}<br>"
                          f"{lift:.2f} times as often as if unrelated")
                cr.append(_plain(rec["n_ab"]))
        z.append(zr)
        hover.append(hr)
        counts.append(cr)
    fig = go.Figure(go.Heatmap(
        z=z, x=[c if code_columns else wrap_label(short_label(c, lab, 80), 22, 4) for c, lab in columns],
        y=[wrap_label(short_label(c, lab, 80), 44, 2) for c, lab in rows],
        colorscale=[[0, "#2166ac"], [0.25, "#92c5de"], [0.5, "#f7f7f7"], [0.75, "#f4a582"], [1, "#b2182b"]], zmin=0, zmax=2, zmid=1,
        hoverongaps=False, hovertext=hover, hoverinfo="text", customdata=[[[v] for v in r] for r in counts],
        colorbar={"title": {"text": "Times as often<br>as if unrelated", "side": "right"}, "thickness": 14,
                  "tickvals": [0, 0.5, 1, 1.5, 2], "ticktext": ["0", "0.5", "1 (unrelated)", "1.5", "2 or more"]},
        xgap=1, ygap=1, meta={"counts": ["customdata[0]"]},
    ))
    fig.update_yaxes(autorange="reversed", showgrid=False)
    fig.update_xaxes(showgrid=False, tickangle=-45 if not code_columns else -60)
    fig.update_layout(plot_bgcolor="#cbd2d9")
    return _layout(fig, title=title, subtitle=subtitle, height=200 + 34 * len(rows) + (60 if code_columns else 120),
                   x_title=x_title, y_title=y_title)


def _cells(z: list[list[float | None]], x: list[Any], y: list[str], text: list[list[str]], custom: list[Any],
           hovertemplate: str) -> dict[str, Any]:
    """A heat map's cells as trace properties. plotly.js fails to restyle a heat map whose z is all null, so
    then the layer is made invisible and the grey "hidden" layer carries the axes."""
    any_shown = any(v is not None for row in z for v in row)
    return {"visible": any_shown, "z": z if any_shown else [[0] * len(x) for _ in y], "x": x, "y": y, "text": text,
            "texttemplate": "%{text}", "textfont": {"size": 10}, "customdata": custom, "hovertemplate": hovertemplate,
            "hoverongaps": False}


def _hidden_layer(x: list[Any], y: list[str], hidden: list[list[str | None]]) -> dict[str, Any]:
    """The grey layer: one cell marked with its symbol ("c") wherever the value is hidden."""
    return {"z": [[1.0 if h is not None else None for h in row] for row in hidden], "x": x, "y": y,
            "text": [[h or "" for h in row] for row in hidden], "visible": any(h is not None for row in hidden for h in row)}


def cooccurrence_count_traces(
    table: pd.DataFrame,
    *,
    rows: Sequence[tuple[str, str]],
    columns: Sequence[tuple[str, str]],
    symmetric: bool,
    x: list[str],
    y: list[str],
) -> tuple[dict[str, Any], dict[str, Any], int]:
    """The explorer's "found together" map: the number of units with both codes in each cell (the count on it,
    Jaccard and lift on hover), as (cells trace, grey hidden-cells trace, number of hidden cells).

    Same table and the same shown / hidden / never-together decision as `cooccurrence_heatmap` (`pair_grid`);
    the colour is the count, since the explorer reads numbers off the cells. x, y: the axis labels to use.
    """
    grid = pair_grid(table, [c for c, _ in rows], [c for c, _ in columns], symmetric)
    z: list[list[float | None]] = []
    text: list[list[str]] = []
    custom: list[list[Any]] = []
    hidden: list[list[str | None]] = []
    for (a, la), line in zip(rows, grid, strict=True):
        zr: list[float | None] = []
        tr: list[str] = []
        cr: list[Any] = []
        hr: list[str | None] = []
        for (b, lb), (state, rec) in zip(columns, line, strict=True):
            n = 0 if rec is None else rec["n_ab"]
            shown = state in ("none", "shown") and not math.isnan(_nan(n))
            zr.append(_nan(n) if shown else None)
            tr.append(_fmt(n, 0) if shown else "")
            hr.append(_fmt(n, 0) if state == "hidden" or (state == "shown" and not shown) else None)
            j, lift = (math.nan, math.nan) if rec is None else (rec["jaccard"], rec["lift"])
            cr.append([a, la, b, lb, _sig(j), _sig(lift)])
        z.append(zr)
        text.append(tr)
        custom.append(cr)
        hidden.append(hr)
    cells = _cells(z, x, y, text, custom, "<b>%{customdata[1]}</b> (%{customdata[0]})<br>with <b>%{customdata[3]}</b> "
                   "(%{customdata[2]})<br>together: %{text}<br>Jaccard %{customdata[4]} · lift %{customdata[5]}<extra></extra>")
    cells["zmin"] = 0
    cells["zmax"] = max(1.0, max([v for row in z for v in row if v is not None], default=0.0))
    return cells, _hidden_layer(x, y, hidden), sum(h is not None for row in hidden for h in row)


def year_heat_traces(
    table: pd.DataFrame,
    codes: Sequence[str],
    *,
    y_labels: Mapping[str, str],
    labels: Mapping[str, str],
    by: str = "year",
    series_breaks: Sequence[Mapping[str, Any]] = (),
) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]], list[dict[str, Any]], int]:
    """Codes × years (by="year") or × periods ("2008-2012", by="period"): the percentage of units each year as
    colour, the count on the cell, "n of N" on hover; hidden cells grey with their symbol.

    table: a (protected) trend or by-period frequency table (code, year|period, count, denominator, percent).
    codes: the rows, in order (those not in the table are dropped); y_labels: code -> axis label; labels: code ->
    its words (hover). Returns (cells trace,
    hidden-cells trace, series-break shapes, their annotations, number of hidden cells). A blank cell means
    none in scope that year; hidden means in scope but not shown.
    """
    table = bare(table)
    present = set(table["code"])  # once: inside the comprehension it was rebuilt for every code
    codes = [c for c in codes if c in present]
    y = [y_labels.get(c, c) for c in codes]
    if by == "year":
        steps: list[Any] = sorted(int(v) for v in table["year"].unique())
    else:
        steps = sorted(dict.fromkeys(str(p) for p in table[by]), key=lambda p: (year_span(p) or (0, 0))[0])
    sub = table[table["code"].isin(codes)]
    pct = sub.assign(_p=pd.to_numeric(sub["percent"], errors="coerce")).pivot(index="code", columns=by, values="_p")
    pct = pct.reindex(index=codes, columns=steps)
    cnt = sub.pivot(index="code", columns=by, values="count").reindex(index=codes, columns=steps)
    den = sub.pivot(index="code", columns=by, values="denominator").reindex(index=codes, columns=steps)
    z = [[None if (v is None or (isinstance(v, float) and math.isnan(v))) else float(v) for v in row] for row in pct.to_numpy()]
    counts = [[_fmt(v, 0) for v in row] for row in cnt.to_numpy(dtype=object)]
    # Hidden: no percentage shown although the year has units in scope (its denominator is not a true 0).
    hidden = [[t if zv is None and _nan(d) != 0 else None for zv, t, d in zip(zr, tr, dr, strict=True)]
              for zr, tr, dr in zip(z, counts, den.to_numpy(dtype=object), strict=True)]
    text = [[t if zv is not None else "" for zv, t in zip(zr, tr, strict=True)] for zr, tr in zip(z, counts, strict=True)]
    hover = [[f"{_fmt(c, 0)} of {_fmt(d, 0)}" for c, d in zip(rc, rd, strict=True)]
             for rc, rd in zip(cnt.to_numpy(dtype=object), den.to_numpy(dtype=object), strict=True)]
    custom = [[[c, labels.get(c, c), h] for h in hrow] for c, hrow in zip(codes, hover, strict=True)]
    shapes: list[dict[str, Any]] = []
    notes: list[dict[str, Any]] = []
    spans = [(s, s) if by == "year" else (year_span(s) or (0, 0)) for s in steps]
    for b in series_breaks:
        idx = [i for i, (lo, hi) in enumerate(spans) if lo <= b["to_year"] and hi >= b["from_year"]]
        if not idx:
            continue
        # Years: drawn at the years themselves; periods: at the categories' positions (0, 1, ...).
        x0, x1 = (b["from_year"] - 0.5, b["to_year"] + 0.5) if by == "year" else (min(idx) - 0.5, max(idx) + 0.5)
        shapes.append({"type": "rect", "xref": "x", "yref": "paper", "x0": x0, "x1": x1, "y0": 0, "y1": 1,
                       "line": {"color": "#d35400", "width": 1.5, "dash": "dot"}, "fillcolor": "rgba(0,0,0,0)"})
        notes.append({"text": "SCR → CSPR", "xref": "x", "yref": "paper", "x": (x0 + x1) / 2, "y": 1.0, "yanchor": "bottom",
                      "showarrow": False, "font": {"size": 10, "color": "#d35400"}})
    cells = _cells(z, steps, y, text, custom,
                   "<b>%{customdata[1]}</b> (%{customdata[0]})<br>%{x}: %{customdata[2]}<br>%{z:.1f}%<extra></extra>")
    return cells, _hidden_layer(steps, y, hidden), shapes, notes, sum(h is not None for row in hidden for h in row)

"""The explorer's three linked figures: the bar chart of shares, the code × year heat map and the
"found together" heat map, drawn into plotly `FigureWidget`s that stay on screen between refreshes.

Why a module of its own: drawing (which trace gets which numbers, what a hidden cell looks like,
how long labels are shortened) is independent of when the numbers are fetched; `Charts` takes
tables the analysis API returned and only draws them. Nothing here counts.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from lt_workbench.analysis import tabulate as tab
from lt_workbench.config import DEFAULT_TAXONOMY_VERSION
from lt_workbench.explorer.filters import THING
from lt_workbench.explorer.release import refusable
from lt_workbench.model.frames import labels as frame_labels
from lt_workbench.present import figures
from lt_workbench.present.fmt import shorten as _short
from lt_workbench.present.fmt import wrap_label

if TYPE_CHECKING:
    from lt_workbench.explorer.release import SessionRelease

__all__ = ["Charts", "Snapshot", "EvidenceTarget", "BAR_COLOUR", "BAR_SELECTED", "NOTHING_SHOWN_PUBLIC", "hidden_share",
           "draw_year_view"]

# Why no bar is drawn in public mode. It never says which cells are small: a count hidden only because it could be
# worked out would be known to be at least the threshold.
NOTHING_SHOWN_PUBLIC = wrap_label(
    "Nothing can be shown here in public mode (c): each count is small, or could be worked out from this table or "
    "from what this database snapshot has already published (earlier views, CLI commands, reports). Widen the "
    "filters, or use restricted mode inside the secure environment.", 80, 5)
BAR_COLOUR = "#4f7cac"
BAR_SELECTED = "#c0392b"


@dataclass(frozen=True)
class EvidenceTarget:
    """What was clicked: a code, optionally one year, optionally the code it co-occurs with."""

    code: str
    year: int | tuple[int, int] | None = None  # one year, or (first, last) of a period
    with_code: str | None = None


@dataclass
class Snapshot:
    """Filter values frozen at the start of a refresh, so every stage of it shows the same selection."""

    frame: str
    level: int
    unit: str
    disclosure: str
    where: dict[str, Any]
    scope_where: dict[str, Any]
    description: str
    pinned: tuple[str, ...]
    top: int
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)  # table -> why the release refused it (public mode)


def centre_note(text: str) -> dict[str, Any]:
    """An annotation in the middle of a figure (nothing to draw, and why)."""
    return {"text": text, "xref": "paper", "yref": "paper", "x": 0.5, "y": 0.5, "showarrow": False,
            "font": {"size": 14, "color": "#8a5a00"}}


def clear_figure(fig: Any, title: str, note: str) -> None:
    """A figure emptied, titled, with `note` in its middle, tall enough for it (two batches: see Charts.draw_bar)."""
    with fig.batch_update():
        trace = fig.data[0]
        if isinstance(trace, go.Bar):
            trace.update(x=[], y=[], error_x=None, text=None, customdata=None)
        else:
            trace.update(z=[[]], x=[], y=[], text=None)
        fig.layout.title.text = title
        fig.layout.annotations = [centre_note(note)]
        fig.layout.shapes = []
        fig.layout.height = max(220, 120 + 18 * (note.count("<br>") + 1))
    with fig.batch_update():
        if isinstance(fig.data[0], go.Bar):
            fig.data[1].update(x=[], y=[], text=None)
        else:
            fig.data[1].update(z=[[]], x=[], y=[], text=None)


def set_props(trace: Any, props: dict[str, Any]) -> None:
    """Set a trace's properties from a builder's dict, one property at a time (inside the caller's batch_update).

    Not `trace.update(props)`: plotly's update first resolves the path of every key (and of every key of a
    nested dict) in the property tree, which cost about 9 ms CPU for the bars' eleven properties against 0.8 ms
    set one by one. A nested dict (error_x, marker) replaces the property as a whole, so nothing of an earlier
    drawing stays behind in it; the builders give every sub-property they mean.
    """
    for key, value in props.items():
        setattr(trace, key, value)


class Charts:
    """The bar chart and the two heat maps, and how the explorer's tables are drawn into them."""

    def __init__(self, version: str = DEFAULT_TAXONOMY_VERSION) -> None:
        self.version = version
        self.year_shapes: list[dict[str, Any]] = []  # the series-break marks, kept under any row highlight
        self.pair_cols: list[str] = []
        # Plain figures until the first refresh has drawn into them; to_widgets() then makes the FigureWidgets,
        # so the state a browser receives when the widget opens already holds the data (updates sent
        # before the page has a view of the figure can be lost, leaving empty axes).
        self.bar: Any = go.Figure(layout=self._bar_layout())
        self.bar.add_bar(x=[], y=[], orientation="h", marker_color=BAR_COLOUR, name="share")
        # "17 of 32" beside each bar, past the whisker, where it is legible whatever the bar's length.
        self.bar.add_scatter(x=[], y=[], mode="text", textposition="middle right", hoverinfo="skip", name="counts",
                             textfont={"size": 11, "color": "#333"})
        self.heat_year: Any = go.Figure(layout=self._heat_layout("By year"))
        self.heat_year.add_heatmap(z=[[]], x=[], y=[], colorscale="Blues", zmin=0, name="by year",
                                   colorbar={"title": {"text": "%"}, "thickness": 12})
        self.heat_pair: Any = go.Figure(layout=self._heat_layout("Together"))
        self.heat_pair.add_heatmap(z=[[]], x=[], y=[], colorscale="Purples", zmin=0, name="together",
                                   colorbar={"title": {"text": "n"}, "thickness": 12})
        for fig in (self.heat_year, self.heat_pair):
            # Cells hidden by disclosure control: grey, marked "c", so a gap never reads as "none".
            fig.add_heatmap(z=[[]], x=[], y=[], colorscale=[[0, "#e9ecef"], [1, "#e9ecef"]], showscale=False,
                            name="hidden", texttemplate="%{text}", textfont={"size": 10, "color": "#666"},
                            hovertemplate="%{y}<br>%{x}: hidden in public mode (%{text})<extra></extra>", hoverongaps=False)

    def to_widgets(self) -> None:
        """Turn the three figures, as drawn so far, into plotly FigureWidgets (once, before they are shown)."""
        if not isinstance(self.bar, go.FigureWidget):
            self.bar, self.heat_year, self.heat_pair = (go.FigureWidget(f) for f in (self.bar, self.heat_year, self.heat_pair))

    def on_click(self, bar: Any, year: Any, pair: Any) -> None:
        """Route clicks: on a bar (or its "n of N" label), a year cell, a pair cell (plotly's on_click signature)."""
        self.bar.data[0].on_click(bar)
        self.bar.data[1].on_click(bar)  # a click on "17 of 32" means the same bar
        for i in (0, 1):
            self.heat_year.data[i].on_click(year)
            self.heat_pair.data[i].on_click(pair)

    def _bar_layout(self) -> go.Layout:
        return go.Layout(
            height=420, margin={"l": 10, "r": 20, "t": 60, "b": 40}, template="plotly_white",
            xaxis={"title": {"text": "% of reviews (95% Wilson interval)"}, "rangemode": "tozero", "automargin": True},
            yaxis={"autorange": "reversed", "automargin": True, "type": "category"},
            title={"text": "Top recurring patterns", "x": 0, "xanchor": "left", "font": {"size": 15}},
            showlegend=False, bargap=0.25,
        )

    def _heat_layout(self, title: str) -> go.Layout:
        return go.Layout(
            height=380, margin={"l": 10, "r": 20, "t": 70, "b": 40}, template="plotly_white",
            title={"text": title, "x": 0, "xanchor": "left", "font": {"size": 15}},
            yaxis={"autorange": "reversed", "automargin": True, "type": "category"},
            xaxis={"automargin": True},
        )

    def _thing(self, s: Snapshot) -> str:
        return THING[s.frame]

    def _bar_title(self, s: Snapshot) -> str:
        things = "patterns" if s.frame == "patterns" else "contributory factors"
        return f"Top recurring {things}: % of {tab.UNIT_LABELS[s.unit]} in scope"

    def _ylabel(self, s: Snapshot, code: str, width: int = 52) -> str:
        """"Words · CODE" on at most two lines (long labels wrap, so the plot keeps its width on a laptop)."""
        words = frame_labels(s.frame, self.version).get(code, code)
        return f"{wrap_label(words, max(16, width // 2 + 4), 2)} · {code}"

    def draw_bar(self, s: Snapshot, shown: pd.DataFrame, hidden: int) -> None:
        """The bars of `shown` (frequency rows with a count, largest first), built by present.figures.bar_shares."""
        unit = tab.UNIT_LABELS[s.unit]
        labels = frame_labels(s.frame, self.version)
        rows = shown.assign(label=[labels.get(c, c) for c in shown["code"]])
        bars, counts, _top = figures.bar_share_traces(rows, unit=unit, colour=BAR_COLOUR, label_width=30, code_after=True,
                                                      value_labels="count_of")
        pct = shown["_pct"].to_numpy(dtype=float)
        hi = pd.to_numeric(shown["ci_high"], errors="coerce").to_numpy(dtype=float)
        ends = np.where(np.isnan(hi), pct, hi)
        notes = []
        if s.disclosure == "public" and hidden:
            notes.append({"text": f"{hidden} {self._thing(s)}{'s' if hidden != 1 else ''} hidden (c)",
                          "xref": "paper", "yref": "paper", "x": 1, "y": 1.0, "xanchor": "right", "yanchor": "bottom",
                          "showarrow": False, "font": {"size": 11, "color": "#666"}})
        if not len(shown):
            msg = (NOTHING_SHOWN_PUBLIC
                   if s.disclosure == "public" else f"No {self._thing(s)} coded in these reviews")
            notes.append(centre_note(msg))
        with self.bar.batch_update():
            t = self.bar.data[0]
            # One colour per bar, so a clicked bar can be marked. Inside the builder's `marker`, not as a second
            # edit: plotly.js refuses an update that sets marker and marker.color together ("cannot set marker.color
            # and a parent attribute simultaneously"), and the browser kept the previous view's bars.
            set_props(t, {**bars, "marker": {**bars["marker"], "color": [BAR_COLOUR] * len(shown)}})
            self.bar.layout.title.text = self._bar_title(s)
            self.bar.layout.xaxis.title.text = f"% of {tab.UNIT_LABELS[s.unit]} in scope (bars: 95% Wilson interval)"
            top_end = float(np.nanmax(ends)) if len(ends) else 0.0
            self.bar.layout.xaxis.range = [0, min(100.0, top_end) + max(12.0, 0.16 * top_end)]
            self.bar.layout.annotations = notes
            self.bar.layout.height = max(260, 90 + 36 * len(shown))
        # A separate batch: one batch editing two traces sends the first trace's properties to the second too.
        with self.bar.batch_update():
            set_props(self.bar.data[1], counts)


    def draw_year(self, s: Snapshot, trend: pd.DataFrame, wanted: list[str], *, by: str = "year", why: str = "") -> None:
        """The code x year heat map of `trend` for the codes `wanted` (in that order), built by
        present.figures.year_heat_traces. by="period": `trend` is by period ("2008-2012", ...), drawn as
        categories; `why` says why periods.
        """
        present = set(trend["code"])  # once: inside the comprehension it was rebuilt for every code
        codes = [c for c in wanted if c in present]
        cells, hidden, shapes, notes, n_hidden = figures.year_heat_traces(
            trend, codes, y_labels={c: self._ylabel(s, c, 44) for c in codes}, labels=frame_labels(s.frame, self.version),
            by=by, series_breaks=tab.SERIES_BREAKS)
        years = cells["x"]
        if not codes:
            notes.append(centre_note("Nothing to show: no counts above the disclosure threshold"))
        if n_hidden:
            notes.append({"text": f"grey: hidden in public mode ({n_hidden} cells with small numbers)", "xref": "paper",
                          "yref": "paper", "x": 1, "y": 1.0, "xanchor": "right", "yanchor": "bottom", "showarrow": False,
                          "font": {"size": 10, "color": "#666"}})
        thing = "Pattern" if s.frame == "patterns" else "Factor"
        when = "year" if by == "year" else "period"
        title = (f"{thing} × {when}: % of {tab.UNIT_LABELS[s.unit]} each {when}"
                 f"<br><span style='font-size:11px;color:#666'>number in a cell = count; blank = none in scope that {when}"
                 f"{'<br>' + html.escape(why) if why else ''}</span>")
        with self.heat_year.batch_update():
            set_props(self.heat_year.data[0], cells)
            self.heat_year.layout.title.text = title
            if by == "year":
                self.heat_year.layout.xaxis.type = "linear"
                self.heat_year.layout.xaxis.dtick = 1 if len(years) <= 12 else 2
                self.heat_year.layout.xaxis.range = [years[0] - 0.5, years[-1] + 0.5] if years else None
            else:
                self.heat_year.layout.xaxis.type = "category"
                self.heat_year.layout.xaxis.dtick = None
                self.heat_year.layout.xaxis.range = [-0.5, len(years) - 0.5] if years else None
            self.heat_year.layout.xaxis.tickangle = 0
            self.heat_year.layout.margin.t = 96 if why else 70
            self.heat_year.layout.shapes = shapes
            self.year_shapes = shapes
            self.heat_year.layout.annotations = notes
            self.heat_year.layout.height = max(260, 110 + 32 * len(codes))
        with self.heat_year.batch_update():  # a separate batch: see draw_bar
            set_props(self.heat_year.data[1], hidden)

    def draw_pairs(self, s: Snapshot, co: pd.DataFrame, unit: str, wanted: list[str]) -> None:
        """The "found together" heat map of the co-occurrence table `co` (counted in `unit`), rows `wanted`, built by
        present.figures.cooccurrence_count_traces (the reports' co-occurrence maps decide hidden cells the same way)."""
        kind = "patterns" if s.frame == "patterns" else "factor-pattern"
        rows = list(wanted)
        if kind == "patterns":
            cols = list(rows)
        else:
            nb = co.assign(_n=pd.to_numeric(co["n_b"], errors="coerce")).groupby("code_b")["_n"].max()
            cols = list(nb.sort_values(ascending=False, kind="mergesort").head(min(12, s.top)).index)
        la = frame_labels(s.frame, self.version)
        lb = frame_labels("patterns", self.version)
        y = [self._ylabel(s, c, 44) for c in rows]
        # Symmetric pattern x pattern: the columns are the rows again, so their codes suffice (hover gives the words).
        x = list(cols) if kind == "patterns" else [f"{_short(lb.get(c, c), 24)} · {c}" for c in cols]
        cells, hidden, n_hidden = figures.cooccurrence_count_traces(
            co, rows=[(c, la.get(c, c)) for c in rows], columns=[(c, lb.get(c, c)) for c in cols],
            symmetric=kind == "patterns", x=x, y=y)
        unit_label = tab.UNIT_LABELS[unit]
        if kind == "patterns":
            title = f"Patterns found together: number of {unit_label} with both (columns: same patterns, by code)"
        else:
            title = f"Contributory factors behind patterns: number of {unit_label} with both (within episodes)"
        if unit != s.unit:
            title += f" (counted in {unit_label}: co-occurrence counts reviews or episodes)"
        notes = [] if rows else [centre_note("Nothing to show: no counts above the disclosure threshold")]
        if n_hidden:
            notes.append({"text": f"grey: hidden in public mode ({n_hidden} cells)", "xref": "paper", "yref": "paper",
                          "x": 1, "y": 1.0, "xanchor": "right", "yanchor": "bottom", "showarrow": False,
                          "font": {"size": 10, "color": "#666"}})
        with self.heat_pair.batch_update():
            set_props(self.heat_pair.data[0], cells)
            self.heat_pair.layout.title.text = title
            self.heat_pair.layout.xaxis.tickangle = -90 if kind == "patterns" else -40
            self.heat_pair.layout.xaxis.tickfont = {"size": 10}
            self.heat_pair.layout.xaxis.side = "bottom"
            self.heat_pair.layout.xaxis.type = "category"
            self.heat_pair.layout.annotations = notes
            self.heat_pair.layout.shapes = []
            self.heat_pair.layout.height = max(300, 190 + 32 * len(y))
        with self.heat_pair.batch_update():  # a separate batch: see draw_bar
            set_props(self.heat_pair.data[1], hidden)
        self.pair_cols = cols

    def draw_empty(self, s: Snapshot, note: str) -> None:
        """Every figure cleared, with `note` (why there is nothing to draw) in its middle."""
        self.year_shapes = []
        for fig, title in ((self.bar, self._bar_title(s)), (self.heat_year, "By year"), (self.heat_pair, "Together")):
            clear_figure(fig, title, note)

    def draw_refused(self, s: Snapshot, which: str, why: str) -> None:
        """A heat map ("year" or "pair") refused by the release (public mode): cleared, with the reason."""
        if which == "year":
            self.year_shapes = []
        fig, title = (self.heat_year, "By year") if which == "year" else (self.heat_pair, "Together")
        clear_figure(fig, f"{title}: not shown in public mode", wrap_label(f"Not shown: {why}", 90, 14))  # the whole reason

    def highlight(self, code: str | None, bar_codes: list[str], codes: list[str]) -> None:
        """Mark the clicked code in every figure: its bar in red, its row outlined in the heat maps."""
        colours = [BAR_SELECTED if c == code else BAR_COLOUR for c in bar_codes]
        self.bar.data[0].marker.color = colours
        for fig, base in ((self.heat_year, self.year_shapes), (self.heat_pair, [])):
            shapes = list(base)
            if code in codes:
                i = codes.index(code)
                shapes.append({"type": "rect", "xref": "paper", "yref": "y", "x0": 0, "x1": 1, "y0": i - 0.5, "y1": i + 0.5,
                               "line": {"color": BAR_SELECTED, "width": 2}, "fillcolor": "rgba(0,0,0,0)"})
            fig.layout.shapes = shapes



def hidden_share(table: pd.DataFrame, codes: list[str]) -> float:
    """Share of the cells of `codes` with units in scope that public mode shows as c (0 when none)."""
    part = table[table["code"].isin(codes) & (table["denominator"].astype(str) != "0")]
    return float((part["count"].astype(str) == "c").mean()) if len(part) else 0.0


def draw_year_view(charts: Charts, release: SessionRelease, s: Snapshot, codes: list[str],
                   trend: Callable[[], pd.DataFrame], periods: Callable[[], pd.DataFrame]) -> None:
    """The code x year heat map: single years, or in public mode five-year periods when single years would be mostly
    hidden (or are refused). Each table is asked `tentatively`: only the one drawn joins the release."""
    with release.tentatively(s.disclosure, s.description) as keep:
        by_year_table = refusable(s.refused, "trend", trend)
        by_year = hidden_share(by_year_table, codes) if by_year_table is not None else 1.0
        try_periods = s.disclosure == "public" and by_year > 0.5
        if by_year_table is not None and not try_periods:
            keep()
    if try_periods:
        # Mostly c by single year, or refused by the release (the totals shown on the bars would give thin years
        # away): periods of five years, when they hide less.
        with release.tentatively(s.disclosure, s.description) as keep:
            by_period_table = refusable(s.refused, "trend_periods", periods)
            by_period = hidden_share(by_period_table, codes) if by_period_table is not None else 1.0
            use_periods = by_period_table is not None and (by_year_table is None or by_period < by_year)
            if use_periods:
                keep()
        if use_periods and by_period_table is not None:
            s.tables["trend_periods"] = by_period_table
            why = (f"Five-year periods: by single year {by_year:.0%} of these cells would be hidden (c) in public mode; "
                   f"by period {by_period:.0%}." if by_year_table is not None else
                   "Five-year periods: single years cannot be shown beside the totals on the bars without giving small "
                   "numbers away (see the Table's 'By year' view).")
            charts.draw_year(s, by_period_table, codes, by="period", why=why)
            return
        if by_year_table is not None:  # single years after all: published now, the same table (the release is as before)
            by_year_table = refusable(s.refused, "trend", trend)
    if by_year_table is None:
        charts.draw_refused(s, "year", s.refused["trend"])
        return
    s.tables["trend"] = by_year_table
    charts.draw_year(s, by_year_table, codes)

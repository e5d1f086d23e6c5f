"""Interactive explorer for JupyterLab: pick a place and a period, see which patterns recur, click through.

Why: researchers and analysts preparing a board paper want to slice the corpus themselves without
writing code. Every number shown comes from `lt_workbench.analysis.tabulate` (the same functions as the CLI);
this module only orchestrates: it turns widget values into `where=` filters, calls tabulate, and puts
the tables into plotly `FigureWidget`s and HTML. Nothing here counts.

Pieces, usable on their own:

- `FilterPanel`: the filters (place, period, review type, trigger, child's age, direction, frame and
  depth, counting unit, disclosure mode); `.where` gives the mapping tabulate takes.
- `PatternPicker`: choose codes of a frame by their plain-words labels.
- `DownloadButton`: a one-click download of bytes made in Python (JupyterLab-safe: no data URIs in
  the notebook, no JavaScript output; the file is built only when clicked).
- `Explorer`: all of it together, with linked figures, a recurrence table and the evidence drill-down.

Updates are debounced on the kernel's event loop (a generation counter drops superseded work), run
in short stages so the kernel stays responsive, and fall back to a plain synchronous refresh when no
event loop is running (scripts, tests).
"""

from __future__ import annotations

import asyncio
import html
import io
import math
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence

import anywidget
import duckdb
import ipywidgets as widgets
import numpy as np
import pandas as pd
import plotly.graph_objects as go
import traitlets

from lt_workbench.analysis import tabulate as tab
from lt_workbench.config import DEFAULT_DB, DEFAULT_TAXONOMY_VERSION
from lt_workbench.model.db import connect
from lt_workbench.model.frames import labels as frame_labels
from lt_workbench.model.frames import taxonomy_frame
from lt_workbench.present.tables import render as render_table

__all__ = [
    "ANY",
    "FRAME_CHOICES",
    "FilterPanel",
    "PatternPicker",
    "DownloadButton",
    "Explorer",
    "EvidenceTarget",
    "scope_options",
]

ANY = ""  # the "any value" choice of a dropdown; never reaches tabulate
# Frames the explorer can show: both have recurrence, trend, co-occurrence and evidence in tabulate.
FRAME_CHOICES: dict[str, str] = {"patterns": "Patterns", "factors": "Contributory factors"}
_DEPTH_LABELS = {
    "patterns": {1: "1 · broad group (P2)", 2: "2 · pattern (P2.1)", 3: "3 · sub-pattern (P2.1.1)"},
    "factors": {1: "1 · level (front-line, local, national)", 2: "2 · factor type", 3: "3 · factor"},
}
# The coding attribute each frame can be filtered by: (dimension, label, vocabulary frame).
_QUALIFIER = {"patterns": ("direction", "Direction", "direction"), "factors": ("influence", "Influence", "influence")}
_THING = {"patterns": "pattern", "factors": "factor"}
_TABLE_VIEWS = {
    "recurrence": "Recurrence",
    "frequency": "Counts",
    "trend": "By year",
    "cooccurrence": "Co-occurrence",
    "evidence": "Evidence",
}
_BAR_COLOUR = "#4f7cac"
_BAR_SELECTED = "#c0392b"


def _running_loop() -> asyncio.AbstractEventLoop | None:
    """The event loop running this callback (ipykernel runs one), or None in a plain script."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _short(text: str, width: int = 52) -> str:
    """Shorten a frame label for an axis; the full label stays in the hover text."""
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 1].rstrip(" ,;:–-") + "…"


def _num(value: Any) -> float:
    """A table value as a number; GSS symbols (c, z, :) and missing values become NaN."""
    try:
        out = float(value)
    except (TypeError, ValueError):
        return math.nan
    return out


def _fmt(value: Any, digits: int = 1) -> str:
    """Display text: numbers rounded, symbols (c, z, :) as they are, missing as blank."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else ""
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    if isinstance(value, (float, np.floating)):
        if float(value).is_integer() and digits == 0:
            return f"{int(value):,}"
        return f"{float(value):,.{digits}f}"
    return str(value)


def _sig(value: Any) -> str:
    """Statistics (odds ratio, q) to 3 significant figures; symbols pass through."""
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        v = float(value)
        if math.isnan(v):
            return ""
        if math.isinf(v):
            return "∞"
        return f"{v:.3g}"
    return _fmt(value)


# --------------------------------------------------------------------------------------------
# What the database holds, for the filter choices


@dataclass(frozen=True)
class _ScopeOptions:
    """Values present in the database that the frames cannot tell: years and areas."""

    year_min: int
    year_max: int
    areas: pd.DataFrame  # area_code, area_name, region, nation


def scope_options(con: duckdb.DuckDBPyConnection) -> _ScopeOptions:
    """Years and areas in the database, to fill the filter choices (reads the documented stg_reviews view)."""
    years = con.execute("SELECT min(year_completed), max(year_completed) FROM stg_reviews").fetchall()[0]
    areas = con.execute(
        "SELECT area_code, any_value(area_name) AS area_name, any_value(region) AS region, any_value(nation) AS nation "
        "FROM stg_reviews GROUP BY area_code ORDER BY area_name"
    ).df()
    lo, hi = years
    if lo is None:
        lo = hi = 2008
    return _ScopeOptions(int(lo), int(hi), areas)


def _vocab(frame: str, version: str) -> list[tuple[str, str]]:
    """(label, code) of a flat frame in the frame's own order: plain words in the dropdowns."""
    return [(label, code) for code, label in frame_labels(frame, version).items()]


# --------------------------------------------------------------------------------------------
# PatternPicker


class PatternPicker(widgets.SelectMultiple):
    """Choose codes of a frame by their labels ("Resource–demand mismatch · P2.1"), in frame order.

    Why: codes alone mean nothing to most readers; the frames carry the words. `value` holds codes.
    """

    def __init__(
        self,
        frame: str = "patterns",
        level: int | None = 2,
        *,
        version: str = DEFAULT_TAXONOMY_VERSION,
        **kwargs: Any,
    ) -> None:
        self.version = version
        self.frame = frame
        self.level = level
        kwargs.setdefault("rows", 6)
        kwargs.setdefault("description", "Pin")
        kwargs.setdefault("layout", widgets.Layout(width="100%"))
        kwargs.setdefault("style", {"description_width": "40px"})
        super().__init__(options=self.choices(frame, level, version), **kwargs)

    @staticmethod
    def choices(frame: str, level: int | None, version: str = DEFAULT_TAXONOMY_VERSION) -> list[tuple[str, str]]:
        """(shown text, code) for every code of `frame` at `level` (all levels when None, indented by depth)."""
        t = taxonomy_frame(version)
        rows = t[t["frame"] == frame]
        if level is not None:
            rows = rows[rows["depth"] == level]
        indent = "\u2003"
        return [
            ((indent * (int(r.depth) - 1) if level is None else "") + f"{r.label} · {r.code}", str(r.code))
            for r in rows.itertuples()
        ]

    def set_frame(self, frame: str, level: int | None) -> None:
        """Show another frame or depth, keeping the chosen codes that still exist."""
        keep = [c for c in self.value]
        self.frame, self.level = frame, level
        opts = self.choices(frame, level, self.version)
        valid = {c for _, c in opts}
        self.value = ()
        self.options = opts
        self.value = tuple(c for c in keep if c in valid)

    def label_of(self, code: str) -> str:
        """The plain-words label of a code of this picker's frame."""
        return frame_labels(self.frame, self.version).get(code, code)


# --------------------------------------------------------------------------------------------
# FilterPanel


class FilterPanel(widgets.VBox):
    """The explorer's filters as one widget: `.where` is the mapping `tabulate` takes.

    Why a separate widget: the same filters serve other views (a report preview, a funnel plot), and
    keeping the translation widget -> where in one place keeps every view's numbers comparable.
    Dropdowns show labels from the frames; their values are codes. Changing the nation narrows the
    regions, and the region narrows the areas. `on_change(callback)` is called once per user change.
    """

    def __init__(
        self,
        *,
        con: duckdb.DuckDBPyConnection | None = None,
        db: str | Path | None = None,
        options: _ScopeOptions | None = None,
        frame: str = "patterns",
        level: int = 2,
        unit: str = "review",
        disclosure: str = "public",
        version: str = DEFAULT_TAXONOMY_VERSION,
    ) -> None:
        if options is None:
            if con is not None:
                options = scope_options(con)
            else:
                c = connect(db, read_only=True)
                try:
                    options = scope_options(c)
                finally:
                    c.close()
        if frame not in FRAME_CHOICES:
            raise ValueError(f"frame must be one of {', '.join(FRAME_CHOICES)}, got {frame!r}")
        if disclosure not in ("public", "restricted"):
            raise ValueError(f"disclosure must be 'public' or 'restricted', got {disclosure!r}")
        self.version = version
        self.scope = options
        self._callbacks: list[Callable[[], None]] = []
        self._hold = 0
        self._pending = False
        t = taxonomy_frame(version)
        regions = t[t["frame"] == "region"]
        self._region_nation = dict(zip(regions["code"], regions["parent"]))

        style = {"description_width": "92px"}
        wide = widgets.Layout(width="auto", min_width="220px")

        def dropdown(description: str, choices: list[tuple[str, str]], value: str = ANY, tooltip: str = "") -> widgets.Dropdown:
            return widgets.Dropdown(description=description, options=[("Any", ANY), *choices], value=value,
                                    style=style, layout=wide, tooltip=tooltip or description)

        self.frame = widgets.Dropdown(description="Frame", options=[(v, k) for k, v in FRAME_CHOICES.items()], value=frame,
                                      style=style, layout=wide)
        self.level = widgets.Dropdown(description="Depth", options=self._level_choices(frame), value=level, style=style, layout=wide)
        self.unit = widgets.Dropdown(
            description="Count",
            options=[(f"{tab.UNIT_LABELS[u]}", u) for u in tab.UNITS],
            value=unit, style=style, layout=wide,
            tooltip="Counting unit: a review counts once per code however often it was coded",
        )
        self.disclosure = widgets.ToggleButtons(
            description="Disclosure",
            options=[("Public", "public"), ("Restricted", "restricted")],
            value=disclosure,
            tooltips=["Small counts hidden (c): safe to share", "Full numbers and the evidence: secure environment only"],
            style={"description_width": "74px", "button_width": "92px"},
            layout=wide,
        )
        self.nation = dropdown("Nation", _vocab("nation", version))
        self.region = dropdown("Region", _vocab("region", version))
        self.area = dropdown("Area", self._area_choices(ANY, ANY))
        self.years = widgets.IntRangeSlider(
            description="Years", min=options.year_min, max=options.year_max, value=(options.year_min, options.year_max),
            step=1, continuous_update=False, style=style, tooltip="Year the review was completed",
            layout=widgets.Layout(width="auto"),
        )
        self.years.add_class("ltw-years")  # spans two grid columns (see _STYLE): a year slider needs room
        self.review_type = dropdown("Review type", _vocab("review_type", version))
        self.trigger = dropdown("Trigger", _vocab("trigger_reason", version))
        self.age_band = dropdown("Child's age", _vocab("age_band", version), tooltip="Reviews about a child in this age band")
        qdim, qlabel, qvocab = _QUALIFIER[frame]
        self.direction = dropdown(qlabel, _vocab(qvocab, version))

        self.controls: dict[str, widgets.Widget] = {
            "frame": self.frame, "level": self.level, "unit": self.unit, "disclosure": self.disclosure,
            "nation": self.nation, "region": self.region, "area": self.area, "review_type": self.review_type,
            "years": self.years, "trigger": self.trigger, "age_band": self.age_band, "direction": self.direction,
        }
        self.extra: list[widgets.Widget] = []  # other controls shown in the grid (the explorer adds "Show top")
        for name, w in self.controls.items():
            w.observe(self._changed(name), names="value")
        self.grid = widgets.GridBox(
            list(self.controls.values()),
            layout=widgets.Layout(grid_template_columns="repeat(4, minmax(250px, 1fr))", grid_gap="4px 14px", width="100%"),
        )
        super().__init__([self.grid], layout=widgets.Layout(width="100%"))
        self.add_class("ltw-filters")

    # ---- choices that depend on other choices
    def _level_choices(self, frame: str) -> list[tuple[str, int]]:
        return [(text, lvl) for lvl, text in _DEPTH_LABELS[frame].items()]

    def _area_choices(self, nation: str, region: str) -> list[tuple[str, str]]:
        a = self.scope.areas
        if region:
            a = a[a["region"] == region]
        elif nation:
            a = a[a["nation"] == nation]
        return [(str(name), str(code)) for code, name in zip(a["area_code"], a["area_name"])]

    @contextmanager
    def hold(self) -> Iterator[None]:
        """Change several values with one notification at the end (used by cascades and `set`)."""
        self._hold += 1
        try:
            yield
        finally:
            self._hold -= 1
            if self._hold == 0 and self._pending:
                self._pending = False
                self._notify()

    def _changed(self, name: str) -> Callable[[dict], None]:
        def handler(change: dict) -> None:
            with self.hold():
                self._cascade(name)
                self._pending = True

        return handler

    def _cascade(self, name: str) -> None:
        if name == "frame":
            frame = self.frame.value
            level = self.level.value
            self.level.options = self._level_choices(frame)
            self.level.value = level if level in _DEPTH_LABELS[frame] else 2
            qdim, qlabel, qvocab = _QUALIFIER[frame]
            self.direction.description = qlabel
            self.direction.options = [("Any", ANY), *_vocab(qvocab, self.version)]
            self.direction.value = ANY
        elif name == "nation":
            nation = self.nation.value
            regions = [(lab, code) for lab, code in _vocab("region", self.version)
                       if not nation or self._region_nation.get(code) == nation]
            current = self.region.value
            self.region.options = [("Any", ANY), *regions]
            self.region.value = current if current in {c for _, c in regions} else ANY
            self._refresh_areas()
        elif name == "region":
            self._refresh_areas()

    def _refresh_areas(self) -> None:
        current = self.area.value
        choices = self._area_choices(self.nation.value, self.region.value)
        self.area.options = [("Any", ANY), *choices]
        self.area.value = current if current in {c for _, c in choices} else ANY

    def _notify(self) -> None:
        for cb in list(self._callbacks):
            cb()

    def add_control(self, widget: widgets.Widget) -> None:
        """Show another control in the filter grid (its changes are the caller's to observe)."""
        self.extra.append(widget)
        self.grid.children = [*self.grid.children, widget]

    def on_change(self, callback: Callable[[], None]) -> None:
        """Call `callback()` after each change of the filters (once per user action)."""
        self._callbacks.append(callback)

    def set(self, **values: Any) -> None:
        """Set several filters at once (names as in `controls`; years as (first, last)); one notification."""
        unknown = set(values) - set(self.controls)
        if unknown:
            raise ValueError(f"unknown filter(s) {sorted(unknown)}: filters are {', '.join(self.controls)}")
        order = ["frame", "level", "nation", "region", "area"]
        with self.hold():
            for name in sorted(values, key=lambda n: order.index(n) if n in order else len(order)):
                value = values[name]
                if name == "years":
                    value = tuple(int(v) for v in value)
                elif value is None:
                    value = ANY
                self.controls[name].value = value

    # ---- what tabulate gets
    @property
    def frame_name(self) -> str:
        return str(self.frame.value)

    @property
    def where(self) -> dict[str, Any]:
        """Filters as tabulate's `where` mapping (only the ones set)."""
        w = self.scope_where
        if self.direction.value:
            w[_QUALIFIER[self.frame_name][0]] = self.direction.value
        return w

    @property
    def scope_where(self) -> dict[str, Any]:
        """Filters that select reviews (everything except the coding attribute direction/influence)."""
        w: dict[str, Any] = {}
        for name in ("nation", "region", "area", "review_type", "trigger", "age_band"):
            value = self.controls[name].value
            if value:
                w[name] = value
        lo, hi = self.years.value
        if (lo, hi) != (self.years.min, self.years.max):
            w["year"] = range(int(lo), int(hi) + 1)
        return w

    def describe(self, *, public: bool | None = None) -> str:
        """The filters in plain words, e.g. "North West · 2015–2025 · unsafe". Public: area not named."""
        if public is None:
            public = self.disclosure.value == "public"
        def shown(name: str) -> str | None:
            w = self.controls[name]
            if not w.value:
                return None
            if name == "area" and public:
                return "one area (not named in public output)"
            label = dict((code, lab) for lab, code in w.options).get(w.value, w.value)
            return {"age_band": "child aged ", "trigger": "trigger: "}.get(name, "") + str(label)

        lo, hi = self.years.value
        place = [b for b in map(shown, ("nation", "region", "area")) if b]
        other = [b for b in map(shown, ("review_type", "trigger", "age_band", "direction")) if b]
        return " · ".join([*place, f"{lo}–{hi}" if lo != hi else f"{lo}", *other])


# --------------------------------------------------------------------------------------------
# DownloadButton


_DOWNLOAD_ESM = """
function render({ model, el }) {
  const btn = document.createElement("button");
  btn.className = "jupyter-widgets jupyter-button widget-button lt-download";
  const sync = () => {
    btn.textContent = model.get("label");
    btn.title = model.get("hint");
    btn.disabled = model.get("disabled");
  };
  sync();
  model.on("change:label", sync);
  model.on("change:disabled", sync);
  model.on("change:hint", sync);
  btn.addEventListener("click", () => {
    btn.disabled = true;
    btn.textContent = "Preparing…";
    model.send({ event: "download" });
  });
  model.on("msg:custom", (msg, buffers) => {
    sync();
    if (!msg || msg.event !== "file") {
      if (msg && msg.event === "error") { btn.textContent = "Could not build the file"; btn.title = msg.message; }
      return;
    }
    const blob = new Blob(buffers || [], { type: msg.mime });
    const url = URL.createObjectURL(blob);
    const a = document.createElement("a");
    a.href = url;
    a.download = msg.filename;
    a.style.display = "none";
    document.body.appendChild(a);
    a.click();
    setTimeout(() => { URL.revokeObjectURL(url); a.remove(); }, 2000);
  });
  el.appendChild(btn);
}
export default { render };
"""

_DOWNLOAD_CSS = """
.lt-download { min-width: 150px; margin: 2px 6px 2px 0; }
"""


class DownloadButton(anywidget.AnyWidget):
    """A button that downloads bytes built in Python at the moment it is clicked.

    Why not a data-URI link: that would rebuild and ship every file on every filter change, and
    JupyterLab sanitises links and scripts in outputs. Here the browser asks, the kernel builds the
    file (`producer() -> (filename, mime type, bytes)`) and sends it as a binary buffer, and the
    browser saves it. `payload()` gives the same bytes to Python callers and tests.
    """

    _esm = _DOWNLOAD_ESM
    _css = _DOWNLOAD_CSS
    label = traitlets.Unicode("Download").tag(sync=True)
    # Hover text. Not DOMWidget's `tooltip`: setting that on an anywidget stops its view from rendering.
    hint = traitlets.Unicode("").tag(sync=True)
    disabled = traitlets.Bool(False).tag(sync=True)

    def __init__(self, producer: Callable[[], tuple[str, str, bytes]], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._producer = producer
        self.on_msg(self._on_message)

    def payload(self) -> tuple[str, str, bytes]:
        """(filename, mime type, bytes) as a click would download them."""
        return self._producer()

    def _on_message(self, _widget: Any, content: Mapping[str, Any], _buffers: Sequence[Any]) -> None:
        if not isinstance(content, Mapping) or content.get("event") != "download":
            return
        try:
            filename, mime, data = self._producer()
        except Exception as e:  # shown on the button; the kernel keeps running
            self.send({"event": "error", "message": f"could not build the file: {e}"})
            return
        self.send({"event": "file", "filename": filename, "mime": mime}, buffers=[data])


# --------------------------------------------------------------------------------------------
# Explorer


@dataclass(frozen=True)
class EvidenceTarget:
    """What was clicked: a code, optionally one year, optionally the code it co-occurs with."""

    code: str
    year: int | None = None
    with_code: str | None = None


@dataclass
class _Snapshot:
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


_STYLE = """
<style>
.ltw-root { font-size: 13px; }
.ltw-root h3 { margin: 4px 0 2px 0; }
.ltw-status { padding: 6px 10px; border-radius: 4px; background: #f3f6fa; border-left: 4px solid #4f7cac; margin: 4px 0; }
.ltw-status.ltw-empty { background: #fdf2e9; border-left-color: #d35400; }
.ltw-status.ltw-error { background: #fdecea; border-left-color: #c0392b; }
.ltw-status.ltw-busy { opacity: 0.55; }
.ltw-evidence { position: sticky; top: 0; align-self: flex-start; max-height: min(92vh, 1100px); overflow-y: auto;
                border-left: 1px solid #dde3ea; padding-left: 12px; }
/* Sticky needs every box between the panel and the notebook's scroller to let it overflow. */
.jp-OutputArea-output:has(> .ltw-root), .jp-OutputArea-child:has(.ltw-root),
.jp-OutputArea:has(.ltw-root) { overflow: visible !important; }
.ltw-root, .ltw-root .ltw-main { overflow: visible !important; }
.ltw-root .ltw-years { grid-column: span 2; }
.ltw-root .widget-hslider .widget-readout { min-width: 96px; overflow: visible; }
.ltw-table { border-collapse: collapse; width: 100%; font-size: 12px; }
.ltw-table th { text-align: left; background: #eef2f7; padding: 3px 6px; position: sticky; top: 0; }
.ltw-table td { padding: 2px 6px; border-top: 1px solid #eef0f3; vertical-align: top; }
.ltw-table td.n { text-align: right; font-variant-numeric: tabular-nums; }
.ltw-table tr.ltw-hidden td { color: #888; }
.ltw-note { color: #555; font-size: 12px; margin: 2px 0 6px 0; }
.ltw-ev-review { margin: 8px 0 10px 0; padding-bottom: 6px; border-bottom: 1px solid #eee; }
.ltw-ev-finding { margin: 4px 0 2px 0; }
.ltw-ev-episode { margin: 2px 0 2px 14px; color: #333; }
.ltw-ev-factors { margin: 0 0 2px 14px; color: #666; font-size: 12px; }
.ltw-tag { display: inline-block; padding: 0 5px; border-radius: 3px; font-size: 11px; background: #eef2f7; margin-right: 4px; }
.ltw-tag.unsafe, .ltw-tag.problematic { background: #fdecea; }
.ltw-tag.constructive, .ltw-tag.good { background: #e8f6ee; }
.ltw-table-box { max-height: 420px; overflow: auto; }
</style>
"""


class Explorer(widgets.VBox):
    """Filters, linked figures, a recurrence table and the evidence behind any number, in one widget.

    Why: "which patterns recur most in the North West since 2015, and what happened in those
    episodes?" should be a few clicks, not a script. The numbers are tabulate's; public mode shows
    them through disclosure control and never shows what reviewers wrote.

    `Explorer(db=None)` opens the default database read-only (close() releases it). `debounce` is the
    pause, in seconds, after a change before recomputing; 0 recomputes at once.
    """

    def __init__(
        self,
        db: str | Path | None = None,
        *,
        con: duckdb.DuckDBPyConnection | None = None,
        disclosure: str = "public",
        profile: str = "dfe",
        threshold: int | None = None,
        frame: str = "patterns",
        level: int = 2,
        unit: str = "review",
        top: int = 15,
        debounce: float = 0.25,
        version: str = DEFAULT_TAXONOMY_VERSION,
    ) -> None:
        self.db_path = Path(db) if db is not None else DEFAULT_DB
        self._own_con = con is None
        if con is None:
            # Through tabulate once, so a database loaded before the derived tables existed gets them.
            tab.frequency("nation", db=self.db_path)
            con = connect(self.db_path, read_only=True)
        self.con = con
        self.profile = profile
        self.threshold = threshold
        self.version = version
        self.debounce = float(debounce)
        self._generation = 0
        self._handle: asyncio.TimerHandle | None = None
        self._snap: _Snapshot | None = None
        self._year_shapes: list[dict[str, Any]] = []  # the series-break marks, kept under any row highlight
        self.tables: dict[str, pd.DataFrame] = {}
        self.codes: list[str] = []  # codes in the heat maps, in their order
        self.bar_codes: list[str] = []  # codes of the bars, top first
        self.in_scope: int | str = 0  # units in scope, as shown (public mode: possibly rounded, or "c")
        self.empty = False  # True when the filters leave nothing to count
        self.message: str = ""
        self.evidence_target: EvidenceTarget | None = None
        self.evidence_table: pd.DataFrame | None = None
        self.last_error: BaseException | None = None
        self.refresh_count = 0  # refreshes started (for tests and the benchmark)
        self.debounced_count = 0  # of which ran from the event loop after the debounce pause
        self._picker_quiet = False
        # Home: the thread (and its event loop) the explorer was made on, where all its work runs.
        self._home_thread = threading.get_ident()
        self._loop = _running_loop()
        self._lock = threading.RLock()  # one user of the DuckDB connection at a time

        self.filters = FilterPanel(con=con, frame=frame, level=level, unit=unit, disclosure=disclosure, version=version)
        self.picker = PatternPicker(frame, level, version=version, rows=7,
                                    description="", layout=widgets.Layout(width="100%"))
        self.top = widgets.IntSlider(description="Show top", value=top, min=3, max=30, continuous_update=False,
                                     style={"description_width": "92px"}, layout=widgets.Layout(width="auto"))
        self.filters.add_control(self.top)
        self.clear_pins = widgets.Button(description="Clear pins", layout=widgets.Layout(width="110px"),
                                         tooltip="Back to the top patterns by count")
        self.status = widgets.HTML()
        self.bar = go.FigureWidget(layout=self._bar_layout())
        self.bar.add_bar(x=[], y=[], orientation="h", marker_color=_BAR_COLOUR, name="share")
        # "17 of 32" beside each bar, past the whisker, where it is legible whatever the bar's length.
        self.bar.add_scatter(x=[], y=[], mode="text", textposition="middle right", hoverinfo="skip", name="counts",
                             textfont={"size": 11, "color": "#333"})
        self.heat_year = go.FigureWidget(layout=self._heat_layout("By year"))
        self.heat_year.add_heatmap(z=[[]], x=[], y=[], colorscale="Blues", zmin=0, name="by year",
                                   colorbar={"title": {"text": "%"}, "thickness": 12})
        self.heat_pair = go.FigureWidget(layout=self._heat_layout("Together"))
        self.heat_pair.add_heatmap(z=[[]], x=[], y=[], colorscale="Purples", zmin=0, name="together",
                                   colorbar={"title": {"text": "n"}, "thickness": 12})
        for fig in (self.heat_year, self.heat_pair):
            # Cells hidden by disclosure control: grey, marked "c", so a gap never reads as "none".
            fig.add_heatmap(z=[[]], x=[], y=[], colorscale=[[0, "#e9ecef"], [1, "#e9ecef"]], showscale=False,
                            name="hidden", texttemplate="%{text}", textfont={"size": 10, "color": "#666"},
                            hovertemplate="%{y}<br>%{x}: hidden in public mode (%{text})<extra></extra>", hoverongaps=False)
        self.bar.data[0].on_click(self._on_bar_click)
        self.bar.data[1].on_click(self._on_bar_click)  # a click on "17 of 32" means the same bar
        for i in (0, 1):
            self.heat_year.data[i].on_click(self._on_year_click)
            self.heat_pair.data[i].on_click(self._on_pair_click)

        self.table_view = widgets.ToggleButtons(
            options=[(v, k) for k, v in _TABLE_VIEWS.items() if k != "evidence"], value="recurrence",
            style={"button_width": "118px"},
        )
        self.table_note = widgets.HTML()
        self.table_html = widgets.HTML(layout=widgets.Layout(width="100%"))
        self.table_html.add_class("ltw-table-box")
        self.csv_button = DownloadButton(self._csv_payload, label="Download CSV", hint="The table shown, as CSV")
        self.xlsx_button = DownloadButton(self._xlsx_payload, label="Download Excel",
                                          hint="The table shown, with a sheet saying what it counts")
        self.evidence_html = widgets.HTML()

        self.filters.on_change(lambda: self._dispatch(self._on_filters))
        self.top.observe(lambda _c: self._dispatch(self._schedule), names="value")
        self.picker.observe(lambda _c: self._dispatch(self._schedule), names="value")
        self.clear_pins.on_click(lambda _b: setattr(self.picker, "value", ()))
        self.table_view.observe(lambda _c: self._dispatch(self._render_table), names="value")

        pins = widgets.Accordion(
            [widgets.VBox([widgets.HTML("<div class='ltw-note'>Choose patterns to compare in the heat maps "
                                        "(none chosen: the top ones by count).</div>"),
                           self.picker, self.clear_pins])],
            selected_index=None,
        )
        pins.set_title(0, "Pin patterns to compare")
        figures = widgets.VBox([self.bar, self.heat_year, self.heat_pair], layout=widgets.Layout(flex="3 1 0%", min_width="0"))
        evidence_box = widgets.VBox([widgets.HTML("<h3>Evidence</h3>"), self.evidence_html],
                                    layout=widgets.Layout(flex="2 1 0%", min_width="300px"))
        evidence_box.add_class("ltw-evidence")
        main = widgets.HBox([figures, evidence_box], layout=widgets.Layout(width="100%", align_items="flex-start", overflow="visible"))
        main.add_class("ltw-main")
        table_bar = widgets.HBox([self.table_view, self.csv_button, self.xlsx_button],
                                 layout=widgets.Layout(flex_flow="row wrap", align_items="center"))
        super().__init__(
            [
                widgets.HTML(_STYLE + "<h3>Which patterns recur, where and when</h3>"
                             "<div class='ltw-note'>Set the filters; click a bar or a heat-map cell to read what "
                             "reviewers wrote behind that number (restricted mode).</div>"),
                self.filters,
                pins,
                self.status,
                main,
                widgets.HTML("<h3>Table</h3>"),
                table_bar,
                self.table_note,
                self.table_html,
            ],
            layout=widgets.Layout(width="100%"),
        )
        self.add_class("ltw-root")
        self._evidence_hint()
        self.refresh()

    # ---- lifecycle
    def close(self) -> None:
        """Release the database (the explorer holds a read-only connection) and close the widgets.

        Also called by ipywidgets when an explorer whose construction failed (bad arguments) is
        collected, so it uses only what was set.
        """
        if getattr(self, "_handle", None) is not None:
            self._handle.cancel()
        if getattr(self, "_own_con", False) and getattr(self, "con", None) is not None:
            try:
                self.con.close()
            except duckdb.Error:
                pass
        super().close()

    # ---- scheduling: one home thread, debounce on the kernel's loop, stages, generation counter
    def _dispatch(self, fn: Callable[[], None]) -> None:
        """Run `fn` on the explorer's home thread, in order with the refresh stages.

        Why: ipykernel 7 may deliver some widget messages (plotly's clicks, for one) on a subshell
        thread. The DuckDB connection must not be used from two threads at once, and a click must be
        answered with the filters the user saw, so that work is queued onto the home event loop.
        """
        if threading.get_ident() == self._home_thread:
            if self._loop is None:
                self._loop = _running_loop()
            fn()
            return
        loop = self._loop
        if loop is not None and loop.is_running():
            loop.call_soon_threadsafe(fn)
        else:
            with self._lock:
                fn()

    def _on_filters(self) -> None:
        frame, level = self.filters.frame_name, int(self.filters.level.value)
        if (self.picker.frame, self.picker.level) != (frame, level):
            self._quiet_picker(frame, level)
        self._schedule()

    def _quiet_picker(self, frame: str, level: int) -> None:
        # Changing the picker's options would schedule a second refresh; the filter change already does.
        self._picker_quiet = True
        try:
            self.picker.set_frame(frame, level)
        finally:
            self._picker_quiet = False
        # Home: the thread (and its event loop) the explorer was made on, where all its work runs.
        self._home_thread = threading.get_ident()
        self._loop = _running_loop()
        self._lock = threading.RLock()  # one user of the DuckDB connection at a time

    def _schedule(self) -> None:
        """Recompute after a pause (coalescing rapid changes), or at once when no event loop runs."""
        if self._picker_quiet:
            return
        self._generation += 1
        loop = _running_loop()
        if loop is None or self.debounce <= 0:
            self.refresh()
            return
        if self._handle is not None:
            self._handle.cancel()
        self._busy()
        self._handle = loop.call_later(self.debounce, self._start, self._generation, loop)

    def _start(self, generation: int, loop: asyncio.AbstractEventLoop) -> None:
        self._handle = None
        if generation != self._generation:
            return
        self.debounced_count += 1
        stages = self._stages()

        def step(i: int) -> None:
            if generation != self._generation:
                return  # a newer change arrived: its own refresh will draw
            try:
                with self._lock:
                    stages[i]()
            except Exception as e:  # shown in the widget; the kernel keeps running
                self._show_error(e)
                return
            if i + 1 < len(stages):
                loop.call_soon(step, i + 1)  # let the kernel read messages between stages

        step(0)

    def refresh(self) -> None:
        """Recompute everything from the current filters, now (synchronously)."""
        self._generation += 1
        try:
            with self._lock:
                for stage in self._stages():
                    stage()
        except Exception as e:
            self._show_error(e)
            raise

    def _stages(self) -> list[Callable[[], None]]:
        return [self._stage_scope_and_bar, self._stage_year, self._stage_pairs, self._stage_table]

    # ---- stage 1: scope, bar chart
    def _snapshot(self) -> _Snapshot:
        f = self.filters
        return _Snapshot(
            frame=f.frame_name, level=int(f.level.value), unit=str(f.unit.value), disclosure=str(f.disclosure.value),
            where=f.where, scope_where=f.scope_where, description=f.describe(), pinned=tuple(self.picker.value),
            top=int(self.top.value),
        )

    def _kw(self, s: _Snapshot) -> dict[str, Any]:
        return {"con": self.con, "disclosure": s.disclosure, "profile": self.profile, "threshold": self.threshold,
                "version": self.version}

    def _stage_scope_and_bar(self) -> None:
        s = self._snapshot()
        self._snap = s
        self.refresh_count += 1
        self.last_error = None
        if self.evidence_target is not None:
            self.evidence_html.value = ("<div class='ltw-note'>Filters changed. Click a bar or a heat-map cell to see the "
                                        "findings and episodes behind that number.</div>")
        self.evidence_target = None
        self.evidence_table = None
        self._set_table_views(evidence=False)
        freq = tab.frequency(s.frame, level=s.level, unit=s.unit, where=s.where, **self._kw(s))
        # The denominator is the number of units in scope (the same on every row: no `by`). As shown: in
        # public mode it may be rounded or "c"; a 0 is a true zero, so "nothing in scope" is always exact.
        dens = pd.to_numeric(freq["denominator"], errors="coerce")
        self.empty = bool(len(freq)) and bool((dens.fillna(1) == 0).all())
        self.in_scope = freq["denominator"].iloc[0] if len(freq) else 0
        if self.empty:
            self._show_empty(s)
            return
        s.tables["frequency"] = freq
        self.tables = s.tables
        counts = pd.to_numeric(freq["count"], errors="coerce")
        shown = freq.assign(_n=counts, _pct=pd.to_numeric(freq["percent"], errors="coerce"))
        shown = shown[shown["_n"].notna() & (shown["_n"] > 0) & shown["_pct"].notna()]
        shown = shown.sort_values("_n", ascending=False, kind="mergesort").head(s.top)
        hidden = int((freq["suppressed"].astype(bool)).sum()) if "suppressed" in freq else 0
        self.bar_codes = list(shown["code"])
        self.codes = list(s.pinned) if s.pinned else list(self.bar_codes)
        self._draw_bar(s, shown, hidden)
        self._set_status(s, freq)

    def _set_status(self, s: _Snapshot, freq: pd.DataFrame) -> None:
        thr = freq.attrs.get("threshold")
        unit = tab.UNIT_LABELS[s.unit]
        n = _num(self.in_scope)
        if math.isnan(n):
            reviews = f"fewer than {thr} {unit}" if thr else f"{self.in_scope} {unit}"
        else:
            reviews = f"{int(n):,} {unit if n != 1 else unit.rstrip('s')}"
        if s.disclosure == "public":
            mode = (f"<b>Public</b>: counts below {thr} shown as <i>c</i> (and others where needed so they cannot be "
                    "worked out); evidence hidden.")
        else:
            mode = ("<b>Restricted</b>: full numbers and what reviewers wrote; not for publication — keep inside the "
                    "secure environment.")
        self.message = f"{reviews} in scope · {s.description} · counting {unit}"
        self.status.value = (f"<div class='ltw-status'><b>{html.escape(reviews)}</b> in scope · {html.escape(s.description)}"
                             f" · counting <b>{html.escape(unit)}</b><br>{mode}</div>")

    def _show_empty(self, s: _Snapshot) -> None:
        self.tables = s.tables
        self.bar_codes, self.codes = [], []
        self._year_shapes = []
        note = f"No {tab.UNIT_LABELS[s.unit]} match these filters"
        self.message = f"{note} ({s.description}). Widen the years, or set a filter back to 'Any'."
        self.status.value = (f"<div class='ltw-status ltw-empty'><b>{html.escape(note)}</b> ({html.escape(s.description)}). "
                             "Widen the years, or set a filter back to <i>Any</i>.</div>")
        for fig, title in ((self.bar, self._bar_title(s)), (self.heat_year, "By year"), (self.heat_pair, "Together")):
            with fig.batch_update():
                trace = fig.data[0]
                if isinstance(trace, go.Bar):
                    trace.update(x=[], y=[], error_x=None, text=None, customdata=None)
                else:
                    trace.update(z=[[]], x=[], y=[], text=None)
                fig.layout.title.text = title
                fig.layout.annotations = [self._centre_note(note)]
                fig.layout.shapes = []
                fig.layout.height = 220
            with fig.batch_update():
                if isinstance(fig.data[0], go.Bar):
                    fig.data[1].update(x=[], y=[], text=None)
                else:
                    fig.data[1].update(z=[[]], x=[], y=[], text=None)
        self.table_note.value = ""
        self.table_html.value = f"<div class='ltw-note'>{note}.</div>"
        self.csv_button.disabled = self.xlsx_button.disabled = True
        self._evidence_hint()

    # ---- drawing
    @staticmethod
    def _centre_note(text: str) -> dict[str, Any]:
        return {"text": text, "xref": "paper", "yref": "paper", "x": 0.5, "y": 0.5, "showarrow": False,
                "font": {"size": 14, "color": "#8a5a00"}}

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

    def _thing(self, s: _Snapshot) -> str:
        return _THING[s.frame]

    def _bar_title(self, s: _Snapshot) -> str:
        things = "patterns" if s.frame == "patterns" else "contributory factors"
        return f"Top recurring {things}: % of {tab.UNIT_LABELS[s.unit]} in scope"

    def _ylabel(self, s: _Snapshot, code: str, width: int = 52) -> str:
        return f"{_short(frame_labels(s.frame, self.version).get(code, code), width)} · {code}"

    def _draw_bar(self, s: _Snapshot, shown: pd.DataFrame, hidden: int) -> None:
        labels = frame_labels(s.frame, self.version)
        y = [self._ylabel(s, c) for c in shown["code"]]
        pct = shown["_pct"].to_numpy(dtype=float)
        lo = pd.to_numeric(shown["ci_low"], errors="coerce").to_numpy(dtype=float)
        hi = pd.to_numeric(shown["ci_high"], errors="coerce").to_numpy(dtype=float)
        err_plus = np.where(np.isnan(hi), 0.0, hi - pct)
        err_minus = np.where(np.isnan(lo), 0.0, pct - lo)
        text = [f"{_fmt(c, 0)} of {_fmt(d, 0)}" for c, d in zip(shown["count"], shown["denominator"])]
        full = [labels.get(c, c) for c in shown["code"]]
        custom = [[c, f, _fmt(l), _fmt(h)] for c, f, l, h in zip(shown["code"], full, lo, hi)]
        notes = []
        if s.disclosure == "public" and hidden:
            notes.append({"text": f"{hidden} {self._thing(s)}{'s' if hidden != 1 else ''} with small counts hidden (c)",
                          "xref": "paper", "yref": "paper", "x": 1, "y": 1.0, "xanchor": "right", "yanchor": "bottom",
                          "showarrow": False, "font": {"size": 11, "color": "#666"}})
        if not len(shown):
            msg = ("Every count here is small and hidden in public mode (c): widen the filters"
                   if s.disclosure == "public" else f"No {self._thing(s)} coded in these reviews")
            notes.append(self._centre_note(msg))
        with self.bar.batch_update():
            t = self.bar.data[0]
            t.x = pct.tolist()
            t.y = y
            t.error_x = {"type": "data", "array": err_plus.tolist(), "arrayminus": err_minus.tolist(),
                         "visible": True, "color": "#333", "thickness": 1.2, "width": 3}
            t.text = text
            t.textposition = "none"
            t.customdata = custom
            t.hovertemplate = ("<b>%{customdata[1]}</b> (%{customdata[0]})<br>%{text} " + tab.UNIT_LABELS[s.unit]
                               + "<br>%{x:.1f}% (95% CI %{customdata[2]}–%{customdata[3]}%)<extra></extra>")
            t.marker.color = [_BAR_COLOUR] * len(y)
            ends = np.where(np.isnan(hi), pct, hi)
            self.bar.layout.title.text = self._bar_title(s)
            self.bar.layout.xaxis.title.text = f"% of {tab.UNIT_LABELS[s.unit]} in scope (bars: 95% Wilson interval)"
            top_end = float(np.nanmax(ends)) if len(ends) else 0.0
            self.bar.layout.xaxis.range = [0, min(100.0, top_end) + max(12.0, 0.16 * top_end)]
            self.bar.layout.annotations = notes
            self.bar.layout.height = max(260, 90 + 26 * len(y))
        # A separate batch: one batch editing two traces sends the first trace's properties to the second too.
        with self.bar.batch_update():
            labels_trace = self.bar.data[1]
            labels_trace.x = (ends + 0.8).tolist()
            labels_trace.y = y
            labels_trace.text = text

    @staticmethod
    def _fill_heat(t: Any, z: list[list[float | None]], x: list[Any], y: list[str], text: list[list[str]],
                   custom: list[Any], hovertemplate: str) -> None:
        """Put one heat map's cells into its trace (inside the caller's batch_update)."""
        any_shown = any(v is not None for row in z for v in row)
        # plotly.js fails to restyle a heat map whose z is all null; the grey layer carries the axes then.
        t.visible = any_shown
        t.z = z if any_shown else [[0] * len(x) for _ in y]
        t.x = x
        t.y = y
        t.text = text
        t.texttemplate = "%{text}"
        t.textfont = {"size": 10}
        t.customdata = custom
        t.hovertemplate = hovertemplate
        t.hoverongaps = False

    @staticmethod
    def _draw_hidden(fig: go.FigureWidget, x: list[Any], y: list[str], hidden: list[list[str | None]]) -> None:
        """The grey "c" cells of a heat map (a separate batch: see _draw_bar)."""
        z = [[1.0 if h is not None else None for h in row] for row in hidden]
        text = [[h or "" for h in row] for row in hidden]
        with fig.batch_update():
            t = fig.data[1]
            t.z = z
            t.x = x
            t.y = y
            t.text = text
            t.visible = any(h is not None for row in hidden for h in row)

    def _stage_year(self) -> None:
        s = self._snap
        if s is None or self.empty:
            return
        trend = tab.trend(s.frame, level=s.level, unit=s.unit, where=s.where, **self._kw(s))
        s.tables["trend"] = trend
        codes = [c for c in self.codes if c in set(trend["code"])]
        years = sorted(int(y) for y in trend["year"].unique())
        sub = trend[trend["code"].isin(codes)]
        pct = sub.assign(_p=pd.to_numeric(sub["percent"], errors="coerce")).pivot(index="code", columns="year", values="_p")
        cnt = sub.pivot(index="code", columns="year", values="count")
        den = sub.pivot(index="code", columns="year", values="denominator")
        pct = pct.reindex(index=codes, columns=years)
        cnt = cnt.reindex(index=codes, columns=years)
        den = den.reindex(index=codes, columns=years)
        z = [[None if (v is None or (isinstance(v, float) and math.isnan(v))) else float(v) for v in row] for row in pct.to_numpy()]
        text = [[_fmt(v, 0) for v in row] for row in cnt.to_numpy(dtype=object)]
        # Hidden: no percentage shown although the year has reviews in scope (its denominator is not a true 0).
        hidden = [[t if zv is None and _num(d) != 0 else None for zv, t, d in zip(zr, tr, dr)]
                  for zr, tr, dr in zip(z, text, den.to_numpy(dtype=object))]
        text = [[t if zv is not None else "" for zv, t in zip(zr, tr)] for zr, tr in zip(z, text)]
        hover = [[f"{_fmt(c, 0)} of {_fmt(d, 0)}" for c, d in zip(rc, rd)] for rc, rd in zip(cnt.to_numpy(dtype=object), den.to_numpy(dtype=object))]
        y = [self._ylabel(s, c, 44) for c in codes]
        full = frame_labels(s.frame, self.version)
        custom = [[[c, full.get(c, c), h] for h in hrow] for c, hrow in zip(codes, hover)]
        shapes, notes = [], []
        breaks = [b for b in tab.SERIES_BREAKS if years and b["from_year"] <= years[-1] and b["to_year"] >= years[0]]
        for b in breaks:
            shapes.append({"type": "rect", "xref": "x", "yref": "paper", "x0": b["from_year"] - 0.5, "x1": b["to_year"] + 0.5,
                           "y0": 0, "y1": 1, "line": {"color": "#d35400", "width": 1.5, "dash": "dot"}, "fillcolor": "rgba(0,0,0,0)"})
            notes.append({"text": "SCR → CSPR", "xref": "x", "yref": "paper", "x": (b["from_year"] + b["to_year"]) / 2, "y": 1.0,
                          "yanchor": "bottom", "showarrow": False, "font": {"size": 10, "color": "#d35400"}})
        if not codes:
            notes.append(self._centre_note("Nothing to show: no counts above the disclosure threshold"))
        n_hidden = sum(h is not None for row in hidden for h in row)
        if n_hidden:
            notes.append({"text": f"grey: hidden in public mode ({n_hidden} cells with small numbers)", "xref": "paper",
                          "yref": "paper", "x": 1, "y": 1.0, "xanchor": "right", "yanchor": "bottom", "showarrow": False,
                          "font": {"size": 10, "color": "#666"}})
        thing = "Pattern" if s.frame == "patterns" else "Factor"
        title = (f"{thing} × year: % of {tab.UNIT_LABELS[s.unit]} each year"
                 f"<br><span style='font-size:11px;color:#666'>number in a cell = count; blank = none in scope that year</span>")
        with self.heat_year.batch_update():
            self._fill_heat(self.heat_year.data[0], z, years, y, text, custom,
                            "<b>%{customdata[1]}</b> (%{customdata[0]})<br>%{x}: %{customdata[2]}<br>%{z:.1f}%<extra></extra>")
            self.heat_year.layout.title.text = title
            self.heat_year.layout.xaxis.dtick = 1 if len(years) <= 12 else 2
            self.heat_year.layout.xaxis.tickangle = 0
            self.heat_year.layout.xaxis.range = [years[0] - 0.5, years[-1] + 0.5] if years else None
            self.heat_year.layout.shapes = shapes
            self._year_shapes = shapes
            self.heat_year.layout.annotations = notes
            self.heat_year.layout.height = max(260, 110 + 24 * len(y))
        self._draw_hidden(self.heat_year, years, y, hidden)

    def _stage_pairs(self) -> None:
        s = self._snap
        if s is None or self.empty:
            return
        unit = s.unit if s.unit in ("review", "episode") else "review"
        kind = "patterns" if s.frame == "patterns" else "factor-pattern"
        if kind == "patterns":
            co = tab.cooccurrence("patterns", level=s.level, unit=unit, where=s.where, tests=False, **self._kw(s))
        else:
            co = tab.cooccurrence("factor-pattern", level=2, factor_level=s.level, unit=unit, where=s.where, tests=False,
                                  **self._kw(s))
        s.tables["cooccurrence_counts"] = co
        rows = list(self.codes)
        if kind == "patterns":
            cols = list(rows)
        else:
            nb = co.assign(_n=pd.to_numeric(co["n_b"], errors="coerce")).groupby("code_b")["_n"].max()
            cols = list(nb.sort_values(ascending=False, kind="mergesort").head(min(12, s.top)).index)
        m = {(a, b): (n, j, l) for a, b, n, j, l in zip(co["code_a"], co["code_b"], co["n_ab"], co["jaccard"], co["lift"])}
        if kind == "patterns":
            m.update({(b, a): v for (a, b), v in list(m.items())})
        z, text, custom, hidden = [], [], [], []
        la = frame_labels(s.frame, self.version)
        lb = frame_labels("patterns", self.version)
        for a in rows:
            zr, tr, cr, hr = [], [], [], []
            for b in cols:
                n, j, l = m.get((a, b), (0, math.nan, math.nan))
                value = _num(n)
                if a == b:
                    zr.append(None)
                    tr.append("")
                    hr.append(None)
                elif math.isnan(value):
                    zr.append(None)
                    tr.append("")
                    hr.append(_fmt(n, 0))
                else:
                    zr.append(value)
                    tr.append(_fmt(n, 0))
                    hr.append(None)
                cr.append([a, la.get(a, a), b, lb.get(b, b), _sig(j), _sig(l)])
            z.append(zr)
            text.append(tr)
            custom.append(cr)
            hidden.append(hr)
        y = [self._ylabel(s, c, 44) for c in rows]
        # Symmetric pattern x pattern: the columns are the rows again, so their codes suffice (hover gives the words).
        x = list(cols) if kind == "patterns" else [f"{_short(lb.get(c, c), 24)} · {c}" for c in cols]
        unit_label = tab.UNIT_LABELS[unit]
        if kind == "patterns":
            title = f"Patterns found together: number of {unit_label} with both (columns: same patterns, by code)"
        else:
            title = f"Contributory factors behind patterns: number of {unit_label} with both (within episodes)"
        if unit != s.unit:
            title += f" (counted in {unit_label}: co-occurrence counts reviews or episodes)"
        notes = [] if rows else [self._centre_note("Nothing to show: no counts above the disclosure threshold")]
        n_hidden = sum(h is not None for row in hidden for h in row)
        if n_hidden:
            notes.append({"text": f"grey: hidden in public mode ({n_hidden} cells)", "xref": "paper", "yref": "paper",
                          "x": 1, "y": 1.0, "xanchor": "right", "yanchor": "bottom", "showarrow": False,
                          "font": {"size": 10, "color": "#666"}})
        shown_max = max([v for row in z for v in row if v is not None], default=0.0)
        with self.heat_pair.batch_update():
            t = self.heat_pair.data[0]
            self._fill_heat(t, z, x, y, text, custom,
                            "<b>%{customdata[1]}</b> (%{customdata[0]})<br>with <b>%{customdata[3]}</b> (%{customdata[2]})"
                            "<br>together: %{text}<br>Jaccard %{customdata[4]} · lift %{customdata[5]}<extra></extra>")
            t.zmin = 0
            t.zmax = max(1.0, shown_max)
            self.heat_pair.layout.title.text = title
            self.heat_pair.layout.xaxis.tickangle = -90 if kind == "patterns" else -40
            self.heat_pair.layout.xaxis.tickfont = {"size": 10}
            self.heat_pair.layout.xaxis.side = "bottom"
            self.heat_pair.layout.xaxis.type = "category"
            self.heat_pair.layout.annotations = notes
            self.heat_pair.layout.shapes = []
            self.heat_pair.layout.height = max(300, 190 + 24 * len(y))
        self._draw_hidden(self.heat_pair, x, y, hidden)
        self._pair_cols = cols

    # ---- table
    def _stage_table(self) -> None:
        s = self._snap
        if s is None or self.empty:
            return
        s.tables["recurrence"] = tab.recurrence(s.frame, level=s.level, where=s.where, **self._kw(s))
        self.csv_button.disabled = self.xlsx_button.disabled = False
        self._render_table()

    def current_table(self) -> pd.DataFrame | None:
        """The table the Table section shows (and the download buttons save), computing it if needed."""
        s = self._snap
        if s is None or self.empty:
            return None
        view = self.table_view.value
        if view == "evidence":
            return self.evidence_table
        if view == "cooccurrence" and "cooccurrence" not in s.tables:
            if s.frame == "patterns":
                s.tables["cooccurrence"] = tab.cooccurrence("patterns", level=s.level, unit=s.unit if s.unit in ("review", "episode") else "review",
                                                            where=s.where, **self._kw(s))
            else:
                s.tables["cooccurrence"] = tab.cooccurrence("factor-pattern", level=2, factor_level=s.level,
                                                            unit=s.unit if s.unit in ("review", "episode") else "review",
                                                            where=s.where, **self._kw(s))
        return s.tables.get(view)

    def _render_table(self) -> None:
        s = self._snap
        if s is None or self.empty:
            return
        table = self.current_table()
        view = self.table_view.value
        if table is None:
            self.table_note.value = ""
            self.table_html.value = "<div class='ltw-note'>Nothing to show yet.</div>"
            return
        note = table.attrs.get("note", "")
        described = table.attrs.get("description", "")
        if view == "recurrence":
            recent = table.attrs.get("recent_window", "")
            before = table.attrs.get("before_window", "")
            cols = [("_label", s.frame.rstrip("s").capitalize()), ("reviews", "Reviews"), ("areas", "Areas"), ("regions", "Regions"),
                    ("first_year", "First"), ("last_year", "Last"), ("percent", "% of reviews"),
                    ("percent_recent", f"% {recent}"), ("percent_before", f"% {before}"),
                    ("odds_ratio", "Odds ratio recent/before"), ("q_value", "q (BH)")]
            body = self._html_table(table, cols, s)
            extra = (f"Unit: reviews. Sorted by how widespread (reviews, then areas). Recent = {recent}, before = {before}; "
                     f"{table.attrs.get('test', '')}.")
        elif view == "frequency":
            cols = [("_label", s.frame.rstrip("s").capitalize()), ("count", tab.UNIT_LABELS[s.unit].capitalize()),
                    ("denominator", "Out of"), ("percent", "%"), ("ci_low", "95% CI low"), ("ci_high", "95% CI high")]
            body = self._html_table(table, cols, s)
            extra = described
        elif view == "trend":
            body = self._html_pivot(table, s)
            extra = "Count per year (hover the heat map for percentages). " + " ".join(table.attrs.get("series_breaks", []))
        elif view == "cooccurrence":
            shown = table.assign(_n=pd.to_numeric(table["n_ab"], errors="coerce")).sort_values("_n", ascending=False, kind="mergesort")
            top = shown.head(60)
            lab_a = "Factor" if s.frame == "factors" else "Pattern"
            cols = [("_label_a", lab_a), ("_label_b", "Pattern"), ("n_ab", "Together"), ("n_a", "A"), ("n_b", "B"), ("n", "Units"),
                    ("jaccard", "Jaccard"), ("lift", "Lift"), ("odds_ratio", "Odds ratio"), ("q_value", "q (BH)")]
            body = self._html_table(top, cols, s)
            extra = (f"{len(table)} pairs; the {len(top)} seen together most often shown, all in the download. "
                     f"{table.attrs.get('test') or ''}")
        else:  # evidence
            cols = [("review_id", "Review"), ("year", "Year"), ("coded_as", "Coded as"), ("finding", "Finding"),
                    ("episode_title", "Episode"), ("practice", "Practice"), ("judgement", "Judgement")]
            cols = [(c, h) for c, h in cols if c in table.columns]
            body = self._html_table(table.head(200), cols, s)
            extra = f"{len(table)} rows (first 200 shown; all in the download)."
        self.table_note.value = f"<div class='ltw-note'>{html.escape(extra)}<br><i>{html.escape(note)}</i></div>"
        self.table_html.value = body

    def _code_label(self, frame: str, code: Any) -> str:
        return f"{html.escape(frame_labels(frame, self.version).get(str(code), str(code)))} <span style='color:#888'>{html.escape(str(code))}</span>"

    def _html_table(self, table: pd.DataFrame, cols: list[tuple[str, str]], s: _Snapshot) -> str:
        stats_cols = {"odds_ratio", "q_value", "jaccard", "lift", "p_value"}
        head = "".join(f"<th>{html.escape(h)}</th>" for _, h in cols)
        rows = []
        for rec in table.to_dict("records"):
            cells = []
            for col, _h in cols:
                if col == "_label":
                    cells.append(f"<td>{self._code_label(s.frame, rec['code'])}</td>")
                elif col == "_label_a":
                    cells.append(f"<td>{self._code_label(s.frame, rec['code_a'])}</td>")
                elif col == "_label_b":
                    cells.append(f"<td>{self._code_label('patterns', rec['code_b'])}</td>")
                else:
                    v = rec.get(col)
                    text = _sig(v) if col in stats_cols else _fmt(v, 0 if col in ("year", "first_year", "last_year") else 1)
                    if col in ("year", "first_year", "last_year") and isinstance(v, (int, float, np.integer, np.floating)) and not pd.isna(v):
                        text = str(int(v))
                    numeric = isinstance(v, (int, float, np.integer, np.floating)) or v in ("c", "z", ":")
                    cls = " class='n'" if numeric else ""
                    cells.append(f"<td{cls}>{html.escape(text)}</td>")
            hidden = bool(rec.get("suppressed", False))
            rows.append(f"<tr{' class=ltw-hidden' if hidden else ''}>{''.join(cells)}</tr>")
        return f"<table class='ltw-table'><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"

    def _html_pivot(self, table: pd.DataFrame, s: _Snapshot) -> str:
        years = sorted(int(y) for y in table["year"].unique())
        cnt = table.pivot(index="code", columns="year", values="count").reindex(columns=years)
        order = list(dict.fromkeys(table["code"]))
        cnt = cnt.reindex(index=order)
        head = "<th>" + ("Pattern" if s.frame == "patterns" else "Factor") + "</th>" + "".join(f"<th>{y}</th>" for y in years)
        rows = []
        for code, row in cnt.iterrows():
            cells = "".join(f"<td class='n'>{html.escape(_fmt(v, 0))}</td>" for v in row.to_numpy(dtype=object))
            rows.append(f"<tr><td>{self._code_label(s.frame, code)}</td>{cells}</tr>")
        return f"<table class='ltw-table'><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"

    def _set_table_views(self, *, evidence: bool) -> None:
        options = [(v, k) for k, v in _TABLE_VIEWS.items() if k != "evidence" or evidence]
        if list(self.table_view.options) != options:
            current = self.table_view.value
            with self.table_view.hold_trait_notifications():
                self.table_view.options = options
                self.table_view.value = current if current in {k for _, k in options} else "recurrence"

    # ---- downloads
    def _file_stem(self) -> str:
        s = self._snap
        view = self.table_view.value
        if s is None:
            return "lt-workbench"
        level = f"-level{s.level}" if view != "evidence" else ""
        return f"lt-workbench-{view}-{s.frame}{level}-{s.disclosure}"

    def _about(self) -> pd.DataFrame:
        s = self._snap
        table = self.current_table()
        attrs = table.attrs if table is not None else {}
        rows = [
            ("table", _TABLE_VIEWS.get(self.table_view.value, self.table_view.value)),
            ("frame", FRAME_CHOICES.get(s.frame, s.frame) if s else ""),
            ("depth", _DEPTH_LABELS[s.frame][s.level] if s else ""),
            ("filters", s.description if s else ""),
            ("unit", str(attrs.get("unit_label", attrs.get("unit", "")))),
            ("disclosure", str(attrs.get("disclosure", s.disclosure if s else ""))),
            ("note", str(attrs.get("note", ""))),
            ("description", str(attrs.get("description", ""))),
            ("test", str(attrs.get("test", "") or "")),
            ("interval", str(attrs.get("interval", "") or "")),
            ("caveat", tab.PERFORMANCE_CAVEAT),
            ("source", "lt_workbench.analysis.tabulate via the explorer (lt_workbench.explorer.widgets)"),
        ]
        return pd.DataFrame([r for r in rows if r[1]], columns=["item", "value"])

    def csv_bytes(self) -> bytes:
        """The current table as CSV (the same text `lt-workbench tabulate ... --format csv` writes)."""
        table = self.current_table()
        if table is None:
            raise ValueError("no table: the filters leave no reviews")
        return render_table(table, "csv").encode("utf-8")

    def xlsx_bytes(self) -> bytes:
        """The current table as an Excel workbook: sheet 'table' and sheet 'about' (unit, filters, disclosure note)."""
        table = self.current_table()
        if table is None:
            raise ValueError("no table: the filters leave no reviews")
        out = table.copy()
        for col in out.columns:
            if out[col].dtype == object or str(out[col].dtype).startswith(("list", "str")):
                out[col] = out[col].map(lambda v: ", ".join(map(str, v)) if isinstance(v, (list, tuple, np.ndarray)) else v)
        buf = io.BytesIO()
        with pd.ExcelWriter(buf, engine="openpyxl") as xl:
            out.to_excel(xl, sheet_name="table", index=False)
            self._about().to_excel(xl, sheet_name="about", index=False)
            for ws in xl.book.worksheets:
                for column in ws.columns:
                    width = max((len(str(c.value)) for c in column[:200] if c.value is not None), default=8)
                    ws.column_dimensions[column[0].column_letter].width = min(max(8, width + 2), 80)
                ws.freeze_panes = "A2"
        return buf.getvalue()

    def _csv_payload(self) -> tuple[str, str, bytes]:
        with self._lock:  # a download may arrive on another thread
            return f"{self._file_stem()}.csv", "text/csv", self.csv_bytes()

    def _xlsx_payload(self) -> tuple[str, str, bytes]:
        with self._lock:
            return (f"{self._file_stem()}.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    self.xlsx_bytes())

    # ---- evidence
    def _guarded(self, fn: Callable[[], None]) -> None:
        """A click's work, on the home thread; an error shows in the evidence panel, not only in the kernel log."""

        def run() -> None:
            try:
                with self._lock:
                    fn()
            except Exception as e:
                self.last_error = e
                self.evidence_html.value = (f"<div class='ltw-status ltw-error'><b>Could not open the evidence</b>: "
                                            f"{html.escape(str(e))}</div>")
                if _running_loop() is None:
                    raise

        self._dispatch(run)

    def _on_bar_click(self, _trace: Any, points: Any, _state: Any) -> None:
        if not points.point_inds:
            return
        i = points.point_inds[0]
        if 0 <= i < len(self.bar_codes):
            self._guarded(lambda: self.open_evidence(self.bar_codes[i]))

    @staticmethod
    def _code_from_axis(label: Any) -> str | None:
        """The code of an axis label ("Words · P2.1", or a bare code)."""
        text = str(label).strip()
        if " · " in text:
            return text.rsplit(" · ", 1)[-1]
        return text or None

    def _on_year_click(self, _trace: Any, points: Any, _state: Any) -> None:
        if not points.xs:
            return
        code = self._code_from_axis(points.ys[0])
        if code:
            self._guarded(lambda: self.open_evidence(code, year=int(points.xs[0])))

    def _on_pair_click(self, _trace: Any, points: Any, _state: Any) -> None:
        if not points.xs:
            return
        a, b = self._code_from_axis(points.ys[0]), self._code_from_axis(points.xs[0])
        if a and b and a != b:
            self._guarded(lambda: self.open_evidence(a, with_code=b))

    def _evidence_hint(self) -> None:
        self.evidence_html.value = ("<div class='ltw-note'>Click a bar or a heat-map cell to see the findings and episodes "
                                    "behind that number (restricted mode).</div>")

    def evidence_where(self, target: EvidenceTarget) -> dict[str, Any]:
        """The `where` of the clicked cell: the current filters, narrowed to its year or companion pattern."""
        s = self._snap
        where = dict(s.where) if s else {}
        if target.year is not None:
            where["year"] = target.year
        if target.with_code is not None:
            where["pattern"] = target.with_code
        return where

    def open_evidence(self, code: str, *, year: int | None = None, with_code: str | None = None) -> None:
        """Show what reviewers wrote behind a number (restricted mode only; public mode says why not)."""
        with self._lock:
            self._open_evidence(code, year, with_code)

    def _open_evidence(self, code: str, year: int | None, with_code: str | None) -> None:
        s = self._snap
        if s is None:
            return
        target = EvidenceTarget(code, year, with_code)
        self.evidence_target = target
        labels = frame_labels(s.frame, self.version)
        what = f"<b>{html.escape(labels.get(code, code))}</b> ({html.escape(code)})"
        if with_code:
            what += f" with <b>{html.escape(frame_labels('patterns', self.version).get(with_code, with_code))}</b> ({html.escape(with_code)})"
        if year is not None:
            what += f" in {year}"
        self._highlight(code)
        if s.disclosure != "restricted":
            self.evidence_table = None
            self._set_table_views(evidence=False)
            self.evidence_html.value = (
                f"<div class='ltw-status ltw-empty'>You chose {what}.<br><b>Evidence is not shown in public mode.</b> "
                "It is what reviewers wrote about individual children and families (free text), which never appears "
                "in public output. Inside the secure environment, switch <i>Disclosure</i> to <b>Restricted</b> and "
                "click again.</div>")
            return
        table = tab.evidence(code, frame=s.frame, where=self.evidence_where(target), con=self.con, version=self.version)
        self.evidence_table = table
        self._set_table_views(evidence=True)
        self.evidence_html.value = self._evidence_html(table, what, s, target)

    def _highlight(self, code: str | None) -> None:
        """Mark the clicked code in every figure: its bar in red, its row outlined in the heat maps."""
        colours = [_BAR_SELECTED if c == code else _BAR_COLOUR for c in self.bar_codes]
        self.bar.data[0].marker.color = colours
        for fig, base in ((self.heat_year, self._year_shapes), (self.heat_pair, [])):
            shapes = list(base)
            if code in self.codes:
                i = self.codes.index(code)
                shapes.append({"type": "rect", "xref": "paper", "yref": "y", "x0": 0, "x1": 1, "y0": i - 0.5, "y1": i + 0.5,
                               "line": {"color": _BAR_SELECTED, "width": 2}, "fillcolor": "rgba(0,0,0,0)"})
            fig.layout.shapes = shapes

    def _evidence_html(self, table: pd.DataFrame, what: str, s: _Snapshot, target: EvidenceTarget, limit: int = 25) -> str:
        n_reviews = table["review_id"].nunique() if len(table) else 0
        head = (f"<div class='ltw-note'><b>Restricted</b>: what reviewers wrote. Not for publication.</div>"
                f"<div>{what}: <b>{n_reviews}</b> review{'s' if n_reviews != 1 else ''}"
                f"{' (all with ' + html.escape(target.with_code) + ')' if target.with_code else ''}"
                f" · {html.escape(s.description)}</div>")
        if not len(table):
            return head + "<div class='ltw-note'>No codings behind this cell.</div>"
        plabels = frame_labels(s.frame, self.version)
        parts = [head]
        for i, (rid, g) in enumerate(table.groupby("review_id", sort=False)):
            if i >= limit:
                parts.append(f"<div class='ltw-note'>… and {n_reviews - limit} more reviews: see the Evidence table below "
                             "(and download it).</div>")
                break
            first = g.iloc[0]
            area = first.get("area_code", "")
            region = frame_labels("region", self.version).get(str(first.get("region", "")), "")
            bits = [f"<div class='ltw-ev-review'><b>{html.escape(str(rid))}</b> · {int(first['year'])} · "
                    f"{html.escape(str(region))} · {html.escape(str(area))}"]
            if s.frame == "patterns":
                for _, f in g.groupby("finding_no", sort=False):
                    r0 = f.iloc[0]
                    coded = str(r0["coded_as"])
                    direction = str(r0.get("direction") or "")
                    bits.append(
                        f"<div class='ltw-ev-finding'><span class='ltw-tag {html.escape(direction)}'>{html.escape(direction)}</span>"
                        f"<i>{html.escape(plabels.get(coded, coded))}</i> ({html.escape(coded)}): {html.escape(str(r0['finding']))}</div>")
                    for _, e in f.iterrows():
                        bits.append(self._episode_html(e))
            else:
                for _, e in g.iterrows():
                    coded = str(e["coded_as"])
                    infl = str(e.get("influence") or "")
                    note = e.get("note")
                    bits.append(f"<div class='ltw-ev-finding'><span class='ltw-tag'>{html.escape(infl)}</span>"
                                f"<i>{html.escape(plabels.get(coded, coded))}</i> ({html.escape(coded)})"
                                f"{': ' + html.escape(str(note)) if isinstance(note, str) and note else ''}</div>")
                    bits.append(self._episode_html(e, factors=False))
            bits.append("</div>")
            parts.append("".join(bits))
        return "".join(parts)

    @staticmethod
    def _episode_html(e: pd.Series, factors: bool = True) -> str:
        if pd.isna(e.get("episode_id")):
            return ""
        practice = str(e.get("practice") or "")
        out = (f"<div class='ltw-ev-episode'>Episode {html.escape(str(e.get('episode_no', '')))}: "
               f"<b>{html.escape(str(e.get('episode_title') or ''))}</b> "
               f"<span class='ltw-tag {html.escape(practice)}'>{html.escape(practice)} practice</span><br>"
               f"{html.escape(str(e.get('episode_description') or ''))} "
               f"<i>{html.escape(str(e.get('judgement') or ''))}</i></div>")
        fac = e.get("episode_factors")
        if factors and isinstance(fac, str) and fac:
            out += f"<div class='ltw-ev-factors'>Factors: {html.escape(fac)}</div>"
        return out

    # ---- states
    def _busy(self) -> None:
        if "ltw-busy" not in self.status.value:
            self.status.value = self.status.value.replace("<div class='ltw-status'", "<div class='ltw-status ltw-busy'", 1) \
                if self.status.value else "<div class='ltw-status ltw-busy'>Updating…</div>"

    def _show_error(self, e: BaseException) -> None:
        self.last_error = e
        self.message = f"Could not update: {e}"
        self.status.value = f"<div class='ltw-status ltw-error'><b>Could not update</b>: {html.escape(str(e))}</div>"

"""The explorer's filters: `FilterPanel` (place, period, review type, trigger, child's age, direction,
frame and depth, counting unit, disclosure mode) and `PatternPicker` (codes chosen by their labels).

Why a module of its own: the translation "widget values -> the `where` mapping the analysis API
takes" happens here and nowhere else, so every view of the explorer (and any other notebook that
reuses the panel) counts under exactly the same filters.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

import duckdb
import ipywidgets as widgets

from lt_workbench.analysis import tabulate as tab
from lt_workbench.analysis.scope import ScopeOptions, scope_options
from lt_workbench.config import DEFAULT_TAXONOMY_VERSION
from lt_workbench.exceptions import TabulationError
from lt_workbench.model.db import connect
from lt_workbench.model.frames import labels as frame_labels
from lt_workbench.model.frames import taxonomy_frame

__all__ = [
    "ANY",
    "FRAME_CHOICES",
    "DEPTH_LABELS",
    "QUALIFIER",
    "THING",
    "FilterPanel",
    "PatternPicker",
    "scope_options",
]

ANY = ""  # the "any value" choice of a dropdown; never reaches tabulate
# Frames the explorer can show: both have recurrence, trend, co-occurrence and evidence in tabulate.
FRAME_CHOICES: dict[str, str] = {"patterns": "Patterns", "factors": "Contributory factors"}
DEPTH_LABELS = {
    "patterns": {1: "1 · broad group (P2)", 2: "2 · pattern (P2.1)", 3: "3 · sub-pattern (P2.1.1)"},
    "factors": {1: "1 · level (front-line, local, national)", 2: "2 · factor type", 3: "3 · factor"},
}
# The coding attribute each frame can be filtered by: (dimension, label, vocabulary frame).
QUALIFIER = {"patterns": ("direction", "Direction", "direction"), "factors": ("influence", "Influence", "influence")}
THING = {"patterns": "pattern", "factors": "factor"}


def _vocab(frame: str, version: str) -> list[tuple[str, str]]:
    """(label, code) of a flat frame in the frame's own order: plain words in the dropdowns."""
    return [(label, code) for code, label in frame_labels(frame, version).items()]


# --------------------------------------------------------------------------------------------
# PatternPicker


class PatternPicker(widgets.SelectMultiple):  # type: ignore[misc]
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
            ((indent * (int(depth) - 1) if level is None else "") + f"{label} · {code}", str(code))
            for depth, label, code in zip(rows["depth"].tolist(), rows["label"].tolist(), rows["code"].tolist(), strict=True)
        ]

    def set_frame(self, frame: str, level: int | None) -> None:
        """Show another frame or depth, keeping the chosen codes that still exist."""
        keep: list[str] = list(getattr(self, "value"))
        self.frame, self.level = frame, level
        opts = self.choices(frame, level, self.version)
        valid = {c for _, c in opts}
        empty: tuple[str, ...] = ()
        self.value = empty
        self.options = opts
        self.value = tuple(c for c in keep if c in valid)

    def label_of(self, code: str) -> str:
        """The plain-words label of a code of this picker's frame."""
        return frame_labels(self.frame, self.version).get(code, code)



# --------------------------------------------------------------------------------------------
# FilterPanel


class FilterPanel(widgets.VBox):  # type: ignore[misc]
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
        options: ScopeOptions | None = None,
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
            raise TabulationError(f"frame must be one of {', '.join(FRAME_CHOICES)}, got {frame!r}")
        if disclosure not in ("public", "restricted"):
            raise TabulationError(f"disclosure must be 'public' or 'restricted', got {disclosure!r}")
        self.version = version
        self.scope = options
        self._callbacks: list[Callable[[], None]] = []
        self._hold = 0
        self._pending = False
        t = taxonomy_frame(version)
        regions = t[t["frame"] == "region"]
        self._region_nation = dict(zip(regions["code"], regions["parent"], strict=False))

        style = {"description_width": "92px"}
        wide = widgets.Layout(width="auto", min_width="0")

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
        qdim, qlabel, qvocab = QUALIFIER[frame]
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
            layout=widgets.Layout(grid_template_columns="repeat(auto-fill, minmax(230px, 1fr))", grid_gap="4px 14px", width="100%"),
        )
        super().__init__([self.grid], layout=widgets.Layout(width="100%"))
        self.add_class("ltw-filters")

    # ---- choices that depend on other choices
    def _level_choices(self, frame: str) -> list[tuple[str, int]]:
        return [(text, lvl) for lvl, text in DEPTH_LABELS[frame].items()]

    def _area_choices(self, nation: str, region: str) -> list[tuple[str, str]]:
        a = self.scope.areas
        if region:
            a = a[a["region"] == region]
        elif nation:
            a = a[a["nation"] == nation]
        return [(str(name), str(code)) for code, name in zip(a["area_code"], a["area_name"], strict=False)]

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

    def _changed(self, name: str) -> Callable[[dict[str, Any]], None]:
        def handler(change: dict[str, Any]) -> None:
            with self.hold():
                self._cascade(name)
                self._pending = True

        return handler

    def _cascade(self, name: str) -> None:
        if name == "frame":
            frame = self.frame.value
            level = self.level.value
            self.level.options = self._level_choices(frame)
            self.level.value = level if level in DEPTH_LABELS[frame] else 2
            qdim, qlabel, qvocab = QUALIFIER[frame]
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
            raise TabulationError(f"unknown filter(s) {sorted(unknown)}: filters are {', '.join(self.controls)}")
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
            w[QUALIFIER[self.frame_name][0]] = self.direction.value
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



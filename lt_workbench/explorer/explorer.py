"""`Explorer`: filters, linked figures, a table and the evidence behind any number, in one widget.

Orchestration only. Every number comes from the analysis API (`lt_workbench.analysis.tabulate`, the
same functions as the CLI); the filters are `filters.FilterPanel`, the figures `views.Charts`, the
HTML `panels`, the downloads `download`, and when work runs is `scheduler.Scheduler`'s business.
"""

from __future__ import annotations

import asyncio
import html
from pathlib import Path
from typing import Any, Callable, cast

import duckdb
import ipywidgets as widgets
import pandas as pd

from lt_workbench.analysis import tabulate as tab
from lt_workbench.config import DEFAULT_DB, DEFAULT_TAXONOMY_VERSION
from lt_workbench.exceptions import DisclosureError
from lt_workbench.explorer import panels
from lt_workbench.explorer.evidence import EvidenceSection
from lt_workbench.explorer.filters import FilterPanel, PatternPicker
from lt_workbench.explorer.freshness import Freshness
from lt_workbench.explorer.release import REFUSED_HINT, SessionRelease, database_path, refusable
from lt_workbench.explorer.scheduler import Scheduler
from lt_workbench.explorer.table import TableSection
from lt_workbench.explorer.views import Charts, EvidenceTarget, Snapshot, draw_year_view
from lt_workbench.model.db import connect

__all__ = ["Explorer", "EvidenceTarget"]


class Explorer(widgets.VBox):  # type: ignore[misc]
    """Filters, linked figures, a recurrence table and the evidence behind any number, in one widget.

    Why: "which patterns recur most in the North West since 2015, and what happened in those
    episodes?" should be a few clicks, not a script. The numbers are the analysis API's; public mode
    shows them through disclosure control and never shows what reviewers wrote.

    `Explorer(db=None)` opens the default database read-only (close() releases it). `debounce` is the
    pause, in seconds, after a change before recomputing; 0 recomputes at once. In public mode the
    session joins the database snapshot's release (see release.py): its figures are the CLI's figures
    for the same question, and a view that earlier outputs make unsafe is refused with a message.
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
        path = database_path(db, con)  # the file a connection handed in reads, if any
        self.db_path = path or DEFAULT_DB
        self._own_con = con is None
        if con is None:  # read-only: an open explorer never writes (and never takes the writer's lock)
            con = connect(self.db_path, read_only=True)
        self.con = con
        self.release = SessionRelease(con, self.db_path if self._own_con else path)
        self.profile, self.threshold, self.version = profile, threshold, version
        self._sched = Scheduler(self._stages, debounce=debounce, on_error=self._show_error, on_busy=self._busy)
        self._snap: Snapshot | None = None
        self.tables: dict[str, pd.DataFrame] = {}
        self.codes: list[str] = []  # codes in the heat maps, in their order
        self.bar_codes: list[str] = []  # codes of the bars, top first
        self.in_scope: int | str = 0  # units in scope, as shown (public mode: possibly rounded, or "c")
        self.empty = False  # True when the filters leave nothing to count
        self.message: str = ""
        self.last_error: BaseException | None = None
        self.refresh_count = 0  # refreshes started (for tests and the benchmark)

        self.filters = FilterPanel(con=con, frame=frame, level=level, unit=unit, disclosure=disclosure, version=version)
        self.picker = PatternPicker(frame, level, version=version, rows=7, description="", layout=widgets.Layout(width="100%"))
        self.top = widgets.IntSlider(description="Show top", value=top, min=3, max=30, continuous_update=False,
                                     style={"description_width": "92px"}, layout=widgets.Layout(width="auto"))
        self.filters.add_control(self.top)
        self.clear_pins = widgets.Button(description="Clear pins", layout=widgets.Layout(width="110px"),
                                         tooltip="Back to the top patterns by count")
        self.status = widgets.HTML()
        self.charts = Charts(version)
        self.table = TableSection(self)
        self.table_view, self.table_note, self.table_html = self.table.view, self.table.note, self.table.html
        self.csv_button, self.xlsx_button = self.table.csv_button, self.table.xlsx_button
        self.evidence = EvidenceSection(self)
        self.evidence_html = self.evidence.html
        self.fresh = Freshness(self)

        self.filters.on_change(lambda: self._sched.dispatch(self._on_filters))
        self.top.observe(lambda _c: self._sched.dispatch(self._sched.schedule), names="value")
        self.picker.observe(lambda _c: self._sched.dispatch(self._sched.schedule), names="value")
        self.clear_pins.on_click(lambda _b: setattr(self.picker, "value", ()))
        self.table_view.observe(lambda _c: self._sched.dispatch(self.table.render), names="value")
        self.evidence.hint()
        self.refresh()  # into plain figures: the widgets below open with the data already in them
        self.charts.to_widgets()
        self.bar, self.heat_year, self.heat_pair = self.charts.bar, self.charts.heat_year, self.charts.heat_pair
        self.charts.on_click(self.evidence.on_bar_click, self.evidence.on_year_click, self.evidence.on_pair_click)
        super().__init__(self._layout(), layout=widgets.Layout(width="100%"))
        self.add_class("ltw-root")

    def _layout(self) -> list[widgets.Widget]:
        pins = widgets.Accordion([widgets.VBox([
            widgets.HTML("<div class='ltw-note'>Choose patterns to compare in the heat maps (none chosen: the top ones "
                         "by count).</div>"), self.picker, self.clear_pins])], selected_index=None)
        pins.set_title(0, "Pin patterns to compare")
        figures = widgets.VBox([self.bar, self.heat_year, self.heat_pair], layout=widgets.Layout(min_width="0"))
        figures.add_class("ltw-figures")
        main = widgets.HBox([figures, self.evidence.box()], layout=widgets.Layout(width="100%", align_items="flex-start", overflow="visible"))
        main.add_class("ltw-main")
        intro = widgets.HTML(panels.STYLE + "<h3>Which patterns recur, where and when</h3><div class='ltw-note'>Set the "
                             "filters; click a bar or a heat-map cell to read what reviewers wrote behind that number "
                             "(restricted mode).</div>")
        return [intro, self.filters, pins, self.fresh.box, self.status, main, *self.table.widgets()]

    # ---- lifecycle and scheduling (see scheduler.py)
    def close(self) -> None:
        """Release the database (the explorer holds a read-only connection) and close the widgets.

        Also called by ipywidgets when an explorer whose construction failed (bad arguments) is
        collected, so it uses only what was set.
        """
        if getattr(self, "_sched", None) is not None:
            self._sched.cancel()
        if getattr(self, "_own_con", False) and getattr(self, "con", None) is not None:
            try:
                self.con.close()
            except duckdb.Error:
                pass
        super().close()

    _lock = property(lambda self: self._sched.lock, doc="The lock around every use of the connection (see scheduler.py).")

    @property
    def _handle(self) -> asyncio.TimerHandle | None:
        return self._sched.handle

    @property
    def debounced_count(self) -> int:
        """Refreshes that ran from the event loop after the debounce pause."""
        return self._sched.debounced_count

    def _on_filters(self) -> None:
        frame, level = self.filters.frame_name, int(self.filters.level.value)
        if (self.picker.frame, self.picker.level) != (frame, level):
            self._quiet_picker(frame, level)
        self._sched.schedule()

    def _quiet_picker(self, frame: str, level: int) -> None:
        # Changing the picker's options would schedule a second refresh; the filter change already does.
        with self._sched.quiet():
            self.picker.set_frame(frame, level)

    def refresh(self) -> None:
        """Recompute everything from the current filters, now (synchronously); a refused view is shown, not raised."""
        try:
            self._sched.refresh()
        except DisclosureError:
            pass  # shown by _show_error: a refusal is an answer, not a failure

    def _stages(self) -> list[Callable[[], None]]:
        return [self._stage_scope_and_bar, self._stage_year, self._stage_pairs, self._stage_table]

    def _ask(self, s: Snapshot, fn: Callable[..., pd.DataFrame], *args: Any, **kw: Any) -> pd.DataFrame:
        """One analysis API call for the view `s`; in public mode inside the session's release (see release.py)."""
        return self.release.ask(s.description, fn, *args, con=self.con, disclosure=s.disclosure,
                                profile=self.profile, threshold=self.threshold, version=self.version, **kw)

    # ---- stages: each asks the analysis API for one table and hands it to the charts or panels
    def _stage_scope_and_bar(self) -> None:
        f = self.filters
        s = self._snap = Snapshot(frame=f.frame_name, level=int(f.level.value), unit=str(f.unit.value),
                                  disclosure=str(f.disclosure.value), where=f.where, scope_where=f.scope_where,
                                  description=f.describe(), pinned=tuple(self.picker.value), top=int(self.top.value))
        self.refresh_count += 1
        self.last_error = None
        self.fresh.check()
        self.evidence.clear()
        self.table.set_views(evidence=False)
        freq = self._ask(s, tab.frequency, s.frame, level=s.level, unit=cast(Any, s.unit), where=s.where)
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
        self.charts.draw_bar(s, shown, hidden)
        self._set_status(s, freq)

    def _stage_year(self) -> None:
        s = self._snap
        if s is None or self.empty:
            return
        draw_year_view(self.charts, self.release, s, self.codes, lambda: self.view_table(s, "trend"),
                       lambda: self._ask(s, tab.frequency, s.frame, level=s.level, by=("period",), unit=cast(Any, s.unit),
                                         where=s.where))

    def _pair_unit(self, s: Snapshot) -> str:
        return s.unit if s.unit in ("review", "episode") else "review"

    def _cooccurrence(self, s: Snapshot, tests: bool) -> pd.DataFrame:
        unit = cast(Any, self._pair_unit(s))
        if s.frame == "patterns":
            return self._ask(s, tab.cooccurrence, "patterns", level=s.level, unit=unit, where=s.where, tests=tests)
        return self._ask(s, tab.cooccurrence, "factor-pattern", level=2, factor_level=s.level, unit=unit, where=s.where, tests=tests)

    def _stage_pairs(self) -> None:
        s = self._snap
        if s is None or self.empty:
            return
        co = refusable(s.refused, "cooccurrence", lambda: self._cooccurrence(s, tests=False))
        if co is None:
            self.charts.draw_refused(s, "pair", s.refused["cooccurrence"])
            return
        s.tables["cooccurrence_counts"] = co
        self.charts.draw_pairs(s, s.tables["cooccurrence_counts"], self._pair_unit(s), self.codes)

    def _stage_table(self) -> None:
        s = self._snap
        if s is None or self.empty:
            return
        if s.disclosure != "public":  # public: published only when shown (the Table section asks for it then)
            rec = refusable(s.refused, "recurrence", lambda: self.view_table(s, "recurrence"))
            if rec is not None:
                s.tables["recurrence"] = rec
        self.table.enable(True)
        self.table.render()

    def view_table(self, s: Snapshot, view: str) -> pd.DataFrame:
        """The table of a Table view not drawn by the figures, asked when it is shown: recurrence, trend, co-occurrence."""
        if view == "cooccurrence":
            return self._cooccurrence(s, tests=True)
        if view == "trend":
            return self._ask(s, tab.trend, s.frame, level=s.level, unit=cast(Any, s.unit), where=s.where)
        return self._ask(s, tab.recurrence, s.frame, level=s.level, where=s.where)

    def _set_status(self, s: Snapshot, freq: pd.DataFrame) -> None:
        self.message, self.status.value = panels.status(s, self.in_scope, freq.attrs.get("threshold"))

    def _show_empty(self, s: Snapshot) -> None:
        note = f"No {tab.UNIT_LABELS[s.unit]} match these filters"
        self._blank(s, note, *panels.empty_status(s, note))

    def _blank(self, s: Snapshot, note: str, message: str, status: str) -> None:
        """No figures for this view (nothing in scope, or refused): `note` in their place, `status` above."""
        self.tables = s.tables
        self.bar_codes, self.codes = [], []
        self.message, self.status.value = message, status
        self.charts.draw_empty(s, note)
        self.table_note.value, self.table_html.value = "", f"<div class='ltw-note'>{html.escape(note)}.</div>"
        self.table.enable(False)
        self.evidence.hint()

    def _busy(self) -> None:
        self.status.value = panels.busy(self.status.value)

    def _show_error(self, e: BaseException) -> None:
        self.last_error = e
        if isinstance(e, DisclosureError) and self._snap is not None:
            # Refused by disclosure control (the release): say why; none of this view's figures is shown.
            self._snap.tables.clear()
            self._blank(self._snap, "Not shown in public mode: see the message above", *panels.refused(str(e), REFUSED_HINT))
            return
        self.message, self.status.value = panels.error(str(e))

    # ---- the table and its downloads (see table.py)
    def current_table(self) -> pd.DataFrame | None:
        """The table the Table section shows (and the download buttons save), computing it if needed."""
        return self.table.current()

    def csv_bytes(self) -> bytes:
        """The current table as CSV (the same text `lt-workbench tabulate ... --format csv` writes)."""
        return self.table.csv_bytes()

    def xlsx_bytes(self) -> bytes:
        """The current table as an Excel workbook: sheet 'table' and sheet 'about' (unit, filters, disclosure note)."""
        return self.table.xlsx_bytes()

    # ---- evidence (see evidence.py): clicks arrive here, run on the home thread
    @property
    def evidence_target(self) -> EvidenceTarget | None:
        """The cell last clicked (None after a filter change)."""
        return self.evidence.target

    @property
    def evidence_table(self) -> pd.DataFrame | None:
        """The evidence behind the cell last clicked (restricted mode), as the analysis API returned it."""
        return self.evidence.table

    def evidence_where(self, target: EvidenceTarget) -> dict[str, Any]:
        """The `where` of a clicked cell: the current filters, narrowed to its year or companion code."""
        return self.evidence.where(target)

    def open_evidence(self, code: str, *, year: int | tuple[int, int] | None = None, with_code: str | None = None) -> None:
        """Show what reviewers wrote behind a number (restricted mode only; public mode says why not)."""
        with self._lock:
            self._open_evidence(code, year, with_code)

    def _open_evidence(self, code: str, year: int | tuple[int, int] | None, with_code: str | None) -> None:
        self.evidence.open(code, year, with_code)

"""The explorer's Table section: which table is shown, its HTML, and its CSV and Excel downloads.

Why a part of its own: the table under the figures is the figures' numbers in full (and what the
download buttons save), so it is rendered from the very tables the refresh fetched; a table the
figures do not draw (co-occurrence with its tests; in public mode recurrence, and single years when the
heat map drew periods) is fetched when its view is chosen, so public mode publishes only what is shown.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import ipywidgets as widgets
import pandas as pd

from lt_workbench.analysis import tabulate as tab
from lt_workbench.exceptions import TabulationError
from lt_workbench.explorer import panels
from lt_workbench.explorer.download import DownloadButton, table_csv, table_xlsx
from lt_workbench.explorer.filters import DEPTH_LABELS, FRAME_CHOICES
from lt_workbench.explorer.release import REFUSED_HINT, refusable

if TYPE_CHECKING:
    from lt_workbench.explorer.explorer import Explorer

__all__ = ["TableSection"]


class TableSection:
    """The view toggle, the note and HTML of the table shown, and its two download buttons."""

    def __init__(self, ex: Explorer) -> None:
        self.ex = ex
        self.view = widgets.ToggleButtons(
            options=[(v, k) for k, v in panels.TABLE_VIEWS.items() if k != "evidence"], value="frequency",
            style={"button_width": "118px"})
        self.note = widgets.HTML()
        self.html = widgets.HTML(layout=widgets.Layout(width="100%"))
        self.html.add_class("ltw-table-box")
        self.csv_button = DownloadButton(self._csv_payload, label="Download CSV", hint="The table shown, as CSV")
        self.xlsx_button = DownloadButton(self._xlsx_payload, label="Download Excel",
                                          hint="The table shown, with a sheet saying what it counts")

    def widgets(self) -> list[widgets.Widget]:
        """The section as laid out under the figures."""
        bar = widgets.HBox([self.view, self.csv_button, self.xlsx_button],
                           layout=widgets.Layout(flex_flow="row wrap", align_items="center"))
        return [widgets.HTML("<h3>Table</h3>"), bar, self.note, self.html]

    def set_views(self, *, evidence: bool) -> None:
        """Offer the Evidence view only while there is evidence to show."""
        options = [(v, k) for k, v in panels.TABLE_VIEWS.items() if k != "evidence" or evidence]
        if list(self.view.options) != options:
            current = self.view.value
            with self.view.hold_trait_notifications():
                self.view.options = options
                self.view.value = current if current in {k for _, k in options} else "frequency"

    def enable(self, on: bool) -> None:
        """Downloads on (a table is shown) or off (nothing in scope)."""
        self.csv_button.disabled = self.xlsx_button.disabled = not on

    def current(self) -> pd.DataFrame | None:
        """The table shown (and saved by the downloads), fetching the co-occurrence table on first view."""
        ex, s = self.ex, self.ex._snap
        if s is None or ex.empty:
            return None
        view = self.view.value
        if view == "evidence":
            return ex.evidence_table
        if view in ("cooccurrence", "recurrence", "trend") and view not in s.tables and view not in s.refused:
            # asked when shown (in public mode, published only then): co-occurrence with its tests, recurrence, and
            # single years when the heat map drew five-year periods
            table = refusable(s.refused, view, lambda: ex.view_table(s, view))
            if table is not None:
                s.tables[view] = table
        return s.tables.get(view)

    def render(self) -> None:
        """Draw the table view chosen."""
        s = self.ex._snap
        if s is None or self.ex.empty:
            return
        table = self.current()
        if table is None:
            why = s.refused.get(self.view.value)
            self.note.value = ""
            self.html.value = (panels.refused(why, REFUSED_HINT)[1] if why else "<div class='ltw-note'>Nothing to show yet.</div>")
            return
        self.note.value, self.html.value = panels.table_panel(table, self.view.value, s, self.ex.version)

    # ---- downloads
    def file_stem(self) -> str:
        """lt-workbench-<view>-<frame>-level<N>-<disclosure>: what a downloaded file holds, in its name."""
        s = self.ex._snap
        view = self.view.value
        if s is None:
            return "lt-workbench"
        level = f"-level{s.level}" if view != "evidence" else ""
        return f"lt-workbench-{view}-{s.frame}{level}-{s.disclosure}"

    def about(self) -> pd.DataFrame:
        """The Excel file's 'about' sheet: which table, filters, unit, disclosure, notes."""
        s = self.ex._snap
        table = self.current()
        attrs = table.attrs if table is not None else {}
        rows = [
            ("table", panels.TABLE_VIEWS.get(self.view.value, self.view.value)),
            ("frame", FRAME_CHOICES.get(s.frame, s.frame) if s else ""),
            ("depth", DEPTH_LABELS[s.frame][s.level] if s else ""),
            ("filters", s.description if s else ""),
            ("unit", str(attrs.get("unit_label", attrs.get("unit", "")))),
            ("disclosure", str(attrs.get("disclosure", s.disclosure if s else ""))),
            ("note", str(attrs.get("note", ""))),
            ("description", str(attrs.get("description", ""))),
            ("test", str(attrs.get("test", "") or "")),
            ("interval", str(attrs.get("interval", "") or "")),
            ("caveat", tab.PERFORMANCE_CAVEAT),
            ("source", "lt_workbench.analysis via the explorer (lt_workbench.explorer)"),
        ]
        return pd.DataFrame([r for r in rows if r[1]], columns=["item", "value"])

    def _shown(self) -> pd.DataFrame:
        table = self.current()
        if table is None:
            raise TabulationError("no table to download: the filters leave no reviews; widen them (or set one back to Any)")
        return table

    def csv_bytes(self) -> bytes:
        """The table shown as CSV (the same text `lt-workbench tabulate ... --format csv` writes)."""
        return table_csv(self._shown())

    def xlsx_bytes(self) -> bytes:
        """The table shown as an Excel workbook: sheet 'table' and sheet 'about'."""
        return table_xlsx(self._shown(), self.about())

    def _csv_payload(self) -> tuple[str, str, bytes]:
        with self.ex._lock:  # a download may arrive on another thread
            return f"{self.file_stem()}.csv", "text/csv", self.csv_bytes()

    def _xlsx_payload(self) -> tuple[str, str, bytes]:
        with self.ex._lock:
            return (f"{self.file_stem()}.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    self.xlsx_bytes())

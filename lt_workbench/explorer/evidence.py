"""The explorer's Evidence panel: what reviewers wrote behind the number clicked (restricted mode only).

Why a part of its own: a click names a cell (a code; a code in one year; a code with a companion
code); this part turns that into the `where` of the cell, asks the analysis API for the evidence
and shows it. Public mode says why nothing is shown: evidence is free text about children.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any, Callable

import ipywidgets as widgets
import pandas as pd

from lt_workbench.analysis.scope import cell_evidence, cell_years
from lt_workbench.explorer import panels
from lt_workbench.explorer.scheduler import running_loop
from lt_workbench.explorer.views import EvidenceTarget
from lt_workbench.model.frames import labels as frame_labels
from lt_workbench.present.fmt import year_span

if TYPE_CHECKING:
    from lt_workbench.explorer.explorer import Explorer

__all__ = ["EvidenceSection", "code_from_axis"]

_HINT = ("<div class='ltw-note'>Click a bar or a heat-map cell to see the findings and episodes behind that number "
         "(restricted mode).</div>")
_STALE = ("<div class='ltw-note'>Filters changed. Click a bar or a heat-map cell to see the findings and episodes "
          "behind that number.</div>")


def code_from_axis(label: Any) -> str | None:
    """The code of an axis label ("Words · P2.1", or a bare code)."""
    text = str(label).strip()
    if " · " in text:
        return text.rsplit(" · ", 1)[-1]
    return text or None


class EvidenceSection:
    """The evidence HTML, what was last clicked and the evidence table behind it."""

    def __init__(self, ex: Explorer) -> None:
        self.ex = ex
        self.html = widgets.HTML()
        self.target: EvidenceTarget | None = None
        self.table: pd.DataFrame | None = None

    def box(self) -> widgets.Widget:
        """The panel as laid out beside (or below) the figures."""
        box = widgets.VBox([widgets.HTML("<h3>Evidence</h3>"), self.html], layout=widgets.Layout(min_width="300px"))
        box.add_class("ltw-evidence")
        return box

    def hint(self) -> None:
        """Say how to open evidence (nothing clicked yet)."""
        self.html.value = _HINT

    def clear(self) -> None:
        """Filters changed: the old evidence no longer matches the figures."""
        if self.target is not None:
            self.html.value = _STALE
        self.target = None
        self.table = None

    def where(self, target: EvidenceTarget) -> dict[str, Any]:
        """The `where` of the clicked cell: the current filters, narrowed to its year or companion pattern.

        (Reviews holding both; within episodes `cell_evidence` narrows further, to the episodes holding both.)
        """
        s = self.ex._snap
        where = dict(s.where) if s else {}
        if target.year is not None:
            where["year"] = cell_years(where.get("year"), target.year)
        if target.with_code is not None:
            where["pattern"] = target.with_code
        return where

    def open(self, code: str, year: int | tuple[int, int] | None, with_code: str | None) -> None:
        """Show the evidence behind a cell (restricted), or why it is not shown (public)."""
        ex, s = self.ex, self.ex._snap
        if s is None:
            return
        target = EvidenceTarget(code, year, with_code)
        self.target = target
        version = ex.version
        labels = frame_labels(s.frame, version)
        what = f"<b>{html.escape(labels.get(code, code))}</b> ({html.escape(code)})"
        if with_code:
            what += (f" with <b>{html.escape(frame_labels('patterns', version).get(with_code, with_code))}</b>"
                     f" ({html.escape(with_code)})")
        if isinstance(year, tuple):
            what += f" in {year[0]}–{year[1]}"
        elif year is not None:
            what += f" in {year}"
        ex.charts.highlight(code, ex.bar_codes, ex.codes)
        if s.disclosure != "restricted":
            self.table = None
            ex.table.set_views(evidence=False)
            self.html.value = (
                f"<div class='ltw-status ltw-empty'>You chose {what}.<br><b>Evidence is not shown in public mode.</b> "
                "It is what reviewers wrote about individual children and families (free text), which never appears "
                "in public output. Inside the secure environment, switch <i>Disclosure</i> to <b>Restricted</b> and "
                "click again.</div>")
            return
        unit = ex._pair_unit(s) if with_code is not None else s.unit
        table = cell_evidence(code, frame=s.frame, unit=unit, where=s.where, year=year, with_code=with_code, con=ex.con,
                              version=version)
        self.table = table
        ex.table.set_views(evidence=True)
        self.html.value = panels.evidence_panel(table, what, s, target, version)

    def failed(self, e: BaseException) -> None:
        """Show why the evidence could not be opened (in the panel, not only in the kernel log)."""
        self.html.value = (f"<div class='ltw-status ltw-error'><b>Could not open the evidence</b>: "
                           f"{html.escape(str(e))}</div>")

    # ---- clicks (plotly's on_click signature): the work is queued onto the explorer's home thread
    def guarded(self, fn: Callable[[], None]) -> None:
        """A click's work, on the home thread; an error shows in the evidence panel, not only in the kernel log."""
        ex = self.ex

        def run() -> None:
            try:
                with ex._lock:
                    fn()
            except Exception as e:
                ex.last_error = e
                self.failed(e)
                if running_loop() is None:
                    raise

        ex._sched.dispatch(run)

    def on_bar_click(self, _trace: Any, points: Any, _state: Any) -> None:
        """A bar (or its "n of N" label): the evidence behind that code."""
        ex = self.ex
        if points.point_inds and 0 <= points.point_inds[0] < len(ex.bar_codes):
            code = ex.bar_codes[points.point_inds[0]]
            self.guarded(lambda: ex._open_evidence(code, None, None))

    def on_year_click(self, _trace: Any, points: Any, _state: Any) -> None:
        """A cell of the year heat map: the code in that year (or period)."""
        code = code_from_axis(points.ys[0]) if points.xs else None
        span = year_span(points.xs[0]) if code else None  # a year, or a period "2008-2012"
        if code and span:
            when: int | tuple[int, int] = span[0] if span[0] == span[1] else span
            self.guarded(lambda: self.ex._open_evidence(code, when, None))

    def on_pair_click(self, _trace: Any, points: Any, _state: Any) -> None:
        """A cell of the "found together" heat map: the row's code with the column's."""
        if not points.xs:
            return
        a, b = code_from_axis(points.ys[0]), code_from_axis(points.xs[0])
        if a and b and a != b:
            self.guarded(lambda: self.ex._open_evidence(a, None, b))

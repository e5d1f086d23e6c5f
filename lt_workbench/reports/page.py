"""The words on a report's page around its numbers: header, key findings, symbols, how to read; the axes
notebooks share (a frame's codes, periods, series breaks).

Part of `ReportContext` (context.py), which adds the tables; kept apart so each part has room.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from lt_workbench.reports.registry import COMMON_PARAMETERS, PROFILE_NAMES
from lt_workbench.reports.settings import ReportSettings
from lt_workbench.reports.text import Finding, how_to_read, show_findings, show_html

__all__ = ["ReportPage"]

_FINDINGS_ID = "lt-key-findings"


@dataclass
class ReportPage(ReportSettings):
    """Settings (ReportSettings) and the words around the numbers; the key findings noted by the sections."""

    findings: list[Finding] = field(default_factory=list)

    # -- words on the page
    def header(self) -> None:
        """The first screen: scope, data snapshot, taxonomy, package version and disclosure mode."""

        from lt_workbench import __version__
        from lt_workbench.analysis.disclosure import RESTRICTED_NOTE
        from lt_workbench.present.figures import init_notebook

        init_notebook()
        snap = self.snapshot
        if self.public:
            mode = '<span class="lt-mode public">PUBLIC</span>'
            mode_text = (f"Safe to share: counts from 1 to {self.threshold - 1}, and any number that would reveal one, are shown as "
                         f"<b>c</b> ({PROFILE_NAMES[self.profile]} rules); no free text from reviews and no local area names. "
                         "See <i>How to read this report</i> at the end.")
            banner = ""
        else:
            mode = '<span class="lt-mode restricted">RESTRICTED</span>'
            mode_text = ("Full numbers and reviewers' own words. Not for publication. "
                         "See <i>How to read this report</i> at the end.")
            banner = f'<div class="lt-banner">{html.escape(RESTRICTED_NOTE)}</div>'
        rows = [
            ("Scope", self.scope_words()),
            ("Data snapshot", f"{snap['reviews']:,} reviews ({snap['children']:,} children) loaded, completed {snap['years']}; "
                              f"last load {snap['last_load']}; content hash {snap['content_hash']}"),
            ("Database", Path(self.db).name),
            ("Coding frames", f"taxonomy {snap['taxonomy_versions']} (SCIE Learning together: patterns typology, contributory "
                              "factors framework, practice points)"),
            ("Produced by", f"lt-workbench {__version__}, report “{self.name}”"),
            ("Disclosure", f"{mode} {mode_text}"),
        ]
        extra = {p.name: self.params[p.name] for p in self.spec.params
                 if p.name not in {c.name for c in COMMON_PARAMETERS} and self.params[p.name] is not None}
        if extra:
            rows.insert(1, ("Report settings", ", ".join(f"{k} = {v if not isinstance(v, list) else ', '.join(v)}" for k, v in extra.items())))
        dl = "".join(f"<dt>{html.escape(k)}</dt><dd>{v if k == 'Disclosure' else html.escape(str(v))}</dd>" for k, v in rows)
        show_html(f'{banner}<div class="lt-header"><h2>About this report</h2><dl>{dl}</dl></div>')
        # Filled in by key_findings() once the sections below have shown their tables.
        show_html('<div class="lt-findings"><h2>Key findings</h2><p>(being computed)</p></div>', display_id=_FINDINGS_ID)

    def note(self, finding: Finding | None) -> None:
        """Keep a key finding read off a table a section has just shown (None: nothing to say)."""
        if finding is not None:
            self.findings.append(finding)

    def key_findings(self) -> None:
        """Show the key findings noted by the sections (at most six) in the box at the top of the report."""
        shown, page = show_findings(self.findings)
        self.findings = shown
        show_html(page, display_id=_FINDINGS_ID, update=True)

    def symbols(self, unit: str) -> str:
        """The one-line note under a table: unit and what the symbols mean."""
        if self.public:
            return (f"Unit: {unit}. c = hidden to protect children (a count from 1 to {self.threshold - 1}, or one that would "
                    "reveal it); 0 is a true zero; z = not applicable.")
        return f"Unit: {unit}. Restricted: full numbers, not for publication."

    def how_to_read(self) -> None:
        from lt_workbench.present.figures import show_text

        show_text(how_to_read(self.mode, self.profile, self.threshold))

    # -- building blocks the notebooks share
    def frame_codes(self, frame: str, level: int | None = None) -> pd.DataFrame:
        """code, label, parent, depth of a frame in its own order (for complete axes: zeros are shown too)."""
        from lt_workbench.model.frames import taxonomy_frame

        t = taxonomy_frame(self.version)
        t = t[t["frame"] == frame]
        if level is not None:
            t = t[t["depth"] == level]
        return t[["code", "label", "parent", "depth", "description"]].reset_index(drop=True)

    def periods(self, width: int) -> list[int]:
        """Start years of `width`-year periods covering the data (on the grid from 2008), the last one open-ended,
        so period labels never run past the data ("2023 onwards", not "2023-2027")."""
        years = str(self.snapshot.get("years", ""))
        m = re.match(r"(\d{4})\D+(\d{4})", years)
        lo, hi = (int(m.group(1)), int(m.group(2))) if m else (2008, dt.date.today().year)
        if self.params["year_from"] is not None:
            lo = max(lo, self.params["year_from"])
        if self.params["year_to"] is not None:
            hi = min(hi, self.params["year_to"])
        first = 2008 + ((lo - 2008) // width) * width
        starts = list(range(first, hi + 1, width))
        return starts or [lo]

    def series_breaks(self) -> list[tuple[int, int, str]]:
        """(first year, last year, short label) of each series break, for shading charts."""
        from lt_workbench.analysis.tabulate import SERIES_BREAKS

        return [(b["from_year"], b["to_year"], "SCR → CSPR") for b in SERIES_BREAKS]

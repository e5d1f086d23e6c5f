"""The JupyterLab explorer (ipywidgets + plotly) over the analysis API.

Rooms: `filters` (FilterPanel, PatternPicker: widget values -> `where`), `scheduler` (debounce,
generation counter, lock, home thread), `views` (the three figures), `panels` (table and evidence
HTML), `table` and `evidence` (the sections under and beside the figures), `download`
(DownloadButton, CSV and Excel files), `release` (the session joins the snapshot's release in public
mode), `explorer` (Explorer: orchestration only).
"""

from lt_workbench.analysis.scope import ScopeOptions, scope_options
from lt_workbench.explorer.download import DownloadButton
from lt_workbench.explorer.explorer import Explorer
from lt_workbench.explorer.filters import ANY, FRAME_CHOICES, FilterPanel, PatternPicker
from lt_workbench.explorer.views import EvidenceTarget

__all__ = [
    "ANY",
    "FRAME_CHOICES",
    "FilterPanel",
    "PatternPicker",
    "DownloadButton",
    "Explorer",
    "EvidenceTarget",
    "ScopeOptions",
    "scope_options",
]

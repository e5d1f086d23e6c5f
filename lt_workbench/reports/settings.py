"""A report's settings: its checked parameters, scope, disclosure settings and data snapshot.

Why a module of its own: `ReportContext` (context.py) does three jobs, each in its own class: these
settings (what the report is about, under which rules), the words on the page around the numbers
(page.py), and the tables (context.py). This part reads the parameters and the snapshot only.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from lt_workbench import config
from lt_workbench.reports.parameters import database_areas, scope_where, scope_words, vocabulary
from lt_workbench.reports.registry import ReportSpec, get_spec

__all__ = ["ReportSettings"]


@dataclass
class ReportSettings:
    """The report's name, checked parameters and data snapshot, and what follows from them (mode, scope, as-of date)."""

    name: str
    params: dict[str, Any]
    snapshot: dict[str, Any]
    version: str = config.DEFAULT_TAXONOMY_VERSION

    # -- settings
    @property
    def spec(self) -> ReportSpec:
        return get_spec(self.name)

    @property
    def db(self) -> str:
        return str(self.params["db"])

    @property
    def mode(self) -> str:
        return str(self.params["disclosure"])

    @property
    def public(self) -> bool:
        return self.mode == "public"

    @property
    def profile(self) -> str:
        return str(self.params["profile"])

    @property
    def threshold(self) -> int:
        from lt_workbench.analysis.disclosure import PROFILES

        return self.params["min_cell"] if self.params["min_cell"] is not None else PROFILES[self.profile].threshold

    @property
    def where(self) -> dict[str, Any]:
        """The scope as the `where` mapping the analysis API takes."""
        return scope_where(self.params)

    def labels(self, frame: str) -> dict[str, str]:
        return vocabulary(frame, self.version)

    def label(self, frame: str, code: str) -> str:
        return self.labels(frame).get(code, code)

    def as_of(self) -> str:
        """The date overdue is judged at: the as_of parameter, else the date of the last data load (reproducible)."""
        value = self.params.get("as_of")
        if value:
            return str(value)
        last = str(self.snapshot.get("last_load") or "")
        return last[:10] if last and last != "never" else dt.date.today().isoformat()

    # -- scope in words
    def area_names(self) -> dict[str, str]:
        """area code -> name (restricted reports only: public reports never name areas)."""
        if self.public:
            return {}
        areas = database_areas(self.db)
        return {str(c): str(n) for c, n in zip(areas["area_code"], areas["area_name"], strict=True)}

    def area_name(self) -> str | None:
        """The name of the area in scope (restricted reports only: public reports never name areas)."""
        if self.params["area"] is None or self.public:
            return None
        return self.area_names().get(self.params["area"])

    def scope_words(self) -> str:
        return scope_words(self.params, self.area_name())

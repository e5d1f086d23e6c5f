"""What the database holds that the coding frames cannot tell: the years present and the areas reviewed.

Why: choices offered to a user (the explorer's year slider and area dropdown) must come from the
analysis API like every number, not from SQL written in a widget. The queries are static files
under `lt_workbench/sql/queries/` (grain in their header); this module only runs them and returns
plain values. Reading never writes.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pandas as pd

from lt_workbench.model.db import sql_file

__all__ = ["ScopeOptions", "scope_options"]

_EMPTY_YEAR = 2008  # a database with no reviews yet still needs a slider: one year, the frames' first


@dataclass(frozen=True)
class ScopeOptions:
    """Years (of completion) present, and the areas with at least one review (area_code, area_name, region, nation)."""

    year_min: int
    year_max: int
    areas: pd.DataFrame


def scope_options(con: duckdb.DuckDBPyConnection) -> ScopeOptions:
    """The years and areas of the reviews in the database (an empty database: one year, no areas)."""
    row = con.execute(sql_file("queries/scope_years.sql")).fetchone()
    lo, hi = (row if row is not None else (None, None))
    areas = con.execute(sql_file("queries/scope_areas.sql")).df()
    if lo is None or hi is None:
        lo = hi = _EMPTY_YEAR
    return ScopeOptions(int(lo), int(hi), areas)

"""Scope for interactive use: what the database holds (years present, areas reviewed) and exactly
which units stand behind one cell of a table (the evidence a click opens).

Why: choices offered to a user (the explorer's year slider and area dropdown) and the evidence
behind a clicked number must come from the analysis API like every number, not from SQL written in
a widget. The queries are static files under `lt_workbench/sql/queries/` (grain in their header);
this module runs them and `records.evidence`, and returns plain values. Reading never writes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import duckdb
import pandas as pd

from lt_workbench.analysis.records import evidence
from lt_workbench.config import DEFAULT_TAXONOMY_VERSION
from lt_workbench.exceptions import TabulationError
from lt_workbench.model.db import sql_file

__all__ = ["ScopeOptions", "scope_options", "cell_evidence", "cell_years", "CELL_UNITS"]

# Units whose members an evidence table names, so "the units behind the cell" can be counted from it.
CELL_UNITS = ("review", "episode", "area")

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


def _qualifiers(value: Any) -> list[str] | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return [value]
    if isinstance(value, Sequence):
        return [str(v) for v in value]
    return [str(value)]


def cell_years(scope: Any, cell: int | tuple[int, int]) -> int | range:
    """The years of a cell within the years of the scope: one year, or a period (first, last) cut to the scope's
    years (a period 2013-2017 of a table filtered to 2015 onwards holds 2015-2017)."""
    if isinstance(cell, int):
        return cell
    first, last = cell
    if isinstance(scope, range) and len(scope):
        first, last = max(first, scope.start), min(last, scope.stop - 1)
    elif isinstance(scope, int):
        first, last = max(first, scope), min(last, scope)
    return range(first, last + 1)


def cell_evidence(
    code: str,
    *,
    frame: str,
    unit: str,
    where: Mapping[str, Any],
    con: duckdb.DuckDBPyConnection,
    year: int | tuple[int, int] | None = None,
    with_code: str | None = None,
    version: str = DEFAULT_TAXONOMY_VERSION,
) -> pd.DataFrame:
    """The evidence behind one cell: the codings of `code` in exactly the units that cell counts.

    A cell of a frequency or trend table (code, optionally one `year` or a period (first, last)) counts `unit`s holding the code
    under `where`. A cell of a co-occurrence table (`with_code`, a pattern) counts units holding both:
    reviews (both somewhere in the review) or episodes (the pattern's finding rests on the episode the
    code was coded on, as `cooccurrence` counts them; a pattern filtered by direction keeps that
    direction). Restricted only, like `evidence`. `df.attrs["units"]` is the number of units behind the
    cell, counted from the rows (reviews, episodes or areas; None for units the rows do not name),
    which equals the cell's count; `df.attrs["unit"]` names the unit.
    """
    w = dict(where)
    if year is not None:
        w["year"] = cell_years(w.get("year"), year)
    if with_code is not None and unit not in ("review", "episode"):
        raise TabulationError(f"co-occurrence counts reviews or episodes, not {unit!r}")
    out = evidence(code, frame=frame, where=w, con=con, version=version)
    if unit == "episode":
        # An episode is counted only where the code rests on it: rows without an episode count nothing.
        out = out[out["episode_id"].notna()] if "episode_id" in out else out.iloc[0:0]
    if with_code is not None:
        # The companion pattern in the same unit, with the direction the cell was filtered on (as co-occurrence counts).
        params = {"frame": "patterns", "code": with_code, "qualifiers": _qualifiers(w.get("direction"))}
        key = ["review_id", "episode_id"] if unit == "episode" else ["review_id"]
        both = con.execute(sql_file(f"queries/{unit}s_with_code.sql"), params).df()
        out = out.merge(both[key].drop_duplicates(), on=key, how="inner")
    out = out.reset_index(drop=True)
    attrs = dict(out.attrs)
    if unit == "review":
        units: int | None = int(out["review_id"].nunique())
    elif unit == "episode":
        units = int(len(out[["review_id", "episode_id"]].drop_duplicates()))
    elif unit == "area":
        units = int(out["area_code"].nunique())
    else:
        units = None
    attrs.update({"unit": unit, "units": units, "with_code": with_code, "year": year})
    out.attrs = attrs
    return out

"""Recommendations: counts by kind, level and status, overdue items, and patterns no recommendation addresses.
"""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path
from typing import Any, Mapping, Sequence

import duckdb
import pandas as pd

from lt_workbench.analysis import stats
from lt_workbench.analysis.plan import _coding_lists, _connection, _scope, _scope_plan, refuse_public_area
from lt_workbench.analysis.queries import query
from lt_workbench.analysis.publish import _refuse_public, _restricted_note, apply_disclosure
from lt_workbench.analysis.shape import _with_rates
from lt_workbench.analysis.vocab import _TOTAL, FRAMES, Disclosure, _codes, _labels, _terms, canonical_where
from lt_workbench.config import DEFAULT_TAXONOMY_VERSION
from lt_workbench.exceptions import TabulationError

__all__ = ["recommendations", "overdue", "unaddressed_patterns", "recommendation_status", "overdue_ages", "STATUS_GROUPS", "OVERDUE_BANDS"]


_REC_DIMS = {"kind": "recommendation_kind", "level": "recommendation_level", "status": "recommendation_status"}


def recommendations(
    *,
    by: Sequence[str] = ("level", "status"),
    where: Mapping[str, Any] | None = None,
    year_basis: str = "completed",
    totals: bool = False,
    db: str | Path | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
    disclosure: Disclosure = "restricted",
    profile: str = "dfe",
    threshold: int | None = None,
    version: str = DEFAULT_TAXONOMY_VERSION,
) -> pd.DataFrame:
    """Recommendations by kind (the code column) x level x status: unit = recommendation.

    Every combination appears (0 is a true zero); denominator = all recommendations in scope, so percents
    across the whole table add to 100. `totals=True` adds 'All' rows for level and status.
    """
    dims = list(by)
    for d in dims:
        if d not in ("level", "status"):
            raise TabulationError(f"recommendations are tabulated by kind (rows) x level and/or status, not {d!r}")
    refuse_public_area(where, disclosure)
    where = dict(where or {})
    with _connection(db, con) as c:
        plan = _scope_plan(c, "patterns", where, year_basis, version)
        scope_sql, sp = _scope(plan)
        recs = c.execute(f"{scope_sql}\n{query('scoped_recommendations')}", sp).df()
        vocab = {k: [str(t[0]) for t in _terms(c, f, version)] for k, f in _REC_DIMS.items()}
        kind_labels = _labels(c, "recommendation_kind", version)
    grid = pd.DataFrame({"code": vocab["kind"]})
    for d in dims:
        grid = grid.merge(pd.DataFrame({d: vocab[d]}), how="cross")
    counted = recs.groupby(["kind", *dims]).size().rename("count").reset_index().rename(columns={"kind": "code"})
    out = grid.merge(counted, on=["code", *dims], how="left")
    out["count"] = out["count"].fillna(0).astype("int64")
    if totals and dims:
        extra = []
        for keep in itertools.product(*[[True, False] for _ in dims]):
            if all(keep):
                continue
            kept = [d for d, k in zip(dims, keep, strict=True) if k]
            g = out.groupby(["code", *kept], sort=False)["count"].sum().reset_index()
            for d, k in zip(dims, keep, strict=True):
                if not k:
                    g[d] = _TOTAL
            extra.append(g)
        out = pd.concat([out.astype({d: object for d in dims}), *extra], ignore_index=True)
    out["denominator"] = len(recs)
    out.insert(1, "label", out["code"].map(kind_labels))
    order = {d: {v: i for i, v in enumerate(vocab[d] + [_TOTAL])} for d in ["kind", *dims]}
    out["_k"] = out["code"].map(order["kind"])
    keys = ["_k"]
    for d in dims:
        out[f"_{d}"] = out[d].map(order[d])
        keys.append(f"_{d}")
    out = out.sort_values(keys, kind="mergesort").drop(columns=keys).reset_index(drop=True)
    out = _with_rates(out)
    attrs = {"table": "recommendations", "unit": "recommendation", "unit_label": "recommendations", "by": ["kind", *dims],
             "where": canonical_where(plan.where), "lines": [[d] for d in dims] if totals else [], "partition": False, "interval": stats.WILSON_METHOD}
    return apply_disclosure(out, attrs, disclosure=disclosure, profile=profile, threshold=threshold)


def overdue(
    as_of: dt.date | str | None = None,
    *,
    where: Mapping[str, Any] | None = None,
    include_not_accepted: bool = False,
    year_basis: str = "completed",
    db: str | Path | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
    disclosure: Disclosure = "restricted",
    version: str = DEFAULT_TAXONOMY_VERSION,
) -> pd.DataFrame:
    """Recommendations whose due date is before `as_of` (default today) and that are not completed.

    Not-accepted recommendations are left out unless include_not_accepted: nobody is working to their date.
    Restricted: one row per recommendation, with its text. Oldest due first.
    """
    _refuse_public("overdue", disclosure)
    day = dt.date.fromisoformat(as_of) if isinstance(as_of, str) else (as_of or dt.date.today())
    statuses = ["completed"] + ([] if include_not_accepted else ["not_accepted"])
    with _connection(db, con) as c:
        plan = _scope_plan(c, "patterns", dict(where or {}), year_basis, version)
        scope_sql, sp = _scope(plan)
        out = c.execute(f"{scope_sql}\n{query('scoped_overdue')}", sp + [day, day, statuses]).df()
    out.attrs.update({"table": "overdue", "as_of": day.isoformat(), "unit": "recommendation", "disclosure": "restricted",
                      "where": canonical_where(plan.where),
                      "note": _restricted_note()})
    return out


def unaddressed_patterns(
    *,
    level: int | None = None,
    where: Mapping[str, Any] | None = None,
    detail: bool = False,
    year_basis: str = "completed",
    db: str | Path | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
    disclosure: Disclosure = "restricted",
    profile: str = "dfe",
    threshold: int | None = None,
    version: str = DEFAULT_TAXONOMY_VERSION,
) -> pd.DataFrame:
    """Patterns found in reviews that no recommendation of the same review addresses.

    Per code (rolled up): count = reviews with an unaddressed finding of the code, denominator = reviews
    with the code. A recommendation addresses a finding when it lists the finding's code or an ancestor
    (mart_unaddressed_findings). `detail=True` lists the findings instead (restricted only).
    `where` may include direction='unsafe' to leave constructive patterns out.
    """
    refuse_public_area(where, disclosure)
    where = dict(where or {})
    with _connection(db, con) as c:
        plan = _scope_plan(c, "patterns", where, year_basis, version, level=level)
        scope_sql, sp = _scope(plan)
        dirs, _ = _coding_lists(plan, "patterns")  # direction='unsafe' keeps unsafe findings only
        if detail:
            _refuse_public("unaddressed_patterns(detail=True)", disclosure)
            out = c.execute(f"{scope_sql}\n{query('scoped_unaddressed_findings')}", sp + [version, dirs, dirs]).df()
            out.attrs.update({"table": "unaddressed_findings", "unit": "finding", "disclosure": "restricted", "note": _restricted_note()})
            return out
        codes = _codes(c, FRAMES["patterns"], level, version)
        counts = c.execute(f"{scope_sql}\n{query('scoped_unaddressed_counts')}", sp + [dirs] * 4).df()
    out = codes[["code", "label"]].merge(counts, on="code", how="left")
    out["count"] = out["count"].fillna(0).astype("int64")
    out["denominator"] = out["denominator"].fillna(0).astype("int64")
    out = _with_rates(out)
    attrs: dict[str, Any] = {"table": "unaddressed_patterns", "unit": "review", "unit_label": "reviews", "level": level,
             "where": canonical_where(plan.where),
             "description": "count: reviews with a finding of the code that no recommendation of the review addresses; "
                            "denominator: reviews with the code.", "lines": [], "partition": False, "interval": stats.WILSON_METHOD}
    return apply_disclosure(out, attrs, disclosure=disclosure, profile=profile, threshold=threshold)


# --------------------------------------------------------------------------------------------
# Progress of recommendations at a date (the recommendations tracker's figures)

STATUS_GROUPS: dict[str, str] = {"completed": "Completed", "open": "Open, not yet due", "overdue": "Overdue",
                                 "not_accepted": "Not accepted"}
# (code, label, first day, last day) of how long an overdue recommendation has been overdue.
OVERDUE_BANDS: tuple[tuple[str, str, int, int], ...] = (
    ("under_6_months", "Less than 6 months", 0, 182), ("6_to_12_months", "6 to 12 months", 183, 365),
    ("1_to_2_years", "1 to 2 years", 366, 730), ("over_2_years", "More than 2 years", 731, 10**7),
)
_STATUS_BY = {"agency": "agency", "kind": "recommendation_kind", "level": "recommendation_level"}


def _day(as_of: dt.date | str | None) -> dt.date:
    if isinstance(as_of, dt.date):
        return as_of
    if as_of is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(as_of)
    except ValueError:
        raise TabulationError(f"as_of={as_of!r}: write the date as YYYY-MM-DD, e.g. 2026-03-31") from None


def _status_rows(c: duckdb.DuckDBPyConnection, where: Mapping[str, Any], year_basis: str, version: str, day: dt.date) -> pd.DataFrame:
    """One row per recommendation in scope with its status group and days overdue at `day` (sql/queries/recommendation_status.sql)."""
    from lt_workbench.model.db import sql_file

    plan = _scope_plan(c, "patterns", dict(where), year_basis, version)
    scope_sql, sp = _scope(plan)
    return c.execute(f"{scope_sql}\n{sql_file('queries/recommendation_status.sql')}", sp + [day, day]).df()


def recommendation_status(
    by: str = "kind",
    *,
    as_of: dt.date | str | None = None,
    where: Mapping[str, Any] | None = None,
    year_basis: str = "completed",
    db: str | Path | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
    disclosure: Disclosure = "restricted",
    profile: str = "dfe",
    threshold: int | None = None,
    version: str = DEFAULT_TAXONOMY_VERSION,
) -> pd.DataFrame:
    """Recommendations by agency, kind or level (`by`) x status group at `as_of` (default today), with 'All' rows.

    Unit: recommendation. code = status group (completed, open, overdue, not_accepted); count =
    recommendations of that agency/kind/level in that group; denominator = all recommendations of that
    agency/kind/level, so percentages read across a row and each row's groups add up to its total
    (disclosure control protects them as such). Agencies not recorded appear as 'not_recorded'.
    """
    if by not in _STATUS_BY:
        raise TabulationError(f"recommendation_status by agency, kind or level, not {by!r}")
    day = _day(as_of)
    with _connection(db, con) as c:
        rows = _status_rows(c, where or {}, year_basis, version, day)
        order = list(c.execute("SELECT code FROM taxonomy WHERE frame = ? AND version = ? ORDER BY sort_key",
                               [_STATUS_BY[by], version]).df()["code"])
    present = set(rows[by])
    values = [v for v in order if v in present] + sorted(present - set(order))
    records = []
    for value in [*values, _TOTAL]:
        sub = rows if value == _TOTAL else rows[rows[by] == value]
        for code, label in STATUS_GROUPS.items():
            records.append({"code": code, "label": label, by: value, "count": int((sub["status_group"] == code).sum()),
                            "denominator": len(sub)})
    out = _with_rates(pd.DataFrame(records, columns=["code", "label", by, "count", "denominator"]))
    attrs = {"table": "recommendation_status", "unit": "recommendation", "unit_label": "recommendations", "by": [by],
             "where": dict(where or {}), "as_of": day.isoformat(), "lines": [[by]], "partition": True,
             "interval": stats.WILSON_METHOD,
             "description": f"count: recommendations in each status group at {day.isoformat()}; denominator: all "
                            f"recommendations of the {by}. Overdue: due before that date, neither completed nor not accepted."}
    return apply_disclosure(out, attrs, disclosure=disclosure, profile=profile, threshold=threshold)


def overdue_ages(
    *,
    as_of: dt.date | str | None = None,
    where: Mapping[str, Any] | None = None,
    year_basis: str = "completed",
    db: str | Path | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
    disclosure: Disclosure = "restricted",
    profile: str = "dfe",
    threshold: int | None = None,
    version: str = DEFAULT_TAXONOMY_VERSION,
) -> pd.DataFrame:
    """Overdue recommendations at `as_of` by how long overdue (OVERDUE_BANDS); unit: recommendation.

    count = overdue recommendations in the band; denominator = all overdue recommendations in scope (the
    bands partition them). Overdue as in recommendation_status.
    """
    day = _day(as_of)
    with _connection(db, con) as c:
        rows = _status_rows(c, where or {}, year_basis, version, day)
    days = rows.loc[rows["status_group"] == "overdue", "days_overdue"]
    out = _with_rates(pd.DataFrame([{"code": code, "label": label, "count": int(((days >= lo) & (days <= hi)).sum()),
                                     "denominator": len(days)} for code, label, lo, hi in OVERDUE_BANDS],
                                   columns=["code", "label", "count", "denominator"]))
    attrs = {"table": "overdue_ages", "unit": "recommendation", "unit_label": "overdue recommendations",
             "where": dict(where or {}), "as_of": day.isoformat(), "lines": [], "partition": True, "interval": stats.WILSON_METHOD,
             "description": f"count: recommendations overdue at {day.isoformat()} by how long; denominator: all overdue."}
    return apply_disclosure(out, attrs, disclosure=disclosure, profile=profile, threshold=threshold)

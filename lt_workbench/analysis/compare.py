"""Which codes recur, and one group against the rest: recurrence (with the recent-years test),
compare (Fisher per code) and funnel-plot data.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, Mapping

import duckdb
import numpy as np
import pandas as pd

from lt_workbench.analysis import stats
from lt_workbench.analysis.frequency import frequency
from lt_workbench.analysis.plan import _coding_lists, _connection, _plan, _scope, refuse_public_area
from lt_workbench.analysis.queries import query
from lt_workbench.analysis.joint import _protect_pairs, _protect_recurrence
from lt_workbench.analysis.publish import Build, deliver, profile_threshold, tidy_build
from lt_workbench.analysis.shape import _fisher_columns, _pct, rank
from lt_workbench.analysis.vocab import (
    DIMENSIONS,
    PERFORMANCE_CAVEAT,
    UNIT_LABELS,
    Disclosure,
    _codes,
    _dim,
    _terms,
    canonical_where,
    frame_spec,
)
from lt_workbench.config import DEFAULT_TAXONOMY_VERSION
from lt_workbench.exceptions import TabulationError

__all__ = ["recurrence", "compare", "funnel"]


def recurrence(
    frame: str = "patterns",
    *,
    level: int | None = None,
    recent_years: int = 5,
    as_of_year: int | None = None,
    where: Mapping[str, Any] | None = None,
    year_basis: str = "completed",
    or_kind: Literal["conditional", "sample"] = "sample",
    db: str | Path | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
    disclosure: Disclosure = "restricted",
    profile: str = "dfe",
    threshold: int | None = None,
    version: str = DEFAULT_TAXONOMY_VERSION,
    sort: Literal["count", "q"] | None = None,
    top: int | None = None,
) -> pd.DataFrame:
    """Per code: how widespread (reviews, areas, regions, first and last year) and how current.

    The seed's two criteria for prioritising patterns made visible: share of reviews in the most recent
    `recent_years` (ending at `as_of_year`, default the latest year in scope) against the years before,
    with a Fisher exact test, odds ratio and Benjamini-Hochberg q-value across all codes tested. Sorted by
    reviews then areas (most widespread first), ties in frame order; `sort="q"` orders by q-value instead,
    `top` keeps the first rows. In public mode the ranking uses the figures as shown (hidden last).

    The overall columns (reviews, denominator, percent) count what frequency() counts for the same filters
    and years up to the window's end, and in public mode are protected as the same question (one cell
    across the release), so `tabulate` and `recurrence` show the same number.
    """
    if recent_years < 1:
        raise TabulationError(f"recent_years must be at least 1, got {recent_years}")
    profile_threshold(profile, threshold)
    refuse_public_area(where, disclosure)
    where = dict(where or {})
    with _connection(db, con) as c:
        plan = _plan(c, frame, "review", (), where, level, year_basis, 5, version)
        plan.extra_recorded = [DIMENSIONS["year"]]
        spec = plan.frame
        scope_sql, sp = _scope(plan)
        last = as_of_year if as_of_year is not None else c.execute(f"{scope_sql} SELECT max(year) FROM scope", sp).fetchall()[0][0]
        codes = _codes(c, spec, level, version)
        if last is None:
            cutoff = 0
        else:
            cutoff = int(last) - recent_years + 1
        qualifiers, roots = _coding_lists(plan, spec.name)
        upto = int(last) if last is not None else 0
        counts = c.execute(f"{scope_sql}\n{query('scoped_recurrence')}",
                           sp + [cutoff, upto, cutoff, spec.name, level, level, upto, qualifiers, qualifiers, roots, roots]).df()
        den = c.execute(f"{scope_sql}\n{query('scoped_recurrence_denominators')}", sp + [cutoff, upto, cutoff]).fetchall()[0]
    out = codes[["code", "label", "sort_key"]].merge(counts, on="code", how="left")
    for col in ("reviews", "areas", "regions", "reviews_recent", "reviews_before"):
        out[col] = out[col].fillna(0).astype("int64")
    out["first_year"] = out["first_year"].astype("Int64")
    out["last_year"] = out["last_year"].astype("Int64")
    out["denominator_recent"] = int(den[0])
    out["denominator_before"] = int(den[1])
    out["denominator"] = out["denominator_recent"] + out["denominator_before"]
    out["percent"] = _pct(out["reviews"], out["denominator"])
    out["percent_recent"] = _pct(out["reviews_recent"], out["denominator_recent"])
    out["percent_before"] = _pct(out["reviews_before"], out["denominator_before"])
    _fisher_columns(out, out["reviews_recent"], out["denominator_recent"], out["reviews_before"], out["denominator_before"], or_kind)
    out["q_value"], _ = stats.bh_adjust(out["p_value"])
    out = out.sort_values(["reviews", "areas", "sort_key"], ascending=[False, False, True], kind="mergesort").drop(columns="sort_key")
    out = out.reset_index(drop=True)
    window = f"{cutoff}-{upto}" if last is not None else "none"
    attrs = {
        "table": "recurrence", "frame": spec.name, "level": level, "unit": "review", "unit_label": UNIT_LABELS["review"],
        "where": canonical_where(plan.where), "year_basis": year_basis, "recent_window": window, "before_window": f"to {cutoff - 1}",
        "test": "Fisher exact test, recent years against the years before; " + stats.OR_METHODS[or_kind] + "; " + stats.BH_METHOD,
        "description": f"Unit: review. Recent = {window}; before = up to {cutoff - 1}. Areas and regions are distinct counts.",
    }
    def order(t: pd.DataFrame) -> pd.DataFrame:
        return rank(t, {"count": ("reviews", False), "q": ("q_value", True)}, sort, top)

    return _protect_recurrence(out, attrs, disclosure, profile, threshold, then=order if sort is not None or top is not None else None)



_COMPARE_DIMS = ("area", "region", "nation", "review_type", "series", "trigger", "intervention_level", "method", "year", "period")


def compare(
    frame: str = "patterns",
    *,
    group: Mapping[str, Any],
    level: int | None = None,
    where: Mapping[str, Any] | None = None,
    year_basis: str = "completed",
    or_kind: Literal["conditional", "sample"] = "conditional",
    db: str | Path | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
    disclosure: Disclosure = "restricted",
    profile: str = "dfe",
    threshold: int | None = None,
    version: str = DEFAULT_TAXONOMY_VERSION,
) -> pd.DataFrame:
    """One area, region (or other review-level group) against the rest of the reviews in scope, per code.

    Fisher exact test, odds ratio with 95% interval, Benjamini-Hochberg q across codes. attrs["caveat"]:
    counts of reviews are not a performance measure.
    """
    profile_threshold(profile, threshold)
    refuse_public_area(where, disclosure)
    refuse_public_area(group, disclosure, what="group")
    if len(group) != 1:
        raise TabulationError(f"group takes one dimension and value, e.g. {{'region': 'london'}}; got {dict(group)}")
    (gname, gvalue), = group.items()
    gdim = _dim(gname)
    if gdim.name not in _COMPARE_DIMS:
        raise TabulationError(f"compare groups by one review-level dimension ({', '.join(_COMPARE_DIMS)}), not {gname!r}")
    where = dict(where or {})
    if gdim.name in {_dim(k).name for k in where}:
        raise TabulationError(f"{gdim.name!r} is both the group and a filter; drop it from where")
    with _connection(db, con) as c:
        allv = frequency(frame, level=level, where=where, year_basis=year_basis, con=c, version=version)
        grp = frequency(frame, level=level, where={**where, gdim.name: gvalue}, year_basis=year_basis, con=c, version=version)
    out = pd.DataFrame({"code": allv["code"], "label": allv["label"]})
    out["count_group"] = grp["count"].to_numpy()
    out["denominator_group"] = grp["denominator"].to_numpy()
    out["count_rest"] = allv["count"].to_numpy() - out["count_group"]
    out["denominator_rest"] = allv["denominator"].to_numpy() - out["denominator_group"]
    out["percent_group"] = _pct(out["count_group"], out["denominator_group"])
    out["percent_rest"] = _pct(out["count_rest"], out["denominator_rest"])
    _fisher_columns(out, out["count_group"], out["denominator_group"], out["count_rest"], out["denominator_rest"], or_kind)
    out["q_value"], _ = stats.bh_adjust(out["p_value"])
    attrs = {"table": "compare", "frame": frame_spec(frame).name, "unit": "review", "unit_label": "reviews",
             "group": {gdim.name: grp.attrs["where"][gdim.name]},
             "where": allv.attrs["where"], "caveat": PERFORMANCE_CAVEAT,
             "test": "Fisher exact test; " + stats.OR_METHODS[or_kind] + "; " + stats.BH_METHOD}
    return _protect_pairs(out, attrs, disclosure, profile, threshold,
                          parts=(("group", "count_group", "denominator_group"), ("rest", "count_rest", "denominator_rest")),
                          dependent=("odds_ratio", "or_ci_low", "or_ci_high", "p_value", "q_value"), margins=(grp, allv))


def funnel(
    frame: str = "patterns",
    *,
    code: str,
    by: Literal["area", "region", "nation"] = "region",
    level: int | None = None,
    where: Mapping[str, Any] | None = None,
    year_basis: str = "completed",
    db: str | Path | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
    disclosure: Disclosure = "restricted",
    profile: str = "dfe",
    threshold: int | None = None,
    version: str = DEFAULT_TAXONOMY_VERSION,
) -> pd.DataFrame:
    """Funnel-plot data for one code: each area's (or region's) share against 95% and 99.8% limits.

    Ordered by the area or region, never by rate: a funnel compares without a league table. attrs["caveat"]
    says counts of reviews are not a performance measure.
    """
    refuse_public_area(where, disclosure)
    if by not in ("area", "region", "nation"):
        raise TabulationError(f"funnel by 'area', 'region' or 'nation', not {by!r}")
    with _connection(db, con) as c:
        spec = frame_spec(frame)
        depths = {str(code): int(depth) for code, _, depth, _ in _terms(c, spec.name, version)}
        lvl = level if level is not None else depths.get(code)
        if lvl is None:
            raise TabulationError(f"code {code!r} is not in frame {spec.cli!r} ({version})")
        table = frequency(frame, level=lvl, by=(by,), where=where, year_basis=year_basis, con=c, version=version,
                          disclosure="restricted" if disclosure == "public" else disclosure, profile=profile, threshold=threshold)
        overall = frequency(frame, level=lvl, where=where, year_basis=year_basis, con=c, version=version)
    row = overall[overall["code"] == code]
    if row.empty:
        raise TabulationError(f"code {code!r} is not in frame {spec.cli!r} at level {lvl}")
    if disclosure == "public":
        # The by-place table and the overall cell as frequency publishes them, in one problem (with a report's tables):
        # the centre line p0 is the published overall share, never the true one (p0 x denominator would give back an
        # overall count the release hides), and hidden (c) when the overall count is.
        places = tidy_build(table, {str(k): v for k, v in table.attrs.items()}, profile=profile, threshold=threshold)
        whole = tidy_build(overall, {str(k): v for k, v in overall.attrs.items()}, profile=profile, threshold=threshold)
        if places.links or whole.links:  # tidy_build makes links only for slices, which are not asked for here
            raise TabulationError("funnel: unexpected links in a by-place build")
        n = len(places.requests)

        def render(done: list[Any]) -> pd.DataFrame:
            return _funnel_limits(places.render(done[:n]), code, _share(whole.render(done[n:]), code), disclosure)

        return deliver(Build([*places.requests, *whole.requests], render, [], profile, threshold))
    return _funnel_limits(table, code, _share(overall, code), disclosure)


def _share(overall: pd.DataFrame, code: str) -> float:
    """count / denominator of `code` as the table shows them (NaN when either is hidden or the denominator is 0)."""
    row = overall[overall["code"] == code]
    count = pd.to_numeric(row["count"], errors="coerce").iloc[0]
    den = pd.to_numeric(row["denominator"], errors="coerce").iloc[0]
    return float(count) / float(den) if pd.notna(count) and pd.notna(den) and den else float("nan")


def _funnel_limits(table: pd.DataFrame, code: str, p0: float, disclosure: str) -> pd.DataFrame:
    """The funnel rows of `code` from a (protected) by-place frequency table: limits around the overall share p0."""
    t = table[table["code"] == code].reset_index(drop=True)
    den = pd.to_numeric(t["denominator"], errors="coerce")
    lim = stats.funnel_limits(den.fillna(0).to_numpy(), p0 if np.isfinite(p0) else 0.0)
    hidden = disclosure == "public" and not np.isfinite(p0)  # no centre line: no limits either
    t["p0"] = "c" if hidden else 100.0 * p0
    for name in ("lower_95", "upper_95", "lower_998", "upper_998"):
        t[name] = np.nan if hidden else 100.0 * getattr(lim, name)
    pct = pd.to_numeric(t["percent"], errors="coerce")
    t["position"] = np.select(
        [pct.isna(), pct > t["upper_998"], pct > t["upper_95"], pct < t["lower_998"], pct < t["lower_95"]],
        ["c" if disclosure == "public" else "", "above 99.8% limit", "above 95% limit", "below 99.8% limit", "below 95% limit"],
        default="within limits",
    )
    t.attrs.update(table.attrs)
    t.attrs.update({"table": "funnel", "caveat": PERFORMANCE_CAVEAT, "limits": lim.method, "p0": p0})
    return t

"""How many units have each code: frequency (by any dimensions, with totals), trend over years and
the trend tests.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal, Mapping, Sequence

import duckdb
import pandas as pd

from lt_workbench.analysis import stats
from lt_workbench.analysis.plan import _connection, _Plan, _plan, refuse_public_area
from lt_workbench.analysis.publish import apply_disclosure, profile_threshold
from lt_workbench.analysis.shape import _ordered, _with_rates
from lt_workbench.analysis.slicing import sliced_filters
from lt_workbench.analysis.vocab import (
    _FACTOR_LEVELS,
    _TOTAL,
    SERIES_BREAKS,
    UNIT_LABELS,
    Dim,
    Disclosure,
    Unit,
    YearSpan,
    _codes,
    canonical_where,
    cli_name,
    _vocab_codes,
    frame_spec,
)
from lt_workbench.config import DEFAULT_TAXONOMY_VERSION

__all__ = ["frequency", "trend", "trend_tests", "same_frame_warnings", "count_sql"]


def _count_table(con: duckdb.DuckDBPyConnection, plan: _Plan, by: Sequence[Dim]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(counts per code x by, denominators per population group) for the plan, grouped by `by`."""
    sql, params, sql2, params2 = count_sql(plan, by)
    counts = con.execute(sql, params).df()
    dens = con.execute(sql2, params2).df()
    if not any(d.level != "coding" or plan.unit == "coding" for d in by):
        dens = dens.fillna(0)
    return counts, dens


def count_sql(plan: _Plan, by: Sequence[Dim]) -> tuple[str, list[Any], str, list[Any]]:
    """The two queries of a frequency table and their bound values: counts per code x `by`, denominators per group.

    Grain of the first: one row per code x `by` value with at least one unit; of the second: one row per
    population group (the `by` dimensions that are not coding attributes). Golden snapshots in tests/golden/sql.
    """
    cte, cte_params = plan.base_cte()
    # Distinct units are counted in two steps (the distinct rows, then a count per group): a third
    # faster than count(DISTINCT key) on a key built by string concatenation.
    units = ", ".join(f"{c} AS _unit{i}" for i, c in enumerate(plan.key_columns()))
    pop_by = [d for d in by if d.level != "coding" or plan.unit == "coding"]

    j, jp = plan.joins(with_member=True)
    conds, cp = plan.conditions(with_member=True, population_only=False)
    conds += plan.recorded(by)
    sel = "".join(f", {d.column} AS {d.name}" for d in by)
    names = "".join(f", {d.name}" for d in by)
    sql = (
        f"{cte}\nSELECT code{names}, count(*) AS count FROM (\nSELECT DISTINCT m.code AS code{sel}, {units}\n{j}\n"
        f"{'WHERE ' + ' AND '.join(conds) if conds else ''}\n) GROUP BY ALL"
    )

    j2, jp2 = plan.joins(with_member=False)
    conds2, cp2 = plan.conditions(with_member=False, population_only=True)
    conds2 += plan.recorded(pop_by)
    sel2 = "".join(f"{d.column} AS {d.name}, " for d in pop_by)
    names2 = "".join(f"{d.name}, " for d in pop_by)
    sql2 = (
        f"{cte}\nSELECT {names2}count(*) AS denominator FROM (\nSELECT DISTINCT {sel2}{units}\n{j2}\n"
        f"{'WHERE ' + ' AND '.join(conds2) if conds2 else ''}\n){' GROUP BY ALL' if pop_by else ''}"
    )
    return sql, cte_params + jp + cp, sql2, cte_params + jp2 + cp2


def _not_recorded(con: duckdb.DuckDBPyConnection, plan: _Plan) -> int:
    """Units in scope that leave the denominator because the frame, or a `by` value, is not recorded."""
    rec = plan.recorded(plan.population_by())
    if not rec:
        return 0
    cte, cte_params = plan.base_cte()
    j, jp = plan.joins(with_member=False)
    conds, cp = plan.conditions(with_member=False, population_only=True)
    key = plan.key()
    sql = (
        f"{cte}\nSELECT count(DISTINCT {key}) - count(DISTINCT CASE WHEN {' AND '.join(rec)} THEN {key} END)\n{j}\n"
        f"{'WHERE ' + ' AND '.join(conds) if conds else ''}"
    )
    return int(con.execute(sql, cte_params + jp + cp).fetchall()[0][0])


def _grid(codes: pd.DataFrame, dens: pd.DataFrame, plan: _Plan, by: Sequence[Dim]) -> pd.DataFrame:
    """Every code x every population group (x every value of a coding-level dimension): zeros are true zeros."""
    grid = codes[["code", "label", "root"]].merge(dens, how="cross")
    for d in by:
        if d.level == "coding" and plan.unit != "coding":
            values = list(_FACTOR_LEVELS) if d.name == "factor_level" else _vocab_codes(d, plan.version)
            grid = grid.merge(pd.DataFrame({d.name: values}), how="cross")
    if any(d.name == "factor_level" for d in by):
        grid = grid[grid["factor_level"] == grid["root"]]
    return grid


def _frequency_raw(
    con: duckdb.DuckDBPyConnection, plan: _Plan, codes: pd.DataFrame, by: Sequence[Dim]
) -> pd.DataFrame:
    counts, dens = _count_table(con, plan, by)
    grid = _grid(codes, dens, plan, by)
    keys = ["code", *[d.name for d in by]]
    for k in keys:
        if k in counts.columns and k in grid.columns and counts[k].dtype != grid[k].dtype:
            counts[k] = counts[k].astype(object)
            grid[k] = grid[k].astype(object)
    out = grid.merge(counts, on=keys, how="left")
    out["count"] = out["count"].fillna(0).astype("int64")
    out["denominator"] = out["denominator"].astype("int64")
    return out


def _margins(con: duckdb.DuckDBPyConnection, plan: _Plan, codes: pd.DataFrame, by: list[Dim],
             keep: Sequence[Dim] = ()) -> list[pd.DataFrame]:
    """Total rows ('All') for every additive `by` dimension (but those in `keep`), crossed with the others (geography
    nests)."""
    additive = [d for d in by if plan.unit in d.single_per and d not in keep]
    if not additive:
        return []
    geo = [n for n in ("area", "region", "nation") if any(d.name == n for d in additive)]
    other = [d for d in additive if d.name not in geo]
    # Each independent group contributes its roll-up levels: geography area -> region -> nation -> All.
    options: list[list[list[str]]] = []
    if geo:
        options.append([geo[i:] for i in range(len(geo) + 1)])  # dims kept at each level
    for d in other:
        options.append([[d.name], []])
    frames = []
    fixed = [d for d in by if d not in additive]
    for combo in itertools.product(*options):
        kept = {n for group in combo for n in group}
        dropped = [d for d in additive if d.name not in kept]
        if not dropped:
            continue
        sub_by = [d for d in by if d.name in kept or d in fixed]
        # Dropped dimensions must still be recorded, so each total adds up from its parts.
        sub_plan = replace(plan, by=sub_by, extra_recorded=dropped)
        raw = _frequency_raw(con, sub_plan, codes, sub_by)
        for d in dropped:
            raw[d.name] = _TOTAL
        frames.append(raw)
    return frames


def frequency(
    frame: str,
    *,
    level: int | None = None,
    by: Sequence[str] = (),
    unit: Unit = "review",
    where: Mapping[str, Any] | None = None,
    year_basis: str = "completed",
    periods: int | Sequence[int] = 5,
    totals: bool = False,
    db: str | Path | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
    disclosure: Disclosure = "restricted",
    profile: str = "dfe",
    threshold: int | None = None,
    version: str = DEFAULT_TAXONOMY_VERSION,
) -> pd.DataFrame:
    """How many units (reviews by default) have each code of a frame, rolled up through the hierarchy.

    Columns: code, label, one per `by` dimension, count, denominator, percent, ci_low, ci_high (percent
    scale, Wilson 95%), suppressed. Every code of the frame appears (0 is a true zero). A unit counts once
    per code however often it was coded; units whose frame (family factors) or `by` value is not recorded
    leave the denominator, and their number is in attrs["not_recorded"]. `totals=True` adds 'All' rows for
    additive dimensions, which disclosure control then protects as lines. attrs carry unit, filters,
    methods and the disclosure note.
    """
    refuse_public_area(where, disclosure)
    where = dict(where or {})
    slices: dict[str, pd.DataFrame] = {}
    with _connection(db, con) as c:
        plan = _plan(c, frame, unit, by, where, level, year_basis, periods, version)
        codes = _codes(c, plan.frame, level, version)
        out = _with_totals(c, plan, codes, totals)
        if disclosure == "public":
            # Filtered to several values of a dimension (a range of years, a list of regions): the same table by that
            # dimension without the filter, so the cells are linked to the single-value slices (analysis/slicing.py).
            q = {"unit": unit, "where": canonical_where(plan.where)}
            for k, dim in sliced_filters(q, [d.name for d in plan.by]):
                sub = replace(plan, by=[*plan.by, dim], where=[(w, v) for w, v in plan.where if w.name != dim.name])
                slices[k] = _with_totals(c, sub, codes, totals, keep=(dim,))
        not_recorded = _not_recorded(c, plan)
        out = _ordered(out, c, dict(zip(codes["code"], codes["sort_key"], strict=True)), plan.by, version)
    out = _with_rates(out)
    columns = ["code", "label", *[d.name for d in plan.by], "count", "denominator", "percent", "ci_low", "ci_high"]
    out = out[columns]
    lines = _lines(plan)
    # Codes partition the denominator when each unit has exactly one code: single-valued frames, or
    # individual codings of a hierarchical frame at the top level (every coding has one root).
    partition = unit in plan.frame.single_per or (unit == "coding" and plan.frame.hierarchical and level == 1)
    attrs = {
        "table": "frequency",
        "frame": plan.frame.name,
        "level": level,
        "unit": unit,
        "unit_label": UNIT_LABELS[unit],
        "by": [d.name for d in plan.by],
        "where": canonical_where(plan.where),
        "year_basis": year_basis,
        "not_recorded": not_recorded,
        "warnings": same_frame_warnings(plan),
        "interval": stats.WILSON_METHOD,
        "lines": lines,
        "partition": bool(partition),
        "description": _describe(plan, not_recorded),
    }
    return apply_disclosure(out, attrs, disclosure=disclosure, profile=profile, threshold=threshold, slices=slices)


def _with_totals(c: duckdb.DuckDBPyConnection, plan: _Plan, codes: pd.DataFrame, totals: bool, keep: Sequence[Dim] = ()) -> pd.DataFrame:
    """The counts of `plan` by its `by` dimensions, with 'All' rows for the additive ones (but `keep`) if `totals`."""
    out = _frequency_raw(c, plan, codes, plan.by)
    if totals and plan.by:
        parts = [out, *_margins(c, plan, codes, plan.by, keep)]
        for d in plan.by:
            if any(d.name in p.columns and (p[d.name].astype(object) == _TOTAL).any() for p in parts):
                for p in parts:
                    p[d.name] = p[d.name].astype(object)
        out = pd.concat(parts, ignore_index=True)
    return out


def same_frame_warnings(plan: _Plan) -> list[str]:
    """Sentences for filters on a code of the frame being tabulated: the filter narrows the units, so the
    filtered code is 100% and the other codes show what goes with it; say so, and what was probably meant."""
    out = []
    for d, vals in plan.where:
        if d.vocabulary != plan.frame.name or isinstance(vals, YearSpan):
            continue
        shown = ",".join(str(v) for v in vals)
        units = UNIT_LABELS[plan.unit]
        out.append(
            f"--where {cli_name(d.name)}={shown} keeps only the {units} that have {shown}, so {shown} is 100% of them and "
            f"every other {plan.frame.cli} row shows how often it goes with {shown}. To see the share of all {units} with "
            f"{shown}, drop the filter and read its row"
            + (f"; to see which codes go with it, use lt-workbench cooccurrence ... --with {vals[0]}"
               if plan.frame.name in ("patterns", "factors") else "")
            + "."
        )
    return out


def _lines(plan: _Plan) -> list[list[str]]:
    additive = [d.name for d in plan.by if plan.unit in d.single_per]
    geo: list[str] = [n for n in ("area", "region", "nation") if n in additive]
    return ([geo] if geo else []) + [[n] for n in additive if n not in geo]


def _describe(plan: _Plan, not_recorded: int) -> str:
    what = f"{UNIT_LABELS[plan.unit]} with each {plan.frame.cli} code"
    if plan.frame.hierarchical:
        what += " (rolled up: a unit coded at a sub-level counts once for each level above)"
    bits = [f"Unit: {plan.unit} — counts are {what}."]
    if plan.where:
        bits.append("Filters: " + "; ".join(f"{cli_name(d)}={v}" for d, v in canonical_where(plan.where).items()) + ".")
    if not_recorded:
        bits.append(f"{not_recorded} {UNIT_LABELS[plan.unit]} not recorded for this frame or dimension left the denominator.")
    return " ".join(bits)


def _break_years() -> set[int]:
    return {y for b in SERIES_BREAKS for y in range(b["from_year"], b["to_year"] + 1)}


def trend(
    frame: str = "patterns",
    *,
    codes: Sequence[str] | None = None,
    level: int | None = None,
    unit: Unit = "review",
    where: Mapping[str, Any] | None = None,
    year_basis: str = "completed",
    db: str | Path | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
    disclosure: Disclosure = "restricted",
    profile: str = "dfe",
    threshold: int | None = None,
    version: str = DEFAULT_TAXONOMY_VERSION,
) -> pd.DataFrame:
    """Code x year: count, denominator, percent and interval, with years inside a series break marked.

    `series_break` is True for the years when serious case reviews gave way to CSPRs (SERIES_BREAKS);
    read a change across them as a change of regime before a change of practice. Tests: trend_tests().
    """
    table = frequency(frame, level=level, by=("year",), unit=unit, where=where, year_basis=year_basis, db=db, con=con,
                      disclosure=disclosure, profile=profile, threshold=threshold, version=version)
    if codes is not None:
        wanted = list(codes)
        table = table[table["code"].isin(wanted)].reset_index(drop=True)
    table["series_break"] = table["year"].isin(sorted(_break_years()))
    table.attrs["table"] = "trend"
    table.attrs["series_breaks"] = [b["note"] for b in SERIES_BREAKS]
    return table


def trend_tests(
    frame: str = "patterns",
    *,
    codes: Sequence[str] | None = None,
    level: int | None = None,
    where: Mapping[str, Any] | None = None,
    year_basis: str = "completed",
    method: Literal["cochran-armitage", "logistic"] = "cochran-armitage",
    db: str | Path | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
    disclosure: Disclosure = "restricted",
    profile: str = "dfe",
    threshold: int | None = None,
    version: str = DEFAULT_TAXONOMY_VERSION,
) -> pd.DataFrame:
    """One test for trend per code across years (method named in the output), with BH q-values across codes.

    `logistic` adds a step at the SCR to CSPR break so a change of regime is not read as a trend.
    Public mode hides the test of a code whose overall count the release hides (frequency() in public mode, same
    question), which includes every count below the threshold.
    """
    thr = profile_threshold(profile, threshold)
    refuse_public_area(where, disclosure)
    yearly = frequency(frame, level=level, by=("year",), where=where, year_basis=year_basis, db=db, con=con, version=version)
    filters = dict(yearly.attrs["where"])
    if codes is not None:
        yearly = yearly[yearly["code"].isin(list(codes))]
    step = min(b["from_year"] for b in SERIES_BREAKS) if method == "logistic" else None
    rows = []
    for (code, label), g in yearly.groupby(["code", "label"], sort=False):
        g = g.sort_values("year")
        res = stats.trend_test(g["count"], g["denominator"], g["year"], method=method, step_at=step)
        years = g.loc[g["denominator"] > 0, "year"]
        rows.append({
            "code": code, "label": label, "count": int(g["count"].sum()), "denominator": int(g["denominator"].sum()),
            "first_year": int(years.min()) if len(years) else None, "last_year": int(years.max()) if len(years) else None,
            "n_years": res.n_years, "method": res.method, "statistic": res.statistic, "p_value": res.p_value,
            "direction": res.direction,
            "spans_series_break": bool(len(years)) and years.min() < min(_break_years()) and years.max() > max(_break_years()),
        })
    out = pd.DataFrame(rows)
    attrs = {"table": "trend_tests", "frame": frame_spec(frame).name, "unit": "review", "unit_label": "reviews",
             "method": stats.TREND_METHODS[method], "multiple_testing": stats.BH_METHOD,
             "series_breaks": [b["note"] for b in SERIES_BREAKS], "disclosure": disclosure, "where": filters}
    if out.empty:
        out.attrs.update(attrs)
        return out
    out["q_value"], _ = stats.bh_adjust(out["p_value"])
    out["suppressed"] = False
    if disclosure == "public":
        # A test is shown only where the code's overall count is shown: the count as frequency() publishes it in
        # this release (one number, one place). Hiding by the true count alone (1..threshold-1) would show the
        # test of a count the release hides as a secondary cell, and so tell a reader that count is at least the
        # threshold. 0 < count < thr is kept as a guard (such counts are always hidden anyway).
        national = frequency(frame, level=level, where=where, year_basis=year_basis, db=db, con=con,
                             disclosure="public", profile=profile, threshold=threshold, version=version)
        hidden = set(national.loc[pd.to_numeric(national["count"], errors="coerce").isna(), "code"])
        small = ((out["count"] > 0) & (out["count"] < thr)) | out["code"].isin(hidden)
        out["suppressed"] = small
        for col in ("statistic", "p_value", "q_value", "direction"):
            out[col] = out[col].astype(object).where(~small, "c")
        # Totals per code are national figures: publish them from frequency(), which rounds them by profile.
        out = out.drop(columns=["count", "denominator"])
    out.attrs.update(attrs)
    return out

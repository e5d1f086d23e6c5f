"""Disclosure control: primary and secondary suppression, rounding, symbols, free text, audit.

The checks of recoverability here are independent of the module: lines are rebuilt from the
table's structure, and determinacy is tested by least squares, not by the module's null space.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lt_workbench.analysis.disclosure import (
    ADDS_UP_NOTE,
    PROFILES,
    RESTRICTED_NOTE,
    Protected,
    protect,
    write_audit,
)
from lt_workbench.exceptions import DisclosureError

C = "c"


def _row(code: str, count: int, den: int, **dims: object) -> dict[str, object]:
    pct = 100.0 * count / den if den else float("nan")
    return {"code": code, "label": f"label {code}", **dims, "count": count, "denominator": den,
            "percent": pct, "ci_low": pct - 1 if den else float("nan"), "ci_high": pct + 1 if den else float("nan")}


def _flat(counts: list[int], den: int = 100) -> pd.DataFrame:
    return pd.DataFrame([_row(f"K{i:02d}", n, den) for i, n in enumerate(counts)])


def _half_up(v: int, base: int | None) -> int:
    return v if not base else int(math.floor(v / base + 0.5)) * base


# --------------------------------------------------------------------------------------------
# Profiles, primary suppression, rounding


def test_profiles_match_uk_practice() -> None:
    assert set(PROFILES) == {"dfe", "nhs", "ons"}
    assert (PROFILES["dfe"].threshold, PROFILES["dfe"].rounding, PROFILES["dfe"].total_rounding) == (6, None, 10)
    assert (PROFILES["nhs"].threshold, PROFILES["nhs"].rounding) == (8, 5)
    assert (PROFILES["ons"].threshold, PROFILES["ons"].rounding) == (10, 5)


@pytest.mark.parametrize("profile, hidden", [("dfe", range(1, 6)), ("nhs", range(1, 8)), ("ons", range(1, 10))])
def test_primary_suppression_per_profile(profile: str, hidden: range) -> None:
    counts = list(range(0, 14))
    p = protect(_flat(counts), profile=profile)
    base = PROFILES[profile].rounding
    for n, shown, flag in zip(counts, p.table["count"], p.table["suppressed"], strict=True):
        if n in hidden:
            assert shown == C and flag
        else:
            assert shown == _half_up(n, base) and not flag
    assert p.table.loc[0, "count"] == 0  # a true zero is shown
    assert p.table.loc[0, "percent"] == 0.0


def test_rounding_half_up_to_five_and_percent_from_shown_figures() -> None:
    p = protect(_flat([10, 12, 13, 17, 18], den=42), profile="ons")
    assert list(p.table["count"]) == [10, 10, 15, 15, 20]
    assert set(p.table["denominator"]) == {40}
    # 13 of 42 is shown as 15 of 40: the percent is of the shown figures, so it cannot give back 13
    assert p.table.loc[2, "percent"] == 37.5
    assert p.table.loc[2, "ci_low"] < 37.5 < p.table.loc[2, "ci_high"]
    rounded = p.audit[(p.audit["column"] == "count") & (p.audit["rule"] == "rounding")]
    assert sorted(rounded["original"]) == [12, 13, 17, 18]


def test_threshold_overrides_profile() -> None:
    p = protect(_flat([0, 5, 7, 8]), profile="dfe", threshold=8)
    assert list(p.table["count"]) == [0, C, C, 8]
    assert p.threshold == 8
    assert list(protect(_flat([2, 3]), profile="nhs", threshold=3).table["count"]) == [C, 5]


def test_dfe_shows_cells_unrounded_without_totals() -> None:
    p = protect(_flat([6, 7, 23]), profile="dfe")
    assert list(p.table["count"]) == [6, 7, 23]
    assert list(p.table["percent"]) == [6.0, 7.0, 23.0]
    assert list(p.table["ci_low"]) == [5.0, 6.0, 22.0]  # unchanged figures keep the input interval


def test_the_note_mentions_rounding_only_where_it_applies() -> None:
    """#12 §2: a dfe table without total rows rounds nothing and its note says nothing about rounded totals;
    with total rows it says they are rounded to 10, and that shown parts may not add up only when they do not."""
    flat = protect(_flat([6, 7, 23]), profile="dfe")
    assert "rounded" not in flat.note and ADDS_UP_NOTE not in flat.note

    def by_region(counts: dict[str, int]) -> pd.DataFrame:
        rows = [_row("a", v, 100, region=r) for r, v in counts.items()]
        return pd.DataFrame([*rows, _row("a", sum(counts.values()), 100, region="All")])

    adds_up = protect(by_region({"north": 12, "south": 18}), lines=[["region"]], profile="dfe")  # 30 shown as 30
    assert "totals rounded to the nearest 10" in adds_up.note and ADDS_UP_NOTE not in adds_up.note
    off = protect(by_region({"north": 12, "south": 21}), lines=[["region"]], profile="dfe")  # 33 shown as 30
    assert list(off.table["count"]) == [12, 21, 30] and ADDS_UP_NOTE in off.note
    nhs = protect(_flat([8, 9, 23]), profile="nhs")
    assert "counts rounded to the nearest 5" in nhs.note and "totals rounded" not in nhs.note


def test_denominator_below_threshold_is_suppressed_with_what_comes_from_it() -> None:
    df = pd.DataFrame([_row("A", 0, 4), _row("B", 3, 4), _row("C", 30, 60)])
    p = protect(df)
    t = p.table
    assert list(t["denominator"]) == [C, C, 60]
    assert t.loc[0, "count"] == 0 and not t.loc[0, "suppressed"]  # a zero stays a zero
    assert (t.loc[0, ["percent", "ci_low", "ci_high"]] == C).all()
    assert t.loc[1, "count"] == C
    reasons = p.audit[(p.audit["column"] == "denominator")]["reason"]
    assert len(reasons) == 2 and reasons.str.contains("denominator 1..5 below threshold 6").all()


def test_symbols_for_zero_denominator_and_missing_interval() -> None:
    df = pd.DataFrame([_row("A", 0, 0), _row("B", 20, 50)])
    df.loc[1, "ci_low"] = float("nan")
    t = protect(df).table
    assert list(t.loc[0, ["count", "denominator", "percent", "ci_low", "ci_high"]]) == [0, 0, "z", "z", "z"]
    assert t.loc[1, "ci_low"] == ":"
    assert t.loc[1, "ci_high"] == 41.0


# --------------------------------------------------------------------------------------------
# Secondary suppression on hand-built tables


def _grid(grid: dict[str, list[int]], years: list[str], row_dim: str, den: int = 100) -> pd.DataFrame:
    """Rows × years with an 'All' row and column; denominators add up the same way."""
    rows = []
    all_row = [sum(v[i] for v in grid.values()) for i in range(len(years))]
    nrows = len(grid)
    for name, vals in [*grid.items(), ("All", all_row)]:
        for y, v in zip([*years, "All"], [*vals, sum(vals)], strict=True):
            d = den * (nrows if name == "All" else 1) * (len(years) if y == "All" else 1)
            rows.append(_row("P2.1", v, d, **{row_dim: name, "year": y}))
    return pd.DataFrame(rows)


def _cell(t: pd.DataFrame, dim: str, name: str, year: str) -> object:
    return t.loc[(t[dim] == name) & (t["year"] == year), "count"].item()


def test_secondary_suppression_regions_by_years_nothing_recoverable() -> None:
    grid = {"North": [3, 12], "South": [10, 11], "East": [8, 9]}
    df = _grid(grid, ["2019", "2020"], "region")
    p = protect(df, lines=[["region"], ["year"]])
    t = p.table
    hidden = {(r, y) for r in [*grid, "All"] for y in ["2019", "2020", "All"] if _cell(t, "region", r, y) == C}
    # the 3 is primary; its row and column each need a partner, and those partners need one more
    assert hidden == {("North", "2019"), ("North", "2020"), ("East", "2019"), ("East", "2020")}
    # Explicit subtraction: every line through a hidden cell leaves two unknowns.
    # Row North: 2019 + 2020 = total (shown, rounded or not: true value 15); column 2019: North + East = 21 - 10
    true = {(r, y): v for r, vals in grid.items() for y, v in zip(["2019", "2020"], vals, strict=True)}
    north_total, south_2019, south_2020 = 15, 10, 11
    col_2019, col_2020, east_total = 21, 32, 17
    # Two different non-negative completions agree with every shown number, so no cell is determined.
    for t_shift in (0, 1, -2):
        x = {k: v for k, v in true.items()}
        x["North", "2019"] += t_shift
        x["North", "2020"] -= t_shift
        x["East", "2019"] -= t_shift
        x["East", "2020"] += t_shift
        assert min(x.values()) >= 0
        assert x["North", "2019"] + x["North", "2020"] == north_total
        assert x["East", "2019"] + x["East", "2020"] == east_total
        assert x["North", "2019"] + south_2019 + x["East", "2019"] == col_2019
        assert x["North", "2020"] + south_2020 + x["East", "2020"] == col_2020
    # DfE rounds the total rows and columns to 10, not the cells
    assert _cell(t, "region", "South", "2019") == 10 and _cell(t, "region", "South", "2020") == 11
    assert _cell(t, "region", "North", "All") == 20 and _cell(t, "region", "All", "All") == 50
    # every hidden cell has its reason
    sec = p.audit[(p.audit["column"] == "count") & (p.audit["rule"] == "secondary")]
    assert len(sec) == 3 and sec["reason"].str.startswith("secondary: protects line").all()


def test_suppressed_parts_summing_below_threshold_get_a_partner() -> None:
    # parts 1 and 2 are both hidden, but total − shown parts = 3 would publish a count of 3
    df = pd.DataFrame(
        [_row("X", v, 100, year=y) for y, v in [("2019", 1), ("2020", 2), ("2021", 20), ("2022", 30), ("All", 53)]]
    )
    df.loc[df.year == "All", "denominator"] = 400
    t = protect(df, lines=[["year"]]).table
    assert list(t["count"]) == [C, C, C, 30, 50]


def test_combining_lines_cannot_recover_a_cell() -> None:
    """A table where every line has two hidden cells and the 3 could still be worked out.

    With the pattern below (* hidden) the zeros are known, so column 2019 gives All_2019 = A12_2019,
    column 2018 gives All_2018 = A10_2018 + A12_2018, and then
    A10_2018 = (All_All − All_2020) − (A12_All − A12_2020) = (81 − 46) − (62 − 30) = 3.
        A10:  3*  0   1*   4*
        A11:  0   0  15*  15*
        A12: 30*  2* 30    62
        All: 33*  2* 46    81
    """
    grid = {"A10": [3, 0, 1], "A11": [0, 0, 15], "A12": [30, 2, 30]}
    df = _grid(grid, ["2018", "2019", "2020"], "area_code")
    p = protect(df, lines=[["area_code"], ["year"]], pseudonymised_areas=True, profile="dfe")
    t = p.table
    assert _cell(t, "area_code", "A10", "2018") == C
    terms = [("All", "All"), ("All", "2020"), ("A12", "All"), ("A12", "2020")]
    assert any(_cell(t, "area_code", a, y) == C for a, y in terms), "the subtraction above still works"
    assert not _recoverable(df, t, _grid_lines(df, "area_code"))


# --------------------------------------------------------------------------------------------
# Partition (single-valued frames)


def test_partition_uses_denominator_as_row_total() -> None:
    df = pd.DataFrame([_row("under1", 2, 32), _row("1-4", 10, 32), _row("5-9", 20, 32)])
    assert list(protect(df).table["count"]) == [C, 10, 20]  # multi-valued: nothing adds up
    t = protect(df, partition=True).table
    assert list(t["count"]) == [C, C, 20]  # else 32 − 10 − 20 = 2


def test_partition_that_does_not_add_up_is_refused() -> None:
    df = pd.DataFrame([_row("a", 2, 40), _row("b", 10, 40)])
    with pytest.raises(DisclosureError, match="multi-valued frame"):
        protect(df, partition=True)


def test_declared_line_that_does_not_add_up_is_refused() -> None:
    df = pd.DataFrame([_row("X", 7, 10, year="2019"), _row("X", 8, 10, year="2020"), _row("X", 9, 20, year="All")])
    with pytest.raises(DisclosureError, match="does not add up"):
        protect(df, lines=[["year"]])


# --------------------------------------------------------------------------------------------
# Free text, areas, arguments, modes, audit


def test_free_text_columns_never_in_public_output() -> None:
    df = _flat([7, 8]).assign(area_name="Sometown", finding="Reviewer wrote...", mine="x")
    p = protect(df, free_text_columns={"mine"})
    assert not {"area_name", "finding", "mine"} & set(p.table.columns)
    assert set(p.audit.loc[p.audit["rule"] == "removed", "column"]) == {"area_name", "finding", "mine"}


def test_area_codes_refused_unless_pseudonymised() -> None:
    df = pd.DataFrame([_row("X", 7, 10, area_code="E09000001"), _row("X", 8, 10, area_code="E09000002")])
    with pytest.raises(DisclosureError, match="region"):
        protect(df)
    assert list(protect(df, pseudonymised_areas=True).table["area_code"]) == ["E09000001", "E09000002"]
    only_total = pd.DataFrame([_row("X", 7, 10, area_code="All")])
    assert protect(only_total).table.loc[0, "count"] == 7


def test_identifiers_and_long_text_refused() -> None:
    with pytest.raises(DisclosureError, match="single records"):
        protect(_flat([7]).assign(review_id="r1"))
    with pytest.raises(DisclosureError, match="free text"):
        protect(_flat([7]).assign(theme="x" * 200))


def test_argument_errors_are_clear() -> None:
    df = _flat([7])
    with pytest.raises(DisclosureError, match="dfe, nhs, ons"):
        protect(df, profile="abs")
    with pytest.raises(DisclosureError, match="at least 1"):
        protect(df, threshold=0)
    with pytest.raises(DisclosureError, match="round to 0"):
        protect(df, profile="ons", threshold=2)
    with pytest.raises(DisclosureError, match="denominator"):
        protect(df.drop(columns="denominator"))
    with pytest.raises(DisclosureError, match="restricted"):
        protect(df, mode="open")
    with pytest.raises(DisclosureError, match="not in the table"):
        protect(df, lines=[["region"]])


def test_restricted_mode_shows_everything_and_says_so() -> None:
    df = _flat([0, 1, 2, 30])
    p = protect(df, mode="restricted", profile="ons")
    pd.testing.assert_frame_equal(p.table.drop(columns="suppressed"), df)
    assert not p.table["suppressed"].any()
    assert p.audit.empty and p.note == RESTRICTED_NOTE and "not for publication" in p.note
    assert p.mode == "restricted" and p.profile == "ons" and p.threshold == 10


def test_write_audit_round_trips(tmp_path) -> None:
    p = protect(_flat([1, 30]))
    path = write_audit(p, tmp_path / "sub" / "audit.csv")
    back = pd.read_csv(path)
    assert list(back.columns) == ["code", "column", "original", "shown", "rule", "reason"]
    assert len(back) == len(p.audit) == 4  # count, percent, ci_low, ci_high of K00
    assert isinstance(p, Protected) and "c = confidential" in p.note


# --------------------------------------------------------------------------------------------
# Property test: areas within regions within a nation, × years, with totals


def _grid_lines(df: pd.DataFrame, dim: str) -> list[tuple[str, int, list[int]]]:
    idx = {(r[dim], r["year"]): i for i, r in df.iterrows()}
    names = sorted({k[0] for k in idx} - {"All"})
    years = sorted({k[1] for k in idx} - {"All"})
    out = []
    for n in [*names, "All"]:
        out.append(("count", idx[n, "All"], [idx[n, y] for y in years]))
    for y in [*years, "All"]:
        out.append(("count", idx["All", y], [idx[n, y] for n in names]))
    return out


def _recoverable(df: pd.DataFrame, shown: pd.DataFrame, lines, den_key=None) -> list[object]:
    """Unknowns (hidden cells) that the lines determine exactly: e_j in the row space, by least squares."""
    unknown: dict[object, int] = {}
    for i in range(len(df)):
        if shown["count"].iloc[i] == C:
            unknown.setdefault(("count", i), len(unknown))
        if den_key is not None and shown["denominator"].iloc[i] == C:
            unknown.setdefault(("den", den_key(i)), len(unknown))

    def var(kind: str, i: int) -> object:
        return ("count", i) if kind == "count" else ("den", den_key(i))

    eqs = []
    for line in lines:
        if line[0] == "partition":
            _, den_row, parts = line
            terms = [(("den", den_key(den_row)), 1.0)] + [(("count", p), -1.0) for p in parts]
        else:
            kind, tot, parts = line
            terms = [(var(kind, tot), 1.0)] + [(var(kind, p), -1.0) for p in parts]
        row = np.zeros(len(unknown))
        for v, coef in terms:
            if v in unknown:
                row[unknown[v]] += coef
        if row.any():
            eqs.append(row)
    if not unknown or not eqs:
        return []
    a = np.array(eqs)
    y, *_ = np.linalg.lstsq(a.T, np.eye(len(unknown)), rcond=None)
    resid = np.linalg.norm(a.T @ y - np.eye(len(unknown)), axis=0)
    names = list(unknown)
    return [names[j] for j in range(len(names)) if resid[j] < 1e-7]


@st.composite
def geo_tables(draw):
    n_regions = draw(st.integers(1, 3))
    areas = {f"R{r}": [f"Area {r}{a}" for a in range(draw(st.integers(1, 3)))] for r in range(n_regions)}
    years = [str(2018 + i) for i in range(draw(st.integers(1, 3)))]
    codes = [f"P{i}" for i in range(draw(st.integers(1, 3)))]
    partition = draw(st.booleans())
    small = st.one_of(st.integers(0, 12), st.integers(0, 60))
    base: dict[tuple, int] = {}
    dens: dict[tuple, int] = {}
    for region, al in areas.items():
        for a in al:
            for y in years:
                counts = [draw(small) for _ in codes]
                for c, n in zip(codes, counts, strict=True):
                    base[c, region, a, y] = n
                dens[region, a, y] = sum(counts) if partition else max(counts) + draw(st.integers(0, 15))
    rows = []
    for c in codes:
        for region, al in [*areas.items(), ("All", None)]:
            for a in [*(al or []), "All"]:
                for y in [*years, "All"]:
                    def match(k):
                        return (region == "All" or k[0] == region) and (a == "All" or k[1] == a) and (y == "All" or k[2] == y)
                    n = sum(v for (cc, *k), v in base.items() if cc == c and match(k))
                    d = sum(v for k, v in dens.items() if match(k))
                    rows.append(_row(c, n, d, nation="E", region=region, area_code=a, year=y))
    profile = draw(st.sampled_from(["dfe", "nhs", "ons"]))
    return pd.DataFrame(rows), partition, profile


def _geo_lines(df: pd.DataFrame, partition: bool) -> list[tuple]:
    idx = {(r.code, r.region, r.area_code, r.year): i for i, r in enumerate(df.itertuples())}
    lines = []
    for kind in ("count", "den"):
        for (c, reg, a, y), i in idx.items():
            if y == "All":
                parts = [j for (c2, r2, a2, y2), j in idx.items() if (c2, r2, a2) == (c, reg, a) and y2 != "All"]
                lines.append((kind, i, parts))
            if a == "All" and reg != "All":
                parts = [j for (c2, r2, a2, y2), j in idx.items() if (c2, r2, y2) == (c, reg, y) and a2 != "All"]
                lines.append((kind, i, parts))
            if reg == "All":
                parts = [j for (c2, r2, a2, y2), j in idx.items() if (c2, a2, y2) == (c, "All", y) and r2 != "All"]
                lines.append((kind, i, parts))
    if partition:
        first = {}
        for (c, reg, a, y), i in idx.items():
            first.setdefault((reg, a, y), []).append(i)
        for members in first.values():
            lines.append(("partition", members[0], members))
    return lines


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(geo_tables())
def test_public_output_hides_small_counts_and_cannot_be_undone(case) -> None:
    df, partition, profile = case
    p = protect(df, profile=profile, partition=partition, lines=[["area_code", "region", "nation"], ["year"]],
                pseudonymised_areas=True)
    t = p.table
    thr = PROFILES[profile].threshold
    den_key = lambda i: (df.region.iloc[i], df.area_code.iloc[i], df.year.iloc[i])  # noqa: E731
    hid_n = (t["count"] == C).to_numpy()
    hid_d = (t["denominator"] == C).to_numpy()
    assert (hid_n == t["suppressed"].to_numpy()).all()
    # (i) no shown count or denominator is a small non-zero number
    for col, hid in (("count", hid_n), ("denominator", hid_d)):
        true = df[col].to_numpy()
        assert not ((true > 0) & (true < thr) & ~hid).any()
    # a denominator is hidden or shown the same in every row that shows it
    by_dims = pd.Series(hid_d).groupby([df.region, df.area_code, df.year]).nunique()
    assert (by_dims == 1).all()
    # (ii) every line: no hidden cell, or at least two, and hidden parts never sum to a small count
    lines = _geo_lines(df, partition)
    for kind, tot, parts in lines:
        if kind == "partition":
            hid = [hid_d[tot]] + [hid_n[j] for j in parts]
            vals_hidden_parts = [df["count"].iloc[j] for j in parts if hid_n[j]]
        else:
            h = hid_n if kind == "count" else hid_d
            col = "count" if kind == "count" else "denominator"
            hid = [h[tot]] + [h[j] for j in parts]
            vals_hidden_parts = [df[col].iloc[j] for j in parts if h[j]]
        assert sum(hid) != 1, (kind, tot, parts)
        if not hid[0]:
            assert not (0 < sum(vals_hidden_parts) < thr)
    # ... and no hidden cell follows from combining the lines whose shown figures are exact. A line through a
    # rounded figure gives a reader an interval, not an equation: the LP audit covers those (test_release.py
    # attacks with intervals), so this exact check uses only lines a reader knows exactly.
    def exact(kind: str, i: int) -> bool:
        col = "count" if kind == "count" else "denominator"
        return t[col].iloc[i] == C or int(t[col].iloc[i]) == int(df[col].iloc[i])

    known = []
    for line in lines:
        if line[0] == "partition":
            ok = exact("den", line[1]) and all(exact("count", j) for j in line[2])
        else:
            ok = exact(line[0], line[1]) and all(exact(line[0], j) for j in line[2])
        if ok:
            known.append(line)
    assert _recoverable(df, t, known, den_key) == []
    # (iii) percentages and intervals of hidden cells are symbols
    for col in ("percent", "ci_low", "ci_high"):
        assert (t.loc[hid_n | hid_d, col] == C).all()
    # a shown count never exceeds its shown denominator, and the percent is of the figures shown
    both = ~hid_n & ~hid_d & (df["denominator"] > 0).to_numpy()
    sc = t.loc[both, "count"].astype(int)
    sd = t.loc[both, "denominator"].astype(int)
    assert (sc <= sd).all()
    assert np.allclose(t.loc[both, "percent"].astype(float), (100 * sc / sd).round(1))
    # shown figures are the profile's rounding of the true ones
    prof = PROFILES[profile]
    for i in np.flatnonzero(~hid_n):
        total_row = "All" in (df.region.iloc[i], df.area_code.iloc[i], df.year.iloc[i])
        base = prof.total_rounding if total_row and prof.total_rounding else prof.rounding
        assert t["count"].iloc[i] == _half_up(int(df["count"].iloc[i]), base)
    # audit: a row for every hidden count and denominator
    audited = {(r.code, r.region, r.area_code, r.year, r.column) for r in p.audit.itertuples()}
    for i in np.flatnonzero(hid_n):
        assert (df.code.iloc[i], *den_key(i), "count") in audited
    for i in np.flatnonzero(hid_d):
        assert (df.code.iloc[i], *den_key(i), "denominator") in audited
    # restricted mode gives the input back
    r = protect(df, mode="restricted", profile=profile)
    pd.testing.assert_frame_equal(r.table.drop(columns="suppressed"), df)

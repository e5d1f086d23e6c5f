"""Tables filtered to a range of years or a list of values, published in one release, give no slice away.

The attacker is independent of the module: its unknowns are the counts of each code in each single
value of the dimension (each year, each region) — what a reader would like to know — and every
published table filtered to a set of values says that the sum of those unknowns over the set is the
figure shown (or, for `c`, at least 1; zeros are always shown). Codes that partition the units
(age band, unit child) add up to the denominator in every slice. scipy's linprog gives each
unknown's feasible interval; a slice count of 1..threshold-1 that is pinned, or confined to
1..threshold-1, is a leak, and so is a hidden published figure that is pinned or so confined.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from lt_workbench.analysis import tabulate as tab
from lt_workbench.analysis.publish import public_release
from lt_workbench.analysis.slicing import implied_filters, sliced_filters
from lt_workbench.analysis.vocab import YearSpan
from lt_workbench.exceptions import DisclosureError

C = "c"
DEN = "_den"


def _inside(values: Any, v: Any) -> bool:
    if values is None:
        return True
    if isinstance(values, YearSpan):
        return values.contains(int(v))
    return str(v) in {str(x) for x in values}


def attack(published: Sequence[tuple[pd.DataFrame, Any]], truth: pd.DataFrame, dim: str, threshold: int,
           partition: bool) -> list[str]:
    """Leaks a reader finds in `published`: (table as shown, the set of `dim` values it is filtered to: a YearSpan,
    a list, or None for no filter). truth: the restricted table by `dim` (code, dim, count, denominator)."""
    values = sorted(truth[dim].unique().tolist())
    codes = sorted(truth["code"].unique().tolist())
    names = [(k, v) for k in [*codes, DEN] for v in values]
    idx = {n: i for i, n in enumerate(names)}
    true = {(r.code, getattr(r, dim)): int(r.count) for r in truth.itertuples()}
    for v, d in truth.groupby(dim)["denominator"].first().items():
        true[DEN, v] = int(d)
    eq_rows: list[np.ndarray] = []
    eq_rhs: list[float] = []
    ge_rows: list[np.ndarray] = []  # sum >= 1: a hidden published figure
    hidden: list[tuple[str, np.ndarray, int]] = []
    for t, span in published:
        for row in t.to_dict("records"):
            for key, shown in ((row["code"], row["count"]), (DEN, row["denominator"])):
                a = np.zeros(len(names))
                for v in values:
                    if _inside(span, v):
                        a[idx[key, v]] = 1.0
                if shown == C:
                    ge_rows.append(a)
                    hidden.append((f"{key} in {span}", a, int(sum(true.get((key, v), 0) for v in values if _inside(span, v)))))
                else:
                    eq_rows.append(a)
                    eq_rhs.append(float(shown))
    if partition:
        for v in values:
            a = np.zeros(len(names))
            a[idx[DEN, v]] = 1.0
            for k in codes:
                a[idx[k, v]] = -1.0
            eq_rows.append(a)
            eq_rhs.append(0.0)
    targets = [(f"{k} in {v}", np.eye(len(names))[idx[k, v]], true.get((k, v), 0)) for k, v in names
               if 0 < true.get((k, v), 0) < threshold]
    leaks = []
    for floor in (0.0, 1.0):
        a_ub = -np.array(ge_rows) if ge_rows else None
        b_ub = -np.full(len(ge_rows), floor) if ge_rows else None
        for what, c, value in [*targets, *hidden]:
            ends = []
            for sign in (1.0, -1.0):
                res = linprog(sign * c, A_ub=a_ub, b_ub=b_ub, A_eq=np.array(eq_rows) if eq_rows else None,
                              b_eq=np.array(eq_rhs) if eq_rows else None, bounds=[(0, None)] * len(names), method="highs")
                if res.status == 3:
                    ends.append(math.inf)
                else:
                    assert res.status == 0, res.message
                    ends.append(sign * res.fun)
            lo, hi = math.ceil(ends[0] - 1e-6), (ends[1] if math.isinf(ends[1]) else math.floor(ends[1] + 1e-6))
            if hi - lo < 1:
                leaks.append(f"{what} (true {value}) pinned at {lo} knowing hidden ≥ {floor:g}")
            elif 0 < value < threshold and lo >= 1 and hi <= threshold - 1:
                leaks.append(f"{what} (true {value}) confined to [{lo}, {hi}] knowing hidden ≥ {floor:g}")
    return leaks


def _truth(db: Path, dim: str) -> pd.DataFrame:
    return tab.frequency("age-band", unit="child", by=[dim], db=db)[["code", dim, "count", "denominator"]]


def _publish(db: Path, ledger: Path, dim: str, filters: Sequence[Any]) -> list[tuple[pd.DataFrame, Any]]:
    """Each filter's public table in one release (a refused table publishes nothing and is left out)."""
    out = []
    for f in filters:
        where = {} if f is None else {dim: f}
        try:
            with public_release(db, ledger=ledger, name=f"{dim}={f}"):
                t = tab.frequency("age-band", unit="child", where=where, db=db, disclosure="public")
        except DisclosureError:
            continue
        span = None if f is None else (YearSpan(*[None if x == "" else int(x) for x in f.split("..")]) if ".." in str(f)
                                       else [x for x in str(f).split(",")])
        out.append((t, span))
    return out


def test_which_filters_are_sliced_and_which_are_implied() -> None:
    attrs = {"unit": "review", "where": {"year": "2015..", "region": "north_west,london", "nation": "england",
                                         "age_band": "under_1,1_to_4"}}
    # age band is not single-valued per review; nation is one value (lifted as a slice by publish._lift_filters)
    assert [(k, d.name) for k, d in sliced_filters(attrs, ["code"])] == [("year", "year"), ("region", "region")]
    assert [k for k, _ in sliced_filters(attrs, ["code", "year"])] == ["region"]  # shown as a column: not sliced
    assert [k for k, _ in sliced_filters({**attrs, "unit": "child"}, ["code"])] == ["year", "region", "age_band"]
    assert sliced_filters({"unit": "review", "where": {"year": "2015..2015"}}, []) == []
    t = pd.DataFrame({"code": ["a", "a"], "year": [2015, 2016]})
    assert implied_filters(t, {"unit": "review", "where": {"year": "2015.."}}, "All") == ["year"]
    assert implied_filters(t.assign(year=["All", 2016]), {"unit": "review", "where": {"year": "2015.."}}, "All") == []


def test_nested_year_ranges_and_the_national_table_give_no_year_away(corpus_db: Path, tmp_path: Path) -> None:
    truth = _truth(corpus_db, "year")
    published = _publish(corpus_db, tmp_path / "ledger.sqlite", "year", ["2015..", "2016..", None, "..2014", "2013..2015"])
    assert len(published) == 5  # none refused: each hides what the earlier ones would give away with it
    assert any((t["count"] == C).any() for t, _ in published), "the corpus must have hidden cells for this test to mean anything"
    assert any((t["count"] != C).any() for t, _ in published[1:]), "and shown ones"
    assert attack(published, truth, "year", 6, partition=True) == []


def test_without_the_slices_the_same_tables_leak(corpus_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The attacker finds the leak this module closes: with slicing switched off, 2015.. minus 2016.. is 2015."""
    import lt_workbench.analysis.frequency as freq

    monkeypatch.setattr(freq, "sliced_filters", lambda attrs, columns: [])
    truth = _truth(corpus_db, "year")
    published = _publish(corpus_db, tmp_path / "ledger.sqlite", "year", ["2015..", "2016.."])
    assert attack(published, truth, "year", 6, partition=True) != []


def test_a_list_of_regions_and_one_of_them_give_the_other_away_only_without_slices(corpus_db: Path, tmp_path: Path,
                                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    truth = _truth(corpus_db, "region")
    filters = ["london,north_west", "london", None]
    published = _publish(corpus_db, tmp_path / "ledger.sqlite", "region", filters)
    assert attack(published, truth, "region", 6, partition=True) == []
    import lt_workbench.analysis.frequency as freq

    monkeypatch.setattr(freq, "sliced_filters", lambda attrs, columns: [])
    leaky = _publish(corpus_db, tmp_path / "leaky.sqlite", "region", filters)
    assert attack(leaky, truth, "region", 6, partition=True) != []


_YEARS = st.one_of(st.none(), st.integers(2011, 2024))


@st.composite
def _ranges(draw: st.DrawFn) -> list[str]:
    out = []
    for _ in range(draw(st.integers(2, 3))):
        lo, hi = draw(_YEARS), draw(_YEARS)
        if lo is None and hi is None:
            lo = draw(st.integers(2011, 2024))
        if lo is not None and hi is not None and lo > hi:
            lo, hi = hi, lo
        out.append(f"{'' if lo is None else lo}..{'' if hi is None else hi}")
    return out


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ranges=_ranges())
def test_random_year_ranges_in_one_release_give_no_year_away(corpus_db: Path, tmp_path_factory: pytest.TempPathFactory,
                                                             ranges: list[str]) -> None:
    ledger = tmp_path_factory.mktemp("ranges") / "ledger.sqlite"
    published = _publish(corpus_db, ledger, "year", ranges)
    assert published, "the first table of a release is never refused"
    assert attack(published, _truth(corpus_db, "year"), "year", 6, partition=True) == []


def test_a_latent_slice_is_shown_by_a_later_table_as_it_would_be_alone(tmp_path: Path) -> None:
    """A range published first leaves its slices latent in the ledger, not 'hidden by an earlier output': a later
    table by year shows its years of 30 and 12 (and records them as shown), and hides the year of 3 with one more
    (the range's 55 would give it away) as it would alone."""
    from lt_workbench.analysis.disclosure import Request, protect_many, release
    from lt_workbench.analysis.disclosure.problem import Link

    q = {"frame": "f", "level": None, "unit": "review", "year_basis": "completed"}
    years = pd.DataFrame({"code": "a", "label": "a", "year": [2015, 2016, 2017, 2018], "count": [10, 3, 30, 12],
                          "denominator": [40, 40, 50, 60]})
    span = pd.DataFrame({"code": ["a"], "label": ["a"], "count": [55], "denominator": [190]})
    links = [Link((0, 0, "count"), tuple((1, j, "count") for j in range(4)), "2015..2018 = its years"),
             Link((0, 0, "denominator"), tuple((1, j, "denominator") for j in range(4)), "2015..2018 = its years (units)")]
    with release(snapshot="s", ledger=tmp_path / "ledger.sqlite") as rel:
        first = protect_many([Request(span, question={**q, "where": {"year": "2015..2018"}}, dims=[]),
                              Request(years, question={**q, "where": {}}, dims=["year"], latent=True)],
                             release=rel, links=links)
    assert first[0].table["count"].tolist() == [55]
    for _ in range(2):  # the second time from the ledger, where the first by-year table recorded what it showed
        with release(snapshot="s", ledger=tmp_path / "ledger.sqlite") as rel:
            shown = protect_many([Request(years, question={**q, "where": {}}, dims=["year"])], release=rel)[0].table
        assert shown["count"].tolist() == ["c", "c", 30, 12]


def test_a_table_by_year_over_a_range_is_the_same_cells_as_the_table_by_year(corpus_db: Path, tmp_path: Path) -> None:
    """A trend over 2015.. (by year, no 'All' row): each row is that year's slice, so a later table by year over all
    years finds those cells published (one cell, one number) and records only the years before 2015 as new."""
    from lt_workbench.analysis.disclosure import show_release

    ledger = tmp_path / "ledger.sqlite"
    tables = []
    for where in ({"year": "2015.."}, {}):
        with public_release(corpus_db, ledger=ledger, name=str(where)):
            tables.append(tab.frequency("age-band", unit="child", by=["year"], where=where, db=corpus_db, disclosure="public"))
    ranged, every = tables
    both = every[every["year"] >= 2015].merge(ranged, on=["code", "year"], suffixes=("", "_r"))
    assert len(both) == len(ranged) and both["count"].astype(str).tolist() == both["count_r"].astype(str).tolist()
    new_cells = show_release(ledger)["cells"].tolist()
    before = every[every["year"] < 2015]
    assert new_cells[1] == len(before) + before["year"].nunique()  # the earlier years' counts and denominators only

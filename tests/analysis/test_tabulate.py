"""Tabulations checked number by number against a plain-Python recomputation over the source JSON.

The oracle below never touches DuckDB or lt_workbench's SQL: it walks the documents, rolls codes up
by splitting them (P2.1.2 -> P2, P2.1, P2.1.2) or through the practice-point CSV, and counts units in
sets. Every count and denominator of a tabulation must equal it.
"""

from __future__ import annotations

import csv
import importlib.util
import itertools
import json
import os
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from statsmodels.stats.proportion import proportion_confint
from typer.testing import CliRunner

from lt_workbench.analysis import tabulate as tab
from lt_workbench.cli import app
from lt_workbench.exceptions import TabulationError
from lt_workbench.model.db import connect
from lt_workbench.model.load import load

HERE = Path(__file__).parent.parent
CORPUS_DIR = HERE / "data" / "tabulate" / "corpus"
GOLDEN = HERE / "golden"

_spec = importlib.util.spec_from_file_location("tab_corpus", HERE / "data" / "tabulate" / "corpus.py")
corpus = importlib.util.module_from_spec(_spec)  # type: ignore[arg-type]
_spec.loader.exec_module(corpus)  # type: ignore[union-attr]


# ------------------------------------------------------------------------------------------
# The oracle

with (corpus.FRAMES / "practice_points.csv").open(encoding="utf-8") as f:
    PP_PARENT = {r["code"]: r["parent"] for r in csv.DictReader(f)}


def ancestors(frame: str, code: str) -> set[str]:
    if frame in ("patterns", "factors"):
        parts = code.split(".")
        return {".".join(parts[: i + 1]) for i in range(len(parts))}
    if frame == "practice_points":
        return {code, PP_PARENT[code]} if PP_PARENT.get(code) else {code}
    return {code}


def depth(frame: str, code: str) -> int:
    if frame in ("patterns", "factors"):
        return len(code.split("."))
    if frame == "practice_points":
        return 2 if PP_PARENT.get(code) else 1
    return 1


REVIEW_DIMS = {
    "year": lambda d: int(d["dates"]["completed"][:4]),
    "region": lambda d: d["area"]["region"],
    "nation": lambda d: d["area"]["nation"],
    "review_type": lambda d: d["review_type"],
    "area": lambda d: d["area"]["code"],
    "intervention_level": lambda d: d.get("intervention_level"),
}
CHILD_DIMS = {"age_band", "sex", "outcome", "harm_type"}
EPISODE_DIMS = {"practice"}
CODING_DIMS = {"direction": "patterns", "influence": "factors"}
VOCAB = {"direction": ["constructive", "unsafe"], "influence": ["supporting", "hindering"]}


def _child_values(child: dict, dim: str) -> set[str]:
    return set(child.get("harm_types") or []) if dim == "harm_type" else {child[dim]}


def _codings(doc: dict, frame: str, episodes: list[dict] | None) -> list[tuple[str, str | None, set[str]]]:
    """(code, qualifier, episode ids) of each coding of a frame, keeping those touching `episodes` (None = all)."""
    eids = None if episodes is None else {e["episode_id"] for e in episodes}
    out = []
    if frame == "patterns":
        for p in doc.get("patterns") or []:
            if eids is None or eids & set(p["episodes"]):
                out.append((p["code"], p["direction"], set(p["episodes"])))
    elif frame == "factors":
        for e in doc["episodes"]:
            if eids is None or e["episode_id"] in eids:
                for fc in e.get("factors") or []:
                    out.append((fc["code"], fc["influence"], {e["episode_id"]}))
    return out


def unit_codes(doc: dict, frame: str, children: list[dict], episodes: list[dict] | None, quals: dict[str, set[str]]) -> set[str]:
    """The rolled-up codes of a unit given the children and episodes in play (episodes None = not restricted)."""
    raw: set[str] = set()
    if frame in ("patterns", "factors"):
        allowed = quals.get(frame)
        for code, q, _ in _codings(doc, frame, episodes):
            if allowed is None or q in allowed:
                raw.add(code)
    elif frame == "practice_points":
        raw = set(doc.get("practice_points") or [])
    elif frame == "family_factor":
        raw = set(doc.get("family_factors") or [])
    elif frame in ("age_band", "sex", "outcome", "harm_type"):
        for ch in children:
            raw |= _child_values(ch, frame)
    elif frame == "practice":
        raw = {e["practice"] for e in (episodes if episodes is not None else doc["episodes"])}
    elif frame in ("region", "review_type", "intervention_level"):
        v = REVIEW_DIMS[frame](doc)
        raw = {v} if v is not None else set()
    else:
        raise AssertionError(frame)
    return {a for c in raw for a in ancestors(frame, c)}


def oracle(docs: list[dict], frame: str, *, level: int | None = None, by: tuple[str, ...] = (), unit: str = "review",
           where: dict[str, Any] | None = None) -> dict[tuple, tuple[int, int]]:
    """{(code, *by values): (count, denominator)} for codes with a non-zero denominator."""
    where = {k: (set(v) if isinstance(v, (list, tuple, set)) else {v}) for k, v in (where or {}).items()}
    child_native = frame in ("age_band", "sex", "outcome", "harm_type")
    uses_child = unit == "child" or child_native or any(k in CHILD_DIMS for k in [*by, *where])
    uses_episode = unit == "episode" or frame == "practice" or any(k in EPISODE_DIMS for k in [*by, *where])
    counts: dict[tuple, set] = defaultdict(set)
    dens: dict[tuple, set] = defaultdict(set)
    for doc in docs:
        if any(k in REVIEW_DIMS and REVIEW_DIMS[k](doc) not in v for k, v in where.items()):
            continue
        if frame == "family_factor" and doc.get("family_factors") is None:
            continue
        if frame == "intervention_level" and doc.get("intervention_level") is None:
            continue
        rid = doc["review_id"]
        # enumerate units of this review: (key, children in play, episodes in play, coding)
        if unit == "child":
            units = [(f"{rid}#{i + 1}", [ch], None, None) for i, ch in enumerate(doc["children"])]
        elif unit == "episode":
            units = [(f"{rid}#{e['episode_id']}", doc["children"], [e], None) for e in doc["episodes"]]
        elif unit == "coding":
            if frame == "patterns":
                units = [(f"{rid}#F{j}", doc["children"], [e for e in doc["episodes"] if e["episode_id"] in set(p["episodes"])], (p["code"], p["direction"]))
                         for j, p in enumerate(doc.get("patterns") or [])]
            else:
                units = [(f"{rid}#{e['episode_id']}#{k}", doc["children"], [e], (fc["code"], fc["influence"]))
                         for e in doc["episodes"] for k, fc in enumerate(e.get("factors") or [])]
        else:
            key = doc["area"]["code"] if unit == "area" else rid
            units = [(key, doc["children"], None, None)]
        for key, children, episodes, coding in units:
            kids = [ch for ch in children if all(_child_values(ch, k) & v for k, v in where.items() if k in CHILD_DIMS)]
            if uses_child and not kids:
                continue
            eps = episodes
            if uses_episode:
                eps = [e for e in (episodes if episodes is not None else doc["episodes"])
                       if all(e[k] in v for k, v in where.items() if k in EPISODE_DIMS)]
                if not eps:
                    continue
            quals = {CODING_DIMS[k]: v for k, v in where.items() if k in CODING_DIMS}
            if coding is not None and any(coding[1] not in v for k, v in where.items() if k in CODING_DIMS):
                continue
            # groups: cartesian product of this unit's values per by-dimension
            value_sets = []
            for b in by:
                if b in REVIEW_DIMS:
                    v = REVIEW_DIMS[b](doc)
                    value_sets.append([v] if v is not None else [])
                elif b in CHILD_DIMS:
                    value_sets.append(sorted(set().union(*[_child_values(ch, b) for ch in kids])))
                elif b in EPISODE_DIMS:
                    value_sets.append(sorted({e[b] for e in eps}))
                elif b in CODING_DIMS:
                    value_sets.append([coding[1]] if coding is not None else VOCAB[b])
            for group in itertools.product(*value_sets):
                g = dict(zip(by, group, strict=False))
                kids_g = [ch for ch in kids if all(g[b] in _child_values(ch, b) for b in by if b in CHILD_DIMS)]
                eps_g = eps
                if any(b in EPISODE_DIMS for b in by):
                    eps_g = [e for e in eps if all(e[b] == g[b] for b in by if b in EPISODE_DIMS)]
                quals_g = dict(quals)
                for b in by:
                    if b in CODING_DIMS:
                        quals_g[CODING_DIMS[b]] = quals_g.get(CODING_DIMS[b], set(VOCAB[b])) & {g[b]}
                pop_group = tuple(g[b] for b in by if b not in CODING_DIMS or unit == "coding")
                dens[pop_group].add(key)
                if coding is not None:
                    got = ancestors(frame, coding[0])
                else:
                    got = unit_codes(doc, frame, kids_g, eps_g if uses_episode else None, quals_g)
                for c in got:
                    if level is None or depth(frame, c) == level:
                        counts[(c, *group)].add(key)
    out: dict[tuple, tuple[int, int]] = {}
    for k, keys in counts.items():
        pop = tuple(v for b, v in zip(by, k[1:], strict=False) if b not in CODING_DIMS or unit == "coding")
        out[k] = (len(keys), len(dens[pop]))
    out["__dens__"] = {k: len(v) for k, v in dens.items()}  # type: ignore[assignment]
    return out


def check_against_oracle(table: pd.DataFrame, docs: list[dict], frame: str, **kw: Any) -> None:
    expected = oracle(docs, frame, **kw)
    dens = expected.pop("__dens__")
    by = kw.get("by", ())
    unit = kw.get("unit", "review")
    seen = set()
    for row in table.itertuples(index=False):
        r = row._asdict()
        key = (r["code"], *[r[b] for b in by])
        pop = tuple(r[b] for b in by if b not in CODING_DIMS or unit == "coding")
        want_count, _ = expected.get(key, (0, 0))
        assert r["count"] == want_count, f"{frame} {kw}: count of {key} is {r['count']}, oracle says {want_count}"
        assert r["denominator"] == dens.get(pop, 0), f"{frame} {kw}: denominator of {key} is {r['denominator']}, oracle {dens.get(pop)}"
        seen.add(key)
    missing = {k for k, (n, _) in expected.items() if n > 0} - seen
    assert not missing, f"oracle has non-zero cells the table lacks: {sorted(missing)[:5]}"


# ------------------------------------------------------------------------------------------
# Fixtures


@pytest.fixture(scope="module")
def docs() -> list[dict]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(CORPUS_DIR.glob("*.json"))]


@pytest.fixture(scope="module")
def db(corpus_db: Path, docs: list[dict]) -> Path:
    """The session's tabulation corpus database (tests/analysis/conftest.py), loaded once for every module using it."""
    con = connect(corpus_db, read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM reviews").fetchone()[0] == len(docs) == 60
    finally:
        con.close()
    return corpus_db


SCENARIOS = [
    dict(frame="patterns"),
    dict(frame="patterns", level=1),
    dict(frame="patterns", level=2, by=("region",)),
    dict(frame="patterns", level=3, by=("year",)),
    dict(frame="patterns", level=2, where={"direction": "unsafe"}),
    dict(frame="patterns", level=1, by=("direction",)),
    dict(frame="patterns", level=2, unit="episode"),
    dict(frame="patterns", level=1, unit="coding"),
    dict(frame="patterns", level=2, unit="coding", by=("direction",)),
    dict(frame="patterns", level=1, unit="area"),
    dict(frame="patterns", level=1, unit="child", by=("age_band",)),
    dict(frame="patterns", level=2, by=("age_band",)),
    dict(frame="patterns", level=2, where={"practice": "problematic"}),
    dict(frame="factors", level=1),
    dict(frame="factors", level=2, unit="episode", by=("practice",)),
    dict(frame="factors", level=2, by=("influence",), where={"region": ["london", "north_west"]}),
    dict(frame="factors", level=3, unit="coding", where={"influence": "hindering"}),
    dict(frame="practice_points"),
    dict(frame="family_factor"),
    dict(frame="family_factor", by=("nation",)),
    dict(frame="age_band", unit="child"),
    dict(frame="age_band", unit="review", by=("year",)),
    dict(frame="harm_type", unit="child", by=("age_band",)),
    dict(frame="harm_type", unit="review", where={"age_band": "under_1"}),
    dict(frame="practice", unit="episode", by=("region",)),
    dict(frame="region"),
    dict(frame="intervention_level", by=("review_type",)),
    dict(frame="review_type", unit="child", where={"year": [2015, 2016, 2017, 2018]}),
]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: "-".join(f"{k}={v}" for k, v in s.items()))
def test_frequency_matches_plain_python(scenario: dict, docs: list[dict], db: Path) -> None:
    s = dict(scenario)
    frame = s.pop("frame")
    table = tab.frequency(frame, db=db, **s)
    assert list(table.columns[:2]) == ["code", "label"]
    assert list(table.columns[-6:]) == ["count", "denominator", "percent", "ci_low", "ci_high", "suppressed"]
    assert table.attrs["unit"] == s.get("unit", "review") and table.attrs["disclosure"] == "restricted"
    check_against_oracle(table, docs, frame, **s)


def test_percent_and_wilson_interval_are_the_library_values(db: Path) -> None:
    t = tab.frequency("patterns", level=2, by=("region",), db=db)
    t = t[t["denominator"] > 0]
    lo, hi = proportion_confint(t["count"], t["denominator"], method="wilson")
    np.testing.assert_allclose(t["percent"], 100 * t["count"] / t["denominator"])
    np.testing.assert_allclose(t["ci_low"], 100 * lo)
    np.testing.assert_allclose(t["ci_high"], 100 * hi)


def test_every_code_of_the_frame_appears_in_taxonomy_order(db: Path) -> None:
    t = tab.frequency("patterns", level=2, db=db)
    listed = [r["code"] for r in corpus.frame("patterns") if r["code"].count(".") == 1]
    assert list(t["code"]) == listed
    assert (t["count"] >= 0).all()


def test_family_factors_not_recorded_leave_the_denominator(docs: list[dict], db: Path) -> None:
    t = tab.frequency("family-factors", db=db)
    recorded = sum(d.get("family_factors") is not None for d in docs)
    assert recorded < len(docs)
    assert set(t["denominator"]) == {recorded}
    assert t.attrs["not_recorded"] == len(docs) - recorded


def test_year_basis_published_drops_unpublished(docs: list[dict], db: Path) -> None:
    t = tab.frequency("patterns", level=1, by=("year",), year_basis="published", db=db)
    per_year = defaultdict(int)
    for d in docs:
        if d["dates"]["published"]:
            per_year[int(d["dates"]["published"][:4])] += 1
    got = t.drop_duplicates("year").set_index("year")["denominator"].to_dict()
    assert got == dict(per_year)
    assert t.attrs["not_recorded"] == sum(1 for d in docs if not d["dates"]["published"])


def test_period_bins(docs: list[dict], db: Path) -> None:
    t = tab.frequency("patterns", level=1, by=("period",), periods=[2012, 2016, 2020], db=db)
    assert set(t["period"]) <= {"2012-2015", "2016-2019", "2020 onwards"}
    want = defaultdict(int)
    for d in docs:
        y = int(d["dates"]["completed"][:4])
        want["2012-2015" if y < 2016 else "2016-2019" if y < 2020 else "2020 onwards"] += 1
    assert t.drop_duplicates("period").set_index("period")["denominator"].to_dict() == dict(want)


def test_totals_add_up_along_declared_lines(db: Path) -> None:
    t = tab.frequency("patterns", level=1, by=("region", "nation"), totals=True, db=db)
    for code, g in t.groupby("code"):
        allrow = g[(g["region"] == "All") & (g["nation"] == "All")]
        parts = g[(g["region"] != "All")]
        assert int(allrow["count"].iloc[0]) == int(parts["count"].sum())
        assert int(allrow["denominator"].iloc[0]) == int(parts.drop_duplicates(["region"])["denominator"].sum())
    assert t.attrs["lines"] == [["region", "nation"]]


def test_unknown_names_fail_with_a_useful_message(db: Path) -> None:
    with pytest.raises(TabulationError, match="did you mean 'patterns'"):
        tab.frequency("paterns", db=db)
    with pytest.raises(TabulationError, match="unknown dimension 'regoin'.*region"):
        tab.frequency("patterns", by=("regoin",), db=db)
    with pytest.raises(TabulationError, match="not a known value.*london"):
        tab.frequency("patterns", where={"region": "londn"}, db=db)
    with pytest.raises(TabulationError, match="qualifies patterns"):
        tab.frequency("factors", by=("direction",), db=db)
    with pytest.raises(TabulationError, match="unit 'coding'"):
        tab.frequency("age-band", unit="coding", db=db)
    with pytest.raises(TabulationError, match="flat"):
        tab.frequency("region", level=2, db=db)
    with pytest.raises(TabulationError, match="runs backwards.*2010..2019"):
        tab.frequency("patterns", where={"year": "2019..2010"}, db=db)
    with pytest.raises(TabulationError, match="FIRST..LAST"):
        tab.frequency("patterns", where={"year": "2019..soon"}, db=db)


def test_filter_values_are_bound_not_formatted(db: Path) -> None:
    # An injection attempt is just an unknown area: zero reviews, no error, no SQL run from the value.
    t = tab.frequency("patterns", level=1, where={"area": "x' OR '1'='1"}, db=db)
    assert set(t["denominator"]) == {0}


# ------------------------------------------------------------------------------------------
# Recurrence, trend, compare, funnel


def test_recurrence_matches_plain_python(docs: list[dict], db: Path) -> None:
    t = tab.recurrence(level=2, recent_years=4, db=db)
    last = max(int(d["dates"]["completed"][:4]) for d in docs)
    cutoff = last - 3
    n_recent = sum(int(d["dates"]["completed"][:4]) >= cutoff for d in docs)
    for row in t.itertuples(index=False):
        having = [d for d in docs if any(row.code in ancestors("patterns", p["code"]) for p in d.get("patterns") or [])]
        years = [int(d["dates"]["completed"][:4]) for d in having]
        assert row.reviews == len(having)
        assert row.areas == len({d["area"]["code"] for d in having})
        assert row.regions == len({d["area"]["region"] for d in having})
        assert row.reviews_recent == sum(y >= cutoff for y in years)
        assert row.reviews_before == sum(y < cutoff for y in years)
        assert row.denominator_recent == n_recent and row.denominator_before == len(docs) - n_recent
        if having:
            assert (row.first_year, row.last_year) == (min(years), max(years))
    assert list(t["reviews"]) == sorted(t["reviews"], reverse=True)
    assert t.attrs["recent_window"] == f"{cutoff}-{last}"


def test_recurrence_tests_are_scipy_and_statsmodels(db: Path) -> None:
    from scipy.stats import fisher_exact
    from statsmodels.stats.multitest import multipletests

    t = tab.recurrence(level=1, recent_years=5, db=db)
    ok = t["p_value"].notna()
    for row in t[ok].itertuples(index=False):
        table = [[row.reviews_recent, row.denominator_recent - row.reviews_recent],
                 [row.reviews_before, row.denominator_before - row.reviews_before]]
        assert row.p_value == pytest.approx(fisher_exact(table).pvalue)
    np.testing.assert_allclose(t.loc[ok, "q_value"], multipletests(t.loc[ok, "p_value"], method="fdr_bh")[1])


def test_trend_marks_the_series_break_and_names_the_method(db: Path) -> None:
    t = tab.trend("patterns", level=1, db=db)
    assert set(t.loc[t["series_break"], "year"]) <= {2018, 2019}
    assert t.loc[t["year"].isin([2018, 2019]), "series_break"].all()
    tests = tab.trend_tests("patterns", level=1, db=db)
    assert tests["method"].str.contains("Cochran-Armitage").all()
    from statsmodels.stats.contingency_tables import Table

    yearly = tab.frequency("patterns", level=1, by=("year",), db=db)
    for row in tests.itertuples(index=False):
        g = yearly[(yearly["code"] == row.code) & (yearly["denominator"] > 0)].sort_values("year")
        c, n = g["count"].to_numpy(), g["denominator"].to_numpy()
        if 0 < c.sum() < n.sum():
            res = Table(np.column_stack([c, n - c])).test_ordinal_association(row_scores=g["year"].to_numpy(float), col_scores=np.array([1.0, 0.0]))
            assert row.p_value == pytest.approx(res.pvalue)
    logistic = tab.trend_tests("patterns", level=1, method="logistic", db=db)
    assert logistic["method"].str.contains("step from 2018").all()


def test_compare_region_against_the_rest(docs: list[dict], db: Path) -> None:
    from scipy.stats import fisher_exact

    t = tab.compare("patterns", group={"region": "london"}, level=1, db=db)
    assert "not a performance measure" in t.attrs["caveat"]
    inside = [d for d in docs if d["area"]["region"] == "london"]
    rest = [d for d in docs if d["area"]["region"] != "london"]
    for row in t.itertuples(index=False):
        a = sum(any(p["code"].split(".")[0] == row.code for p in d.get("patterns") or []) for d in inside)
        b = sum(any(p["code"].split(".")[0] == row.code for p in d.get("patterns") or []) for d in rest)
        assert (row.count_group, row.denominator_group, row.count_rest, row.denominator_rest) == (a, len(inside), b, len(rest))
        assert row.p_value == pytest.approx(fisher_exact([[a, len(inside) - a], [b, len(rest) - b]]).pvalue)


def test_funnel_limits_are_binomial_quantiles(db: Path) -> None:
    from scipy.stats import binom

    t = tab.funnel("patterns", code="P2", by="region", db=db)
    p0 = t.attrs["p0"]
    for row in t.itertuples(index=False):
        assert row.upper_95 == pytest.approx(100 * binom.ppf(0.975, row.denominator, p0) / row.denominator)
        assert row.lower_998 == pytest.approx(100 * binom.ppf(0.001, row.denominator, p0) / row.denominator)
    assert list(t["region"]) == sorted(t["region"], key=[r["code"] for r in corpus.frame("region")].index)
    assert "not a performance measure" in t.attrs["caveat"]


# ------------------------------------------------------------------------------------------
# Co-occurrence


def test_pattern_cooccurrence_matches_plain_python(docs: list[dict], db: Path) -> None:
    t = tab.cooccurrence("patterns", level=2, db=db)
    sets = [{c for p in d.get("patterns") or [] for c in ancestors("patterns", p["code"]) if depth("patterns", c) == 2} for d in docs]
    n = len(docs)
    for row in t.itertuples(index=False):
        n_a = sum(row.code_a in s for s in sets)
        n_b = sum(row.code_b in s for s in sets)
        n_ab = sum(row.code_a in s and row.code_b in s for s in sets)
        assert (row.n_a, row.n_b, row.n_ab, row.n) == (n_a, n_b, n_ab, n)
        assert row.jaccard == pytest.approx(n_ab / (n_a + n_b - n_ab))
        assert row.lift == pytest.approx(n_ab * n / (n_a * n_b))
    pairs = {(a, b) for s in sets for a in s for b in s if a < b}
    assert pairs == set(zip(t["code_a"], t["code_b"], strict=False))


def test_factor_pattern_cooccurrence_within_episodes(docs: list[dict], db: Path) -> None:
    t = tab.cooccurrence("factor-pattern", level=1, factor_level=2, unit="episode", where={"influence": "hindering"}, db=db)
    fac: dict[tuple, set] = {}
    pat: dict[tuple, set] = {}
    for d in docs:
        for e in d["episodes"]:
            k = (d["review_id"], e["episode_id"])
            fac[k] = {".".join(f["code"].split(".")[:2]) for f in e.get("factors") or [] if f["influence"] == "hindering" and f["code"].count(".") >= 1}
            pat[k] = {p["code"].split(".")[0] for p in d.get("patterns") or [] if e["episode_id"] in p["episodes"]}
    want = defaultdict(int)
    for k in fac:
        for a in fac[k]:
            for b in pat[k]:
                want[(a, b)] += 1
    got = {(r.code_a, r.code_b): r.n_ab for r in t.itertuples(index=False)}
    assert got == dict(want)
    assert set(t["n"]) <= {len(fac)}
    for r in t.itertuples(index=False):
        assert r.n_a == sum(r.code_a in s for s in fac.values())
        assert r.n_b == sum(r.code_b in s for s in pat.values())


@pytest.mark.parametrize("where", [{"practice": "problematic"}, {"region": "north_west"}, {"practice": "good", "region": "london"}],
                         ids=["episode filter", "review filter", "both"])
def test_factor_pattern_cooccurrence_within_episodes_of_a_scope(docs: list[dict], db: Path, where: dict) -> None:
    """An episode-level filter picks episodes; a review-level one picks all the episodes of its reviews
    (the query then selects codes by review alone): both against plain Python."""
    t = tab.cooccurrence("factor-pattern", level=1, factor_level=2, unit="episode", where=where, db=db)
    fac: dict[tuple, set] = {}
    pat: dict[tuple, set] = {}
    for d in docs:
        if "region" in where and d["area"]["region"] != where["region"]:
            continue
        for e in d["episodes"]:
            if "practice" in where and e["practice"] != where["practice"]:
                continue
            k = (d["review_id"], e["episode_id"])
            fac[k] = {".".join(f["code"].split(".")[:2]) for f in e.get("factors") or [] if f["code"].count(".") >= 1}
            pat[k] = {p["code"].split(".")[0] for p in d.get("patterns") or [] if e["episode_id"] in p["episodes"]}
    want = {(a, b): sum(a in fac[k] and b in pat[k] for k in fac) for k0 in fac for a in fac[k0] for b in pat[k0]}
    got = {(r.code_a, r.code_b): r.n_ab for r in t.itertuples(index=False)}
    assert got == want and got
    for r in t.itertuples(index=False):
        assert (r.n_a, r.n_b, r.n) == (sum(r.code_a in s for s in fac.values()), sum(r.code_b in s for s in pat.values()), len(fac))


def test_factor_pattern_cooccurrence_within_reviews_is_a_2x2_table(docs: list[dict], db: Path) -> None:
    """Review unit: together = both somewhere in the review, so every 2 x 2 cell is a count (never negative)."""
    t = tab.cooccurrence("factor-pattern", level=1, factor_level=1, unit="review", db=db)
    assert t.attrs["unit"] == "review"
    fac = [{f["code"].split(".")[0] for e in d["episodes"] for f in e.get("factors") or []} for d in docs]
    pat = [{p["code"].split(".")[0] for p in d.get("patterns") or []} for d in docs]
    want = {(a, b): sum(a in f and b in p for f, p in zip(fac, pat, strict=False)) for f0, p0 in zip(fac, pat, strict=False) for a in f0 for b in p0}
    got = {(r.code_a, r.code_b): r.n_ab for r in t.itertuples(index=False)}
    assert got == want and got
    for r in t.itertuples(index=False):
        assert (r.n_a, r.n_b, r.n) == (sum(r.code_a in f for f in fac), sum(r.code_b in p for p in pat), len(docs))
        assert r.n - r.n_a - r.n_b + r.n_ab >= 0
    assert tab.cooccurrence("factor-pattern", db=db).attrs["unit"] == "episode"  # the default for factor x pattern


# ------------------------------------------------------------------------------------------
# Evidence, proposals, recommendations


def test_evidence_lists_every_coding_behind_a_cell(docs: list[dict], db: Path) -> None:
    t = tab.evidence("P2", where={"region": "north_west"}, db=db)
    want = {(d["review_id"], p["finding"], e) for d in docs if d["area"]["region"] == "north_west"
            for p in d.get("patterns") or [] if p["code"].startswith("P2") for e in p["episodes"]}
    assert set(zip(t["review_id"], t["finding"], t["episode_id"], strict=False)) == want
    cell = tab.frequency("patterns", level=1, where={"region": "north_west"}, db=db)
    assert t["review_id"].nunique() == int(cell.loc[cell["code"] == "P2", "count"].iloc[0])
    f = tab.evidence("FL.WORK", db=db)
    want_notes = {(d["review_id"], e["episode_id"], fc["note"]) for d in docs for e in d["episodes"]
                  for fc in e.get("factors") or [] if fc["code"].startswith("FL.WORK")}
    assert set(zip(f["review_id"], f["episode_id"], f["note"], strict=False)) == want_notes
    with pytest.raises(TabulationError, match="never appear in public"):
        tab.evidence("P2", db=db, disclosure="public")


def test_proposed_patterns_grouped_under_parent(docs: list[dict], db: Path) -> None:
    t = tab.proposed_patterns(db=db)
    want = defaultdict(set)
    for d in docs:
        for p in d.get("patterns") or []:
            if p.get("proposed_label"):
                want[(p["code"], p["proposed_label"].strip().lower())].add(d["review_id"])
    got = {(r.parent_code, r.proposed_label.lower()): r.reviews for r in t.itertuples(index=False)}
    assert got == {k: len(v) for k, v in want.items()}


def test_recommendations_kind_level_status(docs: list[dict], db: Path) -> None:
    t = tab.recommendations(by=("level", "status"), db=db)
    recs = [r for d in docs for r in d.get("recommendations") or []]
    for row in t.itertuples(index=False):
        assert row.count == sum((r["kind"], r["level"], r["status"]) == (row.code, row.level, row.status) for r in recs)
        assert row.denominator == len(recs)
    assert t["count"].sum() == len(recs)


def test_overdue_as_of_a_date(docs: list[dict], db: Path) -> None:
    t = tab.overdue("2021-06-30", db=db)
    want = {(d["review_id"], r["rec_id"]) for d in docs for r in d.get("recommendations") or []
            if r.get("due") and r["due"] < "2021-06-30" and r["status"] not in ("completed", "not_accepted")}
    assert set(zip(t["review_id"], t["rec_id"], strict=False)) == want
    assert list(t["due"]) == sorted(t["due"])


def test_the_as_of_date_is_part_of_a_public_question(db: Path) -> None:
    """Recommendation status at two dates are two questions, so one release publishes both. Before, the date was
    not in the cells' identity: after a report (as of the last load) `lt-workbench overdue --as-of 2026-03-31`
    failed with "the release's ledger holds count (kind clear_cut, code open) as 27, this snapshot as 35"."""
    from lt_workbench.analysis.publish import public_release
    from lt_workbench.analysis.recommendations import recommendation_status

    dates = ("2010-01-01", "2030-01-01")
    truth = [recommendation_status("kind", as_of=d, db=db) for d in dates]
    assert not truth[0]["count"].equals(truth[1]["count"])  # the premise: the status groups differ between the dates
    with public_release(db, name="two dates"):
        shown = [recommendation_status("kind", as_of=d, db=db, disclosure="public") for d in dates]
    for table, true in zip(shown, truth, strict=True):
        rows = (table["kind"] != "All") & (table["count"].astype(str) != "c")
        assert rows.any() and (table.loc[rows, "count"].astype(int) == true.loc[rows, "count"]).all()


def test_unaddressed_patterns(docs: list[dict], db: Path) -> None:
    t = tab.unaddressed_patterns(level=1, db=db)
    for row in t.itertuples(index=False):
        having, open_ = 0, 0
        for d in docs:
            fs = [p for p in d.get("patterns") or [] if p["code"].split(".")[0] == row.code]
            if not fs:
                continue
            having += 1
            addressed = {c for r in d.get("recommendations") or [] for c in r.get("patterns") or []}
            if any(not (ancestors("patterns", p["code"]) & addressed) for p in fs):
                open_ += 1
        assert (row.count, row.denominator) == (open_, having)


# ------------------------------------------------------------------------------------------
# Disclosure through the tabulation API


def test_public_output_hides_small_counts(db: Path) -> None:
    t = tab.frequency("patterns", level=2, by=("region",), totals=True, db=db, disclosure="public")
    shown = [v for v in t["count"] if v != "c"]
    assert all(v == 0 or v >= 6 for v in shown)
    assert t.attrs["disclosure"] == "public" and "c = confidential" in t.attrs["note"]
    with pytest.raises(Exception, match="local authority"):
        tab.frequency("patterns", level=1, by=("area",), db=db, disclosure="public")


# ------------------------------------------------------------------------------------------
# Property tests on random corpora


def _load_random(seed: int, n: int) -> tuple[list[dict], Path, tempfile.TemporaryDirectory]:
    tmp = tempfile.TemporaryDirectory()
    docs = corpus.make_corpus(n, seed)
    corpus.write_corpus(docs, Path(tmp.name) / "docs")
    dbp = Path(tmp.name) / "p.duckdb"
    res = load([Path(tmp.name) / "docs"], db=dbp, progress=False, workers=1)
    assert res.exit_code == 0
    return docs, dbp, tmp


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), n=st.integers(1, 25), level=st.sampled_from([1, 2, 3]))
def test_property_rollups_never_count_a_review_twice(seed: int, n: int, level: int) -> None:
    docs, dbp, tmp = _load_random(seed, n)
    with tmp:
        t = tab.frequency("patterns", db=dbp)
        by_code = dict(zip(t["code"], t["count"], strict=False))
        assert (t["count"] <= t["denominator"]).all()
        for code, count in by_code.items():
            # exactly the reviews with some finding at or below the code, however many findings
            assert count == sum(any(code in ancestors("patterns", p["code"]) for p in d.get("patterns") or []) for d in docs)
            parent = code.rsplit(".", 1)[0] if "." in code else None
            if parent:
                assert by_code[parent] >= count
        f = tab.frequency("factors", level=level, unit="episode", db=dbp)
        n_eps = sum(len(d["episodes"]) for d in docs)
        assert (f["count"] <= n_eps).all() and set(f["denominator"]) == {n_eps}


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), n=st.integers(1, 25),
       region=st.sampled_from(["north_west", "london", "wales"]), years=st.sampled_from(["2012..2016", "2017..2023", "2019"]))
def test_property_denominators_match_filters(seed: int, n: int, region: str, years: str) -> None:
    docs, dbp, tmp = _load_random(seed, n)
    with tmp:
        lo, _, hi = years.partition("..")
        yrs = range(int(lo), int(hi or lo) + 1)
        where = {"region": region, "year": years}
        match = [d for d in docs if d["area"]["region"] == region and int(d["dates"]["completed"][:4]) in yrs]
        t = tab.frequency("patterns", level=1, where=where, db=dbp)
        assert set(t["denominator"]) == {len(match)}
        ff = tab.frequency("family-factors", where=where, db=dbp)
        assert set(ff["denominator"]) == {sum(d.get("family_factors") is not None for d in match)}
        ch = tab.frequency("age-band", unit="child", where=where, db=dbp)
        assert set(ch["denominator"]) == {sum(len(d["children"]) for d in match)}
        assert ch["count"].sum() == sum(len(d["children"]) for d in match)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), n=st.integers(5, 40), profile=st.sampled_from(["dfe", "nhs", "ons"]))
def test_property_public_output_never_shows_a_small_count(seed: int, n: int, profile: str) -> None:
    from lt_workbench.analysis.disclosure import PROFILES

    docs, dbp, tmp = _load_random(seed, n)
    thr = PROFILES[profile].threshold
    with tmp:
        for kw in (dict(frame="patterns", level=1, by=("region",), totals=True),
                   dict(frame="age-band", unit="child", by=("nation",), totals=True),
                   dict(frame="harm-types", unit="child")):
            t = tab.frequency(db=dbp, disclosure="public", profile=profile, **kw)
            for col in ("count", "denominator"):
                shown = [v for v in t[col] if v != "c"]
                assert all(int(v) == 0 or int(v) >= thr for v in shown), (kw, col, shown)
            # nothing recoverable along a declared line: a line never has exactly one hidden part with its total shown
            if kw.get("totals"):
                for _, g in t.groupby("code"):
                    total = g[g["region" if "region" in g else "nation"].astype(str) == "All"]
                    parts = g[g["region" if "region" in g else "nation"].astype(str) != "All"]
                    if len(total) and total["count"].iloc[0] != "c":
                        assert (parts["count"] == "c").sum() != 1
        r = tab.recurrence(level=1, db=dbp, disclosure="public", profile=profile)
        for col in ("reviews", "reviews_recent", "reviews_before"):
            assert all(v == "c" or int(v) == 0 or int(v) >= thr for v in r[col])
        co = tab.cooccurrence(level=1, db=dbp, disclosure="public", profile=profile)
        for col in ("n_a", "n_b", "n_ab"):
            assert all(v == "c" or int(v) == 0 or int(v) >= thr for v in co[col])


# ------------------------------------------------------------------------------------------
# CLI and golden outputs


GOLDEN_RUNS = {
    "tabulate_patterns_level1_restricted.csv": ["tabulate", "patterns", "--level", "1", "--disclosure", "restricted"],
    "tabulate_patterns_level1_by_nation_public.csv": ["tabulate", "patterns", "--level", "1", "--by", "nation", "--totals", "--threshold", "5"],
    "tabulate_age_band_child_public.csv": ["tabulate", "age-band", "--unit", "child", "--threshold", "5"],
    "tabulate_factors_where_region.md": ["tabulate", "factors", "--level", "1", "--where", "region=north_west",
                                         "--disclosure", "restricted", "--format", "markdown"],
    "recurrence_level1_restricted.csv": ["recurrence", "--level", "1", "--recent-years", "4", "--disclosure", "restricted"],
    "cooccurrence_level1_restricted.csv": ["cooccurrence", "patterns", "--level", "1", "--disclosure", "restricted"],
}


@pytest.mark.parametrize("name", sorted(GOLDEN_RUNS))
def test_cli_golden_outputs(name: str, db: Path, tmp_path: Path) -> None:
    out = tmp_path / name
    result = CliRunner().invoke(app, [*GOLDEN_RUNS[name], "--db", str(db), "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    golden = GOLDEN / name
    if os.environ.get("LT_UPDATE_GOLDEN") == "1":
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8"), f"{name} differs from tests/golden; review and re-run with LT_UPDATE_GOLDEN=1"


def test_cli_states_unit_and_disclosure(db: Path) -> None:
    result = CliRunner().invoke(app, ["tabulate", "patterns", "--level", "1", "--db", str(db)])
    assert result.exit_code == 0
    assert "unit: reviews" in result.output and "disclosure: public" in result.output
    assert result.output.count("\n") > 6


def test_cli_json_carries_meta(db: Path) -> None:
    result = CliRunner().invoke(app, ["tabulate", "sex", "--unit", "child", "--format", "json", "--db", str(db),
                                      "--disclosure", "restricted"])
    assert result.exit_code == 0
    payload = json.loads(result.stdout)
    assert payload["meta"]["unit"] == "child" and payload["meta"]["disclosure"] == "restricted"
    assert sum(r["count"] for r in payload["rows"]) == payload["rows"][0]["denominator"]


def test_cli_evidence_needs_restricted(db: Path) -> None:
    runner = CliRunner()
    denied = runner.invoke(app, ["evidence", "P2", "--db", str(db)])
    assert denied.exit_code != 0
    ok = runner.invoke(app, ["evidence", "P2", "--db", str(db), "--disclosure", "restricted", "--where", "region=london"])
    assert ok.exit_code == 0 and "review_id" in ok.stdout


def test_trend_tests_public_hides_small_codes_and_national_totals(db: Path) -> None:
    t = tab.trend_tests("patterns", level=2, db=db, disclosure="public")
    assert "count" not in t.columns and "denominator" not in t.columns
    restricted = tab.trend_tests("patterns", level=2, db=db).set_index("code")
    for row in t.itertuples(index=False):
        small = 0 < restricted.loc[row.code, "count"] < 6
        assert (row.p_value == "c") == small


def test_empty_database_gives_empty_or_zero_tables(tmp_path: Path) -> None:
    from lt_workbench.model import db as lt_db

    path = tmp_path / "empty.duckdb"
    with lt_db.write(path):  # a new, empty database with the documented tables
        pass
    t = tab.frequency("patterns", level=1, db=path)
    assert list(t["count"]) == [0] * 6 and set(t["denominator"]) == {0}
    assert tab.frequency("patterns", level=1, by=("region",), db=path).empty
    assert tab.cooccurrence(db=path).empty

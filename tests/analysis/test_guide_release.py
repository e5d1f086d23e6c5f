"""The explorer guide's question in one public release: which patterns recur most in the North West since 2015.

Asked after the national figures by year and the North West's all-years figures, the North West 2015- table was
refused: the engine took "national P6.2 in 2008 = North West P6.2 in 2008" for a line a reader knows, because the
two counts happen to be equal (2 = 2: no other region's 2008 review has P6.2), although 14 of that year's 18 reviews
are outside the North West and nothing published says what they hold. With that line, the earlier outputs alone
seemed to confine the national 2008, 2019, 2023 and 2025 counts to 1-5, so no pattern of the new table could pass.

The attacker is independent of the disclosure package: its unknowns are the counts (and units) of each code in each
year for the North West and for the rest of the country; every published figure is the sum of unknowns over its
region and years (shown: equal; hidden, c: at least 1, since zeros are always shown); the North West's years add up
to its all-years and range figures and the rest of the country is what the nation has beyond it. HiGHS
(through highspy, not the engine's code) gives each hidden published figure's interval, and that of every unpublished count of 1-5 a reader would like
(a region's single year, its years before 2015, since 2015): pinned, or confined to 1-5, is a leak. (Knowing
hidden figures are at least 1 only narrows intervals, so checking under that knowledge covers the x >= 0 audit.)
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from lt_workbench.analysis import tabulate as tab
from lt_workbench.analysis.publish import public_release
from lt_workbench.model.load import load

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"
C = "c"
REST = "_rest"
NW = "north_west"
SINCE = (2015, 2025)  # the guide's range, as the explorer's year slider gives it on the sample


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("guide") / "sample.duckdb"
    result = load([SAMPLE], db, progress=False)
    assert result.exit_code == 0, result.summary()
    return db


Published = tuple[pd.DataFrame, str | None, tuple[int, int] | None]  # table as shown, its region, its years


def _span(row: dict[str, Any], span: tuple[int, int] | None) -> tuple[int, int] | None:
    if "year" in row:
        return int(row["year"]), int(row["year"])
    if "period" in row:
        lo, hi = str(row["period"]).split("-")
        return int(lo), int(hi)
    return span


class _LP:
    """One LP (x ≥ 0, rows = or ≥ their right-hand sides) minimised and maximised along many objectives: HiGHS through
    highspy, the model passed once and re-solved from the last basis (scipy's linprog rebuilds it every call: 0.12 s
    each, minutes for this module's thousands of targets); primal simplex, as a new objective leaves the basis feasible."""

    def __init__(self, n: int, eq: Sequence[np.ndarray], eq_b: Sequence[float], ge: Sequence[tuple[np.ndarray, float]]) -> None:
        import highspy

        self.h = highspy.Highs()
        for option, value in (("output_flag", False), ("presolve", "off"), ("solver", "simplex"), ("simplex_strategy", 4)):
            self.h.setOptionValue(option, value)
        self.n = n
        self.h.addVars(n, np.zeros(n), np.full(n, highspy.kHighsInf))
        for rows, lo, hi in ((eq, list(eq_b), list(eq_b)), ([a for a, _ in ge], [b for _, b in ge], [highspy.kHighsInf] * len(ge))):
            for a, low, high in zip(rows, lo, hi, strict=True):
                nz = np.flatnonzero(a)
                self.h.addRow(low, high, len(nz), nz.astype(np.int32), a[nz])
        self.status = highspy.HighsModelStatus

    def interval(self, a: np.ndarray) -> tuple[float, float]:
        """The whole numbers a @ x can take (the LP's bounds rounded inwards; hi may be inf)."""
        ends = []
        for sign in (1.0, -1.0):
            self.h.changeColsCost(self.n, np.arange(self.n, dtype=np.int32), sign * a)
            self.h.run()
            status = self.h.getModelStatus()
            if status == self.status.kUnbounded:
                ends.append(math.inf)
                continue
            assert status == self.status.kOptimal, status
            ends.append(sign * self.h.getInfo().objective_function_value)
        return math.ceil(ends[0] - 1e-6), (ends[1] if math.isinf(ends[1]) else math.floor(ends[1] + 1e-6))


def attack(published: Sequence[Published], truth: pd.DataFrame, pairs: pd.DataFrame | None, threshold: int) -> list[str]:
    """Leaks a reader finds in `published` (frequency tables, and co-occurrence tables: columns code_a, code_b, n_a,
    n_b, n_ab, n). truth: the restricted frequency by year and region; pairs: the restricted pair counts by region group
    (this module's names: the North West, the rest) and part ('before', 'since' 2015): code_a, code_b, group, part, n_ab."""
    named = sorted({r for _, r, _ in published if r is not None})
    groups = [*named, REST]
    years = sorted(int(y) for y in truth["year"].unique())
    codes = sorted(truth["code"].unique().tolist())
    parts = {"before": (years[0], SINCE[0] - 1), "since": SINCE}
    tv: dict[tuple[str, ...], int] = {}
    for row in truth.itertuples():
        key = (str(row.code), row.region if row.region in named else REST, str(row.year))
        tv[key] = tv.get(key, 0) + int(row.count)
    for (y, r), n in truth.groupby(["year", "region"])["denominator"].first().items():
        key = ("_n", r if r in named else REST, str(y))
        tv[key] = tv.get(key, 0) + int(n)
    names: list[tuple[str, ...]] = [(k, g, str(y)) for k in [*codes, "_n"] for g in groups for y in years]
    pair_keys = sorted({(str(r["code_a"]), str(r["code_b"])) for t, _, _ in published if "n_ab" in t for r in t.to_dict("records")})
    if pair_keys:
        assert pairs is not None
        for r in pairs.itertuples():
            tv[("_ab", f"{r.code_a}|{r.code_b}", str(r.group), str(r.part))] = int(r.n_ab)
        names += [("_ab", f"{a}|{b}", g, part) for a, b in pair_keys for g in groups for part in parts]
    idx = {n: i for i, n in enumerate(names)}
    true = np.array([tv.get(n, 0) for n in names], dtype=float)

    def scope(key: str, region: str | None, span: tuple[int, int] | None) -> np.ndarray:
        a = np.zeros(len(names))
        for g in groups:
            for y in years:
                if (region is None or g == region) and (span is None or span[0] <= y <= span[1]):
                    a[idx[key, g, str(y)]] = 1.0
        return a

    def pair_scope(pair: str, region: str | None, span: tuple[int, int] | None) -> np.ndarray:
        a = np.zeros(len(names))
        for g in groups:
            for part, (lo, hi) in parts.items():
                if (region is None or g == region) and (span is None or span[0] <= lo and hi <= span[1]):
                    a[idx["_ab", pair, g, part]] = 1.0
        return a

    eq: list[np.ndarray] = []
    eq_b: list[float] = []
    ge: list[tuple[np.ndarray, float]] = []
    targets: list[tuple[str, np.ndarray, float, bool]] = []

    def see(what: str, a: np.ndarray, val: Any) -> None:
        value = float(a @ true)
        if val == C:
            ge.append((a, 1.0))
            targets.append((f"published {what}", a, value, True))
        else:
            assert int(val) == value, f"{what} shown as {val}, true {value}: rounded?"
            eq.append(a)
            eq_b.append(value)

    for t, region, span in published:
        for row in t.to_dict("records"):
            sp = _span(row, span)
            if "n_ab" in row:
                pair = f"{row['code_a']}|{row['code_b']}"
                for col, key in (("n_a", str(row["code_a"])), ("n_b", str(row["code_b"])), ("n", "_n")):
                    see(f"{col} of {pair} region={region} years={sp}", scope(key, region, sp), row[col])
                see(f"n_ab {pair} region={region} years={sp}", pair_scope(pair, region, sp), row["n_ab"])
            else:
                for key, val in ((str(row["code"]), row["count"]), ("_n", row["denominator"])):
                    see(f"{key} region={region} years={sp}", scope(key, region, sp), val)
    for a_, b_ in pair_keys:  # what a reader knows of a pair in each group and part: 0 ≤ ab ≤ a, b and a + b − ab ≤ n
        pair = f"{a_}|{b_}"
        for g in groups:
            for part, sp in parts.items():
                ab = np.eye(len(names))[idx["_ab", pair, g, part]]
                ca, cb, n = scope(a_, g, sp), scope(b_, g, sp), scope("_n", g, sp)
                ge += [(ca - ab, 0.0), (cb - ab, 0.0), (n - ca - cb + ab, 0.0)]
                for side, c in ((a_, ca), (b_, cb)):
                    targets.append((f"{side} without the other of {pair} in {g} {part}", c - ab, float((c - ab) @ true), False))
    for k in codes:
        for g in groups:
            for y in years:
                targets.append((f"{k} {g} {y}", np.eye(len(names))[idx[k, g, str(y)]], true[idx[k, g, str(y)]], False))
            for sp in parts.values():
                a = scope(k, g, sp)
                targets.append((f"{k} {g} years={sp}", a, float(a @ true), False))
    lp = _LP(len(names), eq, eq_b, ge)
    leaks = []
    for what, a, value, hidden in targets:
        if not hidden and not 0 < value < threshold:
            continue  # an unpublished 0, or a count of at least the threshold, is not protected
        lo, hi = lp.interval(a)
        if hidden and hi - lo < 1:
            leaks.append(f"{what} (true {value:g}) pinned at {lo}")
        elif 0 < value < threshold and lo >= 1 and hi <= threshold - 1:
            leaks.append(f"{what} (true {value:g}) confined to [{lo}, {hi}]")
    return leaks


def _guide(db: Path, steps: Sequence[str]) -> list[Published]:
    """The guide's public calls (patterns, level 2) in one release, in order."""
    calls: dict[str, tuple[dict[str, Any], str | None, tuple[int, int] | None]] = {
        "all": ({}, None, None),
        "allyear": ({"by": ["year"]}, None, None),
        "nw": ({"where": {"region": NW}}, NW, None),
        "rng": ({"where": {"region": NW, "year": range(SINCE[0], SINCE[1] + 1)}}, NW, SINCE),
        "period": ({"by": ("period",)}, None, None),
    }
    out = []
    with public_release(db, name="guide"):
        for s in steps:
            kw, region, span = calls[s.removesuffix("-pairs")]
            if s.endswith("-pairs"):  # the explorer's pair chart: co-occurrence of the view's codes, reviews
                t = tab.cooccurrence("patterns", level=2, unit="review", where=kw.get("where"), db=db, disclosure="public",
                                     tests=False)
            else:
                t = tab.frequency("patterns", level=2, db=db, disclosure="public", **kw)
            out.append((t, region, span))
    return out


def _pairs(db: Path) -> pd.DataFrame:
    """Restricted pair counts by group (the North West, the rest) and part (before 2015, since)."""
    out = []
    for part, years in (("before", f"..{SINCE[0] - 1}"), ("since", f"{SINCE[0]}..{SINCE[1]}")):
        every, nw = (tab.cooccurrence("patterns", level=2, unit="review", where={**w, "year": years}, db=db, tests=False)
                     .set_index(["code_a", "code_b"])["n_ab"] for w in ({}, {"region": NW}))
        nw = nw.reindex(every.index, fill_value=0)
        for group, n_ab in ((NW, nw), (REST, every - nw)):
            out.append(n_ab.rename("n_ab").reset_index().assign(group=group, part=part))
    return pd.concat(out, ignore_index=True)


def _truth(db: Path) -> pd.DataFrame:
    return tab.frequency("patterns", level=2, by=["year", "region"], db=db)


def test_the_attacker_finds_what_a_shown_range_would_give_away(sample_db: Path) -> None:
    """The attacker can fail: beside the North West's all-years figures, a shown 2015- P1.3 (11 of 13) gives away its
    years before 2015 (2)."""
    nw = _guide(sample_db, ["nw"])
    rng = tab.frequency("patterns", level=2, where={"region": NW, "year": range(SINCE[0], SINCE[1] + 1)}, db=sample_db)
    shown = rng[["code", "label", "count", "denominator"]].astype(object)
    shown.loc[~shown["code"].isin(["P1.1", "P1.3"]), "count"] = C
    leaks = attack([*nw, (shown, NW, SINCE)], _truth(sample_db), None, 6)
    assert leaks and all("P1.3 north_west years=(2008, 2014) (true 2)" in x for x in leaks)


def test_the_guides_north_west_since_2015_is_shown_after_the_national_views(sample_db: Path) -> None:
    """National by year, North West, then North West 2015-: the range is published with what can be shown (every
    code whose 2015- and earlier counts are both 0 or at least the threshold), and nothing published gives away a
    hidden figure or a small unpublished count."""
    published = _guide(sample_db, ["all", "allyear", "nw", "rng"])
    rng = published[-1][0]
    threshold = int(rng.attrs["threshold"])
    assert not rng["suppressed"].all()
    assert set(rng.loc[~rng["suppressed"].astype(bool), "code"]) == _safe(sample_db, published[2][0], threshold)
    assert attack(published, _truth(sample_db), None, threshold) == []


def _safe(db: Path, nw: pd.DataFrame, threshold: int) -> set[str]:
    """The codes of the North West 2015- table that can be shown beside the North West's shown all-years figures:
    both their 2015- and earlier counts 0 or at least the threshold (else one gives the other away)."""
    restricted = {s: tab.frequency("patterns", level=2, where=w, db=db).set_index("code")["count"]
                  for s, w in (("rng", {"region": NW, "year": f"{SINCE[0]}..{SINCE[1]}"}),
                               ("before", {"region": NW, "year": f"..{SINCE[0] - 1}"}))}
    nw_shown = ~nw.set_index("code")["suppressed"].astype(bool)
    return {k for k in restricted["rng"].index
            if nw_shown[k] and all(v == 0 or v >= threshold for v in (restricted["rng"][k], restricted["before"][k]))}


def _linked(nw_units: int) -> list[tuple[str, list[str]]]:
    """Lines link_families finds between the national figure of one year (2 of 18 reviews) and the North West's
    (2 of `nw_units`): (total's kind, parts' kinds)."""
    from lt_workbench.analysis.disclosure.problem import Problem, TableSpec, as_counts

    q = {"frame": "patterns", "level": 2, "unit": "review", "where": {}, "year_basis": "completed"}
    problem = Problem()
    for region, units in ((None, 18), (NW, nw_units)):
        t = pd.DataFrame([{"code": "P6.2", "label": "P6.2", "year": 2008, **({"region": region} if region else {}),
                           "count": 2, "denominator": units}])
        dims = ["year", *(["region"] if region else [])]
        problem.add_table(TableSpec(t, dims, [], {}, False, q), as_counts(t, "count"), as_counts(t, "denominator"))
    problem.link_families()
    return [(problem.kind[t], [problem.kind[p] for p in parts]) for t, parts in problem.lines]


def test_counts_that_add_up_by_chance_are_not_a_line_a_reader_knows() -> None:
    """2 national = 2 in the North West: exact only when the North West holds all that year's reviews; otherwise the
    rest of the country's count is unknown (≥ 0), a slack part, so the national figure is not bounded by the region's."""
    assert _linked(18) == [("count", ["count"]), ("denominator", ["denominator"])]
    assert _linked(4) == [("count", ["count", "slack"])]


def test_the_explorers_guide_shows_the_north_west_since_2015(sample_db: Path) -> None:
    """The explorer's steps as API calls: all reviews (patterns, national five-year periods, pairs), North West (patterns,
    pairs), North West 2015- (patterns, pairs). The co-occurrence links tie every code into one block of about a
    thousand cells, repaired by hiding one more cell near each failing one: a latent ..2014 count given away by a
    shown 2015- range (P1.3: 13 - 11 = 2) is three lines from that range, and the repair used to hide some other
    code's range instead (the cheapest cell on any line of any hidden cell), one a round, until all 20 were hidden.
    Now the nearest hideable cells (the failing code's own range), so the codes that can be shown are."""
    steps = ["all", "period", "all-pairs", "nw", "nw-pairs", "rng", "rng-pairs"]
    published = _guide(sample_db, steps)
    rng = published[steps.index("rng")][0]
    threshold = int(rng.attrs["threshold"])
    shown = set(rng.loc[~rng["suppressed"].astype(bool), "code"])
    assert shown and shown <= _safe(sample_db, published[steps.index("nw")][0], threshold)
    assert attack(published, _truth(sample_db), _pairs(sample_db), threshold) == []


def test_a_refusal_names_the_cell_no_pattern_protects_with_its_filters_and_output() -> None:
    """The refusal used to name the block's first forced cell without its filters: "count (region north_west, code
    P6.2)" read as the North West's all-years P6.2, shown (8) by an earlier output, while the new cell was the 2015-
    one and the cells at risk were the national single years an earlier output hid."""
    import sys

    from lt_workbench.analysis.disclosure.audit import CellAudit, Interval
    from lt_workbench.analysis.disclosure.problem import Fixed, Problem

    secondary = sys.modules["lt_workbench.analysis.disclosure.secondary"]
    q = {"frame": "patterns", "level": 2, "unit": "review", "year_basis": "completed"}
    problem = Problem()
    new = problem.cell(json.dumps({"measure": "count", **q, "where": {"year": "2015..2025"}}, sort_keys=True),
                       {"region": NW, "code": "P6.2"}, "count", 5)
    hid = problem.cell(json.dumps({"measure": "count", **q, "where": {}}, sort_keys=True), {"year": 2008, "code": "P6.2"},
                       "count", 2)
    problem.fixed[hid] = Fixed(True, None, 0, 0, "output: national by year")
    assert problem.describe(new) == "count (year 2015..2025, region north_west, code P6.2)"
    failing = CellAudit(hid, 2, Interval(0, 8), Interval(1, 5), "confined to [1, 5] (knowing x ≥ 1), inside 1–5")
    said = secondary._at_risk(problem, [failing], [new])
    assert said.startswith("every pattern it can still hide leaves count (year 2008, code P6.2) (hidden by "
                           "'output: national by year') confined to [1, 5]")
    assert secondary._at_risk(problem, [], [new]) == ("count (year 2015..2025, region north_west, code P6.2) and its lines "
                                                      "leave no safe pattern")

"""Public co-occurrence joins the release (issue 12 §2): one number per question, and nothing recoverable.

n_a and n_b of a public co-occurrence table are the cells `frequency` publishes for the same question in the same
release; n_ab is a new cell tied to them by what a reader knows (0 ≤ n_ab ≤ min(n_a, n_b), n_a + n_b − n_ab ≤ n).
The attacker here is independent of the disclosure package: it rebuilds those relations from the published
tables alone, with rounded figures as intervals and hidden cells ≥ 0 or ≥ 1, and asks scipy's linprog for the
feasible interval of every hidden cell and of every unseen remainder (units with a but not b).
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from lt_workbench.analysis import tabulate as tab
from lt_workbench.analysis.disclosure import PROFILES
from lt_workbench.analysis.joint import _protect_cooccurrence
from lt_workbench.analysis.publish import apply_disclosure, public_release
from lt_workbench.exceptions import DisclosureError
from lt_workbench.model.load import load

C = "c"
CORPUS_DIR = Path(__file__).resolve().parent.parent / "data" / "tabulate" / "corpus"


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("coocrel") / "corpus.duckdb"
    assert load([CORPUS_DIR], db=path, progress=False, workers=1).exit_code == 0
    return path


# --------------------------------------------------------------------------------------------
# The attacker


def _bounds(v: Any, base: int | None, thr: int) -> tuple[float, float]:
    v = int(v)
    if v == 0:
        return 0.0, 0.0
    if base:
        return float(max(math.ceil(v - base / 2), thr)), float(math.ceil(v + base / 2) - 1)
    return float(v), float(v)


def attack(freqs: list[pd.DataFrame], pairs: pd.DataFrame, truth: dict[str, int], thr: int, base: int | None) -> list[str]:
    """Leaks a reader finds in frequency tables + a co-occurrence table of one release.

    truth: true value of every variable ('count:P1', 'den', 'ab:P1|P2', 'a_only:P1|P2', 'b_only:P1|P2', 'neither:...').
    """
    shown: dict[str, list[Any]] = {}

    def see(name: str, v: Any) -> None:
        shown.setdefault(name, []).append(v)

    for f in freqs:
        for r in f.itertuples(index=False):
            see(f"count:{r.code}", r.count)
            see("den", r.denominator)
    for r in pairs.itertuples(index=False):
        key = f"{r.code_a}|{r.code_b}"
        see(f"count:{r.code_a}", r.n_a)
        see(f"count:{r.code_b}", r.n_b)
        see(f"ab:{key}", r.n_ab)
        see("den", r.n)
    names = sorted(set(shown) | {f"{p}:{r.code_a}|{r.code_b}" for r in pairs.itertuples() for p in ("a_only", "b_only", "neither")})
    idx = {n: i for i, n in enumerate(names)}
    eqs = []
    for r in pairs.itertuples(index=False):
        key = f"{r.code_a}|{r.code_b}"
        for total, parts in ((f"count:{r.code_a}", [f"ab:{key}", f"a_only:{key}"]), (f"count:{r.code_b}", [f"ab:{key}", f"b_only:{key}"]),
                             ("den", [f"ab:{key}", f"a_only:{key}", f"b_only:{key}", f"neither:{key}"])):
            row = np.zeros(len(names))
            row[idx[total]] = 1
            for p in parts:
                row[idx[p]] -= 1
            eqs.append(row)
    hidden: set[str] = set()
    fixed: dict[str, tuple[float, float]] = {}
    for n, vals in shown.items():
        assert len({str(v) for v in vals}) == 1, f"{n} shown as {vals}: one cell, two numbers"
        if str(vals[0]) == C:
            hidden.add(n)
        else:
            fixed[n] = _bounds(vals[0], base, thr)
    leaks = []
    targets = sorted(hidden) + [n for n in names if n.split(":")[0] in ("a_only", "b_only") and 0 < truth[n] < thr]
    for floor in (0.0, 1.0):
        bounds = [fixed.get(n, (floor if n in hidden else 0.0, None)) for n in names]
        for n in targets:
            ends = []
            for sign in (1, -1):
                c = np.zeros(len(names))
                c[idx[n]] = sign
                res = linprog(c, A_eq=np.array(eqs) if eqs else None, b_eq=np.zeros(len(eqs)) if eqs else None, bounds=bounds, method="highs")
                assert res.status in (0, 3), (n, res.message)
                ends.append(math.inf if res.status == 3 else sign * res.fun)
            lo, hi = math.ceil(ends[0] - 1e-6), (ends[1] if math.isinf(ends[1]) else math.floor(ends[1] + 1e-6))
            true = truth[n]
            if hi - lo < 1:
                leaks.append(f"{n} (true {true}) pinned at {lo} knowing x ≥ {floor:g}")
            elif 0 < true < thr and lo >= 1 and hi <= thr - 1:
                leaks.append(f"{n} (true {true}) confined to [{lo}, {hi}] knowing x ≥ {floor:g}")
    return leaks


def _truth_of(freq: pd.DataFrame, pairs: pd.DataFrame) -> dict[str, int]:
    truth = {f"count:{r.code}": int(r.count) for r in freq.itertuples(index=False)}
    truth["den"] = int(freq["denominator"].iloc[0])
    for r in pairs.itertuples(index=False):
        key = f"{r.code_a}|{r.code_b}"
        truth.update({f"ab:{key}": int(r.n_ab), f"a_only:{key}": int(r.n_a - r.n_ab), f"b_only:{key}": int(r.n_b - r.n_ab),
                      f"neither:{key}": int(r.n - r.n_a - r.n_b + r.n_ab)})
    return truth


# --------------------------------------------------------------------------------------------
# Through the analysis API, on the test corpus


@pytest.mark.parametrize("order", ["frequency first", "cooccurrence first"])
def test_the_same_question_has_the_same_n_a_in_cooccurrence_and_frequency(db: Path, order: str) -> None:
    with public_release(db, name="one snapshot"):
        for step in (("f", "c") if order == "frequency first" else ("c", "f")):
            if step == "f":
                freq = tab.frequency("patterns", level=2, db=db, disclosure="public")
            else:
                co = tab.cooccurrence("patterns", level=2, db=db, disclosure="public")
    shown = dict(zip(freq["code"], freq["count"].astype(str), strict=True))
    assert len(co) > 20
    for r in co.itertuples(index=False):
        assert (str(r.n_a), str(r.n_b)) == (shown[r.code_a], shown[r.code_b]), r
        assert str(r.n) == str(freq["denominator"].iloc[0])
    assert (co["suppressed"] == (co["n_ab"] == C)).all()
    # restricted: the margins are frequency's counts too
    rf = tab.frequency("patterns", level=2, db=db)
    rc = tab.cooccurrence("patterns", level=2, db=db)
    true = dict(zip(rf["code"], rf["count"], strict=True))
    assert all(true[r.code_a] == r.n_a and true[r.code_b] == r.n_b for r in rc.itertuples(index=False))
    # and the release holds nothing a reader can use: the attacker over both published tables
    thr = PROFILES["dfe"].threshold
    assert attack([freq], co, _truth_of(rf, rc), thr, None) == []


def test_factor_pattern_margins_are_the_frequency_figures_of_each_side(db: Path) -> None:
    where = {"influence": "hindering", "year": "2012.."}
    with public_release(db, name="one snapshot"):
        co = tab.cooccurrence("factor-pattern", level=1, factor_level=2, unit="episode", where=where, db=db, disclosure="public")
        fa = tab.frequency("factors", level=2, unit="episode", where=where, db=db, disclosure="public")
        fb = tab.frequency("patterns", level=1, unit="episode", where={"year": "2012.."}, db=db, disclosure="public")
    a = dict(zip(fa["code"], fa["count"].astype(str), strict=True))
    b = dict(zip(fb["code"], fb["count"].astype(str), strict=True))
    assert len(co)
    for r in co.itertuples(index=False):
        assert (str(r.n_a), str(r.n_b), str(r.n)) == (a[r.code_a], b[r.code_b], str(fb["denominator"].iloc[0])), r
    assert "passed" in co.attrs["disclosure_audit"] and "output" in co.attrs["release"]


def test_public_cooccurrence_cells_are_in_the_ledger(db: Path, tmp_path: Path) -> None:
    from lt_workbench.analysis.disclosure import show_release
    import sqlite3

    ledger = tmp_path / "l.sqlite"
    with public_release(db, name="pairs", ledger=ledger):
        co = tab.cooccurrence("patterns", level=1, db=db, disclosure="public")
    assert len(show_release(ledger)) == 1
    con = sqlite3.connect(ledger)
    kinds = dict(con.execute("SELECT kind, count(*) FROM cells GROUP BY kind").fetchall())
    con.close()
    assert kinds["count"] >= len(co) + len(set(co["code_a"]) | set(co["code_b"]))  # every n_ab, and each code's n
    assert kinds["latent"] == 2 * len(co) and kinds["slack"] == len(co)  # a without b, b without a; neither


def test_a_small_difference_hides_the_pair_as_before(db: Path) -> None:
    """The old safety rule is still the primary suppression: n_ab, n_a − n_ab or n_b − n_ab of 1..5 is not shown."""
    rc = tab.cooccurrence("patterns", level=1, db=db)
    co = tab.cooccurrence("patterns", level=1, db=db, disclosure="public")

    def small(s: pd.Series) -> pd.Series:
        return (s > 0) & (s < 6)

    rule = small(rc["n_ab"]) | small(rc["n_a"] - rc["n_ab"]) | small(rc["n_b"] - rc["n_ab"]) | small(rc["n_a"]) | small(rc["n_b"])
    assert rule.any() and (~rule).any()
    assert co.loc[rule.to_numpy(), "n_ab"].eq(C).all()
    for col in ("jaccard", "lift", "p_value", "q_value"):
        assert co.loc[co["suppressed"], col].eq(C).all()


# --------------------------------------------------------------------------------------------
# Property: random units and codes, frequency and co-occurrence published in either order


@st.composite
def memberships(draw: Any) -> tuple[list[set[str]], str, bool]:
    codes = [f"K{i}" for i in range(draw(st.integers(3, 5)))]
    n = draw(st.integers(8, 40))
    probs = {k: draw(st.sampled_from([0.05, 0.2, 0.5, 0.9])) for k in codes}
    units = [{k for k in codes if draw(st.floats(0, 1)) < probs[k]} for _ in range(n)]
    return units, draw(st.sampled_from(["dfe", "nhs"])), draw(st.booleans())


def _tables(units: list[set[str]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    codes = sorted({k for u in units for k in u} | {"K0", "K1", "K2"})
    n = len(units)
    freq = pd.DataFrame({"code": codes, "label": codes, "count": [sum(k in u for u in units) for k in codes], "denominator": n})
    freq["percent"] = 100.0 * freq["count"] / max(n, 1)
    freq["ci_low"] = freq["ci_high"] = 0.0
    freq.attrs.update({"table": "frequency", "frame": "patterns", "level": 2, "unit": "review", "where": {}, "year_basis": "completed"})
    rows = []
    cnt = dict(zip(freq["code"], freq["count"], strict=True))
    for a, b in itertools.combinations(codes, 2):
        ab = sum(a in u and b in u for u in units)
        if ab:
            rows.append({"code_a": a, "label_a": a, "code_b": b, "label_b": b, "n_a": cnt[a], "n_b": cnt[b], "n_ab": ab, "n": n})
    pairs = pd.DataFrame(rows, columns=["code_a", "label_a", "code_b", "label_b", "n_a", "n_b", "n_ab", "n"])
    for col in ("n_a", "n_b", "n_ab", "n"):
        pairs[col] = pairs[col].astype("int64")
    pairs["jaccard"] = pairs["n_ab"] / (pairs["n_a"] + pairs["n_b"] - pairs["n_ab"])
    pairs["lift"] = pairs["n_ab"] * pairs["n"] / (pairs["n_a"] * pairs["n_b"])
    return freq, pairs


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(memberships())
@example(([{"K0", "K1", "K2"}] * 7 + [{"K0", "K1"}], "dfe", False))  # frequency first pins 'K0 without K2' at 1: refused
@example(([{"K0", "K1", "K2"}] * 7 + [{"K0", "K1"}], "dfe", True))  # co-occurrence first: it hides, frequency follows
def test_random_releases_of_frequency_and_cooccurrence_leave_nothing_recoverable(tmp_path_factory: Any, case: Any) -> None:
    units, profile, pairs_first = case
    freq, pairs = _tables(units)
    ledger = tmp_path_factory.mktemp("rel") / "l.sqlite"
    prof = PROFILES[profile]
    attrs = {"table": "cooccurrence", "kind": "patterns", "unit": "review", "where": {}, "level": 2}
    question = {"frame": "cooccurrence", "kind": "patterns", "level": 2, "unit": "review", "where": {}, "year_basis": "completed"}
    published: dict[str, pd.DataFrame] = {}
    for step in (("pairs", "freq") if pairs_first else ("freq", "pairs")):
        with public_release(name=step, ledger=ledger, snapshot="s"):
            try:
                if step == "freq":
                    published[step] = apply_disclosure(freq, freq.attrs, disclosure="public", profile=profile)
                else:
                    keep = sorted(set(pairs["code_a"]) | set(pairs["code_b"]))
                    margin = freq[freq["code"].isin(keep)].reset_index(drop=True)
                    margin.attrs.update(freq.attrs)
                    published[step] = _protect_cooccurrence(pairs, attrs, profile, None, [margin], question)
            except DisclosureError as e:
                # e.g. frequency showed 8 of 8 and 7 of 8: 'a without b' is 1 whatever co-occurrence hides, so it is
                # refused, naming the earlier output; a first output is never refused
                assert published and ("freq" in str(e) or "pairs" in str(e)), str(e)
                published[step] = pairs.iloc[:0] if step == "pairs" else freq.iloc[:0]
    co = published["pairs"]
    for col in ("n_a", "n_b", "n_ab", "n"):
        assert all(v == C or int(v) == 0 or int(v) >= prof.threshold for v in co[col]), (col, list(co[col]))
    assert attack([published["freq"]], co, _truth_of(freq, pairs), prof.threshold, prof.rounding) == []


# --------------------------------------------------------------------------------------------
# The relation type itself (disclosure.problem.Link with unseen cells), through protect_many


def _pair_tables(n_a: int, n_b: int, n_ab: int, n: int) -> tuple[list[Any], list[Any]]:
    from lt_workbench.analysis.disclosure import Request
    from lt_workbench.analysis.disclosure.problem import Latent, Link

    freq = pd.DataFrame({"code": ["A", "B"], "label": ["A", "B"], "count": [n_a, n_b], "denominator": [n, n]})
    pair = pd.DataFrame({"code": ["A|B"], "label": ["A | B"], "count": [n_ab], "denominator": [n]})
    fam = {"frame": "pairs"}
    a_only, b_only = Latent(fam, {"part": "a"}, n_a - n_ab), Latent(fam, {"part": "b"}, n_b - n_ab)
    neither = Latent(fam, {"part": "neither"}, n - n_a - n_b + n_ab, sensitive=False)
    links = [Link((0, 0, "count"), ((1, 0, "count"), a_only), "a"), Link((0, 1, "count"), ((1, 0, "count"), b_only), "b"),
             Link((1, 0, "denominator"), ((1, 0, "count"), a_only, b_only, neither), "2x2"),
             Link((1, 0, "denominator"), ((0, 0, "denominator"),), "units")]
    return [Request(freq, question={"frame": "codes"}), Request(pair, question=fam)], links


def test_a_small_unseen_remainder_is_primary_and_audited() -> None:
    """n_a = 10, n_ab = 8: showing both would pin 'a without b' at 2, so one of them is hidden; the audit passes."""
    from lt_workbench.analysis.disclosure import protect_many

    reqs, links = _pair_tables(10, 30, 8, 60)
    freq, pair = protect_many(reqs, links=links)
    assert freq.table["count"].tolist()[0] == C or pair.table["count"].item() == C
    assert "passed" in pair.facts["audit"] and pair.facts["audit_hidden_cells"] >= 1  # unseen cells are not counted as hidden
    # without the link, nothing ties them: both shown (what the table alone would do)
    from lt_workbench.analysis.disclosure import protect

    assert protect(reqs[1].table).table["count"].item() == 8


def test_a_small_neither_remainder_is_slack_not_primary() -> None:
    """Units with neither code are not protected (frequency never protects n − n_a either): nothing hidden."""
    from lt_workbench.analysis.disclosure import protect_many

    reqs, links = _pair_tables(20, 30, 12, 41)  # neither = 3
    freq, pair = protect_many(reqs, links=links)
    assert freq.table["count"].tolist() == [20, 30] and pair.table["count"].item() == 12
    assert pair.facts["audit_hidden_cells"] == 0


def test_a_link_that_does_not_add_up_is_refused() -> None:
    from lt_workbench.analysis.disclosure import protect_many
    from lt_workbench.analysis.disclosure.problem import Latent, Link
    from lt_workbench.exceptions import DisclosureError

    reqs, links = _pair_tables(20, 30, 12, 41)
    bad = [Link((0, 0, "count"), ((1, 0, "count"), Latent({"frame": "pairs"}, {"part": "x"}, 1)), "wrong")]
    with pytest.raises(DisclosureError, match="does not add up"):
        protect_many(reqs, links=bad)


def test_audit_block_bounds_unseen_cells_by_zero_only() -> None:
    """total (shown 10) = hidden h (true 4) + unseen u (true 6): h reaches 10 (u ≥ 0), and a small unseen u is audited."""
    from lt_workbench.analysis.disclosure.audit import audit_block

    values = [10, 4, 6]
    res = audit_block([0, 1, 2], [(0, (1, 2))], values, {1, 2}, [10, 0, 0], [10, 0, 0], 6, unseen={2: True})
    assert [(a.cell, a.one.lo, a.one.hi) for a in res] == [(1, 1, 10)] and res[0].problem is None
    values = [10, 8, 2]  # u = 2 small, h shown 8: u pinned
    res = audit_block([0, 1, 2], [(0, (1, 2))], values, {2}, [10, 8, 0], [10, 8, 0], 6, unseen={2: True})
    assert res[0].cell == 2 and res[0].problem and "pinned at 2" in res[0].problem
    res = audit_block([0, 1, 2], [(0, (1, 2))], values, {2}, [10, 8, 0], [10, 8, 0], 6, unseen={2: False})
    assert res == []  # slack: never a target


# --------------------------------------------------------------------------------------------
# compare joins the release the same way: its group figures are frequency's for the same group


@pytest.mark.parametrize("order", ["frequency first", "compare first"])
@pytest.mark.parametrize("group", [{"region": "london"}, {"nation": "wales"}])
def test_public_compare_shows_frequency_figures_for_its_group(db: Path, tmp_path: Path, order: str, group: dict[str, str]) -> None:
    from lt_workbench.analysis.disclosure import show_release

    ledger = tmp_path / "l.sqlite"
    where = {"year": "2010.."}
    with public_release(db, name="one snapshot", ledger=ledger):
        for step in (("f", "c") if order == "frequency first" else ("c", "f")):
            if step == "f":
                freq = tab.frequency("patterns", level=1, where={**where, **group}, db=db, disclosure="public")
            else:
                cmp = tab.compare("patterns", level=1, group=group, where=where, db=db, disclosure="public")
    assert list(cmp["code"]) == list(freq["code"])
    assert [str(v) for v in cmp["count_group"]] == [str(v) for v in freq["count"]]
    assert {str(v) for v in cmp["denominator_group"]} == {str(freq["denominator"].iloc[0])}
    assert "passed" in cmp.attrs["disclosure_audit"] and len(show_release(ledger)) == 2
    rc = tab.compare("patterns", level=1, group=group, where=where, db=db)
    thr = PROFILES["dfe"].threshold
    for r, t in zip(cmp.itertuples(index=False), rc.itertuples(index=False), strict=True):
        for col in ("count_group", "count_rest"):
            v, true = getattr(r, col), getattr(t, col)
            assert (v == C and 0 < true) or int(v) == true  # dfe: shown figures of ordinary cells are exact
            assert not (v != C and 0 < true < thr)
        if r.count_group == C or r.count_rest == C:  # group + rest = all: one hidden part means both hidden
            assert r.count_group == C and r.count_rest == C and r.p_value == C

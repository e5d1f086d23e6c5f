"""The LP audit against tables whose leaks are known, and protect() fixing them.

Each case states its leak in arithmetic a reader could do by hand; the audit must find exactly
that, and protect() must return a pattern the audit passes.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from lt_workbench.analysis.disclosure import protect
from lt_workbench.analysis.disclosure.audit import audit_block

C = "c"


def _audit(values, lines, hidden, threshold=6, rounded=None):
    """values: cell -> true value; lines: (total, parts); hidden: set of cells; rounded: cell -> (lo, hi) shown interval."""
    cells = sorted(values)
    n = max(cells) + 1
    lo = [0] * n
    hi = [0] * n
    for c in cells:
        lo[c] = hi[c] = values[c]
        if rounded and c in rounded:
            lo[c], hi[c] = rounded[c]
    vals = [values.get(c, 0) for c in range(n)]
    return {a.cell: a for a in audit_block(cells, lines, vals, set(hidden), lo, hi, threshold)}


def test_wales_is_pinned_when_the_national_total_is_published_beside_the_regions() -> None:
    # cells: 0 = nation, 1..4 = NW 11, London 10, SW 7, Wales 3 (hidden alone: the national figure betrays it)
    values = {0: 31, 1: 11, 2: 10, 3: 7, 4: 3}
    res = _audit(values, [(0, (1, 2, 3, 4))], {4})
    assert res[4].zero.lo == res[4].zero.hi == 3 and "pinned at 3" in res[4].problem


def test_safe_only_without_knowing_hidden_cells_are_at_least_one() -> None:
    """Total 2 = a + b, both hidden: under x ≥ 0 each is 0..2 (not pinned, reaches 0); knowing zeros are
    shown, each is exactly 1. Total 6 = 3 + 3: under x ≥ 0 each reaches 0 and 6; knowing ≥ 1, 1..5."""
    pinned = _audit({0: 2, 1: 1, 2: 1}, [(0, (1, 2))], {1, 2})
    assert (pinned[1].zero.lo, pinned[1].zero.hi) == (0, 2)
    assert (pinned[1].one.lo, pinned[1].one.hi) == (1, 1)
    assert "pinned at 1 (knowing x ≥ 1)" in pinned[1].problem
    confined = _audit({0: 6, 1: 3, 2: 3}, [(0, (1, 2))], {1, 2})
    assert (confined[1].zero.lo, confined[1].zero.hi) == (0, 6)
    assert (confined[1].one.lo, confined[1].one.hi) == (1, 5)
    assert "confined to [1, 5] (knowing x ≥ 1)" in confined[1].problem


def test_combining_lines_and_rounded_totals_as_intervals() -> None:
    """A 2x2 of hidden cells with every margin exact is safe; show one interior cell and the others are pinned."""
    # a b | 15      cells: a=0 (3), b=1 (12), c=2 (8), d=3 (9); row totals 4 (15), 5 (17); column totals 6 (11), 7 (21)
    # c d | 17
    values = {0: 3, 1: 12, 2: 8, 3: 9, 4: 15, 5: 17, 6: 11, 7: 21}
    lines = [(4, (0, 1)), (5, (2, 3)), (6, (0, 2)), (7, (1, 3))]
    ok = _audit(values, lines, {0, 1, 2, 3})
    assert all(a.problem is None for a in ok.values())
    assert (ok[0].one.lo, ok[0].one.hi) == (1, 10)  # a = 11 - c and c ≤ 17 - 1 ... bounded by b ≥ 1 and c ≥ 1
    leak = _audit(values, lines, {0, 1, 3})
    assert leak[0].problem and "pinned at 3" in leak[0].problem  # a = 11 - c
    # a rounded total is an interval: 9 = 3 (hidden) + 6 is pinned exact, but shown as 10 (base 10: 5..14, and a
    # shown count is at least the threshold, so 6..14) the 3 is anywhere in 1..8
    exact = _audit({0: 9, 1: 3, 2: 6}, [(0, (1, 2))], {1})
    assert "pinned at 3" in exact[1].problem
    rounded = _audit({0: 9, 1: 3, 2: 6}, [(0, (1, 2))], {1}, rounded={0: (6, 14)})
    assert rounded[1].problem is None and (rounded[1].one.lo, rounded[1].one.hi) == (1, 8)


def test_protect_repairs_what_the_audit_rejects() -> None:
    """Age bands 3 + 3 + 0 = 6 children: per-line rules are met (two hidden cells) yet each 3 is confined to 1..5
    once a reader knows hidden cells are at least 1; protect also hides the denominator."""
    df = pd.DataFrame([{"code": k, "label": k, "count": v, "denominator": 6} for k, v in [("a", 3), ("b", 3), ("c", 0)]])
    p = protect(df, partition=True)
    assert list(p.table["count"]) == [C, C, 0]
    assert list(p.table["denominator"]) == [C, C, C]
    assert (p.lp_audit["result"] == "pass").all()
    assert p.facts["audit"].startswith("passed: 3 hidden cells")


def test_audit_intervals_agree_with_an_independent_linprog() -> None:
    from scipy.optimize import linprog

    rng = np.random.default_rng(7)
    for _ in range(20):
        parts = rng.integers(1, 12, size=(3, 3))
        values = {}
        k = 0
        grid = {}
        for i in range(3):
            for j in range(3):
                grid[i, j] = k
                values[k] = int(parts[i, j])
                k += 1
        lines = []
        for i in range(3):
            values[k] = int(parts[i].sum())
            lines.append((k, tuple(grid[i, j] for j in range(3))))
            k += 1
        for j in range(3):
            values[k] = int(parts[:, j].sum())
            lines.append((k, tuple(grid[i, j] for i in range(3))))
            k += 1
        hidden = {c for c in range(9) if rng.random() < 0.5}
        res = _audit(values, lines, hidden)
        n = k
        a_eq = np.zeros((len(lines), n))
        for r, (t, ps) in enumerate(lines):
            a_eq[r, t] = 1
            for p_ in ps:
                a_eq[r, p_] = -1
        for c in hidden:
            bounds = [(1, None) if x in hidden else (values[x], values[x]) for x in range(n)]
            e = np.zeros(n)
            e[c] = 1
            lo = linprog(e, A_eq=a_eq, b_eq=np.zeros(len(lines)), bounds=bounds, method="highs")
            hi = linprog(-e, A_eq=a_eq, b_eq=np.zeros(len(lines)), bounds=bounds, method="highs")
            assert res[c].one.lo == math.ceil(lo.fun - 1e-6)
            assert res[c].one.hi == (math.inf if hi.status == 3 else math.floor(-hi.fun + 1e-6))


# The 7-column block of `frequency("factors", level=2, by=("year", "nation", "region"), totals=True,
# where={"year": "2018..2020"})` on tests/data/tabulate/corpus where HiGHS, warm-started after an LP it had
# found unbounded, ended with status kUnknown: x3 = x0 + x1 + x2, x5 = x4, x6 = x3 + x5; x1 shown as 0, the
# rest hidden (nothing shown above them, so every maximum is unbounded).
UNKNOWN_BLOCK = (7, [[(3, 1.0), (0, -1.0), (1, -1.0), (2, -1.0)], [(5, 1.0), (4, -1.0)], [(6, 1.0), (3, -1.0), (5, -1.0)]],
                 np.array([1.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0]), np.array([math.inf, 0.0, math.inf, math.inf, math.inf, math.inf, math.inf]),
                 [0, 2, 3, 4, 5, 6])


def test_every_audit_lp_ends_optimal_where_a_warm_start_once_ended_unknown(monkeypatch) -> None:
    import highspy

    from lt_workbench.analysis.disclosure.audit import lp_intervals

    statuses = []
    run = highspy.Highs.run

    def recording_run(self):  # type: ignore[no-untyped-def]
        out = run(self)
        statuses.append(self.getModelStatus())
        return out

    monkeypatch.setattr(highspy.Highs, "run", recording_run)
    got = lp_intervals(*UNKNOWN_BLOCK)
    assert statuses and set(statuses) == {highspy.HighsModelStatus.kOptimal}, statuses
    assert [(iv.lo, iv.hi) for iv in got] == [(1, math.inf), (1, math.inf), (2, math.inf), (1, math.inf), (1, math.inf), (3, math.inf)]


def test_unbounded_and_bounded_maxima_agree_with_an_independent_linprog() -> None:
    """Grids whose totals are hidden too (so some maxima are unbounded): the capped LPs report ∞ exactly there."""
    from scipy.optimize import linprog

    rng = np.random.default_rng(11)
    unbounded = bounded = 0
    for _ in range(25):
        parts = rng.integers(1, 9, size=(3, 3))
        values, lines, k = {}, [], 9
        for i in range(3):
            for j in range(3):
                values[3 * i + j] = int(parts[i, j])
        for i in range(3):
            values[k] = int(parts[i].sum())
            lines.append((k, tuple(3 * i + j for j in range(3))))
            k += 1
        for j in range(3):
            values[k] = int(parts[:, j].sum())
            lines.append((k, tuple(3 * i + j for i in range(3))))
            k += 1
        hidden = {c for c in range(k) if rng.random() < 0.6}
        res = _audit(values, lines, hidden)
        a_eq = np.zeros((len(lines), k))
        for r, (t, ps) in enumerate(lines):
            a_eq[r, t] = 1
            for p_ in ps:
                a_eq[r, p_] = -1
        bounds = [(1, None) if x in hidden else (values[x], values[x]) for x in range(k)]
        for c in hidden:
            e = np.zeros(k)
            e[c] = 1
            lo = linprog(e, A_eq=a_eq, b_eq=np.zeros(len(lines)), bounds=bounds, method="highs")
            hi = linprog(-e, A_eq=a_eq, b_eq=np.zeros(len(lines)), bounds=bounds, method="highs")
            assert res[c].one.lo == math.ceil(lo.fun - 1e-6)
            if hi.status == 3:
                unbounded += 1
                assert math.isinf(res[c].one.hi)
            else:
                bounded += 1
                assert res[c].one.hi == math.floor(-hi.fun + 1e-6)
    assert unbounded > 20 and bounded > 20


def test_the_factors_table_that_crashed_the_audit_is_published(tmp_path) -> None:
    import duckdb

    from lt_workbench.analysis import tabulate
    from lt_workbench.model.load import load

    db = tmp_path / "corpus.duckdb"
    assert load([Path(__file__).parents[1] / "data" / "tabulate" / "corpus"], db, progress=False).exit_code == 0
    con = duckdb.connect(str(db), read_only=True)
    try:
        out = tabulate.frequency("factors", level=2, by=("year", "nation", "region"), totals=True,
                                 where={"year": "2018..2020"}, disclosure="public", con=con)
    finally:
        con.close()
    assert out["suppressed"].any() and (out.attrs["lp_audit"]["result"] == "pass").all()
    assert out.attrs["disclosure_audit"].startswith("passed")


def test_cells_not_audited_again_in_the_repair_still_pass_a_full_audit(monkeypatch) -> None:
    """The monotone repair audits only cells that have not passed yet (hiding more only widens what a reader can
    tell); the final pattern of a large block, audited from scratch, passes, and lp_audit says which intervals
    were computed before more cells were hidden."""
    from lt_workbench.analysis.disclosure import secondary

    rng = np.random.default_rng(3)
    regions = {f"r{i}": ("england" if i < 6 else "wales") for i in range(8)}
    rows = []
    for r, nat in regions.items():
        for y in range(2015, 2021):
            for code in "abcd":
                rows.append({"code": code, "region": r, "nation": nat, "year": str(y), "count": int(rng.negative_binomial(2, 0.3))})
    leaf = pd.DataFrame(rows)
    parts = [leaf]
    for keys, fill in ((["code", "nation", "year"], {"region": "All"}), (["code", "year"], {"region": "All", "nation": "All"}),
                       (["code", "region", "nation"], {"year": "All"}), (["code", "nation"], {"region": "All", "year": "All"}),
                       (["code"], {"region": "All", "nation": "All", "year": "All"})):
        parts.append(leaf.groupby(keys, as_index=False)["count"].sum().assign(**fill))
    df = pd.concat(parts, ignore_index=True)
    df["denominator"] = df.groupby(["region", "nation", "year"])["count"].transform("sum")
    df["label"] = df["code"]
    last: dict[int, tuple] = {}
    audit_block_ = secondary.audit_block

    def recording(cells, lines, values, hidden, lo, hi, thr, only=None):  # type: ignore[no-untyped-def]
        last[min(cells)] = (cells, lines, values, set(hidden), lo, hi, thr)
        return audit_block_(cells, lines, values, hidden, lo, hi, thr, only=only)

    monkeypatch.setattr(secondary, "audit_block", recording)
    p = protect(df, lines=[["region", "nation"], ["year"]], partition=True)
    assert max(len(c[0]) for c in last.values()) > secondary.EXACT_MAX_CELLS  # the monotone repair ran
    assert p.lp_audit["interval_x1"].str.startswith("contains").any()
    for cells, lines, values, hidden, lo, hi, thr in last.values():
        assert all(a.problem is None for a in audit_block_(cells, lines, values, hidden, lo, hi, thr))

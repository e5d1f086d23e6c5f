"""A parent code's count is at least each child's (a unit with the child code counts for the parent): the audit
knows it (README, Disclosure control: what the audit requires).

Planted: child code C (level 2) and its parent P (level 1) by region x year with margins. C's only small count
(R1, 2020) = 2 is protected by the rectangle of its four interior cells, which passes the equality-only audit.
But P shows (R2, 2020) = 7 and (R2, 2021) = 9 and C's R2 row adds up to 16 = 7 + 9: knowing C ≤ P cell by cell, a
reader pins both, and through the margins every hidden cell of the rectangle. The attacker below is independent
of the disclosure package: the additive lines, the inequalities child ≤ parent, shown figures exact (totals are
marked structural, so nothing is rounded), hidden ones ≥ 1 — scipy's linprog for each hidden cell's interval.
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import linprog

from lt_workbench.analysis.disclosure import Request, protect_many, release

C = "c"
THR = 6
REGIONS, YEARS = ["R1", "R2"], [2020, 2021]
CHILD = {("R1", 2020): 2, ("R1", 2021): 10, ("R2", 2020): 7, ("R2", 2021): 9}
PARENT = {("R1", 2020): 8, ("R1", 2021): 10, ("R2", 2020): 7, ("R2", 2021): 9}
DEN = {("R1", 2020): 40, ("R1", 2021): 50, ("R2", 2020): 45, ("R2", 2021): 55}
Q = {"frame": "patterns", "unit": "review", "where": {}, "year_basis": "completed"}


def _grid(code: str, level: int, values: dict[tuple[str, int], int]) -> Request:
    rows = []
    for r, y in itertools.product([*REGIONS, "All"], [*YEARS, "All"]):
        keys = [(rr, yy) for rr, yy in values if r in (rr, "All") and y in (yy, "All")]
        rows.append({"code": code, "label": code, "region": r, "year": y, "count": sum(values[k] for k in keys),
                     "denominator": sum(DEN[k] for k in keys)})
    table = pd.DataFrame(rows)
    return Request(table, lines=[["region"], ["year"]], question={**Q, "level": level}, name=f"level {level}",
                   structural=("region", "year"), parents={"C": "P"})


def _cells(t: pd.DataFrame) -> dict[tuple[str, object], object]:
    return {(r, y): v for r, y, v in zip(t["region"], t["year"], t["count"], strict=True)}


def attack(child: pd.DataFrame, parent: pd.DataFrame) -> list[str]:
    """Hidden cells of either table a reader pins or confines to 1..5 (knowing x ≥ 1)."""
    shown = {("C", *k): v for k, v in _cells(child).items()} | {("P", *k): v for k, v in _cells(parent).items()}
    names = sorted(shown, key=str)
    idx = {n: i for i, n in enumerate(names)}
    eq, ub = [], []
    for code in ("C", "P"):
        for y in [*YEARS, "All"]:
            row = np.zeros(len(names))
            row[idx[code, "All", y]] = 1
            for r in REGIONS:
                row[idx[code, r, y]] -= 1
            eq.append(row)
        for r in [*REGIONS, "All"]:
            row = np.zeros(len(names))
            row[idx[code, r, "All"]] = 1
            for y in YEARS:
                row[idx[code, r, y]] -= 1
            eq.append(row)
    for r, y in itertools.product([*REGIONS, "All"], [*YEARS, "All"]):
        row = np.zeros(len(names))
        row[idx["C", r, y]], row[idx["P", r, y]] = 1, -1  # child - parent ≤ 0
        ub.append(row)
    truth = {("C", *k): v for k, v in _cells(_grid("C", 2, CHILD).table).items()}
    truth |= {("P", *k): v for k, v in _cells(_grid("P", 1, PARENT).table).items()}
    bounds = [(1.0, None) if shown[n] == C else (float(shown[n]), float(shown[n])) for n in names]  # type: ignore[arg-type]
    leaks = []
    for n in names:
        if shown[n] != C:
            continue
        ends = []
        for sign in (1, -1):
            c = np.zeros(len(names))
            c[idx[n]] = sign
            res = linprog(c, A_eq=np.array(eq), b_eq=np.zeros(len(eq)), A_ub=np.array(ub), b_ub=np.zeros(len(ub)),
                          bounds=bounds, method="highs")
            assert res.status in (0, 3), res.message
            ends.append(math.inf if res.status == 3 else sign * res.fun)
        lo, hi = math.ceil(ends[0] - 1e-6), ends[1] if math.isinf(ends[1]) else math.floor(ends[1] + 1e-6)
        if hi - lo < 1:
            leaks.append(f"{n} pinned at {lo}")
        elif 0 < int(truth[n]) < THR and lo >= 1 and hi <= THR - 1:  # type: ignore[arg-type]
            leaks.append(f"{n} confined to [{lo}, {hi}]")
    return leaks


def test_the_planted_child_is_pinned_through_its_parent_unless_the_audit_knows_parent_at_least_child() -> None:
    child, parent = protect_many([_grid("C", 2, CHILD), _grid("P", 1, PARENT)])
    assert child.table.loc[(child.table["region"] == "R1") & (child.table["year"] == 2020), "count"].item() == C
    assert attack(child.table, parent.table) == []
    assert "passed" in child.facts["audit"]


def test_a_parent_published_earlier_in_the_release_bounds_the_child(tmp_path: Path) -> None:
    ledger = tmp_path / "l.sqlite"
    with release(ledger=ledger, snapshot="s", name="parent") as rel:
        (parent,) = protect_many([_grid("P", 1, PARENT)], release=rel)
    assert (parent.table["count"] != C).all()
    with release(ledger=ledger, snapshot="s", name="child") as rel:
        (child,) = protect_many([_grid("C", 2, CHILD)], release=rel)
    assert attack(child.table, parent.table) == []


def test_alone_the_rectangle_passes_the_equality_audit_and_the_attacker_pins_it_with_the_parent() -> None:
    """The control: protected without the parent's inequalities, the child leaks once the parent is published."""
    reqs = [_grid("C", 2, CHILD), _grid("P", 1, PARENT)]
    for r in reqs:
        r.parents = {}
    child, parent = protect_many(reqs)
    leaks = attack(child.table, parent.table)
    assert any("pinned" in x for x in leaks), leaks


def test_public_tables_carry_the_taxonomys_parents() -> None:
    """analysis.publish gives each request of a levelled frame its codes' parents (from the taxonomy)."""
    from lt_workbench.analysis.publish import _request

    t = pd.DataFrame({"code": ["P1.1", "P2.1"], "label": ["a", "b"], "count": [3, 9], "denominator": [20, 20]})
    assert _request(t, {"frame": "patterns", "level": 2}).parents == {"P1.1": "P1", "P2.1": "P2"}
    assert _request(t, {"frame": "patterns", "level": 1}).parents == {}

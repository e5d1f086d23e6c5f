"""A release loads every earlier cell tied to a new table's cells, not only the new table's families.

A comparison publishes a group's count (frequency's cell for that group), the rest and the total, with
total = group + rest. A later table of the same group by year adds the group's count up from its years.
A reader holds both: the attacker below is independent of the disclosure package, rebuilds those two
relations from the published figures alone and asks scipy's linprog for the feasible interval of every
hidden figure, knowing hidden counts are at least 1 (zeros are always shown).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import linprog

from lt_workbench.analysis.disclosure import Request, protect_many, release
from lt_workbench.analysis.disclosure.problem import Link

C = "c"
THR = 6
Q = {"frame": "patterns", "level": 1, "unit": "review", "where": {}, "year_basis": "completed"}
# true values: the group (London) 47 = 45 in 2020 + 2 in 2021; the rest 3; all 50
TRUE = {"group": 47, "rest": 3, "all": 50, "y2020": 45, "y2021": 2}
EQUATIONS = [("all", ("group", "rest")), ("group", ("y2020", "y2021"))]


def _compare_tables() -> tuple[list[Request], list[Link]]:
    group = pd.DataFrame({"code": ["A"], "label": ["A"], "region": ["london"], "count": [47], "denominator": [100]})
    rest = pd.DataFrame({"code": ["A"], "label": ["A"], "count": [3], "denominator": [20]})
    total = pd.DataFrame({"code": ["A"], "label": ["A"], "count": [50], "denominator": [120]})
    reqs = [Request(group, question=Q, name="group"), Request(rest, question={**Q, "family": "compare rest"}, name="rest", dims=[]),
            Request(total, question={**Q, "family": "compare all"}, name="all", dims=[])]
    links = [Link((2, 0, "count"), ((0, 0, "count"), (1, 0, "count")), "A: all = group + rest"),
             Link((2, 0, "denominator"), ((0, 0, "denominator"), (1, 0, "denominator")), "units: all = group + rest")]
    return reqs, links


def _by_year() -> Request:
    t = pd.DataFrame({"code": ["A"] * 3, "label": ["A"] * 3, "region": ["london"] * 3, "year": [2020, 2021, "All"],
                      "count": [45, 2, 47], "denominator": [60, 40, 100]})
    return Request(t, lines=[["year"]], question=Q, name="by year")


def attack(shown: dict[str, object]) -> list[str]:
    """Hidden figures a reader pins or confines to 1..THR-1 from the shown ones and EQUATIONS."""
    names = sorted(TRUE)
    idx = {n: i for i, n in enumerate(names)}
    a = np.zeros((len(EQUATIONS), len(names)))
    for r, (tot, parts) in enumerate(EQUATIONS):
        a[r, idx[tot]] = 1
        for p in parts:
            a[r, idx[p]] = -1
    hidden = [n for n in names if shown[n] == C]
    bounds = [(1.0, None) if n in hidden else (float(shown[n]), float(shown[n])) for n in names]  # type: ignore[arg-type]
    leaks = []
    for n in hidden:
        ends = []
        for sign in (1, -1):
            c = np.zeros(len(names))
            c[idx[n]] = sign
            res = linprog(c, A_eq=a, b_eq=np.zeros(len(EQUATIONS)), bounds=bounds, method="highs")
            assert res.status in (0, 3), res.message
            ends.append(math.inf if res.status == 3 else sign * res.fun)
        lo, hi = math.ceil(ends[0] - 1e-6), ends[1] if math.isinf(ends[1]) else math.floor(ends[1] + 1e-6)
        if hi - lo < 1:
            leaks.append(f"{n} pinned at {lo}")
        elif 0 < TRUE[n] < THR and lo >= 1 and hi <= THR - 1:
            leaks.append(f"{n} (true {TRUE[n]}) confined to [{lo}, {hi}]")
    return leaks


def test_a_later_table_sees_the_rest_and_total_an_earlier_comparison_tied_to_its_cells(tmp_path: Path) -> None:
    ledger = tmp_path / "l.sqlite"
    reqs, links = _compare_tables()
    with release(ledger=ledger, snapshot="s", name="compare") as rel:
        group, rest, total = protect_many(reqs, links=links, release=rel)
    with release(ledger=ledger, snapshot="s", name="by year") as rel:
        (years,) = protect_many([_by_year()], release=rel)
    shown = {"group": group.table["count"].item(), "rest": rest.table["count"].item(), "all": total.table["count"].item()}
    by_year = dict(zip(years.table["year"].astype(str), years.table["count"], strict=True))
    assert by_year["All"] == shown["group"]  # one cell, one number
    shown.update({"y2020": by_year["2020"], "y2021": by_year["2021"]})
    # The comparison hides London's 47 with the rest's 3 (all = 50 shown), so London ≤ 49; before the release
    # loaded the comparison's line, the by-year table showed 45 for 2020 and 2021 was confined to 1..4.
    assert shown["rest"] == C and shown["y2021"] == C
    assert attack(shown) == []
    assert "including 1 earlier output(s)" in years.facts["audit"]


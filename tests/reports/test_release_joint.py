"""A public report protects its recurrence and co-occurrence tables inside its one joint problem (issue 12 §1).

The attacker is independent of the disclosure package: from the report's published patterns table, recurrence
table (recent + before = all, per code and for the reviews) and co-occurrence table (n_a = n_ab + a without b,
n_b = n_ab + b without a, n = the 2 x 2 table, remainders unseen), with a shown multiple of the rounding base read
as the interval it may stand for (and at least the threshold) and hidden figures at least 0, then at least 1, it
asks scipy's linprog for the feasible interval of every hidden figure and of every small unseen remainder.
"""

from __future__ import annotations

import json
import math
import sqlite3
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linprog
from typer.testing import CliRunner

from lt_workbench.analysis.disclosure import PROFILES, ledger_path
from lt_workbench.cli import app
from lt_workbench.reports import plan
from lt_workbench.reports.context import setup
from tests.reports.test_release import sample_db  # noqa: F401  (module fixture)

C = "c"
PROF = PROFILES["dfe"]
THR = PROF.threshold
BASE = PROF.total_rounding or 1


def _interval(v: Any) -> tuple[float, float | None]:
    """What a shown figure tells a reader: exact, or (a non-zero multiple of the rounding base) the interval it rounds from."""
    v = int(v)
    if v and v % BASE == 0:
        return float(max(math.ceil(v - BASE / 2), THR)), float(math.ceil(v + BASE / 2) - 1)
    return float(v), float(v)


def attack(freq: pd.DataFrame, rec: pd.DataFrame, pairs: pd.DataFrame, truth: dict[str, int]) -> list[str]:
    shown: dict[str, list[Any]] = {}

    def see(name: str, v: Any) -> None:
        shown.setdefault(name, []).append(v)

    for r in freq.itertuples(index=False):
        see(f"all:{r.code}", r.count)
        see("den", r.denominator)
    for r in rec.itertuples(index=False):
        see(f"all:{r.code}", r.reviews)
        see("den", r.denominator)
        for p in ("recent", "before"):
            see(f"{p}:{r.code}", getattr(r, f"reviews_{p}"))
            see(f"den_{p}", getattr(r, f"denominator_{p}"))
    eqs: list[tuple[str, list[str]]] = [("den", ["den_recent", "den_before"])]
    eqs += [(f"all:{k}", [f"recent:{k}", f"before:{k}"]) for k in rec["code"]]
    for r in pairs.itertuples(index=False):
        key = f"{r.code_a}|{r.code_b}"
        see(f"all:{r.code_a}", r.n_a)
        see(f"all:{r.code_b}", r.n_b)
        see(f"ab:{key}", r.n_ab)
        see("den", r.n)
        eqs += [(f"all:{r.code_a}", [f"ab:{key}", f"a_only:{key}"]), (f"all:{r.code_b}", [f"ab:{key}", f"b_only:{key}"]),
                ("den", [f"ab:{key}", f"a_only:{key}", f"b_only:{key}", f"neither:{key}"])]
    names = sorted(set(shown) | {p for _, parts in eqs for p in parts})
    idx = {n: i for i, n in enumerate(names)}
    a = np.zeros((len(eqs), len(names)))
    for i, (tot, parts) in enumerate(eqs):
        a[i, idx[tot]] = 1
        for p in parts:
            a[i, idx[p]] -= 1
    hidden, fixed = set(), {}
    for n, vals in shown.items():
        assert len({str(v) for v in vals}) == 1, f"{n} shown as {vals}: one cell, two numbers"
        if str(vals[0]) == C:
            hidden.add(n)
        else:
            fixed[n] = _interval(vals[0])
    targets = sorted(hidden) + [n for n in names if n.split(":")[0] in ("a_only", "b_only") and 0 < truth[n] < THR]
    leaks = []
    for floor in (0.0, 1.0):
        bounds = [fixed.get(n, (floor if n in hidden else 0.0, None)) for n in names]
        for n in targets:
            ends = []
            for sign in (1, -1):
                c = np.zeros(len(names))
                c[idx[n]] = sign
                res = linprog(c, A_eq=a, b_eq=np.zeros(len(eqs)), bounds=bounds, method="highs")
                assert res.status in (0, 3), (n, res.message)
                ends.append(math.inf if res.status == 3 else sign * res.fun)
            lo, hi = math.ceil(ends[0] - 1e-6), ends[1] if math.isinf(ends[1]) else math.floor(ends[1] + 1e-6)
            if hi - lo < 1:
                leaks.append(f"{n} (true {truth[n]}) pinned at {lo} knowing x ≥ {floor:g}")
            elif 0 < truth[n] < THR and lo >= 1 and hi <= THR - 1:
                leaks.append(f"{n} (true {truth[n]}) confined to [{lo}, {hi}] knowing x ≥ {floor:g}")
    return leaks


def _truth(freq: pd.DataFrame, rec: pd.DataFrame, pairs: pd.DataFrame) -> dict[str, int]:
    t = {f"all:{r.code}": int(r.count) for r in freq.itertuples(index=False)}
    t["den"] = int(freq["denominator"].iloc[0])
    for r in rec.itertuples(index=False):
        t.update({f"recent:{r.code}": int(r.reviews_recent), f"before:{r.code}": int(r.reviews_before),
                  "den_recent": int(r.denominator_recent), "den_before": int(r.denominator_before)})
    for r in pairs.itertuples(index=False):
        key = f"{r.code_a}|{r.code_b}"
        t.update({f"ab:{key}": int(r.n_ab), f"a_only:{key}": int(r.n_a - r.n_ab), f"b_only:{key}": int(r.n_b - r.n_ab),
                  f"neither:{key}": int(r.n - r.n_a - r.n_b + r.n_ab)})
    return t


def test_a_reports_recurrence_and_cooccurrence_are_in_its_joint_problem_and_nothing_is_recoverable(
        sample_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    monkeypatch.setenv("LT_WORKBENCH_LEDGER", str(tmp_path / "joint.sqlite"))
    scope = {"region": "north_west"}
    ctx = setup("cross_review_summary", {"db": str(sample_db), "disclosure": "public", **scope})
    asks = [ctx.ask("frequency", "patterns", level=2), ctx.ask("recurrence", "patterns", level=2),
            ctx.ask("cooccurrence", "patterns", level=2)]
    freq, rec, pairs = (ctx.table(a) for a in asks)
    assert ctx.unplanned == []
    con = sqlite3.connect(ledger_path(sample_db))
    try:
        outputs = con.execute("SELECT output_id, name FROM outputs ORDER BY output_id").fetchall()
        # every cell of the recurrence and co-occurrence tables was decided by the report's first (joint) output
        by_output = dict(con.execute(
            "SELECT output_id, count(*) FROM cells WHERE family LIKE '%recurrence%' OR family LIKE '%cooccurrence%' "
            "OR kind IN ('latent', 'slack') GROUP BY output_id").fetchall())
    finally:
        con.close()
    assert outputs[0][1].startswith("report cross_review_summary (") and set(by_output) == {outputs[0][0]}, (outputs, by_output)
    assert not any(name.endswith((": recurrence", ": cooccurrence")) for _, name in outputs), outputs
    true = [plan.run_ask(a, disclosure="restricted", profile=ctx.profile, threshold=ctx.threshold, db=ctx.db) for a in asks]
    assert (rec["suppressed"]).any() and (pairs["n_ab"].astype(str) == C).any(), "the tables should exercise suppression"
    assert attack(freq, rec, pairs, _truth(*true)) == []
    # and the CLI asked the same question afterwards shows the report's recurrence figures
    result = CliRunner().invoke(app, ["recurrence", "--level", "2", "--where", "region=north_west", "--disclosure", "public",
                                      "--format", "json", "--db", str(sample_db)])
    assert result.exit_code == 0, result.output
    cli = pd.DataFrame(json.loads(result.stdout[result.stdout.index("{"):])["rows"])
    cols = ["code", "reviews", "reviews_recent", "reviews_before", "denominator"]
    assert len(cli) == len(rec)
    for col in cols:
        assert [str(v) for v in cli[col]] == [str(v) for v in rec[col]], col

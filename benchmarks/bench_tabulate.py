"""Speed of the standard tabulations at 1,000 and 10,000 synthetic reviews (issue 3, Performance).

Goal: at 10,000 reviews every standard tabulation under 100 ms median on 2 cores, so a widget feels
instant. Each tabulation is timed through the Python API on an open read-only connection (as a
notebook or widget holds one), median of --repeat runs, and compared in the same run with a plain
pandas implementation of the same table over the base tables already in memory (the pandas side is
not charged for reading the database). The pandas results are checked equal to ours, so the ratio
compares like with like. Writes the "Tabulation" section of RESULTS.md.

    .venv/bin/python benchmarks/bench_tabulate.py [--sizes 1000 10000] [--with-100k] [--repeat 7]
"""

from __future__ import annotations

import argparse
import os
import importlib.util
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any, Callable

import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from _common import machine, median_time, write_section  # noqa: E402

from lt_workbench.model import db as lt_db  # noqa: E402
from lt_workbench.analysis import tabulate as tab  # noqa: E402
from lt_workbench.model.load import load  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def _generator() -> tuple[Callable[[int, int, Path], Any], str]:
    """lt_workbench.synth.builder when it exists (realistic sizes); else the small test generator."""
    try:
        from lt_workbench.synth.builder import write_corpus

        return write_corpus, "lt_workbench.synth.builder.write_corpus"
    except ImportError:
        spec = importlib.util.spec_from_file_location("tab_corpus", ROOT / "tests" / "data" / "tabulate" / "corpus.py")
        mod = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
        spec.loader.exec_module(mod)  # type: ignore[union-attr]
        return (lambda n, seed, out: mod.write_corpus(mod.make_corpus(n, seed), out)), "tests/data/tabulate/corpus.py (synth.py absent)"


# ------------------------------------------------------------------------------------------
# Plain pandas versions of the same tables (roll-up by splitting codes; distinct counts)


def _rolled(df: pd.DataFrame, col: str = "code") -> pd.DataFrame:
    """Every ancestor of each dotted code, one row each (P2.1.2 -> P2, P2.1, P2.1.2), with its depth."""
    parts = df[col].str.split(".")
    rows = []
    for d in (1, 2, 3):
        sub = df[parts.str.len() >= d].copy()
        sub[col] = parts[parts.str.len() >= d].str[:d].str.join(".")
        sub["depth"] = d
        rows.append(sub)
    return pd.concat(rows, ignore_index=True)


class PandasTables:
    def __init__(self, con: Any) -> None:
        self.reviews = con.execute("SELECT review_id, region, year, area_code FROM reviews").df()
        self.findings = con.execute("SELECT review_id, finding_no, code, direction FROM pattern_findings").df()
        self.pe = con.execute("SELECT review_id, finding_no, episode_id FROM pattern_episodes").df()
        self.factors = con.execute("SELECT review_id, episode_id, code, influence FROM factor_codings").df()
        self.children = con.execute("SELECT review_id, child_no, age_band FROM children").df()
        self.episodes = con.execute("SELECT review_id, episode_id FROM episodes").df()

    def pattern_frequency(self) -> pd.DataFrame:
        r = _rolled(self.findings)
        return r.groupby("code")["review_id"].nunique().rename("count").reset_index()

    def pattern_by_region(self) -> pd.DataFrame:
        r = _rolled(self.findings)
        r = r[r["depth"] == 2].merge(self.reviews[["review_id", "region"]], on="review_id")
        return r.groupby(["code", "region"])["review_id"].nunique().rename("count").reset_index()

    def pattern_by_year(self) -> pd.DataFrame:
        r = _rolled(self.findings)
        r = r[r["depth"] == 2].merge(self.reviews[["review_id", "year"]], on="review_id")
        return r.groupby(["code", "year"])["review_id"].nunique().rename("count").reset_index()

    def factor_episodes(self) -> pd.DataFrame:
        r = _rolled(self.factors)
        r = r[r["depth"] == 2]
        r["k"] = r["review_id"] + "#" + r["episode_id"]
        return r.groupby("code")["k"].nunique().rename("count").reset_index()

    def age_band_children(self) -> pd.DataFrame:
        return self.children.groupby("age_band").size().rename("count").reset_index()

    def recurrence(self) -> pd.DataFrame:
        r = _rolled(self.findings)
        r = r[r["depth"] == 2].merge(self.reviews, on="review_id")
        g = r.groupby("code")
        return pd.DataFrame({"reviews": g["review_id"].nunique(), "areas": g["area_code"].nunique(),
                             "regions": g["region"].nunique(), "first_year": g["year"].min(), "last_year": g["year"].max()}).reset_index()

    def pattern_cooccurrence(self) -> pd.DataFrame:
        r = _rolled(self.findings)
        r = r[r["depth"] == 2][["review_id", "code"]].drop_duplicates()
        pairs = r.merge(r, on="review_id")
        pairs = pairs[pairs["code_x"] < pairs["code_y"]]
        return pairs.groupby(["code_x", "code_y"]).size().rename("n_ab").reset_index()

    def factor_pattern(self) -> pd.DataFrame:
        f = _rolled(self.factors)
        f = f[f["depth"] == 2][["review_id", "episode_id", "code"]].drop_duplicates()
        p = _rolled(self.findings.merge(self.pe, on=["review_id", "finding_no"]))
        p = p[p["depth"] == 2][["review_id", "episode_id", "code"]].drop_duplicates()
        pairs = f.merge(p, on=["review_id", "episode_id"])
        return pairs.groupby(["code_x", "code_y"]).size().rename("n_ab").reset_index()


# ------------------------------------------------------------------------------------------


def _standard(con: Any) -> dict[str, tuple[Callable[[], pd.DataFrame], str | None]]:
    """name -> (our call, name of the pandas equivalent or None)."""
    return {
        "pattern frequency (all levels)": (lambda: tab.frequency("patterns", con=con), "pattern_frequency"),
        "patterns (level 2) by region": (lambda: tab.frequency("patterns", level=2, by=("region",), con=con), "pattern_by_region"),
        "patterns (level 2) by year": (lambda: tab.frequency("patterns", level=2, by=("year",), con=con), "pattern_by_year"),
        "factor types, unit episode": (lambda: tab.frequency("factors", level=2, unit="episode", con=con), "factor_episodes"),
        "age band, unit child": (lambda: tab.frequency("age-band", unit="child", con=con), "age_band_children"),
        "family factors (not recorded apart)": (lambda: tab.frequency("family-factors", con=con), None),
        "recurrence (level 2, Fisher + BH)": (lambda: tab.recurrence(level=2, con=con), "recurrence"),
        "pattern co-occurrence (level 2, Fisher + BH)": (lambda: tab.cooccurrence("patterns", level=2, con=con), "pattern_cooccurrence"),
        "pattern co-occurrence (level 2, counts only)": (lambda: tab.cooccurrence("patterns", level=2, tests=False, con=con), "pattern_cooccurrence"),
        "factor type x pattern within episodes (counts only)": (
            lambda: tab.cooccurrence("factor-pattern", level=2, factor_level=2, unit="episode", tests=False, con=con), "factor_pattern"),
        "factor type x pattern within episodes (Fisher + BH)": (
            lambda: tab.cooccurrence("factor-pattern", level=2, factor_level=2, unit="episode", con=con), "factor_pattern"),
        "patterns by region, public (dfe, totals)": (
            lambda: tab.frequency("patterns", level=2, by=("region",), totals=True, disclosure="public", con=con), None),
    }


def _same(ours: pd.DataFrame, theirs: pd.DataFrame, name: str) -> None:
    """The pandas table must hold the same non-zero counts as ours (a benchmark of different answers means nothing)."""
    if "n_ab" in theirs:
        a = {(r.code_a, r.code_b): r.n_ab for r in ours.itertuples(index=False)}
        b = {(r.code_x, r.code_y): r.n_ab for r in theirs.itertuples(index=False)}
    elif "reviews" in theirs:
        a = {r.code: r.reviews for r in ours.itertuples(index=False) if r.reviews}
        b = {r.code: r.reviews for r in theirs.itertuples(index=False)}
    else:
        keys = [c for c in theirs.columns if c != "count"]
        ours_keys = ["code" if k == "age_band" else k for k in keys]
        a = {tuple(r): c for *r, c in ours[[*ours_keys, "count"]].itertuples(index=False) if c}
        b = {tuple(r): c for *r, c in theirs[[*keys, "count"]].itertuples(index=False)}
    if a != b:
        raise SystemExit(f"{name}: pandas and lt_workbench disagree ({len(set(a.items()) ^ set(b.items()))} cells)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--with-100k", action="store_true", help="also 100,000 reviews (slow: generation and load take minutes)")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--no-write", action="store_true", help="print only; leave RESULTS.md alone")
    args = parser.parse_args()
    sizes = args.sizes + ([100_000] if args.with_100k else [])
    generate, source = _generator()

    load_before = os.getloadavg()
    results: dict[str, dict[int, tuple[float, float | None]]] = {}
    load_times: dict[int, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            corpus = Path(tmp) / f"corpus-{n}"
            generate(n, 11, corpus)
            dbp = Path(tmp) / f"tab-{n}.duckdb"
            t0 = time.perf_counter()
            res = load([corpus], dbp, progress=False)
            load_times[n] = time.perf_counter() - t0
            assert len(res.inserted) == n, res.summary()
            con = lt_db.connect(dbp, read_only=True)
            pdt = PandasTables(con)
            for name, (fn, pandas_name) in _standard(con).items():
                ours = fn()  # warm-up, and the table compared with pandas
                t_ours = median_time(fn, args.repeat)
                t_pd = None
                if pandas_name:
                    pfn = getattr(pdt, pandas_name)
                    _same(ours, pfn(), name)
                    t_pd = median_time(pfn, max(3, args.repeat // 2))
                results.setdefault(name, {})[n] = (t_ours, t_pd)
                print(f"{n:>7} {name:<55} {t_ours * 1000:8.1f} ms" + (f"   pandas {t_pd * 1000:8.1f} ms" if t_pd else ""), flush=True)
            con.close()

    header = "| tabulation | " + " | ".join(f"{n:,} reviews: ms (pandas ms, ratio)" for n in sizes) + " |"
    lines = [header, "|---|" + "---|" * len(sizes)]
    for name, per in results.items():
        cells = []
        for n in sizes:
            t, p = per[n]
            cells.append(f"{t * 1000:.1f}" + (f" ({p * 1000:.1f}, {t / p:.2f}x)" if p else ""))
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    goal_n = 10_000 if 10_000 in sizes else max(sizes)
    slow = [name for name, per in results.items() if per[goal_n][0] >= 0.1]
    body = f"""
Machine: {machine()}; scipy {version('scipy')}, statsmodels {version('statsmodels')}.
Load average (1, 5, 15 min) at start {_load(load_before)}, at end {_load(os.getloadavg())}: the machine is shared, so read the ratios.
Corpus: {source}, seed 11; load (validate + insert + derived tables) took {', '.join(f'{load_times[n]:.1f} s at {n:,}' for n in sizes)}.
Method: median of {args.repeat} calls through `lt_workbench.analysis.tabulate` on an open read-only connection; pandas: the same table
from the base tables already in memory (roll-up by splitting codes, distinct counts), checked equal to ours; ratio = ours / pandas
(below 1: ours is faster). Our timings include building the full grid of codes (zeros are true zeros), Wilson intervals and
the restricted/public pass through disclosure.protect; pandas computes the non-zero counts only.

{chr(10).join(lines)}

Goal (10,000 reviews, every standard tabulation under 100 ms median): {'met' if not slow else 'not met for: ' + '; '.join(slow)} at {goal_n:,} reviews.
Factor x pattern within episodes joins the factor and pattern code sets of each episode (episode_codes) at query time.
"""
    print(body)
    if not args.no_write:
        write_section("Tabulation", body)


def _load(avg: tuple[float, float, float]) -> str:
    return " / ".join(f"{x:.2f}" for x in avg)


if __name__ == "__main__":
    main()

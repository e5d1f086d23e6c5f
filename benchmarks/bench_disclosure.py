"""Disclosure control at scale, and how much it hides (issue 12).

1. Speed and memory: a patterns (3 levels) x region/nation x year table with margins, about 20,000
   cells (counts and denominators), protected and audited by `protect()` (public, dfe) in a fresh
   process each run (peak RSS from getrusage). Same-run baseline: the previous engine (greedy +
   null-space check, from git history) on the same table, time-boxed.
2. Information loss on the sample's standard public tables: hidden cells beyond the primary ones
   and their total count, against the optimum (the same MIP with valid cuts run until the audit
   passes), beside the previous engine and beside Tau-Argus's OPT (bench_tauargus.py: optional, where
   pytauargus imports — `pip install -e ".[crosscheck]"` or `--tau-python`; skipped with a line otherwise).

3. A linked table from the sample: age band x year x nation x region with every margin, unit child
   (codes partition the denominator, so the whole table is one block), as `lt-workbench tabulate
   age-band --by year --by nation --by region --unit child --disclosure public` protects it.
   `--baseline REV` also times the engine of git revision REV on it in the same run (time-boxed).

    .venv/bin/python benchmarks/bench_disclosure.py [--db data/workbench.duckdb] [--no-write] [--cells 20000]
        [--baseline f451bdf] [--tau-python PY]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from _common import machine, write_section  # noqa: E402
from bench_tauargus import crosscheck, fmt_tau, skipped_line  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
OLD_COMMIT = "c7ec098"  # lt_workbench/analysis/disclosure.py before it became a package


def synthetic_grid(n_cells: int, seed: int = 1) -> pd.DataFrame:
    """Leaf counts (pattern code x region x year) and every margin: region -> nation -> All, year -> All.

    Three levels of pattern codes (multi-valued: codes do not add up); geography as in the sample
    (9 English regions + Wales, Scotland, Northern Ireland as their own nations); counts from a
    negative binomial with mean ~9, so about a third of the leaf cells are 1-5.
    """
    rng = np.random.default_rng(seed)
    regions = {f"E{i}": "england" for i in range(9)} | {"wales": "wales", "scotland": "scotland", "ni": "northern_ireland"}
    years = [str(2010 + i) for i in range(15)]
    geo_rows = len(regions) + 4 + 1  # regions, nation totals, all
    n_codes = max(1, round(n_cells / (geo_rows * (len(years) + 1) * 1.1)))
    codes = [f"P{i // 25 + 1}.{(i // 5) % 5 + 1}.{i % 5 + 1}" for i in range(n_codes)]
    leaf = pd.DataFrame([(c, r, regions[r], y) for c in codes for r in regions for y in years],
                        columns=["code", "region", "nation", "year"])
    leaf["count"] = rng.negative_binomial(2, 2 / (2 + 9), size=len(leaf))
    dens = pd.DataFrame([(r, regions[r], y) for r in regions for y in years], columns=["region", "nation", "year"])
    dens["denominator"] = rng.integers(40, 120, size=len(dens))
    leaf = leaf.merge(dens, on=["region", "nation", "year"])
    parts = [leaf]
    for geo in ("region", "nation"):  # region -> its nation's row (region All) -> all (nation All too)
        for by_year in (True, False):
            keys = ["code"] + (["nation"] if geo == "region" else []) + (["year"] if by_year else [])
            g = leaf.groupby(keys, as_index=False)[["count", "denominator"]].sum()
            g["region"] = "All"
            if geo == "nation":
                g["nation"] = "All"
            if not by_year:
                g["year"] = "All"
            parts.append(g)
    g = leaf.groupby(["code", "region", "nation"], as_index=False)[["count", "denominator"]].sum()
    g["year"] = "All"
    parts.append(g)
    out = pd.concat(parts, ignore_index=True)
    # denominators of code-independent margins: the leaf dens summed (the same for every code)
    out["label"] = out["code"]
    return out[["code", "label", "region", "nation", "year", "count", "denominator"]].drop_duplicates(
        subset=["code", "region", "nation", "year"]).reset_index(drop=True)


def _child(args: list[str], pythonpath: str | None = None) -> dict[str, Any]:
    """Run one protection in a fresh interpreter; returns its timing, memory and result counts."""
    env = dict(os.environ, PYTHONPATH=pythonpath) if pythonpath else None
    try:
        out = subprocess.run([sys.executable, __file__, "--child", *args], capture_output=True, text=True, timeout=600, env=env)
    except subprocess.TimeoutExpired:
        return {"error": "over 600 s (time-boxed)"}
    if out.returncode != 0:
        return {"error": (out.stderr or out.stdout).strip().splitlines()[-1][:200]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def _load_old() -> Any:
    """The previous engine, from git history, as a module (None when git or the commit is unavailable)."""
    try:
        src = subprocess.run(["git", "-C", str(ROOT), "show", f"{OLD_COMMIT}:lt_workbench/analysis/disclosure.py"],
                             capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    with tempfile.TemporaryDirectory() as folder:  # removed once the module is loaded
        path = Path(folder) / "old_disclosure.py"
        path.write_text(src, encoding="utf-8")
        spec = importlib.util.spec_from_file_location("old_disclosure", path)
        mod = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
        sys.modules["old_disclosure"] = mod
        spec.loader.exec_module(mod)  # type: ignore[union-attr]
    return mod


def _package_at(rev: str) -> str | None:
    """A folder holding lt_workbench as it was at git revision `rev` (None when git cannot provide it)."""
    folder = Path(tempfile.mkdtemp())
    try:
        tar = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "lt_workbench"], capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(folder)], input=tar, check=True)
    except (OSError, subprocess.CalledProcessError):
        shutil.rmtree(folder, ignore_errors=True)
        return None
    return str(folder)


def linked_table(db: Path) -> tuple[pd.DataFrame, list[list[str]], bool]:
    """Age band x year x nation x region with margins, unit child, true counts (restricted), and its lines."""
    from lt_workbench import tabulate as tab

    t = tab.frequency("age-band", unit="child", by=("year", "nation", "region"), totals=True, db=db, disclosure="restricted")
    return t.drop(columns=["suppressed"], errors="ignore"), [list(x) for x in t.attrs["lines"]], bool(t.attrs["partition"])


def child_main(engine: str, table_path: str, lines: str, partition: bool) -> None:
    df = pd.read_pickle(table_path)
    if engine == "new":
        from lt_workbench.analysis.disclosure import protect
    else:
        protect = _load_old().protect
    t0 = time.perf_counter()
    c0 = time.process_time()
    p = protect(df, lines=json.loads(lines), partition=partition, profile="dfe", dims=[c for c in df.columns if c not in (
        "code", "label", "count", "denominator", "percent", "ci_low", "ci_high")])
    dt = time.perf_counter() - t0
    cpu = time.process_time() - c0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    a = p.audit
    hidden = a[a["column"].isin(["count", "denominator"]) & a["rule"].isin(["primary", "secondary", "release"])]
    sec = hidden[hidden["rule"] == "secondary"]
    print(json.dumps({"seconds": dt, "cpu": cpu, "rss_mb": rss, "cells": int(len(df)), "hidden": int(len(hidden)),
                      "secondary_rows": int(len(sec)), "secondary_total": int(pd.to_numeric(sec["original"]).sum()) if len(sec) else 0,
                      "audit": getattr(p, "facts", {}).get("audit", "(no LP audit)")}))


def information_loss(tables: dict[str, tuple[pd.DataFrame, list[list[str]], bool]]) -> list[dict[str, Any]]:
    """Secondary cells and their total: ours (as shipped), the optimum (valid cuts to convergence), the old engine."""
    from lt_workbench.analysis.disclosure import protect
    from lt_workbench.analysis.disclosure import secondary as sec_mod

    old = _load_old()
    out = []
    for name, (df, lines, partition) in tables.items():
        dims = [c for c in df.columns if c not in ("code", "label", "count", "denominator", "percent", "ci_low", "ci_high")]
        row: dict[str, Any] = {"table": name, "cells": len(df)}

        def loss(p: Any) -> tuple[int, int]:
            cells: dict[Any, int] = {}
            for r in p.audit.itertuples():
                if r.rule == "secondary" and r.column in ("count", "denominator"):
                    key = (r.column, r.original) + tuple(getattr(r, d) for d in dims) + ((r.code,) if r.column == "count" else ())
                    cells[key] = int(r.original)
            return len(cells), sum(cells.values())

        row["ours"] = loss(protect(df, lines=lines, partition=partition, dims=dims))
        saved = sec_mod.MAX_ROUNDS, sec_mod.EXACT_ROUNDS
        saved_cells = sec_mod.EXACT_MAX_CELLS
        sec_mod.MAX_ROUNDS = sec_mod.EXACT_ROUNDS = sec_mod.EXACT_MAX_CELLS = 5000  # valid cuts only, to convergence
        try:
            t0 = time.perf_counter()
            row["optimum"] = loss(protect(df, lines=lines, partition=partition, dims=dims))
            row["optimum_s"] = time.perf_counter() - t0
        finally:
            sec_mod.MAX_ROUNDS, sec_mod.EXACT_ROUNDS = saved
            sec_mod.EXACT_MAX_CELLS = saved_cells
        row["old"] = loss(old.protect(df, lines=lines, partition=partition, dims=dims)) if old else None
        out.append(row)
    return out


def standard_tables(db: Path) -> dict[str, tuple[pd.DataFrame, list[list[str]], bool]]:
    """The public tables of the sample's cross-review summary report, restricted (true counts) with their lines."""
    from lt_workbench import tabulate as tab

    specs = {
        "patterns level 2": dict(frame="patterns", level=2),
        "patterns leaf x region": dict(frame="patterns", level=3, by=("region",), totals=True),
        "patterns level 1 x year": dict(frame="patterns", level=1, by=("year",), totals=True),
        "age band x region (children)": dict(frame="age-band", unit="child", by=("region",), totals=True),
        "harm types x region (children)": dict(frame="harm-types", unit="child", by=("region",), totals=True),
        "factors level 2 x nation": dict(frame="factors", level=2, by=("nation",), totals=True),
    }
    out = {}
    for name, kw in specs.items():
        t = tab.frequency(db=db, disclosure="restricted", **kw)  # type: ignore[arg-type]
        out[name] = (t.drop(columns=["suppressed"], errors="ignore"), [list(x) for x in t.attrs.get("lines") or []], bool(t.attrs.get("partition")))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--db", default=str(ROOT / "data" / "workbench.duckdb"))
    ap.add_argument("--cells", type=int, default=20000)
    ap.add_argument("--small", type=int, default=5000, help="size of the table both engines protect (same-run ratio)")
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--skip-old", action="store_true", help="do not time the previous engine")
    ap.add_argument("--baseline", default=None, help="git revision whose engine is also timed on the linked sample table")
    ap.add_argument("--tau-python", default=sys.executable, help="an interpreter that can import pytauargus (optional)")
    a = ap.parse_args()
    load = os.getloadavg()
    t_start = time.strftime("%H:%M", time.gmtime())
    work = Path(tempfile.mkdtemp())
    lines = json.dumps([["region", "nation"], ["year"]])
    runs = []  # (label, grid, engine)
    for n_cells, engines in ((a.cells, ["new"]), (a.small, ["new"] if a.skip_old else ["new", "old"])):
        grid = synthetic_grid(n_cells)
        path = work / f"grid{n_cells}.pkl"
        grid.to_pickle(path)
        n_den = grid.groupby(["region", "nation", "year"]).ngroups
        for eng in engines:
            runs.append((f"{len(grid):,} count + {n_den} denominator cells", eng, _child([eng, str(path), lines, "0"])))
            print(runs[-1], flush=True)
    linked, linked_lines, linked_partition = linked_table(Path(a.db))
    lpath = work / "linked.pkl"
    linked.to_pickle(lpath)
    largs = ["new", str(lpath), json.dumps(linked_lines), "1" if linked_partition else "0"]
    llabel = f"age band x year x nation x region, unit child, sample ({len(linked):,} rows)"
    runs.append((llabel, "new", _child(largs)))
    print(runs[-1], flush=True)
    if a.baseline:
        folder = _package_at(a.baseline)
        runs.append((llabel, f"rev {a.baseline}", _child(largs, folder) if folder else {"error": f"git archive {a.baseline} failed"}))
        print(runs[-1], flush=True)
        if folder:
            shutil.rmtree(folder, ignore_errors=True)
    shutil.rmtree(work, ignore_errors=True)
    tables = standard_tables(Path(a.db))
    loss = information_loss(tables)
    tau_version, tau = crosscheck(tables, a.tau_python)
    load_after = os.getloadavg()
    lines_out = [
        f"Machine: {machine()}; highspy {version('highspy')}, scipy {version('scipy')}.",
        f"Run {time.strftime('%d %b %Y', time.gmtime())} {t_start}–{time.strftime('%H:%M', time.gmtime())} UTC. "
        f"Load average (1 min) before/after: {load[0]:.1f} / {load_after[0]:.1f} on the 2 cores (shared with other work: "
        "wall times are upper bounds; the CPU seconds of the process, single-threaded solver, are the better guide to an "
        "idle machine).",
        "",
        "### Protect + LP audit (dfe), each in a fresh process",
        "",
        "| table | engine | wall s | CPU s | peak RSS (MB) | hidden cells | secondary (rows) | audit |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    names = {"new": "MIP per block + LP audit (this package)", "old": f"previous greedy + null space ({OLD_COMMIT})"}
    for label, eng, r in runs:
        if "error" in r:
            lines_out.append(f"| {label} | {names.get(eng, eng)} | — | — | — | — | — | {r['error']} |")
        else:
            lines_out.append(f"| {label} | {names.get(eng, eng)} | {r['seconds']:.1f} | {r['cpu']:.1f} | {r['rss_mb']:.0f} | "
                             f"{r['hidden']:,} | {r['secondary_rows']} | {r['audit'][:60]} |")
    lines_out += [
        "",
        "### Information loss on the sample's standard tables (secondary suppressions: cells / their total count)",
        "",
        "Optimum = the same MIP with valid cuts only (a safe pattern hiding a failing cell hides a cell outside the "
        "failing pattern) run until the audit passes: the fewest, then smallest, secondary suppressions that pass the "
        "audit. The previous engine's patterns were not audited (it had no interval audit).",
        "",
        "| table | cells | ours | optimum | ours / optimum (cells, total) | previous engine |"
        + (f" Tau-Argus OPT (pytauargus {tau_version}; our audit of its pattern) |" if tau_version else ""),
        "|---|---:|---:|---:|---:|---:|" + ("---|" if tau_version else ""),
    ]
    for r in loss:
        (oc, ot), (bc, bt) = r["ours"], r["optimum"]
        ratio = f"{(oc / bc) if bc else (1.0 if oc == 0 else float('inf')):.2f}, {(ot / bt) if bt else (1.0 if ot == 0 else float('inf')):.2f}"
        prev = f"{r['old'][0]} / {r['old'][1]}" if r["old"] else "—"
        row = f"| {r['table']} | {r['cells']} | {oc} / {ot} | {bc} / {bt} | {ratio} | {prev} |"
        if tau_version:
            t = tau[r["table"]]
            audit = "" if "audit" not in t else (" (passes)" if not t["audit"]["failing"] else f" (fails: {t['audit']['failing']} cells)")
            row += f" {fmt_tau(t)}{audit} |"
        lines_out.append(row)
    lines_out += ["", "Tau-Argus: see \"Disclosure: Tau-Argus cross-check\" (bench_tauargus.py) for what was mapped how."
                  if tau_version else skipped_line(a.tau_python)]
    body = "\n".join(lines_out)
    print(body)
    if not a.no_write:
        write_section("Disclosure", body)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child_main(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5] == "1")
    else:
        main()

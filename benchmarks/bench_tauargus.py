"""Tau-Argus's optimal suppression (pytauargus OPT) beside ours on the sample's standard tables (issue 12 §3).

An optional cross-check, not the engine and not a dependency: `pip install -e ".[crosscheck]"` (pytauargus
0.6.0) or `--tau-python` naming any interpreter that has it. Without it the column is skipped with a line
saying so. For each standard table of bench_disclosure.py, Tau-Argus gets the same problem as far as its
model allows:

- the same additive structure: each single-level line dimension (region, nation, year) is an explanatory
  variable whose total code stands for the table's 'All' rows. A multi-valued frame (patterns, harm
  types, factors: codes do not add up) becomes one 1-D table per code, and its denominators one more 1-D
  table, exactly the blocks of our problem; a partition (age band) is one 2-D table code x region whose
  code total is the denominator. Tables without a line have nothing to give it; multi-level
  hierarchies are not mapped (none of the standard tables has one).
- the same primary cells: counts and denominators 1..threshold-1 have status unsafe, with lower
  protection level 0 and upper protection level threshold - value (our MIP's per-line requirement:
  the line can absorb the cell rising to the threshold); every other cell is safe, zeros are empty
  cells (Tau-Argus never suppresses them; we always show them).
- the same objective: cost 1 + value / (1 + block total), the weights of our MIP.

Each Tau-Argus table runs `<SUPPRESS> OPT(1, max_time)` in a child process (the tabular flow is known to
segfault in other methods) with a timeout. Its pattern (primary + secondary cells) then goes through OUR
LP audit (lt_workbench.analysis.disclosure.audit.audit_block, every interval solved exactly under x ≥ 0
and x ≥ 1) against what the dfe profile publishes (totals rounded to 10).

    .venv/bin/python benchmarks/bench_tauargus.py [--db data/workbench.duckdb] [--tau-python PY] [--no-write]

The module imports only the standard library at the top: its child runs under whichever interpreter has
pytauargus.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TOTAL = "Total"  # Tau-Argus's total code; the tables' total marker ('All') is written as this
MARKER = "All"
THRESHOLD_PROFILE = "dfe"


class NotMapped(Exception):
    """A table whose structure has no faithful Tau-Argus equivalent here."""


@dataclass
class TauTable:
    """One Tau-Argus table: explanatory variables, and per cell its codes, true value and our cell id."""

    name: str
    variables: list[str]
    cells: list[tuple[tuple[str, ...], int, int]] = field(default_factory=list)


# ---------------------------------------------------------------- mapping (parent side)


def build_problem(df: Any, lines: list[list[str]], partition: bool) -> tuple[Any, list[str]]:
    """Our joint problem for one table, built as protect() builds it (one table, no release)."""
    from lt_workbench.analysis.disclosure.problem import Problem, TableSpec, as_counts

    df = df.reset_index(drop=True)
    dims = [c for c in df.columns if c not in ("code", "label", "count", "denominator", "percent", "ci_low", "ci_high")]
    markers: dict[str, object] = {c: MARKER for h in lines for c in h}
    problem = Problem()
    problem.add_table(TableSpec(df, dims, [list(h) for h in lines], markers, partition), as_counts(df, "count"),
                      as_counts(df, "denominator"))
    problem.link_families()
    return problem, dims


def tau_tables(df: Any, lines: list[list[str]], partition: bool, problem: Any, dims: list[str]) -> list[TauTable]:
    """The Tau-Argus tables equivalent to one of ours (see the module docstring); NotMapped if there is none."""
    if any(len(h) > 1 for h in lines):
        raise NotMapped("multi-level hierarchy (would need a .hrc file)")
    line_dims = [h[0] for h in lines]
    if not line_dims:
        raise NotMapped("no additive line: nothing to protect beyond the primary cells")
    df = df.reset_index(drop=True)
    other = [d for d in dims if d not in line_dims]
    ccell, dcell = problem.rows[0]

    def code(v: Any) -> str:
        s = str(v)
        if s == TOTAL:
            raise NotMapped(f"a code equals Tau-Argus's total code {TOTAL!r}")
        return TOTAL if s == MARKER else s

    out: list[TauTable] = []
    groups = df.groupby(other, sort=False).indices if other else {(): range(len(df))}
    for gkey, rows in groups.items():
        where = " ".join(str(v) for v in (gkey if isinstance(gkey, tuple) else (gkey,)))
        dens: dict[tuple[str, ...], int] = {}
        if partition:
            t = TauTable(f"codes x {'/'.join(line_dims)} {where}".strip(), ["code", *line_dims])
            for r in rows:
                at = tuple(code(df.at[r, d]) for d in line_dims)
                t.cells.append(((str(df.at[r, "code"]), *at), int(df.at[r, "count"]), int(ccell[r])))
                dens.setdefault(at, int(dcell[r]))
            t.cells += [((TOTAL, *at), int(problem.values[c]), c) for at, c in dens.items()]
            out.append(t)
            continue
        by_code: dict[str, TauTable] = {}
        for r in rows:
            at = tuple(code(df.at[r, d]) for d in line_dims)
            c = str(df.at[r, "code"])
            by_code.setdefault(c, TauTable(f"count {c} {where}".strip(), list(line_dims))).cells.append(
                (at, int(df.at[r, "count"]), int(ccell[r])))
            dens.setdefault(at, int(dcell[r]))
        out += by_code.values()
        out.append(TauTable(f"denominators {where}".strip(), list(line_dims),
                            [(at, int(problem.values[c]), c) for at, c in dens.items()]))
    return out


def write_inputs(t: TauTable, folder: Path, threshold: int, max_time: int) -> None:
    """The tabular data (.tab), its metadata (.rda) and the batch (.arb) for one Tau-Argus table."""
    block_total = sum(v for _, v, _ in t.cells)
    rows = []
    for codes, v, _ in t.cells:
        unsafe = 0 < v < threshold
        cost = 1.0 + v / (1.0 + block_total)
        rows.append(";".join([*(f'"{c}"' for c in codes), str(v), str(v), f"{cost:.6f}", "0",
                              str(threshold - v if unsafe else 0), "U" if unsafe else "S"]))
    (folder / "data.tab").write_text("\n".join(rows) + "\n", encoding="utf-8")
    meta = ['<SEPARATOR> ";"', '<SAFE> "S"', '<UNSAFE> "U"', '<PROTECT> "P"']
    for v in t.variables:
        meta += [f'{v} "" ""', "  <RECODEABLE>", f'  <TOTCODE> "{TOTAL}"']
    meta += ['count "" ""', "  <NUMERIC>", 'freq "" ""', "  <FREQUENCY>", 'cost "" ""', "  <NUMERIC> <COSTVAR>",
             'lpl "" ""', "  <NUMERIC> <LOWERPL>", 'upl "" ""', "  <NUMERIC> <UPPERPL>", 'status "" ""', "  <STATUS>"]
    (folder / "meta.rda").write_text("\n".join(meta) + "\n", encoding="utf-8")
    exp = "".join(f'"{v}"' for v in t.variables)
    (folder / "batch.arb").write_text("\n".join([
        '<OPENTABLEDATA> "data.tab"', '<OPENMETADATA> "meta.rda"', f'<SPECIFYTABLE> {exp}|"count"||"cost"',
        "<SAFETYRULE>", "<READTABLE> 0", f"<SUPPRESS> OPT(1,{max_time})", '<WRITETABLE> (1,5,SO+,"out.tab")', ""]),
        encoding="utf-8")


def run_child(python: str, folder: Path, timeout: float) -> dict[str, Any]:
    """One Tau-Argus table in a fresh interpreter; its result, or what went wrong."""
    t0 = time.perf_counter()
    try:
        # cwd: the native solver writes its logs (FullJJ.log, cspSCIP.*) into the working directory
        out = subprocess.run([python, str(Path(__file__).resolve()), "--child", str(folder.resolve())], capture_output=True,
                             text=True, timeout=timeout, cwd=folder)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    wall = time.perf_counter() - t0
    if out.returncode < 0:
        return {"error": f"crashed (signal {-out.returncode})"}
    if out.returncode != 0:
        return {"error": ((out.stderr or out.stdout).strip().splitlines() or ["exit status %d" % out.returncode])[-1][:160]}
    res: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    res["wall"] = wall
    return res


def tau_version(python: str) -> str | None:
    """pytauargus's version in that interpreter, or None when it cannot import it."""
    try:
        out = subprocess.run([python, "-c", "import pytauargus; print(pytauargus.__version__)"], capture_output=True,
                             text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def audit_pattern(problem: Any, hidden: set[int], total_cells: set[int]) -> dict[str, int]:
    """OUR LP audit of a suppression pattern, against what the dfe profile publishes (totals rounded to 10).

    Every interval is solved exactly under both bounds (no fast audit). Returns counts of hidden cells
    pinned / confined to 1..threshold-1, knowing x ≥ 0 and knowing x ≥ 1, and of failing cells.
    """
    from lt_workbench.analysis.disclosure import audit as audit_mod
    from lt_workbench.analysis.disclosure.profiles import PROFILES, round_half_up, shown_interval

    prof = PROFILES[THRESHOLD_PROFILE]
    thr = prof.threshold
    tot_base = prof.total_rounding if prof.total_rounding is not None else prof.rounding
    lo: list[int] = []
    hi: list[int] = []
    for c, v in enumerate(problem.values):
        base = tot_base if c in total_cells else prof.rounding
        a, b = shown_interval(round_half_up(v, base), base, thr)
        lo.append(a)
        hi.append(b)
    out = {"audited": 0, "pinned_x0": 0, "pinned_x1": 0, "confined_x0": 0, "confined_x1": 0, "failing": 0}
    saved = audit_mod.FULL_AUDIT_TARGETS
    audit_mod.FULL_AUDIT_TARGETS = 10**9  # exact intervals under both bounds, whatever the block size
    try:
        for cells, line_ids in problem.blocks():
            h = hidden & set(cells)
            if not line_ids or not h:
                continue
            lines = [problem.lines[i] for i in line_ids]
            for a in audit_mod.audit_block(cells, lines, problem.values, h, lo, hi, thr):
                small = 0 < a.value < thr
                out["audited"] += 1
                out["pinned_x0"] += a.zero.pinned
                out["pinned_x1"] += a.one.pinned
                out["confined_x0"] += small and not a.zero.pinned and a.zero.confines(thr)
                out["confined_x1"] += small and not a.one.pinned and a.one.confines(thr)
                out["failing"] += a.problem is not None
    finally:
        audit_mod.FULL_AUDIT_TARGETS = saved
    return out


def crosscheck_table(df: Any, lines: list[list[str]], partition: bool, python: str, max_time: int,
                     work: Path) -> dict[str, Any]:
    """Tau-Argus OPT on one standard table: its secondary cells / total, and our audit of its pattern."""
    from lt_workbench.analysis.disclosure.problem import total_mask
    from lt_workbench.analysis.disclosure.profiles import PROFILES

    thr = PROFILES[THRESHOLD_PROFILE].threshold
    problem, dims = build_problem(df, lines, partition)
    try:
        tables = tau_tables(df, lines, partition, problem, dims)
    except NotMapped as e:
        return {"not_mapped": str(e)}
    ccell, dcell = problem.rows[0]
    total_row = [False] * len(df)
    for h in lines:
        for i, t in enumerate(total_mask(df.reset_index(drop=True)[h[0]], MARKER)):
            total_row[i] = total_row[i] or bool(t)
    total_cells = {int(ccell[r]) for r in range(len(df)) if total_row[r]} | {int(dcell[r]) for r in range(len(df)) if total_row[r]}
    primary = {c for c, v in enumerate(problem.values) if 0 < v < thr}
    hidden = set(primary)
    res: dict[str, Any] = {"tau_tables": len(tables), "jj_cells": 0, "jj_rows": 0, "cpu": 0.0, "wall": 0.0, "errors": [],
                           "bounds": [], "own_audit_flagged": 0, "primary_mismatch": 0}
    secondary: dict[int, int] = {}
    for k, t in enumerate(tables):
        folder = work / f"t{k}"
        folder.mkdir()
        write_inputs(t, folder, thr, max_time)
        r = run_child(python, folder, timeout=max_time + 60)
        shutil.rmtree(folder, ignore_errors=True)
        if "error" in r:
            res["errors"].append(f"{t.name}: {r['error']}")
            continue
        res["cpu"] += r["cpu"]
        res["wall"] += r["wall"]
        res["jj_cells"] += r["jj_cells"]
        res["jj_rows"] += r["jj_rows"]
        res["bounds"] += [tuple(b) for b in r["bounds"]]  # one (lower, upper) per Tau-Argus table
        res["own_audit_flagged"] += r.get("own_audit_flagged", 0)
        res["own_audit_ok"] = res.get("own_audit_ok", True) and r.get("own_audit_ok", False)
        status = {tuple(s[:-1]): s[-1] for s in r["status"]}
        for codes, v, c in t.cells:
            st = status.get(tuple(codes), "E")
            res["primary_mismatch"] += (st == "U") != (c in primary)
            if st == "M":
                secondary[c] = v
                hidden.add(c)
    res["secondary"] = (len(secondary), sum(secondary.values()))
    res["audit"] = audit_pattern(problem, hidden, total_cells)
    res["audit_exact"] = audit_pattern(problem, hidden, set())  # totals exact, as Tau-Argus was told them
    res["ours_audit"] = audit_pattern(problem, ours_hidden(df, lines, partition, dims, problem), total_cells)
    return res


def ours_hidden(df: Any, lines: list[list[str]], partition: bool, dims: list[str], problem: Any) -> set[int]:
    """The cells protect() hides in this table (primary and secondary), as cell ids of `problem`: the harness
    check (our own pattern must pass audit_pattern too)."""
    from lt_workbench.analysis.disclosure import protect

    df = df.reset_index(drop=True)
    ccell, dcell = problem.rows[0]
    row_of = {tuple(str(v) for v in k): i for i, k in enumerate(df[["code", *dims]].itertuples(index=False, name=None))}
    hidden = set()
    p = protect(df, lines=lines, partition=partition, dims=dims, profile=THRESHOLD_PROFILE)
    for r in p.audit.to_dict("records"):
        if r["column"] in ("count", "denominator") and r["rule"] in ("primary", "secondary"):
            row = row_of[tuple(str(r[k]) for k in ("code", *dims))]
            hidden.add(int((ccell if r["column"] == "count" else dcell)[row]))
    return hidden


def crosscheck(tables: dict[str, tuple[Any, list[list[str]], bool]], python: str = sys.executable,
               max_time: int = 60) -> tuple[str | None, dict[str, dict[str, Any]]]:
    """(pytauargus version or None when not importable, per table the cross-check); see crosscheck_table."""
    version = tau_version(python)
    if version is None:
        return None, {}
    work = Path(tempfile.mkdtemp(prefix="lt_tauargus_"))
    try:
        return version, {name: crosscheck_table(df, lines, part, python, max_time, work)
                         for name, (df, lines, part) in tables.items()}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def skipped_line(python: str) -> str:
    return (f"Tau-Argus column skipped: pytauargus is not importable in {python} "
            "(optional: `pip install -e \".[crosscheck]\"`, or `--tau-python` naming an interpreter that has it).")


def fmt_tau(r: dict[str, Any]) -> str:
    """Tau-Argus's secondary cells / total for a table, or why there is none."""
    if "not_mapped" in r:
        return f"— ({r['not_mapped']})"
    if r["errors"]:
        return f"{len(r['errors'])} of {r['tau_tables']} tables failed: {r['errors'][0]}"
    return f"{r['secondary'][0]} / {r['secondary'][1]}"


def fmt_audit(a: dict[str, int]) -> str:
    """Pass, or how many hidden cells fail and how (pinned / confined to 1–5, knowing x ≥ 0 / knowing x ≥ 1)."""
    if not a["failing"]:
        return f"passes ({a['audited']} hidden cells on lines)"
    return (f"**fails**: {a['failing']} of {a['audited']}; pinned {a['pinned_x0']} / {a['pinned_x1']}, "
            f"confined to 1–5 {a['confined_x0']} / {a['confined_x1']} (x ≥ 0 / x ≥ 1)")


# ---------------------------------------------------------------- the child (stdlib + pytauargus only)


class _Spy:
    """Wraps the native TauArgus object to record the bounds OPT writes into its JJ file, and keep the file."""

    def __init__(self, inner: Any, folder: Path) -> None:
        self._inner = inner
        self._folder = folder
        self.bounds: list[tuple[float, float]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def write_jj_format(self, tab: int, path: str, lo: float, hi: float, *rest: Any) -> Any:
        ok = self._inner.write_jj_format(tab, path, lo, hi, *rest)
        if not self.bounds:
            shutil.copy(path, self._folder / "opt.jj")
        self.bounds.append((lo, hi))
        return ok


def child_main(folder: Path) -> None:
    import pytauargus
    from pytauargus.engine import Engine

    eng = Engine()
    spy = _Spy(eng._tau, folder)
    eng._tau = spy  # type: ignore[assignment]
    c0 = time.process_time()
    eng.run_batch(folder / "batch.arb")
    cpu = time.process_time() - c0
    status = []
    for line in (folder / "out.tab").read_text(encoding="utf-8").splitlines():
        f = line.split(";")
        if len(f) >= 7:
            status.append([c.strip().strip('"').strip() for c in f[:-6]] + [f[-3].strip()])  # codes are padded
    jj = (folder / "opt.jj").read_text(encoding="utf-8").split("\n")
    n_cells = int(jj[1])
    n_rows = int(jj[2 + n_cells])
    flagged: int | None = None
    try:  # Tau-Argus's own interval audit of its pattern (cells x in [lo, hi] of the JJ file)
        flagged = sum(1 for r in eng.audit(0) if r.get("unsafe"))
    except Exception:  # noqa: BLE001 - reported as missing, not fatal
        flagged = None
    print(json.dumps({"version": pytauargus.__version__, "cpu": cpu, "status": status, "jj_cells": n_cells, "jj_rows": n_rows,
                      "bounds": spy.bounds[:1], "own_audit_flagged": flagged if flagged is not None else 0,
                      "own_audit_ok": flagged is not None}))


# ---------------------------------------------------------------- standalone run


def main() -> None:
    sys.path.insert(0, str(Path(__file__).parent))
    from _common import machine, write_section
    from bench_disclosure import information_loss, standard_tables

    root = Path(__file__).resolve().parents[1]
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--db", default=str(root / "data" / "workbench.duckdb"))
    ap.add_argument("--tau-python", default=sys.executable, help="an interpreter that can import pytauargus")
    ap.add_argument("--max-time", type=int, default=60, help="OPT's time limit per Tau-Argus table, seconds")
    ap.add_argument("--no-write", action="store_true")
    a = ap.parse_args()
    load = os.getloadavg()
    t_start = time.strftime("%H:%M", time.gmtime())
    tables = standard_tables(Path(a.db))
    version, tau = crosscheck(tables, a.tau_python, a.max_time)
    if version is None:
        print(skipped_line(a.tau_python))
        return
    loss = {r["table"]: r for r in information_loss(tables)}
    load_after = os.getloadavg()
    out = [
        f"Machine: {machine()}; pytauargus {version}.",
        f"Run {time.strftime('%d %b %Y', time.gmtime())} {t_start}–{time.strftime('%H:%M', time.gmtime())} UTC, "
        f"load average (1 min) {load[0]:.1f} before / {load_after[0]:.1f} after on the 2 cores. "
        f"`.venv/bin/python benchmarks/bench_tauargus.py --db <make demo's database>` (OPT time limit {a.max_time} s "
        "per Tau-Argus table, each in its own child process).",
        "",
        "| table | cells | Tau-Argus input: tables (JJ cells / equations) | ours | optimum | Tau-Argus OPT | Tau-Argus / "
        "optimum (cells, total) | our LP audit of Tau-Argus's pattern, totals rounded to 10 as published | the same, "
        "totals exact as Tau-Argus was given them | Tau-Argus's own audit: cells flagged | Tau-Argus CPU s |",
        "|---|---:|---|---:|---:|---:|---:|---|---|---:|---:|",
    ]
    for name, r in tau.items():
        lr = loss[name]
        (oc, ot), (bc, bt) = lr["ours"], lr["optimum"]
        if "not_mapped" in r or r["errors"]:
            ratio, shape, cpu, own, aud, exact = "—", "—", "—", "—", "—", "—"
        else:
            tc, tt = r["secondary"]
            ratio = f"{(tc / bc) if bc else (1.0 if tc == 0 else math.inf):.2f}, " \
                    f"{(tt / bt) if bt else (1.0 if tt == 0 else math.inf):.2f}".replace("inf", "∞")
            shape = f"{r['tau_tables']} ({r['jj_cells']} / {r['jj_rows']})"
            cpu = f"{r['cpu']:.2f}"
            own = str(r["own_audit_flagged"]) if r.get("own_audit_ok") else "(audit failed to run)"
            aud, exact = fmt_audit(r["audit"]), fmt_audit(r["audit_exact"])
        out.append(f"| {name} | {lr['cells']} | {shape} | {oc} / {ot} | {bc} / {bt} | {fmt_tau(r)} | {ratio} | "
                   f"{aud} | {exact} | {own} | {cpu} |")
    lows = [lo for r in tau.values() for lo, _ in r.get("bounds", ())]
    mapped = [r for r in tau.values() if "ours_audit" in r]
    out += ["", f"Lower bound Tau-Argus's OPT gave every cell in its JJ files (the table's smallest cell): 0 in "
            f"{sum(lo == 0 for lo in lows)} tables, 1 in {sum(lo == 1 for lo in lows)}, more in {sum(lo > 1 for lo in lows)}; "
            "upper bound: the table's largest cell. Primary cells Tau-Argus marked unsafe that are not ours, or ours it did "
            f"not: {sum(r.get('primary_mismatch', 0) for r in tau.values())}. Harness check, the same audit call on our own "
            f"patterns: {sum(not r['ours_audit']['failing'] for r in mapped)} of {len(mapped)} tables pass."]
    body = "\n".join(out)
    print(body)
    if not a.no_write:
        write_section("Disclosure: Tau-Argus cross-check", body)


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        child_main(Path(sys.argv[2]))
    else:
        main()

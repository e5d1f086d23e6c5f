"""CPU cost of public explorer filter changes that publish year ranges (issue 12: ranges linked to their slices).

A public explorer session joins its snapshot's release; the first visit of each view protects its tables
jointly with everything the session published before (revisits show what was published, at no cost).
This script opens a public Explorer on a database (10,000 synthetic reviews by default), makes the same
12 filter changes (region, year slider moves 2015.. / 2016.. / 2019.. / 2012..2020, trigger; each
undone) with a fresh ledger, and records the process CPU time (time.process_time: the machine is shared)
of each change. A/B: `--baseline DIR` names another checkout of the package (e.g. `git archive main
lt_workbench | tar -x -C DIR`); both run in subprocesses, alternated `--rounds` times in one run.

    .venv/bin/python benchmarks/bench_explorer_ranges.py [--db PATH | --reviews 10000] [--baseline DIR] [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import machine, write_section  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

SESSION = r'''
import atexit, json, os, shutil, sys, tempfile, time
from pathlib import Path
import lt_workbench
from lt_workbench.explorer.widgets import Explorer
dbp = Path(sys.argv[1])
scratch = tempfile.mkdtemp(prefix="lt-ranges-ledger-")
atexit.register(shutil.rmtree, scratch, True)  # the session's ledger (about 25 MB) goes with the process
os.environ["LT_WORKBENCH_LEDGER"] = str(Path(scratch) / "ledger.sqlite")
ex = Explorer(db=dbp, disclosure="public", debounce=0)
last, first = ex.filters.years.max, ex.filters.years.min
steps = []
for change in ({"region": "north_west"}, {"years": (2015, last)}, {"years": (2016, last)}, {"trigger": "death"},
               {"region": "london", "years": (2019, last)}, {"years": (2012, 2020)}):
    steps += [change, {k: (None if k != "years" else (first, last)) for k in change}]
out = []
for s in steps:
    t = time.process_time()
    ex.filters.set(**s)
    out.append([str(s), time.process_time() - t, ex.last_error is not None])
ex.close()
print(json.dumps({"package": lt_workbench.__file__, "steps": out}))
'''


def run(package_parent: Path, db: Path) -> dict[str, object]:
    env = {**os.environ, "PYTHONPATH": str(package_parent), "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("LT_WORKBENCH_LEDGER", None)
    res = subprocess.run([sys.executable, "-c", SESSION, str(db)], env=env, capture_output=True, text=True, check=True,
                         cwd=tempfile.gettempdir())  # not the repository: "-c" puts the working directory first on sys.path
    out: dict[str, object] = json.loads(res.stdout.strip().splitlines()[-1])
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", type=Path, help="an existing database (default: generate --reviews synthetic reviews)")
    ap.add_argument("--reviews", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--baseline", type=Path, help="directory holding another lt_workbench package to compare with")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db
        if db is None:
            from lt_workbench.model.load import load
            from lt_workbench.synth.builder import write_corpus

            write_corpus(args.reviews, args.seed, Path(tmp) / "corpus")
            db = Path(tmp) / "bench.duckdb"
            assert load([Path(tmp) / "corpus"], db, progress=False).exit_code == 0
        versions = [("this checkout", ROOT)] + ([("baseline", args.baseline)] if args.baseline else [])
        cpu: dict[str, list[list[float]]] = {name: [] for name, _ in versions}
        names: list[str] = []
        refused: dict[str, int] = {name: 0 for name, _ in versions}
        for _ in range(args.rounds):
            for name, path in versions:
                r = run(path, db)
                steps = r["steps"]
                assert isinstance(steps, list)
                names = [s[0] for s in steps]
                cpu[name].append([float(s[1]) for s in steps])
                refused[name] += sum(bool(s[2]) for s in steps)
    load_after = os.getloadavg()[0]
    med = {name: [statistics.median(run_[i] for run_ in runs) for i in range(len(names))] for name, runs in cpu.items()}
    head = "| filter change (first visit) | " + " | ".join(f"{n}: CPU s" for n, _ in versions) + (" | ratio |" if args.baseline else "")
    lines = [f"Machine: {machine()}.",
             f"Database: {args.db or f'{args.reviews:,} synthetic reviews, seed {args.seed}'}; "
             f"{args.rounds} round(s), versions alternated; median process CPU time per change (time.process_time).",
             f"Load average (1 min) {load_before:.1f} before and {load_after:.1f} after: CPU time, not wall time, is quoted.",
             "", head, "|---|" + "---|" * (len(versions) + (1 if args.baseline else 0))]
    for i, n in enumerate(names):
        row = f"| {n} | " + " | ".join(f"{med[v][i]:.2f}" for v, _ in versions)
        if args.baseline:
            row += f" | {med['this checkout'][i] / max(med['baseline'][i], 1e-9):.2f}x"
        lines.append(row + " |")
    total = {v: sum(med[v]) for v, _ in versions}
    lines += ["", "Session total (12 changes): " + ", ".join(f"{v} {t:.2f} s CPU" for v, t in total.items())
              + "; views refused: " + ", ".join(f"{v} {n}" for v, n in refused.items()) + "."]
    print("\n".join(lines))
    if not args.no_write:
        write_section("Explorer year ranges (public, CPU)", "\n".join(lines))


if __name__ == "__main__":
    main()

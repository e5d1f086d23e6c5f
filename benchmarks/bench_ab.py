"""A/B in the same run: today's code against an earlier commit, on the same machine, alternating (issue 15).

Issue 15's speed clause: "no tabulation, load or widget figure more than 10% slower than
benchmarks/RESULTS.md today". Times on a shared VM drift from day to day (the same pandas baseline
ran 1.2-1.5x slower on one day than on another), so a comparison with figures written on another day
says little. This script measures both sides in one run instead: it checks the earlier commit out
into a temporary git worktree, and then, round by round, runs the *same* measurement in a fresh
process against each side in turn (before, after, after, before, ...), so drift and background load
fall on both alike. Both sides run in this venv; each child imports lt_workbench from its side's tree.

Measured per side and round (10,000 synthetic reviews from lt_workbench.synth.builder, seed 11):
- load: validating and loading the corpus into a new database (each side loads with its own code
  and then reads its own database, so schema changes between the sides cannot mislead); wall time
  and CPU time (the loader's process_time plus its checking workers', from RUSAGE_CHILDREN: what the
  load costs whatever else runs on the machine). A load takes only seconds, so one noisy round would
  decide it: each round runs --load-repeat before/after pairs of loads (order alternating);
- tabulation: the twelve standard tabulations of bench_tabulate.py plus public recurrence with
  filters, median of --repeat calls on an open read-only connection after a warm-up call;
- widgets: the explorer (debounce 0, restricted and public) over 12 filter changes (6 views, each set and
  undone) as in bench_widgets.py, median time to the redrawn bar chart and to all three figures. Public mode
  gives two figures, since a session keeps each public table it was given (explorer/release.py): the *first
  visit* of each of the 6 views (protected jointly with the session's release, which starts empty: a fresh
  ledger per run) and the *revisit* of views already shown (the 2 measured passes), which is what going back
  and forth costs, not what a new filter costs. The explorer figures are also given in CPU ms (the process's
  time.process_time over the same span), which the other engineers' work on the shared machine does not inflate.

Ratio = after / before, from the best (lowest) of each side's round medians, with the median and
the range of the per-round (per-pair for load) ratios beside it; a figure misses the goal when
either the best/best or the median ratio is above 1.10. Writes the "A/B against the issue-15
baseline" section of RESULTS.md.

    .venv/bin/python benchmarks/bench_ab.py [--before a463b74] [--rounds 3] [--repeat 7] [--load-repeat 3] [--no-write]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
SECTION = "A/B against the issue-15 baseline"


# ------------------------------------------------------------------------------------------
# Child side: runs inside a fresh process with sys.path[0] = the side's source tree.


def _tabulations(tab: Any, con: Any) -> dict[str, Callable[[], Any]]:
    where = {"region": "north_west", "year": "2015..2025"}
    return {
        "pattern frequency (all levels)": lambda: tab.frequency("patterns", con=con),
        "patterns (level 2) by region": lambda: tab.frequency("patterns", level=2, by=("region",), con=con),
        "patterns (level 2) by year": lambda: tab.frequency("patterns", level=2, by=("year",), con=con),
        "factor types, unit episode": lambda: tab.frequency("factors", level=2, unit="episode", con=con),
        "age band, unit child": lambda: tab.frequency("age-band", unit="child", con=con),
        "family factors (not recorded apart)": lambda: tab.frequency("family-factors", con=con),
        "recurrence (level 2, Fisher + BH)": lambda: tab.recurrence(level=2, con=con),
        "pattern co-occurrence (level 2, Fisher + BH)": lambda: tab.cooccurrence("patterns", level=2, con=con),
        "pattern co-occurrence (level 2, counts only)": lambda: tab.cooccurrence("patterns", level=2, tests=False, con=con),
        "factor type x pattern within episodes (counts only)": lambda: tab.cooccurrence(
            "factor-pattern", level=2, factor_level=2, unit="episode", tests=False, con=con),
        "factor type x pattern within episodes (Fisher + BH)": lambda: tab.cooccurrence(
            "factor-pattern", level=2, factor_level=2, unit="episode", con=con),
        "patterns by region, public (dfe, totals)": lambda: tab.frequency(
            "patterns", level=2, by=("region",), totals=True, disclosure="public", con=con),
        "recurrence north_west 2015..2025, public": lambda: tab.recurrence(level=2, where=where, disclosure="public", con=con),
    }


def _children_cpu() -> float:
    import resource

    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def _child_load(corpus: Path, db: Path) -> dict[str, float]:
    try:
        from lt_workbench.model.load import load
    except ImportError:  # the tree before the split
        from lt_workbench.load import load  # type: ignore[no-redef]
    t, cpu, workers = time.perf_counter(), time.process_time(), _children_cpu()
    res = load([corpus], db, progress=False)  # its checking workers have ended (and been waited for) when it returns
    took = time.perf_counter() - t
    cpu = time.process_time() - cpu + _children_cpu() - workers
    if res.exit_code != 0:
        raise SystemExit(res.summary())
    return {"load (s)": took, "load CPU, loader + checking workers (s)": cpu}


def _child_tabulate(db: Path, repeat: int) -> dict[str, float]:
    import duckdb

    from lt_workbench import tabulate as tab

    con = duckdb.connect(str(db), read_only=True)
    out = {}
    for name, fn in _tabulations(tab, con).items():
        fn()
        times = []
        for _ in range(repeat):
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
        out[name] = 1000 * statistics.median(times)
    con.close()
    return out


def _child_widgets(db: Path) -> dict[str, float]:
    import duckdb

    from lt_workbench.widgets import Explorer

    class Timed(Explorer):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            self.t0, self.marks, self.c0, self.cpu = 0.0, [], 0.0, []
            super().__init__(*args, **kwargs)

        def _stages(self) -> list[Callable[[], None]]:
            def timed(fn: Callable[[], None]) -> Callable[[], None]:
                def run() -> None:
                    fn()
                    self.marks.append(time.perf_counter() - self.t0)
                    self.cpu.append(time.process_time() - self.c0)  # the process's CPU, all threads (DuckDB's too)
                return run
            return [timed(f) for f in super()._stages()]

    con = duckdb.connect(str(db), read_only=True)
    out = {}
    for mode in ("restricted", "public"):
        # A ledger of its own per run: the session's release starts empty, so a first visit is a first visit.
        ledger = tempfile.TemporaryDirectory(prefix="lt-ab-ledger-")
        os.environ["LT_WORKBENCH_LEDGER"] = str(Path(ledger.name) / "releases.sqlite")
        ex = Timed(db, con=con, disclosure=mode, debounce=0)
        last = ex.filters.years.max
        for step in ({"region": "london"}, {"region": None}):  # one-off costs (imports, first queries) on a view not timed
            ex.filters.set(**step)
        steps: list[dict[str, Any]] = []
        for change, undo in (({"region": "north_west"}, {"region": None}), ({"years": (2015, last)}, {"years": (2008, last)}),
                             ({"trigger": "death"}, {"trigger": None}), ({"review_type": "serious_case_review"}, {"review_type": None}),
                             ({"direction": "unsafe"}, {"direction": None}), ({"unit": "episode"}, {"unit": "review"})):
            steps += [change, undo]
        marks, first, cpu_marks, cpu_first = [], [], [], []
        for i in range(3):  # the first pass warms up; its changes (not its undos) are each view's first visit
            for j, step in enumerate(steps):
                ex.marks, ex.cpu = [], []
                ex.t0, ex.c0 = time.perf_counter(), time.process_time()
                ex.filters.set(**step)
                if i:
                    marks.append(list(ex.marks))
                    cpu_marks.append(list(ex.cpu))
                elif j % 2 == 0:  # an undo goes back to the opening view, shown before
                    first.append(list(ex.marks))
                    cpu_first.append(list(ex.cpu))
        ex.close()
        ledger.cleanup()
        if mode == "restricted":  # nothing is kept between refreshes: every pass is the same work
            out["explorer restricted: bar chart redrawn (ms)"] = 1000 * statistics.median(m[0] for m in marks)
            out["explorer restricted: all three figures (ms)"] = 1000 * statistics.median(m[2] for m in marks)
            out["explorer restricted: all three figures (CPU ms)"] = 1000 * statistics.median(m[2] for m in cpu_marks)
        else:
            out["explorer public, first visit of a view: bar chart redrawn (ms)"] = 1000 * statistics.median(m[0] for m in first)
            out["explorer public, first visit of a view: all three figures (ms)"] = 1000 * statistics.median(m[2] for m in first)
            out["explorer public, first visit of a view: bar chart redrawn (CPU ms)"] = 1000 * statistics.median(m[0] for m in cpu_first)
            out["explorer public, first visit of a view: all three figures (CPU ms)"] = 1000 * statistics.median(m[2] for m in cpu_first)
            out["explorer public, view revisited: bar chart redrawn (ms)"] = 1000 * statistics.median(m[0] for m in marks)
            out["explorer public, view revisited: all three figures (ms)"] = 1000 * statistics.median(m[2] for m in marks)
    con.close()
    return out


def child(args: argparse.Namespace) -> None:
    sys.path.insert(0, str(args.child))
    corpus, db = Path(args.corpus), Path(args.db)
    if args.job == "load":
        res = _child_load(corpus, db)
    elif args.job == "tabulate":
        res = _child_tabulate(db, args.repeat)
    else:
        res = _child_widgets(db)
    print("RESULT " + json.dumps(res))


# ------------------------------------------------------------------------------------------
# Parent side


def _run(src: Path, job: str, corpus: Path, db: Path, repeat: int) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    proc = subprocess.run([sys.executable, __file__, "--child", str(src), "--job", job, "--corpus", str(corpus), "--db", str(db),
                           "--repeat", str(repeat)], capture_output=True, text=True, env=env, cwd=src)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return dict(json.loads(line[7:]))
    raise SystemExit(f"{job} on {src} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", default="a463b74", help="the baseline commit (default: the tree issue 15 was filed against)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--load-repeat", type=int, default=3, help="before/after pairs of loads per round (default 3)")
    ap.add_argument("--reviews", type=int, default=10_000)
    ap.add_argument("--jobs", nargs="+", default=["load", "tabulate", "widgets"])
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--job", help=argparse.SUPPRESS)
    ap.add_argument("--corpus", help=argparse.SUPPRESS)
    ap.add_argument("--db", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return child(args)

    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(Path(__file__).parent))
    from _common import machine, write_section

    from lt_workbench.synth.builder import write_corpus

    before_sha = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", args.before], capture_output=True, text=True,
                                check=True).stdout.strip()
    after_sha = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                               check=True).stdout.strip()
    avg0 = os.getloadavg()
    samples: dict[str, dict[str, list[float]]] = {"before": {}, "after": {}}
    with tempfile.TemporaryDirectory(prefix="lt-ab-") as tmp:
        old = Path(tmp) / "before"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(old), before_sha], check=True, capture_output=True)
        try:
            corpus = Path(tmp) / "corpus"
            write_corpus(args.reviews, 11, corpus)
            sides = {"before": old, "after": ROOT}
            for r in range(args.rounds):
                order = ("before", "after") if r % 2 == 0 else ("after", "before")
                for side in order:
                    db = Path(tmp) / f"{side}-{r}.duckdb"
                    res: dict[str, float] = {}
                    if "load" in args.jobs or not any(Path(tmp).glob(f"{side}-*.duckdb")):
                        res.update(_run(sides[side], "load", corpus, db, args.repeat))
                    else:
                        db = sorted(Path(tmp).glob(f"{side}-*.duckdb"))[0]
                    for job in ("tabulate", "widgets"):
                        if job in args.jobs:
                            res.update(_run(sides[side], job, corpus, db, args.repeat))
                    for k, v in res.items():
                        samples[side].setdefault(k, []).append(v)
                    print(f"round {r + 1} {side}: " + "; ".join(f"{k} {v:.1f}" for k, v in res.items()), flush=True)
                if "load" in args.jobs:  # more pairs of loads, the order alternating from pair to pair
                    for pair in range(1, args.load_repeat):
                        for side in (order if pair % 2 == 0 else order[::-1]):
                            db = Path(tmp) / f"{side}-{r}-{pair}.duckdb"
                            res = _run(sides[side], "load", corpus, db, args.repeat)
                            for name in list(Path(tmp).glob(db.name + "*")):  # the database, its manifest and lock
                                shutil.rmtree(name) if name.is_dir() else name.unlink()
                            for key, v in res.items():
                                samples[side].setdefault(key, []).append(v)
                            print(f"round {r + 1} load pair {pair + 1} {side}: " + "; ".join(f"{key} {v:.2f}" for key, v in res.items()),
                                  flush=True)
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(old)], capture_output=True)
    avg1 = os.getloadavg()

    lines = ["| figure | before: best | after: best | after / before (best) | median of per-round ratios | range over rounds | pairs |",
             "|---|---|---|---|---|---|---|"]
    worse = []
    for k, b in samples["before"].items():
        a = samples["after"][k]
        ratio = min(a) / min(b)
        per = [x / y for x, y in zip(a, b, strict=True)]
        mid = statistics.median(per)
        digits = 2 if k.startswith("load") else 1
        lines.append(f"| {k} | {min(b):.{digits}f} | {min(a):.{digits}f} | {ratio:.2f} | {mid:.2f} | {min(per):.2f}–{max(per):.2f} | {len(per)} |")
        if ratio > 1.10 or mid > 1.10:
            worse.append(f"{k} (best {ratio:.2f}, median {mid:.2f})")
    verdict = ("Goal (no tabulation, load or widget figure more than 10% slower than the baseline, by best/best or by the "
               "median of per-round ratios): "
               + ("met." if not worse else "NOT met for " + "; ".join(worse) + "."))
    body = f"""
Machine: {machine()}.
Load average (1, 5, 15 min) at start {' / '.join(f'{x:.2f}' for x in avg0)}, at end {' / '.join(f'{x:.2f}' for x in avg1)}.
Before: {before_sha} (the tree issue 15 was filed against); after: {after_sha}. {args.reviews:,} reviews (synth.builder, seed 11),
{args.rounds} rounds alternating before/after, each measurement in a fresh process; load: {args.load_repeat} before/after pairs
per round (wall, and CPU of the loader and its checking workers); tabulations: median of {args.repeat} calls
after a warm-up call; explorer: median over 2 passes of 12 filter changes after a warm-up pass. Times in ms unless named;
"CPU ms": the explorer process's CPU time (time.process_time, all its threads, DuckDB's included) over the same span,
which other work on the shared machine does not inflate as it does wall time.
Explorer, public mode: "first visit of a view" is the median over the 6 filtered views the first time the session shows
each (the warm-up pass's changes; its table is protected jointly with the session's release, empty at the start);
"view revisited" is the median over the 2 later passes, whose views the session shows again from the tables the release
already gave it (no new protection) — the cost of going back and forth, not of a new filter. The baseline keeps nothing
between refreshes, so its two public figures measure the same work.

{chr(10).join(lines)}

{verdict}
"""
    print(body)
    if not args.no_write:
        write_section(SECTION, body)


if __name__ == "__main__":
    main()

"""Validate-and-load speed at 1,000 and 10,000 synthetic reviews (issue 2 §7).

Goal: 10,000 reviews of realistic size validated and loaded in under 5 s on 2 cores. Baselines
measured in the same run: pure-Python `jsonschema` (the test oracle) and a bare orjson parse,
both extrapolated from a subset. Writes the "Loading" section of RESULTS.md.

    .venv/bin/python benchmarks/bench_load.py [--sizes 1000 10000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import gc
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import jsonschema
import orjson

sys.path.insert(0, str(Path(__file__).parent))
from _common import machine, median_time, write_section  # noqa: E402

from lt_workbench.load import collect_paths, load  # noqa: E402
from lt_workbench.synth import write_corpus  # noqa: E402
from lt_workbench.validate import schema  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, default=None, help="processes for checking (default: all cores)")
    args = parser.parse_args()

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            corpus = Path(tmp) / f"corpus-{n}"
            write_corpus(n, 7, corpus)
            paths = collect_paths([corpus])
            total_bytes = sum(p.stat().st_size for p in paths)

            stage_runs: list[dict[str, float]] = []

            def run_load() -> None:
                db = Path(tmp) / f"bench-{n}.duckdb"
                db.unlink(missing_ok=True)
                result = load([corpus], db, progress=False, workers=args.workers)
                assert len(result.inserted) == n, result.summary()
                stage_runs.append(result.timings)

            t_load = median_time(run_load, args.repeat)
            stages = {k: statistics.median(r[k] for r in stage_runs) for k in stage_runs[0]}

            subset = paths[: min(300, n)]
            raws = [p.read_bytes() for p in subset]
            docs = [orjson.loads(r) for r in raws]
            oracle = jsonschema.Draft202012Validator(schema())
            gc.collect()
            gc.disable()  # as timeit does: time the work, not a collection the earlier loads left behind
            try:
                t_parse = median_time(lambda: [orjson.loads(r) for r in raws], 5) / len(subset) * n
                t_pure = median_time(lambda: [oracle.validate(d) for d in docs], 1) / len(subset) * n
            finally:
                gc.enable()
            rows.append((n, total_bytes / n / 1024, t_load, t_parse, t_pure, stages))
            shutil.rmtree(corpus)
            print(f"{n} reviews: load {t_load:.2f} s; orjson parse {t_parse:.2f} s; pure jsonschema {t_pure:.1f} s", flush=True)

    lines = [
        f"Machine: {machine()}",
        f"Run: `python benchmarks/bench_load.py --sizes {' '.join(map(str, args.sizes))} --repeat {args.repeat}` "
        f"on {time.strftime('%Y-%m-%d')}. Median of {args.repeat} full loads into a fresh database (read, sha256, parse, "
        "schema check with jsonschema-rs, cross-field rules, insert, derived tables, commit). Baselines from a 300-file subset, scaled.",
        "",
        "| reviews | mean size | validate + load | of which check / insert / derive / commit | orjson parse only | "
        "pure-Python jsonschema only | load vs pure jsonschema |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n, kb, t_load, t_parse, t_pure, st in rows:
        parts = " / ".join(f"{st.get(k, float('nan')):.2f}" for k in ("check", "insert", "derive", "commit"))
        lines.append(f"| {n:,} | {kb:.1f} KB | {t_load:.2f} s | {parts} s | {t_parse:.2f} s | {t_pure:.1f} s | "
                     f"{t_pure / t_load:.1f}× faster |")
    lines.append("")
    big = [r for r in rows if r[0] == 10_000]
    if big:
        t = big[0][2]
        lines.append(f"Goal: 10,000 reviews in under 5 s on 2 cores: {'met' if t < 5 else 'NOT met'} ({t:.2f} s). "
                     "Check = read, sha256, parse and validate in worker processes; derive = the roll-up tables "
                     "(review_codes, episode_codes, coding_codes, episode_factor_pattern: about 430 rows per review) "
                     "built in a scratch database and appended; commit = DuckDB writing it all to disk.")
    else:
        lines.append("Goal: 10,000 reviews in under 5 s on 2 cores (run with 10000 in --sizes to check it).")
    write_section("Loading", "\n".join(lines))


if __name__ == "__main__":
    main()

"""REFI-QDA project import speed: 1,000 reviews of about 60 codings each (issue 10).

Goal: `import qdpx` of a project of 1,000 Cases (about 60 codings each) in under 10 s on 2 cores.
The project is written as plain XML by the tests' own builder (tests/ingest/refiqda_project.py),
not by lt-workbench: each Case has 8 key practice episodes (episode + practice code), 13 factor
selections (factor + influence) overlapping them, 8 pattern selections (pattern + direction),
3 practice points: 61 codings. Baselines timed in the same run: opening and parsing the project
(`read_project`, the XML alone) and loading the written documents (`load`). Writes the
"REFI-QDA import" section of RESULTS.md.

    .venv/bin/python benchmarks/bench_import_qdpx.py [--reviews 1000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(ROOT))
from _common import machine, write_section  # noqa: E402

from lt_workbench.ingest.qdpx import read_project  # noqa: E402
from lt_workbench.ingest.refiqda import import_projects  # noqa: E402
from lt_workbench.model.load import load  # noqa: E402
from tests.ingest.refiqda_project import CaseSpec, ProjectSpec, Sel, Src, qdpx_bytes, sample_project, variables  # noqa: E402

FACTORS = ["FL.IA Inter-agency/inter-professional team factors", "NG.POL.04 Tools: assessment framework and forms; ICT systems",
           "FL.IA.04 Information sharing", "FL.WORK.03 Workload (renamed in the tool)"]
PATTERNS = ["P1.3.1 Revision becomes an interruption in the flow of practice", "P4.2 Clarity of roles and responsibilities",
            "P6.4 Tunnel vision", "P2.1.2 Gaps in service provision"]
PRACTICE = ["Good practice", "Problematic practice", "Mixed practice"]


def case(i: int) -> CaseSpec:
    """One synthetic review: 8 episodes of about 600 characters each, factors and patterns over them."""
    paras, sels = [], []
    for e in range(8):
        day = 1 + (i + e) % 27
        head = f"Episode {e + 1} of case {i}: on {day:02d}/{1 + e:02d}/2019 the practitioner met the family."
        body = f" Notes for episode {e + 1} of case {i}. " + "The record describes what happened and why. " * 12
        paras.append(head + body)
    text = "\n".join(paras)
    for e, para in enumerate(paras):
        sels.append(Sel(para, {"Ann": ["Key practice episode", PRACTICE[(i + e) % 3]]}, memo=f"Episode {e + 1}"))
    for f in range(13):
        para = paras[f % 8]
        phrase = f"Notes for episode {f % 8 + 1} of case {i}." if f < 8 else para[:40]
        sels.append(Sel(phrase, {"Ann": [FACTORS[(i + f) % 4], "Hindering" if f % 2 else "Supporting"]}))
    for p in range(8):
        sels.append(Sel(paras[p][:60], {"Ann": [PATTERNS[(i + p) % 4], "Unsafe" if p % 3 else "Constructive"]}))
    sels[0].codes["Ann"] += ["D04 Assessment"]
    sels[1].codes["Ann"] += ["D04 Assessment"]
    sels[2].codes["Ann"] += ["D04 Assessment"]
    return CaseSpec(f"Child {i}", variables(f"SYN-BENCH-{i:05d}", **{"dates.completed": "2020-06-30"}), [Src(f"report {i}.txt", text, sels, inline=i % 2 == 0)])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--reviews", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    spec = ProjectSpec(["Ann"], sample_project().codes, [case(i) for i in range(args.reviews)])
    n_codings = sum(len(v) for c in spec.cases for s in c.sources for sel in s.selections for v in sel.codes.values())
    work = Path(tempfile.mkdtemp(prefix="lt-bench-qdpx-"))
    try:
        path = work / "bench.qdpx"
        t0 = time.perf_counter()
        path.write_bytes(qdpx_bytes(spec))
        built = time.perf_counter() - t0
        del spec  # the description's 60,000 objects would slow every cyclic GC pass of the timed runs
        gc.collect()
        load_before = os.getloadavg()[0]
        parse, full, loads, cpu = [], [], [], []
        for r in range(args.repeat):
            t0 = time.perf_counter()
            read_project(path)
            parse.append(time.perf_counter() - t0)
            out = work / f"out{r}"
            t0, c0 = time.perf_counter(), time.process_time()
            result = import_projects([path], out)
            full.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
            assert not result.problems, [str(p) for p in result.problems[:5]]
            assert len(result.written) == args.reviews
            t0 = time.perf_counter()
            loaded = load([out], work / f"b{r}.duckdb", progress=False)
            loads.append(time.perf_counter() - t0)
            assert not loaded.rejected
            shutil.rmtree(out)
        load_after = os.getloadavg()[0]
        med_parse, med_full, med_load = (statistics.median(x) for x in (parse, full, loads))
        size = path.stat().st_size
        med_cpu = statistics.median(cpu)
        if med_full < 10:
            goal = f"met ({med_full:.1f} s)"
        elif med_cpu < 10:
            goal = (f"met in CPU time ({med_cpu:.1f} s of one core); not shown in wall time ({med_full:.1f} s) at load average "
                    f"{max(load_before, load_after):.0f} on 2 cores shared with other work: re-time on an idle machine")
        else:
            goal = f"NOT met ({med_full:.1f} s, CPU {med_cpu:.1f} s)"
        body = f"""Machine: {machine()}.
Project: {args.reviews:,} Cases, {n_codings:,} codings ({n_codings / args.reviews:.0f} per review), 8 episodes, 13 factor
and 8 pattern selections per review, half the sources inline and half as sources/*.txt; written as plain XML by
tests/ingest/refiqda_project.py in {built:.1f} s; {size / 1e6:.1f} MB zipped.
Method: median of {args.repeat} runs of `import_projects` (zip checks, lxml parse, mapping, validation of every
document, JSON written). Baselines in the same run: `read_project` alone (zip checks + XML parse) and `load` of the
documents written. Load average (1 min) {load_before:.1f} before and {load_after:.1f} after: other engineers' work shares the
2 cores, so wall times are inflated by about the load over 2; the import is single-process, and its CPU seconds (process time)
are given beside its wall time.

| step | median s | range s | ratio to import |
|---|---|---|---|
| read_project (baseline: zip + XML only) | {med_parse:.2f} | {min(parse):.2f}–{max(parse):.2f} | {med_parse / med_full:.2f} |
| import qdpx ({args.reviews:,} reviews) | {med_full:.2f} (CPU {med_cpu:.2f}) | {min(full):.2f}–{max(full):.2f} | 1.00 |
| load of the written documents (baseline) | {med_load:.2f} | {min(loads):.2f}–{max(loads):.2f} | {med_load / med_full:.2f} |

Goal (1,000 reviews of about 60 codings imported in under 10 s on 2 cores): {goal}.
"""
        print(body)
        write_section("REFI-QDA import", body)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

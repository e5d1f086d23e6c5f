"""Excel coding workbook import speed: 1,000 filled workbooks, one review each (issue 11).

Goal: `import xlsx` of 1,000 workbooks made by `template xlsx` and filled in (one review each) in
under 20 s on 2 cores. Workbooks: the first N sample reviews typed into the template with openpyxl as
a user would (labels from the drop-downs, tests/ingest/office_fill.py); to reach 1,000 distinct reviews
quickly, each filled workbook is copied with its review_id rewritten inside the zip (the sheets' XML).
Baselines timed in the same run: reading every cell of the same workbooks with openpyxl (read-only
mode), the slow reader python-calamine replaces; and `load` of the written documents. Writes the
"Excel import" section of RESULTS.md.

    .venv/bin/python benchmarks/bench_import_xlsx.py [--workbooks 1000] [--distinct 50] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(ROOT))
from _common import machine, write_section  # noqa: E402

from lt_workbench.ingest.xlsx import import_workbooks, write_template  # noqa: E402
from lt_workbench.model.load import load  # noqa: E402
from tests.ingest.office_fill import fill  # noqa: E402


def make_workbooks(folder: Path, n: int, distinct: int) -> list[Path]:
    """n filled workbooks of distinct review ids, from `distinct` reviews typed into the template."""
    template = write_template(folder / "template.xlsx")
    docs = [json.loads(p.read_text(encoding="utf-8")) for p in sorted((ROOT / "data" / "sample").glob("SYN-*.json"))[:distinct]]
    seeds = [(d["review_id"], fill(template, [d], folder / f"seed-{k}.xlsx")) for k, d in enumerate(docs)]
    out = []
    for i in range(n):
        rid, seed = seeds[i % len(seeds)]
        new_id = f"{rid}-{i:04d}"
        target = folder / "books" / f"{new_id}.xlsx"
        target.parent.mkdir(exist_ok=True)
        with zipfile.ZipFile(seed) as src, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as dst:
            for item in src.infolist():
                data = src.read(item.filename)
                if item.filename == "xl/sharedStrings.xml" or item.filename.startswith("xl/worksheets/sheet"):
                    data = data.replace(f">{rid}<".encode(), f">{new_id}<".encode())
                dst.writestr(item, data)
        out.append(target)
    return out


def _cpu() -> float:
    """CPU seconds (user + system) of this process and its finished children (the import's worker processes)."""
    import resource

    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def openpyxl_read(paths: list[Path]) -> int:
    import openpyxl

    cells = 0
    for p in paths:
        wb = openpyxl.load_workbook(p, read_only=True, data_only=True)
        for name in ("Review", "Children", "Episodes", "Factors", "Patterns", "Recommendations"):
            for row in wb[name].iter_rows(values_only=True):
                cells += len(row)
        wb.close()
    return cells


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workbooks", type=int, default=1000)
    ap.add_argument("--distinct", type=int, default=50)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    load_before = os.getloadavg()[0]
    tmp = Path(tempfile.mkdtemp(prefix="bench-xlsx-"))
    try:
        t0 = time.perf_counter()
        books = make_workbooks(tmp, args.workbooks, args.distinct)
        made = time.perf_counter() - t0
        times, cpus = [], []
        for r in range(args.repeat):
            out = tmp / f"out{r}"
            c0 = _cpu()
            t0 = time.perf_counter()
            result = import_workbooks(books, out)
            times.append(time.perf_counter() - t0)
            cpus.append(_cpu() - c0)
            assert result.exit_code == 0 and len(result.written) == args.workbooks, result.summary()
        sample = books[: max(1, args.workbooks // 10)]
        t0 = time.perf_counter()
        openpyxl_read(sample)
        opx = (time.perf_counter() - t0) * len(books) / len(sample)
        t0 = time.perf_counter()
        loaded = load([tmp / "out0"], db=tmp / "b.duckdb", progress=False)
        load_s = time.perf_counter() - t0
        assert loaded.exit_code == 0
        load_after = os.getloadavg()[0]
        med = statistics.median(times)
        body = f"""
Machine: {machine()}; python-calamine, openpyxl 3.1.5.
Workbooks: {args.workbooks:,} made by `template xlsx` and filled with openpyxl (labels from the drop-downs), one review each
({args.distinct} sample reviews typed in, copied with the review_id rewritten); made in {made:.1f} s.
Method: `import_workbooks` (bounded-zip check, calamine read, label resolution, build and validate each document, write
JSON), {args.repeat} runs; baselines in the same run: reading every cell of the same workbooks with openpyxl read-only
(timed on {len(sample)} and scaled), and `load` of the {args.workbooks:,} written documents.
Load average (1 min) {load_before:.1f} before and {load_after:.1f} after: other work shares the 2 cores.

| step | seconds | ratio to import |
|---|---|---|
| import xlsx, {args.workbooks:,} workbooks (median of {args.repeat}; runs {', '.join(f'{t:.1f}' for t in times)}) | {med:.1f} | 1.00 |
| CPU time of the import (user + system, all processes; median) | {statistics.median(cpus):.1f} | {statistics.median(cpus) / med:.2f} |
| openpyxl read-only, cells only (scaled from {len(sample)}) | {opx:.1f} | {opx / med:.2f} |
| load the written documents | {load_s:.1f} | {load_s / med:.2f} |

Goal (1,000 workbooks under 20 s on 2 cores): {'met' if med < 20 and args.workbooks >= 1000 else 'not met'} ({med:.1f} s wall
at this load; the import needed {statistics.median(cpus):.1f} CPU seconds, so with the 2 cores free we estimate about {statistics.median(cpus) / 2:.1f} s: an estimate, not a measurement).
"""
        write_section("Excel import", body)
        print(body)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

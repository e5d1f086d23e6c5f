"""Shared by the benchmark scripts: describe the machine, keep RESULTS.md sections apart."""

from __future__ import annotations

import os
import platform
import re
import statistics
import time
from importlib.metadata import version
from pathlib import Path
from typing import Callable

RESULTS = Path(__file__).with_name("RESULTS.md")


def machine() -> str:
    """One line naming the CPU, cores, memory and the versions that matter."""
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "?"
    try:
        kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))  # type: ignore[union-attr]
        mem = f"{kb / 1024 / 1024:.0f} GiB"
    except (OSError, AttributeError):
        pass
    libs = ", ".join(f"{p} {version(p)}" for p in ("duckdb", "pandas", "orjson", "jsonschema-rs", "jsonschema"))
    return f"{cpu}; {os.cpu_count()} cores; {mem} RAM; Python {platform.python_version()}; {libs}"


def median_time(fn: Callable[[], object], repeat: int = 5) -> float:
    """Median wall time of `repeat` calls, in seconds."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def write_section(title: str, body: str) -> None:
    """Replace (or append) the `## title` section of RESULTS.md, leaving other sections alone."""
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n\nWritten by the scripts in this folder; each section names its machine.\n"
    start_marker = f"<!-- {title}:start -->"
    end_marker = f"<!-- {title}:end -->"
    block = f"{start_marker}\n## {title}\n\n{body.strip()}\n{end_marker}"
    if start_marker in text and end_marker in text:
        before = text.split(start_marker)[0]
        after = text.split(end_marker, 1)[1]
        text = before + block + after
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    RESULTS.write_text(text, encoding="utf-8")

"""What data a result was computed from: counts, last load, a content hash. Reports print it on page one."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from lt_workbench.model.db import connect

__all__ = ["snapshot"]


def snapshot(db: str | Path | None = None) -> dict[str, Any]:
    """Reviews and children loaded, last load time, taxonomy versions and a content hash.

    The hash covers every loaded review's file sha256 (sorted by review id), so two databases
    with the same reviews give the same hash whatever order they were loaded in.
    """
    con = connect(db, read_only=True)
    try:
        rows = con.execute("SELECT review_id, sha256 FROM reviews ORDER BY review_id").fetchall()
        digest = hashlib.sha256("".join(f"{r}:{s}\n" for r, s in rows).encode()).hexdigest()
        n_children = con.execute("SELECT count(*) FROM children").fetchall()[0][0]
        last = con.execute("SELECT max(finished_at) FROM loads").fetchall()[0][0]
        versions = [v for (v,) in con.execute("SELECT DISTINCT taxonomy_version FROM reviews ORDER BY 1").fetchall()]
        years = con.execute("SELECT min(year), max(year) FROM reviews").fetchall()[0]
    finally:
        con.close()
    return {
        "database": str(db) if db else "default",
        "reviews": len(rows),
        "children": n_children,
        "years": f"{years[0]}–{years[1]}" if years and years[0] is not None else "none",
        "last_load": last.isoformat(sep=" ", timespec="seconds") if last else "never",
        "content_hash": digest[:16],
        "taxonomy_versions": ", ".join(versions) or "none",
    }

"""What data a result was computed from, and whether newer data has been published since.

`snapshot(db)` gives what reports print on page one (counts, last load, content hash, snapshot id).
The explorer and reports keep the id of the snapshot they opened (`connection_snapshot(con)`) and
ask `newer_snapshot(db, seen)` at their next refresh: a stat and a small JSON read, no DuckDB
connection, so it can be asked every few seconds. A reader's connection keeps its snapshot until
it is closed; to see new data, close it and connect again.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import duckdb

from lt_workbench.config import DEFAULT_DB
from lt_workbench.exceptions import DatabaseDamaged, DatabaseError
from lt_workbench.model.db import connect
from lt_workbench.model.files import SnapshotInfo, entry_for, explain, file_sha256, rebuild_hint
from lt_workbench.model.publish import content_hash

__all__ = ["snapshot", "SnapshotInfo", "current_snapshot", "connection_snapshot", "newer_snapshot", "verify_file"]


def _path(db: str | Path | None) -> Path:
    return Path(db) if db is not None else DEFAULT_DB


def current_snapshot(db: str | Path | None = None) -> SnapshotInfo | None:
    """The published snapshot (id, time, size, checksums), or None when the database has no manifest
    (never loaded by this version, or written in place since)."""
    path = _path(db)
    try:
        return entry_for(path, path.stat().st_ino)
    except OSError:
        return None


def connection_snapshot(con: duckdb.DuckDBPyConnection) -> str | None:
    """The id of the snapshot an open connection reads (None for a database written in place)."""
    try:
        rows = con.execute("SELECT value FROM workbench_meta WHERE key = 'snapshot_id'").fetchall()
    except duckdb.Error:
        return None
    return str(rows[0][0]) if rows else None


def newer_snapshot(db: str | Path | None, seen: str | None) -> SnapshotInfo | None:
    """The published snapshot when it is not the one with id `seen` (the explorer's "new data loaded —
    refresh"), else None."""
    now = current_snapshot(db)
    return now if now is not None and now.snapshot_id != seen else None


def verify_file(db: str | Path | None = None) -> str:
    """Read the whole file and compare it with its manifest entry: a sentence saying it matches, or
    that no checksum is recorded. Raises DatabaseDamaged (with the rebuild command) when it does not."""
    path = _path(db)
    try:
        with open(path, "rb") as f:
            st = os.fstat(f.fileno())
            entry = entry_for(path, st.st_ino)
            digest = file_sha256(f) if entry is not None else ""
    except FileNotFoundError:
        raise DatabaseError(f"database {path} does not exist: load reviews first with `lt-workbench load PATH --db {path}`") from None
    except OSError as e:
        raise explain(path, e, "cannot read") from e
    if entry is None:
        return "no checksum recorded (the file was written in place, or by an older version)"
    if entry.size != st.st_size or entry.sha256 != digest:
        raise DatabaseDamaged(
            f"{path} is damaged: its contents no longer match snapshot {entry.snapshot_id} as published "
            f"({st.st_size} bytes now, {entry.size} published; checksum differs; or another program wrote to it in place); {rebuild_hint(path)}"
        )
    return f"matches snapshot {entry.snapshot_id} as published"


def snapshot(db: str | Path | None = None, *, verify: bool = False) -> dict[str, Any]:
    """Reviews and children loaded, last load time, taxonomy versions, a content hash and the snapshot id.

    The content hash covers every loaded review's file sha256 (sorted by review id), so two databases
    with the same reviews give the same hash whatever order they were loaded in. With `verify`, the
    whole file is first checked against its published checksum (`lt-workbench info` does this).
    """
    check = verify_file(db) if verify else None
    con = connect(db, read_only=True)
    try:
        digest, n_reviews = content_hash(con)
        n_children = con.execute("SELECT count(*) FROM children").fetchall()[0][0]
        last = con.execute("SELECT max(finished_at) FROM loads").fetchall()[0][0]
        versions = [v for (v,) in con.execute("SELECT DISTINCT taxonomy_version FROM reviews ORDER BY 1").fetchall()]
        years = con.execute("SELECT min(year), max(year) FROM reviews").fetchall()[0]
        sid = connection_snapshot(con)
    except duckdb.Error as e:
        raise explain(_path(db), e, "cannot read") from e
    finally:
        con.close()
    out: dict[str, Any] = {
        "database": str(db) if db else "default",
        "reviews": n_reviews,
        "children": n_children,
        "years": f"{years[0]}–{years[1]}" if years and years[0] is not None else "none",
        "last_load": last.isoformat(sep=" ", timespec="seconds") if last else "never",
        "content_hash": digest,
        "taxonomy_versions": ", ".join(versions) or "none",
        "snapshot": sid or "none (written in place)",
    }
    if check is not None:
        out["file_check"] = check
    return out

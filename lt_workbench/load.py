"""Load validated reviews into DuckDB in one transaction.

Files → check (validate.py) → rows → one transaction: insert new reviews, replace changed ones
(recording the change), skip unchanged ones (same sha256), record every rejection in
`load_errors`, rebuild the derived tables. Any failure rolls the whole load back, so the
database is either as it was or fully updated — never half-written.
"""

from __future__ import annotations

import datetime as dt
import glob
import json
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version as _dist_version
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import duckdb
import pandas as pd
from tqdm import tqdm

from .config import DEFAULT_TAXONOMY_VERSION, FORMAT
from .db import connect, refresh_derived
from .exceptions import LoadError
from .validate import Checked, Problem, check_file

__all__ = ["collect_paths", "check_paths", "load", "LoadResult", "REVIEW_TABLES", "package_version"]

# Tables holding one review's rows, all keyed by review_id: a replacement deletes from each.
REVIEW_TABLES = (
    "reviews", "review_family_factors", "review_agencies", "children", "child_harm_types", "episodes",
    "episode_agencies", "factor_codings", "pattern_findings", "pattern_episodes", "recommendations",
    "recommendation_patterns", "practice_points",
)

# Below this many files a process pool costs more than it saves.
_PARALLEL_FROM = 400


def package_version() -> str:
    try:
        return _dist_version("lt-workbench")
    except PackageNotFoundError:  # running from a source tree without an install
        return "0+unknown"


def collect_paths(inputs: Iterable[str | Path]) -> list[Path]:
    """Files, folders (recursively, *.json) and globs → a sorted, de-duplicated list of files.

    Raises LoadError for an input that matches nothing, so a typo never silently loads nothing.
    """
    found: set[Path] = set()
    for raw in inputs:
        text = str(raw)
        p = Path(text)
        if p.is_dir():
            found.update(q for q in p.rglob("*.json") if q.is_file())
        elif p.is_file():
            found.add(p)
        elif glob.has_magic(text):
            matches = [Path(m) for m in glob.glob(text, recursive=True)]
            files = {m for m in matches if m.is_file()}
            for m in matches:
                if m.is_dir():
                    files.update(q for q in m.rglob("*.json") if q.is_file())
            if not files:
                raise LoadError(f"{text}: the pattern matches no files")
            found.update(files)
        else:
            raise LoadError(f"{text}: no such file or folder")
    return sorted(found, key=lambda q: str(q))


def check_paths(paths: Sequence[Path], *, progress: bool | None = None, workers: int | None = None) -> list[Checked]:
    """Check every file (in parallel for large batches), then flag review ids repeated within the batch."""
    show = sys.stderr.isatty() if progress is None else progress
    n_workers = workers if workers is not None else (os.cpu_count() or 1)
    if len(paths) >= _PARALLEL_FROM and n_workers > 1:
        with ProcessPoolExecutor(max_workers=n_workers) as pool:
            results = list(
                tqdm(pool.map(check_file, paths, chunksize=64), total=len(paths), disable=not show, desc="checking", unit="file")
            )
    else:
        results = [check_file(p) for p in tqdm(paths, disable=not show, desc="checking", unit="file")]
    first_seen: dict[str, str] = {}
    for c in results:
        rid = c.review_id
        if rid is None or not c.ok:
            continue
        if rid in first_seen:
            c.problems.append(
                Problem(c.source, "/review_id", f"review_id {rid!r} is also used by {first_seen[rid]} in this batch; review ids must be unique")
            )
        else:
            first_seen[rid] = c.source
    return results


@dataclass
class LoadResult:
    """What a load did. `exit_code` follows the CLI contract: 0 all loaded, 1 some rejected."""

    load_id: int
    db: str
    n_files: int
    inserted: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    rejected: list[Checked] = field(default_factory=list)

    @property
    def problems(self) -> list[Problem]:
        return [p for c in self.rejected for p in c.problems]

    @property
    def exit_code(self) -> int:
        return 1 if self.rejected else 0

    def summary(self) -> str:
        return (
            f"load {self.load_id} into {self.db}: {self.n_files} files; {len(self.inserted)} new, "
            f"{len(self.replaced)} replaced, {len(self.unchanged)} unchanged, {len(self.rejected)} rejected"
        )


class _Rows:
    """Column-wise buffers for every review table, filled document by document."""

    def __init__(self) -> None:
        self.tables: dict[str, list[dict[str, Any]]] = {t: [] for t in REVIEW_TABLES}

    def add(self, table: str, **row: Any) -> None:
        self.tables[table].append(row)

    def review(self, c: Checked, load_id: int, loaded_at: dt.datetime) -> None:
        d = c.doc
        assert d is not None
        rid = d["review_id"]
        dates = d["dates"]
        completed = dt.date.fromisoformat(dates["completed"])
        ff = d.get("family_factors")
        self.add(
            "reviews",
            review_id=rid, title=d["title"], review_type=d["review_type"], method=d["method"],
            area_code=d["area"]["code"], area_name=d["area"]["name"], region=d["area"]["region"], nation=d["area"]["nation"],
            commissioned=_date(dates.get("commissioned")), completed=completed, published=_date(dates.get("published")),
            year=completed.year, trigger_reason=d["trigger"]["reason"], trigger_question=d["trigger"].get("question"),
            intervention_level=d.get("intervention_level"), quality_grade=d.get("quality_grade"),
            family_factors_recorded=ff is not None, n_children=len(d["children"]), n_episodes=len(d["episodes"]),
            format=d.get("format", FORMAT), taxonomy_version=d.get("taxonomy_version") or DEFAULT_TAXONOMY_VERSION,
            source_path=c.source, sha256=c.sha256, load_id=load_id, loaded_at=loaded_at,
        )
        for code in ff or []:
            self.add("review_family_factors", review_id=rid, code=code)
        for code in d.get("agencies") or []:
            self.add("review_agencies", review_id=rid, code=code)
        for n, child in enumerate(d["children"], start=1):
            self.add("children", review_id=rid, child_no=n, age_band=child["age_band"], sex=child["sex"], outcome=child["outcome"])
            for code in child.get("harm_types") or []:
                self.add("child_harm_types", review_id=rid, child_no=n, code=code)
        for n, ep in enumerate(d["episodes"], start=1):
            eid = ep["episode_id"]
            self.add(
                "episodes", review_id=rid, episode_id=eid, episode_no=n, title=ep.get("title"),
                start_date=_date(ep["start"]), end_date=_date(ep.get("end")), description=ep.get("description"),
                significance=ep.get("significance"), practice=ep["practice"], judgement=ep.get("judgement"),
            )
            for code in ep.get("agencies") or []:
                self.add("episode_agencies", review_id=rid, episode_id=eid, code=code)
            for k, f in enumerate(ep.get("factors") or [], start=1):
                self.add("factor_codings", review_id=rid, episode_id=eid, coding_no=k, code=f["code"], influence=f["influence"], note=f.get("note"))
        for n, pat in enumerate(d.get("patterns") or [], start=1):
            self.add(
                "pattern_findings", review_id=rid, finding_no=n, code=pat["code"], direction=pat["direction"],
                priority=pat.get("priority"), finding=pat.get("finding"), proposed_label=pat.get("proposed_label"),
            )
            for eid in dict.fromkeys(pat["episodes"]):
                self.add("pattern_episodes", review_id=rid, finding_no=n, episode_id=eid)
        for n, rec in enumerate(d.get("recommendations") or [], start=1):
            self.add(
                "recommendations", review_id=rid, rec_id=rec["rec_id"], rec_no=n, text=rec.get("text"), kind=rec["kind"],
                level=rec["level"], agency=rec.get("agency"), lead_role=rec.get("lead_role"), due=_date(rec.get("due")),
                status=rec["status"],
            )
            for code in dict.fromkeys(rec.get("patterns") or []):
                self.add("recommendation_patterns", review_id=rid, rec_id=rec["rec_id"], code=code)
        for code in d.get("practice_points") or []:
            self.add("practice_points", review_id=rid, code=code)


def _date(value: Any) -> dt.date | None:
    return dt.date.fromisoformat(value) if isinstance(value, str) else None


def _insert(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    frame = pd.DataFrame.from_records(rows)
    con.register("_incoming", frame)
    try:
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _incoming")  # table names come from REVIEW_TABLES
    finally:
        con.unregister("_incoming")


def load(
    inputs: Iterable[str | Path],
    db: str | Path | None = None,
    *,
    progress: bool | None = None,
    workers: int | None = None,
    _before_commit: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
) -> LoadResult:
    """Validate and load review files into the database in one transaction.

    Valid documents load even when others are rejected; rejections are returned and kept in
    `load_errors`. Raises LoadError when the load cannot run at all (bad path, database
    error); the database is then unchanged. `_before_commit` is a test hook to simulate an
    interruption at the last moment.
    """
    paths = collect_paths(inputs)
    checked = check_paths(paths, progress=progress, workers=workers)
    con = connect(db)
    try:
        return _load_checked(con, checked, [str(i) for i in inputs], str(db) if db else "default", _before_commit)
    finally:
        con.close()


def _load_checked(
    con: duckdb.DuckDBPyConnection,
    checked: list[Checked],
    inputs: list[str],
    db_label: str,
    before_commit: Callable[[duckdb.DuckDBPyConnection], None] | None,
) -> LoadResult:
    existing = {
        rid: (sha, src) for rid, sha, src in con.execute("SELECT review_id, sha256, source_path FROM reviews").fetchall()
    }
    started = dt.datetime.now()
    con.execute("BEGIN TRANSACTION")
    try:
        load_id = con.execute("SELECT coalesce(max(load_id), 0) + 1 FROM loads").fetchall()[0][0]
        result = LoadResult(load_id=load_id, db=db_label, n_files=len(checked))
        rows = _Rows()
        changes = []
        for c in checked:
            if not c.ok:
                result.rejected.append(c)
                continue
            rid = c.review_id
            assert rid is not None
            if rid in existing:
                old_sha, old_src = existing[rid]
                if old_sha == c.sha256:
                    result.unchanged.append(rid)
                    continue
                result.replaced.append(rid)
                changes.append(
                    dict(load_id=load_id, review_id=rid, old_sha256=old_sha, new_sha256=c.sha256, old_source=old_src, new_source=c.source, changed_at=started)
                )
            else:
                result.inserted.append(rid)
            rows.review(c, load_id, started)
        if result.replaced:
            con.register("_replaced", pd.DataFrame({"review_id": result.replaced}))
            for table in REVIEW_TABLES:
                con.execute(f"DELETE FROM {table} WHERE review_id IN (SELECT review_id FROM _replaced)")
            con.unregister("_replaced")
        for table, table_rows in rows.tables.items():
            _insert(con, table, table_rows)
        _insert(con, "review_changes", changes)
        errors = [
            dict(load_id=load_id, source_path=c.source, error_no=k, pointer=p.pointer, message=p.message, review_id=c.review_id)
            for c in result.rejected
            for k, p in enumerate(c.problems, start=1)
        ]
        _insert(con, "load_errors", errors)
        if result.inserted or result.replaced:
            refresh_derived(con)
        con.execute(
            "INSERT INTO loads VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [load_id, started, dt.datetime.now(), package_version(), json.dumps(inputs), len(checked),
             len(result.inserted), len(result.replaced), len(result.unchanged), len(result.rejected)],
        )
        if before_commit is not None:
            before_commit(con)
        con.execute("COMMIT")
    except BaseException as e:
        con.execute("ROLLBACK")
        if isinstance(e, (duckdb.Error,)):
            raise LoadError(f"the load was rolled back, the database is unchanged: {e}") from e
        raise
    return result

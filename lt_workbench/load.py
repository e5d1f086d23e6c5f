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
import pyarrow as pa
import pyarrow.compute as pc
from tqdm import tqdm

from .config import DEFAULT_TAXONOMY_VERSION, FORMAT
from .db import connect, derive_incoming
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


@dataclass
class _Chunk:
    """One worker's share: the checked files (documents dropped) and the rows of the valid ones."""

    checked: list[Checked]
    tables: dict[str, pa.Table]


def _check_chunk(job: tuple[int, list[Path]]) -> _Chunk:
    """Check files and shape the valid ones into columnar rows tagged with their batch index `_doc`.

    Runs in a worker process for large batches: only Arrow tables and small records travel back.
    """
    first, paths = job
    rows = _Columns()
    checked = []
    for offset, path in enumerate(paths):
        c = check_file(path)
        if c.ok:
            rows.review(c, first + offset)
        c.doc = None
        checked.append(c)
    return _Chunk(checked, rows.to_arrow())


def _jobs(paths: Sequence[Path], n_chunks: int) -> list[tuple[int, list[Path]]]:
    size = max(1, -(-len(paths) // n_chunks))
    return [(i, list(paths[i : i + size])) for i in range(0, len(paths), size)]


def _check_all(paths: Sequence[Path], *, progress: bool | None, workers: int | None) -> list[_Chunk]:
    show = sys.stderr.isatty() if progress is None else progress
    n_workers = workers if workers is not None else (os.cpu_count() or 1)
    bar = tqdm(total=len(paths), disable=not show or len(paths) < 50, desc="checking", unit="file")
    chunks: list[_Chunk] = []
    try:
        if len(paths) >= _PARALLEL_FROM and n_workers > 1:
            with ProcessPoolExecutor(max_workers=n_workers) as pool:
                for chunk in pool.map(_check_chunk, _jobs(paths, n_workers * 8)):
                    chunks.append(chunk)
                    bar.update(len(chunk.checked))
        else:
            for job in _jobs(paths, max(1, len(paths) // 100)):
                chunk = _check_chunk(job)
                chunks.append(chunk)
                bar.update(len(chunk.checked))
    finally:
        bar.close()
    _flag_repeated_ids([c for chunk in chunks for c in chunk.checked])
    return chunks


def _flag_repeated_ids(checked: list[Checked]) -> None:
    """A review id given twice in one batch: the first file (in path order) wins, the rest are rejected."""
    first_seen: dict[str, str] = {}
    for c in checked:
        rid = c.review_id
        if rid is None or not c.ok:
            continue
        if rid in first_seen:
            c.problems.append(
                Problem(c.source, "/review_id", f"review_id {rid!r} is also used by {first_seen[rid]} in this batch; review ids must be unique")
            )
        else:
            first_seen[rid] = c.source


def check_paths(paths: Sequence[Path], *, progress: bool | None = None, workers: int | None = None) -> list[Checked]:
    """Check every file (in parallel for large batches) without loading; flags ids repeated in the batch."""
    return [c for chunk in _check_all(paths, progress=progress, workers=workers) for c in chunk.checked]


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


class _Columns:
    """Column-wise buffers for every review table, filled document by document, handed over as Arrow."""

    def __init__(self) -> None:
        self.tables: dict[str, dict[str, list[Any]]] = {t: {} for t in REVIEW_TABLES}

    def add(self, table: str, **row: Any) -> None:
        cols = self.tables[table]
        if not cols:
            for k in row:
                cols[k] = []
        for k, v in row.items():
            cols[k].append(v)

    def to_arrow(self) -> dict[str, pa.Table]:
        return {t: pa.table(cols) for t, cols in self.tables.items() if cols}

    def review(self, c: Checked, doc_no: int) -> None:
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
            source_path=c.source, sha256=c.sha256, _doc=doc_no,
        )
        for code in ff or []:
            self.add("review_family_factors", _doc=doc_no, review_id=rid, code=code)
        for code in d.get("agencies") or []:
            self.add("review_agencies", _doc=doc_no, review_id=rid, code=code)
        for n, child in enumerate(d["children"], start=1):
            self.add("children", _doc=doc_no, review_id=rid, child_no=n, age_band=child["age_band"], sex=child["sex"], outcome=child["outcome"])
            for code in child.get("harm_types") or []:
                self.add("child_harm_types", _doc=doc_no, review_id=rid, child_no=n, code=code)
        for n, ep in enumerate(d["episodes"], start=1):
            eid = ep["episode_id"]
            self.add(
                "episodes", _doc=doc_no, review_id=rid, episode_id=eid, episode_no=n, title=ep.get("title"),
                start_date=_date(ep["start"]), end_date=_date(ep.get("end")), description=ep.get("description"),
                significance=ep.get("significance"), practice=ep["practice"], judgement=ep.get("judgement"),
            )
            for code in ep.get("agencies") or []:
                self.add("episode_agencies", _doc=doc_no, review_id=rid, episode_id=eid, code=code)
            for k, f in enumerate(ep.get("factors") or [], start=1):
                self.add("factor_codings", _doc=doc_no, review_id=rid, episode_id=eid, coding_no=k, code=f["code"], influence=f["influence"], note=f.get("note"))
        for n, pat in enumerate(d.get("patterns") or [], start=1):
            self.add(
                "pattern_findings", _doc=doc_no, review_id=rid, finding_no=n, code=pat["code"], direction=pat["direction"],
                priority=pat.get("priority"), finding=pat.get("finding"), proposed_label=pat.get("proposed_label"),
            )
            for eid in dict.fromkeys(pat["episodes"]):
                self.add("pattern_episodes", _doc=doc_no, review_id=rid, finding_no=n, episode_id=eid)
        for n, rec in enumerate(d.get("recommendations") or [], start=1):
            self.add(
                "recommendations", _doc=doc_no, review_id=rid, rec_id=rec["rec_id"], rec_no=n, text=rec.get("text"), kind=rec["kind"],
                level=rec["level"], agency=rec.get("agency"), lead_role=rec.get("lead_role"), due=_date(rec.get("due")),
                status=rec["status"],
            )
            for code in dict.fromkeys(rec.get("patterns") or []):
                self.add("recommendation_patterns", _doc=doc_no, review_id=rid, rec_id=rec["rec_id"], code=code)
        for code in d.get("practice_points") or []:
            self.add("practice_points", _doc=doc_no, review_id=rid, code=code)


def _date(value: Any) -> dt.date | None:
    return dt.date.fromisoformat(value) if isinstance(value, str) else None


def _insert(con: duckdb.DuckDBPyConnection, table: str, rows: pa.Table | list[dict[str, Any]]) -> None:
    """Append rows by column name; `table` always comes from this module's fixed lists."""
    data = rows if isinstance(rows, pa.Table) else pa.Table.from_pylist(rows)
    if data.num_rows == 0:
        return
    con.register("_incoming", data)
    try:
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _incoming")
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
    inputs = list(inputs)
    paths = collect_paths(inputs)
    chunks = _check_all(paths, progress=progress, workers=workers)
    con = connect(db)
    try:
        return _write(con, chunks, [str(i) for i in inputs], str(db) if db else "default", _before_commit)
    finally:
        con.close()


def _write(
    con: duckdb.DuckDBPyConnection,
    chunks: list[_Chunk],
    inputs: list[str],
    db_label: str,
    before_commit: Callable[[duckdb.DuckDBPyConnection], None] | None,
) -> LoadResult:
    existing = {
        rid: (sha, src) for rid, sha, src in con.execute("SELECT review_id, sha256, source_path FROM reviews").fetchall()
    }
    checked = [c for chunk in chunks for c in chunk.checked]
    started = dt.datetime.now()
    con.execute("BEGIN TRANSACTION")
    try:
        load_id = con.execute("SELECT coalesce(max(load_id), 0) + 1 FROM loads").fetchall()[0][0]
        result = LoadResult(load_id=load_id, db=db_label, n_files=len(checked))
        accepted: list[int] = []
        changes = []
        for doc_no, c in enumerate(checked):
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
            accepted.append(doc_no)
        if result.replaced:
            con.register("_replaced", pa.table({"review_id": result.replaced}))
            for table in REVIEW_TABLES:
                con.execute(f"DELETE FROM {table} WHERE review_id IN (SELECT review_id FROM _replaced)")
        keep = pa.array(accepted, type=pa.int64())
        incoming: dict[str, list[pa.Table]] = {}
        for chunk in chunks:
            for table, data in chunk.tables.items():
                data = data.filter(pc.is_in(data["_doc"], value_set=keep)).drop_columns(["_doc"])
                if table == "reviews":
                    data = data.append_column("load_id", pa.array([load_id] * data.num_rows, pa.int32()))
                    data = data.append_column("loaded_at", pa.array([started] * data.num_rows, pa.timestamp("us")))
                if data.num_rows:
                    _insert(con, table, data)
                    incoming.setdefault(table, []).append(data)
        if incoming:
            for table, data in derive_incoming(incoming).items():
                if result.replaced:
                    con.execute(f"DELETE FROM {table} WHERE review_id IN (SELECT review_id FROM _replaced)")
                _insert(con, table, data)
        _insert(con, "review_changes", changes)
        errors = [
            dict(load_id=load_id, source_path=c.source, error_no=k, pointer=p.pointer, message=p.message, review_id=c.review_id)
            for c in result.rejected
            for k, p in enumerate(c.problems, start=1)
        ]
        _insert(con, "load_errors", errors)
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
        if isinstance(e, duckdb.Error):
            raise LoadError(f"the load was rolled back, the database is unchanged: {e}") from e
        raise
    return result

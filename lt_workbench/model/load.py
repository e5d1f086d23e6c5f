"""Load validated reviews into DuckDB in one transaction.

Files → check (validate.py) and shape into rows, in one worker process per core for large
batches → one transaction: insert new reviews, replace changed ones (recording the change), skip
unchanged ones (same sha256), record every rejection in `load_errors`, append the derived rows
of the reviews taken (db.derive_incoming). Any failure rolls the whole load back, so the
database is either as it was or fully updated — never half-written.
"""

from __future__ import annotations

import datetime as dt
import gc
import glob
import json
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version as _dist_version
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
from tqdm import tqdm

from lt_workbench.config import DEFAULT_TAXONOMY_VERSION, FORMAT
from lt_workbench.model.db import REVIEW_TABLES, connect, derive_incoming, derived_review_tables
from lt_workbench.exceptions import LoadError
from lt_workbench.model.validate import Checked, Problem, check_file
from lt_workbench.model import second as _second

__all__ = ["collect_paths", "check_paths", "load", "LoadResult", "REVIEW_TABLES", "package_version"]

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
            found.update(_json_files(p))
        elif p.is_file():
            found.add(p)
        elif glob.has_magic(text):
            matches = [Path(m) for m in glob.glob(text, recursive=True)]
            files = {m for m in matches if m.is_file()}
            for m in matches:
                if m.is_dir():
                    files.update(_json_files(m))
            if not files:
                raise LoadError(f"{text}: the pattern matches no files")
            found.update(files)
        else:
            raise LoadError(f"{text}: no such file or folder")
    return sorted(found, key=lambda q: str(q))


def _json_files(folder: Path) -> list[Path]:
    """Every *.json file under a folder, as Path.rglob would find them, from directory entries
    alone (no stat per file: a national corpus is tens of thousands of files)."""
    out: list[Path] = []
    stack = [str(folder)]
    while stack:
        with os.scandir(stack.pop()) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                elif entry.name.endswith(".json") and entry.is_file():
                    out.append(Path(entry.path))
    return out


@dataclass
class _Chunk:
    """One worker's share: the checked files (documents dropped) and the rows of the valid ones."""

    checked: list[Checked]
    tables: dict[str, pa.Table]


def _check_chunk(job: tuple[int, list[Path]], shape: bool = True) -> _Chunk:
    """Check files and (when `shape`) turn the valid ones into columnar rows tagged with their batch index `_doc`."""
    first, paths = job
    rows = _Columns()
    checked = []
    for offset, path in enumerate(paths):
        c = check_file(path)
        if c.ok and shape:
            rows.review(c, first + offset)
        c.doc = None
        checked.append(c)
    return _Chunk(checked, rows.to_arrow())


def _check_chunk_in_worker(job: tuple[int, list[Path], bool, str]) -> tuple[list[Checked], dict[str, str]]:
    """Worker side of _check_chunk: the rows go back as Arrow IPC files in `spill_dir` (shared memory
    where the system has it) rather than pickled through the pipe, which for the narrative text of
    thousands of reviews costs as much as checking them; only the small check records are pickled."""
    first, paths, shape, spill_dir = job
    chunk = _check_chunk((first, paths), shape)
    files = {}
    for table, data in chunk.tables.items():
        path = os.path.join(spill_dir, f"{first}-{table}.arrow")
        with pa.OSFile(path, "wb") as sink, pa.ipc.new_file(sink, data.schema) as writer:
            writer.write_table(data)
        files[table] = path
    return chunk.checked, files


def _read_spilled(files: dict[str, str]) -> dict[str, pa.Table]:
    """Map a worker's Arrow files (no copy) and unlink them; the mapping lives as long as the tables."""
    out = {}
    for table, path in files.items():
        out[table] = pa.ipc.open_file(pa.memory_map(path)).read_all()
        try:
            os.unlink(path)
        except OSError:  # a system that cannot unlink a mapped file: the folder is removed at the end
            pass
    return out


def _spill_parent(paths: Sequence[Path] = ()) -> str | None:
    """Shared memory (/dev/shm) when the system has it with room for the batch's rows, else the
    default temporary folder (None). Containers often give /dev/shm only 64 MB; the rows of a
    batch take about as much room as its files, estimated here from a sample of them."""
    shm = "/dev/shm"
    if not (os.path.isdir(shm) and os.access(shm, os.W_OK)):
        return None
    sample = paths[:: max(1, len(paths) // 64)]
    try:
        need = sum(os.path.getsize(p) for p in sample) / max(1, len(sample)) * len(paths)
        room = os.statvfs(shm)
    except OSError:
        return None
    return shm if room.f_bavail * room.f_frsize > 2 * need else None


def _without_cyclic_gc() -> None:
    """Parsed documents and row tuples are millions of small acyclic objects that reference counting
    frees; the cyclic collector's passes over them (and over everything a forked worker inherits)
    would add half again to the time taken. Run as each checking worker starts."""
    gc.disable()


def _shows_progress(progress: bool | None, n_files: int) -> bool:
    """Progress is shown on a terminal (or when asked) for batches of 50 files or more."""
    return (sys.stderr.isatty() if progress is None else progress) and n_files >= 50


def _jobs(paths: Sequence[Path], n_chunks: int) -> list[tuple[int, list[Path]]]:
    size = max(1, -(-len(paths) // n_chunks))
    return [(i, list(paths[i : i + size])) for i in range(0, len(paths), size)]


def _checked_chunks(
    paths: Sequence[Path], *, progress: bool | None, workers: int | None, shape: bool = True
) -> Iterator[_Chunk]:
    """Check every file (in worker processes for large batches), yielding chunks in path order as
    they finish, so the loader sorts one chunk's documents while the workers check the next. With
    `shape`, each chunk also carries the rows of its valid documents. A review id already used
    earlier in the batch is flagged as the chunks go by (the first file in path order wins)."""
    n_workers = workers if workers is not None else (os.cpu_count() or 1)
    first_seen: dict[str, str] = {}
    with tqdm(total=len(paths), disable=not _shows_progress(progress, len(paths)), desc="checking", unit="file") as bar:
        if len(paths) >= _PARALLEL_FROM and n_workers > 1:
            with tempfile.TemporaryDirectory(prefix="lt-workbench-load-", dir=_spill_parent(paths)) as spill, \
                    ProcessPoolExecutor(max_workers=n_workers, initializer=_without_cyclic_gc) as pool:
                jobs = [(first, part, shape, spill) for first, part in _jobs(paths, n_workers * 8)]
                for checked, files in pool.map(_check_chunk_in_worker, jobs):
                    _flag_repeated_ids(checked, first_seen)
                    bar.update(len(checked))
                    yield _Chunk(checked, _read_spilled(files))
        else:
            was_enabled = gc.isenabled()
            _without_cyclic_gc()
            try:
                for job in _jobs(paths, max(1, len(paths) // 100)):
                    chunk = _check_chunk(job, shape)
                    _flag_repeated_ids(chunk.checked, first_seen)
                    bar.update(len(chunk.checked))
                    yield chunk
            finally:
                if was_enabled:
                    gc.enable()


def _flag_repeated_ids(checked: list[Checked], first_seen: dict[str, str]) -> None:
    """A review id given twice in one batch: the first file (in path order) wins, the rest are rejected."""
    for c in checked:
        rid = c.review_id
        if rid is None or not c.ok:
            continue
        if c.second_coder is not None:  # a second coding: unique per (review, coder)
            rid = f"{rid} (second coding by {c.second_coder})"
        if rid in first_seen:
            c.problems.append(
                Problem(c.source, "/review_id", f"review_id {rid!r} is also used by {first_seen[rid]} in this batch; review ids must be unique")
            )
        else:
            first_seen[rid] = c.source


def check_paths(paths: Sequence[Path], *, progress: bool | None = None, workers: int | None = None) -> list[Checked]:
    """Check every file (in parallel for large batches) without loading; flags ids repeated in the batch."""
    return [c for chunk in _checked_chunks(paths, progress=progress, workers=workers, shape=False) for c in chunk.checked]


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
    second: list[str] = field(default_factory=list)  # "review_id coder" of the second codings loaded
    # Seconds spent in each stage (check, insert, derive, commit): where a slow load spends its time.
    timings: dict[str, float] = field(default_factory=dict)

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
            + (f"; {len(self.second)} second codings (kept apart for coder agreement)" if self.second else "")
        )


# Column order of the row tuples built below; `_doc` is the file's index in the batch.
_COLUMNS: dict[str, tuple[str, ...]] = {
    "reviews": (
        "_doc", "review_id", "title", "review_type", "method", "area_code", "area_name", "region", "nation",
        "commissioned", "completed", "published", "year", "trigger_reason", "trigger_question", "intervention_level",
        "quality_grade", "family_factors_recorded", "n_children", "n_episodes", "format", "taxonomy_version",
        "source_path", "sha256",
    ),
    "review_family_factors": ("_doc", "review_id", "code"),
    "review_agencies": ("_doc", "review_id", "code"),
    "children": ("_doc", "review_id", "child_no", "age_band", "sex", "outcome"),
    "child_harm_types": ("_doc", "review_id", "child_no", "code"),
    "episodes": (
        "_doc", "review_id", "episode_id", "episode_no", "title", "start_date", "end_date", "description",
        "significance", "practice", "judgement",
    ),
    "episode_agencies": ("_doc", "review_id", "episode_id", "code"),
    "factor_codings": ("_doc", "review_id", "episode_id", "coding_no", "code", "influence", "note"),
    "pattern_findings": ("_doc", "review_id", "finding_no", "code", "direction", "priority", "finding", "proposed_label"),
    "pattern_episodes": ("_doc", "review_id", "finding_no", "episode_id"),
    "recommendations": ("_doc", "review_id", "rec_id", "rec_no", "text", "kind", "level", "agency", "lead_role", "due", "status"),
    "recommendation_patterns": ("_doc", "review_id", "rec_id", "code"),
    "practice_points": ("_doc", "review_id", "code"),
    **_second.COLUMNS,
}


class _Columns:
    """Row tuples for every review table, filled document by document, handed over as Arrow columns."""

    def __init__(self) -> None:
        self.rows: dict[str, list[tuple[Any, ...]]] = {t: [] for t in (*REVIEW_TABLES, *_second.TABLES)}

    def to_arrow(self) -> dict[str, pa.Table]:
        out = {}
        for table, rows in self.rows.items():
            if rows:
                out[table] = pa.table(dict(zip(_COLUMNS[table], map(list, zip(*rows)))))
        return out

    def review(self, c: Checked, doc_no: int) -> None:
        """Shape one valid document into rows of every review table."""
        d = c.doc
        assert d is not None
        rows = self.rows
        if c.second_coder is not None:
            return _second.shape(rows, d, c.source, c.sha256, doc_no)
        rid = d["review_id"]
        dates = d["dates"]
        area = d["area"]
        trigger = d["trigger"]
        completed = dt.date.fromisoformat(dates["completed"])
        ff = d.get("family_factors")
        children = d["children"]
        episodes = d["episodes"]
        rows["reviews"].append((
            doc_no, rid, d["title"], d["review_type"], d["method"], area["code"], area["name"], area["region"],
            area["nation"], _date(dates.get("commissioned")), completed, _date(dates.get("published")), completed.year,
            trigger["reason"], trigger.get("question"), d.get("intervention_level"), d.get("quality_grade"),
            ff is not None, len(children), len(episodes), d.get("format", FORMAT),
            d.get("taxonomy_version") or DEFAULT_TAXONOMY_VERSION, c.source, c.sha256,
        ))
        rows["review_family_factors"].extend((doc_no, rid, code) for code in ff or ())
        rows["review_agencies"].extend((doc_no, rid, code) for code in d.get("agencies") or ())
        harm = rows["child_harm_types"]
        for n, child in enumerate(children, start=1):
            rows["children"].append((doc_no, rid, n, child["age_band"], child["sex"], child["outcome"]))
            harm.extend((doc_no, rid, n, code) for code in child.get("harm_types") or ())
        ep_rows, ep_agencies, codings = rows["episodes"], rows["episode_agencies"], rows["factor_codings"]
        for n, ep in enumerate(episodes, start=1):
            eid = ep["episode_id"]
            ep_rows.append((
                doc_no, rid, eid, n, ep.get("title"), _date(ep["start"]), _date(ep.get("end")), ep.get("description"),
                ep.get("significance"), ep["practice"], ep.get("judgement"),
            ))
            ep_agencies.extend((doc_no, rid, eid, code) for code in ep.get("agencies") or ())
            codings.extend(
                (doc_no, rid, eid, k, f["code"], f["influence"], f.get("note"))
                for k, f in enumerate(ep.get("factors") or (), start=1)
            )
        for n, pat in enumerate(d.get("patterns") or (), start=1):
            rows["pattern_findings"].append((
                doc_no, rid, n, pat["code"], pat["direction"], _whole(pat.get("priority")), pat.get("finding"), pat.get("proposed_label"),
            ))
            rows["pattern_episodes"].extend((doc_no, rid, n, eid) for eid in dict.fromkeys(pat["episodes"]))
        for n, rec in enumerate(d.get("recommendations") or (), start=1):
            rows["recommendations"].append((
                doc_no, rid, rec["rec_id"], n, rec.get("text"), rec["kind"], rec["level"], rec.get("agency"),
                rec.get("lead_role"), _date(rec.get("due")), rec["status"],
            ))
            rows["recommendation_patterns"].extend((doc_no, rid, rec["rec_id"], code) for code in dict.fromkeys(rec.get("patterns") or ()))
        rows["practice_points"].extend((doc_no, rid, code) for code in d.get("practice_points") or ())


def _date(value: Any) -> dt.date | None:
    return dt.date.fromisoformat(value) if isinstance(value, str) else None


def _whole(value: Any) -> int | None:
    """JSON Schema's integer admits 2.0: load it as the whole number it is, so the column stays integer."""
    return None if value is None else int(value)


def _taken_rows(chunk: _Chunk, taken: list[int], load_id: int, started: dt.datetime) -> dict[str, pa.Table]:
    """A chunk's rows of the documents taken (by batch index), ready to insert."""
    out = {}
    shaped = chunk.tables.get("reviews")
    keep = pa.array(taken, type=pa.int64())
    # Filtering copies every column, narrative text included: only when the chunk holds rows of
    # documents not taken (unchanged, or a review id repeated in the batch).
    whole = shaped is None or pc.all(pc.is_in(shaped["_doc"], value_set=keep)).as_py()
    for table, data in chunk.tables.items():
        if not whole:
            data = data.filter(pc.is_in(data["_doc"], value_set=keep))
        data = data.drop_columns(["_doc"])
        if table == "reviews":
            data = data.append_column("load_id", pa.array([load_id] * data.num_rows, pa.int32()))
            data = data.append_column("loaded_at", pa.array([started] * data.num_rows, pa.timestamp("us")))
        if data.num_rows:
            out[table] = data
    return out


def _delete_reviews(con: duckdb.DuckDBPyConnection, tables: Iterable[str], review_ids: list[str]) -> None:
    """Delete every row of these reviews from these tables (names from this package's fixed lists)."""
    con.register("_replaced", pa.table({"review_id": review_ids}))
    try:
        for table in tables:
            con.execute(f"DELETE FROM {table} WHERE review_id IN (SELECT review_id FROM _replaced)")
    finally:
        con.unregister("_replaced")


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
    show = _shows_progress(progress, len(paths))
    con = connect(db)
    try:
        chunks = _checked_chunks(paths, progress=progress, workers=workers)
        return _write(con, chunks, [str(i) for i in inputs], str(db) if db else "default", _before_commit,
                      say=(lambda text: print(text, file=sys.stderr, flush=True)) if show else None)
    finally:
        con.close()


def _write(
    con: duckdb.DuckDBPyConnection,
    chunks: Iterable[_Chunk],
    inputs: list[str],
    db_label: str,
    before_commit: Callable[[duckdb.DuckDBPyConnection], None] | None,
    say: Callable[[str], None] | None = None,
) -> LoadResult:
    """Sort each checked chunk's documents (rejected, unchanged, replaced, new) as it arrives; then
    insert the rows taken, the derived rows and the records of the load, and commit. `say` tells a
    person at a terminal what the seconds after the progress bar are spent on."""
    existing = {
        rid: (sha, src) for rid, sha, src in con.execute("SELECT review_id, sha256, source_path FROM reviews").fetchall()
    }
    started = dt.datetime.now()
    t_start = time.perf_counter()
    con.execute("BEGIN TRANSACTION")
    try:
        load_id = con.execute("SELECT coalesce(max(load_id), 0) + 1 FROM loads").fetchall()[0][0]
        result = LoadResult(load_id=load_id, db=db_label, n_files=0)
        changes = []
        second_keys: list[tuple[str, str]] = []
        batch: dict[str, list[pa.Table]] = {}
        for chunk in chunks:
            first = result.n_files  # chunks come in path order: a document's batch index is its `_doc`
            result.n_files += len(chunk.checked)
            taken: list[int] = []
            replaced: list[str] = []
            for doc_no, c in enumerate(chunk.checked, start=first):
                if not c.ok:
                    result.rejected.append(c)
                    continue
                rid = c.review_id
                assert rid is not None
                if c.second_coder is not None:
                    second_keys.append((rid, c.second_coder))
                    taken.append(doc_no)
                    continue
                if rid in existing:
                    old_sha, old_src = existing[rid]
                    if old_sha == c.sha256:
                        result.unchanged.append(rid)
                        continue
                    replaced.append(rid)
                    changes.append(dict(load_id=load_id, review_id=rid, old_sha256=old_sha, new_sha256=c.sha256,
                                        old_source=old_src, new_source=c.source, changed_at=started))
                else:
                    result.inserted.append(rid)
                taken.append(doc_no)
            if replaced:
                result.replaced.extend(replaced)
                _delete_reviews(con, REVIEW_TABLES, replaced)
            for table, data in _taken_rows(chunk, taken, load_id, started).items():
                batch.setdefault(table, []).append(data)
        # One insert per table once every chunk is in: inserting chunk by chunk while the workers
        # check overlaps nothing on two cores (the workers use both) and leaves more to merge at commit.
        t0 = time.perf_counter()
        if say is not None:
            taken = len(result.inserted) + len(result.replaced)
            say(f"writing {taken} review{'s' if taken != 1 else ''} to {db_label} in one transaction ...")
        rows = {t: pa.concat_tables(parts, promote_options="permissive") for t, parts in batch.items()}
        _second.delete(con, second_keys)
        result.second = [f"{rid} {coder}" for rid, coder in second_keys]
        for table, data in rows.items():
            _insert(con, table, data)
        t1 = time.perf_counter()
        if result.replaced:
            _delete_reviews(con, derived_review_tables(con), result.replaced)
        if rows:
            derive_incoming(con, rows)
        _insert(con, "review_changes", changes)
        errors = [
            dict(load_id=load_id, source_path=c.source, error_no=k, pointer=p.pointer, message=p.message, review_id=c.review_id)
            for c in result.rejected
            for k, p in enumerate(c.problems, start=1)
        ]
        _insert(con, "load_errors", errors)
        con.execute(
            "INSERT INTO loads VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [load_id, started, dt.datetime.now(), package_version(), json.dumps(inputs), result.n_files,
             len(result.inserted), len(result.replaced), len(result.unchanged), len(result.rejected)],
        )
        if before_commit is not None:
            before_commit(con)
        t2 = time.perf_counter()
        con.execute("COMMIT")
        result.timings = {"check": t0 - t_start, "insert": t1 - t0, "derive": t2 - t1,
                          "commit": time.perf_counter() - t2}
    except BaseException as e:
        con.execute("ROLLBACK")
        if isinstance(e, duckdb.Error):
            raise LoadError(f"the load was rolled back, the database is unchanged: {e}") from e
        if isinstance(e, (BrokenProcessPool, OSError)):  # a worker died, or its rows found no room (disk, /dev/shm)
            raise LoadError(f"checking stopped ({type(e).__name__}: {e}); the load was rolled back, the database is "
                            "unchanged. Free some memory or disk space, or load in smaller batches") from e
        raise
    return result

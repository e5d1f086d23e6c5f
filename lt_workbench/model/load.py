"""Load validated reviews into DuckDB in one transaction.

Files → check (validate.py) and shape into rows, in one worker process per core for large
batches → one transaction: insert new reviews, replace changed ones (recording the change), skip
unchanged ones (same sha256), record every rejection in `load_errors`, append the derived rows
of the reviews taken (db.derive_incoming). Any failure rolls the whole load back, so the
database is either as it was or fully updated — never half-written.
"""

from __future__ import annotations

import contextlib
import ctypes
import datetime as dt
import gc
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version as _dist_version
from pathlib import Path
from typing import Any, Callable, Generator, Iterable, Iterator, Sequence

import duckdb
import pyarrow as pa
from tqdm import tqdm

from lt_workbench.config import DEFAULT_DB
from lt_workbench.exceptions import LoadInterrupted
from lt_workbench.model.db import REVIEW_TABLES, derive_incoming, derived_review_tables, ensure_schema
from lt_workbench.model.inputs import collect_inputs, collect_paths
from lt_workbench.model.publish import writing
from lt_workbench.model.rows import Columns, taken_rows
from lt_workbench.model import second as _second
from lt_workbench.model.stops import stopped
from lt_workbench.model.validate import Checked, Problem, check_file

__all__ = ["collect_paths", "collect_inputs", "check_paths", "load", "LoadResult", "REVIEW_TABLES", "package_version"]

# Arrow rows held before they are inserted (inside the one transaction). It bounds those rows only: DuckDB keeps the
# transaction's rows in its memory until the commit, up to its memory_limit (load(memory_limit=)), then spills.
_FLUSH_BYTES = 512 * 1024 * 1024

# Below this many files a process pool costs more than it saves.
_PARALLEL_FROM = 400


def package_version() -> str:
    try:
        return _dist_version("lt-workbench")
    except PackageNotFoundError:  # running from a source tree without an install
        return "0+unknown"


@dataclass
class _Chunk:
    """One worker's share: the checked files (documents dropped) and the rows of the valid ones."""

    checked: list[Checked]
    tables: dict[str, pa.Table]


def _check_chunk(job: tuple[int, list[Path]], shape: bool = True, max_mb: float | None = None) -> _Chunk:
    """Check files and (when `shape`) turn the valid ones into columnar rows tagged with their batch index `_doc`."""
    first, paths = job
    rows = Columns()
    checked = []
    for offset, path in enumerate(paths):
        c = check_file(path, max_mb)
        if c.ok and shape:
            rows.review(c, first + offset)
        c.doc = None
        checked.append(c)
    return _Chunk(checked, rows.to_arrow())


def _check_chunk_in_worker(job: tuple[int, list[Path], bool, str, float | None]) -> tuple[list[Checked], dict[str, str]]:
    """Worker side of _check_chunk: the rows go back as Arrow IPC files in `spill_dir` (shared memory
    where the system has it) rather than pickled through the pipe, which for the narrative text of
    thousands of reviews costs as much as checking them; only the small check records are pickled."""
    first, paths, shape, spill_dir, max_mb = job
    chunk = _check_chunk((first, paths), shape, max_mb)
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


def _worker_start(spill: str, parent: int) -> None:
    """Run as each checking worker starts: no cyclic GC; Ctrl-C is the loader's to handle; the worker
    dies with the loader (PR_SET_PDEATHSIG), and a worker told to stop removes the shared-memory
    folder of the batch on its way out, so a loader killed outright leaves no files in /dev/shm."""
    _without_cyclic_gc()
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def stop(signum: int, frame: object) -> None:
        shutil.rmtree(spill, ignore_errors=True)
        os._exit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
    _die_with_parent(signal.SIGTERM)
    if os.getppid() != parent:  # the loader died before the line above took effect
        stop(signal.SIGTERM, None)


def _die_with_parent(sig: int) -> None:
    """Ask Linux to send `sig` to this process when its parent dies (a no-op elsewhere)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, sig, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _shows_progress(progress: bool | None, n_files: int) -> bool:
    """Progress is shown on a terminal (or when asked) for batches of 50 files or more."""
    return (sys.stderr.isatty() if progress is None else progress) and n_files >= 50


def _jobs(paths: Sequence[Path], n_chunks: int) -> list[tuple[int, list[Path]]]:
    size = max(1, -(-len(paths) // n_chunks))
    return [(i, list(paths[i : i + size])) for i in range(0, len(paths), size)]


def _checked_chunks(
    paths: Sequence[Path], *, progress: bool | None, workers: int | None, shape: bool = True, max_mb: float | None = None,
) -> Generator[_Chunk, None, None]:
    """Check every file (in worker processes for large batches), yielding chunks in path order as
    they finish, so the loader sorts one chunk's documents while the workers check the next. With
    `shape`, each chunk also carries the rows of its valid documents. A review id already used
    earlier in the batch is flagged as the chunks go by (the first file in path order wins)."""
    n_workers = workers if workers is not None else (os.cpu_count() or 1)
    first_seen: dict[str, str] = {}
    with tqdm(total=len(paths), disable=not _shows_progress(progress, len(paths)), desc="checking", unit="file") as bar:
        if len(paths) >= _PARALLEL_FROM and n_workers > 1:
            with tempfile.TemporaryDirectory(prefix=f"lt-workbench-load-{os.getpid()}-", dir=_spill_parent(paths), ignore_cleanup_errors=True) as spill:
                pool = ProcessPoolExecutor(max_workers=n_workers, initializer=_worker_start, initargs=(spill, os.getpid()))
                finished = False
                try:
                    jobs = [(first, part, shape, spill, max_mb) for first, part in _jobs(paths, n_workers * 8)]
                    # The workers are forked here: Ctrl-C or SIGTERM is held back meanwhile, as a handler run
                    # inside fork's own callbacks would be lost (the workers unblock them as they start).
                    held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
                    try:
                        results = pool.map(_check_chunk_in_worker, jobs)
                    finally:
                        signal.pthread_sigmask(signal.SIG_SETMASK, held)
                    for checked, files in results:
                        _flag_repeated_ids(checked, first_seen)
                        bar.update(len(checked))
                        yield _Chunk(checked, _read_spilled(files))
                    finished = True
                finally:
                    if not finished:  # interrupted or failed: stop the workers now rather than let them finish the batch
                        for proc in list(getattr(pool, "_processes", {}).values()):
                            proc.terminate()
                    pool.shutdown(wait=True, cancel_futures=True)
        else:
            was_enabled = gc.isenabled()
            _without_cyclic_gc()
            try:
                for job in _jobs(paths, max(1, len(paths) // 100)):
                    chunk = _check_chunk(job, shape, max_mb)
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


def check_paths(
    paths: Sequence[Path], *, progress: bool | None = None, workers: int | None = None, max_mb: float | None = None,
) -> list[Checked]:
    """Check every file (in parallel for large batches) without loading; flags ids repeated in the batch."""
    chunks = _checked_chunks(paths, progress=progress, workers=workers, shape=False, max_mb=max_mb)
    return [c for chunk in chunks for c in chunk.checked]


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
    # Seconds spent in each stage (check, insert, derive, commit, publish): where a slow load spends its time.
    timings: dict[str, float] = field(default_factory=dict)
    snapshot_id: str | None = None  # the snapshot this load published
    # Ctrl-C or SIGTERM that arrived while the snapshot was being published (held back, so it was published).
    late_signals: list[int] = field(default_factory=list)

    @property
    def problems(self) -> list[Problem]:
        return [p for c in self.rejected for p in c.problems]

    @property
    def exit_code(self) -> int:
        return 1 if self.rejected else 0

    def summary(self) -> str:
        text = (
            f"load {self.load_id} into {self.db}: {self.n_files} files; {len(self.inserted)} new, "
            f"{len(self.replaced)} replaced, {len(self.unchanged)} unchanged, {len(self.rejected)} rejected"
            + (f"; {len(self.second)} second codings (kept apart for coder agreement)" if self.second else "")
        )
        if self.snapshot_id:
            text += f"; published snapshot {self.snapshot_id}"
        if self.late_signals:
            text += " (an interrupt arrived while publishing; it was held back until the snapshot was whole)"
        return text


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
    wait: float = 0.0,
    fresh: bool = False,
    max_mb: float | None = None,
    say: Callable[[str], None] | None = None,
    memory_limit: str | None = None,
    _before_commit: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
) -> LoadResult:
    """Validate and load review files into a new snapshot of the database, and publish it atomically.

    Valid documents load even when others are rejected; rejections (unreadable entries of the
    inputs included) are returned and kept in `load_errors`. Readers keep working on the
    published snapshot throughout. A second writer waits up to `wait` seconds for the writer lock
    (DatabaseBusy past that). `fresh` starts from an empty database (rebuild). Raises LoadError
    when the load cannot run or fails (LoadInterrupted on Ctrl-C or SIGTERM); the published
    database is then unchanged. `say` receives lines meant for a person (default: standard error). `memory_limit`
    (e.g. "2GB"; default $LT_WORKBENCH_MEMORY_LIMIT, else DuckDB's 80% of RAM) bounds DuckDB's memory. `_before_commit`: tests.
    """
    inputs = list(inputs)
    path = Path(db) if db is not None else DEFAULT_DB
    label = str(db) if db else "default"
    tell = say or (lambda text: print(text, file=sys.stderr, flush=True))
    try:
        found = collect_inputs(inputs)
        paths = found.files
        show = _shows_progress(progress, len(paths))
        with writing(path, wait=wait, fresh=fresh, say=tell, memory=memory_limit) as w:
            try:
                ensure_schema(w.con)
            except duckdb.Error as e:  # explained like a failure inside the load's transaction
                told = stopped(e, path)
                if told is None:
                    raise
                raise told from e
            chunks = _checked_chunks(paths, progress=progress, workers=workers, max_mb=max_mb)
            with contextlib.closing(chunks):
                t0 = time.perf_counter()
                result = _write(w.con, _with_problems(found.problems, chunks), [display(i) for i in inputs], label,
                                _before_commit, say=tell if show else None)
                t1 = time.perf_counter()
        result.timings["publish"] = time.perf_counter() - t1
        result.timings["total"] = time.perf_counter() - t0
        result.timings.update({f"publish_{k}": v for k, v in w.timings.items()})
        assert w.published is not None
        result.snapshot_id = w.published.snapshot_id
        result.late_signals = list(w.interrupted)
        return result
    except (KeyboardInterrupt, duckdb.InterruptException, RuntimeError) as e:
        # DuckDB reports Ctrl-C met inside a query as RuntimeError('Query interrupted').
        if isinstance(e, RuntimeError) and "interrupted" not in str(e).lower():
            raise
        raise LoadInterrupted(
            f"the load into {path} was interrupted before anything was published: the database is unchanged"
        ) from None


def display(value: str | Path) -> str:
    return os.fsencode(value).decode("utf-8", "backslashreplace")


def _with_problems(problems: list[Checked], chunks: Iterable[_Chunk]) -> Iterator[_Chunk]:
    """The checked chunks, then the inputs' unreadable entries as a chunk of rejected files (last, so
    that each checked document's batch index stays its place in the list of files)."""
    yield from chunks
    if problems:
        yield _Chunk(problems, {})


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
    existing = {rid: (sha, src) for rid, sha, src in con.execute("SELECT review_id, sha256, source_path FROM reviews").fetchall()}
    started = dt.datetime.now()
    t_start = time.perf_counter()
    con.execute("BEGIN TRANSACTION")
    try:
        load_id = con.execute("SELECT coalesce(max(load_id), 0) + 1 FROM loads").fetchall()[0][0]
        result = LoadResult(load_id=load_id, db=db_label, n_files=0)
        changes = []
        second_keys: list[tuple[str, str]] = []
        batch: dict[str, list[pa.Table]] = {}
        pending_replaced: list[str] = []
        pending_second: list[tuple[str, str]] = []
        spent, held = {"insert": 0.0, "derive": 0.0}, 0  # held: bytes of the Arrow rows in `batch`

        def flush() -> None:
            """Insert the rows held so far, then their derived rows (a review's derived rows depend on its own rows only)."""
            t_a = time.perf_counter()
            if say is not None and not spent["insert"] and not spent["derive"]:
                n_taken = len(result.inserted) + len(result.replaced)
                say(f"writing {n_taken} review{'s' if n_taken != 1 else ''} to {db_label} in one transaction ...")
            rows = {t: pa.concat_tables(parts, promote_options="permissive") for t, parts in batch.items()}
            batch.clear()
            _second.delete(con, pending_second)
            for table, data in rows.items():
                _insert(con, table, data)
            t_b = time.perf_counter()
            if pending_replaced:
                _delete_reviews(con, derived_review_tables(con), pending_replaced)
            if any(t in rows for t in REVIEW_TABLES):
                derive_incoming(con, rows)
            pending_replaced.clear()
            pending_second.clear()
            spent["insert"] += t_b - t_a
            spent["derive"] += time.perf_counter() - t_b

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
                    pending_second.append((rid, c.second_coder))
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
                pending_replaced.extend(replaced)
                _delete_reviews(con, REVIEW_TABLES, replaced)
            for table, data in taken_rows(chunk.tables, taken, load_id, started).items():
                batch.setdefault(table, []).append(data)
                held += data.nbytes  # counted as added (summing every held part at each chunk grew with the square)
            # Rows are held and inserted once per table (inserting chunk by chunk while the workers check
            # overlaps nothing on two cores and leaves more to merge at commit), but never more than
            # _FLUSH_BYTES of them (the Arrow side; DuckDB's transaction memory still grows with the batch).
            if held > _FLUSH_BYTES:
                flush()
                held = 0
        t0 = time.perf_counter()
        flush()
        result.second = [f"{rid} {coder}" for rid, coder in second_keys]
        t1 = time.perf_counter()
        _insert(con, "review_changes", changes)
        errors = [dict(load_id=load_id, source_path=c.source, error_no=k, pointer=p.pointer, message=p.message, review_id=c.review_id)
                  for c in result.rejected for k, p in enumerate(c.problems, start=1)]
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
        result.timings = {"check": t0 - t_start - (spent["insert"] + spent["derive"] - (t1 - t0)), "insert": spent["insert"],
                          "derive": spent["derive"] + (t2 - t1), "commit": time.perf_counter() - t2}
    except BaseException as e:
        with contextlib.suppress(Exception):  # the snapshot being written is discarded whatever happens here
            con.execute("ROLLBACK")
        told = stopped(e, Path(db_label))
        if told is None:
            raise
        raise told from e
    return result

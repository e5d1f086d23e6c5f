"""Writers build the next snapshot beside the published one and publish it with one atomic rename.

Why this and not DuckDB's own locking: DuckDB lets one process open a file read-write only when no
other process has it open at all, read-only included (it takes an exclusive file lock). A load
that wrote the published file in place would therefore fail, or wait, while any explorer kernel
or report held it open. So a writer (load, rebuild, upgrade):

1. takes the writer lock (`X.duckdb.lock`, flock), waiting at most `wait` seconds and saying who
   holds it; writers queue, readers never take it;
2. removes what a killed writer left, then copies the published file to `X.duckdb.next-PID`,
   checking it against its manifest entry as it reads (a damaged file is refused, not copied on);
3. writes into that copy in one DuckDB transaction, checkpoints and closes it (no WAL left), fsyncs;
4. publishes: manifest (both entries) → rename(next, X.duckdb) → fsync of the folder → manifest
   (new entry only). Ctrl-C and SIGTERM are held back during this step, so the outcome is known.

SIGTERM in a Python caller (a scheduler running `load()` in a process of its own, SIGTERM left at
its default action): while a writer works, SIGTERM first unwinds it (workers stopped, the unpublished
copy and the workers' files removed, the lock released) and then ends the process by SIGTERM as it
would have anyway; one held back while publishing ends it once the snapshot is whole. A caller's own
SIGTERM handler runs as usual (after the publication when it arrived during it). The CLI turns
SIGTERM into Ctrl-C and reports it itself.

Readers open `X.duckdb` read-only and keep the inode they opened: a rename does not disturb them,
and the old file's blocks are freed by the kernel when the last reader closes it (no reader
bookkeeping, nothing to clean up). Any failure before the rename leaves the published file as it
was; after it, the new snapshot is whole. The copy is the price: a few hundred milliseconds for a
national-sized database (see benchmarks/RESULTS.md).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import os
import secrets
import shutil
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any, Callable, Iterator

import duckdb

from lt_workbench.exceptions import DatabaseBusy, DatabaseDamaged, DatabaseError
from lt_workbench.model.files import (
    SnapshotInfo, entry_for, explain, file_sha256, fsync_dir, leftovers, lock_path, next_path, read_manifest,
    rebuild_hint, write_manifest, write_sources,
)

__all__ = ["WriterLock", "Writer", "writing", "held_signals", "content_hash", "memory_limit", "MEMORY_LIMIT_ENV"]


class WriterLock:
    """The database's writer lock: an flock on `X.duckdb.lock`, with a line saying who holds it."""

    def __init__(self, db: Path) -> None:
        self.db = db
        self.path = lock_path(db)
        self.fd: int | None = None

    def holder(self) -> str:
        try:
            return self.path.read_text(encoding="utf-8").strip() or "another writer"
        except OSError:
            return "another writer"

    def acquire(self, wait: float, say: Callable[[str], None] | None = None) -> None:
        """Take the lock, waiting up to `wait` seconds; DatabaseBusy (database unchanged) past that."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        deadline = time.monotonic() + max(0.0, wait)
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    raise DatabaseBusy(
                        f"{self.db} is being written by {self.holder()}; waited {wait:g} s. The database is "
                        "unchanged: run again later, or give --wait a longer DURATION (e.g. --wait 10m)"
                    ) from None
                if not told and say is not None:
                    say(f"waiting up to {wait:g} s for {self.holder()} to finish ...")
                    told = True
                time.sleep(0.1)
        os.ftruncate(fd, 0)
        started = dt.datetime.now().isoformat(sep=" ", timespec="seconds")
        command = " ".join(os.path.basename(a) if i == 0 else a for i, a in enumerate(sys.argv))[:200]
        os.write(fd, f"process {os.getpid()} ({command!r}, since {started})\n".encode("utf-8", "backslashreplace"))
        self.fd = fd

    def release(self) -> None:
        if self.fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(self.fd, 0)
            os.close(self.fd)  # closing the descriptor releases the flock
            self.fd = None


@dataclass
class Writer:
    """A read-write connection on the next snapshot; `published` is set once the rename is done."""

    con: duckdb.DuckDBPyConnection
    db: Path
    path: Path
    published: SnapshotInfo | None = None
    interrupted: list[int] = field(default_factory=list)  # signals held back while publishing
    # Seconds: copy (of the published file), checkpoint (DuckDB writing and closing the new file, as any
    # load does), seal (fsync, checksum, manifest, rename: the cost of publishing beside an in-place write).
    timings: dict[str, float] = field(default_factory=dict)


@contextlib.contextmanager
def held_signals() -> Iterator[list[int]]:
    """Hold Ctrl-C and SIGTERM back for the few system calls of a publication; yields the list of
    signals that arrived meanwhile (the caller reports them, then the outcome is told as it is)."""
    got: list[int] = []

    def hold(signum: int, frame: FrameType | None) -> None:
        got.append(signum)

    previous: dict[signal.Signals, Any] = {}
    try:
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.signal(signum, hold)
    except ValueError:  # not the main thread: signals go to the main thread anyway
        pass
    try:
        yield got
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def content_hash(con: duckdb.DuckDBPyConnection) -> tuple[str, int]:
    """Hash over every loaded review's id and file sha256 (order-free), and the number of reviews."""
    rows = con.execute("SELECT review_id, sha256 FROM reviews ORDER BY review_id").fetchall()
    return hashlib.sha256("".join(f"{r}:{s}\n" for r, s in rows).encode()).hexdigest()[:16], len(rows)


def _remove(path: Path) -> None:
    """Remove an unpublished snapshot with its WAL and DuckDB temporary folder (or one such leftover)."""
    for p in (path, path.with_name(path.name + ".wal"), path.with_name(path.name + ".tmp")):
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
        else:
            with contextlib.suppress(FileNotFoundError):
                p.unlink()


def _copy_checked(db: Path, target: Path) -> None:
    """Copy the published file to `target`, checking it against its manifest entry as it is read."""
    try:
        with open(db, "rb") as src, open(target, "wb") as out:
            st = os.fstat(src.fileno())
            entry = entry_for(db, st.st_ino)
            digest = file_sha256(src, out)
    except OSError as e:
        _remove(target)
        raise explain(db, e, "cannot copy") from e
    if entry is not None and (entry.size != st.st_size or entry.sha256 != digest):
        _remove(target)
        what = "truncated or extended" if entry.size != st.st_size else "overwritten"
        raise DatabaseDamaged(
            f"{db} is damaged: the file was {what} after snapshot {entry.snapshot_id} was published "
            f"({st.st_size} bytes, {entry.size} expected; its checksum no longer matches; or another program wrote to it in place). The database is unchanged; "
            f"{rebuild_hint(db)}"
        )


class _Terminated(BaseException):
    """SIGTERM arrived while a writer worked in a process that leaves SIGTERM at its default action."""


@contextlib.contextmanager
def _sigterm_unwinds() -> Iterator[list[int]]:
    """While a writer works: SIGTERM at its default action unwinds the writer before ending the process by
    SIGTERM (see the module docstring). Yields the list the publication's held signals are added to."""
    late: list[int] = []
    main = threading.current_thread() is threading.main_thread()
    previous = signal.getsignal(signal.SIGTERM) if main else None
    got: list[int] = []

    def unwind(signum: int, frame: FrameType | None) -> None:
        got.append(signum)
        raise _Terminated()

    if previous == signal.SIG_DFL:
        signal.signal(signal.SIGTERM, unwind)
    try:
        yield late
    finally:
        if previous == signal.SIG_DFL:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
        if main and (got or signal.SIGTERM in late) and previous not in (signal.SIG_IGN, signal.default_int_handler, None):
            signal.raise_signal(signal.SIGTERM)  # the default action ends the process here; a caller's handler runs


# Names the memory limit of every writer's DuckDB connection (load, rebuild, upgrade, db.write) when no limit is given.
MEMORY_LIMIT_ENV = "LT_WORKBENCH_MEMORY_LIMIT"


def memory_limit(value: str | None = None) -> str | None:
    """DuckDB's `memory_limit` for a writer's connection: `value`, else $LT_WORKBENCH_MEMORY_LIMIT, else None
    (DuckDB's default: 80% of RAM). It bounds what DuckDB holds of a load's transaction (past it DuckDB spills
    to `X.duckdb.next-PID.tmp`, removed with the unpublished copy). DatabaseError when DuckDB cannot read it."""
    limit = value if value is not None else os.environ.get(MEMORY_LIMIT_ENV) or None
    if limit is not None:
        try:
            duckdb.connect(":memory:", config={"memory_limit": limit}).close()
        except duckdb.Error as e:
            raise DatabaseError(f"memory limit {limit!r} is not a size DuckDB reads (e.g. 2GB, 512MB): {e}") from None
    return limit


@contextlib.contextmanager
def writing(db: Path, *, wait: float = 0.0, fresh: bool = False, say: Callable[[str], None] | None = None,
            memory: str | None = None) -> Iterator[Writer]:
    """Take the writer lock, open the next snapshot (a copy of the published one, or empty when `fresh`
    or there is none) read-write with DuckDB's memory_limit from memory_limit(`memory`), yield it;
    publish when the block ends normally, discard otherwise."""
    limit = memory_limit(memory)
    with _sigterm_unwinds() as late:
        with _writing(Path(db), wait, fresh, say, limit) as w:
            yield w
        late.extend(w.interrupted)


@contextlib.contextmanager
def _writing(db: Path, wait: float, fresh: bool, say: Callable[[str], None] | None, limit: str | None) -> Iterator[Writer]:
    lock = WriterLock(db)
    lock.acquire(wait, say)
    try:
        for stale in leftovers(db):
            _remove(stale)
        target = next_path(db)
        t0 = time.perf_counter()
        if not fresh and db.exists():
            _copy_checked(db, target)
        copied = time.perf_counter() - t0
        try:
            con = duckdb.connect(str(target), config={"memory_limit": limit} if limit else {})
        except duckdb.Error as e:
            _remove(target)
            raise explain(db, e, "cannot open the copy of") from e
        writer = Writer(con, db, target)
        writer.timings["copy"] = copied
        try:
            yield writer
            _publish(writer)
        except BaseException:
            with contextlib.suppress(Exception):
                con.close()
            if writer.published is None:
                _remove(target)
            raise
    finally:
        lock.release()


def _publish(w: Writer) -> None:
    """Stamp a snapshot id, checkpoint and close, fsync, then the manifest and the rename (signals held)."""
    sid = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ") + "-" + secrets.token_hex(3)
    con = w.con
    published_at = dt.datetime.now().isoformat(sep=" ", timespec="seconds")
    try:  # any DuckDB error from here to the close (out of memory, disk full) is told as its cause
        con.execute("CREATE TABLE IF NOT EXISTS workbench_meta (key VARCHAR NOT NULL, value VARCHAR NOT NULL)")
        con.execute("DELETE FROM workbench_meta WHERE key IN ('snapshot_id', 'published_at')")
        con.execute("INSERT INTO workbench_meta VALUES ('snapshot_id', ?), ('published_at', ?)", [sid, published_at])
        have_reviews = con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'main' AND table_name = 'reviews'"
        ).fetchall()[0][0]
        chash, n = content_hash(con) if have_reviews else ("none", 0)
        sources = [r for (r,) in con.execute("SELECT source_path FROM reviews ORDER BY 1").fetchall()] if have_reviews else []
        t0 = time.perf_counter()
        con.execute("CHECKPOINT")
        con.close()
    except duckdb.Error as e:
        raise explain(w.db, e, "cannot write the new snapshot of") from e
    t1 = time.perf_counter()
    if w.path.with_name(w.path.name + ".wal").exists():
        raise DatabaseError(f"the new snapshot of {w.db} still has a write-ahead log after its checkpoint; nothing was published")
    try:
        with open(w.path, "rb") as f:
            os.fsync(f.fileno())
            st = os.fstat(f.fileno())
            digest = file_sha256(f)
    except OSError as e:
        raise explain(w.db, e, "cannot write the new snapshot of") from e
    entry = SnapshotInfo(sid, published_at, st.st_ino, st.st_size, digest, chash, n)
    with held_signals() as w.interrupted:
        try:
            old = [e for e in read_manifest(w.db) if w.db.exists() and e.inode == w.db.stat().st_ino]
            write_manifest(w.db, [entry, *old])
            os.replace(w.path, w.db)
            w.published = entry
            fsync_dir(w.db.parent)
        except OSError as e:
            if w.published is None:
                raise explain(w.db, e, "cannot publish the new snapshot of") from e
        with contextlib.suppress(OSError):
            write_manifest(w.db, [entry])
            write_sources(w.db, sources)
    t2 = time.perf_counter()
    w.timings["checkpoint"] = t1 - t0
    w.timings["seal"] = t2 - t1

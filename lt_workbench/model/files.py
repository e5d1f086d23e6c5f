"""The files beside a database: the snapshot manifest, the writer lock, leftovers; and what a DuckDB error means.

A database `X.duckdb` is one published snapshot (a plain DuckDB file that any DuckDB client can
open). Beside it:

- `X.duckdb.snapshot.json`, the manifest: for each published file (known by its inode, which an
  atomic rename keeps) its snapshot id, size, sha256 and content hash. Readers find the snapshot
  they opened by inode and can check the file against it; "is there a newer one" is a stat and a
  small JSON read, never a DuckDB connection.
- `X.duckdb.lock`, the writer lock (flock), holding a line about the writer that has it.
- `X.duckdb.next-PID` (and its `.wal`, `.tmp`), the snapshot a writer is building; left behind only
  by a writer killed outright, and removed by the next writer.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, BinaryIO

from lt_workbench.exceptions import DatabaseDamaged, DatabaseError

__all__ = [
    "SnapshotInfo", "manifest_path", "sources_path", "lock_path", "next_path", "read_manifest", "write_manifest", "write_sources", "read_sources", "entry_for",
    "file_sha256", "fsync_dir", "leftovers", "explain", "rebuild_hint",
]

_CHUNK = 1 << 20


@dataclass(frozen=True)
class SnapshotInfo:
    """One published snapshot: its id (time of publication + a random tag), when, the file's inode,
    size and sha256, and the content hash (over the loaded reviews' file hashes, as `info` prints)."""

    snapshot_id: str
    published_at: str
    inode: int
    size: int
    sha256: str
    content_hash: str
    reviews: int

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def manifest_path(db: Path) -> Path:
    return db.with_name(db.name + ".snapshot.json")


def sources_path(db: Path) -> Path:
    """The review files of the published snapshot, one per line: what `rebuild` reads by default,
    kept outside the database so that a damaged file can still be rebuilt."""
    return db.with_name(db.name + ".sources")


def lock_path(db: Path) -> Path:
    return db.with_name(db.name + ".lock")


def next_path(db: Path) -> Path:
    return db.with_name(f"{db.name}.next-{os.getpid()}")


def read_manifest(db: Path) -> list[SnapshotInfo]:
    """The manifest's entries (newest first); [] when there is none or it cannot be read (it is advisory:
    a database written in place by an older version, or by DuckDB directly, has none)."""
    try:
        data = json.loads(manifest_path(db).read_text(encoding="utf-8"))
        return [SnapshotInfo(**e) for e in data["snapshots"]]
    except (OSError, ValueError, KeyError, TypeError):
        return []


def write_manifest(db: Path, entries: list[SnapshotInfo]) -> None:
    """Replace the manifest atomically (temporary file, fsync, rename)."""
    _replace_text(manifest_path(db), json.dumps({"snapshots": [e.to_json() for e in entries]}, indent=1))


def write_sources(db: Path, sources: list[str]) -> None:
    _replace_text(sources_path(db), "".join(f"{s}\n" for s in sources))


def read_sources(db: Path) -> list[str]:
    try:
        return [line for line in sources_path(db).read_text(encoding="utf-8").splitlines() if line]
    except OSError:
        return []


def _replace_text(path: Path, text: str) -> None:
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def entry_for(db: Path, inode: int) -> SnapshotInfo | None:
    """The manifest entry of the file with this inode, if the manifest knows it."""
    return next((e for e in read_manifest(db) if e.inode == inode), None)


def file_sha256(f: BinaryIO, copy_to: BinaryIO | None = None) -> str:
    """sha256 of an open file from its current position, optionally copying it as it is read."""
    h = hashlib.sha256()
    while block := f.read(_CHUNK):
        h.update(block)
        if copy_to is not None:
            copy_to.write(block)
    return h.hexdigest()


def fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def leftovers(db: Path) -> list[Path]:
    """Files a killed writer left beside the database (its unpublished snapshot and temporaries)."""
    prefix = db.name + ".next-"
    temporaries = (manifest_path(db).name + ".tmp-", sources_path(db).name + ".tmp-")
    try:
        names = os.listdir(db.parent)
    except OSError:
        return []
    return [db.parent / n for n in sorted(names) if n.startswith(prefix) or n.startswith(temporaries)]


def rebuild_hint(db: Path) -> str:
    return f"rebuild it from the review files with `lt-workbench rebuild --db {db}` (add --from PATH... to name them)"


# Root causes, checked in this order; the first that matches is the message.
_CAUSES = (
    (re.compile(r"no space left on device|ENOSPC|disk (is )?full", re.I), "the disk is full (no space left on device)"),
    (re.compile(r"input/output error|\bEIO\b", re.I), "the disk reported an input/output error (EIO)"),
    (re.compile(r"quota exceeded", re.I), "the disk quota is exceeded"),
    (re.compile(r"read-only file system", re.I), "the file system is read-only"),
    (re.compile(r"permission denied", re.I), "permission denied"),
    (re.compile(r"out of memory", re.I), "DuckDB needed more memory than its limit (--memory-limit or $LT_WORKBENCH_MEMORY_LIMIT; "
     "default 80% of RAM): raise it, or load in smaller batches"),
)
_DAMAGE = re.compile(
    r"not a valid DuckDB database|corrupt|checksum|serializ|deserializ|truncat|unexpected end|failed to read|"
    r"could not read enough bytes|invalid (block|database|header|magic)|magic bytes|INTERNAL Error|"
    r"database file .* (is|was) (damaged|invalid)|out of range|Catalog Error: .*(does not exist|not found)",
    re.I,
)
_LOCKED = re.compile(r"Could not set lock on file|Conflicting lock is held", re.I)


def explain(path: Path, e: BaseException, doing: str) -> DatabaseError:
    """A DuckDB or OS error turned into one plain message: the root cause when it is the disk, the
    damage and how to rebuild when the file is unreadable, the holder when it is locked."""
    text = str(e)
    if isinstance(e, OSError) and e.errno is not None:
        text = f"{os.strerror(e.errno)} {text}"
        if e.errno == errno.ENOSPC:
            return DatabaseError(f"{doing} {path}: the disk is full (no space left on device); nothing was published, "
                                 "the database is unchanged. Free some space and run the command again")
    for pattern, cause in _CAUSES:
        if pattern.search(text):
            return DatabaseError(f"{doing} {path}: {cause} ({_first_line(text)}); nothing was published, "
                                 "the database is unchanged")
    if _LOCKED.search(text):
        holder = re.search(r"\(PID (\d+)\)", text)
        who = f"process {holder.group(1)}" if holder else "another process"
        return DatabaseError(
            f"{doing} {path}: {who} has the file open for writing in place (DuckDB allows one such writer and no "
            "reader beside it). lt-workbench's own loads write a new snapshot and never need this: close the other "
            "program's connection, or open read-only"
        )
    if _DAMAGE.search(text):
        return DatabaseDamaged(f"{path} is damaged ({_first_line(text)}): {rebuild_hint(path)}")
    return DatabaseError(f"{doing} {path}: {_first_line(text)}")


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else "unknown error"
    return line if len(line) <= 300 else line[:297] + "..."

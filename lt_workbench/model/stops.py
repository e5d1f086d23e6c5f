"""Why a load stopped, told as a `LoadError` that says the published database is unchanged.

A failure inside the load's transaction (or while the schema is prepared before it) rolls back and
arrives here: a DuckDB error is explained (out of memory, full disk, damaged file; see `files.explain`)
by its cause, not by the "transaction is aborted" DuckDB raises while tidying after it; a checking
worker that died, or found no room for its rows, is said in plain words. Interrupts keep their type,
so `load` reports them as `LoadInterrupted`.
"""

from __future__ import annotations

from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import duckdb

from lt_workbench.exceptions import DatabaseError, LoadError
from lt_workbench.model.files import explain

__all__ = ["stopped"]


def stopped(e: BaseException, db: Path) -> BaseException | None:
    """The exception to raise (from `e`) for a load into `db` that failed with `e`; None: re-raise `e` as it is."""
    if isinstance(e, duckdb.InterruptException):
        return None
    if isinstance(e, duckdb.Error) and "KeyboardInterrupt" in str(e):  # Ctrl-C met inside DuckDB's scan of our rows
        return KeyboardInterrupt()
    while isinstance(e, duckdb.Error) and isinstance(e.__context__, duckdb.Error):  # the cause, not DuckDB's follow-on
        e = e.__context__  # ("transaction is aborted", from tidying after it)
    if isinstance(e, duckdb.Error):
        message = str(explain(db, e, "the load was stopped: cannot write"))
        if "unchanged" not in message:
            message += "; nothing was published, the database is unchanged"
        return LoadError(message)
    if isinstance(e, DatabaseError):
        return LoadError(f"the load was stopped, nothing was published and the database is unchanged: {e}")
    if isinstance(e, BrokenProcessPool):
        return LoadError("a checking worker died (killed, or out of memory): nothing was published, the database "
                         "is unchanged. Free some memory, or load in smaller batches")
    if isinstance(e, OSError):  # a worker's rows found no room (disk, /dev/shm)
        return LoadError(f"checking stopped ({type(e).__name__}: {e}); nothing was published, the database is "
                         "unchanged. Free some memory or disk space, or load in smaller batches")
    return None

"""An explorer session's release: every public table the explorer shows is protected jointly with everything
else published from the same database snapshot (other explorer views, CLI commands, reports).

Why a part of its own: `lt_workbench.analysis.publish.public_release` is a ContextVar scope, and the
explorer's refresh stages run later, on the kernel's event loop, where a scope opened when the explorer
was made is not in force. So each tabulation call is wrapped here, at the moment it runs, in a scope of
the snapshot the explorer's own connection reads (its content hash, taken from that connection: a load
published meanwhile does not move the session to data it is not showing). The ledger is the one the CLI
uses: `<database>.releases.sqlite` beside the database file, or `$LT_WORKBENCH_LEDGER`.

Only what is shown is published: a view that tries two tables and draws one (the year heat map: single
years, else five-year periods) asks them `tentatively`, and the one not drawn is forgotten, not recorded.
The tables kept for revisits belong to the release they were published in: when that release is no
longer the open one (`lt-workbench release reset --force`, or a reset and new outputs elsewhere, or the ledger
file deleted and made again, whose first release is numbered 1 again), they are dropped and the next view is
protected against the new release.

What the release published is read back from the ledger through one `LedgerCache` per session (decoded once,
then only what the ledger gained since the last table: other views, CLI commands, reports, other sessions; see
analysis/disclosure/ledger_cache.py), instead of afresh for every new table.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import duckdb
import pandas as pd

from lt_workbench.analysis.disclosure import LedgerCache, ledger_path, open_release_key
from lt_workbench.analysis.publish import public_release
from lt_workbench.exceptions import DisclosureError, TabulationError
from lt_workbench.model.publish import content_hash

__all__ = ["SessionRelease", "database_path", "refusable", "REFUSED_HINT"]

REFUSED_HINT = ("Every public figure of this session is protected together with what this database snapshot has already "
                "published (earlier views, CLI commands, reports), so a view that would let a reader work out a hidden "
                "number is not shown. Go back to the earlier filters, or use restricted mode inside the secure environment.")


def database_path(db: str | Path | None, con: duckdb.DuckDBPyConnection | None) -> Path | None:
    """The database file: `db` when given, else the file `con` reads (its current database), else None (in memory)."""
    if db is not None:
        return Path(db)
    if con is None:
        return None
    rows = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchall()
    return Path(str(rows[0][0])) if rows and rows[0][0] else None


def refusable(refused: dict[str, str], key: str, make: Callable[[], pd.DataFrame]) -> pd.DataFrame | None:
    """`make()` for a table a view can do without: a refusal by the release is noted in `refused[key]`, shown in its place."""
    try:
        return make()
    except DisclosureError as e:
        refused[key] = str(e)
        return None


class SessionRelease:
    """Opens the snapshot's release around each public tabulation of one explorer session.

    The session has one name ("explorer session 2026-12-04 18:20:05 UTC"); each output in the ledger is
    named by it and by the view's filters, so a later refusal says which earlier view it conflicts with.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, db: str | Path | None) -> None:
        self.con = con
        self.path = database_path(db, con)
        self.name = f"explorer session {datetime.now(timezone.utc):%Y-%m-%d %H:%M:%S} UTC"
        self._snapshot: str | None = None
        # Public tables (or refusals) this session already got, by question: a view visited again shows them as
        # they were, without protecting again (the release fixed those cells; protecting again gives the same).
        self._seen: OrderedDict[str, pd.DataFrame | DisclosureError] = OrderedDict()
        # the open release the kept tables were published in: (the ledger's id, the release's id); None: none yet
        self._release_id: tuple[str, int] | None = None
        self._ledger = LedgerCache()  # what the release published, decoded, kept up to date (analysis/disclosure)
        self._pending: list[str] | None = None  # inside `tentatively`: questions asked, kept only if the block keeps them

    def reopened(self, con: duckdb.DuckDBPyConnection) -> None:
        """The explorer reconnected (new data): later tables join the release of the snapshot it now reads."""
        self.con = con
        self._snapshot = None
        self._seen.clear()
        self._release_id = None
        self._ledger.clear()

    def snapshot(self) -> str:
        """The content hash of the data the explorer's connection reads (the release's key)."""
        if self._snapshot is None:
            self._snapshot = content_hash(self.con)[0]
        return self._snapshot

    def ask(self, view: str, fn: Callable[..., pd.DataFrame], *args: Any, **kw: Any) -> pd.DataFrame:
        """`fn(*args, **kw)` (an analysis API call); in public mode inside the release, and once per question per
        session: asked again, the table it published (or the refusal) is given back as it was, a copy."""
        disclosure = str(kw.get("disclosure", "restricted"))
        if disclosure != "public":
            return fn(*args, **kw)
        key = repr((self.snapshot(), fn.__module__, fn.__name__, args,
                    sorted((k, repr(v if not isinstance(v, dict) else sorted((a, repr(b)) for a, b in v.items())))
                           for k, v in kw.items() if k != "con")))
        if self._pending is None:
            self._sync()
        hit = self._seen.get(key)
        if hit is None:
            try:
                with self.scope(disclosure, view):
                    hit = fn(*args, **kw)
            except DisclosureError as e:
                hit = e
            self._seen[key] = hit
            if self._pending is None:
                self._release_id = self._open_release()
            else:
                self._pending.append(key)
            while len(self._seen) > 256:
                self._seen.popitem(last=False)
        self._seen.move_to_end(key)
        if isinstance(hit, DisclosureError):
            raise hit
        out = hit.copy()
        out.attrs = dict(hit.attrs)
        return out

    @contextmanager
    def tentatively(self, disclosure: str, view: str) -> Iterator[Callable[[], None]]:
        """Public tables asked inside (with `ask`) are published only if the block calls the `keep()` it is given;
        otherwise they are forgotten as if never asked: not recorded in the ledger, not kept for revisits.

        For a view that tries a table and may draw another instead: only what is shown is published. Keep the
        block short (the ledger is locked for writing while it runs). Restricted: nothing is recorded anyway.
        """
        if disclosure != "public":
            yield lambda: None
            return
        self._sync()
        kept = False

        def keep() -> None:
            nonlocal kept
            kept = True

        pending: list[str] = []
        self._pending = pending
        try:
            with self.scope(disclosure, view, hold=True):
                yield keep
                if not kept:
                    raise _Forget
        except _Forget:
            pass
        finally:
            self._pending = None
            if not kept:
                for key in pending:
                    self._seen.pop(key, None)
            self._release_id = self._open_release()

    def _open_release(self) -> tuple[str, int] | None:
        return open_release_key(ledger_path(self.path), self.snapshot())

    def _sync(self) -> None:
        """Drop the kept tables when the release they were published in is no longer open (a `release reset --force`):
        shown again, they would not be protected against what the new release publishes."""
        if self.path is None and not os.environ.get("LT_WORKBENCH_LEDGER"):
            return  # scope() says why public mode cannot run
        rid = self._open_release()
        if rid != self._release_id:
            self._seen.clear()
            self._release_id = rid

    @contextmanager
    def scope(self, disclosure: str, view: str, *, hold: bool = False) -> Iterator[None]:
        """Public tables made inside join the release (output named by the session and `view`); restricted: nothing.
        hold=True: recorded only when the block ends without an error (see `public_release`)."""
        if disclosure != "public":
            yield
            return
        if self.path is None and not os.environ.get("LT_WORKBENCH_LEDGER"):
            raise TabulationError(
                "public mode keeps a release ledger beside the database file, but this explorer reads an in-memory "
                "database: open it with Explorer(db=PATH), or set LT_WORKBENCH_LEDGER to a ledger file")
        with public_release(self.path, name=f"{self.name} · {view}", snapshot=self.snapshot(), hold=hold, cache=self._ledger):
            yield


class _Forget(Exception):
    """Ends a `tentatively` block whose tables were not kept: the held release then records nothing."""

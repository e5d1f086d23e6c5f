"""Releases: everything published from one database snapshot is protected together, and remembered.

The *ledger* is a small SQLite file beside the database (`<database>.releases.sqlite`), never
inside it (reads never write to the analytical database). It records, for the open release of each
snapshot (keyed by the snapshot's content hash), every public output: its name, profile, and
every cell it published — identity, true value, shown value and the interval a reader knows, or
hidden — and the additive lines between them. It holds true values: it is restricted material,
never published. A new snapshot starts a new release by itself; `lt-workbench release reset
--force` closes the open release of the current snapshot (see `reset` for what that risks).

Use: ``with release(db, name="board pack") as rel: protect(t, release=rel, question=...)`` or
``rel.protect_many([...])``. Two processes protecting against one release take turns (SQLite's
write lock, held from reading the ledger to recording the output).
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd

from lt_workbench.analysis.disclosure.ledger_cache import MEMO_MAX, LedgerCache
from lt_workbench.analysis.disclosure.problem import UNSEEN_KINDS, Fixed, Problem, adjacent_levels
from lt_workbench.exceptions import DisclosureError

__all__ = ["Release", "release", "ledger_path", "list_releases", "show_release", "reset_release", "open_release_id",
           "open_release_key", "RESET_RISK", "LedgerCache"]

RESET_RISK = ("tables of the old and the new release are not protected against each other: a reader who has both can "
              "combine them to recover hidden numbers, so use it only if the old release's outputs were never published "
              "or have been withdrawn")
"""What `lt-workbench release reset --force` risks: every message that suggests it says so, in these words."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS releases (
  release_id INTEGER PRIMARY KEY, snapshot TEXT NOT NULL, started TEXT NOT NULL, closed TEXT,
  profile TEXT, threshold INTEGER, database TEXT);
CREATE TABLE IF NOT EXISTS outputs (
  output_id INTEGER PRIMARY KEY, release_id INTEGER NOT NULL, name TEXT NOT NULL, created TEXT NOT NULL,
  cells INTEGER NOT NULL, hidden INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS cells (
  release_id INTEGER NOT NULL, key TEXT NOT NULL, kind TEXT NOT NULL, family TEXT NOT NULL, coords TEXT NOT NULL,
  value INTEGER NOT NULL, hidden INTEGER NOT NULL, shown INTEGER, lo INTEGER NOT NULL, hi INTEGER NOT NULL,
  output_id INTEGER NOT NULL, PRIMARY KEY (release_id, key));
CREATE INDEX IF NOT EXISTS cells_family ON cells (release_id, family);
CREATE TABLE IF NOT EXISTS lines (
  release_id INTEGER NOT NULL, total TEXT NOT NULL, parts TEXT NOT NULL, what TEXT NOT NULL,
  PRIMARY KEY (release_id, total, parts));
CREATE TABLE IF NOT EXISTS families (
  release_id INTEGER NOT NULL, family TEXT NOT NULL, additive TEXT NOT NULL, PRIMARY KEY (release_id, family));
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def ledger_path(db: str | Path | None) -> Path:
    """Where the release ledger of a database lives: $LT_WORKBENCH_LEDGER, else beside it, `<name>.releases.sqlite`."""
    from lt_workbench.config import DEFAULT_DB

    env = os.environ.get("LT_WORKBENCH_LEDGER")
    if env:
        return Path(env)
    p = Path(db) if db else DEFAULT_DB
    return p.with_name(p.name + ".releases.sqlite")


def _open(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path, timeout=120.0, isolation_level=None)
    con.executescript(_SCHEMA)
    return con


class Release:
    """The open release of one snapshot: loads what it published into a problem, records new outputs."""

    def __init__(self, ledger: str | Path, snapshot: str, *, name: str = "output", database: str = "",
                 hold: bool = False, cache: LedgerCache | None = None) -> None:
        self.path = Path(ledger)
        self.snapshot = snapshot
        self.name = name
        self.database = database
        self.hold = hold
        self.con = _open(self.path)
        self.release_id: int | None = None
        self._outputs: dict[int, str] = {}
        self._in_tx = False
        self._in_output = False
        self._loaded_lines: set[tuple[str, tuple[str, ...]]] = set()
        self._loaded_unseen: set[str] = set()
        self._loaded_span = (0, 0)  # problem.lines[a:b]: the lines load_into added from the ledger
        # What is read back from the ledger, decoded; a session (the explorer) passes one it keeps between tables.
        self.cache = cache if cache is not None else LedgerCache()
        self.ledger_id = ""
        self._uncommitted = False  # outputs recorded (held) and not yet committed

    # -- transaction: from reading the ledger to recording the output, one writer at a time. With hold=True
    # (a CLI command) recorded outputs stay uncommitted until commit(), so an output that is never written
    # (a bad --out, a crash) is never recorded; each output is a savepoint, so a refused one leaves the others.
    def begin(self) -> None:
        if not self._in_tx:
            self.con.execute("BEGIN IMMEDIATE")
            self._in_tx = True
            # The ledger file's own id (a recreated ledger numbers its releases from 1 again): what a cache is keyed on.
            self.con.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('ledger_id', lower(hex(randomblob(16))))")
            self.ledger_id = str(self.con.execute("SELECT value FROM meta WHERE key = 'ledger_id'").fetchone()[0])
        if self.hold and not self._in_output:
            self.con.execute("SAVEPOINT output")
            self._in_output = True
        row = self.con.execute(
            "SELECT release_id FROM releases WHERE snapshot = ? AND closed IS NULL ORDER BY release_id DESC LIMIT 1",
            (self.snapshot,)).fetchone()
        self.release_id = int(row[0]) if row else None

    def abort(self) -> None:
        """Forget the output being protected (and, unless held, everything uncommitted)."""
        if self.hold and self._in_output:
            self.con.execute("ROLLBACK TO output")
            self.con.execute("RELEASE output")
            self._in_output = False
            self._rolled_back()
        elif self._in_tx and not self.hold:
            self.con.execute("ROLLBACK")
            self._in_tx = False
            self._rolled_back()

    def _rolled_back(self) -> None:
        """A cache brought up to date while this connection held uncommitted outputs may hold rows that are gone now."""
        if self.cache.tentative:
            self.cache.clear()

    def commit(self) -> None:
        """Record for good every output protected so far (held outputs: call once they have been written)."""
        if self._in_output:
            self.con.execute("RELEASE output")
            self._in_output = False
        if self._in_tx:
            self.con.execute("COMMIT")
            self._in_tx = False
            self._uncommitted = False
            self.cache.tentative = False

    def close(self) -> None:
        """Close the ledger; whatever was not committed is forgotten (held outputs that were never written)."""
        if self._in_tx:
            self.con.execute("ROLLBACK")
            self._in_tx = self._in_output = False
            self._uncommitted = False
            self._rolled_back()
        self.con.close()

    def check_profile(self, profile: str, threshold: int) -> None:
        """Begin; refuse a profile or threshold other than the release's (one cell, one shown number)."""
        self.begin()
        if self.release_id is None:
            return
        row = self.con.execute("SELECT profile, threshold FROM releases WHERE release_id = ?", (self.release_id,)).fetchone()
        if row and row[0] and (row[0], row[1]) != (profile, threshold):
            self.abort()
            raise DisclosureError(
                f"this snapshot's release publishes under profile {row[0]!r} with threshold {row[1]}; a table under "
                f"{profile!r} with threshold {threshold} would show the same cells differently. Use --profile {row[0]}"
                f"{'' if row[1] is None else f' --threshold {row[1]}'}, or start a new release (`lt-workbench release reset --force`; "
                f"{RESET_RISK})"
            )

    def load_into(self, problem: Problem) -> list[str]:
        """Add what this release already published that the new cells are tied to; returns the earlier outputs.

        Loaded: every cell of the problem's families (a new cell may be one of them, or add up with them; with a
        code -> parent mapping, also the families one level up and down, for parent ≥ child), and
        then, transitively, every cell a recorded line ties to a loaded cell or to a new cell (a co-occurrence's
        n_ab and its unseen remainders behind a code's count, a comparison's rest and total behind a group's
        count), with those lines: a reader holds all of them, so the audit must too.
        """
        self._loaded_span = (0, 0)
        if self.release_id is None:
            return []
        cells_from = len(problem.keys)
        fams = sorted(set(problem.family) | (adjacent_levels(sorted(set(problem.family))) if problem.parents else set()))
        rid = self.release_id
        cache = self.cache
        cache.sync(self.con, self.ledger_id, rid, uncommitted=self._uncommitted)
        if len(cache.memo) > MEMO_MAX:
            cache.memo.clear()
        problem.memo = cache.memo
        self._outputs = dict(cache.outputs)
        rows = cache.family_rows(self.con, fams)
        lines = cache.lines
        # Closure over recorded lines: from the new cells and their families' earlier cells to everything tied to them.
        touching = cache.touching
        reached = set(problem.index) | {r[1] for r in rows}
        todo = list(reached)
        walked: set[int] = set()  # each line once (a range's line has a part per year: once per part was quadratic)
        while todo:
            for li in touching.get(todo.pop(), ()):
                if li in walked:
                    continue
                walked.add(li)
                t, pk, _, _ = lines[li]
                for k in (t, *pk):
                    if k not in reached:
                        reached.add(k)
                        todo.append(k)
        have = {r[1] for r in rows}
        rows += cache.key_rows(self.con, sorted(reached - have - set(problem.index)))
        used: set[str] = set()
        self._loaded_unseen = set()
        for row in rows:
            _, key, kind, family, _, value, hidden, shown, lo, hi, oid = row
            c = problem.known(key, kind, family, cache.coords(row), int(value))
            name = self._outputs.get(int(oid), f"output {oid}")
            if kind not in UNSEEN_KINDS:
                problem.fixed[c] = Fixed(bool(hidden), None if shown is None else int(shown), int(lo), int(hi), name)
            else:  # a latent cell was never shown: nothing to keep hidden, and a table of this problem may show it
                self._loaded_unseen.add(key)
            used.add(name)
        fams = sorted(set(problem.family))
        for i in range(0, len(fams), 500):
            chunk = fams[i:i + 500]
            for fam, additive in self.con.execute(
                    f"SELECT family, additive FROM families WHERE release_id = ? AND family IN ({','.join('?' * len(chunk))})",
                    (rid, *chunk)):
                problem.additive.setdefault(fam, set()).update(json.loads(additive))
        self._loaded_lines = set()
        first = len(problem.lines)
        # Every line with all its cells in the problem touches a reached cell, so it was walked; in the ledger's order.
        for li in sorted(walked, key=cache.line_order):
            total, pk, what, _ = lines[li]
            if total in problem.index and all(p in problem.index for p in pk):
                problem.add_line(problem.index[total], [problem.index[p] for p in pk], what)
                self._loaded_lines.add((total, pk))
        self._loaded_span = (first, len(problem.lines))
        problem.ledger_cells = range(cells_from, len(problem.keys))
        problem.ledger_lines = range(first, len(problem.lines))
        return sorted(used)

    def facts(self) -> dict[str, Any]:
        """About facts: which release this output belongs to."""
        n = len(self._outputs) + 1
        return {"release": f"snapshot {self.snapshot}, output {n} of its release (protected jointly with the earlier ones)"}

    def record(self, problem: Problem, names: Sequence[str], reason: Mapping[int, Any], shown: Sequence[int],
               lo: Sequence[int], hi: Sequence[int], profile: str, threshold: int) -> None:
        """Write the new output's cells, lines and families, and commit."""
        try:
            now = _now()
            if self.release_id is None:
                cur = self.con.execute(
                    "INSERT INTO releases (snapshot, started, profile, threshold, database) VALUES (?, ?, ?, ?, ?)",
                    (self.snapshot, now, profile, threshold, self.database))
                self.release_id = int(cur.lastrowid or 0)
            rid = self.release_id
            # new: not published before (a latent cell loaded as such and still unseen is in the ledger already)
            new = [c for c in range(len(problem.keys)) if c not in problem.fixed
                   and not (problem.kind[c] in UNSEEN_KINDS and problem.keys[c] in self._loaded_unseen)]
            name = self.name if len(names) <= 1 else f"{self.name} ({len(names)} tables)"
            if len(names) == 1 and names[0] != "table":
                name = f"{self.name}: {names[0]}"
            cur = self.con.execute(
                "INSERT INTO outputs (release_id, name, created, cells, hidden) VALUES (?, ?, ?, ?, ?)",
                (rid, name, now, sum(1 for c in new if problem.kind[c] not in UNSEEN_KINDS),
                 sum(1 for c in new if c in reason and problem.kind[c] not in UNSEEN_KINDS)))  # published cells only
            oid = int(cur.lastrowid or 0)
            # OR REPLACE: a cell an earlier output left latent (unseen) may be published now
            self.con.executemany(
                "INSERT OR REPLACE INTO cells VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(rid, problem.keys[c], problem.kind[c], problem.family[c], json.dumps(problem.coords[c], default=str),
                  problem.values[c], int(c in reason), None if c in reason else int(shown[c]),
                  int(lo[c]), int(hi[c]), oid) for c in new])
            keys = problem.keys
            loaded = range(*self._loaded_span)  # the lines load_into added: each is in _loaded_lines (not checked again)
            self.con.executemany(  # lines loaded from the ledger are there already
                "INSERT OR IGNORE INTO lines VALUES (?, ?, ?, ?)",
                [(rid, keys[t], json.dumps([keys[p] for p in parts]), what)
                 for li, ((t, parts), what) in enumerate(zip(problem.lines, problem.line_what, strict=True))
                 if li not in loaded and (keys[t], tuple(keys[p] for p in parts)) not in self._loaded_lines])
            for fam, dims in problem.additive.items():
                self.con.execute("INSERT OR REPLACE INTO families VALUES (?, ?, ?)", (rid, fam, json.dumps(sorted(dims))))
            if self.hold:
                self.con.execute("RELEASE output")  # kept in the open transaction until commit()
                self._in_output = False
                self._uncommitted = True
            else:
                self.commit()
        except BaseException:
            self.abort()
            raise


@contextmanager
def release(db: str | Path | None = None, *, name: str = "output", snapshot: str | None = None,
            ledger: str | Path | None = None) -> Iterator[Release]:
    """The open release of the database's current snapshot, for protect(..., release=rel)."""
    if snapshot is None:
        from lt_workbench.model.snapshot import snapshot as snap

        snapshot = str(snap(db)["content_hash"])
    rel = Release(ledger or ledger_path(db), snapshot, name=name, database=str(db or ""))
    try:
        yield rel
    finally:
        rel.close()


def list_releases(ledger: str | Path) -> pd.DataFrame:
    """Every release in a ledger: snapshot, when started/closed, profile, outputs, cells and hidden cells."""
    con = _open(Path(ledger))
    try:
        return pd.read_sql_query(
            "SELECT r.release_id, r.snapshot, r.started, coalesce(r.closed, 'open') AS status, r.profile, r.threshold, "
            "(SELECT count(*) FROM outputs o WHERE o.release_id = r.release_id) AS outputs, "
            "(SELECT count(*) FROM cells c WHERE c.release_id = r.release_id) AS cells, "
            "(SELECT coalesce(sum(hidden), 0) FROM cells c WHERE c.release_id = r.release_id) AS hidden "
            "FROM releases r ORDER BY r.release_id", con)
    finally:
        con.close()


def show_release(ledger: str | Path, release_id: int | None = None, snapshot: str | None = None) -> pd.DataFrame:
    """The outputs of one release (by id, else the open release of `snapshot`, else the latest)."""
    con = _open(Path(ledger))
    try:
        if release_id is None:
            sql = "SELECT release_id FROM releases WHERE (? IS NULL OR snapshot = ?) ORDER BY (closed IS NULL) DESC, release_id DESC"
            row = con.execute(sql, (snapshot, snapshot)).fetchone()
            if row is None:
                raise DisclosureError(f"no release in {ledger}" + (f" for snapshot {snapshot}" if snapshot else ""))
            release_id = int(row[0])
        elif con.execute("SELECT 1 FROM releases WHERE release_id = ?", (release_id,)).fetchone() is None:
            raise DisclosureError(f"no release {release_id} in {ledger}; `lt-workbench release list` shows them")
        df = pd.read_sql_query(
            "SELECT output_id, name, created, cells, hidden FROM outputs WHERE release_id = ? ORDER BY output_id",
            con, params=(release_id,))
        df.attrs["release_id"] = release_id
        return df
    finally:
        con.close()


def reset_release(ledger: str | Path, snapshot: str, *, force: bool) -> int:
    """Close the open release of `snapshot` (only with force); returns how many outputs it had (0: nothing open)."""
    con = _open(Path(ledger))
    try:
        con.execute("BEGIN IMMEDIATE")
        row = con.execute("SELECT release_id FROM releases WHERE snapshot = ? AND closed IS NULL", (snapshot,)).fetchone()
        if row is None:
            con.execute("ROLLBACK")
            return 0
        n = int(con.execute("SELECT count(*) FROM outputs WHERE release_id = ?", (row[0],)).fetchone()[0])
        if not force:
            con.execute("ROLLBACK")
            raise DisclosureError(
                f"snapshot {snapshot} has an open release with {n} public output(s). A new snapshot (a load) starts a new "
                f"release by itself. --force starts a new one on the same data: {RESET_RISK}"
            )
        con.execute("UPDATE releases SET closed = ? WHERE release_id = ?", (_now(), row[0]))
        con.execute("COMMIT")
        return n
    finally:
        con.close()


def open_release_key(ledger: str | Path, snapshot: str) -> tuple[str, int] | None:
    """(the ledger's id, the id of the open release of `snapshot`), or None (no ledger yet, or none open). Read-only.

    A recreated ledger numbers its releases from 1 again: the ledger's id tells its release 1 from the old one's."""
    path = Path(ledger)
    if not path.exists():
        return None
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=120.0)
    try:
        row = con.execute("SELECT max(release_id) FROM releases WHERE snapshot = ? AND closed IS NULL", (snapshot,)).fetchone()
        if row is None or row[0] is None:
            return None
        try:
            ident = con.execute("SELECT value FROM meta WHERE key = 'ledger_id'").fetchone()
        except sqlite3.OperationalError:  # a ledger written before ledgers had an id: it gets one at its next write
            ident = None
    except sqlite3.OperationalError:  # a ledger file without its tables yet
        return None
    finally:
        con.close()
    return ("" if ident is None else str(ident[0])), int(row[0])


def open_release_id(ledger: str | Path, snapshot: str) -> int | None:
    """The id of the open release of `snapshot` in `ledger`, or None (no ledger yet, or none open). Read-only."""
    path = Path(ledger)
    if not path.exists():
        return None
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=120.0)
    try:
        row = con.execute("SELECT max(release_id) FROM releases WHERE snapshot = ? AND closed IS NULL", (snapshot,)).fetchone()
    except sqlite3.OperationalError:  # a ledger file without its tables yet
        return None
    finally:
        con.close()
    return None if row is None or row[0] is None else int(row[0])

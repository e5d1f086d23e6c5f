"""What a session has already read and decoded of its release's ledger, brought up to date on every use.

A public explorer session protects each new view against everything its release published. Reading that
back from the ledger (release.py) for every new table — every recorded line decoded from JSON, the index of
which lines touch which cell rebuilt, the earlier cells' coordinates decoded — cost more than the protection
itself once the release held a few views (benchmarks/RESULTS.md). A `LedgerCache` keeps it between tables:

- **Brought up to date on every use, inside the ledger's write transaction** (`sync`, called by
  `Release.load_into` after `BEGIN IMMEDIATE`): the rows written since the last use are read by rowid (lines,
  cells, outputs are only ever inserted; a cell a later output shows after an earlier one left it latent is
  replaced, which gives it a new, larger rowid), so outputs the CLI, a report or another session published in
  between are always seen, and only they are read.
- **Keyed on the ledger and the release**: the ledger's random id (table `meta`, made by the first write
  transaction of a ledger file; a ledger deleted and recreated gets a new one, while its release ids start at 1
  again) and the open release's id (`release reset --force` opens a new one). Another key: everything is dropped.
- **Never keeps what was not committed**: read while its own connection holds outputs not yet committed (a held
  output, `public_release(hold=True)`), the cache is *tentative*; a rollback then drops it (an aborted held output's
  rows are forgotten by the ledger, and their rowids may be given to other rows), a commit confirms it.

Cells are read per family on first need (the families of the new table and one level up and down) and per key
(cells a recorded line ties to them), as `load_into` did; rows written later are all read. The order rows come
back in is the order the ledger's indexes gave before (family then rowid; key; lines by total then parts), so a
problem is built exactly as without the cache.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = ["LedgerCache", "CellRow", "CELL_COLUMNS", "MEMO_MAX"]

MEMO_MAX = 2_000_000
CELL_COLUMNS = "key, kind, family, coords, value, hidden, shown, lo, hi, output_id"
# (rowid, key, kind, family, coords as stored (JSON), value, hidden, shown, lo, hi, output_id)
CellRow = tuple[int, str, str, str, str, int, int, "int | None", int, int, int]


class LedgerCache:
    """Decoded ledger rows of one release, for one session (see the module docstring)."""

    def __init__(self) -> None:
        # Problem.memo for every problem this cache loads into: strings that depend on a cell's key alone (so they
        # stay true whatever happens to the ledger), kept for the session; dropped past MEMO_MAX entries.
        self.memo: dict[tuple[str, str], str] = {}
        self.clear()

    def clear(self) -> None:
        """Forget everything: the next use reads the release afresh."""
        self.ident: tuple[str, int] | None = None
        self.tentative = False
        self._line_mark: int | None = None
        self._cell_mark: int | None = None
        self._output_mark: int | None = None
        # lines: (total, parts, what, parts as stored), by position; touching: cell key -> positions of its lines
        self.lines: list[tuple[str, tuple[str, ...], str, str]] = []
        self.touching: dict[str, list[int]] = {}
        self.outputs: dict[int, str] = {}
        self._cells: dict[str, CellRow] = {}
        self._by_family: dict[str, set[str]] = {}
        self._complete: set[str] = set()  # families all of whose cells are in _cells
        self._coords: dict[str, tuple[int, dict[str, Any]]] = {}  # key -> (rowid, decoded coords)

    # -- bringing it up to date
    def sync(self, con: sqlite3.Connection, ledger_id: str, release_id: int, *, uncommitted: bool) -> None:
        """Read what the ledger gained since the last use (call inside the ledger's write transaction).

        uncommitted: the connection holds outputs of its own not yet committed (the cache is then tentative)."""
        if self.ident != (ledger_id, release_id):
            self.clear()
            self.ident = (ledger_id, release_id)
        if uncommitted:
            self.tentative = True
        rid = release_id
        if self._output_mark is None:
            rows = con.execute("SELECT output_id, release_id, name FROM outputs WHERE release_id = ?", (rid,)).fetchall()
            self._output_mark = _max(con, "outputs", "output_id")
        else:
            rows = con.execute("SELECT output_id, release_id, name FROM outputs WHERE output_id > ?", (self._output_mark,)).fetchall()
            self._output_mark = max([self._output_mark, *(int(r[0]) for r in rows)])
        self.outputs.update((int(o), str(n)) for o, r, n in rows if r == rid)
        if self._line_mark is None:
            lrows = con.execute("SELECT rowid, release_id, total, parts, what FROM lines WHERE release_id = ?", (rid,)).fetchall()
            self._line_mark = _max(con, "lines", "rowid")
        else:
            lrows = con.execute("SELECT rowid, release_id, total, parts, what FROM lines WHERE rowid > ?",
                                (self._line_mark,)).fetchall()
            self._line_mark = max([self._line_mark, *(int(r[0]) for r in lrows)])
        for _, r, total, parts, what in sorted(lrows):
            if r != rid:
                continue
            li = len(self.lines)
            pk = tuple(json.loads(parts))
            self.lines.append((total, pk, what, parts))
            for k in (total, *pk):
                self.touching.setdefault(k, []).append(li)
        if self._cell_mark is None:  # families and keys are read when first needed
            self._cell_mark = _max(con, "cells", "rowid")
        else:
            crows = con.execute(f"SELECT rowid, release_id, {CELL_COLUMNS} FROM cells WHERE rowid > ?", (self._cell_mark,)).fetchall()
            self._cell_mark = max([self._cell_mark, *(int(r[0]) for r in crows)])
            self._add(((r[0], *r[2:]) for r in crows if r[1] == rid))

    def _add(self, rows: Iterable[Sequence[Any]]) -> None:
        for row in rows:
            key, family = str(row[1]), str(row[3])
            old = self._cells.get(key)
            if old is not None and old[3] != family:
                self._by_family.get(old[3], set()).discard(key)
            self._cells[key] = tuple(row)
            self._by_family.setdefault(family, set()).add(key)

    # -- reading (after sync, in the same transaction)
    def family_rows(self, con: sqlite3.Connection, families: Sequence[str]) -> list[CellRow]:
        """Every cell of these families, ordered by family, then rowid."""
        assert self.ident is not None, "sync first"
        missing = sorted(set(families) - self._complete)
        for i in range(0, len(missing), 500):
            chunk = missing[i:i + 500]
            self._add(con.execute(f"SELECT rowid, {CELL_COLUMNS} FROM cells WHERE release_id = ? AND family IN "
                                  f"({','.join('?' * len(chunk))})", (self.ident[1], *chunk)).fetchall())
        self._complete.update(missing)
        out = [self._cells[k] for f in set(families) for k in self._by_family.get(f, ())]
        out.sort(key=lambda r: (r[3], r[0]))
        return out

    def key_rows(self, con: sqlite3.Connection, keys: Sequence[str]) -> list[CellRow]:
        """The cells with these keys that the release has, ordered by key."""
        assert self.ident is not None, "sync first"
        missing = sorted(k for k in set(keys) if k not in self._cells)
        for i in range(0, len(missing), 500):
            chunk = missing[i:i + 500]
            self._add(con.execute(f"SELECT rowid, {CELL_COLUMNS} FROM cells WHERE release_id = ? AND key IN "
                                  f"({','.join('?' * len(chunk))})", (self.ident[1], *chunk)).fetchall())
        return [self._cells[k] for k in sorted(set(keys)) if k in self._cells]

    def coords(self, row: CellRow) -> dict[str, Any]:
        """A cell's coordinates, decoded once per version of the cell (a copy: the caller may keep it)."""
        memo = self._coords.get(row[1])
        if memo is None or memo[0] != row[0]:
            memo = (row[0], json.loads(row[4]))
            self._coords[row[1]] = memo
        return dict(memo[1])

    def line_order(self, li: int) -> tuple[str, str]:
        """The order the ledger's lines index gives (total, then parts as stored)."""
        line = self.lines[li]
        return line[0], line[3]


def _max(con: sqlite3.Connection, table: str, column: str) -> int:
    row = con.execute(f"SELECT coalesce(max({column}), 0) FROM {table}").fetchone()
    return int(row[0]) if row else 0

"""The joint problem: every cell a release publishes, the additive lines between them, what is fixed.

A *cell* is one published number about a population: a count of units with a code, or a
denominator. Its identity (`key`) is the question it answers, not the table it sits in: the
family (frame, level, unit, filters, year basis; for denominators: unit, filters, year basis,
frame) and the coordinates, with a dimension at its total marker left out. So "Under 1, all
regions" in a national table and the 'All' row of a by-region table are one cell, and a later
table cannot show what an earlier one hid.

A *line* says total = sum(parts) over cells. Lines come from each table's declared hierarchies
and partition (checked: a declared line that does not add up is refused), and from the union of
every table of a family: along each additive dimension, cells that differ only in that dimension
add up to the cell without it, whichever tables they were published in (added where they do).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from lt_workbench.analysis.disclosure.families import _dumps, den_family, family_line, filters_of, units_at
from lt_workbench.exceptions import DisclosureError

__all__ = ["TableSpec", "Fixed", "Latent", "Link", "Problem", "total_mask", "as_counts", "UNSEEN_KINDS", "adjacent_levels"]

# Cells no output shows; a reader knows only that they are whole numbers ≥ 0 tied to shown cells by lines
# (e.g. the units with code a but not b under a co-occurrence table). "latent": a count of units that
# must not be narrowed (1..threshold-1 is primary, and audited); "slack": a remainder nobody's count
# protects (e.g. units with neither code), used only for the relations it carries.
UNSEEN_KINDS = ("latent", "slack")


def total_mask(col: pd.Series, marker: object) -> np.ndarray:
    """True where a dimension column holds its total marker (None: a missing value)."""
    if marker is None:
        return np.asarray(col.isna().to_numpy(), dtype=bool)
    return np.asarray((col.astype(object) == marker).fillna(False).to_numpy(dtype=bool), dtype=bool)


def as_counts(table: pd.DataFrame, column: str) -> np.ndarray:
    """A count column as int64, or a DisclosureError if it holds anything but whole numbers ≥ 0."""
    s = table[column]
    if s.isna().any():
        raise DisclosureError(f"column {column!r} has missing values; counts must be whole numbers ≥ 0")
    try:
        arr = s.to_numpy(dtype=float)
    except (TypeError, ValueError) as e:
        raise DisclosureError(f"column {column!r} must hold whole numbers ≥ 0: {e}") from None
    if (arr < 0).any() or (arr != np.floor(arr)).any():
        raise DisclosureError(f"column {column!r} must hold whole numbers ≥ 0")
    return arr.astype(np.int64)


def adjacent_levels(families: Sequence[str]) -> set[str]:
    """The families one level up and down of each count family with a level (where a parent's or child's cells are)."""
    out: set[str] = set()
    for f in families:
        try:
            fam = json.loads(f)
        except ValueError:
            continue
        level = fam.get("level") if isinstance(fam, dict) and fam.get("measure") == "count" else None
        if isinstance(level, int) and not isinstance(level, bool):
            out.update(_dumps({**fam, "level": lv}) for lv in (level - 1, level + 1) if lv >= 1)
    return out


def _plain(v: Any) -> Any:
    if isinstance(v, np.generic):
        return v.item()
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return None
    return v


@dataclass
class TableSpec:
    """One table to protect: its rows, dimension columns, declared hierarchies, and what question it answers."""

    table: pd.DataFrame
    dims: list[str]
    hierarchies: list[list[str]]
    markers: dict[str, object]
    partition: bool
    question: Mapping[str, Any] = field(default_factory=dict)
    name: str = "table"
    latent: bool = False  # cells no output shows unless another table (or an earlier output) does: see Problem.settle
    parents: Mapping[str, str] = field(default_factory=dict)  # code -> parent code (a unit with the code counts for it)


@dataclass(frozen=True)
class Fixed:
    """A cell an earlier output of the release already published: hidden, or shown as `shown` (interval lo..hi)."""

    hidden: bool
    shown: int | None
    lo: int
    hi: int
    output: str


@dataclass(frozen=True)
class Latent:
    """A cell no output shows (see UNSEEN_KINDS), named by its family and coordinates like any cell."""

    family: Mapping[str, Any]
    coords: Mapping[str, Any]
    value: int
    sensitive: bool = True  # "latent" (a count to protect) or "slack"


# A cell of a request: (index of the table in the call, row, "count" or "denominator"), or an unseen cell.
CellRef = tuple[int, int, str] | Latent


@dataclass(frozen=True)
class Link:
    """A relation across the tables of one call that their dimensions do not show: total = sum(parts).

    With unseen parts this carries inequalities a reader knows: n_a = n_ab + (a without b) says n_ab ≤ n_a.
    """

    total: CellRef
    parts: tuple[CellRef, ...]
    what: str


class Problem:
    """Cells (by identity), their true values, the lines over them, and cells fixed by earlier outputs."""

    def __init__(self) -> None:
        self.keys: list[str] = []
        self.index: dict[str, int] = {}
        self.values: list[int] = []
        self.kind: list[str] = []
        self.family: list[str] = []
        self.coords: list[dict[str, Any]] = []
        self.additive: dict[str, set[str]] = {}
        self.lines: list[tuple[int, tuple[int, ...]]] = []
        self.line_what: list[str] = []
        self._line_keys: set[tuple[int, tuple[int, ...]]] = set()
        self.fixed: dict[int, Fixed] = {}
        # (parent, child): count(parent) ≥ count(child), the same question one level up (see link_parents)
        self.parents: dict[str, str] = {}
        self.ineqs: list[tuple[int, int]] = []
        # per table spec: (count cell of each row, denominator cell of each row)
        self.rows: list[tuple[np.ndarray, np.ndarray]] = []
        # cells of latent tables (the single-value slices under a range or list filter) and cells of published ones
        self._latent_cells: set[int] = set()
        self._shown_cells: set[int] = set()
        # Strings computed from a cell's key alone (its coordinates without one dimension; its parent's key), by
        # (key, what): a session's release passes one dict it keeps (LedgerCache.memo), so a cell loaded for every
        # new table is serialised once per session, not once per table.
        self.memo: dict[tuple[str, str], str] = {}
        # The cells and lines Release.load_into made from the ledger (what earlier outputs published), by index.
        self.ledger_cells = range(0)
        self.ledger_lines = range(0)

    # -- cells
    def cell(self, family: str, coords: dict[str, Any], kind: str, value: int, extra: Any = None) -> int:
        """The id of a cell, made on first sight; a second sighting with another value is a contradiction."""
        key = _dumps([kind, family, coords, extra])
        i = self.index.get(key)
        if i is None:
            i = len(self.keys)
            self.index[key] = i
            self.keys.append(key)
            self.values.append(int(value))
            self.kind.append(kind)
            self.family.append(family)
            self.coords.append(coords)
        elif self.values[i] != int(value):
            raise DisclosureError(
                f"the same {kind} {coords or '(all)'} has two true values ({self.values[i]} and {value}); "
                "tables of one release must come from one snapshot"
            )
        return i

    def known(self, key: str, kind: str, family: str, coords: dict[str, Any], value: int) -> int:
        """A cell from the ledger, by its stored key (made on first sight)."""
        i = self.index.get(key)
        if i is None:
            i = len(self.keys)
            self.index[key] = i
            self.keys.append(key)
            self.values.append(int(value))
            self.kind.append(kind)
            self.family.append(family)
            self.coords.append(coords)
        elif self.values[i] != int(value):
            raise DisclosureError(f"the release's ledger holds {self.describe(i)} as {value}, this snapshot as {self.values[i]}")
        return i

    def add_line(self, total: int, parts: Sequence[int], what: str) -> None:
        """total = sum(parts); duplicates and empty lines are dropped."""
        parts = tuple(p for p in parts if p != total)
        key = (total, tuple(sorted(parts)))
        if not parts or key in self._line_keys:
            return
        self._line_keys.add(key)
        self.lines.append((total, parts))
        self.line_what.append(what)

    # -- tables
    def add_table(self, spec: TableSpec, count: np.ndarray, den: np.ndarray) -> None:
        """Register a table's rows as cells and its declared lines (checked against the true values)."""
        t = spec.table
        q = dict(spec.question)
        fam_count = _dumps({"measure": "count", **q})
        fam_den = _dumps({"measure": "denominator", **{k: v for k, v in q.items() if k not in ("level",)}})
        in_lines = {c for h in spec.hierarchies for c in h}
        for fam in (fam_count, fam_den):
            self.additive.setdefault(fam, set()).update(in_lines)
        is_total = {c: total_mask(t[c], spec.markers[c]) for c in in_lines}
        cols = {c: t[c].tolist() for c in spec.dims}
        codes = t["code"].tolist()
        n = len(t)
        ccell = np.empty(n, dtype=np.int64)
        dcell = np.empty(n, dtype=np.int64)
        for r in range(n):
            coords = {c: _plain(cols[c][r]) for c in spec.dims if not (c in is_total and is_total[c][r])}
            ccell[r] = self.cell(fam_count, {**coords, "code": _plain(codes[r])}, "count", int(count[r]))
            dcell[r] = self.cell(fam_den, coords, "denominator", int(den[r]), extra=int(den[r]))
        self.rows.append((ccell, dcell))
        (self._latent_cells if spec.latent else self._shown_cells).update(ccell.tolist(), dcell.tolist())
        self.parents.update({str(k): str(v) for k, v in spec.parents.items()})
        for h in spec.hierarchies:
            self._declared_hierarchy(spec, h, is_total, ccell, dcell)
        if spec.partition:
            self._partition(spec, ccell, dcell)

    def _declared_hierarchy(self, spec: TableSpec, hierarchy: list[str], is_total: Mapping[str, np.ndarray],
                            ccell: np.ndarray, dcell: np.ndarray) -> None:
        t = spec.table
        keys = ["code", *spec.dims]
        finer_total = np.ones(len(t), dtype=bool)
        for i, h in enumerate(hierarchy):
            parts_mask = finer_total & ~is_total[h]
            tot_mask = finer_total & is_total[h]
            coarser = hierarchy[i + 1] if i + 1 < len(hierarchy) else "total"
            label = f"{h}→{coarser}"
            group_cols = [k for k in keys if k not in hierarchy[: i + 1]]
            rows = np.flatnonzero(parts_mask | tot_mask)
            if rows.size:
                sub = t.iloc[rows]
                groups = sub.groupby(group_cols, dropna=False, sort=False).indices if group_cols else {(): np.arange(rows.size)}
                for gkey, local in groups.items():
                    members = rows[local]
                    totals = [int(r) for r in members if tot_mask[r]]
                    parts = [int(r) for r in members if parts_mask[r]]
                    gvals = gkey if isinstance(gkey, tuple) else (gkey,)
                    where = ", ".join(f"{c} {v}" for c, v in zip(group_cols, gvals, strict=True))
                    if len(totals) > 1:
                        raise DisclosureError(f"line {label} for {where}: {len(totals)} total rows, expected one")
                    if not totals or not parts:
                        continue
                    what = f"{label} for {where}" if where else label
                    tot = totals[0]
                    s = sum(self.values[int(ccell[r])] for r in parts)
                    if s != self.values[int(ccell[tot])]:
                        raise DisclosureError(
                            f"declared line {what} does not add up: parts sum to {s}, total row says "
                            f"{self.values[int(ccell[tot])]}; declare only single-valued dimensions with complete totals"
                        )
                    self.add_line(int(ccell[tot]), [int(ccell[r]) for r in parts], what)
                    dparts = [int(dcell[r]) for r in parts]
                    dtot = int(dcell[tot])
                    if len(set(dparts)) == len(dparts) and dtot not in dparts:
                        if sum(self.values[d] for d in dparts) == self.values[dtot]:
                            self.add_line(dtot, dparts, f"{what} (denominator)")
            finer_total = finer_total & is_total[h]

    def _partition(self, spec: TableSpec, ccell: np.ndarray, dcell: np.ndarray) -> None:
        t = spec.table
        dims = spec.dims
        groups = t.groupby(dims, dropna=False, sort=False).indices if dims else {(): np.arange(len(t))}
        for gkey, members in groups.items():
            gvals = gkey if isinstance(gkey, tuple) else (gkey,)
            where = ", ".join(f"{c} {v}" for c, v in zip(dims, gvals, strict=True)) or "the whole table"
            dens = {int(dcell[r]) for r in members}
            if len(dens) != 1:
                raise DisclosureError(
                    f"partition=True but the codes for {where} have different denominators; "
                    "codes that partition the denominator share it"
                )
            d = dens.pop()
            s = sum(self.values[int(ccell[r])] for r in members)
            if s != self.values[d]:
                raise DisclosureError(
                    f"partition=True but the counts for {where} sum to {s}, not the denominator "
                    f"{self.values[d]}: is this a multi-valued frame, or are some codes missing?"
                )
            self.add_line(d, [int(ccell[r]) for r in members], f"codes→denominator for {where}")

    def link_families(self) -> None:
        """Lines across tables: along each dimension, cells differing only in it that add up to the cell without it
        (exact where their units add up too, else with the rest's count as a slack cell: see families.family_line)."""
        by_family: dict[str, list[int]] = {}
        for i, f in enumerate(self.family):
            by_family.setdefault(f, []).append(i)
        memo = self.memo
        units = units_at(self.family, self.coords, self.values)
        for fam, cells in by_family.items():
            # Declared additive dimensions, and any other dimension whose parts happen to add up to a cell
            # without it: a true equation, exact where the parts' units make up the total's (else with a slack).
            dims = set(self.additive.get(fam, ())) | {d for i in cells for d in self.coords[i] if d != "code"}
            den_fam = den_family(fam)
            for dim in sorted(dims):
                groups: dict[str, list[int]] = {}
                totals: dict[str, list[int]] = {}
                for i in cells:
                    co = self.coords[i]
                    rest = memo.get((self.keys[i], dim))  # the key holds the coordinates: one key, one rest
                    if rest is None:
                        rest = memo[self.keys[i], dim] = _dumps({k: v for k, v in co.items() if k != dim})
                    (groups if dim in co else totals).setdefault(rest, []).append(i)
                for rest, parts in groups.items():
                    tot = totals.get(rest)
                    if not tot or len(tot) != 1:
                        continue
                    if sum(self.values[p] for p in parts) != self.values[tot[0]]:
                        continue
                    family_line(self, fam, dim, rest, tot[0], parts, den_fam, units)

    def link_parents(self) -> None:
        """Inequalities a reader knows: a unit with a child code also counts for its parent (review_codes rolls codes
        up), so count(parent) ≥ count(child) for the same question one level up, at the same coordinates."""
        if not self.parents:
            return
        seen = set(self.ineqs)
        up: dict[str, str | None] = {}  # family -> the same family one level up (None: no level above)
        memo = self.memo
        for i, kind in enumerate(self.kind):
            code = self.coords[i].get("code") if kind == "count" else None
            parent = self.parents.get(str(code)) if code is not None else None
            if parent is None:
                continue
            family = self.family[i]
            if family not in up:
                fam = json.loads(family)
                level = fam.get("level")
                up[family] = _dumps({**fam, "level": level - 1}) if isinstance(level, int) and level >= 2 else None
            fam_up = up[family]
            if fam_up is None:
                continue
            key = memo.get((self.keys[i], "parent " + parent))
            if key is None:
                key = memo[self.keys[i], "parent " + parent] = _dumps(["count", fam_up, {**self.coords[i], "code": parent}, None])
            j = self.index.get(key)
            if j is not None and j != i and (j, i) not in seen:
                seen.add((j, i))
                self.ineqs.append((j, i))

    def add_links(self, links: Sequence[Link]) -> None:
        """Lines from links (cells of the tables already added, by row; unseen cells made here), checked to add up."""
        def cell_of(ref: CellRef) -> int:
            if isinstance(ref, Latent):
                kind = "latent" if ref.sensitive else "slack"
                return self.cell(_dumps({"measure": kind, **dict(ref.family)}), {k: _plain(v) for k, v in ref.coords.items()},
                                 kind, int(ref.value))
            table, row, column = ref
            ccell, dcell = self.rows[table]
            return int((ccell if column == "count" else dcell)[row])

        for link in links:
            tot = cell_of(link.total)
            parts = [cell_of(p) for p in link.parts]
            if sum(self.values[p] for p in parts) != self.values[tot]:
                raise DisclosureError(f"link {link.what} does not add up: parts sum to {sum(self.values[p] for p in parts)}, "
                                      f"total is {self.values[tot]}")
            self.add_line(tot, parts, link.what)

    def settle(self) -> None:
        """Cells of latent tables that no table of this problem shows and no earlier output published become latent
        counts (unseen, protected like hidden cells); the others keep their identity and are what that output shows.

        A latent cell keeps its key, so a later table publishing the same question (the slice by year or region) is
        the same cell. Call after the release's earlier outputs are loaded (Release.load_into).
        """
        for c in self._latent_cells - self._shown_cells:
            if c not in self.fixed and self.kind[c] not in UNSEEN_KINDS:
                self.kind[c] = "latent"

    def unseen(self) -> dict[int, bool]:
        """Cells no output shows: cell -> True when it is a count to protect (latent), False for slack."""
        return {c: k == "latent" for c, k in enumerate(self.kind) if k in UNSEEN_KINDS}

    # -- structure
    def blocks(self) -> list[tuple[list[int], list[int]]]:
        """Cells connected through lines (and parent ≥ child inequalities): (cells, line indices) for each block."""
        n = len(self.keys)
        parent = list(range(n))

        def find(c: int) -> int:
            while parent[c] != c:
                parent[c] = parent[parent[c]]
                c = parent[c]
            return c

        for tot, parts in [*self.lines, *((a, (b,)) for a, b in self.ineqs)]:
            r = find(tot)
            for p in parts:
                q = find(p)
                if q != r:
                    parent[q] = r
        cells_of: dict[int, list[int]] = {}
        lines_of: dict[int, list[int]] = {}
        for li, (tot, _) in enumerate(self.lines):
            lines_of.setdefault(find(tot), []).append(li)
        for c in range(n):
            cells_of.setdefault(find(c), []).append(c)
        return [(cells_of[r], lines_of.get(r, [])) for r in sorted(cells_of)]

    def untouched(self, cells: Sequence[int], line_ids: Sequence[int]) -> bool:
        """A block that is all earlier outputs' (every cell and line made from the ledger by load_into; the caller
        checks it has no parent ≥ child inequality): no cell of this call is in it, and nothing found now ties it.

        Such a block is exactly what an earlier output audited: the last output that recorded one of its cells or
        lines had the whole block in its problem (load_into's closure over recorded lines loads every cell and line
        tied to a new cell) and audited it with these hidden cells and these shown figures, or with more lines."""
        cf, lf = self.ledger_cells, self.ledger_lines
        return bool(line_ids) and all(c in cf for c in cells) and all(li in lf for li in line_ids)

    def describe(self, cell: int) -> str:
        """A cell in words for messages: what it counts and where, with the filters of its question (year 2015..2025)."""
        co = ", ".join(f"{k} {v}" for k, v in {**filters_of(self.family[cell]), **self.coords[cell]}.items())
        return f"{self.kind[cell]} ({co or 'all'})"

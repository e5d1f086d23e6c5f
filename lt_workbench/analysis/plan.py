"""The query plan: how a frame, unit, `by` and `where` become FROM/JOIN/WHERE text and bound parameters.

Scope → SQL exists once, here: every tabulation (frequency, recurrence, compare, co-occurrence,
records, recommendations) builds its population from a `_Plan`. Also the read-only connection.
"""

from __future__ import annotations

import itertools
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

import duckdb

from lt_workbench.analysis.vocab import UNITS, YEAR_BASES, Dim, FrameSpec, WhereValues, YearSpan, _dim, _values, frame_spec
from lt_workbench.config import DEFAULT_DB, DEFAULT_TAXONOMY_VERSION
from lt_workbench.exceptions import DatabaseError, TabulationError
from lt_workbench.model.db import connect

__all__ = ["refuse_public_area"]


_REQUIRED_TABLES = ("review_codes", "child_codes", "episode_codes", "coding_codes", "stg_reviews")


@contextmanager
def _connection(db: str | Path | None, con: duckdb.DuckDBPyConnection | None) -> Iterator[duckdb.DuckDBPyConnection]:
    """Use the caller's connection, or open the database read-only (tabulations never write)."""
    if con is not None:
        yield con
        return
    c = connect(db, read_only=True)
    try:
        have = {n for (n,) in c.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        missing = [t for t in _REQUIRED_TABLES if t not in have]
        if missing:
            # Reads never write: a database from before the derived tables existed is reported, not migrated.
            path = db if db is not None else DEFAULT_DB
            raise DatabaseError(
                f"database {path} lacks {', '.join(missing)}: it was written by an older lt-workbench. A writer brings it "
                f"up to date (tabulations only read): run `lt-workbench load PATH... --db {path}` once, then try again"
            )
        yield c
    finally:
        c.close()


def _placeholders(n: int) -> str:
    return ", ".join("?" for _ in range(n))


def _predicate(column: str, vals: WhereValues) -> tuple[str, list[Any]]:
    """`column` restricted to the filter's values: a range predicate for a YearSpan, else IN (?, ...)."""
    if isinstance(vals, YearSpan):
        if vals.lo is not None and vals.hi is not None:
            return f"{column} BETWEEN ? AND ?", [vals.lo, vals.hi]
        if vals.lo is not None:
            return f"{column} >= ?", [vals.lo]
        return f"{column} <= ?", [vals.hi]
    return f"{column} IN ({_placeholders(len(vals))})", list(vals)


def refuse_public_area(where: Mapping[str, Any] | None, disclosure: str, what: str = "where") -> None:
    """Public output never selects or names one area: an area filter (or group) is refused, as an area dimension is.

    The message does not repeat the value (it may be an area's code or name).
    """
    if disclosure != "public" or not where:
        return
    for key in where:
        if _dim(key).name == "area":
            raise TabulationError(
                f"{what} area=...: public output never shows one area's figures (areas are as small as a few children); "
                "filter by region or nation instead, or use restricted mode (--disclosure restricted) inside the secure "
                "environment"
            )


def _period_bins(con: duckdb.DuckDBPyConnection, year_col: str, periods: int | Sequence[int]) -> list[tuple[int, str]]:
    """(start year, label) bins, latest first: equal widths anchored at 2008, or explicit start years."""
    if isinstance(periods, int):
        if periods < 1:
            raise TabulationError(f"periods={periods}: a period is at least 1 year long")
        lo, hi = con.execute(f"SELECT min({year_col}), max({year_col}) FROM stg_reviews").fetchall()[0]
        if lo is None:
            return []
        first = 2008 + ((lo - 2008) // periods) * periods
        starts = list(range(first, hi + 1, periods))
        return [(s, f"{s}-{s + periods - 1}") for s in reversed(starts)]
    starts = sorted({int(s) for s in periods})
    if not starts:
        raise TabulationError("periods: give a length in years or at least one start year")
    bins = [(s, f"{s}-{nxt - 1}") for s, nxt in itertools.pairwise(starts)] + [(starts[-1], f"{starts[-1]} onwards")]
    return list(reversed(bins))


@dataclass
class _Plan:
    """The pieces of one tabulation query: FROM/JOIN text, WHERE conditions and their bound parameters."""

    frame: FrameSpec
    unit: str
    by: list[Dim]
    where: list[tuple[Dim, WhereValues]]
    level: int | None
    year_col: str
    bins: list[tuple[int, str]]
    need_child: bool = False
    need_harm: bool = False
    need_episode: bool = False
    member: str = "review"
    extra_recorded: list[Dim] = field(default_factory=list)  # dimensions summed over in a total row
    version: str = DEFAULT_TAXONOMY_VERSION

    # ---- SQL pieces
    def base_cte(self) -> tuple[str, list[Any]]:
        if self.bins:
            cases = " ".join("WHEN s.{y} >= ? THEN ?".format(y=self.year_col) for _ in self.bins)
            period = f"CASE WHEN s.{self.year_col} IS NULL THEN NULL {cases} ELSE NULL END"
            params = [x for start, label in self.bins for x in (start, label)]
        else:
            period, params = "CAST(NULL AS VARCHAR)", []
        return f"WITH r AS (SELECT s.*, s.{self.year_col} AS year, {period} AS period FROM stg_reviews AS s)", params

    def joins(self, with_member: bool) -> tuple[str, list[Any]]:
        parts, params = ["FROM r"], []
        if self.need_child:
            parts.append("JOIN children AS c ON c.review_id = r.review_id")
        if self.need_harm:
            parts.append("LEFT JOIN child_harm_types AS h ON h.review_id = c.review_id AND h.child_no = c.child_no")
        if self.need_episode:
            parts.append("JOIN episodes AS e ON e.review_id = r.review_id")
        if self.unit == "coding":
            # Codings are the population itself: joined for the denominator too (distinct codings).
            src = ("(SELECT DISTINCT review_id, coding_key, episode_id, root, qualifier FROM coding_codes WHERE frame = ?)"
                   if not with_member else "coding_codes")
            cond = "m.review_id = r.review_id" + (" AND m.frame = ?" if with_member else "")
            if self.need_episode:
                cond += " AND m.episode_id = e.episode_id"
            parts.append(f"JOIN {src} AS m ON {cond}")
            params.append(self.frame.name)
        elif with_member:
            if self.member == "child":
                parts.append("JOIN child_codes AS m ON m.review_id = c.review_id AND m.child_no = c.child_no AND m.frame = ?")
            elif self.member == "episode":
                parts.append("JOIN episode_codes AS m ON m.review_id = e.review_id AND m.episode_id = e.episode_id AND m.frame = ?")
            else:
                parts.append("JOIN review_codes AS m ON m.review_id = r.review_id AND m.frame = ?")
            params.append(self.frame.name)
        return "\n".join(parts), params

    def key(self) -> str:
        """The unit as one value, for count(DISTINCT ...)."""
        return " || '#' || ".join(self.key_columns())

    def key_columns(self) -> list[str]:
        """The columns that identify one unit."""
        return {
            "review": ["r.review_id"],
            "child": ["r.review_id", "c.child_no"],
            "episode": ["r.review_id", "e.episode_id"],
            "coding": ["r.review_id", "m.coding_key"],
            "area": ["r.area_code"],
        }[self.unit]

    def conditions(self, *, with_member: bool, population_only: bool) -> tuple[list[str], list[Any]]:
        """Filters; coding-level filters apply to the membership, and to the population only for unit=coding."""
        conds: list[str] = []
        params: list[Any] = []
        for d, vals in self.where:
            if d.level == "coding" and not with_member and self.unit != "coding":
                continue
            if d.level == "review_set":
                assert not isinstance(vals, YearSpan)
                conds.append(f"r.review_id IN (SELECT review_id FROM review_codes WHERE frame = ? AND code IN ({_placeholders(len(vals))}))")
                params.extend([d.column, *vals])
            else:
                cond, p = _predicate(d.column, vals)
                conds.append(cond)
                params.extend(p)
        if with_member and self.level is not None:
            conds.append("m.depth = ?")
            params.append(self.level)
        return conds, params

    def recorded(self, dims: Sequence[Dim]) -> list[str]:
        """'Recorded' conditions: the frame's own, and a non-null value for each dimension shown or summed over."""
        conds = [self.frame.recorded] if self.frame.recorded else []
        seen: list[Dim] = []
        for d in [*dims, *self.extra_recorded]:
            if d not in seen and d.level != "review_set":
                seen.append(d)
        conds += [f"{d.column} IS NOT NULL" for d in seen]
        return conds

    def population_by(self) -> list[Dim]:
        return [d for d in self.by if d.level != "coding" or self.unit == "coding"]


def _plan(
    con: duckdb.DuckDBPyConnection,
    frame: str,
    unit: str,
    by: Sequence[str],
    where: Mapping[str, Any],
    level: int | None,
    year_basis: str,
    periods: int | Sequence[int],
    version: str,
) -> _Plan:
    spec = frame_spec(frame)
    if unit not in UNITS:
        raise TabulationError(f"unknown unit {unit!r}: units are {', '.join(UNITS)}")
    if year_basis not in YEAR_BASES:
        raise TabulationError(f"unknown year_basis {year_basis!r}: use one of {', '.join(YEAR_BASES)}")
    if unit == "coding" and "coding" not in spec.sources:
        raise TabulationError(
            f"unit 'coding' counts individual codings; frame {spec.cli!r} has none (it is one value per "
            f"{spec.native}): use unit review or {spec.native}"
        )
    if level is not None:
        if not spec.hierarchical and level != 1:
            raise TabulationError(f"frame {spec.cli!r} is flat: level must be 1 or omitted, got {level}")
        if level < 1 or level > 3:
            raise TabulationError(f"level must be 1, 2 or 3 (depth in the frame), got {level}")
    by_dims = [_dim(b) for b in by]
    if len({d.name for d in by_dims}) != len(by_dims):
        raise TabulationError(f"by: a dimension is repeated in {list(by)}")
    for d in by_dims:
        if not d.by:
            raise TabulationError(f"{d.name!r} can filter (where) but not group (by); to cross it with a frame use cooccurrence()")
    where_dims = [(_dim(k), v) for k, v in where.items()]
    for d in [*by_dims, *[w for w, _ in where_dims]]:
        if d.level == "coding" and spec.name not in d.applies_to:
            raise TabulationError(
                f"{d.name!r} qualifies {', '.join(d.applies_to)} codings and cannot apply to frame {spec.cli!r}; "
                f"tabulate {d.applies_to[0]} instead, or use cooccurrence() to cross frames"
            )
    year_col = YEAR_BASES[year_basis]
    uses_period = any(d.name == "period" for d in by_dims) or any(d.name == "period" for d, _ in where_dims)
    bins = _period_bins(con, year_col, periods) if uses_period else []
    parsed = [(d, _values(d, v, version)) for d, v in where_dims]
    if bins:
        labels = {lab for _, lab in bins}
        for d, vals in parsed:
            if d.name == "period" and not isinstance(vals, YearSpan) and not set(vals) <= labels:
                raise TabulationError(f"where period={vals}: periods in these data are {', '.join(sorted(labels))}")
    levels = {d.level for d in by_dims} | {d.level for d, _ in parsed}
    plan = _Plan(spec, unit, by_dims, parsed, level, year_col, bins, version=version)
    plan.need_harm = "harm" in levels
    plan.need_child = unit == "child" or spec.native == "child" or bool(levels & {"child", "harm"})
    plan.need_episode = unit == "episode" or spec.native == "episode" or "episode" in levels
    if unit == "coding":
        plan.member = "coding"
        if plan.need_episode and spec.name not in ("patterns", "factors"):
            raise TabulationError(f"episode filters cannot apply to {spec.cli} codings, which are not tied to episodes")
    elif spec.native == "child":
        plan.member = "child"
    elif plan.need_episode and "episode" in spec.sources:
        plan.member = "episode"
    elif plan.need_episode and spec.name in ("practice_points", "family_factor"):
        plan.member = "review"  # review-level codes of reviews with a matching episode
    else:
        plan.member = "review"
    return plan


def _scope(plan: _Plan, unit: str = "review") -> tuple[str, list[Any]]:
    """SELECT DISTINCT review_id (and episode_id for unit=episode) of the units in scope, as a CTE body."""
    cte, cte_params = plan.base_cte()
    j, jp = plan.joins(with_member=False)
    conds, cp = plan.conditions(with_member=False, population_only=True)
    conds += plan.recorded([])
    cols = "r.review_id, e.episode_id" if unit == "episode" else "r.review_id, r.year, r.area_code, r.region"
    where = f"WHERE {' AND '.join(conds)}" if conds else ""
    return f"{cte}, scope AS (SELECT DISTINCT {cols} {j} {where})", cte_params + jp + cp


def _coding_filters(plan: _Plan, alias: str, frame: str) -> tuple[str, list[Any]]:
    """Coding-level filters (direction, influence, factor_level) that qualify `frame`, on `alias`."""
    conds: list[str] = []
    params: list[Any] = []
    for d, vals in plan.where:
        if d.level == "coding" and frame in d.applies_to and not isinstance(vals, YearSpan):
            col = f"{alias}.root" if d.name == "factor_level" else f"{alias}.qualifier"
            conds.append(f"{col} IN ({_placeholders(len(vals))})")
            params.extend(vals)
    return "".join(f" AND {c}" for c in conds), params


def _coding_lists(plan: _Plan, frame: str) -> tuple[list[str] | None, list[str] | None]:
    """Coding-level filters that qualify `frame` as bound lists: (qualifiers kept, roots kept); None = no filter.

    For the static queries in sql/queries, which test `CAST(? AS VARCHAR[]) IS NULL OR list_contains(?, col)`.
    """
    qualifiers: list[str] | None = None
    roots: list[str] | None = None
    for d, vals in plan.where:
        if d.level == "coding" and frame in d.applies_to and not isinstance(vals, YearSpan):
            kept = [str(v) for v in vals]  # coding dimensions are never years
            if d.name == "factor_level":
                roots = kept if roots is None else [v for v in roots if v in kept]
            else:
                qualifiers = kept if qualifiers is None else [v for v in qualifiers if v in kept]
    return qualifiers, roots


def _scope_plan(con: duckdb.DuckDBPyConnection, frame: str, where: Mapping[str, Any], year_basis: str, version: str, unit: str = "review",
                level: int | None = None) -> _Plan:
    """A plan used only for its filters; coding-level filters on other frames are allowed (cross-frame tables)."""
    spec = frame_spec(frame)
    own = {k: v for k, v in where.items() if _dim(k).level != "coding" or spec.name in _dim(k).applies_to}
    plan = _plan(con, frame, unit, (), own, level, year_basis, 5, version)
    plan.where += [(_dim(k), _values(_dim(k), v, version)) for k, v in where.items() if k not in own]
    return plan

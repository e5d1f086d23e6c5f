"""Cross-review tabulations as tidy pandas DataFrames: which patterns recur, where, and over time.

Every table states its counting unit (review by default; child, episode, coding or area) and carries
count, denominator, percent and a Wilson 95% interval. The SQL reads the derived tables built at load
time (sql/derived: review_codes, child_codes, episode_codes, coding_codes), so
roll-ups through the frames are joins, never a review counted twice. Python only composes: identifiers
come from the whitelists below (FRAMES, DIMENSIONS, UNITS, YEAR_BASES), every user value is bound as a
parameter. Results default to restricted (full numbers, marked so); `disclosure="public"` passes them
through lt_workbench.analysis.disclosure.protect with the additive lines each table really has.
"""

from __future__ import annotations

import datetime as dt
import difflib
import itertools
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterator, Literal, Mapping, Sequence

import duckdb
import numpy as np
import pandas as pd

from lt_workbench.analysis import stats
from lt_workbench.config import DEFAULT_TAXONOMY_VERSION
from lt_workbench.model.db import connect
from lt_workbench.exceptions import TabulationError

__all__ = [
    "UNITS",
    "UNIT_LABELS",
    "YEAR_BASES",
    "FRAMES",
    "FRAME_ALIASES",
    "DIMENSIONS",
    "SERIES_BREAKS",
    "PERFORMANCE_CAVEAT",
    "FrameSpec",
    "Dim",
    "frame_spec",
    "dimensions",
    "frequency",
    "recurrence",
    "trend",
    "trend_tests",
    "compare",
    "funnel",
    "cooccurrence",
    "evidence",
    "proposed_patterns",
    "recommendations",
    "overdue",
    "unaddressed_patterns",
    "apply_disclosure",
    "parse_where",
]

Unit = Literal["review", "child", "episode", "coding", "area"]
Disclosure = Literal["restricted", "public"]

UNITS: tuple[str, ...] = ("review", "child", "episode", "coding", "area")
UNIT_LABELS = {"review": "reviews", "child": "children", "episode": "key practice episodes", "coding": "codings", "area": "areas"}
# year_basis -> column of stg_reviews (whitelist: the only year columns that reach SQL).
YEAR_BASES = {"completed": "year_completed", "commissioned": "year_commissioned", "published": "year_published"}

SERIES_BREAKS: tuple[dict[str, Any], ...] = (
    {
        "from_year": 2018,
        "to_year": 2019,
        "note": "Serious case reviews (SCR) gave way to local child safeguarding practice reviews (CSPR) in England "
        "in 2018-19 (Working Together 2018): thresholds and numbers of reviews changed, so counts either side of "
        "the break are not directly comparable.",
    },
)
PERFORMANCE_CAVEAT = (
    "Counts of reviews are not a performance measure: how many reviews an area commissions depends on its size, "
    "its thresholds and its learning culture, not on how safe its children are. Compare with care; never rank."
)


# --------------------------------------------------------------------------------------------
# Whitelists: frames, dimensions


@dataclass(frozen=True)
class FrameSpec:
    """A countable frame: where its codes live and how they count.

    native: grain of the codes (review, child or episode); sources: derived tables holding it
    (review_codes, child_codes, episode_codes, coding_codes); single_per: units at which each unit has
    exactly one code (so codes partition the denominator); recorded: SQL condition on the review (alias r)
    for 'recorded at all' — reviews failing it leave the denominator; qualifier: the coding attribute
    kept beside each code (direction or influence).
    """

    name: str
    cli: str
    native: str
    sources: tuple[str, ...]
    hierarchical: bool = False
    single_per: tuple[str, ...] = ()
    recorded: str | None = None
    qualifier: str | None = None


_REVIEW_SINGLE = ("review", "child", "episode")
FRAMES: dict[str, FrameSpec] = {
    f.name: f
    for f in (
        FrameSpec("patterns", "patterns", "review", ("review", "episode", "coding"), True, qualifier="direction"),
        FrameSpec("factors", "factors", "review", ("review", "episode", "coding"), True, qualifier="influence"),
        FrameSpec("practice_points", "practice-points", "review", ("review", "coding"), True),
        FrameSpec("family_factor", "family-factors", "review", ("review",), recorded="r.family_factors_recorded"),
        FrameSpec("agency", "agencies", "review", ("review", "episode")),
        FrameSpec("review_type", "review-type", "review", ("review",), single_per=_REVIEW_SINGLE),
        FrameSpec("method", "method", "review", ("review",), single_per=_REVIEW_SINGLE),
        FrameSpec("trigger_reason", "trigger", "review", ("review",), single_per=_REVIEW_SINGLE),
        FrameSpec("region", "region", "review", ("review",), single_per=_REVIEW_SINGLE),
        FrameSpec("nation", "nation", "review", ("review",), single_per=_REVIEW_SINGLE),
        FrameSpec("intervention_level", "intervention-level", "review", ("review",), single_per=_REVIEW_SINGLE,
                  recorded="r.intervention_level IS NOT NULL"),
        FrameSpec("quality_grade", "quality-grade", "review", ("review",), single_per=_REVIEW_SINGLE,
                  recorded="r.quality_grade IS NOT NULL"),
        FrameSpec("age_band", "age-band", "child", ("child",), single_per=("child",)),
        FrameSpec("sex", "sex", "child", ("child",), single_per=("child",)),
        FrameSpec("outcome", "outcome", "child", ("child",), single_per=("child",)),
        FrameSpec("harm_type", "harm-types", "child", ("child",)),
        FrameSpec("practice", "practice", "episode", ("episode",), single_per=("episode",)),
        FrameSpec("recommendation_kind", "recommendation-kind", "review", ("review", "coding"), single_per=("coding",)),
        FrameSpec("recommendation_level", "recommendation-level", "review", ("review", "coding"), single_per=("coding",)),
        FrameSpec("recommendation_status", "recommendation-status", "review", ("review", "coding"), single_per=("coding",)),
    )
}
# CLI and friendly names -> taxonomy frame.
FRAME_ALIASES: dict[str, str] = {
    **{f.cli: f.name for f in FRAMES.values()},
    **{f.name: f.name for f in FRAMES.values()},
    "family-factor": "family_factor", "family_factors": "family_factor", "agencies": "agency",
    "harm-type": "harm_type", "harm_types": "harm_type", "trigger": "trigger_reason", "trigger-reason": "trigger_reason",
    "practice-judgement": "practice", "pattern": "patterns", "factor": "factors", "practice-point": "practice_points",
}


@dataclass(frozen=True)
class Dim:
    """A dimension tabulations can group by (`by`) or filter on (`where`).

    level: review, child, harm (a child's harm types), episode, coding (an attribute of one coding of
    `applies_to` frames) or review_set (where-only: reviews having a code). column: the SQL expression
    (aliases r, c, h, e, m). vocabulary: the taxonomy frame that checks values and orders them.
    single_per: units for which each unit has exactly one value (so the dimension's rows add up).
    """

    name: str
    level: str
    column: str
    vocabulary: str | None = None
    applies_to: tuple[str, ...] = ()
    single_per: tuple[str, ...] = ()
    by: bool = True
    kind: str = "str"
    doc: str = ""


_ALL_UNITS_BUT_AREA = ("review", "child", "episode", "coding")
# The one whitelist of `by` and `where` vocabulary. Identifiers in SQL come only from here.
DIMENSIONS: dict[str, Dim] = {
    d.name: d
    for d in (
        Dim("year", "review", "r.year", single_per=_ALL_UNITS_BUT_AREA, kind="int",
            doc="year of completion (or commissioned/published: year_basis)"),
        Dim("period", "review", "r.period", single_per=_ALL_UNITS_BUT_AREA, doc="period bins of the year (periods=)"),
        Dim("series", "review", "r.series", single_per=_ALL_UNITS_BUT_AREA, doc="SCR, CSPR or other (statutory regime)"),
        Dim("area", "review", "r.area_code", single_per=(*_ALL_UNITS_BUT_AREA, "area"), doc="area code (restricted: never public)"),
        Dim("region", "review", "r.region", "region", single_per=(*_ALL_UNITS_BUT_AREA, "area")),
        Dim("nation", "review", "r.nation", "nation", single_per=(*_ALL_UNITS_BUT_AREA, "area")),
        Dim("review_type", "review", "r.review_type", "review_type", single_per=_ALL_UNITS_BUT_AREA),
        Dim("method", "review", "r.method", "method", single_per=_ALL_UNITS_BUT_AREA),
        Dim("trigger", "review", "r.trigger_reason", "trigger_reason", single_per=_ALL_UNITS_BUT_AREA),
        Dim("intervention_level", "review", "r.intervention_level", "intervention_level", single_per=_ALL_UNITS_BUT_AREA),
        Dim("quality_grade", "review", "r.quality_grade", "quality_grade", single_per=_ALL_UNITS_BUT_AREA),
        Dim("age_band", "child", "c.age_band", "age_band", single_per=("child",), doc="child's age band"),
        Dim("sex", "child", "c.sex", "sex", single_per=("child",)),
        Dim("outcome", "child", "c.outcome", "outcome", single_per=("child",)),
        Dim("harm_type", "harm", "h.code", "harm_type", doc="harm type (a child may have several)"),
        Dim("practice", "episode", "e.practice", "practice", single_per=("episode",), doc="episode practice judgement"),
        Dim("direction", "coding", "m.qualifier", "direction", applies_to=("patterns",), single_per=("coding",),
            doc="pattern direction: constructive or unsafe"),
        Dim("influence", "coding", "m.qualifier", "influence", applies_to=("factors",), single_per=("coding",),
            doc="factor influence: supporting or hindering"),
        Dim("factor_level", "coding", "m.root", None, applies_to=("factors",), single_per=("coding",),
            doc="factor level: FL front-line, LS local strategic, NG national"),
        Dim("pattern", "review_set", "patterns", "patterns", by=False, doc="reviews with this pattern (rolled up)"),
        Dim("factor", "review_set", "factors", "factors", by=False, doc="reviews with this factor (rolled up)"),
        Dim("family_factor", "review_set", "family_factor", "family_factor", by=False, doc="reviews recording this family factor"),
        Dim("agency", "review_set", "agency", "agency", by=False, doc="reviews involving this agency"),
    )
}
_DIM_ALIASES = {"trigger_reason": "trigger", "factor-level": "factor_level", "area_code": "area"}
_FACTOR_LEVELS = ("FL", "LS", "NG")
_TOTAL = "All"


def dimensions() -> pd.DataFrame:
    """The by/where vocabulary as a table (for help text and documentation)."""
    return pd.DataFrame(
        [{"dimension": d.name, "level": d.level, "by": d.by, "values": d.vocabulary or d.kind, "applies_to": ",".join(d.applies_to), "about": d.doc}
         for d in DIMENSIONS.values()]
    )


def frame_spec(frame: str) -> FrameSpec:
    """Resolve a frame name (taxonomy or CLI spelling) to its spec, or say what exists."""
    key = FRAME_ALIASES.get(frame) or FRAME_ALIASES.get(str(frame).replace("_", "-"))
    if key is None:
        close = difflib.get_close_matches(str(frame), sorted(FRAME_ALIASES), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise TabulationError(f"unknown frame {frame!r}{hint}: frames are {', '.join(f.cli for f in FRAMES.values())}")
    return FRAMES[key]


def _dim(name: str) -> Dim:
    key = str(name).replace("-", "_")
    key = _DIM_ALIASES.get(key, key)
    if key not in DIMENSIONS:
        close = difflib.get_close_matches(key, sorted(DIMENSIONS), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise TabulationError(f"unknown dimension {name!r}{hint}: dimensions are {', '.join(DIMENSIONS)}")
    return DIMENSIONS[key]


# --------------------------------------------------------------------------------------------
# Connections


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
            c.close()
            # A database loaded before the derived tables existed: build them once, then read.
            connect(db).close()
            c = connect(db, read_only=True)
        yield c
    finally:
        c.close()


# --------------------------------------------------------------------------------------------
# Filters and query composition


def _values(dim: Dim, raw: Any, version: str) -> list[Any]:
    """Normalise a where value (scalar, list, range, 'a,b' or 'Y1..Y2') and check it against the vocabulary."""
    if isinstance(raw, range):
        vals: list[Any] = list(raw)
    elif isinstance(raw, (list, tuple, set, frozenset)):
        vals = sorted(raw, key=str) if isinstance(raw, (set, frozenset)) else list(raw)
    elif isinstance(raw, str) and dim.kind == "int" and ".." in raw:
        lo, _, hi = raw.partition("..")
        try:
            vals = list(range(int(lo), int(hi) + 1))
        except ValueError:
            raise TabulationError(f"where {dim.name}={raw!r}: a range is written FIRST..LAST, e.g. 2015..2019") from None
        if not vals:
            raise TabulationError(f"where {dim.name}={raw!r}: the range runs backwards; write FIRST..LAST, e.g. {hi.strip()}..{lo.strip()}")
    elif isinstance(raw, str) and "," in raw:
        vals = [v.strip() for v in raw.split(",") if v.strip()]
    else:
        vals = [raw]
    if not vals:
        raise TabulationError(f"where {dim.name}: no values given")
    if dim.kind == "int":
        try:
            return [int(v) for v in vals]
        except (TypeError, ValueError):
            raise TabulationError(f"where {dim.name}={raw!r}: {dim.name} takes whole numbers (e.g. 2019 or 2015..2019)") from None
    out = [str(v) for v in vals]
    allowed: set[str] | None = None
    if dim.vocabulary:
        from lt_workbench.model.frames import codes

        allowed = set(codes(dim.vocabulary, version))
    elif dim.name == "factor_level":
        allowed = set(_FACTOR_LEVELS)
    elif dim.name == "series":
        allowed = {"SCR", "CSPR", "other"}
    if allowed is not None:
        for v in out:
            if v not in allowed:
                close = difflib.get_close_matches(v, sorted(allowed), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise TabulationError(
                    f"where {dim.name}={v!r} is not a known value{hint}; values are {', '.join(sorted(allowed)[:40])}"
                )
    return out


def _placeholders(n: int) -> str:
    return ", ".join("?" for _ in range(n))


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
    bins = [(s, f"{s}-{nxt - 1}") for s, nxt in zip(starts, starts[1:])] + [(starts[-1], f"{starts[-1]} onwards")]
    return list(reversed(bins))


@dataclass
class _Plan:
    """The pieces of one tabulation query: FROM/JOIN text, WHERE conditions and their bound parameters."""

    frame: FrameSpec
    unit: str
    by: list[Dim]
    where: list[tuple[Dim, list[Any]]]
    level: int | None
    year_col: str
    bins: list[tuple[int, str]]
    need_child: bool = False
    need_harm: bool = False
    need_episode: bool = False
    member: str = "review"
    extra_recorded: list[Dim] = field(default_factory=list)  # dimensions summed over in a total row

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
                conds.append(f"r.review_id IN (SELECT review_id FROM review_codes WHERE frame = ? AND code IN ({_placeholders(len(vals))}))")
                params.extend([d.column, *vals])
            else:
                conds.append(f"{d.column} IN ({_placeholders(len(vals))})")
                params.extend(vals)
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
            if d.name == "period" and not set(vals) <= labels:
                raise TabulationError(f"where period={vals}: periods in these data are {', '.join(sorted(labels))}")
    levels = {d.level for d in by_dims} | {d.level for d, _ in parsed}
    plan = _Plan(spec, unit, by_dims, parsed, level, year_col, bins)
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


def _codes(con: duckdb.DuckDBPyConnection, spec: FrameSpec, level: int | None, version: str) -> pd.DataFrame:
    sql = """
        SELECT t.code, t.label, t.depth, t.sort_key, a.root
        FROM taxonomy AS t
        JOIN code_ancestors AS a ON a.version = t.version AND a.frame = t.frame AND a.code = t.code AND a.ancestor = t.code
        WHERE t.frame = ? AND t.version = ? AND (? IS NULL OR t.depth = ?)
        ORDER BY t.sort_key
    """
    out = con.execute(sql, [spec.name, version, level, level]).df()
    if out.empty:
        raise TabulationError(f"frame {spec.cli!r} has no codes in taxonomy {version!r}" + (f" at level {level}" if level else ""))
    return out


def _sort_keys(con: duckdb.DuckDBPyConnection, dim: Dim, version: str) -> dict[Any, int]:
    if dim.vocabulary:
        rows = con.execute("SELECT code, sort_key FROM taxonomy WHERE frame = ? AND version = ?", [dim.vocabulary, version]).fetchall()
        return dict(rows)
    if dim.name == "factor_level":
        return {c: i for i, c in enumerate(_FACTOR_LEVELS)}
    return {}


def _ordered(df: pd.DataFrame, con: duckdb.DuckDBPyConnection, code_order: Mapping[str, int], dims: Sequence[Dim], version: str) -> pd.DataFrame:
    """Deterministic order: code as listed in the frame, then each dimension in its vocabulary (or natural) order, totals last."""
    keys = pd.DataFrame(index=df.index)
    keys["_code"] = df["code"].map(code_order)
    cols = ["_code"]
    for d in dims:
        order = _sort_keys(con, d, version)
        col = df[d.name]
        is_total = col.astype(object) == _TOTAL
        keys[f"_t_{d.name}"] = is_total.astype(int)
        if order:
            keys[f"_k_{d.name}"] = col.map(order).fillna(10**6)
            keys[f"_s_{d.name}"] = col.astype(str)
            cols += [f"_t_{d.name}", f"_k_{d.name}", f"_s_{d.name}"]
        elif d.kind == "int":
            keys[f"_k_{d.name}"] = pd.to_numeric(col.where(~is_total), errors="coerce").fillna(10**9)
            cols += [f"_t_{d.name}", f"_k_{d.name}"]
        else:
            keys[f"_s_{d.name}"] = col.astype(str)
            cols += [f"_t_{d.name}", f"_s_{d.name}"]
    order_idx = keys.sort_values(cols, kind="mergesort").index
    return df.loc[order_idx].reset_index(drop=True)


def _with_rates(df: pd.DataFrame) -> pd.DataFrame:
    """percent and Wilson 95% interval on the 0-100 scale; NaN where the denominator is 0."""
    count = df["count"].to_numpy(dtype=float)
    den = df["denominator"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        df["percent"] = np.where(den > 0, 100.0 * count / np.where(den > 0, den, 1), np.nan)
    lo, hi = stats.wilson_interval(count, den)
    df["ci_low"] = 100.0 * lo
    df["ci_high"] = 100.0 * hi
    return df


# --------------------------------------------------------------------------------------------
# frequency


def _count_table(con: duckdb.DuckDBPyConnection, plan: _Plan, by: Sequence[Dim]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(counts per code x by, denominators per population group) for the plan, grouped by `by`."""
    cte, cte_params = plan.base_cte()
    # Distinct units are counted in two steps (the distinct rows, then a count per group): a third
    # faster than count(DISTINCT key) on a key built by string concatenation.
    units = ", ".join(f"{c} AS _unit{i}" for i, c in enumerate(plan.key_columns()))
    pop_by = [d for d in by if d.level != "coding" or plan.unit == "coding"]

    j, jp = plan.joins(with_member=True)
    conds, cp = plan.conditions(with_member=True, population_only=False)
    conds += plan.recorded(by)
    sel = "".join(f", {d.column} AS {d.name}" for d in by)
    names = "".join(f", {d.name}" for d in by)
    sql = (
        f"{cte}\nSELECT code{names}, count(*) AS count FROM (\nSELECT DISTINCT m.code AS code{sel}, {units}\n{j}\n"
        f"{'WHERE ' + ' AND '.join(conds) if conds else ''}\n) GROUP BY ALL"
    )
    counts = con.execute(sql, cte_params + jp + cp).df()

    j2, jp2 = plan.joins(with_member=False)
    conds2, cp2 = plan.conditions(with_member=False, population_only=True)
    conds2 += plan.recorded(pop_by)
    sel2 = "".join(f"{d.column} AS {d.name}, " for d in pop_by)
    names2 = "".join(f"{d.name}, " for d in pop_by)
    sql2 = (
        f"{cte}\nSELECT {names2}count(*) AS denominator FROM (\nSELECT DISTINCT {sel2}{units}\n{j2}\n"
        f"{'WHERE ' + ' AND '.join(conds2) if conds2 else ''}\n){' GROUP BY ALL' if pop_by else ''}"
    )
    dens = con.execute(sql2, cte_params + jp2 + cp2).df()
    if not pop_by:
        dens = dens.fillna(0)
    return counts, dens


def _not_recorded(con: duckdb.DuckDBPyConnection, plan: _Plan) -> int:
    """Units in scope that leave the denominator because the frame, or a `by` value, is not recorded."""
    rec = plan.recorded(plan.population_by())
    if not rec:
        return 0
    cte, cte_params = plan.base_cte()
    j, jp = plan.joins(with_member=False)
    conds, cp = plan.conditions(with_member=False, population_only=True)
    key = plan.key()
    sql = (
        f"{cte}\nSELECT count(DISTINCT {key}) - count(DISTINCT CASE WHEN {' AND '.join(rec)} THEN {key} END)\n{j}\n"
        f"{'WHERE ' + ' AND '.join(conds) if conds else ''}"
    )
    return int(con.execute(sql, cte_params + jp + cp).fetchall()[0][0])


def _grid(codes: pd.DataFrame, dens: pd.DataFrame, plan: _Plan, by: Sequence[Dim]) -> pd.DataFrame:
    """Every code x every population group (x every value of a coding-level dimension): zeros are true zeros."""
    grid = codes[["code", "label", "root"]].merge(dens, how="cross")
    for d in by:
        if d.level == "coding" and plan.unit != "coding":
            values = list(_FACTOR_LEVELS) if d.name == "factor_level" else _vocab_codes(d)
            grid = grid.merge(pd.DataFrame({d.name: values}), how="cross")
    if any(d.name == "factor_level" for d in by):
        grid = grid[grid["factor_level"] == grid["root"]]
    return grid


def _vocab_codes(d: Dim) -> list[str]:
    from lt_workbench.model.frames import taxonomy_frame

    t = taxonomy_frame(DEFAULT_TAXONOMY_VERSION)
    return list(t.loc[t["frame"] == d.vocabulary, "code"])


def _frequency_raw(
    con: duckdb.DuckDBPyConnection, plan: _Plan, codes: pd.DataFrame, by: Sequence[Dim]
) -> pd.DataFrame:
    counts, dens = _count_table(con, plan, by)
    grid = _grid(codes, dens, plan, by)
    keys = ["code", *[d.name for d in by]]
    for k in keys:
        if k in counts.columns and k in grid.columns and counts[k].dtype != grid[k].dtype:
            counts[k] = counts[k].astype(object)
            grid[k] = grid[k].astype(object)
    out = grid.merge(counts, on=keys, how="left")
    out["count"] = out["count"].fillna(0).astype("int64")
    out["denominator"] = out["denominator"].astype("int64")
    return out


def _margins(con: duckdb.DuckDBPyConnection, plan: _Plan, codes: pd.DataFrame, by: list[Dim]) -> list[pd.DataFrame]:
    """Total rows ('All') for every additive `by` dimension, crossed with the others (geography nests)."""
    additive = [d for d in by if plan.unit in d.single_per]
    if not additive:
        return []
    geo = [n for n in ("area", "region", "nation") if any(d.name == n for d in additive)]
    other = [d for d in additive if d.name not in geo]
    # Each independent group contributes its roll-up levels: geography area -> region -> nation -> All.
    options: list[list[list[str]]] = []
    if geo:
        options.append([geo[i:] for i in range(len(geo) + 1)])  # dims kept at each level
    for d in other:
        options.append([[d.name], []])
    frames = []
    fixed = [d for d in by if d not in additive]
    for combo in itertools.product(*options):
        kept = {n for group in combo for n in group}
        dropped = [d for d in additive if d.name not in kept]
        if not dropped:
            continue
        sub_by = [d for d in by if d.name in kept or d in fixed]
        # Dropped dimensions must still be recorded, so each total adds up from its parts.
        sub_plan = replace(plan, by=sub_by, extra_recorded=dropped)
        raw = _frequency_raw(con, sub_plan, codes, sub_by)
        for d in dropped:
            raw[d.name] = _TOTAL
        frames.append(raw)
    return frames


def frequency(
    frame: str,
    *,
    level: int | None = None,
    by: Sequence[str] = (),
    unit: Unit = "review",
    where: Mapping[str, Any] | None = None,
    year_basis: str = "completed",
    periods: int | Sequence[int] = 5,
    totals: bool = False,
    db: str | Path | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
    disclosure: Disclosure = "restricted",
    profile: str = "dfe",
    threshold: int | None = None,
    version: str = DEFAULT_TAXONOMY_VERSION,
) -> pd.DataFrame:
    """How many units (reviews by default) have each code of a frame, rolled up through the hierarchy.

    Columns: code, label, one per `by` dimension, count, denominator, percent, ci_low, ci_high (percent
    scale, Wilson 95%), suppressed. Every code of the frame appears (0 is a true zero). A unit counts once
    per code however often it was coded; units whose frame (family factors) or `by` value is not recorded
    leave the denominator, and their number is in attrs["not_recorded"]. `totals=True` adds 'All' rows for
    additive dimensions, which disclosure control then protects as lines. attrs carry unit, filters,
    methods and the disclosure note.
    """
    where = dict(where or {})
    with _connection(db, con) as c:
        plan = _plan(c, frame, unit, by, where, level, year_basis, periods, version)
        codes = _codes(c, plan.frame, level, version)
        out = _frequency_raw(c, plan, codes, plan.by)
        if totals and plan.by:
            parts = [out, *_margins(c, plan, codes, plan.by)]
            for d in plan.by:
                if any(d.name in p.columns and (p[d.name].astype(object) == _TOTAL).any() for p in parts):
                    for p in parts:
                        p[d.name] = p[d.name].astype(object)
            out = pd.concat(parts, ignore_index=True)
        not_recorded = _not_recorded(c, plan)
        out = _ordered(out, c, dict(zip(codes["code"], codes["sort_key"])), plan.by, version)
    out = _with_rates(out)
    columns = ["code", "label", *[d.name for d in plan.by], "count", "denominator", "percent", "ci_low", "ci_high"]
    out = out[columns]
    lines = _lines(plan)
    # Codes partition the denominator when each unit has exactly one code: single-valued frames, or
    # individual codings of a hierarchical frame at the top level (every coding has one root).
    partition = unit in plan.frame.single_per or (unit == "coding" and plan.frame.hierarchical and level == 1)
    attrs = {
        "table": "frequency",
        "frame": plan.frame.name,
        "level": level,
        "unit": unit,
        "unit_label": UNIT_LABELS[unit],
        "by": [d.name for d in plan.by],
        "where": {d.name: v for d, v in plan.where},
        "year_basis": year_basis,
        "not_recorded": not_recorded,
        "interval": stats.WILSON_METHOD,
        "lines": lines,
        "partition": bool(partition),
        "description": _describe(plan, not_recorded),
    }
    return apply_disclosure(out, attrs, disclosure=disclosure, profile=profile, threshold=threshold)


def _lines(plan: _Plan) -> list[list[str]]:
    additive = [d.name for d in plan.by if plan.unit in d.single_per]
    geo = [n for n in ("area", "region", "nation") if n in additive]
    return ([geo] if geo else []) + [[n] for n in additive if n not in geo]


def _describe(plan: _Plan, not_recorded: int) -> str:
    what = f"{UNIT_LABELS[plan.unit]} with each {plan.frame.cli} code"
    if plan.frame.hierarchical:
        what += " (rolled up: a unit coded at a sub-level counts once for each level above)"
    bits = [f"Unit: {plan.unit} — counts are {what}."]
    if plan.where:
        bits.append("Filters: " + "; ".join(f"{d.name} in {v}" for d, v in plan.where) + ".")
    if not_recorded:
        bits.append(f"{not_recorded} {UNIT_LABELS[plan.unit]} not recorded for this frame or dimension left the denominator.")
    return " ".join(bits)


# --------------------------------------------------------------------------------------------
# Disclosure


def apply_disclosure(
    table: pd.DataFrame,
    attrs: Mapping[str, Any],
    *,
    disclosure: Disclosure = "restricted",
    profile: str = "dfe",
    threshold: int | None = None,
    count_columns: Sequence[str] = ("count",),
) -> pd.DataFrame:
    """Pass a tidy table through lt_workbench.analysis.disclosure.protect, keeping attrs (unit, lines, note, audit)."""
    from lt_workbench.analysis import disclosure as sdc

    if disclosure not in ("restricted", "public"):
        raise TabulationError(f"unknown disclosure {disclosure!r}: use 'public' or 'restricted'")
    dims = [c for c in table.columns if c not in ("code", "label", "count", "denominator", "percent", "ci_low", "ci_high")]
    protected = sdc.protect(
        table,
        mode=disclosure,
        profile=profile,
        threshold=threshold,
        lines=attrs.get("lines") or None,
        totals=_TOTAL,
        partition=bool(attrs.get("partition")),
        dims=dims,
    )
    out = protected.table
    out.attrs.update(dict(attrs))
    out.attrs.update(
        {"disclosure": protected.mode, "profile": protected.profile, "threshold": protected.threshold,
         "note": protected.note, "audit": protected.audit}
    )
    return out


def _refuse_public(what: str, disclosure: str) -> None:
    if disclosure == "public":
        raise TabulationError(
            f"{what} shows what reviewers wrote (free text) or lists single records, which never appear in public "
            "output; run it with disclosure='restricted' (CLI: --disclosure restricted) and keep the result inside "
            "the secure environment"
        )


# --------------------------------------------------------------------------------------------
# Scope: the units a filter selects, for the tables that are not plain frequencies


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
    conds, params = [], []
    for d, vals in plan.where:
        if d.level == "coding" and frame in d.applies_to:
            col = f"{alias}.root" if d.name == "factor_level" else f"{alias}.qualifier"
            conds.append(f"{col} IN ({_placeholders(len(vals))})")
            params.extend(vals)
    return "".join(f" AND {c}" for c in conds), params


def _scope_plan(con, frame: str, where: Mapping[str, Any], year_basis: str, version: str, unit: str = "review",
                level: int | None = None) -> _Plan:
    """A plan used only for its filters; coding-level filters on other frames are allowed (cross-frame tables)."""
    spec = frame_spec(frame)
    own = {k: v for k, v in where.items() if _dim(k).level != "coding" or spec.name in _dim(k).applies_to}
    plan = _plan(con, frame, unit, (), own, level, year_basis, 5, version)
    plan.where += [(_dim(k), _values(_dim(k), v, version)) for k, v in where.items() if k not in own]
    return plan


def _labels(con: duckdb.DuckDBPyConnection, frame: str, version: str) -> dict[str, str]:
    return dict(con.execute("SELECT code, label FROM taxonomy WHERE frame = ? AND version = ?", [frame, version]).fetchall())


def _order(con: duckdb.DuckDBPyConnection, frame: str, version: str) -> dict[str, int]:
    return dict(con.execute("SELECT code, sort_key FROM taxonomy WHERE frame = ? AND version = ?", [frame, version]).fetchall())


# --------------------------------------------------------------------------------------------
# Recurrence and priority


def recurrence(
    frame: str = "patterns",
    *,
    level: int | None = None,
    recent_years: int = 5,
    as_of_year: int | None = None,
    where: Mapping[str, Any] | None = None,
    year_basis: str = "completed",
    or_kind: Literal["conditional", "sample"] = "sample",
    db: str | Path | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
    disclosure: Disclosure = "restricted",
    profile: str = "dfe",
    threshold: int | None = None,
    version: str = DEFAULT_TAXONOMY_VERSION,
) -> pd.DataFrame:
    """Per code: how widespread (reviews, areas, regions, first and last year) and how current.

    The seed's two criteria for prioritising patterns made visible: share of reviews in the most recent
    `recent_years` (ending at `as_of_year`, default the latest year in scope) against the years before,
    with a Fisher exact test, odds ratio and Benjamini-Hochberg q-value across all codes tested. Sorted by
    reviews then areas (most widespread first), ties in frame order.
    """
    if recent_years < 1:
        raise TabulationError(f"recent_years must be at least 1, got {recent_years}")
    where = dict(where or {})
    with _connection(db, con) as c:
        plan = _scope_plan(c, frame, where, year_basis, version, level=level)
        plan.extra_recorded = [DIMENSIONS["year"]]
        spec = plan.frame
        scope_sql, sp = _scope(plan)
        last = as_of_year if as_of_year is not None else c.execute(f"{scope_sql} SELECT max(year) FROM scope", sp).fetchall()[0][0]
        codes = _codes(c, spec, level, version)
        if last is None:
            cutoff = 0
        else:
            cutoff = int(last) - recent_years + 1
        src = "review_codes"
        filt, fp = _coding_filters(plan, "m", spec.name)
        sql = f"""{scope_sql}
            SELECT m.code,
                   count(DISTINCT s.review_id) AS reviews,
                   count(DISTINCT s.area_code) AS areas,
                   count(DISTINCT s.region) AS regions,
                   min(s.year) AS first_year,
                   max(s.year) AS last_year,
                   count(DISTINCT CASE WHEN s.year BETWEEN ? AND ? THEN s.review_id END) AS reviews_recent,
                   count(DISTINCT CASE WHEN s.year < ? THEN s.review_id END) AS reviews_before
            FROM scope AS s JOIN {src} AS m ON m.review_id = s.review_id AND m.frame = ?
            WHERE (? IS NULL OR m.depth = ?) AND s.year <= ? {filt}
            GROUP BY m.code"""
        upto = int(last) if last is not None else 0
        counts = c.execute(sql, sp + [cutoff, upto, cutoff, spec.name, level, level, upto, *fp]).df()
        den = c.execute(
            f"{scope_sql} SELECT count(DISTINCT CASE WHEN year BETWEEN ? AND ? THEN review_id END), "
            f"count(DISTINCT CASE WHEN year < ? THEN review_id END) FROM scope",
            sp + [cutoff, upto, cutoff],
        ).fetchall()[0]
    out = codes[["code", "label", "sort_key"]].merge(counts, on="code", how="left")
    for col in ("reviews", "areas", "regions", "reviews_recent", "reviews_before"):
        out[col] = out[col].fillna(0).astype("int64")
    out["first_year"] = out["first_year"].astype("Int64")
    out["last_year"] = out["last_year"].astype("Int64")
    out["denominator_recent"] = int(den[0])
    out["denominator_before"] = int(den[1])
    out["denominator"] = out["denominator_recent"] + out["denominator_before"]
    out["percent"] = _pct(out["reviews"], out["denominator"])
    out["percent_recent"] = _pct(out["reviews_recent"], out["denominator_recent"])
    out["percent_before"] = _pct(out["reviews_before"], out["denominator_before"])
    _fisher_columns(out, out["reviews_recent"], out["denominator_recent"], out["reviews_before"], out["denominator_before"], or_kind)
    out["q_value"], _ = stats.bh_adjust(out["p_value"])
    out = out.sort_values(["reviews", "areas", "sort_key"], ascending=[False, False, True], kind="mergesort").drop(columns="sort_key")
    out = out.reset_index(drop=True)
    window = f"{cutoff}-{upto}" if last is not None else "none"
    attrs = {
        "table": "recurrence", "frame": spec.name, "level": level, "unit": "review", "unit_label": UNIT_LABELS["review"],
        "where": where, "year_basis": year_basis, "recent_window": window, "before_window": f"to {cutoff - 1}",
        "test": "Fisher exact test, recent years against the years before; " + stats.OR_METHODS[or_kind] + "; " + stats.BH_METHOD,
        "description": f"Unit: review. Recent = {window}; before = up to {cutoff - 1}. Areas and regions are distinct counts.",
    }
    return _protect_recurrence(out, attrs, disclosure, profile, threshold)


def _pct(count: pd.Series, den: pd.Series | int) -> pd.Series:
    d = pd.Series(den, index=count.index) if not isinstance(den, pd.Series) else den
    return (100.0 * count / d.where(d > 0)).astype(float)


def _protect_recurrence(out: pd.DataFrame, attrs: dict[str, Any], disclosure: str, profile: str, threshold: int | None) -> pd.DataFrame:
    """Public recurrence: protect recent + before = all as one additive line per code, then hide what depends on hidden counts."""
    if disclosure == "restricted":
        out = out.copy()
        out["suppressed"] = False
        out.attrs.update(attrs)
        out.attrs.update({"disclosure": "restricted", "note": _restricted_note()})
        return out
    long = pd.concat(
        [
            pd.DataFrame({"code": out["code"], "label": out["label"], "period": p, "count": out[cnt], "denominator": out[den]})
            for p, cnt, den in (("recent", "reviews_recent", "denominator_recent"), ("before", "reviews_before", "denominator_before"),
                                (_TOTAL, "reviews", "denominator"))
        ],
        ignore_index=True,
    )
    long = _with_rates(long)
    prot = apply_disclosure(long, {"lines": [["period"]], "partition": False}, disclosure="public", profile=profile, threshold=threshold)
    shown = {p: prot[prot["period"] == p].set_index("code") for p in ("recent", "before", _TOTAL)}
    pub = pd.DataFrame({"code": out["code"], "label": out["label"]})
    idx = out["code"]
    pub["reviews"] = shown[_TOTAL].loc[idx, "count"].to_numpy()
    hidden_total = shown[_TOTAL].loc[idx, "suppressed"].to_numpy(dtype=bool)
    for col in ("areas", "regions", "first_year", "last_year"):
        pub[col] = np.where(hidden_total, "c", out[col].astype(object).to_numpy())
    pub["denominator"] = shown[_TOTAL].loc[idx, "denominator"].to_numpy()
    pub["percent"] = shown[_TOTAL].loc[idx, "percent"].to_numpy()
    any_hidden = hidden_total.copy()
    for p in ("recent", "before"):
        pub[f"reviews_{p}"] = shown[p].loc[idx, "count"].to_numpy()
        pub[f"denominator_{p}"] = shown[p].loc[idx, "denominator"].to_numpy()
        pub[f"percent_{p}"] = shown[p].loc[idx, "percent"].to_numpy()
        any_hidden |= shown[p].loc[idx, "suppressed"].to_numpy(dtype=bool)
    for col in ("odds_ratio", "or_ci_low", "or_ci_high", "p_value", "q_value"):
        pub[col] = np.where(any_hidden, "c", out[col].round(4).astype(object).to_numpy())
    pub["suppressed"] = any_hidden
    pub.attrs.update(attrs)
    pub.attrs.update({"disclosure": "public", "note": prot.attrs["note"], "audit": prot.attrs["audit"], "profile": prot.attrs["profile"],
                      "threshold": prot.attrs["threshold"]})
    return pub


def _restricted_note() -> str:
    from lt_workbench.analysis.disclosure import RESTRICTED_NOTE

    return RESTRICTED_NOTE


# --------------------------------------------------------------------------------------------
# Trend


def _break_years() -> set[int]:
    return {y for b in SERIES_BREAKS for y in range(b["from_year"], b["to_year"] + 1)}


def trend(
    frame: str = "patterns",
    *,
    codes: Sequence[str] | None = None,
    level: int | None = None,
    unit: Unit = "review",
    where: Mapping[str, Any] | None = None,
    year_basis: str = "completed",
    db: str | Path | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
    disclosure: Disclosure = "restricted",
    profile: str = "dfe",
    threshold: int | None = None,
    version: str = DEFAULT_TAXONOMY_VERSION,
) -> pd.DataFrame:
    """Code x year: count, denominator, percent and interval, with years inside a series break marked.

    `series_break` is True for the years when serious case reviews gave way to CSPRs (SERIES_BREAKS);
    read a change across them as a change of regime before a change of practice. Tests: trend_tests().
    """
    table = frequency(frame, level=level, by=("year",), unit=unit, where=where, year_basis=year_basis, db=db, con=con,
                      disclosure=disclosure, profile=profile, threshold=threshold, version=version)
    if codes is not None:
        wanted = list(codes)
        table = table[table["code"].isin(wanted)].reset_index(drop=True)
    table["series_break"] = table["year"].isin(sorted(_break_years()))
    table.attrs["table"] = "trend"
    table.attrs["series_breaks"] = [b["note"] for b in SERIES_BREAKS]
    return table


def trend_tests(
    frame: str = "patterns",
    *,
    codes: Sequence[str] | None = None,
    level: int | None = None,
    where: Mapping[str, Any] | None = None,
    year_basis: str = "completed",
    method: Literal["cochran-armitage", "logistic"] = "cochran-armitage",
    db: str | Path | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
    disclosure: Disclosure = "restricted",
    profile: str = "dfe",
    threshold: int | None = None,
    version: str = DEFAULT_TAXONOMY_VERSION,
) -> pd.DataFrame:
    """One test for trend per code across years (method named in the output), with BH q-values across codes.

    `logistic` adds a step at the SCR to CSPR break so a change of regime is not read as a trend.
    Public mode hides the test of a code whose total count is below the threshold.
    """
    yearly = frequency(frame, level=level, by=("year",), where=where, year_basis=year_basis, db=db, con=con, version=version)
    if codes is not None:
        yearly = yearly[yearly["code"].isin(list(codes))]
    step = min(b["from_year"] for b in SERIES_BREAKS) if method == "logistic" else None
    rows = []
    for (code, label), g in yearly.groupby(["code", "label"], sort=False):
        g = g.sort_values("year")
        res = stats.trend_test(g["count"], g["denominator"], g["year"], method=method, step_at=step)
        years = g.loc[g["denominator"] > 0, "year"]
        rows.append({
            "code": code, "label": label, "count": int(g["count"].sum()), "denominator": int(g["denominator"].sum()),
            "first_year": int(years.min()) if len(years) else None, "last_year": int(years.max()) if len(years) else None,
            "n_years": res.n_years, "method": res.method, "statistic": res.statistic, "p_value": res.p_value,
            "direction": res.direction,
            "spans_series_break": bool(len(years)) and years.min() < min(_break_years()) and years.max() > max(_break_years()),
        })
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    out["q_value"], _ = stats.bh_adjust(out["p_value"])
    out["suppressed"] = False
    if disclosure == "public":
        from lt_workbench.analysis.disclosure import PROFILES

        thr = threshold if threshold is not None else PROFILES[profile].threshold
        small = (out["count"] > 0) & (out["count"] < thr)
        out["suppressed"] = small
        for col in ("statistic", "p_value", "q_value", "direction"):
            out[col] = out[col].astype(object).where(~small, "c")
        # Totals per code are national figures: publish them from frequency(), which rounds them by profile.
        out = out.drop(columns=["count", "denominator"])
    out.attrs.update({"table": "trend_tests", "frame": frame_spec(frame).name, "unit": "review", "unit_label": "reviews",
                      "method": stats.TREND_METHODS[method], "multiple_testing": stats.BH_METHOD,
                      "series_breaks": [b["note"] for b in SERIES_BREAKS], "disclosure": disclosure})
    return out


# --------------------------------------------------------------------------------------------
# Comparing areas without league tables


_COMPARE_DIMS = ("area", "region", "nation", "review_type", "series", "trigger", "intervention_level", "method", "year", "period")


def compare(
    frame: str = "patterns",
    *,
    group: Mapping[str, Any],
    level: int | None = None,
    where: Mapping[str, Any] | None = None,
    year_basis: str = "completed",
    or_kind: Literal["conditional", "sample"] = "conditional",
    db: str | Path | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
    disclosure: Disclosure = "restricted",
    profile: str = "dfe",
    threshold: int | None = None,
    version: str = DEFAULT_TAXONOMY_VERSION,
) -> pd.DataFrame:
    """One area, region (or other review-level group) against the rest of the reviews in scope, per code.

    Fisher exact test, odds ratio with 95% interval, Benjamini-Hochberg q across codes. attrs["caveat"]:
    counts of reviews are not a performance measure.
    """
    if len(group) != 1:
        raise TabulationError(f"group takes one dimension and value, e.g. {{'region': 'london'}}; got {dict(group)}")
    (gname, gvalue), = group.items()
    gdim = _dim(gname)
    if gdim.name not in _COMPARE_DIMS:
        raise TabulationError(f"compare groups by one review-level dimension ({', '.join(_COMPARE_DIMS)}), not {gname!r}")
    where = dict(where or {})
    if gdim.name in {_dim(k).name for k in where}:
        raise TabulationError(f"{gdim.name!r} is both the group and a filter; drop it from where")
    with _connection(db, con) as c:
        allv = frequency(frame, level=level, where=where, year_basis=year_basis, con=c, version=version)
        grp = frequency(frame, level=level, where={**where, gdim.name: gvalue}, year_basis=year_basis, con=c, version=version)
    out = pd.DataFrame({"code": allv["code"], "label": allv["label"]})
    out["count_group"] = grp["count"].to_numpy()
    out["denominator_group"] = grp["denominator"].to_numpy()
    out["count_rest"] = allv["count"].to_numpy() - out["count_group"]
    out["denominator_rest"] = allv["denominator"].to_numpy() - out["denominator_group"]
    out["percent_group"] = _pct(out["count_group"], out["denominator_group"])
    out["percent_rest"] = _pct(out["count_rest"], out["denominator_rest"])
    _fisher_columns(out, out["count_group"], out["denominator_group"], out["count_rest"], out["denominator_rest"], or_kind)
    out["q_value"], _ = stats.bh_adjust(out["p_value"])
    attrs = {"table": "compare", "frame": frame_spec(frame).name, "unit": "review", "unit_label": "reviews",
             "group": {gdim.name: gvalue}, "where": where, "caveat": PERFORMANCE_CAVEAT,
             "test": "Fisher exact test; " + stats.OR_METHODS[or_kind] + "; " + stats.BH_METHOD}
    return _protect_pairs(out, attrs, disclosure, profile, threshold,
                          parts=(("group", "count_group", "denominator_group"), ("rest", "count_rest", "denominator_rest")),
                          dependent=("odds_ratio", "or_ci_low", "or_ci_high", "p_value", "q_value"))


def _protect_pairs(out: pd.DataFrame, attrs: dict[str, Any], disclosure: str, profile: str, threshold: int | None,
                   parts: Sequence[tuple[str, str, str]], dependent: Sequence[str], line: bool = True) -> pd.DataFrame:
    """Public version of a table with several count/denominator pairs per code (e.g. group and rest)."""
    if disclosure == "restricted":
        out = out.copy()
        out["suppressed"] = False
        out.attrs.update(attrs)
        out.attrs.update({"disclosure": "restricted", "note": _restricted_note()})
        return out
    frames = [pd.DataFrame({"code": out["code"], "label": out["label"], "part": name, "count": out[cnt], "denominator": out[den]})
              for name, cnt, den in parts]
    if line and len(parts) == 2:
        frames.append(pd.DataFrame({"code": out["code"], "label": out["label"], "part": _TOTAL,
                                    "count": out[parts[0][1]] + out[parts[1][1]], "denominator": out[parts[0][2]] + out[parts[1][2]]}))
    long = _with_rates(pd.concat(frames, ignore_index=True))
    prot = apply_disclosure(long, {"lines": [["part"]] if line and len(parts) == 2 else [], "partition": False},
                            disclosure="public", profile=profile, threshold=threshold)
    pub = pd.DataFrame({"code": out["code"], "label": out["label"]})
    hidden = np.zeros(len(out), dtype=bool)
    for name, cnt, den in parts:
        s = prot[prot["part"] == name].set_index("code").loc[out["code"]]
        pub[cnt] = s["count"].to_numpy()
        pub[den] = s["denominator"].to_numpy()
        pub[f"percent_{name}"] = s["percent"].to_numpy()
        hidden |= s["suppressed"].to_numpy(dtype=bool) | (s["denominator"].astype(str) == "c").to_numpy()
    for col in dependent:
        pub[col] = np.where(hidden, "c", out[col].round(4).astype(object).to_numpy())
    pub["suppressed"] = hidden
    pub.attrs.update(attrs)
    pub.attrs.update({"disclosure": "public", "note": prot.attrs["note"], "audit": prot.attrs["audit"]})
    return pub


def funnel(
    frame: str = "patterns",
    *,
    code: str,
    by: Literal["area", "region", "nation"] = "region",
    level: int | None = None,
    where: Mapping[str, Any] | None = None,
    year_basis: str = "completed",
    db: str | Path | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
    disclosure: Disclosure = "restricted",
    profile: str = "dfe",
    threshold: int | None = None,
    version: str = DEFAULT_TAXONOMY_VERSION,
) -> pd.DataFrame:
    """Funnel-plot data for one code: each area's (or region's) share against 95% and 99.8% limits.

    Ordered by the area or region, never by rate: a funnel compares without a league table. attrs["caveat"]
    says counts of reviews are not a performance measure.
    """
    if by not in ("area", "region", "nation"):
        raise TabulationError(f"funnel by 'area', 'region' or 'nation', not {by!r}")
    with _connection(db, con) as c:
        spec = frame_spec(frame)
        found = c.execute("SELECT depth FROM taxonomy WHERE frame = ? AND version = ? AND code = ?", [spec.name, version, code]).fetchall()
        lvl = level if level is not None else (int(found[0][0]) if found else None)
        if lvl is None:
            raise TabulationError(f"code {code!r} is not in frame {spec.cli!r} ({version})")
        table = frequency(frame, level=lvl, by=(by,), where=where, year_basis=year_basis, con=c, version=version,
                          disclosure=disclosure, profile=profile, threshold=threshold)
        overall = frequency(frame, level=lvl, where=where, year_basis=year_basis, con=c, version=version)
    row = overall[overall["code"] == code]
    if row.empty:
        raise TabulationError(f"code {code!r} is not in frame {spec.cli!r} at level {lvl}")
    p0 = float(row["count"].iloc[0]) / float(row["denominator"].iloc[0]) if int(row["denominator"].iloc[0]) else float("nan")
    t = table[table["code"] == code].reset_index(drop=True)
    den = pd.to_numeric(t["denominator"], errors="coerce")
    lim = stats.funnel_limits(den.fillna(0).to_numpy(), p0 if np.isfinite(p0) else 0.0)
    t["p0"] = 100.0 * p0
    for name in ("lower_95", "upper_95", "lower_998", "upper_998"):
        t[name] = 100.0 * getattr(lim, name)
    pct = pd.to_numeric(t["percent"], errors="coerce")
    t["position"] = np.select(
        [pct.isna(), pct > t["upper_998"], pct > t["upper_95"], pct < t["lower_998"], pct < t["lower_95"]],
        ["c" if disclosure == "public" else "", "above 99.8% limit", "above 95% limit", "below 99.8% limit", "below 95% limit"],
        default="within limits",
    )
    t.attrs.update(table.attrs)
    t.attrs.update({"table": "funnel", "caveat": PERFORMANCE_CAVEAT, "limits": lim.method, "p0": p0})
    return t


# --------------------------------------------------------------------------------------------
# Co-occurrence


def _fisher_columns(out: pd.DataFrame, a: pd.Series, n1: pd.Series, b: pd.Series, n2: pd.Series, or_kind: str) -> None:
    """Odds ratio, interval and Fisher p of `a` of `n1` against `b` of `n2`, row by row, into `out`.

    Rows with an empty side or nothing counted on either side are not tested (NaN).
    """
    a, n1, b, n2 = (np.asarray(v, dtype=np.int64) for v in (a, n1, b, n2))
    testable = (n1 > 0) & (n2 > 0) & (a + b > 0)
    cols = {"odds_ratio": "odds_ratio", "or_ci_low": "ci_low", "or_ci_high": "ci_high", "p_value": "p_value"}
    values = {k: np.full(len(a), np.nan) for k in cols}
    if testable.any():
        res = stats.fisher_many(a[testable], (n1 - a)[testable], b[testable], (n2 - b)[testable], or_kind)  # type: ignore[arg-type]
        for k, r in cols.items():
            values[k][testable] = res[r]
    for k in cols:
        out[k] = values[k]


def cooccurrence(
    kind: Literal["patterns", "factor-pattern"] = "patterns",
    *,
    level: int = 2,
    factor_level: int = 2,
    unit: Literal["review", "episode"] | None = None,
    where: Mapping[str, Any] | None = None,
    min_together: int = 1,
    tests: bool = True,
    or_kind: Literal["conditional", "sample"] = "sample",
    year_basis: str = "completed",
    db: str | Path | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
    disclosure: Disclosure = "restricted",
    profile: str = "dfe",
    threshold: int | None = None,
    version: str = DEFAULT_TAXONOMY_VERSION,
) -> pd.DataFrame:
    """Which codes occur together: pattern x pattern within reviews (or episodes), or factor x pattern within episodes.

    For each pair with at least `min_together` units together: n_a, n_b, n_ab, n (units in scope),
    Jaccard n_ab/(n_a+n_b-n_ab), lift n_ab*n/(n_a*n_b), odds ratio with 95% interval and Fisher p with
    Benjamini-Hochberg q across the pairs shown. `level` is the pattern depth; `factor_level` the factor
    depth (1 = FL/LS/NG levels, 2 = types, 3 = factors).

    The unit defaults to reviews for pattern x pattern and to episodes for factor x pattern. Within
    episodes, a factor and a pattern are together when the pattern's finding cites the episode the
    factor was coded on (both are in the episode's code set, episode_codes). Within reviews, together
    means both occur somewhere in the review: counting "linked in some episode" against review-level
    margins would not make a 2 x 2 table (the together count would not be the intersection of the margins).
    """
    if unit is None:
        unit = "episode" if kind == "factor-pattern" else "review"
    if kind not in ("patterns", "factor-pattern"):
        raise TabulationError(f"unknown co-occurrence {kind!r}: use 'patterns' or 'factor-pattern'")
    if unit not in ("review", "episode"):
        raise TabulationError(f"co-occurrence counts reviews or episodes, not {unit!r}")
    for lv in (level, factor_level):
        if lv not in (1, 2, 3):
            raise TabulationError(f"levels are depths 1, 2 or 3, got {lv}")
    where = dict(where or {})
    # The unit's key as columns (k, k2), not a concatenated string (a third faster on episodes).
    same = (lambda a, b: f"{a}.k = {b}.k") if unit == "review" else (lambda a, b: f"{a}.k = {b}.k AND {a}.k2 = {b}.k2")
    n_sql = "count(DISTINCT s.review_id)" if unit == "review" else "count(*)"  # scope rows are distinct episodes
    with _connection(db, con) as c:
        plan = _scope_plan(c, "patterns", where, year_basis, version)
        if unit == "episode":
            plan.need_episode = True
        scope_sql, sp = _scope(plan, unit)
        pf, pfp = _coding_filters(plan, "m", "patterns")
        src = "review_codes" if unit == "review" else "episode_codes"
        # The codes of the units in scope. Reviews: a join on the review. Episodes: unless a filter picks
        # episodes (practice), the episodes in scope are all the episodes of the reviews in scope, so
        # their codes are picked by review alone, a semi-join twice as fast as joining on (review, episode).
        if unit == "review":
            def members(table: str) -> str:
                return f"SELECT DISTINCT s.review_id AS k, m.code FROM scope AS s JOIN {table} AS m ON m.review_id = s.review_id WHERE"
        elif not any(d.level == "episode" for d, _ in plan.where):
            def members(table: str) -> str:
                return (f"SELECT DISTINCT m.review_id AS k, m.episode_id AS k2, m.code FROM {table} AS m "
                        "WHERE m.review_id IN (SELECT review_id FROM scope) AND")
        else:
            def members(table: str) -> str:
                return (f"SELECT DISTINCT s.review_id AS k, s.episode_id AS k2, m.code FROM scope AS s JOIN {table} AS m "
                        "ON m.review_id = s.review_id AND m.episode_id = s.episode_id WHERE")
        if kind == "patterns":
            sql = f"""{scope_sql},
                mm AS ({members(src)} m.frame = 'patterns' AND m.depth = ? {pf}),
                marg AS (SELECT code, count(*) AS n FROM mm GROUP BY code),
                pairs AS (SELECT a.code AS code_a, b.code AS code_b, count(*) AS n_ab
                          FROM mm AS a JOIN mm AS b ON {same("a", "b")} AND a.code < b.code GROUP BY ALL)
                SELECT p.code_a, p.code_b, ma.n AS n_a, mb.n AS n_b, p.n_ab, (SELECT {n_sql} FROM scope AS s) AS n
                FROM pairs AS p JOIN marg AS ma ON ma.code = p.code_a JOIN marg AS mb ON mb.code = p.code_b
                WHERE p.n_ab >= ?"""
            params = sp + [level, *pfp, min_together]
            frame_a, frame_b = "patterns", "patterns"
        else:
            ff, ffp = _coding_filters(plan, "m", "factors")
            sql = f"""{scope_sql},
                mf AS ({members("episode_codes")} m.frame = 'factors' AND m.depth = ? {ff}),
                mp AS ({members(src)} m.frame = 'patterns' AND m.depth = ? {pf}),
                -- mf and mp are each distinct per unit and carry their own coding-level filters
                -- (influence, factor level; direction), so the pairs in a unit are their join.
                pairs AS (SELECT mf.code AS code_a, mp.code AS code_b, count(*) AS n_ab
                          FROM mf JOIN mp ON {same("mf", "mp")} GROUP BY ALL),
                ma AS (SELECT code, count(*) AS n FROM mf GROUP BY code),
                mb AS (SELECT code, count(*) AS n FROM mp GROUP BY code)
                SELECT p.code_a, p.code_b, ma.n AS n_a, mb.n AS n_b, p.n_ab,
                       (SELECT {n_sql} FROM scope AS s) AS n
                FROM pairs AS p JOIN ma ON ma.code = p.code_a JOIN mb ON mb.code = p.code_b
                WHERE p.n_ab >= ?"""
            params = sp + [factor_level, *ffp, level, *pfp, min_together]
            frame_a, frame_b = "factors", "patterns"
        out = c.execute(sql, params).df()
        la, lb = _labels(c, frame_a, version), _labels(c, frame_b, version)
        oa, ob = _order(c, frame_a, version), _order(c, frame_b, version)
    out["label_a"] = out["code_a"].map(la)
    out["label_b"] = out["code_b"].map(lb)
    for col in ("n_a", "n_b", "n_ab", "n"):
        out[col] = out[col].astype("int64")
    out["jaccard"] = out["n_ab"] / (out["n_a"] + out["n_b"] - out["n_ab"])
    out["lift"] = out["n_ab"] * out["n"] / (out["n_a"] * out["n_b"])
    if tests:
        ab, a, b, n = (out[k].to_numpy(dtype=np.int64) for k in ("n_ab", "n_a", "n_b", "n"))
        res = stats.fisher_many(ab, a - ab, b - ab, n - a - b + ab, or_kind)
        out["odds_ratio"], out["or_ci_low"], out["or_ci_high"] = res["odds_ratio"], res["ci_low"], res["ci_high"]
        out["p_value"] = res["p_value"]
        out["q_value"], _ = stats.bh_adjust(out["p_value"])
    out["_a"] = out["code_a"].map(oa)
    out["_b"] = out["code_b"].map(ob)
    out = out.sort_values(["_a", "_b"], kind="mergesort").drop(columns=["_a", "_b"]).reset_index(drop=True)
    cols = ["code_a", "label_a", "code_b", "label_b", "n_a", "n_b", "n_ab", "n", "jaccard", "lift"]
    if tests:
        cols += ["odds_ratio", "or_ci_low", "or_ci_high", "p_value", "q_value"]
    out = out[cols]
    attrs = {"table": "cooccurrence", "kind": kind, "unit": unit, "unit_label": UNIT_LABELS[unit], "where": where,
             "level": level, "factor_level": factor_level if kind == "factor-pattern" else None,
             "test": ("Fisher exact test; " + stats.OR_METHODS[or_kind] + "; " + stats.BH_METHOD) if tests else None}
    if disclosure == "restricted":
        out["suppressed"] = False
        out.attrs.update(attrs)
        out.attrs.update({"disclosure": "restricted", "note": _restricted_note()})
        return out
    return _protect_cooccurrence(out, attrs, profile, threshold)


def _protect_cooccurrence(out: pd.DataFrame, attrs: dict[str, Any], profile: str, threshold: int | None) -> pd.DataFrame:
    """Public co-occurrence: a pair is shown only when n_ab, n_a and n_b all pass the threshold (or n_ab is 0)."""
    from lt_workbench.analysis.disclosure import PROFILES, SUPPRESSED

    prof = PROFILES.get(profile)
    if prof is None:
        from lt_workbench.analysis.disclosure import protect

        protect(pd.DataFrame({"code": [], "label": [], "count": [], "denominator": []}), profile=profile)  # raises the standard error
    thr = threshold if threshold is not None else prof.threshold
    small = lambda s: (s > 0) & (s < thr)  # noqa: E731
    hidden = (small(out["n_ab"]) | small(out["n_a"]) | small(out["n_b"]) | small(out["n"])
              | small(out["n_a"] - out["n_ab"]) | small(out["n_b"] - out["n_ab"])).to_numpy()
    pub = out.astype(object).copy()
    for col in [c for c in out.columns if c not in ("code_a", "label_a", "code_b", "label_b", "n")]:
        pub[col] = np.where(hidden, SUPPRESSED, out[col].round(4).astype(object))
    pub["suppressed"] = hidden
    if prof.rounding:
        for col in ("n_a", "n_b", "n_ab", "n"):
            pub[col] = [v if v == SUPPRESSED else int(np.floor(v / prof.rounding + 0.5) * prof.rounding) for v in pub[col]]
    pub.attrs.update(attrs)
    pub.attrs.update({"disclosure": "public", "note": (
        f"Public ({prof.name} profile): a pair is hidden (c) when its count together, either count alone, or either "
        f"difference is 1-{thr - 1}; statistics of hidden pairs are hidden too.")})
    return pub


# --------------------------------------------------------------------------------------------
# Evidence drill-down


def _frame_of(con: duckdb.DuckDBPyConnection, code: str, version: str) -> str:
    rows = [f for (f,) in con.execute("SELECT frame FROM taxonomy WHERE code = ? AND version = ? ORDER BY frame", [code, version]).fetchall()
            if f in FRAMES]
    if not rows:
        known = [c for (c,) in con.execute("SELECT DISTINCT code FROM taxonomy WHERE version = ?", [version]).fetchall()]
        close = difflib.get_close_matches(code, known, n=1)
        raise TabulationError(f"code {code!r} is in no frame of {version}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    if len(rows) > 1:
        raise TabulationError(f"code {code!r} is in several frames ({', '.join(rows)}): name one with frame=")
    return rows[0]


def evidence(
    code: str,
    *,
    frame: str | None = None,
    where: Mapping[str, Any] | None = None,
    year_basis: str = "completed",
    db: str | Path | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
    disclosure: Disclosure = "restricted",
    version: str = DEFAULT_TAXONOMY_VERSION,
) -> pd.DataFrame:
    """What reviewers wrote behind a cell: every coding of `code` (or a code below it) that the cell counts.

    Patterns: review, finding, and each episode the finding rests on (title, description, judgement) with
    the factors coded on that episode. Factors: review, episode and the factor note. Other frames: the
    reviews (and children) concerned. Filter with the same `where` as the cell. Restricted only.
    """
    _refuse_public("evidence", disclosure)
    where = dict(where or {})
    with _connection(db, con) as c:
        fname = frame_spec(frame).name if frame else _frame_of(c, code, version)
        spec = FRAMES[fname]
        if fname in ("patterns", "factors"):
            plan = _plan(c, fname, "coding", (), where, None, year_basis, 5, version)
            plan.need_episode = True
            plan.member = "coding"
            cte, cp0 = plan.base_cte()
            j, jp = plan.joins(with_member=True)
            conds, cp = plan.conditions(with_member=True, population_only=False)
            conds.append("m.code = ?")
            cp.append(code)
            if fname == "patterns":
                select = """SELECT DISTINCT r.review_id, r.year, r.area_code, r.region, pf.finding_no, pf.code AS coded_as,
                       pf.direction, pf.priority, pf.finding, pf.proposed_label, e.episode_id, e.episode_no,
                       e.title AS episode_title, e.description AS episode_description, e.practice, e.judgement"""
                text_join = "JOIN pattern_findings AS pf ON pf.review_id = m.review_id AND 'F' || pf.finding_no = m.coding_key"
                order = "r.review_id, pf.finding_no, e.episode_no"
            else:
                select = """SELECT DISTINCT r.review_id, r.year, r.area_code, r.region, e.episode_id, e.episode_no,
                       e.title AS episode_title, e.description AS episode_description, e.practice, e.judgement,
                       fc.coding_no, fc.code AS coded_as, fc.influence, fc.note"""
                text_join = ("JOIN factor_codings AS fc ON fc.review_id = m.review_id AND fc.episode_id = m.episode_id "
                             "AND fc.episode_id || '#' || fc.coding_no = m.coding_key")
                order = "r.review_id, e.episode_no, fc.coding_no"
            sql = f"{cte}\n{select}\n{j}\n{text_join}\nWHERE {' AND '.join(conds)}\nORDER BY {order}"
            out = c.execute(sql, cp0 + jp + cp).df()
            if fname == "patterns" and not out.empty:
                notes = c.execute(
                    """SELECT review_id, episode_id, string_agg(code || ' (' || influence || ')' || coalesce(': ' || note, ''), '; '
                              ORDER BY coding_no) AS episode_factors
                       FROM factor_codings GROUP BY review_id, episode_id"""
                ).df()
                out = out.merge(notes, on=["review_id", "episode_id"], how="left")
        else:
            plan = _plan(c, fname, "review", (), where, None, year_basis, 5, version)
            cte, cp0 = plan.base_cte()
            j, jp = plan.joins(with_member=True)
            conds, cp = plan.conditions(with_member=True, population_only=False)
            conds += plan.recorded([])
            conds.append("m.code = ?")
            cp.append(code)
            child = ", c.child_no" if plan.need_child else ""
            sql = (f"{cte}\nSELECT DISTINCT r.review_id, r.year, r.area_code, r.region, r.title{child}\n{j}\n"
                   f"WHERE {' AND '.join(conds)}\nORDER BY r.review_id{child}")
            out = c.execute(sql, cp0 + jp + cp).df()
        label = _labels(c, fname, version).get(code, code)
    out.attrs.update({"table": "evidence", "frame": fname, "code": code, "label": label, "where": where,
                      "disclosure": "restricted", "note": _restricted_note(), "unit": "coding" if fname in ("patterns", "factors") else "review"})
    return out


def proposed_patterns(
    *,
    where: Mapping[str, Any] | None = None,
    year_basis: str = "completed",
    db: str | Path | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
    disclosure: Disclosure = "restricted",
    version: str = DEFAULT_TAXONOMY_VERSION,
) -> pd.DataFrame:
    """New sub-patterns reviewers proposed (proposed_label), under their parent code, for curation.

    The findings already count under the parent in every tabulation; this lists the proposals so a
    curator can decide which to add to the typology. Restricted: the labels are reviewers' own words.
    """
    _refuse_public("proposed_patterns", disclosure)
    with _connection(db, con) as c:
        plan = _scope_plan(c, "patterns", dict(where or {}), year_basis, version)
        scope_sql, sp = _scope(plan)
        out = c.execute(
            f"""{scope_sql}
                SELECT pf.code AS parent_code, t.label AS parent_label, arg_min(trim(pf.proposed_label), s.review_id) AS proposed_label,
                       count(*) AS findings, count(DISTINCT s.review_id) AS reviews, min(s.year) AS first_year, max(s.year) AS last_year,
                       list(DISTINCT s.review_id ORDER BY s.review_id) AS review_ids, min(t.sort_key) AS _k
                FROM scope AS s JOIN pattern_findings AS pf ON pf.review_id = s.review_id
                LEFT JOIN taxonomy AS t ON t.frame = 'patterns' AND t.version = ? AND t.code = pf.code
                WHERE pf.proposed_label IS NOT NULL AND trim(pf.proposed_label) <> ''
                GROUP BY pf.code, t.label, lower(trim(pf.proposed_label))
                ORDER BY _k, reviews DESC, proposed_label""",
            sp + [version],
        ).df().drop(columns="_k")
    out.attrs.update({"table": "proposed_patterns", "unit": "review", "disclosure": "restricted", "note": _restricted_note()})
    return out


# --------------------------------------------------------------------------------------------
# Recommendations


_REC_DIMS = {"kind": "recommendation_kind", "level": "recommendation_level", "status": "recommendation_status"}


def recommendations(
    *,
    by: Sequence[str] = ("level", "status"),
    where: Mapping[str, Any] | None = None,
    year_basis: str = "completed",
    totals: bool = False,
    db: str | Path | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
    disclosure: Disclosure = "restricted",
    profile: str = "dfe",
    threshold: int | None = None,
    version: str = DEFAULT_TAXONOMY_VERSION,
) -> pd.DataFrame:
    """Recommendations by kind (the code column) x level x status: unit = recommendation.

    Every combination appears (0 is a true zero); denominator = all recommendations in scope, so percents
    across the whole table add to 100. `totals=True` adds 'All' rows for level and status.
    """
    dims = list(by)
    for d in dims:
        if d not in ("level", "status"):
            raise TabulationError(f"recommendations are tabulated by kind (rows) x level and/or status, not {d!r}")
    where = dict(where or {})
    with _connection(db, con) as c:
        plan = _scope_plan(c, "patterns", where, year_basis, version)
        scope_sql, sp = _scope(plan)
        recs = c.execute(
            f"{scope_sql} SELECT rec.kind, rec.level, rec.status FROM scope AS s JOIN recommendations AS rec ON rec.review_id = s.review_id",
            sp,
        ).df()
        vocab = {k: list(c.execute("SELECT code FROM taxonomy WHERE frame = ? AND version = ? ORDER BY sort_key", [f, version]).df()["code"])
                 for k, f in _REC_DIMS.items()}
        kind_labels = _labels(c, "recommendation_kind", version)
    grid = pd.DataFrame({"code": vocab["kind"]})
    for d in dims:
        grid = grid.merge(pd.DataFrame({d: vocab[d]}), how="cross")
    counted = recs.groupby(["kind", *dims]).size().rename("count").reset_index().rename(columns={"kind": "code"})
    out = grid.merge(counted, on=["code", *dims], how="left")
    out["count"] = out["count"].fillna(0).astype("int64")
    if totals and dims:
        extra = []
        for keep in itertools.product(*[[True, False] for _ in dims]):
            if all(keep):
                continue
            kept = [d for d, k in zip(dims, keep) if k]
            g = out.groupby(["code", *kept], sort=False)["count"].sum().reset_index()
            for d, k in zip(dims, keep):
                if not k:
                    g[d] = _TOTAL
            extra.append(g)
        out = pd.concat([out.astype({d: object for d in dims}), *extra], ignore_index=True)
    out["denominator"] = len(recs)
    out.insert(1, "label", out["code"].map(kind_labels))
    order = {d: {v: i for i, v in enumerate(vocab[d] + [_TOTAL])} for d in ["kind", *dims]}
    out["_k"] = out["code"].map(order["kind"])
    keys = ["_k"]
    for d in dims:
        out[f"_{d}"] = out[d].map(order[d])
        keys.append(f"_{d}")
    out = out.sort_values(keys, kind="mergesort").drop(columns=keys).reset_index(drop=True)
    out = _with_rates(out)
    attrs = {"table": "recommendations", "unit": "recommendation", "unit_label": "recommendations", "by": ["kind", *dims],
             "where": where, "lines": [[d] for d in dims] if totals else [], "partition": False, "interval": stats.WILSON_METHOD}
    return apply_disclosure(out, attrs, disclosure=disclosure, profile=profile, threshold=threshold)


def overdue(
    as_of: dt.date | str | None = None,
    *,
    where: Mapping[str, Any] | None = None,
    include_not_accepted: bool = False,
    year_basis: str = "completed",
    db: str | Path | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
    disclosure: Disclosure = "restricted",
) -> pd.DataFrame:
    """Recommendations whose due date is before `as_of` (default today) and that are not completed.

    Not-accepted recommendations are left out unless include_not_accepted: nobody is working to their date.
    Restricted: one row per recommendation, with its text. Oldest due first.
    """
    _refuse_public("overdue", disclosure)
    day = dt.date.fromisoformat(as_of) if isinstance(as_of, str) else (as_of or dt.date.today())
    statuses = ["completed"] + ([] if include_not_accepted else ["not_accepted"])
    with _connection(db, con) as c:
        plan = _scope_plan(c, "patterns", dict(where or {}), year_basis, DEFAULT_TAXONOMY_VERSION)
        scope_sql, sp = _scope(plan)
        out = c.execute(
            f"""{scope_sql}
                SELECT rec.review_id, rec.rec_id, rec.kind, rec.level, rec.status, rec.due,
                       date_diff('day', rec.due, CAST(? AS DATE)) AS days_overdue, rec.agency, rec.lead_role, rec.text,
                       s.area_code, s.region, s.year
                FROM scope AS s JOIN recommendations AS rec ON rec.review_id = s.review_id
                WHERE rec.due IS NOT NULL AND rec.due < CAST(? AS DATE) AND rec.status NOT IN ({_placeholders(len(statuses))})
                ORDER BY rec.due, rec.review_id, rec.rec_no""",
            sp + [day, day, *statuses],
        ).df()
    out.attrs.update({"table": "overdue", "as_of": day.isoformat(), "unit": "recommendation", "disclosure": "restricted",
                      "note": _restricted_note()})
    return out


def unaddressed_patterns(
    *,
    level: int | None = None,
    where: Mapping[str, Any] | None = None,
    detail: bool = False,
    year_basis: str = "completed",
    db: str | Path | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
    disclosure: Disclosure = "restricted",
    profile: str = "dfe",
    threshold: int | None = None,
    version: str = DEFAULT_TAXONOMY_VERSION,
) -> pd.DataFrame:
    """Patterns found in reviews that no recommendation of the same review addresses.

    Per code (rolled up): count = reviews with an unaddressed finding of the code, denominator = reviews
    with the code. A recommendation addresses a finding when it lists the finding's code or an ancestor
    (mart_unaddressed_findings). `detail=True` lists the findings instead (restricted only).
    `where` may include direction='unsafe' to leave constructive patterns out.
    """
    where = dict(where or {})
    with _connection(db, con) as c:
        plan = _scope_plan(c, "patterns", where, year_basis, version, level=level)
        scope_sql, sp = _scope(plan)
        dirs = [v for d, v in plan.where if d.name == "direction"]
        dfilter = f" AND u.direction IN ({_placeholders(len(dirs[0]))})" if dirs else ""
        dparams = list(dirs[0]) if dirs else []
        if detail:
            _refuse_public("unaddressed_patterns(detail=True)", disclosure)
            out = c.execute(
                f"""{scope_sql}
                    SELECT u.review_id, u.finding_no, u.code, t.label, u.direction, u.priority, u.finding, s.year, s.area_code, s.region
                    FROM scope AS s JOIN mart_unaddressed_findings AS u ON u.review_id = s.review_id
                    LEFT JOIN taxonomy AS t ON t.frame = 'patterns' AND t.version = ? AND t.code = u.code
                    WHERE TRUE {dfilter}
                    ORDER BY u.review_id, u.finding_no""",
                sp + [version, *dparams],
            ).df()
            out.attrs.update({"table": "unaddressed_findings", "unit": "finding", "disclosure": "restricted", "note": _restricted_note()})
            return out
        codes = _codes(c, FRAMES["patterns"], level, version)
        counts = c.execute(
            f"""{scope_sql},
                found AS (SELECT DISTINCT a.ancestor AS code, pf.review_id
                          FROM scope AS s JOIN pattern_findings AS pf ON pf.review_id = s.review_id
                          JOIN reviews AS r ON r.review_id = pf.review_id
                          JOIN code_ancestors AS a ON a.version = r.taxonomy_version AND a.frame = 'patterns' AND a.code = pf.code
                          WHERE TRUE {dfilter.replace('u.', 'pf.')}),
                open AS (SELECT DISTINCT a.ancestor AS code, u.review_id
                          FROM scope AS s JOIN mart_unaddressed_findings AS u ON u.review_id = s.review_id
                          JOIN reviews AS r ON r.review_id = u.review_id
                          JOIN code_ancestors AS a ON a.version = r.taxonomy_version AND a.frame = 'patterns' AND a.code = u.code
                          WHERE TRUE {dfilter})
                SELECT f.code, count(DISTINCT o.review_id) AS count, count(DISTINCT f.review_id) AS denominator
                FROM found AS f LEFT JOIN open AS o ON o.code = f.code AND o.review_id = f.review_id
                GROUP BY f.code""",
            sp + dparams + dparams,
        ).df()
    out = codes[["code", "label"]].merge(counts, on="code", how="left")
    out["count"] = out["count"].fillna(0).astype("int64")
    out["denominator"] = out["denominator"].fillna(0).astype("int64")
    out = _with_rates(out)
    attrs = {"table": "unaddressed_patterns", "unit": "review", "unit_label": "reviews", "level": level, "where": where,
             "description": "count: reviews with a finding of the code that no recommendation of the review addresses; "
                            "denominator: reviews with the code.", "lines": [], "partition": False, "interval": stats.WILSON_METHOD}
    return apply_disclosure(out, attrs, disclosure=disclosure, profile=profile, threshold=threshold)


# --------------------------------------------------------------------------------------------
# Filters from the command line


def parse_where(items: Sequence[str]) -> dict[str, str]:
    """CLI `--where DIM=VALUE` items -> a where mapping (values keep their 'a,b' and 'Y1..Y2' forms)."""
    out: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise TabulationError(f"--where {item!r}: write DIMENSION=VALUE, e.g. --where region=london or --where year=2015..2019")
        key = _dim(name.strip()).name
        if key in out:
            raise TabulationError(f"--where {key} given twice: list several values as {key}=a,b")
        out[key] = value.strip()
    return out

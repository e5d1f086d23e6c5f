"""The vocabulary of tabulation: countable frames, by/where dimensions, their values and labels.

Identifiers that reach SQL come only from the whitelists here (FRAMES, DIMENSIONS, UNITS, YEAR_BASES);
filter values are checked against the taxonomy and always bound as parameters.
"""

from __future__ import annotations

import difflib
import weakref
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable, Literal, Sequence, TypeVar

import duckdb
import pandas as pd

from lt_workbench.analysis.queries import query
from lt_workbench.exceptions import TabulationError

__all__ = ["Unit", "Disclosure", "UNITS", "UNIT_LABELS", "YEAR_BASES", "FRAMES", "FRAME_ALIASES", "DIMENSIONS", "SERIES_BREAKS", "PERFORMANCE_CAVEAT", "FrameSpec", "Dim", "frame_spec", "dimensions", "parse_where",
           "YearSpan", "YEAR_MIN", "YEAR_MAX", "MAX_FILTER_VALUES", "cli_name", "canonical_where"]


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
        hint = f" (did you mean {cli_name(close[0])!r}?)" if close else ""
        raise TabulationError(f"unknown dimension {cli_name(name)!r}{hint}: dimensions are {', '.join(cli_name(d) for d in DIMENSIONS)}")
    return DIMENSIONS[key]


# Years a review can have: dates are YYYY-MM-DD (schema) and real dates (validate), so 1..9999.
YEAR_MIN, YEAR_MAX = 1, 9999
# At most this many values in one filter (a list is bound value by value; ranges compile to BETWEEN).
MAX_FILTER_VALUES = 1000


@dataclass(frozen=True)
class YearSpan:
    """An inclusive range of years, either end open: `2015..2019`, `2015..` or `..2014`.

    Compiled to a range predicate (one or two bound values), never to a list of years.
    """

    lo: int | None
    hi: int | None

    def __str__(self) -> str:
        return f"{'' if self.lo is None else self.lo}..{'' if self.hi is None else self.hi}"

    def contains(self, year: int) -> bool:
        """Whether `year` is in the span."""
        return (self.lo is None or year >= self.lo) and (self.hi is None or year <= self.hi)

    def intersect(self, other: YearSpan) -> YearSpan | None:
        """The years in both spans, or None when they do not overlap."""
        lo = max((v for v in (self.lo, other.lo) if v is not None), default=None)
        hi = min((v for v in (self.hi, other.hi) if v is not None), default=None)
        if lo is not None and hi is not None and lo > hi:
            return None
        return YearSpan(lo, hi)


WhereValues = list[Any] | YearSpan


def cli_name(name: str) -> str:
    """The one spelling of a dimension or frame name in messages and on the command line (`review-type`)."""
    return str(name).replace("_", "-")


def _year(dim: Dim, text: Any, raw: Any) -> int:
    try:
        year = int(str(text).strip())
    except (TypeError, ValueError):
        raise TabulationError(
            f"where {cli_name(dim.name)}={raw!r}: {cli_name(dim.name)} takes whole numbers (2019 or 2015,2016) or a range "
            "written FIRST..LAST (2015..2019), open at one end (2015.. or ..2014)"
        ) from None
    if not YEAR_MIN <= year <= YEAR_MAX:
        raise TabulationError(
            f"where {cli_name(dim.name)}={raw!r}: {year} is not a year a review can have ({YEAR_MIN}..{YEAR_MAX}); "
            "leave an end open instead (e.g. 2015.. or ..2014)"
        )
    return year


def _year_values(dim: Dim, raw: Any) -> WhereValues:
    """Years: a range (open at either end) becomes a YearSpan; single years and lists stay a list."""
    if isinstance(raw, YearSpan):
        return raw
    if isinstance(raw, range):
        if raw.step != 1 or not len(raw):
            raise TabulationError(f"where {cli_name(dim.name)}={raw!r}: give a non-empty range of consecutive years")
        return _span(dim, raw.start, raw[-1], raw)
    if isinstance(raw, str) and ".." in raw:
        lo_text, _, hi_text = raw.partition("..")
        lo = _year(dim, lo_text, raw) if lo_text.strip() else None
        hi = _year(dim, hi_text, raw) if hi_text.strip() else None
        if lo is None and hi is None:
            raise TabulationError(f"where {cli_name(dim.name)}={raw!r}: give at least one end, e.g. 2015.. or ..2014")
        return _span(dim, lo, hi, raw)
    items = _items(dim, raw)
    return sorted({_year(dim, v, raw) for v in items})


def _span(dim: Dim, lo: int | None, hi: int | None, raw: Any) -> YearSpan:
    for v in (lo, hi):
        if v is not None:
            _year(dim, v, raw)
    if lo is not None and hi is not None and lo > hi:
        raise TabulationError(
            f"where {cli_name(dim.name)}={raw!r}: the range runs backwards; write FIRST..LAST, e.g. {hi}..{lo}"
        )
    return YearSpan(lo, hi)


def _items(dim: Dim, raw: Any) -> list[Any]:
    if isinstance(raw, (list, tuple, set, frozenset)):
        vals = sorted(raw, key=str) if isinstance(raw, (set, frozenset)) else list(raw)
    elif isinstance(raw, str) and "," in raw:
        vals = [v.strip() for v in raw.split(",") if v.strip()]
    else:
        vals = [raw]
    if not vals or all(isinstance(v, str) and not v.strip() for v in vals):
        raise TabulationError(f"where {cli_name(dim.name)}: no values given")
    if len(vals) > MAX_FILTER_VALUES:
        raise TabulationError(
            f"where {cli_name(dim.name)}: {len(vals)} values given; at most {MAX_FILTER_VALUES} (use a range for years)"
        )
    return vals


@lru_cache(maxsize=256)
def _allowed(dim: Dim, version: str) -> dict[str, str] | None:
    """Accepted spellings (lower case) -> code: every code and every label of the dimension's vocabulary.

    Cached (read only, never changed by callers): the shipped frames of a version do not change while running
    (model.frames.taxonomy_frame is cached too), and every tabulation call with filters asks again.
    """
    if dim.vocabulary:
        from lt_workbench.model.frames import taxonomy_frame

        t = taxonomy_frame(version)
        t = t[t["frame"] == dim.vocabulary]
        out = {str(label).strip().lower(): str(code) for code, label in zip(t["code"], t["label"], strict=True)}
        out.update({str(code).lower(): str(code) for code in t["code"]})
        return out
    if dim.name == "factor_level":
        return {c.lower(): c for c in _FACTOR_LEVELS}
    if dim.name == "series":
        return {c.lower(): c for c in ("SCR", "CSPR", "other")}
    return None


def _values(dim: Dim, raw: Any, version: str) -> WhereValues:
    """Normalise a where value and check it against the vocabulary.

    Years: 2019, a list, `2015..2019`, `2015..`, `..2014` or a Python range (a YearSpan for ranges).
    Other dimensions: a value, a list or 'a,b'; codes or labels in any case (`"North West"`).
    """
    if dim.kind == "int":
        return _year_values(dim, raw)
    allowed = _allowed(dim, version)
    if isinstance(raw, str) and allowed is not None and raw.strip().lower() in allowed:
        return [allowed[raw.strip().lower()]]  # a label may contain a comma
    out: list[str] = []
    for v in (str(x).strip() for x in _items(dim, raw)):
        if allowed is not None:
            code = allowed.get(v.lower())
            if code is None:
                codes = sorted(set(allowed.values()))
                close = difflib.get_close_matches(v, codes, n=1) or difflib.get_close_matches(v.lower(), sorted(allowed), n=1)
                hint = f" (did you mean {allowed.get(close[0], close[0])!r}?)" if close else ""
                raise TabulationError(
                    f"where {cli_name(dim.name)}={v!r} is not a known value{hint}; values are {', '.join(codes[:40])}"
                    + (" ..." if len(codes) > 40 else "") + " (codes or their labels, in any case)"
                )
            v = code
        if v not in out:
            out.append(v)
    return out


def canonical_where(parsed: Sequence[tuple[Dim, WhereValues]]) -> dict[str, str]:
    """Filters as recorded in every output's attrs: dimension -> `code`, `a,b`, `2015..2019`, `2015..` or `..2014`."""
    return {d.name: str(v) if isinstance(v, YearSpan) else ",".join(str(x) for x in v) for d, v in parsed}


_T = TypeVar("_T")

# What each read-only connection has read of the database's taxonomy, by query and parameters. A reader's
# connection sees one snapshot for as long as it is open (model/snapshot.py), so it would read the same again;
# newer data means a new connection (the explorer's "load the new data", the CLI's connection per call) and so
# an empty memo. A writable connection (a load, db.write) may change the taxonomy under it: never remembered.
_READS: weakref.WeakKeyDictionary[Any, dict[tuple[Any, ...], Any] | None] = weakref.WeakKeyDictionary()
_UNSEEN: dict[tuple[Any, ...], Any] = {}  # marks a connection not met yet (never filled)


def _read_only(con: duckdb.DuckDBPyConnection) -> bool:
    rows = con.execute("SELECT readonly FROM duckdb_databases() WHERE database_name = current_database()").fetchall()
    return bool(rows and rows[0][0])


def _remembered(con: duckdb.DuckDBPyConnection, key: tuple[Any, ...], read: Callable[[], _T]) -> _T:
    """`read()` once per read-only connection and `key`; on any other connection every time."""
    try:
        memo = _READS.get(con, _UNSEEN)
        if memo is _UNSEEN:
            memo = _READS[con] = {} if _read_only(con) else None
    except TypeError:  # not weakly referenceable: a stand-in for a connection
        return read()
    if memo is None:
        return read()
    if key not in memo:
        memo[key] = read()
    out: _T = memo[key]
    return out


def _codes(con: duckdb.DuckDBPyConnection, spec: FrameSpec, level: int | None, version: str) -> pd.DataFrame:
    """The codes of a frame in the database's taxonomy (code, label, depth, sort_key, root), in frame order; a copy."""
    out = _remembered(con, ("frame_codes", spec.name, version, level),
                      lambda: con.execute(query("frame_codes"), [spec.name, version, level, level]).df())
    if out.empty:
        raise TabulationError(f"frame {spec.cli!r} has no codes in taxonomy {version!r}" + (f" at level {level}" if level else ""))
    return out.copy()


def _sort_keys(con: duckdb.DuckDBPyConnection, dim: Dim, version: str) -> dict[Any, int]:
    if dim.vocabulary:
        return dict(_order(con, dim.vocabulary, version))
    if dim.name == "factor_level":
        return {c: i for i, c in enumerate(_FACTOR_LEVELS)}
    return {}


def _vocab_codes(d: Dim, version: str) -> list[str]:
    """The codes of a dimension's vocabulary in taxonomy `version`, in frame order."""
    from lt_workbench.model.frames import taxonomy_frame

    t = taxonomy_frame(version)
    return list(t.loc[t["frame"] == d.vocabulary, "code"])


def _labels(con: duckdb.DuckDBPyConnection, frame: str, version: str) -> dict[str, str]:
    return {str(code): str(label) for code, label, _, _ in _terms(con, frame, version)}


def _order(con: duckdb.DuckDBPyConnection, frame: str, version: str) -> dict[str, int]:
    return {str(code): int(key) for code, _, _, key in _terms(con, frame, version)}


def _terms(con: duckdb.DuckDBPyConnection, frame: str, version: str) -> list[tuple[Any, ...]]:
    """(code, label, depth, sort_key) of every code of `frame` in `version`, in frame order."""
    return list(_remembered(con, ("frame_terms", frame, version), lambda: con.execute(query("frame_terms"), [frame, version]).fetchall()))


def parse_where(items: Sequence[str]) -> dict[str, str]:
    """CLI `--where DIM=VALUE` items -> a where mapping (values keep their 'a,b' and 'Y1..Y2' forms)."""
    out: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise TabulationError(f"--where {item!r}: write DIMENSION=VALUE, e.g. --where region=london or --where year=2015..2019")
        key = _dim(name.strip()).name
        if key in out:
            raise TabulationError(f"--where {cli_name(key)} given twice: list several values as {cli_name(key)}=a,b")
        out[key] = value.strip()
    return out

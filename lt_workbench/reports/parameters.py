"""Report parameters: typed, resolved and checked against the taxonomy and the database before anything runs.

`validate_parameters` is called twice for every run: by the runner (so a bad parameter stops before a
kernel starts, with exit code 2) and by `setup()` inside the notebook (so a notebook run by hand in
Jupyter gets the same checks). Codes may be given by label, in any case ("North West").
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from lt_workbench import config
from lt_workbench.exceptions import DatabaseError, ParameterError
from lt_workbench.reports.registry import Param, get_spec

__all__ = ["parse_cli_parameters", "validate_parameters", "vocabulary", "resolve_code", "db_path", "scope_where", "scope_words",
           "database_areas", "reviews_by", "reviews_in"]


def parse_cli_parameters(items: Sequence[str]) -> dict[str, str]:
    """`-p key=value` items -> {key: value}; values stay strings and are typed by validate_parameters."""
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ParameterError(f"-p {item!r}: write NAME=VALUE, e.g. -p region=north_west or -p year_from=2015")
        if key in out:
            raise ParameterError(f"-p {key} given twice: list several values as {key}=a,b")
        out[key] = value.strip()
    return out


def _none_like(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip().lower() in ("", "none", "null", "all"))


def _coerce(p: Param, value: Any) -> Any:
    """Type one value (CLI strings or Python values) or say what is expected."""
    if _none_like(value) and p.kind != "choice":
        return None
    if p.kind == "int":
        if isinstance(value, bool):
            raise ParameterError(f"{p.name}: expected a whole number, got {value!r}")
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
            return int(value)
        raise ParameterError(f"{p.name}: expected a whole number, got {value!r}")
    if p.kind == "list":
        if isinstance(value, str):
            items = [v.strip() for v in value.split(",") if v.strip()]
        elif isinstance(value, (list, tuple)):
            items = [str(v).strip() for v in value if str(v).strip()]
        else:
            raise ParameterError(f"{p.name}: expected a list (a,b or [\"a\", \"b\"]), got {value!r}")
        return items or None
    if p.kind == "date":
        try:
            return (value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value).strip())).isoformat()
        except ValueError:
            raise ParameterError(f"{p.name}: expected a date written YYYY-MM-DD, got {value!r}") from None
    if p.kind == "choice":
        text = str(value).strip().lower() if value is not None else ""
        if text not in p.choices:
            close = difflib.get_close_matches(text, p.choices, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ParameterError(f"{p.name}={value!r} is not allowed{hint}: choose one of {', '.join(p.choices)}")
        return text
    if not isinstance(value, (str, Path)):
        raise ParameterError(f"{p.name}: expected text, got {value!r}")
    return str(value).strip()


def vocabulary(frame: str, version: str = config.DEFAULT_TAXONOMY_VERSION) -> dict[str, str]:
    """code -> label of a taxonomy frame."""
    from lt_workbench.model.frames import labels

    return labels(frame, version)


def resolve_code(name: str, value: str, vocab: Mapping[str, str], what: str) -> str:
    """A code of a vocabulary from its code or its label (any case); else a clear error with a close match."""
    if value in vocab:
        return value
    by_lower = {c.lower(): c for c in vocab} | {lab.lower(): c for c, lab in vocab.items()}
    key = value.strip().lower().replace(" ", "_")
    for candidate in (value.strip().lower(), key):
        if candidate in by_lower:
            return by_lower[candidate]
    close = difflib.get_close_matches(value, list(vocab) + list(vocab.values()), n=1)
    hint = f" (did you mean {by_lower.get(close[0].lower(), close[0])!r}?)" if close else ""
    raise ParameterError(f"{name}={value!r} is not a known {what}{hint}; known: {', '.join(vocab)}")


def db_path(value: Any) -> Path:
    """The database a report reads: the value given (absolute), else config.DEFAULT_DB."""
    return Path(value).expanduser().resolve() if value else config.DEFAULT_DB


def validate_parameters(name: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Check and type a report's parameters before any notebook runs; return every parameter, defaults filled.

    Raises ParameterError naming the parameter and what would be accepted: unknown names (with a close
    match), wrong types, a year range that is backwards or holds no reviews, regions, nations, review
    types and pattern codes not in the taxonomy, areas not in the database, an area in public mode, and a
    disclosure threshold the profile cannot use. Codes may be given by label ("North West").
    """
    spec = get_spec(name)
    given = dict(params or {})
    known = {p.name for p in spec.params}
    for key in given:
        if key not in known:
            close = difflib.get_close_matches(key, sorted(known), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ParameterError(f"report {name!r} has no parameter {key!r}{hint}; its parameters are {', '.join(p.name for p in spec.params)}")
    out: dict[str, Any] = {}
    for p in spec.params:
        out[p.name] = _coerce(p, given[p.name]) if p.name in given else p.default
    version = config.DEFAULT_TAXONOMY_VERSION

    # Disclosure settings: let the disclosure module judge profile and threshold.
    if out["min_cell"] is not None:
        if out["min_cell"] < 1:
            raise ParameterError(f"min_cell must be at least 1 (the smallest count that may be shown), got {out['min_cell']}")
        from lt_workbench.analysis.disclosure import protect
        from lt_workbench.exceptions import DisclosureError

        try:
            protect(pd.DataFrame({"code": [], "label": [], "count": [], "denominator": []}), profile=out["profile"], threshold=out["min_cell"])
        except DisclosureError as e:
            raise ParameterError(f"min_cell={out['min_cell']}: {e}") from None

    # Years.
    for key in ("year_from", "year_to"):
        y = out[key]
        if y is not None and not 1900 <= y <= 2100:
            raise ParameterError(f"{key}={y} is not a plausible year of completion (1900-2100)")
    if out["year_from"] is not None and out["year_to"] is not None and out["year_from"] > out["year_to"]:
        raise ParameterError(f"year range {out['year_from']}-{out['year_to']} runs backwards: year_from must not be after year_to")

    # Vocabularies.
    if out["nation"] is not None:
        out["nation"] = resolve_code("nation", out["nation"], vocabulary("nation", version), "nation")
    if out["region"] is not None:
        out["region"] = resolve_code("region", out["region"], vocabulary("region", version), "region")
        from lt_workbench.model.frames import taxonomy_frame

        t = taxonomy_frame(version)
        parent = t.loc[(t["frame"] == "region") & (t["code"] == out["region"]), "parent"].iloc[0]
        if out["nation"] is not None and parent != out["nation"]:
            raise ParameterError(f"region {out['region']!r} is in {parent}, not in nation {out['nation']!r}")
    if out["review_types"]:
        vocab = vocabulary("review_type", version)
        out["review_types"] = [resolve_code("review_types", v, vocab, "review type") for v in out["review_types"]]
    if "pattern" in out:
        if out["pattern"] is None:
            raise ParameterError("pattern: name one pattern code, e.g. P2.1")
        vocab = vocabulary("patterns", version)
        out["pattern"] = resolve_code("pattern", out["pattern"], vocab, "pattern code")
    if out.get("patterns"):
        vocab = vocabulary("patterns", version)
        out["patterns"] = [resolve_code("patterns", v, vocab, "pattern code") for v in out["patterns"]]
    for key in ("top_n", "max_excerpts"):
        if key in out and (out[key] is None or not 1 <= out[key] <= 100):
            raise ParameterError(f"{key} must be a whole number from 1 to 100, got {out[key]!r}")

    if out["area"] is not None and out["disclosure"] == "public":
        raise ParameterError(
            f"area={out['area']!r}: a report about one area puts that area next to small numbers about children, and area "
            "names never appear in public output. Use disclosure=restricted (and keep the report inside the secure "
            "environment), or report on its region instead."
        )

    # The database: it must exist, and the scope must hold reviews.
    db = db_path(out["db"])
    if not db.exists():
        raise ParameterError(f"db: {db} does not exist; load reviews first with `lt-workbench load PATH --db {db}`")
    out["db"] = str(db)
    _check_against_database(out, db)
    return out


def _check_against_database(out: dict[str, Any], db: Path) -> None:
    """Area exists and sits in the region/nation given; the scope holds at least one review."""
    try:
        areas = database_areas(db)
    except DatabaseError as e:
        raise ParameterError(f"db: {e}") from None
    if out["area"] is not None:
        names = dict(zip(areas["area_code"], areas["area_name"], strict=True))
        value = out["area"]
        if value not in names:
            by_name = {str(n).lower(): c for c, n in names.items()} | {c.lower(): c for c in names}
            if value.lower() in by_name:
                value = by_name[value.lower()]
            else:
                close = difflib.get_close_matches(value, sorted(names) + sorted(map(str, names.values())), n=1)
                hint = f" (did you mean {by_name.get(close[0].lower(), close[0])!r}?)" if close else ""
                raise ParameterError(f"area={out['area']!r} is not an area code in {db.name}{hint}")
        out["area"] = value
        row = areas[areas["area_code"] == value].iloc[0]
        if out["region"] is not None and out["region"] != row["region"]:
            raise ParameterError(f"area {value!r} is in region {row['region']!r}, not {out['region']!r}")
        if out["nation"] is not None and out["nation"] != row["nation"]:
            raise ParameterError(f"area {value!r} is in nation {row['nation']!r}, not {out['nation']!r}")
    if reviews_in(scope_where(out), db) == 0:
        total = reviews_in({}, db)
        lo, hi = _years(db)
        held = f"{total} reviews completed {lo}-{hi}" if total else "no reviews"
        raise ParameterError(f"no reviews match this scope ({scope_words(out)}); {db.name} holds {held}")


def _scope_options(db: str | Path) -> Any:
    from lt_workbench.analysis.scope import scope_options
    from lt_workbench.model.db import connect

    con = connect(db, read_only=True)
    try:
        return scope_options(con)
    finally:
        con.close()


def database_areas(db: str | Path) -> pd.DataFrame:
    """area_code, area_name, region, nation of every area with a review (lt_workbench.analysis.scope)."""
    areas: pd.DataFrame = _scope_options(db).areas
    return areas


def _years(db: str | Path) -> tuple[int, int]:
    opts = _scope_options(db)
    return int(opts.year_min), int(opts.year_max)


def reviews_by(dim: str, where: Mapping[str, Any], db: str | Path) -> dict[str, int]:
    """Reviews in scope per region or nation, in the frame's order (true counts: for choosing what to run, never published)."""
    from lt_workbench.analysis import tabulate

    table = tabulate.frequency(dim, where=dict(where), db=db, disclosure="restricted")
    return {str(c): int(n) for c, n in zip(table["code"], table["count"], strict=True)}


def reviews_in(where: Mapping[str, Any], db: str | Path) -> int:
    """How many reviews the scope holds (true count, for checks), from the analysis API."""
    from lt_workbench.analysis import tabulate

    table = tabulate.frequency("nation", where=dict(where), db=db, disclosure="restricted")
    return int(table["denominator"].iloc[0]) if len(table) else 0


def scope_words(p: Mapping[str, Any], area_name: str | None = None) -> str:
    """The scope in plain words, with labels from the frames."""
    version = config.DEFAULT_TAXONOMY_VERSION
    bits = []
    if p.get("area") is not None:
        bits.append(f"area {area_name or p['area']}")
    if p.get("region") is not None:
        bits.append(vocabulary("region", version).get(p["region"], p["region"]))
    if p.get("nation") is not None:
        bits.append(vocabulary("nation", version).get(p["nation"], p["nation"]))
    if not bits:
        bits.append("all nations")
    y0, y1 = p.get("year_from"), p.get("year_to")
    if y0 is not None and y1 is not None:
        bits.append(f"completed {y0}–{y1}" if y0 != y1 else f"completed in {y0}")
    elif y0 is not None:
        bits.append(f"completed {y0} or later")
    elif y1 is not None:
        bits.append(f"completed up to {y1}")
    else:
        bits.append("all years")
    if p.get("review_types"):
        labels = vocabulary("review_type", version)
        bits.append("review types: " + ", ".join(labels.get(t, t) for t in p["review_types"]))
    else:
        bits.append("all review types")
    return " · ".join(bits)


def scope_where(p: Mapping[str, Any]) -> dict[str, Any]:
    """A report's scope as the `where` mapping the analysis API takes (nation, region, area, year, review_type)."""
    w: dict[str, Any] = {}
    for key in ("nation", "region", "area"):
        if p.get(key) is not None:
            w[key] = p[key]
    if p.get("year_from") is not None or p.get("year_to") is not None:
        lo = p["year_from"] if p.get("year_from") is not None else 1900
        hi = p["year_to"] if p.get("year_to") is not None else 2100
        w["year"] = f"{lo}..{hi}"
    if p.get("review_types"):
        w["review_type"] = list(p["review_types"])
    return w

"""Which codes occur together: pattern x pattern within reviews or episodes, factor x pattern within episodes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, Mapping, cast

import duckdb
import numpy as np
import pandas as pd

from lt_workbench.analysis import stats
from lt_workbench.analysis.plan import _coding_lists, _connection, _Plan, _scope, _scope_plan, refuse_public_area
from lt_workbench.analysis.queries import query
from lt_workbench.analysis.frequency import frequency
from lt_workbench.analysis.joint import _protect_cooccurrence
from lt_workbench.analysis.publish import _restricted_note, profile_threshold, question_of
from lt_workbench.analysis.shape import rank
from lt_workbench.analysis.vocab import UNIT_LABELS, Disclosure, _dim, _labels, _order, canonical_where
from lt_workbench.config import DEFAULT_TAXONOMY_VERSION
from lt_workbench.exceptions import TabulationError

__all__ = ["cooccurrence"]


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
    with_code: str | None = None,
    sort: Literal["lift", "count", "q"] | None = None,
    top: int | None = None,
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

    `with_code` keeps the pairs that include that code (q-values stay those of all pairs tested, so a pair
    has one q whichever view shows it); `sort` orders by lift, count (n_ab) or q, `top` keeps the first rows
    (in public mode on the figures as shown). A `where` on pattern (or factor, for factor-pattern) is
    refused: it would narrow the units counted, not pick pairs; `with_code` is what picks pairs.
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
    profile_threshold(profile, threshold)
    refuse_public_area(where, disclosure)
    where = dict(where or {})
    paired = {"pattern"} | ({"factor"} if kind == "factor-pattern" else set())
    for key, value in where.items():
        name = _dim(key).name
        if name in paired:
            raise TabulationError(
                f"--where {name}={value} would count only the {unit}s that have {value}, which changes every pair's counts "
                f"rather than picking pairs; to see the pairs that include {value} use with_code={str(value)!r} "
                f"(CLI: --with {value})"
            )
    with _connection(db, con) as c:
        plan = _scope_plan(c, "patterns", where, year_basis, version)
        if unit == "episode":
            plan.need_episode = True
        sql, params = _pairs_query(plan, kind, unit, level, factor_level, min_together)
        frame_a, frame_b = ("patterns", "patterns") if kind == "patterns" else ("factors", "patterns")
        out = c.execute(sql, params).df()
        if with_code is not None:
            _check_with_code(c, with_code, kind, level, factor_level, version)
        la, lb = _labels(c, frame_a, version), _labels(c, frame_b, version)
        oa, ob = _order(c, frame_a, version), _order(c, frame_b, version)
        if disclosure == "public":
            shown = out if with_code is None else out[(out["code_a"] == with_code) | (out["code_b"] == with_code)]
            margins = _public_margins(kind, unit, level, factor_level, where, year_basis, version, shown, c)
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
    if with_code is not None:
        out = out[(out["code_a"] == with_code) | (out["code_b"] == with_code)].reset_index(drop=True)
    attrs = {"table": "cooccurrence", "kind": kind, "unit": unit, "unit_label": UNIT_LABELS[unit],
             "where": canonical_where(plan.where), "with_code": with_code,
             "level": level, "factor_level": factor_level if kind == "factor-pattern" else None,
             "test": ("Fisher exact test; " + stats.OR_METHODS[or_kind] + "; " + stats.BH_METHOD) if tests else None}
    keys = {"lift": ("lift", False), "count": ("n_ab", False)}
    if tests:
        keys["q"] = ("q_value", True)

    def order(t: pd.DataFrame) -> pd.DataFrame:
        return rank(t, keys, sort, top) if sort is not None or top is not None else t

    if disclosure == "restricted":
        out["suppressed"] = False
        out.attrs.update(attrs)
        out.attrs.update({"disclosure": "restricted", "note": _restricted_note()})
        return order(out)
    question = {**question_of({**attrs, "frame": "cooccurrence", "year_basis": year_basis}), "kind": kind,
                "factor_level": attrs["factor_level"]}
    return _protect_cooccurrence(out, attrs, profile, threshold, margins, question, or_kind, then=order)


def _public_margins(kind: str, unit: str, level: int, factor_level: int, where: Mapping[str, Any], year_basis: str, version: str,
                    out: pd.DataFrame, con: duckdb.DuckDBPyConnection) -> list[pd.DataFrame]:
    """The frequency tables whose cells n_a and n_b are (restricted, attrs intact), holding the codes of `out`'s pairs.

    Each side is frequency(frame, level, unit, filters that apply to it): the same question a `tabulate` asks, so
    the release shows one number for it. Checked against the pair query's margins; where a filter makes the two
    count different things (an episode filter with unit=review: frequency counts codes on those episodes,
    co-occurrence codes anywhere in reviews that have one), the side becomes its own question instead.
    """
    sides = [("patterns", level)] if kind == "patterns" else [("factors", factor_level), ("patterns", level)]
    tables = []
    for frame, depth in sides:
        own = {k: v for k, v in where.items() if _dim(k).level != "coding" or frame in _dim(k).applies_to}
        codes = set(out["code_a"]) | set(out["code_b"]) if kind == "patterns" else set(out["code_a" if frame == "factors" else "code_b"])
        freq = frequency(frame, level=depth, unit=cast(Any, unit), where=own, year_basis=year_basis, con=con, version=version)
        freq = freq[freq["code"].isin(codes)].reset_index(drop=True)
        mine: dict[str, int] = {}
        for col_code, col_n in (("code_a", "n_a"), ("code_b", "n_b")):
            if kind == "patterns" or (col_code == "code_a") == (frame == "factors"):
                mine.update(zip(out[col_code], out[col_n].astype(int), strict=True))
        same = all(int(c) == mine[k] for k, c in zip(freq["code"], freq["count"], strict=True)) and (
            out.empty or (freq["denominator"] == int(out["n"].iloc[0])).all())
        if not same:
            freq = freq.assign(count=freq["code"].map(mine).astype("int64"), denominator=int(out["n"].iloc[0]))
            freq.attrs["frame"] = f"{frame} (co-occurrence units)"
        tables.append(freq)
    return tables


def _pairs_query(plan: _Plan, kind: str, unit: str, level: int, factor_level: int, min_together: int) -> tuple[str, list[Any]]:
    """The pair query and its bound values: the plan's scope, the units' codes (sql/queries/cooccurrence_units_*), the pairs.

    Episodes: unless a filter picks episodes (practice), the episodes in scope are all the episodes of the reviews in
    scope, so their codes are picked by review alone (cooccurrence_units_episode); else by (review, episode).
    """
    scope_sql, sp = _scope(plan, unit)
    if unit == "review":
        units = "cooccurrence_units_review"
    elif any(d.level == "episode" for d, _ in plan.where):
        units = "cooccurrence_units_episode_picked"
    else:
        units = "cooccurrence_units_episode"
    directions, _ = _coding_lists(plan, "patterns")
    if kind == "patterns":
        side_a: list[Any] = ["patterns", level, directions, directions, None, None]
    else:
        influences, roots = _coding_lists(plan, "factors")
        side_a = ["factors", factor_level, influences, influences, roots, roots]
    body = "cooccurrence_pairs_patterns" if kind == "patterns" else "cooccurrence_pairs_factor_pattern"
    sql = f"{scope_sql}\n{query(units)}\n{query(body)}"
    return sql, [*sp, *side_a, level, directions, directions, min_together]


def _check_with_code(c: duckdb.DuckDBPyConnection, code: str, kind: str, level: int, factor_level: int, version: str) -> None:
    """with_code must be a code of one side of the pairs at the depth asked for (else no pair could include it)."""
    sides = [("patterns", level)] + ([("factors", factor_level)] if kind == "factor-pattern" else [])
    for frame, depth in sides:
        found = c.execute(query("cooccurrence_code_depth"), [frame, version, code]).fetchall()
        if found:
            if int(found[0][0]) != depth:
                what = "level" if frame == "patterns" else "factor_level"
                raise TabulationError(
                    f"with_code={code!r} is a level-{found[0][0]} {frame} code but the pairs are at {what} {depth}: "
                    f"pass {what}={found[0][0]} (CLI: --{what.replace('_', '-')} {found[0][0]})"
                )
            return
    frames = " or ".join(f for f, _ in sides)
    raise TabulationError(f"with_code={code!r} is not a {frames} code in taxonomy {version}")

"""Inter-coder agreement on double-coded reviews: per code, do two coders agree that it is present?

A review is double-coded when a second coder's coding of it is loaded (`second_codings`, see
model/second.py) beside its primary coding (the review itself). For every code of a frame (at a
level, or as coded) and every coding unit (the review, or each episode) of the double-coded reviews,
each coder either applied the code or did not. Per code: the number of units, how many each coder
marked, observed agreement, Cohen's kappa (computed here from the 2x2 table) and Krippendorff's
alpha (nominal, from the `krippendorff` package). Codes the coders disagree on most come first.

The figures describe coders, not children or families, and carry no free text; `disagreements`
lists the reviews and codes disagreed on and is restricted (review ids identify reviews).
Second codings are never counted by any other tabulation.

Public mode applies the house rule of every public table (`suppress_agreement`): each code's row is
a 2x2 table of units (both coders marked it, only the first, only the second, neither), and its
shown counts give every cell and margin of it, while observed agreement, kappa and alpha are
functions of those cells. So when any of them (the four cells, the four margins, the disagreements)
is a count from 1 to threshold-1, every figure of the row is shown as `c`; the code and its label
stay. Rows need no secondary suppression: each rests on its own 2x2 table, and rows do not add up
to anything shown (a review can carry many codes, and a level-1 code is present when any code under
it is). Kappa and alpha are not defined for a code both coders marked in every unit (chance agreement
is 1): NaN in the restricted table, the GSS symbol `z` (not applicable) in the public one, as every
public table of the package writes it (never an empty cell), and the note says so. Profiles that round (nhs, ons) round the shown counts to their base; the statistics are
computed from the exact counts, which can only reveal counts that are 0 or at least the threshold.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import duckdb
import krippendorff
import numpy as np
import pandas as pd

from lt_workbench.analysis.disclosure.profiles import NOT_APPLICABLE, RESTRICTED_NOTE, SUPPRESSED, resolve_profile, round_half_up
from lt_workbench.analysis.plan import _connection
from lt_workbench.analysis.vocab import frame_spec
from lt_workbench.config import DEFAULT_TAXONOMY_VERSION
from lt_workbench.exceptions import DisclosureError, TabulationError
from lt_workbench.model.db import sql_file

__all__ = ["agreement", "disagreements", "suppress_agreement", "cohen_kappa", "AGREEMENT_COLUMNS", "DISAGREEMENT_COLUMNS"]

AGREEMENT_COLUMNS = [
    "code", "label", "n_reviews", "n_units", "primary", "second", "both", "disagreements",
    "observed_agreement", "kappa", "alpha",
]
DISAGREEMENT_COLUMNS = ["review_id", "coder", "episode_id", "code", "label", "primary", "second"]
_CODED_FRAMES = ("patterns", "factors", "practice_points")
_COUNTS = ("primary", "second", "both", "disagreements")
_STATISTICS = ("observed_agreement", "kappa", "alpha")
_UNDEFINED = ("Cohen's kappa and Krippendorff's alpha are not defined for a code both coders marked in every unit "
              "(chance agreement is 1)")


def cohen_kappa(n: int, a: int, b: int, both: int) -> float:
    """Cohen's kappa for presence/absence from the 2x2 table: n units, a marked by coder 1, b by coder 2, `both` by both.

    NaN when chance agreement is 1 (both coders gave every unit the same single value): kappa is undefined there.
    """
    if n == 0:
        return math.nan
    observed = (n - a - b + 2 * both) / n
    chance = (a / n) * (b / n) + ((n - a) / n) * ((n - b) / n)
    return math.nan if chance >= 1 else (observed - chance) / (1 - chance)


def _alpha(n: int, a: int, b: int, both: int) -> float:
    """Krippendorff's alpha (nominal) from the `krippendorff` package, on the units rebuilt from the 2x2 table."""
    coder1 = np.array([1] * both + [1] * (a - both) + [0] * (b - both) + [0] * (n - a - b + both), dtype=float)
    coder2 = np.array([1] * both + [0] * (a - both) + [1] * (b - both) + [0] * (n - a - b + both), dtype=float)
    if n == 0 or len(set(coder1.tolist()) | set(coder2.tolist())) < 2:
        return math.nan  # one value only: alpha is undefined
    return float(krippendorff.alpha(reliability_data=np.vstack([coder1, coder2]), level_of_measurement="nominal"))


def _check(frame: str, level: int | None, unit: str) -> str:
    name = frame_spec(frame).name
    if name not in _CODED_FRAMES:
        raise TabulationError(f"agreement is computed for the coded frames (patterns, factors, practice-points), not {frame!r}")
    if unit not in ("review", "episode"):
        raise TabulationError(f"unit must be review or episode, not {unit!r}")
    if unit == "episode" and name == "practice_points":
        raise TabulationError("practice points are coded on the review, not on episodes: use unit='review'")
    if level is not None and not 1 <= level <= 3:
        raise TabulationError(f"level must be 1, 2 or 3 (or none: codes as coded), not {level}")
    return name


def _has_second_codings(con: duckdb.DuckDBPyConnection) -> bool:
    have = {n for (n,) in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    return "second_codings" in have


def _read(con: duckdb.DuckDBPyConnection, frame: str, level: int | None, unit: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    units = con.execute(sql_file("queries/agreement_units.sql"), [unit, unit]).df()
    applied = con.execute(sql_file("queries/agreement_codes.sql"), [frame, level, unit]).df()
    return units, applied


def _labels(con: duckdb.DuckDBPyConnection, frame: str, version: str) -> tuple[dict[str, str], dict[str, int]]:
    rows = con.execute("SELECT code, label, sort_key FROM taxonomy WHERE frame = ? AND version = ?", [frame, version]).fetchall()
    return {r[0]: r[1] for r in rows}, {r[0]: r[2] for r in rows}


def _presence(units: pd.DataFrame, applied: pd.DataFrame) -> pd.DataFrame:
    """Every unit x every code used in the double-coded units, with whether each coder applied it."""
    key = ["review_id", "coder", "episode_id"]
    codes = pd.DataFrame({"code": sorted(applied["code"].unique())})
    grid = units.merge(codes, how="cross")
    for rater in ("primary", "second"):
        marked = applied.loc[applied["rater"] == rater, [*key, "code"]].drop_duplicates().assign(**{rater: True})
        grid = grid.merge(marked, on=[*key, "code"], how="left")
        grid[rater] = grid[rater].astype("boolean").fillna(False).astype(bool)
    return grid


def agreement(
    frame: str,
    level: int | None = None,
    unit: str = "review",
    *,
    db: str | Path | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
    version: str = DEFAULT_TAXONOMY_VERSION,
    disclosure: str = "restricted",
    profile: str = "dfe",
    threshold: int | None = None,
) -> pd.DataFrame:
    """Per code of `frame`, the two coders' presence/absence agreement over the double-coded reviews' units.

    Columns: code, label, n_reviews (double-coded review x second-coder pairs), n_units (reviews, or
    episodes either coder marked), primary/second (units each coder marked with the code), both,
    disagreements, observed_agreement, kappa (Cohen), alpha (Krippendorff, nominal). Sorted by
    disagreements (most first), then the frame's order. Empty (with the columns) when nothing is
    double-coded; `attrs["n_reviews"]` and `attrs["n_units"]` hold the totals (as shown).
    `disclosure="public"` applies `suppress_agreement` (profile, threshold as in every public
    table); restricted (the default in Python, as for every tabulation) shows every figure.
    """
    name = _check(frame, level, unit)
    if disclosure not in ("public", "restricted"):
        raise DisclosureError(f"unknown disclosure mode {disclosure!r}: use 'public' or 'restricted'")
    resolve_profile(profile, threshold)  # a bad profile or threshold is refused before anything is read
    with _connection(db, con) as c:
        if not _has_second_codings(c):
            out = pd.DataFrame(columns=AGREEMENT_COLUMNS)
            out.attrs.update(n_reviews=0, n_units=0, frame=name, level=level, unit=unit, disclosure=disclosure)
            return out
        units, applied = _read(c, name, level, unit)
        labels, order = _labels(c, name, version)
    n_reviews = len(units[["review_id", "coder"]].drop_duplicates())
    rows: list[dict[str, Any]] = []
    if len(units) and len(applied):
        grid = _presence(units, applied)
        n = len(units)
        for code, g in grid.groupby("code", sort=False):
            a, b = int(g["primary"].sum()), int(g["second"].sum())
            both = int((g["primary"] & g["second"]).sum())
            rows.append({
                "code": code, "label": labels.get(str(code), str(code)), "n_reviews": n_reviews, "n_units": n,
                "primary": a, "second": b, "both": both, "disagreements": a + b - 2 * both,
                "observed_agreement": (n - a - b + 2 * both) / n, "kappa": cohen_kappa(n, a, b, both), "alpha": _alpha(n, a, b, both),
            })
    out = pd.DataFrame(rows, columns=AGREEMENT_COLUMNS)
    if len(out):
        out["_order"] = out["code"].map(lambda x: order.get(str(x), 10**9))
        out = out.sort_values(["disagreements", "_order"], ascending=[False, True], kind="mergesort").drop(columns="_order")
        out = out.reset_index(drop=True)
    out.attrs.update(n_reviews=n_reviews, n_units=len(units), frame=name, level=level, unit=unit, disclosure="restricted",
                     note=f"{RESTRICTED_NOTE} Double-coded reviews (review x second coder): {n_reviews}; presence/absence of "
                          f"each code per {unit}. {_UNDEFINED}: empty (NaN) there")
    return suppress_agreement(out, profile=profile, threshold=threshold) if disclosure == "public" else out


def suppress_agreement(table: pd.DataFrame, *, profile: str = "dfe", threshold: int | None = None) -> pd.DataFrame:
    """The public form of an `agreement` table (see the module docstring): a row whose 2x2 table has a
    cell, margin or disagreement count from 1 to threshold-1 shows `c` for every figure; totals from 1 to
    threshold-1 likewise; counts rounded to the profile's base. A new frame; `table` is unchanged."""
    prof, thr = resolve_profile(profile, threshold)
    out = table.copy()
    n_reviews, n_units = int(table.attrs.get("n_reviews", 0)), int(table.attrs.get("n_units", 0))

    def small(v: pd.Series | int) -> pd.Series | bool:
        return (v >= 1) & (v < thr)

    def shown_total(v: int) -> int | str:  # the table's totals, rounded as the profile rounds totals
        return SUPPRESSED if small(v) else round_half_up(v, prof.total_rounding or prof.rounding)

    if len(out):
        n, a, b, both = (table[c].astype(int) for c in ("n_units", "primary", "second", "both"))
        parts = (both, a - both, b - both, n - a - b + both, a, b, n - a, n - b, a + b - 2 * both)
        hidden = pd.Series(False, index=table.index)
        for part in parts:
            hidden |= small(part)
        for col in (*_COUNTS, *_STATISTICS, "n_reviews", "n_units"):
            out[col] = out[col].astype(object)
        for col in _COUNTS:
            out.loc[~hidden, col] = [round_half_up(int(v), prof.rounding) for v in table.loc[~hidden, col]]
            out.loc[hidden, col] = SUPPRESSED
        for col in _STATISTICS:
            out.loc[hidden, col] = SUPPRESSED
            out.loc[~hidden & table[col].isna(), col] = NOT_APPLICABLE  # kappa, alpha not defined: z, never an empty cell
        out["n_reviews"] = shown_total(n_reviews)
        out["n_units"] = shown_total(n_units)
    rounding = f"; counts rounded to the nearest {prof.rounding} (the statistics use the exact counts)" if prof.rounding else ""
    if prof.total_rounding and prof.total_rounding != prof.rounding:
        rounding += f"; totals (n_reviews, n_units) rounded to the nearest {prof.total_rounding}"
    out.attrs.update(
        disclosure="public", profile=prof.name, threshold=thr,
        n_reviews=shown_total(n_reviews), n_units=shown_total(n_units),
        note=f"Public ({prof.name} profile): a code's row is shown as c when any count it rests on (both coders, one "
             f"coder only, neither, either coder's total, the disagreements) is from 1 to {thr - 1}{rounding}. "
             f"Double-coded reviews (review x second coder): {shown_total(n_reviews)}; presence/absence of each code per "
             f"{table.attrs.get('unit', 'review')}. {NOT_APPLICABLE} = not applicable: {_UNDEFINED}",
    )
    return out


def disagreements(
    frame: str,
    level: int | None = None,
    unit: str = "review",
    *,
    db: str | Path | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
    disclosure: str = "public",
    version: str = DEFAULT_TAXONOMY_VERSION,
) -> pd.DataFrame:
    """The reviews (and episodes) and codes the two coders disagreed on: restricted only (review ids identify reviews)."""
    if disclosure != "restricted":
        raise TabulationError("the list of disagreements names reviews and never appears in public outputs: pass disclosure='restricted'")
    name = _check(frame, level, unit)
    with _connection(db, con) as c:
        if not _has_second_codings(c):
            return pd.DataFrame(columns=DISAGREEMENT_COLUMNS)
        units, applied = _read(c, name, level, unit)
        labels, order = _labels(c, name, version)
    if not len(units) or not len(applied):
        return pd.DataFrame(columns=DISAGREEMENT_COLUMNS)
    grid = _presence(units, applied)
    out = grid[grid["primary"] != grid["second"]].copy()
    out["label"] = out["code"].map(lambda x: labels.get(str(x), str(x)))
    out["_order"] = out["code"].map(lambda x: order.get(str(x), 10**9))
    out = out.sort_values(["review_id", "coder", "episode_id", "_order"], na_position="first", kind="mergesort")
    result = out[DISAGREEMENT_COLUMNS].reset_index(drop=True)
    result.attrs.update(unit=unit, disclosure="restricted", frame=name, level=level)
    return result

"""Table shaping shared by the tabulations: percent and Wilson interval columns, Fisher columns, and
the deterministic row order (frame order, then each dimension's vocabulary order, totals last).
"""

from __future__ import annotations

from typing import Mapping, Sequence

import duckdb
import numpy as np
import pandas as pd

from lt_workbench.analysis import stats
from lt_workbench.exceptions import TabulationError
from lt_workbench.analysis.vocab import _TOTAL, Dim, _sort_keys

__all__ = ["rank", "with_rates"]


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


def with_rates(table: pd.DataFrame) -> pd.DataFrame:
    """A copy of `table` with percent and Wilson 95% interval (0-100) from its count and denominator columns.

    For tables built from other tables (a report's comparison, shares of a co-occurring pattern) and
    for figures as published: where the count or the denominator is hidden (any text, e.g. ``c``) the
    three columns say ``c``, and where the denominator is 0 they say ``z`` (not applicable). When every
    row is numeric the columns are floats (NaN for a zero denominator), as the tabulations give them.
    """
    from lt_workbench.analysis.disclosure import NOT_APPLICABLE, SUPPRESSED

    out = table.copy()
    count = pd.to_numeric(out["count"], errors="coerce")
    den = pd.to_numeric(out["denominator"], errors="coerce")
    hidden = count.isna() | den.isna()
    numeric = _with_rates(pd.DataFrame({"count": count.fillna(0).to_numpy(dtype=float), "denominator": den.fillna(0).to_numpy(dtype=float)}))
    if not hidden.any():
        for col in ("percent", "ci_low", "ci_high"):
            out[col] = numeric[col].to_numpy()
        return out
    for col in ("percent", "ci_low", "ci_high"):
        values = numeric[col].to_numpy()
        out[col] = pd.Series([SUPPRESSED if h else (NOT_APPLICABLE if d == 0 else float(v))
                              for h, d, v in zip(hidden, den.fillna(0), values, strict=True)], index=out.index, dtype=object)
    return out


def _pct(count: pd.Series, den: pd.Series | int) -> pd.Series:
    d = pd.Series(den, index=count.index) if not isinstance(den, pd.Series) else den
    return (100.0 * count / d.where(d > 0)).astype(float)


def _fisher_columns(out: pd.DataFrame, a: pd.Series, n1: pd.Series, b: pd.Series, n2: pd.Series, or_kind: str) -> None:
    """Odds ratio, interval and Fisher p of `a` of `n1` against `b` of `n2`, row by row, into `out`.

    Rows with an empty side or nothing counted on either side are not tested (NaN).
    """
    x, nx, y, ny = (np.asarray(v, dtype=np.int64) for v in (a, n1, b, n2))
    testable = (nx > 0) & (ny > 0) & (x + y > 0)
    cols = {"odds_ratio": "odds_ratio", "or_ci_low": "ci_low", "or_ci_high": "ci_high", "p_value": "p_value"}
    values = {k: np.full(len(x), np.nan) for k in cols}
    if testable.any():
        res = stats.fisher_many(x[testable], (nx - x)[testable], y[testable], (ny - y)[testable], or_kind)  # type: ignore[arg-type]
        for k, r in cols.items():
            values[k][testable] = res[r]
    for k in cols:
        out[k] = values[k]


def rank(table: pd.DataFrame, keys: Mapping[str, tuple[str, bool]], sort: str | None, top: int | None) -> pd.DataFrame:
    """`table` ordered by `keys[sort]` (column, ascending) and cut to `top` rows; attrs kept, the rule recorded.

    Ranks on the values as shown: suppressed values (c) go last; ties keep the table's own order.
    """
    if sort is not None and sort not in keys:
        raise TabulationError(f"sort={sort!r}: this table sorts by {' or '.join(keys)}")
    if top is not None and (isinstance(top, bool) or not isinstance(top, int) or top < 1):
        raise TabulationError(f"top={top!r}: give a whole number of rows, at least 1")
    attrs = dict(table.attrs)
    out = table
    if sort is not None:
        col, ascending = keys[sort]
        key = pd.to_numeric(out[col], errors="coerce")
        out = out.loc[key.sort_values(ascending=ascending, na_position="last", kind="mergesort").index]
        attrs["sorted_by"] = f"{col} ({'smallest' if ascending else 'largest'} first; hidden values last; ties in table order)"
    if top is not None:
        out = out.head(top)
        attrs["top"] = top
    out = out.reset_index(drop=True)
    out.attrs.update(attrs)
    return out

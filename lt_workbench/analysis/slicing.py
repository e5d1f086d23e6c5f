"""Tables filtered to several values of a dimension: linked to the single-value slices they add up from.

A public table filtered to a finite set of values of a dimension each unit has exactly one of (a range
of years, `--where year=2015..`; a list, `--where region=north_west,london`) is, cell by cell, the sum
of the slices for each value: the cells a table filtered to that one value publishes (keyed by
`publish._lift_filters` as the table by that dimension). Without saying so, `year=2015..` and
`year=2016..` are unrelated questions and their difference is each code's 2015 count; a list of two
regions minus one of them is the other region.

`sliced_filters` says which filters of a table are such sets; the analysis layer computes, for each,
the same table grouped by that dimension without the filter (every value present in the data, so the
complement of the set is there too: the all-years or national table is linked through it), and
`slice_requests` turns it into a *latent* table of the joint problem (its cells unseen, protected like
hidden cells, unless another output of the release shows them, in which case they are those cells)
plus one link per cell: the filtered table's cell = the sum of its slices.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from lt_workbench.analysis.vocab import YearSpan, _dim, _values
from lt_workbench.config import DEFAULT_TAXONOMY_VERSION
from lt_workbench.exceptions import WorkbenchError

__all__ = ["sliced_filters", "implied_filters", "slice_requests"]


def _parsed(attrs: Mapping[str, Any]) -> list[tuple[str, Any, Any]]:
    """(where key, dimension, canonical values) of each filter of a single-valued, groupable dimension."""
    out = []
    for k, v in dict(attrs.get("where") or {}).items():
        try:
            d = _dim(str(k))
            vals = _values(d, v, DEFAULT_TAXONOMY_VERSION)
        except (WorkbenchError, TypeError, ValueError):
            continue
        if attrs.get("unit") in d.single_per and d.by:
            out.append((str(k), d, vals))
    return out


def _several(vals: Any) -> bool:
    if isinstance(vals, YearSpan):
        return vals.lo is None or vals.lo != vals.hi
    return len(vals) > 1


def sliced_filters(attrs: Mapping[str, Any], columns: Sequence[str]) -> list[tuple[str, Any]]:
    """The filters of a table to several values of a dimension each unit has one of, that the table does not show
    as a column: (where key, dimension). Each needs its slices (the table grouped by the dimension, unfiltered)."""
    return [(k, d) for k, d, vals in _parsed(attrs) if d.name not in columns and _several(vals)]


def implied_filters(table: pd.DataFrame, attrs: Mapping[str, Any], total: object) -> list[str]:
    """Filters to several values of a dimension the table shows as a column without total rows (a trend by year
    filtered to 2015..2025): every row is one value's slice, so the filter adds nothing to the question and is
    dropped from its key (the rows are the cells the table by that dimension publishes)."""
    out = []
    for k, d, vals in _parsed(attrs):
        if d.name in table.columns and _several(vals) and not (table[d.name].astype(object) == total).any():
            out.append(k)
    return out


def _member(vals: Any, v: Any) -> bool:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return False
    if isinstance(vals, YearSpan):
        try:
            return vals.contains(int(v))
        except (TypeError, ValueError):
            return False
    return str(v) in {str(x) for x in vals}


def slice_requests(table: pd.DataFrame, attrs: Mapping[str, Any], slices: Mapping[str, pd.DataFrame], first: int,
                   structural: Sequence[str] = ()) -> tuple[list[Any], list[Any]]:
    """Latent requests (one per sliced filter) and the links tying `table` (request 0 of the call, already lifted by
    publish._lift_filters under `attrs`, the table's attrs before lifting) to them; `first` is the index the first
    latent request will have in the call.

    slices: where key -> the restricted table grouped additionally by that filter's dimension, with the filter
    removed and every other filter kept (columns: the table's, the dimension's, count, denominator).
    """
    from lt_workbench.analysis.publish import _lift_filters, _request

    parsed = {k: (d, vals) for k, d, vals in _parsed(attrs)}
    reqs: list[Any] = []
    links: list[Any] = []
    dims = [c for c in table.columns if c not in ("label", "count", "denominator", "percent", "ci_low", "ci_high", "suppressed")]
    for k, s in slices.items():
        if k not in parsed:
            continue
        d, vals = parsed[k]
        rest = {**attrs, "where": {w: v for w, v in dict(attrs.get("where") or {}).items() if w != k}}
        lifted, keyed, _ = _lift_filters(s, rest)
        missing = [c for c in dims if c not in lifted.columns]
        if missing:
            raise WorkbenchError(f"internal: the slices of {k} lack column(s) {', '.join(missing)}")
        req = _request(lifted[[*dims, d.name, "label", "count", "denominator"]], keyed, structural)
        req.latent = True
        req.name = f"{req.name} by {d.name} (slices)"
        i = first + len(reqs)
        reqs.append(req)
        values = lifted[d.name].tolist()
        inside = np.array([_member(vals, v) for v in values], dtype=bool)
        keys = [tuple(_norm(x) for x in key) for key in zip(*(lifted[c].astype(object).tolist() for c in dims), strict=True)]
        links += _links(0, table, dims, keys, inside, i, f"{k}={dict(attrs.get('where') or {}).get(k)}", d.name)
        # The complement where the whole (all years, national) is published: national - (2015..) is ..2014, a count a
        # reader may ask for next; a latent cell of its own (the cell `--where year=..2014` publishes), so protected.
        for text, mask in _complements(vals, values):
            comp = lifted[mask].groupby(dims, dropna=False, sort=False).agg(
                label=("label", "first"), count=("count", "sum"), denominator=("denominator", "sum")).reset_index()
            ct, ckeyed, _ = _lift_filters(comp, {**rest, "where": {**rest["where"], k: text}})
            creq = _request(ct[[*dims, "label", "count", "denominator"]], ckeyed, structural)
            creq.latent = True
            creq.name = f"{creq.name} ({k}={text})"
            links += _links(first + len(reqs), creq.table, dims, keys, mask, i, f"{k}={text}", d.name)
            reqs.append(creq)
    return reqs, links


def _links(total: int, table: pd.DataFrame, dims: Sequence[str], keys: Sequence[tuple[Any, ...]], mask: np.ndarray,
           slices: int, what: str, dim: str) -> list[Any]:
    """Each row of request `total` (count and units) = the sum of the rows of request `slices` (keys) in `mask`."""
    from lt_workbench.analysis.disclosure.problem import Link

    rows: dict[tuple[Any, ...], list[int]] = {}
    for j, key in enumerate(keys):
        if mask[j]:
            rows.setdefault(key, []).append(j)
    out = []
    for r, key in enumerate(zip(*(table[c].astype(object).tolist() for c in dims), strict=True)):
        parts = rows.get(tuple(_norm(x) for x in key), [])
        out.append(Link((total, r, "count"), tuple((slices, j, "count") for j in parts), f"{what} = sum of its {dim} slices"))
        out.append(Link((total, r, "denominator"), tuple((slices, j, "denominator") for j in parts),
                        f"{what} = sum of its {dim} slices (units)"))
    return out


def _complements(vals: Any, values: Sequence[Any]) -> list[tuple[str, np.ndarray]]:
    """The filters a reader gets by taking this one from the whole, with the slices in each: below and above a range
    of years (`..2014`, `2026..`), the other values of a list (when more than one: one is a slice already)."""
    present = [v for v in values if _norm(v) is not None]
    out = []
    if isinstance(vals, YearSpan):
        years = np.array([int(v) if _norm(v) is not None else -1 for v in values])
        if vals.lo is not None and ((years >= 0) & (years < vals.lo)).any():
            out.append((f"..{vals.lo - 1}", (years >= 0) & (years < vals.lo)))
        if vals.hi is not None and (years > vals.hi).any():
            out.append((f"{vals.hi + 1}..", years > vals.hi))
        return out
    others = sorted({str(v) for v in present} - {str(x) for x in vals})
    if len(others) > 1:
        out.append((",".join(others), np.array([_norm(v) is not None and str(v) in others for v in values], dtype=bool)))
    return out


def _norm(x: Any) -> Any:
    if isinstance(x, np.generic):
        x = x.item()
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return None
    return x

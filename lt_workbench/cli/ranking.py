"""`--sort lift|count|q`, `--top N` and `--with CODE` for ranked outputs.

When the analysis function takes `sort`, `top` or `with_code` itself, the command passes them on (one
place for the figure); otherwise the thin versions here order and cut the finished table. Ordering is
deterministic: the key, then the table's own order; suppressed values (`c`) go last.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Annotated, Any, Optional

import pandas as pd
import typer

__all__ = ["SORT_KEYS", "SortOption", "TopOption", "call_ranked", "rank"]

# sort name -> (column per table kind, ascending)
SORT_KEYS: dict[str, dict[str, tuple[str, bool]]] = {
    "count": {"cooccurrence": ("n_ab", False), "recurrence": ("reviews", False), "frequency": ("count", False),
              "compare": ("count_group", False), "trend": ("percent_all_years", False)},
    "lift": {"cooccurrence": ("lift", False)},
    "q": {"cooccurrence": ("q_value", True), "recurrence": ("q_value", True), "compare": ("q_value", True),
          "trend": ("q_value", True)},
}

SortOption = Annotated[
    Optional[str],
    typer.Option("--sort", metavar="KEY",
                 help="Order rows by lift (co-occurrence), count (most first) or q (smallest q-value first); "
                      "default: the table's own order."),
]
TopOption = Annotated[Optional[int], typer.Option("--top", metavar="N", min=1, help="Keep only the first N rows (after --sort).")]


def _check_sort(sort: str | None, kind: str) -> None:
    if sort is None:
        return
    if sort not in SORT_KEYS:
        raise typer.BadParameter(f"{sort!r}: use {', '.join(SORT_KEYS)}", param_hint="'--sort'")
    if kind not in SORT_KEYS[sort]:
        usable = [k for k, v in SORT_KEYS.items() if kind in v]
        raise typer.BadParameter(f"this table cannot be sorted by {sort}; use {' or '.join(usable)}", param_hint="'--sort'")


def rank(table: pd.DataFrame, kind: str, sort: str | None, top: int | None) -> pd.DataFrame:
    """The table ordered by `sort` (see SORT_KEYS) and cut to `top` rows; attrs kept and the rule recorded."""
    _check_sort(sort, kind)
    out = table
    if sort is not None:
        col, ascending = SORT_KEYS[sort][kind]
        if col not in out.columns:
            raise typer.BadParameter(f"this layout has no {col} column to sort by; use --sort q", param_hint="'--sort'")
        key = pd.to_numeric(out[col], errors="coerce")
        order = key.sort_values(ascending=ascending, na_position="last", kind="mergesort").index
        out = out.loc[order].reset_index(drop=True)
        out.attrs.update(table.attrs)
        if "rank" in out.columns:  # the table's own ranking no longer describes this order
            out = out.drop(columns="rank")
            out.attrs.update({k: v for k, v in table.attrs.items() if k != "ranking"})
            out.attrs.pop("ranking", None)
        out.attrs["sorted_by"] = f"rows sorted by {col} ({'smallest' if ascending else 'largest'} first; hidden values last; ties in table order)"
    if top is not None:
        attrs = dict(out.attrs)
        out = out.head(top).reset_index(drop=True)
        out.attrs.update(attrs)
        out.attrs["top"] = top
    return out


def call_ranked(func: Callable[..., pd.DataFrame], kind: str, kwargs: dict[str, Any], *, sort: str | None = None,
                top: int | None = None, with_code: str | None = None) -> pd.DataFrame:
    """Call an analysis function, letting it sort/cut/filter by code when it can, else doing so here."""
    _check_sort(sort, kind)
    accepts = inspect.signature(func).parameters
    if with_code is not None and "with_code" in accepts:
        kwargs["with_code"] = with_code
        with_code = None
    native = "sort" in accepts and "top" in accepts
    if native:
        kwargs.update({k: v for k, v in (("sort", sort), ("top", top)) if v is not None})
    table = func(**kwargs)
    if with_code is not None:
        attrs = dict(table.attrs)
        keep = (table["code_a"] == with_code) | (table["code_b"] == with_code)
        table = table[keep].reset_index(drop=True)
        table.attrs.update(attrs)
        table.attrs["with_code"] = with_code
        if table.empty:
            table.attrs["warnings"] = [*attrs.get("warnings", []), (
                f"no pair includes {with_code}: check the code and that --level (or --factor-level) is its depth "
                f"(P2.1 is level 2, FL.WORK is factor level 2)")]
    if not native:
        table = rank(table, kind, sort, top)
    return table

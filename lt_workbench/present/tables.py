"""Tables as text: CSV, JSON and Markdown renderings with the unit and the disclosure note stated.

One renderer for the command line, the explorer's downloads and anything else that writes a table as text.
"""

from __future__ import annotations

import json
from typing import Any, Literal

import numpy as np
import pandas as pd

from lt_workbench.exceptions import TabulationError

__all__ = ["render", "header"]


_ONE_DECIMAL = ("percent", "ci_low", "ci_high", "percent_group", "percent_rest", "percent_recent", "percent_before",
                "p0", "lower_95", "upper_95", "lower_998", "upper_998")


def _display(table: pd.DataFrame) -> pd.DataFrame:
    """Round floats for display (1 decimal for percents and limits, 4 significant places for statistics)."""
    out = table.copy()
    for col in out.columns:
        s = out[col]
        if pd.api.types.is_float_dtype(s):
            out[col] = s.round(1) if col in _ONE_DECIMAL else s.map(lambda v: float(f"{v:.4g}") if pd.notna(v) else v)
        elif s.dtype == object:
            out[col] = s.map(lambda v: (round(v, 1) if col in _ONE_DECIMAL else float(f"{v:.4g}")) if isinstance(v, float) and np.isfinite(v) else v)
        if isinstance(out[col].dtype, pd.BooleanDtype) or s.dtype == bool:
            out[col] = s.map(lambda v: "true" if v else "false")
    return out


def _meta(table: pd.DataFrame) -> dict[str, Any]:
    keep = ("table", "frame", "kind", "level", "factor_level", "unit", "unit_label", "by", "where", "year_basis", "group",
            "recent_window", "not_recorded", "disclosure", "profile", "threshold", "note", "caveat", "description", "interval",
            "test", "method", "limits", "series_breaks", "as_of", "code", "label")
    meta = {k: table.attrs[k] for k in keep if k in table.attrs and table.attrs[k] not in (None, [], {})}
    return {k: (v if isinstance(v, (str, int, float, bool, list, dict)) else str(v)) for k, v in meta.items()}


def render(table: pd.DataFrame, fmt: Literal["csv", "json", "markdown"] = "csv") -> str:
    """The table as CSV (columns only: the unit and note go to the caller's header), JSON ({meta, rows}) or Markdown (with a caption)."""
    shown = _display(table)
    if fmt == "csv":
        return shown.to_csv(index=False, lineterminator="\n")
    if fmt == "json":
        rows = json.loads(shown.to_json(orient="records", date_format="iso", force_ascii=False))
        return json.dumps({"meta": _meta(table), "rows": rows}, ensure_ascii=False, indent=1, default=str) + "\n"
    if fmt == "markdown":
        meta = _meta(table)
        lines = [f"Unit: {meta.get('unit_label', meta.get('unit', ''))}. {meta.get('note', '')}".strip()]
        for k in ("caveat", "description", "test", "method"):
            if k in meta:
                lines.append(str(meta[k]))
        cols = [str(c) for c in shown.columns]

        def cell(v: Any) -> str:
            return "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v).replace("|", "\\|").replace("\n", " ")

        body = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
        body += ["| " + " | ".join(cell(v) for v in row) + " |" for row in shown.itertuples(index=False)]
        return "\n\n".join(["\n".join(f"> {line}" for line in lines), "\n".join(body)]) + "\n"
    raise TabulationError(f"unknown format {fmt!r}: use csv, json or markdown")


def header(table: pd.DataFrame) -> str:
    """One or two lines naming the unit, the disclosure mode and any caveat: printed beside CSV output."""
    meta = _meta(table)
    parts = [f"unit: {meta.get('unit_label', meta.get('unit', '?'))}"]
    if meta.get("not_recorded"):
        parts.append(f"{meta['not_recorded']} not recorded (left the denominator)")
    parts.append(f"disclosure: {meta.get('disclosure', 'restricted')}")
    text = "; ".join(parts)
    if meta.get("note"):
        text += "\n" + str(meta["note"])
    if meta.get("caveat"):
        text += "\n" + str(meta["caveat"])
    return text

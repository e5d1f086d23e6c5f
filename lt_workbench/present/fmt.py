"""Numbers and labels as text, in one place for the reports' figures and tables and the explorer.

Why one module: a count, a percentage or a GSS symbol (c suppressed, z not applicable, : not
available) must read the same in a report, a chart's hover text and the explorer's table, so the
formatting rules live here and every surface imports them.
"""

from __future__ import annotations

import html
import math
import re
import textwrap
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "HIDDEN",
    "NOT_SHOWN",
    "is_hidden",
    "as_number",
    "nan_number",
    "plain",
    "number",
    "percent_text",
    "interval_text",
    "display",
    "significant",
    "short_label",
    "shorten",
    "wrap_label",
    "year_span",
    "bare",
]

HIDDEN = ("c",)  # suppressed by disclosure control
NOT_SHOWN = ("c", "z", ":")  # every GSS symbol: no number is drawn for these


def bare(table: pd.DataFrame) -> pd.DataFrame:
    """`table` without its attrs (a shallow copy, values shared) for a builder that only reads its values.

    pandas deep-copies a frame's attrs into every column and frame taken from it; an analysis table carries its
    notes, filters and audit there (about 40 µs per copy), which added up to a few milliseconds per figure.
    """
    out = table.copy(deep=False)
    out.attrs = {}
    return out


def is_hidden(value: Any) -> bool:
    """True for a GSS symbol (c suppressed, z not applicable, : not available) or a missing value."""
    if value is None:
        return True
    if isinstance(value, str):
        return value in NOT_SHOWN
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def as_number(value: Any) -> float | None:
    """A plottable number, or None for hidden and missing values."""
    if is_hidden(value):
        return None
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) else None


def nan_number(value: Any) -> float:
    """A table value as a float; GSS symbols (c, z, :) and missing values become NaN (for numpy arithmetic)."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def plain(value: Any) -> Any:
    """JSON-friendly Python value: ints stay ints, symbols stay strings, NaN becomes None."""
    if isinstance(value, str):
        return value
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    try:
        f = float(value)
    except (TypeError, ValueError):
        return str(value)
    if not math.isfinite(f):
        return None
    return int(f) if f.is_integer() and not isinstance(value, (float, np.floating)) else f


def number(value: Any) -> str:
    """A count as text: 1,234; symbols as they are."""
    if isinstance(value, str):
        return value
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ":"
    try:
        return f"{int(value):,}"
    except (TypeError, ValueError):
        return str(value)


def percent_text(value: Any, decimals: int = 1) -> str:
    """23.9% ; symbols as they are."""
    v = as_number(value)
    if v is None:
        return value if isinstance(value, str) and value else ":"
    return f"{v:.{decimals}f}%"


def interval_text(low: Any, high: Any) -> str:
    """'19.4–29.0%' or the symbol of a hidden interval."""
    lo, hi = as_number(low), as_number(high)
    if lo is None or hi is None:
        for v in (low, high):
            if isinstance(v, str) and v:
                return v
        return ":"
    return f"{lo:.1f}–{hi:.1f}%"


def display(value: Any, digits: int = 1) -> str:
    """Table cell text: numbers rounded (counts with separators), symbols (c, z, :) as they are, missing as blank."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else ""
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    if isinstance(value, (float, np.floating)):
        if float(value).is_integer() and digits == 0:
            return f"{int(value):,}"
        return f"{float(value):,.{digits}f}"
    return str(value)


def significant(value: Any) -> str:
    """Statistics (odds ratio, q) to 3 significant figures; symbols pass through."""
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        v = float(value)
        if math.isnan(v):
            return ""
        if math.isinf(v):
            return "∞"
        return f"{v:.3g}"
    return display(value)


def short_label(code: str, label: str | None, width: int = 48) -> str:
    """'P2.1 Resource–demand mismatch', shortened with an ellipsis for axes; the full label goes in hovers."""
    text = f"{code} {label}" if label and label != code else str(code)
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def shorten(text: str, width: int = 52) -> str:
    """Shorten free words (a frame label) to `width` characters with an ellipsis."""
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 1].rstrip(" ,;:–-") + "…"


def wrap_label(text: str, width: int = 34, lines: int = 2) -> str:
    """Wrap an axis label onto at most `lines` lines (plotly breaks lines with <br>)."""
    parts = textwrap.wrap(str(text), width) or [""]
    if len(parts) > lines:
        parts = parts[:lines]
        parts[-1] = parts[-1][: width - 1].rstrip() + "…"
    return "<br>".join(html.escape(p) for p in parts)


def year_span(value: Any) -> tuple[int, int] | None:
    """(first, last) year of a year ('2019'), a period ('2017-2019', '2017–2019') or an open period ('2023 onwards')."""
    text = str(value)
    m = re.fullmatch(r"(\d{4})\s*[-–]\s*(\d{4})", text)
    if m:
        return int(m.group(1)), int(m.group(2))
    m = re.fullmatch(r"(\d{4})( onwards)?", text)
    if m:
        return int(m.group(1)), (9999 if m.group(2) else int(m.group(1)))
    return None

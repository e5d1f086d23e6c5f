"""Building blocks every report uses: time axes, the scope sentence, wide tables, and shares as a chart plus a table."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd


if TYPE_CHECKING:
    from lt_workbench.reports.context import ReportContext

__all__ = ['by_time', 'by_time_asks', 'time_title', 'series_break_text', 'scope_sentence', 'per_value', 'show_wide', 'show_shares', 'rank',
           'rounding_note']


def by_time_asks(ctx: ReportContext, frame: str, *, unit: str = "review", max_hidden: float = 0.25, **kwargs: Any) -> list[Any]:
    """The questions by_time publishes, for a report's plan: the frame by year, then (a follow-up, decided on
    the published year table) by three-year period when too many years would be hidden."""
    years, periods = _time_asks(ctx, frame, unit, kwargs)

    def follow_up(c: ReportContext) -> list[Any]:
        return [periods] if _too_hidden(c, c.table(years), max_hidden) else []

    return [years, follow_up]


def _time_asks(ctx: ReportContext, frame: str, unit: str, kwargs: Mapping[str, Any]) -> tuple[Any, Any]:
    return (ctx.ask("frequency", frame, by=("year",), unit=unit, totals=True, **kwargs),
            ctx.ask("frequency", frame, by=("period",), unit=unit, totals=True, periods=ctx.periods(3), **kwargs))


def _too_hidden(ctx: ReportContext, table: pd.DataFrame, max_hidden: float) -> bool:
    """Public tables only: more than `max_hidden` of the years' totals hidden."""
    _, dens = per_value(ctx, table, "year")
    return ctx.public and sum(1 for d in dens if isinstance(d, str)) / max(1, len(dens)) > max_hidden


def by_time(ctx: ReportContext, frame: str, *, unit: str = "review", max_hidden: float = 0.25, **kwargs: Any) -> tuple[pd.DataFrame, str]:
    """A frame by year with totals, or by three-year period when more than `max_hidden` of the years' totals
    would be hidden (small scopes): returns (table, "year" or "period"). Plans list it with by_time_asks."""
    years, periods = _time_asks(ctx, frame, unit, kwargs)
    table = ctx.table(years)
    if not _too_hidden(ctx, table, max_hidden):
        return table, "year"
    return ctx.table(periods), "period"


def time_title(dim: str) -> str:
    return "Year the review was completed" if dim == "year" else "Years the reviews were completed (three-year periods)"


def series_break_text(ctx: ReportContext) -> str:
    """The series breaks in words (from lt_workbench.analysis.tabulate.SERIES_BREAKS)."""
    from lt_workbench.analysis.tabulate import SERIES_BREAKS

    return "**Series break.** " + " ".join(b["note"] for b in SERIES_BREAKS)


def scope_sentence(ctx: ReportContext, scope: Mapping[str, Any]) -> str:
    """'This report covers N of the M reviews in the database ...' from the protected scope counts."""
    from lt_workbench.present.figures import number

    return (f"This report covers **{number(scope['in_scope'])}** of the {number(scope['total'])} reviews in the database "
            f"({ctx.scope_words()}); {number(scope['out_of_scope'])} fall outside this scope.")


def per_value(ctx: ReportContext, table: pd.DataFrame, dim: str) -> tuple[list[Any], list[Any]]:
    """(values of `dim`, units in each) from a frequency table's denominators, leaving out 'All'."""
    rows = table[table[dim].astype(str) != "All"].drop_duplicates(subset=[dim])
    return list(rows[dim]), list(rows["denominator"])


def show_wide(ctx: ReportContext, table: pd.DataFrame, dim: str, *, row_title: str, unit: str, caption: str | None = None,
              total_row: str | None = None, value_labels: Mapping[Any, str] | None = None) -> None:
    """A protected frequency table by one dimension as a grid: codes down, `dim` across, counts in cells.

    total_row: add a row of the denominators (the units in each column) under this label.
    """
    from lt_workbench.present.figures import show_table

    values = list(dict.fromkeys(table[dim]))
    values = [v for v in values if str(v) != "All"] + [v for v in values if str(v) == "All"]
    names = {v: ("Total" if str(v) == "All" else (value_labels or {}).get(v, str(v))) for v in values}
    grid = []
    for code in dict.fromkeys(table["code"]):
        part = table[table["code"] == code].set_index(table[table["code"] == code][dim].astype(str))
        row = {"_label": part["label"].iloc[0]}
        row.update({f"_{i}": part.loc[str(v), "count"] if str(v) in part.index else ":" for i, v in enumerate(values)})
        grid.append(row)
    totals = [False] * len(grid)
    if total_row:
        first = table.drop_duplicates(subset=[dim]).set_index(table.drop_duplicates(subset=[dim])[dim].astype(str))
        row = {"_label": total_row}
        row.update({f"_{i}": first.loc[str(v), "denominator"] for i, v in enumerate(values)})
        grid.append(row)
        totals.append(True)
    frame = pd.DataFrame(grid)
    columns = {"_label": row_title, **{f"_{i}": str(names[v]) for i, v in enumerate(values)}}
    note = ctx.symbols(unit)
    if total_row and table.attrs.get("partition"):
        note += rounding_note(ctx, [([r[f"_{i}"] for r in grid[:-1]], grid[-1][f"_{i}"]) for i in range(len(values))])
    show_table(frame, columns, counts=[f"_{i}" for i in range(len(values))], caption=caption, note=note,
               total_rows=totals, css_class="lt-table lt-wide")


def show_shares(ctx: ReportContext, table: pd.DataFrame, *, title: str, unit: str, what: str, subtitle: str | None = None,
                colour: str | None = None, with_codes: bool = False, figure: bool = True, caption: str | None = None,
                anchor: str | None = None) -> None:
    """The usual pair: a bar chart of percentages with intervals, and the table of the same numbers.

    anchor: an id placed just before the table, for a key finding to link to.
    """
    from lt_workbench.present import figures as f
    from lt_workbench.reports import text

    if figure:
        f.show(f.bar_shares(table, title=title, unit=unit, subtitle=subtitle, colour=colour or f.PALETTE[0], with_codes=with_codes))
    if anchor:
        text.anchor(anchor)
    shown = table.copy()
    shown["_label"] = [f"{c} {lab}" if with_codes else lab for c, lab in zip(shown["code"], shown["label"], strict=True)]
    shown["_ci"] = [f.interval_text(lo, hi) for lo, hi in zip(shown["ci_low"], shown["ci_high"], strict=True)]
    note = ctx.symbols(unit)
    if table.attrs.get("partition") and len(table):
        note += rounding_note(ctx, [(list(table["count"]), table["denominator"].iloc[0])])
    f.show_table(shown, {"_label": what, "count": unit.capitalize(), "denominator": "Out of", "percent": "Percentage",
                         "_ci": "95% interval"}, counts=["count", "denominator"], percents=["percent"], numbers=["_ci"],
                 caption=caption, note=note)


def rank(table: pd.DataFrame, n: int) -> pd.DataFrame:
    """The n rows with the largest shown counts (hidden counts last), ties in frame order.

    Ranks codes within a table (which patterns are most common), never places: areas are compared
    with funnel plots.
    """
    shown = pd.to_numeric(table["count"], errors="coerce")
    order = sorted(range(len(table)), key=lambda i: (0 if pd.notna(shown.iloc[i]) else 1, -(shown.iloc[i] if pd.notna(shown.iloc[i]) else 0), i))
    return table.iloc[order[:n]].reset_index(drop=True)


def rounding_note(ctx: ReportContext, sums: Sequence[tuple[Sequence[Any], Any]]) -> str:
    """' Totals are rounded ...' when, in a public table, some fully shown parts do not add up to their shown total.

    sums: (parts, total) pairs of a table that partitions its totals (each unit in exactly one part).
    Only sums whose parts are all shown are judged: a hidden part explains a gap by itself.
    """
    if not ctx.public:
        return ""
    from lt_workbench.analysis.disclosure import PROFILES
    from lt_workbench.present.fmt import as_number

    off = 0
    for parts, total in sums:
        values = [as_number(v) for v in parts]
        t = as_number(total)
        if t is None or any(v is None for v in values):
            continue
        if abs(sum(v for v in values if v is not None) - t) > 1e-9:
            off += 1
    if not off:
        return ""
    base = PROFILES[ctx.profile].total_rounding or PROFILES[ctx.profile].rounding
    how = f"rounded to the nearest {base}" if base else "rounded"
    return (f" Totals are {how} independently of their parts, so in {off} place{'s' if off > 1 else ''} in this table the "
            "shown parts do not add up to the shown total.")

"""Recommendation commands: `recommendations` (status by kind and level) and `overdue` (as at a date).

`overdue` lists every overdue recommendation in restricted mode (with its text, inside the secure
environment); in public mode it prints counts only, protected by the same disclosure control as every
other public table.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Optional

import pandas as pd
import typer

from lt_workbench.cli.main import (
    DbOption,
    DisclosureOption,
    FormatOption,
    OutOption,
    ProfileOption,
    ThresholdOption,
    WhereOption,
    YearBasisOption,
    app,
)
from lt_workbench.cli.output import emit

__all__ = ["recommendations_command", "overdue_command", "overdue_counts"]

_BY_FRAME = {"kind": "recommendation_kind", "level": "recommendation_level", "agency": "agency"}


@app.command("recommendations")
def recommendations_command(
    by: Annotated[Optional[list[str]], typer.Option("--by", metavar="DIM", help="level and/or status (repeatable; default both); rows are the kinds of recommendation.")] = None,
    totals: Annotated[bool, typer.Option("--totals/--no-totals", help="Add 'All' rows for level and status.")] = False,
    where: WhereOption = None,
    year_basis: YearBasisOption = "completed",
    disclosure: DisclosureOption = "public",
    profile: ProfileOption = "dfe",
    threshold: ThresholdOption = None,
    fmt: FormatOption = None,
    out: OutOption = None,
    db: DbOption = None,
) -> None:
    """Recommendations by kind x level x status (unit: recommendation); percents of all recommendations in scope."""
    from lt_workbench import tabulate as tab

    dims = tuple(by) if by else ("level", "status")
    bad = [d for d in dims if d not in ("level", "status")]
    if bad:
        raise typer.BadParameter(f"{', '.join(bad)}: recommendations are counted by kind (rows) x level and/or status",
                                 param_hint="'--by'")
    table = tab.recommendations(by=dims, where=tab.parse_where(where or []), year_basis=year_basis, totals=totals, db=db,
                                disclosure=disclosure, profile=profile, threshold=threshold)  # type: ignore[arg-type]
    emit(table, fmt, out)


def overdue_counts(late: pd.DataFrame, by: str, *, disclosure: str, profile: str, threshold: int | None) -> pd.DataFrame:
    """Overdue recommendations counted by kind, level or agency, protected for publication.

    count = overdue recommendations with that value; denominator = all overdue recommendations in scope
    (each has one value, so the rows add up to it).
    """
    from lt_workbench import tabulate as tab
    from lt_workbench.config import DEFAULT_TAXONOMY_VERSION
    from lt_workbench.model.frames import taxonomy_frame

    t = taxonomy_frame(DEFAULT_TAXONOMY_VERSION)
    t = t[t["frame"] == _BY_FRAME[by]].sort_values("sort_key")
    values = late[by].fillna("not_recorded")
    codes = list(t["code"]) + (["not_recorded"] if (values == "not_recorded").any() else [])
    labels = {**dict(zip(t["code"], t["label"], strict=True)), "not_recorded": "Not recorded"}
    table = pd.DataFrame({"code": codes, "label": [labels[c] for c in codes],
                          "count": [int((values == c).sum()) for c in codes], "denominator": len(late)})
    table["percent"] = 100.0 * table["count"] / table["denominator"] if len(late) else float("nan")
    attrs: dict[str, Any] = {"table": "overdue_counts", "unit": "recommendation", "unit_label": "overdue recommendations",
                             "by": [by], "where": late.attrs.get("where", {}), "as_of": late.attrs.get("as_of"),
                             "lines": [], "partition": True,
                             "description": f"count: recommendations overdue at {late.attrs.get('as_of')} by {by}; "
                                            "denominator: all overdue recommendations in scope."}
    return tab.apply_disclosure(table, attrs, disclosure=disclosure, profile=profile, threshold=threshold)  # type: ignore[arg-type]


@app.command("overdue")
def overdue_command(
    as_of: Annotated[Optional[str], typer.Option("--as-of", metavar="DATE", help="Judge overdue at this date, YYYY-MM-DD (default: today).")] = None,
    by: Annotated[str, typer.Option("--by", metavar="DIM", help="Public counts by kind (default), level or agency.")] = "kind",
    include_not_accepted: Annotated[bool, typer.Option("--include-not-accepted", help="Count recommendations that were not accepted too (nobody works to their date).")] = False,
    where: WhereOption = None,
    year_basis: YearBasisOption = "completed",
    disclosure: DisclosureOption = "public",
    profile: ProfileOption = "dfe",
    threshold: ThresholdOption = None,
    fmt: FormatOption = None,
    out: OutOption = None,
    db: DbOption = None,
) -> None:
    """Recommendations due before a date and not completed: every one, with its text (restricted), or counts (public)."""
    from lt_workbench import tabulate as tab

    try:
        day = dt.date.fromisoformat(as_of) if as_of else dt.date.today()
    except ValueError:
        raise typer.BadParameter(f"{as_of!r}: write the date as YYYY-MM-DD, e.g. 2026-03-31", param_hint="'--as-of'") from None
    if by not in _BY_FRAME:
        raise typer.BadParameter(f"{by!r}: use kind, level or agency", param_hint="'--by'")
    if disclosure not in ("public", "restricted"):
        raise typer.BadParameter(f"{disclosure!r}: use public or restricted", param_hint="'--disclosure'")
    filters = tab.parse_where(where or [])
    late = tab.overdue(day, where=filters, include_not_accepted=include_not_accepted, year_basis=year_basis, db=db,
                       disclosure="restricted")
    late.attrs["where"] = filters
    if disclosure == "restricted":
        emit(late, fmt, out)
        return
    emit(overdue_counts(late, by, disclosure=disclosure, profile=profile, threshold=threshold), fmt, out)

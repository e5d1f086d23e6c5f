"""Recommendation commands: `recommendations` (status by kind, level or agency) and `overdue` (as at a date).

`recommendations --by agency --as-of DATE` shows, for each agency (kind, level), how many of its
recommendations are completed, open, overdue or not accepted (`analysis.recommendations.recommendation_status`,
the function the recommendations tracker report uses). `overdue` lists every overdue recommendation in
restricted mode (with its text, inside the secure environment); in public mode it prints the overdue
rows of the same status table: counts only, protected like every other public table.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
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

__all__ = ["recommendations_command", "overdue_command", "overdue_rows"]

_BY_FRAME = {"kind": "recommendation_kind", "level": "recommendation_level", "agency": "agency"}
AsOfOption = Annotated[Optional[str], typer.Option("--as-of", metavar="DATE", help="Judge overdue at this date, YYYY-MM-DD (default: today).")]
ByOption = Annotated[str, typer.Option("--by", metavar="DIM", help="kind (default), level or agency.")]


def _status_function() -> Callable[..., pd.DataFrame] | None:
    """analysis.recommendations.recommendation_status, or None in an analysis API without status groups."""
    from lt_workbench.analysis import recommendations as api

    found: Callable[..., pd.DataFrame] | None = getattr(api, "recommendation_status", None)
    return found


def _day(as_of: str | None) -> dt.date:
    try:
        return dt.date.fromisoformat(as_of) if as_of else dt.date.today()
    except ValueError:
        raise typer.BadParameter(f"{as_of!r}: write the date as YYYY-MM-DD, e.g. 2026-03-31", param_hint="'--as-of'") from None


def _check(by: str, disclosure: str) -> None:
    if by not in _BY_FRAME:
        raise typer.BadParameter(f"{by!r}: use kind, level or agency", param_hint="'--by'")
    if disclosure not in ("public", "restricted"):
        raise typer.BadParameter(f"{disclosure!r}: use public or restricted", param_hint="'--disclosure'")


@app.command("recommendations")
def recommendations_command(
    by: ByOption = "kind",
    as_of: AsOfOption = None,
    where: WhereOption = None,
    year_basis: YearBasisOption = "completed",
    disclosure: DisclosureOption = "public",
    profile: ProfileOption = "dfe",
    threshold: ThresholdOption = None,
    fmt: FormatOption = None,
    out: OutOption = None,
    db: DbOption = None,
) -> None:
    """Recommendations by kind, level or agency: how many are completed, open, overdue or not accepted at a date."""
    from lt_workbench import tabulate as tab

    _check(by, disclosure)
    day = _day(as_of)
    status = _status_function()
    filters = tab.parse_where(where or [])
    common: dict[str, Any] = dict(where=filters, year_basis=year_basis, db=db, disclosure=disclosure, profile=profile,
                                  threshold=threshold)
    if status is not None:
        table = status(by, as_of=day, **common)
    else:  # kind x recorded status, until the status groups are in the API
        table = tab.recommendations(by=("status",) if by == "kind" else (by, "status"), **common)
    emit(table, fmt, out)


def overdue_rows(status_table: pd.DataFrame, by: str) -> pd.DataFrame:
    """The overdue rows of a recommendation status table, one per kind (level, agency) and 'All'.

    count = overdue recommendations of that kind; denominator = all recommendations of that kind; the
    'All' row's count is every overdue recommendation in scope. The figures are the status table's.
    """
    from lt_workbench.config import DEFAULT_TAXONOMY_VERSION
    from lt_workbench.model.frames import labels

    names = {**labels(_BY_FRAME[by], DEFAULT_TAXONOMY_VERSION), "not_recorded": "Not recorded", "All": "All"}
    rows = status_table[status_table["code"] == "overdue"].drop(columns=["code", "label"])
    out = pd.DataFrame({"code": rows[by].to_numpy(), "label": [names.get(str(v), str(v)) for v in rows[by]]})
    for col in rows.columns:
        if col != by:
            out[col] = rows[col].to_numpy()
    out.attrs.update(status_table.attrs)
    out.attrs.update({"table": "overdue_counts", "unit_label": "recommendations",
                      "description": f"count: recommendations overdue at {status_table.attrs.get('as_of')} (due before "
                                     f"that date, neither completed nor not accepted); denominator: all recommendations "
                                     f"of the {by}."})
    return out


@app.command("overdue")
def overdue_command(
    as_of: AsOfOption = None,
    by: Annotated[str, typer.Option("--by", metavar="DIM", help="Public counts by kind (default), level or agency.")] = "kind",
    include_not_accepted: Annotated[bool, typer.Option("--include-not-accepted", help="Restricted list: include recommendations that were not accepted (nobody works to their date).")] = False,
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

    _check(by, disclosure)
    day = _day(as_of)
    filters = tab.parse_where(where or [])
    if disclosure == "restricted":
        late = tab.overdue(day, where=filters, include_not_accepted=include_not_accepted, year_basis=year_basis, db=db,
                           disclosure="restricted")
        late.attrs["where"] = filters
        emit(late, fmt, out)
        return
    if include_not_accepted:
        raise typer.BadParameter("public counts leave not-accepted recommendations apart (see `lt-workbench "
                                 "recommendations`); the list with them is --disclosure restricted",
                                 param_hint="'--include-not-accepted'")
    status = _status_function()
    if status is None:
        raise typer.BadParameter("public overdue counts need the recommendation status table, which this version "
                                 "lacks; use --disclosure restricted", param_hint="'--disclosure'")
    table = status(by, as_of=day, where=filters, year_basis=year_basis, db=db, disclosure="public", profile=profile,
                   threshold=threshold)
    emit(overdue_rows(table, by), fmt, out)

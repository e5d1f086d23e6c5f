"""Tabulation commands, one-to-one with the analysis API: tabulate, recurrence, cooccurrence, evidence."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from lt_workbench.cli.main import (
    DbOption,
    DisclosureOption,
    FormatOption,
    LevelOption,
    OutOption,
    ProfileOption,
    ThresholdOption,
    WhereOption,
    YearBasisOption,
    app,
)
from lt_workbench.cli.output import emit
from lt_workbench.cli.ranking import SortOption, TopOption, call_ranked

__all__ = ["tabulate_command", "recurrence_command", "cooccurrence_command", "evidence_command"]

FRAME_HELP = ("patterns, factors, practice-points, family-factors, agencies, age-band, sex, harm-types, outcome, "
              "review-type, trigger, intervention-level, recommendation-kind, ... (`lt-workbench values` lists them).")


@app.command("tabulate")
def tabulate_command(
    frame: Annotated[str, typer.Argument(metavar="FRAME", help=FRAME_HELP)],
    level: LevelOption = None,
    by: Annotated[Optional[list[str]], typer.Option("--by", metavar="DIM", help="Dimension to group by (repeatable): year, period, region, nation, age-band, ...")] = None,
    unit: Annotated[str, typer.Option("--unit", metavar="UNIT", help="What is counted: review, child, episode, coding or area.")] = "review",
    where: WhereOption = None,
    totals: Annotated[bool, typer.Option("--totals/--no-totals", help="Add 'All' rows for additive --by dimensions.")] = False,
    year_basis: YearBasisOption = "completed",
    sort: SortOption = None,
    top: TopOption = None,
    disclosure: DisclosureOption = "public",
    profile: ProfileOption = "dfe",
    threshold: ThresholdOption = None,
    fmt: FormatOption = None,
    out: OutOption = None,
    pivot: Annotated[Optional[str], typer.Option("--pivot", metavar="DIM", help="Wide layout for a board paper: codes down, DIM (one of --by) across.")] = None,
    db: DbOption = None,
) -> None:
    """Count reviews (or children, episodes, codings, areas) per code of a frame, rolled up, with Wilson intervals."""
    from lt_workbench import tabulate as tab

    table = call_ranked(tab.frequency, "frequency", dict(
        frame=frame, level=level, by=tuple(by or ()), unit=unit, where=tab.parse_where(where or []), totals=totals,
        year_basis=year_basis, db=db, disclosure=disclosure, profile=profile, threshold=threshold), sort=sort, top=top)
    if pivot:
        from lt_workbench.export.tables import pivot_table

        table = pivot_table(table, pivot)
    emit(table, fmt, out)


@app.command("recurrence")
def recurrence_command(
    frame: Annotated[str, typer.Argument(metavar="FRAME", help="patterns (default) or factors.")] = "patterns",
    level: LevelOption = None,
    recent_years: Annotated[int, typer.Option("--recent-years", metavar="N", help="Length of the recent window, in years.")] = 5,
    as_of_year: Annotated[Optional[int], typer.Option("--as-of-year", metavar="YEAR", help="Last year of the recent window (default: latest in scope).")] = None,
    where: WhereOption = None,
    sort: SortOption = None,
    top: TopOption = None,
    disclosure: DisclosureOption = "public",
    profile: ProfileOption = "dfe",
    threshold: ThresholdOption = None,
    fmt: FormatOption = None,
    out: OutOption = None,
    db: DbOption = None,
) -> None:
    """Per pattern: reviews, areas, regions, first/last year, recent share against before (Fisher, BH); most widespread first."""
    from lt_workbench import tabulate as tab

    table = call_ranked(tab.recurrence, "recurrence", dict(
        frame=frame, level=level, recent_years=recent_years, as_of_year=as_of_year, where=tab.parse_where(where or []),
        db=db, disclosure=disclosure, profile=profile, threshold=threshold), sort=sort, top=top)
    emit(table, fmt, out)


@app.command("cooccurrence")
def cooccurrence_command(
    kind: Annotated[str, typer.Argument(metavar="KIND", help="patterns (pattern x pattern) or factor-pattern (factor x pattern within episodes).")] = "patterns",
    level: Annotated[int, typer.Option("--level", metavar="N", help="Pattern depth (1, 2, 3).")] = 2,
    factor_level: Annotated[int, typer.Option("--factor-level", metavar="N", help="Factor depth: 1 levels, 2 types, 3 factors.")] = 2,
    unit: Annotated[Optional[str], typer.Option("--unit", metavar="UNIT", help="review or episode (default: review for patterns, episode for factor-pattern).")] = None,
    with_code: Annotated[Optional[str], typer.Option("--with", metavar="CODE", help="Keep only the pairs that include this code, e.g. --with P2.1 (at its own --level).")] = None,
    min_together: Annotated[int, typer.Option("--min-together", metavar="N", help="Only pairs seen together at least this often.")] = 1,
    where: WhereOption = None,
    sort: SortOption = None,
    top: TopOption = None,
    disclosure: DisclosureOption = "public",
    profile: ProfileOption = "dfe",
    threshold: ThresholdOption = None,
    fmt: FormatOption = None,
    out: OutOption = None,
    db: DbOption = None,
) -> None:
    """Which codes occur together: counts, Jaccard, lift, odds ratio with Fisher p and BH q."""
    from lt_workbench import tabulate as tab

    table = call_ranked(tab.cooccurrence, "cooccurrence", dict(
        kind=kind, level=level, factor_level=factor_level, unit=unit, min_together=min_together,
        where=tab.parse_where(where or []), db=db, disclosure=disclosure, profile=profile, threshold=threshold),
        sort=sort, top=top, with_code=with_code)
    emit(table, fmt, out)


@app.command("evidence")
def evidence_command(
    code: Annotated[str, typer.Argument(metavar="CODE", help="A code, e.g. P2.1 or FL.WORK.03: what reviewers wrote behind it.")],
    frame: Annotated[Optional[str], typer.Option("--frame", metavar="FRAME", help="Frame of the code when it is ambiguous.")] = None,
    where: WhereOption = None,
    disclosure: Annotated[str, typer.Option("--disclosure", metavar="MODE", help="Must be restricted: evidence is free text.")] = "public",
    fmt: FormatOption = None,
    out: OutOption = None,
    db: DbOption = None,
) -> None:
    """The findings, episodes and factor notes behind a cell (restricted only: add --disclosure restricted)."""
    from lt_workbench import tabulate as tab

    table = tab.evidence(code, frame=frame, where=tab.parse_where(where or []), db=db, disclosure=disclosure)  # type: ignore[arg-type]
    emit(table, fmt, out)

"""Commands for the analyst's questions: is it changing (`trend`), how does a group differ (`compare`),
where does one code sit against the rest (`funnel`).

Each prints a table from the analysis API (`trend`/`trend_tests`, `compare`, `funnel`); the command only
lays the API's figures side by side.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any, Optional

import pandas as pd
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
from lt_workbench.cli.ranking import SortOption, TopOption, call_ranked, rank
from lt_workbench.cli.tabulation import FRAME_HELP

__all__ = ["trend_command", "compare_command", "funnel_command", "trend_table"]

_TEST_COLUMNS = ("n_years", "statistic", "p_value", "q_value", "direction", "spans_series_break")


def _one_decimal(values: Iterable[Any]) -> list[Any]:
    """Percents to 1 decimal place, as every table shows them; suppression symbols ('c') unchanged."""
    return [round(v, 1) if isinstance(v, float) else v for v in values]


def trend_table(shares: pd.DataFrame, overall: pd.DataFrame, tests: pd.DataFrame, step: str, layout: str) -> pd.DataFrame:
    """Shares per year (or period) beside each code's trend test, as one table.

    wide: one row per code, its share over all years in scope, a percent column per year/period, then the
    test. long: the shares table's rows (count, denominator, percent, interval) with the code's test
    columns added. The method of the test is in attrs["test"] (the header), not repeated per row.
    """
    test_cols = [c for c in _TEST_COLUMNS if c in tests.columns]
    by_code = tests.set_index("code")[test_cols] if not tests.empty else pd.DataFrame(columns=test_cols)
    if layout == "long":
        out = shares.merge(by_code, left_on="code", right_index=True, how="left")
    else:
        # In time order: years as numbers, periods ("2013-2017", "2023 onwards") by their first year.
        steps = sorted(dict.fromkeys(shares[step]), key=lambda s: int(str(s)[:4]))
        pct = shares.pivot(index="code", columns=step, values="percent")
        codes = list(dict.fromkeys(shares["code"]))
        labels = dict(zip(shares["code"], shares["label"], strict=False))
        out = pd.DataFrame({"code": codes, "label": [labels[c] for c in codes]})
        out["percent_all_years"] = _one_decimal(overall.set_index("code").loc[codes, "percent"])
        for s in steps:
            out[f"percent_{s}"] = _one_decimal(pct.loc[c, s] for c in codes)
        out = out.merge(by_code, left_on="code", right_index=True, how="left")
    out.attrs.update(shares.attrs)
    warnings = [*shares.attrs.get("warnings", []), *tests.attrs.get("warnings", [])]
    out.attrs["warnings"] = list(dict.fromkeys(warnings))
    out.attrs.update({"table": "trend", "test": tests.attrs.get("method"), "multiple_testing": tests.attrs.get("multiple_testing")})
    return out


@app.command("trend")
def trend_command(
    frame: Annotated[str, typer.Argument(metavar="FRAME", help=FRAME_HELP)] = "patterns",
    code: Annotated[Optional[list[str]], typer.Option("--code", metavar="CODE", help="Only these codes (repeatable), e.g. --code domestic_abuse or --code P2.1.")] = None,
    level: LevelOption = None,
    periods: Annotated[Optional[int], typer.Option("--periods", metavar="YEARS", min=1, help="Shares by periods of this many years instead of single years (the test still uses years).")] = None,
    method: Annotated[str, typer.Option("--method", metavar="NAME", help="Trend test: cochran-armitage, or logistic (with a step at the SCR to CSPR break).")] = "cochran-armitage",
    layout: Annotated[str, typer.Option("--layout", metavar="LAYOUT", help="wide (a row per code, a share per year) or long (a row per code and year, with counts and intervals).")] = "wide",
    where: WhereOption = None,
    year_basis: YearBasisOption = "completed",
    sort: SortOption = None,
    top: TopOption = None,
    disclosure: DisclosureOption = "public",
    profile: ProfileOption = "dfe",
    threshold: ThresholdOption = None,
    fmt: FormatOption = None,
    out: OutOption = None,
    db: DbOption = None,
) -> None:
    """Share of reviews with each code, year by year (or by period), and a test for trend (BH q across codes)."""
    from lt_workbench import tabulate as tab

    if layout not in ("wide", "long"):
        raise typer.BadParameter(f"{layout!r}: use wide or long", param_hint="'--layout'")
    if method not in ("cochran-armitage", "logistic"):
        raise typer.BadParameter(f"{method!r}: use cochran-armitage or logistic", param_hint="'--method'")
    filters = tab.parse_where(where or [])
    common: dict[str, Any] = dict(level=level, where=filters, year_basis=year_basis, db=db, disclosure=disclosure,
                                  profile=profile, threshold=threshold)
    if periods is None:
        shares = tab.trend(frame, **common)
        step = "year"
    else:
        shares = tab.frequency(frame, by=("period",), periods=periods, **common)
        step = "period"
    overall = tab.frequency(frame, **common)
    # Tested across every code of the frame at this level, so --code does not change a q-value.
    tests = tab.trend_tests(frame, method=method, **common)  # type: ignore[arg-type]
    table = trend_table(shares, overall, tests, step, layout)
    if code:
        unknown = sorted(set(code) - set(table["code"]))
        if unknown:
            raise typer.BadParameter(f"{', '.join(unknown)} not among the codes of {frame} at this level "
                                     f"(lt-workbench values {frame} lists them)", param_hint="'--code'")
        attrs = dict(table.attrs)
        table = table[table["code"].isin(code)].reset_index(drop=True)
        table.attrs.update(attrs)
    table = rank(table, "trend", sort, top)
    emit(table, fmt, out)


@app.command("compare")
def compare_command(
    frame: Annotated[str, typer.Argument(metavar="FRAME", help=FRAME_HELP)] = "patterns",
    group: Annotated[str, typer.Option("--group", metavar="DIM=VALUE", help="The group set against the rest: region=north_west, nation=wales, review-type=..., year=2015..2019.")] = "",
    level: LevelOption = None,
    where: WhereOption = None,
    year_basis: YearBasisOption = "completed",
    sort: SortOption = None,
    top: TopOption = None,
    disclosure: DisclosureOption = "public",
    profile: ProfileOption = "dfe",
    threshold: ThresholdOption = None,
    fmt: FormatOption = None,
    out: OutOption = None,
    db: DbOption = None,
) -> None:
    """One region (or nation, review type, period...) against the rest of the reviews in scope, per code: Fisher, odds ratio, BH q."""
    from lt_workbench import tabulate as tab

    if not group:
        raise typer.BadParameter("name the group, e.g. --group region=north_west", param_hint="'--group'")
    table = call_ranked(tab.compare, "compare", dict(
        frame=frame, group=tab.parse_where([group]), level=level, where=tab.parse_where(where or []), year_basis=year_basis,
        db=db, disclosure=disclosure, profile=profile, threshold=threshold), sort=sort, top=top)
    emit(table, fmt, out)


@app.command("funnel")
def funnel_command(
    frame: Annotated[str, typer.Argument(metavar="FRAME", help="patterns, factors, family-factors, ... (as tabulate).")],
    code: Annotated[str, typer.Argument(metavar="CODE", help="The code, e.g. P2.1 or DA1.")],
    by: Annotated[str, typer.Option("--by", metavar="DIM", help="region (default), nation, or area (restricted).")] = "region",
    level: LevelOption = None,
    where: WhereOption = None,
    year_basis: YearBasisOption = "completed",
    disclosure: DisclosureOption = "public",
    profile: ProfileOption = "dfe",
    threshold: ThresholdOption = None,
    fmt: FormatOption = None,
    out: OutOption = None,
    db: DbOption = None,
) -> None:
    """Funnel-plot data for one code: each region's share against 95% and 99.8% limits around the overall share (no league table)."""
    from lt_workbench import tabulate as tab

    table = tab.funnel(frame, code=code, by=by, level=level, where=tab.parse_where(where or []),  # type: ignore[arg-type]
                       year_basis=year_basis, db=db, disclosure=disclosure, profile=profile, threshold=threshold)  # type: ignore[arg-type]
    emit(table, fmt, out)

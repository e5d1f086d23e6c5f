"""Sections of the recommendations tracker (also used by the summary): progress by kind, level and agency; overdue."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from lt_workbench.analysis.recommendations import STATUS_GROUPS
from lt_workbench.exceptions import ReportError
from lt_workbench.reports import text
from lt_workbench.reports.sections import common

if TYPE_CHECKING:
    from lt_workbench.reports.context import ReportContext

__all__ = ['plan', 'status_asks', 'STATUS_GROUPS', 'recommendation_status', 'recommendation_labels', 'show_status', 'overdue_ages', 'overdue_list', 'show_overdue', 'show_unaddressed']


def status_asks(ctx: ReportContext, by: Sequence[str]) -> list[Any]:
    """The recommendation-status questions (one per `by`) a report publishes."""
    return [ctx.ask("recommendation_status", b) for b in by]


def plan(ctx: ReportContext) -> list[Any]:
    """The public tables of the recommendations tracker, in the order the notebook shows them (lt_workbench.reports.plan)."""
    return [*status_asks(ctx, ("kind", "level", "agency")), ctx.ask("overdue_ages"),
            ctx.ask("unaddressed", level=2, where={"direction": "unsafe"})]


def recommendation_status(ctx: ReportContext, by: str) -> pd.DataFrame:
    """Recommendations by `by` (agency, kind or level) x status group at ctx.as_of(), protected
    (lt_workbench.analysis.recommendations.recommendation_status in the report's scope)."""
    return ctx.recommendation_status(by)


def recommendation_labels(ctx: ReportContext, by: str) -> dict[str, str]:
    frame = {"agency": "agency", "kind": "recommendation_kind", "level": "recommendation_level"}[by]
    out = dict(ctx.labels(frame))
    out.update({"not_recorded": "Agency not recorded", "All": {"agency": "All agencies", "kind": "All kinds",
                                                                "level": "All levels"}[by]})
    return out


def show_status(ctx: ReportContext, by: str, *, title: str) -> None:
    """Stacked status shares per agency/kind/level and the counts behind them."""
    from lt_workbench.present import figures as f

    table = recommendation_status(ctx, by)
    labels = recommendation_labels(ctx, by)
    f.show(f.stacked_shares(table, row=by, row_labels=labels, group="code", group_labels=STATUS_GROUPS,
                            colours=f.STATUS_COLOURS, title=title, unit="recommendations",
                            subtitle=f"Overdue: due before {ctx.as_of()} and not completed (not-accepted ones are counted apart)"))
    wide = []
    for value in dict.fromkeys(table[by]):
        part = table[table[by] == value].set_index("code")
        row = {"_label": labels.get(value, value), "_total": part["denominator"].iloc[0]}
        for code in STATUS_GROUPS:
            row[code] = part.loc[code, "count"]
        row["_pct_overdue"] = part.loc["overdue", "percent"]
        wide.append(row)
    frame = pd.DataFrame(wide)
    names = {"agency": "Agency", "kind": "Kind of recommendation", "level": "Level"}
    anchor = f"t-status-{by}"
    text.anchor(anchor)
    where = f"progress by {'lead agency' if by == 'agency' else by}"
    if by == "kind":
        ctx.note(text.status_overall(table, labels["All"], ctx.as_of(), anchor, where))
    if by in ("kind", "agency"):
        ctx.note(text.most_overdue(table, by, labels, anchor, where, "lead agency" if by == "agency" else "kind"))
    rows = [([r[c] for c in STATUS_GROUPS], r["_total"]) for r in wide]
    parts = [r for r, v in zip(wide, dict.fromkeys(table[by]), strict=True) if str(v) != "All"]
    total = [r for r, v in zip(wide, dict.fromkeys(table[by]), strict=True) if str(v) == "All"]
    columns = [([r[c] for r in parts], total[0][c]) for c in [*STATUS_GROUPS, "_total"]] if total else []
    note = ctx.symbols("recommendations") + common.rounding_note(ctx, rows + columns)
    f.show_table(frame, {"_label": names[by], "_total": "Recommendations", **STATUS_GROUPS, "_pct_overdue": "Percentage overdue"},
                 counts=["_total", *STATUS_GROUPS], percents=["_pct_overdue"], note=note,
                 total_rows=[str(v) == "All" for v in dict.fromkeys(table[by])])


def overdue_ages(ctx: ReportContext) -> pd.DataFrame:
    """Overdue recommendations by how long overdue, protected (analysis.recommendations.overdue_ages)."""
    return ctx.overdue_ages()


def overdue_list(ctx: ReportContext, limit: int = 25) -> pd.DataFrame:
    """The longest overdue recommendations with their text (restricted only), with area names and agencies filled."""
    if ctx.public:
        raise ReportError("overdue recommendations are listed with their text only in restricted reports")
    late = ctx.overdue().head(limit).reset_index(drop=True)
    names = ctx.area_names()
    return late.assign(agency=late["agency"].fillna("not_recorded"), area_name=[names.get(a, a) for a in late["area_code"]])


def show_overdue(ctx: ReportContext) -> None:
    """How long overdue recommendations have been overdue, and (restricted) the oldest with their text."""
    from lt_workbench.present import figures as f

    ages = overdue_ages(ctx)
    common.show_shares(ctx, ages, title=f"How long overdue recommendations have been overdue, at {ctx.as_of()}",
                       unit="recommendations", what="Overdue by", colour=f.PALETTE[1], anchor="t-overdue-ages")
    ctx.note(text.long_overdue(ages, "t-overdue-ages", "overdue recommendations"))
    if ctx.require_restricted("The overdue recommendations themselves"):
        late = overdue_list(ctx)
        if late.empty:
            f.show_text("No recommendation in scope is overdue.")
            return
        agencies, kinds = recommendation_labels(ctx, "agency"), ctx.labels("recommendation_kind")
        late = late.assign(_agency=[agencies.get(a, a) for a in late["agency"]], _kind=[kinds.get(k, k) for k in late["kind"]],
                           _region=[ctx.label("region", r) for r in late["region"]], _due=[str(d)[:10] for d in late["due"]])
        f.show_table(late, {"review_id": "Review", "area_name": "Area", "_region": "Region", "rec_id": "Recommendation",
                            "_agency": "Agency", "_kind": "Kind", "_due": "Due", "days_overdue": "Days overdue", "text": "Text"},
                     numbers=["days_overdue"], caption=f"The {len(late)} longest overdue recommendations",
                     note=ctx.symbols("recommendations"))


def show_unaddressed(ctx: ReportContext, top_n: int = 20) -> None:
    """Unsafe patterns that no recommendation of the same review addresses, as a share of the reviews finding them."""
    t = ctx.unaddressed(level=2, where={"direction": "unsafe"})
    common.show_shares(ctx, t, title="Unsafe patterns left without a recommendation", unit="reviews", what="Pattern", with_codes=True,
                     subtitle="Of the reviews finding each pattern as unsafe, the share where no recommendation addresses it",
                       anchor="t-unaddressed")
    ctx.note(text.unaddressed(t, "t-unaddressed", "patterns no recommendation addresses"))

"""Sections of the area profile: who is compared with whom, the comparison, funnel plots."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from lt_workbench.exceptions import ReportError
from lt_workbench.reports import text
from lt_workbench.reports.parameters import database_areas, reviews_by
from lt_workbench.reports.sections.common import rank

if TYPE_CHECKING:
    from lt_workbench.reports.context import ReportContext

__all__ = ['plan', 'funnel_codes', 'subject', 'place_names', 'show_subject', 'show_comparison', 'show_funnels']


def subject(ctx: ReportContext) -> dict[str, Any]:
    """Who the area profile is about and whom it is compared with.

    An area (restricted) is compared with the other areas of its nation; a region with the other
    regions of its nation, or with every review in scope when its nation has no other region.
    With neither given, the region with the most reviews in scope is profiled, and the report says so.
    """
    p = ctx.params
    base = {k: v for k, v in ctx.where.items() if k not in ("nation", "region", "area")}
    chosen = False
    names = ctx.area_names()
    if p["area"] is not None:
        kind, code = "area", p["area"]
        areas = database_areas(ctx.db)
        row = areas[areas["area_code"] == code].iloc[0]
        nation, region = str(row["nation"]), str(row["region"])
    else:
        kind = "region"
        if p["region"] is not None:
            code = p["region"]
        else:
            counts = reviews_by("region", ctx.where, ctx.db)  # in frame order: ties go to the first
            code = max(counts, key=lambda c: counts[c])
            chosen = True
        nation = ctx.frame_codes("region").set_index("code").loc[code, "parent"]
        region = code
    in_nation = reviews_by("region", {**base, "nation": nation}, ctx.db)
    regions_in_nation = sum(1 for n in in_nation.values() if n > 0)
    nation_label = ctx.label("nation", nation)
    if kind == "area" or regions_in_nation > 1:
        where = {**base, "nation": nation}
        rest = f"the rest of {nation_label}"
    else:
        where = dict(base)
        rest = "all other reviews in scope (every nation)"
    label = names.get(code, code) if kind == "area" else ctx.label("region", code)
    return {"kind": kind, "code": code, "label": label, "nation": nation, "region": region, "where": where,
            "rest": rest, "chosen": chosen, "funnel_by": kind, "names": names}


def plan(ctx: ReportContext) -> list[Any]:
    """The public tables of the area profile, in the order the notebook shows them (lt_workbench.reports.plan);
    the funnels follow the published ranking of the comparison group's patterns, so they are planned after it."""
    who = subject(ctx)
    group = {who["kind"]: who["code"]}
    a = ctx.ask

    def funnels(c: ReportContext) -> list[Any]:
        return [c.ask("funnel", "patterns", scoped=False, code=code, by=who["funnel_by"], where=who["where"])
                for code in funnel_codes(c, who, c.params.get("patterns"))]

    return [a("compare", "patterns", scoped=False, level=2, group=group, where=who["where"]),
            a("frequency", "review-type", by=("period",), periods=ctx.periods(5), totals=True, where=group),
            a("frequency", "patterns", scoped=False, level=2, where=who["where"]), funnels,
            a("compare", "factors", scoped=False, level=2, group=group, where=who["where"])]


def funnel_codes(ctx: ReportContext, who: Mapping[str, Any], codes: Sequence[str] | None, n: int = 6) -> list[str]:
    """The patterns the funnel plots show: `codes`, else the n found in most reviews of the comparison group
    (ranked on the whole comparison group, not the report's own scope, and on the shown numbers only)."""
    if codes:
        return list(codes)
    overall = ctx.table(ctx.ask("frequency", "patterns", scoped=False, level=2, where=who["where"]))
    return list(rank(overall, n)["code"])


def place_names(ctx: ReportContext, by: str, names: Mapping[str, str] | None = None) -> dict[str, str]:
    """Readable names of regions (frame labels) or areas (restricted: names from the database)."""
    if by == "region":
        return dict(ctx.labels("region"))
    if by == "nation":
        return dict(ctx.labels("nation"))
    if ctx.public:
        raise ReportError("areas are never named in public reports")
    return dict(names or {})


def show_subject(ctx: ReportContext, who: Mapping[str, Any], comparison: pd.DataFrame) -> None:
    """Who is compared with whom, with the numbers of reviews on each side (protected)."""
    from lt_workbench.present.figures import number, show_text

    n_group = comparison["denominator_group"].iloc[0] if len(comparison) else 0
    n_rest = comparison["denominator_rest"].iloc[0] if len(comparison) else 0
    text = (f"This profile compares **{who['label']}** ({number(n_group)} reviews) with **{who['rest']}** "
            f"({number(n_rest)} reviews), within the scope above.")
    if who["chosen"]:
        text += (f" No region or area was named, so it profiles {who['label']}, the region with the most reviews in scope; "
                 "name one with the `region` parameter.")
    from lt_workbench.analysis.tabulate import PERFORMANCE_CAVEAT

    show_text(text + "\n\n*" + PERFORMANCE_CAVEAT + "*")


def show_comparison(ctx: ReportContext, comparison: pd.DataFrame, who: Mapping[str, Any], *, what: str, title: str, alpha: float = 0.05,
                    anchor: str = "t-compare-patterns", noun: str = "pattern") -> None:
    """Group against the rest: paired bars with intervals (from the published numbers) and a table in words."""
    from lt_workbench.analysis.shape import with_rates
    from lt_workbench.present import figures as f

    rows = []
    for side, cnt, den in (("group", "count_group", "denominator_group"), ("rest", "count_rest", "denominator_rest")):
        for code, label, c, d in zip(comparison["code"], comparison["label"], comparison[cnt], comparison[den], strict=True):
            rows.append({"code": code, "label": label, "side": side, "count": c, "denominator": d})
    long = with_rates(pd.DataFrame(rows, columns=["code", "label", "side", "count", "denominator"]))
    rest = str(who["rest"])
    f.show(f.grouped_shares(long, group="side", group_labels={"group": str(who["label"]), "rest": rest[:1].upper() + rest[1:]},
                            colours={"group": f.PALETTE[1], "rest": f.PALETTE[0]}, title=title, unit="reviews",
                            subtitle="Share of reviews on each side, printed beside each bar"))
    q = pd.to_numeric(comparison["q_value"], errors="coerce")
    ors = pd.to_numeric(comparison["odds_ratio"], errors="coerce")
    words = []
    for hidden, qq, orr in zip(comparison["suppressed"], q, ors, strict=True):
        if hidden:
            words.append("hidden (small numbers)")
        elif pd.notna(qq) and qq < alpha:
            words.append(f"more often in {who['label']}" if orr > 1 else f"less often in {who['label']}")
        else:
            words.append("no clear difference")
    table = pd.DataFrame({
        "_label": [f"{c} {lab}" for c, lab in zip(comparison["code"], comparison["label"], strict=True)],
        "count_group": comparison["count_group"], "percent_group": comparison["percent_group"],
        "count_rest": comparison["count_rest"], "percent_rest": comparison["percent_rest"],
        "_or": [_odds_text(o, a, b) for o, a, b in zip(comparison["odds_ratio"], comparison["or_ci_low"], comparison["or_ci_high"], strict=True)],
        "_q": ["c" if isinstance(v, str) else (":" if pd.isna(v) else ("below 0.001" if v < 0.001 else f"{v:.3f}")) for v in
               [v if isinstance(v, str) else pd.to_numeric(v, errors="coerce") for v in comparison["q_value"]]],
        "_words": words,
    })
    text.anchor(anchor)
    section = title
    if noun == "pattern":
        mine = comparison.assign(count=comparison["count_group"], denominator=comparison["denominator_group"],
                                 percent=comparison["percent_group"])
        ctx.note(text.widespread(mine, anchor, section, unit=f"reviews in {who['label']}"))
    ctx.note(text.differences(comparison, str(who["label"]), str(who["rest"]), anchor, section, noun, alpha=alpha))
    f.show_table(table, {"_label": what, "count_group": f"Reviews, {who['label']}", "percent_group": f"%, {who['label']}",
                         "count_rest": "Reviews, rest", "percent_rest": "%, rest", "_or": "Odds ratio (95% interval)",
                         "_q": "Adjusted p-value", "_words": "In words"},
                 counts=["count_group", "count_rest"], percents=["percent_group", "percent_rest"], numbers=["_or", "_q"],
                 note=ctx.symbols("reviews") + f" {comparison.attrs.get('test', '')}.")


def show_funnels(ctx: ReportContext, who: Mapping[str, Any], codes: Sequence[str] | None = None, *, n: int = 6) -> None:
    """Funnel plots for the chosen patterns (default: the n most recurrent in the comparison scope), and where the subject falls."""
    from lt_workbench.present import figures as f

    codes = funnel_codes(ctx, who, codes, n)
    names = place_names(ctx, who["funnel_by"], who.get("names"))
    labels = ctx.labels("patterns")
    panels, rows = [], []
    for code in codes:
        t = ctx.funnel("patterns", code=code, by=who["funnel_by"], where=who["where"])
        dim = who["funnel_by"]
        points = pd.DataFrame({"name": [names.get(v, v) for v in t[dim]], "count": t["count"], "denominator": t["denominator"],
                               "percent": t["percent"]})
        p0 = float(pd.to_numeric(t["p0"], errors="coerce").iloc[0]) if len(t) else 0.0
        if pd.notna(p0):  # a hidden overall share (c): no centre line, so no panel
            panels.append((f"{code} {labels.get(code, code)}", points, p0))
        mine = t[t[dim] == who["code"]]
        if len(mine):
            m = mine.iloc[0]
            where_ = m["position"] if m["position"] else "within limits"
            rows.append({"_label": f"{code} {labels.get(code, code)}", "count": m["count"], "percent": m["percent"],
                         "p0": p0 if pd.notna(p0) else "c", "_where": where_ if pd.notna(p0) else "no funnel: overall share hidden"})
    if panels:
        f.show(f.funnel_grid(panels, title=f"Funnel plots: {who['label']} among the places of its comparison group",
                             unit="reviews",
                             highlight=str(who["label"]),
                             subtitle="Each dot is a place; the dashed (95%) and dotted (99.8%) lines show the range chance alone would "
                                      "give"))
    if rows:
        frame = pd.DataFrame(rows)
        frame["_where"] = frame["_where"].replace({"c": "hidden (small numbers)"})
        f.show_table(frame, {"_label": "Pattern", "count": f"Reviews, {who['label']}", "percent": f"%, {who['label']}",
                             "p0": "% overall", "_where": "Against the funnel limits"},
                     counts=["count"], percents=["percent", "p0"],
                     note=ctx.symbols("reviews") + " Outside the 99.8% limits: a difference chance would rarely give; worth "
                          "asking why, not a verdict on practice.")


def _odds_text(value: Any, low: Any, high: Any) -> str:
    """'1.29 (0.63–2.58)'; 'not estimable' when a side is all or nothing (an infinite or zero odds ratio)."""
    if isinstance(value, str):
        return value
    try:
        o, a, b = float(value), float(low), float(high)
    except (TypeError, ValueError):
        return ":"
    if not all(map(math.isfinite, (o, a, b))) or o == 0:
        return "not estimable"
    return f"{o:.2f} ({a:.2f}–{b:.2f})"

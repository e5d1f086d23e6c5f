"""Sections of the pattern deep dive: the pattern, how often and where, over time, with what, addressed or not, evidence."""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pandas as pd

from lt_workbench.reports import text
from lt_workbench.reports.sections import common
from lt_workbench.reports.sections.common import rank

if TYPE_CHECKING:
    from lt_workbench.reports.context import ReportContext

__all__ = ['plan', 'pattern_info', 'show_pattern_intro', 'show_pattern_summary', 'show_pattern_trend', 'show_pattern_places', 'show_subpatterns', 'show_companions', 'show_factors_behind', 'show_addressed', 'show_evidence']


def pattern_info(ctx: ReportContext, code: str) -> dict[str, Any]:
    """A pattern's label, description, parent and sub-patterns, from the frame."""
    t = ctx.frame_codes("patterns")
    row = t.set_index("code").loc[code]
    parent = row["parent"] if isinstance(row["parent"], str) and row["parent"] else None
    chain: list[tuple[str, Any]] = []
    p = parent
    while p:
        chain.insert(0, (p, t.set_index("code").loc[p, "label"]))
        nxt = t.set_index("code").loc[p, "parent"]
        p = nxt if isinstance(nxt, str) and nxt else None
    children = t[t["parent"] == code][["code", "label"]]
    return {"code": code, "label": row["label"], "description": row["description"] if isinstance(row["description"], str) else "",
            "depth": int(str(row["depth"])), "ancestors": chain, "children": list(zip(children["code"], children["label"], strict=True))}


def _places_where(ctx: ReportContext) -> dict[str, Any]:
    """The scope of the by-region funnel: the report's scope without its region or area (a funnel compares places)."""
    return {k: v for k, v in ctx.where.items() if k not in ("region", "area")}


def plan(ctx: ReportContext) -> list[Any]:
    """The public tables of the pattern deep dive, in the order the notebook shows them (lt_workbench.reports.plan)."""
    info = pattern_info(ctx, ctx.params["pattern"])
    code, depth = info["code"], info["depth"]
    a = ctx.ask
    asks = [a("frequency", "patterns", level=depth), a("recurrence", "patterns", level=depth),
            a("frequency", "patterns", level=depth, by=("direction",)),
            a("frequency", "patterns", level=depth, by=("period",), periods=ctx.periods(3)),
            a("trend_tests", "patterns", level=depth, codes=[code]),
            a("funnel", "patterns", scoped=False, code=code, by="region", level=depth, where=_places_where(ctx))]
    if info["children"]:
        asks.append(a("frequency", "patterns", level=depth + 1))
    return [*asks, a("cooccurrence", "patterns", level=depth), a("cooccurrence", "factor-pattern", level=depth, factor_level=3, unit="episode"),
            a("unaddressed", level=depth)]


def show_pattern_intro(ctx: ReportContext, info: Mapping[str, Any]) -> None:
    """What the pattern is, where it sits in the typology, and its sub-patterns, in words from the frame."""
    from lt_workbench.present.figures import show_text

    lines = [f"### {info['code']} {info['label']}"]
    if info["description"]:
        lines.append(info["description"])
    if info["ancestors"]:
        lines.append("**In the typology:** " + " › ".join(f"{c} {lab}" for c, lab in info["ancestors"]) + f" › **{info['code']} {info['label']}**")
    if info["children"]:
        lines.append("**Sub-patterns:**\n\n" + "\n".join(f"- {c} {lab}" for c, lab in info["children"]))
    lines.append("Counts below include reviews coded at any sub-pattern of it (roll-up).")
    show_text("\n\n".join(lines))


def show_pattern_summary(ctx: ReportContext, code: str, depth: int) -> None:
    """How often and how widely the pattern was found, and as constructive or unsafe."""
    from lt_workbench.present import figures as f

    freq = ctx.frequency("patterns", level=depth)
    row = freq[freq["code"] == code].iloc[0]
    spread = ctx.recurrence("patterns", level=depth)
    rec = spread[spread["code"] == code].iloc[0]
    if f.is_hidden(row["count"]):
        sentence = (f"**{code} {row['label']}** was found in fewer than {ctx.threshold} reviews in scope (or in a number that "
                "would reveal one), so its counts are hidden in this public report.")
    else:
        sentence = (f"**{code} {row['label']}** was found in **{f.number(row['count'])}** of {f.number(row['denominator'])} reviews in "
                f"scope: **{f.percent_text(row['percent'])}** (95% interval {f.interval_text(row['ci_low'], row['ci_high'])}).")
        if not rec["suppressed"] and not f.is_hidden(rec["areas"]):
            sentence += (f" Reviews in **{rec['areas']}** different areas and {rec['regions']} regions found it, first in "
                     f"{rec['first_year']} and most recently in {rec['last_year']}.")
            if not f.is_hidden(rec["percent_recent"]) and not f.is_hidden(rec["percent_before"]):
                sentence += (f" In the most recent years ({spread.attrs.get('recent_window', '').replace('-', '–')}) it was found in "
                         f"{f.percent_text(rec['percent_recent'])} of reviews, against {f.percent_text(rec['percent_before'])} before.")
    f.show_text(sentence)
    common.show_shares(ctx, freq[freq["code"] == code], title="", unit="reviews", what="Pattern", with_codes=True, figure=False,
                       caption="How many reviews in scope found it", anchor="t-pattern")
    ctx.note(text.share_of(row, "**{code} {label}** was found in **{count}** of the {denominator} reviews in scope ({pct}).",
                           "t-pattern", "how often and how widely"))
    directions = ctx.frequency("patterns", level=depth, by=("direction",))
    mine = directions[directions["code"] == code]
    f.show(f.grouped_shares(mine, group="direction", group_labels={"constructive": "Constructive (supports good practice)",
                                                                    "unsafe": "Unsafe (makes poor practice more likely)"},
                            colours=f.DIRECTION_COLOURS, title="Found as constructive or as unsafe", unit="reviews",
                            subtitle="A review can find a pattern both ways, in different findings"))


def show_pattern_trend(ctx: ReportContext, code: str, depth: int) -> None:
    """The pattern's share of reviews over three-year periods, with the year-by-year trend test in words."""
    from lt_workbench.present import figures as f

    periods = ctx.frequency("patterns", level=depth, by=("period",), periods=ctx.periods(3))
    f.show(f.trend_lines(periods[periods["code"] == code], x="period", series_breaks=ctx.series_breaks(),
                         title="Share of reviews finding it, over time", unit="reviews",
                         subtitle="Three-year periods, with the 95% interval shaded"))
    tests = ctx.trend_tests("patterns", level=depth, codes=[code])
    if tests.empty:
        f.show_text("*Too few years in scope to test for a trend.*")
        return
    t = tests.iloc[0]
    if f.is_hidden(t["p_value"]):
        f.show_text("*The trend test is hidden: the numbers are small.*")
        return
    p = float(t["p_value"])
    verdict = {"rising": "rose", "falling": "fell"}.get(t["direction"], "")
    if verdict:
        sentence = f"Across single years its share of reviews **{verdict}** (p {'below 0.001' if p < 0.001 else f'= {p:.3f}'})."
    else:
        sentence = f"Across single years there is no clear trend (p = {p:.2f})."
    if t["spans_series_break"]:
        sentence += " The years span the 2018–19 series break, so part of any change may come from the change of review system."
    f.show_text(sentence + f" *Method: {t['method']}.*")
    ctx.note(_trend_finding(ctx, t, p, verdict))


def show_pattern_places(ctx: ReportContext, code: str, depth: int) -> None:
    """The pattern by region: a funnel plot (never a league table) and the numbers."""
    from lt_workbench.present import figures as f

    t = ctx.funnel("patterns", code=code, by="region", level=depth, where=_places_where(ctx))
    names = ctx.labels("region")
    points = pd.DataFrame({"name": [names.get(v, v) for v in t["region"]], "count": t["count"], "denominator": t["denominator"],
                           "percent": t["percent"]})
    highlight = names.get(ctx.params["region"]) if ctx.params["region"] else None
    p0 = pd.to_numeric(t["p0"], errors="coerce").iloc[0] if len(t) else 0.0
    if pd.isna(p0):  # the overall share is hidden in this release: a funnel without its centre would mislead
        f.show_text("*No funnel plot: the overall share it is drawn around is hidden (c) in public output, because "
                    "the numbers behind it are small.*")
    else:
        f.show(f.funnel_grid([(f"{code} {ctx.label('patterns', code)}", points, float(p0))], columns=1, highlight=highlight,
                             title="By region: each region's share against the range chance would give", unit="reviews",
                             subtitle="Dashed: 95% limits; dotted: 99.8% limits. A funnel compares; it does not rank."))
    t = t.copy()
    t["_name"] = [names.get(v, v) for v in t["region"]]
    t["_ci"] = [f.interval_text(a, b) for a, b in zip(t["ci_low"], t["ci_high"], strict=True)]
    t["position"] = t["position"].replace({"c": "hidden (small numbers)"})
    f.show_table(t, {"_name": "Region", "count": "Reviews with it", "denominator": "Reviews", "percent": "Percentage",
                     "_ci": "95% interval", "position": "Against the funnel limits"}, counts=["count", "denominator"],
                 percents=["percent"], numbers=["_ci"], note=ctx.symbols("reviews"))


def show_subpatterns(ctx: ReportContext, info: Mapping[str, Any]) -> None:
    from lt_workbench.present import figures as f

    if not info["children"]:
        f.show_text("*This pattern has no sub-patterns in the typology.*")
        return
    sub = ctx.frequency("patterns", level=info["depth"] + 1)
    sub = sub[sub["code"].isin([c for c, _ in info["children"]])]
    common.show_shares(ctx, sub, title="Its sub-patterns", unit="reviews", what="Sub-pattern", with_codes=True,
                     subtitle="Share of all reviews in scope finding each sub-pattern")


def show_companions(ctx: ReportContext, code: str, depth: int, n: int = 10) -> None:
    """Other patterns found in the same reviews: of the reviews with this pattern, the share that also found each."""
    pairs = ctx.cooccurrence("patterns", level=depth)
    mine = pairs[(pairs["code_a"] == code) | (pairs["code_b"] == code)]
    rows = []
    for rec in mine.to_dict("records"):
        first = rec["code_a"] == code
        other, other_label = (rec["code_b"], rec["label_b"]) if first else (rec["code_a"], rec["label_a"])
        base = rec["n_a"] if first else rec["n_b"]
        rows.append({"code": other, "label": other_label, "count": rec["n_ab"], "denominator": base, "lift": rec["lift"]})
    top = _show_share_of_pattern(ctx, pd.DataFrame(rows, columns=["code", "label", "count", "denominator", "lift"]), n=n,
                                 title="Patterns most often found in the same reviews", unit="reviews", what="Other pattern",
                                 subtitle=f"Of the reviews that found {code}, the share that also found each other pattern",
                                 anchor="t-companions")
    if top is not None and len(top):
        ctx.note(text.share_of(text.top_shares(top, 1)[0] if text.top_shares(top, 1) else {},
                               "Of the reviews that found it, **{pct}** also found **{code} {label}**, the pattern most often found with it.",
                               "t-companions", "patterns found with it"))


def show_factors_behind(ctx: ReportContext, code: str, depth: int, n: int = 12) -> None:
    """Contributory factors coded on the episodes the pattern's findings rest on."""
    pairs = ctx.cooccurrence("factor-pattern", level=depth, factor_level=3, unit="episode")
    mine = pairs[pairs["code_b"] == code]
    table = pd.DataFrame({"code": mine["code_a"], "label": mine["label_a"], "count": mine["n_ab"], "denominator": mine["n_b"],
                          "lift": mine["lift"]})
    top = _show_share_of_pattern(ctx, table, n=n, title="Contributory factors behind it", unit="key practice episodes", what="Factor",
                                 subtitle=f"Of the key practice episodes that {code} findings rest on, the share where each factor was coded",
                                 anchor="t-factors-behind")
    if top is not None and len(top):
        ctx.note(text.share_of(text.top_shares(top, 1)[0] if text.top_shares(top, 1) else {},
                               "The contributory factor most often coded on the key practice episodes behind it: **{code} {label}** "
                               "({pct} of those episodes).", "t-factors-behind", "contributory factors behind it"))


def _show_share_of_pattern(ctx: ReportContext, table: pd.DataFrame, *, n: int, title: str, unit: str, what: str, subtitle: str,
                           anchor: str) -> pd.DataFrame | None:
    from lt_workbench.analysis.shape import with_rates
    from lt_workbench.present import figures as f

    if table.empty:
        f.show_text("*Nothing to show in scope.*")
        return None
    table = with_rates(table).reset_index(drop=True)
    top = rank(table, n)
    f.show(f.bar_shares(top, title=title, unit=unit, subtitle=subtitle, with_codes=True, colour=f.PALETTE[4]))
    top = top.copy()
    top["_label"] = [f"{c} {lab}" for c, lab in zip(top["code"], top["label"], strict=True)]
    top["_lift"] = [f"{float(v):.2f}" if not f.is_hidden(v) else str(v) for v in top["lift"]]
    text.anchor(anchor)
    f.show_table(top, {"_label": what, "count": "Together", "denominator": "Out of", "percent": "Percentage",
                       "_lift": "Times as often as if unrelated"}, counts=["count", "denominator"], percents=["percent"],
                 numbers=["_lift"], note=ctx.symbols(unit))
    return top


def show_addressed(ctx: ReportContext, code: str, depth: int) -> None:
    """How often the pattern was left without a recommendation that addresses it."""
    from lt_workbench.present import figures as f

    t = ctx.unaddressed(level=depth)
    row = t[t["code"] == code]
    if row.empty or f.is_hidden(row.iloc[0]["count"]):
        f.show_text("*How often no recommendation addressed it is hidden: the numbers are small.*")
        return
    r = row.iloc[0]
    f.show_text(f"In **{f.percent_text(r['percent'])}** of the reviews that found it ({f.number(r['count'])} of "
                f"{f.number(r['denominator'])}; 95% interval {f.interval_text(r['ci_low'], r['ci_high'])}), no recommendation "
                "of the same review addresses it (lists this pattern or a broader one it belongs to).")


def show_evidence(ctx: ReportContext, code: str, limit: int) -> None:
    """Restricted only: the findings behind the pattern, most recent first, with the episodes they rest on."""

    from lt_workbench.present.figures import show_text

    if not ctx.require_restricted("Evidence excerpts"):
        return
    ev = ctx.evidence(code)
    if ev.empty:
        show_text("*No findings in scope.*")
        return
    findings = ev.drop_duplicates(subset=["review_id", "finding_no"]).sort_values(["year", "review_id", "finding_no"],
                                                                                 ascending=[False, True, True])
    total = len(findings)
    blocks = []
    for rec in findings.head(limit).to_dict("records"):
        eps = ev[(ev["review_id"] == rec["review_id"]) & (ev["finding_no"] == rec["finding_no"])]
        ep_list = "".join(f"<li>{html.escape(str(t))}</li>" for t in eps["episode_title"].dropna())
        proposed = f" · proposes <i>{html.escape(str(rec['proposed_label']))}</i>" if isinstance(rec.get("proposed_label"), str) else ""
        blocks.append(
            f'<div class="lt-excerpt"><div class="lt-meta">{html.escape(str(rec["review_id"]))} · {rec["year"]} · '
            f'{html.escape(ctx.label("region", rec["region"]))} · coded {html.escape(str(rec["coded_as"]))} ({html.escape(str(rec["direction"]))})'
            f'{proposed}</div><p>{html.escape(str(rec["finding"]))}</p>'
            f'<div class="lt-meta">Rests on the episodes:</div><ul>{ep_list}</ul></div>')
    text.show_html(f"<p>{min(limit, total)} of {total} findings, most recent first.</p>" + "".join(blocks))


def _trend_finding(ctx: ReportContext, t: Any, p: float, verdict: str) -> text.Finding:
    """The trend test of the pattern as a key finding, with a one-row table to check it against."""
    from lt_workbench.present.figures import show_table

    p_text = "below 0.001" if p < 0.001 else f"{p:.3f}"
    change = {"rose": "Rising", "fell": "Falling"}.get(verdict, "No clear trend")
    frame = pd.DataFrame([{"_label": f"{t['code']} {t['label']}", "_change": change, "_p": p_text, "_method": str(t["method"])}])
    text.anchor("t-pattern-trend")
    show_table(frame, {"_label": "Pattern", "_change": "Change over single years", "_p": "p-value", "_method": "Test"},
               numbers=["_p"], caption="The trend test")
    if verdict:
        sentence = f"Across single years its share of reviews **{verdict}** (p {p_text})."
    else:
        sentence = f"Across single years its share of reviews shows no clear trend (p {p_text})."
    return text.Finding(sentence, "t-pattern-trend", "over time", ((str(t["code"]), p_text),))

"""Sections of the cross-review summary: the most recurrent patterns, trends, what works well, proposed sub-patterns."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import pandas as pd

from lt_workbench.reports import text
from lt_workbench.reports.sections import common
from lt_workbench.reports.sections.common import rank

if TYPE_CHECKING:
    from lt_workbench.reports.context import ReportContext

__all__ = ['plan', 'changing_codes', 'show_top_patterns', 'show_trends', 'show_directions', 'show_proposed', 'agreement_table', 'show_agreement']


def plan(ctx: ReportContext) -> list[Any]:
    """The public tables of the cross-review summary, in the order the notebook shows them (lt_workbench.reports.plan)."""
    from lt_workbench.reports.sections import recommendations_tracker as tracker

    a = ctx.ask
    return [
        a("scope"), *common.by_time_asks(ctx, "review-type"), a("frequency", "region"), a("frequency", "method"),
        *common.by_time_asks(ctx, "outcome", unit="child"),
        *(a("frequency", f, unit="child") for f in ("age-band", "sex", "harm-types", "outcome")),
        a("frequency", "family-factors"), a("frequency", "intervention-level"),
        a("frequency", "patterns", level=2), a("recurrence", "patterns", level=2), a("trend_tests", "patterns", level=2),
        lambda c: [c.ask("frequency", "patterns", level=2, by=("period",), periods=c.periods(3))]
        if changing_codes(c.table(c.ask("trend_tests", "patterns", level=2))) else [],
        a("frequency", "patterns", level=2, by=("direction",)),
        a("frequency", "factors", level=2, by=("influence",)), a("frequency", "factors", level=1),
        a("frequency", "factors", level=3, where={"influence": "hindering"}),
        a("cooccurrence", "patterns", level=2), a("cooccurrence", "factor-pattern", level=1, factor_level=2, unit="episode"),
        *tracker.status_asks(ctx, ("kind", "level")), a("proposed"),
    ]


def show_top_patterns(ctx: ReportContext, patterns: pd.DataFrame, spread: pd.DataFrame, top_n: int) -> None:
    """The most recurrent patterns: a chart of shares with intervals, and one table adding how widespread
    (areas, regions, years) and how current (recent share against earlier) each is."""
    from lt_workbench.present import figures as f

    top = rank(patterns, top_n)
    f.show(f.bar_shares(top, title=f"The {len(top)} patterns found in most reviews", unit="reviews", with_codes=True,
                        colour=f.PALETTE[1]))
    rec = spread.set_index("code").reindex(list(top["code"]))
    frame = pd.DataFrame({
        "_label": [f"{c} {lab}" for c, lab in zip(top["code"], top["label"], strict=True)],
        "count": list(top["count"]),
        "_pct": [f"{f.percent_text(p)} ({f.interval_text(lo, hi)})" if not f.is_hidden(p) else str(p)
                 for p, lo, hi in zip(top["percent"], top["ci_low"], top["ci_high"], strict=True)],
        "areas": list(rec["areas"]), "regions": list(rec["regions"]),
        "_years": [f"{a}–{b}" if not (isinstance(a, str) or pd.isna(a)) else str(a) for a, b in zip(rec["first_year"], rec["last_year"], strict=True)],
        "percent_recent": list(rec["percent_recent"]), "percent_before": list(rec["percent_before"]),
    })
    recent = spread.attrs.get("recent_window", "recent years").replace("-", "–")
    before = spread.attrs.get("before_window", "earlier").replace("-", "–")
    denominator = f.number(top["denominator"].iloc[0]) if len(top) else "0"
    text.anchor("t-top-patterns")
    ctx.note(text.widespread(top, "t-top-patterns", "the most recurrent patterns"))
    f.show_table(frame, {"_label": "Pattern", "count": "Reviews", "_pct": "Percentage (95% interval)", "areas": "Areas",
                         "regions": "Regions", "_years": "Found from–to", "percent_recent": f"Share {recent}",
                         "percent_before": f"Share {before}"},
                 counts=["count"], numbers=["_pct", "areas", "regions"], percents=["percent_recent", "percent_before"],
                 caption=f"The most recurrent patterns, out of {denominator} reviews: how widespread and how current",
                 note=ctx.symbols("reviews") + " Areas and regions count the different places whose reviews found the "
                      "pattern (places, not reviews).")


def changing_codes(tests: pd.DataFrame, alpha: float = 0.05) -> list[str]:
    """Codes whose share clearly rose or fell: BH-adjusted p below alpha (the trend section, and its plan)."""
    if tests.empty:
        return []
    q = pd.to_numeric(tests["q_value"], errors="coerce")
    return list(tests.loc[(q < alpha) & tests["direction"].isin(["rising", "falling"]), "code"])


def show_trends(ctx: ReportContext, tests: pd.DataFrame, alpha: float = 0.05) -> list[str]:
    """Patterns whose share clearly rose or fell (BH-adjusted p below alpha), in words; returns their codes."""
    from lt_workbench.present.figures import show_table, show_text

    text.anchor("t-trends")
    if tests.empty:
        show_text("*Too few years in scope to test for trends.*")
        return []
    ctx.note(text.trends(tests, "t-trends", "patterns rising or falling"))
    clear = tests[tests["code"].isin(changing_codes(tests, alpha))].copy()
    method = tests.attrs.get("method", "")
    if clear.empty:
        show_text(f"No pattern's share of reviews rose or fell clearly over the years in scope, after allowing for "
                  f"testing {len(tests)} patterns at once. *Method: {method}.*")
        return []
    clear["_label"] = [f"{c} {lab}" for c, lab in zip(clear["code"], clear["label"], strict=True)]
    clear["_change"] = clear["direction"].map({"rising": "Rising", "falling": "Falling"})
    clear["_strength"] = ["very strong evidence" if v < 0.001 else "strong evidence" if v < 0.01 else "evidence"
                          for v in pd.to_numeric(clear["q_value"])]
    clear["_q"] = ["below 0.001" if v < 0.001 else f"{v:.3f}" for v in pd.to_numeric(clear["q_value"])]
    clear["_break"] = ["yes: read with care" if b else "no" for b in clear["spans_series_break"]]
    clear["_years"] = [f"{a}–{b}" for a, b in zip(clear["first_year"], clear["last_year"], strict=True)]
    show_table(clear, {"_label": "Pattern", "_change": "Change", "_strength": "How sure", "_q": "Adjusted p-value",
                       "_years": "Years", "_break": "Spans the 2018–19 series break"}, numbers=["_q"],
               caption="Patterns whose share of reviews changed over time",
               note=f"Method: {method}. Adjusted for testing {len(tests)} patterns at once (Benjamini–Hochberg).")
    return list(clear["code"])


def show_directions(ctx: ReportContext, table: pd.DataFrame, top_n: int) -> None:
    """Constructive and unsafe findings of each pattern, for the patterns most often found constructive."""
    from lt_workbench.present import figures as f

    constructive = table[table["direction"] == "constructive"]
    ranked = rank(constructive, top_n)
    keep = list(ranked["code"])
    part = table[table["code"].isin(keep)].copy()
    part["_order"] = part["code"].map({c: i for i, c in enumerate(keep)})
    part = part.sort_values(["_order", "direction"], kind="mergesort")
    f.show(f.grouped_shares(part, group="direction", group_labels={"constructive": "Constructive (supports good practice)",
                                                                     "unsafe": "Unsafe (makes poor practice more likely)"},
                            colours=f.DIRECTION_COLOURS, title="Patterns most often found working well", unit="reviews",
                            subtitle="Share of reviews finding the pattern as constructive, and as unsafe"))
    common.show_shares(ctx, ranked, title="", unit="reviews", what="Pattern found as constructive", with_codes=True, figure=False,
                       caption="Reviews that found each pattern working well (constructive)", anchor="t-constructive")
    ctx.note(text.works_well(ranked, "t-constructive", "what works well"))


def show_proposed(ctx: ReportContext) -> None:
    """Proposed sub-patterns: counts per parent pattern (public) or the proposals themselves (restricted)."""
    from lt_workbench.present.figures import show_table, show_text

    table = ctx.proposed()
    if table.empty:
        show_text("No reviewer in scope proposed a new sub-pattern.")
        return
    if ctx.public:
        table = table.copy()
        table["_label"] = [f"{c} {lab}" for c, lab in zip(table["code"], table["label"], strict=True)]
        show_table(table, {"_label": "Parent pattern", "count": "Reviews proposing a new sub-pattern", "percent": "Percentage of reviews"},
                   counts=["count"], percents=["percent"], caption="Where reviewers proposed new sub-patterns",
                   note=ctx.symbols("reviews") + " The proposals' wording is reviewers' own and appears only in the restricted version.")
        return
    table = table.copy()
    table["_parent"] = [f"{c} {lab}" for c, lab in zip(table["parent_code"], table["parent_label"], strict=True)]
    table["_years"] = [f"{a}–{b}" if a != b else f"{a}" for a, b in zip(table["first_year"], table["last_year"], strict=True)]
    show_table(table, {"_parent": "Parent pattern", "proposed_label": "Proposed sub-pattern (reviewers' words)", "reviews": "Reviews",
                       "_years": "Years"}, counts=["reviews"], caption="Proposed new sub-patterns, for curation",
               note=ctx.symbols("reviews"))


def agreement_table(ctx: ReportContext, frame: str = "patterns", level: int = 2) -> pd.DataFrame:
    """Coder agreement per code over the double-coded reviews (lt_workbench.analysis.agreement), as shown.

    Public mode hides a code's figures (c) when any count they rest on is from 1 to threshold-1
    (lt_workbench.analysis.agreement.suppress_agreement, the one place this rule lives).
    Empty when nothing is double-coded.
    """
    from lt_workbench.analysis import tabulate

    # The whole database's double-coded reviews: agreement describes the coding, not the report's scope.
    return tabulate.agreement(frame, level=level, db=ctx.db, disclosure=ctx.mode, profile=ctx.profile, threshold=ctx.threshold)


def _statistic(v: str | float) -> str:
    """Kappa or alpha as the report shows it: two decimals, `c` as is, 'not defined' for NaN or `z` (not applicable)."""
    if isinstance(v, str):
        return "not defined" if v == "z" else v
    return "not defined" if math.isnan(v) else f"{v:.2f}"


def show_agreement(ctx: ReportContext, frame: str = "patterns", level: int = 2,
                   heading: str = "10. Agreement between coders") -> None:
    """The coder-agreement section: shown only when some reviews were coded twice (a second coder's coding loaded)."""
    from lt_workbench.present import figures as f

    t = agreement_table(ctx, frame, level)
    if t.empty:
        return  # nothing double-coded: no section
    n = t.attrs.get("n_reviews", 0)
    f.show_text(f"## {heading}\n\n**{f.number(n)}** reviews were coded independently by a second coder. For each pattern, the two codings "
                "agree when both or neither found it in a review. Cohen's kappa and Krippendorff's alpha correct that "
                "agreement for chance: about 0.8 or more is strong, below 0.4 weak (neither is defined for a pattern both "
                "coders found in every review).")
    shown = t.assign(_label=[f"{c} {lab}" for c, lab in zip(t["code"], t["label"], strict=True)],
                     _obs=[v if isinstance(v, str) else f"{100 * float(v):.0f}%" for v in t["observed_agreement"]],
                     _kappa=[_statistic(v) for v in t["kappa"]], _alpha=[_statistic(v) for v in t["alpha"]])
    columns = {"_label": "Pattern", "_obs": "Agreement", "_kappa": "Cohen's kappa", "_alpha": "Krippendorff's alpha"}
    if not ctx.public:
        columns = {**columns, "primary": "First coder", "second": "Second coder", "both": "Both", "disagreements": "Disagreements"}
    text.anchor("t-agreement")
    f.show_table(shown, columns, counts=[c for c in ("primary", "second", "both", "disagreements") if c in columns],
                 numbers=["_obs", "_kappa", "_alpha"], caption="Agreement between two coders, patterns most disagreed on first",
                 note=ctx.symbols("reviews coded twice"))

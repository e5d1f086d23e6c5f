"""Generated words: the note on how to read a report, and the Key findings built from its tables.

Key findings are read off the same protected tables the report shows below them (never recomputed
here), cite only published numbers (a hidden count never leads a ranking), and carry the table they
come from and the (row, value) cells a reader or a test can check each sentence against.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from lt_workbench.reports.registry import PROFILE_NAMES

__all__ = ["how_to_read", "Finding", "pct", "top_shares", "widespread", "trends", "works_well", "status_overall", "most_overdue",
           "long_overdue", "unaddressed", "differences", "share_of", "show_findings", "anchor", "show_html"]


def how_to_read(mode: str, profile: str, threshold: int) -> str:
    """The plain-English note on counting units, intervals and suppression that ends every report."""
    from lt_workbench.analysis.disclosure import PROFILES

    prof = PROFILES[profile]
    rounding = []
    if prof.rounding:
        rounding.append(f"other counts are rounded to the nearest {prof.rounding}")
    if prof.total_rounding and prof.total_rounding != prof.rounding:
        rounding.append(f"totals added up over hidden cells (the Total column of a table by year or period) are rounded to "
                        f"the nearest {prof.total_rounding}, so they may differ a little from the sum of what is shown")
    if mode == "public":
        hiding = (
            f"**Small numbers are hidden.** These are counts about children who died or were seriously harmed, and a small "
            f"number next to a place, a year and an age can identify a child. Any count from 1 to {threshold - 1} is shown as "
            f"**c**, and so is any other number that would let it be worked out by subtraction from a total (secondary "
            f"suppression); percentages and intervals built on a hidden count are hidden too. "
            + (("Following the " + PROFILE_NAMES[profile] + " rules, " + " and ".join(rounding) + ". ") if rounding else "")
            + "**0** is a true zero. **z** means not applicable (nothing to divide by) and **:** not available. "
            "Free text from the reviews and the names of local areas never appear in this version."
        )
    else:
        hiding = (
            "**This is a restricted report.** Nothing is hidden: it contains small numbers about children and reviewers' own "
            "words, and must stay with people entitled to see them. Use the public version for anything shared more widely."
        )
    return "\n\n".join([
        "**What is counted.** Unless a table says otherwise, the unit is the **review**: a pattern counts once per review "
        "however many findings record it. The child and family profile counts **children** (one review can concern several "
        "siblings). Factors behind patterns are counted in **key practice episodes**, and recommendations as "
        "**recommendations**. Each table and chart names its unit.",
        "**Roll-up through the coding frames.** A review coded at a detailed level (for example P2.1.2 *Gaps in service "
        "provision*) also counts once for the broader levels above it (P2.1 *Resource–demand mismatch* and P2 *Patterns in "
        "human–management system operation*). A review can record several patterns, so percentages across patterns do not "
        "add up to 100%.",
        "**Not recorded is not absent.** Where a review did not record something (for example family factors), it is left "
        "out of that table's denominator rather than counted as 'no'.",
        "**Percentages and intervals.** Each percentage comes with a 95% interval (Wilson method): the range within which "
        "the true share plausibly lies, given how few reviews there are. Wide intervals mean few reviews; overlapping "
        "intervals mean a difference could be chance.",
        "**Trends and comparisons.** Changes over time are tested year by year (the test is named beside each result) and, "
        "because many patterns are tested at once, judged on adjusted values (Benjamini–Hochberg). Serious case reviews gave "
        "way to child safeguarding practice reviews in England in 2018–19: a change across that break may reflect the new "
        "system rather than practice. Counts of reviews are **not a performance measure**: how many reviews an area "
        "commissions depends on its size, thresholds and learning culture. Places are compared with funnel plots, never "
        "ranked.",
        hiding,
    ])


# --------------------------------------------------------------------------------------------
# Key findings: sentences generated from the report's own tables


@dataclass(frozen=True)
class Finding:
    """One key finding: a sentence, the table it is read from, and the cells a reader can check it against.

    table: the anchor id of the table (shown below, in `section`). cells: (row, value) pairs: the row
    whose first cell starts with `row` shows `value` in one of its cells, and the sentence says `value`.
    """

    text: str
    table: str
    section: str
    cells: tuple[tuple[str, str], ...] = ()


def _shown(value: Any) -> float | None:
    """A published number, or None when it is hidden (c), not applicable (z) or missing."""
    if isinstance(value, str) or value is None:
        return None
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) else None


def pct(value: Any) -> str:
    """A percentage as the tables print it (one decimal)."""
    from lt_workbench.present.figures import percent_text

    return str(percent_text(value))


def top_shares(table: pd.DataFrame, n: int = 3, value: str = "percent") -> list[dict[Any, Any]]:
    """The n rows with the largest shown `value` (hidden rows never lead), ties kept in table order."""
    rows = [r for r in table.to_dict("records") if _shown(r.get(value)) is not None and (_shown(r.get("count")) or 0) > 0]
    rows.sort(key=lambda r: -float(r[value]))
    return rows[:n]


def _names(rows: Sequence[Mapping[str, Any]], unit: str, denominator: bool = True) -> str:
    parts = []
    for i, r in enumerate(rows):
        tail = f" of the {_count(r['denominator'])} {unit}" if denominator and i == 0 and _shown(r.get("denominator")) else ""
        parts.append(f"**{r['code']} {r['label']}** ({pct(r['percent'])}{tail})")
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def _count(value: Any) -> str:
    from lt_workbench.present.figures import number

    return str(number(value))


def _p_text(q: float) -> str:
    return "below 0.001" if q < 0.001 else f"{q:.3f}"


def widespread(patterns: pd.DataFrame, table: str, section: str, *, unit: str = "reviews", what: str = "patterns") -> Finding | None:
    """'The patterns found in most reviews were A (x% of the N reviews), B (y%) and C (z%).'"""
    top = top_shares(patterns, 3)
    if not top:
        return None
    tie = len(top) > 1 and top[0]["count"] == top[1]["count"]
    lead = f"The {what} found in most {unit} were " if len(top) > 1 else f"The {what[:-1]} found in most {unit} was "
    text = lead + _names(top, unit) + "." + (" The first two are tied on the published counts." if tie else "")
    return Finding(text, table, section, tuple((str(r["code"]), pct(r["percent"])) for r in top))


def trends(tests: pd.DataFrame, table: str, section: str, *, alpha: float = 0.05, what: str = "pattern") -> Finding:
    """What rose or fell with a significant (BH-adjusted) trend test, or that nothing did."""
    q = pd.to_numeric(tests["q_value"], errors="coerce") if len(tests) else pd.Series(dtype=float)
    clear = tests[(q < alpha) & tests["direction"].isin(["rising", "falling"])] if len(tests) else tests
    if clear.empty:
        return Finding(f"No {what}'s share of reviews clearly rose or fell over the years in scope, after allowing for "
                       f"testing {len(tests)} {what}s at once.", table, section)
    clear = clear.assign(_q=pd.to_numeric(clear["q_value"])).sort_values("_q", kind="mergesort").head(3)
    bits, cells = [], []
    for r in clear.to_dict("records"):
        verb = "rose" if r["direction"] == "rising" else "fell"
        bits.append(f"**{r['code']} {r['label']}** {verb} (adjusted p {_p_text(r['_q'])})")
        cells.append((str(r["code"]), _p_text(r["_q"])))
    more = len(tests[(q < alpha) & tests["direction"].isin(["rising", "falling"])]) - len(clear)
    text = "Over the years in scope, the share of reviews finding " + "; ".join(bits)
    text += f"; {more} more changed clearly (section table)." if more > 0 else "."
    return Finding(text, table, section, tuple(cells))


def works_well(constructive: pd.DataFrame, table: str, section: str) -> Finding | None:
    """The pattern most often found working well (constructive), with its share."""
    top = top_shares(constructive, 2)
    if not top:
        return None
    which = "the pattern most often found as constructive, supporting good practice, was " if len(top) == 1 else \
        "the patterns most often found as constructive, supporting good practice, were "
    text = "What works well: " + which + _names(top, "reviews") + "."
    return Finding(text, table, section, tuple((str(r["code"]), pct(r["percent"])) for r in top))


def status_overall(status: pd.DataFrame, total_label: str, as_of: str, table: str, section: str) -> Finding | None:
    """'Of the N recommendations in scope, x% were overdue at DATE (y% completed).' from a status table's 'All' row."""
    by = [c for c in status.columns if c not in ("code", "label", "count", "denominator", "percent", "ci_low", "ci_high", "suppressed")][0]
    rows = status[status[by].astype(str) == "All"].set_index("code")
    if rows.empty or _shown(rows.loc["overdue", "percent"]) is None or _shown(rows.loc["overdue", "denominator"]) is None:
        return None
    total, overdue = rows.loc["overdue", "denominator"], rows.loc["overdue", "percent"]
    text = f"Of the **{_count(total)}** recommendations in scope, **{pct(overdue)}** were overdue at {as_of}"
    cells = [(total_label, _count(total)), (total_label, pct(overdue))]
    if _shown(rows.loc["completed", "count"]) is not None:
        text += f"; {_count(rows.loc['completed', 'count'])} had been completed"
        cells.append((total_label, _count(rows.loc["completed", "count"])))
    return Finding(text + ".", table, section, tuple(cells))


def most_overdue(status: pd.DataFrame, by: str, labels: Mapping[str, str], table: str, section: str, what: str) -> Finding | None:
    """The kind, level or agency whose recommendations were most often overdue (published shares only)."""
    late = status[(status["code"] == "overdue") & (status[by].astype(str) != "All")]
    top = top_shares(late.assign(count=late["denominator"]), 1)
    if not top:
        return None
    r = top[0]
    name = labels.get(r[by], r[by])
    return Finding(f"By {what}, **{name}** recommendations were the most often overdue: **{pct(r['percent'])}** of "
                   f"{_count(r['denominator'])}.", table, section, ((str(name), pct(r["percent"])), (str(name), _count(r["denominator"]))))


def long_overdue(ages: pd.DataFrame, table: str, section: str) -> Finding | None:
    """How many overdue recommendations had been overdue longest (the last band with a published share)."""
    shown = [r for r in ages.to_dict("records") if _shown(r["percent"]) is not None]
    if not shown or _shown(shown[0]["denominator"]) is None:
        return None
    r = max(shown, key=lambda x: float(x["percent"]))
    return Finding(f"Of the {_count(r['denominator'])} overdue recommendations, the largest group, **{pct(r['percent'])}**, had been "
                   f"overdue for {str(r['label']).lower()}.", table, section, ((str(r["label"]), pct(r["percent"])),))


def unaddressed(table_rows: pd.DataFrame, table: str, section: str) -> Finding | None:
    """The unsafe patterns most often left without a recommendation that addresses them."""
    top = top_shares(table_rows, 2)
    if not top:
        return None
    names = " and ".join(f"**{r['code']} {r['label']}** ({pct(r['percent'])} of the {_count(r['denominator'])} reviews finding it)"
                         for r in top)
    return Finding(f"Found as unsafe but most often left without a recommendation that addresses it: {names}.", table, section,
                   tuple((str(r["code"]), pct(r["percent"])) for r in top))


def differences(comparison: pd.DataFrame, who: str, rest: str, table: str, section: str, what: str, *,
                alpha: float = 0.05) -> Finding:
    """Codes found clearly more or less often in the place than in the rest (adjusted p below alpha), or none."""
    q = pd.to_numeric(comparison["q_value"], errors="coerce")
    clear = comparison[(q < alpha) & ~comparison["suppressed"].astype(bool)]
    if clear.empty:
        return Finding(f"No {what} was found clearly more or less often in {who} than in {rest}, after allowing for comparing "
                       f"{len(comparison)} {what}s at once.", table, section)
    clear = clear.assign(_q=pd.to_numeric(clear["q_value"])).sort_values("_q", kind="mergesort").head(3)
    bits, cells = [], []
    for r in clear.to_dict("records"):
        more = float(r["odds_ratio"]) > 1
        bits.append(f"**{r['code']} {r['label']}** {'more' if more else 'less'} often ({pct(r['percent_group'])} against "
                    f"{pct(r['percent_rest'])})")
        cells += [(str(r["code"]), pct(r["percent_group"])), (str(r["code"]), pct(r["percent_rest"]))]
    return Finding(f"Compared with {rest}, reviews in {who} found " + "; ".join(bits) + " (adjusted p below 0.05).",
                   table, section, tuple(cells))


def share_of(row: Any, sentence: str, table: str, section: str, key: str | None = None) -> Finding | None:
    """A sentence about one published share: `sentence` is formatted with code, label, pct, count, denominator."""
    if _shown(row.get("percent")) is None or _shown(row.get("count")) is None:
        return None
    values = {"code": row["code"], "label": row["label"], "pct": pct(row["percent"]), "count": _count(row["count"]),
              "denominator": _count(row["denominator"])}
    return Finding(sentence.format(**values), table, section, ((key or str(row["code"]), values["pct"]),))


def show_findings(findings: Sequence[Finding | None]) -> tuple[list[Finding], str]:
    """The Key findings box (at most six sentences, each linked to its table) as HTML; and the findings shown."""
    shown = [f for f in findings if f is not None][:6]
    items = []
    for f in shown:
        body = _markdown_bold(f.text)
        cells = html.escape(json.dumps([list(c) for c in f.cells], ensure_ascii=False))
        items.append(f'<li data-table="{html.escape(f.table)}" data-cells="{cells}">{body} '
                     f'<a class="lt-ref" href="#{html.escape(f.table)}">(see {html.escape(f.section)})</a></li>')
    note = ("Generated from the tables of this report, as published (hidden numbers are never used); each finding links "
            "to the table it is read from.")
    page = (f'<div class="lt-findings" id="key-findings"><h2>Key findings</h2><ul>{"".join(items)}</ul>'
            f'<p class="lt-note">{html.escape(note)}</p></div>')
    return shown, page


def _markdown_bold(text: str) -> str:
    parts = html.escape(text).split("**")
    return "".join(f"<b>{p}</b>" if i % 2 else p for i, p in enumerate(parts))


def anchor(table: str) -> None:
    """Mark the place of a table that a key finding links to."""
    show_html(f'<div id="{html.escape(table)}" class="lt-anchor"></div>')


def show_html(markup: str, *, display_id: str | None = None, update: bool = False) -> None:
    """Display HTML in the notebook (update=True replaces the output shown earlier under display_id)."""
    from IPython.display import HTML, display, update_display

    if update:
        update_display(HTML(markup), display_id=display_id)  # type: ignore[no-untyped-call]
    elif display_id is not None:
        display(HTML(markup), display_id=display_id)  # type: ignore[no-untyped-call]
    else:
        display(HTML(markup))  # type: ignore[no-untyped-call]

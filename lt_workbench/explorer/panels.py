"""The explorer's HTML panels: the table under the figures and the evidence behind a clicked number.

Why a module of its own: these are pure functions from a table the analysis API returned (and the
filters it was asked with) to HTML; they count nothing and query nothing, so they can be tested
and reused without a widget.
"""

from __future__ import annotations

import html
import math
import re
from typing import Any

import numpy as np
import pandas as pd

from lt_workbench.analysis import tabulate as tab
from lt_workbench.explorer.views import EvidenceTarget, Snapshot
from lt_workbench.model.frames import labels as frame_labels
from lt_workbench.present.fmt import display as _fmt
from lt_workbench.present.fmt import nan_number
from lt_workbench.present.fmt import significant as _sig

__all__ = ["STYLE", "TABLE_VIEWS", "table_panel", "evidence_panel", "code_label", "status", "empty_status", "factor_words", "busy", "refused", "error"]

STYLE = """
<style>
.ltw-root { font-size: 13px; }
.ltw-root h3 { margin: 4px 0 2px 0; }
.ltw-status { padding: 6px 10px; border-radius: 4px; background: #f3f6fa; border-left: 4px solid #4f7cac; margin: 4px 0; }
.ltw-status.ltw-empty { background: #fdf2e9; border-left-color: #d35400; }
.ltw-status.ltw-error { background: #fdecea; border-left-color: #c0392b; }
.ltw-status.ltw-busy { opacity: 0.55; }
/* Figures and evidence side by side when there is room; on a laptop (narrow notebook, file browser open)
   the evidence wraps below the figures, full width, and never covers a bar or a label. */
.ltw-root .ltw-main { flex-wrap: wrap !important; gap: 8px 0; }
.ltw-root .ltw-figures { flex: 3 1 620px !important; min-width: 0; max-width: 100%; }
.ltw-evidence { flex: 2 1 320px !important; position: sticky; top: 0; align-self: flex-start; max-height: min(92vh, 1100px);
                overflow-y: auto; border-left: 1px solid #dde3ea; padding-left: 12px; box-sizing: border-box; }
.ltw-root .ltw-filters .widget-gridbox { grid-template-columns: repeat(auto-fill, minmax(230px, 1fr)) !important; }
.ltw-root .ltw-filters .widget-dropdown, .ltw-root .ltw-filters .widget-hslider,
.ltw-root .ltw-filters .widget-toggle-buttons { min-width: 0 !important; max-width: 100%; }
/* Sticky needs every box between the panel and the notebook's scroller to let it overflow. */
.jp-OutputArea-output:has(> .ltw-root), .jp-OutputArea-child:has(.ltw-root),
.jp-OutputArea:has(.ltw-root) { overflow: visible !important; }
.ltw-root, .ltw-root .ltw-main { overflow: visible !important; }
.ltw-root .ltw-years { grid-column: span 2; }
.ltw-root .widget-hslider .widget-readout { min-width: 96px; overflow: visible; }
.ltw-table { border-collapse: collapse; width: 100%; font-size: 12px; }
.ltw-table th { text-align: left; background: #eef2f7; padding: 3px 6px; position: sticky; top: 0; }
.ltw-table td { padding: 2px 6px; border-top: 1px solid #eef0f3; vertical-align: top; }
.ltw-table td.n { text-align: right; font-variant-numeric: tabular-nums; }
.ltw-table tr.ltw-hidden td { color: #888; }
.ltw-note { color: #555; font-size: 12px; margin: 2px 0 6px 0; }
.ltw-ev-review { margin: 8px 0 10px 0; padding-bottom: 6px; border-bottom: 1px solid #eee; }
.ltw-ev-finding { margin: 4px 0 2px 0; }
.ltw-ev-episode { margin: 2px 0 2px 14px; color: #333; }
.ltw-ev-factors { margin: 0 0 2px 14px; color: #666; font-size: 12px; }
.ltw-tag { display: inline-block; padding: 0 5px; border-radius: 3px; font-size: 11px; background: #eef2f7; margin-right: 4px; }
.ltw-tag.unsafe, .ltw-tag.problematic { background: #fdecea; }
.ltw-tag.constructive, .ltw-tag.good { background: #e8f6ee; }
.ltw-table-box { max-height: 420px; overflow: auto; }
</style>
"""



# The first view, shown by default, is the bar chart's own table: the same figures as the bars above it.
TABLE_VIEWS = {
    "frequency": "Counts (as the bars)",
    "recurrence": "Recurrence",
    "trend": "By year",
    "cooccurrence": "Co-occurrence",
    "evidence": "Evidence",
}


def code_label(frame: str, code: Any, version: str) -> str:
    """"Words <code>" as HTML: the frame's label, then the code in grey."""
    return (f"{html.escape(frame_labels(frame, version).get(str(code), str(code)))} "
            f"<span style='color:#888'>{html.escape(str(code))}</span>")


def table_panel(table: pd.DataFrame, view: str, s: Snapshot, version: str) -> tuple[str, str]:
    """(note HTML, table HTML) of the table view `view` ("recurrence", "frequency", "trend", "cooccurrence", "evidence")."""
    note = table.attrs.get("note", "")
    described = table.attrs.get("description", "")
    if view == "recurrence":
        recent = table.attrs.get("recent_window", "")
        before = table.attrs.get("before_window", "")
        cols = [("_label", s.frame.rstrip("s").capitalize()), ("reviews", "Reviews"), ("areas", "Areas"), ("regions", "Regions"),
                ("first_year", "First"), ("last_year", "Last"), ("percent", "% of reviews"),
                ("percent_recent", f"% {recent}"), ("percent_before", f"% {before}"),
                ("odds_ratio", "Odds ratio recent/before"), ("q_value", "q (BH)")]
        body = _html_table(table, cols, s, version)
        extra = (f"Unit: reviews. Sorted by how widespread (reviews, then areas). Recent = {recent}, before = {before}; "
                 f"{table.attrs.get('test', '')}.")
        if s.disclosure == "public":
            extra += (" Public mode protects each code's reviews as the total of recent + before, so that total is "
                      "rounded like a total and can differ from the Counts view and the bars, which show the same "
                      "count as a cell.")
    elif view == "frequency":
        cols = [("_label", s.frame.rstrip("s").capitalize()), ("count", tab.UNIT_LABELS[s.unit].capitalize()),
                ("denominator", "Out of"), ("percent", "%"), ("ci_low", "95% CI low"), ("ci_high", "95% CI high")]
        body = _html_table(table, cols, s, version)
        extra = described
    elif view == "trend":
        body = _html_pivot(table, s, version)
        extra = "Count per year (hover the heat map for percentages). " + " ".join(table.attrs.get("series_breaks", []))
    elif view == "cooccurrence":
        shown = table.assign(_n=pd.to_numeric(table["n_ab"], errors="coerce")).sort_values("_n", ascending=False, kind="mergesort")
        top = shown.head(60)
        lab_a = "Factor" if s.frame == "factors" else "Pattern"
        cols = [("_label_a", lab_a), ("_label_b", "Pattern"), ("n_ab", "Together"), ("n_a", "A"), ("n_b", "B"), ("n", "Units"),
                ("jaccard", "Jaccard"), ("lift", "Lift"), ("odds_ratio", "Odds ratio"), ("q_value", "q (BH)")]
        body = _html_table(top, cols, s, version)
        extra = (f"{len(table)} pairs; the {len(top)} seen together most often shown, all in the download. "
                 f"{table.attrs.get('test') or ''}")
    else:  # evidence
        cols = [("review_id", "Review"), ("year", "Year"), ("coded_as", "Coded as"), ("finding", "Finding"),
                ("episode_title", "Episode"), ("practice", "Practice"), ("judgement", "Judgement")]
        cols = [(c, h) for c, h in cols if c in table.columns]
        body = _html_table(table.head(200), cols, s, version)
        extra = f"{len(table)} rows (first 200 shown; all in the download)."
    return f"<div class='ltw-note'>{html.escape(extra)}<br><i>{html.escape(note)}</i></div>", body


def _html_table(table: pd.DataFrame, cols: list[tuple[str, str]], s: Snapshot, version: str) -> str:
    stats_cols = {"odds_ratio", "q_value", "jaccard", "lift", "p_value"}
    head = "".join(f"<th>{html.escape(h)}</th>" for _, h in cols)
    rows = []
    for rec in table.to_dict("records"):
        cells = []
        for col, _h in cols:
            if col == "_label":
                cells.append(f"<td>{code_label(s.frame, rec['code'], version)}</td>")
            elif col == "_label_a":
                cells.append(f"<td>{code_label(s.frame, rec['code_a'], version)}</td>")
            elif col == "_label_b":
                cells.append(f"<td>{code_label('patterns', rec['code_b'], version)}</td>")
            else:
                v = rec.get(col)
                text = _sig(v) if col in stats_cols else _fmt(v, 0 if col in ("year", "first_year", "last_year") else 1)
                if col in ("year", "first_year", "last_year") and isinstance(v, (int, float, np.integer, np.floating)) and not pd.isna(v):
                    text = str(int(v))
                numeric = isinstance(v, (int, float, np.integer, np.floating)) or v in ("c", "z", ":")
                cls = " class='n'" if numeric else ""
                cells.append(f"<td{cls}>{html.escape(text)}</td>")
        hidden = bool(rec.get("suppressed", False))
        rows.append(f"<tr{' class=ltw-hidden' if hidden else ''}>{''.join(cells)}</tr>")
    return f"<table class='ltw-table'><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"

def _html_pivot(table: pd.DataFrame, s: Snapshot, version: str) -> str:
    years = sorted(int(y) for y in table["year"].unique())
    cnt = table.pivot(index="code", columns="year", values="count").reindex(columns=years)
    order = list(dict.fromkeys(table["code"]))
    cnt = cnt.reindex(index=order)
    head = "<th>" + ("Pattern" if s.frame == "patterns" else "Factor") + "</th>" + "".join(f"<th>{y}</th>" for y in years)
    rows = []
    for code, row in cnt.iterrows():
        cells = "".join(f"<td class='n'>{html.escape(_fmt(v, 0))}</td>" for v in row.to_numpy(dtype=object))
        rows.append(f"<tr><td>{code_label(s.frame, code, version)}</td>{cells}</tr>")
    return f"<table class='ltw-table'><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def evidence_panel(table: pd.DataFrame, what: str, s: Snapshot, target: EvidenceTarget, version: str, limit: int = 25) -> str:
    """The evidence behind a clicked number as HTML: per review, the findings (or codings) and their episodes."""
    n_reviews = table["review_id"].nunique() if len(table) else 0
    # The number of the cell clicked, in its unit (reviews, episodes, areas), counted from these rows.
    units, unit = table.attrs.get("units"), str(table.attrs.get("unit", "review"))
    if units is None:
        units, unit = n_reviews, "review"
    unit_words = tab.UNIT_LABELS.get(unit, unit + "s")
    together = "in the same episode" if unit == "episode" else "in the same review"
    head = (f"<div class='ltw-note'><b>Restricted</b>: what reviewers wrote. Not for publication.</div>"
            f"<div>{what}: <b>{units}</b> {html.escape(unit_words if units != 1 else unit_words.rstrip('s'))}"
            f"{' (each with ' + html.escape(target.with_code) + ' ' + together + ')' if target.with_code else ''}"
            f"{f' in {n_reviews} reviews' if unit != 'review' else ''}"
            f" · {html.escape(s.description)}</div>")
    if not len(table):
        return head + "<div class='ltw-note'>No codings behind this cell.</div>"
    plabels = frame_labels(s.frame, version)
    parts = [head]
    for i, (rid, g) in enumerate(table.groupby("review_id", sort=False)):
        if i >= limit:
            parts.append(f"<div class='ltw-note'>… and {n_reviews - limit} more reviews: see the Evidence table below "
                         "(and download it).</div>")
            break
        first = g.iloc[0]
        area = first.get("area_code", "")
        region = frame_labels("region", version).get(str(first.get("region", "")), "")
        bits = [f"<div class='ltw-ev-review'><b>{html.escape(str(rid))}</b> · {int(first['year'])} · "
                f"{html.escape(str(region))} · {html.escape(str(area))}"]
        if s.frame == "patterns":
            for _, f in g.groupby("finding_no", sort=False):
                r0 = f.iloc[0]
                coded = str(r0["coded_as"])
                direction = str(r0.get("direction") or "")
                bits.append(
                    f"<div class='ltw-ev-finding'><span class='ltw-tag {html.escape(direction)}'>{html.escape(direction)}</span>"
                    f"<i>{html.escape(plabels.get(coded, coded))}</i> ({html.escape(coded)}): {html.escape(str(r0['finding']))}</div>")
                for _, e in f.iterrows():
                    bits.append(_episode_html(e, version))
        else:
            for _, e in g.iterrows():
                coded = str(e["coded_as"])
                infl = str(e.get("influence") or "")
                note = e.get("note")
                bits.append(f"<div class='ltw-ev-finding'><span class='ltw-tag'>{html.escape(infl)}</span>"
                            f"<i>{html.escape(plabels.get(coded, coded))}</i> ({html.escape(coded)})"
                            f"{': ' + html.escape(str(note)) if isinstance(note, str) and note else ''}</div>")
                bits.append(_episode_html(e, version, factors=False))
        bits.append("</div>")
        parts.append("".join(bits))
    return "".join(parts)

_FACTOR_AT = re.compile(r"(^|; )([A-Z]{2}(?:\.[A-Z]+)?(?:\.\d+)?) \(")


def factor_words(text: str, version: str) -> str:
    """An episode's factor list ("FL.WORK.03 (hindering): note; ...") as HTML with each factor's label beside its code."""
    labels = frame_labels("factors", version)
    out, last = [], 0
    for m in _FACTOR_AT.finditer(text):
        code = m.group(2)
        out.append(html.escape(text[last:m.start(2)]))
        label = labels.get(code)
        out.append(f"<i>{html.escape(label)}</i> {html.escape(code)}" if label else html.escape(code))
        last = m.end(2)
    out.append(html.escape(text[last:]))
    return "".join(out)


def _episode_html(e: pd.Series, version: str, factors: bool = True) -> str:
    if pd.isna(e.get("episode_id")):
        return ""
    practice = str(e.get("practice") or "")
    out = (f"<div class='ltw-ev-episode'>Episode {html.escape(str(e.get('episode_no', '')))}: "
           f"<b>{html.escape(str(e.get('episode_title') or ''))}</b> "
           f"<span class='ltw-tag {html.escape(practice)}'>{html.escape(practice)} practice</span><br>"
           f"{html.escape(str(e.get('episode_description') or ''))} "
           f"<i>{html.escape(str(e.get('judgement') or ''))}</i></div>")
    fac = e.get("episode_factors")
    if factors and isinstance(fac, str) and fac:
        out += f"<div class='ltw-ev-factors'>Factors: {factor_words(fac, version)}</div>"
    return out



def status(s: Snapshot, in_scope: Any, threshold: Any) -> tuple[str, str]:
    """(plain message, status HTML): units in scope as shown, the filters in words, the disclosure mode."""
    unit = tab.UNIT_LABELS[s.unit]
    n = nan_number(in_scope)
    if math.isnan(n):
        reviews = f"fewer than {threshold} {unit}" if threshold else f"{in_scope} {unit}"
    else:
        reviews = f"{int(n):,} {unit if n != 1 else unit.rstrip('s')}"
    if s.disclosure == "public":
        mode = (f"<b>Public</b>: counts below {threshold} shown as <i>c</i> (and others where needed so they cannot be "
                "worked out); evidence hidden.")
    else:
        mode = ("<b>Restricted</b>: full numbers and what reviewers wrote; not for publication — keep inside the "
                "secure environment.")
    message = f"{reviews} in scope · {s.description} · counting {unit}"
    return message, (f"<div class='ltw-status'><b>{html.escape(reviews)}</b> in scope · {html.escape(s.description)}"
                     f" · counting <b>{html.escape(unit)}</b><br>{mode}</div>")


def empty_status(s: Snapshot, note: str) -> tuple[str, str]:
    """(plain message, status HTML) when the filters leave nothing to count, with what to do about it."""
    message = f"{note} ({s.description}). Widen the years, or set a filter back to 'Any'."
    return message, (f"<div class='ltw-status ltw-empty'><b>{html.escape(note)}</b> ({html.escape(s.description)}). "
                     "Widen the years, or set a filter back to <i>Any</i>.</div>")


def busy(status_html: str) -> str:
    """The status line greyed while a refresh waits for its pause (or "Updating…" when there is none yet)."""
    if "ltw-busy" in status_html:
        return status_html
    if status_html:
        return status_html.replace("<div class='ltw-status'", "<div class='ltw-status ltw-busy'", 1)
    return "<div class='ltw-status ltw-busy'>Updating…</div>"


def refused(why: str, hint: str) -> tuple[str, str]:
    """(plain message, status HTML) when disclosure control refuses a public view (`why`: its message)."""
    return (f"Not shown in public mode: {why}",
            f"<div class='ltw-status ltw-error'><b>Not shown in public mode</b>: {html.escape(why)}<br>{html.escape(hint)}</div>")


def error(why: str) -> tuple[str, str]:
    """(plain message, status HTML) when a refresh failed."""
    return f"Could not update: {why}", f"<div class='ltw-status ltw-error'><b>Could not update</b>: {html.escape(why)}</div>"

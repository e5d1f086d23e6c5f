"""Inside a report notebook: the checked parameters, the scope and the disclosure settings.

Every report notebook starts with `ctx = setup("name", globals())`. The `ReportContext` it returns
passes the scope and the disclosure settings into every tabulation, so a notebook cannot forget to
protect a table, and it writes the words around the numbers (scope, data snapshot, how to read).
Running the notebooks headlessly is lt_workbench.reports' job; this module is what runs inside the
kernel.
"""

from __future__ import annotations

import datetime as dt
import html
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from lt_workbench import config
from lt_workbench.exceptions import ReportError
# Shared with the runner: the registry, the parameter checks and the words for a scope.
from lt_workbench.reports.runner import (
    COMMON_PARAMETERS, PROFILE_NAMES, ReportSpec, _scope_sql, _scope_words, _spec, _vocabulary, validate_parameters,
)

__all__ = ["ReportContext", "setup", "how_to_read", "rank"]



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


@dataclass
class ReportContext:
    """Everything a report notebook needs: checked parameters, scope, disclosure settings, data snapshot.

    Tabulation methods pass the scope and disclosure settings through, so a notebook cannot forget to
    protect a table; `protect()` does the same for tables a notebook builds itself.
    """

    name: str
    params: dict[str, Any]
    snapshot: dict[str, Any]
    version: str = config.DEFAULT_TAXONOMY_VERSION

    # -- settings
    @property
    def spec(self) -> ReportSpec:
        return _spec(self.name)

    @property
    def db(self) -> str:
        return self.params["db"]

    @property
    def mode(self) -> str:
        return self.params["disclosure"]

    @property
    def public(self) -> bool:
        return self.mode == "public"

    @property
    def profile(self) -> str:
        return self.params["profile"]

    @property
    def threshold(self) -> int:
        from lt_workbench.analysis.disclosure import PROFILES

        return self.params["min_cell"] if self.params["min_cell"] is not None else PROFILES[self.profile].threshold

    @property
    def where(self) -> dict[str, Any]:
        """The scope as a tabulation filter."""
        p = self.params
        w: dict[str, Any] = {}
        for key in ("nation", "region", "area"):
            if p[key] is not None:
                w[key] = p[key]
        if p["year_from"] is not None or p["year_to"] is not None:
            lo = p["year_from"] if p["year_from"] is not None else 1900
            hi = p["year_to"] if p["year_to"] is not None else 2100
            w["year"] = f"{lo}..{hi}"
        if p["review_types"]:
            w["review_type"] = list(p["review_types"])
        return w

    def labels(self, frame: str) -> dict[str, str]:
        return _vocabulary(frame, self.version)

    def label(self, frame: str, code: str) -> str:
        return self.labels(frame).get(code, code)

    def _kw(self, kwargs: dict[str, Any], *, where: bool = True) -> dict[str, Any]:
        out = {"db": self.db, "disclosure": self.mode, "profile": self.profile, "threshold": self.threshold}
        if where:
            out["where"] = {**self.where, **dict(kwargs.pop("where", None) or {})}
        out.update(kwargs)
        return out

    # -- tabulations (scope and disclosure passed through)
    def frequency(self, frame: str, **kwargs: Any) -> pd.DataFrame:
        from lt_workbench.analysis import tabulate

        return tabulate.frequency(frame, **self._kw(kwargs))

    def recurrence(self, frame: str = "patterns", **kwargs: Any) -> pd.DataFrame:
        from lt_workbench.analysis import tabulate

        return tabulate.recurrence(frame, **self._kw(kwargs))

    def trend(self, frame: str = "patterns", **kwargs: Any) -> pd.DataFrame:
        from lt_workbench.analysis import tabulate

        return tabulate.trend(frame, **self._kw(kwargs))

    def trend_tests(self, frame: str = "patterns", **kwargs: Any) -> pd.DataFrame:
        from lt_workbench.analysis import tabulate

        return tabulate.trend_tests(frame, **self._kw(kwargs))

    def compare(self, frame: str = "patterns", *, group: Mapping[str, Any], where: Mapping[str, Any], **kwargs: Any) -> pd.DataFrame:
        """group against the rest of `where` (which replaces the report's scope: the comparison needs the wider set)."""
        from lt_workbench.analysis import tabulate

        kw = self._kw(kwargs, where=False)
        return tabulate.compare(frame, group=group, where=dict(where), **kw)

    def funnel(self, frame: str = "patterns", *, code: str, by: str, where: Mapping[str, Any], **kwargs: Any) -> pd.DataFrame:
        from lt_workbench.analysis import tabulate

        kw = self._kw(kwargs, where=False)
        return tabulate.funnel(frame, code=code, by=by, where=dict(where), **kw)  # type: ignore[arg-type]

    def cooccurrence(self, kind: str = "patterns", **kwargs: Any) -> pd.DataFrame:
        from lt_workbench.analysis import tabulate

        return tabulate.cooccurrence(kind, **self._kw(kwargs))  # type: ignore[arg-type]

    def unaddressed(self, **kwargs: Any) -> pd.DataFrame:
        from lt_workbench.analysis import tabulate

        return tabulate.unaddressed_patterns(**self._kw(kwargs))

    def protect(self, table: pd.DataFrame, **kwargs: Any) -> pd.DataFrame:
        """Disclosure control for a table built in the report (code, label, dims, count, denominator, ...)."""
        from lt_workbench.analysis import disclosure

        prot = disclosure.protect(table, mode=self.mode, profile=self.profile, threshold=self.threshold, **kwargs)
        out = prot.table
        out.attrs.update({"disclosure": prot.mode, "note": prot.note, "profile": prot.profile, "threshold": prot.threshold})
        return out

    # -- restricted material
    def require_restricted(self, what: str) -> bool:
        """True in restricted mode; in public mode say, in words, that `what` is left out."""
        if not self.public:
            return True
        from lt_workbench.present.figures import show_text

        show_text(f"*{what} appear only in the restricted version of this report: they quote reviewers' own words.*")
        return False

    def evidence(self, code: str, **kwargs: Any) -> pd.DataFrame:
        """What reviewers wrote behind a code (restricted only; raises in public mode)."""
        from lt_workbench.analysis import tabulate

        return tabulate.evidence(code, where={**self.where, **dict(kwargs.pop("where", None) or {})}, db=self.db,
                                 disclosure=self.mode, **kwargs)  # type: ignore[arg-type]

    def proposed(self) -> pd.DataFrame:
        """Proposed sub-patterns: restricted lists the wording; public counts reviews proposing one, per parent pattern."""
        from lt_workbench.analysis import tabulate

        raw = tabulate.proposed_patterns(where=self.where, db=self.db, disclosure="restricted")
        if not self.public:
            return raw
        reviews = self.scope_counts()["in_scope_true"]
        per_parent: dict[str, set[str]] = {}
        for code, ids in zip(raw["parent_code"], raw["review_ids"]):
            per_parent.setdefault(code, set()).update(list(ids))
        labels = self.labels("patterns")
        table = pd.DataFrame({
            "code": list(per_parent), "label": [labels.get(c, c) for c in per_parent],
            "count": [len(v) for v in per_parent.values()], "denominator": reviews,
        })
        if table.empty:
            table = pd.DataFrame({"code": [], "label": [], "count": [], "denominator": []})
        return self.protect(_rates(table))

    # -- scope
    def scope_counts(self) -> dict[str, Any]:
        """Reviews in the database and in scope; the protected pair for display and the true in-scope count for internal use."""
        from lt_workbench.model.db import connect

        con = connect(self.db, read_only=True)
        try:
            total = con.execute("SELECT count(*) FROM reviews").fetchall()[0][0]
            cond, args = _scope_sql(self.params, prefix="")
            inside = con.execute(f"SELECT count(*) FROM reviews WHERE {cond}", args).fetchall()[0][0]
        finally:
            con.close()
        table = pd.DataFrame({"code": ["in_scope", "out_of_scope"], "label": ["In scope", "Outside the scope"],
                              "count": [inside, total - inside], "denominator": [total, total]})
        shown = self.protect(_rates(table), partition=True)
        return {"table": shown, "in_scope": shown.loc[0, "count"], "out_of_scope": shown.loc[1, "count"],
                "total": shown.loc[0, "denominator"], "in_scope_true": inside}

    def area_name(self) -> str | None:
        """The name of the area in scope (restricted reports only: public reports never name areas)."""
        if self.params["area"] is None or self.public:
            return None
        from lt_workbench.model.db import connect

        con = connect(self.db, read_only=True)
        try:
            rows = con.execute("SELECT any_value(area_name) FROM reviews WHERE area_code = ?", [self.params["area"]]).fetchall()
        finally:
            con.close()
        return rows[0][0] if rows else None

    def scope_words(self) -> str:
        return _scope_words(self.params, self.area_name())

    # -- words on the page
    def header(self) -> None:
        """The first screen: scope, data snapshot, taxonomy, package version and disclosure mode."""
        from IPython.display import HTML, display

        from lt_workbench import __version__
        from lt_workbench.analysis.disclosure import RESTRICTED_NOTE
        from lt_workbench.present.figures import init_notebook

        init_notebook()
        snap = self.snapshot
        if self.public:
            mode = '<span class="lt-mode public">PUBLIC</span>'
            mode_text = (f"Safe to share: counts from 1 to {self.threshold - 1}, and any number that would reveal one, are shown as "
                         f"<b>c</b> ({PROFILE_NAMES[self.profile]} rules); no free text from reviews and no local area names. "
                         "See <i>How to read this report</i> at the end.")
            banner = ""
        else:
            mode = '<span class="lt-mode restricted">RESTRICTED</span>'
            mode_text = ("Full numbers and reviewers' own words. Not for publication. "
                         "See <i>How to read this report</i> at the end.")
            banner = f'<div class="lt-banner">{html.escape(RESTRICTED_NOTE)}</div>'
        rows = [
            ("Scope", self.scope_words()),
            ("Data snapshot", f"{snap['reviews']:,} reviews ({snap['children']:,} children) loaded, completed {snap['years']}; "
                              f"last load {snap['last_load']}; content hash {snap['content_hash']}"),
            ("Database", Path(self.db).name),
            ("Coding frames", f"taxonomy {snap['taxonomy_versions']} (SCIE Learning together: patterns typology, contributory "
                              "factors framework, practice points)"),
            ("Produced by", f"lt-workbench {__version__}, report “{self.name}”"),
            ("Disclosure", f"{mode} {mode_text}"),
        ]
        extra = {p.name: self.params[p.name] for p in self.spec.params
                 if p.name not in {c.name for c in COMMON_PARAMETERS} and self.params[p.name] is not None}
        if extra:
            rows.insert(1, ("Report settings", ", ".join(f"{k} = {v if not isinstance(v, list) else ', '.join(v)}" for k, v in extra.items())))
        dl = "".join(f"<dt>{html.escape(k)}</dt><dd>{v if k == 'Disclosure' else html.escape(str(v))}</dd>" for k, v in rows)
        display(HTML(f'{banner}<div class="lt-header"><h2>About this report</h2><dl>{dl}</dl></div>'))

    def symbols(self, unit: str) -> str:
        """The one-line note under a table: unit and what the symbols mean."""
        if self.public:
            return (f"Unit: {unit}. c = hidden to protect children (a count from 1 to {self.threshold - 1}, or one that would "
                    "reveal it); 0 is a true zero; z = not applicable.")
        return f"Unit: {unit}. Restricted: full numbers, not for publication."

    def how_to_read(self) -> None:
        from lt_workbench.present.figures import show_text

        show_text(how_to_read(self.mode, self.profile, self.threshold))

    # -- building blocks the notebooks share
    def frame_codes(self, frame: str, level: int | None = None) -> pd.DataFrame:
        """code, label, parent, depth of a frame in its own order (for complete axes: zeros are shown too)."""
        from lt_workbench.model.frames import taxonomy_frame

        t = taxonomy_frame(self.version)
        t = t[t["frame"] == frame]
        if level is not None:
            t = t[t["depth"] == level]
        return t[["code", "label", "parent", "depth", "description"]].reset_index(drop=True)

    def periods(self, width: int) -> list[int]:
        """Start years of `width`-year periods covering the data (on the grid from 2008), the last one open-ended,
        so period labels never run past the data ("2023 onwards", not "2023-2027")."""
        years = str(self.snapshot.get("years", ""))
        m = re.match(r"(\d{4})\D+(\d{4})", years)
        lo, hi = (int(m.group(1)), int(m.group(2))) if m else (2008, dt.date.today().year)
        if self.params["year_from"] is not None:
            lo = max(lo, self.params["year_from"])
        if self.params["year_to"] is not None:
            hi = min(hi, self.params["year_to"])
        first = 2008 + ((lo - 2008) // width) * width
        starts = list(range(first, hi + 1, width))
        return starts or [lo]

    def by_time(self, frame: str, *, unit: str = "review", max_hidden: float = 0.25, **kwargs: Any) -> tuple[pd.DataFrame, str]:
        """A frame by year with totals, or by three-year period when more than `max_hidden` of the years' totals
        would be hidden (small scopes): returns (table, "year" or "period")."""
        table = self.frequency(frame, by=("year",), unit=unit, totals=True, **kwargs)
        _, dens = self.per_value(table, "year")
        hidden = sum(1 for d in dens if isinstance(d, str)) / max(1, len(dens))
        if not self.public or hidden <= max_hidden:
            return table, "year"
        return self.frequency(frame, by=("period",), unit=unit, totals=True, periods=self.periods(3), **kwargs), "period"

    @staticmethod
    def time_title(dim: str) -> str:
        return "Year the review was completed" if dim == "year" else "Years the reviews were completed (three-year periods)"

    def series_breaks(self) -> list[tuple[int, int, str]]:
        """(first year, last year, short label) of each series break, for shading charts."""
        from lt_workbench.analysis.tabulate import SERIES_BREAKS

        return [(b["from_year"], b["to_year"], "SCR → CSPR") for b in SERIES_BREAKS]

    def series_break_text(self) -> str:
        """The series breaks in words (from lt_workbench.analysis.tabulate.SERIES_BREAKS)."""
        from lt_workbench.analysis.tabulate import SERIES_BREAKS

        return "**Series break.** " + " ".join(b["note"] for b in SERIES_BREAKS)

    def scope_sentence(self, scope: Mapping[str, Any]) -> str:
        """'This report covers N of the M reviews in the database ...' from the protected scope counts."""
        from lt_workbench.present.figures import number

        return (f"This report covers **{number(scope['in_scope'])}** of the {number(scope['total'])} reviews in the database "
                f"({self.scope_words()}); {number(scope['out_of_scope'])} fall outside this scope.")

    def per_value(self, table: pd.DataFrame, dim: str) -> tuple[list[Any], list[Any]]:
        """(values of `dim`, units in each) from a frequency table's denominators, leaving out 'All'."""
        rows = table[table[dim].astype(str) != "All"].drop_duplicates(subset=[dim])
        return list(rows[dim]), list(rows["denominator"])

    def show_wide(self, table: pd.DataFrame, dim: str, *, row_title: str, unit: str, caption: str | None = None,
                  total_row: str | None = None, value_labels: Mapping[Any, str] | None = None) -> None:
        """A protected frequency table by one dimension as a grid: codes down, `dim` across, counts in cells.

        total_row: add a row of the denominators (the units in each column) under this label.
        """
        from lt_workbench.present.figures import show_table

        values = list(dict.fromkeys(table[dim]))
        values = [v for v in values if str(v) != "All"] + [v for v in values if str(v) == "All"]
        names = {v: ("Total" if str(v) == "All" else (value_labels or {}).get(v, str(v))) for v in values}
        grid = []
        for code in dict.fromkeys(table["code"]):
            part = table[table["code"] == code].set_index(table[table["code"] == code][dim].astype(str))
            row = {"_label": part["label"].iloc[0]}
            row.update({f"_{i}": part.loc[str(v), "count"] if str(v) in part.index else ":" for i, v in enumerate(values)})
            grid.append(row)
        totals = [False] * len(grid)
        if total_row:
            first = table.drop_duplicates(subset=[dim]).set_index(table.drop_duplicates(subset=[dim])[dim].astype(str))
            row = {"_label": total_row}
            row.update({f"_{i}": first.loc[str(v), "denominator"] for i, v in enumerate(values)})
            grid.append(row)
            totals.append(True)
        frame = pd.DataFrame(grid)
        columns = {"_label": row_title, **{f"_{i}": str(names[v]) for i, v in enumerate(values)}}
        show_table(frame, columns, counts=[f"_{i}" for i in range(len(values))], caption=caption, note=self.symbols(unit),
                   total_rows=totals, css_class="lt-table lt-wide")

    def show_shares(self, table: pd.DataFrame, *, title: str, unit: str, what: str, subtitle: str | None = None,
                    colour: str | None = None, with_codes: bool = False, figure: bool = True, caption: str | None = None) -> None:
        """The usual pair: a bar chart of percentages with intervals, and the table of the same numbers."""
        from lt_workbench.present import figures as f

        if figure:
            f.show(f.bar_shares(table, title=title, unit=unit, subtitle=subtitle, colour=colour or f.PALETTE[0], with_codes=with_codes))
        shown = table.copy()
        shown["_label"] = [f"{c} {lab}" if with_codes else lab for c, lab in zip(shown["code"], shown["label"])]
        shown["_ci"] = [f.interval_text(lo, hi) for lo, hi in zip(shown["ci_low"], shown["ci_high"])]
        f.show_table(shown, {"_label": what, "count": unit.capitalize(), "denominator": "Out of", "percent": "Percentage",
                             "_ci": "95% interval"}, counts=["count", "denominator"], percents=["percent"], numbers=["_ci"],
                     caption=caption, note=self.symbols(unit))

    def show_top_patterns(self, patterns: pd.DataFrame, spread: pd.DataFrame, top_n: int) -> None:
        """The most recurrent patterns: a chart of shares with intervals, and one table adding how widespread
        (areas, regions, years) and how current (recent share against earlier) each is."""
        from lt_workbench.present import figures as f

        top = rank(patterns, top_n)
        f.show(f.bar_shares(top, title=f"The {len(top)} patterns found in most reviews", unit="reviews", with_codes=True,
                            colour=f.PALETTE[1]))
        rec = spread.set_index("code").reindex(list(top["code"]))
        frame = pd.DataFrame({
            "_label": [f"{c} {lab}" for c, lab in zip(top["code"], top["label"])],
            "count": list(top["count"]),
            "_pct": [f"{f.percent_text(p)} ({f.interval_text(lo, hi)})" if not f.is_hidden(p) else str(p)
                     for p, lo, hi in zip(top["percent"], top["ci_low"], top["ci_high"])],
            "areas": list(rec["areas"]), "regions": list(rec["regions"]),
            "_years": [f"{a}–{b}" if not (isinstance(a, str) or pd.isna(a)) else str(a) for a, b in zip(rec["first_year"], rec["last_year"])],
            "percent_recent": list(rec["percent_recent"]), "percent_before": list(rec["percent_before"]),
        })
        recent = spread.attrs.get("recent_window", "recent years").replace("-", "–")
        before = spread.attrs.get("before_window", "earlier").replace("-", "–")
        denominator = f.number(top["denominator"].iloc[0]) if len(top) else "0"
        f.show_table(frame, {"_label": "Pattern", "count": "Reviews", "_pct": "Percentage (95% interval)", "areas": "Areas",
                             "regions": "Regions", "_years": "Found from–to", "percent_recent": f"Share {recent}",
                             "percent_before": f"Share {before}"},
                     counts=["count"], numbers=["_pct", "areas", "regions"], percents=["percent_recent", "percent_before"],
                     caption=f"The most recurrent patterns, out of {denominator} reviews: how widespread and how current",
                     note=self.symbols("reviews") + " Areas and regions count the different places whose reviews found the "
                          "pattern (places, not reviews).")

    def show_trends(self, tests: pd.DataFrame, alpha: float = 0.05) -> list[str]:
        """Patterns whose share clearly rose or fell (BH-adjusted p below alpha), in words; returns their codes."""
        from lt_workbench.present.figures import show_table, show_text

        if tests.empty:
            show_text("*Too few years in scope to test for trends.*")
            return []
        q = pd.to_numeric(tests["q_value"], errors="coerce")
        clear = tests[(q < alpha) & tests["direction"].isin(["rising", "falling"])].copy()
        method = tests.attrs.get("method", "")
        if clear.empty:
            show_text(f"No pattern's share of reviews rose or fell clearly over the years in scope, after allowing for "
                      f"testing {len(tests)} patterns at once. *Method: {method}.*")
            return []
        clear["_label"] = [f"{c} {lab}" for c, lab in zip(clear["code"], clear["label"])]
        clear["_change"] = clear["direction"].map({"rising": "Rising", "falling": "Falling"})
        clear["_strength"] = ["very strong evidence" if v < 0.001 else "strong evidence" if v < 0.01 else "evidence"
                              for v in pd.to_numeric(clear["q_value"])]
        clear["_q"] = ["below 0.001" if v < 0.001 else f"{v:.3f}" for v in pd.to_numeric(clear["q_value"])]
        clear["_break"] = ["yes: read with care" if b else "no" for b in clear["spans_series_break"]]
        clear["_years"] = [f"{a}–{b}" for a, b in zip(clear["first_year"], clear["last_year"])]
        show_table(clear, {"_label": "Pattern", "_change": "Change", "_strength": "How sure", "_q": "Adjusted p-value",
                           "_years": "Years", "_break": "Spans the 2018–19 series break"}, numbers=["_q"],
                   caption="Patterns whose share of reviews changed over time",
                   note=f"Method: {method}. Adjusted for testing {len(tests)} patterns at once (Benjamini–Hochberg).")
        return list(clear["code"])

    def show_directions(self, table: pd.DataFrame, top_n: int) -> None:
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
        self.show_shares(ranked, title="", unit="reviews", what="Pattern found as constructive", with_codes=True, figure=False,
                         caption="Reviews that found each pattern working well (constructive)")

    def show_proposed(self) -> None:
        """Proposed sub-patterns: counts per parent pattern (public) or the proposals themselves (restricted)."""
        from lt_workbench.present.figures import show_table, show_text

        table = self.proposed()
        if table.empty:
            show_text("No reviewer in scope proposed a new sub-pattern.")
            return
        if self.public:
            table = table.copy()
            table["_label"] = [f"{c} {lab}" for c, lab in zip(table["code"], table["label"])]
            show_table(table, {"_label": "Parent pattern", "count": "Reviews proposing a new sub-pattern", "percent": "Percentage of reviews"},
                       counts=["count"], percents=["percent"], caption="Where reviewers proposed new sub-patterns",
                       note=self.symbols("reviews") + " The proposals' wording is reviewers' own and appears only in the restricted version.")
            return
        table = table.copy()
        table["_parent"] = [f"{c} {lab}" for c, lab in zip(table["parent_code"], table["parent_label"])]
        table["_years"] = [f"{a}–{b}" if a != b else f"{a}" for a, b in zip(table["first_year"], table["last_year"])]
        show_table(table, {"_parent": "Parent pattern", "proposed_label": "Proposed sub-pattern (reviewers' words)", "reviews": "Reviews",
                           "_years": "Years"}, counts=["reviews"], caption="Proposed new sub-patterns, for curation",
                   note=self.symbols("reviews"))

    # -- recommendations
    STATUS_GROUPS = {"completed": "Completed", "open": "Open, not yet due", "overdue": "Overdue", "not_accepted": "Not accepted"}

    def as_of(self) -> str:
        """The date overdue is judged at: the as_of parameter, else the date of the last data load (reproducible)."""
        value = self.params.get("as_of")
        if value:
            return value
        last = self.snapshot.get("last_load") or ""
        return last[:10] if last and last != "never" else dt.date.today().isoformat()

    def _recommendation_rows(self) -> pd.DataFrame:
        from lt_workbench.model.db import connect

        cond, args = _scope_sql(self.params, prefix="r.")
        con = connect(self.db, read_only=True)
        try:
            rows = con.execute(
                f"""SELECT rec.review_id, rec.rec_id, rec.kind, rec.level, rec.status, rec.due, coalesce(rec.agency, 'not_recorded') AS agency,
                           rec.lead_role, rec.text, r.region, r.area_name, r.year
                    FROM recommendations AS rec JOIN reviews AS r USING (review_id)
                    WHERE {cond} ORDER BY rec.review_id, rec.rec_no""", args).df()
        finally:
            con.close()
        day = pd.Timestamp(self.as_of())
        due = pd.to_datetime(rows["due"])
        rows["status_group"] = [
            "completed" if s == "completed" else "not_accepted" if s == "not_accepted" else ("overdue" if pd.notna(d) and d < day else "open")
            for s, d in zip(rows["status"], due)
        ]
        rows["days_overdue"] = [(day - d).days if g == "overdue" else None for g, d in zip(rows["status_group"], due)]
        return rows

    def recommendation_status(self, by: str) -> pd.DataFrame:
        """Recommendations by `by` (agency, kind or level) x status group, protected; 'All' rows total each status.

        Unit: recommendation. count = recommendations of that agency/kind/level in that status group;
        denominator = all recommendations of that agency/kind/level, so percentages read across a row.
        """
        if by not in ("agency", "kind", "level"):
            raise ReportError(f"recommendation_status by agency, kind or level, not {by!r}")
        rows = self._recommendation_rows()
        frame = {"agency": "agency", "kind": "recommendation_kind", "level": "recommendation_level"}[by]
        order = list(self.frame_codes(frame)["code"])
        present = [v for v in order if v in set(rows[by])] + sorted(set(rows[by]) - set(order))
        records = []
        for value in present + ["All"]:
            sub = rows if value == "All" else rows[rows[by] == value]
            for code, label in self.STATUS_GROUPS.items():
                records.append({"code": code, "label": label, by: value, "count": int((sub["status_group"] == code).sum()),
                                "denominator": len(sub)})
        table = pd.DataFrame(records, columns=["code", "label", by, "count", "denominator"])
        if len(rows) == 0:
            table = table[table[by] == "All"]
        return self.protect(_rates(table), partition=True, lines=[[by]], dims=[by])

    def recommendation_labels(self, by: str) -> dict[str, str]:
        frame = {"agency": "agency", "kind": "recommendation_kind", "level": "recommendation_level"}[by]
        out = dict(self.labels(frame))
        out.update({"not_recorded": "Agency not recorded", "All": {"agency": "All agencies", "kind": "All kinds",
                                                                    "level": "All levels"}[by]})
        return out

    def show_status(self, by: str, *, title: str) -> None:
        """Stacked status shares per agency/kind/level and the counts behind them."""
        from lt_workbench.present import figures as f

        table = self.recommendation_status(by)
        labels = self.recommendation_labels(by)
        f.show(f.stacked_shares(table, row=by, row_labels=labels, group="code", group_labels=self.STATUS_GROUPS,
                                colours=f.STATUS_COLOURS, title=title, unit="recommendations",
                                subtitle=f"Overdue: due before {self.as_of()} and not completed (not-accepted ones are counted apart)"))
        wide = []
        for value in dict.fromkeys(table[by]):
            part = table[table[by] == value].set_index("code")
            row = {"_label": labels.get(value, value), "_total": part["denominator"].iloc[0]}
            for code in self.STATUS_GROUPS:
                row[code] = part.loc[code, "count"]
            row["_pct_overdue"] = part.loc["overdue", "percent"]
            wide.append(row)
        frame = pd.DataFrame(wide)
        names = {"agency": "Agency", "kind": "Kind of recommendation", "level": "Level"}
        f.show_table(frame, {"_label": names[by], "_total": "Recommendations", **self.STATUS_GROUPS, "_pct_overdue": "Percentage overdue"},
                     counts=["_total", *self.STATUS_GROUPS], percents=["_pct_overdue"], note=self.symbols("recommendations"),
                     total_rows=[str(v) == "All" for v in dict.fromkeys(table[by])])

    def overdue_ages(self) -> pd.DataFrame:
        """Overdue recommendations by how long overdue (bands), protected; unit: recommendation."""
        rows = self._recommendation_rows()
        late = rows[rows["status_group"] == "overdue"]
        bands = [("under_6_months", "Less than 6 months", 0, 182), ("6_to_12_months", "6 to 12 months", 183, 365),
                 ("1_to_2_years", "1 to 2 years", 366, 730), ("over_2_years", "More than 2 years", 731, 10**7)]
        table = pd.DataFrame([{"code": c, "label": lab, "count": int(((late["days_overdue"] >= lo) & (late["days_overdue"] <= hi)).sum()),
                               "denominator": len(late)} for c, lab, lo, hi in bands])
        return self.protect(_rates(table), partition=True)

    def overdue_list(self, limit: int = 25) -> pd.DataFrame:
        """The oldest overdue recommendations with their text (restricted only)."""
        if self.public:
            raise ReportError("overdue recommendations are listed with their text only in restricted reports")
        rows = self._recommendation_rows()
        late = rows[rows["status_group"] == "overdue"].sort_values(["days_overdue", "review_id", "rec_id"], ascending=[False, True, True])
        return late.head(limit).reset_index(drop=True)

    # -- area profile
    def subject(self) -> dict[str, Any]:
        """Who the area profile is about and whom it is compared with.

        An area (restricted) is compared with the other areas of its nation; a region with the other
        regions of its nation, or with every review in scope when its nation has no other region.
        With neither given, the region with the most reviews in scope is profiled, and the report says so.
        """
        from lt_workbench.model.db import connect

        p = self.params
        base = {k: v for k, v in self.where.items() if k not in ("nation", "region", "area")}
        con = connect(self.db, read_only=True)
        try:
            chosen = False
            if p["area"] is not None:
                kind, code = "area", p["area"]
                nation, region = con.execute("SELECT any_value(nation), any_value(region) FROM reviews WHERE area_code = ?", [code]).fetchall()[0]
            else:
                kind = "region"
                if p["region"] is not None:
                    code = p["region"]
                else:
                    cond, args = _scope_sql(p, prefix="")
                    order = dict(con.execute("SELECT code, sort_key FROM taxonomy WHERE frame = 'region' AND version = ?", [self.version]).fetchall())
                    counts = con.execute(f"SELECT region, count(*) FROM reviews WHERE {cond} GROUP BY region", args).fetchall()
                    code = sorted(counts, key=lambda rc: (-rc[1], order.get(rc[0], 10**6)))[0][0]
                    chosen = True
                nation = self.frame_codes("region").set_index("code").loc[code, "parent"]
                region = code
            cond, args = _scope_sql({**p, "nation": nation, "region": None, "area": None}, prefix="")
            regions_in_nation = con.execute(f"SELECT count(DISTINCT region) FROM reviews WHERE {cond}", args).fetchall()[0][0]
            names = dict(con.execute("SELECT DISTINCT area_code, area_name FROM reviews").fetchall()) if not self.public else {}
        finally:
            con.close()
        nation_label = self.label("nation", nation)
        if kind == "area" or regions_in_nation > 1:
            where = {**base, "nation": nation}
            rest = f"the rest of {nation_label}"
        else:
            where = dict(base)
            rest = "all other reviews in scope (every nation)"
        label = names.get(code, code) if kind == "area" else self.label("region", code)
        return {"kind": kind, "code": code, "label": label, "nation": nation, "region": region, "where": where,
                "rest": rest, "chosen": chosen, "funnel_by": kind, "names": names}

    def place_names(self, by: str, names: Mapping[str, str] | None = None) -> dict[str, str]:
        """Readable names of regions (frame labels) or areas (restricted: names from the database)."""
        if by == "region":
            return dict(self.labels("region"))
        if by == "nation":
            return dict(self.labels("nation"))
        if self.public:
            raise ReportError("areas are never named in public reports")
        return dict(names or {})

    def show_subject(self, who: Mapping[str, Any], comparison: pd.DataFrame) -> None:
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

    def show_comparison(self, comparison: pd.DataFrame, who: Mapping[str, Any], *, what: str, title: str, alpha: float = 0.05) -> None:
        """Group against the rest: paired bars with intervals (from the published numbers) and a table in words."""
        from lt_workbench.present import figures as f
        from lt_workbench.analysis.stats import wilson_interval

        rows = []
        for side, cnt, den in (("group", "count_group", "denominator_group"), ("rest", "count_rest", "denominator_rest")):
            for code, label, c, d in zip(comparison["code"], comparison["label"], comparison[cnt], comparison[den]):
                rows.append({"code": code, "label": label, "side": side, "count": c, "denominator": d})
        long = pd.DataFrame(rows)
        pct, lo_, hi_ = [], [], []
        for c, d in zip(long["count"], long["denominator"]):
            if f.is_hidden(c) or f.is_hidden(d) or float(d) == 0:
                pct.append("c" if "c" in (str(c), str(d)) else "z")
                lo_.append(pct[-1])
                hi_.append(pct[-1])
            else:
                lo, hi = wilson_interval([float(c)], [float(d)])
                pct.append(100.0 * float(c) / float(d))
                lo_.append(100.0 * float(lo[0]))
                hi_.append(100.0 * float(hi[0]))
        long["percent"], long["ci_low"], long["ci_high"] = pct, lo_, hi_
        rest = str(who["rest"])
        f.show(f.grouped_shares(long, group="side", group_labels={"group": str(who["label"]), "rest": rest[:1].upper() + rest[1:]},
                                colours={"group": f.PALETTE[1], "rest": f.PALETTE[0]}, title=title, unit="reviews",
                                subtitle="Share of reviews on each side; hover for the numbers"))
        q = pd.to_numeric(comparison["q_value"], errors="coerce")
        ors = pd.to_numeric(comparison["odds_ratio"], errors="coerce")
        words = []
        for hidden, qq, orr in zip(comparison["suppressed"], q, ors):
            if hidden:
                words.append("hidden (small numbers)")
            elif pd.notna(qq) and qq < alpha:
                words.append(f"more often in {who['label']}" if orr > 1 else f"less often in {who['label']}")
            else:
                words.append("no clear difference")
        table = pd.DataFrame({
            "_label": [f"{c} {lab}" for c, lab in zip(comparison["code"], comparison["label"])],
            "count_group": comparison["count_group"], "percent_group": comparison["percent_group"],
            "count_rest": comparison["count_rest"], "percent_rest": comparison["percent_rest"],
            "_or": [_odds_text(o, a, b) for o, a, b in zip(comparison["odds_ratio"], comparison["or_ci_low"], comparison["or_ci_high"])],
            "_q": ["c" if isinstance(v, str) else (":" if pd.isna(v) else ("below 0.001" if v < 0.001 else f"{v:.3f}")) for v in
                   [v if isinstance(v, str) else pd.to_numeric(v, errors="coerce") for v in comparison["q_value"]]],
            "_words": words,
        })
        f.show_table(table, {"_label": what, "count_group": f"Reviews, {who['label']}", "percent_group": f"%, {who['label']}",
                             "count_rest": "Reviews, rest", "percent_rest": "%, rest", "_or": "Odds ratio (95% interval)",
                             "_q": "Adjusted p-value", "_words": "In words"},
                     counts=["count_group", "count_rest"], percents=["percent_group", "percent_rest"], numbers=["_or", "_q"],
                     note=self.symbols("reviews") + f" {comparison.attrs.get('test', '')}.")

    def show_funnels(self, who: Mapping[str, Any], codes: Sequence[str] | None = None, *, n: int = 6) -> None:
        """Funnel plots for the chosen patterns (default: the n most recurrent in the comparison scope), and where the subject falls."""
        from lt_workbench.present import figures as f

        if not codes:
            from lt_workbench.analysis import tabulate

            # Ranked on the whole comparison group (not the report's own scope), shown numbers only.
            overall = tabulate.frequency("patterns", level=2, where=who["where"], db=self.db, disclosure=self.mode,
                                         profile=self.profile, threshold=self.threshold)
            codes = list(rank(overall, n)["code"])
        names = self.place_names(who["funnel_by"], who.get("names"))
        labels = self.labels("patterns")
        panels, rows = [], []
        for code in codes:
            t = self.funnel("patterns", code=code, by=who["funnel_by"], where=who["where"])
            dim = who["funnel_by"]
            points = pd.DataFrame({"name": [names.get(v, v) for v in t[dim]], "count": t["count"], "denominator": t["denominator"],
                                   "percent": t["percent"]})
            p0 = float(t["p0"].iloc[0]) if len(t) else 0.0
            panels.append((f"{code} {labels.get(code, code)}", points, p0))
            mine = t[t[dim] == who["code"]]
            if len(mine):
                m = mine.iloc[0]
                rows.append({"_label": f"{code} {labels.get(code, code)}", "count": m["count"], "percent": m["percent"], "p0": p0,
                             "_where": m["position"] if m["position"] else "within limits"})
        f.show(f.funnel_grid(panels, title=f"Funnel plots: {who['label']} among the places of its comparison group", unit="reviews",
                             highlight=str(who["label"]),
                             subtitle="Each dot is a place; the dashed (95%) and dotted (99.8%) lines show the range chance alone would give"))
        if rows:
            frame = pd.DataFrame(rows)
            frame["_where"] = frame["_where"].replace({"c": "hidden (small numbers)"})
            f.show_table(frame, {"_label": "Pattern", "count": f"Reviews, {who['label']}", "percent": f"%, {who['label']}",
                                 "p0": "% overall", "_where": "Against the funnel limits"},
                         counts=["count"], percents=["percent", "p0"],
                         note=self.symbols("reviews") + " Outside the 99.8% limits: a difference chance would rarely give; worth "
                              "asking why, not a verdict on practice.")

    # -- pattern deep dive
    def pattern_info(self, code: str) -> dict[str, Any]:
        """A pattern's label, description, parent and sub-patterns, from the frame."""
        t = self.frame_codes("patterns")
        row = t.set_index("code").loc[code]
        parent = row["parent"] if isinstance(row["parent"], str) and row["parent"] else None
        chain = []
        p = parent
        while p:
            chain.insert(0, (p, t.set_index("code").loc[p, "label"]))
            nxt = t.set_index("code").loc[p, "parent"]
            p = nxt if isinstance(nxt, str) and nxt else None
        children = t[t["parent"] == code][["code", "label"]]
        return {"code": code, "label": row["label"], "description": row["description"] if isinstance(row["description"], str) else "",
                "depth": int(row["depth"]), "ancestors": chain, "children": list(zip(children["code"], children["label"]))}

    def show_pattern_intro(self, info: Mapping[str, Any]) -> None:
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

    def show_pattern_summary(self, code: str, depth: int) -> None:
        """How often and how widely the pattern was found, and as constructive or unsafe."""
        from lt_workbench.present import figures as f

        freq = self.frequency("patterns", level=depth)
        row = freq[freq["code"] == code].iloc[0]
        spread = self.recurrence("patterns", level=depth)
        rec = spread[spread["code"] == code].iloc[0]
        if f.is_hidden(row["count"]):
            text = (f"**{code} {row['label']}** was found in fewer than {self.threshold} reviews in scope (or in a number that "
                    "would reveal one), so its counts are hidden in this public report.")
        else:
            text = (f"**{code} {row['label']}** was found in **{f.number(row['count'])}** of {f.number(row['denominator'])} reviews in "
                    f"scope: **{f.percent_text(row['percent'])}** (95% interval {f.interval_text(row['ci_low'], row['ci_high'])}).")
            if not rec["suppressed"] and not f.is_hidden(rec["areas"]):
                text += (f" Reviews in **{rec['areas']}** different areas and {rec['regions']} regions found it, first in "
                         f"{rec['first_year']} and most recently in {rec['last_year']}.")
                if not f.is_hidden(rec["percent_recent"]) and not f.is_hidden(rec["percent_before"]):
                    text += (f" In the most recent years ({spread.attrs.get('recent_window', '').replace('-', '–')}) it was found in "
                             f"{f.percent_text(rec['percent_recent'])} of reviews, against {f.percent_text(rec['percent_before'])} before.")
        f.show_text(text)
        directions = self.frequency("patterns", level=depth, by=("direction",))
        mine = directions[directions["code"] == code]
        f.show(f.grouped_shares(mine, group="direction", group_labels={"constructive": "Constructive (supports good practice)",
                                                                        "unsafe": "Unsafe (makes poor practice more likely)"},
                                colours=f.DIRECTION_COLOURS, title="Found as constructive or as unsafe", unit="reviews",
                                subtitle="A review can find a pattern both ways, in different findings"))

    def show_pattern_trend(self, code: str, depth: int) -> None:
        """The pattern's share of reviews over three-year periods, with the year-by-year trend test in words."""
        from lt_workbench.present import figures as f

        periods = self.frequency("patterns", level=depth, by=("period",), periods=self.periods(3))
        f.show(f.trend_lines(periods[periods["code"] == code], x="period", series_breaks=self.series_breaks(),
                             title="Share of reviews finding it, over time", unit="reviews",
                             subtitle="Three-year periods, with the 95% interval shaded"))
        tests = self.trend_tests("patterns", level=depth, codes=[code])
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
            text = f"Across single years its share of reviews **{verdict}** (p {'below 0.001' if p < 0.001 else f'= {p:.3f}'})."
        else:
            text = f"Across single years there is no clear trend (p = {p:.2f})."
        if t["spans_series_break"]:
            text += " The years span the 2018–19 series break, so part of any change may come from the change of review system."
        f.show_text(text + f" *Method: {t['method']}.*")

    def show_pattern_places(self, code: str, depth: int) -> None:
        """The pattern by region: a funnel plot (never a league table) and the numbers."""
        from lt_workbench.present import figures as f

        where = {k: v for k, v in self.where.items() if k not in ("region", "area")}
        t = self.funnel("patterns", code=code, by="region", level=depth, where=where)
        names = self.labels("region")
        points = pd.DataFrame({"name": [names.get(v, v) for v in t["region"]], "count": t["count"], "denominator": t["denominator"],
                               "percent": t["percent"]})
        highlight = names.get(self.params["region"]) if self.params["region"] else None
        p0 = float(t["p0"].iloc[0]) if len(t) else 0.0
        f.show(f.funnel_grid([(f"{code} {self.label('patterns', code)}", points, p0)], columns=1, highlight=highlight,
                             title="By region: each region's share against the range chance would give", unit="reviews",
                             subtitle="Dashed: 95% limits; dotted: 99.8% limits. A funnel compares; it does not rank."))
        t = t.copy()
        t["_name"] = [names.get(v, v) for v in t["region"]]
        t["_ci"] = [f.interval_text(a, b) for a, b in zip(t["ci_low"], t["ci_high"])]
        t["position"] = t["position"].replace({"c": "hidden (small numbers)"})
        f.show_table(t, {"_name": "Region", "count": "Reviews with it", "denominator": "Reviews", "percent": "Percentage",
                         "_ci": "95% interval", "position": "Against the funnel limits"}, counts=["count", "denominator"],
                     percents=["percent"], numbers=["_ci"], note=self.symbols("reviews"))

    def show_subpatterns(self, info: Mapping[str, Any]) -> None:
        from lt_workbench.present import figures as f

        if not info["children"]:
            f.show_text("*This pattern has no sub-patterns in the typology.*")
            return
        sub = self.frequency("patterns", level=info["depth"] + 1)
        sub = sub[sub["code"].isin([c for c, _ in info["children"]])]
        self.show_shares(sub, title="Its sub-patterns", unit="reviews", what="Sub-pattern", with_codes=True,
                         subtitle="Share of all reviews in scope finding each sub-pattern")

    def show_companions(self, code: str, depth: int, n: int = 10) -> None:
        """Other patterns found in the same reviews: of the reviews with this pattern, the share that also found each."""
        pairs = self.cooccurrence("patterns", level=depth)
        mine = pairs[(pairs["code_a"] == code) | (pairs["code_b"] == code)]
        rows = []
        for rec in mine.to_dict("records"):
            first = rec["code_a"] == code
            other, other_label = (rec["code_b"], rec["label_b"]) if first else (rec["code_a"], rec["label_a"])
            base = rec["n_a"] if first else rec["n_b"]
            rows.append({"code": other, "label": other_label, "count": rec["n_ab"], "denominator": base, "lift": rec["lift"]})
        self._show_share_of_pattern(pd.DataFrame(rows, columns=["code", "label", "count", "denominator", "lift"]), n=n,
                                    title="Patterns most often found in the same reviews", unit="reviews", what="Other pattern",
                                    subtitle=f"Of the reviews that found {code}, the share that also found each other pattern")

    def show_factors_behind(self, code: str, depth: int, n: int = 12) -> None:
        """Contributory factors coded on the episodes the pattern's findings rest on."""
        pairs = self.cooccurrence("factor-pattern", level=depth, factor_level=3, unit="episode")
        mine = pairs[pairs["code_b"] == code]
        table = pd.DataFrame({"code": mine["code_a"], "label": mine["label_a"], "count": mine["n_ab"], "denominator": mine["n_b"],
                              "lift": mine["lift"]})
        self._show_share_of_pattern(table, n=n, title="Contributory factors behind it", unit="key practice episodes", what="Factor",
                                    subtitle=f"Of the key practice episodes that {code} findings rest on, the share where each factor was coded")

    def _show_share_of_pattern(self, table: pd.DataFrame, *, n: int, title: str, unit: str, what: str, subtitle: str) -> None:
        from lt_workbench.present import figures as f
        from lt_workbench.analysis.stats import wilson_interval

        if table.empty:
            f.show_text("*Nothing to show in scope.*")
            return
        pct, lo_, hi_ = [], [], []
        for c, d in zip(table["count"], table["denominator"]):
            if f.is_hidden(c) or f.is_hidden(d) or float(d) == 0:
                pct.append("c")
                lo_.append("c")
                hi_.append("c")
            else:
                lo, hi = wilson_interval([float(c)], [float(d)])
                pct.append(100.0 * float(c) / float(d))
                lo_.append(100.0 * float(lo[0]))
                hi_.append(100.0 * float(hi[0]))
        table = table.assign(percent=pct, ci_low=lo_, ci_high=hi_).reset_index(drop=True)
        top = rank(table, n)
        f.show(f.bar_shares(top, title=title, unit=unit, subtitle=subtitle, with_codes=True, colour=f.PALETTE[4]))
        top = top.copy()
        top["_label"] = [f"{c} {lab}" for c, lab in zip(top["code"], top["label"])]
        top["_lift"] = [f"{float(v):.2f}" if not f.is_hidden(v) else str(v) for v in top["lift"]]
        f.show_table(top, {"_label": what, "count": "Together", "denominator": "Out of", "percent": "Percentage",
                           "_lift": "Times as often as if unrelated"}, counts=["count", "denominator"], percents=["percent"],
                     numbers=["_lift"], note=self.symbols(unit))

    def show_addressed(self, code: str, depth: int) -> None:
        """How often the pattern was left without a recommendation that addresses it."""
        from lt_workbench.present import figures as f

        t = self.unaddressed(level=depth)
        row = t[t["code"] == code]
        if row.empty or f.is_hidden(row.iloc[0]["count"]):
            f.show_text("*How often no recommendation addressed it is hidden: the numbers are small.*")
            return
        r = row.iloc[0]
        f.show_text(f"In **{f.percent_text(r['percent'])}** of the reviews that found it ({f.number(r['count'])} of "
                    f"{f.number(r['denominator'])}; 95% interval {f.interval_text(r['ci_low'], r['ci_high'])}), no recommendation "
                    "of the same review addresses it (lists this pattern or a broader one it belongs to).")

    def show_evidence(self, code: str, limit: int) -> None:
        """Restricted only: the findings behind the pattern, most recent first, with the episodes they rest on."""
        from IPython.display import HTML, display

        from lt_workbench.present.figures import show_text

        if not self.require_restricted("Evidence excerpts"):
            return
        ev = self.evidence(code)
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
                f'{html.escape(self.label("region", rec["region"]))} · coded {html.escape(str(rec["coded_as"]))} ({html.escape(str(rec["direction"]))})'
                f'{proposed}</div><p>{html.escape(str(rec["finding"]))}</p>'
                f'<div class="lt-meta">Rests on the episodes:</div><ul>{ep_list}</ul></div>')
        display(HTML(f"<p>{min(limit, total)} of {total} findings, most recent first.</p>" + "".join(blocks)))

    # -- recommendations tracker
    def show_overdue(self) -> None:
        """How long overdue recommendations have been overdue, and (restricted) the oldest with their text."""
        from lt_workbench.present import figures as f

        ages = self.overdue_ages()
        self.show_shares(ages, title=f"How long overdue recommendations have been overdue, at {self.as_of()}",
                         unit="recommendations", what="Overdue by", colour=f.PALETTE[1])
        if self.require_restricted("The overdue recommendations themselves"):
            late = self.overdue_list()
            if late.empty:
                f.show_text("No recommendation in scope is overdue.")
                return
            agencies, kinds = self.recommendation_labels("agency"), self.labels("recommendation_kind")
            late = late.assign(_agency=[agencies.get(a, a) for a in late["agency"]], _kind=[kinds.get(k, k) for k in late["kind"]],
                               _region=[self.label("region", r) for r in late["region"]], _due=[str(d)[:10] for d in late["due"]])
            f.show_table(late, {"review_id": "Review", "area_name": "Area", "_region": "Region", "rec_id": "Recommendation",
                                "_agency": "Agency", "_kind": "Kind", "_due": "Due", "days_overdue": "Days overdue", "text": "Text"},
                         numbers=["days_overdue"], caption=f"The {len(late)} longest overdue recommendations",
                         note=self.symbols("recommendations"))

    def show_unaddressed(self, top_n: int = 20) -> None:
        """Unsafe patterns that no recommendation of the same review addresses, as a share of the reviews finding them."""
        t = self.unaddressed(level=2, where={"direction": "unsafe"})
        self.show_shares(t, title="Unsafe patterns left without a recommendation", unit="reviews", what="Pattern", with_codes=True,
                         subtitle="Of the reviews finding each pattern as unsafe, the share where no recommendation addresses it")


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


def rank(table: pd.DataFrame, n: int) -> pd.DataFrame:
    """The n rows with the largest shown counts (hidden counts last), ties in frame order.

    Ranks codes within a table (which patterns are most common), never places: areas are compared
    with funnel plots.
    """
    shown = pd.to_numeric(table["count"], errors="coerce")
    order = sorted(range(len(table)), key=lambda i: (0 if pd.notna(shown.iloc[i]) else 1, -(shown.iloc[i] if pd.notna(shown.iloc[i]) else 0), i))
    return table.iloc[order[:n]].reset_index(drop=True)


def _rates(table: pd.DataFrame) -> pd.DataFrame:
    """percent and Wilson 95% interval (0-100) for a table built in a report."""
    from lt_workbench.analysis.stats import wilson_interval

    out = table.copy()
    count = pd.to_numeric(out["count"]).astype(float).to_numpy()
    den = pd.to_numeric(out["denominator"]).astype(float).to_numpy()
    lo, hi = wilson_interval(count, den)
    out["percent"] = [100.0 * c / d if d > 0 else float("nan") for c, d in zip(count, den)]
    out["ci_low"] = 100.0 * lo
    out["ci_high"] = 100.0 * hi
    return out


def setup(name: str, namespace: Mapping[str, Any]) -> ReportContext:
    """First call of every report notebook: check the parameters found in `namespace` (the notebook's
    globals, as set by its parameters cell or by papermill) and return the report's context.
    """
    spec = _spec(name)
    params = {p.name: namespace[p.name] for p in spec.params if p.name in namespace}
    values = validate_parameters(name, params)
    from lt_workbench.model.snapshot import snapshot

    snap = snapshot(values["db"])
    import warnings

    # Library deprecation chatter is for developers; readers get the report.
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    return ReportContext(name, values, snap)

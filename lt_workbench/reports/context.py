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
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from lt_workbench import config
from lt_workbench.reports.parameters import database_areas, reviews_in, scope_where, scope_words, validate_parameters, vocabulary
from lt_workbench.exceptions import ReportError
from lt_workbench.reports.plan import Ask, publish_ask, publish_plan, run_ask, same_profile, strict_plans
from lt_workbench.reports.registry import COMMON_PARAMETERS, PROFILE_NAMES, ReportSpec, get_spec
from lt_workbench.reports.sections.common import rank
from lt_workbench.reports.text import Finding, how_to_read, show_findings, show_html

__all__ = ["ReportContext", "setup", "how_to_read", "rank"]

_FINDINGS_ID = "lt-key-findings"

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
    findings: list[Finding] = field(default_factory=list)
    # public mode: question key -> the release's table (filled by setup from the report's plan)
    published: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)
    unplanned: list[str] = field(default_factory=list)

    # -- settings
    @property
    def spec(self) -> ReportSpec:
        return get_spec(self.name)

    @property
    def db(self) -> str:
        return str(self.params["db"])

    @property
    def mode(self) -> str:
        return str(self.params["disclosure"])

    @property
    def public(self) -> bool:
        return self.mode == "public"

    @property
    def profile(self) -> str:
        return str(self.params["profile"])

    @property
    def threshold(self) -> int:
        from lt_workbench.analysis.disclosure import PROFILES

        return self.params["min_cell"] if self.params["min_cell"] is not None else PROFILES[self.profile].threshold

    @property
    def where(self) -> dict[str, Any]:
        """The scope as the `where` mapping the analysis API takes."""
        return scope_where(self.params)

    def labels(self, frame: str) -> dict[str, str]:
        return vocabulary(frame, self.version)

    def label(self, frame: str, code: str) -> str:
        return self.labels(frame).get(code, code)

    # -- tabulations: one question each (plan.Ask), scope and disclosure passed through
    def ask(self, method: str, *args: Any, scoped: bool = True, **kwargs: Any) -> Ask:
        """The question `method(*args, **kwargs)` asks in this report: the report's scope merged into `where`
        (scoped=False: `where` replaces it), as listed in a report's plan and looked up when the notebook asks."""
        kw = dict(kwargs)
        if scoped:
            kw["where"] = {**self.where, **dict(kw.pop("where", None) or {})}
        elif "where" in kw:
            kw["where"] = dict(kw["where"])
        if method in ("recommendation_status", "overdue_ages"):
            kw.setdefault("as_of", self.as_of())
        return Ask(method, tuple(args), kw)

    def table(self, ask: Ask) -> pd.DataFrame:
        """The table for one question. Public: the release's table, from the report's jointly protected plan
        when planned, else protected now inside the release (and listed in `unplanned`)."""
        if not self.public:
            return run_ask(ask, disclosure=self.mode, profile=self.profile, threshold=self.threshold, db=self.db)
        key = ask.key
        if key not in self.published:
            self.unplanned.append(ask.describe())
            if strict_plans():
                raise ReportError(f"report {self.name!r} publishes {ask.describe()}, which is not in its plan: add it to plan() "
                                  f"in lt_workbench/reports/sections/{self.name}.py so it is protected jointly with the report's "
                                  "other tables")
            from lt_workbench.analysis.publish import public_release

            with public_release(self.db, name=f"report {self.name}"):
                same_profile(self.profile, self.threshold)
                self.published[key] = publish_ask(ask, self.profile, self.threshold, self.db)
        out = self.published[key].copy()
        out.attrs = dict(self.published[key].attrs)
        return out

    def frequency(self, frame: str, **kwargs: Any) -> pd.DataFrame:
        return self.table(self.ask("frequency", frame, **kwargs))

    def recurrence(self, frame: str = "patterns", **kwargs: Any) -> pd.DataFrame:
        return self.table(self.ask("recurrence", frame, **kwargs))

    def trend(self, frame: str = "patterns", **kwargs: Any) -> pd.DataFrame:
        return self.table(self.ask("trend", frame, **kwargs))

    def trend_tests(self, frame: str = "patterns", **kwargs: Any) -> pd.DataFrame:
        return self.table(self.ask("trend_tests", frame, **kwargs))

    def compare(self, frame: str = "patterns", *, group: Mapping[str, Any], where: Mapping[str, Any], **kwargs: Any) -> pd.DataFrame:
        """group against the rest of `where` (which replaces the report's scope: the comparison needs the wider set)."""
        return self.table(self.ask("compare", frame, scoped=False, group=dict(group), where=where, **kwargs))

    def funnel(self, frame: str = "patterns", *, code: str, by: str, where: Mapping[str, Any], **kwargs: Any) -> pd.DataFrame:
        """`code` by place (`by`) among the places of `where` (which replaces the report's scope)."""
        return self.table(self.ask("funnel", frame, scoped=False, code=code, by=by, where=where, **kwargs))

    def cooccurrence(self, kind: str = "patterns", **kwargs: Any) -> pd.DataFrame:
        return self.table(self.ask("cooccurrence", kind, **kwargs))

    def unaddressed(self, **kwargs: Any) -> pd.DataFrame:
        return self.table(self.ask("unaddressed", **kwargs))

    def protect(self, table: pd.DataFrame, *, name: str, partition: bool = False, lines: Any = None) -> pd.DataFrame:
        """Disclosure control for a table a notebook builds itself (code, label, dims, count, denominator, ...):
        in public mode inside the snapshot's release, as a question of its own (`name`, in this report's scope)."""
        from lt_workbench.analysis.publish import apply_disclosure, public_release

        attrs = {"table": name, "frame": f"report {self.name}: {name}", "unit": table.attrs.get("unit"), "where": self.where,
                 "lines": lines or [], "partition": partition}
        if not self.public:
            return apply_disclosure(table, attrs, disclosure="restricted")
        self.unplanned.append(f"protect(name={name!r})")
        if strict_plans():
            raise ReportError(f"report {self.name!r} protects a table of its own ({name!r}) outside its plan; build it as a "
                              "planned question (lt_workbench.reports.plan) so it is protected jointly with the report's tables")
        with public_release(self.db, name=f"report {self.name}"):
            return apply_disclosure(table, attrs, disclosure="public", profile=self.profile, threshold=self.threshold)

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
        if not self.public:
            from lt_workbench.analysis import tabulate

            return tabulate.proposed_patterns(where=self.where, db=self.db, disclosure="restricted")
        return self.table(self.ask("proposed"))

    # -- recommendations (lt_workbench.analysis.recommendations, at as_of())
    def recommendation_status(self, by: str) -> pd.DataFrame:
        """Recommendations by agency, kind or level x status group at as_of(), protected."""
        return self.table(self.ask("recommendation_status", by))

    def overdue_ages(self) -> pd.DataFrame:
        """Overdue recommendations at as_of() by how long overdue, protected."""
        return self.table(self.ask("overdue_ages"))

    def overdue(self) -> pd.DataFrame:
        """Every overdue recommendation at as_of(), longest overdue first, with its text (restricted only)."""
        from lt_workbench.analysis import recommendations

        return recommendations.overdue(self.as_of(), where=self.where, db=self.db, disclosure=self.mode)  # type: ignore[arg-type]

    def as_of(self) -> str:
        """The date overdue is judged at: the as_of parameter, else the date of the last data load (reproducible)."""
        value = self.params.get("as_of")
        if value:
            return str(value)
        last = str(self.snapshot.get("last_load") or "")
        return last[:10] if last and last != "never" else dt.date.today().isoformat()

    # -- scope
    def scope_counts(self) -> dict[str, Any]:
        """Reviews in the database and in scope; the protected pair for display and the true in-scope count for internal use."""
        shown = self.table(self.ask("scope"))
        return {"table": shown, "in_scope": shown.loc[0, "count"], "out_of_scope": shown.loc[1, "count"],
                "total": shown.loc[0, "denominator"], "in_scope_true": reviews_in(self.where, self.db)}

    def area_names(self) -> dict[str, str]:
        """area code -> name (restricted reports only: public reports never name areas)."""
        if self.public:
            return {}
        areas = database_areas(self.db)
        return {str(c): str(n) for c, n in zip(areas["area_code"], areas["area_name"], strict=True)}

    def area_name(self) -> str | None:
        """The name of the area in scope (restricted reports only: public reports never name areas)."""
        if self.params["area"] is None or self.public:
            return None
        return self.area_names().get(self.params["area"])

    def scope_words(self) -> str:
        return scope_words(self.params, self.area_name())

    # -- words on the page
    def header(self) -> None:
        """The first screen: scope, data snapshot, taxonomy, package version and disclosure mode."""

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
        show_html(f'{banner}<div class="lt-header"><h2>About this report</h2><dl>{dl}</dl></div>')
        # Filled in by key_findings() once the sections below have shown their tables.
        show_html('<div class="lt-findings"><h2>Key findings</h2><p>(being computed)</p></div>', display_id=_FINDINGS_ID)

    def note(self, finding: Finding | None) -> None:
        """Keep a key finding read off a table a section has just shown (None: nothing to say)."""
        if finding is not None:
            self.findings.append(finding)

    def key_findings(self) -> None:
        """Show the key findings noted by the sections (at most six) in the box at the top of the report."""
        shown, page = show_findings(self.findings)
        self.findings = shown
        show_html(page, display_id=_FINDINGS_ID, update=True)

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

    def series_breaks(self) -> list[tuple[int, int, str]]:
        """(first year, last year, short label) of each series break, for shading charts."""
        from lt_workbench.analysis.tabulate import SERIES_BREAKS

        return [(b["from_year"], b["to_year"], "SCR → CSPR") for b in SERIES_BREAKS]



def setup(name: str, namespace: Mapping[str, Any], *, prepare: bool = True) -> ReportContext:
    """First call of every report notebook: check the parameters found in `namespace` (the notebook's
    globals, as set by its parameters cell or by papermill) and return the report's context.

    Public mode: the report's plan (plan(ctx) in its sections module) is protected now, as one joint
    problem in the database snapshot's release, and the context hands out those tables
    (prepare=False skips this, for a batch that protects every report's plan at once first).
    """
    spec = get_spec(name)
    params = {p.name: namespace[p.name] for p in spec.params if p.name in namespace}
    values = validate_parameters(name, params)
    from lt_workbench.model.snapshot import snapshot

    snap = snapshot(values["db"])
    import warnings

    # Library deprecation chatter is for developers; readers get the report.
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    ctx = ReportContext(name, values, snap)
    if prepare and ctx.public:
        publish_plan(ctx)
    return ctx

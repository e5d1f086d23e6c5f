"""Inside a report notebook: the checked parameters, the scope and the disclosure settings.

Every report notebook starts with `ctx = setup("name", globals())`. The `ReportContext` it returns
passes the scope and the disclosure settings into every tabulation, so a notebook cannot forget to
protect a table, and it writes the words around the numbers (scope, data snapshot, how to read).
Running the notebooks headlessly is lt_workbench.reports' job; this module is what runs inside the
kernel. The context's settings and its words on the page live in settings.py and page.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from lt_workbench.exceptions import ReportError
from lt_workbench.reports.page import ReportPage
from lt_workbench.reports.parameters import reviews_in, validate_parameters
from lt_workbench.reports.plan import Ask, publish_ask, publish_plan, run_ask, same_profile, strict_plans
from lt_workbench.reports.registry import get_spec
from lt_workbench.reports.sections.common import rank
from lt_workbench.reports.text import how_to_read

__all__ = ["ReportContext", "setup", "how_to_read", "rank"]


@dataclass
class ReportContext(ReportPage):
    """Everything a report notebook needs: checked parameters, scope, disclosure settings, data snapshot.

    Three parts, one job each: the settings (settings.ReportSettings: mode, scope, as-of date), the words
    on the page (page.ReportPage: header, findings, how to read) and, here, the tables. Tabulation methods
    pass the scope and disclosure settings through, so a notebook cannot forget to protect a table;
    `protect()` does the same for tables a notebook builds itself.
    """

    # public mode: question key -> the release's table (filled by setup from the report's plan)
    published: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)
    unplanned: list[str] = field(default_factory=list)

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

    # -- scope
    def scope_counts(self) -> dict[str, Any]:
        """Reviews in the database and in scope; the protected pair for display and the true in-scope count for internal use."""
        shown = self.table(self.ask("scope"))
        return {"table": shown, "in_scope": shown.loc[0, "count"], "out_of_scope": shown.loc[1, "count"],
                "total": shown.loc[0, "denominator"], "in_scope_true": reviews_in(self.where, self.db)}



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

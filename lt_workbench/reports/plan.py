"""A report's plan: the public tables it publishes, protected together in the snapshot's release.

Every public table a report shows is a *question* (an `Ask`: the tabulation, its frame and its
arguments, with the report's scope filled in). Each report declares its questions in `plan(ctx)` in
its sections module. In public mode `publish_plan` computes them restricted and protects the tidy
ones (frequency, recommendation status, overdue ages, unaddressed patterns, the scope and
proposed-sub-pattern counts) and the tables with several counts per row (recurrence, comparisons,
funnels, co-occurrence: their builds, collected with `analysis.publish.collect`) as ONE joint
problem with `analysis.publish.protect_builds`, inside `public_release(db, name="report NAME")`, so
the report's tables join the database snapshot's release: what one table hides, no other table of
the report, and no CLI call or explorer view of the same snapshot, lets a reader derive. Trend
tables and trend tests are then made, in the same release, in plan order. The context caches the results and hands them out when the notebook asks the same
question, so a report's number is the release's number.

A batch (`publish_batch`) protects the union of its reports' plans as one joint problem before any
report runs; each report then finds its cells already decided in the ledger (the same shown values).
A question a report asks that is not in its plan is still protected inside the release (joined with
everything before it) and is listed in `ctx.unplanned`; with `LT_WORKBENCH_REPORT_PLAN=strict` it is
an error, which is how the tests keep the plans from rotting.
"""

from __future__ import annotations

import importlib
import inspect
import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from lt_workbench.exceptions import ReportError

if TYPE_CHECKING:
    from lt_workbench.reports.context import ReportContext

__all__ = ["Ask", "JOINT", "DEFERRED", "METHODS", "plan_of", "publish_plan", "publish_batch", "run_ask", "strict_plans", "scope_table",
           "proposed_counts", "STRICT_ENV", "publish_ask", "withheld", "same_profile"]

STRICT_ENV = "LT_WORKBENCH_REPORT_PLAN"
_SETTINGS = ("db", "con", "disclosure", "profile", "threshold")
# Tabulations whose restricted output is a tidy table with its question in attrs: protected in one joint problem.
JOINT = frozenset({"frequency", "recommendation_status", "overdue_ages", "unaddressed", "scope", "proposed"})
# Tabulations with several counts per row: their builds (requests + links) join the same joint problem.
DEFERRED = frozenset({"recurrence", "compare", "funnel", "cooccurrence"})


def scope_table(*, where: Mapping[str, Any] | None = None, db: Any = None, disclosure: str = "restricted",
                profile: str = "dfe", threshold: int | None = None) -> pd.DataFrame:
    """Reviews in the database inside and outside a scope (`where`), with percent and interval; protected when public."""
    from lt_workbench.analysis.publish import apply_disclosure
    from lt_workbench.analysis.shape import with_rates
    from lt_workbench.reports.parameters import reviews_in

    total = reviews_in({}, db)
    inside = reviews_in(dict(where or {}), db)
    table = with_rates(pd.DataFrame({"code": ["in_scope", "out_of_scope"], "label": ["In scope", "Outside the scope"],
                                     "count": [inside, total - inside], "denominator": [total, total]}))
    attrs = {"table": "scope", "frame": "report-scope", "unit": "review", "where": {},
             "family": "scope " + json.dumps(dict(where or {}), sort_keys=True, default=str), "lines": [], "partition": True}
    return apply_disclosure(table, attrs, disclosure=disclosure, profile=profile, threshold=threshold)  # type: ignore[arg-type]


def proposed_counts(*, where: Mapping[str, Any] | None = None, db: Any = None, disclosure: str = "restricted",
                    profile: str = "dfe", threshold: int | None = None) -> pd.DataFrame:
    """Reviews in scope proposing a new sub-pattern, per parent pattern (out of the reviews in scope); protected when public."""
    from lt_workbench.analysis import tabulate
    from lt_workbench.analysis.publish import apply_disclosure
    from lt_workbench.analysis.shape import with_rates
    from lt_workbench.reports.parameters import reviews_in, vocabulary

    raw = tabulate.proposed_patterns(where=dict(where or {}), db=db, disclosure="restricted")
    per_parent: dict[str, set[str]] = {}
    for code, ids in zip(raw["parent_code"], raw["review_ids"], strict=True):
        per_parent.setdefault(str(code), set()).update(list(ids))
    labels = vocabulary("patterns")
    table = pd.DataFrame({"code": list(per_parent), "label": [labels.get(c, c) for c in per_parent],
                          "count": [len(v) for v in per_parent.values()], "denominator": reviews_in(dict(where or {}), db)})
    if table.empty:
        table = pd.DataFrame({"code": pd.Series(dtype=object), "label": pd.Series(dtype=object), "count": pd.Series(dtype="int64"),
                              "denominator": pd.Series(dtype="int64")})
    attrs = {"table": "proposed", "frame": "proposed-subpatterns", "unit": "review", "where": dict(where or {}), "lines": [],
             "partition": False}
    return apply_disclosure(with_rates(table), attrs, disclosure=disclosure, profile=profile, threshold=threshold)  # type: ignore[arg-type]


def _methods() -> dict[str, Callable[..., pd.DataFrame]]:
    from lt_workbench.analysis import recommendations, tabulate

    return {"frequency": tabulate.frequency, "recurrence": tabulate.recurrence, "trend": tabulate.trend,
            "trend_tests": tabulate.trend_tests, "compare": tabulate.compare, "funnel": tabulate.funnel,
            "cooccurrence": tabulate.cooccurrence, "unaddressed": tabulate.unaddressed_patterns,
            "recommendation_status": recommendations.recommendation_status, "overdue_ages": recommendations.overdue_ages,
            "scope": scope_table, "proposed": proposed_counts}


METHODS = ("frequency", "recurrence", "trend", "trend_tests", "compare", "funnel", "cooccurrence", "unaddressed",
           "recommendation_status", "overdue_ages", "scope", "proposed")


def _plain(v: Any) -> Any:
    if isinstance(v, Mapping):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    return v


@dataclass(frozen=True)
class Ask:
    """One public table a report publishes: a tabulation (METHODS), its arguments as called, and a key.

    The key is the call with every default filled in and the disclosure settings left out, so the
    notebook's ``ctx.frequency("patterns", level=2)`` and the plan's entry for it are the same question.
    """

    method: str
    args: tuple[Any, ...] = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        fn = _methods()[self.method]
        bound = inspect.signature(fn).bind(*self.args, **{k: v for k, v in self.kwargs.items() if k not in _SETTINGS})
        bound.apply_defaults()
        call = {k: _plain(v) for k, v in bound.arguments.items() if k not in _SETTINGS}
        return json.dumps([self.method, call], sort_keys=True, default=str)

    def describe(self) -> str:
        """The question as code, for messages: method(args, key=value, ...)."""
        parts = [repr(a) for a in self.args] + [f"{k}={v!r}" for k, v in self.kwargs.items() if k not in _SETTINGS]
        return f"{self.method}({', '.join(parts)})"


def run_ask(ask: Ask, *, disclosure: str, profile: str, threshold: int | None, db: Any) -> pd.DataFrame:
    """The table for one question, restricted or public (public: protected in the current release, if any)."""
    if ask.method not in METHODS:
        raise ReportError(f"unknown report tabulation {ask.method!r}; use one of {', '.join(sorted(METHODS))}")
    kwargs = {k: v for k, v in ask.kwargs.items() if k not in _SETTINGS}
    return _methods()[ask.method](*ask.args, **kwargs, db=db, disclosure=disclosure, profile=profile, threshold=threshold)


def strict_plans() -> bool:
    """True when an unplanned public table is an error ($LT_WORKBENCH_REPORT_PLAN=strict; the tests set it)."""
    return os.environ.get(STRICT_ENV, "").strip().lower() == "strict"


PlanItem = Any  # an Ask, or a callable ctx -> [Ask] run once the questions before it are published


def plan_of(ctx: ReportContext) -> list[PlanItem]:
    """The questions a report publishes: `plan(ctx)` of its sections module (none for a report without one).

    An item is an Ask, or a callable taking the context and returning more Asks, for questions that
    depend on a table published first (e.g. funnel plots for the patterns the published table ranks first).
    """
    try:
        module = importlib.import_module(f"lt_workbench.reports.sections.{ctx.name}")
    except ModuleNotFoundError:
        return []
    fn = getattr(module, "plan", None)
    return list(fn(ctx)) if fn is not None else []


def _publish(jobs: Sequence[tuple[ReportContext, Sequence[PlanItem]]], name: str) -> None:
    """Protect every job's questions into its ctx.published, in one release scope, in waves: the tidy tables and
    the tables with several counts per row (recurrence, comparisons, funnels, co-occurrence) of every job as ONE
    joint problem, then the others (trend, trend tests) in plan order; then the follow-ups those tables decided
    (e.g. a period table because too many years were hidden), the same way, until none is left."""
    from lt_workbench.analysis.publish import public_release

    if not jobs:
        return
    first = jobs[0][0]
    shown: dict[str, pd.DataFrame] = {}
    waves: list[tuple[ReportContext, list[PlanItem]]] = [(ctx, list(items)) for ctx, items in jobs]
    with public_release(first.db, name=name):
        same_profile(first.profile, first.threshold)
        while any(items for _, items in waves):
            builds: dict[str, Any] = {}
            for ctx, items in waves:
                for ask in items:
                    if isinstance(ask, Ask) and ask.key not in shown and ask.key not in builds and ask.method in JOINT | DEFERRED:
                        builds[ask.key] = _build(ask, ctx)
            if builds:
                shown.update(_publish_joint(builds, first.profile, first.threshold))
            for ctx, items in waves:
                for ask in items:
                    if isinstance(ask, Ask):
                        if ask.key not in shown:
                            shown[ask.key] = publish_ask(ask, ctx.profile, ctx.threshold, ctx.db)
                        ctx.published[ask.key] = shown[ask.key]
            waves = [(ctx, [a for item in items if not isinstance(item, Ask) for a in item(ctx)]) for ctx, items in waves]


def _build(ask: Ask, ctx: ReportContext) -> Any:
    """The build (analysis.publish.Build) of one planned question, or a withheld table if it cannot even be built."""
    from lt_workbench.analysis.publish import collect, tidy_build
    from lt_workbench.exceptions import DisclosureError

    if ask.method in JOINT:
        t = run_ask(ask, disclosure="restricted", profile=ctx.profile, threshold=ctx.threshold, db=ctx.db)
        tidy = tidy_build(t, {str(k): v for k, v in t.attrs.items()}, profile=ctx.profile, threshold=ctx.threshold)
        tidy.restricted = lambda: t
        return tidy
    try:
        with collect() as got:
            run_ask(ask, disclosure="public", profile=ctx.profile, threshold=ctx.threshold, db=ctx.db)
    except DisclosureError as e:
        return withheld(run_ask(ask, disclosure="restricted", profile=ctx.profile, threshold=ctx.threshold, db=ctx.db), str(e))
    if len(got) != 1:
        raise ReportError(f"internal: {ask.describe()} made {len(got)} public tables, expected one")
    b = got[0]
    b.restricted = lambda: run_ask(ask, disclosure="restricted", profile=ctx.profile, threshold=ctx.threshold, db=ctx.db)
    return b


def same_profile(profile: str, threshold: int | None) -> None:
    """Inside a release scope: refuse (DisclosureError naming the release's profile) a profile or threshold other
    than the one the snapshot's release publishes under, before anything is protected. Without this a mismatch
    would read as 'cannot be published consistently' and every table would be withheld."""
    from lt_workbench.analysis.disclosure.profiles import resolve_profile
    from lt_workbench.analysis.publish import current_release

    rel = current_release()
    if rel is not None:
        prof, thr = resolve_profile(profile, threshold)
        rel.check_profile(prof.name, thr)
        rel.abort()


def _publish_joint(builds: Mapping[str, Any], profile: str, threshold: int | None) -> dict[str, pd.DataFrame]:
    """The builds (tidy tables, recurrence, comparisons, funnels, co-occurrence) as ONE joint problem. If the release
    refuses it (an earlier output of the snapshot leaves some table no safe pattern), each table is protected on its
    own in the release, and a table still refused is withheld (every figure hidden, the reason in its note) rather
    than failing the whole report."""
    from lt_workbench.analysis.publish import protect_builds
    from lt_workbench.exceptions import DisclosureError

    out = {k: b for k, b in builds.items() if isinstance(b, pd.DataFrame)}  # withheld before protection
    keys = [k for k in builds if k not in out]
    try:
        out.update(zip(keys, protect_builds([builds[k] for k in keys]), strict=True))
        return out
    except DisclosureError:
        pass
    for k in keys:
        try:
            out[k] = protect_builds([builds[k]])[0]
        except DisclosureError as e:
            restricted = builds[k].restricted
            if restricted is None:
                raise
            out[k] = withheld(restricted(), str(e))
    return out


def publish_ask(ask: Ask, profile: str, threshold: int | None, db: Any) -> pd.DataFrame:
    """One public table in the current release; a table the release refuses is withheld (see _publish_joint)."""
    from lt_workbench.exceptions import DisclosureError

    try:
        return run_ask(ask, disclosure="public", profile=profile, threshold=threshold, db=db)
    except DisclosureError as e:
        return withheld(run_ask(ask, disclosure="restricted", profile=profile, threshold=threshold, db=db), str(e))


# Columns that say what a row is about (never a figure), kept in a withheld table.
_IDENTITY = frozenset({"code", "label", "code_a", "label_a", "code_b", "label_b", "region", "nation", "year", "period", "direction",
                       "influence", "kind", "level", "agency", "side", "part", "series_break", "spans_series_break", "method"})


def withheld(table: pd.DataFrame, reason: str) -> pd.DataFrame:
    """`table` with every figure hidden (c): publishes nothing but which rows there are."""
    from lt_workbench.analysis.disclosure import SUPPRESSED

    out = table.copy()
    keep = _IDENTITY | {str(b) for b in table.attrs.get("by") or ()}
    for col in out.columns:
        if col not in keep and col != "suppressed":
            out[col] = pd.Series([SUPPRESSED] * len(out), index=out.index, dtype=object)
    out["suppressed"] = True
    out.attrs = {**{k: v for k, v in table.attrs.items() if k not in ("note", "audit")}, "disclosure": "public", "withheld": reason,
                 "note": "Withheld: every figure of this table is hidden (c) because it cannot be published consistently with "
                         f"what this data snapshot's release already published ({reason})."}
    return out


def publish_plan(ctx: ReportContext) -> None:
    """Protect a public report's plan as one joint problem in the snapshot's release, into ctx.published."""
    _publish([(ctx, plan_of(ctx))], f"report {ctx.name}")


def publish_batch(contexts: Sequence[ReportContext], name: str) -> int:
    """Protect the union of the public reports' plans as one joint problem (before a batch runs them);
    returns how many different questions were published."""
    from lt_workbench.exceptions import WorkbenchError

    jobs = []
    for c in contexts:
        if c.public:
            try:
                jobs.append((c, plan_of(c)))
            except WorkbenchError:
                continue  # that report fails on its own when it runs, with its own message
    if not jobs:
        return 0
    settings = {(c.db, c.profile, c.threshold) for c, _ in jobs}
    if len(settings) > 1:
        raise ReportError("the public reports of one batch must share the database, profile and threshold (one release)")
    _publish(jobs, name)
    return len({k for c, _ in jobs for k in c.published})

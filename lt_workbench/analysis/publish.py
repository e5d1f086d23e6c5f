"""Disclosure glue: how each tabulation's output passes through lt_workbench.analysis.disclosure.

`apply_disclosure` protects a tidy table with the additive lines it really has; the `_protect_*`
helpers do the same for tables with several counts per row (recurrence, compare, co-occurrence).

Releases: inside ``with public_release(db, name=...)`` every public table is protected jointly with
everything the database snapshot's release already published (the CLI opens one per public
command, see cli/release.py; reports and the explorer open one per report / session), so the same
question gets the same public number on every surface and no combination of outputs recovers a
hidden cell. `publish_many(tables)` protects restricted tables (with their attrs) as one joint
problem, for a report or a batch. Each table's question (frame, level, unit, filters, year basis)
is taken from its attrs, so cells of different tables that answer the same question are one cell.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import pandas as pd

from lt_workbench.analysis.slicing import implied_filters, slice_requests
from lt_workbench.analysis.vocab import _TOTAL, Disclosure, YearSpan, _dim, _values
from lt_workbench.config import DEFAULT_TAXONOMY_VERSION
from lt_workbench.exceptions import TabulationError, WorkbenchError

__all__ = ["apply_disclosure", "profile_threshold", "public_release", "current_release", "publish_many", "question_of", "rank_shown",
           "RANKING_RULE", "Build", "tidy_build", "protect_builds", "collect", "deliver", "lifted_request"]

_MEASURE_COLUMNS = ("code", "label", "count", "denominator", "percent", "ci_low", "ci_high")
SUPPRESSED_SYMBOL = "c"  # disclosure.SUPPRESSED, without importing the package at module load
RANKING_RULE = ("ranked on the figures as shown: most first, hidden (c) last; equal shown figures share a rank (=) "
                "and keep the frame's order")


@dataclass
class _Scope:
    db: str | Path | None
    name: str
    ledger: str | Path | None
    snapshot: str | None
    opened: Any = None
    stack: list[Any] = field(default_factory=list)
    hold: bool = False
    cache: Any = None  # a disclosure.LedgerCache the caller keeps between scopes (an explorer session), or None


_SCOPE: ContextVar[_Scope | None] = ContextVar("lt_workbench_release_scope", default=None)


def _succeeded(exc: BaseException | None) -> bool:
    """No exception, or an exit with status 0 (typer.Exit(0), sys.exit(0))."""
    if exc is None:
        return True
    if isinstance(exc, SystemExit):
        return exc.code in (0, None)
    return type(exc).__name__ == "Exit" and getattr(exc, "exit_code", 1) == 0


@contextmanager
def public_release(db: str | Path | None = None, *, name: str = "output", ledger: str | Path | None = None,
                   snapshot: str | None = None, hold: bool = False, cache: Any = None) -> Iterator[None]:
    """Every public table made inside joins the open release of the database's snapshot (opened on first use).

    hold=True (each CLI command): what the tables published is recorded in the ledger only when the block
    ends without an error, i.e. once the output has been written; an error (a bad --out, a crash) forgets
    it. The ledger is locked for writing from the first public table to the end of the block, so hold only
    short blocks. A public_release opened inside a held one for the same database joins it.

    cache: a `disclosure.LedgerCache` kept by the caller across scopes (one per explorer session): what the
    release published is then read back from the ledger incrementally instead of afresh for every table.
    """
    outer = _SCOPE.get()
    if outer is not None and outer.hold and (outer.db, outer.ledger, outer.snapshot) == (db, ledger, snapshot):
        yield
        return
    scope = _Scope(db, name, ledger, snapshot, hold=hold, cache=cache)
    token = _SCOPE.set(scope)
    error: BaseException | None = None
    try:
        yield
    except BaseException as e:
        error = e
        raise
    finally:
        _SCOPE.reset(token)
        if scope.opened is not None:
            try:
                if hold and _succeeded(error):
                    scope.opened.commit()
            finally:
                scope.opened.close()


def current_release() -> Any:
    """The Release of the innermost public_release scope (opened now if need be), or None outside one."""
    scope = _SCOPE.get()
    if scope is None:
        return None
    if scope.opened is None:
        from lt_workbench.analysis.disclosure import Release, ledger_path

        snap = scope.snapshot
        if snap is None:
            from lt_workbench.model.snapshot import snapshot

            snap = str(snapshot(scope.db)["content_hash"])
        scope.opened = Release(scope.ledger or ledger_path(scope.db), snap, name=scope.name, database=str(scope.db or ""),
                               hold=scope.hold, cache=scope.cache)
    return scope.opened


def question_of(attrs: Mapping[str, Any]) -> dict[str, Any]:
    """What a table counts, from its attrs: frame, level, unit, filters (canonical values), year basis, and the
    as-of date of a table judged at one (recommendation status, overdue ages): another date is another question."""
    where: dict[str, Any] = {}
    for k, v in dict(attrs.get("where") or {}).items():
        try:
            vals = _values(_dim(str(k)), v, DEFAULT_TAXONOMY_VERSION)
            where[str(k)] = str(vals) if isinstance(vals, YearSpan) else sorted(str(x) for x in vals)
        except (WorkbenchError, TypeError, ValueError):
            where[str(k)] = str(v)
    question = {"frame": attrs.get("frame"), "level": attrs.get("level"), "unit": attrs.get("unit"), "where": where,
                "year_basis": attrs.get("year_basis", "completed")}
    if attrs.get("as_of"):
        question["as_of"] = str(attrs["as_of"])
    return question


def _lift_filters(table: pd.DataFrame, attrs: Mapping[str, Any]) -> tuple[pd.DataFrame, dict[str, Any], list[str]]:
    """A filter picking one value of a dimension each unit has exactly one of (region=north_west, one year) becomes a
    constant column: the table is that slice of the table by the dimension, so its cells are the same cells (one
    identity), and slices add up to the whole across tables (lines found by Problem.link_families). Without this,
    views filtered to each region and a national view would be unlinked families a reader could difference.
    Returns (table with the columns, attrs without those filters, the columns added)."""
    implied = implied_filters(table, attrs, _TOTAL)  # a trend by year over 2015..2025: each row is one year's slice
    where = {k: v for k, v in dict(attrs.get("where") or {}).items() if k not in implied}
    lifted: dict[str, Any] = {}
    for k, v in where.items():
        try:
            d = _dim(str(k))
            vals = _values(d, v, DEFAULT_TAXONOMY_VERSION)
        except (WorkbenchError, TypeError, ValueError):
            continue
        if d.name in table.columns or attrs.get("unit") not in d.single_per or not d.by:
            continue
        if isinstance(vals, YearSpan):
            if vals.lo is not None and vals.lo == vals.hi:
                lifted[str(k)] = (d.name, int(vals.lo))
        elif len(vals) == 1:
            lifted[str(k)] = (d.name, vals[0])
    if not lifted:
        return table, {**attrs, "where": where}, []
    out = table.assign(**{name: value for name, value in lifted.values()})
    return out, {**attrs, "where": {k: v for k, v in where.items() if k not in lifted}}, [name for name, _ in lifted.values()]


def _request(table: pd.DataFrame, attrs: Mapping[str, Any], structural: Sequence[str] = ()) -> Any:
    from lt_workbench.analysis import disclosure as sdc

    dims = [c for c in table.columns if c not in (*_MEASURE_COLUMNS, "suppressed")]
    question = question_of(attrs)
    if attrs.get("family"):
        question["family"] = attrs["family"]
    level = attrs.get("level")
    parents = _parents(str(attrs.get("frame")), tuple(str(c) for c in table["code"])) if isinstance(level, int) and level > 1 else {}
    return sdc.Request(table.drop(columns=[c for c in ("suppressed",) if c in table.columns]), lines=attrs.get("lines") or None,
                       totals=_TOTAL, partition=bool(attrs.get("partition")), dims=dims, question=question,
                       name=str(attrs.get("table", "table")), structural=structural, parents=parents)


@functools.lru_cache(maxsize=4)
def _taxonomy_parents(version: str) -> dict[tuple[str, str], str]:
    from lt_workbench.model.frames import taxonomy_frame

    t = taxonomy_frame(version)
    return {(str(f), str(c)): str(p) for f, c, p in zip(t["frame"], t["code"], t["parent"], strict=True) if isinstance(p, str) and p}


def _parents(frame: str, codes: tuple[str, ...]) -> dict[str, str]:
    """code -> parent code of a taxonomy frame's codes (a unit with a code counts for its parent: review_codes)."""
    known = _taxonomy_parents(DEFAULT_TAXONOMY_VERSION)
    return {c: known[frame, c] for c in codes if (frame, c) in known}


def lifted_request(table: pd.DataFrame) -> Any:
    """The request of a restricted tidy table (attrs intact) as `frequency` publishes it: filters lifted to columns
    (_lift_filters), so a margin of another table (co-occurrence's n_a, a comparison's group) is the same cell."""
    lifted, keyed, _ = _lift_filters(table, {str(k): v for k, v in table.attrs.items()})
    return _request(lifted, keyed)


def _finish(protected: Any, attrs: Mapping[str, Any]) -> pd.DataFrame:
    out: pd.DataFrame = protected.table
    out.attrs.update(dict(attrs))
    out.attrs.update(
        {"disclosure": protected.mode, "profile": protected.profile, "threshold": protected.threshold,
         "note": protected.note, "audit": protected.audit}
    )
    if protected.mode == "public":
        out.attrs["lp_audit"] = protected.lp_audit
        out.attrs.update({f"disclosure_{k}" if k != "release" else "release": v for k, v in protected.facts.items()})
    return out


@dataclass
class Build:
    """A public table before protection: its requests and links (disclosure.Request, problem.Link; a link's table
    numbers count within this build), and how the protected requests render back into the table's shape.

    Builds of several tables go into ONE joint problem (`protect_builds`): a report's tidy tables, recurrence,
    comparisons, funnels and co-occurrence together.
    """

    requests: list[Any]
    render: Callable[[list[Any]], pd.DataFrame]
    links: list[Any] = field(default_factory=list)
    profile: str = "dfe"
    threshold: int | None = None
    restricted: Callable[[], pd.DataFrame] | None = None  # the table unprotected (to show it withheld if refused)

    def then(self, fn: Callable[[pd.DataFrame], pd.DataFrame]) -> Build:
        """The same build, its rendered table passed through fn (ordering, a top-N cut, derived columns)."""
        render = self.render
        return Build(self.requests, lambda done: fn(render(done)), self.links, self.profile, self.threshold, self.restricted)


def tidy_build(table: pd.DataFrame, attrs: Mapping[str, Any], *, profile: str = "dfe", threshold: int | None = None,
               structural: Sequence[str] = (), slices: Mapping[str, pd.DataFrame] | None = None) -> Build:
    """The build of a tidy table (code, label, dims, count, denominator, ...) with its question in attrs; slices: the
    table by each dimension it is filtered to several values of (analysis/slicing.py), linked to it."""
    lifted_table, keyed, lifted = _lift_filters(table, attrs)
    req = _request(lifted_table, keyed, structural)
    extra, links = slice_requests(lifted_table, attrs, slices, 1, structural) if slices else ([], [])
    kept = dict(attrs)
    return Build([req, *extra], lambda done: _finish(done[0], kept).drop(columns=lifted) if lifted else _finish(done[0], kept),
                 list(links), profile, threshold)


def _shift(ref: Any, offset: int) -> Any:
    return (ref[0] + offset, ref[1], ref[2]) if isinstance(ref, tuple) else ref


def protect_builds(builds: Sequence[Build]) -> list[pd.DataFrame]:
    """Protect builds as ONE joint problem in the current release (if any); the public tables, in order."""
    from lt_workbench.analysis import disclosure as sdc
    from lt_workbench.analysis.disclosure.problem import Link

    if not builds:
        return []
    reqs: list[Any] = []
    links: list[Any] = []
    spans = []
    for b in builds:
        off = len(reqs)
        reqs += b.requests
        links += [Link(_shift(lk.total, off), tuple(_shift(p, off) for p in lk.parts), lk.what) for lk in b.links]
        spans.append((off, len(reqs)))
    first = builds[0]
    done = sdc.protect_many(reqs, mode="public", profile=first.profile, threshold=first.threshold, release=current_release(),
                            links=links)
    return [b.render(done[lo:hi]) for b, (lo, hi) in zip(builds, spans, strict=True)]


_COLLECT: ContextVar[list[Build] | None] = ContextVar("lt_workbench_collect_builds", default=None)


@contextmanager
def collect() -> Iterator[list[Build]]:
    """Inside: a tabulation with several counts per row (recurrence, compare, funnel, co-occurrence) asked in public
    mode hands its Build to the list instead of protecting it, and returns an empty placeholder table; the caller
    protects the builds together (a report's plan: with its tidy tables, in one problem) and renders them."""
    pending: list[Build] = []
    token = _COLLECT.set(pending)
    try:
        yield pending
    finally:
        _COLLECT.reset(token)


def deliver(build: Build) -> pd.DataFrame:
    """A public table from its build: protected now in the current release, or, inside collect(), handed over."""
    pending = _COLLECT.get()
    if pending is not None:
        pending.append(build)
        return pd.DataFrame()
    return protect_builds([build])[0]


def apply_disclosure(
    table: pd.DataFrame,
    attrs: Mapping[str, Any],
    *,
    disclosure: Disclosure = "restricted",
    profile: str = "dfe",
    threshold: int | None = None,
    count_columns: Sequence[str] = ("count",),
    structural: Sequence[str] = (),
    slices: Mapping[str, pd.DataFrame] | None = None,
) -> pd.DataFrame:
    """Pass a tidy table through disclosure control (jointly with the current release, if any), keeping attrs;
    slices: the table by each dimension it is filtered to several values of (see analysis/slicing.py)."""
    from lt_workbench.analysis import disclosure as sdc

    if disclosure not in ("restricted", "public"):
        raise TabulationError(f"unknown disclosure {disclosure!r}: use 'public' or 'restricted'")
    if disclosure == "restricted":
        # Nothing is hidden or recorded: no question to key cells by, no filters to lift (each cost a parse of
        # the filters and a copy of the table on every call).
        plain = table.drop(columns=["suppressed"]) if "suppressed" in table.columns else table
        done = sdc.protect_many([sdc.Request(plain)], mode="restricted", profile=profile, threshold=threshold)[0]
        return _finish(done, attrs)
    return protect_builds([tidy_build(table, attrs, profile=profile, threshold=threshold, structural=structural,
                                      slices=slices)])[0]


def publish_many(tables: Sequence[pd.DataFrame], *, profile: str = "dfe", threshold: int | None = None) -> list[pd.DataFrame]:
    """Protect restricted tidy tables (from frequency/recommendations, attrs intact) as one joint public problem.

    For a report or a batch: what one table hides, no other lets a reader derive. Joins the current
    release when inside public_release(...). `protect_builds` does the same for any mix of builds.
    """
    return protect_builds([tidy_build(t, {str(k): v for k, v in t.attrs.items()}, profile=profile, threshold=threshold)
                           for t in tables])


def rank_shown(table: pd.DataFrame, column: str) -> pd.Series:
    """Competition rank on the shown figures of `column` (hidden last, unranked); ties as '2='."""
    shown = pd.to_numeric(table[column], errors="coerce")
    r = shown.rank(method="min", ascending=False)
    counts = r.value_counts()
    return pd.Series([("c" if pd.isna(v) else f"{int(v)}" + ("=" if counts[v] > 1 else "")) for v in r], index=table.index, dtype=object)


def profile_threshold(profile: str, threshold: int | None) -> int:
    """The smallest showable count for `profile` (or `threshold`); an unknown profile is a DisclosureError."""
    from lt_workbench.analysis.disclosure.profiles import resolve_profile

    return int(resolve_profile(profile, threshold)[1])


def _refuse_public(what: str, disclosure: str) -> None:
    if disclosure == "public":
        raise TabulationError(
            f"{what} shows what reviewers wrote (free text) or lists single records, which never appear in public "
            "output; run it with disclosure='restricted' (CLI: --disclosure restricted) and keep the result inside "
            "the secure environment"
        )


def _restricted_note() -> str:
    from lt_workbench.analysis.disclosure import RESTRICTED_NOTE

    return RESTRICTED_NOTE



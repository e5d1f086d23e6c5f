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

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from lt_workbench.analysis.shape import _with_rates
from lt_workbench.analysis.slicing import implied_filters, slice_requests
from lt_workbench.analysis.vocab import _TOTAL, Disclosure, YearSpan, _dim, _values
from lt_workbench.config import DEFAULT_TAXONOMY_VERSION
from lt_workbench.exceptions import TabulationError, WorkbenchError

__all__ = ["apply_disclosure", "profile_threshold", "public_release", "current_release", "publish_many", "question_of", "rank_shown", "RANKING_RULE"]

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
                   snapshot: str | None = None, hold: bool = False) -> Iterator[None]:
    """Every public table made inside joins the open release of the database's snapshot (opened on first use).

    hold=True (each CLI command): what the tables published is recorded in the ledger only when the block
    ends without an error, i.e. once the output has been written; an error (a bad --out, a crash) forgets
    it. The ledger is locked for writing from the first public table to the end of the block, so hold only
    short blocks. A public_release opened inside a held one for the same database joins it.
    """
    outer = _SCOPE.get()
    if outer is not None and outer.hold and (outer.db, outer.ledger, outer.snapshot) == (db, ledger, snapshot):
        yield
        return
    scope = _Scope(db, name, ledger, snapshot, hold=hold)
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
                               hold=scope.hold)
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
    return sdc.Request(table.drop(columns=[c for c in ("suppressed",) if c in table.columns]), lines=attrs.get("lines") or None,
                       totals=_TOTAL, partition=bool(attrs.get("partition")), dims=dims, question=question,
                       name=str(attrs.get("table", "table")), structural=structural)


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
    table, keyed, lifted = _lift_filters(table, attrs)
    req = _request(table, keyed, structural)
    extra, links = slice_requests(table, attrs, slices, 1, structural) if slices else ([], [])
    done = sdc.protect_many([req, *extra], profile=profile, threshold=threshold, release=current_release(), links=links)[0]
    out = _finish(done, attrs)
    return out.drop(columns=lifted) if lifted else out


def publish_many(tables: Sequence[pd.DataFrame], *, profile: str = "dfe", threshold: int | None = None) -> list[pd.DataFrame]:
    """Protect restricted tidy tables (from frequency/recommendations, attrs intact) as one joint public problem.

    For a report or a batch: what one table hides, no other lets a reader derive. Joins the current
    release when inside public_release(...).
    """
    from lt_workbench.analysis import disclosure as sdc

    lifted = [_lift_filters(t, {str(k): v for k, v in t.attrs.items()}) for t in tables]
    reqs = [_request(t, keyed) for t, keyed, _ in lifted]
    done = sdc.protect_many(reqs, mode="public", profile=profile, threshold=threshold, release=current_release())
    return [_finish(p, {str(k): v for k, v in t.attrs.items()}).drop(columns=cols)
            for p, t, (_, _, cols) in zip(done, tables, lifted, strict=True)]


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


def _protect_recurrence(out: pd.DataFrame, attrs: dict[str, Any], disclosure: str, profile: str, threshold: int | None) -> pd.DataFrame:
    """Public recurrence: protect recent + before = all as one additive line per code, then hide what depends on hidden counts."""
    if disclosure == "restricted":
        out = out.copy()
        out["suppressed"] = False
        out.attrs.update(attrs)
        out.attrs.update({"disclosure": "restricted", "note": _restricted_note()})
        return out
    long = pd.concat(
        [
            pd.DataFrame({"code": out["code"], "label": out["label"], "period": p, "count": out[cnt], "denominator": out[den]})
            for p, cnt, den in (("recent", "reviews_recent", "denominator_recent"), ("before", "reviews_before", "denominator_before"),
                                (_TOTAL, "reviews", "denominator"))
        ],
        ignore_index=True,
    )
    long = _with_rates(long)
    prot = apply_disclosure(long, {**question_of(attrs), "table": "recurrence", "lines": [["period"]], "partition": False},
                            disclosure="public", profile=profile, threshold=threshold, structural=("period",))
    shown = {p: prot[prot["period"] == p].set_index("code") for p in ("recent", "before", _TOTAL)}
    pub = pd.DataFrame({"code": out["code"], "label": out["label"]})
    idx = out["code"]
    pub["reviews"] = shown[_TOTAL].loc[idx, "count"].to_numpy()
    hidden_total = shown[_TOTAL].loc[idx, "suppressed"].to_numpy(dtype=bool)
    for col in ("areas", "regions", "first_year", "last_year"):
        pub[col] = np.where(hidden_total, "c", out[col].astype(object).to_numpy())
    pub["denominator"] = shown[_TOTAL].loc[idx, "denominator"].to_numpy()
    pub["percent"] = shown[_TOTAL].loc[idx, "percent"].to_numpy()
    any_hidden = hidden_total.copy()
    for p in ("recent", "before"):
        pub[f"reviews_{p}"] = shown[p].loc[idx, "count"].to_numpy()
        pub[f"denominator_{p}"] = shown[p].loc[idx, "denominator"].to_numpy()
        pub[f"percent_{p}"] = shown[p].loc[idx, "percent"].to_numpy()
        any_hidden |= shown[p].loc[idx, "suppressed"].to_numpy(dtype=bool)
    for col in ("odds_ratio", "or_ci_low", "or_ci_high", "p_value", "q_value"):
        pub[col] = np.where(any_hidden, "c", out[col].round(4).astype(object).to_numpy())
    pub["suppressed"] = any_hidden
    # Order and rank on what is shown (a true-count order would betray hidden and rounded values).
    key = pd.to_numeric(pub["reviews"], errors="coerce")
    pub = pub.assign(_k=key.fillna(-1)).sort_values("_k", ascending=False, kind="mergesort").drop(columns="_k").reset_index(drop=True)
    pub.insert(0, "rank", rank_shown(pub, "reviews"))
    pub.attrs.update(attrs)
    pub.attrs.update({k: v for k, v in prot.attrs.items() if k in ("note", "audit", "profile", "threshold", "lp_audit", "release")
                      or str(k).startswith("disclosure_")})
    pub.attrs.update({"disclosure": "public", "ranking": "reviews " + RANKING_RULE})
    return pub


def _restricted_note() -> str:
    from lt_workbench.analysis.disclosure import RESTRICTED_NOTE

    return RESTRICTED_NOTE


def _protect_pairs(out: pd.DataFrame, attrs: dict[str, Any], disclosure: str, profile: str, threshold: int | None,
                   parts: Sequence[tuple[str, str, str]], dependent: Sequence[str], line: bool = True,
                   margins: Sequence[pd.DataFrame] | None = None) -> pd.DataFrame:
    """Public version of a table with several count/denominator pairs per code (e.g. group and rest).

    margins: (the first part's frequency table, the total's), restricted with attrs intact and rows in `out`'s
    order: the first part's cells are then the cells `frequency` publishes for the same question (one number in
    the release); the total and the second part are the table's own cells, linked by total = first + second per
    code and for the units, so the audit knows what a reader can add up.
    """
    if disclosure == "restricted":
        out = out.copy()
        out["suppressed"] = False
        out.attrs.update(attrs)
        out.attrs.update({"disclosure": "restricted", "note": _restricted_note()})
        return out
    if margins is not None:
        return _protect_linked_pairs(out, attrs, profile, threshold, parts, dependent, margins)
    frames = [pd.DataFrame({"code": out["code"], "label": out["label"], "part": name, "count": out[cnt], "denominator": out[den]})
              for name, cnt, den in parts]
    if line and len(parts) == 2:
        frames.append(pd.DataFrame({"code": out["code"], "label": out["label"], "part": _TOTAL,
                                    "count": out[parts[0][1]] + out[parts[1][1]], "denominator": out[parts[0][2]] + out[parts[1][2]]}))
    long = _with_rates(pd.concat(frames, ignore_index=True))
    prot = apply_disclosure(long, {**question_of(attrs), "family": str(attrs.get("table", "pairs")),
                                   "lines": [["part"]] if line and len(parts) == 2 else [], "partition": False},
                            disclosure="public", profile=profile, threshold=threshold, structural=("part",))
    pub = pd.DataFrame({"code": out["code"], "label": out["label"]})
    hidden = np.zeros(len(out), dtype=bool)
    for name, cnt, den in parts:
        s = prot[prot["part"] == name].set_index("code").loc[out["code"]]
        pub[cnt] = s["count"].to_numpy()
        pub[den] = s["denominator"].to_numpy()
        pub[f"percent_{name}"] = s["percent"].to_numpy()
        hidden |= s["suppressed"].to_numpy(dtype=bool) | (s["denominator"].astype(str) == "c").to_numpy()
    for col in dependent:
        pub[col] = np.where(hidden, "c", out[col].round(4).astype(object).to_numpy())
    pub["suppressed"] = hidden
    pub.attrs.update(attrs)
    pub.attrs.update({k: v for k, v in prot.attrs.items() if k in ("note", "audit", "lp_audit", "release") or str(k).startswith("disclosure_")})
    pub.attrs["disclosure"] = "public"
    return pub


def _protect_linked_pairs(out: pd.DataFrame, attrs: dict[str, Any], profile: str, threshold: int | None,
                          parts: Sequence[tuple[str, str, str]], dependent: Sequence[str], margins: Sequence[pd.DataFrame]) -> pd.DataFrame:
    from lt_workbench.analysis import disclosure as sdc
    from lt_workbench.analysis.disclosure.problem import Link

    first, total = margins
    (n1, _, _), (n2, c2, d2) = parts
    if list(first["code"]) != list(out["code"]) or list(total["code"]) != list(out["code"]):
        raise TabulationError("internal: the margins of a paired table must have its codes in its order")
    second = _with_rates(pd.DataFrame({"code": out["code"], "label": out["label"], "count": out[c2], "denominator": out[d2]}))
    # The first part is frequency's question (one cell in the release); the total and the second part are this
    # table's own cells (the total is not identified with frequency's, so a by-region table published in the same
    # release is not refused over it), linked: total = first + second.
    qt = {**question_of({str(k): v for k, v in total.attrs.items()}), "family": f"{attrs.get('table', 'pairs')} all",
          "of": _json_safe(attrs.get("group"))}
    q2 = {**qt, "family": f"{attrs.get('table', 'pairs')} {n2}"}
    tot = total[["code", "label", "count", "denominator"]]
    reqs = [_request(first, {str(k): v for k, v in first.attrs.items()}),
            sdc.Request(tot, question=qt, name=f"{attrs.get('table', 'pairs')} (all)", dims=[]),
            sdc.Request(second, question=q2, name=f"{attrs.get('table', 'pairs')} ({n2})", dims=[])]
    links = [Link((1, i, "count"), ((0, i, "count"), (2, i, "count")), f"{code}: all = {n1} + {n2}") for i, code in enumerate(out["code"])]
    if len(out):
        links.append(Link((1, 0, "denominator"), ((0, 0, "denominator"), (2, 0, "denominator")), f"units: all = {n1} + {n2}"))
    done = sdc.protect_many(reqs, mode="public", profile=profile, threshold=threshold, release=current_release(), links=links)
    pub = pd.DataFrame({"code": out["code"], "label": out["label"]})
    hidden = np.zeros(len(out), dtype=bool)
    for (name, cnt, den), d in zip(parts, (done[0], done[2]), strict=True):
        t = d.table
        pub[cnt] = t["count"].to_numpy(dtype=object)
        pub[den] = t["denominator"].to_numpy(dtype=object)
        pub[f"percent_{name}"] = t["percent"].to_numpy(dtype=object)
        hidden |= t["suppressed"].to_numpy(dtype=bool) | (t["denominator"].astype(str) == SUPPRESSED_SYMBOL).to_numpy()
    for col in dependent:
        pub[col] = np.where(hidden, SUPPRESSED_SYMBOL, out[col].round(4).astype(object).to_numpy())
    pub["suppressed"] = hidden
    pub.attrs.update(attrs)
    pub.attrs.update({"disclosure": "public", "note": done[2].note, "audit": pd.concat([d.audit for d in done], ignore_index=True),
                      "lp_audit": pd.concat([d.lp_audit for d in done], ignore_index=True), "profile": done[2].profile,
                      "threshold": done[2].threshold,
                      **{f"disclosure_{k}" if k != "release" else "release": v for k, v in done[2].facts.items()}})
    return pub


def _json_safe(v: Any) -> Any:
    """A value as it goes into a cell's question (plain strings for mappings, so the key is stable)."""
    if isinstance(v, Mapping):
        return {str(k): str(x) for k, x in sorted(v.items())}
    return v


def _protect_cooccurrence(out: pd.DataFrame, attrs: dict[str, Any], profile: str, threshold: int | None,
                          margins: Sequence[pd.DataFrame], pair_question: Mapping[str, Any], or_kind: str = "sample") -> pd.DataFrame:
    """Public co-occurrence, protected jointly with the current release (one problem with what it already published).

    `margins`: the restricted frequency tables (attrs intact) of side a and side b (one table when both sides are
    the same question), holding every code of the pairs: n_a and n_b are their cells, so they show what `frequency`
    shows for the same question in the same release (hidden there, hidden here). n_ab is a new cell per pair and n
    the pair table's denominator, equal to the margins' denominators. Links tell the audit what a reader knows:
    n_a = n_ab + (a without b), n_b = n_ab + (b without a), n = n_ab + (a without b) + (b without a) + (neither),
    with the remainders unseen and ≥ 0 (so 0 ≤ n_ab ≤ min(n_a, n_b) and n_a + n_b − n_ab ≤ n). Primary rule as
    before: n_ab, n_a, n_b, n, n_a − n_ab or n_b − n_ab of 1..threshold-1 is hidden (the remainders are latent
    counts: primary when small, audited), and a pair's statistics are hidden with any of its counts.
    """
    from lt_workbench.analysis import disclosure as sdc
    from lt_workbench.analysis.disclosure.problem import Latent, Link

    side_a, side_b = margins[0], margins[-1]
    row_a = {c: i for i, c in enumerate(side_a["code"])}
    row_b = {c: i for i, c in enumerate(side_b["code"])}
    ib = len(margins) - 1
    ip = len(margins)
    pairs = pd.DataFrame({"code": out["code_a"].astype(str) + "|" + out["code_b"].astype(str),
                          "label": out["label_a"].astype(str) + " | " + out["label_b"].astype(str),
                          "count": out["n_ab"].to_numpy(), "denominator": out["n"].to_numpy()})
    reqs = [_request(m, {str(k): v for k, v in m.attrs.items()}) for m in margins]
    reqs.append(sdc.Request(pairs, question=dict(pair_question), name="cooccurrence", dims=[]))
    links: list[Link] = []
    fam = dict(pair_question)
    for i, (a, b, ab, na, nb, n) in enumerate(zip(out["code_a"], out["code_b"], out["n_ab"], out["n_a"], out["n_b"], out["n"],
                                                  strict=True)):
        key = f"{a}|{b}"
        a_only = Latent(fam, {"code": key, "part": "a_only"}, int(na - ab))
        b_only = Latent(fam, {"code": key, "part": "b_only"}, int(nb - ab))
        neither = Latent(fam, {"code": key, "part": "neither"}, int(n - na - nb + ab), sensitive=False)
        links += [Link((0, row_a[a], "count"), ((ip, i, "count"), a_only), f"{a} = {key} + {a} without {b}"),
                  Link((ib, row_b[b], "count"), ((ip, i, "count"), b_only), f"{b} = {key} + {b} without {a}"),
                  Link((ip, i, "denominator"), ((ip, i, "count"), a_only, b_only, neither), f"units = 2 x 2 table of {key}")]
    if len(out):
        links.append(Link((ip, 0, "denominator"), ((ib, 0, "denominator"),), "pairs' units = units counted for the codes"))
        if ib:
            links.append(Link((ib, 0, "denominator"), ((0, 0, "denominator"),), "units counted for either side"))
    done = sdc.protect_many(reqs, mode="public", profile=profile, threshold=threshold, release=current_release(), links=links)
    pa, pb, pp = done[0].table, done[-2].table, done[-1].table

    def shown(t: pd.DataFrame, rows: list[int], col: str) -> np.ndarray:
        return t[col].to_numpy(dtype=object)[rows] if rows else np.array([], dtype=object)

    ra = [row_a[c] for c in out["code_a"]]
    rb = [row_b[c] for c in out["code_b"]]
    pub = out.astype(object).copy()
    pub["n_a"] = shown(pa, ra, "count")
    pub["n_b"] = shown(pb, rb, "count")
    pub["n_ab"] = pp["count"].to_numpy(dtype=object)
    pub["n"] = pp["denominator"].to_numpy(dtype=object)
    counts = ("n_a", "n_b", "n_ab", "n")
    hidden_any = np.zeros(len(out), dtype=bool)
    for col in counts:
        hidden_any |= (pub[col].astype(str) == SUPPRESSED_SYMBOL).to_numpy()
    exact = np.ones(len(out), dtype=bool)
    for col in counts:
        exact &= np.array([v == SUPPRESSED_SYMBOL or int(v) == int(t) for v, t in zip(pub[col], out[col], strict=True)], dtype=bool)
    stat_cols = [c for c in ("jaccard", "lift", "odds_ratio", "or_ci_low", "or_ci_high", "p_value", "q_value") if c in out.columns]
    redo = ~hidden_any & ~exact  # rounded figures: statistics from the figures as shown, like percentages
    if redo.any():
        _pair_statistics(pub, out, redo, or_kind)
    for col in stat_cols:
        pub[col] = np.where(hidden_any, SUPPRESSED_SYMBOL, pd.to_numeric(pub[col]).round(4).astype(object))
    pub["suppressed"] = (pp["suppressed"].to_numpy(dtype=bool) if len(pp) else np.zeros(0, dtype=bool))
    pub.attrs.update(attrs)
    facts = {k: v for k, v in done[-1].table.attrs.items()}
    pub.attrs.update(facts)
    pub.attrs.update({
        "disclosure": "public", "profile": done[-1].profile, "threshold": done[-1].threshold,
        "note": done[-1].note + (" n_a and n_b are the figures the frequency table of the same question shows in this release; "
                                 "a pair's statistics are hidden (c) when any of its counts is, and computed from the figures "
                                 "as shown where they are rounded."),
        "audit": pd.concat([d.audit for d in done], ignore_index=True),
        "lp_audit": pd.concat([d.lp_audit for d in done], ignore_index=True),
        **{f"disclosure_{k}" if k != "release" else "release": v for k, v in done[-1].facts.items()}})
    return pub


def _pair_statistics(pub: pd.DataFrame, out: pd.DataFrame, rows: np.ndarray, or_kind: str) -> None:
    """Jaccard, lift and (if tested) Fisher statistics of `rows` recomputed from the shown counts (in place)."""
    from lt_workbench.analysis import stats

    idx = np.flatnonzero(rows)
    ab, a, b, n = (np.array([int(pub[c].iloc[i]) for i in idx], dtype=np.int64) for c in ("n_ab", "n_a", "n_b", "n"))
    with np.errstate(divide="ignore", invalid="ignore"):
        pub.loc[pub.index[idx], "jaccard"] = ab / np.maximum(a + b - ab, 1)
        pub.loc[pub.index[idx], "lift"] = ab * n / np.maximum(a * b, 1)
    if "p_value" in out.columns:
        # the 2 x 2 cells as shown; rounding can make one negative, which no table has: clip at 0
        res = stats.fisher_many(ab, np.maximum(a - ab, 0), np.maximum(b - ab, 0), np.maximum(n - a - b + ab, 0),
                                "conditional" if or_kind == "conditional" else "sample")
        for col, key in (("odds_ratio", "odds_ratio"), ("or_ci_low", "ci_low"), ("or_ci_high", "ci_high"), ("p_value", "p_value")):
            pub.loc[pub.index[idx], col] = np.asarray(res[key], dtype=float)
        p = pd.to_numeric(pub["p_value"], errors="coerce")
        pub["q_value"] = stats.bh_adjust(p)[0]

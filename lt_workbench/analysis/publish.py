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
from lt_workbench.analysis.vocab import _TOTAL, Disclosure, YearSpan, _dim, _values
from lt_workbench.config import DEFAULT_TAXONOMY_VERSION
from lt_workbench.exceptions import TabulationError, WorkbenchError

__all__ = ["apply_disclosure", "profile_threshold", "public_release", "current_release", "publish_many", "question_of", "rank_shown", "RANKING_RULE"]

_MEASURE_COLUMNS = ("code", "label", "count", "denominator", "percent", "ci_low", "ci_high")
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
    """What a table counts, from its attrs: frame, level, unit, filters (canonical values) and year basis."""
    where: dict[str, Any] = {}
    for k, v in dict(attrs.get("where") or {}).items():
        try:
            vals = _values(_dim(str(k)), v, DEFAULT_TAXONOMY_VERSION)
            where[str(k)] = str(vals) if isinstance(vals, YearSpan) else sorted(str(x) for x in vals)
        except (WorkbenchError, TypeError, ValueError):
            where[str(k)] = str(v)
    return {"frame": attrs.get("frame"), "level": attrs.get("level"), "unit": attrs.get("unit"), "where": where,
            "year_basis": attrs.get("year_basis", "completed")}


def _lift_filters(table: pd.DataFrame, attrs: Mapping[str, Any]) -> tuple[pd.DataFrame, dict[str, Any], list[str]]:
    """A filter picking one value of a dimension each unit has exactly one of (region=north_west, one year) becomes a
    constant column: the table is that slice of the table by the dimension, so its cells are the same cells (one
    identity), and slices add up to the whole across tables (lines found by Problem.link_families). Without this,
    views filtered to each region and a national view would be unlinked families a reader could difference.
    Returns (table with the columns, attrs without those filters, the columns added)."""
    where = dict(attrs.get("where") or {})
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
        return table, dict(attrs), []
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
) -> pd.DataFrame:
    """Pass a tidy table through disclosure control (jointly with the current release, if any), keeping attrs."""
    from lt_workbench.analysis import disclosure as sdc

    if disclosure not in ("restricted", "public"):
        raise TabulationError(f"unknown disclosure {disclosure!r}: use 'public' or 'restricted'")
    rel = current_release() if disclosure == "public" else None
    table, keyed, lifted = _lift_filters(table, attrs) if disclosure == "public" else (table, dict(attrs), [])
    req = _request(table, keyed, structural)
    protected = sdc.protect_many([req], mode=disclosure, profile=profile, threshold=threshold, release=rel)[0]
    return _finish(protected, attrs).drop(columns=lifted)


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
                   parts: Sequence[tuple[str, str, str]], dependent: Sequence[str], line: bool = True) -> pd.DataFrame:
    """Public version of a table with several count/denominator pairs per code (e.g. group and rest)."""
    if disclosure == "restricted":
        out = out.copy()
        out["suppressed"] = False
        out.attrs.update(attrs)
        out.attrs.update({"disclosure": "restricted", "note": _restricted_note()})
        return out
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


def _protect_cooccurrence(out: pd.DataFrame, attrs: dict[str, Any], profile: str, threshold: int | None) -> pd.DataFrame:
    """Public co-occurrence: a pair is shown only when n_ab, n_a and n_b all pass the threshold (or n_ab is 0)."""
    from lt_workbench.analysis.disclosure import SUPPRESSED
    from lt_workbench.analysis.disclosure.profiles import resolve_profile

    prof, thr = resolve_profile(profile, threshold)

    def small(s: pd.Series) -> pd.Series:
        return (s > 0) & (s < thr)

    hidden = (small(out["n_ab"]) | small(out["n_a"]) | small(out["n_b"]) | small(out["n"])
              | small(out["n_a"] - out["n_ab"]) | small(out["n_b"] - out["n_ab"])).to_numpy()
    pub = out.astype(object).copy()
    for col in [c for c in out.columns if c not in ("code_a", "label_a", "code_b", "label_b", "n")]:
        pub[col] = np.where(hidden, SUPPRESSED, out[col].round(4).astype(object))
    pub["suppressed"] = hidden
    base = prof.rounding
    if base:
        for col in ("n_a", "n_b", "n_ab", "n"):
            pub[col] = [v if v == SUPPRESSED else int(np.floor(v / base + 0.5) * base) for v in pub[col]]
    pub.attrs.update(attrs)
    pub.attrs.update({"disclosure": "public", "note": (
        f"Public ({prof.name} profile): a pair is hidden (c) when its count together, either count alone, or either "
        f"difference is 1-{thr - 1}; statistics of hidden pairs are hidden too.")})
    return pub

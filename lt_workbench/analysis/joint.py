"""Public tables with several counts per row (recurrence, compare, co-occurrence) as builds for one joint problem.

Each table is split in two: a *build* (analysis.publish.Build: the tidy requests its counts are, the links
between them, and a render that puts the protected cells back into the table's shape) and the caller's
choice of when to protect it. Called on its own (the CLI, Python), a table is protected at once in the
current release (`publish.deliver`); inside `publish.collect()` (a report's plan, a batch) its build is
handed over and protected in ONE problem with the report's other tables (`publish.protect_builds`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from lt_workbench.analysis.publish import (
    RANKING_RULE,
    SUPPRESSED_SYMBOL,
    Build,
    _restricted_note,
    deliver,
    lifted_request,
    question_of,
    rank_shown,
    tidy_build,
)
from lt_workbench.analysis.shape import _with_rates
from lt_workbench.analysis.vocab import _TOTAL
from lt_workbench.exceptions import TabulationError

__all__ = ["recurrence_build", "pairs_build", "cooccurrence_build"]

Then = Callable[[pd.DataFrame], pd.DataFrame] | None


def _restricted(out: pd.DataFrame, attrs: Mapping[str, Any]) -> pd.DataFrame:
    out = out.copy()
    out["suppressed"] = False
    out.attrs.update(attrs)
    out.attrs.update({"disclosure": "restricted", "note": _restricted_note()})
    return out


def _facts(done: Any) -> dict[str, Any]:
    return {f"disclosure_{k}" if k != "release" else "release": v for k, v in done.facts.items()}


def _protect_recurrence(out: pd.DataFrame, attrs: dict[str, Any], disclosure: str, profile: str, threshold: int | None,
                        then: Then = None) -> pd.DataFrame:
    """Recurrence as published: restricted as is; public through its build (see recurrence_build)."""
    if disclosure == "restricted":
        res = _restricted(out, attrs)
        return then(res) if then else res
    b = recurrence_build(out, attrs, profile, threshold)
    return deliver(b.then(then) if then else b)


def recurrence_build(out: pd.DataFrame, attrs: dict[str, Any], profile: str, threshold: int | None) -> Build:
    """Public recurrence: recent + before = all as one additive line per code (all: frequency's cell for the same
    question), then what depends on a hidden count is hidden, and rows are ranked on the figures as shown."""
    long = pd.concat(
        [
            pd.DataFrame({"code": out["code"], "label": out["label"], "period": p, "count": out[cnt], "denominator": out[den]})
            for p, cnt, den in (("recent", "reviews_recent", "denominator_recent"), ("before", "reviews_before", "denominator_before"),
                                (_TOTAL, "reviews", "denominator"))
        ],
        ignore_index=True,
    )
    long = _with_rates(long)
    tidy = tidy_build(long, {**question_of(attrs), "table": "recurrence", "lines": [["period"]], "partition": False},
                      profile=profile, threshold=threshold, structural=("period",))
    return tidy.then(lambda prot: _render_recurrence(out, attrs, prot))


def _render_recurrence(out: pd.DataFrame, attrs: dict[str, Any], prot: pd.DataFrame) -> pd.DataFrame:
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


def _protect_pairs(out: pd.DataFrame, attrs: dict[str, Any], disclosure: str, profile: str, threshold: int | None,
                   parts: Sequence[tuple[str, str, str]], dependent: Sequence[str], margins: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """A table with a group's and the rest's count/denominator per code (compare), restricted or public (pairs_build)."""
    if disclosure == "restricted":
        return _restricted(out, attrs)
    return deliver(pairs_build(out, attrs, profile, threshold, parts, dependent, margins))


def pairs_build(out: pd.DataFrame, attrs: dict[str, Any], profile: str, threshold: int | None,
                parts: Sequence[tuple[str, str, str]], dependent: Sequence[str], margins: Sequence[pd.DataFrame]) -> Build:
    """margins: (the first part's frequency table, the total's), restricted with attrs intact and rows in `out`'s
    order. The first part's cells are the cells `frequency` publishes for the same question (one number in the
    release); the total and the second part are this table's own cells (the total is not identified with
    frequency's, so a by-region table published in the same release is not refused over it), linked by
    total = first + second per code and for the units, so the audit knows what a reader can add up."""
    from lt_workbench.analysis import disclosure as sdc
    from lt_workbench.analysis.disclosure.problem import Link

    first, total = margins
    (n1, _, _), (n2, c2, d2) = parts
    if list(first["code"]) != list(out["code"]) or list(total["code"]) != list(out["code"]):
        raise TabulationError("internal: the margins of a paired table must have its codes in its order")
    second = _with_rates(pd.DataFrame({"code": out["code"], "label": out["label"], "count": out[c2], "denominator": out[d2]}))
    qt = {**question_of({str(k): v for k, v in total.attrs.items()}), "family": f"{attrs.get('table', 'pairs')} all",
          "of": _json_safe(attrs.get("group"))}
    q2 = {**qt, "family": f"{attrs.get('table', 'pairs')} {n2}"}
    tot = total[["code", "label", "count", "denominator"]]
    reqs = [lifted_request(first),
            sdc.Request(tot, question=qt, name=f"{attrs.get('table', 'pairs')} (all)", dims=[]),
            sdc.Request(second, question=q2, name=f"{attrs.get('table', 'pairs')} ({n2})", dims=[])]
    links = [Link((1, i, "count"), ((0, i, "count"), (2, i, "count")), f"{code}: all = {n1} + {n2}") for i, code in enumerate(out["code"])]
    if len(out):
        links.append(Link((1, 0, "denominator"), ((0, 0, "denominator"), (2, 0, "denominator")), f"units: all = {n1} + {n2}"))

    def render(done: list[Any]) -> pd.DataFrame:
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
                          "threshold": done[2].threshold, **_facts(done[2])})
        return pub

    return Build(reqs, render, links, profile, threshold)


def _json_safe(v: Any) -> Any:
    """A value as it goes into a cell's question (plain strings for mappings, so the key is stable)."""
    if isinstance(v, Mapping):
        return {str(k): str(x) for k, x in sorted(v.items())}
    return v


def _protect_cooccurrence(out: pd.DataFrame, attrs: dict[str, Any], profile: str, threshold: int | None,
                          margins: Sequence[pd.DataFrame], pair_question: Mapping[str, Any], or_kind: str = "sample",
                          then: Then = None) -> pd.DataFrame:
    """Public co-occurrence, in the current release (see cooccurrence_build)."""
    b = cooccurrence_build(out, attrs, profile, threshold, margins, pair_question, or_kind)
    return deliver(b.then(then) if then else b)


def cooccurrence_build(out: pd.DataFrame, attrs: dict[str, Any], profile: str, threshold: int | None,
                       margins: Sequence[pd.DataFrame], pair_question: Mapping[str, Any], or_kind: str = "sample") -> Build:
    """Public co-occurrence as a build.

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
    reqs = [lifted_request(m) for m in margins]
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
    return Build(reqs, lambda done: _render_cooccurrence(out, attrs, done, row_a, row_b, or_kind), links, profile, threshold)


def _render_cooccurrence(out: pd.DataFrame, attrs: dict[str, Any], done: list[Any], row_a: Mapping[str, int],
                         row_b: Mapping[str, int], or_kind: str) -> pd.DataFrame:
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
    pub.attrs.update(dict(done[-1].table.attrs))
    pub.attrs.update({
        "disclosure": "public", "profile": done[-1].profile, "threshold": done[-1].threshold,
        "note": done[-1].note + (" n_a and n_b are the figures the frequency table of the same question shows in this release; "
                                 "a pair's statistics are hidden (c) when any of its counts is, and computed from the figures "
                                 "as shown where they are rounded."),
        "audit": pd.concat([d.audit for d in done], ignore_index=True),
        "lp_audit": pd.concat([d.lp_audit for d in done], ignore_index=True), **_facts(done[-1])})
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

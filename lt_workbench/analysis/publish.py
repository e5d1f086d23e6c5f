"""Disclosure glue: how each tabulation's output passes through lt_workbench.analysis.disclosure.

`apply_disclosure` protects a tidy table with the additive lines it really has; the `_protect_*`
helpers do the same for tables with several counts per row (recurrence, compare, co-occurrence).
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from lt_workbench.analysis.shape import _with_rates
from lt_workbench.analysis.vocab import _TOTAL, Disclosure
from lt_workbench.exceptions import TabulationError

__all__ = ["apply_disclosure"]


def apply_disclosure(
    table: pd.DataFrame,
    attrs: Mapping[str, Any],
    *,
    disclosure: Disclosure = "restricted",
    profile: str = "dfe",
    threshold: int | None = None,
    count_columns: Sequence[str] = ("count",),
) -> pd.DataFrame:
    """Pass a tidy table through lt_workbench.analysis.disclosure.protect, keeping attrs (unit, lines, note, audit)."""
    from lt_workbench.analysis import disclosure as sdc

    if disclosure not in ("restricted", "public"):
        raise TabulationError(f"unknown disclosure {disclosure!r}: use 'public' or 'restricted'")
    dims = [c for c in table.columns if c not in ("code", "label", "count", "denominator", "percent", "ci_low", "ci_high")]
    protected = sdc.protect(
        table,
        mode=disclosure,
        profile=profile,
        threshold=threshold,
        lines=attrs.get("lines") or None,
        totals=_TOTAL,
        partition=bool(attrs.get("partition")),
        dims=dims,
    )
    out = protected.table
    out.attrs.update(dict(attrs))
    out.attrs.update(
        {"disclosure": protected.mode, "profile": protected.profile, "threshold": protected.threshold,
         "note": protected.note, "audit": protected.audit}
    )
    return out


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
    prot = apply_disclosure(long, {"lines": [["period"]], "partition": False}, disclosure="public", profile=profile, threshold=threshold)
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
    pub.attrs.update(attrs)
    pub.attrs.update({"disclosure": "public", "note": prot.attrs["note"], "audit": prot.attrs["audit"], "profile": prot.attrs["profile"],
                      "threshold": prot.attrs["threshold"]})
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
    prot = apply_disclosure(long, {"lines": [["part"]] if line and len(parts) == 2 else [], "partition": False},
                            disclosure="public", profile=profile, threshold=threshold)
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
    pub.attrs.update({"disclosure": "public", "note": prot.attrs["note"], "audit": prot.attrs["audit"]})
    return pub


def _protect_cooccurrence(out: pd.DataFrame, attrs: dict[str, Any], profile: str, threshold: int | None) -> pd.DataFrame:
    """Public co-occurrence: a pair is shown only when n_ab, n_a and n_b all pass the threshold (or n_ab is 0)."""
    from lt_workbench.analysis.disclosure import PROFILES, SUPPRESSED

    prof = PROFILES.get(profile)
    if prof is None:
        from lt_workbench.analysis.disclosure import protect

        protect(pd.DataFrame({"code": [], "label": [], "count": [], "denominator": []}), profile=profile)  # raises the standard error
    thr = threshold if threshold is not None else prof.threshold
    small = lambda s: (s > 0) & (s < thr)  # noqa: E731
    hidden = (small(out["n_ab"]) | small(out["n_a"]) | small(out["n_b"]) | small(out["n"])
              | small(out["n_a"] - out["n_ab"]) | small(out["n_b"] - out["n_ab"])).to_numpy()
    pub = out.astype(object).copy()
    for col in [c for c in out.columns if c not in ("code_a", "label_a", "code_b", "label_b", "n")]:
        pub[col] = np.where(hidden, SUPPRESSED, out[col].round(4).astype(object))
    pub["suppressed"] = hidden
    if prof.rounding:
        for col in ("n_a", "n_b", "n_ab", "n"):
            pub[col] = [v if v == SUPPRESSED else int(np.floor(v / prof.rounding + 0.5) * prof.rounding) for v in pub[col]]
    pub.attrs.update(attrs)
    pub.attrs.update({"disclosure": "public", "note": (
        f"Public ({prof.name} profile): a pair is hidden (c) when its count together, either count alone, or either "
        f"difference is 1-{thr - 1}; statistics of hidden pairs are hidden too.")})
    return pub

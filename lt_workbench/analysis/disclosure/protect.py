"""protect() and protect_many(): tidy count tables in, tables fit to publish out, with the audit of each.

See the package docstring for the rules. This module checks the arguments and columns, builds the
joint problem (problem.py) with whatever the release already published (release.py), has it
solved and audited (secondary.py, audit.py), and renders each table: GSS symbols, rounding,
percentages from the figures as shown, the note and the change log.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from lt_workbench.analysis import stats
from lt_workbench.analysis.disclosure.audit import CellAudit
from lt_workbench.analysis.disclosure.problem import Link, Problem, TableSpec, as_counts, total_mask
from lt_workbench.analysis.disclosure.profiles import (
    AREA_COLUMNS,
    AUDIT_COLUMNS,
    FREE_TEXT_COLUMNS,
    IDENTIFIER_COLUMNS,
    MEASURES,
    NOT_APPLICABLE,
    NOT_AVAILABLE,
    RESTRICTED_NOTE,
    SUPPRESSED,
    Profile,
    resolve_profile,
    round_half_up,
    shown_interval,
)
from lt_workbench.analysis.disclosure.secondary import Solution, solve
from lt_workbench.exceptions import DisclosureError

if TYPE_CHECKING:
    from lt_workbench.analysis.disclosure.release import Release

__all__ = ["Protected", "Request", "protect", "protect_many", "write_audit", "ADDS_UP_NOTE", "REPEATED_NOTE"]

_REQUIRED = ("code", "label", "count", "denominator")
_DERIVED = ("percent", "ci_low", "ci_high")
_MAX_DIMENSION_CHARS = 80  # a dimension value longer than this is taken for free text
ADDS_UP_NOTE = "Figures are rounded independently, so shown parts may not add up to the shown total."
REPEATED_NOTE = ("Some figures are repeated as an earlier table of this release published them (rounded there as totals), "
                 "so each figure has one number in every table.")


@dataclass
class Protected:
    """A table made fit for its audience, the change log, the LP audit, and the note to print with it.

    In public mode numeric columns are object columns holding a number or a GSS symbol, and
    `suppressed` is True where the count is hidden. `audit` (every change, with true values) and
    `lp_audit` (each hidden cell's feasible interval) are restricted material: never publish them.
    `facts` are publishable About facts (the audit's result, the release).
    """

    table: pd.DataFrame
    audit: pd.DataFrame
    mode: str
    profile: str
    threshold: int
    note: str
    lp_audit: pd.DataFrame = field(default_factory=pd.DataFrame)
    facts: dict[str, Any] = field(default_factory=dict)


@dataclass
class Request:
    """One table for protect_many: the table, its additive structure and what question it answers."""

    table: pd.DataFrame
    lines: Sequence[Sequence[str] | str] | None = None
    totals: object | Mapping[str, object] = "All"
    partition: bool = False
    dims: Sequence[str] | None = None
    question: Mapping[str, Any] = field(default_factory=dict)
    name: str = "table"
    free_text_columns: Sequence[str] | frozenset[str] = ()
    pseudonymised_areas: bool = False
    structural: Sequence[str] = ()  # line dimensions whose 'All' rows are not margins (recent + before = all)
    # latent=True: a table nobody publishes (the single-value slices of a table filtered to a range or list, see
    # analysis/slicing.py): its cells are unseen counts, protected like hidden cells, unless another table of the
    # call or an earlier output of the release shows the same cell. protect_many returns it unrendered.
    latent: bool = False
    parents: Mapping[str, str] = field(default_factory=dict)  # code -> parent code: count(parent) ≥ count(child)


@dataclass
class _Prepared:
    spec: TableSpec
    keys: list[str]
    removed: list[str]
    total_row: np.ndarray
    count: np.ndarray
    den: np.ndarray


def _normalise_lines(lines: Sequence[Sequence[str] | str] | None, table: pd.DataFrame) -> list[list[str]]:
    if lines is None:
        return []
    if isinstance(lines, str):
        raise DisclosureError(f"lines must be a list of hierarchies such as [['region', 'nation'], ['year']], got {lines!r}")
    out: list[list[str]] = []
    seen: set[str] = set()
    for h in lines:
        cols = [h] if isinstance(h, str) else list(h)
        if not cols:
            raise DisclosureError("lines: an empty hierarchy; each must name at least one dimension column")
        for c in cols:
            if c in MEASURES or c == "label":
                raise DisclosureError(f"lines: {c!r} is not a dimension column")
            if c not in table.columns:
                raise DisclosureError(f"lines: column {c!r} is not in the table; columns are {', '.join(map(str, table.columns))}")
            if c in seen:
                raise DisclosureError(f"lines: column {c!r} appears in more than one hierarchy")
            seen.add(c)
        out.append(cols)
    return out


def _prepare(req: Request) -> _Prepared:
    """Column rules (free text dropped, identifiers and area codes refused) and the table's additive structure."""
    table = req.table
    if not isinstance(table, pd.DataFrame):
        raise DisclosureError(f"protect() needs a pandas DataFrame, got {type(table).__name__}")
    missing = [c for c in _REQUIRED if c not in table.columns]
    if missing:
        raise DisclosureError(f"table is missing column(s) {', '.join(missing)}; columns are {', '.join(map(str, table.columns))}")
    drop_free = set(FREE_TEXT_COLUMNS) | set(req.free_text_columns)
    removed = [c for c in table.columns if c in drop_free and c not in ("code", *MEASURES)]
    work = table.drop(columns=removed + (["suppressed"] if "suppressed" in table.columns else []))
    idents = [c for c in work.columns if c in IDENTIFIER_COLUMNS]
    if idents:
        raise DisclosureError(
            f"column(s) {', '.join(idents)} identify single records and cannot appear in public output; "
            "tabulate without them, or use restricted mode"
        )
    if req.dims is None:
        dim_cols = [c for c in work.columns if c not in ("code", "label", *MEASURES)]
        floats = [c for c in dim_cols if pd.api.types.is_float_dtype(work[c])]
        if floats:
            raise DisclosureError(
                f"column(s) {', '.join(floats)} look like measures, which disclosure control does not know how to "
                f"protect (only {', '.join(MEASURES)}); drop them or pass dims= explicitly"
            )
    else:
        dim_cols = [c for c in req.dims if c not in removed]
        unknown = [c for c in dim_cols if c not in work.columns]
        if unknown:
            raise DisclosureError(f"dims: column(s) {', '.join(unknown)} not in the table (or dropped as free text)")
        extra = [c for c in work.columns if c not in ("code", "label", *MEASURES, *dim_cols)]
        if extra:
            raise DisclosureError(f"column(s) {', '.join(extra)} are neither dimensions nor measures; drop them first")
    hierarchies = _normalise_lines(req.lines, work)
    in_lines = {c for h in hierarchies for c in h}
    if req.partition and "code" in in_lines:
        raise DisclosureError("partition=True already makes the codes add up to the denominator; do not list 'code' in lines")
    for c in in_lines:
        if c != "code" and c not in dim_cols:
            raise DisclosureError(f"lines: {c!r} is not a dimension column")
    totals = req.totals
    markers = {c: (totals.get(c, "All") if isinstance(totals, Mapping) else totals) for c in in_lines}
    for c in dim_cols:
        if c in AREA_COLUMNS and not req.pseudonymised_areas:
            marker = totals.get(c, "All") if isinstance(totals, Mapping) else totals
            if not total_mask(work[c], marker).all():
                raise DisclosureError(
                    f"column {c!r} would publish local authority areas next to small counts about children; "
                    "tabulate by region, use restricted mode, or pass pseudonymised_areas=True if the column "
                    "holds pseudonyms rather than the areas' codes"
                )
        s = work[c]
        if s.dtype == object or pd.api.types.is_string_dtype(s):
            longest = s.dropna().astype(str).str.len().max()
            if pd.notna(longest) and longest > _MAX_DIMENSION_CHARS:
                raise DisclosureError(
                    f"column {c!r} has values of {int(longest)} characters, which looks like free text; "
                    "free text never appears in public output (name it in free_text_columns to drop it)"
                )
    keys = ["code", *dim_cols]
    work = work.reset_index(drop=True)
    if work.duplicated(subset=keys).any():
        dup = work.loc[work.duplicated(subset=keys, keep=False), keys].head(3).to_dict("records")
        raise DisclosureError(f"table has more than one row for the same code and dimensions, e.g. {dup}")
    total_row = np.zeros(len(work), dtype=bool)
    for c in in_lines:
        if c not in req.structural:
            total_row |= total_mask(work[c], markers[c])
    spec = TableSpec(work, dim_cols, hierarchies, markers, bool(req.partition), dict(req.question), req.name, bool(req.latent),
                     dict(req.parents))
    return _Prepared(spec, keys, removed, total_row, as_counts(work, "count"), as_counts(work, "denominator"))


def _fmt(x: float, decimals: int) -> float:
    return round(float(x), decimals) + 0.0  # + 0.0 turns -0.0 into 0.0


def _note(prof: Profile, thr: int, adds_up: bool, has_parts: bool = True, has_totals: bool = True) -> str:
    """The table's note: what was suppressed and how, and the rounding only where the table has figures it
    applies to (a dfe table without total rows does not mention rounded totals)."""
    rounding = []
    if prof.rounding and (has_parts or (has_totals and prof.total_rounding in (None, prof.rounding))):
        rounding.append(f"counts rounded to the nearest {prof.rounding}")
    if prof.total_rounding and prof.total_rounding != prof.rounding and has_totals:
        rounding.append(f"totals rounded to the nearest {prof.total_rounding}")
    r = ("; " + "; ".join(rounding)) if rounding else ""
    if thr == 1:
        note = f"Public ({prof.name} profile): threshold 1, so no count is suppressed{r}. "
        note += f"{NOT_APPLICABLE} = not applicable, {NOT_AVAILABLE} = not available; 0 is a true zero."
    else:
        note = (
            f"Public ({prof.name} profile): counts 1–{thr - 1} suppressed, with secondary suppression so they cannot be "
            f"worked out from totals or from other tables of the same release{r}; percentages and intervals from the "
            f"figures as shown. {SUPPRESSED} = confidential, {NOT_APPLICABLE} = not applicable, "
            f"{NOT_AVAILABLE} = not available; 0 is a true zero."
        )
    return note + (" " + ADDS_UP_NOTE if adds_up else "")


def protect(
    table: pd.DataFrame,
    *,
    mode: str = "public",
    profile: str = "dfe",
    threshold: int | None = None,
    lines: Sequence[Sequence[str] | str] | None = None,
    totals: object | Mapping[str, object] = "All",
    partition: bool = False,
    dims: Sequence[str] | None = None,
    free_text_columns: Sequence[str] | frozenset[str] = (),
    pseudonymised_areas: bool = False,
    decimals: int = 1,
    release: Release | None = None,
    question: Mapping[str, Any] | None = None,
    name: str = "table",
    structural: Sequence[str] = (),
) -> Protected:
    """Apply disclosure control to one tidy count table; see the package docstring for the rules.

    table: columns code, label, dimension columns, count, denominator and optionally percent,
        ci_low, ci_high (percent scale). One row per code and combination of dimensions.
    mode: "public" (suppress, round, drop free text) or "restricted" (unchanged, labelled as such).
    profile: "dfe", "nhs" or "ons"; threshold overrides the profile's smallest showable count.
    lines: hierarchies of additive dimensions, finest first, e.g. [["area_code", "region", "nation"], ["year"]].
    totals: the value marking total rows (one for all columns, or a mapping column -> marker; None = missing value).
    partition: the codes partition the denominator (single-valued frames).
    dims: dimension columns; by default every column that is not code, label or a measure.
    release: protect jointly with everything this release already published, and record the result.
    question: what the table counts (frame, level, unit, filters, year basis): cells of different
        tables answering the same question are one cell of the release.
    structural: line dimensions whose total rows are not margins for rounding (e.g. a period split).
    """
    req = Request(table, lines, totals, partition, dims, dict(question or {}), name, free_text_columns, pseudonymised_areas,
                  structural)
    return protect_many([req], mode=mode, profile=profile, threshold=threshold, decimals=decimals, release=release)[0]


def protect_many(
    requests: Sequence[Request],
    *,
    mode: str = "public",
    profile: str = "dfe",
    threshold: int | None = None,
    decimals: int = 1,
    release: Release | None = None,
    links: Sequence[Link] = (),
) -> list[Protected]:
    """Protect several tables as one joint problem (a report, a batch): what one hides, none lets a reader derive.

    links: relations between cells of these tables that their dimensions do not show (problem.Link), e.g. a
    co-occurrence count against the frequency counts of its two codes, with unseen remainders.
    """
    if mode not in ("public", "restricted"):
        raise DisclosureError(f"unknown disclosure mode {mode!r}: use 'public' or 'restricted'")
    prof, thr = resolve_profile(profile, threshold)
    if isinstance(decimals, bool) or not isinstance(decimals, int) or decimals < 0:
        raise DisclosureError(f"decimals must be a whole number ≥ 0, got {decimals!r}")
    if mode == "restricted":
        out = []
        for req in requests:
            if not isinstance(req.table, pd.DataFrame):
                raise DisclosureError(f"protect() needs a pandas DataFrame, got {type(req.table).__name__}")
            t = req.table.copy()
            t["suppressed"] = False
            keys = ["code", *[c for c in req.table.columns if c not in (*MEASURES, "code", "label", "suppressed")]]
            out.append(Protected(t, _empty_audit(keys), mode, prof.name, thr, RESTRICTED_NOTE))
        return out

    preps = [_prepare(r) for r in requests]
    if release is None:
        return _protect_joint(preps, prof, thr, decimals, None, links)
    release.check_profile(prof.name, thr)  # begins the ledger's write transaction
    try:
        return _protect_joint(preps, prof, thr, decimals, release, links)
    except BaseException:
        release.abort()  # nothing recorded: the output is refused as a whole
        raise


def _protect_joint(preps: list[_Prepared], prof: Profile, thr: int, decimals: int, release: Release | None,
                   links: Sequence[Link] = ()) -> list[Protected]:
    problem = Problem()
    earlier: list[str] = []
    for p in preps:
        problem.add_table(p.spec, p.count, p.den)
    problem.add_links(links)
    if release is not None:
        earlier = release.load_into(problem)
    problem.settle()
    problem.link_families()
    problem.link_parents()

    # Rounding base of each cell: a total in any table is rounded as a total, so one cell shows one number.
    tot_base = prof.total_rounding if prof.total_rounding is not None else prof.rounding
    n_cells = len(problem.keys)
    base: list[int | None] = [prof.rounding] * n_cells
    for p, (ccell, dcell) in zip(preps, problem.rows, strict=True):
        if p.spec.latent:
            continue
        for r in np.flatnonzero(p.total_row):
            base[int(ccell[r])] = tot_base
            base[int(dcell[r])] = tot_base
    shown = [round_half_up(v, b) for v, b in zip(problem.values, base, strict=True)]
    lo = [0] * n_cells
    hi = [0] * n_cells
    for c in range(n_cells):
        fx = problem.fixed.get(c)
        if fx is not None and not fx.hidden and fx.shown is not None:
            shown[c], lo[c], hi[c] = fx.shown, fx.lo, fx.hi
        else:
            lo[c], hi[c] = shown_interval(shown[c], base[c], thr)
    sol = solve(problem, thr, lo, hi)
    failing = [a for a in sol.audits if a.problem]
    n_hidden = sum(1 for c in sol.reason if problem.kind[c] not in ("latent", "slack"))  # published cells only
    if failing:  # solve() raises first; kept so that a failing audit can never reach an output
        raise DisclosureError(f"audit failed: {problem.describe(failing[0].cell)} {failing[0].problem}; nothing written")
    facts = {
        "audit": (
            f"passed: {n_hidden} hidden cells, each with a feasible interval (LP, HiGHS) that pins no cell and "
            f"confines no count 1–{thr - 1} to 1–{thr - 1}, knowing x ≥ 0 and knowing x ≥ 1 "
            f"(zeros are always shown); {len(problem.lines)} additive lines"
            + (f" and {len(problem.ineqs)} parent ≥ child inequalities" if problem.ineqs else "")
            + f" over {n_cells} cells"
            + (f", including {len(earlier)} earlier output(s) of the release" if earlier else "")
        ),
        "audit_hidden_cells": n_hidden,
    }
    if release is not None:
        facts.update(release.facts())
    results = [Protected(p.spec.table, _empty_audit(p.keys), "latent", prof.name, thr, "") if p.spec.latent
               else _render(p, ccell, dcell, problem, sol, shown, prof, thr, decimals, facts)
               for p, (ccell, dcell) in zip(preps, problem.rows, strict=True)]
    if release is not None:
        release.record(problem, [p.spec.name for p in preps if not p.spec.latent], sol.reason, shown, lo, hi, prof.name, thr)
    return results


def _interval_text(a: CellAudit | None) -> tuple[str, str]:
    """A hidden cell's intervals for lp_audit, saying how much is known (see audit.audit_block and secondary.solve)."""
    if a is None:  # a hidden cell on no line: nothing bounds it
        return "[0, ∞]", "[1, ∞]"
    hi = "∞" if np.isinf(a.one.hi) else f"{a.one.hi:g}"
    if a.widened:  # audited before more cells were hidden: the true intervals contain these
        return (f"contains {a.zero}" if a.exact else f"contains {a.one}",
                f"contains {a.one}" if a.exact else f"[≥1, ≥{hi}]")
    return (str(a.zero) if a.exact else f"contains {a.one}", str(a.one) if a.exact else f"[≥1, {hi}]")


def _empty_audit(keys: Sequence[str]) -> pd.DataFrame:
    return pd.DataFrame(columns=[*keys, *AUDIT_COLUMNS], dtype=object)  # as a dict of empty Series, in half the time


def _render(p: _Prepared, ccell: np.ndarray, dcell: np.ndarray, problem: Problem, sol: Solution, shown: list[int],
            prof: Profile, thr: int, decimals: int, facts: Mapping[str, Any]) -> Protected:
    work, keys = p.spec.table, p.keys
    n = len(work)
    audit_rows: list[dict[str, Any]] = []

    def log(row_keys: Mapping[str, Any], column: str, original: Any, shown_v: Any, rule: str, reason: str) -> None:
        audit_rows.append({**row_keys, "column": column, "original": original, "shown": shown_v, "rule": rule, "reason": reason})

    for c in p.removed:
        log({k: None for k in keys}, c, "(whole column)", "(removed)", "removed", "free text and area names never appear in public output")
    has = {c: c in work.columns for c in _DERIVED}
    orig = {col: work[col].tolist() for col in _DERIVED if has[col]}
    key_values = list(zip(*(work[k].tolist() for k in keys), strict=True))
    cols_out: dict[str, list[Any]] = {c: [] for c in ("count", "denominator", *_DERIVED)}
    hidden_count = np.zeros(n, dtype=bool)
    tot_base = prof.total_rounding if prof.total_rounding is not None else prof.rounding
    repeated = False
    wilson_rows: list[tuple[int, int, int]] = []
    lp_rows: list[dict[str, Any]] = []
    audits = {a.cell: a for a in sol.audits}
    for r in range(n):
        row_keys = dict(zip(keys, key_values[r], strict=True))
        out: dict[str, Any] = {}
        hid = {}
        for col, cell, value in (("count", int(ccell[r]), int(p.count[r])), ("denominator", int(dcell[r]), int(p.den[r]))):
            hid[col] = cell in sol.reason
            if hid[col]:
                out[col] = SUPPRESSED
                rule, reason = sol.reason[cell]
                log(row_keys, col, value, SUPPRESSED, rule, reason)
                a = audits.get(cell)
                x0, x1 = _interval_text(a)
                lp_rows.append({**row_keys, "column": col, "true": value, "interval_x0": x0, "interval_x1": x1,
                                "result": "pass" if a is None or a.problem is None else a.problem})
            else:
                out[col] = shown[cell]
                own = round_half_up(value, tot_base if p.total_row[r] else prof.rounding)
                repeated = repeated or shown[cell] != own
                if shown[cell] != value:
                    what = "total rounded" if p.total_row[r] else "rounded"
                    log(row_keys, col, value, shown[cell], "rounding", f"{what} ({prof.name} profile)")
        hidden_count[r] = hid["count"]
        if hid["count"] or hid["denominator"]:
            which = "count" if hid["count"] else "denominator"
            for col in _DERIVED:
                if has[col]:
                    out[col] = SUPPRESSED
                    log(row_keys, col, orig[col][r], SUPPRESSED, "derived", f"derived: computed from a suppressed {which}")
        else:
            sc, sd = out["count"], out["denominator"]
            changed = sc != p.count[r] or sd != p.den[r]
            if sd == 0:
                out.update({"percent": NOT_APPLICABLE, "ci_low": NOT_APPLICABLE, "ci_high": NOT_APPLICABLE})
            else:
                out["percent"] = _fmt(100.0 * sc / sd, decimals)
                if changed:
                    wilson_rows.append((r, sc, sd))
                    out["ci_low"] = out["ci_high"] = None  # filled below, all rows in one call
                else:
                    for col in ("ci_low", "ci_high"):
                        out[col] = _fmt(orig[col][r], decimals) if has[col] and pd.notna(orig[col][r]) else NOT_AVAILABLE
            if changed and sd != 0:
                for col in _DERIVED:
                    if has[col]:
                        log(row_keys, col, orig[col][r], out[col], "rounding", "recomputed from the rounded count and denominator")
        for col in cols_out:
            cols_out[col].append(out.get(col))
    if wilson_rows:
        wl, wh = stats.wilson_interval([w[1] for w in wilson_rows], [w[2] for w in wilson_rows])
        for (r, _, _), lo_, hi_ in zip(wilson_rows, wl, wh, strict=True):
            cols_out["ci_low"][r], cols_out["ci_high"][r] = _fmt(100.0 * lo_, decimals), _fmt(100.0 * hi_, decimals)
    table = work.copy()
    for col in ("count", "denominator", *_DERIVED):
        if col in table.columns:
            table[col] = pd.Series(cols_out[col], dtype=object, index=table.index)
    table["suppressed"] = hidden_count
    audit = pd.DataFrame(audit_rows, columns=[*keys, *AUDIT_COLUMNS], dtype=object) if audit_rows else _empty_audit(keys)
    lp_audit = pd.DataFrame(lp_rows, columns=[*keys, "column", "true", "interval_x0", "interval_x1", "result"])
    mine = set(ccell.tolist()) | set(dcell.tolist())
    adds_up = False
    for tot, parts in problem.lines:
        if tot in mine and all(c in mine for c in parts) and tot not in sol.reason and not any(c in sol.reason for c in parts):
            if sum(shown[c] for c in parts) != shown[tot]:
                adds_up = True
                break
    shown_total = p.total_row & ~hidden_count
    note = _note(prof, thr, adds_up, bool((~p.total_row & ~hidden_count).any()), bool(shown_total.any())) + (
        " " + REPEATED_NOTE if repeated else "")
    return Protected(table, audit, "public", prof.name, thr, note, lp_audit, dict(facts))


def write_audit(protected: Protected, path: str | Path) -> Path:
    """Write the audit log as CSV (UTF-8). It holds the true values: keep it with restricted material."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    protected.audit.to_csv(target, index=False, encoding="utf-8")
    return target

"""Statistical disclosure control for tidy count tables: everything written to a file goes through here.

These are counts about children who died or were seriously harmed, and published reviews make
area + year + age band + harm type identifying. `protect()` takes a tidy table (code, label,
dimension columns, count, denominator, percent, ci_low, ci_high) and returns a copy safe to
publish under a named UK profile, plus an audit log saying what was hidden or changed and why.

Profiles (`threshold` is the smallest non-zero count that may be shown; 1..threshold-1 are hidden):

- ``dfe``  Department for Education: counts 1–5 shown as ``c`` (threshold 6), with secondary
  suppression; regional and national totals (total rows of the declared lines) rounded to 10.
- ``nhs``  NHS Digital: counts 1–7 suppressed (threshold 8), every other count rounded to 5.
- ``ons``  ONS "10-5": counts below 10 suppressed (threshold 10), the rest rounded to 5.

Rules, in order:

1. *Primary*: a count in 1..threshold-1 is suppressed. A 0 is a true zero and is shown.
   A denominator in 1..threshold-1 is a small count about children too: it is suppressed, and
   with it every number computed from it (percent, interval).
2. *Secondary*: suppressions along additive lines (see below) must not be undone by
   subtraction. Until nothing changes: a line with exactly one suppressed cell, or whose
   suppressed parts add up to a recoverable total in 1..threshold-1, gets its smallest non-zero
   unsuppressed cell suppressed too (ties: by value, then by row order of the input). Then an
   exact check: the suppressed cells of each connected block are tested with linear algebra
   (null space of the line equations) and any cell whose value is still determined by
   combining lines gets one more suppression; repeat. So no value shown as ``c`` can be
   worked out exactly from the figures shown and the declared lines.
3. *Rounding* (after all suppression decisions, which are made on true counts): counts and
   denominators are rounded half up to the profile's base; total rows (a total marker in any
   declared line, e.g. a region's or the nation's row, or an "All years" row) use
   ``total_rounding``. Count and denominator of a row share a base, so a shown count never
   exceeds its shown denominator. A threshold so low that a shown count would round to 0 is
   refused (0 must stay a true zero).
4. *Percentages and intervals* are computed from the figures *as shown* (after rounding) and
   given to 1 decimal place. Where neither count nor denominator was changed by rounding this
   equals the percentage of the true counts and the input interval is kept; where rounding
   changed them, percent and the Wilson interval are recomputed from the rounded figures.
   Chosen over "percent of the unrounded counts" because a precise percentage of a small
   denominator gives the true count back (13/40 = 32.5% betrays 13 behind a "15"), undoing
   the rounding the profile asks for. ``percent``, ``ci_low`` and ``ci_high`` are on the
   0–100 scale. Suppressed: ``c``; denominator 0: ``z``; missing interval: ``:``.
5. *Free text and area names never appear*: columns such as area_name, title, finding, note,
   text, description, proposed_label (and any named in ``free_text_columns``) are dropped;
   record identifiers (review_id, child_id, episode_id) and real area codes are refused. An
   area dimension is allowed in public output only when the caller passes
   ``pseudonymised_areas=True`` (labels such as "Area 07" that are not the local authority),
   or when it holds nothing but the total marker. Otherwise use region, or restricted mode.

Additive lines (the ``lines`` argument)
---------------------------------------
A *line* is a set of cells that add up to a total cell shown in the same table. Totals are rows
whose dimension value is the total marker (``totals``, default ``"All"``; ``None`` means a
missing value marks the total). ``lines`` is a list of *hierarchies*, each a list of dimension
columns from finest to coarsest:

- ``["year"]``: within each code and every other dimension, the rows of single years add up to
  the row with year "All".
- ``["area_code", "region", "nation"]``: areas add up to their region's row (area_code "All"),
  regions to their nation's row (region "All", area_code "All"), nations to the row with
  nation "All" if there is one.

Several hierarchies give the crossing lines of a multi-way table with margins (every row, column
and margin-of-margins line). The same lines hold for denominators (each unit sits in exactly one
area and one year), and are used for them where the denominators add up exactly; counts that do
not add up along a declared line raise ``DisclosureError`` (the declaration is wrong, and a
wrong declaration could leave a cell recoverable). Only declare single-valued dimensions: a
review has one year and one area; it may have many harm types, so harm types do not add up.

``partition=True`` says the *codes* partition the denominator: single-valued frames (age band,
sex, outcome, review type) where each child or review has exactly one value, so within each
combination of dimensions the counts of all codes add up to the denominator, which then acts as
the row total. Multi-valued frames (patterns, harm types, family factors) must leave it False.

Why a small heuristic rather than an existing tool
--------------------------------------------------
- ``sdcTable`` (R, with HiTaS/OPT/Gauss methods) is the reference implementation of optimal
  cell suppression but is R: a second runtime in a pip-installed tool used by analysts.
- ``pytauargus`` (PyPI) today is a headless Tau-Argus engine on the HiGHS solver (its
  predecessor ``piargus`` drives the Windows Tau-Argus binary). It is young (0.x), says itself
  its results are not established as equivalent to Tau-Argus, and keeps process-global solver
  state (unsafe in a notebook kernel or widget callbacks). Worth a cross-check later.
- ``acro`` checks research outputs in a trusted research environment (threshold, dominance,
  p-ratio on pivot tables) and leaves secondary suppression across linked totals to a human
  output checker; it has no UK publication profiles or GSS symbols.
Our tables are small (tens to thousands of cells), all counts, with simple known hierarchies;
a transparent heuristic with an exact linear-algebra check and a cell-by-cell audit is easier
to review and test than an optimiser, and needs no new dependency.

Known limits
------------
- The suppression pattern is not optimal (more cells may be hidden than an LP/MIP solver would
  hide); it is deterministic.
- The exact check finds values recoverable *exactly*. It does not compute the feasible interval
  of each cell from non-negativity (Tau-Argus' audit): a cell might be narrowed, though not
  pinned, by combining lines with bounds. The "suppressed sum below threshold" rule is applied
  per line only.
- Only the declared lines are protected. Inequalities (a parent pattern's count is at least any
  child's), relations between separate tables (a regional table published beside a national
  one), and earlier publications are not known here: protect linked tables together, in one
  call, with their totals.
- The audit log holds the true values: it is restricted material, never for publication.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lt_workbench.exceptions import DisclosureError

__all__ = [
    "Profile",
    "PROFILES",
    "Protected",
    "protect",
    "write_audit",
    "SUPPRESSED",
    "NOT_APPLICABLE",
    "NOT_AVAILABLE",
    "RESTRICTED_NOTE",
    "FREE_TEXT_COLUMNS",
    "AREA_COLUMNS",
    "IDENTIFIER_COLUMNS",
    "AUDIT_COLUMNS",
]

# GSS symbols for statistical tables.
SUPPRESSED = "c"  # confidential
NOT_APPLICABLE = "z"
NOT_AVAILABLE = ":"

RESTRICTED_NOTE = (
    "RESTRICTED — contains unsuppressed small counts about children; not for publication. "
    "Share only with people entitled to see them."
)

_MEASURES = ("count", "denominator", "percent", "ci_low", "ci_high")
_REQUIRED = ("code", "label", "count", "denominator")
_DERIVED = ("percent", "ci_low", "ci_high")

# Columns that hold words written by reviewers, or names: never in public output.
FREE_TEXT_COLUMNS = frozenset(
    {
        "area_name",
        "title",
        "finding",
        "findings",
        "note",
        "notes",
        "text",
        "description",
        "summary",
        "comment",
        "comments",
        "evidence",
        "quote",
        "narrative",
        "proposed_label",
        "name",
    }
)
# Columns that name a local authority: refused in public output unless pseudonymised.
AREA_COLUMNS = frozenset({"area", "area_code", "area_id", "local_authority", "la_code"})
# Record-level identifiers: a cell per review is a count of one.
IDENTIFIER_COLUMNS = frozenset({"review_id", "child_id", "episode_id", "document_id"})
# A dimension value longer than this is taken for free text, not a category.
_MAX_DIMENSION_CHARS = 80

AUDIT_COLUMNS = ("column", "original", "shown", "rule", "reason")


@dataclass(frozen=True)
class Profile:
    """A named set of publication rules.

    threshold: the smallest non-zero count that may be shown (counts 1..threshold-1 are suppressed).
    rounding: base every shown count and denominator is rounded to (None: not rounded).
    total_rounding: base for counts and denominators of total rows (None: same as rounding).
    """

    name: str
    threshold: int
    rounding: int | None
    total_rounding: int | None
    description: str


PROFILES: dict[str, Profile] = {
    "dfe": Profile(
        "dfe",
        threshold=6,
        rounding=None,
        total_rounding=10,
        description="Department for Education: counts 1–5 shown as c, with secondary suppression; "
        "regional and national totals rounded to the nearest 10.",
    ),
    "nhs": Profile(
        "nhs",
        threshold=8,
        rounding=5,
        total_rounding=5,
        description="NHS Digital: counts 1–7 suppressed, with secondary suppression; "
        "all other counts rounded to the nearest 5.",
    ),
    "ons": Profile(
        "ons",
        threshold=10,
        rounding=5,
        total_rounding=5,
        description="ONS 10-5 rule: counts below 10 suppressed, with secondary suppression; "
        "all other counts rounded to the nearest 5.",
    ),
}


@dataclass
class Protected:
    """A table made fit for its audience, the audit of every change, and the note to print with it.

    In public mode numeric columns are object columns holding a number or a GSS symbol, and
    `suppressed` is True where the count is hidden. `audit` holds true values: never publish it.
    """

    table: pd.DataFrame
    audit: pd.DataFrame
    mode: str
    profile: str
    threshold: int
    note: str


@dataclass(frozen=True, slots=True)
class _Line:
    """total = sum(parts), over cell ids; `what` names it for the audit."""

    total: int
    parts: tuple[int, ...]
    what: str

    @property
    def cells(self) -> tuple[int, ...]:
        return (self.total, *self.parts)


# --------------------------------------------------------------------------------------------
# Argument checks


def _resolve_profile(profile: str, threshold: int | None) -> tuple[Profile, int]:
    if not isinstance(profile, str) or profile.lower() not in PROFILES:
        raise DisclosureError(f"unknown disclosure profile {profile!r}: known profiles are {', '.join(PROFILES)}")
    prof = PROFILES[profile.lower()]
    if threshold is None:
        thr = prof.threshold
    else:
        if isinstance(threshold, bool) or not isinstance(threshold, (int, np.integer)):
            raise DisclosureError(f"threshold must be a whole number, got {threshold!r}")
        thr = int(threshold)
        if thr < 1:
            raise DisclosureError(f"threshold must be at least 1 (the smallest count that may be shown), got {thr}")
    for base in (prof.rounding, prof.total_rounding):
        if base is not None and 2 * thr < base:
            raise DisclosureError(
                f"threshold {thr} is too low for profile {prof.name!r}, which rounds to {base}: a shown count "
                f"below {base / 2:g} would round to 0 and read as a true zero; use a threshold of at least "
                f"{math.ceil(base / 2)}"
            )
    return prof, thr


def _normalise_lines(lines: Sequence[Sequence[str] | str] | None, table: pd.DataFrame) -> list[list[str]]:
    if lines is None:
        return []
    if isinstance(lines, str):
        raise DisclosureError(
            f"lines must be a list of hierarchies such as [['region', 'nation'], ['year']], got {lines!r}"
        )
    out: list[list[str]] = []
    seen: set[str] = set()
    for h in lines:
        cols = [h] if isinstance(h, str) else list(h)
        if not cols:
            raise DisclosureError("lines: an empty hierarchy; each must name at least one dimension column")
        for c in cols:
            if c in _MEASURES or c == "label":
                raise DisclosureError(f"lines: {c!r} is not a dimension column")
            if c not in table.columns:
                raise DisclosureError(
                    f"lines: column {c!r} is not in the table; columns are {', '.join(map(str, table.columns))}"
                )
            if c in seen:
                raise DisclosureError(f"lines: column {c!r} appears in more than one hierarchy")
            seen.add(c)
        out.append(cols)
    return out


def _total_mask(col: pd.Series, marker: object) -> np.ndarray:
    if marker is None:
        return col.isna().to_numpy()
    return (col.astype(object) == marker).fillna(False).to_numpy(dtype=bool)


def _as_counts(table: pd.DataFrame, column: str) -> np.ndarray:
    s = table[column]
    if s.isna().any():
        raise DisclosureError(f"column {column!r} has missing values; counts must be whole numbers ≥ 0")
    try:
        arr = s.to_numpy(dtype=float)
    except (TypeError, ValueError) as e:
        raise DisclosureError(f"column {column!r} must hold whole numbers ≥ 0: {e}") from None
    if (arr < 0).any() or (arr != np.floor(arr)).any():
        raise DisclosureError(f"column {column!r} must hold whole numbers ≥ 0")
    return arr.astype(np.int64)


# --------------------------------------------------------------------------------------------
# The engine: cells, lines, suppression


class _Engine:
    """Cells, the lines over them, and what is hidden and why.

    Count cells: one per row. Denominator cells: one per combination of dimensions and value.
    """

    def __init__(self, table: pd.DataFrame, keys: list[str], dims: list[str], threshold: int) -> None:
        self.table = table
        self.keys = keys
        self.threshold = threshold
        n = len(table)
        count = _as_counts(table, "count")
        den = _as_counts(table, "denominator")
        self.n = n
        # Cell ids 0..n-1 are counts of row r; n.. are denominator cells, shared by the rows of the
        # same dimensions that show the same denominator (they show one number, hidden or not together).
        if dims:
            den_group = table.groupby(dims + ["denominator"], dropna=False, sort=False).ngroup().to_numpy()
        else:
            den_group = table.groupby(["denominator"], sort=False).ngroup().to_numpy()
        n_den = int(den_group.max()) + 1 if n else 0
        self.den_cell = n + den_group
        self.values = np.concatenate([count, np.zeros(n_den, dtype=np.int64)])
        self.rows_of: list[list[int]] = [[r] for r in range(n)] + [[] for _ in range(n_den)]
        for r in range(n):
            c = int(self.den_cell[r])
            self.values[c] = den[r]
            self.rows_of[c].append(r)
        self.lines: list[_Line] = []
        self._line_keys: set[tuple[int, tuple[int, ...]]] = set()
        self.cell_lines: list[list[int]] = [[] for _ in range(len(self.values))]
        self.reason: dict[int, tuple[str, str]] = {}  # cell -> (rule, reason)

    # -- naming
    def kind(self, cell: int) -> str:
        return "count" if cell < self.n else "denominator"

    def order(self, cell: int) -> tuple[int, int, int]:
        return (int(self.values[cell]), self.rows_of[cell][0], 0 if cell < self.n else 1)

    def describe_group(self, cols: Sequence[str], values: Sequence[Any]) -> str:
        return ", ".join(f"{c} {v}" for c, v in zip(cols, values))

    # -- building lines
    def add_line(self, total: int, parts: Sequence[int], what: str) -> None:
        key = (total, tuple(sorted(parts)))
        if key in self._line_keys or not parts:
            return
        self._line_keys.add(key)
        idx = len(self.lines)
        line = _Line(total, tuple(parts), what)
        self.lines.append(line)
        for c in line.cells:
            self.cell_lines[c].append(idx)

    def add_hierarchy(self, hierarchy: list[str], markers: Mapping[str, object]) -> None:
        t = self.table
        is_total = {h: _total_mask(t[h], markers[h]) for h in hierarchy}
        finer_total = np.ones(self.n, dtype=bool)
        for i, h in enumerate(hierarchy):
            parts_mask = finer_total & ~is_total[h]
            total_mask = finer_total & is_total[h]
            coarser = hierarchy[i + 1] if i + 1 < len(hierarchy) else "total"
            label = f"{h}→{coarser}"
            group_cols = [k for k in self.keys if k not in hierarchy[: i + 1]]
            rows = np.flatnonzero(parts_mask | total_mask)
            if rows.size:
                sub = t.iloc[rows]
                if group_cols:
                    groups = sub.groupby(group_cols, dropna=False, sort=False).indices
                else:
                    groups = {(): np.arange(rows.size)}
                for gkey, local in groups.items():
                    members = rows[local]
                    totals = [r for r in members if total_mask[r]]
                    parts = [int(r) for r in members if parts_mask[r]]
                    gvals = gkey if isinstance(gkey, tuple) else (gkey,)
                    where = self.describe_group(group_cols, gvals)
                    if len(totals) > 1:
                        raise DisclosureError(f"line {label} for {where}: {len(totals)} total rows, expected one")
                    if not totals or not parts:
                        continue
                    tot = int(totals[0])
                    what = f"{label} for {where}" if where else label
                    s = int(self.values[parts].sum())
                    if s != self.values[tot]:
                        raise DisclosureError(
                            f"declared line {what} does not add up: parts sum to {s}, total row says "
                            f"{int(self.values[tot])}; declare only single-valued dimensions with complete totals"
                        )
                    self.add_line(tot, parts, what)
                    dparts = [int(self.den_cell[r]) for r in parts]
                    dtot = int(self.den_cell[tot])
                    if len(set(dparts)) == len(dparts) and dtot not in dparts:
                        if int(self.values[dparts].sum()) == self.values[dtot]:
                            self.add_line(dtot, dparts, f"{what} (denominator)")
            finer_total = finer_total & is_total[h]

    def add_partition(self, dims: list[str]) -> None:
        t = self.table
        groups = t.groupby(dims, dropna=False, sort=False).indices if dims else {(): np.arange(self.n)}
        for gkey, members in groups.items():
            gvals = gkey if isinstance(gkey, tuple) else (gkey,)
            where = self.describe_group(dims, gvals) or "the whole table"
            dcells = {int(self.den_cell[r]) for r in members}
            if len(dcells) != 1:
                raise DisclosureError(
                    f"partition=True but the codes for {where} have different denominators; "
                    "codes that partition the denominator share it"
                )
            dcell = dcells.pop()
            s = int(self.values[members].sum())
            if s != self.values[dcell]:
                raise DisclosureError(
                    f"partition=True but the counts for {where} sum to {s}, not the denominator "
                    f"{int(self.values[dcell])}: is this a multi-valued frame, or are some codes missing?"
                )
            self.add_line(dcell, [int(r) for r in members], f"codes→denominator for {where}")

    # -- suppression
    def suppress(self, cell: int, rule: str, reason: str) -> None:
        if cell not in self.reason:
            self.reason[cell] = (rule, reason)

    def primary(self) -> None:
        thr = self.threshold
        for c, v in enumerate(self.values):
            if 0 < v < thr:
                what = "count" if c < self.n else "denominator"
                self.suppress(c, "primary", f"primary: {what} 1..{thr - 1} below threshold {thr}")

    def _candidate(self, cells: Sequence[int]) -> int | None:
        free = [c for c in cells if c not in self.reason]
        nonzero = [c for c in free if self.values[c] > 0]
        pool = nonzero or free
        return min(pool, key=self.order) if pool else None

    def _line_risk(self, line: _Line) -> str | None:
        hidden = [c for c in line.cells if c in self.reason]
        if not hidden:
            return None
        if len(hidden) == 1:
            return f"secondary: protects line {line.what}"
        if line.total not in self.reason:
            s = int(sum(self.values[p] for p in line.parts if p in self.reason))
            if 0 < s < self.threshold:
                return f"secondary: suppressed cells of line {line.what} would sum to a count below {self.threshold}"
        return None

    def secondary(self) -> None:
        """Per-line rules to a fixed point, then the exact check; repeat until both hold."""
        queue = list(range(len(self.lines)))
        queued = set(queue)
        while True:
            while queue:
                li = queue.pop()
                queued.discard(li)
                line = self.lines[li]
                risk = self._line_risk(line)
                if risk is None:
                    continue
                cand = self._candidate(line.cells)
                if cand is None:  # every cell of the line hidden: nothing to recover
                    continue
                self.suppress(cand, "secondary", risk)
                for lj in self.cell_lines[cand]:
                    if lj not in queued:
                        queued.add(lj)
                        queue.append(lj)
                if li not in queued:
                    queued.add(li)
                    queue.append(li)
            fixed = self._fix_one_determined()
            if fixed is None:
                return
            for lj in self.cell_lines[fixed]:
                if lj not in queued:
                    queued.add(lj)
                    queue.append(lj)

    def _blocks(self, hidden: set[int]) -> list[tuple[list[int], list[_Line]]]:
        """Hidden cells split into blocks connected through lines, each with the lines touching it."""
        parent = {c: c for c in hidden}

        def find(c: int) -> int:
            while parent[c] != c:
                parent[c] = parent[parent[c]]
                c = parent[c]
            return c

        touching: list[tuple[int, _Line]] = []
        for line in self.lines:
            hc = [c for c in line.cells if c in hidden]
            if not hc:
                continue
            touching.append((hc[0], line))
            root = find(hc[0])
            for c in hc[1:]:
                parent[find(c)] = root
        cells_of: dict[int, list[int]] = {}
        for c in sorted(hidden):
            cells_of.setdefault(find(c), []).append(c)
        lines_of: dict[int, list[_Line]] = {}
        for first, line in touching:
            lines_of.setdefault(find(first), []).append(line)
        return [(cells, lines_of.get(root, [])) for root, cells in cells_of.items()]

    def determined(self, hidden: set[int] | None = None) -> list[int]:
        """Hidden cells whose value follows exactly from the shown cells and the lines.

        Per connected block: cell j is determined iff every vector of the null space of the
        block's line equations (over hidden cells) is 0 at j.
        """
        from scipy.linalg import null_space

        hidden = set(self.reason) if hidden is None else hidden
        out: list[int] = []
        for cells, lines in self._blocks(hidden):
            if not lines:
                continue
            col = {c: j for j, c in enumerate(cells)}
            a = np.zeros((len(lines), len(cells)))
            for i, line in enumerate(lines):
                if line.total in col:
                    a[i, col[line.total]] += 1.0
                for p in line.parts:
                    if p in col:
                        a[i, col[p]] -= 1.0
            basis = null_space(a)
            norms = np.linalg.norm(basis, axis=1) if basis.size else np.zeros(len(cells))
            out.extend(c for c, nrm in zip(cells, norms) if nrm < 1e-9)
        return sorted(out, key=self.order)

    def _fix_one_determined(self, max_tries: int = 25) -> int | None:
        """Hide one more cell so that the first determined cell is no longer determined.

        Candidates come from the lines touching its block, non-zero before zero, smallest
        first; the first that frees the cell is taken (else the first, to make progress).
        """
        found = self.determined()
        if not found:
            return None
        cell = found[0]
        hidden = set(self.reason)
        block, block_lines = next((cells, lines) for cells, lines in self._blocks(hidden) if cell in cells)
        own = set(self.cell_lines[cell])
        free: dict[int, _Line] = {}
        for line in sorted(block_lines, key=lambda ln: ln not in {self.lines[i] for i in own}):
            for c in line.cells:
                if c not in hidden and c not in free:
                    free[c] = line
        if not free:
            raise DisclosureError(f"cannot protect a suppressed {self.kind(cell)}: every cell of its lines is hidden")
        ranked = sorted(free, key=lambda c: (self.values[c] == 0, self.order(c)))
        choice = ranked[0]
        for cand in ranked[:max_tries]:
            # Trying within the block only treats hidden cells elsewhere as known: stricter, never looser.
            if cell not in self.determined(set(block) | {cand}):
                choice = cand
                break
        self.suppress(
            choice,
            "secondary",
            f"secondary: a suppressed {self.kind(cell)} could be worked out by combining lines; "
            f"protects line {free[choice].what}",
        )
        return choice


# --------------------------------------------------------------------------------------------
# Output


def _round_half_up(value: int, base: int | None) -> int:
    if not base or base <= 1:
        return int(value)
    return int(math.floor(value / base + 0.5)) * base


def _fmt(x: float, decimals: int) -> float:
    return round(float(x), decimals) + 0.0  # + 0.0 turns -0.0 into 0.0


def _wilson(count: int, nobs: int) -> tuple[float, float]:
    from statsmodels.stats.proportion import proportion_confint

    lo, hi = proportion_confint(count, nobs, alpha=0.05, method="wilson")
    return 100.0 * float(lo), 100.0 * float(hi)


def _empty_audit(keys: Sequence[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in [*keys, *AUDIT_COLUMNS]})


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
) -> Protected:
    """Apply disclosure control to a tidy count table; see the module docstring for the rules.

    table: columns code, label, dimension columns, count, denominator and optionally percent,
        ci_low, ci_high (percent scale). One row per code and combination of dimensions.
    mode: "public" (suppress, round, drop free text) or "restricted" (unchanged, labelled as such).
    profile: "dfe", "nhs" or "ons"; threshold overrides the profile's smallest showable count.
    lines: hierarchies of additive dimensions, finest first, e.g. [["area_code", "region", "nation"], ["year"]].
    totals: the value marking total rows (one for all columns, or a mapping column -> marker; None = missing value).
    partition: the codes partition the denominator (single-valued frames).
    dims: dimension columns; by default every column that is not code, label or a measure.
    free_text_columns: more columns to drop from public output.
    pseudonymised_areas: the area column holds pseudonyms, not local authority codes, so it may be published.
    """
    if mode not in ("public", "restricted"):
        raise DisclosureError(f"unknown disclosure mode {mode!r}: use 'public' or 'restricted'")
    prof, thr = _resolve_profile(profile, threshold)
    if not isinstance(table, pd.DataFrame):
        raise DisclosureError(f"protect() needs a pandas DataFrame, got {type(table).__name__}")
    missing = [c for c in _REQUIRED if c not in table.columns]
    if missing:
        raise DisclosureError(
            f"table is missing column(s) {', '.join(missing)}; columns are {', '.join(map(str, table.columns))}"
        )
    if isinstance(decimals, bool) or not isinstance(decimals, int) or decimals < 0:
        raise DisclosureError(f"decimals must be a whole number ≥ 0, got {decimals!r}")

    if mode == "restricted":
        out = table.copy()
        out["suppressed"] = False
        keys = ["code", *[c for c in table.columns if c not in (*_MEASURES, "code", "label", "suppressed")]]
        return Protected(out, _empty_audit(keys), mode, prof.name, thr, RESTRICTED_NOTE)

    # --- public: columns first
    drop_free = set(FREE_TEXT_COLUMNS) | set(free_text_columns)
    removed = [c for c in table.columns if c in drop_free and c not in ("code", *_MEASURES)]
    work = table.drop(columns=removed + (["suppressed"] if "suppressed" in table.columns else []))
    idents = [c for c in work.columns if c in IDENTIFIER_COLUMNS]
    if idents:
        raise DisclosureError(
            f"column(s) {', '.join(idents)} identify single records and cannot appear in public output; "
            "tabulate without them, or use restricted mode"
        )
    if dims is None:
        dim_cols = [c for c in work.columns if c not in ("code", "label", *_MEASURES)]
        floats = [c for c in dim_cols if pd.api.types.is_float_dtype(work[c])]
        if floats:
            raise DisclosureError(
                f"column(s) {', '.join(floats)} look like measures, which disclosure control does not know how to "
                f"protect (only {', '.join(_MEASURES)}); drop them or pass dims= explicitly"
            )
    else:
        dim_cols = [c for c in dims if c not in removed]  # free-text columns go whatever the caller listed
        unknown = [c for c in dim_cols if c not in work.columns]
        if unknown:
            raise DisclosureError(f"dims: column(s) {', '.join(unknown)} not in the table (or dropped as free text)")
        extra = [c for c in work.columns if c not in ("code", "label", *_MEASURES, *dim_cols)]
        if extra:
            raise DisclosureError(f"column(s) {', '.join(extra)} are neither dimensions nor measures; drop them first")
    hierarchies = _normalise_lines(lines, work)
    in_lines = {c for h in hierarchies for c in h}
    if partition and "code" in in_lines:
        raise DisclosureError(
            "partition=True already makes the codes add up to the denominator; do not list 'code' in lines"
        )
    for c in in_lines:
        if c != "code" and c not in dim_cols:
            raise DisclosureError(f"lines: {c!r} is not a dimension column")
    markers: dict[str, object]
    if isinstance(totals, Mapping):
        markers = {c: totals.get(c, "All") for c in in_lines}
    else:
        markers = {c: totals for c in in_lines}

    for c in dim_cols:
        if c in AREA_COLUMNS and not pseudonymised_areas:
            marker = totals.get(c, "All") if isinstance(totals, Mapping) else totals
            if not _total_mask(work[c], marker).all():
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

    audit_rows: list[dict[str, Any]] = []

    def log(row_keys: Mapping[str, Any], column: str, original: Any, shown: Any, rule: str, reason: str) -> None:
        audit_rows.append(
            {**row_keys, "column": column, "original": original, "shown": shown, "rule": rule, "reason": reason}
        )

    for c in removed:
        log({k: None for k in keys}, c, "(whole column)", "(removed)", "removed",
            "free text and area names never appear in public output")

    eng = _Engine(work, keys, dim_cols, thr)
    for h in hierarchies:
        eng.add_hierarchy(h, markers)
    if partition:
        eng.add_partition(dim_cols)
    eng.primary()
    eng.secondary()

    # --- rounding bases: total rows are those with a total marker in any declared line
    n = len(work)
    total_row = np.zeros(n, dtype=bool)
    for c in in_lines:
        total_row |= _total_mask(work[c], markers[c])
    tot_base = prof.total_rounding if prof.total_rounding is not None else prof.rounding

    count = eng.values[:n]
    den = eng.values[eng.den_cell]
    hidden_count = np.array([r in eng.reason for r in range(n)], dtype=bool)
    hidden_den = np.array([int(eng.den_cell[r]) in eng.reason for r in range(n)], dtype=bool)
    has = {c: c in work.columns for c in _DERIVED}

    cols_out: dict[str, list[Any]] = {"count": [], "denominator": [], "percent": [], "ci_low": [], "ci_high": []}
    key_values = list(zip(*(work[k].tolist() for k in keys)))
    orig_derived = {col: work[col].tolist() for col in _DERIVED if has[col]}
    for r in range(n):
        row_keys = dict(zip(keys, key_values[r]))
        shown: dict[str, Any] = {}
        c_is_total = bool(total_row[r])
        # Same base for count and denominator in a row, so a shown count never exceeds its shown denominator.
        d_is_total = c_is_total
        for col, hidden, value, is_total, cell in (
            ("count", hidden_count[r], int(count[r]), c_is_total, r),
            ("denominator", hidden_den[r], int(den[r]), d_is_total, int(eng.den_cell[r])),
        ):
            base = tot_base if is_total else prof.rounding
            if hidden:
                shown[col] = SUPPRESSED
                rule, reason = eng.reason[cell]
                log(row_keys, col, value, SUPPRESSED, rule, reason)
            else:
                rounded = _round_half_up(value, base)
                shown[col] = rounded
                if rounded != value:
                    what = "total rounded" if is_total else "rounded"
                    log(row_keys, col, value, rounded, "rounding", f"{what} to the nearest {base} ({prof.name} profile)")
        derived_hidden = hidden_count[r] or hidden_den[r]
        for col in _DERIVED:
            if not has[col]:
                continue
            orig = orig_derived[col][r]
            if derived_hidden:
                shown[col] = SUPPRESSED
                which = "count" if hidden_count[r] else "denominator"
                log(row_keys, col, orig, SUPPRESSED, "derived", f"derived: computed from a suppressed {which}")
        if not derived_hidden:
            sc, sd = shown["count"], shown["denominator"]
            changed = sc != count[r] or sd != den[r]
            if sd == 0:
                pct: Any = NOT_APPLICABLE
                lo: Any = NOT_APPLICABLE
                hi: Any = NOT_APPLICABLE
            else:
                pct = _fmt(100.0 * sc / sd, decimals)
                if changed:
                    wl, wh = _wilson(sc, sd)
                    lo, hi = _fmt(wl, decimals), _fmt(wh, decimals)
                else:
                    lo, hi = (
                        _fmt(orig_derived[col][r], decimals)
                        if has[col] and pd.notna(orig_derived[col][r])
                        else NOT_AVAILABLE
                        for col in ("ci_low", "ci_high")
                    )
            shown.update({"percent": pct, "ci_low": lo, "ci_high": hi})
            if changed and sd != 0:
                for col in _DERIVED:
                    if has[col]:
                        log(row_keys, col, orig_derived[col][r], shown[col], "rounding",
                            "recomputed from the rounded count and denominator")
        for col in cols_out:
            cols_out[col].append(shown.get(col))

    out = work.copy()
    for col in ("count", "denominator", *_DERIVED):
        if col in out.columns:
            out[col] = pd.Series(cols_out[col], dtype=object, index=out.index)
    out["suppressed"] = hidden_count
    if audit_rows:
        audit = pd.DataFrame(audit_rows, columns=[*keys, *AUDIT_COLUMNS], dtype=object)
    else:
        audit = _empty_audit(keys)

    rounding = []
    if prof.rounding:
        rounding.append(f"counts rounded to the nearest {prof.rounding}")
    if prof.total_rounding and prof.total_rounding != prof.rounding:
        rounding.append(f"totals rounded to the nearest {prof.total_rounding}")
    note = (
        f"Public ({prof.name} profile): counts 1–{thr - 1} suppressed, with secondary suppression so they cannot be "
        f"worked out from totals"
        + (("; " + "; ".join(rounding)) if rounding else "")
        + f"; percentages and intervals from the figures as shown. "
        f"{SUPPRESSED} = confidential, {NOT_APPLICABLE} = not applicable, {NOT_AVAILABLE} = not available; "
        "0 is a true zero."
    )
    if thr == 1:
        note = f"Public ({prof.name} profile): threshold 1, so no count is suppressed" + (
            ("; " + "; ".join(rounding)) if rounding else ""
        ) + f". {NOT_APPLICABLE} = not applicable, {NOT_AVAILABLE} = not available; 0 is a true zero."
    return Protected(out, audit, mode, prof.name, thr, note)


def write_audit(protected: Protected, path: str | Path) -> Path:
    """Write the audit log as CSV (UTF-8). It holds the true values: keep it with restricted material."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    protected.audit.to_csv(p, index=False, encoding="utf-8")
    return p

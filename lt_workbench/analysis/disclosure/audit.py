"""The audit: what a reader can work out about each hidden cell from everything a release published.

For each hidden cell, its feasible interval is computed by linear programming (HiGHS, through
`highspy`): minimise and maximise the cell subject to every additive line of the release, every
shown figure (exact, or the interval of whole numbers a rounded figure stands for; a shown
non-zero figure is also known to be at least the threshold) and a lower bound on each hidden
cell: 0 (`x ≥ 0`), and 1 (zeros are always shown, so a reader knows a hidden cell is at least 1).

Requirement, under both bounds: no hidden cell is *pinned* (its interval holds one whole number),
and no hidden count of 1..threshold-1 is *confined* to 1..threshold-1 (its interval must reach 0
or the threshold). The second bound is the stricter one; the first is reported because it is the
classical audit (Tau-Argus) and a table can pass it while failing the second.
"""

from __future__ import annotations

import math
import os
import sys
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Interval", "CellAudit", "lp_intervals", "audit_block", "new_highs", "FULL_AUDIT_TARGETS"]

# Blocks with more hidden cells than this get the fast audit: the same pass/fail, fewer LPs (see audit_block).
FULL_AUDIT_TARGETS = 40

_BANNER_LOCK = threading.Lock()
_banner_done = False


def new_highs() -> Any:
    """A silent highspy.Highs. HiGHS prints a banner on stdout at its first construction in a process;
    stdout is redirected at the file-descriptor level for that moment so a CSV on stdout stays clean."""
    global _banner_done
    import highspy

    h: Any

    with _BANNER_LOCK:
        if _banner_done:
            h = highspy.Highs()  # type: ignore[no-untyped-call]
        else:
            sys.stdout.flush()
            saved = os.dup(1)
            devnull = os.open(os.devnull, os.O_WRONLY)
            try:
                os.dup2(devnull, 1)
                h = highspy.Highs()  # type: ignore[no-untyped-call]
            finally:
                os.dup2(saved, 1)
                os.close(saved)
                os.close(devnull)
            _banner_done = True
    h.setOptionValue("output_flag", False)
    # The audit re-solves one model with a new objective many times: presolve would rebuild the problem and
    # drop the warm basis each time. A new objective leaves the last basis primal feasible, so primal simplex
    # (strategy 4) goes on from it in a few pivots: ~26 on a 844-column block where HiGHS's default dual
    # simplex took ~300 (6x the time; benchmarks/RESULTS.md, Disclosure).
    h.setOptionValue("presolve", "off")
    h.setOptionValue("solver", "simplex")
    h.setOptionValue("simplex_strategy", 4)
    return h


def _cap(lower: np.ndarray, upper: np.ndarray, values: Sequence[int]) -> float:
    """A finite bound for unbounded variables, far above every finite bound and every true value, so the true
    values stay feasible and no finite optimum comes near it."""
    finite = np.concatenate([np.abs(lower[np.isfinite(lower)]), upper[np.isfinite(upper)], np.abs(np.asarray(values, dtype=float))])
    return float(1e4 + 4.0 * finite.sum())


def _rests_on_cap(h: Any, capped: np.ndarray, cap: float) -> bool:
    """True when the optimum just found depends on a cap: a capped variable at its cap with a non-zero reduced cost."""
    if not capped.size:
        return False
    sol = h.getSolution()
    at = capped[np.asarray(sol.col_value)[capped] >= cap - 1e-6]
    return bool(at.size) and bool((np.abs(np.asarray(sol.col_dual)[at]) > 1e-9).any())


@dataclass(frozen=True)
class Interval:
    """Feasible interval of a hidden cell (whole numbers; hi may be inf)."""

    lo: float
    hi: float

    @property
    def pinned(self) -> bool:
        return self.hi - self.lo < 1

    def confines(self, threshold: int) -> bool:
        """True when the interval lies inside 1..threshold-1 (a small count narrowed to small counts)."""
        return self.lo >= 1 and self.hi <= threshold - 1

    def __str__(self) -> str:
        hi = "∞" if math.isinf(self.hi) else f"{self.hi:g}"
        return f"[{self.lo:g}, {hi}]"


@dataclass(frozen=True)
class CellAudit:
    """One hidden cell's intervals under x ≥ 0 and x ≥ 1, and what (if anything) is wrong."""

    cell: int
    value: int
    zero: Interval
    one: Interval
    problem: str | None
    exact: bool = True  # False: x ≥ 0 interval and x ≥ 1 lower end not solved (large block; see audit_block)
    widened: bool = False  # True: audited before more cells were hidden; the true intervals contain these


def lp_intervals(
    n: int,
    rows: Sequence[Sequence[tuple[int, float]]],
    lower: np.ndarray,
    upper: np.ndarray,
    targets: Sequence[int],
    senses: Sequence[tuple[float, ...]] | None = None,
    cap: float | None = None,
    rhs: Sequence[float] | None = None,
    rhs_upper: Sequence[float] | None = None,
) -> list[Interval]:
    """min and max of each target variable subject to rows (each = its rhs, default 0; with rhs_upper, rhs ≤ row ≤
    rhs_upper, e.g. inf for an inequality row ≥ rhs) and bounds, by HiGHS with warm starts.

    senses: per target, which ends to solve ((1.0, -1.0) = min and max, the default; (-1.0,) = max only,
    the min then reported as the variable's lower bound).
    cap: a finite upper bound for unbounded variables, which some feasible point must respect (audit_block
    passes one far above the block's true values); default: far above every finite bound.

    Variables without an upper bound get the cap, so every LP has an optimum: HiGHS's simplex,
    warm-started after an LP it found unbounded, sometimes ended with status kUnknown (7-column blocks
    of the factors x year x nation x region table). A maximum is reported as ∞ when it rests on a cap
    (a capped variable at its cap with a non-zero reduced cost: raising the cap raises the maximum);
    otherwise no cap binds and it is the maximum without caps. Capping only shrinks the feasible set,
    so no interval can come out wider than the true one.
    """
    import highspy

    h = new_highs()
    lp = highspy.HighsLp()
    lp.num_col_ = n
    lp.num_row_ = len(rows)
    lp.col_cost_ = np.zeros(n)
    lower = np.asarray(lower, dtype=float)
    upper = np.asarray(upper, dtype=float)
    if cap is None:
        cap = _cap(lower, upper, ())
    capped = np.flatnonzero(np.isinf(upper))
    lp.col_lower_ = lower
    lp.col_upper_ = np.where(np.isinf(upper), cap, upper)
    b = np.zeros(len(rows)) if rhs is None else np.asarray(rhs, dtype=float)
    lp.row_lower_ = b
    lp.row_upper_ = b if rhs_upper is None else np.asarray(rhs_upper, dtype=float)
    cols: list[list[tuple[int, float]]] = [[] for _ in range(n)]
    for ri, row in enumerate(rows):
        for j, coef in row:
            cols[j].append((ri, coef))
    start = [0]
    index: list[int] = []
    value: list[float] = []
    for col in cols:
        for ri, coef in col:
            index.append(ri)
            value.append(coef)
        start.append(len(index))
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = np.asarray(start, dtype=np.int32)
    lp.a_matrix_.index_ = np.asarray(index, dtype=np.int32)
    lp.a_matrix_.value_ = np.asarray(value, dtype=float)
    h.passModel(lp)
    out: list[Interval] = []
    prev: int | None = None
    for t in targets:
        if prev is not None:
            h.changeColCost(prev, 0.0)
        ends: list[float] = []
        want = senses[len(out)] if senses is not None else (1.0, -1.0)
        if 1.0 not in want:
            ends.append(float(lower[t]))
        for sign in want:
            h.changeColCost(t, sign)
            h.run()
            if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
                h.clearSolver()  # not expected with every LP bounded; a cold solve before giving up
                h.run()
            status = h.getModelStatus()
            if status != highspy.HighsModelStatus.kOptimal:
                # infeasible cannot happen (the true values are feasible), unbounded cannot (every variable is capped)
                raise RuntimeError(f"audit LP ended with status {status} for variable {t}; nothing published")
            end = sign * float(h.getInfo().objective_function_value)
            if sign < 0 and _rests_on_cap(h, capped, cap):
                end = math.inf
            ends.append(end)
        prev = t
        # whole numbers only: the LP relaxation's bounds rounded inwards
        lo = math.ceil(ends[0] - 1e-6)
        hi = ends[1] if math.isinf(ends[1]) else math.floor(ends[1] + 1e-6)
        out.append(Interval(float(lo), float(hi)))
    return out


def audit_block(
    cells: Sequence[int],
    lines: Sequence[tuple[int, tuple[int, ...]]],
    values: Sequence[int],
    hidden: set[int],
    shown_lo: Sequence[int],
    shown_hi: Sequence[int],
    threshold: int,
    only: set[int] | None = None,
    unseen: Mapping[int, bool] | None = None,
    ineqs: Sequence[tuple[int, int]] = (),
) -> list[CellAudit]:
    """Audit the hidden cells of one block of lines; shown_lo/hi give what a reader knows of shown cells.

    only: audit just these hidden cells (the others are still hidden in the LP); default every hidden cell.
    unseen: cells no output shows (cell -> audited), among `hidden`: a reader knows only x ≥ 0 of them, under
    both bounds; an audited one (a latent count) must not be confined to 1..threshold-1 when its true value is.
    ineqs: (parent, child) pairs of cells, parent ≥ child, that a reader knows too (inequality rows of the LP).
    """
    unseen = unseen or {}
    # Variables: hidden cells and shown cells known only as an interval (rounded); a cell shown exactly is a
    # number, moved to the right-hand side (rows left without a variable hold no information and are dropped).
    free = [c for c in cells if c in hidden or shown_lo[c] < shown_hi[c]]
    col = {c: j for j, c in enumerate(free)}
    n = len(free)
    rows = []
    rhs = []
    n_eq = 0
    for k, (tot, parts) in enumerate([*lines, *((a, (b,)) for a, b in ineqs)]):
        row = []
        b = 0.0
        for c, coef in ((tot, 1.0), *((p, -1.0) for p in parts)):
            j = col.get(c)
            if j is None:
                b -= coef * shown_lo[c]
            else:
                row.append((j, coef))
        if row:
            rows.append(row)
            rhs.append(b)
            n_eq += k < len(lines)
    rhs_upper = None if len(rows) == n_eq else [*rhs[:n_eq], *([math.inf] * (len(rows) - n_eq))]
    lower = np.zeros(n)
    upper = np.zeros(n)
    targets = []
    both_ends: set[int] = set()  # unseen targets: bounded by 0 below under both audits, min and max always solved
    for c, j in col.items():
        if c in unseen:
            lower[j], upper[j] = 0.0, math.inf
            if unseen[c] and 0 < int(values[c]) < threshold and (only is None or c in only):
                targets.append(j)
                both_ends.add(j)
        elif c in hidden:
            lower[j], upper[j] = 1.0, math.inf
            if only is None or c in only:
                targets.append(j)
        else:
            lower[j], upper[j] = shown_lo[c], shown_hi[c]
    if not targets:
        return []
    cap = _cap(lower, upper, [values[c] for c in cells])
    cells = free
    full = len(targets) <= FULL_AUDIT_TARGETS
    if full:
        one = lp_intervals(n, rows, lower, upper, targets, cap=cap, rhs=rhs, rhs_upper=rhs_upper)
    else:
        # Knowing x ≥ 1 the lower end is at least 1, so a cell is confined iff its max ≤ threshold - 1, and
        # (the true value being feasible) pinned only if its max equals its true value: solve the max first,
        # the min only where that is so.
        one = lp_intervals(n, rows, lower, upper, targets, senses=[(1.0, -1.0) if j in both_ends else (-1.0,) for j in targets],
                           cap=cap, rhs=rhs, rhs_upper=rhs_upper)
        again = [j for j, iv in zip(targets, one, strict=True) if iv.hi <= int(values[cells[j]])]
        if again:
            exact = dict(zip(again, lp_intervals(n, rows, lower, upper, again, cap=cap, rhs=rhs, rhs_upper=rhs_upper), strict=True))
            one = [exact.get(j, iv) for j, iv in zip(targets, one, strict=True)]
    for c in hidden:
        if c in col:
            lower[col[c]] = 0.0
    if full:
        zero = lp_intervals(n, rows, lower, upper, targets, cap=cap, rhs=rhs, rhs_upper=rhs_upper)
    else:
        # x ≥ 0 allows more than x ≥ 1, so its interval contains the x ≥ 1 one: a pass under x ≥ 1 is a pass
        # under x ≥ 0. Large blocks report that containment instead of solving again.
        zero = list(one)
    out = []
    for j, i1, i0 in zip(targets, one, zero, strict=True):
        c = cells[j]
        v = int(values[c])
        problem = None
        for name, iv in (("x ≥ 1", i1), ("x ≥ 0", i0)):
            if iv.pinned:
                problem = f"pinned at {iv.lo:g} (knowing {name})"
            elif 0 < v < threshold and iv.confines(threshold):
                problem = f"confined to {iv} (knowing {name}), inside 1–{threshold - 1}"
            if problem:
                break
        out.append(CellAudit(c, v, i0, i1, problem, full))
    return out

"""Secondary suppression as a small mixed-integer programme per connected block, checked by the audit.

Variables y_c ∈ {0, 1} (1 = hidden) for the cells of a block of lines. Fixed: primary cells
(1..threshold-1) and cells an earlier output hid are 1; zeros (always shown) and cells an earlier
output showed are 0. Constraints, for every line: no cell is the only hidden one of its line
(Σ_{j≠c} y_j ≥ y_c); for every primary cell p that is a part of a line, the line can absorb p
rising to the threshold: Σ_{j part ≠ p} min(v_j, d) y_j + d·y_total ≥ d with d = threshold − v_p.
Objective: fewest hidden cells, then the smallest hidden total (weight 1 + v / (1 + block total)).

These per-line constraints are necessary, not sufficient: combining lines can still pin or confine
a cell. So each solution is audited by LP (audit.py). While the audit finds a failing cell, first
(up to EXACT_ROUNDS times, in blocks of at most EXACT_MAX_CELLS cells) a valid cut is added — a safe pattern that hides the failing cell hides a
cell outside the failing pattern — and the MIP is solved again: if the audit passes within these
rounds the pattern is optimal for the weights. After that, the solution is kept and, for every failing
cell, a cut asks for one more hidden cell among the lines through it (or the lines touching its block):
the hidden set only grows, so this ends; a block where nothing more can be hidden is refused. Because it
only grows, a cell that passed stays passing (hiding more only widens what a reader can tell), so each
repair round audits only the cells that have not passed yet; their reported intervals are marked
`widened` (the final intervals contain them).

A block made only of what earlier outputs of the release published (its cells and lines all from the ledger, no
parent ≥ child inequality, nothing of the new tables) is left as it is: every cell in it is fixed, so the MIP has
nothing to decide, and the audit was done by the output that last changed it (Problem.untouched says why).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_matrix

from lt_workbench.analysis.disclosure.audit import CellAudit, audit_block
from lt_workbench.analysis.disclosure.problem import Problem
from lt_workbench.analysis.disclosure.release import RESET_RISK
from lt_workbench.exceptions import DisclosureError

__all__ = ["Solution", "solve", "MAX_ROUNDS", "EXACT_ROUNDS", "EXACT_MAX_CELLS", "REPAIR_PER_ROUND"]

MAX_ROUNDS = 120
EXACT_ROUNDS = 10  # rounds with valid cuts (optimal if the audit passes within them), then monotone repair
EXACT_MAX_CELLS = 150  # larger blocks go straight to the monotone repair (each exact round re-audits the whole block)
REPAIR_PER_ROUND = 10_000  # failing cells given a cut per monotone round: all (8 took 75 rounds on a 1,446-cell block, and hid more)


@dataclass
class Solution:
    """What is hidden and why, the audit of every hidden cell, and solver statistics."""

    reason: dict[int, tuple[str, str]] = field(default_factory=dict)
    audits: list[CellAudit] = field(default_factory=list)
    rounds: int = 0
    blocks: int = 0
    untouched: int = 0  # blocks of earlier outputs only, not solved or audited again (see Problem.untouched)


def _mip(cells: list[int], lines: list[tuple[int, tuple[int, ...]]], values: Sequence[int], lb: np.ndarray,
         ub: np.ndarray, primary: set[int], threshold: int, cuts: list[tuple[list[int], int | None]],
         unseen: Mapping[int, bool] | None = None) -> set[int] | None:
    col = {c: j for j, c in enumerate(cells)}
    n = len(cells)
    ri: list[int] = []
    ci: list[int] = []
    vals: list[float] = []
    lo: list[float] = []
    r = 0
    for tot, parts in lines:
        members = [tot, *parts]
        for c in members:
            if ub[col[c]] == 0 or (unseen and c in unseen):
                continue  # a shown cell needs no partner; an unseen one may be worked out (the audit checks small ones)
            for j in members:
                ri.append(r)
                ci.append(col[j])
                vals.append(-1.0 if j == c else 1.0)
            lo.append(0.0)
            r += 1
        for p in parts:
            if p not in primary:
                continue
            d = threshold - int(values[p])
            for j in parts:
                if j != p:
                    ri.append(r)
                    ci.append(col[j])
                    vals.append(float(min(int(values[j]), d)))
            ri.append(r)
            ci.append(col[tot])
            vals.append(float(d))
            lo.append(float(d))
            r += 1
    for plus, minus in cuts:  # Σ plus ≥ 1, or Σ plus − y_minus ≥ 0
        for c in plus:
            ri.append(r)
            ci.append(col[c])
            vals.append(1.0)
        if minus is not None:
            ri.append(r)
            ci.append(col[minus])
            vals.append(-1.0)
        lo.append(0.0 if minus is not None else 1.0)
        r += 1
    total = float(sum(int(values[c]) for c in cells)) + 1.0
    cost = np.array([1.0 + int(values[c]) / total for c in cells])
    constraints = []
    if r:
        a = coo_matrix((vals, (ri, ci)), shape=(r, n)).tocsr()
        constraints.append(LinearConstraint(a, np.array(lo), np.full(r, np.inf)))
    res = milp(cost, integrality=np.ones(n), bounds=Bounds(lb, ub), constraints=constraints,
               options={"time_limit": 30.0})
    if res.x is None:
        return None
    return {cells[j] for j in range(n) if res.x[j] > 0.5}


def _nearest(cell: int, lines: Sequence[tuple[int, tuple[int, ...]]], lines_of: Mapping[int, list[int]], hidden: set[int],
             hideable: Any) -> list[int]:
    """The cells that can still be hidden nearest to a failing cell: on its lines, else on the lines of the hidden cells
    sharing a line with it, and so on through hidden cells (a shown cell is a known number: nothing passes through it).

    A cell's interval is bounded by the shown cells on the lines it reaches through hidden ones; hiding one of the
    nearest widens it where a cell on any line through any hidden cell of the block may be unrelated (a latent
    ..2014 count is tied to its 2015- range through its year slices, three lines away, and the range of another
    code shares a line only with a co-occurrence remainder)."""
    seen = {cell}
    frontier = [cell]
    while frontier:
        cand: set[int] = set()
        nxt: list[int] = []
        for c in frontier:
            for k in lines_of.get(c, []):
                for m in (lines[k][0], *lines[k][1]):
                    if m in seen:
                        continue
                    seen.add(m)
                    if hideable(m):
                        cand.add(m)
                    elif m in hidden:
                        nxt.append(m)
        if cand:
            return sorted(cand)
        frontier = nxt
    return []


def _at_risk(problem: Problem, failing: Sequence[CellAudit], forced: Sequence[int]) -> str:
    """What makes every pattern fail, for the refusal: the cells the last audit failed (one named, with the output that
    published it), or, when the per-line conditions alone leave no pattern, the block's first forced cell."""
    if not failing:
        return f"{problem.describe(forced[0])} and its lines leave no safe pattern"
    a = failing[0]
    fx = problem.fixed.get(a.cell)
    where = f" (hidden by {fx.output!r})" if fx is not None and fx.hidden else (" (unpublished)" if a.cell in problem.unseen() else "")
    more = f" (and {len(failing) - 1} more)" if len(failing) > 1 else ""
    return (f"every pattern it can still hide leaves {problem.describe(a.cell)}{where} {a.problem}{more}, "
            "worked out from the figures already published")


def solve(problem: Problem, threshold: int, shown_lo: Sequence[int], shown_hi: Sequence[int]) -> Solution:
    """Primary and secondary suppression of every block, each audited; raises if a block cannot be protected."""
    values = problem.values
    sol = Solution()
    unseen = problem.unseen()  # never shown: always 'hidden'; slack is never primary
    primary = {c for c, v in enumerate(values) if 0 < v < threshold and unseen.get(c, True)}
    for c in sorted(primary):
        fx = problem.fixed.get(c)
        if fx is not None and not fx.hidden:
            raise DisclosureError(
                f"{problem.describe(c)} is a count below {threshold} that earlier output {fx.output!r} of this release "
                "showed (under another threshold?); protect it with the release's profile, or start a new release"
            )
        sol.reason[c] = ("primary", f"primary: {problem.kind[c]} 1..{threshold - 1} below threshold {threshold}")
    for c in unseen:
        if c not in sol.reason:
            sol.reason[c] = ("unseen", f"unseen: {problem.kind[c]} cell, never published (a reader knows it is ≥ 0)")
    for c, fx in problem.fixed.items():
        if fx.hidden and c not in sol.reason:
            sol.reason[c] = ("release", f"release: hidden by earlier output {fx.output!r}")
    for cells, line_ids in problem.blocks():
        if not line_ids:
            continue  # a hidden cell tied only by parent ≥ child is at least 1 and at most a shown count ≥ threshold
        lines = [problem.lines[i] for i in line_ids]
        in_block = set(cells)
        ineqs = [(a, b) for a, b in problem.ineqs if a in in_block]
        extra: dict[str, Any] = {}  # only what the problem has (a test's stand-in for audit_block keeps its signature)
        if unseen:
            extra["unseen"] = unseen
        if ineqs:
            extra["ineqs"] = ineqs
        elif problem.untouched(cells, line_ids):
            sol.untouched += 1  # earlier outputs' block, audited when last changed (Problem.untouched): as it was
            continue
        forced = [c for c in cells if c in sol.reason and (c not in unseen or c in primary)]
        if not forced:
            continue
        sol.blocks += 1
        col = {c: j for j, c in enumerate(cells)}
        lb = np.zeros(len(cells))
        ub = np.ones(len(cells))
        for c in cells:
            fx = problem.fixed.get(c)
            if c in sol.reason:
                lb[col[c]] = 1.0
            elif values[c] == 0 or (fx is not None and not fx.hidden):
                ub[col[c]] = 0.0
        cuts: list[tuple[list[int], int | None]] = []
        exact_left = EXACT_ROUNDS if len(cells) <= EXACT_MAX_CELLS else 0
        lines_of: dict[int, list[int]] = {}
        for k, (tot, parts) in enumerate(lines):
            for c in (tot, *parts):
                lines_of.setdefault(c, []).append(k)
        # Cells that passed the audit under a pattern every later one contains (the monotone repair only hides
        # more): hiding more only widens what a reader can tell, so they still pass and are not audited again.
        passed: dict[int, CellAudit] = {}
        last: list[CellAudit] = []  # the cells the last pattern's audit failed (what no pattern can protect, if infeasible)
        for rounds in range(1, MAX_ROUNDS + 1):
            hidden = _mip(cells, lines, values, lb, ub, primary, threshold, cuts, unseen)
            if hidden is None:
                earlier = sorted({fx.output for c, fx in problem.fixed.items() if c in col})
                raise DisclosureError(
                    "cannot protect this table consistently with what the release already published"
                    + (f" in {', '.join(repr(e) for e in earlier)}" if earlier else "") + f": {_at_risk(problem, last, forced)}; "
                    f"publish it in a new release (a new snapshot, or `lt-workbench release reset --force`; {RESET_RISK})"
                )
            audits = audit_block(cells, lines, values, hidden, shown_lo, shown_hi, threshold,
                                 only=(hidden - passed.keys()) if passed else None, **extra)
            failing = last = [a for a in audits if a.problem]
            sol.rounds += 1
            if not failing:
                audits += [replace(a, widened=True) for a in passed.values()]
                break
            if exact_left > 0:
                # Valid cuts (combinatorial Benders): a pattern hiding a subset of this one that still hides the
                # failing cell fails too (every figure it shows only adds knowledge), so any safe pattern that hides
                # it hides some cell outside this pattern. With these cuts the MIP's answer, once the audit passes,
                # is the optimum; after EXACT_ROUNDS the monotone repair below takes over.
                exact_left -= 1
                outside = [c for c in cells if c not in hidden and ub[col[c]] > 0]
                for a in failing:
                    cuts.append((outside, None if lb[col[a.cell]] >= 1 else a.cell))
                continue
            for c in hidden:
                lb[col[c]] = 1.0
            passed.update((a.cell, a) for a in audits if not a.problem)
            for a in failing[:REPAIR_PER_ROUND]:
                cand = _nearest(a.cell, lines, lines_of, hidden, lambda c: c not in hidden and ub[col[c]] > 0)
                if not cand:
                    near = {c for h in hidden for k in lines_of.get(h, []) for c in (lines[k][0], *lines[k][1])}
                    cand = [c for c in near if c not in hidden and ub[col[c]] > 0]
                if not cand:
                    earlier = sorted({fx.output for c, fx in problem.fixed.items() if c in col})
                    raise DisclosureError(
                        f"cannot protect {problem.describe(a.cell)}: {a.problem}, and nothing more can be hidden"
                        + (f" consistently with earlier output {', '.join(repr(e) for e in earlier)}" if earlier else "")
                        + "; publish it in a new release or with fewer linked tables"
                    )
                cuts.append((sorted(cand), None))
        else:
            raise DisclosureError(f"secondary suppression did not settle in {MAX_ROUNDS} rounds for {problem.describe(forced[0])}")
        for c in sorted(hidden - set(sol.reason)):
            why = next((problem.line_what[line_ids[k]] for k in lines_of.get(c, [])
                        if any(m in hidden and m != c for m in (lines[k][0], *lines[k][1]))), "a line")
            sol.reason[c] = ("secondary", f"secondary: protects line {why}")
        sol.audits.extend(audits)
    return sol

"""Lines across tables (Problem.link_families): when cells of one question that add up are a line a reader knows.

Along a dimension, counts that add up to the count without it are a line; exact only where their units (the
denominators at the same coordinates) add up too. Counts that add up while their units do not add up by chance
(the national P6.2 in 2008 equals the North West's, 2 = 2, but 14 of that year's 18 reviews are elsewhere): no reader
knows that the rest count nothing, only that the rest's count is at least 0, a slack cell of the line.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lt_workbench.analysis.disclosure.problem import Problem

__all__ = ["den_family", "units_at", "family_line", "filters_of"]


def _dumps(obj: Any) -> str:
    """A cell's identity as text (keys sorted): the one serialisation of families, coordinates and keys."""
    return json.dumps(obj, sort_keys=True, default=str, ensure_ascii=False)


def _measure(family: str) -> Any:
    try:
        fam = json.loads(family)
    except ValueError:
        return None
    return fam.get("measure") if isinstance(fam, dict) else None


def filters_of(family: str) -> dict[str, str]:
    """The filters of a family's question as text (year '2015..2025', region 'north_west'), for messages."""
    try:
        fam = json.loads(family)
    except ValueError:
        return {}
    where = fam.get("where") if isinstance(fam, dict) else None
    return {str(k): v if isinstance(v, str) else ",".join(map(str, v)) for k, v in where.items()} if isinstance(where, dict) else {}


def den_family(family: str) -> str | None:
    """The denominator family of a count family (the same question without the level), or None for other measures."""
    try:
        fam = json.loads(family)
    except ValueError:
        return None
    if not isinstance(fam, dict) or fam.get("measure") != "count":
        return None
    return _dumps({**{k: v for k, v in fam.items() if k != "level"}, "measure": "denominator"})


def units_at(family: Sequence[str], coords: Sequence[Mapping[str, Any]], values: Sequence[int]) -> dict[tuple[str, str], set[int]]:
    """(denominator family, coordinates) -> the values of the denominator cells there (one, unless ambiguous)."""
    out: dict[tuple[str, str], set[int]] = {}
    measure: dict[str, Any] = {}
    for i, f in enumerate(family):
        if f not in measure:
            measure[f] = _measure(f)
        if measure[f] == "denominator":
            out.setdefault((f, _dumps(coords[i])), set()).add(values[i])
    return out


def _covered(coords: Sequence[Mapping[str, Any]], den_fam: str, total: int, parts: Sequence[int],
             units: Mapping[tuple[str, str], set[int]]) -> bool:
    """Whether the parts' units make up the total's: their denominators add up to the total's (each unit has one
    value of a line's dimension), so the rest is empty and the line exact. Where a denominator is missing or
    ambiguous, assumed (the exact line: the stricter audit)."""
    def den(c: int) -> int | None:
        vals = units.get((den_fam, _dumps({k: v for k, v in coords[c].items() if k != "code"})))
        return next(iter(vals)) if vals and len(vals) == 1 else None

    t = den(total)
    ps = [den(p) for p in parts]
    if t is None or any(p is None for p in ps):
        return True
    return sum(p for p in ps if p is not None) == t


def family_line(problem: Problem, fam: str, dim: str, rest: str, total: int, parts: list[int], den_fam: str | None,
                 units: Mapping[tuple[str, str], set[int]]) -> None:
    """total = sum(parts) across tables along `dim` (their counts add up). Counts that add up while their units do not
    (the national P6.2 in 2008 equals the North West's, 2 = 2, but 14 of that year's 18 reviews are elsewhere) add up
    by chance: no reader knows the rest count nothing. What a reader knows is total = parts + the rest's count ≥ 0: a
    line with a slack cell (unseen, never protected; true value 0). Exact where the units add up (see _covered)."""
    what = f"{dim}→total for {rest} (across tables)"
    if den_fam is not None and not _covered(problem.coords, den_fam, total, parts, units):
        slack = problem.cell(_dumps({"measure": "slack", "line": fam, "dim": dim}),
                             {"rest": rest, "without": sorted(str(problem.coords[p][dim]) for p in parts)}, "slack", 0)
        problem.add_line(total, [*parts, slack], f"{what}, with the rest's count (≥ 0, unknown to a reader)")
    else:
        problem.add_line(total, parts, what)

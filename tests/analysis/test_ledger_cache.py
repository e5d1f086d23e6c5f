"""A session's LedgerCache reads back exactly what the ledger holds, whatever happened to the ledger in between.

The oracle: the same new table loaded against the release (Release.load_into) through the session's cache and
through a fresh Release that reads the ledger afresh must give the same problem — the same earlier outputs, the
same cells in the same order, the same fixed cells (hidden or shown, and how), the same lines. Between two
uses of the cache, something happens to the ledger that a cache could miss: outputs published by another
process (the CLI, a report, another session), `release reset --force`, an aborted held output, the ledger
deleted and made again (its release ids start at 1 again), a latent cell published later. Each test fails with a
cache that skips that case (checked by breaking LedgerCache.sync, the ledger id and the tentative flag in turn).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from lt_workbench.analysis.disclosure import LedgerCache, Release, Request, protect_many, reset_release, show_release
from lt_workbench.analysis.disclosure.problem import Problem
from lt_workbench.analysis.disclosure.protect import _prepare

SNAP = "snap"
Q = {"frame": "age_band", "unit": "child"}
REGIONS = ["north_west", "london", "south_west", "wales"]
CODES = ["under_1", "1_to_4", "5_plus"]
TRUTH = {("north_west", "under_1"): 11, ("london", "under_1"): 10, ("south_west", "under_1"): 7, ("wales", "under_1"): 3,
         ("north_west", "1_to_4"): 20, ("london", "1_to_4"): 15, ("south_west", "1_to_4"): 9, ("wales", "1_to_4"): 8,
         ("north_west", "5_plus"): 30, ("london", "5_plus"): 25, ("south_west", "5_plus"): 2, ("wales", "5_plus"): 12}


def national() -> Request:
    den = sum(TRUTH.values())
    t = pd.DataFrame([{"code": k, "label": k, "count": sum(v for (_, c), v in TRUTH.items() if c == k), "denominator": den}
                      for k in CODES])
    return Request(t, partition=True, question=Q, name="national")


def by_region(regions: list[str] = REGIONS, *, latent: bool = False) -> Request:
    rows = []
    for r in regions:
        den = sum(TRUTH[r, k] for k in CODES)
        rows += [{"code": k, "label": k, "region": r, "count": TRUTH[r, k], "denominator": den} for k in CODES]
    return Request(pd.DataFrame(rows), partition=True, question=Q, name="by region", latent=latent)


def publish(ledger: Path, *reqs: Request, cache: LedgerCache | None = None, name: str = "output") -> None:
    """Protect and record jointly, as one output (no cache: as the CLI does)."""
    rel = Release(ledger, SNAP, name=name, cache=cache)
    try:
        protect_many(list(reqs), release=rel)
    finally:
        rel.close()


def loaded(ledger: Path, cache: LedgerCache | None, req: Request) -> tuple[Any, ...]:
    """What the release gives a new table: earlier outputs, cells in order, fixed cells, lines (by key)."""
    rel = Release(ledger, SNAP, cache=cache)
    try:
        rel.begin()
        problem = Problem()
        prep = _prepare(req)
        problem.add_table(prep.spec, prep.count, prep.den)
        earlier = rel.load_into(problem)
        keys = problem.keys
        return (earlier, list(keys), {keys[c]: f for c, f in problem.fixed.items()},
                [(keys[t], tuple(keys[p] for p in parts), what) for (t, parts), what in zip(problem.lines, problem.line_what, strict=True)])
    finally:
        rel.close()


def same(ledger: Path, cache: LedgerCache) -> tuple[Any, ...]:
    """The national table as the session's cache loads it, checked against a fresh read; returned."""
    cached = loaded(ledger, cache, national())
    assert cached == loaded(ledger, None, national())
    return cached


def outputs(got: tuple[Any, ...]) -> list[str]:
    """The earlier outputs a load names, without the table names the ledger adds ("name: by region")."""
    return sorted(n.split(":")[0].split(" (")[0] for n in got[0])


def test_outputs_published_meanwhile_by_another_process_are_seen(tmp_path: Path) -> None:
    ledger = tmp_path / "l.sqlite"
    cache = LedgerCache()
    publish(ledger, by_region(["north_west", "london"]), cache=cache, name="session view")
    before = same(ledger, cache)
    publish(ledger, by_region(), name="CLI by region")  # another process: no cache
    after = same(ledger, cache)
    assert outputs(before) == ["session view"] and outputs(after) == ["CLI by region", "session view"]
    assert len(after[2]) > len(before[2])  # the CLI's cells are loaded as published


def test_a_forced_reset_is_not_survived(tmp_path: Path) -> None:
    ledger = tmp_path / "l.sqlite"
    cache = LedgerCache()
    publish(ledger, by_region(), cache=cache, name="old release")
    assert outputs(same(ledger, cache)) == ["old release"]
    assert reset_release(ledger, SNAP, force=True) == 1
    publish(ledger, by_region(["north_west", "london"]), name="new release")
    assert outputs(same(ledger, cache)) == ["new release"]


def test_a_recreated_ledger_is_not_taken_for_the_old_one(tmp_path: Path) -> None:
    """A new ledger file numbers its first release 1 again, and its rows from 1: same release id, fewer rows."""
    ledger = tmp_path / "l.sqlite"
    cache = LedgerCache()
    publish(ledger, by_region(), cache=cache, name="old ledger")
    publish(ledger, national(), cache=cache, name="old ledger, national")
    first = same(ledger, cache)
    assert cache.ident is not None and cache.ident[1] == 1
    ledger.unlink()
    publish(ledger, by_region(["wales", "south_west"]), name="new ledger")
    again = same(ledger, cache)
    assert cache.ident is not None and cache.ident[1] == 1
    assert outputs(again) == ["new ledger"] and again != first


def test_an_aborted_held_output_leaves_nothing_in_the_cache(tmp_path: Path) -> None:
    """A held output (public_release(hold=True)) is recorded but not committed; a second table of the same block reads
    it back through the cache; the block fails and the ledger forgets both. Then another output is recorded into
    the same rowids: the cache must neither keep the forgotten cells nor skip the new ones."""
    ledger = tmp_path / "l.sqlite"
    cache = LedgerCache()
    publish(ledger, national(), cache=cache, name="committed")
    held = Release(ledger, SNAP, name="held", hold=True, cache=cache)
    protect_many([by_region(["north_west", "london"])], release=held)
    protect_many([by_region(["south_west", "wales"])], release=held)  # loads the first, uncommitted, through the cache
    held.close()  # never committed: forgotten
    assert list(show_release(ledger, snapshot=SNAP)["name"]) == ["committed: national"]
    publish(ledger, by_region(["wales", "london"]), name="after the abort")
    assert outputs(same(ledger, cache)) == ["after the abort", "committed"]


def test_a_committed_held_output_is_kept(tmp_path: Path) -> None:
    ledger = tmp_path / "l.sqlite"
    cache = LedgerCache()
    held = Release(ledger, SNAP, name="held", hold=True, cache=cache)
    protect_many([by_region(["north_west", "london"])], release=held)
    protect_many([by_region(["south_west", "wales"])], release=held)
    held.commit()
    held.close()
    assert outputs(same(ledger, cache)) == ["held"]


def test_a_latent_cell_published_later_is_read_as_published(tmp_path: Path) -> None:
    """Latent cells (the slices behind a range view) are recorded as unseen, then replaced when a later output shows
    them: the cache must read the replacement, not keep the latent row it decoded first."""
    ledger = tmp_path / "l.sqlite"
    cache = LedgerCache()
    publish(ledger, national(), by_region(latent=True), cache=cache, name="national, regions latent")
    latent = same(ledger, cache)
    publish(ledger, by_region(), name="by region")
    shown = same(ledger, cache)
    assert len(shown[2]) > len(latent[2])  # the regions' cells are fixed (published) now, not latent

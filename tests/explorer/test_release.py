"""An explorer session in a release: views published one after another cannot be combined to recover a hidden cell.

The attacker is independent of the disclosure package: from the figures the explorer showed (the bars of
each view), it writes down what a reader knows — the regions of a nation add up to it, the nations to the
whole; a hidden count is at least 1 (zeros are always shown) — and asks scipy's linprog for each hidden
cell's feasible interval. A hidden count pinned, or a true count of 1-5 confined to 1-5, is a leak.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linprog

from lt_workbench.analysis import tabulate as tab
from lt_workbench.config import REPO_ROOT
from lt_workbench.explorer.explorer import Explorer
from lt_workbench.model.db import connect
from lt_workbench.model.load import load

C = "c"


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("explorer-release") / "sample.duckdb"
    assert load([str(REPO_ROOT / "data" / "sample")], db, progress=False).exit_code == 0
    return db


def attack(national: pd.DataFrame, parts: dict[str, pd.DataFrame], truth: dict[str, pd.DataFrame], threshold: int) -> list[str]:
    """Leaks a reader finds from a national table and one table per part (the parts add up to the nation)."""
    leaks = []
    names = list(parts)
    for code in national["code"]:
        total = national.set_index("code").loc[code, "count"]
        values = [parts[n].set_index("code").loc[code, "count"] for n in names]
        hidden = [i for i, v in enumerate(values) if v == C]
        if total == C or not hidden:
            continue
        for floor in (0.0, 1.0):
            bounds = [(floor, None) if i in hidden else (float(v), float(v)) for i, v in enumerate(values)]
            a_eq, b_eq = np.ones((1, len(values))), np.array([float(total)])
            for i in hidden:
                ends = []
                for sign in (1, -1):
                    c = np.zeros(len(values))
                    c[i] = sign
                    res = linprog(c, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
                    assert res.status == 0, res.message
                    ends.append(sign * res.fun)
                lo, hi = math.ceil(ends[0] - 1e-6), math.floor(ends[1] + 1e-6)
                true = int(truth[names[i]].set_index("code").loc[code, "count"])
                if hi - lo < 1:
                    leaks.append(f"{code} in {names[i]} pinned at {lo} knowing x >= {floor:g} (true {true})")
                elif 0 < true < threshold and lo >= 1 and hi <= threshold - 1:
                    leaks.append(f"{code} in {names[i]} (true {true}) confined to [{lo}, {hi}] knowing x >= {floor:g}")
    return leaks


def regions(con) -> list[str]:
    return [r for (r,) in con.execute("SELECT DISTINCT region FROM reviews ORDER BY region").fetchall()]


def test_protected_alone_the_views_leak_and_the_attacker_sees_it(sample_db: Path) -> None:
    """The premise: the same tables protected each alone (no release) let a reader recover a hidden count."""
    con = connect(sample_db, read_only=True)
    try:
        ask = lambda where, mode: tab.frequency("patterns", level=1, where=where, con=con, disclosure=mode)  # noqa: E731
        rs = regions(con)
        national = ask({}, "public")
        leaks = attack(national, {r: ask({"region": r}, "public") for r in rs}, {r: ask({"region": r}, "restricted") for r in rs},
                       int(national.attrs["threshold"]))
    finally:
        con.close()
    assert leaks, "the premise: views protected alone should leak on the sample"


@pytest.mark.parametrize("national_first", [True, False])
def test_region_views_then_the_nation_recover_nothing(sample_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      national_first: bool) -> None:
    """A user steps through every region, and views the whole country before or after: nothing is recovered."""
    monkeypatch.setenv("LT_WORKBENCH_LEDGER", str(tmp_path / "releases.sqlite"))
    ex = Explorer(db=sample_db, disclosure="public", level=1, debounce=0)
    try:
        rs = regions(ex.con)
        national = ex.tables["frequency"]
        shown: dict[str, pd.DataFrame] = {}
        for r in (rs if national_first else rs + [None]):
            ex.filters.set(region=r)
            if r is not None:
                assert "frequency" in ex.tables, ex.message
                shown[r] = ex.tables["frequency"]
        if not national_first:
            national = ex.tables["frequency"]
        truth = {r: tab.frequency("patterns", level=1, where={"region": r}, con=ex.con) for r in rs}
        threshold = int(national.attrs["threshold"])
    finally:
        ex.close()
    assert attack(national, shown, truth, threshold) == []


def test_moving_the_year_slider_by_one_year_recovers_nothing(sample_db: Path, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Views 2015-2025 and 2016-2025 differ by each pattern's 2015 count: both are linked to the single-year slices
    (analysis/slicing.py), so the second hides what the difference would give away (#12)."""
    monkeypatch.setenv("LT_WORKBENCH_LEDGER", str(tmp_path / "releases.sqlite"))
    ex = Explorer(db=sample_db, disclosure="public", debounce=0)
    try:
        ex.filters.set(years=(2015, 2025))
        wide = ex.tables["frequency"].set_index("code")
        ex.filters.set(years=(2016, 2025))
        narrow = ex.tables["frequency"].set_index("code")
        truth = tab.frequency("patterns", level=2, where={"year": 2015}, con=ex.con).set_index("code")
        threshold = int(wide.attrs["threshold"])
    finally:
        ex.close()
    derived = {code: int(wide.loc[code, "count"]) - int(narrow.loc[code, "count"]) for code in wide.index
               if C not in (wide.loc[code, "count"], narrow.loc[code, "count"])}
    small = {code: d for code, d in derived.items() if 0 < d < threshold}
    assert all(d == int(truth.loc[code, "count"]) for code, d in derived.items())  # the difference is the 2015 count
    assert small == {}, f"2015 counts of 1-{threshold - 1} recovered: {small}"


def test_a_view_visited_again_is_shown_as_published_without_protecting_again(sample_db: Path, tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Back and forth between filters: each view's tables (and refusals) come back as the release published them,
    and the ledger gains nothing (the session keeps what it got; protecting again would cost seconds)."""
    from lt_workbench.analysis.disclosure import show_release

    ledger = tmp_path / "releases.sqlite"
    monkeypatch.setenv("LT_WORKBENCH_LEDGER", str(ledger))
    ex = Explorer(db=sample_db, disclosure="public", debounce=0)
    try:
        ex.table_view.value = "recurrence"  # public: asked (and published) only when its view is shown
        ex.filters.set(region="north_west", years=(2015, 2025))
        first, refused = ex.tables["frequency"], dict(ex._snap.refused)
        outputs = len(show_release(ledger))
        ex.filters.set(region=None, years=(2008, 2025))
        ex.filters.set(region="north_west", years=(2015, 2025))
        pd.testing.assert_frame_equal(ex.tables["frequency"], first)
        # The same views are refused again. A refused table is not kept (tentatively: only what is shown is
        # published), so it is asked again on the revisit and its message names every earlier output it now
        # conflicts with: the national views published in between can add to that list.
        assert set(ex._snap.refused) == set(refused) and "recurrence" in refused
        assert len(show_release(ledger)) == outputs
    finally:
        ex.close()


def test_only_the_tables_a_view_shows_are_published(sample_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The year heat map tries single years, then five-year periods, and draws one; the Table section shows one view.
    The ledger records one output per table shown (the bars, the heat map drawn, the pairs), and the recurrence
    table only once its view is chosen: a table tried and not drawn is never published."""
    from lt_workbench.analysis.disclosure import show_release

    ledger = tmp_path / "releases.sqlite"
    monkeypatch.setenv("LT_WORKBENCH_LEDGER", str(ledger))
    ex = Explorer(db=sample_db, disclosure="public", debounce=0)
    try:
        drawn = {"frequency", "trend_periods", "cooccurrence_counts"}
        assert set(ex.tables) == drawn and ex.table_view.value == "frequency"  # the sample's years: periods drawn
        outputs = show_release(ledger)
        assert len(outputs) == len(drawn), list(outputs["name"])
        ex.table_view.value = "recurrence"  # shown now: published now
        assert "recurrence" in ex.tables and len(show_release(ledger)) == len(drawn) + 1
        ex.filters.set(region="north_west")  # years refused and periods refused: neither drawn, neither recorded
        assert {"trend", "trend_periods"} <= set(ex._snap.refused)
        names = list(show_release(ledger)["name"])
        assert len(names) == len(drawn) + 1 + sum(k in ex.tables for k in ("frequency", "cooccurrence_counts", "recurrence"))
    finally:
        ex.close()


def test_a_forced_reset_drops_the_views_kept_for_revisits(sample_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """After `release reset --force` a view visited again is protected against the new release, not shown from the
    session's memory of the old one (whose tables the new release knows nothing about)."""
    from lt_workbench.analysis.disclosure import open_release_id, reset_release, show_release

    ledger = tmp_path / "releases.sqlite"
    monkeypatch.setenv("LT_WORKBENCH_LEDGER", str(ledger))
    ex = Explorer(db=sample_db, disclosure="public", debounce=0)
    try:
        snap = ex.release.snapshot()
        old = open_release_id(ledger, snap)
        assert old is not None and len(show_release(ledger, old)) > 0
        assert reset_release(ledger, snap, force=True) > 0 and open_release_id(ledger, snap) is None
        ex.refresh()  # the same view again
        new = open_release_id(ledger, snap)
        assert new is not None and new != old
        assert set(show_release(ledger, new)["name"]) == set(show_release(ledger, old)["name"])
    finally:
        ex.close()


def test_a_refusal_that_suggests_reset_force_says_what_it_risks(sample_db: Path, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from lt_workbench.analysis.disclosure import RESET_RISK

    monkeypatch.setenv("LT_WORKBENCH_LEDGER", str(tmp_path / "releases.sqlite"))
    ex = Explorer(db=sample_db, disclosure="public", debounce=0)
    try:
        ex.filters.set(region="north_west")
        why = ex._snap.refused["trend"]
        assert "reset --force" in why and RESET_RISK in why
        note = ex.heat_year.layout.annotations[0].text.replace("<br>", " ")
        assert "withdrawn" in note and "…" not in note  # the whole reason, risk included, in the figure
    finally:
        ex.close()


def test_a_recreated_ledger_drops_the_views_kept_for_revisits(sample_db: Path, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The ledger file deleted and made again numbers its first release 1, like the old one: a view visited again
    must be protected against (and recorded in) the new ledger's release, which the CLI has published into meanwhile,
    not shown from the session's memory of the old ledger, which the new release knows nothing about."""
    from lt_workbench.analysis.disclosure import open_release_id, show_release
    from lt_workbench.analysis.publish import public_release

    ledger = tmp_path / "releases.sqlite"
    monkeypatch.setenv("LT_WORKBENCH_LEDGER", str(ledger))
    ex = Explorer(db=sample_db, disclosure="public", debounce=0)
    try:
        snap = ex.release.snapshot()
        ex.filters.set(region="north_west")
        assert open_release_id(ledger, snap) == 1
        ledger.unlink()
        with public_release(sample_db, name="CLI", snapshot=snap):
            tab.frequency("patterns", level=1, by=("region",), con=ex.con, disclosure="public")
        assert open_release_id(ledger, snap) == 1 and list(show_release(ledger)["name"]) == ["CLI: frequency"]
        ex.filters.set(region=None)  # the opening view again
        names = list(show_release(ledger)["name"])
    finally:
        ex.close()
    assert any(n.startswith("explorer session") for n in names), names

"""Releases: tables published one after another from one snapshot stay safe together.

The attacker here is independent of the module: it rebuilds the equations a reader knows from the
published tables alone (regions add up to the nation, age bands partition each denominator,
rounded figures stand for intervals, hidden cells are at least 1 because zeros are always shown)
and asks scipy's linprog for each hidden cell's feasible interval.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from lt_workbench.analysis.disclosure import PROFILES, protect, release
from lt_workbench.exceptions import DisclosureError

C = "c"
Q = {"frame": "age_band", "unit": "child"}


def _national(counts: dict[tuple[str, str], int], codes: list[str]) -> pd.DataFrame:
    den = sum(counts.values())
    return pd.DataFrame([{"code": k, "label": k, "count": sum(v for (r, c), v in counts.items() if c == k), "denominator": den}
                         for k in codes])


def _by_region(counts: dict[tuple[str, str], int], codes: list[str], regions: list[str], totals: bool) -> pd.DataFrame:
    rows = []
    for r in regions:
        den = sum(counts[r, k] for k in codes)
        rows += [{"code": k, "label": k, "region": r, "count": counts[r, k], "denominator": den} for k in codes]
    if totals:
        nat = _national(counts, codes)
        rows += [{**row, "region": "All"} for row in nat.to_dict("records")]
    return pd.DataFrame(rows)


def attack(published: list[tuple[pd.DataFrame, int | None, int | None]], codes: list[str], regions: list[str],
           truth: dict[tuple[str, str], int], threshold: int) -> list[str]:
    """What a reader learns: each hidden cell's interval from every published table; returns the leaks found.

    published: (table, base of ordinary rows, base of 'All' rows) — the rounding each row's figure stands for.
    """
    names = [(k, r) for k in [*codes, "_den"] for r in [*regions, "All"]]
    idx = {n: i for i, n in enumerate(names)}
    lo = np.zeros(len(names))
    hi = np.full(len(names), np.inf)
    hidden: set[int] = set()
    seen: dict[int, list[tuple[int, int]]] = {}
    for t, base, tot_base in published:
        for row in t.to_dict("records"):
            r = row.get("region", "All")
            for key, val in ((row["code"], row["count"]), ("_den", row["denominator"])):
                i = idx[key, r]
                if val == C:
                    hidden.add(i)
                else:
                    b = tot_base if r == "All" and "region" in t.columns else base
                    seen.setdefault(i, []).append((int(val), b or 0))
    # One cell shows one number across a release; a reader takes it as rounded if any table rounds that cell.
    for i, shown in seen.items():
        assert len({v for v, _ in shown}) == 1, f"{names[i]} shown as {shown}: one cell, two numbers"
        v, b = shown[0][0], max(b for _, b in shown)
        if v == 0:
            lo[i], hi[i] = 0.0, 0.0
        elif b:
            lo[i], hi[i] = max(math.ceil(v - b / 2), threshold), math.ceil(v + b / 2) - 1
        else:
            lo[i], hi[i] = v, v
    eqs = []
    for k in [*codes, "_den"]:  # regions add up to the nation
        row = np.zeros(len(names))
        row[idx[k, "All"]] = 1
        for r in regions:
            row[idx[k, r]] = -1
        eqs.append(row)
    for r in [*regions, "All"]:  # age bands partition the children
        row = np.zeros(len(names))
        row[idx["_den", r]] = 1
        for k in codes:
            row[idx[k, r]] = -1
        eqs.append(row)
    a_eq = np.array(eqs)
    leaks = []
    for floor in (0.0, 1.0):
        bounds = [(max(lo[i], floor) if i in hidden else lo[i], None if np.isinf(hi[i]) else hi[i]) for i in range(len(names))]
        for i in sorted(hidden):
            ends = []
            for sign in (1, -1):
                c = np.zeros(len(names))
                c[i] = sign
                res = linprog(c, A_eq=a_eq, b_eq=np.zeros(len(eqs)), bounds=bounds, method="highs")
                if res.status == 3:
                    ends.append(math.inf)
                else:
                    assert res.status == 0, res.message
                    ends.append(sign * res.fun)
            a, z = math.ceil(ends[0] - 1e-6), (ends[1] if math.isinf(ends[1]) else math.floor(ends[1] + 1e-6))
            k, r = names[i]
            true = truth.get((r, k)) if k != "_den" else None
            if z - a < 1:
                leaks.append(f"{names[i]} pinned at {a} knowing x ≥ {floor:g}")
            elif true is not None and 0 < true < threshold and a >= 1 and z <= threshold - 1:
                leaks.append(f"{names[i]} (true {true}) confined to [{a}, {z}] knowing x ≥ {floor:g}")
    return leaks


# --------------------------------------------------------------------------------------------
# The differencing attack, in Python


REGIONS = ["north_west", "london", "south_west", "wales"]
CODES = ["under_1", "1_to_4", "5_plus"]
TRUTH = {("north_west", "under_1"): 11, ("london", "under_1"): 10, ("south_west", "under_1"): 7, ("wales", "under_1"): 3,
         ("north_west", "1_to_4"): 20, ("london", "1_to_4"): 15, ("south_west", "1_to_4"): 9, ("wales", "1_to_4"): 8,
         ("north_west", "5_plus"): 30, ("london", "5_plus"): 25, ("south_west", "5_plus"): 14, ("wales", "5_plus"): 12}


def test_tables_protected_alone_leak_wales_and_the_attacker_sees_it() -> None:
    """The attack of issue 12 is real without a release: national − shown regions = Wales."""
    a = protect(_by_region(TRUTH, CODES, REGIONS, False), partition=True)
    b = protect(_national(TRUTH, CODES), partition=True)
    assert a.table.loc[(a.table.region == "wales") & (a.table.code == "under_1"), "count"].item() == C
    assert b.table.loc[b.table.code == "under_1", "count"].item() == 31
    leaks = attack([(a.table, None, 10), (b.table, None, 10)], CODES, REGIONS, TRUTH, 6)
    assert any("('under_1', 'wales') pinned at 3" in s for s in leaks), leaks


@pytest.mark.parametrize("order", [("region", "national"), ("national", "region")])
def test_two_calls_in_one_release_leave_nothing_recoverable(tmp_path, order) -> None:
    ledger = tmp_path / "l.sqlite"
    published = []
    for which in order:
        t = _by_region(TRUTH, CODES, REGIONS, False) if which == "region" else _national(TRUTH, CODES)
        with release(ledger=ledger, snapshot="snap1", name=which) as rel:
            p = protect(t, partition=True, release=rel, question=Q, name=which)
        assert "passed" in p.facts["audit"] and "output" in p.facts["release"]
        published.append((p.table, None, 10))
    assert attack(published, CODES, REGIONS, TRUTH, 6) == []


def test_a_new_snapshot_starts_a_new_release(tmp_path) -> None:
    ledger = tmp_path / "l.sqlite"
    with release(ledger=ledger, snapshot="old", name="a") as rel:
        protect(_by_region(TRUTH, CODES, REGIONS, False), partition=True, release=rel, question=Q)
    with release(ledger=ledger, snapshot="new", name="b") as rel:
        p = protect(_national(TRUTH, CODES), partition=True, release=rel, question=Q)
    assert p.table.loc[p.table.code == "under_1", "count"].item() == 31  # nothing earlier in this release


def test_profile_mismatch_in_a_release_is_refused_and_nothing_recorded(tmp_path) -> None:
    from lt_workbench.analysis.disclosure import show_release

    ledger = tmp_path / "l.sqlite"
    with release(ledger=ledger, snapshot="s", name="first") as rel:
        protect(_national(TRUTH, CODES), partition=True, release=rel, question=Q)
    with release(ledger=ledger, snapshot="s", name="second") as rel:
        with pytest.raises(DisclosureError, match="profile 'dfe'"):
            protect(_national(TRUTH, CODES), partition=True, release=rel, question=Q, profile="ons")
    assert len(show_release(ledger, snapshot="s")) == 1


def test_a_table_that_cannot_be_made_consistent_is_refused_naming_the_earlier_output(tmp_path) -> None:
    """A region with one age band: its count equals the region's children, which the first table showed."""
    truth = {("north_west", "under_1"): 30, ("north_west", "1_to_4"): 0, ("wales", "under_1"): 4, ("wales", "1_to_4"): 9}
    ledger = tmp_path / "l.sqlite"
    den_only = pd.DataFrame([{"code": "children", "label": "children", "region": r, "count": sum(v for (rr, _), v in truth.items() if rr == r),
                              "denominator": sum(v for (rr, _), v in truth.items() if rr == r)} for r in ("north_west", "wales")])
    with release(ledger=ledger, snapshot="s", name="children by region") as rel:
        protect(den_only, release=rel, question={"frame": "children", "unit": "child"})
    # the same numbers as the denominators of a second family only link through identical questions: published
    t = _by_region(truth, ["under_1", "1_to_4"], ["north_west", "wales"], False)
    with release(ledger=ledger, snapshot="s", name="age band") as rel:
        p = protect(t, partition=True, release=rel, question=Q)
    assert p.table.loc[(p.table.region == "wales") & (p.table.code == "under_1"), "count"].item() == C


# --------------------------------------------------------------------------------------------
# Property: random tables, random sequences of calls, an LP attacker on everything published


@st.composite
def scenarios(draw):
    regions = [f"R{i}" for i in range(draw(st.integers(2, 5)))]
    codes = [f"K{i}" for i in range(draw(st.integers(2, 4)))]
    small = st.one_of(st.integers(0, 7), st.integers(0, 40))
    truth = {(r, k): draw(small) for r in regions for k in codes}
    calls = draw(st.lists(st.sampled_from(["national", "region", "region_totals"]), min_size=2, max_size=4))
    profile = draw(st.sampled_from(["dfe", "nhs"]))
    return regions, codes, truth, calls, profile


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(scenarios())
def test_random_sequences_of_calls_leave_nothing_recoverable(tmp_path_factory, case) -> None:
    regions, codes, truth, calls, profile = case
    ledger = tmp_path_factory.mktemp("rel") / "l.sqlite"
    prof = PROFILES[profile]
    published = []
    for i, call in enumerate(calls):
        if call == "national":
            t, lines = _national(truth, codes), None
        else:
            t, lines = _by_region(truth, codes, regions, call == "region_totals"), ([["region"]] if call == "region_totals" else None)
        with release(ledger=ledger, snapshot="s", name=f"call {i}") as rel:
            try:
                p = protect(t, partition=True, lines=lines, release=rel, question=Q, profile=profile)
            except DisclosureError as e:
                assert "call " in str(e)  # a refusal names the earlier output it could not be made consistent with
                continue
        published.append((p.table, prof.rounding, prof.total_rounding or prof.rounding))
        shown = p.table[~p.table["suppressed"]]
        true_small = shown["count"].map(lambda v: v != C and 0 < int(v) < prof.threshold)
        assert not true_small.any()
    assert attack(published, codes, regions, truth, prof.threshold) == []


def test_a_block_of_earlier_outputs_only_is_not_audited_again_and_a_table_tied_to_it_is(tmp_path, monkeypatch) -> None:
    """Secondary suppression and the audit skip a block made only of what earlier outputs published (Problem.untouched:
    the output that last changed it audited it). Two of the regions again load Wales' cells but leave its block alone; the
    national table adds up from its cells, so the block is solved and audited again with it, and nothing leaks."""
    import importlib

    secondary = importlib.import_module("lt_workbench.analysis.disclosure.secondary")
    audited: list[set[int]] = []
    real = secondary.audit_block

    def spy(cells, lines, values, hidden, *args, **kwargs):  # type: ignore[no-untyped-def]
        audited.append({values[c] for c in cells})
        return real(cells, lines, values, hidden, *args, **kwargs)

    monkeypatch.setattr(secondary, "audit_block", spy)
    ledger = tmp_path / "l.sqlite"
    with release(ledger=ledger, snapshot="s", name="region") as rel:
        region = protect(_by_region(TRUTH, CODES, REGIONS, False), partition=True, release=rel, question=Q)
    assert audited and (region.table["count"] == C).any()
    audited.clear()
    # two of the regions again: the release loads the family's earlier cells, Wales' block with them, not tied to them
    with release(ledger=ledger, snapshot="s", name="two regions") as rel:
        protect(_by_region(TRUTH, CODES, ["north_west", "london"], False), partition=True, release=rel, question=Q)
    assert all(3 not in block for block in audited)  # Wales' hidden under-1 count (3): not in any block
    audited.clear()
    with release(ledger=ledger, snapshot="s", name="national") as rel:
        nat = protect(_national(TRUTH, CODES), partition=True, release=rel, question=Q)
    assert any(3 in block for block in audited)  # tied to the national table: solved and audited again
    assert attack([(region.table, None, 10), (nat.table, None, 10)], CODES, REGIONS, TRUTH, 6) == []

"""Filters and guards of the analysis API (issues 12-15): one public number per question, bounded year
ranges compiled to range predicates, labels for codes, public mode and areas, traps that warn or refuse.

Counts are checked against recomputation from the base tables (pattern_findings, reviews), not against
the derived tables the API reads.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from lt_workbench.analysis import tabulate as tab
from lt_workbench.analysis.plan import _plan
from lt_workbench.analysis.publish import public_release
from lt_workbench.exceptions import DatabaseError, DisclosureError, TabulationError
from lt_workbench.model.db import connect
from lt_workbench.model.load import load

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"
NW = {"region": "north_west", "year": "2015..2025"}


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("filters") / "sample.duckdb"
    result = load([SAMPLE], db, progress=False)
    assert result.exit_code == 0, result.summary()
    return db


def _reviews_with(db: Path, prefix: str, region: str, lo: int, hi: int) -> tuple[int, int]:
    """(reviews with a finding coded `prefix` or below, reviews in scope), from the base tables."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        den = con.execute("SELECT count(*) FROM reviews WHERE region = ? AND year BETWEEN ? AND ?", [region, lo, hi]).fetchone()
        num = con.execute(
            """SELECT count(DISTINCT r.review_id) FROM reviews AS r JOIN pattern_findings AS pf ON pf.review_id = r.review_id
               WHERE r.region = ? AND r.year BETWEEN ? AND ? AND (pf.code = ? OR pf.code LIKE ? || '.%')""",
            [region, lo, hi, prefix, prefix],
        ).fetchone()
    finally:
        con.close()
    assert den is not None and num is not None
    return int(num[0]), int(den[0])


# ------------------------------------------------------------------------------------------
# One public number per question (issue 12 §2): recurrence and tabulate agreed restricted (17/32) but
# public recurrence rounded its overall count as the total of recent + before (17 -> 20, 32 -> 30).
#
# P4.2 (north_west, 2015..2025, level 2) is 6 reviews = 3 recent + 3 before. Recurrence publishes that split,
# and with the overall 6 shown, two hidden parts each at least 1 are each confined to 1..5: recurrence must
# hide the 6. A frequency table protected on its own has no split and shows 6. So the same number on both
# surfaces is a property of a release (as every CLI command, report and explorer session publishes), not of
# two tables each protected alone; in a release the second output carries the first one's suppression over.


def _same_figures(rec: pd.DataFrame, freq: pd.DataFrame) -> pd.DataFrame:
    merged = rec.merge(freq, on="code", suffixes=("_rec", "_freq"))
    assert len(merged) == len(freq) == len(rec)
    assert merged["reviews"].astype(str).tolist() == merged["count"].astype(str).tolist()
    assert merged["denominator_rec"].astype(str).tolist() == merged["denominator_freq"].astype(str).tolist()
    assert merged["percent_rec"].astype(str).tolist() == merged["percent_freq"].astype(str).tolist()
    return merged.set_index("code")


@pytest.mark.parametrize("disclosure", ["restricted", "public"])
def test_recurrence_and_tabulate_show_the_same_number(sample_db: Path, disclosure: str) -> None:
    with public_release(sample_db, name="recurrence then tabulate"):
        rec = tab.recurrence(level=2, where=NW, db=sample_db, disclosure=disclosure)  # type: ignore[arg-type]
        freq = tab.frequency("patterns", level=2, where=NW, db=sample_db, disclosure=disclosure)  # type: ignore[arg-type]
    merged = _same_figures(rec, freq)
    p21 = merged.loc["P2.1"]
    assert (int(p21["reviews"]), int(p21["denominator_rec"])) == _reviews_with(sample_db, "P2.1", "north_west", 2015, 2025) == (17, 32)
    p42 = merged.loc["P4.2"]
    assert _reviews_with(sample_db, "P4.2", "north_west", 2015, 2025) == (6, 32)
    assert p42["count"] == ("c" if disclosure == "public" else 6)


def test_tabulate_then_recurrence_agree_or_recurrence_is_refused_naming_tabulate(sample_db: Path) -> None:
    """The other order: tabulate shows P4.2 as 6, so recurrence cannot publish its 3 + 3 split safely; it is
    refused (nothing recorded) with a message naming the earlier output, never published with another number."""
    with public_release(sample_db, name="tabulate then recurrence"):
        freq = tab.frequency("patterns", level=2, where=NW, db=sample_db, disclosure="public")
        assert freq.set_index("code").loc["P4.2", "count"] == 6
        with pytest.raises(DisclosureError, match=r"tabulate then recurrence.*code P4\.2"):
            tab.recurrence(level=2, where=NW, db=sample_db, disclosure="public")
        again = tab.frequency("patterns", level=2, where=NW, db=sample_db, disclosure="public")
    pd.testing.assert_frame_equal(again[["code", "count", "denominator", "percent"]], freq[["code", "count", "denominator", "percent"]])


def test_p2_1_gets_one_public_number(sample_db: Path) -> None:
    """The issue's example: 17/32 (53.1%) from both commands in public mode, as the base tables count it."""
    rec = tab.recurrence(level=2, where=NW, db=sample_db, disclosure="public").set_index("code").loc["P2.1"]
    freq = tab.frequency("patterns", level=2, where=NW, db=sample_db, disclosure="public").set_index("code").loc["P2.1"]
    assert (rec["reviews"], rec["denominator"], rec["percent"]) == (freq["count"], freq["denominator"], freq["percent"])
    assert (int(rec["reviews"]), int(rec["denominator"])) == _reviews_with(sample_db, "P2.1", "north_west", 2015, 2025)


def test_public_recurrence_hides_recent_and_before_together(sample_db: Path) -> None:
    rec = tab.recurrence(level=2, where=NW, db=sample_db, disclosure="public")
    restricted = tab.recurrence(level=2, where=NW, db=sample_db).set_index("code")
    checked = 0
    for _, row in rec.iterrows():
        shown = {p: row[f"reviews_{p}"] != "c" for p in ("recent", "before")}
        if row["reviews"] != "c":
            assert shown["recent"] == shown["before"], row.to_dict()  # else the hidden one follows by subtraction
            checked += 1
        for p in ("recent", "before"):
            true = int(restricted.loc[row["code"], f"reviews_{p}"])
            if shown[p]:
                assert int(row[f"reviews_{p}"]) == true and not 0 < true < 6
            else:
                assert row["suppressed"] and row["q_value"] == "c"
    assert checked > 5


# ------------------------------------------------------------------------------------------
# Years: bounded, compiled to range predicates, open-ended


def test_year_ranges_compile_to_range_predicates(sample_db: Path) -> None:
    con = connect(sample_db, read_only=True)
    try:
        for raw, sql, params in [
            ("1..9999", "BETWEEN ? AND ?", [1, 9999]),
            ("2015..", ">= ?", [2015]),
            ("..2014", "<= ?", [2014]),
            (range(2015, 2020), "BETWEEN ? AND ?", [2015, 2019]),
        ]:
            plan = _plan(con, "patterns", "review", (), {"year": raw}, None, "completed", 5, tab.frequency.__kwdefaults__["version"])
            conds, bound = plan.conditions(with_member=False, population_only=True)
            assert conds == [f"r.year {sql}"] and bound == params
    finally:
        con.close()


def test_year_ranges_count_what_the_years_hold(sample_db: Path) -> None:
    everything = tab.frequency("patterns", level=1, db=sample_db)
    assert tab.frequency("patterns", level=1, where={"year": "1..9999"}, db=sample_db)["count"].tolist() == everything["count"].tolist()
    con = duckdb.connect(str(sample_db), read_only=True)
    (n_from,), (n_to,) = (con.execute(f"SELECT count(*) FROM reviews WHERE {c}").fetchall()[0] for c in ("year >= 2015", "year <= 2014"))
    con.close()
    since = tab.frequency("patterns", level=1, where={"year": "2015.."}, db=sample_db)
    until = tab.frequency("patterns", level=1, where={"year": "..2014"}, db=sample_db)
    assert since["denominator"].iloc[0] == n_from and until["denominator"].iloc[0] == n_to
    assert (since["count"] + until["count"]).tolist() == everything["count"].tolist()
    assert since.attrs["where"] == {"year": "2015.."} and until.attrs["where"] == {"year": "..2014"}


@pytest.mark.parametrize("raw", ["1..99999999", "0..2015", "99999999", "2015..99999999999999999999"])
def test_years_beyond_what_a_review_can_have_are_refused(sample_db: Path, raw: str) -> None:
    with pytest.raises(TabulationError, match=r"not a year a review can have \(1\.\.9999\)"):
        tab.frequency("patterns", where={"year": raw}, db=sample_db)


def test_long_value_lists_are_refused(sample_db: Path) -> None:
    with pytest.raises(TabulationError, match="at most 1000"):
        tab.frequency("patterns", where={"year": list(range(1000, 2100))}, db=sample_db)


# ------------------------------------------------------------------------------------------
# Labels wherever codes are, in any case; one spelling of dimension names


@pytest.mark.parametrize("value", ["North West", "north west", "NORTH_WEST", ["North West"], "North West,London"])
def test_labels_are_accepted_in_any_case(sample_db: Path, value: object) -> None:
    table = tab.frequency("patterns", level=1, where={"region": value}, db=sample_db)
    want = "north_west,london" if value == "North West,London" else "north_west"
    assert table.attrs["where"] == {"region": want}
    expected = tab.frequency("patterns", level=1, where={"region": want.split(",")}, db=sample_db)
    assert table["count"].tolist() == expected["count"].tolist()


def test_a_label_with_a_comma_is_one_value(sample_db: Path) -> None:
    labels = tab.frequency("patterns", level=2, db=sample_db).set_index("code")["label"]
    with_comma = labels["P1.3"]
    assert "," in with_comma
    table = tab.frequency("patterns", level=2, where={"pattern": with_comma.upper()}, db=sample_db)
    assert table.attrs["where"] == {"pattern": "P1.3"}


def test_messages_spell_dimensions_as_the_command_line_does(sample_db: Path) -> None:
    with pytest.raises(TabulationError, match="unknown dimension 'review-typ' \\(did you mean 'review-type'\\?\\)") as err:
        tab.frequency("patterns", where={"review_typ": "x"}, db=sample_db)
    assert "review_type" not in str(err.value)
    with pytest.raises(TabulationError, match="where review-type='nope' is not a known value"):
        tab.frequency("patterns", where={"review-type": "nope"}, db=sample_db)


# ------------------------------------------------------------------------------------------
# Public mode and areas


AREA_CALLS = {
    "frequency": lambda db, w: tab.frequency("patterns", where=w, db=db, disclosure="public"),
    "trend": lambda db, w: tab.trend("patterns", level=1, where=w, db=db, disclosure="public"),
    "trend_tests": lambda db, w: tab.trend_tests("patterns", level=1, where=w, db=db, disclosure="public"),
    "recurrence": lambda db, w: tab.recurrence(level=1, where=w, db=db, disclosure="public"),
    "compare": lambda db, w: tab.compare(level=1, group={"region": "london"}, where=w, db=db, disclosure="public"),
    "compare_group": lambda db, w: tab.compare(level=1, group=w, db=db, disclosure="public"),
    "cooccurrence": lambda db, w: tab.cooccurrence(level=1, where=w, db=db, disclosure="public"),
    "recommendations": lambda db, w: tab.recommendations(where=w, db=db, disclosure="public"),
    "unaddressed": lambda db, w: tab.unaddressed_patterns(where=w, db=db, disclosure="public"),
}


@pytest.mark.parametrize("name", sorted(AREA_CALLS))
def test_public_output_refuses_an_area_filter_without_echoing_it(sample_db: Path, name: str) -> None:
    con = duckdb.connect(str(sample_db), read_only=True)
    area, area_name = con.execute("SELECT area_code, area_name FROM reviews ORDER BY review_id LIMIT 1").fetchall()[0]
    con.close()
    for value in (area, area_name):
        with pytest.raises(TabulationError, match="public output never shows one area") as err:
            AREA_CALLS[name](sample_db, {"area": value})
        assert area not in str(err.value) and area_name not in str(err.value)
    # restricted mode may filter by area
    assert not tab.frequency("patterns", level=1, where={"area": area}, db=sample_db).empty


# ------------------------------------------------------------------------------------------
# Guards


def test_filtering_on_a_code_of_the_tabulated_frame_warns(sample_db: Path) -> None:
    table = tab.frequency("family-factors", where={"family-factor": "domestic_abuse"}, db=sample_db)
    row = table.set_index("code").loc["domestic_abuse"]
    assert row["count"] == row["denominator"]  # the trap: 100% by construction
    (warning,) = table.attrs["warnings"]
    assert "--where family-factor=domestic_abuse keeps only the reviews that have domestic_abuse" in warning
    assert "drop the filter and read its row" in warning
    assert tab.frequency("family-factors", where={"region": "london"}, db=sample_db).attrs["warnings"] == []
    pub = tab.frequency("patterns", level=2, where={"pattern": "P2.1"}, db=sample_db, disclosure="public")
    assert "cooccurrence ... --with P2.1" in pub.attrs["warnings"][0]


def test_trend_tests_with_an_unknown_profile_is_a_disclosure_error(sample_db: Path) -> None:
    for mode in ("public", "restricted"):
        with pytest.raises(DisclosureError, match="unknown disclosure profile 'nope'"):
            tab.trend_tests("patterns", level=1, db=sample_db, profile="nope", disclosure=mode)  # type: ignore[arg-type]


def test_cooccurrence_refuses_a_pattern_filter_and_points_to_with_code(sample_db: Path) -> None:
    with pytest.raises(TabulationError, match=r"with_code='P2.1' \(CLI: --with P2.1\)"):
        tab.cooccurrence("factor-pattern", where={"pattern": "P2.1"}, db=sample_db)
    with pytest.raises(TabulationError, match="level-2 patterns code but the pairs are at level 1"):
        tab.cooccurrence("patterns", level=1, with_code="P2.1", db=sample_db)


def test_cooccurrence_with_code_sort_and_top(sample_db: Path) -> None:
    full = tab.cooccurrence("factor-pattern", db=sample_db)
    mine = tab.cooccurrence("factor-pattern", with_code="P2.1", db=sample_db)
    expected = full[(full["code_a"] == "P2.1") | (full["code_b"] == "P2.1")].reset_index(drop=True)
    pd.testing.assert_frame_equal(mine, expected)  # same counts and q-values as in the full table
    top = tab.cooccurrence("factor-pattern", with_code="P2.1", sort="lift", top=3, db=sample_db)
    assert top["lift"].tolist() == sorted(expected["lift"], reverse=True)[:3]
    assert top.attrs["top"] == 3 and top.attrs["sorted_by"].startswith("lift")
    pub = tab.cooccurrence("patterns", sort="count", db=sample_db, disclosure="public")
    shown = pd.to_numeric(pub["n_ab"], errors="coerce")
    n_shown = int(shown.notna().sum())
    assert n_shown > 0 and shown.iloc[:n_shown].is_monotonic_decreasing and shown.iloc[n_shown:].isna().all()


def test_recurrence_sort_and_top(sample_db: Path) -> None:
    by_q = tab.recurrence(level=2, sort="q", top=4, db=sample_db)
    assert len(by_q) == 4 and by_q["q_value"].is_monotonic_increasing
    with pytest.raises(TabulationError, match="sorts by count or q"):
        tab.recurrence(level=2, sort="lift", db=sample_db)  # type: ignore[arg-type]


def test_every_output_records_its_filters_in_canonical_form(sample_db: Path) -> None:
    where = {"Region": "North West", "year": range(2015, 2026), "review-type": "serious_case_review"}
    w = {k.lower(): v for k, v in where.items()}
    canonical = {"region": "north_west", "year": "2015..2025", "review_type": "serious_case_review"}
    outputs = [
        tab.frequency("patterns", level=1, where=w, db=sample_db),
        tab.trend("patterns", level=1, where=w, db=sample_db),
        tab.trend_tests("patterns", level=1, where=w, db=sample_db),
        tab.funnel("patterns", code="P1", where=w, db=sample_db),
        tab.proposed_patterns(where=w, db=sample_db),
        tab.recurrence(level=1, where=w, db=sample_db),
        tab.cooccurrence(level=1, where=w, db=sample_db),
        tab.compare(level=1, group={"nation": "england"}, where=w, db=sample_db),
        tab.recommendations(where=w, db=sample_db),
        tab.unaddressed_patterns(where=w, db=sample_db),
        tab.overdue("2026-03-31", where=w, db=sample_db),
        tab.evidence("P2.1", where=w, db=sample_db),
    ]
    for out in outputs:
        assert out.attrs["where"] == canonical, out.attrs.get("table")


# ------------------------------------------------------------------------------------------
# Reads never write


def test_a_stale_database_is_reported_not_migrated(sample_db: Path, tmp_path: Path) -> None:
    old = tmp_path / "old.duckdb"
    shutil.copy(sample_db, old)
    con = duckdb.connect(str(old))
    con.execute("DROP TABLE review_codes")
    con.close()
    before = hashlib.sha256(old.read_bytes()).hexdigest()
    with pytest.raises(DatabaseError, match="lacks review_codes.*lt-workbench load"):
        tab.frequency("patterns", db=old)
    assert hashlib.sha256(old.read_bytes()).hexdigest() == before
    assert not Path(f"{old}.wal").exists()


def test_trend_tests_hide_the_test_of_a_count_the_release_hides(sample_db: Path) -> None:
    """A public trend test is shown only where the code's overall count is shown in the release. P4.2 among North
    West reviews 2015-2025 is 6: recurrence hides it (above), and a trend test shown beside it would tell a reader
    the hidden count is at least the threshold (before: tests were hidden by the true count, 1..4, alone)."""
    with public_release(sample_db, name="recurrence then trend tests"):
        rec = tab.recurrence(level=2, where=NW, db=sample_db, disclosure="public").set_index("code")
        tests = tab.trend_tests(level=2, where=NW, db=sample_db, disclosure="public").set_index("code")
        freq = tab.frequency("patterns", level=2, where=NW, db=sample_db, disclosure="public").set_index("code")
    assert rec.loc["P4.2", "reviews"] == "c" and tests.loc["P4.2", "p_value"] == "c"
    hidden = pd.to_numeric(freq["count"], errors="coerce").isna()
    shown_test = tests["p_value"].astype(str) != "c"
    assert not (shown_test & hidden.reindex(tests.index)).any()  # no test beside a hidden count

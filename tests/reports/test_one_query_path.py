"""One query path: a report's tables are the analysis API's tables for the same filters, and both equal
an independent count from the raw tables (restricted), in public and in restricted mode.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

from lt_workbench.analysis import recommendations, tabulate
from lt_workbench.analysis.publish import public_release
from lt_workbench.config import REPO_ROOT
from lt_workbench.reports.context import setup

SCOPE = {"region": "north_west", "year_from": 2012, "review_types": "serious_case_review,child_safeguarding_practice_review"}
WHERE = {"region": "north_west", "year": "2012..2100", "review_type": ["serious_case_review", "child_safeguarding_practice_review"]}


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from lt_workbench.model.load import load

    db = tmp_path_factory.mktemp("one-path") / "sample.duckdb"
    result = load([str(REPO_ROOT / "data" / "sample"), str(REPO_ROOT / "data" / "examples")], db)
    assert result.exit_code == 0, result.summary()
    return db


def _ctx(db: Path, mode: str, report: str = "recommendations_tracker", **extra: object):  # noqa: ANN202
    return setup(report, {"db": str(db), "disclosure": mode, **SCOPE, **extra})


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True), check_dtype=False)


def _oracle_status(db: Path, as_of: str) -> pd.DataFrame:
    """Recommendations by kind x status group, counted straight from the base tables."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(
            """SELECT rec.kind, CASE WHEN rec.status = 'completed' THEN 'completed' WHEN rec.status = 'not_accepted' THEN 'not_accepted'
                                     WHEN rec.due < CAST(? AS DATE) THEN 'overdue' ELSE 'open' END AS code, count(*) AS n
               FROM recommendations AS rec JOIN reviews AS r USING (review_id)
               WHERE r.region = 'north_west' AND r.year >= 2012
                 AND r.review_type IN ('serious_case_review', 'child_safeguarding_practice_review')
               GROUP BY ALL""", [dt.date.fromisoformat(as_of)]).df()
    finally:
        con.close()


@pytest.mark.parametrize("mode", ["public", "restricted"])
def test_report_scope_is_the_analysis_where(sample_db: Path, mode: str) -> None:
    """The report's tables are the API's for the same filters; public: the API asked in the same snapshot's release
    (as the CLI asks) after the report protected its plan jointly, gets the report's shown numbers."""
    ctx = _ctx(sample_db, mode)
    assert ctx.where == WHERE
    with public_release(sample_db, name="test: the API after the report"):
        _api_matches_report(ctx, sample_db, mode)


def _api_matches_report(ctx: Any, sample_db: Path, mode: str) -> None:
    for by in ("kind", "level", "agency"):
        _same(ctx.recommendation_status(by),
              recommendations.recommendation_status(by, as_of=ctx.as_of(), where=WHERE, db=sample_db, disclosure=mode))
    _same(ctx.overdue_ages(), recommendations.overdue_ages(as_of=ctx.as_of(), where=WHERE, db=sample_db, disclosure=mode))
    _same(ctx.frequency("patterns", level=2), tabulate.frequency("patterns", level=2, where=WHERE, db=sample_db, disclosure=mode))
    _same(ctx.unaddressed(level=2), tabulate.unaddressed_patterns(level=2, where=WHERE, db=sample_db, disclosure=mode))


def test_report_recommendation_counts_equal_an_independent_count(sample_db: Path) -> None:
    ctx = _ctx(sample_db, "restricted", as_of="2026-03-31")
    table = ctx.recommendation_status("kind")
    oracle = _oracle_status(sample_db, "2026-03-31")
    assert oracle["n"].sum() > 30  # the scope is not trivially small
    for rec in oracle.to_dict("records"):
        row = table[(table["kind"] == rec["kind"]) & (table["code"] == rec["code"])]
        assert int(row["count"].iloc[0]) == rec["n"], rec
    totals = table[table["kind"] == "All"].set_index("code")["count"]
    assert {k: int(v) for k, v in totals.items()} == {c: int(oracle.loc[oracle["code"] == c, "n"].sum())
                                                       for c in ("completed", "open", "overdue", "not_accepted")}
    ages = ctx.overdue_ages()
    assert int(ages["count"].sum()) == int(totals["overdue"]) == int(ages["denominator"].iloc[0])
    assert len(ctx.overdue()) == int(totals["overdue"])  # the restricted list holds exactly the overdue ones


def test_scope_counts_equal_an_independent_count(sample_db: Path) -> None:
    ctx = _ctx(sample_db, "restricted")
    con = duckdb.connect(str(sample_db), read_only=True)
    try:
        inside = con.execute("SELECT count(*) FROM reviews WHERE region = 'north_west' AND year >= 2012 AND review_type IN "
                             "('serious_case_review', 'child_safeguarding_practice_review')").fetchall()[0][0]
        total = con.execute("SELECT count(*) FROM reviews").fetchall()[0][0]
    finally:
        con.close()
    counts = ctx.scope_counts()
    assert (counts["in_scope_true"], counts["in_scope"], counts["total"]) == (inside, inside, total)


def test_no_sql_in_reports() -> None:
    """Reports reach the data only through the analysis API (no SQL text, no private imports across packages)."""
    import re

    folder = REPO_ROOT / "lt_workbench" / "reports"
    for path in folder.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"\b(SELECT|INSERT|UPDATE|DELETE)\b\s", text), f"{path.name}: SQL in reports/"
        assert ".execute(" not in text, f"{path.name}: runs SQL itself"
        for m in re.finditer(r"from lt_workbench\.(\w+)[\w.]* import ([^\n]+)", text):
            if m.group(1) != "reports":
                assert not re.search(r"(^|[ ,(])_\w", m.group(2)), f"{path.name}: private import {m.group(0)}"

"""One number, one place: the same question gets the same figures from the command line, the Python API,
a report's table and the explorer's table, in public and in restricted mode (issues 12 and 15).

The question: patterns at level 2 among North West reviews completed 2015–2025, counted in reviews.
Every surface is asked it on one fresh database, in the order a user might (so in public mode they
all publish into the same release), and the code/count/denominator/percent columns must be identical.
The restricted figures are also checked against a count taken straight from the base tables.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from typer.testing import CliRunner

from lt_workbench.analysis import tabulate
from lt_workbench.cli import app
from lt_workbench.config import REPO_ROOT
from lt_workbench.explorer.explorer import Explorer
from lt_workbench.model.load import load
from lt_workbench.reports.context import setup

WHERE = {"region": "north_west", "year": "2015..2025"}
COLUMNS = ["code", "count", "denominator", "percent"]


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("one-number") / "sample.duckdb"
    result = load([str(REPO_ROOT / "data" / "sample"), str(REPO_ROOT / "data" / "examples")], db, progress=False)
    assert result.exit_code == 0, result.summary()
    return db


def _norm(df: pd.DataFrame) -> pd.DataFrame:
    """The compared columns as text ('c' stays 'c'; 12 and 12.0 both read '12'; percents to one decimal)."""
    out = df[COLUMNS].copy()
    for col in ("count", "denominator"):
        out[col] = out[col].map(lambda v: v if isinstance(v, str) else str(int(v)))
    out["percent"] = out["percent"].map(lambda v: v if isinstance(v, str) else f"{float(v):.1f}")
    return out.sort_values("code").reset_index(drop=True)


def _cli(db: Path, mode: str) -> pd.DataFrame:
    args = ["tabulate", "patterns", "--level", "2", "--where", "region=north_west", "--where", "year=2015..2025",
            "--disclosure", mode, "--format", "json", "--db", str(db)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    text = result.stdout
    return pd.DataFrame(json.loads(text[text.index("{"):])["rows"])


def _report(db: Path, mode: str) -> pd.DataFrame:
    ctx = setup("cross_review_summary", {"db": str(db), "disclosure": mode, "region": "north_west",
                                         "year_from": 2015, "year_to": 2025})
    return ctx.frequency("patterns", level=2)


def _explorer(db: Path, mode: str) -> pd.DataFrame:
    ex = Explorer(db=str(db), disclosure=mode, debounce=0)
    try:
        ex.filters.set(region="north_west", years=(2015, 2025))
        return ex.tables["frequency"]
    finally:
        ex.close()


@pytest.mark.parametrize("mode", ["restricted", "public"])
def test_cli_api_report_and_explorer_give_the_same_figures(sample_db: Path, mode: str) -> None:
    api = _norm(tabulate.frequency("patterns", level=2, where=WHERE, db=sample_db, disclosure=mode))
    surfaces = {"cli": _cli(sample_db, mode), "report": _report(sample_db, mode), "explorer": _explorer(sample_db, mode)}
    assert len(api) == 20  # every level-2 pattern, found or not
    for name, table in surfaces.items():
        pd.testing.assert_frame_equal(_norm(table), api, obj=f"{name} vs the analysis API ({mode})")
    if mode == "public":
        assert (api["count"] == "c").any(), "the question should exercise suppression"


@pytest.mark.parametrize("opened_with", ["db", "con"])
def test_an_explorer_session_publishes_into_the_release_the_cli_then_repeats(sample_db: Path, tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch, opened_with: str) -> None:
    """The explorer first (a fresh release), then the CLI: the CLI repeats the explorer's public figures, and the
    ledger beside the database holds the explorer session's outputs. Opened with a connection only, the explorer
    finds the database file (DuckDB's current database) and joins the same ledger, beside the database."""
    import shutil

    from lt_workbench.analysis.disclosure import ledger_path, show_release
    from lt_workbench.model.db import connect

    monkeypatch.delenv("LT_WORKBENCH_LEDGER", raising=False)  # the ledger beside the database, as a user has it
    db = tmp_path / f"{opened_with}.duckdb"
    shutil.copyfile(sample_db, db)  # a database of its own: a fresh release
    sample_db, ledger = db, ledger_path(db)
    assert ledger.parent == db.parent and not ledger.exists()
    con = connect(sample_db, read_only=True) if opened_with == "con" else None
    ex = Explorer(db=None if con else str(sample_db), con=con, disclosure="public", debounce=0)
    try:
        ex.filters.set(region="north_west", years=(2015, 2025))
        shown = ex.tables["frequency"]
    finally:
        ex.close()
        if con is not None:
            con.close()
    outputs = show_release(ledger)
    assert outputs["name"].str.startswith("explorer session").all() and len(outputs) >= 2
    assert outputs["name"].str.contains("North West · 2015–2025: frequency").any()
    pd.testing.assert_frame_equal(_norm(_cli(sample_db, "public")), _norm(shown), obj="CLI after the explorer")
    assert len(show_release(ledger)) == len(outputs) + 1  # the CLI's output joined the same release


def test_restricted_figures_equal_a_count_from_the_base_tables(sample_db: Path) -> None:
    api = tabulate.frequency("patterns", level=2, where=WHERE, db=sample_db, disclosure="restricted").set_index("code")
    con = duckdb.connect(str(sample_db), read_only=True)
    try:
        den = con.execute("SELECT count(*) FROM reviews WHERE region = 'north_west' AND year BETWEEN 2015 AND 2025").fetchone()[0]
        rows = con.execute(
            """SELECT t.code, count(DISTINCT f.review_id) FROM taxonomy AS t
               JOIN pattern_findings AS f ON f.code = t.code OR f.code LIKE t.code || '.%'
               JOIN reviews AS r ON r.review_id = f.review_id
               WHERE t.frame = 'patterns' AND t.depth = 2 AND r.region = 'north_west' AND r.year BETWEEN 2015 AND 2025
               GROUP BY t.code""").fetchall()
    finally:
        con.close()
    assert set(api["denominator"].astype(int)) == {den}
    truth = dict(rows)
    for code, row in api.iterrows():
        assert int(row["count"]) == truth.get(code, 0), code

"""Releases through the CLI: separate public commands on one snapshot are protected together.

The corpus (60 reviews) is copied per test so each test's release starts empty; the ledger sits
beside the database unless LT_WORKBENCH_LEDGER says otherwise (set per test by conftest).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from lt_workbench.cli.main import app
from tests.analysis.test_release import attack

runner = CliRunner()


@pytest.fixture()
def db(corpus_db: Path, tmp_path: Path) -> Path:
    path = tmp_path / "corpus.duckdb"
    shutil.copy(corpus_db, path)
    return path


def _json(args: list[str], db: Path) -> pd.DataFrame:
    res = runner.invoke(app, [*args, "--db", str(db), "--format", "json"])
    assert res.exit_code == 0, res.output
    return pd.DataFrame(json.loads(res.stdout)["rows"])


def _truth(db: Path) -> dict[tuple[str, str], int]:
    t = _json(["tabulate", "age-band", "--by", "region", "--unit", "child", "--disclosure", "restricted"], db)
    return {(r.region, r.code): int(r.count) for r in t.itertuples()}


@pytest.mark.parametrize("order", [("region", "national"), ("national", "region")])
def test_differencing_attack_of_issue_12_fails(db: Path, order: tuple[str, str]) -> None:
    truth = _truth(db)
    regions = sorted({r for r, _ in truth})
    codes = sorted({c for _, c in truth})
    published = []
    for which in order:
        args = ["tabulate", "age-band", "--unit", "child"] + (["--by", "region"] if which == "region" else [])
        t = _json(args, db)
        published.append((t, None, 10))
    region_table = published[[*order].index("region")][0]
    assert (region_table["count"] == "c").any(), "the corpus must have small cells for this test to mean anything"
    # Without the release the same two calls leak (checked on the module level in tests/analysis/test_release.py).
    assert attack(published, codes, regions, truth, 6) == []


@pytest.mark.parametrize(("dim", "filters"), [("year", ["2015..", "2016.."]), ("region", ["london,north_west", "london"])])
def test_a_range_or_list_and_a_narrower_one_give_no_slice_away(db: Path, dim: str, filters: list[str]) -> None:
    """#12's last known leak: `--where year=2015..` and `--where year=2016..` differ by each code's 2015 count, a list
    of two regions and one of them by the other region; in one release the second hides what the difference gives."""
    from lt_workbench.analysis.vocab import YearSpan
    from tests.analysis.test_slicing import attack as slice_attack

    truth = _json(["tabulate", "age-band", "--by", dim, "--unit", "child", "--disclosure", "restricted"], db)
    truth = truth[truth[dim] != "All"]
    if dim == "year":
        truth[dim] = truth[dim].astype(int)
    published = []
    for f in filters:
        t = _json(["tabulate", "age-band", "--unit", "child", "--where", f"{dim}={f}"], db)
        span = YearSpan(int(f.rstrip(".")), None) if dim == "year" else f.split(",")
        published.append((t, span))
    assert not (published[0][0]["count"] == "c").all() and (published[1][0]["count"] == "c").any()
    assert slice_attack(published, truth, dim, 6, partition=True) == []


def test_release_list_show_reset(db: Path) -> None:
    _json(["tabulate", "age-band", "--by", "region", "--unit", "child"], db)
    _json(["recurrence", "--level", "2"], db)
    _json(["tabulate", "sex", "--unit", "child", "--disclosure", "restricted"], db)  # restricted: not a publication
    res = runner.invoke(app, ["release", "show", "--db", str(db)])
    assert res.exit_code == 0, res.output
    assert "2 output(s)" in res.stdout and "tabulate age-band --by region" in res.stdout and "recurrence --level 2" in res.stdout
    res = runner.invoke(app, ["release", "list", "--db", str(db)])
    assert res.exit_code == 0 and "open" in res.stdout and "dfe" in res.stdout
    res = runner.invoke(app, ["release", "reset", "--db", str(db)])
    assert res.exit_code == 2 and "--force" in res.output and "recover hidden numbers" in res.output
    res = runner.invoke(app, ["release", "reset", "--force", "--db", str(db)])
    assert res.exit_code == 0 and "2 output(s)" in res.stdout
    _json(["tabulate", "age-band", "--unit", "child"], db)
    res = runner.invoke(app, ["release", "show", "--db", str(db)])
    assert "1 output(s)" in res.stdout


def test_public_commands_never_write_the_database(db: Path) -> None:
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    _json(["tabulate", "patterns", "--level", "2", "--by", "region"], db)
    _json(["recurrence", "--level", "2"], db)
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before


def test_a_second_profile_on_the_same_release_is_refused(db: Path) -> None:
    _json(["tabulate", "age-band", "--unit", "child"], db)
    res = runner.invoke(app, ["tabulate", "age-band", "--unit", "child", "--profile", "ons", "--db", str(db)])
    assert res.exit_code == 2
    assert "profile 'dfe'" in res.output and "--profile dfe" in res.output


def test_same_question_same_number_recurrence_tabulate_and_api(db: Path) -> None:
    """Issue 12: recurrence showed 20/30 (its total rounded as a total) where tabulate showed 17/32."""
    from lt_workbench import tabulate as tab
    from lt_workbench.analysis.publish import public_release
    from lt_workbench.cli.release import ledger_for

    where = ["--where", "region=north_west", "--where", "year=2015..2025"]
    rec = _json(["recurrence", "--level", "2", *where], db).set_index("code")
    fr = _json(["tabulate", "patterns", "--level", "2", *where], db).set_index("code")
    with public_release(db, ledger=ledger_for(db)):
        api = tab.frequency("patterns", level=2, where=tab.parse_where(where[1::2]), db=db, disclosure="public").set_index("code")
    restricted = _json(["tabulate", "patterns", "--level", "2", *where, "--disclosure", "restricted"], db).set_index("code")
    for code in fr.index:
        assert str(rec.loc[code, "reviews"]) == str(fr.loc[code, "count"]) == str(api.loc[code, "count"]), code
        assert str(rec.loc[code, "denominator"]) == str(fr.loc[code, "denominator"]), code
        if fr.loc[code, "count"] != "c":
            assert int(fr.loc[code, "count"]) == int(restricted.loc[code, "count"])  # dfe: not a total, not rounded
    # ranked on what is shown: ties share a rank, hidden last
    shown = pd.to_numeric(rec["reviews"], errors="coerce")
    assert list(shown.dropna()) == sorted(shown.dropna(), reverse=True)
    tied = rec[shown.duplicated(keep=False) & shown.notna()]
    assert tied.empty or tied["rank"].str.endswith("=").all()


def test_a_public_command_that_fails_after_protecting_records_nothing(db: Path, tmp_path: Path) -> None:
    """The table is protected before --out is checked; a command that writes nothing publishes nothing, so the
    ledger must not hold its cells (they would make later tables hide more, and `release show` list a non-output)."""
    from lt_workbench.analysis.disclosure import list_releases, show_release
    from lt_workbench.cli.release import ledger_for

    bad = runner.invoke(app, ["tabulate", "age-band", "--by", "region", "--unit", "child", "--format", "csv",
                              "--out", str(tmp_path / "table.xlsx"), "--db", str(db)])
    assert bad.exit_code == 2, bad.output
    assert not (tmp_path / "table.xlsx").exists()
    ledger = ledger_for(db)
    assert not ledger.exists() or list_releases(ledger)["outputs"].sum() == 0
    _json(["tabulate", "age-band", "--unit", "child"], db)
    _json(["tabulate", "age-band", "--by", "region", "--unit", "child"], db)
    shown = show_release(ledger)
    assert len(shown) == 2 and shown["name"].str.contains("--by region").tolist() == [False, True]

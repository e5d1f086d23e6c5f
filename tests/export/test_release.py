"""export release (EES tidy data standard) and export tables (restricted Parquet of every table)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
from typer.testing import CliRunner

from lt_workbench import tabulate as tab
from lt_workbench.analysis.publish import public_release
from lt_workbench.cli.main import app
from lt_workbench.export.release import GEOGRAPHY_COLUMNS, META_COLUMNS, RELEASE_TABLES, ees_rows
from lt_workbench.model.db import connect

runner = CliRunner()


def test_release_files_follow_the_standard_and_equal_the_public_tabulation(corpus_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "release"
    res = runner.invoke(app, ["export", "release", "--out", str(out), "--db", str(corpus_db), "--where", "year=2012..2023"])
    assert res.exit_code == 0, res.output
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted([*(f"{t.name}.csv" for t in RELEASE_TABLES), *(f"{t.name}.meta.csv" for t in RELEASE_TABLES),
                            "release.meta.json"])
    for spec in RELEASE_TABLES:
        data = pd.read_csv(out / f"{spec.name}.csv", dtype=str, keep_default_na=False)
        meta = pd.read_csv(out / f"{spec.name}.meta.csv", dtype=str, keep_default_na=False)
        assert list(data.columns[:7]) == list(GEOGRAPHY_COLUMNS)
        assert list(meta.columns) == list(META_COLUMNS)
        # every column after the geography is described in the meta file, filters then indicators
        assert list(meta["col_name"]) == list(data.columns[7:])
        assert set(meta["col_type"]) == {"Filter", "Indicator"}
        assert set(data["time_identifier"]) == {"Calendar year"} and set(data["time_period"]) == {str(y) for y in range(2012, 2024)}
        assert set(data["geographic_level"]) <= {"National", "Regional"}
        national = data[data["geographic_level"] == "National"]
        assert set(national["country_code"]) <= {"K02000001", "E92000001", "W92000004", "S92000003", "N92000002"}
        assert (national["region_code"] == "").all()
        regional = data[data["geographic_level"] == "Regional"]
        assert set(regional["region_code"]) <= {f"E1200000{i}" for i in range(1, 10)}
        assert (regional["country_code"] == "E92000001").all()
        for col in data.columns[8:]:  # indicators: numbers or the standard's symbols, never blank
            assert all(v.replace(".", "", 1).isdigit() or v in ("c", "z", "x", "low") for v in data[col]), col
        # the numbers are the public tabulation's
        with public_release(corpus_db, name="test"):  # the same question in the same release: the same numbers
            public = tab.frequency(spec.frame, level=spec.level, by=("year", "nation", "region"), unit=spec.unit,
                                   where={"year": "2012..2023"}, totals=True, db=corpus_db, disclosure="public")
        want = ees_rows(public, spec).astype(str)
        assert data[spec.indicator].tolist() == want[spec.indicator].tolist()
        assert (data[spec.indicator] == "c").any(), "small counts are suppressed"
    facts = json.loads((out / "release.meta.json").read_text(encoding="utf-8"))
    assert facts["snapshot"]["reviews"] == 60 and all(t["disclosure"] == "public" for t in facts["tables"].values())


def test_export_tables_writes_every_table_and_says_it_is_restricted(corpus_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "tables"
    res = runner.invoke(app, ["export", "tables", "--format", "parquet", "--out", str(out), "--db", str(corpus_db)])
    assert res.exit_code == 0, res.output
    assert "RESTRICTED" in res.output and "RESTRICTED" in (out / "README.txt").read_text(encoding="utf-8")
    con = connect(corpus_db, read_only=True)
    try:
        names = [n for (n,) in con.execute("SELECT table_name FROM information_schema.tables WHERE table_schema='main' "
                                           "AND table_type='BASE TABLE'").fetchall()]
        counts = {n: con.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}
    finally:
        con.close()
    assert {"reviews", "episodes", "factor_codings", "pattern_findings", "taxonomy", "review_codes"} <= set(names)
    for name, n in counts.items():
        table = pq.read_table(out / f"{name}.parquet")
        assert table.num_rows == n
        about = json.loads(table.schema.metadata[b"lt_workbench.about"])
        assert about["disclosure"] == "restricted" and about["table"] == name
    assert not [p for p in out.iterdir() if p.name.startswith(".")], "no staging folder left behind"
    res = runner.invoke(app, ["export", "tables", "--format", "csv", "--out", str(tmp_path / "x"), "--db", str(corpus_db)])
    assert res.exit_code == 2


def test_a_failing_protection_writes_nothing(corpus_db: Path, tmp_path: Path, monkeypatch) -> None:
    from lt_workbench.analysis import frequency

    def broken(*a: object, **k: object) -> None:
        raise RuntimeError("solver failed")

    monkeypatch.setattr(tab, "frequency", broken)
    out = tmp_path / "release"
    res = runner.invoke(app, ["export", "release", "--out", str(out), "--db", str(corpus_db)])
    assert res.exit_code == 2 and "nothing was written" in res.output
    assert not out.exists() or not any(out.iterdir())
    assert frequency  # the real module is untouched


def test_a_failing_write_records_nothing_in_the_release(corpus_db: Path, tmp_path: Path, monkeypatch) -> None:
    """The tables are protected, then writing the files fails: the ledger holds no output, so nothing unpublished
    constrains later outputs (and a rerun decides the same cells afresh)."""
    from lt_workbench.analysis.disclosure import list_releases
    from lt_workbench.export import release as export_release

    ledger = tmp_path / "ledger.sqlite"
    monkeypatch.setenv("LT_WORKBENCH_LEDGER", str(ledger))

    def full_disk(files: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(export_release, "atomic_write", full_disk)
    res = runner.invoke(app, ["export", "release", "--out", str(tmp_path / "release"), "--db", str(corpus_db)])
    assert res.exit_code != 0
    releases = list_releases(ledger)
    assert releases.empty or int(releases["outputs"].sum()) == 0, releases
    monkeypatch.undo()
    monkeypatch.setenv("LT_WORKBENCH_LEDGER", str(ledger))
    res = runner.invoke(app, ["export", "release", "--out", str(tmp_path / "release"), "--db", str(corpus_db)])
    assert res.exit_code == 0, res.output
    assert int(list_releases(ledger)["outputs"].sum()) == len(RELEASE_TABLES)  # one output per table

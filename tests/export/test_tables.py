"""Result tables written as Excel and Parquet: numbers equal the CSV's, About facts present, nothing half-written."""

from __future__ import annotations

import io
import json
from pathlib import Path

import openpyxl
import pandas as pd
import pyarrow.parquet as pq
import pytest

from lt_workbench import tabulate as tab
from lt_workbench.exceptions import ExportError, TabulationError
from lt_workbench.export import write_table
from lt_workbench.model.frames import gss_codes, labels
from lt_workbench.model.snapshot import snapshot
from lt_workbench.present.tables import render


@pytest.fixture(scope="module")
def public_table(corpus_db: Path) -> pd.DataFrame:
    return tab.frequency("patterns", level=1, by=("region",), totals=True, where={"year": "2012..2023"},
                         db=corpus_db, disclosure="public")


def _csv(table: pd.DataFrame) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(render(table, "csv")), dtype=str, keep_default_na=False)


def test_xlsx_numbers_equal_the_csv_and_symbols_stay_text(public_table: pd.DataFrame, corpus_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "board.xlsx"
    write_table(public_table, out, "xlsx", db=corpus_db, command="lt-workbench tabulate patterns --level 1 --by region")
    assert public_table["count"].map(lambda v: v == "c").any(), "the fixture should hold suppressed cells"
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["Table", "About"]
    ws = wb["Table"]
    assert ws.freeze_panes == "A2"
    header = [c.value for c in ws[1]]
    assert header[:4] == ["code", "label", "region", "region_label"]
    csv = _csv(public_table)
    body = list(ws.iter_rows(min_row=2, values_only=True))
    assert len(body) == len(csv)
    for col in ("count", "denominator", "percent", "ci_low", "ci_high"):
        j = header.index(col)
        for row, text in zip(body, csv[col], strict=True):
            value = row[j]
            if text in ("c", "z", ":", "x"):
                assert value == text  # a symbol is text, never a number
            else:
                assert isinstance(value, (int, float)) and not isinstance(value, bool)
                assert value == pytest.approx(float(text))
    percent_col = header.index("percent") + 1
    assert {ws.cell(row=r, column=percent_col).number_format for r in range(2, ws.max_row + 1)
            if isinstance(ws.cell(row=r, column=percent_col).value, float)} == {"0.0"}
    region_labels = labels("region")
    j, k = header.index("region"), header.index("region_label")
    assert all(r[k] == region_labels.get(r[j], r[j]) for r in body)
    # pandas reads it too, and the About sheet carries the facts
    frame = pd.read_excel(out, sheet_name="Table", engine="openpyxl")
    assert list(frame["code"]) == list(csv["code"])
    about = dict(pd.read_excel(out, sheet_name="About", engine="openpyxl").itertuples(index=False, name=None))
    snap = snapshot(corpus_db)
    assert about["snapshot: content_hash"] == snap["content_hash"]
    assert str(about["snapshot: reviews"]) == "60"
    assert about["disclosure"] == "public" and about["profile"] == "dfe"
    assert "2012" in about["filters: year"] and about["unit"] == "reviews"
    assert about["command"].startswith("lt-workbench tabulate patterns")
    assert about["versions: lt-workbench"] and about["taxonomy_version"] == "scie-2008"
    assert about["disclosure_note"].startswith("Public (dfe profile)")
    # and the same facts beside the file
    meta = json.loads((tmp_path / "board.xlsx.meta.json").read_text(encoding="utf-8"))
    assert meta["snapshot"]["content_hash"] == snap["content_hash"] and meta["format"] == "xlsx"


def test_parquet_keeps_numbers_numeric_and_symbols_apart(public_table: pd.DataFrame, corpus_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "t.parquet"
    write_table(public_table, out, "parquet", db=corpus_db)
    back = pd.read_parquet(out)
    csv = _csv(public_table)
    assert pd.api.types.is_integer_dtype(back["count"])
    for value, symbol, text in zip(back["count"], back["count_symbol"], csv["count"], strict=True):
        if text == "c":
            assert pd.isna(value) and symbol == "c"
        else:
            assert value == int(text) and pd.isna(symbol)
    facts = json.loads(pq.read_schema(out).metadata[b"lt_workbench.about"])
    assert facts["disclosure"] == "public" and facts["snapshot"]["reviews"] == 60


def test_pivot_puts_codes_down_and_regions_across(corpus_db: Path, tmp_path: Path) -> None:
    table = tab.frequency("patterns", level=1, by=("region",), db=corpus_db, disclosure="restricted")
    out = tmp_path / "wide.xlsx"
    write_table(table, out, "xlsx", db=corpus_db, pivot="region")
    wide = pd.read_excel(out, sheet_name="Table", engine="openpyxl")
    assert list(wide["code"]) == ["P1", "P2", "P3", "P4", "P5", "P6"]
    long = table.set_index(["code", "region"])
    for name, region in labels("region").items():
        if region in wide.columns:
            for code, value in zip(wide["code"], wide[region], strict=True):
                assert value == long.loc[(code, name), "count"]
    with pytest.raises(ExportError, match="pivot on one of: region"):
        write_table(table, tmp_path / "bad.xlsx", "xlsx", pivot="nation")


@pytest.mark.parametrize("fmt,name", [("xlsx", "board.csv"), ("csv", "board.xlsx"), ("parquet", "t.xlsx"), ("xlsx", "noext")])
def test_extension_must_agree_with_the_format(public_table: pd.DataFrame, tmp_path: Path, fmt: str, name: str) -> None:
    with pytest.raises(ExportError, match="--format"):
        write_table(public_table, tmp_path / name, fmt)
    assert list(tmp_path.iterdir()) == []


def test_a_failed_write_leaves_nothing_behind(public_table: pd.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from lt_workbench.export import tables

    def boom(*a: object, **k: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(tables, "_write_xlsx", boom)
    with pytest.raises(OSError):
        write_table(public_table, tmp_path / "board.xlsx", "xlsx")
    assert list(tmp_path.iterdir()) == []


def test_csv_with_out_gets_the_same_bytes_and_a_sidecar(public_table: pd.DataFrame, corpus_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "t.csv"
    write_table(public_table, out, db=corpus_db)
    assert out.read_text(encoding="utf-8") == render(public_table, "csv")
    assert json.loads((tmp_path / "t.csv.meta.json").read_text(encoding="utf-8"))["unit"] == "reviews"


def test_gss_codes_of_regions_and_nations() -> None:
    regions = gss_codes("region")
    assert regions["north_east"] == "E12000001" and regions["north_west"] == "E12000002"
    assert regions["yorkshire_and_the_humber"] == "E12000003" and regions["london"] == "E12000007"
    assert regions["south_west"] == "E12000009" and regions["wales"] == "W92000004"
    assert sorted(v for v in regions.values() if v.startswith("E12")) == [f"E1200000{i}" for i in range(1, 10)]
    assert gss_codes("nation") == {"england": "E92000001", "wales": "W92000004", "scotland": "S92000003",
                                   "northern_ireland": "N92000002"}
    assert gss_codes("sex") == {}


def test_public_about_facts_never_name_an_area(corpus_db: Path, tmp_path: Path) -> None:
    from lt_workbench.export.about import about_facts

    # Public mode refuses an area filter outright, without naming the area ...
    with pytest.raises(TabulationError) as refused:
        tab.frequency("patterns", level=1, where={"area": "TST-01"}, db=corpus_db, disclosure="public")
    assert "TST-01" not in str(refused.value)
    # ... and should a public table with an area filter ever reach the About facts, they still do not name it.
    table = tab.frequency("patterns", level=1, where={"area": "TST-01"}, db=corpus_db, disclosure="restricted")
    table.attrs["disclosure"] = "public"
    facts = about_facts(table, db=corpus_db)
    assert "TST-01" not in json.dumps(facts) and facts["filters"]["area"] == "(not shown in public output)"

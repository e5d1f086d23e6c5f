"""The office commands as a user runs them: template xlsx, import xlsx/docx with --load, exit codes 0, 1 and 2."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import openpyxl
from typer.testing import CliRunner

from lt_workbench.cli.main import app
from lt_workbench.model.snapshot import snapshot

HERE = Path(__file__).resolve().parent
CORPUS = HERE.parent / "data" / "tabulate" / "corpus"
_spec = importlib.util.spec_from_file_location("office_fill", HERE / "office_fill.py")
office_fill = importlib.util.module_from_spec(_spec)  # type: ignore[arg-type]
_spec.loader.exec_module(office_fill)  # type: ignore[union-attr]
runner = CliRunner()


def test_template_fill_import_and_load(tmp_path: Path) -> None:
    res = runner.invoke(app, ["template", "xlsx", "--out", str(tmp_path / "coding.xlsx")])
    assert res.exit_code == 0, res.output
    assert "Review" in openpyxl.load_workbook(tmp_path / "coding.xlsx").sheetnames
    docs = [json.loads((CORPUS / f"TAB-{i:04d}.json").read_text(encoding="utf-8")) for i in (10, 11)]
    good = office_fill.fill(tmp_path / "coding.xlsx", docs, tmp_path / "good.xlsx")
    db = tmp_path / "w.duckdb"
    res = runner.invoke(app, ["import", "xlsx", str(good), "--out", str(tmp_path / "reviews"), "--load", "--db", str(db)])
    assert res.exit_code == 0, res.output
    assert "2 reviews written, 0 rejected" in res.output and snapshot(db)["reviews"] == 2

    def slip(wb: object) -> None:
        wb["Review"]["G2"] = "North Westt"  # type: ignore[index]

    bad = office_fill.fill(tmp_path / "coding.xlsx", docs, tmp_path / "bad.xlsx", edit=slip)
    res = runner.invoke(app, ["import", "xlsx", str(bad), "--out", str(tmp_path / "r2")])
    assert res.exit_code == 1
    assert "bad.xlsx: Review!G2: area.region: 'North Westt' is not a region code or label (did you mean" in res.output
    assert "1 reviews written, 1 rejected" in res.output


def test_template_needs_an_xlsx_name(tmp_path: Path) -> None:
    res = runner.invoke(app, ["template", "xlsx", "--out", str(tmp_path / "coding.csv")])
    assert res.exit_code != 0 and not (tmp_path / "coding.csv").exists()

"""--format xlsx|parquet on the table commands: the numbers equal the CSV's, About facts beside every --out, exit 2 on a wrong extension."""

from __future__ import annotations

import io
import json
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

from lt_workbench.cli.main import app
from lt_workbench.model.snapshot import snapshot

runner = CliRunner()

COMMANDS = [
    ["tabulate", "patterns", "--level", "1", "--by", "region", "--where", "year=2012..2023"],
    ["recurrence", "--level", "2"],
    ["cooccurrence", "patterns", "--level", "1"],
    ["evidence", "P2.1", "--disclosure", "restricted"],
]


def _csv(args: list[str], db: Path) -> pd.DataFrame:
    res = runner.invoke(app, [*args, "--db", str(db)])
    assert res.exit_code == 0, res.output
    return pd.read_csv(io.StringIO(res.stdout), dtype=str, keep_default_na=False)


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: a[0])
def test_xlsx_and_parquet_hold_the_csv_numbers(args: list[str], corpus_db: Path, tmp_path: Path) -> None:
    csv = _csv(args, corpus_db)
    xlsx, parquet = tmp_path / "t.xlsx", tmp_path / "t.parquet"
    for out, fmt in ((xlsx, "xlsx"), (parquet, "parquet")):
        res = runner.invoke(app, [*args, "--db", str(corpus_db), "--format", fmt, "--out", str(out)])
        assert res.exit_code == 0, res.output
    frame = pd.read_excel(xlsx, sheet_name="Table", engine="openpyxl", dtype=object)
    back = pd.read_parquet(parquet)
    for col in csv.columns:
        for got_x, got_p, sym, want in zip(frame[col], back[col], back.get(f"{col}_symbol", [None] * len(csv)), csv[col],
                                           strict=True):
            if want == "":
                assert pd.isna(got_x)
                continue
            if isinstance(got_x, (int, float)) and not isinstance(got_x, bool):
                assert float(want) == pytest.approx(got_x)  # a number in Excel is the CSV's number
                assert float(want) == pytest.approx(float(got_p))
            else:
                assert str(got_x) == want
                parquet_text = str(got_p).lower() if isinstance(got_p, (bool, type(pd.NA))) or str(got_p) in ("True", "False") else str(got_p)
                assert (sym if sym is not None and not pd.isna(sym) else parquet_text) == want
    assert openpyxl.load_workbook(xlsx).sheetnames == ["Table", "About"]
    about = dict(pd.read_excel(xlsx, sheet_name="About", engine="openpyxl").itertuples(index=False, name=None))
    assert about["snapshot: content_hash"] == snapshot(corpus_db)["content_hash"]
    assert about["file"] == "t.xlsx" and args[0] in about["command"]
    for out in (xlsx, parquet):
        meta = json.loads(out.with_name(out.name + ".meta.json").read_text(encoding="utf-8"))
        assert meta["file"] == out.name and meta["snapshot"]["reviews"] == 60


@pytest.mark.parametrize("fmt,name", [("csv", "board.xlsx"), ("xlsx", "board.csv"), ("parquet", "board.xlsx")])
def test_an_out_extension_that_disagrees_exits_2_and_writes_nothing(fmt: str, name: str, corpus_db: Path, tmp_path: Path) -> None:
    res = runner.invoke(app, [*COMMANDS[0], "--db", str(corpus_db), "--format", fmt, "--out", str(tmp_path / name)])
    assert res.exit_code == 2
    assert list(tmp_path.iterdir()) == []


def test_csv_out_gets_a_sidecar_and_stays_clean(corpus_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "t.csv"
    res = runner.invoke(app, [*COMMANDS[0], "--db", str(corpus_db), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert out.read_text(encoding="utf-8").startswith("code,label,region,")
    meta = json.loads((tmp_path / "t.csv.meta.json").read_text(encoding="utf-8"))
    assert meta["format"] == "csv" and meta["disclosure"] == "public" and "year" in meta["filters"]


def test_pivot_writes_the_wide_layout(corpus_db: Path, tmp_path: Path) -> None:
    long = _csv(["tabulate", "patterns", "--level", "1", "--by", "region"], corpus_db)
    out = tmp_path / "wide.xlsx"
    res = runner.invoke(app, ["tabulate", "patterns", "--level", "1", "--by", "region", "--pivot", "region",
                              "--db", str(corpus_db), "--out", str(out)])
    assert res.exit_code == 0, res.output
    wide = pd.read_excel(out, sheet_name="Table", engine="openpyxl", dtype=object)
    assert list(wide["code"]) == ["P1", "P2", "P3", "P4", "P5", "P6"]
    row = long[(long["code"] == "P2") & (long["region"] == "north_west")].iloc[0]
    got = wide.loc[wide["code"] == "P2", "North West"].iloc[0]
    assert str(got) == row["count"]
    pct = wide.loc[wide["code"] == "P2", "North West %"].iloc[0]
    assert str(pct) == row["percent"] or float(pct) == float(row["percent"])

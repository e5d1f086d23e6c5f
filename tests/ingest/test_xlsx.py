"""Excel coding workbook: template written, filled by a test as a user would, imported, loaded; bad files refused."""

from __future__ import annotations

import copy
import importlib.util
import json
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from lt_workbench.ingest.fields import FieldError, resolve_code
from lt_workbench.ingest.xlsx import import_workbooks, write_template
from lt_workbench.model.db import connect
from lt_workbench.model.load import load

HERE = Path(__file__).resolve().parent
CORPUS = HERE.parent / "data" / "tabulate" / "corpus"
_spec = importlib.util.spec_from_file_location("office_fill", HERE / "office_fill.py")
office_fill = importlib.util.module_from_spec(_spec)  # type: ignore[arg-type]
_spec.loader.exec_module(office_fill)  # type: ignore[union-attr]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_template(tmp_path_factory.mktemp("tpl") / "coding.xlsx")


@pytest.fixture(scope="module")
def docs() -> list[dict[str, Any]]:
    return [json.loads((CORPUS / f"TAB-{i:04d}.json").read_text(encoding="utf-8")) for i in range(6)]


def _normal(doc: dict[str, Any]) -> dict[str, Any]:
    """A document as the importer writes it: absent optionals as the template leaves them."""
    d = copy.deepcopy(doc)
    for key in ("patterns", "recommendations", "agencies", "practice_points"):
        if d.get(key) == []:
            d.pop(key)  # an empty list and no rows read the same
    for e in d["episodes"]:
        e.setdefault("end", None)
        e.setdefault("agencies", [])
    for p in d.get("patterns") or []:
        if not p.get("proposed_label"):
            p.pop("proposed_label", None)
    return d


def test_template_has_the_sheets_field_names_dropdowns_and_dates(template: Path) -> None:
    wb = openpyxl.load_workbook(template)
    assert wb.sheetnames[:8] == ["README", "Review", "Children", "Episodes", "Factors", "Patterns", "Recommendations", "Codes"]
    assert [c.value for c in wb["Factors"][1]] == ["review_id", "episode_id", "code", "influence", "note"]
    assert [c.value for c in wb["Review"][1]][:8] == ["review_id", "title", "review_type", "method", "area.code", "area.name",
                                                     "area.region", "area.nation"]
    assert [c.value for c in wb["Recommendations"][1]] == ["review_id", "rec_id", "text", "kind", "level", "patterns", "agency",
                                                           "lead_role", "due", "status"]
    region = next(dv for dv in wb["Review"].data_validations.dataValidation if "G2" in dv.sqref)
    assert region.type == "list" and region.formula1.startswith("Lists!") or region.formula1.startswith("=Lists!")
    lists = wb["Lists"]
    col = next(c for c in lists[1] if c.value == "region").column_letter
    assert "North West" in [c.value for c in lists[col][1:]]
    assert wb["Episodes"]["D2"].number_format == "yyyy-mm-dd"
    assert wb["Review"]["A1"].comment is not None
    readme = [r for r in wb["README"].iter_rows(values_only=True)]
    assert ("Patterns", "episodes") == readme[-14][:2] or any(r[:2] == ("Patterns", "episodes") for r in readme)
    codes = {(r[0], r[1]) for r in wb["Codes"].iter_rows(min_row=2, values_only=True)}
    assert ("factors", "FL.WORK.03") in codes and ("region", "north_west") in codes


def test_filled_workbook_imports_and_loads_with_one_mistyped_label_reported(template: Path, docs: list[dict[str, Any]],
                                                                              tmp_path: Path) -> None:
    bad = docs[2]

    def slip(wb: Any) -> None:  # the user types a pattern label by hand and gets it wrong
        ws = wb["Patterns"]
        row = next(r for r in range(2, ws.max_row + 1) if ws.cell(r, 1).value == bad["review_id"])
        ws.cell(row, 2).value = "Resource demand mismatches"
        slip.cell = f"Patterns!B{row}"  # type: ignore[attr-defined]

    filled = office_fill.fill(template, docs, tmp_path / "filled.xlsx", edit=slip)
    result = import_workbooks([filled], tmp_path / "out")
    assert result.exit_code == 1
    assert [str(p) for p in result.problems] == [
        f"filled.xlsx: {slip.cell}: code: 'Resource demand mismatches' is not a patterns code or label "  # type: ignore[attr-defined]
        "(did you mean 'P2.1', 'Resource–demand mismatch'?); allowed: 43 codes of the patterns frame"]
    assert result.rejected_reviews == [bad["review_id"]]
    good = [d for d in docs if d is not bad]
    assert sorted(p.name for p in result.written) == sorted(f"{d['review_id']}.json" for d in good)
    for d in good:
        written = json.loads((tmp_path / "out" / f"{d['review_id']}.json").read_text(encoding="utf-8"))
        assert written == _normal(d)
    db = tmp_path / "x.duckdb"
    loaded = load([tmp_path / "out"], db=db, progress=False, workers=1)
    assert loaded.exit_code == 0 and len(loaded.inserted) == len(good)
    con = connect(db, read_only=True)
    try:
        n_eps, n_fac, n_pat = con.execute("SELECT (SELECT count(*) FROM episodes), (SELECT count(*) FROM factor_codings), "
                                          "(SELECT count(*) FROM pattern_findings)").fetchone()
    finally:
        con.close()
    assert n_eps == sum(len(d["episodes"]) for d in good)
    assert n_fac == sum(len(e["factors"]) for d in good for e in d["episodes"])
    assert n_pat == sum(len(d.get("patterns") or []) for d in good)


def test_a_shared_label_and_a_quoted_item_read_as_every_importer_reads_them(template: Path, docs: list[dict[str, Any]],
                                                                            tmp_path: Path) -> None:
    """The workbook's cells go through ingest.fields (as the REFI-QDA and Word imports do): the same refusal,
    in the same words, for a label two factors share; an item in double quotes keeps its `;`."""
    shared, quoted = docs[0], docs[1]

    def edit(wb: Any) -> None:
        ws = wb["Factors"]
        row = next(r for r in range(2, ws.max_row + 1) if ws.cell(r, 1).value == shared["review_id"])
        ws.cell(row, 3).value = "personality"
        edit.cell = f"Factors!C{row}"  # type: ignore[attr-defined]
        ws = wb["Episodes"]
        for r in range(2, ws.max_row + 1):
            if ws.cell(r, 1).value == quoted["review_id"] and ws.cell(r, 10).value:
                ws.cell(r, 10).value = "; ".join(f'"{x.strip()}"' for x in ws.cell(r, 10).value.split(";"))

    filled = office_fill.fill(template, [shared, quoted], tmp_path / "f.xlsx", edit=edit)
    result = import_workbooks([filled], tmp_path / "out")
    with pytest.raises(FieldError) as e:
        resolve_code("factors", "personality")
    assert [str(p) for p in result.problems] == [f"f.xlsx: {edit.cell}: code: {e.value}"]  # type: ignore[attr-defined]
    assert "FL.FAM.12 and FL.STAFF.07" in str(e.value)
    assert any(ep["agencies"] for ep in quoted["episodes"])
    written = json.loads((tmp_path / "out" / f"{quoted['review_id']}.json").read_text(encoding="utf-8"))
    assert written == _normal(quoted)


def test_codes_numbers_as_text_serials_title_rows_and_blank_rows(template: Path, docs: list[dict[str, Any]], tmp_path: Path) -> None:
    doc = docs[0]

    def messy(wb: Any) -> None:
        ws = wb["Review"]
        ws["G2"] = doc["area"]["region"].upper()  # a code in capitals
        ws["J2"] = (openpyxl.utils.datetime.to_excel(office_fill.day(doc["dates"]["completed"])))  # a bare date serial
        ws["J2"].number_format = "General"
        pats = wb["Patterns"]
        pats["D2"] = str(doc["patterns"][0]["priority"])  # a number stored as text
        eps = wb["Episodes"]
        eps.cell(eps.max_row + 3, 1).value = "   "  # blank trailing rows
        fac = wb["Factors"]  # a title row merged across the header, above the field names
        fac.insert_rows(1)
        fac["A1"] = "Contributory factors"
        fac.merge_cells("A1:E1")

    filled = office_fill.fill(template, [doc], tmp_path / "messy.xlsx", edit=messy)
    result = import_workbooks([filled], tmp_path / "out")
    assert result.problems == [] and result.exit_code == 0
    assert json.loads(result.written[0].read_text(encoding="utf-8")) == _normal(doc)


def test_merged_header_cell_and_unknown_columns_are_noted(template: Path, docs: list[dict[str, Any]], tmp_path: Path) -> None:
    def merge(wb: Any) -> None:
        ws = wb["Children"]
        ws["F1"] = "my notes"
        ws["F2"] = "kept aside"
        ws["G2"] = "under a merged header"
        ws.merge_cells("F1:G1")

    filled = office_fill.fill(template, [docs[1]], tmp_path / "m.xlsx", edit=merge)
    result = import_workbooks([filled], tmp_path / "out")
    assert result.exit_code == 0
    assert any("Children!F1: column 'my notes' is not a field" in n for n in result.notes)
    assert any("Children!G1: this column has values but no field name" in n for n in result.notes)


def test_problems_of_one_review_do_not_stop_the_others(template: Path, docs: list[dict[str, Any]], tmp_path: Path) -> None:
    def errors(wb: Any) -> None:
        wb["Factors"]["B2"] = "E99"  # an episode that does not exist
        wb["Children"].cell(wb["Children"].max_row + 1, 1).value = "NO-SUCH-REVIEW"
        wb["Episodes"]["D3"] = "31/02/2019"  # not a real date

    filled = office_fill.fill(template, docs[:3], tmp_path / "e.xlsx", edit=errors)
    result = import_workbooks([filled], tmp_path / "out")
    text = [str(p) for p in result.problems]
    assert any(t.startswith("e.xlsx: Factors!B2: episode 'E99'") for t in text)
    assert any(t.startswith("e.xlsx: Children!A") and "'NO-SUCH-REVIEW' is not on the Review sheet" in t for t in text)
    assert any(t.startswith("e.xlsx: Episodes!D3: start: '31/02/2019' is not a real date") for t in text)
    assert result.exit_code == 1 and len(result.written) + len(result.rejected_reviews) == 3


@pytest.mark.parametrize("damage,message", [
    ("missing_sheet", "sheet Patterns missing"),
    ("encrypted", "password-protected"),
    ("corrupt", "not an Office Open XML file"),
    ("truncated", "not an Office Open XML file|corrupt|not a readable Excel workbook"),
])
def test_bad_files_get_one_clear_error_and_nothing_is_written(template: Path, docs: list[dict[str, Any]], tmp_path: Path,
                                                              damage: str, message: str) -> None:
    good = office_fill.fill(template, docs[:1], tmp_path / "good.xlsx")
    bad = tmp_path / "bad.xlsx"
    if damage == "missing_sheet":
        wb = openpyxl.load_workbook(good)
        del wb["Patterns"]
        wb.save(bad)
    elif damage == "encrypted":  # what Excel writes for a password: an OLE compound file, not a zip
        bad.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 4096)
    elif damage == "corrupt":
        bad.write_bytes(b"this is not a workbook")
    else:
        bad.write_bytes(good.read_bytes()[:2000])
    out = tmp_path / "out"
    result = import_workbooks([bad], out)
    assert len(result.problems) == 1 and result.rejected_files == [str(bad)]
    import re
    assert re.search(message, str(result.problems[0])) and str(result.problems[0]).startswith("bad.xlsx: ")
    assert not any(out.glob("*.json"))
    both = import_workbooks([bad, good], tmp_path / "out2")  # the other file is still written
    assert [p.name for p in both.written] == [f"{docs[0]['review_id']}.json"] and both.exit_code == 1


def test_zip_bomb_is_refused_before_reading(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/big.xml", b"0" * (201 * 1024 * 1024))
    result = import_workbooks([bomb], tmp_path / "out")
    assert "expands to" in str(result.problems[0])


def test_many_workbooks_read_in_worker_processes_give_the_same_result(template: Path, docs: list[dict[str, Any]], tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from lt_workbench.ingest import xlsx

    books = [office_fill.fill(template, [d], tmp_path / f"b{i}.xlsx") for i, d in enumerate(docs[:3])]
    (tmp_path / "broken.xlsx").write_bytes(b"nope")
    books.append(tmp_path / "broken.xlsx")
    serial = import_workbooks(books, tmp_path / "serial")
    monkeypatch.setattr(xlsx, "_PARALLEL_FROM", 2)
    parallel = import_workbooks(books, tmp_path / "parallel")
    assert [str(p) for p in parallel.problems] == [str(p) for p in serial.problems] and len(serial.problems) == 1
    assert [p.name for p in parallel.written] == [p.name for p in serial.written] == [f"{d['review_id']}.json" for d in docs[:3]]
    for a, b in zip(parallel.written, serial.written, strict=True):
        assert a.read_bytes() == b.read_bytes()

"""Word reports with the Appendix 4 table, built here with python-docx: episodes and codings imported, problems located."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import docx
import pytest

from lt_workbench.ingest.docx import import_reports
from lt_workbench.ingest.fields import FieldError, resolve_code
from lt_workbench.ingest.xlsx import write_template
from lt_workbench.model.load import load

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("office_fill", HERE / "office_fill.py")
office_fill = importlib.util.module_from_spec(_spec)  # type: ignore[arg-type]
_spec.loader.exec_module(office_fill)  # type: ignore[union-attr]
CORPUS = HERE.parent / "data" / "tabulate" / "corpus"

HEAD = ("Description of key practice episode and significance with hindsight",
        "Breakdown and reviewers' judgement of adequacy of practice",
        "Contributory factors (why did actions/decisions make sense at the time?)")

ROWS: list[tuple[list[str], list[str], list[str]]] = [
    (["Health visitor's referral, 1 March 2019, after the birth of the baby.", "Significance: a missed chance to ask about the father."],
     ["Referral timely; assessment narrow.", "Practice: mixed"],
     ["FL.WORK.03 Workload (hindering): high caseloads", "• Inter-agency/inter-professional team factors (supporting)"]),
    (["Assessment closed on 02/04/2019 without a visit."],
     ["The assessment was seen as a one-off event: problematic practice."],
     ["NG.POL.04 (hindering): the form encouraged closure", "FL.STAFF (hindering)"]),
]


def build_report(path: Path, rows: list[tuple[list[str], list[str], list[str]]], *, headings: tuple[str, ...] = HEAD,
                 title_row: bool = True, other_table_first: bool = True) -> Path:
    d = docx.Document()
    d.add_heading("Serious case review: Child M (synthetic)", 1)
    if other_table_first:  # a chronology table before the one that matters
        t0 = d.add_table(rows=2, cols=2)
        t0.cell(0, 0).text, t0.cell(0, 1).text = "Date", "Event"
        t0.cell(1, 0).text, t0.cell(1, 1).text = "2019-01-01", "Birth"
    d.add_paragraph("Appendix 4: table of key practice episodes")
    table = d.add_table(rows=0, cols=3)
    if title_row:
        cells = table.add_row().cells
        merged = cells[0].merge(cells[2])
        merged.text = "Suggested layout for table of key practice episodes and contributory factors"
    cells = table.add_row().cells
    for c, h in zip(cells, headings, strict=True):
        c.text = h
    for col1, col2, col3 in rows:
        cells = table.add_row().cells
        for cell, lines in zip(cells, (col1, col2, col3), strict=True):
            cell.text = lines[0]
            for line in lines[1:]:
                cell.add_paragraph(line)
    d.save(path)
    return path


@pytest.fixture
def metadata(tmp_path: Path) -> Path:
    doc = json.loads((CORPUS / "TAB-0000.json").read_text(encoding="utf-8"))
    doc["review_id"] = "child-m-report"
    template = write_template(tmp_path / "tpl.xlsx")
    wb_path = office_fill.fill(template, [doc], tmp_path / "meta.xlsx")
    return wb_path


def test_appendix_4_table_imports_to_the_expected_episodes_and_codings(metadata: Path, tmp_path: Path) -> None:
    report = build_report(tmp_path / "child-m-report.docx", ROWS)
    result = import_reports([report], tmp_path / "out", metadata=metadata)
    assert result.problems == [] and result.exit_code == 0, [str(p) for p in result.problems]
    doc: dict[str, Any] = json.loads((tmp_path / "out" / "child-m-report.json").read_text(encoding="utf-8"))
    e1, e2 = doc["episodes"]
    assert (e1["episode_id"], e1["start"], e1["practice"]) == ("E1", "2019-03-01", "mixed")
    assert e1["description"] == ROWS[0][0][0] and e1["significance"] == "a missed chance to ask about the father."
    assert e1["factors"] == [{"code": "FL.WORK.03", "influence": "hindering", "note": "high caseloads"},
                             {"code": "FL.IA", "influence": "supporting", "note": None}]
    assert (e2["episode_id"], e2["start"], e2["practice"]) == ("E2", "2019-04-02", "problematic")
    assert e2["factors"] == [{"code": "NG.POL.04", "influence": "hindering", "note": "the form encouraged closure"},
                             {"code": "FL.STAFF", "influence": "hindering", "note": None}]
    assert doc["area"]["region"] and doc["children"]  # from the --metadata workbook
    loaded = load([tmp_path / "out"], db=tmp_path / "d.duckdb", progress=False, workers=1)
    assert loaded.exit_code == 0 and len(loaded.inserted) == 1


def test_a_factor_line_that_matches_nothing_is_located_and_close_matches_are_only_suggested(metadata: Path, tmp_path: Path) -> None:
    rows = [ROWS[0], (ROWS[1][0], ROWS[1][1], ["NG.POL.04 (hindering)", "Workloads (hindering)", "FL.WORK.03"])]
    report = build_report(tmp_path / "child-m-report.docx", rows)
    result = import_reports([report], tmp_path / "out", metadata=metadata)
    text = [str(p) for p in result.problems]
    assert text == [
        f"child-m-report.docx: table 2, row 4, column 3, line 2: {_miss('Workloads')}; start the line with a code such as FL.WORK.03",
        "child-m-report.docx: table 2, row 4, column 3, line 3: 'FL.WORK.03': say whether the factor was (supporting) or (hindering)",
    ]
    assert result.written == [] and result.exit_code == 1


def _miss(value: str) -> str:
    """What the one resolver every importer uses (ingest.fields.resolve_code) says about a factors value."""
    with pytest.raises(FieldError) as e:
        resolve_code("factors", value)
    return str(e.value)


def test_a_label_two_factors_share_is_refused_with_the_words_every_importer_uses(metadata: Path, tmp_path: Path) -> None:
    rows = [ROWS[0], (ROWS[1][0], ROWS[1][1], ["Personality (hindering): anxious", "FL.FAM.12 Personality (hindering)"])]
    report = build_report(tmp_path / "child-m-report.docx", rows)
    result = import_reports([report], tmp_path / "out", metadata=metadata)
    assert [str(p) for p in result.problems] == [f"child-m-report.docx: table 2, row 4, column 3, line 1: {_miss('Personality')}"]
    assert "FL.FAM.12 and FL.STAFF.07" in _miss("Personality") and "write the code" in _miss("Personality")


def test_headings_may_be_worded_differently_and_the_review_needs_metadata(tmp_path: Path) -> None:
    heads = ("Key practice episode (and its significance)", "Reviewers' judgement", "Why did it make sense? Contributory factors")
    report = build_report(tmp_path / "r1.docx", ROWS, headings=heads, title_row=False, other_table_first=False)
    result = import_reports([report], tmp_path / "out")
    assert len(result.problems) == 1 and "--metadata" in str(result.problems[0]) and result.written == []


@pytest.mark.parametrize("damage,message", [
    ("no_table", "no table of key practice episodes"),
    ("encrypted", "password-protected"),
    ("corrupt", "not an Office Open XML file"),
    ("not_word", "not a readable Word document"),
])
def test_bad_reports_get_one_clear_error_and_nothing_is_written(metadata: Path, tmp_path: Path, damage: str, message: str) -> None:
    bad = tmp_path / "bad.docx"
    if damage == "no_table":
        d = docx.Document()
        d.add_paragraph("A report without the table.")
        d.save(bad)
    elif damage == "encrypted":
        bad.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 4096)
    elif damage == "corrupt":
        bad.write_bytes(b"PK\x03\x04 truncated")
    else:
        bad.write_bytes(metadata.read_bytes())  # an xlsx renamed .docx
    good = build_report(tmp_path / "child-m-report.docx", ROWS)
    result = import_reports([bad, good], tmp_path / "out", metadata=metadata)
    assert len(result.problems) == 1 and message in str(result.problems[0]) and str(result.problems[0]).startswith("bad.docx: ")
    assert [p.name for p in result.written] == ["child-m-report.json"] and result.exit_code == 1

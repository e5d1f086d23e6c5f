"""The Excel coding workbook a reviewer fills in: sheets, row-1 field names, label drop-downs, date cells, Codes, README."""

from __future__ import annotations

import os
from pathlib import Path

from lt_workbench.config import DEFAULT_TAXONOMY_VERSION
from lt_workbench.exceptions import IngestError
from lt_workbench.ingest.workbook import CODE_LABEL_FRAMES, SHEETS, Column, choices

__all__ = ["write_template"]

_TEMPLATE_ROWS = 500  # rows prepared with drop-downs and date formats


def write_template(path: str | os.PathLike[str], version: str = DEFAULT_TAXONOMY_VERSION) -> Path:
    """Write an empty coding workbook to `path` (atomically) and return the path."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    from lt_workbench.export.tables import atomic_write
    from lt_workbench.model.frames import taxonomy_frame

    target = Path(path)
    if target.suffix.lower() != ".xlsx":
        raise IngestError(f"{target}: the template is an Excel workbook; name it .xlsx")
    wb = Workbook()
    readme = wb.active
    readme.title = "README"
    bold = Font(bold=True)
    head_fill = PatternFill("solid", fgColor="DDEBF7")

    lists = wb.create_sheet("Lists")
    list_ranges: dict[str, str] = {}
    frames = sorted({c.frame for cols in SHEETS.values() for c in cols if c.frame})
    for j, frame in enumerate(frames):
        letter = get_column_letter(j + 1)
        values = choices(frame, version)
        lists.cell(row=1, column=j + 1, value=frame).font = bold
        for i, v in enumerate(values, start=2):
            lists.cell(row=i, column=j + 1, value=v)
        list_ranges[frame] = f"Lists!${letter}$2:${letter}${len(values) + 1}"
    lists.sheet_state = "hidden"

    for sheet_name, columns in SHEETS.items():
        ws = wb.create_sheet(sheet_name)
        for j, col in enumerate(columns, start=1):
            cell = ws.cell(row=1, column=j, value=col.name)
            cell.font = bold
            cell.fill = head_fill
            cell.comment = Comment(_describe(col), "lt-workbench")
            letter = get_column_letter(j)
            ws.column_dimensions[letter].width = 40 if col.kind == "text" and col.name not in ("review_id", "episode_id", "rec_id") else 22
            area = f"{letter}2:{letter}{_TEMPLATE_ROWS + 1}"
            if col.frame:
                single = col.kind == "code"
                dv = DataValidation(type="list", formula1=f"={list_ranges[col.frame]}", allow_blank=True,
                                    showErrorMessage=single, errorStyle="stop" if single else "information",
                                    errorTitle="Not in the list", error="Pick a value from the drop-down list.",
                                    promptTitle=col.name, prompt=_short(col), showInputMessage=True)
                dv.add(area)
                ws.add_data_validation(dv)
            elif col.kind == "date":
                dv = DataValidation(type="date", operator="greaterThan", formula1="DATE(1900,1,1)", allow_blank=True,
                                    showErrorMessage=True, errorTitle="Not a date", error="Enter a date, e.g. 2021-03-31.")
                dv.add(area)
                ws.add_data_validation(dv)
                for r in range(2, _TEMPLATE_ROWS + 2):
                    ws.cell(row=r, column=j).number_format = "yyyy-mm-dd"
            elif col.kind == "int":
                dv = DataValidation(type="whole", operator="between", formula1="1", formula2="999", allow_blank=True,
                                    showErrorMessage=True, error="A whole number from 1 (highest) to 999.")
                dv.add(area)
                ws.add_data_validation(dv)
        ws.freeze_panes = "A2"

    codes = wb.create_sheet("Codes")
    codes.append(["frame", "code", "label", "drop-down shows", "description"])
    for cell in codes[1]:
        cell.font = bold
    t = taxonomy_frame(version)
    for row in t.itertuples(index=False):
        if row.frame not in frames:
            continue
        shown = f"{row.code} {row.label}" if row.frame in CODE_LABEL_FRAMES else row.label
        codes.append([row.frame, row.code, row.label, shown, row.description or ""])
    for letter, width in zip("ABCDE", (18, 14, 50, 60, 80), strict=True):
        codes.column_dimensions[letter].width = width
    codes.freeze_panes = "A2"

    readme.append(["lt-workbench coding workbook (format lt-review/1, taxonomy " + version + ")"])
    readme["A1"].font = Font(bold=True, size=14)
    for line in _README_INTRO:
        readme.append([line])
    readme.append([])
    readme.append(["sheet", "field (row 1)", "what it holds", "values"])
    for cell in readme[readme.max_row]:
        cell.font = bold
    for sheet_name, columns in SHEETS.items():
        for col in columns:
            readme.append([sheet_name, col.name, _describe(col), _values(col)])
    for letter, width in zip("ABCD", (18, 22, 90, 50), strict=True):
        readme.column_dimensions[letter].width = width
    for row in readme.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    wb.move_sheet("Lists", offset=len(wb.sheetnames))

    def save(tmp: Path) -> None:
        wb.save(tmp)

    atomic_write({target: save})
    return target


_README_INTRO = (
    "Fill in one row per review on Review, one row per child on Children, one row per key practice episode on "
    "Episodes, one row per contributory-factor coding on Factors, one row per pattern finding on Patterns and one "
    "row per recommendation on Recommendations. Every row names its review in column A (review_id).",
    "Row 1 of each sheet holds the field names of the lt-review/1 format (dotted as in the REFI-QDA case variables). "
    "Do not rename them; a friendly description of each is in the cell's comment and below. Data starts on row 2.",
    "Coded columns have a drop-down list. You may also type a code (north_west, P2.1, FL.WORK.03) or its label in "
    "any case. Lists in one cell are separated by ';'. Dates are date cells (2021-03-31; 31/03/2021 typed as text "
    "also works).",
    "family_factors: leave empty when the review does not record family factors; write 'none' when it records that "
    "none were present.",
    "Import: lt-workbench import xlsx coding.xlsx --out reviews/ [--load]. Problems are reported as "
    "FILE: Sheet!Cell; the reviews without problems are still written.",
    "Use roles and pseudonyms only (Mother A, the health visitor, Child T): never names or addresses.",
)


def _short(col: Column) -> str:
    if col.kind == "codes" or col.kind == "family_factors":
        return "Pick from the list, or type several separated by ';'."[:250]
    return "Pick from the list, or type a code or label."


def _describe(col: Column) -> str:
    if col.help:
        return col.help
    if col.frame:
        return f"{col.name.replace('_', ' ').replace('.', ' ').capitalize()}: a value of the {col.frame.replace('_', ' ')} list."
    return col.name


def _values(col: Column) -> str:
    if col.frame:
        multi = "one or more, separated by ';'" if col.kind in ("codes", "family_factors") else "one"
        return f"{multi} of the {col.frame} list (Codes sheet): code or label"
    return {"date": "a date", "int": "a whole number", "ids": "episode ids separated by ';'"}.get(col.kind, "text")


